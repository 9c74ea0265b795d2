package stages

import (
	"fmt"
	"slices"

	"github.com/arbalest/arbalest/substrait/logical"
)

// gidName is the grouping-id column an Aggregate with grouping sets adds.
const gidName = "__grouping_id"

// aggregate places an aggregate: in place when its input is in one task or
// partitioned on some of its group keys, otherwise split into partial and
// final phases around an exchange, or (for aggregates that do not split)
// after an exchange of the raw rows.
func (pl *planner) aggregate(a *logical.Aggregate) (frag, error) {
	pl.hintInner(a)
	in, err := pl.plan(a.Input)
	if err != nil {
		return frag{}, err
	}
	if in.tasks == 1 {
		return aggregateInPlace(a, in), nil
	}
	parts, canSplit := splitAggs(a.Aggs, a.AggNames)
	switch {
	case len(a.GroupingSets) > 0:
		if canSplit && !repeatedSets(a.GroupingSets) {
			return pl.splitAggregate(a, in, parts)
		}
		return aggregateInPlace(a, pl.gather(in)), nil
	case len(a.GroupBy) == 0:
		if canSplit {
			return pl.splitAggregate(a, in, parts)
		}
		return aggregateInPlace(a, pl.gather(in)), nil
	case partitionedWithin(in.keys(), a.GroupBy) != nil:
		return aggregateInPlace(a, in), nil
	case canSplit:
		return pl.splitAggregate(a, in, parts)
	}
	if keys := pl.hashKeys(a, a.GroupBy); len(keys) > 0 {
		in = pl.repartition(in, keys, pl.cfg.Partitions)
	} else {
		in = pl.gather(in)
	}
	return aggregateInPlace(a, in), nil
}

// hintInner records, when a groups the output of another aggregate (maybe
// through a projection of columns) by some of its group columns, which
// ones: the inner aggregate then partitions on them only, so that a runs
// in place. This is the shape of rewritten DISTINCT aggregates.
func (pl *planner) hintInner(a *logical.Aggregate) {
	if len(a.GroupBy) == 0 || len(a.GroupingSets) > 0 {
		return
	}
	cols := make([]int, len(a.GroupBy))
	for i, g := range a.GroupBy {
		c, ok := g.(*logical.ColumnRef)
		if !ok {
			return
		}
		cols[i] = c.Index
	}
	input := a.Input
	if p, ok := input.(*logical.Project); ok {
		for i, c := range cols {
			ref, ok := p.Exprs[c].(*logical.ColumnRef)
			if !ok {
				return
			}
			cols[i] = ref.Index
		}
		input = p.Input
	}
	inner, ok := input.(*logical.Aggregate)
	if !ok || len(inner.GroupingSets) > 0 {
		return
	}
	var hint []int
	for _, c := range cols {
		if c < len(inner.GroupBy) && !slices.Contains(hint, c) {
			hint = append(hint, c)
		}
	}
	if len(hint) > 0 && len(hint) < len(inner.GroupBy) {
		pl.hints[inner] = hint
	}
}

// hashKeys returns the keys to partition a's rows on: the hashable ones of
// keys (a's group keys, or the partial aggregate's group columns in the
// same order), narrowed to the hinted ones when a has a usable hint.
func (pl *planner) hashKeys(a *logical.Aggregate, keys []logical.Expr) []logical.Expr {
	if hint, ok := pl.hints[a]; ok && len(keys) >= len(a.GroupBy) {
		if hk := hashable(pick(keys, hint)); len(hk) > 0 {
			return hk
		}
	}
	return hashable(keys)
}

// aggregateInPlace runs a over in's rows where they are: in is one task or
// hash partitioned on a subset of a's group keys.
func aggregateInPlace(a *logical.Aggregate, in frag) frag {
	out := in.with(a.WithChildren([]logical.Plan{in.plan}))
	// An aggregate that yields a row from empty input (no GROUP BY, or an
	// empty grouping set) would yield one per task.
	out.flexible = in.flexible && len(a.GroupBy) > 0 && !slices.ContainsFunc(a.GroupingSets, func(s []int) bool { return len(s) == 0 })
	out.hash = nil
	if len(a.GroupingSets) == 0 {
		// Group column i of the output holds GroupBy[i].
		out.hash = projectHash(in.keys(), a.GroupBy, out.plan.Schema())
	}
	return out
}

