//go:build linux

package dbgen

import "syscall"

// allocPool returns n zeroed bytes for the text pool. On Linux they are
// mapped outside the Go heap (so the pool does not inflate the garbage
// collector's heap goal) and backed by transparent huge pages where the
// kernel allows: comments are read from random places of the 300 MiB,
// and with 4 KiB pages nearly every read misses the TLB.
func allocPool(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]byte, n)
	}
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) // advisory: fine if refused
	return b
}
