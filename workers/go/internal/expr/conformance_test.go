package expr_test

import (
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/conformance/functions"
	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
)

// TestSubstraitFunctions runs the Substrait specification's scalar
// function cases against the kernels (see conformance/functions).
func TestSubstraitFunctions(t *testing.T) {
	functions.Run(t, functions.Engine{
		Compile: func(e logical.Expr, input *arrow.Schema, alloc memory.Allocator) (functions.Evaluator, error) {
			return expr.Compile(e, input, alloc)
		},
		NotSupported: func(err error) bool { return errors.Is(err, expr.ErrNotSupported) },
	})
}
