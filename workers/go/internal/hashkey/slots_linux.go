package hashkey

import (
	"runtime"
	"syscall"
	"unsafe"
)

// Large slot arrays are mapped outside the Go heap and advised into
// transparent huge pages. A probe of a table larger than the caches costs
// a cache miss and, with 4 KiB pages, a TLB miss whose page walk misses
// too; with 2 MiB pages the walks mostly hit, which makes probes of tables
// of millions of keys markedly cheaper. Where huge pages are unavailable
// the mapping is ordinary memory.

// hugeMin is the smallest slot array (bytes) mapped this way.
const hugeMin = 4 << 20

const hugePage = 2 << 20

// mapping is slot memory mapped outside the Go heap. It is unmapped by
// free, or by a cleanup once the mapping (the table) is unreachable.
type mapping struct {
	mem     []byte
	cleanup runtime.Cleanup
}

// allocSlots returns n zeroed words and, for large n, the mapping backing
// them (nil for Go memory).
func allocSlots(n int) ([]uint64, *mapping) {
	size := n * 8
	if size < hugeMin {
		return make([]uint64, n), nil
	}
	// Over-allocate so that the words can start on a huge page boundary.
	mem, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]uint64, n), nil
	}
	start := (hugePage - int(uintptr(unsafe.Pointer(unsafe.SliceData(mem))))%hugePage) % hugePage
	_ = syscall.Madvise(mem[start:start+size], 14 /* MADV_HUGEPAGE */)
	m := &mapping{mem: mem}
	m.cleanup = runtime.AddCleanup(m, func(b []byte) { _ = syscall.Munmap(b) }, mem)
	return unsafe.Slice((*uint64)(unsafe.Pointer(&mem[start])), n), m
}

// free unmaps m now; the words from allocSlots must not be used after.
func (m *mapping) free() {
	if m == nil {
		return
	}
	m.cleanup.Stop()
	_ = syscall.Munmap(m.mem)
	m.mem = nil
}
