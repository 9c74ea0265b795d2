package consumer

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"path"
	"strings"

	"github.com/arbalest/arbalest/substrait/extensions"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/substrait/planpb"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	pbext "github.com/substrait-io/substrait-protobuf/go/substraitpb/extensions"
	"google.golang.org/protobuf/proto"
)

func relKind(r *pb.Rel) string {
	switch r.GetRelType().(type) {
	case *pb.Rel_Read:
		return "read"
	case *pb.Rel_Filter:
		return "filter"
	case *pb.Rel_Fetch:
		return "fetch"
	case *pb.Rel_Aggregate:
		return "aggregate"
	case *pb.Rel_Sort:
		return "sort"
	case *pb.Rel_Join:
		return "join"
	case *pb.Rel_Project:
		return "project"
	case *pb.Rel_Set:
		return "set"
	case *pb.Rel_Cross:
		return "cross"
	case *pb.Rel_Window:
		return "window"
	case *pb.Rel_ExtensionSingle:
		return "extension_single"
	case *pb.Rel_ExtensionMulti:
		return "extension_multi"
	case *pb.Rel_ExtensionLeaf:
		return "extension_leaf"
	case *pb.Rel_Reference:
		return "reference"
	case *pb.Rel_Write:
		return "write"
	case *pb.Rel_Ddl:
		return "ddl"
	case *pb.Rel_Update:
		return "update"
	case *pb.Rel_HashJoin:
		return "hash_join"
	case *pb.Rel_MergeJoin:
		return "merge_join"
	case *pb.Rel_NestedLoopJoin:
		return "nested_loop_join"
	case *pb.Rel_Exchange:
		return "exchange"
	case *pb.Rel_Expand:
		return "expand"
	case nil:
		return "empty"
	}
	return "unknown"
}

// rel translates one relation. Errors raised by this relation itself are
// wrapped with its number and kind; errors from its inputs pass through.
func (c *consumer) rel(r *pb.Rel) (logical.Plan, error) {
	id := c.next
	c.next++
	kind := relKind(r)
	if r == nil {
		return nil, relError(id, kind, fmt.Errorf("missing relation"))
	}
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxDepth {
		return nil, relError(id, kind, fmt.Errorf("plan nested deeper than %d relations", maxDepth))
	}
	x := &relCtx{c: c, id: id, kind: kind}
	var (
		out    logical.Plan
		err    error
		common *pb.RelCommon
	)
	switch rt := r.GetRelType().(type) {
	case *pb.Rel_Read:
		common = rt.Read.GetCommon()
		out, err = x.read(rt.Read)
	case *pb.Rel_Filter:
		common = rt.Filter.GetCommon()
		out, err = x.filter(rt.Filter)
	case *pb.Rel_Fetch:
		common = rt.Fetch.GetCommon()
		out, err = x.fetch(rt.Fetch)
	case *pb.Rel_Aggregate:
		common = rt.Aggregate.GetCommon()
		out, err = x.aggregate(rt.Aggregate)
	case *pb.Rel_Sort:
		common = rt.Sort.GetCommon()
		var in logical.Plan
		if in, err = c.rel(rt.Sort.GetInput()); err != nil {
			return nil, err
		}
		var keys []logical.SortKey
		if keys, err = x.sortKeys(rt.Sort.GetSorts(), in.Schema()); err == nil {
			if len(keys) == 0 {
				err = fmt.Errorf("sort without sort fields")
			}
			out = &logical.Sort{Input: in, Keys: keys, Fetch: -1}
		}
	case *pb.Rel_Join:
		common = rt.Join.GetCommon()
		out, err = x.join(rt.Join)
	case *pb.Rel_HashJoin:
		h := rt.HashJoin
		common = h.GetCommon()
		out, err = x.keyedJoin(h.GetLeft(), h.GetRight(), h.GetType().String(), h.GetKeys(), h.GetLeftKeys(), h.GetRightKeys(), h.GetPostJoinFilter(), h.GetAdvancedExtension())
	case *pb.Rel_MergeJoin:
		m := rt.MergeJoin
		common = m.GetCommon()
		out, err = x.keyedJoin(m.GetLeft(), m.GetRight(), m.GetType().String(), m.GetKeys(), m.GetLeftKeys(), m.GetRightKeys(), m.GetPostJoinFilter(), m.GetAdvancedExtension())
	case *pb.Rel_NestedLoopJoin:
		n := rt.NestedLoopJoin
		common = n.GetCommon()
		out, err = x.join(&pb.JoinRel{Left: n.GetLeft(), Right: n.GetRight(), Expression: n.GetExpression(),
			Type: pb.JoinRel_JoinType(pb.JoinRel_JoinType_value[n.GetType().String()]), AdvancedExtension: n.GetAdvancedExtension()})
	case *pb.Rel_Cross:
		common = rt.Cross.GetCommon()
		var l, rr logical.Plan
		if l, err = c.rel(rt.Cross.GetLeft()); err != nil {
			return nil, err
		}
		if rr, err = c.rel(rt.Cross.GetRight()); err != nil {
			return nil, err
		}
		out = logical.NewJoin(l, rr, logical.JoinCross, nil)
	case *pb.Rel_Project:
		// The projection applies its emit itself.
		return x.project(rt.Project)
	case *pb.Rel_Set:
		common = rt.Set.GetCommon()
		out, err = x.set(rt.Set)
	case *pb.Rel_Window:
		common = rt.Window.GetCommon()
		out, err = x.window(rt.Window)
	case *pb.Rel_ExtensionSingle:
		common = rt.ExtensionSingle.GetCommon()
		out, err = x.extensionSingle(rt.ExtensionSingle)
	default:
		return nil, relError(id, kind, fmt.Errorf("unsupported relation kind"))
	}
	if err != nil {
		if _, child := err.(childError); child {
			return nil, err.(childError).err
		}
		return nil, relError(id, kind, err)
	}
	if em := common.GetEmit(); em != nil {
		if out, err = applyEmit(out, em.GetOutputMapping(), nil); err != nil {
			return nil, relError(id, kind, err)
		}
	}
	return out, nil
}

// childError carries an input's (already located) error through a
// relation's translation unchanged.
type childError struct{ err error }

func (e childError) Error() string { return e.err.Error() }

type relCtx struct {
	c    *consumer
	id   int
	kind string
}

