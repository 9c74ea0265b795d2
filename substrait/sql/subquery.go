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
//	x NOT IN               null-aware anti join on x = y (correlated: anti
//	                       join on the correlation and x = y IS NOT FALSE)
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
// value (the COUNT bug). When its correlation is not a set of equalities,
// the rows to aggregate are first left-joined, on the correlation, to the
// distinct outer values it reads, and grouped by those values, which
// turns the correlation into equalities (deferCorrelation). EXISTS over
// such an aggregate is simply true.
//
// The select-list item of a subquery may read the enclosing row as well:
// the subquery then outputs the inner columns the item needs and the
// enclosing block computes the item over the join (see subqueryInfo.value).
//
// Every reference the joins and the enclosing block build is rebuilt from
// the schema it reads (rebase), so names, types and nullability (of an
// outer join's null-supplying side in particular) match the input.

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
	// items is the number of select-list items of the block.
	items int
	// value, when set, is the subquery's value computed after the join
	// because it reads the enclosing row: an expression over the
	// subquery's output (column references) and the enclosing block
	// (outer references). presentCol, when >= 0, is an output column
	// that is never NULL, to tell a missing row from a NULL value.
	value      logical.Expr
	presentCol int
	// nonEmpty: the block yields a row whatever the enclosing row (an
	// aggregate without GROUP BY or HAVING), so EXISTS is true.
	nonEmpty bool
	// keys, when set, is the placeholder in the plan for the enclosing
	// block's values of a correlated aggregate whose correlation is not a
	// set of equalities (see deferCorrelation).
	keys *outerKeys
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
		return s.valueType()
	}
	return logical.Bool
}

// valueType is the type of the subquery's (one column) result.
func (s *subqueryExpr) valueType() arrow.DataType {
	if s.info.value != nil {
		return s.info.value.Type()
	}
	return s.plan.Schema().Fields[0].Type
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
	mapExpr := func(p logical.Expr) (logical.Expr, error) {
		if p == nil {
			return nil, nil
		}
		return logical.TransformExpr(p, func(n logical.Expr) (logical.Expr, error) {
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
			return &outerRef{Steps: 1, Index: cr.Index, Name: cr.Name, T: cr.T, CanBeNull: cr.CanBeNull}, nil
		})
	}
	info.corr = make([]logical.Expr, len(s.info.corr))
	for i, p := range s.info.corr {
		if info.corr[i], err = mapExpr(p); err != nil {
			return nil, err
		}
	}
	if info.value, err = mapExpr(s.info.value); err != nil {
		return nil, err
	}
	if info.emptyValue, err = mapExpr(s.info.emptyValue); err != nil {
		return nil, err
	}
	if s.info.keys != nil {
		k := *s.info.keys
		k.refs = make([]*outerRef, len(s.info.keys.refs))
		for i, r := range s.info.keys.refs {
			m, err := mapExpr(r)
			if err != nil {
				return nil, err
			}
			k.refs[i] = m.(*outerRef)
		}
		info.keys = &k
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
	info := &subqueryInfo{exists: kind == subqExists, presentCol: -1}
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
		info.items = info.width
	}
	b.nextID++
	sq := &subqueryExpr{kind: kind, plan: plan, info: info, id: b.nextID}
	if kind != subqExists && info.items != 1 {
		return nil, fmt.Errorf("subquery must return only one column, not %d", info.items)
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
		if _, err := compare(fn, test, &logical.ColumnRef{Name: "subquery", T: sq.valueType(), CanBeNull: true}); err != nil {
			return nil, err
		}
		sq.op, sq.test = fn, test
	}
	return sq, nil
}

// corrOn turns a subquery's correlation into a join condition between
// left (the enclosing block's plan) and the subquery's plan.
func corrOn(sq *subqueryExpr, left *logical.Schema) (logical.Expr, error) {
	var parts []logical.Expr
	for _, p := range sq.info.corr {
		q, err := overJoin(p, left, sq.plan.Schema())
		if err != nil {
			return nil, err
		}
		parts = append(parts, q)
	}
	return logical.And(parts...), nil
}

// overJoin rewrites e, an expression over the subquery's output (column
// references) and the enclosing block (outer references), over a join of
// the enclosing plan (left) with the subquery (right): every reference is
// rebuilt from the field it reads, so it has that field's name, type and
// nullability, and calls over it widen their nullability to match.
func overJoin(e logical.Expr, left, right *logical.Schema) (logical.Expr, error) {
	return rebase(e, logical.Concat(left, right), left.Len(), true)
}

