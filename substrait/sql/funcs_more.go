package sql

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Trigonometric, floating-point classification, bitwise and regular
// expression functions (PostgreSQL names, plus DuckDB's isnan, isinf,
// isfinite).

func init() {
	scalarNames = append(scalarNames, "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh",
		"asinh", "acosh", "atanh", "radians", "degrees", "pi", "isnan", "isinf", "isfinite", "bit_length",
		"concat_ws", "regexp_replace", "regexp_substr", "regexp_count", "factorial")
}

var floatTests = map[string]string{"isnan": "is_nan", "isinf": "is_infinite", "isfinite": "is_finite"}

// moreScalarCall binds the functions of this file; ok is false for other
// names.
func moreScalarCall(name string, args []logical.Expr) (e logical.Expr, ok bool, err error) {
	nargs := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			if lo == hi {
				return fmt.Errorf("function %s takes %d arguments, got %d", name, lo, len(args))
			}
			return fmt.Errorf("function %s takes %d to %d arguments, got %d", name, lo, hi, len(args))
		}
		return nil
	}
	switch name {
	case "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "radians", "degrees":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		e, err := mathCall(name, args...)
		return e, true, err
	case "atan2":
		if err := nargs(2, 2); err != nil {
			return nil, true, err
		}
		e, err := mathCall(name, args...)
		return e, true, err
	case "pi":
		if err := nargs(0, 0); err != nil {
			return nil, true, err
		}
		return &logical.Call{Func: "pi", T: logical.Float64}, true, nil
	case "isnan", "isinf", "isfinite":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		x, err := mathCall(floatTests[name], args...)
		if err != nil {
			return nil, true, err
		}
		c := x.(*logical.Call)
		c.T = logical.Bool
		return c, true, nil
	case "factorial":
		// factorial of a bigint (PostgreSQL's result is numeric; this one
		// is bigint, an error past 20!).
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		x := args[0]
		if !logical.IsInteger(x.Type()) && !isNullType(x.Type()) {
			return nil, true, fmt.Errorf("function factorial expects an integer, got %s", sqlTypeName(x.Type()))
		}
		x, err := castTo(x, logical.Int64)
		if err != nil {
			return nil, true, err
		}
		return &logical.Call{Func: name, Args: []logical.Expr{x}, T: logical.Int64, NullableOut: x.Nullable()}, true, nil
	case "bit_length":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		a, err := stringArgs(name, args...)
		if err != nil {
			return nil, true, err
		}
		return &logical.Call{Func: name, Args: a, T: logical.Int64, NullableOut: a[0].Nullable()}, true, nil
	case "concat_ws":
		// concat_ws(sep, x...): the non-NULL arguments (cast to text)
		// joined by sep; NULL only when sep is.
		if len(args) < 2 {
			return nil, true, fmt.Errorf("function concat_ws needs a separator and at least one argument")
		}
		out := make([]logical.Expr, len(args))
		for i, a := range args {
			s, err := castTo(a, logical.Utf8)
			if err != nil {
				return nil, true, err
			}
			out[i] = s
		}
		return &logical.Call{Func: name, Args: out, T: logical.Utf8, NullableOut: args[0].Nullable()}, true, nil
	case "regexp_replace":
		e, err := regexpReplace(args)
		return e, true, err
	case "regexp_substr", "regexp_count":
		e, err := regexpSubstr(name, args)
		return e, true, err
	}
	return nil, false, nil
}

// bitwiseNot binds ~x over an integer.
func bitwiseNot(x logical.Expr) (logical.Expr, error) {
	if isNullType(x.Type()) {
		x = logical.NullLiteral(logical.Int64)
	}
	if !logical.IsInteger(x.Type()) {
		return nil, fmt.Errorf("operator does not exist: ~%s", sqlTypeName(x.Type()))
	}
	return &logical.Call{Func: "bitwise_not", Args: []logical.Expr{x}, T: x.Type(), NullableOut: x.Nullable()}, nil
}

var bitwiseFuncs = map[string]string{"&": "bitwise_and", "|": "bitwise_or", "#": "bitwise_xor", "<<": "shift_left", ">>": "shift_right"}

// bitwiseOp binds the integer operators &, |, # (xor), << and >>
// (arithmetic shift; the count is an int32).
func bitwiseOp(op string, l, r logical.Expr) (logical.Expr, error) {
	fn := bitwiseFuncs[op]
	isInt := func(t arrow.DataType) bool { return logical.IsInteger(t) || isNullType(t) }
	if !isInt(l.Type()) || !isInt(r.Type()) {
		return nil, fmt.Errorf("operator does not exist: %s %s %s", sqlTypeName(l.Type()), op, sqlTypeName(r.Type()))
	}
	nullable := l.Nullable() || r.Nullable()
	if op == "<<" || op == ">>" {
		if isNullType(l.Type()) {
			l = logical.NullLiteral(logical.Int64)
		}
		n, err := castTo(r, arrow.PrimitiveTypes.Int32)
		if err != nil {
			return nil, err
		}
		return &logical.Call{Func: fn, Args: []logical.Expr{l, n}, T: l.Type(), NullableOut: nullable}, nil
	}
	t, err := unify([]logical.Expr{l, r})
	if err != nil {
		return nil, err
	}
	if isNullType(t) {
		t = logical.Int64
	}
	a, err := castAll([]logical.Expr{l, r}, t)
	if err != nil {
		return nil, err
	}
	return &logical.Call{Func: fn, Args: a, T: t, NullableOut: nullable}, nil
}

