package sql

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/arbalest/arbalest/substrait/logical"
)

// aggregateNames maps SQL aggregate names to logical.AggregateCall names.
var aggregateNames = map[string]string{
	"count": "count", "sum": "sum", "avg": "avg", "min": "min", "max": "max",
	"stddev": "stddev_samp", "stddev_samp": "stddev_samp", "stddev_pop": "stddev_pop",
	"variance": "var_samp", "var_samp": "var_samp", "var_pop": "var_pop",
	"bool_and": "bool_and", "every": "bool_and", "bool_or": "bool_or", "any_value": "any_value",
}

// windowOnly are the window functions that are not aggregates.
var windowOnly = map[string]bool{
	"row_number": true, "rank": true, "dense_rank": true, "percent_rank": true, "cume_dist": true,
	"ntile": true, "lag": true, "lead": true, "first_value": true, "last_value": true, "nth_value": true,
}

// scalarNames lists the scalar functions the binder knows (for
// suggestions).
var scalarNames = []string{
	"abs", "sign", "sqrt", "exp", "ln", "log", "log10", "floor", "ceil", "ceiling", "round", "power", "pow", "mod",
	"upper", "lower", "reverse", "trim", "btrim", "ltrim", "rtrim", "length", "char_length", "character_length",
	"octet_length", "substring", "substr", "position", "strpos", "replace", "starts_with", "ends_with", "contains",
	"left", "right", "lpad", "rpad", "repeat", "split_part", "concat", "regexp_like", "extract", "date_part",
	"date_trunc", "coalesce", "greatest", "least", "nullif", "current_date", "now", "current_timestamp",
	"localtimestamp", "transaction_timestamp", "statement_timestamp",
}

// funcName returns the unqualified, lowercased function name.
func funcName(fc *pg.FuncCall) string {
	if len(fc.Funcname) == 0 {
		return ""
	}
	return strings.ToLower(strVal(fc.Funcname[len(fc.Funcname)-1]))
}

func (b *binder) funcCall(fc *pg.FuncCall, c *exprCtx) (logical.Expr, error) {
	name := funcName(fc)
	if fc.AggWithinGroup || len(fc.AggOrder) > 0 {
		return nil, notSupported("ordered-set aggregates and ORDER BY inside aggregate calls")
	}
	if fc.FuncVariadic {
		return nil, notSupported("VARIADIC")
	}
	if fc.Over != nil {
		return b.windowCall(fc, name, c)
	}
	if agg, ok := aggregateNames[name]; ok {
		return b.aggregateCall(fc, agg, c)
	}
	if windowOnly[name] {
		return nil, fmt.Errorf("window function %s requires an OVER clause", name)
	}
	if f, ok := b.lookupUDF(name); ok && !builtinScalar(name) {
		return b.udfCall(f, fc, c)
	}
	if fc.AggStar || fc.AggDistinct || fc.AggFilter != nil {
		return nil, fmt.Errorf("%s is not an aggregate function", name)
	}
	args, err := b.exprs(fc.Args, c)
	if err != nil {
		return nil, err
	}
	return b.scalarCall(name, args)
}

// aggregateCall binds an aggregate; it stays embedded in the expression
// until the select block moves it into an Aggregate node.
func (b *binder) aggregateCall(fc *pg.FuncCall, fn string, c *exprCtx) (logical.Expr, error) {
	if c.inAgg {
		return nil, fmt.Errorf("aggregate function calls cannot be nested")
	}
	if !c.aggOK {
		return nil, fmt.Errorf("aggregate functions are not allowed in %s", c.clause)
	}
	ac := c.with(func(c *exprCtx) {
		c.inAgg = true
		c.windowOK = false
		c.aggOK = false
		c.outerClause = "an aggregate function"
	})
	var arg, filter logical.Expr
	if !fc.AggStar {
		args, err := b.exprs(fc.Args, ac)
		if err != nil {
			return nil, err
		}
		if len(args) != 1 {
			return nil, fmt.Errorf("%s takes one argument, got %d", funcName(fc), len(args))
		}
		arg = args[0]
	}
	if fc.AggFilter != nil {
		var err error
		if filter, err = b.expr(fc.AggFilter, ac); err != nil {
			return nil, err
		}
	}
	return aggregateCall(fn, funcName(fc), arg, fc.AggDistinct, filter)
}

