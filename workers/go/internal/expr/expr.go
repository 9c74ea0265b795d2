// Package expr evaluates bound logical expressions over Arrow record
// batches, vectorised: every kernel works on whole arrays.
package expr

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Evaluator is a compiled expression.
type Evaluator interface {
	// Eval evaluates over batch. The result has batch.NumRows() rows and is
	// owned by the caller, who must Release it.
	Eval(ctx context.Context, batch arrow.RecordBatch) (arrow.Array, error)
	// Type is the result type.
	Type() arrow.DataType
}

// Compile turns e, bound against input, into an Evaluator that allocates
// with alloc. Unknown functions or unsupported argument types are errors
// that name the function and types.
func Compile(e logical.Expr, input *arrow.Schema, alloc memory.Allocator) (Evaluator, error) {
	return compile(e, input, alloc)
}