// regexpFlags reads PostgreSQL's flags argument: g (every match), i / c
// (case-insensitive / sensitive), s (no newline handling; the default), n
// (newline-sensitive: ^ and $ match at lines, . stops at newlines).
func regexpFlags(fn string, e logical.Expr) (global bool, opts map[string]string, err error) {
	flags, err := stringLiteral(e, "the flags of "+fn)
	if err != nil {
		return false, nil, err
	}
	opts = map[string]string{}
	for _, f := range flags {
		switch f {
		case 'g':
			global = true
		case 'i':
			opts["case_sensitivity"] = "CASE_INSENSITIVE"
		case 'c':
			delete(opts, "case_sensitivity")
		case 'n', 'm':
			opts["multiline"] = "MULTILINE_ENABLED"
		case 's':
			opts["dotall"] = "DOTALL_ENABLED"
		default:
			return false, nil, fmt.Errorf("%s: unsupported regular expression flag %q", fn, f)
		}
	}
	return global, opts, nil
}

func regexpReplace(args []logical.Expr) (logical.Expr, error) {
	if len(args) < 3 || len(args) > 4 {
		return nil, fmt.Errorf("function regexp_replace takes 3 to 4 arguments, got %d", len(args))
	}
	a, err := stringArgs("regexp_replace", args[:3]...)
	if err != nil {
		return nil, err
	}
	global, opts := false, map[string]string(nil)
	if len(args) == 4 {
		if global, opts, err = regexpFlags("regexp_replace", args[3]); err != nil {
			return nil, err
		}
	}
	// PostgreSQL replacements use \n and \& for groups and take '$'
	// literally; the kernel reads \n, $n and \x (a literal x).
	if l, ok := a[2].(*logical.Literal); ok && l.Value != nil {
		a[2] = &logical.Literal{Value: pgReplacement(l.Value.(string)), T: logical.Utf8}
	}
	occ := int64(1)
	if global {
		occ = 0
	}
	a = append(a, &logical.Literal{Value: int64(1), T: logical.Int64}, &logical.Literal{Value: occ, T: logical.Int64})
	return &logical.Call{Func: "regexp_replace", Args: a, T: logical.Utf8, Options: opts, NullableOut: anyNullable(a)}, nil
}

// regexpSubstr binds regexp_substr(s, p [, start [, n [, flags [, group]]]])
// and regexp_count(s, p [, start [, flags]]) (PostgreSQL).
func regexpSubstr(name string, args []logical.Expr) (logical.Expr, error) {
	maxArgs := map[string]int{"regexp_substr": 6, "regexp_count": 4}[name]
	if len(args) < 2 || len(args) > maxArgs {
		return nil, fmt.Errorf("function %s takes 2 to %d arguments, got %d", name, maxArgs, len(args))
	}
	a, err := stringArgs(name, args[:2]...)
	if err != nil {
		return nil, err
	}
	one := func() logical.Expr { return &logical.Literal{Value: int64(1), T: logical.Int64} }
	toInt := func(i int) (logical.Expr, error) {
		if !logical.IsInteger(args[i].Type()) && !isNullType(args[i].Type()) {
			return nil, fmt.Errorf("function %s expects an integer, got %s", name, sqlTypeName(args[i].Type()))
		}
		return castTo(args[i], logical.Int64)
	}
	var opts map[string]string
	flagsAt := map[string]int{"regexp_substr": 4, "regexp_count": 3}[name]
	if len(args) > flagsAt {
		global := false
		if global, opts, err = regexpFlags(name, args[flagsAt]); err != nil {
			return nil, err
		}
		if global {
			return nil, fmt.Errorf("%s does not accept the g flag", name)
		}
	}
	ints := []logical.Expr{one(), one(), &logical.Literal{Value: int64(0), T: logical.Int64}} // start, n, group
	for i, at := range []int{2, 3, 5} {
		if at < len(args) && at != flagsAt {
			if ints[i], err = toInt(at); err != nil {
				return nil, err
			}
		}
	}
	if name == "regexp_count" {
		a = append(a, ints[0])
		return &logical.Call{Func: "regexp_count_substring", Args: a, T: logical.Int64, Options: opts, NullableOut: anyNullable(a)}, nil
	}
	a = append(a, ints...)
	return &logical.Call{Func: "regexp_match_substring", Args: a, T: logical.Utf8, Options: opts, NullableOut: true}, nil
}

// pgReplacement rewrites a PostgreSQL regexp_replace replacement for the
// kernel: \& (the whole match) becomes \0 and a literal '$' is escaped;
// \n and other escapes mean the same to both.
func pgReplacement(r string) string {
	var sb strings.Builder
	for i := 0; i < len(r); i++ {
		switch c := r[i]; {
		case c == '\\' && i+1 < len(r) && r[i+1] == '&':
			sb.WriteString(`\0`)
			i++
		case c == '\\' && i+1 < len(r):
			sb.WriteByte(c)
			sb.WriteByte(r[i+1])
			i++
		case c == '$':
			sb.WriteString(`\$`)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}
