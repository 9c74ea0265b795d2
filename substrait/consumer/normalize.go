package consumer

import (
	"fmt"
	"strings"

	"github.com/arbalest/arbalest/substrait/extensions"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	pbext "github.com/substrait-io/substrait-protobuf/go/substraitpb/extensions"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// UnknownURN is the URN given to functions no known extension declares.
const UnknownURN = extensions.StandardURNPrefix + "unknown"

// Normalize rewrites a foreign plan in place into the form substrait-go
// v8 and this consumer read (spec 0.85). What foreign producers needed:
//
//   - Extension URIs (Plan field 1 and extension_uri_reference, removed in
//     spec 0.85, so they arrive as unknown fields): isthmus, DuckDB, ibis
//     and older DataFusion declare functions against
//     https://.../functions_arithmetic.yaml. Each URI becomes the URN of the
//     standard (or Arbalest) extension with the same file name.
//   - Dangling anchors: DataFusion 55 declares every function with
//     extension_urn_reference 4294967295 and no URN at all. A function whose
//     URN reference is undeclared gets the URN of the extension declaring
//     its name (extension:io.substrait:unknown when none does).
//   - FetchRel count_expr/offset_expr (DataFusion), which substrait-go
//     rejects: literal expressions become count/offset (a NULL count means
//     all rows, -1); unset offset and count become 0 and -1, because
//     substrait-go requires both. Non-literal expressions are an error.
//   - Relations without RelCommon (DataFusion omits it) get one with a
//     direct emit: optional in the spec, but substrait-go dereferences it.
//   - Compound names that name no declared variant (`and:bool?`, which makes
//     substrait-go panic, or signatures of non-standard types) are reduced
//     to the base name; valid compound names are kept.
func Normalize(p *pb.Plan) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("substrait normalize: internal error: %v", r)
		}
	}()
	if p == nil {
		return fmt.Errorf("substrait normalize: nil plan")
	}
	// Legacy extension URIs (Plan field 1: SimpleExtensionURI{anchor=1, uri=2}).
	uris := map[uint32]string{}
	rest, err := takeUnknown(p.ProtoReflect(), 1, func(b []byte) error {
		anchor, uri, err := parseExtensionURI(b)
		if err != nil {
			return err
		}
		uris[anchor] = uri
		return nil
	})
	if err != nil {
		return fmt.Errorf("substrait normalize: extension URIs: %w", err)
	}
	p.ProtoReflect().SetUnknown(rest)

	urnAnchor := map[string]uint32{}
	declared := map[uint32]bool{}
	var maxAnchor uint32
	for _, u := range p.GetExtensionUrns() {
		urnAnchor[u.GetUrn()] = u.GetExtensionUrnAnchor()
		declared[u.GetExtensionUrnAnchor()] = true
		maxAnchor = max(maxAnchor, u.GetExtensionUrnAnchor())
	}
	anchorFor := func(urn string) uint32 {
		if a, ok := urnAnchor[urn]; ok {
			return a
		}
		maxAnchor++
		urnAnchor[urn] = maxAnchor
		declared[maxAnchor] = true
		p.ExtensionUrns = append(p.ExtensionUrns, &pbext.SimpleExtensionURN{ExtensionUrnAnchor: maxAnchor, Urn: urn})
		return maxAnchor
	}
	// uriURN maps a legacy URI reference to a URN.
	uriURN := func(ref uint32) (string, bool) {
		uri, ok := uris[ref]
		if !ok {
			return "", false
		}
		if strings.HasPrefix(uri, "extension:") {
			return uri, true
		}
		return extensions.URNForFile(uri)
	}
	for i, d := range p.GetExtensions() {
		switch m := d.GetMappingType().(type) {
		case *pbext.SimpleExtensionDeclaration_ExtensionFunction_:
			f := m.ExtensionFunction
			if f == nil {
				return fmt.Errorf("substrait normalize: extension declaration %d is empty", i)
			}
			uriRef, hasURI, err := legacyURIRef(f.ProtoReflect())
			if err != nil {
				return fmt.Errorf("substrait normalize: extension declaration %d: %w", i, err)
			}
			name := f.GetName()
			base := extensions.BaseName(name)
			if base != name && !extensions.IsCompoundName(extensions.Scalar, name) &&
				!extensions.IsCompoundName(extensions.Aggregate, name) && !extensions.IsCompoundName(extensions.Window, name) {
				f.Name = base
			}
			if declared[f.GetExtensionUrnReference()] {
				continue
			}
			if hasURI {
				if urn, ok := uriURN(uriRef); ok {
					f.ExtensionUrnReference = anchorFor(urn)
					continue
				}
			}
			urn := UnknownURN
			for _, k := range []extensions.Kind{extensions.Scalar, extensions.Aggregate, extensions.Window} {
				if us := extensions.URNsDeclaring(k, base); len(us) > 0 {
					urn = us[0]
					break
				}
			}
			f.ExtensionUrnReference = anchorFor(urn)
		case *pbext.SimpleExtensionDeclaration_ExtensionType_:
			t := m.ExtensionType
			if t == nil || declared[t.GetExtensionUrnReference()] {
				continue
			}
			if ref, ok, err := legacyURIRef(t.ProtoReflect()); err == nil && ok {
				if urn, ok := uriURN(ref); ok {
					t.ExtensionUrnReference = anchorFor(urn)
				}
			}
		case *pbext.SimpleExtensionDeclaration_ExtensionTypeVariation_:
			t := m.ExtensionTypeVariation
			if t == nil || declared[t.GetExtensionUrnReference()] {
				continue
			}
			if ref, ok, err := legacyURIRef(t.ProtoReflect()); err == nil && ok {
				if urn, ok := uriURN(ref); ok {
					t.ExtensionUrnReference = anchorFor(urn)
				}
			}
		}
	}
	if err := walkMessages(p.ProtoReflect(), 0, normalizeFetch); err != nil {
		return fmt.Errorf("substrait normalize: %w", err)
	}
	if err := extensions.SetDirectEmit(p.ProtoReflect()); err != nil {
		return fmt.Errorf("substrait normalize: %w", err)
	}
	return nil
}

