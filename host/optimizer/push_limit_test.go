package optimizer

import (
	"testing"

	"github.com/arbalest/arbalest/substrait/logical"
)

func TestPushDownLimit(t *testing.T) {
	runRuleCases(t, PushDownLimit{}, []ruleCase{
		{
			name: "order by limit becomes a top-k sort",
			plan: func() logical.Plan {
				n := scan("nation")
				return limit(sortBy(n, -1, col(n, "n_name")), 0, 10)
			},
			want: `
				Sort: n_name#1 ASC NULLS LAST fetch=10
				  Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]`,
		},
		{
			name: "offset keeps the limit above the top-k sort",
			plan: func() logical.Plan {
				n := scan("nation")
				return limit(sortBy(n, -1, col(n, "n_name")), 5, 10)
			},
			want: `
				Limit: offset=5 count=10
				  Sort: n_name#1 ASC NULLS LAST fetch=15
				    Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]`,
		},
		{
			name: "through a projection into the sort",
			plan: func() logical.Plan {
				n := scan("nation")
				s := sortBy(n, -1, col(n, "n_name"))
				return limit(projectCols(s, "n_name"), 0, 3)
			},
			want: `
				Project: n_name#1
				  Sort: n_name#1 ASC NULLS LAST fetch=3
				    Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]`,
		},
		{
			name: "adjacent limits merge, the scan is bounded",
			plan: func() logical.Plan {
				return limit(limit(scan("nation"), 2, 10), 1, 20)
			},
			want: `
				Limit: offset=3 count=9
				  Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment] limit=12`,
		},
		{
			name: "into every input of union all and the preserved side of a left join (the join's own bound stays)",
			plan: func() logical.Plan {
				c, o := scan("customer"), scan("orders")
				j := projectCols(join(c, o, logical.JoinLeft, eq(jcol(c, o, "c_custkey"), jcol(c, o, "o_custkey"))), "c_nationkey")
				u := &logical.SetOp{Kind: logical.Union, All: true, Inputs: []logical.Plan{j, projectCols(scan("supplier"), "s_nationkey")}}
				return limit(u, 0, 5)
			},
			want: `
				Limit: offset=0 count=5
				  Union all
				    Project: c_nationkey#3
				      Limit: offset=0 count=5
				        Join: type=Left on=equal(c_custkey#0, o_custkey#9)
				          Limit: offset=0 count=5
				            Scan: customer projection=[c_custkey, c_name, c_address, c_nationkey, c_phone, c_acctbal, c_mktsegment, c_comment] limit=5
				          Scan: orders projection=[o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment]
				    Project: s_nationkey#3
				      Limit: offset=0 count=5
				        Scan: supplier projection=[s_suppkey, s_name, s_address, s_nationkey, s_phone, s_acctbal, s_comment] limit=5`,
		},
		{
			name: "not through a filter",
			plan: func() logical.Plan {
				n := scan("nation")
				return limit(filter(n, gt(col(n, "n_nationkey"), i64(3))), 0, 2)
			},
			want: `
				Limit: offset=0 count=2
				  Filter: gt(n_nationkey#0, 3)
				    Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]`,
		},
	})
}