// rebase rebuilds the references of e over schema in: column reference i
// reads field i+shift and, with outer set, outer reference i reads field
// i (the enclosing plan comes first in in). Calls whose arguments became
// nullable become nullable.
func rebase(e logical.Expr, in *logical.Schema, shift int, outer bool) (logical.Expr, error) {
	return logical.TransformExpr(e, func(n logical.Expr) (logical.Expr, error) {
		idx := -1
		switch x := n.(type) {
		case *logical.ColumnRef:
			idx = x.Index + shift
		case *outerRef:
			if !outer {
				return n, nil
			}
			idx = x.Index
		case *logical.Call:
			if !x.NullableOut && callMayBeNull(x) {
				c := *x
				c.NullableOut = true
				return &c, nil
			}
			return n, nil
		default:
			return n, nil
		}
		if idx < 0 || idx >= in.Len() {
			return nil, fmt.Errorf("internal: reference %s outside its input (%d columns)", n, in.Len())
		}
		return logical.Col(in, idx), nil
	})
}

// callMayBeNull reports whether c can yield NULL given its arguments'
// nullability.
func callMayBeNull(c *logical.Call) bool {
	switch c.Func {
	case "is_null", "is_not_null", "is_distinct_from", "is_not_distinct_from",
		"is_true", "is_false", "is_not_true", "is_not_false":
		return false
	case "coalesce":
		for _, a := range c.Args {
			if !a.Nullable() {
				return false
			}
		}
		return len(c.Args) > 0
	}
	for _, a := range c.Args {
		if a.Nullable() {
			return true
		}
	}
	return false
}

