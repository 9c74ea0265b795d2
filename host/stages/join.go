package stages

import (
	"slices"

	"github.com/arbalest/arbalest/host/optimizer"
	"github.com/arbalest/arbalest/substrait/logical"
)

// join places a join: in place when both sides are in one task or already
// co-partitioned on its keys, otherwise by broadcasting the right side or
// hash partitioning both sides on the equality keys.
func (pl *planner) join(j *logical.Join) (frag, error) {
	l, err := pl.plan(j.Left)
	if err != nil {
		return frag{}, err
	}
	r, err := pl.plan(j.Right)
	if err != nil {
		return frag{}, err
	}
	if l.tasks == 1 && r.tasks == 1 {
		return joinInPlace(j, l, r), nil
	}
	nl := j.Left.Schema().Len()
	lk, rk := equiJoinKeys(j.On, nl)
	// Joins whose output rows each come from one left row (and whose
	// unmatched right rows yield nothing) can run where the left rows are,
	// given all right rows.
	keepsLeft := j.Type != logical.JoinRight && j.Type != logical.JoinFull
	if len(lk) == 0 {
		if keepsLeft {
			return pl.broadcastJoin(j, l, r), nil
		}
		if l.tasks > 1 {
			l = pl.gather(l)
		}
		if r.tasks > 1 {
			r = pl.gather(r)
		}
		return joinInPlace(j, l, r), nil
	}
	// A mark join's NULL results and a null-aware anti join depend on
	// whether any right row at all has a NULL key (and on whether the right
	// side is empty), which hash partitioning would hide from most tasks.
	if j.Type == logical.JoinMark || (j.Type == logical.JoinAnti && j.NullAware) {
		return pl.broadcastJoin(j, l, r), nil
	}
	lOrders, rOrders := keyOrders(l.keys(), lk), keyOrders(r.keys(), rk)
	if l.tasks == r.tasks {
		for _, lo := range lOrders {
			if slices.ContainsFunc(rOrders, func(ro []int) bool { return slices.Equal(lo, ro) }) {
				return joinInPlace(j, l, r), nil
			}
		}
	}
	switch {
	case len(lOrders) > 0:
		r = pl.repartition(r, pick(rk, lOrders[0]), l.tasks)
	case keepsLeft && optimizer.Estimate(j.Right) <= float64(pl.cfg.BroadcastRows):
		return pl.broadcastJoin(j, l, r), nil
	case len(rOrders) > 0:
		l = pl.repartition(l, pick(lk, rOrders[0]), r.tasks)
	default:
		l = pl.repartition(l, lk, pl.cfg.Partitions)
		r = pl.repartition(r, rk, pl.cfg.Partitions)
	}
	return joinInPlace(j, l, r), nil
}

// joinInPlace joins l and r in one stage: both are in one task or hash
// partitioned alike on the join keys.
func joinInPlace(j *logical.Join, l, r frag) frag {
	out := frag{
		plan:     j.WithChildren([]logical.Plan{l.plan, r.plan}),
		tasks:    l.tasks,
		flexible: l.flexible && r.flexible,
		inputs:   append(slices.Clone(l.inputs), r.inputs...),
	}
	out.hash = joinHash(j.Type, l.keys(), r.keys(), j.Left.Schema().Len())
	return out
}

// broadcastJoin ends r's stage with a broadcast write and joins it into
// l's stage.
func (pl *planner) broadcastJoin(j *logical.Join, l, r frag) frag {
	read := pl.broadcast(r)
	out := frag{
		plan:     j.WithChildren([]logical.Plan{l.plan, read}),
		tasks:    l.tasks,
		flexible: l.flexible,
		inputs:   append(slices.Clone(l.inputs), read.Stage),
	}
	out.hash = joinHash(j.Type, l.keys(), nil, j.Left.Schema().Len())
	return out
}

