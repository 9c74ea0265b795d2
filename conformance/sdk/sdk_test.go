// Package sdk_test drives the Go SDK end to end: an in-process standalone
// cluster (scheduler and two executors on 127.0.0.1) serves small Parquet
// tables, and every DataFrame query must return exactly what the
// equivalent SQL returns through the same cluster: the same column names,
// types and rows. It also runs the examples' code against the cluster.
package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/cmd/arbalest/cluster"
	"github.com/arbalest/arbalest/examples"
	"github.com/arbalest/arbalest/host/scheduler"
	"github.com/arbalest/arbalest/sdk/client"
	df "github.com/arbalest/arbalest/sdk/dataframe"
	"github.com/arbalest/arbalest/workers/go/executor"
)

// result is a collected result: names, types and rows of cell texts.
type result struct {
	names []string
	types []arrow.DataType
	rows  [][]string
}

func collect(ctx context.Context, res *client.Result) (out result, err error) {
	defer func() {
		if cerr := res.Close(); err == nil {
			err = cerr
		}
	}()
	for _, f := range res.Schema().Fields() {
		out.names = append(out.names, f.Name)
		out.types = append(out.types, f.Type)
	}
	for {
		rec, err := res.NextBatch(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for j, col := range rec.Columns() {
				if col.IsNull(i) {
					row[j] = "NULL"
				} else {
					row[j] = col.ValueStr(i)
				}
			}
			out.rows = append(out.rows, row)
		}
	}
}

