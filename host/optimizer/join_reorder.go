package optimizer

import (
	"math/bits"
	"slices"
	"strings"

	"github.com/arbalest/arbalest/substrait/logical"
)

// ReorderJoins reorders every maximal tree of inner and cross joins. It
// collects the tree's inputs ("leaves") and the conjuncts of its join
// conditions, then builds the cheapest bushy join tree by dynamic
// programming over connected subsets (greedily above dpMaxLeaves leaves),
// where the cost of a tree is the sum of its intermediate result sizes plus
// the size of every build side. Cardinalities come from the estimator:
// equi-join selectivity is 1/max(ndv) with key columns known by name, so
// joining a foreign key to a primary key keeps the foreign-key side's size.
// Two subtrees are joined only through an equi-join condition when one
// exists; cross joins remain only between parts with no condition at all.
// The smaller input of every join becomes its right (build) side. A Project
// restores the original column order above the new tree.
type ReorderJoins struct{}

// Name implements Rule.
func (ReorderJoins) Name() string { return "reorder_joins" }

// Apply implements Rule.
func (ReorderJoins) Apply(p logical.Plan) (logical.Plan, error) {
	return reorderJoins(p, newEstimator(p)), nil
}

// dpMaxLeaves is the largest join tree ordered by exhaustive dynamic
// programming (3^n subset pairs); larger ones are ordered greedily.
const dpMaxLeaves = 10

// maxRegionLeaves bounds the leaves of a join tree handled at all (bitmask
// width).
const maxRegionLeaves = 64

func isInnerJoin(p logical.Plan) bool {
	j, ok := p.(*logical.Join)
	return ok && (j.Type == logical.JoinInner || j.Type == logical.JoinCross) && !j.NullAware
}

func reorderJoins(p logical.Plan, est *estimator) logical.Plan {
	if isInnerJoin(p) {
		var r region
		r.collect(p, 0)
		if len(r.leaves) <= maxRegionLeaves {
			for i := range r.leaves {
				r.leaves[i] = reorderJoins(r.leaves[i], est)
			}
			return r.plan(p.Schema(), est)
		}
	}
	kids := p.Children()
	if len(kids) == 0 {
		return p
	}
	nk := make([]logical.Plan, len(kids))
	changed := false
	for i, k := range kids {
		nk[i] = reorderJoins(k, est)
		changed = changed || nk[i] != k
	}
	if !changed {
		return p
	}
	return p.WithChildren(nk)
}

// region is a tree of inner joins flattened into leaves and conjuncts over
// the leaves' concatenated columns.
type region struct {
	leaves []logical.Plan
	preds  []logical.Expr
	offset []int // first column of each leaf
}

func (r *region) collect(p logical.Plan, base int) {
	if isInnerJoin(p) {
		j := p.(*logical.Join)
		r.collect(j.Left, base)
		r.collect(j.Right, base+j.Left.Schema().Len())
		for _, c := range logical.SplitConjunction(j.On) {
			r.preds = append(r.preds, logical.ShiftColumns(c, base))
		}
		return
	}
	r.leaves = append(r.leaves, p)
	r.offset = append(r.offset, base)
}

func (r *region) leafOf(col int) int {
	i, found := slices.BinarySearch(r.offset, col)
	if !found {
		i--
	}
	// Skip zero-width leaves sharing an offset.
	for i+1 < len(r.offset) && r.offset[i+1] == r.offset[i] && r.offset[i+1] <= col {
		i++
	}
	return i
}

func (r *region) mask(e logical.Expr) uint64 {
	var m uint64
	for _, c := range colsOf(e) {
		m |= 1 << r.leafOf(c)
	}
	return m
}

// joinPred is a multi-leaf conjunct of a region.
type joinPred struct {
	e      logical.Expr
	mask   uint64
	la, lb uint64 // leaves of the operands of an equi-join condition
	equi   bool
	sel    float64
}

// joinTree is a node of a planned join tree.
type joinTree struct {
	mask        uint64
	leaf        int
	left, right *joinTree
	card, cost  float64
}

