package exec

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// Limit skips offset rows and then passes at most count rows (count < 0:
// no bound) as one partition. It stops pulling and closes its input as
// soon as it has what it needs; an input with several partitions is
// coalesced first.
type Limit struct {
	input         Node
	offset, count int64
}

var _ Node = (*Limit)(nil)

// NewLimit builds a limit over input.
func NewLimit(input Node, offset, count int64) Node {
	if offset < 0 {
		offset = 0
	}
	if input.Partitions() != 1 {
		input = NewCoalesce(input)
	}
	return &Limit{input: input, offset: offset, count: count}
}

// Schema implements Node.
func (l *Limit) Schema() *arrow.Schema { return l.input.Schema() }

// Children implements Node.
func (l *Limit) Children() []Node { return []Node{l.input} }

// Partitions implements Node.
func (l *Limit) Partitions() int { return 1 }

// String implements Node.
func (l *Limit) String() string {
	if l.count < 0 {
		return fmt.Sprintf("Limit: offset=%d", l.offset)
	}
	return fmt.Sprintf("Limit: offset=%d count=%d", l.offset, l.count)
}

// WithNewChildren implements ChildReplacer.
func (l *Limit) WithNewChildren(c []Node) (Node, error) {
	if err := expectChildren(l, c, 1); err != nil {
		return nil, err
	}
	return NewLimit(c[0], l.offset, l.count), nil
}

// Execute implements Node.
func (l *Limit) Execute(ctx context.Context, p int, tc *TaskContext) (Stream, error) {
	if err := checkPartition(l, p); err != nil {
		return nil, err
	}
	s := &limitStream{node: l, tc: tc, skip: l.offset, left: l.count}
	return s, nil
}

type limitStream struct {
	node *Limit
	tc   *TaskContext
	in   Stream // opened on the first Next
	done bool
	skip int64
	left int64 // < 0: unbounded
	out  arrow.RecordBatch
}

func (s *limitStream) Schema() *arrow.Schema { return s.node.Schema() }

func (s *limitStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	if s.done {
		return nil, io.EOF
	}
	if s.left == 0 {
		return nil, s.finish()
	}
	if s.in == nil {
		in, err := s.node.input.Execute(ctx, 0, s.tc)
		if err != nil {
			return nil, err
		}
		s.in = in
	}
	for {
		b, err := s.in.Next(ctx)
		if err == io.EOF {
			return nil, s.finish()
		}
		if err != nil {
			return nil, err
		}
		n := b.NumRows()
		if s.skip >= n {
			s.skip -= n
			continue
		}
		start, end := s.skip, n
		s.skip = 0
		if s.left >= 0 && end-start > s.left {
			end = start + s.left
		}
		if s.left >= 0 {
			s.left -= end - start
		}
		if start == 0 && end == n {
			return b, nil
		}
		// A zero-copy slice; retained independently of the input's batch.
		s.out = b.NewSlice(start, end)
		return s.out, nil
	}
}

// finish closes the input early and ends the stream.
func (s *limitStream) finish() error {
	s.done = true
	if s.in != nil {
		err := s.in.Close()
		s.in = nil
		if err != nil {
			return err
		}
	}
	return io.EOF
}

func (s *limitStream) Close() error {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	s.done = true
	if s.in != nil {
		err := s.in.Close()
		s.in = nil
		return err
	}
	return nil
}
