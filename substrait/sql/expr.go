package sql

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/arbalest/arbalest/substrait/logical"
)

// exprCtx says what an expression being bound may contain.
type exprCtx struct {
	sc     *scope
	env    *env
	clause string // for messages: "WHERE", "GROUP BY", ...

	aggOK    bool // aggregate calls allowed (SELECT, HAVING, ORDER BY)
	windowOK bool // window functions allowed (SELECT, ORDER BY)
	subqOK   bool // subquery expressions allowed
	outerOK  bool // correlated references allowed (WHERE and select list of a subquery)
	// outerClause, when set, names the construct (an aggregate or window
	// function) inside which correlated references are not supported.
	outerClause string
	inAgg       bool // inside an aggregate's arguments

	windows map[string]*pg.WindowDef // named windows of the block (WINDOW clause)
}

func (c *exprCtx) with(f func(*exprCtx)) *exprCtx {
	n := *c
	f(&n)
	return &n
}

var cmpFuncs = map[string]string{
	"=": "equal", "<>": "not_equal", "!=": "not_equal", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte",
}

var arithFuncs = map[string]string{
	"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "%": "modulus",
}

// isComparison reports whether fn is a binary comparison function.
func isComparison(fn string) bool {
	switch fn {
	case "equal", "not_equal", "lt", "lte", "gt", "gte":
		return true
	}
	return false
}

// negatedComparison gives the comparison that is true exactly when fn is
// false (NULL stays NULL).
var negatedComparison = map[string]string{
	"equal": "not_equal", "not_equal": "equal", "lt": "gte", "gte": "lt", "gt": "lte", "lte": "gt",
}

// expr binds an expression. An error that has no position yet gets the
// position of the innermost expression it arose in.
func (b *binder) expr(n *pg.Node, c *exprCtx) (logical.Expr, error) {
	e, err := b.bindExpr(n, c)
	if err != nil {
		return nil, b.errAt(location(n), err)
	}
	return e, nil
}

func (b *binder) bindExpr(n *pg.Node, c *exprCtx) (logical.Expr, error) {
	if n == nil {
		return nil, fmt.Errorf("missing expression")
	}
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		return b.columnRef(x.ColumnRef, c)
	case *pg.Node_AConst:
		e, err := constant(x.AConst)
		return e, b.errAt(x.AConst.Location, err)
	case *pg.Node_TypeCast:
		return b.typeCast(x.TypeCast, c)
	case *pg.Node_AExpr:
		e, err := b.aExpr(x.AExpr, c)
		return e, b.errAt(x.AExpr.Location, err)
	case *pg.Node_BoolExpr:
		return b.boolExpr(x.BoolExpr, c)
	case *pg.Node_NullTest:
		if x.NullTest.Argisrow {
			return nil, notSupported("row IS NULL")
		}
		arg, err := b.expr(x.NullTest.Arg, c)
		if err != nil {
			return nil, err
		}
		fn := "is_null"
		if x.NullTest.Nulltesttype == pg.NullTestType_IS_NOT_NULL {
			fn = "is_not_null"
		}
		return &logical.Call{Func: fn, Args: []logical.Expr{arg}, T: logical.Bool}, nil
	case *pg.Node_BooleanTest:
		arg, err := b.expr(x.BooleanTest.Arg, c)
		if err != nil {
			return nil, err
		}
		if arg, err = toBool(arg, "IS TRUE"); err != nil {
			return nil, b.errAt(x.BooleanTest.Location, err)
		}
		fn := map[pg.BoolTestType]string{
			pg.BoolTestType_IS_TRUE: "is_true", pg.BoolTestType_IS_NOT_TRUE: "is_not_true",
			pg.BoolTestType_IS_FALSE: "is_false", pg.BoolTestType_IS_NOT_FALSE: "is_not_false",
			pg.BoolTestType_IS_UNKNOWN: "is_null", pg.BoolTestType_IS_NOT_UNKNOWN: "is_not_null",
		}[x.BooleanTest.Booltesttype]
		return &logical.Call{Func: fn, Args: []logical.Expr{arg}, T: logical.Bool}, nil
	case *pg.Node_CaseExpr:
		return b.caseExpr(x.CaseExpr, c)
	case *pg.Node_CoalesceExpr:
		args, err := b.exprs(x.CoalesceExpr.Args, c)
		if err != nil {
			return nil, err
		}
		e, err := variadicCommon("coalesce", args)
		return e, b.errAt(x.CoalesceExpr.Location, err)
	case *pg.Node_MinMaxExpr:
		args, err := b.exprs(x.MinMaxExpr.Args, c)
		if err != nil {
			return nil, err
		}
		fn := "greatest"
		if x.MinMaxExpr.Op == pg.MinMaxOp_IS_LEAST {
			fn = "least"
		}
		e, err := variadicCommon(fn, args)
		return e, b.errAt(x.MinMaxExpr.Location, err)
	case *pg.Node_FuncCall:
		e, err := b.funcCall(x.FuncCall, c)
		return e, b.errAt(x.FuncCall.Location, err)
	case *pg.Node_SubLink:
		e, err := b.subLink(x.SubLink, c)
		return e, b.errAt(x.SubLink.Location, err)
	case *pg.Node_SqlvalueFunction:
		switch x.SqlvalueFunction.Op {
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
			return b.currentDate(), nil
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP:
			return b.currentTimestamp(6), nil
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N, pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
			p := x.SqlvalueFunction.Typmod
			if p < 0 || p > 6 {
				return nil, b.errAt(x.SqlvalueFunction.Location, fmt.Errorf("timestamp precision %d is outside 0..6", p))
			}
			return b.currentTimestamp(p), nil
		}
		return nil, b.errAt(x.SqlvalueFunction.Location, notSupported("%s", strings.ToLower(strings.TrimPrefix(x.SqlvalueFunction.Op.String(), "SVFOP_"))))
	case *pg.Node_GroupingFunc:
		if !c.aggOK || c.inAgg {
			return nil, b.errAt(x.GroupingFunc.Location, fmt.Errorf("GROUPING is not allowed in %s", c.clause))
		}
		args, err := b.exprs(x.GroupingFunc.Args, c.with(func(c *exprCtx) { c.aggOK = false; c.windowOK = false }))
		if err != nil {
			return nil, err
		}
		if len(args) > 62 {
			return nil, fmt.Errorf("GROUPING takes at most 62 arguments")
		}
		return &groupingExpr{args: args}, nil
	case *pg.Node_ParamRef:
		return nil, b.errAt(x.ParamRef.Location, notSupported("query parameters ($%d)", x.ParamRef.Number))
	case *pg.Node_CollateClause:
		return nil, b.errAt(x.CollateClause.Location, notSupported("COLLATE"))
	case *pg.Node_RowExpr:
		return nil, b.errAt(x.RowExpr.Location, notSupported("row constructors"))
	case *pg.Node_AArrayExpr:
		return nil, b.errAt(x.AArrayExpr.Location, notSupported("arrays"))
	case *pg.Node_AIndirection:
		return nil, notSupported("subscripts and field selection")
	}
	name := strings.TrimPrefix(fmt.Sprintf("%T", n.Node), "*pg_query.Node_")
	return nil, notSupported("expression %s", name)
}

