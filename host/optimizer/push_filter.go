package optimizer

import (
	"slices"

	"github.com/arbalest/arbalest/substrait/logical"
)

// PushDownFilter moves predicates as close to the data as their semantics
// allow. It splits conjunctions and pushes each conjunct
//   - through Projects (substituting the projected expressions), Sorts
//     without a fetch, Aggregates (when it reads only group columns), Windows
//     (when it reads only columns every function partitions by) and set
//     operations (into every input);
//   - into inner and cross joins: single-side conjuncts go below, conjuncts
//     over both sides become the join condition (so cross joins become
//     equi-joins); equalities and literal predicates are propagated
//     transitively (a = b AND a = 5 adds b = 5), and a disjunction over both
//     sides contributes an implied single-side disjunction to each side;
//   - into outer, semi, anti, mark and single joins only where their
//     semantics allow (never into the null-supplying side except from the
//     ON clause); a WHERE conjunct that rejects NULLs of the null-supplying
//     side turns the outer join into an inner one, and a filter on a mark
//     column turns the mark join into a semi join;
//   - down to the Scan, whose Filters receive a copy as pruning hints (the
//     Filter above the scan stays).
type PushDownFilter struct{}

// Name implements Rule.
func (PushDownFilter) Name() string { return "push_down_filter" }

// Apply implements Rule.
func (PushDownFilter) Apply(p logical.Plan) (logical.Plan, error) { return pushFilters(p, nil), nil }

// pushFilters returns p with the conjuncts preds (over p's output) applied,
// as deep as possible, and with filters inside p pushed as well.
func pushFilters(p logical.Plan, preds []logical.Expr) logical.Plan {
	preds = dedupExprs(slices.DeleteFunc(slices.Clone(preds), isTrue))
	switch n := p.(type) {
	case *logical.Filter:
		return pushFilters(n.Input, append(preds, logical.SplitConjunction(n.Cond)...))
	case *logical.Project:
		var below, above []logical.Expr
		for _, q := range preds {
			if exprsPushable(n.Exprs, colsOf(q)) {
				below = append(below, substitute(q, n.Exprs))
			} else {
				above = append(above, q)
			}
		}
		return withFilter(n.WithChildren([]logical.Plan{pushFilters(n.Input, below)}), above)
	case *logical.Sort:
		if n.Fetch >= 0 {
			return withFilter(n.WithChildren([]logical.Plan{pushFilters(n.Input, nil)}), preds)
		}
		return n.WithChildren([]logical.Plan{pushFilters(n.Input, preds)})
	case *logical.Aggregate:
		return pushThroughAggregate(n, preds)
	case *logical.Window:
		return pushThroughWindow(n, preds)
	case *logical.SetOp:
		inputs := make([]logical.Plan, len(n.Inputs))
		for i, in := range n.Inputs {
			inputs[i] = pushFilters(in, preds)
		}
		return n.WithChildren(inputs)
	case *logical.Join:
		return pushIntoJoin(n, preds)
	case *logical.Scan:
		if len(preds) == 0 {
			return n
		}
		hints := append([]logical.Expr(nil), n.Filters...)
		for _, q := range preds {
			if len(colsOf(q)) > 0 {
				hints = append(hints, q)
			}
		}
		return withFilter(n.WithProjection(n.Projection, dedupExprs(hints)), preds)
	}
	kids := p.Children()
	if len(kids) > 0 {
		nk := make([]logical.Plan, len(kids))
		for i, k := range kids {
			nk[i] = pushFilters(k, nil)
		}
		p = p.WithChildren(nk)
	}
	return withFilter(p, preds)
}

// exprsPushable reports whether the projected expressions cols refer to can
// be substituted into a predicate below the projection.
func exprsPushable(exprs []logical.Expr, cols []int) bool {
	for _, c := range cols {
		if hasAggOrWindow(exprs[c]) {
			return false
		}
	}
	return true
}

func pushThroughAggregate(n *logical.Aggregate, preds []logical.Expr) logical.Plan {
	var below, above []logical.Expr
	ng := len(n.GroupBy)
	for _, q := range preds {
		// With no group keys the aggregate outputs a row even for empty
		// input, so nothing may move below it; grouping sets null out keys.
		if ng > 0 && len(n.GroupingSets) == 0 && len(colsOf(q)) > 0 &&
			refsOnly(q, func(i int) bool { return i < ng }) && exprsPushable(n.GroupBy, colsOf(q)) {
			below = append(below, substitute(q, n.GroupBy))
		} else {
			above = append(above, q)
		}
	}
	return withFilter(n.WithChildren([]logical.Plan{pushFilters(n.Input, below)}), above)
}

