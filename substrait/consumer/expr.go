package consumer

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/arbalest/arbalest/substrait/extensions"
	"github.com/arbalest/arbalest/substrait/logical"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
)

var int32Type = arrow.PrimitiveTypes.Int32

// scalarFuncs are the scalar functions of the logical plan (functions.go).
var scalarFuncs = setOf(
	"add", "subtract", "multiply", "divide", "modulus", "negate", "abs", "sign", "power", "sqrt", "exp", "ln", "log10", "floor", "ceil", "round",
	"equal", "not_equal", "lt", "lte", "gt", "gte", "is_null", "is_not_null", "is_distinct_from", "is_not_distinct_from", "between",
	"coalesce", "nullif", "greatest", "least", "is_true", "is_false", "is_not_true", "is_not_false",
	"and", "or", "not", "xor",
	"concat", "like", "ilike", "substring", "upper", "lower", "char_length", "octet_length", "trim", "ltrim", "rtrim", "strpos",
	"replace", "starts_with", "ends_with", "contains", "left", "right", "lpad", "rpad", "reverse", "repeat", "split_part", "regexp_match",
	"extract", "date_trunc", "current_date",
	"is_nan", "is_finite", "is_infinite", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh",
	"asinh", "acosh", "atanh", "radians", "degrees", "pi", "logb", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
	"shift_left", "shift_right", "shift_right_unsigned", "bit_length", "concat_ws", "regexp_match_substring",
	"regexp_count_substring", "regexp_replace", "and_not", "factorial", "add_intervals",
)

// optionFuncs keep their function options (regular-expression flags,
// case_sensitivity, null_handling, spaces_only, on_domain_error,
// on_log_zero, overflow).
var optionFuncs = setOf("sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh",
	"atanh", "radians", "degrees", "logb", "factorial", "concat", "contains", "starts_with", "ends_with", "trim", "ltrim",
	"rtrim", "regexp_match_substring", "regexp_count_substring", "regexp_replace")

// boolFuncs always return a boolean (used when a foreign plan omits the
// output type).
var boolFuncs = setOf("equal", "not_equal", "lt", "lte", "gt", "gte", "is_null", "is_not_null", "is_distinct_from",
	"is_not_distinct_from", "between", "is_true", "is_false", "is_not_true", "is_not_false", "and", "or", "not", "xor",
	"like", "ilike", "starts_with", "ends_with", "contains", "regexp_match", "is_nan", "is_finite", "is_infinite", "and_not")

var aggregateFuncs = setOf("count", "sum", "avg", "avg_merge", "min", "max", "stddev_samp", "stddev_pop", "var_samp", "var_pop", "bool_and", "bool_or", "any_value")

