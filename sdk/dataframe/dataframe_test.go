package dataframe_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/protobuf/proto"

	"github.com/arbalest/arbalest/sdk/dataframe"
	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
	"github.com/arbalest/arbalest/substrait/sql"
)

var (
	i32   = arrow.PrimitiveTypes.Int32
	i64   = arrow.PrimitiveTypes.Int64
	f64   = arrow.PrimitiveTypes.Float64
	str   = arrow.BinaryTypes.String
	date  = arrow.FixedWidthTypes.Date32
	money = logical.DecimalType(15, 2)
)

func fields(nullable bool, kv ...any) *arrow.Schema {
	var fs []arrow.Field
	for i := 0; i < len(kv); i += 2 {
		fs = append(fs, arrow.Field{Name: kv[i].(string), Type: kv[i+1].(arrow.DataType), Nullable: nullable})
	}
	return arrow.NewSchema(fs, nil)
}

// tables are TPC-H-like schemas (in the engine's types).
var tables = map[string]*arrow.Schema{
	"lineitem": fields(false, "l_orderkey", i64, "l_partkey", i64, "l_suppkey", i64, "l_linenumber", i32,
		"l_quantity", money, "l_extendedprice", money, "l_discount", money, "l_tax", money,
		"l_returnflag", str, "l_linestatus", str, "l_shipdate", date, "l_commitdate", date,
		"l_receiptdate", date, "l_shipmode", str, "l_comment", str),
	"orders": fields(false, "o_orderkey", i64, "o_custkey", i64, "o_orderstatus", str, "o_totalprice", money,
		"o_orderdate", date, "o_orderpriority", str, "o_shippriority", i32, "o_comment", str),
	"customer": fields(false, "c_custkey", i64, "c_name", str, "c_nationkey", i32, "c_acctbal", money,
		"c_mktsegment", str),
	"t": fields(true, "a", i32, "b", i64, "d", logical.DecimalType(10, 3), "f", f64, "s", str, "dt", date),
}

// catalog serves tables to the consumer (named-table reads) and to the
// SQL binder.
type catalog struct{}

func (catalog) ResolveTable(names []string) (*logical.TableSource, error) {
	s, ok := tables[strings.ToLower(names[len(names)-1])]
	if !ok {
		return nil, fmt.Errorf("no table %v", names)
	}
	return &logical.TableSource{Name: names[len(names)-1], Schema: s, RowCount: -1}, nil
}

func (catalog) LookupTable(name string) (*logical.TableSource, bool) {
	src, err := catalog{}.ResolveTable([]string{name})
	return src, err == nil
}
func (catalog) LookupView(string) (string, bool) { return "", false }
func (catalog) TableNames() []string {
	var out []string
	for n := range tables {
		out = append(out, n)
	}
	return out
}

func newContext() *dataframe.Context {
	return dataframe.NewContext(nil, dataframe.WithCatalog(dataframe.StaticCatalog(tables)))
}

func table(t *testing.T, dfc *dataframe.Context, name string) *dataframe.DataFrame {
	t.Helper()
	df, err := dfc.Table(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return df
}

// schemaText renders names and types: "a:int32, b:int64".
func schemaText(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = f.Name + ":" + f.Type.String()
	}
	return strings.Join(parts, ", ")
}

func typesText(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = f.Type.String()
	}
	return strings.Join(parts, ", ")
}

// bindSQL binds a query with the engine's SQL frontend.
func bindSQL(t *testing.T, q string) logical.Plan {
	t.Helper()
	ps, err := sql.Parse(q)
	if err != nil {
		t.Fatalf("parse %q: %v", q, err)
	}
	st, err := sql.Bind(ps[0], catalog{})
	if err != nil {
		t.Fatalf("bind %q: %v", q, err)
	}
	return st.(*sql.Query).Plan
}

