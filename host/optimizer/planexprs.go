package optimizer

import (
	"github.com/arbalest/arbalest/substrait/logical"
)

// mapNodeExprs rebuilds node n with every expression it holds replaced by
// f(expression). Output names and qualifiers are kept; schemas are
// recomputed where the node derives them from its expressions. f must keep
// each expression's type. Scan filters and join conditions that become the
// literal true are dropped.
func mapNodeExprs(n logical.Plan, f func(logical.Expr) logical.Expr) logical.Plan {
	switch x := n.(type) {
	case *logical.Scan:
		if len(x.Filters) == 0 {
			return x
		}
		fs := make([]logical.Expr, 0, len(x.Filters))
		for _, e := range x.Filters {
			if e = f(e); !isTrue(e) {
				fs = append(fs, e)
			}
		}
		return x.WithProjection(x.Projection, dedupExprs(fs))
	case *logical.Values:
		rows := make([][]logical.Expr, len(x.Rows))
		for i, r := range x.Rows {
			rows[i] = mapExprs(r, f)
		}
		return logical.NewValues(x.Schema(), rows)
	case *logical.Filter:
		return &logical.Filter{Input: x.Input, Cond: f(x.Cond)}
	case *logical.Project:
		return rebuildProject(x, x.Input, mapExprs(x.Exprs, f))
	case *logical.Aggregate:
		aggs := make([]*logical.AggregateCall, len(x.Aggs))
		for i, a := range x.Aggs {
			c := *a
			c.Args = mapExprs(a.Args, f)
			if a.Filter != nil {
				c.Filter = f(a.Filter)
				if isTrue(c.Filter) {
					c.Filter = nil
				}
			}
			aggs[i] = &c
		}
		return logical.NewAggregate(x.Input, mapExprs(x.GroupBy, f), x.GroupNames, x.GroupingSets, aggs, x.AggNames)
	case *logical.Join:
		on := x.On
		if on != nil {
			on = f(on)
			if isTrue(on) {
				on = nil
			}
		}
		j := logical.NewJoin(x.Left, x.Right, x.Type, on)
		j.NullAware = x.NullAware
		return j
	case *logical.Sort:
		s := *x
		s.Keys = make([]logical.SortKey, len(x.Keys))
		for i, k := range x.Keys {
			s.Keys[i] = k
			s.Keys[i].Expr = f(k.Expr)
		}
		return &s
	case *logical.Window:
		funcs := make([]*logical.WindowCall, len(x.Funcs))
		for i, w := range x.Funcs {
			c := *w
			c.Args = mapExprs(w.Args, f)
			c.PartitionBy = mapExprs(w.PartitionBy, f)
			c.OrderBy = make([]logical.SortKey, len(w.OrderBy))
			for j, k := range w.OrderBy {
				c.OrderBy[j] = k
				c.OrderBy[j].Expr = f(k.Expr)
			}
			funcs[i] = &c
		}
		return logical.NewWindow(x.Input, funcs, x.Names)
	}
	return n
}

func mapExprs(list []logical.Expr, f func(logical.Expr) logical.Expr) []logical.Expr {
	out := make([]logical.Expr, len(list))
	for i, e := range list {
		out[i] = f(e)
	}
	return out
}
