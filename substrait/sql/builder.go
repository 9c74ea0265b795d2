package sql

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Expression builders for frontends that build plans without SQL text (the
// Go SDK's DataFrame API). Each one applies the binder's own rules - the
// implicit casts of comparisons and arithmetic between integers, decimals
// and floats, literal conversion at bind time, decimal result types,
// aggregate result types - so a plan built with them has exactly the types
// the equivalent SQL gets. Operands are bound expressions over one input
// schema.

// Compare builds the comparison fn(l, r), fn one of equal, not_equal, lt,
// lte, gt, gte, is_distinct_from, is_not_distinct_from, casting both sides
// to their common type.
func Compare(fn string, l, r logical.Expr) (logical.Expr, error) {
	switch fn {
	case "equal", "not_equal", "lt", "lte", "gt", "gte":
		return compare(fn, l, r)
	case "is_distinct_from", "is_not_distinct_from":
		e, err := compare(fn, l, r)
		if err != nil {
			return nil, err
		}
		e.(*logical.Call).NullableOut = false
		return e, nil
	}
	return nil, fmt.Errorf("%s is not a comparison", fn)
}

// Arithmetic builds fn(l, r), fn one of add, subtract, multiply, divide,
// modulus: numeric operands are cast to a common type (decimal results
// follow logical.DecimalResultType), dates and timestamps combine with
// intervals, and constant operands are folded.
func Arithmetic(fn string, l, r logical.Expr) (logical.Expr, error) {
	switch fn {
	case "add", "subtract", "multiply", "divide", "modulus":
		return arith(fn, l, r)
	}
	return nil, fmt.Errorf("%s is not an arithmetic operator", fn)
}

// Negate builds -e.
func Negate(e logical.Expr) (logical.Expr, error) { return negate(e) }

// Connective builds and, or (two or more arguments) or not (one), after
// checking that every argument is boolean (an untyped NULL becomes a
// boolean NULL).
func Connective(fn string, args ...logical.Expr) (logical.Expr, error) {
	what := strings.ToUpper(fn)
	switch {
	case (fn == "and" || fn == "or") && len(args) >= 2, fn == "not" && len(args) == 1:
	default:
		return nil, fmt.Errorf("%s with %d arguments", what, len(args))
	}
	out := make([]logical.Expr, len(args))
	for i, a := range args {
		b, err := toBool(a, what)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	if fn == "and" {
		return logical.And(out...), nil
	}
	return boolCall(fn, out...), nil
}

// Boolean checks that e is boolean; what names the construct for the error
// ("argument of <what> must be boolean, not <type>").
func Boolean(e logical.Expr, what string) (logical.Expr, error) { return toBool(e, what) }

// Cast converts e to t: literals convert at bind time (so a string becomes
// a date, timestamp, interval or decimal with the SQL parsing rules),
// other expressions get a Cast node; a no-op when e has type t.
func Cast(e logical.Expr, t arrow.DataType) (logical.Expr, error) { return castTo(e, t) }

// CommonType is the type two types convert to for a comparison, a CASE or
// a UNION; ok is false when there is none.
func CommonType(a, b arrow.DataType) (t arrow.DataType, ok bool) { return commonType(a, b) }

// TypeName is the SQL name of a type, as error messages give it.
func TypeName(t arrow.DataType) string { return sqlTypeName(t) }

// In builds e [NOT] IN (list...), with e and the list cast to their common
// type.
func In(e logical.Expr, list []logical.Expr, negated bool) (logical.Expr, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("IN needs at least one value")
	}
	t, err := unify(append([]logical.Expr{e}, list...))
	if err != nil {
		return nil, fmt.Errorf("IN: %w", err)
	}
	if e, err = castTo(e, t); err != nil {
		return nil, err
	}
	if list, err = castAll(list, t); err != nil {
		return nil, err
	}
	return &logical.InList{Input: e, List: list, Negated: negated}, nil
}

// Like builds e LIKE pattern (ILIKE when caseInsensitive). escape is the
// escape character, "" for the default.
func Like(e, pattern logical.Expr, caseInsensitive bool, escape string) (logical.Expr, error) {
	if len([]rune(escape)) > 1 {
		return nil, fmt.Errorf("ESCAPE must be a single character")
	}
	fn := "like"
	if caseInsensitive {
		fn = "ilike"
	}
	return likeCall(fn, e, pattern, escape)
}

// CaseWhen builds the searched CASE WHEN conds[i] THEN thens[i] ... ELSE
// els END; els nil means ELSE NULL. The results are cast to their common
// type.
func CaseWhen(conds, thens []logical.Expr, els logical.Expr) (logical.Expr, error) {
	if len(conds) == 0 || len(conds) != len(thens) {
		return nil, fmt.Errorf("CASE needs one THEN per WHEN and at least one WHEN")
	}
	if els == nil {
		els = logical.NullLiteral(arrow.Null)
	}
	t, err := unify(append(append([]logical.Expr(nil), thens...), els))
	if err != nil {
		return nil, fmt.Errorf("CASE types cannot be matched: %w", err)
	}
	out := &logical.Case{T: t}
	for i, c := range conds {
		cond, err := toBool(c, "CASE/WHEN")
		if err != nil {
			return nil, err
		}
		then, err := castTo(thens[i], t)
		if err != nil {
			return nil, err
		}
		out.Whens = append(out.Whens, logical.When{Cond: cond, Then: then})
	}
	if out.Else, err = castTo(els, t); err != nil {
		return nil, err
	}
	return out, nil
}

// Function binds the scalar function name (a SQL name: upper, substring,
// round, coalesce, extract, date_trunc, ...) over args, coercing them as
// the binder does for a SQL call. An unknown name is an error with
// suggestions.
func Function(name string, args ...logical.Expr) (logical.Expr, error) {
	return (&binder{}).scalarCall(strings.ToLower(name), args)
}

// Aggregate binds the aggregate function name (a SQL name: count, sum, avg,
// min, max, stddev, variance, bool_and, ...) over arg; arg nil is count(*).
// filter, when set, is a boolean FILTER (WHERE ...) condition. The result
// type is logical.AggregateResultType's.
func Aggregate(name string, arg logical.Expr, distinct bool, filter logical.Expr) (*logical.AggregateCall, error) {
	lname := strings.ToLower(name)
	fn, ok := aggregateNames[lname]
	if !ok {
		return nil, fmt.Errorf("aggregate function %s does not exist%s", name, suggest(lname, keys(aggregateNames)))
	}
	return aggregateCall(fn, lname, arg, distinct, filter)
}

// aggregateCall types aggregate fn (named display in errors) over arg
// (nil: count(*)) with an optional FILTER condition: the binder's and the
// builders' one rule.
func aggregateCall(fn, display string, arg logical.Expr, distinct bool, filter logical.Expr) (*logical.AggregateCall, error) {
	call := &logical.AggregateCall{Func: fn, Distinct: distinct}
	var argT arrow.DataType = logical.Int64
	if arg == nil {
		if fn != "count" {
			return nil, fmt.Errorf("%s(*) is not allowed; only count(*)", display)
		}
		if distinct {
			return nil, fmt.Errorf("count(DISTINCT *) is not allowed")
		}
	} else {
		if isNullType(arg.Type()) {
			arg = logical.NullLiteral(logical.Int64)
		}
		if l, ok := arg.(*logical.Literal); ok && logical.IsString(l.T) && fn != "count" && fn != "min" && fn != "max" && fn != "any_value" {
			return nil, fmt.Errorf("%s does not accept a text argument", display)
		}
		call.Args = []logical.Expr{arg}
		argT = arg.Type()
	}
	if filter != nil {
		f, err := toBool(filter, "FILTER")
		if err != nil {
			return nil, err
		}
		call.Filter = f
	}
	t, err := logical.AggregateResultType(fn, argT)
	if err != nil {
		return nil, err
	}
	call.T = t
	return call, nil
}

// NumericLiteral types the text of a number as a SQL constant: an integer
// is int32 or int64, a number with a decimal point decimal(digits, scale),
// one with an exponent float64.
func NumericLiteral(text string) (*logical.Literal, error) { return numericLiteral(text) }

// CastColumns projects p so that its columns have the given types (and
// names, when names is not nil); p itself when nothing changes. Set
// operations use it to bring their inputs to common column types.
func CastColumns(p logical.Plan, types []arrow.DataType, names []string) (logical.Plan, error) {
	if len(types) != p.Schema().Len() || (names != nil && len(names) != len(types)) {
		return nil, fmt.Errorf("%d types for %d columns", len(types), p.Schema().Len())
	}
	return castColumns(p, types, names)
}

// Between builds v [NOT] BETWEEN lo AND hi with the three operands cast to
// their common type: two comparisons when v is a column (which predicate
// pushdown and statistics pruning understand), the between function
// otherwise (so v is evaluated once).
func Between(v, lo, hi logical.Expr, negated bool) (logical.Expr, error) {
	t, err := unify([]logical.Expr{v, lo, hi})
	if err != nil {
		return nil, fmt.Errorf("BETWEEN: %w", err)
	}
	all, err := castAll([]logical.Expr{v, lo, hi}, t)
	if err != nil {
		return nil, err
	}
	var e logical.Expr
	if _, ok := all[0].(*logical.ColumnRef); ok {
		e = logical.And(boolCall("gte", all[0], all[1]), boolCall("lte", all[0], all[2]))
	} else {
		e = boolCall("between", all...)
	}
	if negated {
		e = boolCall("not", e)
	}
	return e, nil
}
