package expr

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// compile is the dispatcher from logical expressions to evaluators.
// (Bootstrap version: column references only; the kernels land next.)
func compile(e logical.Expr, input *arrow.Schema, alloc memory.Allocator) (Evaluator, error) {
	switch x := e.(type) {
	case *logical.ColumnRef:
		if x.Index < 0 || x.Index >= input.NumFields() {
			return nil, fmt.Errorf("column %s out of range for input with %d columns", x, input.NumFields())
		}
		return &columnEval{idx: x.Index, t: input.Field(x.Index).Type}, nil
	}
	return nil, fmt.Errorf("not supported: expression %s", e)
}

type columnEval struct {
	idx int
	t   arrow.DataType
}

func (c *columnEval) Eval(_ context.Context, b arrow.RecordBatch) (arrow.Array, error) {
	col := b.Column(c.idx)
	col.Retain()
	return col, nil
}

func (c *columnEval) Type() arrow.DataType { return c.t }
