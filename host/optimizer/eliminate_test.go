package optimizer

import (
	"testing"

	"github.com/arbalest/arbalest/substrait/logical"
)

func TestEliminateTrivialNodes(t *testing.T) {
	runRuleCases(t, EliminateTrivialNodes{}, []ruleCase{
		{
			name: "filter true and unbounded limit vanish",
			plan: func() logical.Plan { return limit(filter(scan("region"), boolLit(true)), 0, -1) },
			want: `Scan: region projection=[r_regionkey, r_name, r_comment]`,
		},
		{
			name: "filter false empties what it feeds, except an ungrouped aggregate",
			plan: func() logical.Plan {
				r := scan("region")
				j := join(filter(r, boolLit(false)), scan("nation"), logical.JoinInner, nil)
				return logical.NewAggregate(j, nil, nil, nil, []*logical.AggregateCall{agg("count", tInt64, false)}, []string{"n"})
			},
			want: `
				Aggregate: groupBy=[], aggr=[count(*) AS n]
				  Values: rows=0`,
		},
		{
			name: "adjacent filters and projections merge",
			plan: func() logical.Plan {
				n := scan("nation")
				f := filter(filter(n, gt(col(n, "n_nationkey"), i64(1))), lt(col(n, "n_nationkey"), i64(9)))
				p := project(f, "k", col(f, "n_nationkey"), "k2", call("add", tInt64, col(f, "n_regionkey"), i64(1)))
				return project(p, "x", call("multiply", tInt64, col(p, "k"), col(p, "k2")))
			},
			want: `
				Project: multiply(n_nationkey#0, add(n_regionkey#2, 1)) AS x
				  Filter: and(gt(n_nationkey#0, 1), lt(n_nationkey#0, 9))
				    Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]`,
		},
		{
			name: "projections do not merge when that recomputes an expression",
			plan: func() logical.Plan {
				n := scan("nation")
				p := project(n, "k2", call("add", tInt64, col(n, "n_regionkey"), i64(1)))
				return project(p, "x", call("multiply", tInt64, col(p, "k2"), col(p, "k2")))
			},
			want: `
				Project: multiply(k2#0, k2#0) AS x
				  Project: add(n_regionkey#2, 1) AS k2
				    Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]`,
		},
		{
			name: "sort under an aggregate and under another sort",
			plan: func() logical.Plan {
				n := scan("nation")
				s := sortBy(sortBy(n, -1, col(n, "n_name")), -1, col(n, "n_nationkey"))
				a := logical.NewAggregate(sortBy(n, -1, col(n, "n_name")), []logical.Expr{col(n, "n_regionkey")}, []string{"r"}, nil, nil, nil)
				return cross(s, a)
			},
			want: `
				Join: type=Cross
				  Sort: n_nationkey#0 ASC NULLS LAST
				    Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]
				  Aggregate: groupBy=[n_regionkey#2], aggr=[]
				    Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]`,
		},
		{
			name: "nested unions flatten, a single-input union is a distinct",
			plan: func() logical.Plan {
				a := projectCols(scan("nation"), "n_regionkey")
				b := projectCols(scan("region"), "r_regionkey")
				inner := &logical.SetOp{Kind: logical.Union, All: true, Inputs: []logical.Plan{a, b}}
				outer := &logical.SetOp{Kind: logical.Union, All: true, Inputs: []logical.Plan{inner, projectCols(scan("customer"), "c_nationkey")}}
				single := &logical.SetOp{Kind: logical.Union, Inputs: []logical.Plan{projectCols(scan("supplier"), "s_nationkey")}}
				return cross(outer, single)
			},
			want: `
				Join: type=Cross
				  Union all
				    Project: n_regionkey#2
				      Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]
				    Project: r_regionkey#0
				      Scan: region projection=[r_regionkey, r_name, r_comment]
				    Project: c_nationkey#3
				      Scan: customer projection=[c_custkey, c_name, c_address, c_nationkey, c_phone, c_acctbal, c_mktsegment, c_comment]
				  Aggregate: groupBy=[s_nationkey#0], aggr=[]
				    Project: s_nationkey#3
				      Scan: supplier projection=[s_suppkey, s_name, s_address, s_nationkey, s_phone, s_acctbal, s_comment]`,
		},
		{
			name: "empty first union input keeps the union's column names",
			plan: func() logical.Plan {
				a := projectCols(scan("nation"), "n_regionkey")
				b := projectCols(scan("region"), "r_regionkey")
				return &logical.SetOp{Kind: logical.Union, All: true, Inputs: []logical.Plan{filter(a, boolLit(false)), b}}
			},
			want: `
				Project: r_regionkey#0 AS n_regionkey
				  Scan: region projection=[r_regionkey, r_name, r_comment]`,
		},
	})
}