// TestPlans builds DataFrames of many shapes, checks their schemas (names
// and types) against the expected ones and against the SQL binder's for
// the same query, and round-trips their Substrait plans through the
// consumer.
func TestPlans(t *testing.T) {
	C, L := dataframe.Col, dataframe.Lit
	cases := []struct {
		name  string
		build func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame
		want  string // names:types
		sql   string // the same query in SQL: its result types must match
	}{
		{
			name: "q1",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				return tb("lineitem").
					Filter(C("l_shipdate").Lte(dataframe.Date("1998-12-01").Sub(dataframe.Interval("90 days")))).
					GroupBy("l_returnflag", "l_linestatus").
					Agg(
						dataframe.Sum(C("l_quantity")).As("sum_qty"),
						dataframe.Sum(C("l_extendedprice")).As("sum_base_price"),
						dataframe.Sum(C("l_extendedprice").Mul(L(1).Sub(C("l_discount")))).As("sum_disc_price"),
						dataframe.Sum(C("l_extendedprice").Mul(L(1).Sub(C("l_discount"))).Mul(L(1).Add(C("l_tax")))).As("sum_charge"),
						dataframe.Avg(C("l_quantity")).As("avg_qty"),
						dataframe.Avg(C("l_discount")).As("avg_disc"),
						dataframe.Count().As("count_order"),
					).
					Sort(C("l_returnflag").Asc(), C("l_linestatus").Asc())
			},
			want: "l_returnflag:utf8, l_linestatus:utf8, sum_qty:decimal(38, 2), sum_base_price:decimal(38, 2), " +
				"sum_disc_price:decimal(38, 4), sum_charge:decimal(38, 6), avg_qty:decimal(19, 6), avg_disc:decimal(19, 6), count_order:int64",
			sql: `select l_returnflag, l_linestatus, sum(l_quantity), sum(l_extendedprice),
				sum(l_extendedprice*(1-l_discount)), sum(l_extendedprice*(1-l_discount)*(1+l_tax)),
				avg(l_quantity), avg(l_discount), count(*) from lineitem
				where l_shipdate <= date '1998-12-01' - interval '90' day
				group by l_returnflag, l_linestatus order by l_returnflag, l_linestatus`,
		},
		{
			name: "q3",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				c := tb("customer").Filter(C("c_mktsegment").Eq("BUILDING"))
				o := tb("orders").Filter(C("o_orderdate").Lt(dataframe.Date("1995-03-15")))
				l := tb("lineitem").Filter(C("l_shipdate").Gt(dataframe.Date("1995-03-15")))
				return c.JoinOn(o, dataframe.Inner, []string{"c_custkey"}, []string{"o_custkey"}).
					JoinOn(l, dataframe.Inner, []string{"o_orderkey"}, []string{"l_orderkey"}).
					GroupBy("l_orderkey", "o_orderdate", "o_shippriority").
					Agg(dataframe.Sum(C("l_extendedprice").Mul(L(1).Sub(C("l_discount")))).As("revenue")).
					Select(C("l_orderkey"), C("revenue"), C("o_orderdate"), C("o_shippriority")).
					Sort(C("revenue").Desc(), C("o_orderdate").Asc()).
					Limit(10)
			},
			want: "l_orderkey:int64, revenue:decimal(38, 4), o_orderdate:date32, o_shippriority:int32",
			sql: `select l_orderkey, sum(l_extendedprice*(1-l_discount)) as revenue, o_orderdate, o_shippriority
				from customer, orders, lineitem where c_mktsegment = 'BUILDING' and c_custkey = o_custkey
				and l_orderkey = o_orderkey and o_orderdate < date '1995-03-15' and l_shipdate > date '1995-03-15'
				group by l_orderkey, o_orderdate, o_shippriority order by revenue desc, o_orderdate limit 10`,
		},
		{
			name: "q6",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				return tb("lineitem").
					Filter(C("l_shipdate").Gte(dataframe.Date("1994-01-01")).
						And(C("l_shipdate").Lt(dataframe.Date("1994-01-01").Add(dataframe.Interval("1 year")))).
						And(C("l_discount").Between(dataframe.Decimal("0.06").Sub(dataframe.Decimal("0.01")), dataframe.Decimal("0.07"))).
						And(C("l_quantity").Lt(24))).
					Agg(dataframe.Sum(C("l_extendedprice").Mul(C("l_discount"))).As("revenue"))
			},
			want: "revenue:decimal(38, 4)",
			sql: `select sum(l_extendedprice * l_discount) as revenue from lineitem
				where l_shipdate >= date '1994-01-01' and l_shipdate < date '1994-01-01' + interval '1' year
				and l_discount between 0.06 - 0.01 and 0.07 and l_quantity < 24`,
		},
		{
			name: "arithmetic and casts",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				return tb("t").Select(
					C("a").Add(C("b")).As("ab"),
					C("a").Mul(C("d")).As("ad"),
					C("d").Div(C("d")).As("dd"),
					C("a").Add(C("f")).As("af"),
					C("a").Div(2).As("half"),
					C("a").Mod(3).Neg().As("m"),
					C("a").Cast(str).As("sa"),
					C("s").Cast(dataframe.DecimalType(20, 4)).As("sd"),
					C("dt").Add(dataframe.Interval("1 month")).As("next"),
					L(1.5).Add(C("d")).As("fd"),
					dataframe.Decimal("1.25").Mul(C("d")).As("lit_d"),
				)
			},
			want: "ab:int64, ad:decimal(21, 3), dd:decimal(24, 14), af:float64, half:int32, m:int32, sa:utf8, sd:decimal(20, 4), next:date32, fd:float64, lit_d:decimal64(14, 5)",
			sql: `select a + b, a * d, d / d, a + f, a / 2, -(a % 3), cast(a as text), cast(s as decimal(20,4)),
				dt + interval '1' month, 1.5e0 + d, 1.25 * d from t`,
		},
		{
			name: "predicates",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				return tb("t").Select(
					C("a").Eq(C("b")).As("eq"),
					C("d").Gt(1).As("gt"),
					C("s").Like("a%").As("like"),
					C("s").ILike("A%").Not().As("nilike"),
					C("a").In(1, 2, int64(3)).As("in"),
					C("s").NotIn("x", "y").As("notin"),
					C("f").IsNull().Or(C("a").IsNotNull()).As("nulls"),
					C("a").Between(1, 10).As("btw"),
					C("dt").Lt(dataframe.Date("2020-01-01")).As("early"),
					C("a").IsDistinctFrom(C("b")).As("distinct"),
				)
			},
			want: "eq:bool, gt:bool, like:bool, nilike:bool, in:bool, notin:bool, nulls:bool, btw:bool, early:bool, distinct:bool",
			sql: `select a = b, d > 1, s like 'a%', not s ilike 'A%', a in (1, 2, 3), s not in ('x', 'y'),
				f is null or a is not null, a between 1 and 10, dt < date '2020-01-01', a is distinct from b from t`,
		},
		{
			name: "case when and functions",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				return tb("t").Select(
					dataframe.When(C("a").Gt(0), C("d")).When(C("a").Lt(0), 0).Otherwise(C("b")).As("c1"),
					dataframe.When(C("s").Eq("x"), "yes").End().As("c2"),
					dataframe.Fn("upper", C("s")).As("up"),
					dataframe.Fn("substring", C("s"), 1, 3).As("sub"),
					dataframe.Coalesce(C("a"), C("b"), 0).As("co"),
					dataframe.Fn("round", C("d"), 1).As("r"),
					dataframe.Fn("extract", "year", C("dt")).As("y"),
				)
			},
			want: "c1:decimal(22, 3), c2:utf8, up:utf8, sub:utf8, co:int64, r:decimal64(9, 1), y:int64",
			sql: `select case when a > 0 then d when a < 0 then 0 else b end, case when s = 'x' then 'yes' end,
				upper(s), substring(s, 1, 3), coalesce(a, b, 0), round(d, 1), extract(year from dt) from t`,
		},
		{
			name: "aggregates",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				return tb("t").GroupBy("s").Agg(
					dataframe.Count().As("n"),
					dataframe.Count(C("a")).As("na"),
					dataframe.CountDistinct(C("b")).As("nb"),
					dataframe.Sum(C("a")).As("sa"),
					dataframe.Sum(C("d")).As("sd"),
					dataframe.Sum(C("f")).As("sf"),
					dataframe.Avg(C("a")).As("aa"),
					dataframe.Avg(C("d")).As("ad"),
					dataframe.Min(C("dt")).As("mi"),
					dataframe.Max(C("s")).As("ma"),
					dataframe.Aggregate("stddev", C("f"), false).As("sdv"),
				)
			},
			want: "s:utf8, n:int64, na:int64, nb:int64, sa:int64, sd:decimal(38, 3), sf:float64, aa:float64, ad:decimal64(14, 7), mi:date32, ma:utf8, sdv:float64",
			sql: `select s, count(*), count(a), count(distinct b), sum(a), sum(d), sum(f), avg(a), avg(d), min(dt), max(s),
				stddev(f) from t group by s`,
		},
		{
			name: "expressions over aggregates and group expressions",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				return tb("t").GroupByExpr(C("a").Mod(10).As("bucket"), C("s")).Agg(
					L(100).Mul(dataframe.Sum(C("d"))).Div(dataframe.Sum(C("b"))).As("pct"),
					C("bucket").Add(1).As("next_bucket"),
					dataframe.Max(C("b")).Sub(dataframe.Min(C("b"))).As("spread"),
					dataframe.Count(),
				).Filter(C("spread").Gt(0))
			},
			want: "bucket:int32, s:utf8, pct:decimal(38, 6), next_bucket:int32, spread:int64, count(*):int64",
			sql: `select * from (select a % 10, s, 100 * sum(d) / sum(b), a % 10 + 1, max(b) - min(b) as spread, count(*)
				from t group by a % 10, s) x where spread > 0`,
		},
		{
			name: "left join with qualifiers",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				l := tb("t").Alias("l")
				r := tb("t").Alias("r")
				return l.Join(r, dataframe.Left, C("l.a").Eq(C("r.b")).And(C("r.s").NotEq("x"))).
					Select(C("l.a"), C("r.a"), C("r.s"))
			},
			want: "l.a:int32, r.a:int32, s:utf8",
			sql:  `select l.a, r.a, r.s from t l left join t r on l.a = r.b and r.s <> 'x'`,
		},
		{
			name: "full and right joins",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				o := tb("orders")
				c := tb("customer")
				return o.JoinOn(c, dataframe.Right, []string{"o_custkey"}, []string{"c_custkey"}).
					Select(C("o_orderkey"), C("c_name")).
					Join(tb("t"), dataframe.Full, C("o_orderkey").Eq(C("a")))
			},
			want: "o_orderkey:int64, c_name:utf8, a:int32, b:int64, d:decimal64(10, 3), f:float64, s:utf8, dt:date32",
			sql: `select * from (select o_orderkey, c_name from orders right join customer on o_custkey = c_custkey) x
				full join t on o_orderkey = a`,
		},
		{
			name: "semi and anti joins",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				big := tb("lineitem").Filter(C("l_quantity").Gt(40))
				return tb("orders").
					JoinOn(big, dataframe.Semi, []string{"o_orderkey"}, []string{"l_orderkey"}).
					Join(tb("customer"), dataframe.Anti, C("o_custkey").Eq(C("c_custkey")).And(C("c_acctbal").Lt(0))).
					SelectColumns("o_orderkey", "o_totalprice")
			},
			want: "o_orderkey:int64, o_totalprice:decimal64(15, 2)",
			sql: `select o_orderkey, o_totalprice from orders where exists (select 1 from lineitem where l_orderkey = o_orderkey and l_quantity > 40)
				and not exists (select 1 from customer where o_custkey = c_custkey and c_acctbal < 0)`,
		},
		{
			name: "distinct, union, offset",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				a := tb("t").Select(C("a"), C("s")).Distinct()
				b := tb("t").Select(C("b"), L("const"))
				return a.Union(b).Sort(C("a").Desc().NullsLast()).Limit(5).Offset(1)
			},
			want: "a:int64, s:utf8",
			sql:  `select distinct a, s from t union select b, 'const' from t order by a desc nulls last limit 4 offset 1`,
		},
		{
			name: "union all, intersect, except",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				a := tb("t").SelectColumns("a")
				b := tb("t").SelectColumns("b")
				return a.UnionAll(b).UnionAll(a).Intersect(b).Except(a)
			},
			want: "a:int64",
			sql:  `((select a from t union all select b from t union all select a from t) intersect select b from t) except select a from t`,
		},
		{
			name: "with column, rename, drop, offset only",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				return tb("t").WithColumn("a2", C("a").Mul(2)).WithColumn("b", C("b").Add(1)).
					WithColumnRenamed("s", "name").Drop("f", "dt", "d").Offset(3)
			},
			want: "a:int32, b:int64, name:utf8, a2:int32",
			sql:  `select a, b + 1, s, a * 2 from t offset 3`,
		},
		{
			name: "cross join and typed nulls",
			build: func(tb func(string) *dataframe.DataFrame) *dataframe.DataFrame {
				return tb("t").SelectColumns("a").CrossJoin(tb("t").SelectColumns("s")).
					Select(C("a"), C("s"), dataframe.Null(date).As("nd"), C("a").Add(nil).As("an"))
			},
			want: "a:int32, s:utf8, nd:date32, an:int32",
			sql:  `select x.a, y.s, cast(null as date), x.a + null from (select a from t) x cross join (select s from t) y`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dfc := newContext()
			df := c.build(func(n string) *dataframe.DataFrame { return table(t, dfc, n) })
			if err := df.Err(); err != nil {
				t.Fatal(err)
			}
			s, err := df.Schema()
			if err != nil {
				t.Fatal(err)
			}
			if got := schemaText(s); got != c.want {
				t.Errorf("schema\n got %s\nwant %s", got, c.want)
			}
			if want := typesText(bindSQL(t, c.sql).Schema().Arrow()); typesText(s) != want {
				t.Errorf("types differ from SQL's\n got %s\n sql %s", typesText(s), want)
			}
			plan, err := df.Substrait()
			if err != nil {
				t.Fatal(err)
			}
			b, err := proto.Marshal(plan)
			if err != nil {
				t.Fatal(err)
			}
			back, err := consumer.FromBytes(b, catalog{})
			if err != nil {
				t.Fatalf("consumer: %v\nplan:\n%s", err, mustExplain(t, df))
			}
			if got := schemaText(back.Schema().Arrow()); got != c.want {
				t.Errorf("consumed schema\n got %s\nwant %s", got, c.want)
			}
			// The consumed plan produces the same Substrait again.
			again, err := producer.ToProto(back)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(again, plan) {
				t.Errorf("plan changed in the round trip\nbefore:\n%s\nafter:\n%s", mustExplain(t, df), logical.Format(back))
			}
		})
	}
}

