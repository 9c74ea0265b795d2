// Package producer translates Arbalest logical plans into Substrait plans
// (protobuf, spec 0.85, URN-form extension references, compound function
// names).
//
// Mapping, node by node:
//
//	Scan      ReadRel.named_table with base_schema = the full table schema,
//	          projection as a mask expression, Filters as best_effort_filter
//	          (over the base schema), Alias in RelCommon.hint.alias, Limit as
//	          an Arbalest scan_limit hint.
//	Values    ReadRel.virtual_table (expressions form).
//	Filter    FilterRel.
//	Project   ProjectRel with an emit keeping only the computed columns; the
//	          column names travel in RelCommon.hint.output_names.
//	Aggregate AggregateRel with grouping_expressions and one Grouping per
//	          grouping set (expression_references); measures with
//	          invocation ALL/DISTINCT and phase INITIAL_TO_RESULT. With
//	          grouping sets, Substrait appends an i32 grouping-set index;
//	          a ProjectRel (hinted grouping_id) above the aggregate maps it
//	          to Arbalest's int64 __grouping_id bitmask with an IfThen and
//	          drops the index, so the output matches the logical schema.
//	Join      JoinRel (INNER, LEFT, RIGHT, OUTER, LEFT_SEMI, LEFT_ANTI,
//	          LEFT_SINGLE, LEFT_MARK); Cross joins are CrossRel. A
//	          null-aware anti join (NOT IN) is LEFT_ANTI on is_not_false(On),
//	          which has exactly NOT IN semantics, plus a null_aware_anti hint
//	          so the consumer restores Join.NullAware.
//	Sort      SortRel; with Fetch a FetchRel (hinted topk) above it.
//	Limit     FetchRel (offset and count written as integers, count -1 for
//	          no bound, the form substrait-go reads).
//	SetOp     SetRel: UNION_DISTINCT/UNION_ALL, INTERSECTION_MULTISET /
//	          INTERSECTION_MULTISET_ALL, MINUS_PRIMARY / MINUS_PRIMARY_ALL.
//	Window    ConsistentPartitionWindowRel when every function shares the
//	          partitioning and ordering, otherwise a ProjectRel of
//	          WindowFunction expressions (no emit: input columns + results).
//
// Scalar functions keep their Substrait names, except: ilike is like with
// option case_sensitivity=CASE_INSENSITIVE; extract's component becomes the
// standard enum arguments (QUARTER, MONTH, DAY, DAY_OF_YEAR with indexing
// ONE, DAY_OF_WEEK = SUNDAY_DAY_OF_WEEK with ZERO, WEEK = ISO_WEEK with
// ONE, EPOCH = UNIX_TIME with an fp64 output type); date_trunc,
// regexp_match, split_part, current_date and pi come from functions_arbalest.yaml
// (date_trunc's unit is an enum argument); stddev_samp/stddev_pop and
// var_samp/var_pop are std_dev/variance with option distribution
// SAMPLE/POPULATION. Other Call options are written as function options.
package producer

import (
	"fmt"
	"runtime/debug"
	"sort"

	"github.com/arbalest/arbalest/substrait/extensions"
	"github.com/arbalest/arbalest/substrait/logical"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	pbext "github.com/substrait-io/substrait-protobuf/go/substraitpb/extensions"
	"google.golang.org/protobuf/encoding/protojson"
)

// ToProto translates a logical plan into a Substrait plan whose root names
// are the plan's output column names.
func ToProto(p logical.Plan) (*pb.Plan, error) { return ToProtoWith(p, Options{}) }

// Options tune the producer.
type Options struct {
	// InlineTables writes table scans as local_files reads of the table's
	// location, format and options instead of named-table reads, so the
	// plan runs where the catalog is unknown (stage fragments on
	// executors).
	InlineTables bool
	// Target adapts the plan to a consumer that departs from the spec:
	// "" writes standard Substrait; "datafusion" writes extract(COMPONENT,
	// x) as CAST(date_part('component', x) AS <type>), since DataFusion's
	// consumer reads no enum arguments.
	Target string
}

