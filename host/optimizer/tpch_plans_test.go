package optimizer

import (
	"github.com/arbalest/arbalest/substrait/logical"
)

// Hand-built plans shaped like the SQL binder's output for TPC-H queries:
// comma joins as left-deep cross joins under one Filter holding the WHERE
// clause, then Project / Aggregate / Sort / Limit as written.

var (
	tRev    = logical.DecimalType(38, 4)
	tRevRow = logical.DecimalType(32, 4) // l_extendedprice * (1 - l_discount)
	tOneMin = logical.DecimalType(16, 2) // 1 - l_discount
)

// crossAll joins inputs left-deep with cross joins, as FROM a, b, c does.
func crossAll(inputs ...logical.Plan) logical.Plan {
	p := inputs[0]
	for _, in := range inputs[1:] {
		p = cross(p, in)
	}
	return p
}

// where resolves column names against p and builds the conjunction.
func where(p logical.Plan, conds ...func(logical.Plan) logical.Expr) logical.Plan {
	es := make([]logical.Expr, len(conds))
	for i, c := range conds {
		es[i] = c(p)
	}
	return filter(p, logical.And(es...))
}

func colEq(a, b string) func(logical.Plan) logical.Expr {
	return func(p logical.Plan) logical.Expr { return eq(col(p, a), col(p, b)) }
}

func colCmp(fn func(a, b logical.Expr) logical.Expr, a string, v logical.Expr) func(logical.Plan) logical.Expr {
	return func(p logical.Plan) logical.Expr { return fn(col(p, a), v) }
}

func revenueExpr(p logical.Plan) logical.Expr {
	return call("multiply", tRevRow, col(p, "l_extendedprice"),
		call("subtract", tOneMin, &logical.Cast{Input: i64(1), T: tMoney}, col(p, "l_discount")))
}

// q3: shipping priority.
func q3() logical.Plan {
	f := where(crossAll(scan("customer"), scan("orders"), scan("lineitem")),
		colCmp(eq, "c_mktsegment", str("BUILDING")),
		colEq("c_custkey", "o_custkey"),
		colEq("l_orderkey", "o_orderkey"),
		colCmp(lt, "o_orderdate", date("1995-03-15")),
		colCmp(gt, "l_shipdate", date("1995-03-15")))
	a := logical.NewAggregate(f,
		[]logical.Expr{col(f, "l_orderkey"), col(f, "o_orderdate"), col(f, "o_shippriority")},
		[]string{"l_orderkey", "o_orderdate", "o_shippriority"}, nil,
		[]*logical.AggregateCall{agg("sum", tRev, false, revenueExpr(f))}, []string{"revenue"})
	p := projectCols(a, "l_orderkey", "revenue", "o_orderdate", "o_shippriority")
	s := &logical.Sort{Input: p, Keys: []logical.SortKey{{Expr: col(p, "revenue"), Descending: true}, {Expr: col(p, "o_orderdate")}}, Fetch: -1}
	return limit(s, 0, 10)
}

// q5: local supplier volume (6 tables).
func q5() logical.Plan {
	f := where(crossAll(scan("customer"), scan("orders"), scan("lineitem"), scan("supplier"), scan("nation"), scan("region")),
		colEq("c_custkey", "o_custkey"),
		colEq("l_orderkey", "o_orderkey"),
		colEq("l_suppkey", "s_suppkey"),
		colEq("c_nationkey", "s_nationkey"),
		colEq("s_nationkey", "n_nationkey"),
		colEq("n_regionkey", "r_regionkey"),
		colCmp(eq, "r_name", str("ASIA")),
		colCmp(gte, "o_orderdate", date("1994-01-01")),
		colCmp(lt, "o_orderdate", call("add", tDate, date("1994-01-01"), interval(12, 0))))
	a := logical.NewAggregate(f, []logical.Expr{col(f, "n_name")}, []string{"n_name"}, nil,
		[]*logical.AggregateCall{agg("sum", tRev, false, revenueExpr(f))}, []string{"revenue"})
	return &logical.Sort{Input: a, Keys: []logical.SortKey{{Expr: col(a, "revenue"), Descending: true}}, Fetch: -1}
}

// q8: national market share (8 tables, two nation aliases).
func q8() logical.Plan {
	f := where(crossAll(scan("part"), scan("supplier"), scan("lineitem"), scan("orders"), scan("customer"),
		scan("nation", "n1"), scan("nation", "n2"), scan("region")),
		colEq("p_partkey", "l_partkey"),
		colEq("s_suppkey", "l_suppkey"),
		colEq("l_orderkey", "o_orderkey"),
		colEq("o_custkey", "c_custkey"),
		colEq("c_nationkey", "n1.n_nationkey"),
		colEq("n1.n_regionkey", "r_regionkey"),
		colCmp(eq, "r_name", str("AMERICA")),
		colEq("s_nationkey", "n2.n_nationkey"),
		func(p logical.Plan) logical.Expr {
			return call("between", logical.Bool, col(p, "o_orderdate"), date("1995-01-01"), date("1996-12-31"))
		},
		colCmp(eq, "p_type", str("ECONOMY ANODIZED STEEL")))
	p := project(f,
		"o_year", call("extract", tInt64, col(f, "o_orderdate")),
		"volume", revenueExpr(f),
		"nation", col(f, "n2.n_name"))
	a := logical.NewAggregate(p, []logical.Expr{col(p, "o_year")}, []string{"o_year"}, nil,
		[]*logical.AggregateCall{
			agg("sum", tRev, false, &logical.Case{Whens: []logical.When{{Cond: eq(col(p, "nation"), str("BRAZIL")), Then: col(p, "volume")}},
				Else: &logical.Cast{Input: i64(0), T: tRevRow}, T: tRevRow}),
			agg("sum", tRev, false, col(p, "volume"))},
		[]string{"brazil", "total"})
	return sortBy(a, -1, col(a, "o_year"))
}