// repeatedSets reports whether a grouping set occurs twice: the aggregate
// then repeats its rows, which a final phase would merge.
func repeatedSets(sets [][]int) bool {
	seen := map[string]bool{}
	for _, s := range sets {
		c := slices.Clone(s)
		slices.Sort(c)
		k := fmt.Sprint(slices.Compact(c))
		if seen[k] {
			return true
		}
		seen[k] = true
	}
	return false
}

// aggPart is one aggregate split into partial aggregates and the final
// expression over their results.
type aggPart struct {
	partial []*logical.AggregateCall
	names   []string
	// final builds the final aggregate from the partial results' columns
	// (references into the final phase's input).
	final func(cols []logical.Expr) *logical.AggregateCall
	// coalesceZero: the final aggregate is a sum of counts, nullable where
	// count is not; it is restored with coalesce(x, 0).
	coalesceZero bool
}

// splitAggs decomposes aggregates into partial and final phases; ok is
// false when one of them cannot be (DISTINCT sum/count/avg, statistics).
func splitAggs(aggs []*logical.AggregateCall, names []string) (parts []aggPart, ok bool) {
	for i, ag := range aggs {
		p, ok := splitAgg(ag, names[i])
		if !ok {
			return nil, false
		}
		parts = append(parts, p)
	}
	return parts, true
}

func splitAgg(ag *logical.AggregateCall, name string) (aggPart, bool) {
	same := func(fn string) aggPart {
		partial := &logical.AggregateCall{Func: fn, Args: ag.Args, Filter: ag.Filter, T: ag.T}
		return aggPart{
			partial: []*logical.AggregateCall{partial},
			names:   []string{name},
			final: func(cols []logical.Expr) *logical.AggregateCall {
				return &logical.AggregateCall{Func: fn, Args: cols, T: ag.T}
			},
		}
	}
	switch ag.Func {
	case "min", "max", "any_value", "bool_and", "bool_or":
		// DISTINCT does not change these.
		if len(ag.Args) != 1 {
			return aggPart{}, false
		}
		return same(ag.Func), true
	case "sum":
		if ag.Distinct || len(ag.Args) != 1 {
			return aggPart{}, false
		}
		return same("sum"), true
	case "count":
		if ag.Distinct {
			return aggPart{}, false
		}
		partial := &logical.AggregateCall{Func: "count", Args: ag.Args, Filter: ag.Filter, T: logical.Int64}
		return aggPart{
			partial: []*logical.AggregateCall{partial},
			names:   []string{name},
			final: func(cols []logical.Expr) *logical.AggregateCall {
				return &logical.AggregateCall{Func: "sum", Args: cols, T: logical.Int64}
			},
			coalesceZero: true,
		}, true
	case "avg":
		if ag.Distinct || len(ag.Args) != 1 {
			return aggPart{}, false
		}
		x := ag.Args[0]
		if logical.IsInteger(x.Type()) {
			// avg accumulates integers exactly, in decimal(38,0).
			x = &logical.Cast{Input: x, T: logical.DecimalType(logical.MaxDecimalPrecision, 0)}
		}
		sumT, err := logical.AggregateResultType("sum", x.Type())
		if err != nil {
			return aggPart{}, false
		}
		sum := &logical.AggregateCall{Func: "sum", Args: []logical.Expr{x}, Filter: ag.Filter, T: sumT}
		count := &logical.AggregateCall{Func: "count", Args: ag.Args, Filter: ag.Filter, T: logical.Int64}
		return aggPart{
			partial: []*logical.AggregateCall{sum, count},
			names:   []string{name + ".sum", name + ".count"},
			final: func(cols []logical.Expr) *logical.AggregateCall {
				return &logical.AggregateCall{Func: "avg_merge", Args: cols, T: ag.T}
			},
		}, true
	}
	return aggPart{}, false
}