// ToProtoWith is ToProto with options.
func ToProtoWith(p logical.Plan, o Options) (out *pb.Plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("substrait producer: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	if p == nil {
		return nil, fmt.Errorf("substrait producer: nil plan")
	}
	switch o.Target {
	case "", "datafusion":
	default:
		return nil, fmt.Errorf("substrait producer: unknown target %q (want datafusion or none)", o.Target)
	}
	pr := &producer{urnAnchor: map[string]uint32{}, funcAnchor: map[funcKey]uint32{}, opts: o}
	rel, err := pr.rel(p)
	if err != nil {
		return nil, fmt.Errorf("substrait producer: %w", err)
	}
	if err := extensions.SetDirectEmit(rel.ProtoReflect()); err != nil {
		return nil, fmt.Errorf("substrait producer: %w", err)
	}
	return &pb.Plan{
		Version:       &pb.Version{MinorNumber: 85, Producer: "arbalest"},
		ExtensionUrns: pr.urns,
		Extensions:    pr.decls,
		Relations: []*pb.PlanRel{{RelType: &pb.PlanRel_Root{Root: &pb.RelRoot{
			Input: rel, Names: fieldNames(p.Schema()),
		}}}},
	}, nil
}

// ToJSON translates a logical plan into indented Substrait protobuf JSON
// (EXPLAIN SUBSTRAIT, `arbalest substrait from-sql`).
func ToJSON(p logical.Plan) ([]byte, error) {
	plan, err := ToProto(p)
	if err != nil {
		return nil, err
	}
	return protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(plan)
}

type funcKey struct{ urn, name string }

type producer struct {
	opts       Options
	urns       []*pbext.SimpleExtensionURN
	decls      []*pbext.SimpleExtensionDeclaration
	urnAnchor  map[string]uint32
	funcAnchor map[funcKey]uint32
}

func fieldNames(s *logical.Schema) []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

// function declares (once) the function of the given kind and simple name
// for arguments with the given short type names and returns its anchor.
func (pr *producer) function(kind extensions.Kind, name string, args []string) (uint32, error) {
	urn, compound, ok := extensions.Resolve(kind, name, args)
	if !ok {
		return 0, fmt.Errorf("%s function %q is not declared by any known extension", kind, name)
	}
	return pr.declare(urn, compound), nil
}

// declare declares (once) the function compound in the extension urn and
// returns its anchor.
func (pr *producer) declare(urn, compound string) uint32 {
	k := funcKey{urn, compound}
	if a, ok := pr.funcAnchor[k]; ok {
		return a
	}
	ua, ok := pr.urnAnchor[urn]
	if !ok {
		ua = uint32(len(pr.urns) + 1)
		pr.urnAnchor[urn] = ua
		pr.urns = append(pr.urns, &pbext.SimpleExtensionURN{ExtensionUrnAnchor: ua, Urn: urn})
	}
	a := uint32(len(pr.decls) + 1)
	pr.funcAnchor[k] = a
	pr.decls = append(pr.decls, &pbext.SimpleExtensionDeclaration{
		MappingType: &pbext.SimpleExtensionDeclaration_ExtensionFunction_{
			ExtensionFunction: &pbext.SimpleExtensionDeclaration_ExtensionFunction{
				ExtensionUrnReference: ua, FunctionAnchor: a, Name: compound,
			},
		},
	})
	return a
}

func outputNames(names []string) *pb.RelCommon_Hint {
	return &pb.RelCommon_Hint{OutputNames: append([]string(nil), names...)}
}