var windowOnlyFuncs = setOf("row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Extract components: the standard's (component, indexing) → ours.
var extractComponents = map[string]string{
	"YEAR": "YEAR", "QUARTER/ONE": "QUARTER", "MONTH/ONE": "MONTH", "DAY/ONE": "DAY",
	"SUNDAY_DAY_OF_WEEK/ZERO": "DAY_OF_WEEK", "DAY_OF_YEAR/ONE": "DAY_OF_YEAR", "ISO_WEEK/ONE": "WEEK",
	"HOUR": "HOUR", "MINUTE": "MINUTE", "SECOND": "SECOND", "UNIX_TIME": "EPOCH",
	// Forms written without indexing (DataFusion, older producers) and SQL
	// spellings given as string arguments.
	"QUARTER": "QUARTER", "MONTH": "MONTH", "DAY": "DAY", "DAY_OF_YEAR": "DAY_OF_YEAR", "DOY": "DAY_OF_YEAR",
	"DOW": "DAY_OF_WEEK", "DAY_OF_WEEK": "DAY_OF_WEEK", "WEEK": "WEEK", "ISO_WEEK": "WEEK", "EPOCH": "EPOCH",
}

var dateTruncUnits = setOf("YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND")

// udf returns the user-defined function that function anchor ref names,
// or nil for functions of the standard and Arbalest extensions. A function
// of an extension nobody provides is an error naming both.
func (c *consumer) udf(ref uint32, kind logical.FunctionKind) (*logical.Function, error) {
	urn := c.funcURN[ref]
	if urn == UnknownURN {
		urn = ""
	}
	if urn != "" && extensions.KnownURN(urn) {
		return nil, nil
	}
	name := extensions.BaseName(c.funcs[ref])
	if c.udfs != nil {
		if f, ok := c.udfs.ResolveFunction(urn, name); ok {
			if f.Kind != kind {
				return nil, fmt.Errorf("%s (%s) is a %s function, used as a %s function", name, f.Provider, f.Kind, kind)
			}
			return f, nil
		}
	}
	if urn == "" {
		return nil, nil // a known function under a URI or anchor the plan left out
	}
	return nil, fmt.Errorf("function %s of extension %s: no loaded plugin or library provides it", name, urn)
}

// udfArgs casts arguments to a user-defined function's declared types.
func udfArgs(f *logical.Function, args []logical.Expr) ([]logical.Expr, error) {
	if len(args) != len(f.Args) {
		return nil, fmt.Errorf("%s takes %d arguments, the plan passes %d", f.Signature(), len(f.Args), len(args))
	}
	out := make([]logical.Expr, len(args))
	for i, a := range args {
		out[i] = a
		if !arrow.TypeEqual(a.Type(), f.Args[i].Type) {
			out[i] = &logical.Cast{Input: a, T: f.Args[i].Type}
		}
	}
	return out, nil
}

func (c *consumer) funcName(ref uint32) (string, error) {
	n, ok := c.funcs[ref]
	if !ok {
		return "", fmt.Errorf("unknown function anchor %d", ref)
	}
	return extensions.BaseName(n), nil
}

// expr translates an expression over schema in. With wins set, window
// functions are collected there and replaced by references to the columns
// a Window node above in will append; otherwise they are an error.
func (c *consumer) expr(e *pb.Expression, in *logical.Schema, wins *[]*logical.WindowCall) (logical.Expr, error) {
	if e == nil {
		return nil, fmt.Errorf("missing expression")
	}
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxDepth {
		return nil, fmt.Errorf("expression nested deeper than %d levels", maxDepth)
	}
	switch x := e.GetRexType().(type) {
	case *pb.Expression_Literal_:
		return literal(x.Literal)
	case *pb.Expression_Selection:
		return c.fieldReference(x.Selection, in)
	case *pb.Expression_ScalarFunction_:
		return c.scalar(x.ScalarFunction, in, wins)
	case *pb.Expression_Cast_:
		input, err := c.expr(x.Cast.GetInput(), in, wins)
		if err != nil {
			return nil, err
		}
		t, _, err := extensions.FromProtoType(x.Cast.GetType())
		if err != nil {
			return nil, fmt.Errorf("cast: %w", err)
		}
		return &logical.Cast{Input: input, T: t, Try: x.Cast.GetFailureBehavior() == pb.Expression_Cast_FAILURE_BEHAVIOR_RETURN_NULL}, nil
	case *pb.Expression_IfThen_:
		if len(x.IfThen.GetIfs()) == 0 {
			return nil, fmt.Errorf("if-then without clauses")
		}
		cs := &logical.Case{}
		for i, cl := range x.IfThen.GetIfs() {
			cond, err := c.expr(cl.GetIf(), in, wins)
			if err != nil {
				return nil, err
			}
			if cond.Type().ID() != arrow.BOOL {
				return nil, fmt.Errorf("if-then clause %d: condition has type %s, want boolean", i, cond.Type())
			}
			then, err := c.expr(cl.GetThen(), in, wins)
			if err != nil {
				return nil, err
			}
			cs.Whens = append(cs.Whens, logical.When{Cond: cond, Then: then})
		}
		cs.T = cs.Whens[0].Then.Type()
		if x.IfThen.GetElse() != nil {
			el, err := c.expr(x.IfThen.GetElse(), in, wins)
			if err != nil {
				return nil, err
			}
			cs.Else = el
		}
		return cs, nil
	case *pb.Expression_SwitchExpression_:
		sw := x.SwitchExpression
		match, err := c.expr(sw.GetMatch(), in, wins)
		if err != nil {
			return nil, err
		}
		if len(sw.GetIfs()) == 0 {
			return nil, fmt.Errorf("switch without clauses")
		}
		cs := &logical.Case{}
		for _, cl := range sw.GetIfs() {
			v, err := literal(cl.GetIf())
			if err != nil {
				return nil, err
			}
			then, err := c.expr(cl.GetThen(), in, wins)
			if err != nil {
				return nil, err
			}
			cs.Whens = append(cs.Whens, logical.When{Cond: logical.Equal(match, v), Then: then})
		}
		cs.T = cs.Whens[0].Then.Type()
		if sw.GetElse() != nil {
			if cs.Else, err = c.expr(sw.GetElse(), in, wins); err != nil {
				return nil, err
			}
		}
		return cs, nil
	case *pb.Expression_SingularOrList_:
		v, err := c.expr(x.SingularOrList.GetValue(), in, wins)
		if err != nil {
			return nil, err
		}
		il := &logical.InList{Input: v}
		for _, o := range x.SingularOrList.GetOptions() {
			oe, err := c.expr(o, in, wins)
			if err != nil {
				return nil, err
			}
			il.List = append(il.List, oe)
		}
		return il, nil
	case *pb.Expression_WindowFunction_:
		if wins == nil {
			return nil, fmt.Errorf("window function outside a projection")
		}
		wc, err := c.windowCall(x.WindowFunction, in, nil, nil)
		if err != nil {
			return nil, err
		}
		*wins = append(*wins, wc)
		return &logical.ColumnRef{Index: in.Len() + len(*wins) - 1, T: wc.T, CanBeNull: wc.Nullable()}, nil
	case *pb.Expression_Subquery_:
		return c.subquery(x.Subquery, in, wins)
	case *pb.Expression_Nested_:
		return nil, fmt.Errorf("nested (struct/list/map constructor) expressions are not supported")
	case *pb.Expression_MultiOrList_:
		return nil, fmt.Errorf("multi-or-list expressions are not supported")
	case *pb.Expression_DynamicParameter:
		return nil, fmt.Errorf("dynamic parameters are not supported")
	case nil:
		return nil, fmt.Errorf("empty expression")
	}
	return nil, fmt.Errorf("unsupported expression kind %T", e.GetRexType())
}

func (c *consumer) fieldReference(f *pb.Expression_FieldReference, in *logical.Schema) (logical.Expr, error) {
	steps := 0
	switch r := f.GetRootType().(type) {
	case *pb.Expression_FieldReference_RootReference_, nil:
	case *pb.Expression_FieldReference_OuterReference_:
		steps = int(r.OuterReference.GetStepsOut())
		if steps < 1 || steps > len(c.outer) {
			return nil, fmt.Errorf("outer reference steps_out %d: the expression is inside %d subqueries", r.OuterReference.GetStepsOut(), len(c.outer))
		}
		in = c.outer[len(c.outer)-steps]
	default:
		return nil, fmt.Errorf("unsupported field reference root %T", f.GetRootType())
	}
	d := f.GetDirectReference()
	if d == nil {
		return nil, fmt.Errorf("only direct field references are supported")
	}
	sf := d.GetStructField()
	if sf == nil {
		return nil, fmt.Errorf("only struct field references are supported")
	}
	if sf.GetChild() != nil {
		return nil, fmt.Errorf("nested field references are not supported")
	}
	i := int(sf.GetField())
	if i < 0 || i >= in.Len() {
		return nil, fmt.Errorf("field reference %d out of range for %d input columns", sf.GetField(), in.Len())
	}
	if steps > 0 {
		f := in.Fields[i]
		return &logical.OuterRef{Steps: steps, Index: i, Name: f.Name, T: f.Type, CanBeNull: f.Nullable}, nil
	}
	return logical.Col(in, i), nil
}

// subquery translates a subquery expression. Its relations see in, the
// input of the relation that holds the expression, as their first outer
// level. The consumer decorrelates the whole plan at the end.
func (c *consumer) subquery(s *pb.Expression_Subquery, in *logical.Schema, wins *[]*logical.WindowCall) (logical.Expr, error) {
	c.subqueries = true
	sub := func(r *pb.Rel) (logical.Plan, error) {
		c.outer = append(c.outer, in)
		defer func() { c.outer = c.outer[:len(c.outer)-1] }()
		return c.rel(r)
	}
	oneColumn := func(p logical.Plan, what string) error {
		if n := p.Schema().Len(); n != 1 {
			return fmt.Errorf("%s subquery returns %d columns, want 1", what, n)
		}
		return nil
	}
	switch x := s.GetSubqueryType().(type) {
	case *pb.Expression_Subquery_Scalar_:
		p, err := sub(x.Scalar.GetInput())
		if err != nil {
			return nil, err
		}
		if err := oneColumn(p, "scalar"); err != nil {
			return nil, err
		}
		return &logical.Subquery{Kind: logical.SubqueryScalar, Plan: p}, nil
	case *pb.Expression_Subquery_InPredicate_:
		needles := x.InPredicate.GetNeedles()
		if len(needles) != 1 {
			return nil, fmt.Errorf("not supported: IN subquery with %d needles (row values)", len(needles))
		}
		test, err := c.expr(needles[0], in, wins)
		if err != nil {
			return nil, fmt.Errorf("IN subquery needle: %w", err)
		}
		p, err := sub(x.InPredicate.GetHaystack())
		if err != nil {
			return nil, err
		}
		if err := oneColumn(p, "IN"); err != nil {
			return nil, err
		}
		return &logical.Subquery{Kind: logical.SubqueryAny, Op: "equal", Test: test, Plan: p}, nil
	case *pb.Expression_Subquery_SetPredicate_:
		switch op := x.SetPredicate.GetPredicateOp(); op {
		case pb.Expression_Subquery_SetPredicate_PREDICATE_OP_EXISTS:
		case pb.Expression_Subquery_SetPredicate_PREDICATE_OP_UNIQUE:
			return nil, fmt.Errorf("not supported: UNIQUE subqueries")
		default:
			return nil, fmt.Errorf("set predicate subquery with operation %s", op)
		}
		p, err := sub(x.SetPredicate.GetTuples())
		if err != nil {
			return nil, err
		}
		return &logical.Subquery{Kind: logical.SubqueryExists, Plan: p}, nil
	case *pb.Expression_Subquery_SetComparison_:
		sc := x.SetComparison
		var kind logical.SubqueryKind
		switch sc.GetReductionOp() {
		case pb.Expression_Subquery_SetComparison_REDUCTION_OP_ANY:
			kind = logical.SubqueryAny
		case pb.Expression_Subquery_SetComparison_REDUCTION_OP_ALL:
			kind = logical.SubqueryAll
		default:
			return nil, fmt.Errorf("set comparison subquery with reduction %s", sc.GetReductionOp())
		}
		op, ok := map[pb.Expression_Subquery_SetComparison_ComparisonOp]string{
			pb.Expression_Subquery_SetComparison_COMPARISON_OP_EQ: "equal",
			pb.Expression_Subquery_SetComparison_COMPARISON_OP_NE: "not_equal",
			pb.Expression_Subquery_SetComparison_COMPARISON_OP_LT: "lt",
			pb.Expression_Subquery_SetComparison_COMPARISON_OP_LE: "lte",
			pb.Expression_Subquery_SetComparison_COMPARISON_OP_GT: "gt",
			pb.Expression_Subquery_SetComparison_COMPARISON_OP_GE: "gte",
		}[sc.GetComparisonOp()]
		if !ok {
			return nil, fmt.Errorf("set comparison subquery with comparison %s", sc.GetComparisonOp())
		}
		test, err := c.expr(sc.GetLeft(), in, wins)
		if err != nil {
			return nil, fmt.Errorf("set comparison left operand: %w", err)
		}
		p, err := sub(sc.GetRight())
		if err != nil {
			return nil, err
		}
		if err := oneColumn(p, "set comparison"); err != nil {
			return nil, err
		}
		return &logical.Subquery{Kind: kind, Op: op, Test: test, Plan: p}, nil
	case nil:
		return nil, fmt.Errorf("subquery expression without a subquery")
	}
	return nil, fmt.Errorf("unsupported subquery kind %T", s.GetSubqueryType())
}

// callArgs splits function arguments into enum values and value
// expressions.
func (c *consumer) callArgs(args []*pb.FunctionArgument, legacy []*pb.Expression, in *logical.Schema, wins *[]*logical.WindowCall) (enums []string, vals []logical.Expr, err error) {
	for i, a := range args {
		switch at := a.GetArgType().(type) {
		case *pb.FunctionArgument_Enum:
			if len(vals) > 0 {
				return nil, nil, fmt.Errorf("argument %d: enum argument after value arguments is not supported", i+1)
			}
			enums = append(enums, at.Enum)
		case *pb.FunctionArgument_Value:
			v, err := c.expr(at.Value, in, wins)
			if err != nil {
				return nil, nil, fmt.Errorf("argument %d: %w", i+1, err)
			}
			vals = append(vals, v)
		case *pb.FunctionArgument_Type:
			return nil, nil, fmt.Errorf("argument %d: type arguments are not supported", i+1)
		default:
			return nil, nil, fmt.Errorf("argument %d is empty", i+1)
		}
	}
	for i, l := range legacy {
		v, err := c.expr(l, in, wins)
		if err != nil {
			return nil, nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		vals = append(vals, v)
	}
	return enums, vals, nil
}

func optionMap(opts []*pb.FunctionOption) map[string]string {
	m := map[string]string{}
	for _, o := range opts {
		if len(o.GetPreference()) > 0 {
			m[o.GetName()] = o.GetPreference()[0]
		}
	}
	return m
}

// stringLiteral returns the value of a string literal expression.
func stringLiteral(e logical.Expr) (string, bool) {
	if l, ok := e.(*logical.Literal); ok {
		if s, ok := l.Value.(string); ok {
			return s, true
		}
	}
	return "", false
}

func (c *consumer) scalar(sf *pb.Expression_ScalarFunction, in *logical.Schema, wins *[]*logical.WindowCall) (logical.Expr, error) {
	name, err := c.funcName(sf.GetFunctionReference())
	if err != nil {
		return nil, err
	}
	enums, args, err := c.callArgs(sf.GetArguments(), sf.GetArgs(), in, wins) //nolint:staticcheck // legacy args
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if udf, err := c.udf(sf.GetFunctionReference(), logical.ScalarFunction); err != nil {
		return nil, err
	} else if udf != nil {
		if args, err = udfArgs(udf, args); err != nil {
			return nil, err
		}
		return &logical.Call{Func: udf.Name, Args: args, T: udf.Result.Type, NullableOut: true, UDF: udf}, nil
	}
	opts := optionMap(sf.GetOptions())
	call := &logical.Call{Func: name, Args: args}
	var outT arrow.DataType
	outNullable := true
	if sf.GetOutputType() != nil {
		if outT, outNullable, err = extensions.FromProtoType(sf.GetOutputType()); err != nil {
			return nil, fmt.Errorf("%s output type: %w", name, err)
		}
	}
	switch name {
	case "like":
		if cs := opts["case_sensitivity"]; cs == "CASE_INSENSITIVE" || cs == "CASE_INSENSITIVE_ASCII" {
			call.Func = "ilike"
		}
		if esc, ok := opts["escape"]; ok {
			call.Options = map[string]string{"escape": esc}
		}
		if len(args) == 3 {
			// DataFusion passes the escape character as a third argument
			// (NULL for none).
			l, ok := args[2].(*logical.Literal)
			if !ok {
				return nil, fmt.Errorf("like: escape must be a constant")
			}
			if s, ok := l.Value.(string); ok {
				call.Options = map[string]string{"escape": s}
			} else if l.Value != nil {
				return nil, fmt.Errorf("like: escape must be a string")
			}
			call.Args = args[:2]
		}
	case "extract", "date_part", "datepart":
		call.Func = "extract"
		key := strings.Join(enums, "/")
		if len(enums) == 0 && len(args) == 2 {
			// DataFusion-style extract('year', x).
			s, ok := stringLiteral(args[0])
			if !ok {
				return nil, fmt.Errorf("extract: missing component")
			}
			key = strings.ToUpper(s)
			call.Args = args[1:]
		}
		comp, ok := extractComponents[key]
		if !ok {
			return nil, fmt.Errorf("extract: unsupported component %s", key)
		}
		call.Options = map[string]string{"component": comp}
		if len(call.Args) != 1 {
			return nil, fmt.Errorf("extract: want 1 value argument, got %d", len(call.Args))
		}
		want := logical.Int64
		if comp == "EPOCH" {
			want = logical.Float64
		}
		call.T, call.NullableOut = want, call.Args[0].Nullable()
		if outT != nil && !arrow.TypeEqual(outT, want) {
			return &logical.Cast{Input: call, T: outT}, nil
		}
		return call, nil
	case "date_trunc", "datetrunc":
		call.Func = "date_trunc"
		unit := ""
		switch {
		case len(enums) == 1:
			unit = enums[0]
		case len(enums) == 0 && len(args) == 2:
			s, ok := stringLiteral(args[0])
			if !ok {
				return nil, fmt.Errorf("date_trunc: missing unit")
			}
			unit = strings.ToUpper(s)
			call.Args = args[1:]
		}
		if !dateTruncUnits[unit] {
			return nil, fmt.Errorf("date_trunc: unsupported unit %q", unit)
		}
		call.Options = map[string]string{"unit": unit}
	case "not":
		// not(x IN (...)) is how x NOT IN (...) is written.
		if il, ok := singleInList(args); ok && len(enums) == 0 {
			n := *il
			n.Negated = true
			return &n, nil
		}
	case "std_dev", "variance":
		return nil, fmt.Errorf("%s is an aggregate function", name)
	default:
		if !scalarFuncs[name] {
			return nil, fmt.Errorf("unsupported scalar function %q", c.funcs[sf.GetFunctionReference()])
		}
		if len(enums) > 0 {
			return nil, fmt.Errorf("%s: unexpected enum arguments %v", name, enums)
		}
		if optionFuncs[name] && len(opts) > 0 {
			// The kernels read these functions' options (and reject the
			// ones they do not implement).
			call.Options = opts
		}
	}
	if outT == nil {
		switch {
		case boolFuncs[call.Func]:
			outT = logical.Bool
		case call.Func == "current_date":
			outT, outNullable = logical.Date32, false
		case len(call.Args) > 0 && (call.Func == "date_trunc" || call.Func == "negate" || call.Func == "abs" || call.Func == "upper" || call.Func == "lower" || call.Func == "coalesce"):
			outT = call.Args[0].Type()
		default:
			return nil, fmt.Errorf("%s: missing output_type", name)
		}
		outNullable = false
		for _, a := range call.Args {
			outNullable = outNullable || a.Nullable()
		}
	}
	call.T, call.NullableOut = outT, outNullable
	return call, nil
}

func singleInList(args []logical.Expr) (*logical.InList, bool) {
	if len(args) != 1 {
		return nil, false
	}
	il, ok := args[0].(*logical.InList)
	return il, ok && !il.Negated
}

// aggName maps a Substrait aggregate function and its options/enums to
// ours.
func aggName(name string, enums []string, opts map[string]string) (string, error) {
	switch name {
	case "std_dev", "variance":
		dist := opts["distribution"]
		if len(enums) == 1 {
			dist = enums[0]
		} else if len(enums) > 1 {
			return "", fmt.Errorf("%s: unexpected enum arguments %v", name, enums)
		}
		prefix := "stddev"
		if name == "variance" {
			prefix = "var"
		}
		switch dist {
		case "", "SAMPLE":
			return prefix + "_samp", nil
		case "POPULATION":
			return prefix + "_pop", nil
		}
		return "", fmt.Errorf("%s: unsupported distribution %q", name, dist)
	case "stddev", "stddev_samp", "stddev_pop", "var_samp", "var_pop":
		if name == "stddev" {
			return "stddev_samp", nil
		}
	}
	if len(enums) > 0 {
		return "", fmt.Errorf("%s: unexpected enum arguments %v", name, enums)
	}
	return name, nil
}

func (c *consumer) measure(m *pb.AggregateRel_Measure, in *logical.Schema) (*logical.AggregateCall, error) {
	f := m.GetMeasure()
	if f == nil {
		return nil, fmt.Errorf("measure without aggregate function")
	}
	name, err := c.funcName(f.GetFunctionReference())
	if err != nil {
		return nil, err
	}
	switch f.GetPhase() {
	case pb.AggregationPhase_AGGREGATION_PHASE_UNSPECIFIED, pb.AggregationPhase_AGGREGATION_PHASE_INITIAL_TO_RESULT:
	default:
		return nil, fmt.Errorf("%s: aggregation phase %s is not supported", name, f.GetPhase())
	}
	if len(f.GetSorts()) > 0 {
		return nil, fmt.Errorf("%s: ordered aggregates are not supported", name)
	}
	enums, args, err := c.callArgs(f.GetArguments(), f.GetArgs(), in, nil) //nolint:staticcheck
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if udf, err := c.udf(f.GetFunctionReference(), logical.AggregateFunction); err != nil {
		return nil, err
	} else if udf != nil {
		if args, err = udfArgs(udf, args); err != nil {
			return nil, err
		}
		ac := &logical.AggregateCall{Func: udf.Name, Args: args, T: udf.Result.Type, UDF: udf,
			Distinct: f.GetInvocation() == pb.AggregateFunction_AGGREGATION_INVOCATION_DISTINCT}
		if m.GetFilter() != nil {
			if ac.Filter, err = c.expr(m.GetFilter(), in, nil); err != nil {
				return nil, fmt.Errorf("%s filter: %w", name, err)
			}
		}
		return ac, nil
	}
	fn, err := aggName(name, enums, optionMap(f.GetOptions()))
	if err != nil {
		return nil, err
	}
	if !aggregateFuncs[fn] {
		return nil, fmt.Errorf("unsupported aggregate function %q", c.funcs[f.GetFunctionReference()])
	}
	switch {
	case fn == "avg_merge":
		if len(args) != 2 || !logical.IsInteger(args[1].Type()) {
			return nil, fmt.Errorf("avg_merge: want a partial sum and an integer count, got %d arguments", len(args))
		}
		if f.GetOutputType() == nil {
			return nil, fmt.Errorf("avg_merge without an output type")
		}
	case fn != "count" && len(args) != 1:
		return nil, fmt.Errorf("%s: want 1 argument, got %d", fn, len(args))
	}
	if fn == "count" && len(args) > 1 {
		return nil, fmt.Errorf("count: want at most 1 argument, got %d", len(args))
	}
	ac := &logical.AggregateCall{Func: fn, Args: args, Distinct: f.GetInvocation() == pb.AggregateFunction_AGGREGATION_INVOCATION_DISTINCT}
	if m.GetFilter() != nil {
		if ac.Filter, err = c.expr(m.GetFilter(), in, nil); err != nil {
			return nil, fmt.Errorf("%s filter: %w", fn, err)
		}
	}
	if f.GetOutputType() != nil {
		if ac.T, _, err = extensions.FromProtoType(f.GetOutputType()); err != nil {
			return nil, fmt.Errorf("%s output type: %w", fn, err)
		}
	} else {
		var argT arrow.DataType = logical.Int64
		if len(args) > 0 {
			argT = args[0].Type()
		}
		if ac.T, err = logical.AggregateResultType(fn, argT); err != nil {
			return nil, err
		}
	}
	return ac, nil
}

func bound(b *pb.Expression_WindowFunction_Bound, lower bool) (logical.FrameBound, error) {
	switch k := b.GetKind().(type) {
	case nil:
		if lower {
			return logical.FrameBound{Kind: logical.UnboundedPreceding}, nil
		}
		return logical.FrameBound{Kind: logical.CurrentRow}, nil
	case *pb.Expression_WindowFunction_Bound_Unbounded_:
		if lower {
			return logical.FrameBound{Kind: logical.UnboundedPreceding}, nil
		}
		return logical.FrameBound{Kind: logical.UnboundedFollowing}, nil
	case *pb.Expression_WindowFunction_Bound_CurrentRow_:
		return logical.FrameBound{Kind: logical.CurrentRow}, nil
	case *pb.Expression_WindowFunction_Bound_Preceding_:
		if k.Preceding.GetOffset() < 0 {
			return logical.FrameBound{}, fmt.Errorf("negative preceding offset %d", k.Preceding.GetOffset())
		}
		return logical.FrameBound{Kind: logical.Preceding, Offset: &logical.Literal{Value: k.Preceding.GetOffset(), T: logical.Int64}}, nil
	case *pb.Expression_WindowFunction_Bound_Following_:
		if k.Following.GetOffset() < 0 {
			return logical.FrameBound{}, fmt.Errorf("negative following offset %d", k.Following.GetOffset())
		}
		return logical.FrameBound{Kind: logical.Following, Offset: &logical.Literal{Value: k.Following.GetOffset(), T: logical.Int64}}, nil
	}
	return logical.FrameBound{}, fmt.Errorf("unsupported window bound %T", b.GetKind())
}

// windowCall translates a window function; parts and keys, when given
// (ConsistentPartitionWindowRel), replace the function's own partitioning
// and ordering.
func (c *consumer) windowCall(w *pb.Expression_WindowFunction, in *logical.Schema, parts []logical.Expr, keys []logical.SortKey) (*logical.WindowCall, error) {
	name, err := c.funcName(w.GetFunctionReference())
	if err != nil {
		return nil, err
	}
	switch w.GetPhase() {
	case pb.AggregationPhase_AGGREGATION_PHASE_UNSPECIFIED, pb.AggregationPhase_AGGREGATION_PHASE_INITIAL_TO_RESULT:
	default:
		return nil, fmt.Errorf("%s: aggregation phase %s is not supported", name, w.GetPhase())
	}
	if w.GetInvocation() == pb.AggregateFunction_AGGREGATION_INVOCATION_DISTINCT {
		return nil, fmt.Errorf("%s: DISTINCT window functions are not supported", name)
	}
	enums, args, err := c.callArgs(w.GetArguments(), w.GetArgs(), in, nil) //nolint:staticcheck
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	fn, err := aggName(name, enums, optionMap(w.GetOptions()))
	if err != nil {
		return nil, err
	}
	if !aggregateFuncs[fn] && !windowOnlyFuncs[fn] {
		return nil, fmt.Errorf("unsupported window function %q", c.funcs[w.GetFunctionReference()])
	}
	wc := &logical.WindowCall{Func: fn, Args: args, PartitionBy: parts, OrderBy: keys}
	if parts == nil && keys == nil {
		for i, p := range w.GetPartitions() {
			pe, err := c.expr(p, in, nil)
			if err != nil {
				return nil, fmt.Errorf("%s partition %d: %w", fn, i, err)
			}
			wc.PartitionBy = append(wc.PartitionBy, pe)
		}
		x := &relCtx{c: c}
		if wc.OrderBy, err = x.sortKeys(w.GetSorts(), in); err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
	}
	if w.GetBoundsType() != pb.Expression_WindowFunction_BOUNDS_TYPE_UNSPECIFIED || w.GetLowerBound() != nil || w.GetUpperBound() != nil {
		fr := &logical.Frame{Type: logical.FrameRows}
		if w.GetBoundsType() == pb.Expression_WindowFunction_BOUNDS_TYPE_RANGE ||
			(w.GetBoundsType() == pb.Expression_WindowFunction_BOUNDS_TYPE_UNSPECIFIED && len(wc.OrderBy) > 0) {
			fr.Type = logical.FrameRange
		}
		if fr.Start, err = bound(w.GetLowerBound(), true); err != nil {
			return nil, fmt.Errorf("%s lower bound: %w", fn, err)
		}
		if fr.End, err = bound(w.GetUpperBound(), false); err != nil {
			return nil, fmt.Errorf("%s upper bound: %w", fn, err)
		}
		if w.GetUpperBound() == nil && len(wc.OrderBy) == 0 {
			fr.End = logical.FrameBound{Kind: logical.UnboundedFollowing}
		}
		wc.Frame = fr
	}
	if w.GetOutputType() != nil {
		if wc.T, _, err = extensions.FromProtoType(w.GetOutputType()); err != nil {
			return nil, fmt.Errorf("%s output type: %w", fn, err)
		}
	} else {
		switch {
		case fn == "row_number" || fn == "rank" || fn == "dense_rank" || fn == "ntile":
			wc.T = logical.Int64
		case fn == "percent_rank" || fn == "cume_dist":
			wc.T = logical.Float64
		case windowOnlyFuncs[fn]:
			if len(args) == 0 {
				return nil, fmt.Errorf("%s: missing argument", fn)
			}
			wc.T = args[0].Type()
		default:
			var argT arrow.DataType = logical.Int64
			if len(args) > 0 {
				argT = args[0].Type()
			}
			if wc.T, err = logical.AggregateResultType(fn, argT); err != nil {
				return nil, err
			}
		}
	}
	return wc, nil
}

// literal translates a Substrait literal into the logical representation
// (see logical.Literal for the Go value of each type).
func literal(l *pb.Expression_Literal) (*logical.Literal, error) {
	if l == nil {
		return nil, fmt.Errorf("missing literal")
	}
	switch v := l.GetLiteralType().(type) {
	case *pb.Expression_Literal_Boolean:
		return &logical.Literal{Value: v.Boolean, T: logical.Bool}, nil
	case *pb.Expression_Literal_I8:
		if v.I8 < math.MinInt8 || v.I8 > math.MaxInt8 {
			return nil, fmt.Errorf("i8 literal %d out of range", v.I8)
		}
		return &logical.Literal{Value: int8(v.I8), T: arrow.PrimitiveTypes.Int8}, nil
	case *pb.Expression_Literal_I16:
		if v.I16 < math.MinInt16 || v.I16 > math.MaxInt16 {
			return nil, fmt.Errorf("i16 literal %d out of range", v.I16)
		}
		return &logical.Literal{Value: int16(v.I16), T: arrow.PrimitiveTypes.Int16}, nil
	case *pb.Expression_Literal_I32:
		return &logical.Literal{Value: v.I32, T: arrow.PrimitiveTypes.Int32}, nil
	case *pb.Expression_Literal_I64:
		return &logical.Literal{Value: v.I64, T: logical.Int64}, nil
	case *pb.Expression_Literal_Fp32:
		return &logical.Literal{Value: v.Fp32, T: arrow.PrimitiveTypes.Float32}, nil
	case *pb.Expression_Literal_Fp64:
		return &logical.Literal{Value: v.Fp64, T: logical.Float64}, nil
	case *pb.Expression_Literal_String_:
		return &logical.Literal{Value: v.String_, T: logical.Utf8}, nil
	case *pb.Expression_Literal_VarChar_:
		return &logical.Literal{Value: v.VarChar.GetValue(), T: logical.Utf8}, nil
	case *pb.Expression_Literal_FixedChar:
		return &logical.Literal{Value: v.FixedChar, T: logical.Utf8}, nil
	case *pb.Expression_Literal_Binary:
		return &logical.Literal{Value: v.Binary, T: arrow.BinaryTypes.Binary}, nil
	case *pb.Expression_Literal_FixedBinary:
		if len(v.FixedBinary) == 0 {
			return nil, fmt.Errorf("empty fixed_binary literal")
		}
		return &logical.Literal{Value: v.FixedBinary, T: &arrow.FixedSizeBinaryType{ByteWidth: len(v.FixedBinary)}}, nil
	case *pb.Expression_Literal_Decimal_:
		d := v.Decimal
		p, s := d.GetPrecision(), d.GetScale()
		if p < 1 || p > logical.MaxDecimalPrecision || s < 0 || s > p {
			return nil, fmt.Errorf("invalid decimal literal type decimal<%d,%d>", p, s)
		}
		if len(d.GetValue()) != 16 {
			return nil, fmt.Errorf("decimal literal has %d bytes, want 16", len(d.GetValue()))
		}
		n := decimal128.New(int64(binary.LittleEndian.Uint64(d.GetValue()[8:])), binary.LittleEndian.Uint64(d.GetValue()[:8]))
		if !n.FitsInPrecision(p) {
			return nil, fmt.Errorf("decimal literal %s does not fit decimal<%d,%d>", n.ToString(s), p, s)
		}
		t := logical.DecimalType(p, s)
		if p <= logical.MaxDecimal64Precision {
			return &logical.Literal{Value: int64(n.LowBits()), T: t}, nil
		}
		return &logical.Literal{Value: n, T: t}, nil
	case *pb.Expression_Literal_Date:
		return &logical.Literal{Value: arrow.Date32(v.Date), T: logical.Date32}, nil
	case *pb.Expression_Literal_Timestamp: //nolint:staticcheck // deprecated, microseconds
		return &logical.Literal{Value: arrow.Timestamp(v.Timestamp), T: logical.TimestampUs}, nil
	case *pb.Expression_Literal_PrecisionTimestamp_:
		return timestampLiteral(v.PrecisionTimestamp, "")
	case *pb.Expression_Literal_PrecisionTimestampTz:
		return timestampLiteral(v.PrecisionTimestampTz, "UTC")
	case *pb.Expression_Literal_IntervalYearToMonth_:
		return &logical.Literal{Value: arrow.MonthDayNanoInterval{Months: v.IntervalYearToMonth.GetYears()*12 + v.IntervalYearToMonth.GetMonths()}, T: logical.Interval}, nil
	case *pb.Expression_Literal_IntervalDayToSecond_:
		days, nanos, err := dayToSecond(v.IntervalDayToSecond)
		if err != nil {
			return nil, err
		}
		return &logical.Literal{Value: arrow.MonthDayNanoInterval{Days: days, Nanoseconds: nanos}, T: logical.Interval}, nil
	case *pb.Expression_Literal_IntervalCompound_:
		ym := v.IntervalCompound.GetIntervalYearToMonth()
		days, nanos, err := dayToSecond(v.IntervalCompound.GetIntervalDayToSecond())
		if err != nil {
			return nil, err
		}
		return &logical.Literal{Value: arrow.MonthDayNanoInterval{Months: ym.GetYears()*12 + ym.GetMonths(), Days: days, Nanoseconds: nanos}, T: logical.Interval}, nil
	case *pb.Expression_Literal_Null:
		t, _, err := extensions.FromProtoType(v.Null)
		if err != nil {
			return nil, fmt.Errorf("null literal: %w", err)
		}
		return logical.NullLiteral(t), nil
	case nil:
		return nil, fmt.Errorf("empty literal")
	}
	return nil, fmt.Errorf("unsupported literal kind %T", l.GetLiteralType())
}

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

func timestampLiteral(ts *pb.Expression_Literal_PrecisionTimestamp, tz string) (*logical.Literal, error) {
	p := ts.GetPrecision()
	var unit arrow.TimeUnit
	var target int32
	switch {
	case p == 0:
		unit, target = arrow.Second, 0
	case p >= 1 && p <= 3:
		unit, target = arrow.Millisecond, 3
	case p >= 4 && p <= 6:
		unit, target = arrow.Microsecond, 6
	case p >= 7 && p <= 9:
		unit, target = arrow.Nanosecond, 9
	default:
		return nil, fmt.Errorf("invalid timestamp precision %d", p)
	}
	v := ts.GetValue()
	scale := pow10[target-p]
	if v > math.MaxInt64/scale || v < math.MinInt64/scale {
		return nil, fmt.Errorf("timestamp literal %d overflows", v)
	}
	return &logical.Literal{Value: arrow.Timestamp(v * scale), T: &arrow.TimestampType{Unit: unit, TimeZone: tz}}, nil
}

func dayToSecond(d *pb.Expression_Literal_IntervalDayToSecond) (int32, int64, error) {
	if d == nil {
		return 0, 0, nil
	}
	var sub int64
	switch pm := d.GetPrecisionMode().(type) {
	case *pb.Expression_Literal_IntervalDayToSecond_Precision:
		if pm.Precision < 0 || pm.Precision > 9 {
			return 0, 0, fmt.Errorf("invalid interval precision %d", pm.Precision)
		}
		sub = d.GetSubseconds() * pow10[9-pm.Precision]
	case *pb.Expression_Literal_IntervalDayToSecond_Microseconds: //nolint:staticcheck
		sub = int64(pm.Microseconds) * 1000
	case nil:
		if d.GetSubseconds() != 0 {
			return 0, 0, fmt.Errorf("interval subseconds without precision")
		}
	}
	return d.GetDays(), int64(d.GetSeconds())*1e9 + sub, nil
}
