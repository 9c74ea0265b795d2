package expr

import (
	"context"
	"fmt"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// takeArray gathers the rows idx of a into a new array.
func takeArray(alloc memory.Allocator, a arrow.Array, idx []int32) (arrow.Array, error) {
	n := len(idx)
	dt := a.DataType()
	switch dt.ID() {
	case arrow.NULL:
		return array.NewNull(n), nil
	case arrow.BOOL:
		return takeBool(alloc, a, idx), nil
	case arrow.STRING, arrow.BINARY:
		return takeBinary(alloc, a, idx), nil
	case arrow.LARGE_STRING, arrow.STRING_VIEW:
		return takeStrings(alloc, a, idx), nil
	}
	if w := fixedWidth(dt); w > 0 {
		switch w {
		case 1:
			return takeFixed[int8](alloc, a, idx), nil
		case 2:
			return takeFixed[int16](alloc, a, idx), nil
		case 4:
			return takeFixed[int32](alloc, a, idx), nil
		case 8:
			return takeFixed[int64](alloc, a, idx), nil
		case 16:
			return takeFixed[decimal128.Num](alloc, a, idx), nil
		}
	}
	// Nested and other rare types: arrow's compute kernels.
	ib := array.NewInt32Builder(alloc)
	defer ib.Release()
	ib.AppendValues(idx, nil)
	ia := ib.NewArray()
	defer ia.Release()
	ctx := compute.WithAllocator(context.Background(), alloc)
	out, err := compute.TakeArray(ctx, a, ia)
	if err != nil {
		return nil, fmt.Errorf("expr: take on %s: %w", dt, err)
	}
	return out, nil
}

// takeValidity gathers the validity bits of a at idx (nil if a has no nulls).
func takeValidity(alloc memory.Allocator, a arrow.Array, idx []int32) *memory.Buffer {
	bm, off := validityBits(a)
	if bm == nil {
		if a.NullN() > 0 { // null type or missing bitmap: all null
			buf, _ := newBitmap(alloc, len(idx))
			return buf
		}
		return nil
	}
	buf, out := newBitmap(alloc, len(idx))
	packBools(out, len(idx), func(i int) bool { return bitutil.BitIsSet(bm, off+int(idx[i])) })
	return buf
}

func takeFixed[T fixed](alloc memory.Allocator, a arrow.Array, idx []int32) arrow.Array {
	src := values[T](a)
	buf, out := newValues[T](alloc, len(idx))
	for i, j := range idx {
		out[i] = src[j]
	}
	return makeArray(a.DataType(), len(idx), takeValidity(alloc, a, idx), buf)
}

func takeBool(alloc memory.Allocator, a arrow.Array, idx []int32) arrow.Array {
	src, off := boolBits(a)
	buf, out := newBitmap(alloc, len(idx))
	packBools(out, len(idx), func(i int) bool { return bitutil.BitIsSet(src, off+int(idx[i])) })
	return makeArray(a.DataType(), len(idx), takeValidity(alloc, a, idx), buf)
}

// binaryParts returns the int32 offsets (length+1, for the array's slice)
// and the whole data buffer of a utf8 or binary array.
func binaryParts(a arrow.Array) ([]int32, []byte) {
	d := a.Data()
	bufs := d.Buffers()
	var offs []int32
	if bufs[1] != nil && bufs[1].Len() > 0 {
		all := arrow.Int32Traits.CastFromBytes(bufs[1].Bytes())
		offs = all[d.Offset() : d.Offset()+d.Len()+1]
	} else {
		offs = make([]int32, d.Len()+1)
	}
	var data []byte
	if len(bufs) > 2 && bufs[2] != nil {
		data = bufs[2].Bytes()
	}
	return offs, data
}

func takeBinary(alloc memory.Allocator, a arrow.Array, idx []int32) arrow.Array {
	offs, data := binaryParts(a)
	total := 0
	for _, j := range idx {
		total += int(offs[j+1] - offs[j])
	}
	obuf, oo := newValues[int32](alloc, len(idx)+1)
	dbuf := memory.NewResizableBuffer(alloc)
	dbuf.Resize(total)
	od := dbuf.Bytes()
	pos := int32(0)
	for i, j := range idx {
		oo[i] = pos
		pos += int32(copy(od[pos:], data[offs[j]:offs[j+1]]))
	}
	oo[len(idx)] = pos
	return makeArray(a.DataType(), len(idx), takeValidity(alloc, a, idx), obuf, dbuf)
}

// trueIndices appends to out the indices of rows where the boolean array
// mask is true and not null, scanning the bitmaps a word at a time.
func trueIndices(mask arrow.Array, out []int32) []int32 {
	out = out[:0]
	n := mask.Len()
	var s1, s2 []byte
	vals, voff := boolBits(mask)
	v := alignedBits(vals, voff, n, &s1)
	var valid []byte
	if bm, off := validityBits(mask); bm != nil {
		valid = alignedBits(bm, off, n, &s2)
	} else if mask.NullN() > 0 {
		return out
	}
	for i := 0; i < len(v); i += 8 {
		w := word(v, i)
		if valid != nil {
			w &= word(valid, i)
		}
		base := int32(i * 8)
		for w != 0 {
			t := bits.TrailingZeros64(w)
			r := base + int32(t)
			if int(r) >= n {
				break
			}
			out = append(out, r)
			w &= w - 1
		}
	}
	return out
}

// countTrue counts the rows where mask is true and not null.
func countTrue(mask arrow.Array) int {
	n := mask.Len()
	var s1, s2 []byte
	vals, voff := boolBits(mask)
	v := alignedBits(vals, voff, n, &s1)
	var valid []byte
	if bm, off := validityBits(mask); bm != nil {
		valid = alignedBits(bm, off, n, &s2)
	} else if mask.NullN() > 0 {
		return 0
	}
	cnt := 0
	for i := 0; i < len(v); i += 8 {
		w := word(v, i)
		if valid != nil {
			w &= word(valid, i)
		}
		if rem := n - i*8; rem < 64 {
			w &= (1 << uint(rem)) - 1
		}
		cnt += bits.OnesCount64(w)
	}
	return cnt
}

// takeStrings gathers large_utf8 and string_view rows through a builder.
func takeStrings(alloc memory.Allocator, a arrow.Array, idx []int32) arrow.Array {
	b := array.NewBuilder(alloc, a.DataType())
	defer b.Release()
	b.Reserve(len(idx))
	switch x := a.(type) {
	case *array.LargeString:
		sb := b.(*array.LargeStringBuilder)
		for _, j := range idx {
			if x.IsNull(int(j)) {
				sb.AppendNull()
			} else {
				sb.Append(x.Value(int(j)))
			}
		}
	case *array.StringView:
		sb := b.(*array.StringViewBuilder)
		for _, j := range idx {
			if x.IsNull(int(j)) {
				sb.AppendNull()
			} else {
				sb.Append(x.Value(int(j)))
			}
		}
	}
	return b.NewArray()
}