func (pr *producer) rel(p logical.Plan) (*pb.Rel, error) {
	switch n := p.(type) {
	case *logical.Scan:
		return pr.scan(n)
	case *logical.Values:
		return pr.values(n)
	case *logical.Filter:
		in, err := pr.rel(n.Input)
		if err != nil {
			return nil, err
		}
		cond, err := pr.expr(n.Cond, n.Input.Schema())
		if err != nil {
			return nil, fmt.Errorf("filter condition: %w", err)
		}
		return &pb.Rel{RelType: &pb.Rel_Filter{Filter: &pb.FilterRel{Input: in, Condition: cond}}}, nil
	case *logical.Project:
		in, err := pr.rel(n.Input)
		if err != nil {
			return nil, err
		}
		inS := n.Input.Schema()
		exprs := make([]*pb.Expression, len(n.Exprs))
		emit := make([]int32, len(n.Exprs))
		for i, e := range n.Exprs {
			if exprs[i], err = pr.expr(e, inS); err != nil {
				return nil, fmt.Errorf("projection %d (%s): %w", i, n.Names[i], err)
			}
			emit[i] = int32(inS.Len() + i)
		}
		return &pb.Rel{RelType: &pb.Rel_Project{Project: &pb.ProjectRel{
			Common: &pb.RelCommon{
				EmitKind: &pb.RelCommon_Emit_{Emit: &pb.RelCommon_Emit{OutputMapping: emit}},
				Hint:     outputNames(n.Names),
			},
			Input: in, Expressions: exprs,
		}}}, nil
	case *logical.Aggregate:
		return pr.aggregate(n)
	case *logical.Join:
		return pr.join(n)
	case *logical.Sort:
		in, err := pr.rel(n.Input)
		if err != nil {
			return nil, err
		}
		sorts, err := pr.sortFields(n.Keys, n.Input.Schema())
		if err != nil {
			return nil, err
		}
		rel := &pb.Rel{RelType: &pb.Rel_Sort{Sort: &pb.SortRel{Input: in, Sorts: sorts}}}
		if n.Fetch < 0 {
			return rel, nil
		}
		return &pb.Rel{RelType: &pb.Rel_Fetch{Fetch: &pb.FetchRel{
			Input:             rel,
			OffsetMode:        &pb.FetchRel_Offset{Offset: 0},
			CountMode:         &pb.FetchRel_Count{Count: n.Fetch},
			AdvancedExtension: extensions.AddHint(nil, extensions.HintTopK, nil),
		}}}, nil
	case *logical.Limit:
		in, err := pr.rel(n.Input)
		if err != nil {
			return nil, err
		}
		if n.Offset < 0 {
			return nil, fmt.Errorf("limit: negative offset %d", n.Offset)
		}
		count := n.Count
		if count < 0 {
			count = -1
		}
		return &pb.Rel{RelType: &pb.Rel_Fetch{Fetch: &pb.FetchRel{
			Input:      in,
			OffsetMode: &pb.FetchRel_Offset{Offset: n.Offset},
			CountMode:  &pb.FetchRel_Count{Count: count},
		}}}, nil
	case *logical.SetOp:
		return pr.setOp(n)
	case *logical.Window:
		return pr.window(n)
	case *logical.ShuffleRead:
		return pr.shuffleRead(n)
	case *logical.ShuffleWrite:
		return pr.shuffleWrite(n)
	case nil:
		return nil, fmt.Errorf("nil plan node")
	}
	return nil, fmt.Errorf("unsupported logical plan node %T", p)
}

func namedStruct(names []string, types []*pb.Type) *pb.NamedStruct {
	return &pb.NamedStruct{Names: names, Struct: &pb.Type_Struct{Types: types, Nullability: pb.Type_NULLABILITY_REQUIRED}}
}

func (pr *producer) schemaStruct(s *logical.Schema) (*pb.NamedStruct, error) {
	types := make([]*pb.Type, len(s.Fields))
	for i, f := range s.Fields {
		t, err := extensions.ToProtoType(f.Type, f.Nullable)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		types[i] = t
	}
	return namedStruct(fieldNames(s), types), nil
}

