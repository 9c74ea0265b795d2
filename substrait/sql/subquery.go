package sql

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Subqueries are decorrelated while binding. A subquery block records the
// conjuncts of its WHERE clause that reference the enclosing query (the
// correlation) instead of filtering with them, and outputs the columns
// those conjuncts need after its select list. The enclosing block then
// joins the subquery's plan with the correlation as the join condition:
//
//	[NOT] EXISTS           semi / anti join
//	x IN, x op ANY         semi join on x op y
//	x NOT IN               null-aware anti join on x = y
//	x op ALL               anti join on (x op y) IS NOT TRUE
//	scalar subquery        cross join (uncorrelated aggregate: one row),
//	                       left join (correlated aggregate, grouped by the
//	                       correlation keys; inner when a comparison rejects
//	                       its NULL), single join otherwise
//	elsewhere (OR, SELECT) mark join whose __mark column is the value
//
// A correlated aggregate without GROUP BY yields one row per outer row even
// when no inner row matches (count is then 0): the left join gives NULL
// for those rows, and a CASE on the join's match restores the empty-group
// value (the COUNT bug).

// subqueryInfo collects what the binding of a subquery block learns.
type subqueryInfo struct {
	// exists is set by the caller: only the existence of rows matters.
	exists bool
	// corr are the correlation predicates, over the subquery plan's output
	// (ColumnRef) and the enclosing scope (outerRef).
	corr []logical.Expr
	// width is the number of select-list columns (correlation columns
	// follow them).
	width int
	// oneRow: uncorrelated aggregate without GROUP BY; exactly one row.
	oneRow bool
	// grouped: correlated aggregate without GROUP BY, grouped by the
	// correlation keys; at most one row per outer row.
	grouped bool
	// emptyValue is the value of column 0 for outer rows without a match
	// (nil: NULL); markerCol is a subquery column that is non-NULL in
	// every row it produces.
	emptyValue logical.Expr
	markerCol  int
}

type subqKind int

const (
	subqExists subqKind = iota
	subqAny
	subqAll
	subqScalar
)

// subqueryExpr stands for a subquery inside an expression until the block
// that contains it joins the subquery in.
type subqueryExpr struct {
	kind subqKind
	op   string       // comparison function for ANY / ALL
	test logical.Expr // left operand of IN / ANY / ALL
	plan logical.Plan
	info *subqueryInfo
	id   int
}

func (s *subqueryExpr) Type() arrow.DataType {
	if s.kind == subqScalar {
		return s.plan.Schema().Fields[0].Type
	}
	return logical.Bool
}
func (s *subqueryExpr) Nullable() bool { return s.kind != subqExists }
func (s *subqueryExpr) String() string { return fmt.Sprintf("subquery#%d", s.id) }

// mapOuter rewrites the expressions of s that refer to the enclosing block
// (its test and the outer side of its correlation) with f; f must map a
// column to a column.
func (s *subqueryExpr) mapOuter(f func(logical.Expr) (logical.Expr, error)) (logical.Expr, error) {
	c := *s
	var err error
	if s.test != nil {
		if c.test, err = f(s.test); err != nil {
			return nil, err
		}
	}
	info := *s.info
	info.corr = make([]logical.Expr, len(s.info.corr))
	for i, p := range s.info.corr {
		q, err := logical.TransformExpr(p, func(n logical.Expr) (logical.Expr, error) {
			o, ok := n.(*outerRef)
			if !ok {
				return n, nil
			}
			m, err := f(&logical.ColumnRef{Index: o.Index, Name: o.Name, T: o.T, CanBeNull: o.CanBeNull})
			if err != nil {
				return nil, fmt.Errorf("subquery uses ungrouped column %q from outer query", o.Name)
			}
			cr, ok := m.(*logical.ColumnRef)
			if !ok {
				return nil, fmt.Errorf("subquery uses ungrouped column %q from outer query", o.Name)
			}
			return &outerRef{Index: cr.Index, Name: cr.Name, T: cr.T, CanBeNull: cr.CanBeNull}, nil
		})
		if err != nil {
			return nil, err
		}
		info.corr[i] = q
	}
	c.info = &info
	return &c, nil
}