// input translates an input relation, marking its error as located.
func (x *relCtx) input(r *pb.Rel) (logical.Plan, error) {
	p, err := x.c.rel(r)
	if err != nil {
		return nil, childError{err}
	}
	return p, nil
}

// applyEmit selects and reorders output columns.
func applyEmit(p logical.Plan, mapping []int32, names []string) (logical.Plan, error) {
	s := p.Schema()
	exprs := make([]logical.Expr, len(mapping))
	outNames := make([]string, len(mapping))
	identity := len(mapping) == s.Len()
	for i, m := range mapping {
		if m < 0 || int(m) >= s.Len() {
			return nil, fmt.Errorf("emit output mapping %d out of range for %d columns", m, s.Len())
		}
		identity = identity && int(m) == i
		exprs[i] = logical.Col(s, int(m))
		outNames[i] = s.Fields[m].Name
		if names != nil {
			outNames[i] = names[i]
		}
	}
	if identity && names == nil {
		return p, nil
	}
	quals := make([]string, len(mapping))
	for i, m := range mapping {
		quals[i] = s.Fields[m].Qualifier
	}
	return logical.NewProject(p, exprs, outNames, quals), nil
}

// hintNames returns the hinted output names when there is one per column.
func hintNames(common *pb.RelCommon, n int) []string {
	names := common.GetHint().GetOutputNames()
	if len(names) == n {
		return names
	}
	return nil
}

func (x *relCtx) read(r *pb.ReadRel) (logical.Plan, error) {
	bs := r.GetBaseSchema()
	if bs == nil || bs.GetStruct() == nil {
		return nil, fmt.Errorf("missing base_schema")
	}
	names, types := bs.GetNames(), bs.GetStruct().GetTypes()
	if len(names) != len(types) {
		return nil, fmt.Errorf("base_schema has %d names for %d columns (nested struct names are not supported)", len(names), len(types))
	}
	fields := make([]logical.Field, len(types))
	for i, t := range types {
		at, nullable, err := extensions.FromProtoType(t)
		if err != nil {
			return nil, fmt.Errorf("base_schema column %d (%s): %w", i, names[i], err)
		}
		fields[i] = logical.Field{Name: names[i], Type: at, Nullable: nullable}
	}
	base := logical.NewSchema(fields...)
	alias := r.GetCommon().GetHint().GetAlias()

	var src *logical.TableSource
	switch rt := r.GetReadType().(type) {
	case *pb.ReadRel_VirtualTable_:
		if r.GetProjection() != nil || r.GetFilter() != nil {
			return nil, fmt.Errorf("virtual table with projection or filter is not supported")
		}
		return x.values(rt.VirtualTable, base)
	case *pb.ReadRel_NamedTable_:
		tn := rt.NamedTable.GetNames()
		if len(tn) == 0 {
			return nil, fmt.Errorf("named_table without names")
		}
		if x.c.r == nil {
			return nil, fmt.Errorf("table %s: no table resolver", strings.Join(tn, "."))
		}
		var err error
		if src, err = x.c.r.ResolveTable(tn); err != nil {
			return nil, fmt.Errorf("table %s: %w", strings.Join(tn, "."), err)
		}
		if src == nil || src.Schema == nil {
			return nil, fmt.Errorf("table %s: resolver returned no schema", strings.Join(tn, "."))
		}
		if src.Schema.NumFields() != base.Len() {
			return nil, fmt.Errorf("table %s: base_schema has %d columns but the table has %d", strings.Join(tn, "."), base.Len(), src.Schema.NumFields())
		}
		for i, f := range src.Schema.Fields() {
			if !strings.EqualFold(f.Name, names[i]) {
				return nil, fmt.Errorf("table %s: base_schema column %d is %q but the table's is %q", strings.Join(tn, "."), i, names[i], f.Name)
			}
		}
	case *pb.ReadRel_LocalFiles_:
		srcs, err := localFiles(rt.LocalFiles, base, alias)
		if err != nil {
			return nil, err
		}
		if len(srcs) == 1 {
			src = srcs[0]
			break
		}
		// Several files, folders or globs: one scan of each, unioned.
		op := &logical.SetOp{Kind: logical.Union, All: true}
		for _, sr := range srcs {
			p, err := x.scanOf(r, sr, base, alias)
			if err != nil {
				return nil, err
			}
			op.Inputs = append(op.Inputs, p)
		}
		return op, nil
	case *pb.ReadRel_ExtensionTable_:
		if rt.ExtensionTable.GetDetail().MessageIs(&planpb.PluginScan{}) {
			return x.pluginScan(r, rt.ExtensionTable, base, alias)
		}
		if r.GetProjection() != nil || r.GetFilter() != nil || r.GetBestEffortFilter() != nil {
			return nil, fmt.Errorf("extension_table read with a projection or filter is not supported")
		}
		return shuffleRead(rt.ExtensionTable, base)
	case *pb.ReadRel_IcebergTable_:
		return nil, fmt.Errorf("iceberg_table reads are not supported")
	default:
		return nil, fmt.Errorf("read without read_type")
	}
	return x.scanOf(r, src, base, alias)
}

