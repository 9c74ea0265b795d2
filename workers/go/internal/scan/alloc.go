package scan

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// bufferPool is an allocator that keeps freed buffers of power-of-two size
// classes for reuse, on top of a parent allocator.
//
// A scan allocates the same few buffer sizes for every batch (values,
// validity, offsets, decompressed pages). Handing each one to the Go
// allocator anew makes the garbage collector and the zeroing of fresh
// memory dominate Parquet decoding; recycling them keeps the scan bound by
// decoding. Every byte still comes from the parent (the query's allocator),
// so its accounting holds: a buffer counts as allocated while it sits in the
// pool, and Close hands everything back. Buffers released after Close go
// straight to the parent.
//
// Reused memory is zeroed, as the Go allocator's is, because some Arrow
// builders rely on zeroed validity bitmaps.
type bufferPool struct {
	parent memory.Allocator

	mu     sync.Mutex
	free   [numClasses][][]byte
	held   int
	limit  int
	closed bool
}

const (
	minClassShift = 6  // 64 bytes
	maxClassShift = 24 // 16 MiB
	numClasses    = maxClassShift - minClassShift + 1
)

// newBufferPool returns a pool that keeps at most limit bytes of free
// buffers.
func newBufferPool(parent memory.Allocator, limit int) *bufferPool {
	return &bufferPool{parent: parent, limit: limit}
}

// classOf returns the size class for size, or -1 when size is not pooled.
func classOf(size int) int {
	if size <= 0 || size > 1<<maxClassShift {
		return -1
	}
	shift := bits.Len(uint(size - 1))
	if shift < minClassShift {
		shift = minClassShift
	}
	return shift - minClassShift
}

// Allocate implements memory.Allocator.
func (p *bufferPool) Allocate(size int) []byte {
	b, reused := p.take(size)
	if reused {
		clear(b)
	}
	return b
}

// allocRaw is Allocate without zeroing reused memory, for buffers the
// caller overwrites completely.
func (p *bufferPool) allocRaw(size int) []byte {
	b, _ := p.take(size)
	return b
}

// freeRaw frees a buffer from allocRaw; nil is ignored.
func (p *bufferPool) freeRaw(b []byte) {
	if cap(b) > 0 {
		p.Free(b)
	}
}

// take returns a buffer of size bytes and whether it was in the pool.
func (p *bufferPool) take(size int) ([]byte, bool) {
	c := classOf(size)
	if c < 0 {
		return p.parent.Allocate(size), false
	}
	classSize := 1 << (c + minClassShift)
	p.mu.Lock()
	if n := len(p.free[c]); n > 0 {
		b := p.free[c][n-1]
		p.free[c][n-1] = nil
		p.free[c] = p.free[c][:n-1]
		p.held -= classSize
		p.mu.Unlock()
		return b[:size], true
	}
	p.mu.Unlock()
	b := p.parent.Allocate(classSize)
	return b[:size:classSize], false
}

// Reallocate implements memory.Allocator.
func (p *bufferPool) Reallocate(size int, b []byte) []byte {
	if c := classOf(cap(b)); size <= cap(b) && c >= 0 && 1<<(c+minClassShift) == cap(b) {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free implements memory.Allocator.
func (p *bufferPool) Free(b []byte) {
	c := classOf(cap(b))
	if c < 0 || 1<<(c+minClassShift) != cap(b) {
		// Larger than any class: the parent allocated it at its own size.
		p.parent.Free(b)
		return
	}
	full := b[:cap(b)]
	p.mu.Lock()
	if p.closed || p.held+cap(b) > p.limit {
		p.mu.Unlock()
		p.parent.Free(full)
		return
	}
	p.free[c] = append(p.free[c], full)
	p.held += cap(b)
	p.mu.Unlock()
}

// Close returns every pooled buffer to the parent; buffers freed later go
// to the parent directly.
func (p *bufferPool) Close() {
	p.mu.Lock()
	p.closed = true
	lists := p.free
	p.free = [numClasses][][]byte{}
	p.held = 0
	p.mu.Unlock()
	for _, l := range lists {
		for _, b := range l {
			p.parent.Free(b)
		}
	}
}

var _ memory.Allocator = (*bufferPool)(nil)