func pushThroughWindow(n *logical.Window, preds []logical.Expr) logical.Plan {
	nin := n.Input.Schema().Len()
	partitioned := func(i int) bool {
		if i >= nin {
			return false
		}
		for _, f := range n.Funcs {
			found := false
			for _, pe := range f.PartitionBy {
				if c, ok := pe.(*logical.ColumnRef); ok && c.Index == i {
					found = true
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	var below, above []logical.Expr
	for _, q := range preds {
		if len(colsOf(q)) > 0 && refsOnly(q, partitioned) {
			below = append(below, q)
		} else {
			above = append(above, q)
		}
	}
	return withFilter(n.WithChildren([]logical.Plan{pushFilters(n.Input, below)}), above)
}

// side classifies the columns a predicate over a join's concatenated schema
// reads.
type side int

const (
	sideNone side = iota
	sideLeft
	sideRight
	sideBoth
)

func sideOf(e logical.Expr, nl int) side {
	var l, r bool
	for _, c := range colsOf(e) {
		if c < nl {
			l = true
		} else {
			r = true
		}
	}
	switch {
	case l && r:
		return sideBoth
	case l:
		return sideLeft
	case r:
		return sideRight
	}
	return sideNone
}

func shiftDown(e logical.Expr, nl int) logical.Expr { return logical.ShiftColumns(e, -nl) }

func newJoin(l, r logical.Plan, t logical.JoinType, on []logical.Expr, nullAware bool) *logical.Join {
	on = dedupExprs(on)
	var cond logical.Expr
	if len(on) > 0 {
		cond = logical.And(on...)
	}
	if t == logical.JoinCross && cond != nil {
		t = logical.JoinInner
	}
	if t == logical.JoinInner && cond == nil {
		t = logical.JoinCross
	}
	j := logical.NewJoin(l, r, t, cond)
	j.NullAware = nullAware
	return j
}

func pushIntoJoin(n *logical.Join, preds []logical.Expr) logical.Plan {
	nl := n.Left.Schema().Len()
	nr := n.Right.Schema().Len()
	isLeft := func(i int) bool { return i < nl }
	isRight := func(i int) bool { return i >= nl && i < nl+nr }
	on := logical.SplitConjunction(n.On)

	// A WHERE conjunct that is never true when the null-supplying side is all
	// NULL removes the padded rows: the outer join is an inner one.
	t := n.Type
	for _, q := range preds {
		switch t {
		case logical.JoinLeft:
			if rejectsNull(q, isRight) {
				t = logical.JoinInner
			}
		case logical.JoinRight:
			if rejectsNull(q, isLeft) {
				t = logical.JoinInner
			}
		case logical.JoinFull:
			switch l, r := rejectsNull(q, isLeft), rejectsNull(q, isRight); {
			case l && r:
				t = logical.JoinInner
			case l:
				t = logical.JoinLeft
			case r:
				t = logical.JoinRight
			}
		}
	}
	if t != n.Type {
		return pushIntoJoin(newJoin(n.Left, n.Right, t, on, n.NullAware), preds)
	}

	var left, right, cond, above []logical.Expr
	switch n.Type {
	case logical.JoinInner, logical.JoinCross:
		all := append(append([]logical.Expr(nil), on...), preds...)
		all = dedupExprs(append(all, transitivePredicates(all)...))
		for _, q := range all {
			switch sideOf(q, nl) {
			case sideLeft, sideNone:
				left = append(left, q)
			case sideRight:
				right = append(right, shiftDown(q, nl))
			default:
				cond = append(cond, orientEquality(q, nl))
				if l, r := impliedSidePredicates(q, nl); l != nil || r != nil {
					if l != nil {
						left = append(left, l)
					}
					if r != nil {
						right = append(right, shiftDown(r, nl))
					}
				}
			}
		}
		return newJoin(pushFilters(n.Left, left), pushFilters(n.Right, right), logical.JoinInner, cond, n.NullAware)

	case logical.JoinLeft, logical.JoinSingle, logical.JoinRight:
		// The preserved side takes WHERE conjuncts over it alone; the
		// null-supplying side takes ON conjuncts over it alone.
		keep, other := isLeft, isRight
		if n.Type == logical.JoinRight {
			keep, other = isRight, isLeft
		}
		var kept, supplied []logical.Expr
		for _, q := range preds {
			if len(colsOf(q)) > 0 && refsOnly(q, keep) {
				kept = append(kept, q)
			} else {
				above = append(above, q)
			}
		}
		for _, q := range on {
			if len(colsOf(q)) > 0 && refsOnly(q, other) {
				supplied = append(supplied, q)
			} else {
				cond = append(cond, orientEquality(q, nl))
			}
		}
		if n.Type == logical.JoinRight {
			left, right = supplied, kept
		} else {
			left, right = kept, supplied
		}
		for i := range right {
			right[i] = shiftDown(right[i], nl)
		}

	case logical.JoinSemi, logical.JoinAnti:
		left = preds // the output is the left input's rows
		for _, q := range on {
			switch {
			case len(colsOf(q)) > 0 && refsOnly(q, isRight) && !n.NullAware:
				right = append(right, shiftDown(q, nl))
			case len(colsOf(q)) > 0 && refsOnly(q, isLeft) && n.Type == logical.JoinSemi:
				left = append(left, q)
			default:
				cond = append(cond, orientEquality(q, nl))
			}
		}

	case logical.JoinMark:
		for _, q := range preds {
			if isMarkRef(q, nl) {
				return pushFilters(markToSemi(n), preds)
			}
		}
		for _, q := range preds {
			if len(colsOf(q)) > 0 && refsOnly(q, isLeft) {
				left = append(left, q)
			} else {
				above = append(above, q)
			}
		}
		for _, q := range on {
			// A NULL condition on a right row makes the mark NULL rather than
			// false, so only conjuncts that are never NULL may filter the
			// right input.
			if len(colsOf(q)) > 0 && refsOnly(q, isRight) && !q.Nullable() && !n.NullAware {
				right = append(right, shiftDown(q, nl))
			} else {
				cond = append(cond, orientEquality(q, nl))
			}
		}

	default: // full outer: nothing moves
		cond = on
	}
	j := logical.NewJoin(pushFilters(n.Left, left), pushFilters(n.Right, right), n.Type, logical.And(dedupExprs(cond)...))
	j.NullAware = n.NullAware
	return withFilter(j, above)
}

func isMarkRef(e logical.Expr, idx int) bool {
	c, ok := e.(*logical.ColumnRef)
	return ok && c.Index == idx
}

// markToSemi replaces a mark join, whose mark column a WHERE conjunct
// requires to be true, by a semi join followed by a Project that restores the
// mark column as the constant true.
func markToSemi(n *logical.Join) logical.Plan {
	semi := logical.NewJoin(n.Left, n.Right, logical.JoinSemi, n.On)
	ls := semi.Schema()
	idx := make([]int, ls.Len())
	for i := range idx {
		idx[i] = i
	}
	exprs := append(logical.Cols(ls, idx), boolLit(true))
	out := n.Schema()
	return logical.NewProject(semi, exprs, names(out), qualifiers(out))
}

// orientEquality writes a join equality with its left-side operand first.
func orientEquality(q logical.Expr, nl int) logical.Expr {
	c, ok := q.(*logical.Call)
	if !ok || c.Func != "equal" || len(c.Args) != 2 {
		return q
	}
	if sideOf(c.Args[0], nl) == sideRight && sideOf(c.Args[1], nl) == sideLeft {
		cc := *c
		cc.Args = []logical.Expr{c.Args[1], c.Args[0]}
		return &cc
	}
	return q
}

// impliedSidePredicates derives from a disjunction over both join sides the
// disjunction each side alone must satisfy: from (a1 AND b1) OR (a2 AND b2)
// with a* over the left and b* over the right it returns a1 OR a2 and
// b1 OR b2. Either result is nil when some disjunct has no conjunct over
// that side.
func impliedSidePredicates(q logical.Expr, nl int) (left, right logical.Expr) {
	disj := splitDisjunction(q)
	if len(disj) < 2 {
		return nil, nil
	}
	pick := func(want side) logical.Expr {
		parts := make([]logical.Expr, 0, len(disj))
		for _, d := range disj {
			var cs []logical.Expr
			for _, c := range logical.SplitConjunction(d) {
				if sideOf(c, nl) == want {
					cs = append(cs, c)
				}
			}
			if len(cs) == 0 {
				return nil
			}
			parts = append(parts, logical.And(cs...))
		}
		return Simplify(orOf(dedupExprs(parts)))
	}
	return pick(sideLeft), pick(sideRight)
}

// transitivePredicates derives, from column equalities a = b among conj,
// copies of the literal comparisons on a for every column equal to it.
func transitivePredicates(conj []logical.Expr) []logical.Expr {
	parent := map[int]int{}
	refs := map[int]*logical.ColumnRef{}
	var find func(int) int
	find = func(i int) int {
		p, ok := parent[i]
		if !ok || p == i {
			return i
		}
		r := find(p)
		parent[i] = r
		return r
	}
	for _, q := range conj {
		c, ok := q.(*logical.Call)
		if !ok || c.Func != "equal" || len(c.Args) != 2 {
			continue
		}
		a, ok1 := c.Args[0].(*logical.ColumnRef)
		b, ok2 := c.Args[1].(*logical.ColumnRef)
		if !ok1 || !ok2 || a.Index == b.Index || !typeEqual(a.T, b.T) {
			continue
		}
		refs[a.Index], refs[b.Index] = a, b
		ra, rb := find(a.Index), find(b.Index)
		if ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	var out []logical.Expr
	for _, q := range conj {
		col, ok := literalPredicateColumn(q)
		if !ok {
			continue
		}
		if _, inClass := refs[col]; !inClass {
			continue
		}
		root := find(col)
		for other, ref := range refs {
			if other == col || find(other) != root {
				continue
			}
			out = append(out, mapColumnRef(q, col, ref))
		}
	}
	// Map iteration order is random: sort the result for stable plans.
	sortExprs(out)
	return out
}

// literalPredicateColumn reports the column of a predicate comparing one
// column with literals only (a = 5, a BETWEEN 1 AND 2, a IN (...), a LIKE 'x%').
func literalPredicateColumn(q logical.Expr) (int, bool) {
	cols := colsOf(q)
	if len(cols) != 1 {
		return 0, false
	}
	var args []logical.Expr
	switch x := q.(type) {
	case *logical.Call:
		switch x.Func {
		case "equal", "not_equal", "lt", "lte", "gt", "gte", "between", "like", "starts_with", "ends_with", "contains":
			args = x.Args
		default:
			return 0, false
		}
	case *logical.InList:
		args = append([]logical.Expr{x.Input}, x.List...)
	default:
		return 0, false
	}
	nCols := 0
	for _, a := range args {
		switch a.(type) {
		case *logical.ColumnRef:
			nCols++
		case *logical.Literal:
		default:
			return 0, false
		}
	}
	return cols[0], nCols == 1
}

// mapColumnRef replaces references to column from in q by to.
func mapColumnRef(q logical.Expr, from int, to *logical.ColumnRef) logical.Expr {
	out, _ := logical.TransformExpr(q, func(n logical.Expr) (logical.Expr, error) {
		if c, ok := n.(*logical.ColumnRef); ok && c.Index == from {
			cc := *to
			return &cc, nil
		}
		return n, nil
	})
	return out
}

// rejectsNull reports whether predicate e is never true when every column
// satisfying in is NULL.
func rejectsNull(e logical.Expr, in func(int) bool) bool {
	switch x := e.(type) {
	case *logical.ColumnRef:
		return in(x.Index)
	case *logical.InList:
		return nullWhenNull(x.Input, in)
	case *logical.Call:
		switch x.Func {
		case "and":
			for _, a := range x.Args {
				if rejectsNull(a, in) {
					return true
				}
			}
			return false
		case "or":
			for _, a := range x.Args {
				if !rejectsNull(a, in) {
					return false
				}
			}
			return len(x.Args) > 0
		case "is_not_null", "is_true", "is_not_false":
			if x.Func == "is_not_null" {
				return len(x.Args) == 1 && nullWhenNull(x.Args[0], in)
			}
			return len(x.Args) == 1 && rejectsNull(x.Args[0], in)
		}
		return nullWhenNull(x, in)
	case *logical.Cast:
		return nullWhenNull(x, in)
	}
	return false
}

// nullWhenNull reports whether e evaluates to NULL whenever every column
// satisfying in is NULL.
func nullWhenNull(e logical.Expr, in func(int) bool) bool {
	switch x := e.(type) {
	case *logical.ColumnRef:
		return in(x.Index)
	case *logical.Cast:
		return nullWhenNull(x.Input, in)
	case *logical.InList:
		return nullWhenNull(x.Input, in)
	case *logical.Call:
		if !strictFuncs[x.Func] {
			return false
		}
		for _, a := range x.Args {
			if nullWhenNull(a, in) {
				return true
			}
		}
	}
	return false
}
