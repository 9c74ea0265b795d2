package consumer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql/sqltest"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	"google.golang.org/protobuf/proto"
)

// tpchResolver resolves the TPC-H tables (dbgen types).
func tpchResolver() consumer.TableResolver { return sqltest.TPCH(false, false) }

// The fixtures under testdata/ were written by DataFusion 55
// (datafusion.substrait.Serde.serialize_bytes over the TPC-H tables; Q1's
// `interval '90' day (3)` spelled `interval '90 days'`, which DataFusion's
// parser needs). They need Normalize for: dangling function anchors
// (extension_urn_reference 4294967295, no URNs), simple function names,
// FetchRel count_expr, and measures without output types (the consumer
// derives them with logical.AggregateResultType).
func TestDataFusionPlans(t *testing.T) {
	want := map[string]string{
		"datafusion_q01.pb": "l_returnflag:utf8 l_linestatus:utf8 sum_qty:decimal sum_base_price:decimal sum_disc_price:decimal sum_charge:decimal avg_qty:decimal avg_price:decimal avg_disc:decimal count_order:int64",
		"datafusion_q03.pb": "l_orderkey:int64 revenue:decimal o_orderdate:date32 o_shippriority:int32",
		"datafusion_q06.pb": "revenue:decimal",
		"datafusion_q14.pb": "promo_revenue:float64", // DataFusion types 100.00 as a float
	}
	files, _ := filepath.Glob("testdata/datafusion_q*.pb")
	if len(files) < len(want) {
		t.Fatalf("missing DataFusion fixtures: found %v", files)
	}
	r := tpchResolver()
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := consumer.FromBytes(b, r)
			if err != nil {
				t.Fatalf("FromBytes: %v", err)
			}
			w, required := want[base]
			var got []string
			for _, fl := range p.Schema().Fields {
				ty := fl.Type.String()
				if logical.IsDecimal(fl.Type) {
					ty = "decimal"
				}
				got = append(got, fl.Name+":"+ty)
			}
			if required && strings.Join(got, " ") != w {
				t.Fatalf("schema\n got %s\nwant %s\nplan:\n%s", strings.Join(got, " "), w, logical.Format(p))
			}
			t.Logf("\n%s", logical.Format(p))
		})
	}
}

func TestNormalizeDataFusion(t *testing.T) {
	b, err := os.ReadFile("testdata/datafusion_q03.pb")
	if err != nil {
		t.Fatal(err)
	}
	var p pb.Plan
	if err := proto.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if err := consumer.Normalize(&p); err != nil {
		t.Fatal(err)
	}
	urns := map[uint32]string{}
	for _, u := range p.GetExtensionUrns() {
		urns[u.GetExtensionUrnAnchor()] = u.GetUrn()
	}
	for _, d := range p.GetExtensions() {
		f := d.GetExtensionFunction()
		u, ok := urns[f.GetExtensionUrnReference()]
		if !ok || !strings.HasPrefix(u, "extension:io.substrait:functions_") {
			t.Errorf("function %s has URN reference %d (%q)", f.GetName(), f.GetExtensionUrnReference(), u)
		}
	}
	fetches := 0
	var walk func(r *pb.Rel)
	walk = func(r *pb.Rel) {
		if r == nil {
			return
		}
		if f := r.GetFetch(); f != nil {
			fetches++
			if _, ok := f.GetCountMode().(*pb.FetchRel_Count); !ok {
				t.Errorf("fetch count not normalised: %T", f.GetCountMode())
			}
			if _, ok := f.GetOffsetMode().(*pb.FetchRel_Offset); !ok {
				t.Errorf("fetch offset not normalised: %T", f.GetOffsetMode())
			}
			walk(f.GetInput())
		}
		for _, c := range []*pb.Rel{r.GetSort().GetInput(), r.GetProject().GetInput(), r.GetFilter().GetInput(), r.GetAggregate().GetInput(), r.GetJoin().GetLeft(), r.GetJoin().GetRight()} {
			walk(c)
		}
	}
	walk(p.GetRelations()[0].GetRoot().GetInput())
	if fetches == 0 {
		t.Fatal("Q3 has a LIMIT: expected a FetchRel")
	}
}