// joinHash is the partitioning of a join's output: the key lists of the
// sides whose columns it outputs without NULL padding.
func joinHash(t logical.JoinType, lh, rh [][]logical.Expr, nl int) [][]logical.Expr {
	var out [][]logical.Expr
	switch t {
	case logical.JoinInner, logical.JoinCross, logical.JoinLeft, logical.JoinSemi,
		logical.JoinAnti, logical.JoinMark, logical.JoinSingle:
		out = append(out, lh...)
	}
	switch t {
	case logical.JoinInner, logical.JoinCross, logical.JoinRight:
		for _, keys := range rh {
			shifted := make([]logical.Expr, len(keys))
			for i, k := range keys {
				shifted[i] = logical.ShiftColumns(k, nl)
			}
			out = append(out, shifted)
		}
	}
	return out
}

// keyOrders returns, for every key list of hash made only of join keys,
// the positions in keys of its keys, in order.
func keyOrders(hash [][]logical.Expr, keys []logical.Expr) [][]int {
	var out [][]int
	for _, ks := range hash {
		order := make([]int, 0, len(ks))
		for _, k := range ks {
			c := canon(k)
			i := slices.IndexFunc(keys, func(e logical.Expr) bool { return canon(e) == c })
			if i < 0 {
				break
			}
			order = append(order, i)
		}
		if len(order) == len(ks) && len(order) > 0 {
			out = append(out, order)
		}
	}
	return out
}

// pick returns keys[order[0]], keys[order[1]], ...
func pick(keys []logical.Expr, order []int) []logical.Expr {
	out := make([]logical.Expr, len(order))
	for i, o := range order {
		out[i] = keys[o]
	}
	return out
}

// equiJoinKeys returns the key pairs of the `left = right` (and IS NOT
// DISTINCT FROM) conjuncts of on, the right keys rebased onto the right
// schema, each pair brought to types that hash equal values alike. Pairs
// whose types have no such common type, or cannot be hashed, are left
// out: they stay residual conditions, and a partitioning on fewer keys
// still brings matching rows together.
func equiJoinKeys(on logical.Expr, nl int) (lk, rk []logical.Expr) {
	seen := map[string]bool{}
	for _, c := range logical.SplitConjunction(on) {
		call, ok := c.(*logical.Call)
		if !ok || (call.Func != "equal" && call.Func != "is_not_distinct_from") || len(call.Args) != 2 {
			continue
		}
		a, b := call.Args[0], call.Args[1]
		sa, sb := logical.JoinSide(a, nl), logical.JoinSide(b, nl)
		if sa == logical.SideRight && sb == logical.SideLeft {
			a, b, sa, sb = b, a, sb, sa
		}
		if sa != logical.SideLeft || sb != logical.SideRight {
			continue
		}
		l, r, ok := hashKeyTypes(a, logical.ShiftColumns(b, -nl))
		if !ok || !logical.ShuffleHashable(l.Type()) {
			continue
		}
		k := canon(l) + " = " + canon(r)
		if seen[k] {
			continue
		}
		seen[k] = true
		lk, rk = append(lk, l), append(rk, r)
	}
	return lk, rk
}

// hashKeyTypes brings the operands of a join equality to types on which
// equal values hash alike. It first does what the executor's hash join
// does (integers of different widths to the wider type, decimals of
// different scales to one holding both), then, since the shuffle hash
// encodes decimals of precision <= 18 and wider ones differently, casts
// the narrower of two such decimals to the other's type. ok is false when
// no common type exists (the executor keeps such a conjunct residual too).
func hashKeyTypes(a, b logical.Expr) (logical.Expr, logical.Expr, bool) {
	a, b, ok := logical.JoinKeyTypes(a, b)
	if !ok {
		return nil, nil, false
	}
	if hashEncoding(a.Type()) != hashEncoding(b.Type()) {
		ap, _, ok1 := logical.DecimalParams(a.Type())
		bp, _, ok2 := logical.DecimalParams(b.Type())
		if !ok1 || !ok2 {
			return nil, nil, false
		}
		if ap < bp {
			a = &logical.Cast{Input: a, T: b.Type()}
		} else {
			b = &logical.Cast{Input: b, T: a.Type()}
		}
	}
	return a, b, true
}
