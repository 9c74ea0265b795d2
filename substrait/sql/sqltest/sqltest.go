// Package sqltest holds what the planner tests share: an in-memory
// catalog (for the binder and the Substrait consumer), table sources from
// compact column specs, TPC-H with the engine's types, and script binding.
package sqltest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql"
)

// Catalog is an in-memory catalog of tables and views.
type Catalog struct {
	Tables map[string]*logical.TableSource
	Views  map[string]string
}

// NewCatalog holds the given tables.
func NewCatalog(tables ...*logical.TableSource) *Catalog {
	c := &Catalog{Tables: map[string]*logical.TableSource{}, Views: map[string]string{}}
	for _, t := range tables {
		c.Tables[strings.ToLower(t.Name)] = t
	}
	return c
}

// LookupTable implements sql.Catalog.
func (c *Catalog) LookupTable(name string) (*logical.TableSource, bool) {
	t, ok := c.Tables[strings.ToLower(name)]
	return t, ok
}

// LookupView implements sql.Catalog.
func (c *Catalog) LookupView(name string) (string, bool) {
	v, ok := c.Views[strings.ToLower(name)]
	return v, ok
}

// TableNames implements sql.Catalog.
func (c *Catalog) TableNames() []string {
	var out []string
	for k := range c.Tables {
		out = append(out, k)
	}
	for k := range c.Views {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ResolveTable implements the Substrait consumer's TableResolver.
func (c *Catalog) ResolveTable(names []string) (*logical.TableSource, error) {
	t, ok := c.LookupTable(names[len(names)-1])
	if !ok {
		return nil, fmt.Errorf("table %q not found", strings.Join(names, "."))
	}
	return t, nil
}

// Bind binds a SQL script, applying its CREATE VIEW and DROP VIEW to the
// catalog, and returns the plans of its queries (not optimized).
func (c *Catalog) Bind(script string) ([]logical.Plan, error) {
	parsed, err := sql.Parse(script)
	if err != nil {
		return nil, err
	}
	var plans []logical.Plan
	for _, p := range parsed {
		st, err := sql.Bind(p, c)
		if err != nil {
			return nil, fmt.Errorf("bind %q: %w", p.SQL, err)
		}
		switch s := st.(type) {
		case *sql.CreateView:
			c.Views[strings.ToLower(s.Name)] = s.SQL
		case *sql.DropView:
			delete(c.Views, strings.ToLower(s.Name))
		case *sql.Query:
			plans = append(plans, s.Plan)
		}
	}
	return plans, nil
}

// Types of the column specs of Table.
var specTypes = map[string]arrow.DataType{
	"i32": arrow.PrimitiveTypes.Int32, "i64": arrow.PrimitiveTypes.Int64,
	"d15": logical.DecimalType(15, 2), "d30": logical.DecimalType(30, 2), "f64": logical.Float64,
	"s": logical.Utf8, "date": logical.Date32, "bool": logical.Bool, "iv": logical.Interval,
}

// Table builds a Parquet table source from "name:type" column specs
// (i32, i64, d15 = decimal(15,2), d30 = decimal(30,2), f64, s, date, bool,
// iv = interval), with an estimated row count (-1: unknown).
func Table(name string, rows int64, nullable bool, cols string) *logical.TableSource {
	var fs []arrow.Field
	for _, col := range strings.Fields(cols) {
		n, t, _ := strings.Cut(col, ":")
		dt, ok := specTypes[t]
		if !ok {
			panic("sqltest: unknown column type " + t)
		}
		fs = append(fs, arrow.Field{Name: n, Type: dt, Nullable: nullable})
	}
	return &logical.TableSource{Name: name, Format: "parquet", Location: "/data/" + name + ".parquet",
		Schema: arrow.NewSchema(fs, nil), RowCount: rows}
}

// TPCHColumns are the TPC-H tables' columns with the types the engine
// reads from dbgen Parquet files, and their SF 1 row counts.
var TPCHColumns = []struct {
	Name string
	Rows int64
	Cols string
}{
	{"lineitem", 6001215, "l_orderkey:i64 l_partkey:i64 l_suppkey:i64 l_linenumber:i32 l_quantity:d15 " +
		"l_extendedprice:d15 l_discount:d15 l_tax:d15 l_returnflag:s l_linestatus:s l_shipdate:date l_commitdate:date " +
		"l_receiptdate:date l_shipinstruct:s l_shipmode:s l_comment:s"},
	{"orders", 1500000, "o_orderkey:i64 o_custkey:i64 o_orderstatus:s o_totalprice:d15 o_orderdate:date " +
		"o_orderpriority:s o_clerk:s o_shippriority:i32 o_comment:s"},
	{"partsupp", 800000, "ps_partkey:i64 ps_suppkey:i64 ps_availqty:i32 ps_supplycost:d15 ps_comment:s"},
	{"part", 200000, "p_partkey:i64 p_name:s p_mfgr:s p_brand:s p_type:s p_size:i32 p_container:s p_retailprice:d15 p_comment:s"},
	{"customer", 150000, "c_custkey:i64 c_name:s c_address:s c_nationkey:i64 c_phone:s c_acctbal:d15 c_mktsegment:s c_comment:s"},
	{"supplier", 10000, "s_suppkey:i64 s_name:s s_address:s s_nationkey:i64 s_phone:s s_acctbal:d15 s_comment:s"},
	{"nation", 25, "n_nationkey:i64 n_name:s n_regionkey:i64 n_comment:s"},
	{"region", 5, "r_regionkey:i64 r_name:s r_comment:s"},
}

// TPCH is a catalog of the eight TPC-H tables. With stats the tables
// carry their SF 1 row counts (else -1, unknown).
func TPCH(nullable, stats bool) *Catalog {
	var ts []*logical.TableSource
	for _, t := range TPCHColumns {
		rows := t.Rows
		if !stats {
			rows = -1
		}
		ts = append(ts, Table(t.Name, rows, nullable, t.Cols))
	}
	return NewCatalog(ts...)
}

// TPCHQuery is the text of TPC-H query n (with the validation
// parameters), from conformance/tpch/queries.
func TPCHQuery(n int) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	b, err := os.ReadFile(filepath.Join(root, "conformance", "tpch", "queries", fmt.Sprintf("q%02d.sql", n)))
	return string(b), err
}
