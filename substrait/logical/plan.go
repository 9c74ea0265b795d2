package logical

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Field is one output column of a plan node. Qualifier is the table or alias
// the column came from (empty for computed columns); it serves name
// resolution and display only.
type Field struct {
	Name      string
	Qualifier string
	Type      arrow.DataType
	Nullable  bool
}

func (f Field) String() string {
	n := f.Name
	if f.Qualifier != "" {
		n = f.Qualifier + "." + n
	}
	return n + ":" + f.Type.String()
}

// Schema is the ordered list of a plan node's output columns.
type Schema struct {
	Fields []Field
}

// NewSchema builds a schema from fields.
func NewSchema(fields ...Field) *Schema { return &Schema{Fields: fields} }

// Len is the number of columns.
func (s *Schema) Len() int { return len(s.Fields) }

// Arrow converts to an Arrow schema (unqualified names).
func (s *Schema) Arrow() *arrow.Schema {
	fs := make([]arrow.Field, len(s.Fields))
	for i, f := range s.Fields {
		fs[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: f.Nullable}
	}
	return arrow.NewSchema(fs, nil)
}

// FromArrow converts an Arrow schema, qualifying every field with q.
func FromArrow(s *arrow.Schema, q string) *Schema {
	out := &Schema{Fields: make([]Field, s.NumFields())}
	for i, f := range s.Fields() {
		out.Fields[i] = Field{Name: f.Name, Qualifier: q, Type: f.Type, Nullable: f.Nullable}
	}
	return out
}

// Concat returns the fields of a followed by those of b.
func Concat(a, b *Schema) *Schema {
	fs := make([]Field, 0, len(a.Fields)+len(b.Fields))
	fs = append(fs, a.Fields...)
	fs = append(fs, b.Fields...)
	return &Schema{Fields: fs}
}

