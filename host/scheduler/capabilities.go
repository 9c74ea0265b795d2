package scheduler

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/arbalest/arbalest/substrait/clusterpb"
	"github.com/arbalest/arbalest/substrait/extensions"
	"github.com/arbalest/arbalest/substrait/planpb"
)

// requirements are what an executor must run to take a stage's tasks, in
// the vocabulary of clusterpb.Capabilities (docs/protocol.md): relation
// kinds, function names (Substrait simple names) and file formats.
type requirements struct {
	relations, functions, formats []string
}

// relationNames maps the Substrait Rel oneof fields to capability names.
var relationNames = map[string]string{
	"filter": "filter", "project": "project", "aggregate": "aggregate", "join": "join",
	"hash_join": "join", "merge_join": "join", "nested_loop_join": "join", "cross": "cross",
	"sort": "sort", "fetch": "fetch", "set": "set", "window": "window",
	"extension_leaf": "extension_leaf", "extension_multi": "extension_multi",
	"exchange": "exchange", "expand": "expand", "write": "write", "ddl": "ddl", "reference": "reference",
}

// fragmentRequirements lists what the Substrait stage fragment p uses.
func fragmentRequirements(p *pb.Plan) requirements {
	rels, formats := map[string]bool{}, map[string]bool{}
	walk(p.ProtoReflect(), rels, formats)
	funcs := map[string]bool{}
	for _, d := range p.GetExtensions() {
		if f := d.GetExtensionFunction(); f != nil {
			funcs[extensions.BaseName(f.GetName())] = true
		}
	}
	return requirements{relations: keys(rels), functions: keys(funcs), formats: keys(formats)}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// walk visits every message under m, noting relation kinds (by the Rel
// oneof that is set, ReadRel by its read type, ExtensionSingleRel by its
// detail), window functions and file formats.
func walk(m protoreflect.Message, rels, formats map[string]bool) {
	switch x := m.Interface().(type) {
	case *pb.Rel:
		if f := m.WhichOneof(m.Descriptor().Oneofs().ByName("rel_type")); f != nil {
			if n, ok := relationNames[string(f.Name())]; ok {
				rels[n] = true
			}
		}
	case *pb.ReadRel:
		switch rt := x.GetReadType().(type) {
		case *pb.ReadRel_VirtualTable_:
			rels["read_virtual_table"] = true
		case *pb.ReadRel_LocalFiles_:
			rels["read_local_files"] = true
			for _, it := range rt.LocalFiles.GetItems() {
				formats[fileFormat(it)] = true
			}
		case *pb.ReadRel_ExtensionTable_:
			switch {
			case rt.ExtensionTable.GetDetail().MessageIs(&planpb.ShuffleRead{}):
				rels["read_shuffle"] = true
			case rt.ExtensionTable.GetDetail().MessageIs(&planpb.PluginScan{}):
				rels["read_plugin"] = true
			default:
				rels["read_extension_table"] = true
			}
		case *pb.ReadRel_NamedTable_:
			rels["read_named_table"] = true
		default:
			rels["read"] = true
		}
	case *pb.ExtensionSingleRel:
		if x.GetDetail().MessageIs(&planpb.ShuffleWrite{}) {
			rels["write_shuffle"] = true
		} else {
			rels["extension_single"] = true
		}
	case *pb.Expression_WindowFunction:
		rels["window"] = true
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind:
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				walk(l.Get(i).Message(), rels, formats)
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				if fd.MapValue().Kind() == protoreflect.MessageKind {
					walk(mv.Message(), rels, formats)
				}
				return true
			})
		default:
			walk(v.Message(), rels, formats)
		}
		return true
	})
}

// fileFormat names the format of a local_files item.
func fileFormat(it *pb.ReadRel_LocalFiles_FileOrFiles) string {
	switch ff := it.GetFileFormat().(type) {
	case *pb.ReadRel_LocalFiles_FileOrFiles_Parquet:
		return "parquet"
	case *pb.ReadRel_LocalFiles_FileOrFiles_Arrow:
		return "arrow"
	case *pb.ReadRel_LocalFiles_FileOrFiles_Orc:
		return "orc"
	case *pb.ReadRel_LocalFiles_FileOrFiles_Dwrf:
		return "dwrf"
	case *pb.ReadRel_LocalFiles_FileOrFiles_Text:
		return "csv"
	case *pb.ReadRel_LocalFiles_FileOrFiles_Extension:
		var m planpb.FileFormat
		if ff.Extension.UnmarshalTo(&m) == nil && m.GetFormat() != "" {
			return strings.ToLower(m.GetFormat())
		}
	}
	return "unknown"
}

// missing says what of r an executor with capabilities c lacks ("" when
// it can run it). An empty list in c means "everything".
func (r requirements) missing(c *clusterpb.Capabilities) string {
	var out []string
	check := func(what string, need, have []string) {
		if len(have) == 0 {
			return
		}
		var lack []string
		for _, n := range need {
			if !slices.Contains(have, n) {
				lack = append(lack, n)
			}
		}
		if len(lack) > 0 {
			out = append(out, fmt.Sprintf("%s %s", what, strings.Join(lack, ", ")))
		}
	}
	check("relations", r.relations, c.GetRelations())
	check("functions", r.functions, c.GetFunctions())
	check("file formats", r.formats, c.GetFileFormats())
	if len(out) == 0 {
		return ""
	}
	return "cannot run " + strings.Join(out, "; ")
}
