//go:build cgo && !arbalest_nonative

package native

// #cgo CFLAGS: -O2 -Wall
// #cgo LDFLAGS: -ldl
// #include <stdlib.h>
// #include <string.h>
// #include "host.h"
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Limits on a library's table. A table beyond them is refused: they catch
// garbage from a library built against another header long before any of
// it is dereferenced.
const (
	maxFunctions   = 4096
	maxArgs        = 64
	maxNameLen     = 128
	maxLibNameLen  = 64
	maxFormatLen   = 256
	maxVersionLen  = 256
	knownFlagsMask = C.ARBALEST_UDF_FLAG_NOT_THREAD_SAFE
)

// Load opens the native UDF library at path, runs its init function and
// checks its function table. Errors name the library (its path, and its
// name once known) and the offending function.
func Load(path string, opts ...Option) (*Library, error) {
	cfg := config{mem: memory.DefaultAllocator}
	for _, o := range opts {
		o(&cfg)
	}
	if path == "" {
		return nil, fmt.Errorf("%w: empty library path", ErrLoad)
	}
	// dlopen searches the system's library path for a name without a
	// slash; a user who names a file means that file.
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%w: native library %s: %v", ErrLoad, path, err)
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("%w: native library %s: %v", ErrLoad, path, err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("%w: native library %s: is a directory", ErrLoad, path)
	}

	cpath := C.CString(abs)
	defer C.free(unsafe.Pointer(cpath))
	csym := C.CString(InitSymbol)
	defer C.free(unsafe.Pointer(csym))
	errbuf := (*C.char)(C.calloc(1, C.ARBALEST_UDF_ERRBUF_SIZE))
	if errbuf == nil {
		return nil, fmt.Errorf("%w: native library %s: out of memory", ErrLoad, path)
	}
	defer C.free(unsafe.Pointer(errbuf))

	var h *C.arb_host_lib
	var initRC C.int
	switch st := C.arb_open(cpath, csym, &h, &initRC, errbuf, C.ARBALEST_UDF_ERRBUF_SIZE); st {
	case C.ARB_OPEN_OK:
	case C.ARB_OPEN_DLOPEN:
		return nil, fmt.Errorf("%w: native library %s: dlopen: %s", ErrLoad, path, C.GoString(errbuf))
	case C.ARB_OPEN_DLSYM:
		return nil, fmt.Errorf("%w: native library %s does not export %s (is it an Arbalest UDF library built against arbalest_udf.h version %d?): %s",
			ErrLoad, path, InitSymbol, ABIVersion, C.GoString(errbuf))
	case C.ARB_OPEN_INIT:
		return nil, fmt.Errorf("%w: native library %s: %s failed with code %d: %s",
			ErrLoad, path, InitSymbol, int(initRC), messageOr(C.GoString(errbuf), "no message"))
	default:
		return nil, fmt.Errorf("%w: native library %s: out of memory", ErrLoad, path)
	}

	lib := &Library{path: path, h: h, mem: cfg.mem}
	if err := lib.readTable(); err != nil {
		// The library initialised: its release runs (through the last
		// reference) before it is unmapped.
		C.arb_unref(h)
		return nil, err
	}
	return lib, nil
}

// Option configures Load.
type Option func(*config)

type config struct {
	mem memory.Allocator
}

// WithAllocator sets the allocator of the Go-side buffers the loader makes
// (validity bitmaps of NULL-on-NULL results, empty results). Results'
// values stay in the library's memory either way.
func WithAllocator(mem memory.Allocator) Option {
	return func(c *config) {
		if mem != nil {
			c.mem = mem
		}
	}
}

// Library is a loaded native UDF library. Its functions are safe to call
// from many goroutines at once.
type Library struct {
	path    string
	name    string
	version string
	mem     memory.Allocator
	h       *C.arb_host_lib
	funcs   []*function
	logical []*logical.Function

	// mu: calls hold it for reading, Close for writing, so that Close
	// waits for the calls in flight and no call starts after it.
	mu     sync.RWMutex
	closed bool
}

// Name is the library's declared name.
func (l *Library) Name() string { return l.name }

// Version is the library's declared version ("" when it declares none).
func (l *Library) Version() string { return l.version }

// Path is the path the library was loaded from.
func (l *Library) Path() string { return l.path }

// URN is the Substrait extension URN the library's functions are declared
// under.
func (l *Library) URN() string { return "extension:native:" + l.name }

// Functions returns the library's functions, in table order. Their Impl
// is a logical.ScalarImpl that calls into the library.
func (l *Library) Functions() []*logical.Function {
	return append([]*logical.Function(nil), l.logical...)
}

