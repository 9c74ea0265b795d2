//go:build !cgo || arbalest_nonative

package native

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Load fails: native libraries need cgo (dlopen and the C Data Interface)
// and were left out of this binary.
func Load(path string, opts ...Option) (*Library, error) {
	return nil, fmt.Errorf("%w: cannot load %s", ErrUnsupported, path)
}

// Option configures Load.
type Option func(*config)

type config struct{ mem memory.Allocator }

// WithAllocator sets the allocator of the loader's Go-side buffers.
func WithAllocator(mem memory.Allocator) Option { return func(c *config) { c.mem = mem } }

// Library is a loaded native UDF library; without cgo there are none.
type Library struct{}

// Name is the library's declared name.
func (*Library) Name() string { return "" }

// Version is the library's declared version.
func (*Library) Version() string { return "" }

// Path is the path the library was loaded from.
func (*Library) Path() string { return "" }

// URN is the Substrait extension URN of the library's functions.
func (*Library) URN() string { return "" }

// Functions returns the library's functions.
func (*Library) Functions() []*logical.Function { return nil }

// Close drops the library.
func (*Library) Close() error { return nil }
