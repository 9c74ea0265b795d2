package aggregate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// stream runs one partition of a HashAggregate.
type stream struct {
	node    *HashAggregate
	in      exec.Stream
	comp    *compiled
	tc      *exec.TaskContext
	metrics *exec.OperatorMetrics

	core      *core
	out       output
	inputDone bool
	prev      arrow.RecordBatch
	closed    bool
	err       error
}

var _ exec.Stream = (*stream)(nil)

func newStream(n *HashAggregate, in exec.Stream, comp *compiled, tc *exec.TaskContext) *stream {
	s := &stream{node: n, in: in, comp: comp, tc: tc}
	if tc.Metrics != nil {
		s.metrics = tc.Metrics.For(n)
	}
	return s
}

func (s *stream) Schema() *arrow.Schema { return s.node.Schema() }

// Next returns the next result batch, io.EOF after the last.
func (s *stream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.prev != nil {
		s.prev.Release()
		s.prev = nil
	}
	if s.closed {
		return nil, fmt.Errorf("aggregate: Next on a closed stream")
	}
	if s.err != nil {
		return nil, s.err
	}
	start := time.Now()
	rec, err := s.next(ctx)
	if s.metrics != nil {
		s.metrics.Nanos.Add(int64(time.Since(start)))
	}
	if err != nil {
		if !errors.Is(err, io.EOF) {
			s.err = err
		}
		return nil, err
	}
	if s.metrics != nil {
		s.metrics.Rows.Add(rec.NumRows())
		s.metrics.Batches.Add(1)
	}
	s.prev = rec
	return rec, nil
}

func (s *stream) next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.core == nil {
		c, err := newCore(s.node, s.tc, s.comp, s.node.mode != Final, s.node.mode != Partial, 0, s.metrics)
		if err != nil {
			return nil, err
		}
		s.core = c
	}
	for {
		if s.out != nil {
			rec, err := s.out.next(ctx)
			if !errors.Is(err, errEOF) {
				return rec, err
			}
			s.out.close()
			s.out = nil
			if s.inputDone {
				return nil, io.EOF
			}
			// A Partial node emitted early; start over.
			s.core.reset()
		}
		if s.inputDone {
			return nil, io.EOF
		}
		if err := s.consume(ctx); err != nil {
			return nil, err
		}
	}
}

// consume reads input until it ends or, in Partial mode, until the state
// must be emitted to stay within the memory limit; it sets s.out.
func (s *stream) consume(ctx context.Context) error {
	c := s.core
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: %v", exec.ErrCanceled, err)
		}
		b, err := s.in.Next(ctx)
		if errors.Is(err, io.EOF) {
			s.inputDone = true
			s.out, err = c.finish()
			return err
		}
		if err != nil {
			return err
		}
		if err := c.consume(ctx, b); err != nil {
			return err
		}
		fits, err := c.account()
		if err != nil {
			return err
		}
		if fits || c.nokeys {
			continue
		}
		if s.node.mode == Partial {
			s.out = &memOutput{c: c, partial: true}
			return nil
		}
		if err := c.spillState(); err != nil {
			return err
		}
	}
}

// Close releases everything; it is idempotent.
func (s *stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.prev != nil {
		s.prev.Release()
		s.prev = nil
	}
	if s.out != nil {
		s.out.close()
		s.out = nil
	}
	if s.core != nil {
		s.core.close()
	}
	return s.in.Close()
}