func (pr *producer) scan(n *logical.Scan) (*pb.Rel, error) {
	if n.Source == nil || n.Source.Schema == nil {
		return nil, fmt.Errorf("scan: table source without schema")
	}
	full := logical.FromArrow(n.Source.Schema, n.Source.Name)
	bs, err := pr.schemaStruct(full)
	if err != nil {
		return nil, fmt.Errorf("scan of %s: %w", n.Source.Name, err)
	}
	read := &pb.ReadRel{
		BaseSchema: bs,
		ReadType:   &pb.ReadRel_NamedTable_{NamedTable: &pb.ReadRel_NamedTable{Names: []string{n.Source.Name}}},
	}
	if pr.opts.InlineTables {
		if n.Source.Provider != nil {
			if read.ReadType, err = pluginScan(n); err != nil {
				return nil, fmt.Errorf("scan of %s: %w", n.Source.Name, err)
			}
		} else if read.ReadType, err = localFiles(n.Source); err != nil {
			return nil, fmt.Errorf("scan of %s: %w", n.Source.Name, err)
		}
	}
	if n.Alias != "" {
		read.Common = &pb.RelCommon{Hint: &pb.RelCommon_Hint{Alias: n.Alias}}
	}
	if n.Projection != nil {
		items := make([]*pb.Expression_MaskExpression_StructItem, len(n.Projection))
		for i, c := range n.Projection {
			if c < 0 || c >= full.Len() {
				return nil, fmt.Errorf("scan of %s: projected column %d out of range for %d columns", n.Source.Name, c, full.Len())
			}
			items[i] = &pb.Expression_MaskExpression_StructItem{Field: int32(c)}
		}
		read.Projection = &pb.Expression_MaskExpression{
			Select:                 &pb.Expression_MaskExpression_StructSelect{StructItems: items},
			MaintainSingularStruct: true,
		}
	}
	if len(n.Filters) > 0 && read.GetExtensionTable() == nil {
		// Substrait read filters refer to the base schema.
		mapping := make(map[int]int, n.Schema().Len())
		for i := range n.Schema().Fields {
			if n.Projection == nil {
				mapping[i] = i
			} else {
				mapping[i] = n.Projection[i]
			}
		}
		var conj []logical.Expr
		for _, f := range n.Filters {
			g, err := logical.RemapColumns(f, mapping)
			if err != nil {
				return nil, fmt.Errorf("scan of %s filter: %w", n.Source.Name, err)
			}
			conj = append(conj, g)
		}
		if read.BestEffortFilter, err = pr.expr(logical.And(conj...), full); err != nil {
			return nil, fmt.Errorf("scan of %s filter: %w", n.Source.Name, err)
		}
	}
	if len(n.SourceFilters) > 0 && read.GetExtensionTable() == nil {
		// Filters a data source applies exactly: the read's exact filter
		// (over the base schema). In a stage fragment they are already in
		// the plugin's splits.
		if read.Filter, err = pr.expr(logical.And(n.SourceFilters...), full); err != nil {
			return nil, fmt.Errorf("scan of %s filter: %w", n.Source.Name, err)
		}
	}
	if n.Limit >= 0 {
		read.AdvancedExtension = extensions.AddHint(nil, extensions.HintScanLimit, map[string]any{"limit": float64(n.Limit)})
	}
	return &pb.Rel{RelType: &pb.Rel_Read{Read: read}}, nil
}

func (pr *producer) values(n *logical.Values) (*pb.Rel, error) {
	bs, err := pr.schemaStruct(n.Schema())
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	empty := logical.NewSchema()
	rows := make([]*pb.Expression_Nested_Struct, len(n.Rows))
	for i, row := range n.Rows {
		if len(row) != n.Schema().Len() {
			return nil, fmt.Errorf("values row %d has %d values for %d columns", i, len(row), n.Schema().Len())
		}
		fs := make([]*pb.Expression, len(row))
		for j, e := range row {
			if fs[j], err = pr.expr(e, empty); err != nil {
				return nil, fmt.Errorf("values row %d column %d: %w", i, j, err)
			}
		}
		rows[i] = &pb.Expression_Nested_Struct{Fields: fs}
	}
	return &pb.Rel{RelType: &pb.Rel_Read{Read: &pb.ReadRel{
		BaseSchema: bs,
		ReadType:   &pb.ReadRel_VirtualTable_{VirtualTable: &pb.ReadRel_VirtualTable{Expressions: rows}},
	}}}, nil
}

// groupingMask is the __grouping_id value of a grouping set: bit i is set
// when GroupBy[i] is not in the set.
func groupingMask(nGroups int, set []int) int64 {
	in := make([]bool, nGroups)
	for _, g := range set {
		if g >= 0 && g < nGroups {
			in[g] = true
		}
	}
	var m int64
	for i, ok := range in {
		if !ok {
			m |= 1 << uint(i)
		}
	}
	return m
}

