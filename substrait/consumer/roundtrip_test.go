package consumer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
	"google.golang.org/protobuf/proto"
)

type resolver map[string]*logical.TableSource

func (r resolver) ResolveTable(names []string) (*logical.TableSource, error) {
	if t, ok := r[strings.Join(names, ".")]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("table %s not found", strings.Join(names, "."))
}

var (
	ordersSrc = &logical.TableSource{Name: "orders", Format: "parquet", Location: "/data/orders", RowCount: -1,
		Schema: arrow.NewSchema([]arrow.Field{
			{Name: "o_orderkey", Type: arrow.PrimitiveTypes.Int64},
			{Name: "o_custkey", Type: arrow.PrimitiveTypes.Int64},
			{Name: "o_totalprice", Type: logical.DecimalType(15, 2)},
			{Name: "o_orderdate", Type: logical.Date32},
			{Name: "o_comment", Type: logical.Utf8, Nullable: true},
			{Name: "o_ts", Type: logical.TimestampUs, Nullable: true},
		}, nil)}
	custSrc = &logical.TableSource{Name: "customer", Format: "parquet", Location: "/data/customer", RowCount: -1,
		Schema: arrow.NewSchema([]arrow.Field{
			{Name: "c_custkey", Type: arrow.PrimitiveTypes.Int64},
			{Name: "c_name", Type: logical.Utf8},
			{Name: "c_acctbal", Type: logical.DecimalType(15, 2), Nullable: true},
		}, nil)}
	testResolver = resolver{"orders": ordersSrc, "customer": custSrc}
)

func lit(v any, t arrow.DataType) *logical.Literal { return &logical.Literal{Value: v, T: t} }

func call(fn string, t arrow.DataType, args ...logical.Expr) *logical.Call {
	n := false
	for _, a := range args {
		n = n || a.Nullable()
	}
	return &logical.Call{Func: fn, Args: args, T: t, NullableOut: n}
}

