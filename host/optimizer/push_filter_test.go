package optimizer

import (
	"testing"

	"github.com/arbalest/arbalest/substrait/logical"
)

func TestPushDownFilter(t *testing.T) {
	runRuleCases(t, PushDownFilter{}, []ruleCase{
		{
			name: "cross join becomes equi-join, single-side conjuncts reach the scans",
			plan: func() logical.Plan {
				c, o := scan("customer"), scan("orders")
				j := cross(c, o)
				return filter(j, and(eq(col(j, "c_custkey"), col(j, "o_custkey")),
					eq(col(j, "c_mktsegment"), str("BUILDING")), lt(col(j, "o_orderdate"), date("1995-03-15"))))
			},
			want: `
				Join: type=Inner on=equal(c_custkey#0, o_custkey#9)
				  Filter: equal(c_mktsegment#6, 'BUILDING')
				    Scan: customer projection=[c_custkey, c_name, c_address, c_nationkey, c_phone, c_acctbal, c_mktsegment, c_comment] filters=[equal(c_mktsegment#6, 'BUILDING')]
				  Filter: lt(o_orderdate#4, DATE '1995-03-15')
				    Scan: orders projection=[o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment] filters=[lt(o_orderdate#4, DATE '1995-03-15')]`,
		},
		{
			name: "equality written right = left is oriented",
			plan: func() logical.Plan {
				n, r := scan("nation"), scan("region")
				j := join(n, r, logical.JoinInner, nil)
				return filter(j, eq(col(j, "r_regionkey"), col(j, "n_regionkey")))
			},
			want: `
				Join: type=Inner on=equal(n_regionkey#2, r_regionkey#4)
				  Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]
				  Scan: region projection=[r_regionkey, r_name, r_comment]`,
		},
		{
			name: "through a projection by substitution",
			plan: func() logical.Plan {
				li := scan("lineitem")
				p := project(li, "k", col(li, "l_orderkey"), "rev",
					call("multiply", logical.DecimalType(31, 4), col(li, "l_extendedprice"), col(li, "l_discount")))
				return filter(p, and(gt(col(p, "k"), i64(10)), gt(col(p, "rev"), dec("1", 31, 4))))
			},
			want: `
				Project: l_orderkey#0 AS k, multiply(l_extendedprice#5, l_discount#6) AS rev
				  Filter: and(gt(l_orderkey#0, 10), gt(multiply(l_extendedprice#5, l_discount#6), 1.0000))
				    Scan: lineitem projection=[l_orderkey, l_partkey, l_suppkey, l_linenumber, l_quantity, l_extendedprice, l_discount, l_tax, l_returnflag, l_linestatus, l_shipdate, l_commitdate, l_receiptdate, l_shipinstruct, l_shipmode, l_comment] filters=[gt(l_orderkey#0, 10), gt(multiply(l_extendedprice#5, l_discount#6), 1.0000)]`,
		},
		{
			name: "through an aggregate on group keys only",
			plan: func() logical.Plan {
				li := scan("lineitem")
				a := logical.NewAggregate(li, []logical.Expr{col(li, "l_orderkey")}, []string{"l_orderkey"}, nil,
					[]*logical.AggregateCall{agg("sum", logical.DecimalType(38, 2), false, col(li, "l_quantity"))}, []string{"q"})
				return filter(a, and(gt(col(a, "q"), dec("300", 38, 2)), lt(col(a, "l_orderkey"), i64(100))))
			},
			want: `
				Filter: gt(q#1, 300.00)
				  Aggregate: groupBy=[l_orderkey#0], aggr=[sum(l_quantity#4) AS q]
				    Filter: lt(l_orderkey#0, 100)
				      Scan: lineitem projection=[l_orderkey, l_partkey, l_suppkey, l_linenumber, l_quantity, l_extendedprice, l_discount, l_tax, l_returnflag, l_linestatus, l_shipdate, l_commitdate, l_receiptdate, l_shipinstruct, l_shipmode, l_comment] filters=[lt(l_orderkey#0, 100)]`,
		},
		{
			name: "not below an aggregate without group keys",
			plan: func() logical.Plan {
				li := scan("lineitem")
				a := logical.NewAggregate(li, nil, nil, nil,
					[]*logical.AggregateCall{agg("count", tInt64, false)}, []string{"n"})
				return filter(a, gt(col(a, "n"), i64(0)))
			},
			want: `
				Filter: gt(n#0, 0)
				  Aggregate: groupBy=[], aggr=[count(*) AS n]
				    Scan: lineitem projection=[l_orderkey, l_partkey, l_suppkey, l_linenumber, l_quantity, l_extendedprice, l_discount, l_tax, l_returnflag, l_linestatus, l_shipdate, l_commitdate, l_receiptdate, l_shipinstruct, l_shipmode, l_comment]`,
		},
		{
			name: "left join: preserved side and ON conjuncts move, IS NULL stays",
			plan: func() logical.Plan {
				c, o := scan("customer"), scan("orders")
				on := and(eq(jcol(c, o, "c_custkey"), jcol(c, o, "o_custkey")),
					call("like", logical.Bool, jcol(c, o, "o_comment"), str("%special%requests%")))
				j := join(c, o, logical.JoinLeft, on)
				return filter(j, and(gt(col(j, "c_acctbal"), dec("0", 15, 2)), call("is_null", logical.Bool, col(j, "o_orderkey"))))
			},
			want: `
				Filter: is_null(o_orderkey#8)
				  Join: type=Left on=equal(c_custkey#0, o_custkey#9)
				    Filter: gt(c_acctbal#5, 0.00::decimal(15,2))
				      Scan: customer projection=[c_custkey, c_name, c_address, c_nationkey, c_phone, c_acctbal, c_mktsegment, c_comment] filters=[gt(c_acctbal#5, 0.00::decimal(15,2))]
				    Filter: like(o_comment#8, '%special%requests%')
				      Scan: orders projection=[o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment] filters=[like(o_comment#8, '%special%requests%')]`,
		},
		{
			name: "left join with a null-rejecting WHERE on the right becomes inner",
			plan: func() logical.Plan {
				c, o := scan("customer"), scan("orders")
				j := join(c, o, logical.JoinLeft, eq(jcol(c, o, "c_custkey"), jcol(c, o, "o_custkey")))
				return filter(j, gt(col(j, "o_totalprice"), dec("1000", 15, 2)))
			},
			want: `
				Join: type=Inner on=equal(c_custkey#0, o_custkey#9)
				  Scan: customer projection=[c_custkey, c_name, c_address, c_nationkey, c_phone, c_acctbal, c_mktsegment, c_comment]
				  Filter: gt(o_totalprice#3, 1000.00::decimal(15,2))
				    Scan: orders projection=[o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment] filters=[gt(o_totalprice#3, 1000.00::decimal(15,2))]`,
		},
		{
			name: "ON conjunct over the preserved side stays in the left join",
			plan: func() logical.Plan {
				c, o := scan("customer"), scan("orders")
				j := join(c, o, logical.JoinLeft, and(eq(jcol(c, o, "c_custkey"), jcol(c, o, "o_custkey")),
					gt(jcol(c, o, "c_acctbal"), dec("0", 15, 2))))
				return j
			},
			want: `
				Join: type=Left on=and(equal(c_custkey#0, o_custkey#9), gt(c_acctbal#5, 0.00::decimal(15,2)))
				  Scan: customer projection=[c_custkey, c_name, c_address, c_nationkey, c_phone, c_acctbal, c_mktsegment, c_comment]
				  Scan: orders projection=[o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment]`,
		},
		{
			name: "transitive literal predicates",
			plan: func() logical.Plan {
				n, s := scan("nation"), scan("supplier")
				j := cross(n, s)
				return filter(j, and(eq(col(j, "n_nationkey"), col(j, "s_nationkey")), eq(col(j, "n_nationkey"), i64(7))))
			},
			want: `
				Join: type=Inner on=equal(n_nationkey#0, s_nationkey#7)
				  Filter: equal(n_nationkey#0, 7)
				    Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment] filters=[equal(n_nationkey#0, 7)]
				  Filter: equal(s_nationkey#3, 7)
				    Scan: supplier projection=[s_suppkey, s_name, s_address, s_nationkey, s_phone, s_acctbal, s_comment] filters=[equal(s_nationkey#3, 7)]`,
		},
		{
			name: "disjunction over both sides implies one per side (Q7)",
			plan: func() logical.Plan {
				n1, n2 := scan("nation", "n1"), scan("nation", "n2")
				j := cross(n1, n2)
				a, b := col(j, "n1.n_name"), col(j, "n2.n_name")
				return filter(j, or(and(eq(a, str("FRANCE")), eq(b, str("GERMANY"))), and(eq(a, str("GERMANY")), eq(b, str("FRANCE")))))
			},
			want: `
				Join: type=Inner on=or(and(equal(n_name#1, 'FRANCE'), equal(n_name#5, 'GERMANY')), and(equal(n_name#1, 'GERMANY'), equal(n_name#5, 'FRANCE')))
				  Filter: or(equal(n_name#1, 'FRANCE'), equal(n_name#1, 'GERMANY'))
				    Scan: nation AS n1 projection=[n_nationkey, n_name, n_regionkey, n_comment] filters=[or(equal(n_name#1, 'FRANCE'), equal(n_name#1, 'GERMANY'))]
				  Filter: or(equal(n_name#1, 'GERMANY'), equal(n_name#1, 'FRANCE'))
				    Scan: nation AS n2 projection=[n_nationkey, n_name, n_regionkey, n_comment] filters=[or(equal(n_name#1, 'GERMANY'), equal(n_name#1, 'FRANCE'))]`,
		},
		{
			name: "semi join: right-only ON conjunct filters the right input",
			plan: func() logical.Plan {
				o, li := scan("orders"), scan("lineitem")
				on := and(eq(jcol(o, li, "o_orderkey"), jcol(o, li, "l_orderkey")),
					lt(jcol(o, li, "l_commitdate"), jcol(o, li, "l_receiptdate")))
				j := join(o, li, logical.JoinSemi, on)
				return filter(j, eq(col(j, "o_orderstatus"), str("F")))
			},
			want: `
				Join: type=Semi on=equal(o_orderkey#0, l_orderkey#9)
				  Filter: equal(o_orderstatus#2, 'F')
				    Scan: orders projection=[o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment] filters=[equal(o_orderstatus#2, 'F')]
				  Filter: lt(l_commitdate#11, l_receiptdate#12)
				    Scan: lineitem projection=[l_orderkey, l_partkey, l_suppkey, l_linenumber, l_quantity, l_extendedprice, l_discount, l_tax, l_returnflag, l_linestatus, l_shipdate, l_commitdate, l_receiptdate, l_shipinstruct, l_shipmode, l_comment] filters=[lt(l_commitdate#11, l_receiptdate#12)]`,
		},
		{
			name: "anti join keeps a left-only ON conjunct",
			plan: func() logical.Plan {
				o, li := scan("orders"), scan("lineitem")
				on := and(eq(jcol(o, li, "o_orderkey"), jcol(o, li, "l_orderkey")), eq(jcol(o, li, "o_orderstatus"), str("F")))
				return join(o, li, logical.JoinAnti, on)
			},
			want: `
				Join: type=Anti on=and(equal(o_orderkey#0, l_orderkey#9), equal(o_orderstatus#2, 'F'))
				  Scan: orders projection=[o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment]
				  Scan: lineitem projection=[l_orderkey, l_partkey, l_suppkey, l_linenumber, l_quantity, l_extendedprice, l_discount, l_tax, l_returnflag, l_linestatus, l_shipdate, l_commitdate, l_receiptdate, l_shipinstruct, l_shipmode, l_comment]`,
		},
		{
			name: "a filter on the mark column turns a mark join into a semi join",
			plan: func() logical.Plan {
				s, ps := scan("supplier"), scan("partsupp")
				j := join(s, ps, logical.JoinMark, eq(jcol(s, ps, "s_suppkey"), jcol(s, ps, "ps_suppkey")))
				return filter(j, col(j, "__mark"))
			},
			want: `
				Project: s_suppkey#0, s_name#1, s_address#2, s_nationkey#3, s_phone#4, s_acctbal#5, s_comment#6, true AS __mark
				  Join: type=Semi on=equal(s_suppkey#0, ps_suppkey#8)
				    Scan: supplier projection=[s_suppkey, s_name, s_address, s_nationkey, s_phone, s_acctbal, s_comment]
				    Scan: partsupp projection=[ps_partkey, ps_suppkey, ps_availqty, ps_supplycost, ps_comment]`,
		},
		{
			name: "mark column under OR stays above the mark join",
			plan: func() logical.Plan {
				s, ps := scan("supplier"), scan("partsupp")
				j := join(s, ps, logical.JoinMark, eq(jcol(s, ps, "s_suppkey"), jcol(s, ps, "ps_suppkey")))
				return filter(j, and(or(col(j, "__mark"), gt(col(j, "s_acctbal"), dec("0", 15, 2))), eq(col(j, "s_name"), str("x"))))
			},
			want: `
				Filter: or(__mark#7, gt(s_acctbal#5, 0.00::decimal(15,2)))
				  Join: type=Mark on=equal(s_suppkey#0, ps_suppkey#8)
				    Filter: equal(s_name#1, 'x')
				      Scan: supplier projection=[s_suppkey, s_name, s_address, s_nationkey, s_phone, s_acctbal, s_comment] filters=[equal(s_name#1, 'x')]
				    Scan: partsupp projection=[ps_partkey, ps_suppkey, ps_availqty, ps_supplycost, ps_comment]`,
		},
		{
			name: "not below a top-k sort, through a plain sort",
			plan: func() logical.Plan {
				n := scan("nation")
				s1 := sortBy(n, 5, col(n, "n_name"))
				s2 := sortBy(filter(s1, gt(col(s1, "n_nationkey"), i64(1))), -1, col(n, "n_name"))
				return filter(s2, lt(col(s2, "n_nationkey"), i64(20)))
			},
			want: `
				Sort: n_name#1 ASC NULLS LAST
				  Filter: and(lt(n_nationkey#0, 20), gt(n_nationkey#0, 1))
				    Sort: n_name#1 ASC NULLS LAST fetch=5
				      Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment]`,
		},
		{
			name: "into every input of a union",
			plan: func() logical.Plan {
				a := projectCols(scan("customer"), "c_nationkey")
				b := projectCols(scan("supplier"), "s_nationkey")
				u := &logical.SetOp{Kind: logical.Union, All: true, Inputs: []logical.Plan{a, b}}
				return filter(u, eq(col(u, "c_nationkey"), i64(3)))
			},
			want: `
				Union all
				  Project: c_nationkey#3
				    Filter: equal(c_nationkey#3, 3)
				      Scan: customer projection=[c_custkey, c_name, c_address, c_nationkey, c_phone, c_acctbal, c_mktsegment, c_comment] filters=[equal(c_nationkey#3, 3)]
				  Project: s_nationkey#3
				    Filter: equal(s_nationkey#3, 3)
				      Scan: supplier projection=[s_suppkey, s_name, s_address, s_nationkey, s_phone, s_acctbal, s_comment] filters=[equal(s_nationkey#3, 3)]`,
		},
		{
			name: "through a window only on partition keys",
			plan: func() logical.Plan {
				n := scan("nation")
				w := logical.NewWindow(n, []*logical.WindowCall{{Func: "row_number", PartitionBy: []logical.Expr{col(n, "n_regionkey")},
					OrderBy: []logical.SortKey{{Expr: col(n, "n_name")}}, T: tInt64}}, []string{"rn"})
				return filter(w, and(eq(col(w, "n_regionkey"), i64(1)), eq(col(w, "rn"), i64(1)), gt(col(w, "n_nationkey"), i64(2))))
			},
			want: `
				Filter: and(equal(rn#4, 1), gt(n_nationkey#0, 2))
				  Window: row_number() OVER (PARTITION BY n_regionkey#2 ORDER BY n_name#1 ASC NULLS LAST) AS rn
				    Filter: equal(n_regionkey#2, 1)
				      Scan: nation projection=[n_nationkey, n_name, n_regionkey, n_comment] filters=[equal(n_regionkey#2, 1)]`,
		},
	})
}