func (pr *producer) aggregate(n *logical.Aggregate) (*pb.Rel, error) {
	in, err := pr.rel(n.Input)
	if err != nil {
		return nil, err
	}
	inS := n.Input.Schema()
	agg := &pb.AggregateRel{Input: in}
	for i, g := range n.GroupBy {
		e, err := pr.expr(g, inS)
		if err != nil {
			return nil, fmt.Errorf("aggregate group key %d: %w", i, err)
		}
		agg.GroupingExpressions = append(agg.GroupingExpressions, e)
	}
	if len(n.GroupingSets) == 0 {
		if len(n.GroupBy) > 0 || len(n.Aggs) == 0 {
			refs := make([]uint32, len(n.GroupBy))
			for i := range refs {
				refs[i] = uint32(i)
			}
			agg.Groupings = []*pb.AggregateRel_Grouping{{ExpressionReferences: refs}}
		}
	} else {
		if len(n.GroupBy) > 62 {
			return nil, fmt.Errorf("aggregate: %d group keys exceed the 62 that __grouping_id can describe", len(n.GroupBy))
		}
		for si, set := range n.GroupingSets {
			refs := make([]uint32, len(set))
			for i, g := range set {
				if g < 0 || g >= len(n.GroupBy) {
					return nil, fmt.Errorf("aggregate grouping set %d: group key %d out of range for %d keys", si, g, len(n.GroupBy))
				}
				refs[i] = uint32(g)
			}
			agg.Groupings = append(agg.Groupings, &pb.AggregateRel_Grouping{ExpressionReferences: refs})
		}
	}
	for i, a := range n.Aggs {
		m, err := pr.measure(a, inS)
		if err != nil {
			return nil, fmt.Errorf("aggregate %s: %w", n.AggNames[i], err)
		}
		agg.Measures = append(agg.Measures, m)
	}
	names := append(append([]string(nil), n.GroupNames...), n.AggNames...)
	nOut := len(names)
	if len(n.GroupingSets) > 1 {
		names = append(names, "__grouping_set")
	}
	agg.Common = &pb.RelCommon{Hint: outputNames(names)}
	rel := &pb.Rel{RelType: &pb.Rel_Aggregate{Aggregate: agg}}
	if len(n.GroupingSets) == 0 {
		return rel, nil
	}
	// Map the grouping-set index to the __grouping_id bitmask.
	var gid *pb.Expression
	last := groupingMask(len(n.GroupBy), n.GroupingSets[len(n.GroupingSets)-1])
	if len(n.GroupingSets) == 1 {
		gid = i64Literal(last)
	} else {
		eq, err := pr.function(extensions.Scalar, "equal", []string{"i32", "i32"})
		if err != nil {
			return nil, err
		}
		ite := &pb.Expression_IfThen{Else: i64Literal(last)}
		for si, set := range n.GroupingSets[:len(n.GroupingSets)-1] {
			cond := &pb.Expression{RexType: &pb.Expression_ScalarFunction_{ScalarFunction: &pb.Expression_ScalarFunction{
				FunctionReference: eq,
				Arguments: []*pb.FunctionArgument{
					valueArg(fieldRef(nOut)),
					valueArg(&pb.Expression{RexType: &pb.Expression_Literal_{Literal: &pb.Expression_Literal{LiteralType: &pb.Expression_Literal_I32{I32: int32(si)}}}}),
				},
				OutputType: &pb.Type{Kind: &pb.Type_Bool{Bool: &pb.Type_Boolean{Nullability: pb.Type_NULLABILITY_REQUIRED}}},
			}}}
			ite.Ifs = append(ite.Ifs, &pb.Expression_IfThen_IfClause{If: cond, Then: i64Literal(groupingMask(len(n.GroupBy), set))})
		}
		gid = &pb.Expression{RexType: &pb.Expression_IfThen_{IfThen: ite}}
	}
	emit := make([]int32, 0, nOut+1)
	for i := 0; i < nOut; i++ {
		emit = append(emit, int32(i))
	}
	width := nOut
	if len(n.GroupingSets) > 1 {
		width++
	}
	emit = append(emit, int32(width))
	return &pb.Rel{RelType: &pb.Rel_Project{Project: &pb.ProjectRel{
		Common: &pb.RelCommon{
			EmitKind: &pb.RelCommon_Emit_{Emit: &pb.RelCommon_Emit{OutputMapping: emit}},
			Hint:     outputNames(fieldNames(n.Schema())),
		},
		Input:             rel,
		Expressions:       []*pb.Expression{gid},
		AdvancedExtension: extensions.AddHint(nil, extensions.HintGroupingID, nil),
	}}}, nil
}