// subqueryValue is the subquery's value as seen from the join condition of
// left with the subquery: its first column, or its value expression.
func subqueryValue(sq *subqueryExpr, left *logical.Schema) (logical.Expr, error) {
	if sq.info.value != nil {
		return overJoin(sq.info.value, left, sq.plan.Schema())
	}
	return logical.Col(logical.Concat(left, sq.plan.Schema()), left.Len()), nil
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
	sq, err := materialize(sq, plan)
	if err != nil {
		return nil, false, err
	}
	left := plan.Schema()
	on, err := corrOn(sq, left)
	if err != nil {
		return nil, false, err
	}
	join := func(t logical.JoinType, cond logical.Expr, nullAware bool) (logical.Plan, bool, error) {
		j := logical.NewJoin(plan, sq.plan, t, cond)
		j.NullAware = nullAware
		return j, true, nil
	}
	// notIn drops the left rows for which x (an equality) is true or
	// unknown for some subquery row. Uncorrelated, that is the null-aware
	// anti join on x. Correlated, only the rows the correlation selects
	// count (a NULL elsewhere in the subquery must not drop every row), so
	// the condition says it: the correlation and x IS NOT FALSE.
	notIn := func(x logical.Expr) (logical.Plan, bool, error) {
		if on == nil {
			return join(logical.JoinAnti, x, true)
		}
		return join(logical.JoinAnti, logical.And(on, boolCall("is_not_false", x)), false)
	}
	cmp := func(fn string) (logical.Expr, error) {
		v, err := subqueryValue(sq, left)
		if err != nil {
			return nil, err
		}
		return compare(fn, sq.test, v)
	}
	switch sq.kind {
	case subqExists:
		if sq.info.nonEmpty {
			if neg {
				return &logical.Filter{Input: plan, Cond: &logical.Literal{Value: false, T: logical.Bool}}, true, nil
			}
			return plan, true, nil
		}
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
			return notIn(x)
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
				return notIn(x)
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

// markCorrelation makes the correlation conditions of an IN/ANY/ALL mark
// join decide membership only: a row whose correlation condition is NULL
// is not in the subquery's set (WHERE semantics), so it must not turn the
// mark NULL. Equalities between columns stay as they are, to remain hash
// join keys.
func markCorrelation(on logical.Expr) logical.Expr {
	var out []logical.Expr
	for _, c := range logical.SplitConjunction(on) {
		if call, ok := c.(*logical.Call); ok && call.Func == "equal" {
			out = append(out, c)
			continue
		}
		if !c.Nullable() {
			out = append(out, c)
			continue
		}
		out = append(out, boolCall("is_true", c))
	}
	return logical.And(out...)
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
		rejectsNull := innerOK[sq]
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
		sq, err := materialize(sq, plan)
		if err != nil {
			return nil, err
		}
		left := plan.Schema()
		lw := left.Len()
		on, err := corrOn(sq, left)
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
			if sq.info.nonEmpty {
				return &logical.Literal{Value: true, T: logical.Bool}, nil
			}
			// A NULL correlation condition means "no match" for EXISTS
			// (and the mark is never NULL without a condition).
			m := mark(on)
			return &logical.Call{Func: "coalesce", Args: []logical.Expr{m, &logical.Literal{Value: false, T: logical.Bool}}, T: logical.Bool}, nil
		case subqAny:
			v, err := subqueryValue(sq, left)
			if err != nil {
				return nil, err
			}
			x, err := compare(sq.op, sq.test, v)
			if err != nil {
				return nil, err
			}
			return mark(logical.And(x, markCorrelation(on))), nil
		case subqAll:
			v, err := subqueryValue(sq, left)
			if err != nil {
				return nil, err
			}
			x, err := compare(negatedComparison[sq.op], sq.test, v)
			if err != nil {
				return nil, err
			}
			return boolCall("not", mark(logical.And(x, markCorrelation(on)))), nil
		}
		var jt logical.JoinType
		switch {
		case sq.info.oneRow:
			jt = logical.JoinCross
		case on == nil:
			jt = logical.JoinSingle
		case sq.info.grouped && rejectsNull && sq.info.value == nil:
			jt = logical.JoinInner
		case sq.info.grouped:
			jt = logical.JoinLeft
		default:
			jt = logical.JoinSingle
		}
		j := logical.NewJoin(plan, sq.plan, jt, on)
		plan = j
		var val logical.Expr = logical.Col(j.Schema(), lw)
		if sq.info.value != nil {
			if val, err = rebase(sq.info.value, j.Schema(), lw, true); err != nil {
				return nil, err
			}
			if jt == logical.JoinSingle && sq.info.presentCol >= 0 {
				// No row: NULL, whatever the expression makes of NULLs.
				present := logical.Col(j.Schema(), lw+sq.info.presentCol)
				val = &logical.Case{
					Whens: []logical.When{{Cond: boolCall("is_null", present), Then: logical.NullLiteral(val.Type())}},
					Else:  val,
					T:     val.Type(),
				}
			}
		}
		if sq.info.emptyValue != nil && jt == logical.JoinLeft {
			empty, err := rebase(sq.info.emptyValue, j.Schema(), lw, true)
			if err != nil {
				return nil, err
			}
			if empty, err = castTo(empty, val.Type()); err != nil {
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

// equiCorrelation reports whether every correlation predicate compares an
// inner expression with an outer one for equality (then the inner sides
// can simply become grouping keys).
func equiCorrelation(corr []logical.Expr) bool {
	for _, p := range corr {
		if _, _, fn, ok := splitCorrelation(p); !ok || fn != "equal" {
			return false
		}
	}
	return true
}

// outerKeys stands, inside the plan of a correlated aggregate subquery,
// for the distinct values of the enclosing block's columns that its
// correlation reads. It exists only while binding: the enclosing block
// replaces it with those values (materialize) when it joins the subquery.
type outerKeys struct {
	refs   []*outerRef // the enclosing block's columns, one per output column
	schema *logical.Schema
	// marker is the position, in the inner side of the join built over
	// the placeholder, of a column that is never NULL.
	marker int
}

func (o *outerKeys) Schema() *logical.Schema                    { return o.schema }
func (o *outerKeys) Children() []logical.Plan                   { return nil }
func (o *outerKeys) WithChildren(_ []logical.Plan) logical.Plan { return o }
func (o *outerKeys) String() string                             { return "OuterKeys (placeholder)" }

// deferCorrelation prepares a correlated aggregate whose correlation is
// not a set of equalities: inner (the rows to aggregate) is left-joined to
// a placeholder for the distinct outer values the correlation reads, on
// the correlation. The result is the plan to aggregate (grouped by the
// placeholder's columns, which come first) and the placeholder.
func (b *binder) deferCorrelation(inner logical.Plan, sub *subqueryInfo) (logical.Plan, *outerKeys, error) {
	keys := &outerKeys{schema: &logical.Schema{}}
	pos := map[int]int{} // outer index -> placeholder column
	for _, p := range sub.corr {
		walk(p, func(n logical.Expr) bool {
			o, ok := n.(*outerRef)
			if !ok {
				return true
			}
			if _, seen := pos[o.Index]; !seen {
				pos[o.Index] = len(keys.refs)
				keys.refs = append(keys.refs, o)
				keys.schema.Fields = append(keys.schema.Fields, logical.Field{Name: o.Name, Type: o.T, Nullable: o.CanBeNull})
			}
			return true
		})
	}
	// The inner rows with a marker that is never NULL: count(*) counts it,
	// so the NULL row the left join adds for an outer value without
	// matches counts as no row.
	is := inner.Schema()
	exprs := make([]logical.Expr, 0, is.Len()+1)
	names := make([]string, 0, is.Len()+1)
	for i, f := range is.Fields {
		exprs = append(exprs, logical.Col(is, i))
		names = append(names, f.Name)
	}
	keys.marker = is.Len()
	exprs = append(exprs, &logical.Literal{Value: true, T: logical.Bool})
	names = append(names, "__present")
	right := logical.NewProject(inner, exprs, names, nil)
	in := logical.Concat(keys.schema, right.Schema())
	k := keys.schema.Len()
	var conds []logical.Expr
	for _, p := range sub.corr {
		q, err := logical.TransformExpr(p, func(n logical.Expr) (logical.Expr, error) {
			switch x := n.(type) {
			case *outerRef:
				return logical.Col(in, pos[x.Index]), nil
			case *logical.ColumnRef:
				return logical.Col(in, k+x.Index), nil
			}
			return n, nil
		})
		if err != nil {
			return nil, nil, err
		}
		conds = append(conds, q)
	}
	return logical.NewJoin(keys, right, logical.JoinLeft, logical.And(conds...)), keys, nil
}

// overJoin rewrites an aggregate call bound over the inner rows to read
// them on the right of the join deferCorrelation built (over schema in):
// references move past the placeholder's columns and become nullable, and
// count(*) counts the never-NULL marker.
func (o *outerKeys) overJoin(a *logical.AggregateCall, in *logical.Schema) (*logical.AggregateCall, error) {
	k := o.schema.Len()
	e, err := rebase(a, in, k, false)
	if err != nil {
		return nil, err
	}
	out := e.(*logical.AggregateCall)
	if out.Func == "count" && len(out.Args) == 0 {
		c := *out
		c.Args = []logical.Expr{logical.Col(in, k+o.marker)}
		out = &c
	}
	return out, nil
}

// materialize returns sq with the placeholder of a deferred correlated
// aggregate in its plan replaced by the distinct values of the enclosing
// plan left that it stands for.
func materialize(sq *subqueryExpr, leftPlan logical.Plan) (*subqueryExpr, error) {
	keys := sq.info.keys
	if keys == nil {
		return sq, nil
	}
	left := leftPlan.Schema()
	exprs := make([]logical.Expr, len(keys.refs))
	for i, r := range keys.refs {
		if r.Index < 0 || r.Index >= left.Len() {
			return nil, fmt.Errorf("internal: correlated column %s outside the enclosing plan", r)
		}
		c := logical.Col(left, r.Index)
		f := keys.schema.Fields[i]
		if !arrow.TypeEqual(c.T, f.Type) || c.CanBeNull != f.Nullable {
			return nil, fmt.Errorf("internal: correlated column %s is %s (nullable=%v) in the enclosing plan, %s (nullable=%v) in the subquery",
				r, c.T, c.CanBeNull, f.Type, f.Nullable)
		}
		exprs[i] = c
	}
	names := make([]string, len(exprs))
	groups := make([]logical.Expr, len(exprs))
	for i, f := range keys.schema.Fields {
		names[i] = f.Name
	}
	proj := logical.NewProject(leftPlan, exprs, names, nil)
	for i := range groups {
		groups[i] = logical.Col(proj.Schema(), i)
	}
	distinct := logical.NewAggregate(proj, groups, names, nil, nil, nil)
	found := 0
	out, err := logical.Transform(sq.plan, func(n logical.Plan) (logical.Plan, error) {
		if _, ok := n.(*outerKeys); ok {
			found++
			return distinct, nil
		}
		return n, nil
	})
	if err != nil {
		return nil, err
	}
	if found != 1 {
		return nil, fmt.Errorf("internal: %d placeholders for the outer values of a correlated subquery", found)
	}
	c := *sq
	c.plan = out
	return &c, nil
}
