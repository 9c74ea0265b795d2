// Package consumer translates Substrait plans (ours and foreign ones from
// DataFusion, isthmus, DuckDB, ibis) into Arbalest logical plans. It reads
// the raw protobuf, so malformed plans produce errors that name the
// relation (numbered in pre-order from 0 at the root's input) and the
// problem, never a panic.
//
// It inverts every mapping of package producer (see there), including the
// Arbalest hints (topk, null_aware_anti, grouping_id, scan_limit). Without
// hints, plans are read by the Substrait semantics alone:
//
//   - A multi-set AggregateRel becomes an Aggregate (with __grouping_id)
//     under a Project that turns the bitmask back into Substrait's i32
//     grouping-set index, so the parents' field references stay valid.
//   - FetchRel is a Limit; ProjectRels holding window functions become a
//     Window (plus a Project when the functions are nested in other
//     expressions or the emit reorders columns).
//   - RIGHT_SEMI/RIGHT_ANTI/RIGHT_SINGLE/RIGHT_MARK joins are rewritten as
//     their LEFT_ forms with the inputs swapped; post_join_filter becomes a
//     Filter above the join.
//   - ReadRel.filter becomes a Filter above the Scan (widening the scan's
//     projection when it reads unprojected columns); best_effort_filter
//     becomes Scan.Filters when it reads only projected columns.
//
// Documented normalisations (the round trip through the producer is
// otherwise exact for logical.Format): column references are named after
// the input column they read (Substrait field references carry no name);
// not(x IN (...)) reads back as
// x NOT IN (...); a single Scan filter that is itself an `and` splits into
// its conjuncts; Project/Field qualifiers other than the scan alias are not
// carried; function options other than like's escape are dropped (the
// standard ones - overflow, rounding, ... - describe the engine's defaults).
package consumer

import (
	"bytes"
	"fmt"
	"google.golang.org/protobuf/reflect/protoreflect"
	"runtime/debug"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/sql"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	pbext "github.com/substrait-io/substrait-protobuf/go/substraitpb/extensions"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// TableResolver looks up the tables a plan reads by name (ReadRel
// named_table), typically the catalog.
type TableResolver interface {
	ResolveTable(names []string) (*logical.TableSource, error)
}

// FunctionResolver finds user-defined functions (plugins, native
// libraries). A TableResolver that also implements it lets plans call
// them: a function declared in an extension that is neither a standard
// one nor Arbalest's is looked up by URN and name (urn is "" when the plan
// named no extension the consumer could place).
type FunctionResolver interface {
	ResolveFunction(urn, name string) (*logical.Function, bool)
}

// FromBytes decodes a Substrait plan, binary protobuf or protobuf JSON
// (detected from the first non-blank byte), normalises it (see Normalize)
// and translates it.
func FromBytes(b []byte, r TableResolver) (logical.Plan, error) {
	var p pb.Plan
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(trimmed, &p); err != nil {
			return nil, fmt.Errorf("substrait consumer: decoding JSON plan: %w", err)
		}
	} else if err := proto.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("substrait consumer: decoding protobuf plan: %w", err)
	}
	if err := Normalize(&p); err != nil {
		return nil, err
	}
	return FromProto(&p, r)
}