// sortKey binds one ORDER BY item with PostgreSQL's defaults (ASC NULLS
// LAST, DESC NULLS FIRST).
func sortKey(e logical.Expr, sb *pg.SortBy) (logical.SortKey, error) {
	if sb.SortbyDir == pg.SortByDir_SORTBY_USING {
		return logical.SortKey{}, notSupported("ORDER BY ... USING")
	}
	k := logical.SortKey{Expr: e, Descending: sb.SortbyDir == pg.SortByDir_SORTBY_DESC}
	switch sb.SortbyNulls {
	case pg.SortByNulls_SORTBY_NULLS_FIRST:
		k.NullsFirst = true
	case pg.SortByNulls_SORTBY_NULLS_LAST:
		k.NullsFirst = false
	default:
		k.NullsFirst = k.Descending
	}
	return k, nil
}

// Frame option bits of PostgreSQL's WindowDef.frameOptions.
const (
	frameNonDefault      = 0x00001
	frameRange           = 0x00002
	frameRows            = 0x00004
	frameGroups          = 0x00008
	frameStartUnbPrec    = 0x00020
	frameEndUnbPrec      = 0x00040
	frameStartUnbFol     = 0x00080
	frameEndUnbFol       = 0x00100
	frameStartCurrent    = 0x00200
	frameEndCurrent      = 0x00400
	frameStartOffsetPrec = 0x00800
	frameEndOffsetPrec   = 0x01000
	frameStartOffsetFol  = 0x02000
	frameEndOffsetFol    = 0x04000
	frameExclusion       = 0x08000 | 0x10000 | 0x20000
)