func mustExplain(t *testing.T, df *dataframe.DataFrame) string {
	t.Helper()
	s, err := df.Explain()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestErrors checks that mistakes are reported by the operation that made
// them, naming the bad column or construct, and never panic.
func TestErrors(t *testing.T) {
	C := dataframe.Col
	dfc := newContext()
	li := table(t, dfc, "lineitem")
	tt := table(t, dfc, "t")
	cases := []struct {
		name string
		df   *dataframe.DataFrame
		want string
	}{
		{"unknown column", li.Filter(C("l_qty").Lte(10)), `Filter: l_qty <= 10: column "l_qty" not found; did you mean l_quantity?`},
		{"typo", li.Select(C("l_shipdat")), `column "l_shipdat" not found; did you mean l_shipdate?`},
		{"nothing close", tt.Select(C("zzz")), `column "zzz" not found among t.a, t.b, t.d, t.f, t.s, t.dt`},
		{"unknown qualifier", tt.Select(C("u.a")), `column "u.a" not found; did you mean t.a?`},
		{"ambiguous", tt.CrossJoin(tt).Select(C("a")), `column "a" is ambiguous: it matches t.a and t.a`},
		{"not boolean", tt.Filter(C("a")), "Filter: a: argument of Filter must be boolean, not integer"},
		{"aggregate in filter", tt.Filter(dataframe.Sum(C("a")).Gt(1)), "aggregate sum(a) is not allowed in Filter"},
		{"nested aggregate", tt.Agg(dataframe.Sum(dataframe.Max(C("a")))), "aggregate max(a) is not allowed in the argument of sum"},
		{"not grouped", tt.GroupBy("s").Agg(C("a"), dataframe.Count()), `column "a" must be a GroupBy key or be used inside an aggregate function`},
		{"bad operands", tt.Select(C("s").Sub(C("a"))), "operator does not exist: text subtract integer"},
		{"bad comparison", tt.Filter(C("dt").Eq(C("a"))), "cannot compare date with integer"},
		{"bad date", tt.Filter(C("dt").Eq(dataframe.Date("1998-13-45"))), `Date("1998-13-45"): invalid input syntax for type date`},
		{"bad decimal", tt.Select(dataframe.Decimal("1e5")), `Decimal("1e5"): not a decimal number`},
		{"unknown function", tt.Select(dataframe.Fn("uper", C("s"))), "function uper does not exist; did you mean"},
		{"sum of text", tt.Agg(dataframe.Sum(C("s"))), "sum does not accept an argument of type utf8"},
		{"union width", tt.Union(li), "Union: the inputs have 6 and 15 columns"},
		{"union types", tt.SelectColumns("dt").Union(tt.SelectColumns("a")), "types date and integer cannot be matched"},
		{"join keys", li.JoinOn(tt, dataframe.Inner, []string{"l_orderkey"}, []string{"x"}), `JoinOn: right key: column "x" not found`},
		{"join key types", li.JoinOn(tt, dataframe.Inner, []string{"l_shipdate"}, []string{"s"}), "cannot compare date with text"},
		{"join condition", li.Join(tt, dataframe.Inner, C("l_orderkey")), "argument of the join condition must be boolean"},
		{"untyped null", tt.Select(dataframe.Lit(nil).As("n")), "NULL has no type (an untyped NULL)"},
		{"negative limit", tt.Limit(-1), "Limit: negative count -1"},
		{"empty expression", tt.Select(dataframe.Expr{}), "empty expression"},
		{"bad literal", tt.Select(dataframe.Lit(struct{}{})), "constant of Go type struct {} is not supported"},
		{"unfinished case", tt.Select(C("a").Add(dataframe.When(C("a").Gt(1), 1))), "unfinished CASE: end it with Otherwise or End"},
		{"error carried", li.Filter(C("nope").IsNull()).Limit(1).Sort(C("x").Asc()), `Filter: nope IS NULL: column "nope" not found`},
		{"nil input", (*dataframe.DataFrame)(nil).Filter(C("a").IsNull()), "nil DataFrame"},
		{"nil right", tt.Join(nil, dataframe.Inner, C("a").IsNull()), "nil right DataFrame"},
		{"empty frame", (&dataframe.DataFrame{}).Select(C("a")), "empty DataFrame"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.df.Err()
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n got %q\nwant %q", err, c.want)
			}
			if _, err := c.df.Substrait(); err == nil {
				t.Errorf("Substrait succeeded on a failed DataFrame")
			}
		})
	}
	var ce *dataframe.ColumnError
	if err := li.Select(C("l_qty")).Err(); !errors.As(err, &ce) || ce.Suggestions[0] != "l_quantity" {
		t.Errorf("want a ColumnError suggesting l_quantity, got %v", err)
	}
	if _, err := dfc.Table(context.Background(), "lineitems"); err == nil || !strings.Contains(err.Error(), `did you mean lineitem?`) || !errors.Is(err, dataframe.ErrTableNotFound) {
		t.Errorf("unknown table: got %v", err)
	}
	if _, err := li.Collect(context.Background()); err == nil || !strings.Contains(err.Error(), "no client") {
		t.Errorf("Collect without a client: got %v", err)
	}
}

