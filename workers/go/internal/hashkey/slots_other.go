//go:build !linux

package hashkey

// mapping is slot memory outside the Go heap; other systems use Go memory.
type mapping struct{}

func allocSlots(n int) ([]uint64, *mapping) { return make([]uint64, n), nil }

func (m *mapping) free() {}
