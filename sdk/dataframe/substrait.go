package dataframe

import (
	"fmt"

	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/producer"
)

// final is the plan as it is submitted: output columns whose names clash
// (l.a and r.a after a join) are named with their qualifiers, so every
// result column has a distinct name.
func (df *DataFrame) final() (logical.Plan, error) {
	if err := df.check(); err != nil {
		return nil, err
	}
	s := df.plan.Schema()
	count := map[string]int{}
	for _, f := range s.Fields {
		count[f.Name]++
	}
	rename := false
	for _, f := range s.Fields {
		rename = rename || (count[f.Name] > 1 && f.Qualifier != "")
	}
	if !rename {
		return df.plan, nil
	}
	exprs, names, quals := identity(s)
	for i, f := range s.Fields {
		if count[f.Name] > 1 && f.Qualifier != "" {
			names[i] = f.Qualifier + "." + f.Name
		}
	}
	return logical.NewProject(df.plan, exprs, names, quals), nil
}

// Substrait is the DataFrame's plan in Substrait. Tables read by name
// (Context.Table) are named-table reads the cluster resolves in the
// session; files (ReadParquet, ReadCSV) are local-files reads.
func (df *DataFrame) Substrait() (*pb.Plan, error) {
	p, err := df.final()
	if err != nil {
		return nil, err
	}
	files := map[string]*logical.TableSource{}
	named := map[string]bool{}
	var conflict error
	var visit func(logical.Plan)
	visit = func(p logical.Plan) {
		if s, ok := p.(*logical.Scan); ok {
			if s.Source.Location != "" {
				files[s.Source.Name] = s.Source
			} else {
				named[s.Source.Name] = true
			}
		}
		for _, c := range p.Children() {
			visit(c)
		}
	}
	visit(p)
	for n := range files {
		if named[n] {
			conflict = fmt.Errorf("dataframe: a table is named like the file %s that the plan also reads", n)
		}
	}
	if conflict != nil {
		return nil, conflict
	}
	plan, err := producer.ToProto(p)
	if err != nil {
		return nil, fmt.Errorf("dataframe: %w", err)
	}
	if len(files) == 0 {
		return plan, nil
	}
	// The producer writes every scan as a named-table read; make the reads
	// of files local-files reads (as the producer writes them when it
	// inlines tables).
	reads := map[string]*pb.ReadRel_LocalFiles_{}
	for name, src := range files {
		one, err := producer.ToProtoWith(logical.NewScan(src, "", nil), producer.Options{InlineTables: true})
		if err != nil {
			return nil, fmt.Errorf("dataframe: reading %s: %w", src.Location, err)
		}
		lf, ok := one.GetRelations()[0].GetRoot().GetInput().GetRead().GetReadType().(*pb.ReadRel_LocalFiles_)
		if !ok {
			return nil, fmt.Errorf("dataframe: reading %s: the producer wrote no local-files read", src.Location)
		}
		reads[name] = lf
	}
	walkMessages(plan.ProtoReflect(), func(m protoreflect.Message) {
		r, ok := m.Interface().(*pb.ReadRel)
		if !ok {
			return
		}
		names := r.GetNamedTable().GetNames()
		if len(names) != 1 {
			return
		}
		if lf, ok := reads[names[0]]; ok {
			r.ReadType = &pb.ReadRel_LocalFiles_{LocalFiles: proto.Clone(lf.LocalFiles).(*pb.ReadRel_LocalFiles)}
		}
	})
	return plan, nil
}

// walkMessages calls fn for m and every message below it.
func walkMessages(m protoreflect.Message, fn func(protoreflect.Message)) {
	fn(m)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkMessages(l.Get(i).Message(), fn)
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				if fd.MapValue().Message() != nil {
					walkMessages(mv.Message(), fn)
				}
				return true
			})
		default:
			walkMessages(v.Message(), fn)
		}
		return true
	})
}

// SubstraitBytes is Substrait as binary protobuf, as Client.Substrait
// takes it.
func (df *DataFrame) SubstraitBytes() ([]byte, error) {
	p, err := df.Substrait()
	if err != nil {
		return nil, err
	}
	return proto.Marshal(p)
}

// SubstraitJSON is Substrait as indented protobuf JSON.
func (df *DataFrame) SubstraitJSON() ([]byte, error) {
	p, err := df.Substrait()
	if err != nil {
		return nil, err
	}
	return protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(p)
}