// testPlans builds plans covering every node and expression kind.
func testPlans() map[string]logical.Plan {
	plans := map[string]logical.Plan{}
	orders := logical.NewScan(ordersSrc, "o", nil)
	os := orders.Schema()
	cust := logical.NewScan(custSrc, "", []int{0, 2, 1})
	cs := cust.Schema()

	// Scan with filters and limit, projection.
	sc := logical.NewScan(ordersSrc, "", []int{3, 0, 4})
	sc.Filters = []logical.Expr{
		call("gte", logical.Bool, logical.Col(sc.Schema(), 0), lit(arrow.Date32(9000), logical.Date32)),
		call("is_not_null", logical.Bool, logical.Col(sc.Schema(), 2)),
	}
	sc.Limit = 10
	plans["scan"] = sc

	// Project with every literal and expression kind.
	dec38 := logical.DecimalType(38, 4)
	exprs := []logical.Expr{
		lit(true, logical.Bool),
		lit(int8(-3), arrow.PrimitiveTypes.Int8),
		lit(int16(300), arrow.PrimitiveTypes.Int16),
		lit(int32(-70000), arrow.PrimitiveTypes.Int32),
		lit(int64(1)<<40, logical.Int64),
		lit(float32(1.5), arrow.PrimitiveTypes.Float32),
		lit(2.25, logical.Float64),
		lit("it's", logical.Utf8),
		lit([]byte{1, 2, 3}, arrow.BinaryTypes.Binary),
		lit(int64(-12345), logical.DecimalType(15, 2)),
		lit(decimal128.New(-5, 12345), dec38),
		lit(arrow.Date32(-400), logical.Date32),
		lit(arrow.Timestamp(1700000000123456), logical.TimestampUs),
		lit(arrow.MonthDayNanoInterval{Months: 14}, logical.Interval),
		lit(arrow.MonthDayNanoInterval{Days: 3, Nanoseconds: -1500000001}, logical.Interval),
		lit(arrow.MonthDayNanoInterval{Months: -1, Days: 2, Nanoseconds: 7}, logical.Interval),
		logical.NullLiteral(logical.Utf8),
		logical.NullLiteral(dec38),
		call("add", logical.Int64, logical.Col(os, 0), logical.Col(os, 1)),
		call("multiply", logical.DecimalType(31, 4), logical.Col(os, 2), lit(int64(5), logical.DecimalType(15, 2))),
		call("add", logical.Date32, logical.Col(os, 3), lit(arrow.MonthDayNanoInterval{Months: 1}, logical.Interval)),
		&logical.Call{Func: "extract", Args: []logical.Expr{logical.Col(os, 3)}, T: logical.Int64, Options: map[string]string{"component": "YEAR"}},
		&logical.Call{Func: "extract", Args: []logical.Expr{logical.Col(os, 3)}, T: logical.Int64, Options: map[string]string{"component": "QUARTER"}},
		&logical.Call{Func: "extract", Args: []logical.Expr{logical.Col(os, 5)}, T: logical.Float64, NullableOut: true, Options: map[string]string{"component": "EPOCH"}},
		&logical.Call{Func: "extract", Args: []logical.Expr{logical.Col(os, 3)}, T: logical.Int64, Options: map[string]string{"component": "DAY_OF_WEEK"}},
		&logical.Call{Func: "date_trunc", Args: []logical.Expr{logical.Col(os, 3)}, T: logical.Date32, Options: map[string]string{"unit": "MONTH"}},
		call("ilike", logical.Bool, logical.Col(os, 4), lit("%x%", logical.Utf8)),
		&logical.Call{Func: "like", Args: []logical.Expr{logical.Col(os, 4), lit("a!%%", logical.Utf8)}, T: logical.Bool, NullableOut: true, Options: map[string]string{"escape": "!"}},
		call("substring", logical.Utf8, logical.Col(os, 4), lit(int64(1), logical.Int64), lit(int64(3), logical.Int64)),
		call("and", logical.Bool, call("gt", logical.Bool, logical.Col(os, 0), lit(int64(1), logical.Int64)),
			call("lt", logical.Bool, logical.Col(os, 0), lit(int64(9), logical.Int64)), call("is_null", logical.Bool, logical.Col(os, 4))),
		call("concat", logical.Utf8, logical.Col(os, 4), lit("-", logical.Utf8), logical.Col(os, 4)),
		call("regexp_match", logical.Bool, logical.Col(os, 4), lit("^a+", logical.Utf8)),
		call("split_part", logical.Utf8, logical.Col(os, 4), lit(",", logical.Utf8), lit(int64(2), logical.Int64)),
		call("current_date", logical.Date32),
		&logical.Cast{Input: logical.Col(os, 0), T: logical.Utf8},
		&logical.Cast{Input: logical.Col(os, 4), T: logical.Int64, Try: true},
		&logical.Case{Whens: []logical.When{
			{Cond: call("gt", logical.Bool, logical.Col(os, 0), lit(int64(0), logical.Int64)), Then: lit("pos", logical.Utf8)},
			{Cond: call("lt", logical.Bool, logical.Col(os, 0), lit(int64(0), logical.Int64)), Then: lit("neg", logical.Utf8)},
		}, Else: logical.NullLiteral(logical.Utf8), T: logical.Utf8},
		&logical.Case{Whens: []logical.When{{Cond: lit(true, logical.Bool), Then: lit(int64(1), logical.Int64)}}, T: logical.Int64},
		&logical.InList{Input: logical.Col(os, 0), List: []logical.Expr{lit(int64(1), logical.Int64), lit(int64(2), logical.Int64)}},
		&logical.InList{Input: logical.Col(os, 4), List: []logical.Expr{lit("a", logical.Utf8)}, Negated: true},
		logical.Col(os, 2),
	}
	names := make([]string, len(exprs))
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i)
	}
	names[len(names)-1] = "o_totalprice"
	plans["project"] = logical.NewProject(&logical.Filter{Input: orders, Cond: call("gt", logical.Bool, logical.Col(os, 0), lit(int64(5), logical.Int64))}, exprs, names, nil)

	// Values.
	vs := logical.NewSchema(logical.Field{Name: "a", Type: logical.Int64}, logical.Field{Name: "b", Type: logical.Utf8, Nullable: true})
	plans["values"] = logical.NewValues(vs, [][]logical.Expr{
		{lit(int64(1), logical.Int64), lit("x", logical.Utf8)},
		{lit(int64(2), logical.Int64), logical.NullLiteral(logical.Utf8)},
	})

	// Aggregates.
	sum, _ := logical.AggregateResultType("sum", logical.DecimalType(15, 2))
	avg, _ := logical.AggregateResultType("avg", logical.DecimalType(15, 2))
	aggs := []*logical.AggregateCall{
		{Func: "count", T: logical.Int64},
		{Func: "count", Args: []logical.Expr{logical.Col(os, 4)}, Distinct: true, T: logical.Int64},
		{Func: "sum", Args: []logical.Expr{logical.Col(os, 2)}, T: sum, Filter: call("gt", logical.Bool, logical.Col(os, 0), lit(int64(3), logical.Int64))},
		{Func: "avg", Args: []logical.Expr{logical.Col(os, 2)}, T: avg},
		{Func: "stddev_samp", Args: []logical.Expr{logical.Col(os, 0)}, T: logical.Float64},
		{Func: "var_pop", Args: []logical.Expr{logical.Col(os, 0)}, T: logical.Float64},
		{Func: "max", Args: []logical.Expr{logical.Col(os, 3)}, T: logical.Date32},
		{Func: "min", Args: []logical.Expr{logical.Col(os, 4)}, T: logical.Utf8},
	}
	aggNames := []string{"cnt", "dcnt", "s", "a", "sd", "vp", "mx", "mn"}
	yr := &logical.Call{Func: "extract", Args: []logical.Expr{logical.Col(os, 3)}, T: logical.Int64, Options: map[string]string{"component": "YEAR"}}
	plans["aggregate"] = logical.NewAggregate(orders, []logical.Expr{logical.Col(os, 1), yr}, []string{"o_custkey", "yr"}, nil, aggs, aggNames)
	plans["aggregate_global"] = logical.NewAggregate(orders, nil, nil, nil, aggs[:3], aggNames[:3])
	plans["aggregate_distinct"] = logical.NewAggregate(orders, []logical.Expr{logical.Col(os, 1)}, []string{"o_custkey"}, nil, nil, nil)
	rollup := logical.NewAggregate(orders, []logical.Expr{logical.Col(os, 1), yr}, []string{"o_custkey", "yr"}, [][]int{{0, 1}, {0}, {}}, aggs[:1], aggNames[:1])
	plans["aggregate_rollup"] = &logical.Sort{Input: rollup, Keys: []logical.SortKey{{Expr: logical.Col(rollup.Schema(), 3)}}, Fetch: -1}
	plans["aggregate_one_set"] = logical.NewAggregate(orders, []logical.Expr{logical.Col(os, 1)}, []string{"o_custkey"}, [][]int{{0}}, aggs[:1], aggNames[:1])

	// Joins.
	both := logical.Concat(os, cs)
	on := logical.Equal(logical.Col(both, 1), logical.Col(both, len(os.Fields)))
	for _, t := range []logical.JoinType{logical.JoinInner, logical.JoinLeft, logical.JoinRight, logical.JoinFull, logical.JoinSemi, logical.JoinAnti, logical.JoinSingle, logical.JoinMark} {
		plans["join_"+t.String()] = logical.NewJoin(orders, cust, t, on)
	}
	na := logical.NewJoin(orders, cust, logical.JoinAnti, on)
	na.NullAware = true
	plans["join_null_aware"] = na
	plans["join_cross"] = logical.NewJoin(orders, cust, logical.JoinCross, nil)
	plans["join_no_condition"] = logical.NewJoin(orders, cust, logical.JoinInner, nil)

	// Sort, top-k, limit.
	keys := []logical.SortKey{{Expr: logical.Col(os, 2), Descending: true}, {Expr: logical.Col(os, 4), NullsFirst: true}, {Expr: logical.Col(os, 0), Descending: true, NullsFirst: true}}
	plans["topk"] = &logical.Sort{Input: orders, Keys: keys, Fetch: 10}
	plans["limit_sort"] = &logical.Limit{Input: &logical.Sort{Input: orders, Keys: keys, Fetch: -1}, Offset: 0, Count: 10}
	plans["limit_offset"] = &logical.Limit{Input: orders, Offset: 5, Count: -1}

	// Set operations.
	a := logical.NewProject(orders, []logical.Expr{logical.Col(os, 1)}, []string{"k"}, nil)
	b := logical.NewProject(cust, []logical.Expr{logical.Col(cs, 0)}, []string{"k"}, nil)
	for _, k := range []logical.SetOpKind{logical.Union, logical.Intersect, logical.Except} {
		for _, all := range []bool{false, true} {
			plans[fmt.Sprintf("set_%s_%v", k, all)] = &logical.SetOp{Kind: k, All: all, Inputs: []logical.Plan{a, b, a}}
		}
	}

	// Windows: one consistent, one with mixed partitioning.
	part := []logical.Expr{logical.Col(os, 1)}
	ord := []logical.SortKey{{Expr: logical.Col(os, 3)}}
	rn := &logical.WindowCall{Func: "row_number", PartitionBy: part, OrderBy: ord, T: logical.Int64}
	rs := &logical.WindowCall{Func: "sum", Args: []logical.Expr{logical.Col(os, 2)}, PartitionBy: part, OrderBy: ord, T: sum,
		Frame: &logical.Frame{Type: logical.FrameRows, Start: logical.FrameBound{Kind: logical.Preceding, Offset: lit(int64(3), logical.Int64)}, End: logical.FrameBound{Kind: logical.CurrentRow}}}
	lg := &logical.WindowCall{Func: "lag", Args: []logical.Expr{logical.Col(os, 2), lit(int32(2), arrow.PrimitiveTypes.Int32)}, PartitionBy: part, OrderBy: ord, T: logical.DecimalType(15, 2),
		Frame: &logical.Frame{Type: logical.FrameRange, Start: logical.FrameBound{Kind: logical.UnboundedPreceding}, End: logical.FrameBound{Kind: logical.Following, Offset: lit(int64(2), logical.Int64)}}}
	plans["window"] = logical.NewWindow(orders, []*logical.WindowCall{rn, rs, lg}, []string{"rn", "rs", "lg"})
	rk := &logical.WindowCall{Func: "rank", OrderBy: []logical.SortKey{{Expr: logical.Col(os, 2), Descending: true}}, T: logical.Int64}
	tot := &logical.WindowCall{Func: "count", T: logical.Int64,
		Frame: &logical.Frame{Type: logical.FrameRows, Start: logical.FrameBound{Kind: logical.UnboundedPreceding}, End: logical.FrameBound{Kind: logical.UnboundedFollowing}}}
	plans["window_mixed"] = logical.NewWindow(orders, []*logical.WindowCall{rn, rk, tot}, []string{"rn", "rk", "tot"})
	return plans
}

