package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Union concatenates its inputs' partitions: partition p of the union is
// partition p' of input i, in input order. The inputs' column types must
// match; the output takes the first input's names, and a column is
// nullable when it is in any input.
type Union struct {
	inputs []Node
	schema *arrow.Schema
	parts  int
}

var _ Node = (*Union)(nil)

// NewUnion builds a union of inputs (UNION ALL).
func NewUnion(inputs ...Node) (Node, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("union: no inputs")
	}
	base := inputs[0].Schema()
	fields := append([]arrow.Field(nil), base.Fields()...)
	parts := 0
	for i, in := range inputs {
		s := in.Schema()
		if s.NumFields() != len(fields) {
			return nil, fmt.Errorf("union: input %d has %d columns, input 0 has %d", i, s.NumFields(), len(fields))
		}
		for c := range fields {
			f := s.Field(c)
			if !arrow.TypeEqual(f.Type, fields[c].Type) {
				return nil, fmt.Errorf("union: column %d (%s) is %s in input %d but %s in input 0", c, fields[c].Name, f.Type, i, fields[c].Type)
			}
			fields[c].Nullable = fields[c].Nullable || f.Nullable
		}
		parts += in.Partitions()
	}
	return &Union{inputs: inputs, schema: arrow.NewSchema(fields, nil), parts: parts}, nil
}

// Schema implements Node.
func (u *Union) Schema() *arrow.Schema { return u.schema }

// Children implements Node.
func (u *Union) Children() []Node { return u.inputs }

// Partitions implements Node.
func (u *Union) Partitions() int { return u.parts }

// String implements Node.
func (u *Union) String() string { return fmt.Sprintf("Union: inputs=%d", len(u.inputs)) }

// WithNewChildren implements ChildReplacer.
func (u *Union) WithNewChildren(c []Node) (Node, error) {
	if err := expectChildren(u, c, len(u.inputs)); err != nil {
		return nil, err
	}
	return NewUnion(c...)
}

// Execute implements Node.
func (u *Union) Execute(ctx context.Context, p int, tc *TaskContext) (Stream, error) {
	if err := checkPartition(u, p); err != nil {
		return nil, err
	}
	for _, in := range u.inputs {
		if p < in.Partitions() {
			s, err := in.Execute(ctx, p, tc)
			if err != nil {
				return nil, err
			}
			if schemaEqual(in.Schema(), u.schema) {
				return s, nil
			}
			return &reschemaStream{in: s, schema: u.schema}, nil
		}
		p -= in.Partitions()
	}
	return nil, fmt.Errorf("union: partition out of range") // unreachable after checkPartition
}

// schemaEqual compares names, types and nullability.
func schemaEqual(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.NumFields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Nullable != fb.Nullable || !arrow.TypeEqual(fa.Type, fb.Type) {
			return false
		}
	}
	return true
}

// reschemaStream relabels its input's batches with another schema of the
// same column types (no copy).
type reschemaStream struct {
	in     Stream
	schema *arrow.Schema
	out    arrow.RecordBatch
}

func (s *reschemaStream) Schema() *arrow.Schema { return s.schema }

func (s *reschemaStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	b, err := s.in.Next(ctx)
	if err != nil {
		return nil, err
	}
	s.out = array.NewRecordBatch(s.schema, b.Columns(), b.NumRows())
	return s.out, nil
}

func (s *reschemaStream) Close() error {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	return s.in.Close()
}
