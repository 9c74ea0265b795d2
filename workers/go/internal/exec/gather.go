package exec

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

// This file holds the gather kernels every operator here builds on: take
// (rows of one array by index) and interleave (rows of several arrays by
// (source, row) pairs). They copy raw Arrow buffers in typed loops, with a
// validity bitmap only when some selected row can be NULL. Types without a
// specialised loop fall back to arrow's compute.Take.

// rowRef names row Row of source Src; Src < 0 selects a NULL.
type rowRef struct{ Src, Row int32 }

// fixedWidth is the byte width of the fixed-width types copied as raw
// values, 0 for the others.
func fixedWidth(dt arrow.DataType) int {
	switch dt.ID() {
	case arrow.INT8, arrow.UINT8:
		return 1
	case arrow.INT16, arrow.UINT16, arrow.FLOAT16:
		return 2
	case arrow.INT32, arrow.UINT32, arrow.FLOAT32, arrow.DATE32, arrow.TIME32, arrow.DECIMAL32, arrow.INTERVAL_MONTHS:
		return 4
	case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.DATE64, arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION,
		arrow.DECIMAL64, arrow.INTERVAL_DAY_TIME:
		return 8
	case arrow.DECIMAL128, arrow.INTERVAL_MONTH_DAY_NANO:
		return 16
	case arrow.DECIMAL256:
		return 32
	}
	return 0
}

type (
	w16 [2]uint64
	w32 [4]uint64
)

// rawValues reinterprets the values buffer of a fixed-width array.
func rawValues[T any](d arrow.ArrayData) []T {
	if d.Len() == 0 {
		return nil
	}
	b := d.Buffers()[1].Bytes()
	var zero T
	n := len(b) / int(unsafe.Sizeof(zero))
	s := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
	return s[d.Offset() : d.Offset()+d.Len()]
}

// bufferOf returns a new buffer of n bytes from alloc.
func bufferOf(alloc memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(alloc)
	b.Resize(n)
	return b
}

// asSlice reinterprets a buffer as n values of T.
func asSlice[T any](b *memory.Buffer, n int) []T {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b.Bytes()))), n)
}

// validity describes the null bitmap of a source array.
type validity struct {
	bits   []byte // nil when the array has no nulls
	offset int
}

func validityOf(a arrow.Array) validity {
	if a.NullN() == 0 || a.DataType().ID() == arrow.NULL {
		return validity{}
	}
	return validity{bits: a.Data().Buffers()[0].Bytes(), offset: a.Data().Offset()}
}

func (v validity) valid(i int) bool {
	return v.bits == nil || bitutil.BitIsSet(v.bits, v.offset+i)
}