// scanOf reads src with the read relation's projection and filters.
func (x *relCtx) scanOf(r *pb.ReadRel, src *logical.TableSource, base *logical.Schema, alias string) (logical.Plan, error) {
	var proj []int
	if m := r.GetProjection(); m != nil {
		if m.GetSelect() == nil {
			return nil, fmt.Errorf("projection mask without select")
		}
		for _, it := range m.GetSelect().GetStructItems() {
			if it.GetChild() != nil {
				return nil, fmt.Errorf("nested projection masks are not supported")
			}
			if it.GetField() < 0 || int(it.GetField()) >= base.Len() {
				return nil, fmt.Errorf("projection field %d out of range for %d columns", it.GetField(), base.Len())
			}
			proj = append(proj, int(it.GetField()))
		}
		if proj == nil {
			proj = []int{}
		}
	}
	scan := logical.NewScan(src, alias, proj)
	if h, ok := extensions.FindHint(r.GetAdvancedExtension(), extensions.HintScanLimit); ok {
		if l := h.GetFields()["limit"].GetNumberValue(); l >= 0 {
			scan.Limit = int64(l)
		}
	}
	// base column → scan output position
	pos := make(map[int]int, base.Len())
	if proj == nil {
		for i := range base.Fields {
			pos[i] = i
		}
	} else {
		for i, c := range proj {
			if _, dup := pos[c]; !dup {
				pos[c] = i
			}
		}
	}
	baseTyped := logical.FromArrow(src.Schema, "")
	if be := r.GetBestEffortFilter(); be != nil {
		e, err := x.c.expr(be, baseTyped, nil)
		if err != nil {
			return nil, fmt.Errorf("best_effort_filter: %w", err)
		}
		if m, err := logical.RemapColumns(e, pos); err == nil {
			scan.Filters = logical.SplitConjunction(m)
		}
	}
	f := r.GetFilter()
	if f == nil {
		return scan, nil
	}
	e, err := x.c.expr(f, baseTyped, nil)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	if m, err := logical.RemapColumns(e, pos); err == nil {
		return &logical.Filter{Input: scan, Cond: m}, nil
	}
	// The filter reads columns outside the projection: widen the scan,
	// filter, then project back.
	wide := append([]int(nil), proj...)
	for c := range logical.ColumnsUsed(e, nil) {
		if _, ok := pos[c]; !ok {
			pos[c] = len(wide)
			wide = append(wide, c)
		}
	}
	ws := scan.WithProjection(wide, scan.Filters)
	m, err := logical.RemapColumns(e, pos)
	if err != nil {
		return nil, err
	}
	var filtered logical.Plan = &logical.Filter{Input: ws, Cond: m}
	exprs := make([]logical.Expr, len(proj))
	outNames := make([]string, len(proj))
	quals := make([]string, len(proj))
	for i := range proj {
		exprs[i] = logical.Col(ws.Schema(), i)
		outNames[i] = ws.Schema().Fields[i].Name
		quals[i] = ws.Schema().Fields[i].Qualifier
	}
	return logical.NewProject(filtered, exprs, outNames, quals), nil
}

func localFiles(lf *pb.ReadRel_LocalFiles, base *logical.Schema, alias string) ([]*logical.TableSource, error) {
	items := lf.GetItems()
	if len(items) == 0 {
		return nil, fmt.Errorf("local_files without items")
	}
	out := make([]*logical.TableSource, len(items))
	for i, it := range items {
		src, err := localFile(it, base, alias)
		if err != nil {
			if len(items) > 1 {
				err = fmt.Errorf("local_files item %d: %w", i, err)
			}
			return nil, err
		}
		out[i] = src
	}
	return out, nil
}

func localFile(it *pb.ReadRel_LocalFiles_FileOrFiles, base *logical.Schema, alias string) (*logical.TableSource, error) {
	src := &logical.TableSource{Schema: base.Arrow(), RowCount: -1, Options: map[string]string{}}
	switch p := it.GetPathType().(type) {
	case *pb.ReadRel_LocalFiles_FileOrFiles_UriPath:
		src.Location = p.UriPath
	case *pb.ReadRel_LocalFiles_FileOrFiles_UriPathGlob:
		src.Location = p.UriPathGlob
	case *pb.ReadRel_LocalFiles_FileOrFiles_UriFile:
		src.Location = p.UriFile
	case *pb.ReadRel_LocalFiles_FileOrFiles_UriFolder:
		src.Location = p.UriFolder
	default:
		return nil, fmt.Errorf("local_files item without a path")
	}
	src.Location = strings.TrimPrefix(src.Location, "file://")
	if src.Location == "" {
		return nil, fmt.Errorf("local_files item with an empty path")
	}
	if it.GetStart() != 0 || it.GetLength() != 0 {
		return nil, fmt.Errorf("local_files item %s: not supported: byte ranges (start %d, length %d); the engine splits files itself", src.Location, it.GetStart(), it.GetLength())
	}
	switch ff := it.GetFileFormat().(type) {
	case *pb.ReadRel_LocalFiles_FileOrFiles_Extension:
		var f planpb.FileFormat
		if err := ff.Extension.UnmarshalTo(&f); err != nil {
			return nil, fmt.Errorf("local_files item %s: file format extension %s: %v", src.Location, ff.Extension.GetTypeUrl(), err)
		}
		switch f.GetFormat() {
		case "parquet", "csv", "json", "arrow":
		default:
			return nil, fmt.Errorf("local_files item %s: unknown file format %q", src.Location, f.GetFormat())
		}
		src.Format = f.GetFormat()
		src.Name = f.GetTable()
		for k, v := range f.GetOptions() {
			src.Options[k] = v
		}
	case *pb.ReadRel_LocalFiles_FileOrFiles_Parquet:
		src.Format = "parquet"
	case *pb.ReadRel_LocalFiles_FileOrFiles_Arrow:
		src.Format = "arrow"
	case *pb.ReadRel_LocalFiles_FileOrFiles_Orc:
		src.Format = "orc"
	case *pb.ReadRel_LocalFiles_FileOrFiles_Dwrf:
		src.Format = "dwrf"
	case *pb.ReadRel_LocalFiles_FileOrFiles_Text:
		src.Format = "csv"
		t := ff.Text
		if t.GetFieldDelimiter() != "" {
			src.Options["delimiter"] = t.GetFieldDelimiter()
		}
		if t.GetQuote() != "" {
			src.Options["quote"] = t.GetQuote()
		}
		if t.GetEscape() != "" {
			src.Options["escape"] = t.GetEscape()
		}
		src.Options["header"] = fmt.Sprint(t.GetHeaderLinesToSkip() > 0)
		if t.ValueTreatedAsNull != nil {
			src.Options["null_value"] = t.GetValueTreatedAsNull()
		}
	default:
		return nil, fmt.Errorf("local_files item %s: unsupported or missing file format", src.Location)
	}
	if alias != "" {
		src.Name = alias
	}
	if src.Name == "" {
		b := path.Base(src.Location)
		src.Name = strings.TrimSuffix(b, path.Ext(b))
	}
	return src, nil
}

