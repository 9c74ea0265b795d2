package optimizer

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/logical"
)

func TestSimplifyExpr(t *testing.T) {
	li := scan("lineitem")
	qty := col(li, "l_quantity")
	disc := col(li, "l_discount")
	ship := col(li, "l_shipdate")
	mode := col(li, "l_shipmode")
	key := col(li, "l_orderkey")
	nullableInt := &logical.ColumnRef{Index: 0, Name: "n", T: tInt64, CanBeNull: true}
	b := &logical.ColumnRef{Index: 1, Name: "b", T: logical.Bool, CanBeNull: true}
	c := &logical.ColumnRef{Index: 2, Name: "c", T: logical.Bool, CanBeNull: true}
	d42 := logical.DecimalType(4, 2)
	cases := []struct {
		name string
		in   logical.Expr
		want string
	}{
		{"int arithmetic", call("add", tInt64, i64(1), call("multiply", tInt64, i64(2), i64(3))), "7"},
		{"int overflow is left for run time", call("multiply", tInt64, i64(1<<62), i64(4)), "multiply(4611686018427387904, 4)"},
		{"int32 result range", call("add", tInt32, i32(2147483647), i32(1)), "add(2147483647, 1)"},
		{"integer division by zero stays", call("divide", tInt64, i64(1), i64(0)), "divide(1, 0)"},
		{"integer division truncates", call("divide", tInt64, i64(-7), i64(2)), "-3"},
		{"decimal subtract (Q6)", call("subtract", d42, dec("0.06", 3, 2), dec("0.01", 3, 2)), "0.05::decimal(4,2)"},
		{"decimal add different scales", call("add", logical.DecimalType(5, 3), dec("1.5", 2, 1), dec("0.25", 3, 2)), "1.750::decimal(5,3)"},
		{"decimal multiply", call("multiply", logical.DecimalType(7, 3), dec("1.5", 3, 1), dec("0.25", 3, 2)), "0.375::decimal(7,3)"},
		{"decimal divide is left for run time", call("divide", logical.DecimalType(10, 6), dec("1", 3, 0), dec("3", 3, 0)), "divide(1::decimal(3,0), 3::decimal(3,0))"},
		{"cast int to decimal", &logical.Cast{Input: i64(1), T: tMoney}, "1.00::decimal(15,2)"},
		{"cast decimal losing digits stays", &logical.Cast{Input: dec("1.25", 3, 2), T: logical.DecimalType(3, 1)}, "CAST(1.25::decimal(3,2) AS decimal64(3, 1))"},
		{"cast string to date", &logical.Cast{Input: str("1998-12-01"), T: tDate}, "DATE '1998-12-01'"},
		{"cast to same type", &logical.Cast{Input: qty, T: tMoney}, "l_quantity#4"},
		{"date minus days (Q1)", call("subtract", tDate, date("1998-12-01"), interval(0, 90)), "DATE '1998-09-02'"},
		{"date plus months (Q4)", call("add", tDate, date("1993-07-01"), interval(3, 0)), "DATE '1993-10-01'"},
		{"date plus year", call("add", tDate, date("1994-01-01"), interval(12, 0)), "DATE '1995-01-01'"},
		{"month end clamps", call("add", tDate, date("2024-01-31"), interval(1, 0)), "DATE '2024-02-29'"},
		{"date minus date", call("subtract", tInt32, date("1995-03-15"), date("1995-03-01")), "14"},
		{"literal comparison", lt(date("1995-01-01"), date("1996-01-01")), "true"},
		{"decimal comparison across scales", eq(dec("1.50", 3, 2), dec("1.5", 2, 1)), "true"},
		{"string comparison", gt(str("a"), str("b")), "false"},
		{"comparison with NULL", eq(key, logical.NullLiteral(tInt64)), "NULL"},
		{"arithmetic with NULL", call("add", tInt64, key, logical.NullLiteral(tInt64)), "NULL"},
		{"x AND true", and(lt(qty, dec("24", 15, 2)), boolLit(true)), "lt(l_quantity#4, 24.00::decimal(15,2))"},
		{"x AND false", and(b, boolLit(false)), "false"},
		{"x OR true", or(b, boolLit(true)), "true"},
		{"x OR false", or(b, boolLit(false)), "b#1"},
		{"nested and flattens and dedups", and(b, and(c, b)), "and(b#1, c#2)"},
		{"NOT NOT x", not(not(b)), "b#1"},
		{"NOT comparison", not(lt(key, i64(5))), "gte(l_orderkey#0, 5)"},
		{"NOT is_null", not(call("is_null", logical.Bool, nullableInt)), "is_not_null(n#0)"},
		{"NOT IN", not(&logical.InList{Input: key, List: []logical.Expr{i64(1), i64(2)}}), "l_orderkey#0 NOT IN (1, 2)"},
		{"x = x for non-null x", eq(key, key), "true"},
		{"x = x kept for nullable x", eq(nullableInt, nullableInt), "equal(n#0, n#0)"},
		{"x < x for non-null x", lt(key, key), "false"},
		{"is_null of non-null", call("is_null", logical.Bool, key), "false"},
		{"is_not_null of NULL", call("is_not_null", logical.Bool, logical.NullLiteral(tInt64)), "false"},
		{"between literals", call("between", logical.Bool, i64(5), i64(1), i64(10)), "true"},
		{"single IN element", &logical.InList{Input: mode, List: []logical.Expr{str("AIR")}}, "equal(l_shipmode#14, 'AIR')"},
		{"IN duplicates", &logical.InList{Input: mode, List: []logical.Expr{str("AIR"), str("MAIL"), str("AIR")}}, "l_shipmode#14 IN ('AIR', 'MAIL')"},
		{"IN of literals", &logical.InList{Input: i64(3), List: []logical.Expr{i64(1), i64(3)}}, "true"},
		{"IN with NULL and no match", &logical.InList{Input: i64(3), List: []logical.Expr{i64(1), logical.NullLiteral(tInt64)}}, "NULL"},
		{"like prefix", call("like", logical.Bool, mode, str("PROMO%")), "starts_with(l_shipmode#14, 'PROMO')"},
		{"like suffix", call("like", logical.Bool, mode, str("%BRASS")), "ends_with(l_shipmode#14, 'BRASS')"},
		{"like infix", call("like", logical.Bool, mode, str("%green%")), "contains(l_shipmode#14, 'green')"},
		{"like plain", call("like", logical.Bool, mode, str("AIR")), "equal(l_shipmode#14, 'AIR')"},
		{"like with inner wildcard stays", call("like", logical.Bool, mode, str("%special%requests%")), "like(l_shipmode#14, '%special%requests%')"},
		{"like with underscore stays", call("like", logical.Bool, mode, str("A_R%")), "like(l_shipmode#14, 'A_R%')"},
		{"coalesce drops NULLs", call("coalesce", tInt64, logical.NullLiteral(tInt64), key, nullableInt), "l_orderkey#0"},
		{"case with constant arms", &logical.Case{Whens: []logical.When{{Cond: boolLit(false), Then: i64(1)}, {Cond: boolLit(true), Then: i64(2)}}, Else: i64(3), T: tInt64}, "2"},
		{"factor OR (Q19)", or(and(eq(key, i64(1)), lt(qty, dec("1", 15, 2))), and(eq(key, i64(1)), gt(qty, dec("2", 15, 2)))),
			"and(equal(l_orderkey#0, 1), or(lt(l_quantity#4, 1.00::decimal(15,2)), gt(l_quantity#4, 2.00::decimal(15,2))))"},
		{"OR absorption", or(b, and(b, c)), "b#1"},
		{"Q6 range", call("between", logical.Bool, disc,
			&logical.Cast{Input: call("subtract", d42, dec("0.06", 3, 2), dec("0.01", 3, 2)), T: tMoney},
			&logical.Cast{Input: call("add", d42, dec("0.06", 3, 2), dec("0.01", 3, 2)), T: tMoney}),
			"between(l_discount#6, 0.05::decimal(15,2), 0.07::decimal(15,2))"},
		{"Q1 date", lte(ship, call("subtract", tDate, date("1998-12-01"), interval(0, 90))), "lte(l_shipdate#10, DATE '1998-09-02')"},
		{"NOT of float comparison stays", not(lt(&logical.ColumnRef{Index: 0, Name: "f", T: logical.Float64}, &logical.Literal{Value: 1.0, T: logical.Float64})), "not(lt(f#0, 1))"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Simplify(tc.in)
			if got.String() != tc.want {
				t.Errorf("Simplify(%s) = %s, want %s", tc.in, got, tc.want)
			}
			if !arrow.TypeEqual(got.Type(), tc.in.Type()) {
				t.Errorf("type changed from %s to %s", tc.in.Type(), got.Type())
			}
			if tc.in.Nullable() == false && got.Nullable() {
				t.Errorf("nullability widened")
			}
		})
	}
}

