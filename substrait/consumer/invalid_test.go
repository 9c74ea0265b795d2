package consumer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	"google.golang.org/protobuf/proto"
)

// mutate produces a valid plan for p and lets fn break it.
func mutate(t *testing.T, p logical.Plan, fn func(*pb.Plan)) *pb.Plan {
	t.Helper()
	pp, err := producer.ToProto(p)
	if err != nil {
		t.Fatal(err)
	}
	fn(pp)
	return pp
}

func rootRel(p *pb.Plan) *pb.Rel { return p.GetRelations()[0].GetRoot().GetInput() }

func TestInvalidPlans(t *testing.T) {
	plans := testPlans()
	cases := []struct {
		name string
		plan *pb.Plan
		want string
	}{
		{"join field out of range", mutate(t, plans["join_Inner"], func(p *pb.Plan) {
			sf := rootRel(p).GetJoin().GetExpression().GetScalarFunction()
			sf.Arguments[1].GetValue().GetSelection().GetDirectReference().GetStructField().Field = 42
		}), "relation 0 (join): join condition: equal: argument 2: field reference 42 out of range for 9 input columns"},
		{"unknown function anchor", mutate(t, plans["join_Inner"], func(p *pb.Plan) {
			rootRel(p).GetJoin().GetExpression().GetScalarFunction().FunctionReference = 77
		}), "relation 0 (join): join condition: unknown function anchor 77"},
		{"missing base schema", mutate(t, plans["join_Inner"], func(p *pb.Plan) {
			rootRel(p).GetJoin().GetRight().GetRead().BaseSchema = nil
		}), "relation 2 (read): missing base_schema"},
		{"unknown table", mutate(t, plans["scan"], func(p *pb.Plan) {
			rootRel(p).GetRead().GetNamedTable().Names = []string{"nope"}
		}), "relation 0 (read): table nope: table nope not found"},
		{"schema mismatch", mutate(t, plans["scan"], func(p *pb.Plan) {
			bs := rootRel(p).GetRead().GetBaseSchema()
			bs.Names = bs.Names[:2]
			bs.Struct.Types = bs.Struct.Types[:2]
		}), "base_schema has 2 columns but the table has 6"},
		{"unsupported type", mutate(t, plans["scan"], func(p *pb.Plan) {
			rootRel(p).GetRead().GetBaseSchema().GetStruct().Types[0] = &pb.Type{Kind: &pb.Type_Uuid{Uuid: &pb.Type_UUID{}}}
		}), "relation 0 (read): base_schema column 0 (o_orderkey): unsupported type uuid"},
		{"unsupported relation", mutate(t, plans["limit_offset"], func(p *pb.Plan) {
			f := rootRel(p).GetFetch()
			f.Input = &pb.Rel{RelType: &pb.Rel_Exchange{Exchange: &pb.ExchangeRel{Input: f.Input}}}
		}), "relation 1 (exchange): unsupported relation kind"},
		{"empty relation", mutate(t, plans["limit_offset"], func(p *pb.Plan) {
			rootRel(p).GetFetch().Input = nil
		}), "relation 1 (empty): missing relation"},
		{"emit out of range", mutate(t, plans["project"], func(p *pb.Plan) {
			rootRel(p).GetProject().GetCommon().GetEmit().OutputMapping[0] = 1000
		}), "relation 0 (project): emit output mapping 1000 out of range"},
		{"projection mask out of range", mutate(t, plans["scan"], func(p *pb.Plan) {
			rootRel(p).GetRead().GetProjection().GetSelect().StructItems[0].Field = 99
		}), "relation 0 (read): projection field 99 out of range for 6 columns"},
		{"bad decimal", mutate(t, plans["project"], func(p *pb.Plan) {
			for _, e := range rootRel(p).GetProject().GetExpressions() {
				if d := e.GetLiteral().GetDecimal(); d != nil {
					d.Value = d.Value[:3]
				}
			}
		}), "decimal literal has 3 bytes, want 16"},
		{"grouping reference out of range", mutate(t, plans["aggregate"], func(p *pb.Plan) {
			rootRel(p).GetAggregate().Groupings[0].ExpressionReferences[0] = 9
		}), "relation 0 (aggregate): grouping 0: expression reference 9 out of range for 2 grouping expressions"},
		{"root names", mutate(t, plans["scan"], func(p *pb.Plan) {
			p.Relations[0].GetRoot().Names = []string{"a"}
		}), "root has 1 names for 3 output columns"},
		{"no root", &pb.Plan{}, "plan has no root relation"},
		{"filter not boolean", mutate(t, plans["project"], func(p *pb.Plan) {
			f := rootRel(p).GetProject().GetInput().GetFilter()
			f.Condition = f.Condition.GetScalarFunction().GetArguments()[0].GetValue()
		}), "relation 1 (filter): filter condition has type int64, want boolean"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := consumer.FromProto(c.plan, testResolver)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, c.want)
			}
		})
	}
	if _, err := consumer.FromBytes([]byte("\xff\xff\xff garbage"), testResolver); err == nil {
		t.Fatal("garbage bytes accepted")
	}
	if _, err := consumer.FromBytes([]byte(`{"relations": [{"root": {}}]}`), testResolver); err == nil || !strings.Contains(err.Error(), "relation 0 (empty)") {
		t.Fatalf("empty root input: %v", err)
	}
}

// FuzzFromBytes feeds arbitrary plan bytes to the consumer: it must return
// a plan or an error, never panic (a recovered panic surfaces as an
// "internal error" and fails the fuzz run).
func FuzzFromBytes(f *testing.F) {
	for _, p := range testPlans() {
		pp, err := producer.ToProto(p)
		if err != nil {
			f.Fatal(err)
		}
		b, err := proto.Marshal(pp)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seeds, _ := filepath.Glob("testdata/*.pb")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Our plans use testResolver's tables, DataFusion's the TPC-H ones.
	resolvers := []consumer.TableResolver{testResolver, tpchResolver()}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, r := range resolvers {
			p, err := consumer.FromBytes(b, r)
			if err != nil {
				if strings.Contains(err.Error(), "internal error") {
					t.Fatalf("consumer panicked: %v", err)
				}
				continue
			}
			// A plan that was accepted must also produce back.
			if _, err := producer.ToProto(p); err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatalf("producer panicked on a consumed plan: %v", err)
			}
		}
	})
}
