//go:build cgo && !arbalest_nonative

package native

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkAddInt64 measures the cost of a native call: add_i64 of the
// test library (C, gcc -O2) against the same kernel in Go, on batches of
// 8192 rows (the engine's batch size) and of 1 row (the fixed cost of a
// call: export, cgo call, import, checks). ns/row is ns/op divided by the
// batch size.
//
//	go test -run '^$' -bench AddInt64 ./plugins/native/
func BenchmarkAddInt64(b *testing.B) {
	lib, err := Load(mustCompile(b))
	if err != nil {
		b.Fatal(err)
	}
	defer lib.Close()
	add := fn(b, lib, "add_i64")
	mem := memory.DefaultAllocator

	for _, rows := range []int{1, 8192} {
		for _, nulls := range []bool{false, true} {
			if rows == 1 && nulls {
				continue
			}
			x, y := benchInputs(mem, rows, nulls)
			args := []arrow.Array{x, y}
			suffix := fmt.Sprintf("rows=%d", rows)
			if nulls {
				suffix += "/nulls"
			}
			b.Run("native/"+suffix, func(b *testing.B) {
				b.SetBytes(int64(rows) * 16)
				for b.Loop() {
					res, err := add.EvalScalar(context.Background(), args, rows)
					if err != nil {
						b.Fatal(err)
					}
					res.Release()
				}
				reportPerRow(b, rows)
			})
			b.Run("go/"+suffix, func(b *testing.B) {
				b.SetBytes(int64(rows) * 16)
				for b.Loop() {
					goAdd(mem, x, y).Release()
				}
				reportPerRow(b, rows)
			})
			x.Release()
			y.Release()
		}
	}
}

func reportPerRow(b *testing.B, rows int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
}

func benchInputs(mem memory.Allocator, rows int, nulls bool) (*array.Int64, *array.Int64) {
	xs := make([]int64, rows)
	ys := make([]int64, rows)
	var valid []bool
	if nulls {
		valid = make([]bool, rows)
	}
	for i := range xs {
		xs[i], ys[i] = int64(i), int64(3*i)
		if nulls {
			valid[i] = i%10 != 0
		}
	}
	return i64s(mem, xs, valid), i64s(mem, ys, nil)
}

// goAdd is add_i64 written in Go the way a built-in kernel would be: one
// output buffer, a plain loop, the validity bitmaps ANDed.
func goAdd(mem memory.Allocator, x, y *array.Int64) arrow.Array {
	n := x.Len()
	vals := memory.NewResizableBuffer(mem)
	defer vals.Release()
	vals.Resize(n * 8)
	out := arrow.Int64Traits.CastFromBytes(vals.Bytes())
	xv, yv := x.Int64Values(), y.Int64Values()
	for i := range out {
		out[i] = xv[i] + yv[i]
	}
	var valid *memory.Buffer
	nullN := 0
	if x.NullN() > 0 || y.NullN() > 0 {
		valid = memory.NewResizableBuffer(mem)
		defer valid.Release()
		valid.Resize(int(bitutil.BytesForBits(int64(n))))
		bits := valid.Bytes()
		bitutil.SetBitsTo(bits, 0, int64(n), true)
		for _, a := range []*array.Int64{x, y} {
			if a.NullN() > 0 {
				bitutil.BitmapAnd(bits, a.NullBitmapBytes(), 0, int64(a.Data().Offset()), bits, 0, int64(n))
			}
		}
		nullN = n - bitutil.CountSetBits(bits, 0, n)
	}
	d := array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{valid, vals}, nil, nullN, 0)
	defer d.Release()
	return array.NewInt64Data(d)
}
