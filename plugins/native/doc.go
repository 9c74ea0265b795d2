// Package native loads native in-process scalar UDF libraries: shared
// objects that export the C ABI of arbalest_udf.h (in this directory) and
// are called through the Arrow C Data Interface without copying batches.
//
// Load dlopens a library, runs its init function and checks the function
// table it fills; Library.Functions returns the functions as
// logical.Function values whose Impl calls into the library. A call
// exports the argument arrays with arrow-go's cdata package (the library
// reads the Go buffers in place), imports the result (the Go array adopts
// the library's buffers) and checks it against the declaration: type,
// length, layout, string offsets and UTF-8. Every exported array is
// released once, right after the call; a result is released by its owner,
// and the library stays loaded until its last result is gone.
//
// Native code runs in the executor's process: a crash in it is a crash of
// the executor. Out-of-process plugins (the Go and Python SDKs) are the
// choice for code that is not trusted that far.
//
// The package needs cgo. Built without it, or with the build tag
// arbalest_nonative (for a statically linked binary, where dlopen cannot
// work), Load returns ErrUnsupported.
package native

import "errors"

// ABIVersion is the version of arbalest_udf.h this host implements.
const ABIVersion = 1

// InitSymbol is the symbol a version-1 library exports.
const InitSymbol = "arbalest_udf_init_v1"

var (
	// ErrLoad: the library could not be opened or initialised.
	ErrLoad = errors.New("native: cannot load library")
	// ErrABI: the library's table breaks the ABI (version, names, types).
	ErrABI = errors.New("native: library breaks the ABI")
	// ErrArgs: a call's arguments do not match the declaration.
	ErrArgs = errors.New("native: bad arguments")
	// ErrCall: the function reported an error.
	ErrCall = errors.New("native: function failed")
	// ErrResult: the function returned a result that does not match its
	// declaration or is malformed.
	ErrResult = errors.New("native: bad result")
	// ErrClosed: the library was closed.
	ErrClosed = errors.New("native: library closed")
	// ErrUnsupported: this binary was built without cgo.
	ErrUnsupported = errors.New("native: UDF libraries need a binary built with cgo")
)