func (pr *producer) join(n *logical.Join) (*pb.Rel, error) {
	l, err := pr.rel(n.Left)
	if err != nil {
		return nil, err
	}
	r, err := pr.rel(n.Right)
	if err != nil {
		return nil, err
	}
	if n.Type == logical.JoinCross {
		if n.On != nil {
			return nil, fmt.Errorf("cross join with a condition")
		}
		return &pb.Rel{RelType: &pb.Rel_Cross{Cross: &pb.CrossRel{Left: l, Right: r}}}, nil
	}
	var jt pb.JoinRel_JoinType
	switch n.Type {
	case logical.JoinInner:
		jt = pb.JoinRel_JOIN_TYPE_INNER
	case logical.JoinLeft:
		jt = pb.JoinRel_JOIN_TYPE_LEFT
	case logical.JoinRight:
		jt = pb.JoinRel_JOIN_TYPE_RIGHT
	case logical.JoinFull:
		jt = pb.JoinRel_JOIN_TYPE_OUTER
	case logical.JoinSemi:
		jt = pb.JoinRel_JOIN_TYPE_LEFT_SEMI
	case logical.JoinAnti:
		jt = pb.JoinRel_JOIN_TYPE_LEFT_ANTI
	case logical.JoinSingle:
		jt = pb.JoinRel_JOIN_TYPE_LEFT_SINGLE
	case logical.JoinMark:
		jt = pb.JoinRel_JOIN_TYPE_LEFT_MARK
	default:
		return nil, fmt.Errorf("unsupported join type %d", n.Type)
	}
	jr := &pb.JoinRel{Left: l, Right: r, Type: jt}
	if n.NullAware && n.Type != logical.JoinAnti {
		return nil, fmt.Errorf("null-aware %s join: only anti joins can be null-aware", n.Type)
	}
	if n.On != nil {
		on := n.On
		if n.NullAware {
			on = &logical.Call{Func: "is_not_false", Args: []logical.Expr{on}, T: logical.Bool}
		}
		if jr.Expression, err = pr.expr(on, logical.Concat(n.Left.Schema(), n.Right.Schema())); err != nil {
			return nil, fmt.Errorf("join condition: %w", err)
		}
	}
	if n.NullAware {
		jr.AdvancedExtension = extensions.AddHint(nil, extensions.HintNullAwareAnti, nil)
	}
	return &pb.Rel{RelType: &pb.Rel_Join{Join: jr}}, nil
}

func (pr *producer) setOp(n *logical.SetOp) (*pb.Rel, error) {
	if len(n.Inputs) < 2 {
		return nil, fmt.Errorf("%s with %d inputs", n.Kind, len(n.Inputs))
	}
	var op pb.SetRel_SetOp
	switch {
	case n.Kind == logical.Union && n.All:
		op = pb.SetRel_SET_OP_UNION_ALL
	case n.Kind == logical.Union:
		op = pb.SetRel_SET_OP_UNION_DISTINCT
	case n.Kind == logical.Intersect && n.All:
		op = pb.SetRel_SET_OP_INTERSECTION_MULTISET_ALL
	case n.Kind == logical.Intersect:
		op = pb.SetRel_SET_OP_INTERSECTION_MULTISET
	case n.Kind == logical.Except && n.All:
		op = pb.SetRel_SET_OP_MINUS_PRIMARY_ALL
	case n.Kind == logical.Except:
		op = pb.SetRel_SET_OP_MINUS_PRIMARY
	default:
		return nil, fmt.Errorf("unsupported set operation %d", n.Kind)
	}
	inputs := make([]*pb.Rel, len(n.Inputs))
	for i, in := range n.Inputs {
		r, err := pr.rel(in)
		if err != nil {
			return nil, err
		}
		inputs[i] = r
	}
	return &pb.Rel{RelType: &pb.Rel_Set{Set: &pb.SetRel{Inputs: inputs, Op: op}}}, nil
}

func exprStrings(es []logical.Expr) string {
	s := ""
	for _, e := range es {
		s += e.String() + "\x00"
	}
	return s
}

