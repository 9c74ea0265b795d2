package optimizer

import (
	"testing"

	"github.com/arbalest/arbalest/substrait/logical"
)

func TestPruneColumns(t *testing.T) {
	sumMoney := logical.DecimalType(38, 2)
	runRuleCases(t, PruneColumns{}, []ruleCase{
		{
			name: "scan reads the projected and filtered columns",
			plan: func() logical.Plan {
				li := scan("lineitem")
				f := filter(li, lt(col(li, "l_shipdate"), date("1995-01-01")))
				return projectCols(f, "l_quantity", "l_orderkey")
			},
			want: `
				Project: l_quantity#1, l_orderkey#0
				  Filter: lt(l_shipdate#2, DATE '1995-01-01')
				    Scan: lineitem projection=[l_orderkey, l_quantity, l_shipdate]`,
		},
		{
			name: "scan filters are remapped",
			plan: func() logical.Plan {
				li := scan("lineitem")
				cond := lt(col(li, "l_shipdate"), date("1995-01-01"))
				s := li.WithProjection(nil, []logical.Expr{cond})
				return projectCols(filter(s, cond), "l_orderkey")
			},
			want: `
				Project: l_orderkey#0
				  Filter: lt(l_shipdate#1, DATE '1995-01-01')
				    Scan: lineitem projection=[l_orderkey, l_shipdate] filters=[lt(l_shipdate#1, DATE '1995-01-01')]`,
		},
		{
			name: "identity projection at the root is removed when names match",
			plan: func() logical.Plan {
				n := scan("nation")
				return projectCols(n, "n_nationkey", "n_name")
			},
			want: `Scan: nation projection=[n_nationkey, n_name]`,
		},
		{
			name: "renaming projection at the root stays",
			plan: func() logical.Plan {
				n := scan("nation")
				return project(n, "key", col(n, "n_nationkey"))
			},
			want: `
				Project: n_nationkey#0 AS key
				  Scan: nation projection=[n_nationkey]`,
		},
		{
			name: "join inputs are trimmed to what is used above and in the condition",
			plan: func() logical.Plan {
				c, o := scan("customer"), scan("orders")
				j := join(c, o, logical.JoinInner, eq(jcol(c, o, "c_custkey"), jcol(c, o, "o_custkey")))
				f := filter(j, gt(col(j, "o_totalprice"), dec("5", 15, 2)))
				return projectCols(f, "c_name", "o_orderdate")
			},
			want: `
				Project: c_name#1, o_orderdate#4
				  Filter: gt(o_totalprice#3, 5.00::decimal(15,2))
				    Join: type=Inner on=equal(c_custkey#0, o_custkey#2)
				      Scan: customer projection=[c_custkey, c_name]
				      Scan: orders projection=[o_custkey, o_totalprice, o_orderdate]`,
		},
		{
			name: "a join input that keeps filter columns is narrowed by a projection",
			plan: func() logical.Plan {
				c, o := scan("customer"), scan("orders")
				of := filter(o, lt(col(o, "o_orderdate"), date("1995-01-01")))
				j := join(c, of, logical.JoinInner, eq(jcol(c, of, "c_custkey"), jcol(c, of, "o_custkey")))
				return projectCols(j, "c_name")
			},
			want: `
				Project: c_name#1
				  Join: type=Inner on=equal(c_custkey#0, o_custkey#2)
				    Scan: customer projection=[c_custkey, c_name]
				    Project: o_custkey#0
				      Filter: lt(o_orderdate#1, DATE '1995-01-01')
				        Scan: orders projection=[o_custkey, o_orderdate]`,
		},
		{
			name: "unused aggregates are dropped, count(*) reads the narrowest column",
			plan: func() logical.Plan {
				li := scan("lineitem")
				a := logical.NewAggregate(li, []logical.Expr{col(li, "l_returnflag")}, []string{"flag"}, nil,
					[]*logical.AggregateCall{agg("sum", sumMoney, false, col(li, "l_quantity")), agg("count", tInt64, false)},
					[]string{"q", "n"})
				return projectCols(a, "flag", "n")
			},
			want: `
				Aggregate: groupBy=[l_returnflag#0], aggr=[count(*) AS n]
				  Scan: lineitem projection=[l_returnflag]`,
		},
		{
			name: "count(*) alone reads one narrow column",
			plan: func() logical.Plan {
				o := scan("orders")
				return logical.NewAggregate(o, nil, nil, nil, []*logical.AggregateCall{agg("count", tInt64, false)}, []string{"n"})
			},
			want: `
				Aggregate: groupBy=[], aggr=[count(*) AS n]
				  Scan: orders projection=[o_orderdate]`,
		},
		{
			name: "semi join reads only its key from the right input",
			plan: func() logical.Plan {
				o, li := scan("orders"), scan("lineitem")
				j := join(o, li, logical.JoinSemi, and(eq(jcol(o, li, "o_orderkey"), jcol(o, li, "l_orderkey")),
					lt(jcol(o, li, "l_commitdate"), jcol(o, li, "l_receiptdate"))))
				return projectCols(j, "o_orderpriority")
			},
			want: `
				Project: o_orderpriority#1
				  Join: type=Semi on=and(equal(o_orderkey#0, l_orderkey#2), lt(l_commitdate#3, l_receiptdate#4))
				    Scan: orders projection=[o_orderkey, o_orderpriority]
				    Scan: lineitem projection=[l_orderkey, l_commitdate, l_receiptdate]`,
		},
		{
			name: "mark join keeps its mark column",
			plan: func() logical.Plan {
				s, ps := scan("supplier"), scan("partsupp")
				j := join(s, ps, logical.JoinMark, eq(jcol(s, ps, "s_suppkey"), jcol(s, ps, "ps_suppkey")))
				return projectCols(j, "s_name", "__mark")
			},
			want: `
				Project: s_name#1, __mark#2
				  Join: type=Mark on=equal(s_suppkey#0, ps_suppkey#2)
				    Scan: supplier projection=[s_suppkey, s_name]
				    Scan: partsupp projection=[ps_suppkey]`,
		},
		{
			name: "cross join with nothing needed from one side",
			plan: func() logical.Plan {
				n, r := scan("nation"), scan("region")
				return projectCols(cross(n, r), "n_name")
			},
			want: `
				Project: n_name#0
				  Join: type=Cross
				    Scan: nation projection=[n_name]
				    Scan: region projection=[r_regionkey]`,
		},
		{
			name: "union all prunes every input alike, union distinct keeps all columns",
			plan: func() logical.Plan {
				a := projectCols(scan("customer"), "c_custkey", "c_nationkey")
				b := projectCols(scan("supplier"), "s_suppkey", "s_nationkey")
				u := &logical.SetOp{Kind: logical.Union, All: true, Inputs: []logical.Plan{a, b}}
				d := &logical.SetOp{Kind: logical.Union, Inputs: []logical.Plan{
					projectCols(scan("nation"), "n_nationkey", "n_regionkey"),
					projectCols(scan("region"), "r_regionkey", "r_regionkey")}}
				return projectCols(cross(u, d), "c_nationkey", "n_regionkey")
			},
			want: `
				Join: type=Cross
				  Union all
				    Scan: customer projection=[c_nationkey]
				    Scan: supplier projection=[s_nationkey]
				  Project: n_regionkey#1
				    Union
				      Scan: nation projection=[n_nationkey, n_regionkey]
				      Project: r_regionkey#0, r_regionkey#0
				        Scan: region projection=[r_regionkey]`,
		},
		{
			name: "unused window functions are dropped, sort keys are kept",
			plan: func() logical.Plan {
				n := scan("nation")
				w := logical.NewWindow(n, []*logical.WindowCall{
					{Func: "row_number", PartitionBy: []logical.Expr{col(n, "n_regionkey")}, T: tInt64},
					{Func: "rank", OrderBy: []logical.SortKey{{Expr: col(n, "n_comment")}}, T: tInt64}},
					[]string{"rn", "rk"})
				s := sortBy(w, -1, col(w, "n_nationkey"))
				return projectCols(s, "rn")
			},
			want: `
				Project: rn#1
				  Sort: n_nationkey#0 ASC NULLS LAST
				    Project: n_nationkey#0, rn#2
				      Window: row_number() OVER (PARTITION BY n_regionkey#1) AS rn
				        Scan: nation projection=[n_nationkey, n_regionkey]`,
		},
	})
}