func (b *binder) windowCall(fc *pg.FuncCall, name string, c *exprCtx) (logical.Expr, error) {
	if !c.windowOK {
		return nil, fmt.Errorf("window functions are not allowed in %s", c.clause)
	}
	if fc.AggDistinct {
		return nil, notSupported("DISTINCT in window functions")
	}
	if fc.AggFilter != nil {
		return nil, notSupported("FILTER in window functions")
	}
	def := fc.Over
	if def.Refname != "" || (def.Name != "" && len(def.PartitionClause) == 0 && len(def.OrderClause) == 0 && def.FrameOptions&frameNonDefault == 0) {
		ref := def.Refname
		if ref == "" {
			ref = def.Name
		}
		named, ok := c.windows[ref]
		if !ok {
			return nil, fmt.Errorf("window %q does not exist", ref)
		}
		merged := &pg.WindowDef{
			PartitionClause: named.PartitionClause, OrderClause: named.OrderClause,
			FrameOptions: named.FrameOptions, StartOffset: named.StartOffset, EndOffset: named.EndOffset,
		}
		if len(def.OrderClause) > 0 {
			merged.OrderClause = def.OrderClause
		}
		if def.FrameOptions&frameNonDefault != 0 {
			merged.FrameOptions, merged.StartOffset, merged.EndOffset = def.FrameOptions, def.StartOffset, def.EndOffset
		}
		def = merged
	}
	ac := c.with(func(c *exprCtx) { c.windowOK = false; c.outerClause = "a window function" })
	args, err := b.exprs(fc.Args, ac)
	if err != nil {
		return nil, err
	}
	w := &logical.WindowCall{}
	for _, p := range def.PartitionClause {
		e, err := b.expr(p, ac)
		if err != nil {
			return nil, err
		}
		w.PartitionBy = append(w.PartitionBy, e)
	}
	for _, o := range def.OrderClause {
		sb, ok := o.Node.(*pg.Node_SortBy)
		if !ok {
			return nil, fmt.Errorf("malformed window ORDER BY")
		}
		e, err := b.expr(sb.SortBy.Node, ac)
		if err != nil {
			return nil, err
		}
		k, err := sortKey(e, sb.SortBy)
		if err != nil {
			return nil, err
		}
		w.OrderBy = append(w.OrderBy, k)
	}
	if def.FrameOptions&frameNonDefault != 0 {
		f, err := b.frame(def, ac)
		if err != nil {
			return nil, err
		}
		w.Frame = f
	}
	nargs := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			if lo == hi {
				return fmt.Errorf("%s takes %d arguments, got %d", name, lo, len(args))
			}
			return fmt.Errorf("%s takes %d to %d arguments, got %d", name, lo, hi, len(args))
		}
		return nil
	}
	switch name {
	case "row_number", "rank", "dense_rank":
		if err := nargs(0, 0); err != nil {
			return nil, err
		}
		w.Func, w.T = name, logical.Int64
	case "percent_rank", "cume_dist":
		if err := nargs(0, 0); err != nil {
			return nil, err
		}
		w.Func, w.T = name, logical.Float64
	case "ntile":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		n, err := castTo(args[0], logical.Int64)
		if err != nil {
			return nil, err
		}
		w.Func, w.Args, w.T = name, []logical.Expr{n}, logical.Int64
	case "lag", "lead":
		if err := nargs(1, 3); err != nil {
			return nil, err
		}
		w.Func, w.T = name, args[0].Type()
		w.Args = []logical.Expr{args[0]}
		if len(args) >= 2 {
			off, err := castTo(args[1], logical.Int64)
			if err != nil {
				return nil, err
			}
			w.Args = append(w.Args, off)
		} else {
			w.Args = append(w.Args, &logical.Literal{Value: int64(1), T: logical.Int64})
		}
		if len(args) == 3 {
			t, err := unify([]logical.Expr{args[0], args[2]})
			if err != nil {
				return nil, fmt.Errorf("%s default: %w", name, err)
			}
			if w.Args[0], err = castTo(args[0], t); err != nil {
				return nil, err
			}
			def, err := castTo(args[2], t)
			if err != nil {
				return nil, err
			}
			w.Args = append(w.Args, def)
			w.T = t
		}
	case "first_value", "last_value":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		w.Func, w.Args, w.T = name, args, args[0].Type()
	case "nth_value":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		n, err := castTo(args[1], logical.Int64)
		if err != nil {
			return nil, err
		}
		w.Func, w.Args, w.T = name, []logical.Expr{args[0], n}, args[0].Type()
	default:
		agg, ok := aggregateNames[name]
		if !ok {
			return nil, fmt.Errorf("function %s is not a window function%s", name, suggest(name, windowFuncNames()))
		}
		var argT arrow.DataType = logical.Int64
		if fc.AggStar {
			if agg != "count" {
				return nil, fmt.Errorf("%s(*) is not allowed", name)
			}
		} else {
			if err := nargs(1, 1); err != nil {
				return nil, err
			}
			argT = args[0].Type()
			w.Args = args
		}
		t, err := logical.AggregateResultType(agg, argT)
		if err != nil {
			return nil, err
		}
		w.Func, w.T = agg, t
	}
	return w, nil
}

