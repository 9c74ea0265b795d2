//go:build !linux

package dbgen

// allocPool returns n zeroed bytes for the text pool.
func allocPool(n int) []byte { return make([]byte, n) }