type regionPlanner struct {
	leaves []logical.Plan
	offset []int
	cards  []float64
	preds  []joinPred
	cardOf map[uint64]float64
}

// plan builds the reordered join tree for the region, whose original output
// schema is schema.
func (r *region) plan(schema *logical.Schema, est *estimator) logical.Plan {
	// Canonical leaf order (by plan text) makes the result independent of
	// the order the joins were written in, so the rule is idempotent.
	n := len(r.leaves)
	order := seq(n)
	keys := make([]string, n)
	for i, l := range r.leaves {
		keys[i] = logical.Format(l)
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	rp := &regionPlanner{cardOf: map[uint64]float64{}}
	newOff := make([]int, n)
	pos := make([]int, n) // old leaf -> new leaf
	off := 0
	for k, old := range order {
		rp.leaves = append(rp.leaves, r.leaves[old])
		newOff[k] = off
		pos[old] = k
		off += r.leaves[old].Schema().Len()
	}
	rp.offset = newOff
	toCanon := func(col int) int {
		l := r.leafOf(col)
		return newOff[pos[l]] + col - r.offset[l]
	}
	canon := &region{leaves: rp.leaves, offset: newOff}

	var top []logical.Expr
	leafPreds := make([][]logical.Expr, n)
	var multi []logical.Expr
	for _, q := range r.preds {
		q = canonicalEquality(mapColumns(q, toCanon))
		m := canon.mask(q)
		switch bits.OnesCount64(m) {
		case 0:
			top = append(top, q)
		case 1:
			l := bits.TrailingZeros64(m)
			leafPreds[l] = append(leafPreds[l], logical.ShiftColumns(q, -newOff[l]))
		default:
			multi = append(multi, q)
		}
	}
	multi = dedupExprs(multi)
	sortExprs(multi)
	for i, l := range rp.leaves {
		if len(leafPreds[i]) > 0 {
			rp.leaves[i] = pushFilters(l, leafPreds[i])
		}
		rp.cards = append(rp.cards, est.rows(rp.leaves[i]))
	}
	for _, q := range multi {
		jp := joinPred{e: q, mask: canon.mask(q)}
		if c, ok := q.(*logical.Call); ok && c.Func == "equal" && len(c.Args) == 2 {
			jp.la, jp.lb = canon.mask(c.Args[0]), canon.mask(c.Args[1])
			jp.equi = jp.la != 0 && jp.lb != 0 && jp.la&jp.lb == 0
		}
		rp.preds = append(rp.preds, jp)
	}
	rp.setSelectivities(est)

	tree := rp.order()
	out, cols := rp.materialize(tree)

	// Restore the region's original column order and names.
	where := make(map[int]int, len(cols))
	for i, c := range cols {
		where[c] = i
	}
	idx := make([]int, schema.Len())
	identity := true
	for i := range idx {
		idx[i] = where[toCanon(i)]
		identity = identity && idx[i] == i
	}
	var res logical.Plan = out
	if !identity || !sameNames(out.Schema(), schema) {
		exprs := logical.Cols(out.Schema(), idx)
		res = logical.NewProject(out, exprs, names(schema), qualifiers(schema))
	}
	return withFilter(res, top)
}

// canonicalEquality orders the operands of an equality by their text.
func canonicalEquality(q logical.Expr) logical.Expr {
	c, ok := q.(*logical.Call)
	if !ok || c.Func != "equal" || len(c.Args) != 2 || c.Args[0].String() <= c.Args[1].String() {
		return q
	}
	cc := *c
	cc.Args = []logical.Expr{c.Args[1], c.Args[0]}
	return &cc
}

func (rp *regionPlanner) leafCol(col int) (int, int) {
	i, found := slices.BinarySearch(rp.offset, col)
	if !found {
		i--
	}
	for i+1 < len(rp.offset) && rp.offset[i+1] == rp.offset[i] && rp.offset[i+1] <= col {
		i++
	}
	return i, col - rp.offset[i]
}

// setSelectivities estimates every condition's selectivity. The column
// equalities between the same two leaves are estimated together
// (estimator.equiSelectivity), so a composite key such as lineitem–partsupp
// on part and supplier keys counts as one key, not as two independent
// conditions.
func (rp *regionPlanner) setSelectivities(est *estimator) {
	done := make([]bool, len(rp.preds))
	for i := range rp.preds {
		p := &rp.preds[i]
		if done[i] {
			continue
		}
		la, lb, ca, cb, ok := rp.leafColumns(*p)
		if !ok {
			if p.equi {
				p.sel = 1 / max(rp.leafCards(p.la), rp.leafCards(p.lb), 1)
			} else {
				p.sel = est.selectivity(p.e, nil)
			}
			continue
		}
		acols, bcols := []int{ca}, []int{cb}
		for j := i + 1; j < len(rp.preds); j++ {
			if done[j] {
				continue
			}
			qa, qb, da, db, ok := rp.leafColumns(rp.preds[j])
			switch {
			case ok && qa == la && qb == lb:
				acols, bcols = append(acols, da), append(bcols, db)
			case ok && qa == lb && qb == la:
				acols, bcols = append(acols, db), append(bcols, da)
			default:
				continue
			}
			done[j] = true
			rp.preds[j].sel = 1 // folded into p
		}
		p.sel = est.equiSelectivity(rp.leaves[la], acols, rp.leaves[lb], bcols)
	}
}

// leafColumns returns, for an equality between columns of two different
// leaves, the leaves and the columns' positions within them.
func (rp *regionPlanner) leafColumns(p joinPred) (la, lb, ca, cb int, ok bool) {
	if !p.equi {
		return 0, 0, 0, 0, false
	}
	c := p.e.(*logical.Call)
	x, ok1 := c.Args[0].(*logical.ColumnRef)
	y, ok2 := c.Args[1].(*logical.ColumnRef)
	if !ok1 || !ok2 {
		return 0, 0, 0, 0, false
	}
	la, ca = rp.leafCol(x.Index)
	lb, cb = rp.leafCol(y.Index)
	return la, lb, ca, cb, la != lb
}

// leafCards is the product of the row estimates of the leaves in m.
func (rp *regionPlanner) leafCards(m uint64) float64 {
	c := 1.0
	for i := range rp.leaves {
		if m&(1<<i) != 0 {
			c *= rp.cards[i]
		}
	}
	return c
}

// card estimates the rows of joining the leaves in m with every condition
// among them; it does not depend on the join order.
func (rp *regionPlanner) card(m uint64) float64 {
	if c, ok := rp.cardOf[m]; ok {
		return c
	}
	c := rp.leafCards(m)
	for _, p := range rp.preds {
		if p.mask&^m == 0 && p.sel > 0 {
			c *= p.sel
		}
	}
	c = max(c, 1)
	rp.cardOf[m] = c
	return c
}

// connection classifies how subtrees a and b can be joined: 0 through an
// equi-join condition, 1 through another condition, 2 not at all (cross).
func (rp *regionPlanner) connection(a, b uint64) int {
	best := 2
	for _, p := range rp.preds {
		if p.equi && ((p.la&^a == 0 && p.lb&^b == 0) || (p.la&^b == 0 && p.lb&^a == 0)) {
			return 0
		}
		if p.mask&^(a|b) == 0 && p.mask&a != 0 && p.mask&b != 0 {
			best = 1
		}
	}
	return best
}

func (rp *regionPlanner) join(a, b *joinTree) *joinTree {
	// The smaller input is the build (right) side.
	if b.card > a.card || (b.card == a.card && b.mask < a.mask) {
		a, b = b, a
	}
	m := a.mask | b.mask
	c := rp.card(m)
	return &joinTree{mask: m, leaf: -1, left: a, right: b, card: c, cost: a.cost + b.cost + c + b.card}
}

// order plans the join tree: exhaustive over connected subsets for small
// regions, then greedy combination of what remains.
func (rp *regionPlanner) order() *joinTree {
	n := len(rp.leaves)
	items := make([]*joinTree, 0, n)
	if n <= dpMaxLeaves {
		items = rp.dp()
	} else {
		for i := range n {
			items = append(items, &joinTree{mask: 1 << i, leaf: i, card: rp.cards[i]})
		}
	}
	for len(items) > 1 {
		bi, bj := -1, -1
		var best *joinTree
		bestClass := 3
		for i := range items {
			for j := i + 1; j < len(items); j++ {
				class := rp.connection(items[i].mask, items[j].mask)
				if class > bestClass {
					continue
				}
				t := rp.join(items[i], items[j])
				if class < bestClass || t.card < best.card*(1-1e-9) ||
					(t.card <= best.card*(1+1e-9) && t.cost < best.cost*(1-1e-9)) {
					bi, bj, best, bestClass = i, j, t, class
				}
			}
		}
		items[bi] = best
		items = slices.Delete(items, bj, bj+1)
	}
	return items[0]
}

// dp returns the cheapest tree of every connected component (by equi-join
// conditions) of the region, or its single leaves where a component has no
// plan made of equi-joins only.
func (rp *regionPlanner) dp() []*joinTree {
	n := len(rp.leaves)
	full := uint64(1)<<n - 1
	best := make([]*joinTree, full+1)
	for i := range n {
		best[1<<i] = &joinTree{mask: 1 << i, leaf: i, card: rp.cards[i]}
	}
	for m := uint64(1); m <= full; m++ {
		if bits.OnesCount64(m) < 2 {
			continue
		}
		for sub := (m - 1) & m; sub > 0; sub = (sub - 1) & m {
			other := m ^ sub
			if sub < other || best[sub] == nil || best[other] == nil || rp.connection(sub, other) != 0 {
				continue
			}
			t := rp.join(best[sub], best[other])
			if best[m] == nil || t.cost < best[m].cost*(1-1e-9) {
				best[m] = t
			}
		}
	}
	// Components of the equi-join graph.
	comp := make([]uint64, n)
	for i := range n {
		comp[i] = 1 << i
	}
	for changed := true; changed; {
		changed = false
		for _, p := range rp.preds {
			if !p.equi {
				continue
			}
			var u uint64
			for i := range n {
				if comp[i]&p.mask != 0 {
					u |= comp[i]
				}
			}
			for i := range n {
				if u&(1<<i) != 0 && comp[i] != u {
					comp[i] = u
					changed = true
				}
			}
		}
	}
	var items []*joinTree
	var seen uint64
	for i := range n {
		c := comp[i]
		if seen&c != 0 {
			continue
		}
		seen |= c
		if best[c] != nil {
			items = append(items, best[c])
			continue
		}
		for j := range n {
			if c&(1<<j) != 0 {
				items = append(items, best[1<<j])
			}
		}
	}
	return items
}

// materialize builds the plan of t and returns it with the canonical column
// positions of its output columns.
func (rp *regionPlanner) materialize(t *joinTree) (logical.Plan, []int) {
	if t.leaf >= 0 {
		w := rp.leaves[t.leaf].Schema().Len()
		cols := make([]int, w)
		for i := range cols {
			cols[i] = rp.offset[t.leaf] + i
		}
		return rp.leaves[t.leaf], cols
	}
	l, lcols := rp.materialize(t.left)
	r, rcols := rp.materialize(t.right)
	cols := append(slices.Clone(lcols), rcols...)
	where := make(map[int]int, len(cols))
	for i, c := range cols {
		where[c] = i
	}
	var equi, other []logical.Expr
	for _, p := range rp.preds {
		if p.mask&^t.mask != 0 || p.mask&^t.left.mask == 0 || p.mask&^t.right.mask == 0 {
			continue
		}
		e := orientEquality(mapColumns(p.e, func(c int) int { return where[c] }), len(lcols))
		if p.equi {
			equi = append(equi, e)
		} else {
			other = append(other, e)
		}
	}
	return newJoin(l, r, logical.JoinInner, append(equi, other...), false), cols
}
