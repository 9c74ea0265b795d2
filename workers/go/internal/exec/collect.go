package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"golang.org/x/sync/errgroup"
)

// CollectAll runs every partition of n concurrently and returns all their
// batches, partition 0's first. The caller owns (must Release) them.
func CollectAll(ctx context.Context, n Node, tc *TaskContext) ([]arrow.RecordBatch, error) {
	parts := make([][]arrow.RecordBatch, n.Partitions())
	g, gctx := errgroup.WithContext(ctx)
	for p := range parts {
		g.Go(func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = recovered(fmt.Sprintf("%s partition %d", n, p), r)
				}
			}()
			s, err := n.Execute(gctx, p, tc)
			if err != nil {
				return err
			}
			defer func() {
				if cerr := s.Close(); err == nil {
					err = cerr
				}
			}()
			for {
				b, err := s.Next(gctx)
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				b.Retain()
				parts[p] = append(parts[p], b)
			}
		})
	}
	err := g.Wait()
	var out []arrow.RecordBatch
	for _, p := range parts {
		out = append(out, p...)
	}
	if err != nil {
		releaseAll(out)
		return nil, err
	}
	return out, nil
}

// ExecuteStream runs n as one stream: its only partition, or all its
// partitions concurrently through a Coalesce.
func ExecuteStream(ctx context.Context, n Node, tc *TaskContext) (Stream, error) {
	if n.Partitions() == 1 {
		return n.Execute(ctx, 0, tc)
	}
	return NewCoalesce(n).Execute(ctx, 0, tc)
}

// ExecuteToReader runs n (see ExecuteStream) behind arrow's RecordReader
// interface, for writers such as Flight and IPC. A one-partition node
// yields its batches in order. Release closes the stream.
func ExecuteToReader(ctx context.Context, n Node, tc *TaskContext) (array.RecordReader, error) {
	s, err := ExecuteStream(ctx, n, tc)
	if err != nil {
		return nil, err
	}
	r := &streamReader{ctx: ctx, s: s}
	r.refs.Store(1)
	return r, nil
}

type streamReader struct {
	ctx  context.Context
	s    Stream
	cur  arrow.RecordBatch
	err  error
	done bool
	refs atomic.Int64
}

var _ array.RecordReader = (*streamReader)(nil)

func (r *streamReader) Retain()               { r.refs.Add(1) }
func (r *streamReader) Schema() *arrow.Schema { return r.s.Schema() }

func (r *streamReader) Release() {
	if r.refs.Add(-1) == 0 {
		r.cur = nil
		if err := r.s.Close(); err != nil && r.err == nil {
			r.err = err
		}
	}
}

func (r *streamReader) Next() bool {
	r.cur = nil
	if r.done {
		return false
	}
	b, err := r.s.Next(r.ctx)
	if err != nil {
		r.done = true
		if !errors.Is(err, io.EOF) {
			r.err = err
		}
		return false
	}
	r.cur = b
	return true
}

func (r *streamReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is the deprecated name of RecordBatch.
func (r *streamReader) Record() arrow.RecordBatch { return r.cur }

func (r *streamReader) Err() error { return r.err }