// finish wraps buffers into an array and releases the local references.
func finish(dt arrow.DataType, n, nulls int, bufs []*memory.Buffer) arrow.Array {
	if nulls == 0 && bufs[0] != nil {
		bufs[0].Release()
		bufs[0] = nil
	}
	d := array.NewData(dt, n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	a := array.MakeFromData(d)
	d.Release()
	return a
}

// takeArray gathers arr[idx[i]] into a new array; idx[i] < 0 gives NULL.
func takeArray(alloc memory.Allocator, arr arrow.Array, idx []int32) (arrow.Array, error) {
	dt := arr.DataType()
	n := len(idx)
	if n == 0 {
		return array.MakeArrayOfNull(alloc, dt, 0), nil
	}
	src := validityOf(arr)
	needBits := src.bits != nil
	if !needBits {
		for _, i := range idx {
			if i < 0 {
				needBits = true
				break
			}
		}
	}
	var vbuf *memory.Buffer
	var vbits []byte
	if needBits {
		vbuf = bufferOf(alloc, int(bitutil.BytesForBits(int64(n))))
		vbits = vbuf.Bytes()
		clear(vbits)
	}
	nulls := 0
	setValid := func() {
		if vbits == nil {
			return
		}
		for o, i := range idx {
			if i >= 0 && src.valid(int(i)) {
				bitutil.SetBit(vbits, o)
			} else {
				nulls++
			}
		}
	}
	if w := fixedWidth(dt); w > 0 {
		vals := bufferOf(alloc, n*w)
		d := arr.Data()
		switch w {
		case 1:
			takeFixed(asSlice[uint8](vals, n), rawValues[uint8](d), idx)
		case 2:
			takeFixed(asSlice[uint16](vals, n), rawValues[uint16](d), idx)
		case 4:
			takeFixed(asSlice[uint32](vals, n), rawValues[uint32](d), idx)
		case 8:
			takeFixed(asSlice[uint64](vals, n), rawValues[uint64](d), idx)
		case 16:
			takeFixed(asSlice[w16](vals, n), rawValues[w16](d), idx)
		case 32:
			takeFixed(asSlice[w32](vals, n), rawValues[w32](d), idx)
		}
		setValid()
		return finish(dt, n, nulls, []*memory.Buffer{vbuf, vals}), nil
	}
	switch dt.ID() {
	case arrow.NULL:
		return array.NewNull(n), nil
	case arrow.BOOL:
		vals := bufferOf(alloc, int(bitutil.BytesForBits(int64(n))))
		out := vals.Bytes()
		clear(out)
		sb := arr.Data().Buffers()[1].Bytes()
		off := arr.Data().Offset()
		for o, i := range idx {
			if i >= 0 && bitutil.BitIsSet(sb, off+int(i)) {
				bitutil.SetBit(out, o)
			}
		}
		setValid()
		return finish(dt, n, nulls, []*memory.Buffer{vbuf, vals}), nil
	case arrow.STRING, arrow.BINARY:
		offs, data := takeVarlen[int32](alloc, arr.Data(), idx)
		setValid()
		return finish(dt, n, nulls, []*memory.Buffer{vbuf, offs, data}), nil
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		offs, data := takeVarlen[int64](alloc, arr.Data(), idx)
		setValid()
		return finish(dt, n, nulls, []*memory.Buffer{vbuf, offs, data}), nil
	}
	if vbuf != nil {
		vbuf.Release()
	}
	return computeTake(alloc, arr, idx)
}

func takeFixed[T any](dst, src []T, idx []int32) {
	for o, i := range idx {
		if i >= 0 {
			dst[o] = src[i]
		} else {
			var zero T
			dst[o] = zero
		}
	}
}

func takeVarlen[O int32 | int64](alloc memory.Allocator, d arrow.ArrayData, idx []int32) (*memory.Buffer, *memory.Buffer) {
	n := len(idx)
	var so []O
	var sd []byte
	if d.Len() > 0 {
		so = rawOffsets[O](d)
		sd = d.Buffers()[2].Bytes()
	}
	var total int
	for _, i := range idx {
		if i >= 0 {
			total += int(so[i+1] - so[i])
		}
	}
	offs := bufferOf(alloc, (n+1)*int(unsafe.Sizeof(O(0))))
	oo := asSlice[O](offs, n+1)
	data := bufferOf(alloc, total)
	dd := data.Bytes()
	var pos O
	oo[0] = 0
	for o, i := range idx {
		if i >= 0 {
			pos += O(copy(dd[pos:], sd[so[i]:so[i+1]]))
		}
		oo[o+1] = pos
	}
	return offs, data
}

// rawOffsets returns the Len()+1 offsets of a variable-length array.
func rawOffsets[O int32 | int64](d arrow.ArrayData) []O {
	b := d.Buffers()[1].Bytes()
	s := unsafe.Slice((*O)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(O(0))))
	return s[d.Offset() : d.Offset()+d.Len()+1]
}