func (s *Schema) String() string {
	parts := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		parts[i] = f.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Plan is a node of the logical plan tree. Nodes are immutable once built;
// rewrites build new nodes (see WithChildren).
type Plan interface {
	Schema() *Schema
	Children() []Plan
	// WithChildren returns a copy of the node with its inputs replaced.
	WithChildren(children []Plan) Plan
	// String is the one-line EXPLAIN description of the node itself.
	String() string
}

// TableSource describes where a table's data lives. The catalog creates it;
// executors read it.
type TableSource struct {
	// Name is the table name as registered.
	Name string
	// Format is parquet, csv, json, arrow, or a plugin name.
	Format string
	// Location is a file, folder or glob.
	Location string
	// Options are format options (CSV delimiter, header, ...).
	Options map[string]string
	// Schema is the full table schema.
	Schema *arrow.Schema
	// RowCount is an estimate of the row count, -1 when unknown.
	RowCount int64
	// Provider reads the table when it is not a set of files (a plugin's
	// table: Format is the plugin name).
	Provider ScanProvider
}

// Scan reads a table. Projection lists the table columns it outputs (in
// that order); nil means all. Filters are conjuncts over the Scan's output
// schema that the reader may use to skip data (row groups, files); the
// Filter above the scan still applies them exactly unless the optimizer
// removed it. Limit, when >= 0, bounds the rows the scan needs to produce.
type Scan struct {
	Source     *TableSource
	Alias      string
	Projection []int
	Filters    []Expr
	Limit      int64
	// SourceFilters are conjuncts over the table's full schema that the
	// data source (a plugin) applies exactly: they are no longer in the
	// plan above, and their columns need not be projected.
	SourceFilters []Expr
	// Pushed is the plugin's scan plan (Source.Provider set), made once
	// the filters and limit are final: the splits and what was pushed.
	Pushed *ScanPlan
	schema *Schema
}

// NewScan builds a scan of src with the given projection (nil = all).
func NewScan(src *TableSource, alias string, projection []int) *Scan {
	s := &Scan{Source: src, Alias: alias, Projection: projection, Limit: -1}
	s.schema = s.computeSchema()
	return s
}

func (s *Scan) computeSchema() *Schema {
	q := s.Alias
	if q == "" {
		q = s.Source.Name
	}
	full := FromArrow(s.Source.Schema, q)
	if s.Projection == nil {
		return full
	}
	out := &Schema{Fields: make([]Field, len(s.Projection))}
	for i, p := range s.Projection {
		out.Fields[i] = full.Fields[p]
	}
	return out
}

// WithProjection returns a copy with another projection; existing filters
// must be remapped by the caller.
func (s *Scan) WithProjection(p []int, filters []Expr) *Scan {
	c := *s
	c.Projection = p
	c.Filters = filters
	c.Pushed = nil // made for the old projection and filters; SourceFilters stay
	c.schema = c.computeSchema()
	return &c
}

func (s *Scan) Schema() *Schema            { return s.schema }
func (s *Scan) Children() []Plan           { return nil }
func (s *Scan) WithChildren(_ []Plan) Plan { return s }
func (s *Scan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Scan: %s", s.Source.Name)
	if s.Alias != "" && s.Alias != s.Source.Name {
		fmt.Fprintf(&b, " AS %s", s.Alias)
	}
	names := make([]string, len(s.schema.Fields))
	for i, f := range s.schema.Fields {
		names[i] = f.Name
	}
	fmt.Fprintf(&b, " projection=[%s]", strings.Join(names, ", "))
	if len(s.Filters) > 0 {
		fs := make([]string, len(s.Filters))
		for i, f := range s.Filters {
			fs[i] = f.String()
		}
		fmt.Fprintf(&b, " filters=[%s]", strings.Join(fs, ", "))
	}
	if s.Limit >= 0 {
		fmt.Fprintf(&b, " limit=%d", s.Limit)
	}
	if s.Pushed != nil {
		fmt.Fprintf(&b, " plugin=%s %s", s.Source.Format, s.Pushed)
	}
	return b.String()
}

// Values is an inline table of constant rows.
type Values struct {
	Rows   [][]Expr
	schema *Schema
}

// NewValues builds an inline table; every row has one literal-valued
// expression per field of schema.
func NewValues(schema *Schema, rows [][]Expr) *Values { return &Values{Rows: rows, schema: schema} }

func (v *Values) Schema() *Schema            { return v.schema }
func (v *Values) Children() []Plan           { return nil }
func (v *Values) WithChildren(_ []Plan) Plan { return v }
func (v *Values) String() string             { return fmt.Sprintf("Values: rows=%d", len(v.Rows)) }

// Filter keeps the rows for which Cond is true.
type Filter struct {
	Input Plan
	Cond  Expr
}

func (f *Filter) Schema() *Schema  { return f.Input.Schema() }
func (f *Filter) Children() []Plan { return []Plan{f.Input} }
func (f *Filter) WithChildren(c []Plan) Plan {
	n := *f
	n.Input = c[0]
	return &n
}
func (f *Filter) String() string { return "Filter: " + f.Cond.String() }

// Project computes Exprs over each input row; Names name the outputs.
type Project struct {
	Input  Plan
	Exprs  []Expr
	Names  []string
	schema *Schema
}

// NewProject builds a projection. qualifiers may be nil; when set, it gives
// each output column's qualifier.
func NewProject(input Plan, exprs []Expr, names []string, qualifiers []string) *Project {
	s := &Schema{Fields: make([]Field, len(exprs))}
	for i, e := range exprs {
		q := ""
		if qualifiers != nil {
			q = qualifiers[i]
		}
		s.Fields[i] = Field{Name: names[i], Qualifier: q, Type: e.Type(), Nullable: e.Nullable()}
	}
	return &Project{Input: input, Exprs: exprs, Names: names, schema: s}
}

func (p *Project) Schema() *Schema  { return p.schema }
func (p *Project) Children() []Plan { return []Plan{p.Input} }
func (p *Project) WithChildren(c []Plan) Plan {
	n := *p
	n.Input = c[0]
	return &n
}
func (p *Project) String() string {
	parts := make([]string, len(p.Exprs))
	for i, e := range p.Exprs {
		s := e.String()
		if c, ok := e.(*ColumnRef); !ok || c.Name != p.Names[i] {
			s += " AS " + p.Names[i]
		}
		parts[i] = s
	}
	return "Project: " + strings.Join(parts, ", ")
}

// Aggregate groups its input by GroupBy and computes Aggs per group. The
// output is the group-by columns followed by the aggregates. With
// GroupingSets (ROLLUP, CUBE, GROUPING SETS) each set lists the indexes into
// GroupBy that are grouped; the columns outside a set are NULL in its rows,
// and a final int64 column "__grouping_id" follows the aggregates (bit i set
// when GroupBy[i] is not grouped, matching SQL GROUPING()). With no GroupBy
// the output is a single row even for empty input.
type Aggregate struct {
	Input        Plan
	GroupBy      []Expr
	GroupNames   []string
	GroupingSets [][]int
	Aggs         []*AggregateCall
	AggNames     []string
	schema       *Schema
}

// NewAggregate builds an aggregate node.
func NewAggregate(input Plan, groupBy []Expr, groupNames []string, sets [][]int, aggs []*AggregateCall, aggNames []string) *Aggregate {
	a := &Aggregate{Input: input, GroupBy: groupBy, GroupNames: groupNames, GroupingSets: sets, Aggs: aggs, AggNames: aggNames}
	a.schema = a.computeSchema()
	return a
}

func (a *Aggregate) computeSchema() *Schema {
	s := &Schema{}
	in := a.Input.Schema()
	for i, g := range a.GroupBy {
		q := ""
		if c, ok := g.(*ColumnRef); ok {
			q = in.Fields[c.Index].Qualifier
		}
		s.Fields = append(s.Fields, Field{Name: a.GroupNames[i], Qualifier: q, Type: g.Type(), Nullable: g.Nullable() || len(a.GroupingSets) > 0})
	}
	for i, ag := range a.Aggs {
		nullable := ag.Nullable()
		s.Fields = append(s.Fields, Field{Name: a.AggNames[i], Type: ag.Type(), Nullable: nullable})
	}
	if len(a.GroupingSets) > 0 {
		s.Fields = append(s.Fields, Field{Name: "__grouping_id", Type: arrow.PrimitiveTypes.Int64})
	}
	return s
}

func (a *Aggregate) Schema() *Schema  { return a.schema }
func (a *Aggregate) Children() []Plan { return []Plan{a.Input} }
func (a *Aggregate) WithChildren(c []Plan) Plan {
	n := *a
	n.Input = c[0]
	return &n
}
func (a *Aggregate) String() string {
	gs := make([]string, len(a.GroupBy))
	for i, g := range a.GroupBy {
		gs[i] = g.String()
	}
	as := make([]string, len(a.Aggs))
	for i, g := range a.Aggs {
		as[i] = g.String() + " AS " + a.AggNames[i]
	}
	s := fmt.Sprintf("Aggregate: groupBy=[%s], aggr=[%s]", strings.Join(gs, ", "), strings.Join(as, ", "))
	if len(a.GroupingSets) > 0 {
		s += fmt.Sprintf(", sets=%v", a.GroupingSets)
	}
	return s
}

// JoinType is the kind of join.
type JoinType int

const (
	JoinInner JoinType = iota
	JoinLeft
	JoinRight
	JoinFull
	// JoinSemi outputs the left rows that have a match.
	JoinSemi
	// JoinAnti outputs the left rows that have no match (NOT EXISTS).
	JoinAnti
	// JoinSingle is a left join that fails when a left row matches more than
	// one right row (a scalar subquery).
	JoinSingle
	// JoinMark outputs every left row plus a boolean column "__mark": true
	// when the row has a match, NULL when it has none but the condition was
	// NULL for some right row (IN semantics), false otherwise.
	JoinMark
	JoinCross
)

var joinNames = [...]string{"Inner", "Left", "Right", "Full", "Semi", "Anti", "Single", "Mark", "Cross"}

func (t JoinType) String() string { return joinNames[t] }

// Join combines Left and Right. On is evaluated over the left schema
// followed by the right schema; nil means true. For JoinAnti with NullAware
// set (NOT IN), a left row is also dropped when the condition is NULL for
// some right row or the right side has a NULL key, and when the right side
// is non-empty and the left key is NULL.
type Join struct {
	Left, Right Plan
	Type        JoinType
	On          Expr
	NullAware   bool
	schema      *Schema
}

// NewJoin builds a join node.
func NewJoin(left, right Plan, t JoinType, on Expr) *Join {
	j := &Join{Left: left, Right: right, Type: t, On: on}
	j.schema = j.computeSchema()
	return j
}

func (j *Join) computeSchema() *Schema {
	l, r := j.Left.Schema(), j.Right.Schema()
	switch j.Type {
	case JoinSemi, JoinAnti:
		return l
	case JoinMark:
		return Concat(l, NewSchema(Field{Name: "__mark", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}))
	}
	s := Concat(l, r)
	for i := range s.Fields {
		left := i < len(l.Fields)
		if (!left && (j.Type == JoinLeft || j.Type == JoinFull || j.Type == JoinSingle)) ||
			(left && (j.Type == JoinRight || j.Type == JoinFull)) {
			s.Fields[i].Nullable = true
		}
	}
	return s
}

func (j *Join) Schema() *Schema  { return j.schema }
func (j *Join) Children() []Plan { return []Plan{j.Left, j.Right} }
func (j *Join) WithChildren(c []Plan) Plan {
	n := NewJoin(c[0], c[1], j.Type, j.On)
	n.NullAware = j.NullAware
	return n
}
func (j *Join) String() string {
	s := fmt.Sprintf("Join: type=%s", j.Type)
	if j.NullAware {
		s += " null_aware"
	}
	if j.On != nil {
		s += " on=" + j.On.String()
	}
	return s
}

// Sort orders its input. Fetch >= 0 keeps only the first Fetch rows (top-k).
type Sort struct {
	Input Plan
	Keys  []SortKey
	Fetch int64
}

func (s *Sort) Schema() *Schema  { return s.Input.Schema() }
func (s *Sort) Children() []Plan { return []Plan{s.Input} }
func (s *Sort) WithChildren(c []Plan) Plan {
	n := *s
	n.Input = c[0]
	return &n
}
func (s *Sort) String() string {
	parts := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		parts[i] = k.String()
	}
	out := "Sort: " + strings.Join(parts, ", ")
	if s.Fetch >= 0 {
		out += fmt.Sprintf(" fetch=%d", s.Fetch)
	}
	return out
}