func keyStrings(ks []logical.SortKey) string {
	s := ""
	for _, k := range ks {
		s += k.String() + "\x00"
	}
	return s
}

func (pr *producer) window(n *logical.Window) (*pb.Rel, error) {
	in, err := pr.rel(n.Input)
	if err != nil {
		return nil, err
	}
	inS := n.Input.Schema()
	if len(n.Funcs) == 0 {
		return nil, fmt.Errorf("window node without functions")
	}
	consistent := true
	p0, o0 := exprStrings(n.Funcs[0].PartitionBy), keyStrings(n.Funcs[0].OrderBy)
	for _, f := range n.Funcs[1:] {
		if exprStrings(f.PartitionBy) != p0 || keyStrings(f.OrderBy) != o0 {
			consistent = false
		}
	}
	common := &pb.RelCommon{Hint: outputNames(fieldNames(n.Schema()))}
	if !consistent {
		exprs := make([]*pb.Expression, len(n.Funcs))
		for i, f := range n.Funcs {
			wf, err := pr.windowFunction(f, inS)
			if err != nil {
				return nil, fmt.Errorf("window function %s: %w", n.Names[i], err)
			}
			exprs[i] = &pb.Expression{RexType: &pb.Expression_WindowFunction_{WindowFunction: wf}}
		}
		return &pb.Rel{RelType: &pb.Rel_Project{Project: &pb.ProjectRel{Common: common, Input: in, Expressions: exprs}}}, nil
	}
	w := &pb.ConsistentPartitionWindowRel{Common: common, Input: in}
	for i, e := range n.Funcs[0].PartitionBy {
		pe, err := pr.expr(e, inS)
		if err != nil {
			return nil, fmt.Errorf("window partition key %d: %w", i, err)
		}
		w.PartitionExpressions = append(w.PartitionExpressions, pe)
	}
	if w.Sorts, err = pr.sortFields(n.Funcs[0].OrderBy, inS); err != nil {
		return nil, err
	}
	for i, f := range n.Funcs {
		wf, err := pr.windowFunction(f, inS)
		if err != nil {
			return nil, fmt.Errorf("window function %s: %w", n.Names[i], err)
		}
		w.WindowFunctions = append(w.WindowFunctions, &pb.ConsistentPartitionWindowRel_WindowRelFunction{
			FunctionReference: wf.FunctionReference, Arguments: wf.Arguments, Options: wf.Options,
			OutputType: wf.OutputType, Phase: wf.Phase, Invocation: wf.Invocation,
			LowerBound: wf.LowerBound, UpperBound: wf.UpperBound, BoundsType: wf.BoundsType,
		})
	}
	return &pb.Rel{RelType: &pb.Rel_Window{Window: w}}, nil
}

func (pr *producer) sortFields(keys []logical.SortKey, in *logical.Schema) ([]*pb.SortField, error) {
	out := make([]*pb.SortField, len(keys))
	for i, k := range keys {
		e, err := pr.expr(k.Expr, in)
		if err != nil {
			return nil, fmt.Errorf("sort key %d: %w", i, err)
		}
		var d pb.SortField_SortDirection
		switch {
		case !k.Descending && k.NullsFirst:
			d = pb.SortField_SORT_DIRECTION_ASC_NULLS_FIRST
		case !k.Descending:
			d = pb.SortField_SORT_DIRECTION_ASC_NULLS_LAST
		case k.NullsFirst:
			d = pb.SortField_SORT_DIRECTION_DESC_NULLS_FIRST
		default:
			d = pb.SortField_SORT_DIRECTION_DESC_NULLS_LAST
		}
		out[i] = &pb.SortField{Expr: e, SortKind: &pb.SortField_Direction{Direction: d}}
	}
	return out, nil
}

// sortedOptions renders Call options not consumed by a special mapping as
// Substrait function options, in key order.
func sortedOptions(opts map[string]string, skip ...string) []*pb.FunctionOption {
	keys := make([]string, 0, len(opts))
outer:
	for k := range opts {
		for _, s := range skip {
			if k == s {
				continue outer
			}
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*pb.FunctionOption, len(keys))
	for i, k := range keys {
		out[i] = &pb.FunctionOption{Name: k, Preference: []string{opts[k]}}
	}
	return out
}
