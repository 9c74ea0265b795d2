package expr

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Constant returns the value of an evaluator whose expression reads no
// column (folded at compile time) as a one-row array, borrowed from the
// evaluator. ok is false for non-constant evaluators.
func Constant(ev Evaluator) (arrow.Array, bool) {
	e, ok := ev.(*evaluator)
	if !ok {
		return nil, false
	}
	k, ok := e.root.(*constNode)
	if !ok {
		return nil, false
	}
	return k.arr, true
}

// EvalFilter evaluates the boolean predicate ev over batch and returns the
// rows where it is true (NULL counts as false). The result is owned by the
// caller; when every row passes it is batch itself, retained.
func EvalFilter(ctx context.Context, ev Evaluator, batch arrow.RecordBatch) (arrow.RecordBatch, error) {
	if ev.Type().ID() != arrow.BOOL {
		return nil, fmt.Errorf("expr: filter predicate has type %s, want boolean", ev.Type())
	}
	alloc := memory.DefaultAllocator
	if e, ok := ev.(*evaluator); ok {
		alloc = e.alloc
		if k, ok := e.root.(*constNode); ok {
			if !k.isNull() && getBit(boolBitsOf(k.arr), k.arr.Data().Offset(), 0, false) {
				batch.Retain()
				return batch, nil
			}
			return emptyBatch(alloc, batch)
		}
	}
	mask, err := ev.Eval(ctx, batch)
	if err != nil {
		return nil, err
	}
	defer mask.Release()
	return FilterBatch(alloc, batch, mask)
}

// FilterBatch returns the rows of batch where mask (a boolean array of the
// same length) is true and not NULL.
func FilterBatch(alloc memory.Allocator, batch arrow.RecordBatch, mask arrow.Array) (arrow.RecordBatch, error) {
	n := int(batch.NumRows())
	if mask.Len() != n || mask.DataType().ID() != arrow.BOOL {
		return nil, fmt.Errorf("expr: filter mask is %s of %d rows for a batch of %d rows", mask.DataType(), mask.Len(), n)
	}
	cnt := countTrue(mask)
	switch cnt {
	case n:
		batch.Retain()
		return batch, nil
	case 0:
		return emptyBatch(alloc, batch)
	}
	idx := trueIndices(mask, make([]int32, 0, cnt))
	return TakeBatch(alloc, batch, idx)
}

// TakeBatch returns the rows idx of batch, in that order.
func TakeBatch(alloc memory.Allocator, batch arrow.RecordBatch, idx []int32) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, batch.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i := range cols {
		c, err := takeArray(alloc, batch.Column(i), idx)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	return array.NewRecordBatch(batch.Schema(), cols, int64(len(idx))), nil
}

// TakeArray returns the rows idx of a, in that order.
func TakeArray(alloc memory.Allocator, a arrow.Array, idx []int32) (arrow.Array, error) {
	return takeArray(alloc, a, idx)
}

func emptyBatch(alloc memory.Allocator, batch arrow.RecordBatch) (arrow.RecordBatch, error) {
	return TakeBatch(alloc, batch, nil)
}