func TestRoundTrip(t *testing.T) {
	for name, p := range testPlans() {
		t.Run(name, func(t *testing.T) {
			want := logical.Format(p)
			pp, err := producer.ToProto(p)
			if err != nil {
				t.Fatalf("ToProto: %v\n%s", err, want)
			}
			got, err := consumer.FromProto(pp, testResolver)
			if err != nil {
				js, _ := producer.ToJSON(p)
				t.Fatalf("FromProto: %v\n%s\n%s", err, want, js)
			}
			if g := logical.Format(got); g != want {
				t.Fatalf("round trip differs\nwant:\n%s\ngot:\n%s", want, g)
			}
			if g, w := got.Schema().String(), p.Schema().String(); stripQualifiers(g) != stripQualifiers(w) {
				t.Fatalf("schema differs\nwant %s\ngot  %s", w, g)
			}
			// Through bytes, JSON and Normalize too.
			b, err := proto.Marshal(pp)
			if err != nil {
				t.Fatal(err)
			}
			got2, err := consumer.FromBytes(b, testResolver)
			if err != nil {
				t.Fatalf("FromBytes: %v", err)
			}
			if g := logical.Format(got2); g != want {
				t.Fatalf("binary round trip differs\nwant:\n%s\ngot:\n%s", want, g)
			}
			js, err := producer.ToJSON(p)
			if err != nil {
				t.Fatal(err)
			}
			got3, err := consumer.FromBytes(js, testResolver)
			if err != nil {
				t.Fatalf("FromBytes(JSON): %v", err)
			}
			if g := logical.Format(got3); g != want {
				t.Fatalf("JSON round trip differs\nwant:\n%s\ngot:\n%s", want, g)
			}
		})
	}
}

// stripQualifiers drops column qualifiers, which only the scan alias
// carries through Substrait.
func stripQualifiers(s string) string {
	parts := strings.Split(strings.Trim(s, "[]"), ", ")
	for i, p := range parts {
		name, typ, _ := strings.Cut(p, ":")
		if j := strings.LastIndexByte(name, '.'); j >= 0 {
			name = name[j+1:]
		}
		parts[i] = name + ":" + typ
	}
	return strings.Join(parts, ", ")
}