// Limit skips Offset rows and then passes at most Count rows (Count < 0:
// no bound).
type Limit struct {
	Input  Plan
	Offset int64
	Count  int64
}

func (l *Limit) Schema() *Schema  { return l.Input.Schema() }
func (l *Limit) Children() []Plan { return []Plan{l.Input} }
func (l *Limit) WithChildren(c []Plan) Plan {
	n := *l
	n.Input = c[0]
	return &n
}
func (l *Limit) String() string { return fmt.Sprintf("Limit: offset=%d count=%d", l.Offset, l.Count) }

// SetOpKind is UNION, INTERSECT or EXCEPT.
type SetOpKind int

const (
	Union SetOpKind = iota
	Intersect
	Except
)

var setOpNames = [...]string{"Union", "Intersect", "Except"}

func (k SetOpKind) String() string { return setOpNames[k] }

// SetOp combines inputs with identical column types. Without All, duplicates
// are removed (set semantics); with All, bag semantics.
type SetOp struct {
	Kind   SetOpKind
	All    bool
	Inputs []Plan
}

func (s *SetOp) Schema() *Schema {
	base := s.Inputs[0].Schema()
	out := &Schema{Fields: make([]Field, len(base.Fields))}
	for i, f := range base.Fields {
		f.Qualifier = ""
		for _, in := range s.Inputs[1:] {
			f.Nullable = f.Nullable || in.Schema().Fields[i].Nullable
		}
		out.Fields[i] = f
	}
	return out
}
func (s *SetOp) Children() []Plan { return s.Inputs }
func (s *SetOp) WithChildren(c []Plan) Plan {
	n := *s
	n.Inputs = c
	return &n
}
func (s *SetOp) String() string {
	all := ""
	if s.All {
		all = " all"
	}
	return fmt.Sprintf("%s%s", s.Kind, all)
}

