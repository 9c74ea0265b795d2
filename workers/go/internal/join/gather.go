package join

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// gather returns a new array whose row i is row idx[i] of src, or NULL when
// idx[i] is negative (outer-join padding). Fixed-width, boolean, variable
// length binary and dictionary arrays are copied by hand-written loops;
// other types go through arrow's take kernel.
func gather(alloc memory.Allocator, src arrow.Array, idx []int32) (arrow.Array, error) {
	if len(idx) == 0 {
		return array.MakeArrayOfNull(alloc, src.DataType(), 0), nil
	}
	if r, ok := contiguous(idx); ok && r+len(idx) <= src.Len() {
		return array.NewSlice(src, int64(r), int64(r+len(idx))), nil
	}
	data := src.Data()
	switch dt := src.DataType().(type) {
	case *arrow.NullType:
		return array.NewNull(len(idx)), nil
	case *arrow.BooleanType:
		return gatherBool(alloc, data, idx), nil
	case *arrow.StringType, *arrow.BinaryType:
		return gatherVarBinary[int32](alloc, data, idx), nil
	case *arrow.LargeStringType, *arrow.LargeBinaryType:
		return gatherVarBinary[int64](alloc, data, idx), nil
	case *arrow.DictionaryType:
		d := src.(*array.Dictionary)
		ind, err := gather(alloc, d.Indices(), idx)
		if err != nil {
			return nil, err
		}
		defer ind.Release()
		return array.NewDictionaryArray(dt, ind, d.Dictionary()), nil
	case arrow.FixedWidthDataType:
		switch dt.BitWidth() {
		case 8:
			return gatherFixed[uint8](alloc, data, idx), nil
		case 16:
			return gatherFixed[uint16](alloc, data, idx), nil
		case 32:
			return gatherFixed[uint32](alloc, data, idx), nil
		case 64:
			return gatherFixed[uint64](alloc, data, idx), nil
		case 128:
			return gatherFixed[[16]byte](alloc, data, idx), nil
		case 256:
			return gatherFixed[[32]byte](alloc, data, idx), nil
		}
	}
	return gatherFallback(alloc, src, idx)
}

// contiguous reports whether idx is the run r, r+1, ..., r+len(idx)-1 and
// returns r; such a gather is a zero-copy slice.
func contiguous(idx []int32) (int, bool) {
	r := idx[0]
	if r < 0 || idx[len(idx)-1] != r+int32(len(idx)-1) {
		return 0, false
	}
	for i, j := range idx {
		if j != r+int32(i) {
			return 0, false
		}
	}
	return int(r), true
}

// gatherValidity builds the validity bitmap of a gather, or returns nil and
// 0 when every output row is valid.
func gatherValidity(alloc memory.Allocator, data arrow.ArrayData, idx []int32) (*memory.Buffer, int) {
	srcNulls := nullCount(data) > 0
	if !srcNulls && !hasNegative(idx) {
		return nil, 0
	}
	n := len(idx)
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	bits := buf.Bytes()
	clear(bits)
	nulls := 0
	if srcNulls {
		srcBits := data.Buffers()[0].Bytes()
		off := data.Offset()
		for i, j := range idx {
			if j >= 0 && bitutil.BitIsSet(srcBits, off+int(j)) {
				bitutil.SetBit(bits, i)
			} else {
				nulls++
			}
		}
	} else {
		for i, j := range idx {
			if j >= 0 {
				bitutil.SetBit(bits, i)
			} else {
				nulls++
			}
		}
	}
	return buf, nulls
}

// nullCount is the number of NULLs of data. ArrayData.NullN returns
// array.UnknownNullCount (negative) for data built without a count (as
// some kernels do); then the validity bitmap is counted.
func nullCount(data arrow.ArrayData) int {
	if n := data.NullN(); n >= 0 {
		return n
	}
	bufs := data.Buffers()
	if len(bufs) == 0 || bufs[0] == nil {
		return 0
	}
	return data.Len() - bitutil.CountSetBits(bufs[0].Bytes(), data.Offset(), data.Len())
}

func hasNegative(idx []int32) bool {
	for _, j := range idx {
		if j < 0 {
			return true
		}
	}
	return false
}

// fixedSlice views the bytes of a buffer as a slice of T.
func fixedSlice[T any](b []byte) []T {
	var zero T
	sz := int(unsafe.Sizeof(zero))
	if len(b) < sz {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/sz)
}