// takeUnknown removes the length-delimited unknown field num from m's
// unknown bytes, calling fn with each occurrence; it returns the remaining
// unknown bytes.
func takeUnknown(m protoreflect.Message, num protowire.Number, fn func([]byte) error) (protoreflect.RawFields, error) {
	raw := m.GetUnknown()
	var rest protoreflect.RawFields
	for len(raw) > 0 {
		n, typ, l := protowire.ConsumeTag(raw)
		if l < 0 {
			return nil, protowire.ParseError(l)
		}
		fl := protowire.ConsumeFieldValue(n, typ, raw[l:])
		if fl < 0 {
			return nil, protowire.ParseError(fl)
		}
		if n == num && typ == protowire.BytesType {
			v, vl := protowire.ConsumeBytes(raw[l:])
			if vl < 0 {
				return nil, protowire.ParseError(vl)
			}
			if err := fn(v); err != nil {
				return nil, err
			}
		} else {
			rest = append(rest, raw[:l+fl]...)
		}
		raw = raw[l+fl:]
	}
	return rest, nil
}

// parseExtensionURI decodes a legacy SimpleExtensionURI message.
func parseExtensionURI(b []byte) (anchor uint32, uri string, err error) {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return 0, "", protowire.ParseError(l)
		}
		b = b[l:]
		switch {
		case n == 1 && typ == protowire.VarintType:
			v, vl := protowire.ConsumeVarint(b)
			if vl < 0 {
				return 0, "", protowire.ParseError(vl)
			}
			anchor, b = uint32(v), b[vl:]
		case n == 2 && typ == protowire.BytesType:
			v, vl := protowire.ConsumeBytes(b)
			if vl < 0 {
				return 0, "", protowire.ParseError(vl)
			}
			uri, b = string(v), b[vl:]
		default:
			fl := protowire.ConsumeFieldValue(n, typ, b)
			if fl < 0 {
				return 0, "", protowire.ParseError(fl)
			}
			b = b[fl:]
		}
	}
	return anchor, uri, nil
}

// legacyURIRef reads and removes the legacy extension_uri_reference (field
// 1, varint) of an extension declaration.
func legacyURIRef(m protoreflect.Message) (ref uint32, ok bool, err error) {
	raw := m.GetUnknown()
	var rest protoreflect.RawFields
	for len(raw) > 0 {
		n, typ, l := protowire.ConsumeTag(raw)
		if l < 0 {
			return 0, false, protowire.ParseError(l)
		}
		fl := protowire.ConsumeFieldValue(n, typ, raw[l:])
		if fl < 0 {
			return 0, false, protowire.ParseError(fl)
		}
		if n == 1 && typ == protowire.VarintType {
			v, _ := protowire.ConsumeVarint(raw[l:])
			ref, ok = uint32(v), true
		} else {
			rest = append(rest, raw[:l+fl]...)
		}
		raw = raw[l+fl:]
	}
	m.SetUnknown(rest)
	return ref, ok, nil
}

// walkMessages calls fn on m and every message below it.
func walkMessages(m protoreflect.Message, depth int, fn func(protoreflect.Message) error) error {
	if depth > 10000 {
		return fmt.Errorf("plan nested too deeply")
	}
	if err := fn(m); err != nil {
		return err
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = walkMessages(l.Get(i).Message(), depth+1, fn)
			}
		case fd.IsMap():
		default:
			err = walkMessages(v.Message(), depth+1, fn)
		}
		return err == nil
	})
	return err
}

func normalizeFetch(m protoreflect.Message) error {
	f, ok := m.Interface().(*pb.FetchRel)
	if !ok {
		return nil
	}
	offset, count, err := fetchBounds(f)
	if err != nil {
		return fmt.Errorf("fetch relation: %w", err)
	}
	f.OffsetMode = &pb.FetchRel_Offset{Offset: offset}
	f.CountMode = &pb.FetchRel_Count{Count: count}
	return nil
}