// subLink binds a subquery expression.
func (b *binder) subLink(sl *pg.SubLink, c *exprCtx) (logical.Expr, error) {
	if !c.subqOK || c.inAgg {
		return nil, notSupported("subqueries in %s", c.clause)
	}
	sel := sl.Subselect.GetSelectStmt()
	if sel == nil {
		return nil, fmt.Errorf("malformed subquery")
	}
	var kind subqKind
	switch sl.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		kind = subqExists
	case pg.SubLinkType_ANY_SUBLINK:
		kind = subqAny
	case pg.SubLinkType_ALL_SUBLINK:
		kind = subqAll
	case pg.SubLinkType_EXPR_SUBLINK:
		kind = subqScalar
	default:
		return nil, notSupported("%s subqueries", sl.SubLinkType)
	}
	info := &subqueryInfo{exists: kind == subqExists}
	se := &env{outer: c.sc, sub: info}
	if c.env != nil {
		se.ctes = c.env.ctes
		se.far = c.env.far
		if c.env.outer != nil {
			se.far = append(append([]*scope(nil), c.env.far...), c.env.outer)
		}
	}
	plan, err := b.bindQuery(sel, se)
	if err != nil {
		return nil, err
	}
	plainBlock := (sel.Op == pg.SetOperation_SETOP_NONE || sel.Op == pg.SetOperation_SET_OPERATION_UNDEFINED) && len(sel.ValuesLists) == 0
	if !plainBlock {
		info.width = plan.Schema().Len()
	}
	b.nextID++
	sq := &subqueryExpr{kind: kind, plan: plan, info: info, id: b.nextID}
	if kind != subqExists && info.width != 1 {
		return nil, fmt.Errorf("subquery must return only one column, not %d", info.width)
	}
	if kind == subqAny || kind == subqAll {
		if _, isRow := sl.Testexpr.Node.(*pg.Node_RowExpr); isRow {
			return nil, notSupported("row comparison with a subquery")
		}
		op := "="
		if len(sl.OperName) > 0 {
			op = strVal(sl.OperName[len(sl.OperName)-1])
		}
		fn, ok := cmpFuncs[op]
		if !ok {
			return nil, notSupported("operator %s with ANY/ALL", op)
		}
		test, err := b.expr(sl.Testexpr, c)
		if err != nil {
			return nil, err
		}
		// Check the comparison types now; the join builds it later.
		if _, err := compare(fn, test, logical.Col(plan.Schema(), 0)); err != nil {
			return nil, err
		}
		sq.op, sq.test = fn, test
	}
	return sq, nil
}

// corrOn turns a subquery's correlation into a join condition for a join
// whose left side has width lw.
func corrOn(sq *subqueryExpr, lw int) (logical.Expr, error) {
	var parts []logical.Expr
	for _, p := range sq.info.corr {
		q, err := logical.TransformExpr(p, func(n logical.Expr) (logical.Expr, error) {
			switch x := n.(type) {
			case *logical.ColumnRef:
				c := *x
				c.Index += lw
				return &c, nil
			case *outerRef:
				return &logical.ColumnRef{Index: x.Index, Name: x.Name, T: x.T, CanBeNull: x.CanBeNull}, nil
			}
			return n, nil
		})
		if err != nil {
			return nil, err
		}
		parts = append(parts, q)
	}
	return logical.And(parts...), nil
}

// subqueryValue is the subquery's first column as seen from the join.
func subqueryValue(sq *subqueryExpr, lw int) *logical.ColumnRef {
	f := sq.plan.Schema().Fields[0]
	return &logical.ColumnRef{Index: lw, Name: f.Name, T: f.Type, CanBeNull: f.Nullable}
}

// applyFilter filters plan by conjuncts: plain ones first, then the
// subqueries (as joins), then what remains of conjuncts with subqueries.
func (b *binder) applyFilter(plan logical.Plan, conjs []logical.Expr) (logical.Plan, error) {
	var plain, withSub []logical.Expr
	for _, c := range conjs {
		if containsSubquery(c) {
			withSub = append(withSub, c)
		} else if l, ok := c.(*logical.Literal); !ok || l.Value != true {
			plain = append(plain, c)
		}
	}
	if len(plain) > 0 {
		plan = &logical.Filter{Input: plan, Cond: logical.And(plain...)}
	}
	var rest []logical.Expr
	for _, c := range withSub {
		p, ok, err := b.subqueryJoin(plan, c)
		if err != nil {
			return nil, err
		}
		if ok {
			plan = p
			continue
		}
		p, e, err := b.replaceSubqueries(plan, c, nullRejectedScalars(c))
		if err != nil {
			return nil, err
		}
		plan = p
		rest = append(rest, e)
	}
	if len(rest) > 0 {
		plan = &logical.Filter{Input: plan, Cond: logical.And(rest...)}
	}
	return plan, nil
}

// nullRejectedScalars finds the grouped scalar subqueries that are direct
// operands of a comparison conjunct: a NULL from them rejects the row, so
// an inner join can replace the left join.
func nullRejectedScalars(c logical.Expr) map[*subqueryExpr]bool {
	call, ok := c.(*logical.Call)
	if !ok || !isComparison(call.Func) {
		return nil
	}
	out := map[*subqueryExpr]bool{}
	for _, a := range call.Args {
		for {
			cast, ok := a.(*logical.Cast)
			if !ok {
				break
			}
			a = cast.Input
		}
		if sq, ok := a.(*subqueryExpr); ok && sq.kind == subqScalar && sq.info.grouped && sq.info.emptyValue == nil {
			out[sq] = true
		}
	}
	return out
}