// sameCell compares two cells; floats may differ in the last digits (sums
// in another order).
func sameCell(t arrow.DataType, a, b string) bool {
	if a == b {
		return true
	}
	if t.ID() != arrow.FLOAT64 && t.ID() != arrow.FLOAT32 {
		return false
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && math.Abs(x-y) <= 1e-9*math.Max(1, math.Max(math.Abs(x), math.Abs(y)))
}

func (r result) sorted() [][]string {
	rows := append([][]string(nil), r.rows...)
	sort.Slice(rows, func(i, j int) bool { return strings.Join(rows[i], "\x00") < strings.Join(rows[j], "\x00") })
	return rows
}

// compare reports how got differs from want.
func compare(got, want result, ordered bool) error {
	if strings.Join(got.names, ", ") != strings.Join(want.names, ", ") {
		return fmt.Errorf("column names %v, SQL gives %v", got.names, want.names)
	}
	for i := range got.types {
		if !arrow.TypeEqual(got.types[i], want.types[i]) {
			return fmt.Errorf("column %s has type %s, SQL gives %s", got.names[i], got.types[i], want.types[i])
		}
	}
	if len(got.rows) != len(want.rows) {
		return fmt.Errorf("%d rows, SQL gives %d", len(got.rows), len(want.rows))
	}
	g, w := got.rows, want.rows
	if !ordered {
		g, w = got.sorted(), want.sorted()
	}
	for i := range g {
		for j := range g[i] {
			if !sameCell(got.types[j], g[i][j], w[i][j]) {
				return fmt.Errorf("row %d: %v, SQL gives %v", i, g[i], w[i])
			}
		}
	}
	return nil
}

// startCluster starts a standalone cluster on loopback and a client whose
// batches come from mem.
func startCluster(t *testing.T, mem memory.Allocator) (*cluster.Standalone, *client.Client) {
	t.Helper()
	st, err := cluster.StartStandalone("127.0.0.1:0", 2, 2, t.TempDir(),
		scheduler.Config{Partitions: 3, BroadcastRows: 50, Logf: t.Logf}, executor.Config{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.WaitReady(10 * time.Second); err != nil {
		st.Stop()
		t.Fatal(err)
	}
	c, err := client.Dial(context.Background(), st.Scheduler.Addr(), client.WithAllocator(mem))
	if err != nil {
		st.Stop()
		t.Fatal(err)
	}
	return st, c
}

func TestDataFramesMatchSQL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	data := t.TempDir()
	writeTables(t, data)
	st, c := startCluster(t, mem)
	defer st.Stop()
	defer c.Close()
	if _, err := examples.RegisterTables(ctx, c, data); err != nil {
		t.Fatal(err)
	}
	dfc := df.NewContext(c)
	tbl := func(name string) *df.DataFrame {
		d, err := dfc.Table(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	C, L := df.Col, df.Lit

	type testCase struct {
		name    string
		frame   func() (*df.DataFrame, error)
		sql     string
		ordered bool
	}
	ok := func(d *df.DataFrame) func() (*df.DataFrame, error) {
		return func() (*df.DataFrame, error) { return d, d.Err() }
	}
	cases := []testCase{
		{
			name:  "q1",
			frame: func() (*df.DataFrame, error) { return examples.Q1(ctx, dfc) },
			sql: `select l_returnflag, l_linestatus, sum(l_quantity) as sum_qty, sum(l_extendedprice) as sum_base_price,
				sum(l_extendedprice * (1 - l_discount)) as sum_disc_price,
				sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) as sum_charge,
				avg(l_quantity) as avg_qty, avg(l_extendedprice) as avg_price, avg(l_discount) as avg_disc,
				count(*) as count_order
				from lineitem where l_shipdate <= date '1998-12-01' - interval '90' day
				group by l_returnflag, l_linestatus order by l_returnflag, l_linestatus`,
			ordered: true,
		},
		{
			name:  "q3",
			frame: func() (*df.DataFrame, error) { return examples.Q3(ctx, dfc, "BUILDING", "1996-01-01") },
			sql: `select l_orderkey, sum(l_extendedprice * (1 - l_discount)) as revenue, o_orderdate, o_shippriority
				from customer, orders, lineitem
				where c_mktsegment = 'BUILDING' and c_custkey = o_custkey and l_orderkey = o_orderkey
				and o_orderdate < date '1996-01-01' and l_shipdate > date '1996-01-01'
				group by l_orderkey, o_orderdate, o_shippriority
				order by revenue desc, o_orderdate limit 10`,
			ordered: true,
		},
		{
			name: "q6",
			frame: ok(tbl("lineitem").
				Filter(C("l_shipdate").Gte(df.Date("1995-01-01")).
					And(C("l_shipdate").Lt(df.Date("1995-01-01").Add(df.Interval("1 year")))).
					And(C("l_discount").Between(df.Decimal("0.06").Sub(df.Decimal("0.01")), df.Decimal("0.06").Add(df.Decimal("0.01")))).
					And(C("l_quantity").Lt(24))).
				Agg(df.Sum(C("l_extendedprice").Mul(C("l_discount"))).As("revenue"))),
			sql: `select sum(l_extendedprice * l_discount) as revenue from lineitem
				where l_shipdate >= date '1995-01-01' and l_shipdate < date '1995-01-01' + interval '1' year
				and l_discount between 0.06 - 0.01 and 0.06 + 0.01 and l_quantity < 24`,
		},
		{
			name: "left join",
			frame: ok(tbl("orders").
				JoinOn(tbl("customer"), df.Left, []string{"o_custkey"}, []string{"c_custkey"}).
				Filter(C("o_totalprice").Gt(100000)).
				Select(C("o_orderkey"), C("c_name"), C("c_acctbal").Add(C("o_totalprice")).As("total"), C("o_comment"))),
			sql: `select o_orderkey, c_name, c_acctbal + o_totalprice as total, o_comment
				from orders left join customer on o_custkey = c_custkey where o_totalprice > 100000`,
		},
		{
			name: "left join, grouped",
			frame: ok(tbl("customer").
				JoinOn(tbl("orders"), df.Left, []string{"c_custkey"}, []string{"o_custkey"}).
				GroupBy("c_custkey", "c_name").
				Agg(df.Count(C("o_orderkey")).As("orders"), df.Sum(C("o_totalprice")).As("spent"), df.Max(C("o_orderdate")).As("last")).
				Sort(C("spent").Desc(), C("c_custkey").Asc())),
			sql: `select c_custkey, c_name, count(o_orderkey) as orders, sum(o_totalprice) as spent, max(o_orderdate) as last
				from customer left join orders on c_custkey = o_custkey
				group by c_custkey, c_name order by spent desc, c_custkey`,
			ordered: true,
		},
		{
			name: "semi join",
			frame: ok(tbl("orders").
				Join(tbl("lineitem"), df.Semi, C("o_orderkey").Eq(C("l_orderkey")).And(C("l_quantity").Gt(45))).
				Select(C("o_orderkey"), C("o_totalprice"))),
			sql: `select o_orderkey, o_totalprice from orders
				where exists (select 1 from lineitem where l_orderkey = o_orderkey and l_quantity > 45)`,
		},
		{
			name: "anti join",
			frame: ok(tbl("lineitem").
				JoinOn(tbl("orders"), df.Anti, []string{"l_orderkey"}, []string{"o_orderkey"}).
				GroupBy("l_orderkey").Agg(df.Count().As("n"))),
			sql: `select l_orderkey, count(*) as n from lineitem
				where not exists (select 1 from orders where o_orderkey = l_orderkey) group by l_orderkey`,
		},
		{
			name: "full join on an expression",
			frame: ok(tbl("customer").
				Join(tbl("orders"), df.Full, C("c_custkey").Eq(C("o_custkey")).And(C("o_orderpriority").Eq("1-URGENT"))).
				Select(C("c_custkey"), C("o_orderkey"), C("o_orderpriority"))),
			sql: `select c_custkey, o_orderkey, o_orderpriority from customer full join orders
				on c_custkey = o_custkey and o_orderpriority = '1-URGENT'`,
		},
		{
			name:  "distinct",
			frame: ok(tbl("lineitem").Select(C("l_returnflag"), C("l_linestatus")).Distinct()),
			sql:   `select distinct l_returnflag, l_linestatus from lineitem`,
		},
		{
			name: "union",
			frame: ok(tbl("customer").Select(C("c_nationkey").As("k")).
				Union(tbl("orders").Filter(C("o_custkey").Gt(25)).Select(C("o_custkey")))),
			sql: `select c_nationkey as k from customer union select o_custkey from orders where o_custkey > 25`,
		},
		{
			name: "union all, sorted, offset",
			frame: ok(tbl("customer").Select(C("c_name").As("name"), C("c_acctbal").As("amount")).
				UnionAll(tbl("orders").Select(C("o_orderpriority"), C("o_totalprice"))).
				Sort(C("amount").Desc(), C("name").Asc()).Offset(3).Limit(7)),
			sql: `select c_name as name, c_acctbal as amount from customer union all
				select o_orderpriority, o_totalprice from orders order by amount desc, name limit 7 offset 3`,
			ordered: true,
		},
		{
			name: "expressions",
			frame: ok(tbl("lineitem").
				Filter(C("l_comment").IsNotNull().And(C("l_shipmode").In("AIR", "MAIL", "SHIP"))).
				Select(
					C("l_orderkey"), C("l_linenumber"),
					df.When(C("l_quantity").Gt(25), "big").When(C("l_quantity").Gt(10), "medium").Otherwise("small").As("size"),
					C("l_comment").Like("%final%").As("final"),
					C("l_discount").Cast(arrow.PrimitiveTypes.Float64).Mul(2).As("d2"),
					C("l_tax").IsNull().As("no_tax"),
					df.Coalesce(C("l_tax"), df.Decimal("0.00")).As("tax"),
					C("l_extendedprice").Div(C("l_quantity")).As("unit"),
					df.Fn("extract", "year", C("l_shipdate")).As("year"),
					df.Fn("upper", C("l_shipmode")).As("mode"),
					C("l_linenumber").Mod(3).Neg().Add(L(int64(1))).As("m"),
				)),
			sql: `select l_orderkey, l_linenumber,
				case when l_quantity > 25 then 'big' when l_quantity > 10 then 'medium' else 'small' end as size,
				l_comment like '%final%' as final, cast(l_discount as double precision) * 2 as d2,
				l_tax is null as no_tax, coalesce(l_tax, 0.00) as tax, l_extendedprice / l_quantity as unit,
				extract(year from l_shipdate) as year, upper(l_shipmode) as mode, -(l_linenumber % 3) + 1::bigint as m
				from lineitem where l_comment is not null and l_shipmode in ('AIR', 'MAIL', 'SHIP')`,
		},
		{
			name: "count distinct and expressions over aggregates",
			frame: ok(tbl("lineitem").GroupBy("l_shipmode").Agg(
				df.CountDistinct(C("l_orderkey")).As("orders"),
				L(100).Mul(df.Sum(C("l_discount"))).Div(df.Count()).As("avg_disc_pct"),
				df.Min(C("l_shipdate")).As("first"),
			).Filter(C("orders").Gt(10))),
			sql: `select l_shipmode, count(distinct l_orderkey) as orders, 100 * sum(l_discount) / count(*) as avg_disc_pct,
				min(l_shipdate) as first from lineitem group by l_shipmode having count(distinct l_orderkey) > 10`,
		},
		{
			name: "parquet file joined with a table",
			frame: func() (*df.DataFrame, error) {
				orders, err := dfc.ReadParquet(filepath.Join(data, "orders.parquet"))
				if err != nil {
					return nil, err
				}
				d := orders.Filter(C("o_orderdate").Gte(df.Date("1997-01-01"))).
					JoinOn(tbl("lineitem"), df.Inner, []string{"o_orderkey"}, []string{"l_orderkey"}).
					GroupBy("o_orderpriority").
					Agg(df.Count().As("lines"), df.Sum(C("l_quantity")).As("qty"))
				return d, d.Err()
			},
			sql: `select o_orderpriority, count(*) as lines, sum(l_quantity) as qty
				from orders join lineitem on o_orderkey = l_orderkey
				where o_orderdate >= date '1997-01-01' group by o_orderpriority`,
		},
		{
			name: "self join with aliases",
			frame: ok(tbl("orders").Alias("a").
				Join(tbl("orders").Alias("b"), df.Inner,
					C("a.o_custkey").Eq(C("b.o_custkey")).And(C("a.o_orderkey").Lt(C("b.o_orderkey")))).
				Filter(C("a.o_custkey").Lt(5)).
				Select(C("a.o_orderkey"), C("b.o_orderkey"), C("a.o_custkey"))),
			sql: `select a.o_orderkey as "a.o_orderkey", b.o_orderkey as "b.o_orderkey", a.o_custkey
				from orders a join orders b on a.o_custkey = b.o_custkey and a.o_orderkey < b.o_orderkey
				where a.o_custkey < 5`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tc.frame()
			if err != nil {
				t.Fatal(err)
			}
			want := runSQL(ctx, t, c, tc.sql)
			if len(want.rows) == 0 {
				t.Fatalf("the SQL returns no rows: the data does not exercise the query")
			}
			res, err := d.Collect(ctx)
			if err != nil {
				plan, _ := d.Explain()
				t.Fatalf("collect: %v\n%s", err, plan)
			}
			got, err := collect(ctx, res)
			if err != nil {
				t.Fatal(err)
			}
			if err := compare(got, want, tc.ordered); err != nil {
				plan, _ := d.Explain()
				t.Errorf("%v\nplan:\n%s", err, plan)
			}
		})
	}

	t.Run("csv files", func(t *testing.T) {
		path := filepath.Join(data, "rates.csv")
		text := "code,rate,since,note\nAIR,1.5,1995-01-01,fast\nMAIL,0.25,1996-06-30,\nSHIP,0.75,1994-03-01,slow\n"
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := runSQLErr(ctx, c, "CREATE EXTERNAL TABLE rates STORED AS CSV LOCATION '"+path+"'"); err != nil {
			t.Fatal(err)
		}
		want := runSQL(ctx, t, c, `select l_shipmode, count(*) as n, sum(rate) as total, max(note) as note from lineitem
			join rates on l_shipmode = code where l_shipdate >= since group by l_shipmode`)
		inferred, err := dfc.ReadCSV(ctx, path, df.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		given, err := dfc.ReadCSV(ctx, path, df.CSVOptions{Schema: arrow.NewSchema([]arrow.Field{
			{Name: "code", Type: arrow.BinaryTypes.String}, {Name: "rate", Type: arrow.PrimitiveTypes.Float64},
			{Name: "since", Type: arrow.FixedWidthTypes.Date32}, {Name: "note", Type: arrow.BinaryTypes.String},
		}, nil)})
		if err != nil {
			t.Fatal(err)
		}
		for _, rates := range []*df.DataFrame{inferred, given} {
			d := tbl("lineitem").JoinOn(rates, df.Inner, []string{"l_shipmode"}, []string{"code"}).
				Filter(C("l_shipdate").Gte(C("since"))).
				GroupBy("l_shipmode").Agg(df.Count().As("n"), df.Sum(C("rate")).As("total"), df.Max(C("note")).As("note"))
			res, err := d.Collect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := collect(ctx, res)
			if err != nil {
				t.Fatal(err)
			}
			if err := compare(got, want, false); err != nil {
				t.Error(err)
			}
		}
		// The inference leaves no table behind.
		if tables := runSQL(ctx, t, c, "SHOW TABLES"); len(tables.rows) != 4 {
			t.Errorf("tables after ReadCSV: %v", tables.rows)
		}
	})

	t.Run("errors from the cluster", func(t *testing.T) {
		if _, err := dfc.Table(ctx, "lineitems"); err == nil || !strings.Contains(err.Error(), "did you mean lineitem?") {
			t.Errorf("unknown table: %v", err)
		}
		d := tbl("lineitem").Filter(C("l_qty").Lte(10))
		if _, err := d.Collect(ctx); err == nil || !strings.Contains(err.Error(), `column "l_qty" not found; did you mean l_quantity?`) {
			t.Errorf("unknown column: %v", err)
		}
	})
}

func runSQLErr(ctx context.Context, c *client.Client, q string) (result, error) {
	res, err := c.SQL(ctx, q)
	if err != nil {
		return result{}, err
	}
	return collect(ctx, res)
}

func runSQL(ctx context.Context, t *testing.T, c *client.Client, q string) result {
	t.Helper()
	res, err := c.SQL(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	r, err := collect(ctx, res)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return r
}

// TestExamples runs the examples' code against a cluster.
func TestExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data := t.TempDir()
	writeTables(t, data)
	st, c := startCluster(t, mem)
	defer st.Stop()
	defer c.Close()

	var out bytes.Buffer
	if err := examples.SQL(ctx, c, &out, data, "SELECT count(*) AS n FROM lineitem", "SHOW TABLES"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"registered customer, lineitem, orders", "> SELECT count(*) AS n FROM lineitem\nn\n700\n(1 row)", "lineitem"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sql example output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if err := examples.DataFrame(ctx, c, &out, data); err != nil {
		t.Fatal(err)
	}
	q1 := runSQL(ctx, t, c, `select count(*) from (select distinct l_returnflag, l_linestatus from lineitem
		where l_shipdate <= date '1998-09-02') x`)
	for _, want := range []string{"== TPC-H Q1\n", "Aggregate: groupBy=[l_returnflag", "l_returnflag  l_linestatus  sum_qty",
		examples.RowCount(atoi(t, q1.rows[0][0])), "== TPC-H Q3\n", "l_orderkey  revenue"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dataframe example output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if err := examples.Substrait(ctx, c, &out, data); err != nil {
		t.Fatal(err)
	}
	big := runSQL(ctx, t, c, `select count(distinct l_shipmode) from lineitem where l_quantity > 45`)
	for _, want := range []string{`"localFiles"`, filepath.Join(data, "lineitem.parquet"), "l_shipmode  big_lines  max_price",
		examples.RowCount(atoi(t, big.rows[0][0]))} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("substrait example output lacks %q:\n%s", want, out.String())
		}
	}
	// Without --data the examples read the session's tables.
	out.Reset()
	if err := examples.Substrait(ctx, c, &out, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"namedTable"`) {
		t.Errorf("substrait example without data reads no named table:\n%s", out.String())
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
