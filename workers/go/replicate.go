package worker

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
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
	idx  []int32 // take indexes, reused between batches
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
		last := int(b.NumCols()) - 1
		counts, ok := b.Column(last).(*array.Int64)
		if !ok {
			return nil, fmt.Errorf("internal: replicate count column is %s", b.Column(last).DataType())
		}
		s.idx = s.idx[:0]
		for i := 0; i < counts.Len(); i++ {
			for c := int64(0); c < counts.Value(i); c++ {
				s.idx = append(s.idx, int32(i))
			}
		}
		if len(s.idx) == 0 {
			continue
		}
		// Take every column but the count, then drop the count.
		taken, err := expr.TakeBatch(s.tc.Alloc, b, s.idx)
		if err != nil {
			return nil, err
		}
		s.out = array.NewRecordBatch(s.node.schema, taken.Columns()[:last], taken.NumRows())
		taken.Release()
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
