package exec

import (
	"context"
	"fmt"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
)

// Filter keeps the rows of its input for which a boolean condition is true
// (NULL counts as false). It runs per partition. Batches whose rows all
// pass are forwarded without a copy; others are gathered through a
// selection vector.
type Filter struct {
	input Node
	cond  logical.Expr
}

var _ Node = (*Filter)(nil)

// NewFilter builds a filter of input by cond, a boolean expression over the
// input's columns.
func NewFilter(input Node, cond logical.Expr) (Node, error) {
	if cond == nil {
		return nil, fmt.Errorf("filter: nil condition")
	}
	if id := cond.Type().ID(); id != arrow.BOOL && id != arrow.NULL {
		return nil, fmt.Errorf("filter: condition %s has type %s, expected boolean", cond, cond.Type())
	}
	// Compile once here to report unsupported expressions at plan time.
	if _, err := expr.Compile(cond, input.Schema(), memory.DefaultAllocator); err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	return &Filter{input: input, cond: cond}, nil
}

// Schema implements Node.
func (f *Filter) Schema() *arrow.Schema { return f.input.Schema() }

// Children implements Node.
func (f *Filter) Children() []Node { return []Node{f.input} }

// Partitions implements Node.
func (f *Filter) Partitions() int { return f.input.Partitions() }

// String implements Node.
func (f *Filter) String() string { return "Filter: " + f.cond.String() }

// WithNewChildren implements ChildReplacer.
func (f *Filter) WithNewChildren(c []Node) (Node, error) {
	if err := expectChildren(f, c, 1); err != nil {
		return nil, err
	}
	return NewFilter(c[0], f.cond)
}

// Execute implements Node.
func (f *Filter) Execute(ctx context.Context, p int, tc *TaskContext) (Stream, error) {
	if err := checkPartition(f, p); err != nil {
		return nil, err
	}
	ev, err := expr.Compile(f.cond, f.input.Schema(), allocator(tc))
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	in, err := f.input.Execute(ctx, p, tc)
	if err != nil {
		return nil, err
	}
	return &filterStream{in: in, ev: ev, tc: tc, schema: f.input.Schema()}, nil
}

type filterStream struct {
	in     Stream
	ev     expr.Evaluator
	tc     *TaskContext
	schema *arrow.Schema
	out    arrow.RecordBatch // owned, released on the next call
	sel    []int32
}

func (s *filterStream) Schema() *arrow.Schema { return s.schema }

func (s *filterStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	for {
		b, err := s.in.Next(ctx)
		if err != nil {
			return nil, err
		}
		if b.NumRows() == 0 {
			continue
		}
		mask, err := s.ev.Eval(ctx, b)
		if err != nil {
			return nil, err
		}
		s.sel = selectTrue(mask, s.sel[:0])
		mask.Release()
		switch len(s.sel) {
		case 0:
			continue
		case int(b.NumRows()):
			return b, nil
		}
		out, err := takeBatch(allocator(s.tc), b.Schema(), b, s.sel)
		if err != nil {
			return nil, err
		}
		s.out = out
		return out, nil
	}
}

func (s *filterStream) Close() error {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	return s.in.Close()
}

// selectTrue appends to sel the positions where mask is true and not NULL.
// A NULL-typed mask selects nothing.
func selectTrue(mask arrow.Array, sel []int32) []int32 {
	m, ok := mask.(*array.Boolean)
	if !ok || m.Len() == 0 {
		return sel
	}
	d := m.Data()
	n, off := d.Len(), d.Offset()
	vals := d.Buffers()[1].Bytes()
	var valid []byte
	if m.NullN() > 0 {
		valid = d.Buffers()[0].Bytes()
	}
	if off%8 != 0 {
		for i := range n {
			if bitutil.BitIsSet(vals, off+i) && (valid == nil || bitutil.BitIsSet(valid, off+i)) {
				sel = append(sel, int32(i))
			}
		}
		return sel
	}
	vals = vals[off/8:]
	if valid != nil {
		valid = valid[off/8:]
	}
	full := n / 8
	for j := range full {
		w := vals[j]
		if valid != nil {
			w &= valid[j]
		}
		for w != 0 {
			t := bits.TrailingZeros8(w)
			sel = append(sel, int32(j*8+t))
			w &= w - 1
		}
	}
	for i := full * 8; i < n; i++ {
		if bitutil.BitIsSet(vals, i) && (valid == nil || bitutil.BitIsSet(valid, i)) {
			sel = append(sel, int32(i))
		}
	}
	return sel
}