// FromProto translates a Substrait plan with one root relation into a
// logical plan whose output columns carry the root names. Function
// references are resolved by name, so plans with URI-form or dangling
// extension references are accepted even without Normalize.
func FromProto(p *pb.Plan, r TableResolver) (out logical.Plan, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			out, err = nil, fmt.Errorf("substrait consumer: internal error: %v\n%s", rec, debug.Stack())
		}
	}()
	if p == nil {
		return nil, fmt.Errorf("substrait consumer: nil plan")
	}
	c := &consumer{r: r, funcs: map[uint32]string{}, funcURN: map[uint32]string{}}
	c.udfs, _ = r.(FunctionResolver)
	urns := map[uint32]string{}
	for _, u := range p.GetExtensionUrns() {
		urns[u.GetExtensionUrnAnchor()] = u.GetUrn()
	}
	for i, d := range p.GetExtensions() {
		switch m := d.GetMappingType().(type) {
		case *pbext.SimpleExtensionDeclaration_ExtensionFunction_:
			f := m.ExtensionFunction
			if f.GetName() == "" {
				return nil, fmt.Errorf("substrait consumer: extension declaration %d: function anchor %d has no name", i, f.GetFunctionAnchor())
			}
			if prev, dup := c.funcs[f.GetFunctionAnchor()]; dup && prev != f.GetName() {
				return nil, fmt.Errorf("substrait consumer: function anchor %d declared twice (%s, %s)", f.GetFunctionAnchor(), prev, f.GetName())
			}
			c.funcs[f.GetFunctionAnchor()] = f.GetName()
			c.funcURN[f.GetFunctionAnchor()] = urns[f.GetExtensionUrnReference()]
		}
	}
	if err := refuseUserDefinedTypes(p); err != nil {
		return nil, err
	}
	var root *pb.RelRoot
	for i, pr := range p.GetRelations() {
		switch rt := pr.GetRelType().(type) {
		case *pb.PlanRel_Root:
			if root != nil {
				return nil, fmt.Errorf("substrait consumer: plan has more than one root relation")
			}
			root = rt.Root
		case *pb.PlanRel_Rel:
			return nil, fmt.Errorf("substrait consumer: plan relation %d is not a root (shared relations are not supported)", i)
		default:
			return nil, fmt.Errorf("substrait consumer: plan relation %d is empty", i)
		}
	}
	if root == nil {
		return nil, fmt.Errorf("substrait consumer: plan has no root relation")
	}
	plan, err := c.rel(root.GetInput())
	if err != nil {
		return nil, fmt.Errorf("substrait consumer: %w", err)
	}
	if c.subqueries {
		if plan, err = sql.Decorrelate(plan); err != nil {
			return nil, fmt.Errorf("substrait consumer: %w", err)
		}
	}
	names := root.GetNames()
	if len(names) == 0 {
		return plan, nil
	}
	s := plan.Schema()
	if len(names) != s.Len() {
		return nil, fmt.Errorf("substrait consumer: root has %d names for %d output columns", len(names), s.Len())
	}
	same := true
	for i, f := range s.Fields {
		same = same && f.Name == names[i]
	}
	if same {
		return plan, nil
	}
	exprs := make([]logical.Expr, s.Len())
	for i := range s.Fields {
		exprs[i] = logical.Col(s, i)
	}
	return logical.NewProject(plan, exprs, names, nil), nil
}

type consumer struct {
	r     TableResolver
	funcs map[uint32]string // function anchor → declared (possibly compound) name
	// funcURN maps a function anchor to its extension's URN.
	funcURN map[uint32]string
	udfs    FunctionResolver
	next    int // pre-order number of the next relation
	depth   int
	// outer holds, innermost last, the input schemas of the relations
	// whose subquery expressions are being translated (outer references
	// resolve against them).
	outer []*logical.Schema
	// subqueries is set once a subquery expression was translated.
	subqueries bool
}

// maxDepth bounds relation and expression nesting so hostile plans cannot
// exhaust the stack.
const maxDepth = 2000

// relError locates an error in a relation.
func relError(id int, kind string, err error) error {
	return fmt.Errorf("relation %d (%s): %w", id, kind, err)
}

// refuseUserDefinedTypes names the first user-defined type the plan uses:
// Arbalest has none, and the type's declared name (with its extension)
// tells the user what to change, where the anchor alone would not.
func refuseUserDefinedTypes(p *pb.Plan) error {
	names := map[uint32]string{}
	urns := map[uint32]string{}
	for _, u := range p.GetExtensionUrns() {
		urns[u.GetExtensionUrnAnchor()] = u.GetUrn()
	}
	for _, d := range p.GetExtensions() {
		if t := d.GetExtensionType(); t != nil {
			name := t.GetName()
			if urn := urns[t.GetExtensionUrnReference()]; urn != "" {
				name += " (" + urn + ")"
			}
			names[t.GetTypeAnchor()] = name
		}
	}
	return walkMessages(p.ProtoReflect(), 0, func(m protoreflect.Message) error {
		u, ok := m.Interface().(*pb.Type_UserDefined)
		if !ok {
			return nil
		}
		if name, ok := names[u.GetTypeReference()]; ok {
			return fmt.Errorf("substrait consumer: unsupported user-defined type %s", name)
		}
		return fmt.Errorf("substrait consumer: user-defined type anchor %d is not declared", u.GetTypeReference())
	})
}
