package worker

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// replicate repeats each input row as many times as its last column (an
// int64 count) says and drops that column: the tail of INTERSECT ALL and
// EXCEPT ALL.
type replicate struct {
	input  exec.Node
	schema *arrow.Schema
}

var _ exec.Node = (*replicate)(nil)

func newReplicate(input exec.Node) *replicate {
	fs := input.Schema().Fields()
	return &replicate{input: input, schema: arrow.NewSchema(fs[:len(fs)-1], nil)}
}

func (r *replicate) Schema() *arrow.Schema { return r.schema }
func (r *replicate) Children() []exec.Node { return []exec.Node{r.input} }
func (r *replicate) Partitions() int       { return r.input.Partitions() }
func (r *replicate) String() string        { return "Replicate" }

func (r *replicate) Execute(ctx context.Context, p int, tc *exec.TaskContext) (exec.Stream, error) {
	in, err := r.input.Execute(ctx, p, tc)
	if err != nil {
		return nil, err
	}
	return &replicateStream{node: r, in: in, tc: tc}, nil
}

type replicateStream struct {
	node *replicate
	in   exec.Stream
	tc   *exec.TaskContext
	out  arrow.RecordBatch
}

func (s *replicateStream) Schema() *arrow.Schema { return s.node.schema }

func (s *replicateStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	for {
		b, err := s.in.Next(ctx)
		if err != nil {
			return nil, err
		}
		counts, ok := b.Column(int(b.NumCols()) - 1).(*array.Int64)
		if !ok {
			return nil, fmt.Errorf("internal: replicate count column is %s", b.Column(int(b.NumCols())-1).DataType())
		}
		ib := array.NewInt64Builder(s.tc.Alloc)
		for i := 0; i < counts.Len(); i++ {
			for c := int64(0); c < counts.Value(i); c++ {
				ib.Append(int64(i))
			}
		}
		idx := ib.NewInt64Array()
		ib.Release()
		if idx.Len() == 0 {
			idx.Release()
			continue
		}
		cols := make([]arrow.Array, 0, b.NumCols()-1)
		for c := 0; c < int(b.NumCols())-1; c++ {
			t, err := compute.TakeArray(ctx, b.Column(c), idx)
			if err != nil {
				idx.Release()
				for _, x := range cols {
					x.Release()
				}
				return nil, err
			}
			cols = append(cols, t)
		}
		s.out = array.NewRecordBatch(s.node.schema, cols, int64(idx.Len()))
		idx.Release()
		for _, x := range cols {
			x.Release()
		}
		return s.out, nil
	}
}

func (s *replicateStream) Close() error {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	return s.in.Close()
}