func (x *relCtx) values(vt *pb.ReadRel_VirtualTable, s *logical.Schema) (logical.Plan, error) {
	empty := logical.NewSchema()
	var rows [][]logical.Expr
	for i, st := range vt.GetValues() { //nolint:staticcheck // deprecated literal form
		if len(st.GetFields()) != s.Len() {
			return nil, fmt.Errorf("virtual table row %d has %d values for %d columns", i, len(st.GetFields()), s.Len())
		}
		row := make([]logical.Expr, s.Len())
		for j, l := range st.GetFields() {
			lit, err := literal(l)
			if err != nil {
				return nil, fmt.Errorf("virtual table row %d column %d: %w", i, j, err)
			}
			row[j] = lit
		}
		rows = append(rows, row)
	}
	for i, st := range vt.GetExpressions() {
		if len(st.GetFields()) != s.Len() {
			return nil, fmt.Errorf("virtual table row %d has %d values for %d columns", i, len(st.GetFields()), s.Len())
		}
		row := make([]logical.Expr, s.Len())
		for j, e := range st.GetFields() {
			v, err := x.c.expr(e, empty, nil)
			if err != nil {
				return nil, fmt.Errorf("virtual table row %d column %d: %w", i, j, err)
			}
			row[j] = v
		}
		rows = append(rows, row)
	}
	return logical.NewValues(s, rows), nil
}

func (x *relCtx) filter(f *pb.FilterRel) (logical.Plan, error) {
	in, err := x.input(f.GetInput())
	if err != nil {
		return nil, err
	}
	if f.GetCondition() == nil {
		return nil, fmt.Errorf("filter without condition")
	}
	cond, err := x.c.expr(f.GetCondition(), in.Schema(), nil)
	if err != nil {
		return nil, err
	}
	if cond.Type().ID() != logical.Bool.ID() {
		return nil, fmt.Errorf("filter condition has type %s, want boolean", cond.Type())
	}
	return &logical.Filter{Input: in, Cond: cond}, nil
}

// intLiteral reads a constant integer expression (FetchRel count_expr and
// offset_expr); null reports ok=false.
func intLiteral(e *pb.Expression) (v int64, isNull bool, err error) {
	l := e.GetLiteral()
	if l == nil {
		return 0, false, fmt.Errorf("only literal expressions are supported")
	}
	switch t := l.GetLiteralType().(type) {
	case *pb.Expression_Literal_I8:
		return int64(t.I8), false, nil
	case *pb.Expression_Literal_I16:
		return int64(t.I16), false, nil
	case *pb.Expression_Literal_I32:
		return int64(t.I32), false, nil
	case *pb.Expression_Literal_I64:
		return t.I64, false, nil
	case *pb.Expression_Literal_Null:
		return 0, true, nil
	}
	return 0, false, fmt.Errorf("literal is not an integer")
}

func fetchBounds(f *pb.FetchRel) (offset, count int64, err error) {
	switch m := f.GetOffsetMode().(type) {
	case *pb.FetchRel_Offset:
		offset = m.Offset
	case *pb.FetchRel_OffsetExpr:
		v, null, err := intLiteral(m.OffsetExpr)
		if err != nil {
			return 0, 0, fmt.Errorf("offset_expr: %w", err)
		}
		if !null {
			offset = v
		}
	}
	if offset < 0 {
		return 0, 0, fmt.Errorf("negative offset %d", offset)
	}
	count = -1
	switch m := f.GetCountMode().(type) {
	case *pb.FetchRel_Count:
		count = m.Count
		if count < -1 {
			return 0, 0, fmt.Errorf("invalid count %d", count)
		}
	case *pb.FetchRel_CountExpr:
		v, null, err := intLiteral(m.CountExpr)
		if err != nil {
			return 0, 0, fmt.Errorf("count_expr: %w", err)
		}
		if !null {
			if v < 0 {
				return 0, 0, fmt.Errorf("negative count %d", v)
			}
			count = v
		}
	}
	return offset, count, nil
}

func (x *relCtx) fetch(f *pb.FetchRel) (logical.Plan, error) {
	offset, count, err := fetchBounds(f)
	if err != nil {
		return nil, err
	}
	in, err := x.input(f.GetInput())
	if err != nil {
		return nil, err
	}
	if _, ok := extensions.FindHint(f.GetAdvancedExtension(), extensions.HintTopK); ok {
		if s, ok := in.(*logical.Sort); ok && s.Fetch < 0 && offset == 0 && count >= 0 && f.GetInput().GetSort() != nil && f.GetInput().GetSort().GetCommon().GetEmit() == nil {
			n := *s
			n.Fetch = count
			return &n, nil
		}
	}
	return &logical.Limit{Input: in, Offset: offset, Count: count}, nil
}

func (x *relCtx) sortKeys(fs []*pb.SortField, in *logical.Schema) ([]logical.SortKey, error) {
	keys := make([]logical.SortKey, len(fs))
	for i, f := range fs {
		e, err := x.c.expr(f.GetExpr(), in, nil)
		if err != nil {
			return nil, fmt.Errorf("sort field %d: %w", i, err)
		}
		k := logical.SortKey{Expr: e}
		switch d := f.GetSortKind().(type) {
		case *pb.SortField_Direction:
			switch d.Direction {
			case pb.SortField_SORT_DIRECTION_ASC_NULLS_FIRST:
				k.NullsFirst = true
			case pb.SortField_SORT_DIRECTION_ASC_NULLS_LAST:
			case pb.SortField_SORT_DIRECTION_DESC_NULLS_FIRST:
				k.Descending, k.NullsFirst = true, true
			case pb.SortField_SORT_DIRECTION_DESC_NULLS_LAST:
				k.Descending = true
			default:
				return nil, fmt.Errorf("sort field %d: unsupported direction %s", i, d.Direction)
			}
		case *pb.SortField_ComparisonFunctionReference:
			return nil, fmt.Errorf("sort field %d: custom comparison functions are not supported", i)
		default:
			return nil, fmt.Errorf("sort field %d: missing direction", i)
		}
		keys[i] = k
	}
	return keys, nil
}

