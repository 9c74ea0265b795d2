package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/util"
)

// canceled wraps the reason ctx ended so that callers can match both
// ErrCanceled and the context's own error (context.Canceled,
// context.DeadlineExceeded).
func canceled(ctx context.Context) error {
	cause := context.Cause(ctx)
	if cause == nil {
		cause = context.Canceled
	}
	if errors.Is(cause, ErrCanceled) {
		return cause
	}
	return fmt.Errorf("%w: %w", ErrCanceled, cause)
}

// recovered turns a panic value caught at a goroutine root into an error
// that names where it happened and carries the stack.
func recovered(where string, v any) error {
	return fmt.Errorf("internal error: panic in %s: %v\n%s", where, v, debug.Stack())
}

// batchSize is the task's target rows per batch.
func batchSize(tc *TaskContext) int {
	if tc == nil || tc.BatchSize <= 0 {
		return DefaultBatchSize
	}
	return tc.BatchSize
}

// allocator is the task's allocator, the Go allocator when unset.
func allocator(tc *TaskContext) memory.Allocator {
	if tc == nil || tc.Alloc == nil {
		return memory.DefaultAllocator
	}
	return tc.Alloc
}

// batchBytes is the memory a batch holds, for reservations.
func batchBytes(b arrow.RecordBatch) int64 { return util.TotalRecordSize(b) }

// metricsFor returns the counters of n, or nil when tc has no metrics.
func metricsFor(tc *TaskContext, n Node) *OperatorMetrics {
	if tc == nil || tc.Metrics == nil {
		return nil
	}
	return tc.Metrics.For(n)
}

// checkPartition validates a partition index against a node.
func checkPartition(n Node, p int) error {
	if p < 0 || p >= n.Partitions() {
		return fmt.Errorf("%s: partition %d out of range [0, %d)", n.String(), p, n.Partitions())
	}
	return nil
}

// sameTypes reports whether two schemas have the same column types in the
// same order (names and nullability may differ).
func sameTypes(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.NumFields() {
		if !arrow.TypeEqual(a.Field(i).Type, b.Field(i).Type) {
			return false
		}
	}
	return true
}

// emptyStream is a stream with no batches.
type emptyStream struct{ schema *arrow.Schema }

func (s emptyStream) Schema() *arrow.Schema                           { return s.schema }
func (s emptyStream) Next(context.Context) (arrow.RecordBatch, error) { return nil, io.EOF }
func (s emptyStream) Close() error                                    { return nil }

// stringBytes views a string's bytes without copying; callers only read.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
