package consumer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arbalest/arbalest/host/optimizer"
	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	pbext "github.com/substrait-io/substrait-protobuf/go/substraitpb/extensions"
	"google.golang.org/protobuf/proto"
)

// The isthmus_q*.pb fixtures were written by isthmus 0.89.1
// (conformance/interop/isthmus/IsthmusPlans.java) over CREATE TABLE
// statements with the Parquet files' types. isthmus declares Calcite's
// aggregate types (sum(i32) as i32, sum(decimal(15,2)) as decimal(15,2)),
// not the spec's; the consumer computes the spec's type and casts to the
// declared one, so the plan's output types are the producer's.
func TestIsthmusPlans(t *testing.T) {
	files, _ := filepath.Glob("testdata/isthmus_q*.pb")
	if len(files) != 22 {
		t.Fatalf("want the 22 isthmus fixtures, found %d", len(files))
	}
	r := tpchResolver()
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := consumer.FromBytes(b, r)
			if err != nil {
				t.Fatalf("FromBytes: %v", err)
			}
			if _, err := optimizer.Optimize(p); err != nil {
				t.Fatalf("optimize: %v\n%s", err, logical.Format(p))
			}
		})
	}
	// Q12: sum(case ... then 1 else 0 end) over i32, declared i32.
	b, err := os.ReadFile("testdata/isthmus_q12.pb")
	if err != nil {
		t.Fatal(err)
	}
	p, err := consumer.FromBytes(b, r)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Schema()
	if got := s.Fields[1].Type.String() + " " + s.Fields[2].Type.String(); got != "int32 int32" {
		t.Fatalf("Q12 counts are %s, want the declared int32 int32\n%s", got, logical.Format(p))
	}
	text := logical.Format(p)
	if !strings.Contains(text, "CAST(") || !strings.Contains(text, "sum") {
		t.Fatalf("want the spec-typed sum cast to the declared type:\n%s", text)
	}
	for _, a := range findAggregates(p) {
		for _, ac := range a.Aggs {
			if ac.Func == "sum" && ac.T.String() != "int64" {
				t.Fatalf("sum over i32 computes %s, want the spec's int64", ac.T)
			}
		}
	}
}

func findAggregates(p logical.Plan) []*logical.Aggregate {
	var out []*logical.Aggregate
	if a, ok := p.(*logical.Aggregate); ok {
		out = append(out, a)
	}
	for _, c := range p.Children() {
		out = append(out, findAggregates(c)...)
	}
	return out
}

// A plan naming a function, type or relation Arbalest does not know is
// refused with an error that names it.
func TestUnknownNamed(t *testing.T) {
	b, err := os.ReadFile("testdata/datafusion_q06.pb")
	if err != nil {
		t.Fatal(err)
	}
	load := func(t *testing.T) *pb.Plan {
		var p pb.Plan
		if err := proto.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		return &p
	}
	t.Run("function", func(t *testing.T) {
		p := load(t)
		for _, d := range p.GetExtensions() {
			if f := d.GetExtensionFunction(); f != nil && f.GetName() == "multiply" {
				f.Name = "frobnicate"
			}
		}
		wantRefused(t, p, "frobnicate")
	})
	t.Run("type", func(t *testing.T) {
		p := load(t)
		p.Extensions = append(p.Extensions, &pbext.SimpleExtensionDeclaration{MappingType: &pbext.SimpleExtensionDeclaration_ExtensionType_{
			ExtensionType: &pbext.SimpleExtensionDeclaration_ExtensionType{TypeAnchor: 900, Name: "geometry"}}})
		var read *pb.ReadRel
		findRead(p.GetRelations()[0].GetRoot().GetInput(), &read)
		read.GetBaseSchema().GetStruct().Types[0] = &pb.Type{Kind: &pb.Type_UserDefined_{UserDefined: &pb.Type_UserDefined{TypeReference: 900}}}
		wantRefused(t, p, "geometry")
	})
	t.Run("relation", func(t *testing.T) {
		p := load(t)
		root := p.GetRelations()[0].GetRoot()
		root.Input = &pb.Rel{RelType: &pb.Rel_ExtensionSingle{ExtensionSingle: &pb.ExtensionSingleRel{Input: root.Input}}}
		wantRefused(t, p, "extension_single")
	})
}

func findRead(r *pb.Rel, out **pb.ReadRel) {
	if r == nil || *out != nil {
		return
	}
	if rd := r.GetRead(); rd != nil {
		*out = rd
		return
	}
	for _, c := range childRels(r) {
		findRead(c, out)
	}
}

func childRels(r *pb.Rel) []*pb.Rel {
	switch x := r.GetRelType().(type) {
	case *pb.Rel_Project:
		return []*pb.Rel{x.Project.GetInput()}
	case *pb.Rel_Filter:
		return []*pb.Rel{x.Filter.GetInput()}
	case *pb.Rel_Aggregate:
		return []*pb.Rel{x.Aggregate.GetInput()}
	case *pb.Rel_Fetch:
		return []*pb.Rel{x.Fetch.GetInput()}
	case *pb.Rel_Sort:
		return []*pb.Rel{x.Sort.GetInput()}
	case *pb.Rel_Join:
		return []*pb.Rel{x.Join.GetLeft(), x.Join.GetRight()}
	case *pb.Rel_Cross:
		return []*pb.Rel{x.Cross.GetLeft(), x.Cross.GetRight()}
	}
	return nil
}

func wantRefused(t *testing.T, p *pb.Plan, name string) {
	t.Helper()
	b, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = consumer.FromBytes(b, tpchResolver())
	if err == nil {
		t.Fatalf("plan with unknown %s accepted", name)
	}
	if !strings.Contains(err.Error(), name) {
		t.Fatalf("error %q does not name %s", err, name)
	}
}

// FuzzSubmission is the scheduler's Substrait submission path (what
// Session.PlanSubstrait does): FromBytes, then the optimizer, seeded with
// the TPC-H plans of Arbalest, DataFusion and isthmus. Neither step may
// panic; the optimizer is guarded here like the engine guards it.
func FuzzSubmission(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*_q*.pb")
	if len(seeds) == 0 {
		f.Fatal("no TPC-H plan fixtures")
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	r := tpchResolver()
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := consumer.FromBytes(b, r)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("consumer panicked: %v", err)
			}
			return
		}
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Fatalf("optimizer panicked on an accepted plan: %v\n%s", v, logical.Format(p))
				}
			}()
			_, _ = optimizer.Optimize(p)
		}()
		if _, err := producer.ToProto(p); err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("producer panicked on a consumed plan: %v", err)
		}
	})
}
