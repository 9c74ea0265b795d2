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
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
	"github.com/arbalest/arbalest/substrait/sql/sqltest"
	"google.golang.org/protobuf/proto"
)

func TestTPCHRoundTrip(t *testing.T) {
	for q := 1; q <= 22; q++ {
		name := fmt.Sprintf("q%02d", q)
		t.Run(name, func(t *testing.T) {
			text, err := sqltest.TPCHQuery(q)
			if err != nil {
				t.Fatal(err)
			}
			cat := sqltest.TPCH(false, false)
			plans, err := cat.Bind(text)
			if err != nil {
				t.Fatal(err)
			}
			if len(plans) != 1 {
				t.Fatalf("%d queries in the script", len(plans))
			}
			plan := plans[0]
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