// subqueryJoin handles a WHERE conjunct that is a whole [NOT] EXISTS / IN
// / ANY / ALL subquery with a semi or anti join.
func (b *binder) subqueryJoin(plan logical.Plan, c logical.Expr) (logical.Plan, bool, error) {
	neg := false
	if call, ok := c.(*logical.Call); ok && call.Func == "not" && len(call.Args) == 1 {
		c, neg = call.Args[0], true
	}
	sq, ok := c.(*subqueryExpr)
	if !ok || sq.kind == subqScalar || (sq.test != nil && containsSubquery(sq.test)) {
		return nil, false, nil
	}
	lw := plan.Schema().Len()
	on, err := corrOn(sq, lw)
	if err != nil {
		return nil, false, err
	}
	join := func(t logical.JoinType, cond logical.Expr, nullAware bool) (logical.Plan, bool, error) {
		j := logical.NewJoin(plan, sq.plan, t, cond)
		j.NullAware = nullAware
		return j, true, nil
	}
	cmp := func(fn string) (logical.Expr, error) { return compare(fn, sq.test, subqueryValue(sq, lw)) }
	switch sq.kind {
	case subqExists:
		if neg {
			return join(logical.JoinAnti, on, false)
		}
		return join(logical.JoinSemi, on, false)
	case subqAny:
		x, err := cmp(sq.op)
		if err != nil {
			return nil, false, err
		}
		switch {
		case !neg:
			return join(logical.JoinSemi, logical.And(x, on), false)
		case sq.op == "equal": // NOT IN
			return join(logical.JoinAnti, logical.And(x, on), true)
		default: // NOT (x op ANY s): no y for which x op y is true or unknown
			return join(logical.JoinAnti, logical.And(on, boolCall("is_not_false", x)), false)
		}
	case subqAll:
		if !neg {
			if sq.op == "not_equal" { // <> ALL is NOT IN
				x, err := cmp("equal")
				if err != nil {
					return nil, false, err
				}
				return join(logical.JoinAnti, logical.And(x, on), true)
			}
			x, err := cmp(sq.op)
			if err != nil {
				return nil, false, err
			}
			return join(logical.JoinAnti, logical.And(on, boolCall("is_not_true", x)), false)
		}
		// NOT (x op ALL s): some y for which x op y is false.
		x, err := cmp(negatedComparison[sq.op])
		if err != nil {
			return nil, false, err
		}
		return join(logical.JoinSemi, logical.And(x, on), false)
	}
	return nil, false, nil
}

// replaceSubqueries joins every subquery of e into plan and replaces it
// with the column that carries its value. Scalar subqueries listed in
// innerOK may use an inner join.
func (b *binder) replaceSubqueries(plan logical.Plan, e logical.Expr, innerOK map[*subqueryExpr]bool) (logical.Plan, logical.Expr, error) {
	if !containsSubquery(e) {
		return plan, e, nil
	}
	out, err := logical.TransformExpr(e, func(n logical.Expr) (logical.Expr, error) {
		sq, ok := n.(*subqueryExpr)
		if !ok {
			return n, nil
		}
		if sq.test != nil && containsSubquery(sq.test) {
			p, t, err := b.replaceSubqueries(plan, sq.test, nil)
			if err != nil {
				return nil, err
			}
			plan = p
			c := *sq
			c.test = t
			sq = &c
		}
		lw := plan.Schema().Len()
		on, err := corrOn(sq, lw)
		if err != nil {
			return nil, err
		}
		mark := func(cond logical.Expr) logical.Expr {
			j := logical.NewJoin(plan, sq.plan, logical.JoinMark, cond)
			plan = j
			return logical.Col(j.Schema(), lw)
		}
		switch sq.kind {
		case subqExists:
			m := mark(on)
			if on == nil {
				return m, nil
			}
			// A NULL correlation condition means "no match" for EXISTS.
			return &logical.Call{Func: "coalesce", Args: []logical.Expr{m, &logical.Literal{Value: false, T: logical.Bool}}, T: logical.Bool}, nil
		case subqAny:
			x, err := compare(sq.op, sq.test, subqueryValue(sq, lw))
			if err != nil {
				return nil, err
			}
			return mark(logical.And(x, on)), nil
		case subqAll:
			x, err := compare(negatedComparison[sq.op], sq.test, subqueryValue(sq, lw))
			if err != nil {
				return nil, err
			}
			return boolCall("not", mark(logical.And(x, on))), nil
		}
		var jt logical.JoinType
		switch {
		case sq.info.oneRow:
			jt = logical.JoinCross
		case on == nil:
			jt = logical.JoinSingle
		case sq.info.grouped && innerOK[sq]:
			jt = logical.JoinInner
		case sq.info.grouped:
			jt = logical.JoinLeft
		default:
			jt = logical.JoinSingle
		}
		j := logical.NewJoin(plan, sq.plan, jt, on)
		plan = j
		var val logical.Expr = logical.Col(j.Schema(), lw)
		if sq.info.emptyValue != nil && jt == logical.JoinLeft {
			empty, err := castTo(sq.info.emptyValue, val.Type())
			if err != nil {
				return nil, err
			}
			marker := logical.Col(j.Schema(), lw+sq.info.markerCol)
			val = &logical.Case{
				Whens: []logical.When{{Cond: &logical.Call{Func: "is_null", Args: []logical.Expr{marker}, T: logical.Bool}, Then: empty}},
				Else:  val,
				T:     val.Type(),
			}
		}
		return val, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return plan, out, nil
}