// splitAggregate plans a as a partial aggregate in in's stage, an exchange
// (hash on the group columns, or single without GROUP BY) and a final
// aggregate, followed by a projection giving a's exact output.
func (pl *planner) splitAggregate(a *logical.Aggregate, in frag, parts []aggPart) (frag, error) {
	var pAggs []*logical.AggregateCall
	var pNames []string
	for _, p := range parts {
		pAggs = append(pAggs, p.partial...)
		pNames = append(pNames, p.names...)
	}
	partial := logical.NewAggregate(in.plan, a.GroupBy, a.GroupNames, a.GroupingSets, pAggs, pNames)
	ps := partial.Schema()
	g := len(a.GroupBy)
	sets := len(a.GroupingSets) > 0

	// The final phase groups by the group columns, and by the grouping id
	// (the partial's last column) when there are grouping sets.
	var keys []logical.Expr
	names := slices.Clone(a.GroupNames)
	for i := range g {
		keys = append(keys, logical.Col(ps, i))
	}
	if sets {
		keys = append(keys, logical.Col(ps, ps.Len()-1))
		names = append(names, gidName)
	}
	pf := frag{plan: partial, tasks: in.tasks, inputs: in.inputs}
	var rf frag
	if hk := pl.hashKeys(a, keys); len(hk) > 0 {
		rf = pl.repartition(pf, hk, pl.cfg.Partitions)
	} else {
		rf = pl.gather(pf)
	}
	rs := rf.plan.Schema()
	var fAggs []*logical.AggregateCall
	col := g
	for _, p := range parts {
		cols := make([]logical.Expr, len(p.partial))
		for i := range cols {
			cols[i] = logical.Col(rs, col)
			col++
		}
		fAggs = append(fAggs, p.final(cols))
	}
	final := logical.NewAggregate(rf.plan, keys, names, nil, fAggs, a.AggNames)
	fs := final.Schema()
	nk := len(keys)

	// Restore a's output: group columns, aggregates (counts never NULL),
	// then the grouping id.
	exprs := make([]logical.Expr, 0, a.Schema().Len())
	for i := range g {
		exprs = append(exprs, logical.Col(fs, i))
	}
	for j, p := range parts {
		var e logical.Expr = logical.Col(fs, nk+j)
		if p.coalesceZero {
			e = &logical.Call{Func: "coalesce", Args: []logical.Expr{e, &logical.Literal{Value: int64(0), T: logical.Int64}}, T: logical.Int64}
		}
		exprs = append(exprs, e)
	}
	if sets {
		exprs = append(exprs, logical.Col(fs, g))
	}
	out := frag{plan: final, tasks: rf.tasks, inputs: rf.inputs}
	out.hash = projectHash(rf.hash, keys, fs)
	if !identity(exprs, a.Schema(), fs) {
		names := make([]string, len(exprs))
		quals := make([]string, len(exprs))
		for i, f := range a.Schema().Fields {
			names[i], quals[i] = f.Name, f.Qualifier
		}
		proj := logical.NewProject(final, exprs, names, quals)
		out.hash = projectHash(out.hash, exprs, proj.Schema())
		out.plan = proj
	}
	if err := sameSchema(a.Schema(), out.plan.Schema()); err != nil {
		return frag{}, fmt.Errorf("internal: split aggregate %s: %w", a, err)
	}
	return out, nil
}

// identity reports whether exprs pass the columns of have through in order
// and have already equals want (names, qualifiers, types, nullability).
func identity(exprs []logical.Expr, want, have *logical.Schema) bool {
	if len(exprs) != have.Len() || want.Len() != have.Len() {
		return false
	}
	for i, e := range exprs {
		c, ok := e.(*logical.ColumnRef)
		w, h := want.Fields[i], have.Fields[i]
		if !ok || c.Index != i || w.Name != h.Name || w.Qualifier != h.Qualifier ||
			!typeEqual(w.Type, h.Type) || w.Nullable != h.Nullable {
			return false
		}
	}
	return true
}