// Close stops new calls, waits for the calls in flight and drops the
// library. Its release function runs, and the library is unmapped, once
// the last result array it returned has been released too. Close is
// idempotent.
func (l *Library) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	for _, f := range l.funcs {
		f.freeSchemas()
	}
	C.arb_unref(l.h)
	return nil
}

// readTable validates what init filled in and builds the functions. Any
// problem is an error naming the library and the function.
func (l *Library) readTable() error {
	t := &l.h.table
	if v := int64(t.abi_version); v != ABIVersion {
		return fmt.Errorf("%w: native library %s: ABI version %d, this host speaks %d", ErrABI, l.path, v, ABIVersion)
	}
	name, err := cString(t.name, maxLibNameLen)
	if err != nil {
		return fmt.Errorf("%w: native library %s: name: %v", ErrABI, l.path, err)
	}
	if !isIdentifier(name) {
		return fmt.Errorf("%w: native library %s: name %q is not an identifier ([A-Za-z_][A-Za-z0-9_]*)", ErrABI, l.path, name)
	}
	l.name = name
	if t.version != nil {
		if l.version, err = cString(t.version, maxVersionLen); err != nil {
			return fmt.Errorf("%w: %s: version: %v", ErrABI, l, err)
		}
	}
	n := int64(t.n_functions)
	if n < 1 || n > maxFunctions {
		return fmt.Errorf("%w: %s: n_functions is %d, want 1 to %d", ErrABI, l, n, maxFunctions)
	}
	if t.functions == nil {
		return fmt.Errorf("%w: %s: functions is NULL", ErrABI, l)
	}
	descs := unsafe.Slice(t.functions, n)
	seen := make(map[string]int, n)
	for i := range descs {
		f, err := l.readFunction(i, &descs[i])
		if err != nil {
			for _, g := range l.funcs {
				g.freeSchemas()
			}
			l.funcs = nil
			return err
		}
		key := strings.ToLower(f.name)
		if j, dup := seen[key]; dup {
			f.freeSchemas()
			for _, g := range l.funcs {
				g.freeSchemas()
			}
			l.funcs = nil
			return fmt.Errorf("%w: %s: functions %d and %d are both named %q (names are case-insensitive)", ErrABI, l, j, i, f.name)
		}
		seen[key] = i
		l.funcs = append(l.funcs, f)
	}
	urn := l.URN()
	for _, f := range l.funcs {
		args := make([]arrow.Field, len(f.args))
		for i, t := range f.args {
			args[i] = arrow.Field{Name: fmt.Sprintf("arg%d", i), Type: t, Nullable: true}
		}
		l.logical = append(l.logical, &logical.Function{
			Name:       f.name,
			URN:        urn,
			Provider:   "native:" + l.name,
			Kind:       logical.ScalarFunction,
			Args:       args,
			Result:     arrow.Field{Name: f.name, Type: f.result, Nullable: true},
			Volatility: f.volatility,
			NullOnNull: f.nullOnNull,
			Impl:       f,
		})
	}
	return nil
}

