package exec

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
)

// Project computes one output column per expression over each input
// batch. Plain column references share the input's arrays (no copy).
type Project struct {
	input  Node
	exprs  []logical.Expr
	names  []string
	schema *arrow.Schema
}

var _ Node = (*Project)(nil)

// NewProject builds a projection of input; names name the output columns.
func NewProject(input Node, exprs []logical.Expr, names []string) (Node, error) {
	if len(exprs) != len(names) {
		return nil, fmt.Errorf("project: %d expressions but %d names", len(exprs), len(names))
	}
	fields := make([]arrow.Field, len(exprs))
	for i, e := range exprs {
		if e == nil {
			return nil, fmt.Errorf("project: expression %d (%s) is nil", i, names[i])
		}
		ev, err := expr.Compile(e, input.Schema(), memory.DefaultAllocator)
		if err != nil {
			return nil, fmt.Errorf("project: column %s: %w", names[i], err)
		}
		fields[i] = arrow.Field{Name: names[i], Type: ev.Type(), Nullable: e.Nullable()}
	}
	return &Project{input: input, exprs: exprs, names: names, schema: arrow.NewSchema(fields, nil)}, nil
}

// Schema implements Node.
func (p *Project) Schema() *arrow.Schema { return p.schema }

// Children implements Node.
func (p *Project) Children() []Node { return []Node{p.input} }

// Partitions implements Node.
func (p *Project) Partitions() int { return p.input.Partitions() }

// String implements Node.
func (p *Project) String() string {
	parts := make([]string, len(p.exprs))
	for i, e := range p.exprs {
		s := e.String()
		if c, ok := e.(*logical.ColumnRef); !ok || c.Name != p.names[i] {
			s += " AS " + p.names[i]
		}
		parts[i] = s
	}
	return "Project: " + strings.Join(parts, ", ")
}

// WithNewChildren implements ChildReplacer.
func (p *Project) WithNewChildren(c []Node) (Node, error) {
	if err := expectChildren(p, c, 1); err != nil {
		return nil, err
	}
	return NewProject(c[0], p.exprs, p.names)
}

// Execute implements Node.
func (p *Project) Execute(ctx context.Context, part int, tc *TaskContext) (Stream, error) {
	if err := checkPartition(p, part); err != nil {
		return nil, err
	}
	evs := make([]expr.Evaluator, len(p.exprs))
	for i, e := range p.exprs {
		ev, err := expr.Compile(e, p.input.Schema(), allocator(tc))
		if err != nil {
			return nil, fmt.Errorf("project: column %s: %w", p.names[i], err)
		}
		evs[i] = ev
	}
	in, err := p.input.Execute(ctx, part, tc)
	if err != nil {
		return nil, err
	}
	return &projectStream{in: in, evs: evs, schema: p.schema, cols: make([]arrow.Array, len(evs))}, nil
}

type projectStream struct {
	in     Stream
	evs    []expr.Evaluator
	schema *arrow.Schema
	out    arrow.RecordBatch
	cols   []arrow.Array
}

func (s *projectStream) Schema() *arrow.Schema { return s.schema }

func (s *projectStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	b, err := s.in.Next(ctx)
	if err != nil {
		return nil, err
	}
	clear(s.cols)
	for i, ev := range s.evs {
		a, err := ev.Eval(ctx, b)
		if err != nil {
			releaseAll(s.cols)
			clear(s.cols)
			return nil, err
		}
		s.cols[i] = a
		if int64(a.Len()) != b.NumRows() {
			releaseAll(s.cols)
			clear(s.cols)
			return nil, fmt.Errorf("project: column %s has %d rows for a batch of %d", s.schema.Field(i).Name, a.Len(), b.NumRows())
		}
	}
	s.out = array.NewRecordBatch(s.schema, s.cols, b.NumRows())
	releaseAll(s.cols)
	clear(s.cols)
	return s.out, nil
}

func (s *projectStream) Close() error {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	return s.in.Close()
}
