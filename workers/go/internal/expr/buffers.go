package expr

import (
	"encoding/binary"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// fixed is the set of Go types that mirror Arrow fixed-width value buffers.
type fixed interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 |
		~float32 | ~float64 | decimal128.Num | i128 | arrow.MonthDayNanoInterval
}

// values reinterprets the value buffer of a fixed-width array as []T,
// adjusted for the array's offset. T must match the array's physical type.
func values[T fixed](a arrow.Array) []T {
	d := a.Data()
	bufs := d.Buffers()
	if len(bufs) < 2 || bufs[1] == nil || d.Len() == 0 {
		return nil
	}
	b := bufs[1].Bytes()
	var z T
	sz := int(unsafe.Sizeof(z))
	all := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/sz)
	return all[d.Offset() : d.Offset()+d.Len()]
}

// newValues allocates a value buffer for n values of T. The caller owns the
// buffer (one reference).
func newValues[T fixed](alloc memory.Allocator, n int) (*memory.Buffer, []T) {
	var z T
	sz := int(unsafe.Sizeof(z))
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(n * sz)
	if n == 0 {
		return buf, nil
	}
	b := buf.Bytes()
	return buf, unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// newBitmap allocates a zeroed bitmap for n bits.
func newBitmap(alloc memory.Allocator, n int) (*memory.Buffer, []byte) {
	buf := memory.NewResizableBuffer(alloc)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	b := buf.Bytes()
	clear(b)
	return buf, b
}

// makeArray wraps buffers into an array of type dt, taking over the
// caller's references to the buffers (nil buffers are allowed).
func makeArray(dt arrow.DataType, n int, bufs ...*memory.Buffer) arrow.Array {
	nulls := array.UnknownNullCount
	if bufs[0] == nil {
		nulls = 0
	}
	data := array.NewData(dt, n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	arr := array.MakeFromData(data)
	data.Release()
	return arr
}

// validityBits returns the validity bitmap and bit offset of a, or nil when
// a has no nulls.
func validityBits(a arrow.Array) ([]byte, int) {
	if a.NullN() == 0 {
		return nil, 0
	}
	if a.DataType().ID() == arrow.NULL {
		return nil, 0
	}
	return a.NullBitmapBytes(), a.Data().Offset()
}

// isValid reports whether row i of a is non-null, given its validity bitmap
// from validityBits.
func isValid(bm []byte, off, i int) bool {
	return bm == nil || bitutil.BitIsSet(bm, off+i)
}

// allNull reports whether every row of a is null.
func allNull(a arrow.Array) bool { return a.NullN() == a.Len() }

// combineValidity returns a new validity bitmap that is the AND of the
// arrays' validity (nil if none has nulls). An all-null array (including
// the null type) yields an all-zero bitmap.
func combineValidity(alloc memory.Allocator, n int, arrs ...arrow.Array) *memory.Buffer {
	var out *memory.Buffer
	for _, a := range arrs {
		if a == nil || a.NullN() == 0 {
			continue
		}
		if a.DataType().ID() == arrow.NULL || a.NullBitmapBytes() == nil {
			if out == nil {
				out, _ = newBitmap(alloc, n)
			} else {
				clear(out.Bytes())
			}
			continue
		}
		bm, off := a.NullBitmapBytes(), a.Data().Offset()
		if out == nil {
			var b []byte
			out, b = newBitmap(alloc, n)
			bitutil.CopyBitmap(bm, off, n, b, 0)
			continue
		}
		b := out.Bytes()
		bitutil.BitmapAnd(b, bm, 0, int64(off), b, 0, int64(n))
	}
	return out
}

// copyValidity returns a copy of a's validity bitmap at offset 0, or nil.
func copyValidity(alloc memory.Allocator, a arrow.Array) *memory.Buffer {
	return combineValidity(alloc, a.Len(), a)
}

// allValidBitmap returns a bitmap with n bits set.
func allValidBitmap(alloc memory.Allocator, n int) (*memory.Buffer, []byte) {
	buf, b := newBitmap(alloc, n)
	bitutil.SetBitsTo(b, 0, int64(n), true)
	return buf, b
}

// alignedBits returns the bits [off, off+n) of bm as a byte slice starting
// at bit 0: a sub-slice when off is a multiple of 8, otherwise a copy in
// scratch.
func alignedBits(bm []byte, off, n int, scratch *[]byte) []byte {
	nb := int(bitutil.BytesForBits(int64(n)))
	if off%8 == 0 {
		return bm[off/8 : off/8+nb]
	}
	if cap(*scratch) < nb {
		*scratch = make([]byte, nb)
	}
	s := (*scratch)[:nb]
	bitutil.CopyBitmap(bm, off, n, s, 0)
	return s
}

// boolBits returns the value bitmap and offset of a boolean array.
func boolBits(a arrow.Array) ([]byte, int) {
	d := a.Data()
	bufs := d.Buffers()
	if len(bufs) < 2 || bufs[1] == nil {
		return nil, 0
	}
	return bufs[1].Bytes(), d.Offset()
}

// word reads up to 8 bytes of b starting at i as a little-endian word.
func word(b []byte, i int) uint64 {
	if i+8 <= len(b) {
		return binary.LittleEndian.Uint64(b[i:])
	}
	var w uint64
	for k := 0; i+k < len(b); k++ {
		w |= uint64(b[i+k]) << (8 * k)
	}
	return w
}

// putWord writes w as little-endian bytes into b at i (truncating at len(b)).
func putWord(b []byte, i int, w uint64) {
	if i+8 <= len(b) {
		binary.LittleEndian.PutUint64(b[i:], w)
		return
	}
	for k := 0; i+k < len(b); k++ {
		b[i+k] = byte(w >> (8 * k))
	}
}

// packBools sets bit i of out for every true pred(i), i in [0, n). out must
// be zeroed. It packs eight results per byte store.
func packBools(out []byte, n int, pred func(i int) bool) {
	full := n &^ 7
	for i := 0; i < full; i += 8 {
		var b byte
		for k := 0; k < 8; k++ {
			if pred(i + k) {
				b |= 1 << k
			}
		}
		out[i>>3] = b
	}
	for i := full; i < n; i++ {
		if pred(i) {
			out[i>>3] |= 1 << (i & 7)
		}
	}
}

// nullArray returns an all-null array of type dt with n rows.
func nullArray(alloc memory.Allocator, dt arrow.DataType, n int) arrow.Array {
	return array.MakeArrayOfNull(alloc, dt, n)
}
