package optimizer

import (
	"testing"

	"github.com/arbalest/arbalest/substrait/logical"
)

func TestRewriteDistinctAggregate(t *testing.T) {
	runRuleCases(t, RewriteDistinctAggregate{}, []ruleCase{
		{
			name: "count distinct becomes two aggregates (Q16)",
			plan: func() logical.Plan {
				ps := scan("partsupp")
				return logical.NewAggregate(ps, []logical.Expr{col(ps, "ps_partkey")}, []string{"ps_partkey"}, nil,
					[]*logical.AggregateCall{agg("count", tInt64, true, col(ps, "ps_suppkey"))}, []string{"supplier_cnt"})
			},
			want: `
				Aggregate: groupBy=[ps_partkey#0], aggr=[count(__distinct_arg#1) AS supplier_cnt]
				  Aggregate: groupBy=[ps_partkey#0, ps_suppkey#1], aggr=[]
				    Scan: partsupp projection=[ps_partkey, ps_suppkey, ps_availqty, ps_supplycost, ps_comment]`,
		},
		{
			name: "mixed distinct and plain aggregates stay",
			plan: func() logical.Plan {
				ps := scan("partsupp")
				return logical.NewAggregate(ps, nil, nil, nil,
					[]*logical.AggregateCall{agg("count", tInt64, true, col(ps, "ps_suppkey")), agg("count", tInt64, false)},
					[]string{"a", "b"})
			},
			want: `
				Aggregate: groupBy=[], aggr=[count(DISTINCT ps_suppkey#1) AS a, count(*) AS b]
				  Scan: partsupp projection=[ps_partkey, ps_suppkey, ps_availqty, ps_supplycost, ps_comment]`,
		},
	})
}
