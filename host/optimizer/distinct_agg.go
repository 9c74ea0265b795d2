package optimizer

import (
	"github.com/arbalest/arbalest/substrait/logical"
)

// RewriteDistinctAggregate turns an Aggregate whose aggregates are all
// DISTINCT over one and the same argument x (count(DISTINCT x), possibly
// with sum/avg/min/max(DISTINCT x)) into two plain Aggregates: the inner one
// groups by the keys and x (removing duplicates), the outer one groups by
// the keys and aggregates x without DISTINCT. Both are ordinary hash
// aggregates that parallelise, unlike per-group distinct sets.
type RewriteDistinctAggregate struct{}

// Name implements Rule.
func (RewriteDistinctAggregate) Name() string { return "rewrite_distinct_aggregate" }

// Apply implements Rule.
func (RewriteDistinctAggregate) Apply(p logical.Plan) (logical.Plan, error) {
	return logical.Transform(p, func(n logical.Plan) (logical.Plan, error) {
		a, ok := n.(*logical.Aggregate)
		if !ok {
			return n, nil
		}
		if x := distinctArgument(a); x != nil {
			return splitDistinct(a, x), nil
		}
		return n, nil
	})
}

// distinctArgument returns the common argument of an Aggregate whose
// aggregates are all DISTINCT over it, nil when the rewrite does not apply.
func distinctArgument(a *logical.Aggregate) logical.Expr {
	if len(a.Aggs) == 0 || len(a.GroupingSets) > 0 {
		return nil
	}
	var x logical.Expr
	for _, c := range a.Aggs {
		if !c.Distinct || c.Filter != nil || len(c.Args) != 1 {
			return nil
		}
		switch c.Func {
		case "count", "sum", "avg", "min", "max":
		default:
			return nil
		}
		if x == nil {
			x = c.Args[0]
		} else if !exprEqual(x, c.Args[0]) {
			return nil
		}
	}
	return x
}

func splitDistinct(a *logical.Aggregate, x logical.Expr) logical.Plan {
	ng := len(a.GroupBy)
	groups := append(append([]logical.Expr(nil), a.GroupBy...), x)
	gnames := append(append([]string(nil), a.GroupNames...), "__distinct_arg")
	inner := logical.NewAggregate(a.Input, groups, gnames, nil, nil, nil)
	is := inner.Schema()
	aggs := make([]*logical.AggregateCall, len(a.Aggs))
	for i, c := range a.Aggs {
		aggs[i] = &logical.AggregateCall{Func: c.Func, Args: []logical.Expr{logical.Col(is, ng)}, T: c.T}
	}
	return logical.NewAggregate(inner, logical.Cols(is, seq(ng)), a.GroupNames, nil, aggs, a.AggNames)
}