// keyedJoin translates a hash or merge join (physical relations other
// producers may send) into a join whose condition compares the keys; the
// post-join filter is part of the match, as the physical join evaluates it
// on key-matched pairs. The join types share JoinRel's names.
func (x *relCtx) keyedJoin(left, right *pb.Rel, typ string, keys []*pb.ComparisonJoinKey, leftKeys, rightKeys []*pb.Expression_FieldReference,
	post *pb.Expression, ext *pbext.AdvancedExtension) (logical.Plan, error) {
	jt, ok := pb.JoinRel_JoinType_value[typ]
	if !ok {
		return nil, fmt.Errorf("unsupported join type %s", typ)
	}
	if len(leftKeys) != len(rightKeys) {
		return nil, fmt.Errorf("%d left keys for %d right keys", len(leftKeys), len(rightKeys))
	}
	for i := range leftKeys {
		keys = append(keys, &pb.ComparisonJoinKey{Left: leftKeys[i], Right: rightKeys[i]})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("join without keys")
	}
	return x.joinWith(left, right, pb.JoinRel_JoinType(jt), ext, func(l, r, both *logical.Schema) (logical.Expr, error) {
		var parts []logical.Expr
		for i, k := range keys {
			fn := "equal"
			switch ct := k.GetComparison().GetInnerType().(type) {
			case nil:
			case *pb.ComparisonJoinKey_ComparisonType_Simple:
				switch ct.Simple {
				case pb.ComparisonJoinKey_SIMPLE_COMPARISON_TYPE_EQ, pb.ComparisonJoinKey_SIMPLE_COMPARISON_TYPE_MIGHT_EQUAL:
				case pb.ComparisonJoinKey_SIMPLE_COMPARISON_TYPE_IS_NOT_DISTINCT_FROM:
					fn = "is_not_distinct_from"
				default:
					return nil, fmt.Errorf("join key %d: comparison %s", i, ct.Simple)
				}
			default:
				return nil, fmt.Errorf("join key %d: not supported: custom comparison functions", i)
			}
			le, err := x.c.fieldReference(k.GetLeft(), l)
			if err != nil {
				return nil, fmt.Errorf("join key %d left: %w", i, err)
			}
			re, err := x.c.fieldReference(k.GetRight(), r)
			if err != nil {
				return nil, fmt.Errorf("join key %d right: %w", i, err)
			}
			re = logical.ShiftColumns(re, l.Len())
			if !arrow.TypeEqual(le.Type(), re.Type()) {
				return nil, fmt.Errorf("join key %d compares %s with %s", i, le.Type(), re.Type())
			}
			parts = append(parts, &logical.Call{Func: fn, Args: []logical.Expr{le, re}, T: logical.Bool, NullableOut: fn == "equal" && (le.Nullable() || re.Nullable())})
		}
		if post != nil {
			pf, err := x.c.expr(post, both, nil)
			if err != nil {
				return nil, fmt.Errorf("post_join_filter: %w", err)
			}
			parts = append(parts, pf)
		}
		return logical.And(parts...), nil
	})
}

func (x *relCtx) join(j *pb.JoinRel) (logical.Plan, error) {
	jn, err := x.joinWith(j.GetLeft(), j.GetRight(), j.GetType(), j.GetAdvancedExtension(), func(_, _, both *logical.Schema) (logical.Expr, error) {
		if j.GetExpression() == nil {
			return nil, nil
		}
		on, err := x.c.expr(j.GetExpression(), both, nil)
		if err != nil {
			return nil, fmt.Errorf("join condition: %w", err)
		}
		return on, nil
	})
	if err != nil {
		return nil, err
	}
	if pf := j.GetPostJoinFilter(); pf != nil {
		if jt := j.GetType(); jt == pb.JoinRel_JOIN_TYPE_RIGHT_SEMI || jt == pb.JoinRel_JOIN_TYPE_RIGHT_ANTI ||
			jt == pb.JoinRel_JOIN_TYPE_RIGHT_SINGLE || jt == pb.JoinRel_JOIN_TYPE_RIGHT_MARK {
			return nil, fmt.Errorf("post_join_filter on a right-side join is not supported")
		}
		cond, err := x.c.expr(pf, jn.Schema(), nil)
		if err != nil {
			return nil, fmt.Errorf("post_join_filter: %w", err)
		}
		return &logical.Filter{Input: jn, Cond: cond}, nil
	}
	return jn, nil
}

// joinWith builds a join of the given type; cond makes its condition over
// the left, the right and both inputs' schemas (nil: no condition).
func (x *relCtx) joinWith(left, right *pb.Rel, typ pb.JoinRel_JoinType, ext *pbext.AdvancedExtension,
	cond func(l, r, both *logical.Schema) (logical.Expr, error)) (*logical.Join, error) {
	l, err := x.input(left)
	if err != nil {
		return nil, err
	}
	r, err := x.input(right)
	if err != nil {
		return nil, err
	}
	var t logical.JoinType
	swap := false
	switch typ {
	case pb.JoinRel_JOIN_TYPE_INNER:
		t = logical.JoinInner
	case pb.JoinRel_JOIN_TYPE_LEFT:
		t = logical.JoinLeft
	case pb.JoinRel_JOIN_TYPE_RIGHT:
		t = logical.JoinRight
	case pb.JoinRel_JOIN_TYPE_OUTER:
		t = logical.JoinFull
	case pb.JoinRel_JOIN_TYPE_LEFT_SEMI:
		t = logical.JoinSemi
	case pb.JoinRel_JOIN_TYPE_LEFT_ANTI:
		t = logical.JoinAnti
	case pb.JoinRel_JOIN_TYPE_LEFT_SINGLE:
		t = logical.JoinSingle
	case pb.JoinRel_JOIN_TYPE_LEFT_MARK:
		t = logical.JoinMark
	case pb.JoinRel_JOIN_TYPE_RIGHT_SEMI:
		t, swap = logical.JoinSemi, true
	case pb.JoinRel_JOIN_TYPE_RIGHT_ANTI:
		t, swap = logical.JoinAnti, true
	case pb.JoinRel_JOIN_TYPE_RIGHT_SINGLE:
		t, swap = logical.JoinSingle, true
	case pb.JoinRel_JOIN_TYPE_RIGHT_MARK:
		t, swap = logical.JoinMark, true
	default:
		return nil, fmt.Errorf("unsupported join type %s", typ)
	}
	on, err := cond(l.Schema(), r.Schema(), logical.Concat(l.Schema(), r.Schema()))
	if err != nil {
		return nil, err
	}
	if on != nil && on.Type().ID() != logical.Bool.ID() {
		return nil, fmt.Errorf("join condition has type %s, want boolean", on.Type())
	}
	nullAware := false
	if _, ok := extensions.FindHint(ext, extensions.HintNullAwareAnti); ok && t == logical.JoinAnti && !swap {
		nullAware = true
		if c, ok := on.(*logical.Call); ok && c.Func == "is_not_false" && len(c.Args) == 1 {
			on = c.Args[0]
		} else if on != nil {
			return nil, fmt.Errorf("null_aware_anti hint on a condition that is not is_not_false(...)")
		}
	}
	if swap {
		nl := l.Schema().Len()
		nr := r.Schema().Len()
		if on != nil {
			m := make(map[int]int, nl+nr)
			for i := 0; i < nl; i++ {
				m[i] = nr + i
			}
			for i := 0; i < nr; i++ {
				m[nl+i] = i
			}
			if on, err = logical.RemapColumns(on, m); err != nil {
				return nil, err
			}
		}
		l, r = r, l
	}
	jn := logical.NewJoin(l, r, t, on)
	jn.NullAware = nullAware
	return jn, nil
}

