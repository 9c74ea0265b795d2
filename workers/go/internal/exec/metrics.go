package exec

import (
	"sync"
	"sync/atomic"
	"time"
)

// OperatorMetrics are the counters of one plan node, summed over its
// partitions: what EXPLAIN ANALYZE prints.
type OperatorMetrics struct {
	Rows    atomic.Int64
	Batches atomic.Int64
	// Nanos is the time spent inside Next of this node, children included.
	Nanos atomic.Int64
	// PeakMem is the largest reservation the node held, in bytes.
	PeakMem atomic.Int64
	Spills  atomic.Int64
	// Bytes is the number of bytes a scan read from storage.
	Bytes atomic.Int64
}

// Metrics maps plan nodes to their counters.
type Metrics struct {
	mu  sync.Mutex
	ops map[Node]*OperatorMetrics
}

// NewMetrics returns an empty set.
func NewMetrics() *Metrics { return &Metrics{ops: map[Node]*OperatorMetrics{}} }

// For returns the counters of n, creating them.
func (m *Metrics) For(n Node) *OperatorMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	om := m.ops[n]
	if om == nil {
		om = &OperatorMetrics{}
		m.ops[n] = om
	}
	return om
}

// Lookup returns the counters of n, or nil.
func (m *Metrics) Lookup(n Node) *OperatorMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ops[n]
}

// RecordPeak raises the node's peak memory to at least v.
func (om *OperatorMetrics) RecordPeak(v int64) {
	for {
		cur := om.PeakMem.Load()
		if v <= cur || om.PeakMem.CompareAndSwap(cur, v) {
			return
		}
	}
}

// since is a helper for timing Next calls.
func since(t time.Time) int64 { return int64(time.Since(t)) }