func gatherFixed[T any](alloc memory.Allocator, data arrow.ArrayData, idx []int32) arrow.Array {
	n := len(idx)
	var zero T
	width := int(unsafe.Sizeof(zero))
	src := fixedSlice[T](data.Buffers()[1].Bytes())[data.Offset():]
	out := memory.NewResizableBuffer(alloc)
	out.Resize(n * width)
	dst := fixedSlice[T](out.Bytes())[:n]
	valid, nulls := gatherValidity(alloc, data, idx)
	if valid == nil {
		for i, j := range idx {
			dst[i] = src[j]
		}
	} else {
		for i, j := range idx {
			if j >= 0 {
				dst[i] = src[j]
			} else {
				dst[i] = zero
			}
		}
	}
	return finish(data.DataType(), n, nulls, valid, out)
}

func gatherBool(alloc memory.Allocator, data arrow.ArrayData, idx []int32) arrow.Array {
	n := len(idx)
	src := data.Buffers()[1].Bytes()
	off := data.Offset()
	out := memory.NewResizableBuffer(alloc)
	out.Resize(int(bitutil.BytesForBits(int64(n))))
	dst := out.Bytes()
	clear(dst)
	for i, j := range idx {
		if j >= 0 && bitutil.BitIsSet(src, off+int(j)) {
			bitutil.SetBit(dst, i)
		}
	}
	valid, nulls := gatherValidity(alloc, data, idx)
	return finish(data.DataType(), n, nulls, valid, out)
}

func gatherVarBinary[O int32 | int64](alloc memory.Allocator, data arrow.ArrayData, idx []int32) arrow.Array {
	n := len(idx)
	bufs := data.Buffers()
	srcOff := fixedSlice[O](bufs[1].Bytes())[data.Offset():]
	var srcVals []byte
	if bufs[2] != nil {
		srcVals = bufs[2].Bytes()
	}
	var zero O
	width := int(unsafe.Sizeof(zero))

	offBuf := memory.NewResizableBuffer(alloc)
	offBuf.Resize((n + 1) * width)
	dstOff := fixedSlice[O](offBuf.Bytes())[:n+1]
	var total O
	dstOff[0] = 0
	for i, j := range idx {
		if j >= 0 {
			total += srcOff[j+1] - srcOff[j]
		}
		dstOff[i+1] = total
	}
	valBuf := memory.NewResizableBuffer(alloc)
	valBuf.Resize(int(total))
	dst := valBuf.Bytes()
	for i, j := range idx {
		if j >= 0 {
			copy(dst[dstOff[i]:dstOff[i+1]], srcVals[srcOff[j]:srcOff[j+1]])
		}
	}
	valid, nulls := gatherValidity(alloc, data, idx)
	d := array.NewData(data.DataType(), n, []*memory.Buffer{valid, offBuf, valBuf}, nil, nulls, 0)
	if valid != nil {
		valid.Release()
	}
	offBuf.Release()
	valBuf.Release()
	defer d.Release()
	return array.MakeFromData(d)
}

// finish wraps a validity bitmap and a values buffer into an array, handing
// the buffers' references to it.
func finish(dt arrow.DataType, n, nulls int, valid, values *memory.Buffer) arrow.Array {
	d := array.NewData(dt, n, []*memory.Buffer{valid, values}, nil, nulls, 0)
	if valid != nil {
		valid.Release()
	}
	values.Release()
	defer d.Release()
	return array.MakeFromData(d)
}

// gatherFallback uses arrow's take kernel for the types the loops above do
// not cover (nested types, views).
func gatherFallback(alloc memory.Allocator, src arrow.Array, idx []int32) (arrow.Array, error) {
	b := array.NewInt32Builder(alloc)
	defer b.Release()
	b.Reserve(len(idx))
	for _, j := range idx {
		if j >= 0 {
			b.UnsafeAppend(j)
		} else {
			b.UnsafeAppendBoolToBitmap(false)
		}
	}
	ind := b.NewInt32Array()
	defer ind.Release()
	ctx := compute.WithAllocator(context.Background(), alloc)
	out, err := compute.TakeArray(ctx, src, ind)
	if err != nil {
		return nil, fmt.Errorf("join: gathering %s column: %w", src.DataType(), err)
	}
	return out, nil
}