func (l *Library) readFunction(i int, d *C.struct_ArbalestUdfFunction) (*function, error) {
	name, err := cString(d.name, maxNameLen)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: function %d: name: %v", ErrABI, l, i, err)
	}
	if !isIdentifier(name) {
		return nil, fmt.Errorf("%w: %s: function %d: name %q is not an identifier ([A-Za-z_][A-Za-z0-9_]*)", ErrABI, l, i, name)
	}
	where := fmt.Sprintf("%s: function %q", l, name)
	if d.call == nil {
		return nil, fmt.Errorf("%w: %s: call is NULL", ErrABI, where)
	}
	f := &function{lib: l, index: i, name: name}
	switch d.volatility {
	case C.ARBALEST_UDF_IMMUTABLE:
		f.volatility = logical.Immutable
	case C.ARBALEST_UDF_STABLE:
		f.volatility = logical.Stable
	case C.ARBALEST_UDF_VOLATILE:
		f.volatility = logical.Volatile
	default:
		return nil, fmt.Errorf("%w: %s: volatility %d is not ARBALEST_UDF_IMMUTABLE, _STABLE or _VOLATILE", ErrABI, where, int(d.volatility))
	}
	switch d.null_handling {
	case C.ARBALEST_UDF_NULL_ON_NULL:
		f.nullOnNull = true
	case C.ARBALEST_UDF_CALLED_ON_NULL:
	default:
		return nil, fmt.Errorf("%w: %s: null_handling %d is not ARBALEST_UDF_NULL_ON_NULL or _CALLED_ON_NULL", ErrABI, where, int(d.null_handling))
	}
	if unknown := uint64(d.flags) &^ uint64(knownFlagsMask); unknown != 0 {
		return nil, fmt.Errorf("%w: %s: unknown flags %#x (built against a newer arbalest_udf.h?)", ErrABI, where, unknown)
	}
	if uint64(d.flags)&uint64(C.ARBALEST_UDF_FLAG_NOT_THREAD_SAFE) != 0 {
		f.serial = make(chan struct{}, 1)
	}
	nargs := int64(d.n_args)
	if nargs < 0 || nargs > maxArgs {
		return nil, fmt.Errorf("%w: %s: n_args is %d, want 0 to %d", ErrABI, where, nargs, maxArgs)
	}
	if nargs > 0 && d.arg_types == nil {
		return nil, fmt.Errorf("%w: %s: arg_types is NULL with n_args %d", ErrABI, where, nargs)
	}
	if nargs > 0 {
		for j, p := range unsafe.Slice(d.arg_types, nargs) {
			t, err := parseFormat(p)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: argument %d: %v", ErrABI, where, j, err)
			}
			f.args = append(f.args, t)
		}
	}
	if f.result, err = parseFormat(d.result_type); err != nil {
		return nil, fmt.Errorf("%w: %s: result: %v", ErrABI, where, err)
	}
	if err := f.exportSchemas(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrLoad, where, err)
	}
	return f, nil
}

// String names the library for messages.
func (l *Library) String() string {
	if l.name == "" {
		return "native library " + l.path
	}
	return fmt.Sprintf("native library %q (%s)", l.name, l.path)
}

// parseFormat turns an Arrow C Data format string of the library into a
// type.
func parseFormat(p *C.char) (arrow.DataType, error) {
	s, err := cString(p, maxFormatLen)
	if err != nil {
		return nil, fmt.Errorf("format: %v", err)
	}
	return parseFormatString(s)
}

// parseFormatString parses a format string with the importer of arrow-go,
// so that the declaration and the C Data import agree on every format.
func parseFormatString(s string) (arrow.DataType, error) {
	if s == "" {
		return nil, errors.New("empty format string")
	}
	if s[0] == '+' {
		return nil, fmt.Errorf("format %q: nested types are not supported by ABI version %d", s, ABIVersion)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return nil, fmt.Errorf("format %q: contains a NUL byte", s)
	}
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	sc := C.arb_format_schema(cs)
	if sc == nil {
		return nil, errors.New("out of memory")
	}
	defer C.free(unsafe.Pointer(sc))
	// ImportCArrowField releases the schema whatever happens.
	field, err := importField((*cdata.CArrowSchema)(unsafe.Pointer(sc)))
	if err != nil {
		return nil, fmt.Errorf("format %q: %v", s, err)
	}
	switch dt := field.Type.(type) {
	case arrow.NestedType:
		return nil, fmt.Errorf("format %q: nested types are not supported by ABI version %d", s, ABIVersion)
	case arrow.DecimalType:
		// The importer takes any precision; the engine cannot.
		if _, err := arrow.NewDecimalType(dt.ID(), dt.GetPrecision(), dt.GetScale()); err != nil {
			return nil, fmt.Errorf("format %q: %v", s, err)
		}
	}
	return field.Type, nil
}

// importField is cdata.ImportCArrowField with a panic from the importer
// (on a malformed schema from a library) turned into an error.
func importField(sc *cdata.CArrowSchema) (f arrow.Field, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed ArrowSchema: %v", r)
		}
	}()
	return cdata.ImportCArrowField(sc)
}

// cString copies a NUL-terminated string of at most max bytes out of the
// library, without reading past max+1 bytes.
func cString(p *C.char, max int) (string, error) {
	if p == nil {
		return "", errors.New("NULL")
	}
	n := int(C.strnlen(p, C.size_t(max+1)))
	if n > max {
		return "", fmt.Errorf("longer than %d bytes", max)
	}
	return C.GoStringN(p, C.int(n)), nil
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func messageOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Int64Symbol calls `int64_t name(void)` of the library (a version, or a
// test library's counters).
func (l *Library) Int64Symbol(name string) (int64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return 0, fmt.Errorf("%w: %s", ErrClosed, l)
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var found C.int
	v := C.arb_symbol_i64(l.h, cs, &found)
	if found == 0 {
		return 0, fmt.Errorf("%s has no symbol %s", l, name)
	}
	return int64(v), nil
}
