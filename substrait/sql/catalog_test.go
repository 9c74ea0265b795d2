package sql

import (
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
)

// testCatalog is an in-memory Catalog over the TPC-H schema (as the
// engine's catalog presents Parquet files: int64 keys, decimal(15,2) money
// as Decimal64, date32 dates, utf8 strings) plus any views registered.
type testCatalog struct {
	tables map[string]*logical.TableSource
	views  map[string]string
}

func (c *testCatalog) LookupTable(name string) (*logical.TableSource, bool) {
	t, ok := c.tables[strings.ToLower(name)]
	return t, ok
}

func (c *testCatalog) LookupView(name string) (string, bool) {
	v, ok := c.views[strings.ToLower(name)]
	return v, ok
}

func (c *testCatalog) TableNames() []string {
	var out []string
	for k := range c.tables {
		out = append(out, k)
	}
	for k := range c.views {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// apply registers the effect of DDL statements (as the engine would).
func (c *testCatalog) apply(st Statement) {
	switch s := st.(type) {
	case *CreateView:
		c.views[strings.ToLower(s.Name)] = s.SQL
	case *DropView:
		delete(c.views, strings.ToLower(s.Name))
	}
}

func tpchCatalog() *testCatalog {
	i32 := arrow.PrimitiveTypes.Int32
	i64 := arrow.PrimitiveTypes.Int64
	money := &arrow.Decimal64Type{Precision: 15, Scale: 2}
	str := arrow.BinaryTypes.String
	date := arrow.FixedWidthTypes.Date32
	type col struct {
		name string
		t    arrow.DataType
	}
	defs := map[string][]col{
		"lineitem": {{"l_orderkey", i64}, {"l_partkey", i64}, {"l_suppkey", i64}, {"l_linenumber", i32},
			{"l_quantity", money}, {"l_extendedprice", money}, {"l_discount", money}, {"l_tax", money},
			{"l_returnflag", str}, {"l_linestatus", str}, {"l_shipdate", date}, {"l_commitdate", date},
			{"l_receiptdate", date}, {"l_shipinstruct", str}, {"l_shipmode", str}, {"l_comment", str}},
		"orders": {{"o_orderkey", i64}, {"o_custkey", i64}, {"o_orderstatus", str}, {"o_totalprice", money},
			{"o_orderdate", date}, {"o_orderpriority", str}, {"o_clerk", str}, {"o_shippriority", i32}, {"o_comment", str}},
		"customer": {{"c_custkey", i64}, {"c_name", str}, {"c_address", str}, {"c_nationkey", i64},
			{"c_phone", str}, {"c_acctbal", money}, {"c_mktsegment", str}, {"c_comment", str}},
		"part": {{"p_partkey", i64}, {"p_name", str}, {"p_mfgr", str}, {"p_brand", str}, {"p_type", str},
			{"p_size", i32}, {"p_container", str}, {"p_retailprice", money}, {"p_comment", str}},
		"partsupp": {{"ps_partkey", i64}, {"ps_suppkey", i64}, {"ps_availqty", i32}, {"ps_supplycost", money}, {"ps_comment", str}},
		"supplier": {{"s_suppkey", i64}, {"s_name", str}, {"s_address", str}, {"s_nationkey", i64},
			{"s_phone", str}, {"s_acctbal", money}, {"s_comment", str}},
		"nation": {{"n_nationkey", i64}, {"n_name", str}, {"n_regionkey", i64}, {"n_comment", str}},
		"region": {{"r_regionkey", i64}, {"r_name", str}, {"r_comment", str}},
		// t is a small table with nullable columns for semantic tests.
		"t": {{"a", i64}, {"b", i32}, {"s", str}, {"d", money}, {"f", arrow.PrimitiveTypes.Float64}, {"dt", date}},
		"u": {{"a", i64}, {"c", i32}, {"s", str}},
	}
	cat := &testCatalog{tables: map[string]*logical.TableSource{}, views: map[string]string{}}
	for name, cols := range defs {
		fs := make([]arrow.Field, len(cols))
		for i, c := range cols {
			fs[i] = arrow.Field{Name: c.name, Type: c.t, Nullable: name == "t" || name == "u"}
		}
		cat.tables[name] = &logical.TableSource{Name: name, Format: "parquet", Location: "/data/" + name + ".parquet",
			Schema: arrow.NewSchema(fs, nil), RowCount: -1}
	}
	return cat
}

// bindAll parses and binds a script, applying DDL to the catalog.
func bindAll(t testing.TB, cat *testCatalog, sql string) ([]Statement, error) {
	t.Helper()
	ps, err := Parse(sql)
	if err != nil {
		return nil, err
	}
	var out []Statement
	for _, p := range ps {
		st, err := Bind(p, cat)
		if err != nil {
			return nil, err
		}
		cat.apply(st)
		out = append(out, st)
	}
	return out, nil
}
