package examples

import (
	"context"
	"fmt"
	"io"

	"github.com/arbalest/arbalest/sdk/client"
	df "github.com/arbalest/arbalest/sdk/dataframe"
)

// DataFrame runs TPC-H Q1 and a join (Q3's shape) as DataFrames over the
// session's lineitem, orders and customer tables, registered from the
// Parquet files of data when it is not empty.
func DataFrame(ctx context.Context, c *client.Client, w io.Writer, data string) error {
	if data != "" {
		if _, err := RegisterTables(ctx, c, data); err != nil {
			return err
		}
	}
	dfc := df.NewContext(c)
	q1, err := Q1(ctx, dfc)
	if err != nil {
		return err
	}
	q3, err := Q3(ctx, dfc, "BUILDING", "1995-03-15")
	if err != nil {
		return err
	}
	for _, q := range []struct {
		title string
		frame *df.DataFrame
	}{{"TPC-H Q1", q1}, {"TPC-H Q3", q3}} {
		plan, err := q.frame.Explain()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "== %s\n%s", q.title, plan)
		res, err := q.frame.Collect(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", q.title, err)
		}
		if err := Print(ctx, w, res); err != nil {
			return fmt.Errorf("%s: %w", q.title, err)
		}
	}
	return nil
}

// Q1 is TPC-H query 1, the pricing summary report.
func Q1(ctx context.Context, dfc *df.Context) (*df.DataFrame, error) {
	li, err := dfc.Table(ctx, "lineitem")
	if err != nil {
		return nil, err
	}
	price := df.Col("l_extendedprice")
	discounted := price.Mul(df.Lit(1).Sub(df.Col("l_discount")))
	q := li.Filter(df.Col("l_shipdate").Lte(df.Date("1998-12-01").Sub(df.Interval("90 days")))).
		GroupBy("l_returnflag", "l_linestatus").
		Agg(
			df.Sum(df.Col("l_quantity")).As("sum_qty"),
			df.Sum(price).As("sum_base_price"),
			df.Sum(discounted).As("sum_disc_price"),
			df.Sum(discounted.Mul(df.Lit(1).Add(df.Col("l_tax")))).As("sum_charge"),
			df.Avg(df.Col("l_quantity")).As("avg_qty"),
			df.Avg(price).As("avg_price"),
			df.Avg(df.Col("l_discount")).As("avg_disc"),
			df.Count().As("count_order"),
		).
		Sort(df.Col("l_returnflag").Asc(), df.Col("l_linestatus").Asc())
	return q, q.Err()
}

// Q3 is TPC-H query 3, the shipping priority query: the ten unshipped
// orders of a market segment with the highest revenue on a date.
func Q3(ctx context.Context, dfc *df.Context, segment, date string) (*df.DataFrame, error) {
	var tables [3]*df.DataFrame
	for i, name := range []string{"customer", "orders", "lineitem"} {
		t, err := dfc.Table(ctx, name)
		if err != nil {
			return nil, err
		}
		tables[i] = t
	}
	customer := tables[0].Filter(df.Col("c_mktsegment").Eq(segment))
	orders := tables[1].Filter(df.Col("o_orderdate").Lt(df.Date(date)))
	lineitem := tables[2].Filter(df.Col("l_shipdate").Gt(df.Date(date)))
	q := customer.
		JoinOn(orders, df.Inner, []string{"c_custkey"}, []string{"o_custkey"}).
		JoinOn(lineitem, df.Inner, []string{"o_orderkey"}, []string{"l_orderkey"}).
		GroupBy("l_orderkey", "o_orderdate", "o_shippriority").
		Agg(df.Sum(df.Col("l_extendedprice").Mul(df.Lit(1).Sub(df.Col("l_discount")))).As("revenue")).
		Select(df.Col("l_orderkey"), df.Col("revenue"), df.Col("o_orderdate"), df.Col("o_shippriority")).
		Sort(df.Col("revenue").Desc(), df.Col("o_orderdate").Asc()).
		Limit(10)
	return q, q.Err()
}
