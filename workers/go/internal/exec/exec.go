// Package exec defines the native executor's physical plan: immutable plan
// nodes that describe N output partitions, and the streams that running a
// partition produces. It also holds the operators that need no hash table:
// filter, project, limit, sort, union, values, window, coalesce and
// repartition.
package exec

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Stream is a running operator for one partition. Next returns io.EOF after
// the last batch. A batch returned by Next is borrowed: it stays valid until
// the next call to Next or Close; a caller that keeps it must Retain it.
// Close is idempotent and releases everything the stream holds.
type Stream interface {
	Schema() *arrow.Schema
	Next(ctx context.Context) (arrow.RecordBatch, error)
	Close() error
}

// Node is an immutable physical plan node. Execute may be called once per
// partition, concurrently for different partitions.
type Node interface {
	Schema() *arrow.Schema
	Children() []Node
	// Partitions is the number of output partitions.
	Partitions() int
	// Execute starts partition p.
	Execute(ctx context.Context, p int, tc *TaskContext) (Stream, error)
	// String is the one-line EXPLAIN description of the node.
	String() string
}

// DefaultBatchSize is the target number of rows per batch.
const DefaultBatchSize = 8192

// TaskContext carries what the operators of one query share: the
// allocator, the memory pool with its limit, the batch size, the directory
// for spill files, and per-operator metrics.
type TaskContext struct {
	Alloc     memory.Allocator
	Mem       *MemoryPool
	BatchSize int
	// SpillDir is where operators that spill write their files.
	SpillDir string
	// Partitions is the target parallelism (number of partitions) for
	// operators that repartition.
	Partitions int
	Metrics    *Metrics
}

// NewTaskContext returns a context with the Go allocator, no memory limit
// and the default batch size.
func NewTaskContext() *TaskContext {
	return &TaskContext{
		Alloc:      memory.NewGoAllocator(),
		Mem:        NewMemoryPool(0),
		BatchSize:  DefaultBatchSize,
		Partitions: 1,
		Metrics:    NewMetrics(),
	}
}

// ErrCanceled is returned when the query's context ends.
var ErrCanceled = errors.New("query canceled")

// Format renders a physical plan tree for EXPLAIN.
func Format(n Node) string {
	var b strings.Builder
	var walk func(n Node, depth int)
	walk = func(n Node, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(n.String())
		if n.Partitions() != 1 {
			fmt.Fprintf(&b, " partitions=%d", n.Partitions())
		}
		b.WriteByte('\n')
		for _, c := range n.Children() {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}