// computeTake is the fallback for types without a specialised loop.
func computeTake(alloc memory.Allocator, arr arrow.Array, idx []int32) (arrow.Array, error) {
	b := array.NewInt32Builder(alloc)
	defer b.Release()
	b.Reserve(len(idx))
	for _, i := range idx {
		if i < 0 {
			b.AppendNull()
		} else {
			b.UnsafeAppend(i)
		}
	}
	ia := b.NewArray()
	defer ia.Release()
	out, err := compute.TakeArray(compute.WithAllocator(context.Background(), alloc), arr, ia)
	if err != nil {
		return nil, fmt.Errorf("gather of %s: %w", arr.DataType(), err)
	}
	return out, nil
}

// interleaveArrays gathers srcs[r.Src][r.Row] for each ref into a new array
// of type dt; refs with Src < 0 give NULL.
func interleaveArrays(alloc memory.Allocator, dt arrow.DataType, srcs []arrow.Array, refs []rowRef) (arrow.Array, error) {
	if len(srcs) == 1 {
		idx := make([]int32, len(refs))
		for i, r := range refs {
			if r.Src < 0 {
				idx[i] = -1
			} else {
				idx[i] = r.Row
			}
		}
		return takeArray(alloc, srcs[0], idx)
	}
	n := len(refs)
	if n == 0 {
		return array.MakeArrayOfNull(alloc, dt, 0), nil
	}
	vs := make([]validity, len(srcs))
	needBits := false
	for i, s := range srcs {
		vs[i] = validityOf(s)
		needBits = needBits || vs[i].bits != nil
	}
	if !needBits {
		for _, r := range refs {
			if r.Src < 0 {
				needBits = true
				break
			}
		}
	}
	var vbuf *memory.Buffer
	nulls := 0
	if needBits {
		vbuf = bufferOf(alloc, int(bitutil.BytesForBits(int64(n))))
		vbits := vbuf.Bytes()
		clear(vbits)
		for o, r := range refs {
			if r.Src >= 0 && vs[r.Src].valid(int(r.Row)) {
				bitutil.SetBit(vbits, o)
			} else {
				nulls++
			}
		}
	}
	if w := fixedWidth(dt); w > 0 {
		vals := bufferOf(alloc, n*w)
		switch w {
		case 1:
			interleaveFixed[uint8](asSlice[uint8](vals, n), srcs, refs)
		case 2:
			interleaveFixed[uint16](asSlice[uint16](vals, n), srcs, refs)
		case 4:
			interleaveFixed[uint32](asSlice[uint32](vals, n), srcs, refs)
		case 8:
			interleaveFixed[uint64](asSlice[uint64](vals, n), srcs, refs)
		case 16:
			interleaveFixed[w16](asSlice[w16](vals, n), srcs, refs)
		case 32:
			interleaveFixed[w32](asSlice[w32](vals, n), srcs, refs)
		}
		return finish(dt, n, nulls, []*memory.Buffer{vbuf, vals}), nil
	}
	switch dt.ID() {
	case arrow.NULL:
		if vbuf != nil {
			vbuf.Release()
		}
		return array.NewNull(n), nil
	case arrow.BOOL:
		vals := bufferOf(alloc, int(bitutil.BytesForBits(int64(n))))
		out := vals.Bytes()
		clear(out)
		bits := make([][]byte, len(srcs))
		offs := make([]int, len(srcs))
		for i, s := range srcs {
			if s.Len() > 0 {
				bits[i] = s.Data().Buffers()[1].Bytes()
				offs[i] = s.Data().Offset()
			}
		}
		for o, r := range refs {
			if r.Src >= 0 && bitutil.BitIsSet(bits[r.Src], offs[r.Src]+int(r.Row)) {
				bitutil.SetBit(out, o)
			}
		}
		return finish(dt, n, nulls, []*memory.Buffer{vbuf, vals}), nil
	case arrow.STRING, arrow.BINARY:
		offs, data := interleaveVarlen[int32](alloc, srcs, refs)
		return finish(dt, n, nulls, []*memory.Buffer{vbuf, offs, data}), nil
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		offs, data := interleaveVarlen[int64](alloc, srcs, refs)
		return finish(dt, n, nulls, []*memory.Buffer{vbuf, offs, data}), nil
	}
	if vbuf != nil {
		vbuf.Release()
	}
	// Fallback: concatenate the sources and take with global indices.
	starts := make([]int32, len(srcs))
	var total int64
	for i, s := range srcs {
		starts[i] = int32(total)
		total += int64(s.Len())
	}
	if total > 1<<31-1 {
		return nil, fmt.Errorf("gather of %s: %d source rows exceed the 2^31 limit", dt, total)
	}
	all, err := array.Concatenate(srcs, alloc)
	if err != nil {
		return nil, fmt.Errorf("gather of %s: %w", dt, err)
	}
	defer all.Release()
	idx := make([]int32, n)
	for i, r := range refs {
		if r.Src < 0 {
			idx[i] = -1
		} else {
			idx[i] = starts[r.Src] + r.Row
		}
	}
	return computeTake(alloc, all, idx)
}