func (x *relCtx) set(s *pb.SetRel) (logical.Plan, error) {
	ins := s.GetInputs()
	if len(ins) < 2 {
		return nil, fmt.Errorf("set operation with %d inputs", len(ins))
	}
	inputs := make([]logical.Plan, len(ins))
	for i, r := range ins {
		p, err := x.input(r)
		if err != nil {
			return nil, err
		}
		inputs[i] = p
	}
	n := inputs[0].Schema().Len()
	for i, p := range inputs[1:] {
		if p.Schema().Len() != n {
			return nil, fmt.Errorf("set input %d has %d columns, input 0 has %d", i+1, p.Schema().Len(), n)
		}
	}
	op := &logical.SetOp{Inputs: inputs}
	switch s.GetOp() {
	case pb.SetRel_SET_OP_UNION_ALL:
		op.Kind, op.All = logical.Union, true
	case pb.SetRel_SET_OP_UNION_DISTINCT:
		op.Kind = logical.Union
	case pb.SetRel_SET_OP_INTERSECTION_MULTISET:
		op.Kind = logical.Intersect
	case pb.SetRel_SET_OP_INTERSECTION_MULTISET_ALL:
		op.Kind, op.All = logical.Intersect, true
	case pb.SetRel_SET_OP_MINUS_PRIMARY:
		op.Kind = logical.Except
	case pb.SetRel_SET_OP_MINUS_PRIMARY_ALL:
		op.Kind, op.All = logical.Except, true
	case pb.SetRel_SET_OP_INTERSECTION_PRIMARY, pb.SetRel_SET_OP_MINUS_MULTISET:
		// With two inputs these equal INTERSECTION_MULTISET and MINUS_PRIMARY.
		if len(inputs) != 2 {
			return nil, fmt.Errorf("%s with %d inputs is not supported", s.GetOp(), len(inputs))
		}
		op.Kind = logical.Intersect
		if s.GetOp() == pb.SetRel_SET_OP_MINUS_MULTISET {
			op.Kind = logical.Except
		}
	default:
		return nil, fmt.Errorf("unsupported set operation %s", s.GetOp())
	}
	return op, nil
}

// aggregate translates an AggregateRel. The result has Substrait's layout:
// grouping expressions, measures and, with several grouping sets, the i32
// grouping-set index.
func (x *relCtx) aggregate(a *pb.AggregateRel) (logical.Plan, error) {
	agg, err := x.aggregateNode(a, false)
	if err != nil {
		return nil, err
	}
	agg, declared := deriveMeasureTypes(agg)
	out, err := x.aggregateLayout(agg)
	if err != nil || declared == nil {
		return out, err
	}
	// Restore the types the producer declared, on top of the aggregate.
	s := out.Schema()
	exprs := make([]logical.Expr, s.Len())
	names := make([]string, s.Len())
	quals := make([]string, s.Len())
	for i, f := range s.Fields {
		exprs[i], names[i], quals[i] = logical.Col(s, i), f.Name, f.Qualifier
		if j := i - len(agg.GroupBy); j >= 0 && j < len(declared) && declared[j] != nil {
			exprs[i] = &logical.Cast{Input: exprs[i], T: declared[j]}
		}
	}
	return logical.NewProject(out, exprs, names, quals), nil
}

// deriveMeasureTypes gives each standard numeric measure whose declared
// output type differs from the type its function returns by the spec
// (isthmus writes Calcite's types: sum(decimal(15,2)) as decimal(15,2),
// sum(i32) as i32, avg(decimal(15,2)) as decimal(15,2)) the spec's type,
// which the workers compute. It returns the declared types of the changed
// measures (nil when none changed) so the caller casts to them.
func deriveMeasureTypes(agg *logical.Aggregate) (*logical.Aggregate, []arrow.DataType) {
	var declared []arrow.DataType
	aggs := make([]*logical.AggregateCall, len(agg.Aggs))
	for i, ac := range agg.Aggs {
		aggs[i] = ac
		if ac.UDF != nil || ac.Func == "avg_merge" || len(ac.Args) == 0 || !logical.IsNumeric(ac.T) {
			continue
		}
		derived, err := logical.AggregateResultType(ac.Func, ac.Args[0].Type())
		if err != nil || arrow.TypeEqual(derived, ac.T) || !logical.IsNumeric(derived) {
			continue
		}
		if declared == nil {
			declared = make([]arrow.DataType, len(agg.Aggs))
		}
		declared[i] = ac.T
		c := *ac
		c.T = derived
		aggs[i] = &c
	}
	if declared == nil {
		return agg, nil
	}
	return logical.NewAggregate(agg.Input, agg.GroupBy, agg.GroupNames, agg.GroupingSets, aggs, agg.AggNames), declared
}

// aggregateLayout gives an Aggregate Substrait's output layout.
func (x *relCtx) aggregateLayout(agg *logical.Aggregate) (logical.Plan, error) {
	if len(agg.GroupingSets) <= 1 {
		if len(agg.GroupingSets) == 1 {
			// A single explicit set has no index column in Substrait: drop
			// __grouping_id.
			s := agg.Schema()
			return applyEmit(agg, seq(s.Len()-1), nil)
		}
		return agg, nil
	}
	// Bitmask → grouping-set index.
	s := agg.Schema()
	n := s.Len() - 1
	exprs := make([]logical.Expr, 0, n+1)
	names := make([]string, 0, n+1)
	quals := make([]string, 0, n+1)
	for i := 0; i < n; i++ {
		exprs = append(exprs, logical.Col(s, i))
		names = append(names, s.Fields[i].Name)
		quals = append(quals, s.Fields[i].Qualifier)
	}
	gid := logical.Col(s, n)
	cs := &logical.Case{T: int32Type}
	for si, set := range agg.GroupingSets {
		cs.Whens = append(cs.Whens, logical.When{
			Cond: logical.Equal(gid, &logical.Literal{Value: groupingMask(len(agg.GroupBy), set), T: logical.Int64}),
			Then: &logical.Literal{Value: int32(si), T: int32Type},
		})
	}
	cs.Else = logical.NullLiteral(int32Type)
	exprs = append(exprs, cs)
	names = append(names, "__grouping_set")
	quals = append(quals, "")
	return logical.NewProject(agg, exprs, names, quals), nil
}