// Window computes window functions; the output is the input columns
// followed by one column per function.
type Window struct {
	Input  Plan
	Funcs  []*WindowCall
	Names  []string
	schema *Schema
}

// NewWindow builds a window node.
func NewWindow(input Plan, funcs []*WindowCall, names []string) *Window {
	w := &Window{Input: input, Funcs: funcs, Names: names}
	s := &Schema{Fields: append([]Field(nil), input.Schema().Fields...)}
	for i, f := range funcs {
		s.Fields = append(s.Fields, Field{Name: names[i], Type: f.Type(), Nullable: f.Nullable()})
	}
	w.schema = s
	return w
}

func (w *Window) Schema() *Schema  { return w.schema }
func (w *Window) Children() []Plan { return []Plan{w.Input} }
func (w *Window) WithChildren(c []Plan) Plan {
	return NewWindow(c[0], w.Funcs, w.Names)
}
func (w *Window) String() string {
	parts := make([]string, len(w.Funcs))
	for i, f := range w.Funcs {
		parts[i] = f.String() + " AS " + w.Names[i]
	}
	return "Window: " + strings.Join(parts, ", ")
}

// Format renders a plan tree for EXPLAIN, one node per line, children
// indented under their parent.
func Format(p Plan) string {
	var b strings.Builder
	var walk func(p Plan, depth int)
	walk = func(p Plan, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(p.String())
		b.WriteByte('\n')
		for _, c := range p.Children() {
			walk(c, depth+1)
		}
	}
	walk(p, 0)
	return b.String()
}

// Transform rebuilds p bottom-up: children first, then fn on the node with
// its new children.
func Transform(p Plan, fn func(Plan) (Plan, error)) (Plan, error) {
	kids := p.Children()
	if len(kids) > 0 {
		newKids := make([]Plan, len(kids))
		changed := false
		for i, k := range kids {
			nk, err := Transform(k, fn)
			if err != nil {
				return nil, err
			}
			newKids[i] = nk
			changed = changed || nk != k
		}
		if changed {
			p = p.WithChildren(newKids)
		}
	}
	return fn(p)
}