func interleaveFixed[T any](dst []T, srcs []arrow.Array, refs []rowRef) {
	vals := make([][]T, len(srcs))
	for i, s := range srcs {
		vals[i] = rawValues[T](s.Data())
	}
	for o, r := range refs {
		if r.Src >= 0 {
			dst[o] = vals[r.Src][r.Row]
		} else {
			var zero T
			dst[o] = zero
		}
	}
}

func interleaveVarlen[O int32 | int64](alloc memory.Allocator, srcs []arrow.Array, refs []rowRef) (*memory.Buffer, *memory.Buffer) {
	n := len(refs)
	so := make([][]O, len(srcs))
	sd := make([][]byte, len(srcs))
	for i, s := range srcs {
		if s.Len() > 0 {
			so[i] = rawOffsets[O](s.Data())
			sd[i] = s.Data().Buffers()[2].Bytes()
		}
	}
	var total int
	for _, r := range refs {
		if r.Src >= 0 {
			o := so[r.Src]
			total += int(o[r.Row+1] - o[r.Row])
		}
	}
	offs := bufferOf(alloc, (n+1)*int(unsafe.Sizeof(O(0))))
	oo := asSlice[O](offs, n+1)
	data := bufferOf(alloc, total)
	dd := data.Bytes()
	var pos O
	oo[0] = 0
	for o, r := range refs {
		if r.Src >= 0 {
			x := so[r.Src]
			pos += O(copy(dd[pos:], sd[r.Src][x[r.Row]:x[r.Row+1]]))
		}
		oo[o+1] = pos
	}
	return offs, data
}

// takeBatch gathers rows idx of every column of b.
func takeBatch(alloc memory.Allocator, schema *arrow.Schema, b arrow.RecordBatch, idx []int32) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, b.NumCols())
	defer releaseAll(cols)
	for i, c := range b.Columns() {
		a, err := takeArray(alloc, c, idx)
		if err != nil {
			return nil, err
		}
		cols[i] = a
	}
	return array.NewRecordBatch(schema, cols, int64(len(idx))), nil
}

// interleaveBatches gathers refs from the batches srcs (all of schema).
func interleaveBatches(alloc memory.Allocator, schema *arrow.Schema, srcs []arrow.RecordBatch, refs []rowRef) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, schema.NumFields())
	defer releaseAll(cols)
	in := make([]arrow.Array, len(srcs))
	for c := range cols {
		for i, s := range srcs {
			in[i] = s.Column(c)
		}
		a, err := interleaveArrays(alloc, schema.Field(c).Type, in, refs)
		if err != nil {
			return nil, err
		}
		cols[c] = a
	}
	return array.NewRecordBatch(schema, cols, int64(len(refs))), nil
}

// releaseAll releases the non-nil arrays of s.
func releaseAll[T interface{ Release() }](s []T) {
	for _, a := range s {
		if any(a) != nil {
			a.Release()
		}
	}
}