// TestColumnNames checks qualified and case-insensitive resolution and the
// naming of clashing result columns.
func TestColumnNames(t *testing.T) {
	C := dataframe.Col
	dfc := newContext()
	o := table(t, dfc, "orders").Alias("o")
	o2 := table(t, dfc, "orders").Alias("o2")
	j := o.Join(o2, dataframe.Inner, C("o.o_orderkey").Eq(C("o2.o_orderkey")))
	cols, err := j.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if cols[0] != "o.o_orderkey" || cols[8] != "o2.o_orderkey" {
		t.Errorf("columns %v", cols)
	}
	s, err := j.Schema()
	if err != nil {
		t.Fatal(err)
	}
	if s.Field(0).Name != "o.o_orderkey" || s.Field(8).Name != "o2.o_orderkey" {
		t.Errorf("clashing names are not qualified: %s", schemaText(s))
	}
	// Case-insensitive and qualified lookups.
	sel := j.Select(C("O.O_ORDERKEY"), C("o2.o_totalprice"), C("orders.o_comment"))
	if err := sel.Err(); err == nil || !strings.Contains(err.Error(), `"orders.o_comment" not found`) {
		t.Errorf("a table's name no longer qualifies its aliased columns: %v", err)
	}
	sel = j.Select(C("O.O_ORDERKEY"), C("o2.o_totalprice"))
	s, err = sel.Schema()
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaText(s); got != "o_orderkey:int64, o_totalprice:decimal64(15, 2)" {
		t.Errorf("select: %s", got)
	}
	// A table's columns are qualified by its name.
	li := table(t, dfc, "lineitem")
	if err := li.Select(C("lineitem.l_orderkey")).Err(); err != nil {
		t.Error(err)
	}
}

