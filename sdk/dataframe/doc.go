// Package dataframe builds Arbalest queries as DataFrames and runs them on
// a cluster as Substrait plans.
//
// A DataFrame is an immutable, lazy query. Its operations bind column
// names and check types on the client with the engine's own SQL binder
// rules (implicit casts between integers, decimals and floats, decimal
// result types, aggregate result types), so a DataFrame has exactly the
// schema of the equivalent SQL, and a mistake is reported by the operation
// that made it:
//
//	Filter: column "l_qty" not found; did you mean l_quantity?
//
// Errors do not interrupt a chain of operations: a failed operation
// returns a DataFrame that carries the error to Err, Schema, Substrait and
// Collect.
//
// Usage:
//
//	c, err := client.Dial(ctx, "127.0.0.1:50050")
//	...
//	dfc := dataframe.NewContext(c)
//	li, err := dfc.Table(ctx, "lineitem") // schema from the cluster (DESCRIBE)
//	...
//	q1 := li.Filter(dataframe.Col("l_shipdate").Lte(dataframe.Date("1998-09-02"))).
//		GroupBy("l_returnflag", "l_linestatus").
//		Agg(
//			dataframe.Sum(dataframe.Col("l_quantity")).As("sum_qty"),
//			dataframe.Avg(dataframe.Col("l_discount")).As("avg_disc"),
//			dataframe.Count().As("count_order"),
//		).
//		Sort(dataframe.Col("l_returnflag").Asc(), dataframe.Col("l_linestatus").Asc())
//	res, err := q1.Collect(ctx) // a *client.Result stream; Close it
//
// Files are read where the executors run, as Substrait local files; the
// schema comes from the Parquet footers (ReadParquet) or is given or
// inferred by the cluster (ReadCSV):
//
//	orders, err := dfc.ReadParquet("/data/orders.parquet") // qualified "orders"
//	joined := orders.JoinOn(li, dataframe.Inner, []string{"o_orderkey"}, []string{"l_orderkey"})
//
// Column names may be qualified by their table ("lineitem.l_orderkey"), by
// the file's base name, or by an Alias, which tells apart same-named
// columns of the two sides of a join; in the result, clashing names are
// written qualifier.name.
//
// Expressions: Col, Lit (Go values), Date, Timestamp, Interval, Decimal,
// Null; arithmetic (Add, Sub, Mul, Div, Mod, Neg), comparisons (Eq, NotEq,
// Lt, Lte, Gt, Gte, Between, IsDistinctFrom), And, Or, Not, IsNull,
// IsNotNull, Like, ILike, In, NotIn, Cast, When(...).Otherwise(...), Fn
// for any scalar SQL function, and the aggregates Count, CountDistinct,
// Sum, Avg, Min, Max and Aggregate.
//
// Operations: Filter, Select, WithColumn, WithColumnRenamed, Drop, Alias,
// GroupBy/GroupByExpr + Agg, Agg, Join, JoinOn, CrossJoin, Sort, Limit,
// Offset, Distinct, Union, UnionAll, Intersect, Except. Substrait,
// SubstraitBytes and SubstraitJSON give the plan; Collect runs it.
package dataframe
