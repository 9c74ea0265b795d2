package expr

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// strBuilder assembles a utf8 array in one pass: offsets are preallocated
// for n rows and the data buffer grows geometrically.
type strBuilder struct {
	offBuf  *memory.Buffer
	offs    []int32
	dataBuf *memory.Buffer
	data    []byte // data[:len] is written
	row     int
}

func newStrBuilder(alloc memory.Allocator, n, estBytes int) *strBuilder {
	b := &strBuilder{}
	b.offBuf, b.offs = newValues[int32](alloc, n+1)
	b.offs[0] = 0
	b.dataBuf = memory.NewResizableBuffer(alloc)
	if estBytes < 64 {
		estBytes = 64
	}
	b.dataBuf.Reserve(estBytes)
	b.data = b.dataBuf.Buf()[:0]
	return b
}

// grow makes room for k more bytes.
func (b *strBuilder) grow(k int) {
	if len(b.data)+k <= cap(b.data) {
		return
	}
	need := len(b.data) + k
	nc := max(2*cap(b.data), need)
	l := len(b.data)
	b.dataBuf.ResizeNoShrink(l)
	b.dataBuf.Reserve(nc)
	b.data = b.dataBuf.Buf()[:l]
}

func (b *strBuilder) appendBytes(p []byte) {
	b.grow(len(p))
	b.data = append(b.data, p...)
}

func (b *strBuilder) appendString(s string) {
	b.grow(len(s))
	b.data = append(b.data, s...)
}

func (b *strBuilder) appendByte(c byte) {
	b.grow(1)
	b.data = append(b.data, c)
}

// endRow closes the current row.
func (b *strBuilder) endRow() {
	b.row++
	b.offs[b.row] = int32(len(b.data))
}

// finish returns the array, taking over valid (which may be nil). It
// fails when the data exceeds utf8's 2 GiB limit.
func (b *strBuilder) finish(valid *memory.Buffer) (arrow.Array, error) {
	if len(b.data) > 1<<31-1 {
		b.release()
		releaseBuf(valid)
		return nil, fmt.Errorf("%w: string result exceeds 2 GiB", ErrOverflow)
	}
	b.dataBuf.ResizeNoShrink(len(b.data))
	return makeArray(arrow.BinaryTypes.String, b.row, valid, b.offBuf, b.dataBuf), nil
}

func (b *strBuilder) release() {
	b.offBuf.Release()
	b.dataBuf.Release()
}

// strView gives zero-copy access to the rows of a utf8 array.
type strView struct {
	offs []int32
	data []byte
}

func newStrView(a arrow.Array) strView {
	o, d := binaryParts(a)
	return strView{offs: o, data: d}
}

func (v strView) bytes(i int) []byte { return v.data[v.offs[i]:v.offs[i+1]] }

// str returns row i as a string sharing the array's memory; it must not
// outlive the array.
func (v strView) str(i int) string {
	b := v.data[v.offs[i]:v.offs[i+1]]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// toUtf8 converts a large_utf8, string_view or binary array to utf8
// (retaining a utf8 array as is).
func toUtf8(alloc memory.Allocator, a arrow.Array) (arrow.Array, error) {
	switch x := a.(type) {
	case *array.String:
		a.Retain()
		return a, nil
	case *array.LargeString:
		return rebuildStrings(alloc, a, x.Len(), func(i int) string { return x.Value(i) })
	case *array.StringView:
		return rebuildStrings(alloc, a, x.Len(), func(i int) string { return x.Value(i) })
	case *array.Binary:
		return rebuildStrings(alloc, a, x.Len(), func(i int) string { return x.ValueString(i) })
	case *array.Null:
		return nullArray(alloc, arrow.BinaryTypes.String, a.Len()), nil
	}
	return nil, fmt.Errorf("%w: %s as a string", ErrNotSupported, a.DataType())
}

func rebuildStrings(alloc memory.Allocator, a arrow.Array, n int, get func(int) string) (arrow.Array, error) {
	total := 0
	for i := 0; i < n; i++ {
		if a.IsValid(i) {
			total += len(get(i))
		}
	}
	if total > 1<<31-1 {
		return nil, fmt.Errorf("%w: strings exceed 2 GiB", ErrOverflow)
	}
	b := newStrBuilder(alloc, n, total)
	for i := 0; i < n; i++ {
		if a.IsValid(i) {
			b.appendString(get(i))
		}
		b.endRow()
	}
	return b.finish(copyValidity(alloc, a))
}