func TestSimplifyRule(t *testing.T) {
	runRuleCases(t, SimplifyExpressions{}, []ruleCase{
		{
			name: "filter, project, join condition and scan filters",
			plan: func() logical.Plan {
				o := scan("orders")
				c := scan("customer")
				j := join(c, o, logical.JoinInner, and(eq(jcol(c, o, "c_custkey"), jcol(c, o, "o_custkey")), boolLit(true)))
				f := filter(j, and(lt(col(j, "o_orderdate"), call("add", tDate, date("1995-03-15"), interval(0, 1))), eq(i64(1), i64(1))))
				return project(f, "k", call("add", tInt64, col(f, "o_orderkey"), call("subtract", tInt64, i64(3), i64(2))))
			},
			want: `
				Project: add(o_orderkey#8, 1) AS k
				  Filter: lt(o_orderdate#12, DATE '1995-03-16')
				    Join: type=Inner on=equal(c_custkey#0, o_custkey#9)
				      Scan: customer projection=[c_custkey, c_name, c_address, c_nationkey, c_phone, c_acctbal, c_mktsegment, c_comment]
				      Scan: orders projection=[o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority, o_clerk, o_shippriority, o_comment]`,
		},
		{
			name: "aggregate arguments",
			plan: func() logical.Plan {
				li := scan("lineitem")
				return logical.NewAggregate(li, []logical.Expr{col(li, "l_returnflag")}, []string{"l_returnflag"}, nil,
					[]*logical.AggregateCall{agg("sum", logical.DecimalType(38, 4), false,
						call("multiply", logical.DecimalType(31, 4), col(li, "l_extendedprice"),
							call("subtract", logical.DecimalType(16, 2), &logical.Cast{Input: i64(1), T: tMoney}, col(li, "l_discount"))))},
					[]string{"revenue"})
			},
			want: `
				Aggregate: groupBy=[l_returnflag#8], aggr=[sum(multiply(l_extendedprice#5, subtract(1.00::decimal(15,2), l_discount#6))) AS revenue]
				  Scan: lineitem projection=[l_orderkey, l_partkey, l_suppkey, l_linenumber, l_quantity, l_extendedprice, l_discount, l_tax, l_returnflag, l_linestatus, l_shipdate, l_commitdate, l_receiptdate, l_shipinstruct, l_shipmode, l_comment]`,
		},
	})
}