func (b *binder) exprs(ns []*pg.Node, c *exprCtx) ([]logical.Expr, error) {
	out := make([]logical.Expr, len(ns))
	for i, n := range ns {
		e, err := b.expr(n, c)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// columnRef resolves a column name.
func (b *binder) columnRef(r *pg.ColumnRef, c *exprCtx) (logical.Expr, error) {
	var parts []string
	for _, f := range r.Fields {
		if _, ok := f.Node.(*pg.Node_AStar); ok {
			return nil, b.errAt(r.Location, fmt.Errorf("* is not allowed in %s", c.clause))
		}
		parts = append(parts, strVal(f))
	}
	var qual, name string
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2, 3, 4:
		qual, name = parts[len(parts)-2], parts[len(parts)-1]
	default:
		return nil, b.errAt(r.Location, fmt.Errorf("improper qualified name %q", strings.Join(parts, ".")))
	}
	var outer *scope
	if c.env != nil {
		outer = c.env.outer
	}
	res, err := resolve(c.sc, outer, qual, name)
	if err != nil {
		if c.env != nil {
			for _, far := range c.env.far {
				if len(far.find(qual, name)) > 0 {
					return nil, b.errAt(r.Location, notSupported("correlated reference to %q from a subquery two or more query levels down", name))
				}
			}
		}
		return nil, b.errAt(r.Location, err)
	}
	if res.outer {
		if !c.outerOK {
			return nil, b.errAt(r.Location, notSupported("correlated reference to %q in %s (only in the WHERE clause and the select list of a subquery)", name, c.clause))
		}
		if c.outerClause != "" {
			return nil, b.errAt(r.Location, notSupported("correlated reference to %q inside %s", name, c.outerClause))
		}
		ref := outer.ref(res.col)
		return &outerRef{Steps: 1, Index: ref.Index, Name: ref.Name, T: ref.T, CanBeNull: ref.CanBeNull}, nil
	}
	return c.sc.ref(res.col), nil
}

// constant binds a literal.
func constant(k *pg.A_Const) (logical.Expr, error) {
	if k.Isnull {
		return logical.NullLiteral(arrow.Null), nil
	}
	switch v := k.Val.(type) {
	case *pg.A_Const_Ival:
		return &logical.Literal{Value: v.Ival.Ival, T: arrow.PrimitiveTypes.Int32}, nil
	case *pg.A_Const_Fval:
		return numericLiteral(v.Fval.Fval)
	case *pg.A_Const_Sval:
		return &logical.Literal{Value: v.Sval.Sval, T: logical.Utf8}, nil
	case *pg.A_Const_Boolval:
		return &logical.Literal{Value: v.Boolval.Boolval, T: logical.Bool}, nil
	case *pg.A_Const_Bsval:
		return nil, notSupported("bit string literals")
	}
	return nil, fmt.Errorf("unknown constant")
}

func (b *binder) typeCast(tc *pg.TypeCast, c *exprCtx) (logical.Expr, error) {
	t, err := arrowType(tc.TypeName)
	if err != nil {
		return nil, b.errAt(tc.TypeName.Location, err)
	}
	arg, err := b.expr(tc.Arg, c)
	if err != nil {
		return nil, err
	}
	if l, ok := arg.(*logical.Literal); ok && t.ID() == arrow.INTERVAL_MONTH_DAY_NANO {
		if s, ok := l.Value.(string); ok {
			mods, err := typmods(tc.TypeName)
			if err != nil {
				return nil, err
			}
			var mask int32
			if len(mods) > 0 {
				mask = mods[0]
			}
			iv, err := parseInterval(s, mask)
			if err != nil {
				return nil, b.errAt(tc.Location, err)
			}
			return &logical.Literal{Value: iv, T: t}, nil
		}
	}
	e, err := castTo(arg, t)
	if err != nil {
		return nil, b.errAt(tc.Location, err)
	}
	return e, nil
}

// toBool checks that e is boolean (an untyped NULL becomes a boolean NULL).
func toBool(e logical.Expr, what string) (logical.Expr, error) {
	if e.Type().ID() == arrow.BOOL {
		return e, nil
	}
	if l, ok := e.(*logical.Literal); ok {
		if out, err := castLiteral(l, logical.Bool, false); err == nil && out != nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf("argument of %s must be boolean, not %s", what, sqlTypeName(e.Type()))
}

func (b *binder) boolExpr(x *pg.BoolExpr, c *exprCtx) (logical.Expr, error) {
	args, err := b.exprs(x.Args, c)
	if err != nil {
		return nil, err
	}
	what := map[pg.BoolExprType]string{pg.BoolExprType_AND_EXPR: "AND", pg.BoolExprType_OR_EXPR: "OR", pg.BoolExprType_NOT_EXPR: "NOT"}[x.Boolop]
	for i, a := range args {
		if args[i], err = toBool(a, what); err != nil {
			return nil, b.errAt(x.Location, err)
		}
	}
	switch x.Boolop {
	case pg.BoolExprType_AND_EXPR:
		return logical.And(args...), nil
	case pg.BoolExprType_OR_EXPR:
		return boolCall("or", args...), nil
	default:
		return boolCall("not", args...), nil
	}
}

// boolCall builds a call that returns a boolean.
func boolCall(fn string, args ...logical.Expr) *logical.Call {
	nullable := false
	for _, a := range args {
		nullable = nullable || a.Nullable()
	}
	return &logical.Call{Func: fn, Args: args, T: logical.Bool, NullableOut: nullable}
}

// unify finds the common type of exprs: the non-literal expressions decide
// it, and literals convert to it when they can do so exactly (so `0` next
// to a decimal(15,2) becomes 0.00 rather than widening the decimal).
func unify(exprs []logical.Expr) (arrow.DataType, error) {
	var t arrow.DataType
	var lits []*logical.Literal
	for _, e := range exprs {
		if l, ok := e.(*logical.Literal); ok {
			lits = append(lits, l)
			continue
		}
		if t == nil {
			t = e.Type()
			continue
		}
		ct, ok := commonType(t, e.Type())
		if !ok {
			return nil, fmt.Errorf("types %s and %s cannot be matched", sqlTypeName(t), sqlTypeName(e.Type()))
		}
		t = ct
	}
	if t == nil {
		// Only literals: strings yield to the other types (an untyped
		// string next to a number is that number).
		for _, l := range lits {
			if l.Value == nil || (logical.IsString(l.T) && len(lits) > 1) {
				continue
			}
			if t == nil {
				t = l.T
			} else if ct, ok := commonType(t, l.T); ok {
				t = ct
			}
		}
		if t == nil {
			for _, l := range lits {
				if l.Value != nil {
					t = l.T
				}
			}
		}
		if t == nil {
			return arrow.Null, nil
		}
	}
	for _, l := range lits {
		if l.Value == nil {
			continue
		}
		out, err := castLiteral(l, t, true)
		if err != nil {
			return nil, err
		}
		if out != nil {
			continue
		}
		ct, ok := commonType(t, l.T)
		if !ok {
			return nil, fmt.Errorf("types %s and %s cannot be matched", sqlTypeName(t), sqlTypeName(l.T))
		}
		t = ct
	}
	return t, nil
}

// castAll converts every expression to t.
func castAll(exprs []logical.Expr, t arrow.DataType) ([]logical.Expr, error) {
	out := make([]logical.Expr, len(exprs))
	for i, e := range exprs {
		c, err := castTo(e, t)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// compare builds a comparison with coerced operands.
func compare(fn string, l, r logical.Expr) (logical.Expr, error) {
	t, err := unify([]logical.Expr{l, r})
	if err != nil {
		return nil, fmt.Errorf("cannot compare %s with %s: %w", sqlTypeName(l.Type()), sqlTypeName(r.Type()), err)
	}
	args, err := castAll([]logical.Expr{l, r}, t)
	if err != nil {
		return nil, err
	}
	return boolCall(fn, args...), nil
}

// variadicCommon builds fn(args...) with every argument of one common type
// (coalesce, greatest, least).
func variadicCommon(fn string, args []logical.Expr) (logical.Expr, error) {
	t, err := unify(args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	args, err = castAll(args, t)
	if err != nil {
		return nil, err
	}
	nullable := true
	if fn == "coalesce" {
		nullable = false
		for _, a := range args {
			nullable = a.Nullable()
			if !nullable {
				break
			}
		}
	} else {
		nullable = false
		for _, a := range args {
			nullable = nullable || a.Nullable()
		}
	}
	return &logical.Call{Func: fn, Args: args, T: t, NullableOut: nullable}, nil
}

func (b *binder) aExpr(x *pg.A_Expr, c *exprCtx) (logical.Expr, error) {
	op := ""
	if len(x.Name) > 0 {
		op = strVal(x.Name[len(x.Name)-1])
	}
	switch x.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		if x.Lexpr == nil {
			r, err := b.expr(x.Rexpr, c)
			if err != nil {
				return nil, err
			}
			switch op {
			case "-":
				return negate(r)
			case "+":
				if !logical.IsNumeric(r.Type()) {
					return nil, fmt.Errorf("operator does not exist: +%s", sqlTypeName(r.Type()))
				}
				return r, nil
			case "~":
				return bitwiseNot(r)
			}
			return nil, notSupported("prefix operator %s", op)
		}
		l, err := b.expr(x.Lexpr, c)
		if err != nil {
			return nil, err
		}
		r, err := b.expr(x.Rexpr, c)
		if err != nil {
			return nil, err
		}
		return binaryOp(op, l, r)
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		l, r, err := b.pair(x, c)
		if err != nil {
			return nil, err
		}
		fn := "is_distinct_from"
		if x.Kind == pg.A_Expr_Kind_AEXPR_NOT_DISTINCT {
			fn = "is_not_distinct_from"
		}
		e, err := compare(fn, l, r)
		if err != nil {
			return nil, err
		}
		e.(*logical.Call).NullableOut = false
		return e, nil
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		l, r, err := b.pair(x, c)
		if err != nil {
			return nil, err
		}
		t, err := unify([]logical.Expr{l, r})
		if err != nil {
			return nil, fmt.Errorf("NULLIF: %w", err)
		}
		args, err := castAll([]logical.Expr{l, r}, t)
		if err != nil {
			return nil, err
		}
		return &logical.Call{Func: "nullif", Args: args, T: t, NullableOut: true}, nil
	case pg.A_Expr_Kind_AEXPR_IN:
		l, err := b.expr(x.Lexpr, c)
		if err != nil {
			return nil, err
		}
		list, ok := x.Rexpr.Node.(*pg.Node_List)
		if !ok {
			return nil, notSupported("IN with a non-list right side")
		}
		items, err := b.exprs(list.List.Items, c)
		if err != nil {
			return nil, err
		}
		return In(l, items, op == "<>")
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		return b.like(x, op, c)
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN,
		pg.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		return b.between(x, c)
	case pg.A_Expr_Kind_AEXPR_OP_ANY, pg.A_Expr_Kind_AEXPR_OP_ALL:
		return nil, notSupported("%s ANY/ALL over arrays", op)
	case pg.A_Expr_Kind_AEXPR_SIMILAR:
		return nil, notSupported("SIMILAR TO")
	}
	return nil, notSupported("operator %s", op)
}

func (b *binder) pair(x *pg.A_Expr, c *exprCtx) (logical.Expr, logical.Expr, error) {
	l, err := b.expr(x.Lexpr, c)
	if err != nil {
		return nil, nil, err
	}
	r, err := b.expr(x.Rexpr, c)
	if err != nil {
		return nil, nil, err
	}
	return l, r, nil
}

// binaryOp binds a binary operator.
func binaryOp(op string, l, r logical.Expr) (logical.Expr, error) {
	if fn, ok := cmpFuncs[op]; ok {
		return compare(fn, l, r)
	}
	if fn, ok := arithFuncs[op]; ok {
		return arith(fn, l, r)
	}
	switch op {
	case "||":
		return concatOp(l, r)
	case "~~", "!~~", "~~*", "!~~*":
		fn := "like"
		if strings.Contains(op, "*") {
			fn = "ilike"
		}
		e, err := likeCall(fn, l, r, "")
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(op, "!") {
			return boolCall("not", e), nil
		}
		return e, nil
	case "~", "!~":
		args, err := stringArgs("regexp_match", l, r)
		if err != nil {
			return nil, err
		}
		e := boolCall("regexp_match", args...)
		if op == "!~" {
			return boolCall("not", e), nil
		}
		return e, nil
	case "^":
		return mathCall("power", l, r)
	case "&", "|", "#", "<<", ">>":
		return bitwiseOp(op, l, r)
	}
	return nil, notSupported("operator %s", op)
}

// negate binds unary minus, folding literals.
func negate(e logical.Expr) (logical.Expr, error) {
	if l, ok := e.(*logical.Literal); ok && l.Value != nil {
		switch v := l.Value.(type) {
		case int32:
			return &logical.Literal{Value: -v, T: l.T}, nil
		case int64:
			return &logical.Literal{Value: -v, T: l.T}, nil
		case float64:
			return &logical.Literal{Value: -v, T: l.T}, nil
		case arrow.MonthDayNanoInterval:
			return &logical.Literal{Value: arrow.MonthDayNanoInterval{Months: -v.Months, Days: -v.Days, Nanoseconds: -v.Nanoseconds}, T: l.T}, nil
		}
		if v, s, ok := literalDecimal(l); ok {
			p, _, _ := logical.DecimalParams(l.T)
			return newDecimalLiteral(v.Neg(v), p, s)
		}
	}
	if !logical.IsNumeric(e.Type()) && e.Type().ID() != arrow.INTERVAL_MONTH_DAY_NANO {
		return nil, fmt.Errorf("operator does not exist: -%s", sqlTypeName(e.Type()))
	}
	return &logical.Call{Func: "negate", Args: []logical.Expr{e}, T: e.Type(), NullableOut: e.Nullable()}, nil
}

// arith binds an arithmetic operator.
func arith(fn string, l, r logical.Expr) (logical.Expr, error) {
	lt, rt := l.Type(), r.Type()
	nullable := l.Nullable() || r.Nullable()
	// Untyped string literals take the other operand's type.
	if ll, ok := l.(*logical.Literal); ok && logical.IsString(lt) && !logical.IsString(rt) {
		c, err := castTo(ll, rt)
		if err != nil {
			return nil, err
		}
		l, lt = c, rt
	}
	if rl, ok := r.(*logical.Literal); ok && logical.IsString(rt) && !logical.IsString(lt) {
		c, err := castTo(rl, lt)
		if err != nil {
			return nil, err
		}
		r, rt = c, lt
	}
	if isNullType(lt) {
		l, lt = logical.NullLiteral(rt), rt
	}
	if isNullType(rt) {
		r, rt = logical.NullLiteral(lt), lt
	}
	// Date and time arithmetic.
	if logical.IsTemporal(lt) || logical.IsTemporal(rt) || lt.ID() == arrow.INTERVAL_MONTH_DAY_NANO || rt.ID() == arrow.INTERVAL_MONTH_DAY_NANO {
		return dateArith(fn, l, r)
	}
	if !logical.IsNumeric(lt) || !logical.IsNumeric(rt) {
		return nil, fmt.Errorf("operator does not exist: %s %s %s", sqlTypeName(lt), fn, sqlTypeName(rt))
	}
	call := func(t arrow.DataType, a, b logical.Expr) logical.Expr {
		if f := foldArith(fn, t, a, b); f != nil {
			return f
		}
		return &logical.Call{Func: fn, Args: []logical.Expr{a, b}, T: t, NullableOut: nullable}
	}
	switch {
	case logical.IsFloat(lt) || logical.IsFloat(rt):
		t := logical.Float64
		if lt.ID() == arrow.FLOAT32 && rt.ID() == arrow.FLOAT32 {
			t = arrow.PrimitiveTypes.Float32
		}
		a, err := castTo(l, t)
		if err != nil {
			return nil, err
		}
		b, err := castTo(r, t)
		if err != nil {
			return nil, err
		}
		return call(t, a, b), nil
	case logical.IsDecimal(lt) || logical.IsDecimal(rt):
		a, err := intToDecimal(l)
		if err != nil {
			return nil, err
		}
		b, err := intToDecimal(r)
		if err != nil {
			return nil, err
		}
		p1, s1, _ := logical.DecimalParams(a.Type())
		p2, s2, _ := logical.DecimalParams(b.Type())
		p, s := logical.DecimalResultType(fn, p1, s1, p2, s2)
		return call(logical.DecimalType(p, s), a, b), nil
	default:
		t, err := unify([]logical.Expr{l, r})
		if err != nil {
			return nil, err
		}
		a, err := castTo(l, t)
		if err != nil {
			return nil, err
		}
		b, err := castTo(r, t)
		if err != nil {
			return nil, err
		}
		return call(t, a, b), nil
	}
}

// intToDecimal converts an integer operand of decimal arithmetic: a literal
// becomes decimal(digits, 0), an expression decimal(width of its type, 0).
func intToDecimal(e logical.Expr) (logical.Expr, error) {
	if logical.IsDecimal(e.Type()) {
		return e, nil
	}
	if l, ok := e.(*logical.Literal); ok {
		if v, s, ok := literalDecimal(l); ok && l.Value != nil {
			p := int32(len(new(big.Int).Abs(v).String()))
			return newDecimalLiteral(v, max(p, 1), s)
		}
	}
	return castTo(e, logical.DecimalType(intDigits(e.Type()), 0))
}

// dateArith binds +/- over dates, timestamps and intervals, folding
// literal operands.
func dateArith(fn string, l, r logical.Expr) (logical.Expr, error) {
	lt, rt := l.Type(), r.Type()
	nullable := l.Nullable() || r.Nullable()
	isIv := func(t arrow.DataType) bool { return t.ID() == arrow.INTERVAL_MONTH_DAY_NANO }
	// integer days next to a date: date + 5
	if lt.ID() == arrow.DATE32 && logical.IsInteger(rt) {
		if rl, ok := r.(*logical.Literal); ok && rl.Value != nil {
			v, _, _ := literalDecimal(rl)
			r = &logical.Literal{Value: arrow.MonthDayNanoInterval{Days: int32(v.Int64())}, T: logical.Interval}
			rt = logical.Interval
		} else {
			return nil, notSupported("date %s integer expression (use an interval)", fn)
		}
	}
	switch {
	case fn == "add" && isIv(lt) && logical.IsTemporal(rt):
		return dateArith(fn, r, l)
	case (fn == "add" || fn == "subtract") && logical.IsTemporal(lt) && isIv(rt):
		if f := foldDateArith(fn, l, r); f != nil {
			return f, nil
		}
		t := lt
		if rl, ok := r.(*logical.Literal); ok && lt.ID() == arrow.DATE32 {
			if iv, ok := rl.Value.(arrow.MonthDayNanoInterval); ok && iv.Nanoseconds != 0 {
				t = logical.TimestampUs
			}
		}
		return &logical.Call{Func: fn, Args: []logical.Expr{l, r}, T: t, NullableOut: nullable}, nil
	case fn == "subtract" && lt.ID() == arrow.DATE32 && rt.ID() == arrow.DATE32:
		return &logical.Call{Func: fn, Args: []logical.Expr{l, r}, T: arrow.PrimitiveTypes.Int32, NullableOut: nullable}, nil
	case (fn == "add" || fn == "subtract") && isIv(lt) && isIv(rt):
		ll, ok1 := l.(*logical.Literal)
		rl, ok2 := r.(*logical.Literal)
		if ok1 && ok2 && ll.Value != nil && rl.Value != nil {
			a, b := ll.Value.(arrow.MonthDayNanoInterval), rl.Value.(arrow.MonthDayNanoInterval)
			if fn == "subtract" {
				b = arrow.MonthDayNanoInterval{Months: -b.Months, Days: -b.Days, Nanoseconds: -b.Nanoseconds}
			}
			return &logical.Literal{Value: arrow.MonthDayNanoInterval{Months: a.Months + b.Months, Days: a.Days + b.Days, Nanoseconds: a.Nanoseconds + b.Nanoseconds}, T: logical.Interval}, nil
		}
		if fn == "subtract" {
			var err error
			if r, err = negate(r); err != nil {
				return nil, err
			}
		}
		return &logical.Call{Func: "add_intervals", Args: []logical.Expr{l, r}, T: logical.Interval, NullableOut: nullable}, nil
	}
	return nil, fmt.Errorf("operator does not exist: %s %s %s", sqlTypeName(lt), fn, sqlTypeName(rt))
}

// mathCall builds a numeric function over float64 operands.
func mathCall(fn string, args ...logical.Expr) (logical.Expr, error) {
	out := make([]logical.Expr, len(args))
	nullable := false
	for i, a := range args {
		if !logical.IsNumeric(a.Type()) && !isNullType(a.Type()) {
			return nil, fmt.Errorf("%s expects numeric arguments, got %s", fn, sqlTypeName(a.Type()))
		}
		c, err := castTo(a, logical.Float64)
		if err != nil {
			return nil, err
		}
		out[i] = c
		nullable = nullable || a.Nullable()
	}
	return &logical.Call{Func: fn, Args: out, T: logical.Float64, NullableOut: nullable}, nil
}

// stringArgs converts the arguments of a string function to utf8.
func stringArgs(fn string, args ...logical.Expr) ([]logical.Expr, error) {
	out := make([]logical.Expr, len(args))
	for i, a := range args {
		switch {
		case logical.IsString(a.Type()) && a.Type().ID() != arrow.STRING:
			out[i] = &logical.Cast{Input: a, T: logical.Utf8}
		case logical.IsString(a.Type()):
			out[i] = a
		case isNullType(a.Type()):
			out[i] = logical.NullLiteral(logical.Utf8)
		default:
			return nil, fmt.Errorf("function %s expects text arguments, got %s", fn, sqlTypeName(a.Type()))
		}
	}
	return out, nil
}

// concatOp binds a || b: NULL when either side is NULL; non-string
// operands are cast to text.
func concatOp(l, r logical.Expr) (logical.Expr, error) {
	args := []logical.Expr{l, r}
	nullable := false
	for i, a := range args {
		if !logical.IsString(a.Type()) {
			c, err := castTo(a, logical.Utf8)
			if err != nil {
				return nil, err
			}
			args[i] = c
		} else if a.Type().ID() != arrow.STRING {
			args[i] = &logical.Cast{Input: a, T: logical.Utf8}
		}
		nullable = nullable || a.Nullable()
	}
	return &logical.Call{Func: "concat", Args: args, T: logical.Utf8, NullableOut: nullable}, nil
}

// likeCall builds like/ilike with an optional escape character.
func likeCall(fn string, l, r logical.Expr, escape string) (logical.Expr, error) {
	args, err := stringArgs(fn, l, r)
	if err != nil {
		return nil, err
	}
	c := boolCall(fn, args...)
	if escape != "" {
		c.Options = map[string]string{"escape": escape}
	}
	return c, nil
}

func (b *binder) like(x *pg.A_Expr, op string, c *exprCtx) (logical.Expr, error) {
	l, err := b.expr(x.Lexpr, c)
	if err != nil {
		return nil, err
	}
	pattern := x.Rexpr
	escape := ""
	if fc, ok := pattern.Node.(*pg.Node_FuncCall); ok && len(fc.FuncCall.Funcname) > 0 &&
		strVal(fc.FuncCall.Funcname[len(fc.FuncCall.Funcname)-1]) == "like_escape" && len(fc.FuncCall.Args) == 2 {
		pattern = fc.FuncCall.Args[0]
		esc, err := b.expr(fc.FuncCall.Args[1], c)
		if err != nil {
			return nil, err
		}
		el, ok := esc.(*logical.Literal)
		s, isStr := "", false
		if ok {
			s, isStr = el.Value.(string)
		}
		if !isStr || len([]rune(s)) > 1 {
			return nil, fmt.Errorf("ESCAPE must be a single-character string constant")
		}
		// ESCAPE '' means no escape character: the engine's default.
		escape = s
	}
	r, err := b.expr(pattern, c)
	if err != nil {
		return nil, err
	}
	fn := "like"
	if x.Kind == pg.A_Expr_Kind_AEXPR_ILIKE {
		fn = "ilike"
	}
	e, err := likeCall(fn, l, r, escape)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(op, "!") {
		return boolCall("not", e), nil
	}
	return e, nil
}

// between binds [NOT] BETWEEN [SYMMETRIC]. A column (or other simple
// operand) becomes two comparisons, which predicate pushdown and
// statistics pruning understand; a computed operand uses the between
// function so it is evaluated once.
func (b *binder) between(x *pg.A_Expr, c *exprCtx) (logical.Expr, error) {
	v, err := b.expr(x.Lexpr, c)
	if err != nil {
		return nil, err
	}
	list, ok := x.Rexpr.Node.(*pg.Node_List)
	if !ok || len(list.List.Items) != 2 {
		return nil, fmt.Errorf("BETWEEN needs two bounds")
	}
	bounds, err := b.exprs(list.List.Items, c)
	if err != nil {
		return nil, err
	}
	t, err := unify([]logical.Expr{v, bounds[0], bounds[1]})
	if err != nil {
		return nil, fmt.Errorf("BETWEEN: %w", err)
	}
	all, err := castAll([]logical.Expr{v, bounds[0], bounds[1]}, t)
	if err != nil {
		return nil, err
	}
	v, lo, hi := all[0], all[1], all[2]
	one := func(lo, hi logical.Expr) logical.Expr {
		switch v.(type) {
		case *logical.ColumnRef, *outerRef:
			return logical.And(boolCall("gte", v, lo), boolCall("lte", v, hi))
		}
		return boolCall("between", v, lo, hi)
	}
	var e logical.Expr
	switch x.Kind {
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		e = one(lo, hi)
	default:
		e = boolCall("or", one(lo, hi), one(hi, lo))
	}
	if x.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN || x.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM {
		e = boolCall("not", e)
	}
	return e, nil
}

func (b *binder) caseExpr(x *pg.CaseExpr, c *exprCtx) (logical.Expr, error) {
	var arg logical.Expr
	if x.Arg != nil {
		var err error
		if arg, err = b.expr(x.Arg, c); err != nil {
			return nil, err
		}
	}
	var conds, thens []logical.Expr
	for _, w := range x.Args {
		cw, ok := w.Node.(*pg.Node_CaseWhen)
		if !ok {
			return nil, fmt.Errorf("malformed CASE")
		}
		cond, err := b.expr(cw.CaseWhen.Expr, c)
		if err != nil {
			return nil, err
		}
		if arg != nil {
			if cond, err = compare("equal", arg, cond); err != nil {
				return nil, b.errAt(cw.CaseWhen.Location, fmt.Errorf("CASE: %w", err))
			}
		} else if cond, err = toBool(cond, "CASE/WHEN"); err != nil {
			return nil, b.errAt(cw.CaseWhen.Location, err)
		}
		then, err := b.expr(cw.CaseWhen.Result, c)
		if err != nil {
			return nil, err
		}
		conds = append(conds, cond)
		thens = append(thens, then)
	}
	var els logical.Expr
	if x.Defresult != nil {
		var err error
		if els, err = b.expr(x.Defresult, c); err != nil {
			return nil, err
		}
	}
	out, err := CaseWhen(conds, thens, els)
	if err != nil {
		return nil, b.errAt(x.Location, err)
	}
	return out, nil
}

// foldArith computes integer and decimal arithmetic over two non-NULL
// literals at bind time (so `0.06 - 0.01` is one constant that predicate
// pushdown and statistics pruning can use). Division of decimals, division
// by zero and overflow are left to run time. t is the result type.
func foldArith(fn string, t arrow.DataType, a, b logical.Expr) logical.Expr {
	la, ok1 := a.(*logical.Literal)
	lb, ok2 := b.(*logical.Literal)
	if !ok1 || !ok2 || la.Value == nil || lb.Value == nil {
		return nil
	}
	if fa, ok := la.Value.(float64); ok {
		fb, ok := lb.Value.(float64)
		if !ok {
			return nil
		}
		var r float64
		switch fn {
		case "add":
			r = fa + fb
		case "subtract":
			r = fa - fb
		case "multiply":
			r = fa * fb
		case "divide":
			if fb == 0 {
				return nil
			}
			r = fa / fb
		default:
			return nil
		}
		return &logical.Literal{Value: r, T: t}
	}
	va, sa, ok1 := literalDecimal(la)
	vb, sb, ok2 := literalDecimal(lb)
	if !ok1 || !ok2 {
		return nil
	}
	var r *big.Int
	var rs int32
	switch fn {
	case "add", "subtract":
		rs = max(sa, sb)
		x, _ := rescale(va, sa, rs)
		y, _ := rescale(vb, sb, rs)
		if fn == "add" {
			r = new(big.Int).Add(x, y)
		} else {
			r = new(big.Int).Sub(x, y)
		}
	case "multiply":
		r, rs = new(big.Int).Mul(va, vb), sa+sb
	case "divide", "modulus":
		if logical.IsDecimal(t) || vb.Sign() == 0 {
			return nil
		}
		if fn == "divide" {
			r = new(big.Int).Quo(va, vb)
		} else {
			r = new(big.Int).Rem(va, vb)
		}
	default:
		return nil
	}
	if p, s, ok := logical.DecimalParams(t); ok {
		v, exact := rescale(r, rs, s)
		if !exact {
			return nil
		}
		out, err := newDecimalLiteral(v, p, s)
		if err != nil {
			return nil
		}
		return out
	}
	if !r.IsInt64() {
		return nil
	}
	out, err := intLiteral(r.Int64(), t, true)
	if err != nil || out == nil {
		return nil
	}
	return out
}