func seq(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

func groupingMask(nGroups int, set []int) int64 {
	in := make([]bool, nGroups)
	for _, g := range set {
		in[g] = true
	}
	var m int64
	for i, ok := range in {
		if !ok {
			m |= 1 << uint(i)
		}
	}
	return m
}

// aggregateNode builds the logical Aggregate (with __grouping_id when the
// relation has grouping sets; explicitSets keeps a single set covering
// every expression as a grouping set instead of a plain GROUP BY).
func (x *relCtx) aggregateNode(a *pb.AggregateRel, explicitSets bool) (*logical.Aggregate, error) {
	in, err := x.input(a.GetInput())
	if err != nil {
		return nil, err
	}
	inS := in.Schema()
	var groupPB []*pb.Expression
	var sets [][]int
	if len(a.GetGroupingExpressions()) > 0 {
		groupPB = a.GetGroupingExpressions()
		// Producers such as DataFusion also fill the deprecated per-grouping
		// expressions; the references take precedence.
		for gi, g := range a.GetGroupings() {
			set := []int{}
			for _, r := range g.GetExpressionReferences() {
				if int(r) >= len(groupPB) {
					return nil, fmt.Errorf("grouping %d: expression reference %d out of range for %d grouping expressions", gi, r, len(groupPB))
				}
				set = append(set, int(r))
			}
			sets = append(sets, set)
		}
	} else {
		// Deprecated form: each grouping lists its expressions; the output
		// has the distinct expressions in order of first appearance.
		for gi, g := range a.GetGroupings() {
			if len(g.GetExpressionReferences()) > 0 {
				return nil, fmt.Errorf("grouping %d: expression reference without grouping_expressions", gi)
			}
			set := []int{}
			for _, e := range g.GetGroupingExpressions() { //nolint:staticcheck
				idx := -1
				for k, seen := range groupPB {
					if proto.Equal(seen, e) {
						idx = k
						break
					}
				}
				if idx < 0 {
					idx = len(groupPB)
					groupPB = append(groupPB, e)
				}
				set = append(set, idx)
			}
			sets = append(sets, set)
		}
	}
	if len(sets) == 0 && len(a.GetMeasures()) == 0 {
		return nil, fmt.Errorf("aggregate without groupings and measures")
	}
	groups := make([]logical.Expr, len(groupPB))
	for i, g := range groupPB {
		if groups[i], err = x.c.expr(g, inS, nil); err != nil {
			return nil, fmt.Errorf("grouping expression %d: %w", i, err)
		}
	}
	aggs := make([]*logical.AggregateCall, len(a.GetMeasures()))
	for i, m := range a.GetMeasures() {
		if aggs[i], err = x.c.measure(m, inS); err != nil {
			return nil, fmt.Errorf("measure %d: %w", i, err)
		}
	}
	// One grouping set covering every expression is a plain GROUP BY.
	var gsets [][]int
	if len(sets) > 1 || (len(sets) == 1 && (explicitSets || !coversAll(sets[0], len(groups)))) {
		if len(groups) > 62 {
			return nil, fmt.Errorf("%d grouping expressions in grouping sets exceed the supported 62", len(groups))
		}
		gsets = sets
		used := make([]bool, len(groups))
		for _, s := range sets {
			for _, g := range s {
				used[g] = true
			}
		}
		for i, u := range used {
			if !u {
				return nil, fmt.Errorf("grouping expression %d is in no grouping set", i)
			}
		}
	}
	nOut := len(groups) + len(aggs)
	if len(gsets) > 1 {
		nOut++
	}
	names := hintNames(a.GetCommon(), nOut)
	groupNames := make([]string, len(groups))
	aggNames := make([]string, len(aggs))
	for i, g := range groups {
		switch {
		case names != nil:
			groupNames[i] = names[i]
		case isColumn(g):
			groupNames[i] = g.(*logical.ColumnRef).Name
		default:
			groupNames[i] = fmt.Sprintf("group%d", i)
		}
	}
	for i := range aggs {
		if names != nil {
			aggNames[i] = names[len(groups)+i]
		} else {
			aggNames[i] = fmt.Sprintf("measure%d", i)
		}
	}
	return logical.NewAggregate(in, groups, groupNames, gsets, aggs, aggNames), nil
}

func coversAll(set []int, n int) bool {
	seen := make([]bool, n)
	for _, g := range set {
		seen[g] = true
	}
	for _, s := range seen {
		if !s {
			return false
		}
	}
	return true
}

func isColumn(e logical.Expr) bool { _, ok := e.(*logical.ColumnRef); return ok }

// project translates a ProjectRel, applying its emit. Window functions in
// the expressions become a Window node below the projection.
func (x *relCtx) project(p *pb.ProjectRel) (logical.Plan, error) {
	fail := func(err error) (logical.Plan, error) { return nil, relError(x.id, x.kind, err) }
	if _, ok := extensions.FindHint(p.GetAdvancedExtension(), extensions.HintGroupingID); ok && p.GetInput().GetAggregate() != nil {
		if plan, ok, err := x.groupingIDProject(p); err != nil || ok {
			if err != nil {
				if ce, child := err.(childError); child {
					return nil, ce.err
				}
				return fail(err)
			}
			return plan, nil
		}
	}
	in, err := x.c.rel(p.GetInput())
	if err != nil {
		return nil, err
	}
	inS := in.Schema()
	var wins []*logical.WindowCall
	exprs := make([]logical.Expr, len(p.GetExpressions()))
	for i, e := range p.GetExpressions() {
		if exprs[i], err = x.c.expr(e, inS, &wins); err != nil {
			return fail(fmt.Errorf("expression %d: %w", i, err))
		}
	}
	nIn := inS.Len()
	width := nIn + len(exprs)
	mapping := p.GetCommon().GetEmit().GetOutputMapping()
	if p.GetCommon().GetEmit() == nil {
		mapping = seq(width)
	}
	for _, m := range mapping {
		if m < 0 || int(m) >= width {
			return fail(fmt.Errorf("emit output mapping %d out of range for %d columns", m, width))
		}
	}
	names := hintNames(p.GetCommon(), len(mapping))
	nameOf := func(i int, e logical.Expr) string {
		if names != nil {
			return names[i]
		}
		if m := int(mapping[i]); m < nIn {
			return inS.Fields[m].Name
		}
		if c, ok := e.(*logical.ColumnRef); ok {
			return c.Name
		}
		return fmt.Sprintf("expr%d", i)
	}

	if len(wins) > 0 {
		// Window functions all at the top level, output = input + windows:
		// exactly a Window node.
		direct := len(wins) == len(exprs) && len(mapping) == width
		for i, e := range exprs {
			c, ok := e.(*logical.ColumnRef)
			direct = direct && ok && c.Index == nIn+i
		}
		for i, m := range mapping {
			direct = direct && int(m) == i
		}
		wnames := make([]string, len(wins))
		for i := range wins {
			wnames[i] = fmt.Sprintf("__window%d", i)
			if direct {
				wnames[i] = nameOf(nIn+i, nil)
			}
		}
		w := logical.NewWindow(in, wins, wnames)
		if direct {
			return w, nil
		}
		for i := range wins {
			// Give the placeholder references their display names.
			exprs = renameWindowRefs(exprs, nIn+i, wnames[i])
		}
		in = w
	}
	out := make([]logical.Expr, len(mapping))
	outNames := make([]string, len(mapping))
	quals := make([]string, len(mapping))
	for i, m := range mapping {
		if int(m) < nIn {
			out[i] = logical.Col(inS, int(m))
			quals[i] = inS.Fields[m].Qualifier
		} else {
			out[i] = exprs[int(m)-nIn]
		}
		outNames[i] = nameOf(i, out[i])
	}
	return logical.NewProject(in, out, outNames, quals), nil
}

func renameWindowRefs(exprs []logical.Expr, idx int, name string) []logical.Expr {
	out := make([]logical.Expr, len(exprs))
	for i, e := range exprs {
		out[i], _ = logical.TransformExpr(e, func(n logical.Expr) (logical.Expr, error) {
			if c, ok := n.(*logical.ColumnRef); ok && c.Index == idx {
				cc := *c
				cc.Name = name
				return &cc, nil
			}
			return n, nil
		})
	}
	return out
}

// groupingIDProject reads the producer's Aggregate encoding: a hinted
// ProjectRel computing __grouping_id from the grouping-set index above a
// multi-set AggregateRel. ok=false when the shape differs (then the plan is
// read generically).
func (x *relCtx) groupingIDProject(p *pb.ProjectRel) (logical.Plan, bool, error) {
	a := p.GetInput().GetAggregate()
	if a.GetCommon().GetEmit() != nil || len(p.GetExpressions()) != 1 {
		return nil, false, nil
	}
	nSets := len(a.GetGroupings())
	nOut := len(a.GetGroupingExpressions()) + len(a.GetMeasures())
	width := nOut
	if nSets > 1 {
		width++
	}
	m := p.GetCommon().GetEmit().GetOutputMapping()
	if len(m) != nOut+1 || int(m[nOut]) != width {
		return nil, false, nil
	}
	for i := 0; i < nOut; i++ {
		if int(m[i]) != i {
			return nil, false, nil
		}
	}
	// The aggregate relation is consumed here without its own number
	// wrapper, so account for it in the numbering.
	aggID := x.c.next
	x.c.next++
	ax := &relCtx{c: x.c, id: aggID, kind: "aggregate"}
	agg, err := ax.aggregateNode(a, true)
	if err != nil {
		if ce, child := err.(childError); child {
			return nil, false, ce
		}
		return nil, false, childError{relError(aggID, "aggregate", err)}
	}
	if len(agg.GroupingSets) == 0 {
		return nil, false, fmt.Errorf("grouping_id hint above an aggregate without grouping sets")
	}
	if names := hintNames(p.GetCommon(), nOut+1); names != nil {
		copy(agg.GroupNames, names)
		copy(agg.AggNames, names[len(agg.GroupNames):])
		agg = logical.NewAggregate(agg.Input, agg.GroupBy, agg.GroupNames, agg.GroupingSets, agg.Aggs, agg.AggNames)
	}
	return agg, true, nil
}

func (x *relCtx) window(w *pb.ConsistentPartitionWindowRel) (logical.Plan, error) {
	in, err := x.input(w.GetInput())
	if err != nil {
		return nil, err
	}
	inS := in.Schema()
	var parts []logical.Expr
	for i, e := range w.GetPartitionExpressions() {
		pe, err := x.c.expr(e, inS, nil)
		if err != nil {
			return nil, fmt.Errorf("partition expression %d: %w", i, err)
		}
		parts = append(parts, pe)
	}
	keys, err := x.sortKeys(w.GetSorts(), inS)
	if err != nil {
		return nil, err
	}
	if len(w.GetWindowFunctions()) == 0 {
		return nil, fmt.Errorf("window relation without functions")
	}
	funcs := make([]*logical.WindowCall, len(w.GetWindowFunctions()))
	for i, f := range w.GetWindowFunctions() {
		wf := &pb.Expression_WindowFunction{
			FunctionReference: f.GetFunctionReference(), Arguments: f.GetArguments(), Options: f.GetOptions(),
			OutputType: f.GetOutputType(), Phase: f.GetPhase(), Invocation: f.GetInvocation(),
			LowerBound: f.GetLowerBound(), UpperBound: f.GetUpperBound(), BoundsType: f.GetBoundsType(),
		}
		wc, err := x.c.windowCall(wf, inS, parts, keys)
		if err != nil {
			return nil, fmt.Errorf("window function %d: %w", i, err)
		}
		funcs[i] = wc
	}
	names := hintNames(w.GetCommon(), inS.Len()+len(funcs))
	wnames := make([]string, len(funcs))
	for i := range funcs {
		if names != nil {
			wnames[i] = names[inS.Len()+i]
		} else {
			wnames[i] = fmt.Sprintf("window%d", i)
		}
	}
	return logical.NewWindow(in, funcs, wnames), nil
}
