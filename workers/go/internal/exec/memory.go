package exec

import (
	"errors"
	"fmt"
	"sync"
)

// ErrMemoryLimit is returned (wrapped) when an operator cannot reserve
// memory under the query's limit and cannot spill.
var ErrMemoryLimit = errors.New("memory limit exceeded")

// MemoryPool accounts the memory that the operators of one query hold in
// their state (hash tables, sort buffers, build sides). Operators reserve
// before they grow and release when they free or spill. A limit of 0 means
// unlimited.
type MemoryPool struct {
	mu    sync.Mutex
	limit int64
	used  int64
	peak  int64
}

// NewMemoryPool returns a pool with the given limit in bytes (0 = none).
func NewMemoryPool(limit int64) *MemoryPool { return &MemoryPool{limit: limit} }

// Limit is the configured limit in bytes (0 = none).
func (m *MemoryPool) Limit() int64 { return m.limit }

// TryReserve reserves n bytes, or returns an error wrapping ErrMemoryLimit
// that names the consumer and the limit.
func (m *MemoryPool) TryReserve(consumer string, n int64) error {
	return m.tryReserve(consumer, n, m.limit)
}

// spillableShare is the part of the limit that operators able to spill may
// fill: the rest stays free for the operators that cannot (exchange
// buffers, join build sides), so a spilling aggregate or sort never starves
// them into failing.
func (m *MemoryPool) spillableShare() int64 {
	if m.limit <= 0 {
		return 0
	}
	headroom := min(m.limit/4, 256<<20)
	return m.limit - headroom
}

func (m *MemoryPool) tryReserve(consumer string, n, limit int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if limit > 0 && m.used+n > limit {
		return fmt.Errorf("%w: %s needs %d more bytes with %d of the %d byte limit in use (raise it with --memory-limit)",
			ErrMemoryLimit, consumer, n, m.used, m.limit)
	}
	m.used += n
	if m.used > m.peak {
		m.peak = m.used
	}
	return nil
}

// Release returns n bytes to the pool.
func (m *MemoryPool) Release(n int64) {
	m.mu.Lock()
	m.used -= n
	if m.used < 0 {
		m.used = 0
	}
	m.mu.Unlock()
}

// Used is the number of bytes reserved now.
func (m *MemoryPool) Used() int64 { m.mu.Lock(); defer m.mu.Unlock(); return m.used }

// Peak is the most bytes reserved at once.
func (m *MemoryPool) Peak() int64 { m.mu.Lock(); defer m.mu.Unlock(); return m.peak }

// Reservation tracks what one operator holds, so it can grow, shrink and
// free everything at Close.
type Reservation struct {
	pool      *MemoryPool
	consumer  string
	size      int64
	spillable bool
}

// NewSpillableReservation starts an empty reservation for an operator that
// spills when Grow fails (sort, aggregate): it may use the limit less a
// headroom kept for the operators that cannot spill.
func (m *MemoryPool) NewSpillableReservation(consumer string) *Reservation {
	return &Reservation{pool: m, consumer: consumer, spillable: true}
}

// NewReservation starts an empty reservation for consumer.
func (m *MemoryPool) NewReservation(consumer string) *Reservation {
	return &Reservation{pool: m, consumer: consumer}
}

// Grow reserves n more bytes.
func (r *Reservation) Grow(n int64) error {
	limit := r.pool.limit
	if r.spillable {
		limit = r.pool.spillableShare()
	}
	if err := r.pool.tryReserve(r.consumer, n, limit); err != nil {
		return err
	}
	r.size += n
	return nil
}

// Resize sets the reservation to n bytes.
func (r *Reservation) Resize(n int64) error {
	if n > r.size {
		return r.Grow(n - r.size)
	}
	r.Shrink(r.size - n)
	return nil
}

// Shrink releases n bytes.
func (r *Reservation) Shrink(n int64) {
	if n > r.size {
		n = r.size
	}
	r.pool.Release(n)
	r.size -= n
}

// Size is the bytes held.
func (r *Reservation) Size() int64 { return r.size }

// Free releases everything held.
func (r *Reservation) Free() { r.Shrink(r.size) }