// q9: product type profit (6 tables, lineitem–partsupp on a composite key).
func q9() logical.Plan {
	f := where(crossAll(scan("part"), scan("supplier"), scan("lineitem"), scan("partsupp"), scan("orders"), scan("nation")),
		colEq("s_suppkey", "l_suppkey"),
		colEq("ps_suppkey", "l_suppkey"),
		colEq("ps_partkey", "l_partkey"),
		colEq("p_partkey", "l_partkey"),
		colEq("o_orderkey", "l_orderkey"),
		colEq("s_nationkey", "n_nationkey"),
		func(p logical.Plan) logical.Expr { return call("like", logical.Bool, col(p, "p_name"), str("%green%")) })
	p := project(f,
		"nation", col(f, "n_name"),
		"o_year", call("extract", tInt64, col(f, "o_orderdate")),
		"amount", call("subtract", logical.DecimalType(33, 4), revenueExpr(f),
			call("multiply", logical.DecimalType(31, 4), col(f, "ps_supplycost"), col(f, "l_quantity"))))
	a := logical.NewAggregate(p, []logical.Expr{col(p, "nation"), col(p, "o_year")}, []string{"nation", "o_year"}, nil,
		[]*logical.AggregateCall{agg("sum", tRev, false, col(p, "amount"))}, []string{"sum_profit"})
	return sortBy(a, -1, col(a, "nation"), col(a, "o_year"))
}

// q21: suppliers who kept orders waiting (EXISTS / NOT EXISTS as semi and
// anti joins over lineitem aliases).
func q21() logical.Plan {
	base := crossAll(scan("supplier"), scan("lineitem", "l1"), scan("orders"), scan("nation"))
	l2 := scan("lineitem", "l2")
	semi := join(base, l2, logical.JoinSemi, and(
		eq(jcol(base, l2, "l2.l_orderkey"), jcol(base, l2, "l1.l_orderkey")),
		ne(jcol(base, l2, "l2.l_suppkey"), jcol(base, l2, "l1.l_suppkey"))))
	l3 := scan("lineitem", "l3")
	anti := join(semi, l3, logical.JoinAnti, and(
		eq(jcol(semi, l3, "l3.l_orderkey"), jcol(semi, l3, "l1.l_orderkey")),
		ne(jcol(semi, l3, "l3.l_suppkey"), jcol(semi, l3, "l1.l_suppkey")),
		gt(jcol(semi, l3, "l3.l_receiptdate"), jcol(semi, l3, "l3.l_commitdate"))))
	f := where(anti,
		colEq("s_suppkey", "l1.l_suppkey"),
		colEq("o_orderkey", "l1.l_orderkey"),
		colCmp(eq, "o_orderstatus", str("F")),
		func(p logical.Plan) logical.Expr { return gt(col(p, "l1.l_receiptdate"), col(p, "l1.l_commitdate")) },
		colEq("s_nationkey", "n_nationkey"),
		colCmp(eq, "n_name", str("SAUDI ARABIA")))
	a := logical.NewAggregate(f, []logical.Expr{col(f, "s_name")}, []string{"s_name"}, nil,
		[]*logical.AggregateCall{agg("count", tInt64, false)}, []string{"numwait"})
	s := &logical.Sort{Input: a, Keys: []logical.SortKey{{Expr: col(a, "numwait"), Descending: true}, {Expr: col(a, "s_name")}}, Fetch: -1}
	return limit(s, 0, 100)
}

// q13: customer distribution (LEFT JOIN with a condition in ON, count over
// the nullable side, then a second aggregate).
func q13() logical.Plan {
	c, o := scan("customer"), scan("orders")
	j := join(c, o, logical.JoinLeft, and(eq(jcol(c, o, "c_custkey"), jcol(c, o, "o_custkey")),
		not(call("like", logical.Bool, jcol(c, o, "o_comment"), str("%special%requests%")))))
	a := logical.NewAggregate(j, []logical.Expr{col(j, "c_custkey")}, []string{"c_custkey"}, nil,
		[]*logical.AggregateCall{agg("count", tInt64, false, col(j, "o_orderkey"))}, []string{"c_count"})
	b := logical.NewAggregate(a, []logical.Expr{col(a, "c_count")}, []string{"c_count"}, nil,
		[]*logical.AggregateCall{agg("count", tInt64, false)}, []string{"custdist"})
	return &logical.Sort{Input: b, Keys: []logical.SortKey{{Expr: col(b, "custdist"), Descending: true}, {Expr: col(b, "c_count"), Descending: true}}, Fetch: -1}
}