func windowFuncNames() []string {
	var out []string
	for k := range windowOnly {
		out = append(out, k)
	}
	for k := range aggregateNames {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// frame binds an explicit window frame.
func (b *binder) frame(def *pg.WindowDef, c *exprCtx) (*logical.Frame, error) {
	o := def.FrameOptions
	if o&frameGroups != 0 {
		return nil, notSupported("GROUPS frames")
	}
	if o&frameExclusion != 0 {
		return nil, notSupported("frame EXCLUDE")
	}
	f := &logical.Frame{Type: logical.FrameRows}
	if o&frameRange != 0 {
		f.Type = logical.FrameRange
	}
	bound := func(unbPrec, unbFol, cur, offPrec, offFol int32, off *pg.Node, dflt logical.BoundKind) (logical.FrameBound, error) {
		switch {
		case o&unbPrec != 0:
			return logical.FrameBound{Kind: logical.UnboundedPreceding}, nil
		case o&unbFol != 0:
			return logical.FrameBound{Kind: logical.UnboundedFollowing}, nil
		case o&cur != 0:
			return logical.FrameBound{Kind: logical.CurrentRow}, nil
		case o&(offPrec|offFol) != 0:
			e, err := b.expr(off, c)
			if err != nil {
				return logical.FrameBound{}, err
			}
			if _, ok := e.(*logical.Literal); !ok {
				return logical.FrameBound{}, fmt.Errorf("frame offsets must be constants")
			}
			if f.Type == logical.FrameRows {
				if e, err = castTo(e, logical.Int64); err != nil {
					return logical.FrameBound{}, err
				}
			}
			kind := logical.Preceding
			if o&offFol != 0 {
				kind = logical.Following
			}
			return logical.FrameBound{Kind: kind, Offset: e}, nil
		}
		return logical.FrameBound{Kind: dflt}, nil
	}
	var err error
	if f.Start, err = bound(frameStartUnbPrec, frameStartUnbFol, frameStartCurrent, frameStartOffsetPrec, frameStartOffsetFol, def.StartOffset, logical.UnboundedPreceding); err != nil {
		return nil, err
	}
	if f.End, err = bound(frameEndUnbPrec, frameEndUnbFol, frameEndCurrent, frameEndOffsetPrec, frameEndOffsetFol, def.EndOffset, logical.CurrentRow); err != nil {
		return nil, err
	}
	return f, nil
}

// extractComponents maps extract/date_part field names to the
// Options["component"] values of the extract function.
var extractComponents = map[string]string{
	"year": "YEAR", "years": "YEAR", "quarter": "QUARTER", "month": "MONTH", "months": "MONTH",
	"day": "DAY", "days": "DAY", "dow": "DAY_OF_WEEK", "dayofweek": "DAY_OF_WEEK", "doy": "DAY_OF_YEAR",
	"dayofyear": "DAY_OF_YEAR", "week": "WEEK", "hour": "HOUR", "hours": "HOUR", "minute": "MINUTE",
	"minutes": "MINUTE", "second": "SECOND", "seconds": "SECOND", "epoch": "EPOCH",
}

var truncUnits = map[string]string{
	"year": "YEAR", "quarter": "QUARTER", "month": "MONTH", "week": "WEEK", "day": "DAY",
	"hour": "HOUR", "minute": "MINUTE", "second": "SECOND",
}

// stringLiteral returns the value of a string literal argument.
func stringLiteral(e logical.Expr, what string) (string, error) {
	if l, ok := e.(*logical.Literal); ok {
		if s, ok := l.Value.(string); ok {
			return s, nil
		}
	}
	return "", fmt.Errorf("%s must be a string constant", what)
}

func anyNullable(args []logical.Expr) bool {
	for _, a := range args {
		if a.Nullable() {
			return true
		}
	}
	return false
}

// scalarCall binds a scalar function call to one of the functions in
// logical/functions.go, coercing its arguments.
func (b *binder) scalarCall(name string, args []logical.Expr) (logical.Expr, error) {
	nargs := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			if lo == hi {
				return fmt.Errorf("function %s takes %d arguments, got %d", name, lo, len(args))
			}
			return fmt.Errorf("function %s takes %d to %d arguments, got %d", name, lo, hi, len(args))
		}
		return nil
	}
	call := func(fn string, t arrow.DataType, a ...logical.Expr) logical.Expr {
		return &logical.Call{Func: fn, Args: a, T: t, NullableOut: anyNullable(a)}
	}
	toInt64 := func(e logical.Expr) (logical.Expr, error) {
		if !logical.IsInteger(e.Type()) && !isNullType(e.Type()) {
			if _, ok := e.(*logical.Literal); !ok {
				return nil, fmt.Errorf("function %s expects an integer, got %s", name, sqlTypeName(e.Type()))
			}
		}
		return castTo(e, logical.Int64)
	}
	numeric := func(e logical.Expr) error {
		if !logical.IsNumeric(e.Type()) {
			return fmt.Errorf("function %s expects a number, got %s", name, sqlTypeName(e.Type()))
		}
		return nil
	}
	switch name {
	case "abs", "sign", "floor", "ceil", "ceiling":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		if err := numeric(args[0]); err != nil {
			return nil, err
		}
		if name == "ceiling" {
			name = "ceil"
		}
		t := args[0].Type()
		if p, sc, ok := logical.DecimalParams(t); ok && (name == "floor" || name == "ceil") {
			// As in PostgreSQL: the result is integral, scale 0, with room
			// for a carry (ceil(9.5) = 10).
			t = logical.DecimalType(max(p-sc+1, 1), 0)
		}
		return call(name, t, args[0]), nil
	case "round":
		if err := nargs(1, 2); err != nil {
			return nil, err
		}
		if err := numeric(args[0]); err != nil {
			return nil, err
		}
		digits := logical.Expr(&logical.Literal{Value: int32(0), T: arrow.PrimitiveTypes.Int32})
		if len(args) == 2 {
			d, err := castTo(args[1], arrow.PrimitiveTypes.Int32)
			if err != nil {
				return nil, err
			}
			digits = d
		}
		t := args[0].Type()
		if p, sc, ok := logical.DecimalParams(t); ok {
			// As in PostgreSQL, round(x, d) with a constant d has scale d
			// (0 for negative d), with room for a carry.
			if lit, isLit := digits.(*logical.Literal); isLit && lit.Value != nil {
				d := max(lit.Value.(int32), 0)
				t = logical.DecimalType(max(p-sc+d+1, 1), d)
			}
		}
		return call("round", t, args[0], digits), nil
	case "sqrt", "exp", "ln", "log10", "log":
		if name == "log" && len(args) == 2 {
			// log(b, x): the logarithm of x to base b.
			return mathCall("logb", args...)
		}
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		if name == "log" {
			name = "log10"
		}
		return mathCall(name, args[0])
	case "power", "pow":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		return mathCall("power", args...)
	case "mod":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		return arith("modulus", args[0], args[1])
	case "upper", "lower", "reverse":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		a, err := stringArgs(name, args...)
		if err != nil {
			return nil, err
		}
		return call(name, logical.Utf8, a...), nil
	case "trim", "btrim", "ltrim", "rtrim":
		if err := nargs(1, 2); err != nil {
			return nil, err
		}
		a, err := stringArgs(name, args...)
		if err != nil {
			return nil, err
		}
		if name == "btrim" {
			name = "trim"
		}
		return call(name, logical.Utf8, a...), nil
	case "length", "char_length", "character_length", "octet_length":
		if err := nargs(1, 1); err != nil {
			return nil, err
		}
		a, err := stringArgs(name, args...)
		if err != nil {
			return nil, err
		}
		fn := "char_length"
		if name == "octet_length" {
			fn = name
		}
		return call(fn, logical.Int64, a...), nil
	case "substring", "substr":
		if err := nargs(2, 3); err != nil {
			return nil, err
		}
		a, err := stringArgs(name, args[0])
		if err != nil {
			return nil, err
		}
		for _, x := range args[1:] {
			i, err := toInt64(x)
			if err != nil {
				return nil, err
			}
			a = append(a, i)
		}
		return call("substring", logical.Utf8, a...), nil
	case "position", "strpos":
		// position(a IN b) arrives as position(b, a).
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		a, err := stringArgs(name, args...)
		if err != nil {
			return nil, err
		}
		return call("strpos", logical.Int64, a...), nil
	case "replace":
		if err := nargs(3, 3); err != nil {
			return nil, err
		}
		a, err := stringArgs(name, args...)
		if err != nil {
			return nil, err
		}
		return call(name, logical.Utf8, a...), nil
	case "starts_with", "ends_with", "contains", "regexp_like":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		a, err := stringArgs(name, args...)
		if err != nil {
			return nil, err
		}
		if name == "regexp_like" {
			name = "regexp_match"
		}
		return call(name, logical.Bool, a...), nil
	case "left", "right", "repeat":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		a, err := stringArgs(name, args[0])
		if err != nil {
			return nil, err
		}
		n, err := toInt64(args[1])
		if err != nil {
			return nil, err
		}
		return call(name, logical.Utf8, a[0], n), nil
	case "lpad", "rpad":
		if err := nargs(2, 3); err != nil {
			return nil, err
		}
		a, err := stringArgs(name, args[0])
		if err != nil {
			return nil, err
		}
		n, err := toInt64(args[1])
		if err != nil {
			return nil, err
		}
		out := []logical.Expr{a[0], n}
		if len(args) == 3 {
			f, err := stringArgs(name, args[2])
			if err != nil {
				return nil, err
			}
			out = append(out, f[0])
		}
		return call(name, logical.Utf8, out...), nil
	case "split_part":
		if err := nargs(3, 3); err != nil {
			return nil, err
		}
		a, err := stringArgs(name, args[0], args[1])
		if err != nil {
			return nil, err
		}
		n, err := toInt64(args[2])
		if err != nil {
			return nil, err
		}
		return call(name, logical.Utf8, a[0], a[1], n), nil
	case "concat":
		// PostgreSQL's concat() skips NULL arguments; the concat function
		// is NULL when any argument is, so NULLs become ''.
		if len(args) == 0 {
			return nil, fmt.Errorf("function concat needs at least one argument")
		}
		out := make([]logical.Expr, len(args))
		for i, a := range args {
			s, err := castTo(a, logical.Utf8)
			if err != nil {
				return nil, err
			}
			if s.Nullable() {
				s = &logical.Call{Func: "coalesce", Args: []logical.Expr{s, &logical.Literal{Value: "", T: logical.Utf8}}, T: logical.Utf8}
			}
			out[i] = s
		}
		return &logical.Call{Func: "concat", Args: out, T: logical.Utf8}, nil
	case "extract", "date_part":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		field, err := stringLiteral(args[0], "the field of "+name)
		if err != nil {
			return nil, err
		}
		comp, ok := extractComponents[strings.ToLower(field)]
		if !ok {
			return nil, fmt.Errorf("unit %q not recognized for %s%s", field, name, suggest(field, keys(extractComponents)))
		}
		x := args[1]
		if l, ok := x.(*logical.Literal); ok && logical.IsString(l.T) {
			if x, err = castTo(l, logical.TimestampUs); err != nil {
				return nil, err
			}
		}
		if !logical.IsTemporal(x.Type()) {
			return nil, fmt.Errorf("%s expects a date or timestamp, got %s", name, sqlTypeName(x.Type()))
		}
		t := logical.Int64
		if comp == "EPOCH" {
			t = logical.Float64
		}
		c := call("extract", t, x).(*logical.Call)
		c.Options = map[string]string{"component": comp}
		return c, nil
	case "date_trunc":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		unit, err := stringLiteral(args[0], "the unit of date_trunc")
		if err != nil {
			return nil, err
		}
		u, ok := truncUnits[strings.ToLower(unit)]
		if !ok {
			return nil, fmt.Errorf("unit %q not recognized for date_trunc%s", unit, suggest(unit, keys(truncUnits)))
		}
		x := args[1]
		if l, ok := x.(*logical.Literal); ok && logical.IsString(l.T) {
			if x, err = castTo(l, logical.TimestampUs); err != nil {
				return nil, err
			}
		}
		if !logical.IsTemporal(x.Type()) {
			return nil, fmt.Errorf("date_trunc expects a date or timestamp, got %s", sqlTypeName(x.Type()))
		}
		c := call("date_trunc", x.Type(), x).(*logical.Call)
		c.Options = map[string]string{"unit": u}
		return c, nil
	case "coalesce", "greatest", "least":
		if len(args) == 0 {
			return nil, fmt.Errorf("function %s needs at least one argument", name)
		}
		return variadicCommon(name, args)
	case "nullif":
		if err := nargs(2, 2); err != nil {
			return nil, err
		}
		t, err := unify(args)
		if err != nil {
			return nil, err
		}
		a, err := castAll(args, t)
		if err != nil {
			return nil, err
		}
		return &logical.Call{Func: "nullif", Args: a, T: t, NullableOut: true}, nil
	case "current_date":
		if err := nargs(0, 0); err != nil {
			return nil, err
		}
		return b.currentDate(), nil
	case "now", "current_timestamp", "localtimestamp", "transaction_timestamp", "statement_timestamp":
		if err := nargs(0, 0); err != nil {
			return nil, err
		}
		return b.currentTimestamp(6), nil
	}
	if e, ok, err := moreScalarCall(name, args); ok {
		return e, err
	}
	cands := append(append([]string(nil), scalarNames...), keys(aggregateNames)...)
	return nil, fmt.Errorf("function %s does not exist%s", name, suggest(name, cands))
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
