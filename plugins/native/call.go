//go:build cgo && !arbalest_nonative

package native

// #include <stdlib.h>
// #include "host.h"
import "C"

import (
	"context"
	"fmt"
	"github.com/arbalest/arbalest/plugins/internal/nulls"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"

	"github.com/arbalest/arbalest/substrait/logical"
)

// function is one function of a library; it is the Impl of its
// logical.Function.
type function struct {
	lib        *Library
	index      int
	name       string
	args       []arrow.DataType
	result     arrow.DataType
	volatility logical.Volatility
	nullOnNull bool
	// serial is set for ARBALEST_UDF_FLAG_NOT_THREAD_SAFE functions: a
	// one-slot semaphore (a channel, so that waiting for it stops when
	// the query is cancelled).
	serial chan struct{}
	// schemas is a struct ArrowSchema whose children describe the
	// arguments: exported once at load, passed (read-only) to every call
	// as arg_schemas, released by Close. Nil without arguments.
	schemas *C.struct_ArrowSchema
}

var _ logical.ScalarImpl = (*function)(nil)

func (f *function) String() string {
	return fmt.Sprintf("%s: function %q", f.lib, f.name)
}

// exportSchemas fills f.schemas.
func (f *function) exportSchemas() error {
	if len(f.args) == 0 {
		return nil
	}
	fields := make([]arrow.Field, len(f.args))
	for i, t := range f.args {
		fields[i] = arrow.Field{Name: fmt.Sprintf("arg%d", i), Type: t, Nullable: true}
	}
	// C memory, zeroed, as ExportArrowSchema requires.
	sc := (*C.struct_ArrowSchema)(C.calloc(1, C.sizeof_struct_ArrowSchema))
	if sc == nil {
		return fmt.Errorf("out of memory")
	}
	cdata.ExportArrowSchema(arrow.NewSchema(fields, nil), (*cdata.CArrowSchema)(unsafe.Pointer(sc)))
	f.schemas = sc
	return nil
}

func (f *function) freeSchemas() {
	if f.schemas == nil {
		return
	}
	C.arb_release_schema(f.schemas)
	C.free(unsafe.Pointer(f.schemas))
	f.schemas = nil
}

// EvalScalar calls the function over args (rows rows each, of the
// declared types). Safe for concurrent use.
func (f *function) EvalScalar(ctx context.Context, args []arrow.Array, rows int) (arrow.Array, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := f.checkArgs(args, rows); err != nil {
		return nil, err
	}
	l := f.lib
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, fmt.Errorf("%w: %s", ErrClosed, f)
	}
	if rows == 0 {
		return array.MakeArrayOfNull(l.mem, f.result, 0), nil
	}
	res, err := f.call(ctx, args, rows)
	if err != nil {
		return nil, err
	}
	if f.nullOnNull {
		res = nulls.Mask(f.lib.mem, res, args, rows)
	}
	return res, nil
}

func (f *function) checkArgs(args []arrow.Array, rows int) error {
	if rows < 0 {
		return fmt.Errorf("%w: %s: %d rows", ErrArgs, f, rows)
	}
	if len(args) != len(f.args) {
		return fmt.Errorf("%w: %s takes %d arguments, got %d", ErrArgs, f, len(f.args), len(args))
	}
	for i, a := range args {
		if a == nil {
			return fmt.Errorf("%w: %s: argument %d is nil", ErrArgs, f, i)
		}
		if !arrow.TypeEqual(a.DataType(), f.args[i]) {
			return fmt.Errorf("%w: %s: argument %d is %s, declared %s", ErrArgs, f, i, a.DataType(), f.args[i])
		}
		if a.Len() != rows {
			return fmt.Errorf("%w: %s: argument %d has %d rows, want %d", ErrArgs, f, i, a.Len(), rows)
		}
	}
	return nil
}

// call runs the C function and imports its result. The caller holds
// l.mu for reading.
func (f *function) call(ctx context.Context, args []arrow.Array, rows int) (arrow.Array, error) {
	if f.serial != nil {
		select {
		case f.serial <- struct{}{}:
			defer func() { <-f.serial }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	frame := C.arb_frame_new(C.int64_t(len(args)))
	if frame == nil {
		return nil, fmt.Errorf("%w: %s: out of memory", ErrCall, f)
	}
	// arb_frame_free releases each exported argument (once: the release
	// callback marks it released) and whatever of the result was not
	// imported.
	defer C.arb_frame_free(frame)
	if len(args) > 0 {
		cargs := unsafe.Slice(frame.args, len(args))
		for i, a := range args {
			// Zero-copy: the exported struct points at a's buffers (the Go
			// heap does not move them) and holds a reference to a's data
			// until released.
			cdata.ExportArrowArray(a, (*cdata.CArrowArray)(unsafe.Pointer(&cargs[i])), nil)
		}
	}
	var schemas **C.struct_ArrowSchema
	if f.schemas != nil {
		schemas = f.schemas.children
	}

	rc := C.arb_call(f.lib.h, C.int64_t(f.index), frame, schemas, C.int64_t(rows))
	if rc != 0 {
		msg := C.GoString(&frame.errbuf[0])
		return nil, fmt.Errorf("%w: %s: %s (code %d)", ErrCall, f, messageOr(msg, "no message"), int(rc))
	}
	switch frame.status {
	case C.ARB_CALL_OK:
	case C.ARB_CALL_NO_RESULT:
		return nil, fmt.Errorf("%w: %s returned success without a result array", ErrResult, f)
	default:
		return nil, fmt.Errorf("%w: %s: out of memory", ErrCall, f)
	}

	if frame.out_schema.release != nil {
		field, err := importField((*cdata.CArrowSchema)(unsafe.Pointer(&frame.out_schema)))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: result schema: %v", ErrResult, f, err)
		}
		if !arrow.TypeEqual(field.Type, f.result) {
			return nil, fmt.Errorf("%w: %s returned type %s, declared %s", ErrResult, f, field.Type, f.result)
		}
	}
	res, err := importArray((*cdata.CArrowArray)(unsafe.Pointer(&frame.out)), f.result)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: result of type %s: %v", ErrResult, f, f.result, err)
	}
	if res.Len() != rows {
		n := res.Len()
		res.Release()
		return nil, fmt.Errorf("%w: %s returned %d rows, want %d", ErrResult, f, n, rows)
	}
	// Offsets and UTF-8 of strings and binaries: a bad one would make the
	// engine panic later, far from the culprit.
	if err := validateResult(res); err != nil {
		res.Release()
		return nil, fmt.Errorf("%w: %s: malformed result: %v", ErrResult, f, err)
	}
	return res, nil
}

// importArray is cdata.ImportCArrayWithType with a panic of the importer
// (on a malformed array from the library) turned into an error. On error
// the C array is left for arb_frame_free to release if the importer did
// not take it.
func importArray(a *cdata.CArrowArray, dt arrow.DataType) (arr arrow.Array, err error) {
	defer func() {
		if r := recover(); r != nil {
			arr, err = nil, fmt.Errorf("malformed ArrowArray: %v", r)
		}
	}()
	return cdata.ImportCArrayWithType(a, dt)
}
