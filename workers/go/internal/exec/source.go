package exec

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// MemorySource is a leaf node over record batches already in memory, one
// list of batches per output partition. It borrows the batches: the caller
// keeps them alive while the node runs and releases them afterwards.
type MemorySource struct {
	schema     *arrow.Schema
	partitions [][]arrow.RecordBatch
	name       string
}

var _ Node = (*MemorySource)(nil)

// NewValues returns a one-partition source of batches (the physical form
// of an inline VALUES table).
func NewValues(schema *arrow.Schema, batches []arrow.RecordBatch) Node {
	return &MemorySource{schema: schema, partitions: [][]arrow.RecordBatch{batches}, name: "Values"}
}

// NewMemorySource returns a source with len(partitions) output partitions
// (at least one; nil gives one empty partition). Tests of other packages
// use it as an input.
func NewMemorySource(schema *arrow.Schema, partitions [][]arrow.RecordBatch) *MemorySource {
	if len(partitions) == 0 {
		partitions = [][]arrow.RecordBatch{nil}
	}
	return &MemorySource{schema: schema, partitions: partitions, name: "MemorySource"}
}

// Schema implements Node.
func (m *MemorySource) Schema() *arrow.Schema { return m.schema }

// Children implements Node.
func (m *MemorySource) Children() []Node { return nil }

// Partitions implements Node.
func (m *MemorySource) Partitions() int { return len(m.partitions) }

// String implements Node.
func (m *MemorySource) String() string {
	rows, batches := int64(0), 0
	for _, p := range m.partitions {
		for _, b := range p {
			rows += b.NumRows()
			batches++
		}
	}
	return fmt.Sprintf("%s: rows=%d batches=%d", m.name, rows, batches)
}

// Execute implements Node.
func (m *MemorySource) Execute(_ context.Context, p int, _ *TaskContext) (Stream, error) {
	if err := checkPartition(m, p); err != nil {
		return nil, err
	}
	for i, b := range m.partitions[p] {
		if !sameTypes(b.Schema(), m.schema) {
			return nil, fmt.Errorf("%s: batch %d of partition %d has schema %s, expected %s", m.name, i, p, b.Schema(), m.schema)
		}
	}
	return &memoryStream{schema: m.schema, batches: m.partitions[p]}, nil
}

type memoryStream struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	pos     int
	closed  bool
}

func (s *memoryStream) Schema() *arrow.Schema { return s.schema }

func (s *memoryStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, canceled(ctx)
	}
	if s.closed || s.pos >= len(s.batches) {
		return nil, io.EOF
	}
	b := s.batches[s.pos]
	s.pos++
	return b, nil
}

func (s *memoryStream) Close() error { s.closed = true; return nil }