// TestLimitMerging checks how Limit and Offset combine.
func TestLimitMerging(t *testing.T) {
	C := dataframe.Col
	dfc := newContext()
	tt := table(t, dfc, "t")
	cases := []struct {
		df   *dataframe.DataFrame
		want string // first line of the plan
	}{
		{tt.Limit(10).Offset(2), "Limit: offset=2 count=8"},
		{tt.Offset(2).Limit(10), "Limit: offset=2 count=10"},
		{tt.Limit(3).Offset(5), "Limit: offset=5 count=0"},
		{tt.Limit(10).Limit(20), "Limit: offset=0 count=10"},
		{tt.Sort(C("a").Asc()).Limit(10), "Sort: a#0 ASC NULLS LAST fetch=10"},
		{tt.Sort(C("a").Asc()).Offset(2).Limit(10), "Limit: offset=2 count=10"},
	}
	for _, c := range cases {
		got, err := c.df.Explain()
		if err != nil {
			t.Fatal(err)
		}
		if first := strings.SplitN(got, "\n", 2)[0]; first != c.want {
			t.Errorf("got %q want %q\n%s", first, c.want, got)
		}
	}
}

// TestParseType covers the type texts DESCRIBE shows.
func TestParseType(t *testing.T) {
	for _, dt := range []arrow.DataType{
		arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, i32, i64,
		arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Float32, f64, str, arrow.BinaryTypes.LargeString,
		arrow.BinaryTypes.Binary, date, arrow.FixedWidthTypes.Date64, logical.TimestampUs,
		&arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, arrow.FixedWidthTypes.Time64us,
		&arrow.Decimal64Type{Precision: 15, Scale: 2}, &arrow.Decimal128Type{Precision: 38, Scale: 10},
		&arrow.Decimal256Type{Precision: 50, Scale: 2}, arrow.FixedWidthTypes.MonthDayNanoInterval,
		arrow.FixedWidthTypes.Duration_ms, &arrow.FixedSizeBinaryType{ByteWidth: 16}, arrow.Null,
	} {
		got, err := dataframe.ParseType(dt.String())
		if err != nil {
			t.Errorf("%s: %v", dt, err)
			continue
		}
		if !arrow.TypeEqual(got, dt) {
			t.Errorf("%s parsed as %s", dt, got)
		}
	}
	for _, bad := range []string{"", "int", "decimal(0, 1)", "decimal(5, 6)", "timestamp[xs]", "list<item: int32>", "time32[ns]", "decimal64(a, b)"} {
		if _, err := dataframe.ParseType(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
