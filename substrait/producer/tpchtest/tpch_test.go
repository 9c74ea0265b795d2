// Package tpchtest checks the Substrait round trip on the 22 TPC-H queries
// as bound by the SQL frontend: SQL → logical plan → Substrait → logical
// plan gives the same EXPLAIN text (column reference names included) and
// the same schema, nullability included, at every node. It lives apart
// from the producer and consumer so their own tests do not depend on the
// binder.
package tpchtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
	"github.com/arbalest/arbalest/substrait/sql"
	"google.golang.org/protobuf/proto"
)

var tpchTables = map[string]string{
	"customer": "c_custkey:i64 c_name:s c_address:s c_nationkey:i64 c_phone:s c_acctbal:d c_mktsegment:s c_comment:s",
	"lineitem": "l_orderkey:i64 l_partkey:i64 l_suppkey:i64 l_linenumber:i32 l_quantity:d l_extendedprice:d l_discount:d l_tax:d " +
		"l_returnflag:s l_linestatus:s l_shipdate:date l_commitdate:date l_receiptdate:date l_shipinstruct:s l_shipmode:s l_comment:s",
	"nation":   "n_nationkey:i64 n_name:s n_regionkey:i64 n_comment:s",
	"orders":   "o_orderkey:i64 o_custkey:i64 o_orderstatus:s o_totalprice:d o_orderdate:date o_orderpriority:s o_clerk:s o_shippriority:i32 o_comment:s",
	"part":     "p_partkey:i64 p_name:s p_mfgr:s p_brand:s p_type:s p_size:i32 p_container:s p_retailprice:d p_comment:s",
	"partsupp": "ps_partkey:i64 ps_suppkey:i64 ps_availqty:i32 ps_supplycost:d ps_comment:s",
	"region":   "r_regionkey:i64 r_name:s r_comment:s",
	"supplier": "s_suppkey:i64 s_name:s s_address:s s_nationkey:i64 s_phone:s s_acctbal:d s_comment:s",
}

type catalog struct {
	tables map[string]*logical.TableSource
	views  map[string]string
}

func newCatalog() *catalog {
	c := &catalog{tables: map[string]*logical.TableSource{}, views: map[string]string{}}
	for name, cols := range tpchTables {
		var fs []arrow.Field
		for _, col := range strings.Fields(cols) {
			n, t, _ := strings.Cut(col, ":")
			at := map[string]arrow.DataType{"i64": arrow.PrimitiveTypes.Int64, "i32": arrow.PrimitiveTypes.Int32,
				"d": logical.DecimalType(15, 2), "date": logical.Date32, "s": logical.Utf8}[t]
			fs = append(fs, arrow.Field{Name: n, Type: at})
		}
		c.tables[name] = &logical.TableSource{Name: name, Format: "parquet", Location: name + ".parquet", Schema: arrow.NewSchema(fs, nil), RowCount: -1}
	}
	return c
}

func (c *catalog) LookupTable(name string) (*logical.TableSource, bool) {
	t, ok := c.tables[strings.ToLower(name)]
	return t, ok
}
func (c *catalog) LookupView(name string) (string, bool) {
	v, ok := c.views[strings.ToLower(name)]
	return v, ok
}
func (c *catalog) TableNames() []string {
	var out []string
	for n := range c.tables {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
func (c *catalog) ResolveTable(names []string) (*logical.TableSource, error) {
	if t, ok := c.tables[strings.ToLower(strings.Join(names, "."))]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("table %s not found", strings.Join(names, "."))
}

// queriesDir finds shared/tpch/queries above the working directory.
func queriesDir() string {
	if d := os.Getenv("ARBALEST_TPCH_QUERIES"); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for i := 0; i < 8; i++ {
		for _, c := range []string{filepath.Join(dir, "shared", "tpch", "queries"), filepath.Join(dir, "..", "shared", "tpch", "queries")} {
			if st, err := os.Stat(c); err == nil && st.IsDir() {
				return c
			}
		}
		dir = filepath.Dir(dir)
	}
	return ""
}

func TestTPCHRoundTrip(t *testing.T) {
	dir := queriesDir()
	if dir == "" {
		t.Skip("TPC-H queries (shared/tpch/queries) not found")
	}
	for q := 1; q <= 22; q++ {
		name := fmt.Sprintf("q%02d", q)
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join(dir, name+".sql"))
			if err != nil {
				t.Skipf("query file: %v", err)
			}
			cat := newCatalog()
			stmts, err := sql.Parse(string(text))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			var plan logical.Plan
			for _, p := range stmts {
				st, err := sql.Bind(p, cat)
				if err != nil {
					t.Fatalf("bind: %v", err)
				}
				switch s := st.(type) {
				case *sql.CreateView:
					cat.views[strings.ToLower(s.Name)] = s.SQL
				case *sql.Query:
					plan = s.Plan
				}
			}
			if plan == nil {
				t.Fatal("no query in script")
			}
			want := logical.Format(plan)
			pp, err := producer.ToProto(plan)
			if err != nil {
				t.Fatalf("ToProto: %v\n%s", err, want)
			}
			b, err := proto.Marshal(pp)
			if err != nil {
				t.Fatal(err)
			}
			got, err := consumer.FromBytes(b, cat)
			if err != nil {
				t.Fatalf("FromBytes: %v\n%s", err, want)
			}
			if g := logical.Format(got); g != want {
				t.Fatalf("round trip differs\nwant:\n%s\ngot:\n%s", want, g)
			}
			if err := sameSchemas(plan, got); err != nil {
				t.Fatalf("round trip differs: %v\n%s", err, want)
			}
			if os.Getenv("ARBALEST_WRITE_TPCH_SEEDS") != "" {
				// Refresh the fuzz corpus seeds of package consumer.
				_ = os.WriteFile(filepath.Join("..", "..", "consumer", "testdata", "arbalest_"+name+".pb"), b, 0o644)
			}
		})
	}
}

// sameSchemas compares the output schemas of two plan trees of the same
// shape node by node: names, qualifiers aside, types and nullability.
func sameSchemas(a, b logical.Plan) error {
	sa, sb := a.Schema(), b.Schema()
	if sa.Len() != sb.Len() {
		return fmt.Errorf("%s: %d columns, the other has %d", a, sa.Len(), sb.Len())
	}
	for i, f := range sa.Fields {
		g := sb.Fields[i]
		if f.Name != g.Name || !arrow.TypeEqual(f.Type, g.Type) || f.Nullable != g.Nullable {
			return fmt.Errorf("%s: column %d is %s (nullable=%v), the other has %s (nullable=%v)", a, i, f, f.Nullable, g, g.Nullable)
		}
	}
	ka, kb := a.Children(), b.Children()
	if len(ka) != len(kb) {
		return fmt.Errorf("%s: %d inputs, the other has %d", a, len(ka), len(kb))
	}
	for i := range ka {
		if err := sameSchemas(ka[i], kb[i]); err != nil {
			return err
		}
	}
	return nil
}
