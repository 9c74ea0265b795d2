package scan

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// contractType is the type the engine reads a file column of type t as
// (logical.ContractType: the rule the SDK applies to file schemas too).
func contractType(t arrow.DataType) arrow.DataType { return logical.ContractType(t) }

// contractSchema applies contractType to every field of s.
func contractSchema(s *arrow.Schema) *arrow.Schema { return logical.ContractSchema(s) }

// conformArray returns arr converted to target (a contract type of
// arr's type). The result is a new reference the caller releases; arr is
// not released.
func conformArray(arr arrow.Array, target arrow.DataType, mem memory.Allocator) (arrow.Array, error) {
	src := arr.DataType()
	if arrow.TypeEqual(src, target) {
		arr.Retain()
		return arr, nil
	}
	switch src.ID() {
	case arrow.DICTIONARY:
		dict := arr.(*array.Dictionary)
		values, err := conformArray(dict.Dictionary(), target, mem)
		if err != nil {
			return nil, err
		}
		defer values.Release()
		return decodeDictionary(dict, values, mem)
	case arrow.STRING_VIEW, arrow.BINARY_VIEW:
		if target.ID() == arrow.STRING || target.ID() == arrow.BINARY {
			return viewToBinary(arr.(array.ViewLike), target, mem)
		}
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		if target.ID() == arrow.STRING || target.ID() == arrow.BINARY {
			return largeToBinary(arr, target, mem)
		}
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		if target.ID() == arrow.DECIMAL64 || target.ID() == arrow.DECIMAL128 {
			return convertDecimal(arr, target, mem)
		}
	case arrow.INT32, arrow.INT64:
		// A decimal or date stored as an integer: same values, new type.
		return retypeInteger(arr, target, mem)
	case arrow.TIMESTAMP:
		if target.ID() == arrow.TIMESTAMP {
			return convertTimestamp(arr, target.(*arrow.TimestampType), mem)
		}
	case arrow.DATE64:
		if target.ID() == arrow.DATE32 {
			v := arr.(*array.Date64).Date64Values()
			return mapFixed(arr, target, mem, 4, func(dst []byte) {
				out := arrow.Int32Traits.CastFromBytes(dst)
				for i, x := range v {
					out[i] = int32(floorDiv(int64(x), 86_400_000))
				}
			}), nil
		}
	}
	return nil, fmt.Errorf("cannot convert %s to %s", src, target)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// validityOf returns a copy of arr's validity bitmap aligned to offset 0, or
// nil when it has no nulls.
func validityOf(arr arrow.Array, mem memory.Allocator) *memory.Buffer {
	if arr.NullN() == 0 {
		return nil
	}
	n := arr.Len()
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	bm := arr.Data().Buffers()[0].Bytes()
	bitutil.CopyBitmap(bm, arr.Data().Offset(), n, buf.Bytes(), 0)
	return buf
}

// mapFixed builds a fixed-width array of type t with arr's nulls whose
// values fill computes (dst has width*len bytes).
func mapFixed(arr arrow.Array, t arrow.DataType, mem memory.Allocator, width int, fill func(dst []byte)) arrow.Array {
	n := arr.Len()
	values := memory.NewResizableBuffer(mem)
	values.Resize(n * width)
	fill(values.Bytes())
	valid := validityOf(arr, mem)
	data := array.NewData(t, n, []*memory.Buffer{valid, values}, nil, arr.NullN(), 0)
	values.Release()
	if valid != nil {
		valid.Release()
	}
	defer data.Release()
	return array.MakeFromData(data)
}

// retypeInteger reinterprets integer values as target (int64 as Decimal64
// or timestamp; int32 as date32 or, widened, as Decimal64).
func retypeInteger(arr arrow.Array, target arrow.DataType, mem memory.Allocator) (arrow.Array, error) {
	srcWidth := arr.DataType().(arrow.FixedWidthDataType).BitWidth()
	tw, ok := target.(arrow.FixedWidthDataType)
	if !ok {
		return nil, fmt.Errorf("cannot convert %s to %s", arr.DataType(), target)
	}
	switch {
	case srcWidth == tw.BitWidth():
		d := arr.Data()
		nd := array.NewData(target, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
		defer nd.Release()
		return array.MakeFromData(nd), nil
	case srcWidth == 32 && tw.BitWidth() == 64:
		v := arr.(*array.Int32).Int32Values()
		return mapFixed(arr, target, mem, 8, func(dst []byte) {
			out := arrow.Int64Traits.CastFromBytes(dst)
			for i, x := range v {
				out[i] = int64(x)
			}
		}), nil
	}
	return nil, fmt.Errorf("cannot convert %s to %s", arr.DataType(), target)
}

// convertDecimal converts between decimal widths of the same scale;
// narrowing keeps the low bits, which is exact because the precision says
// the value fits.
func convertDecimal(arr arrow.Array, target arrow.DataType, mem memory.Allocator) (arrow.Array, error) {
	_, ss, _ := logical.DecimalParams(arr.DataType())
	if d, ok := arr.DataType().(arrow.DecimalType); ok {
		ss = d.GetScale()
	}
	_, ts, _ := logical.DecimalParams(target)
	if ss != ts {
		return nil, fmt.Errorf("cannot convert %s to %s", arr.DataType(), target)
	}
	n := arr.Len()
	switch target.ID() {
	case arrow.DECIMAL64:
		var get func(i int) int64
		switch a := arr.(type) {
		case *array.Decimal32:
			v := a.Values()
			get = func(i int) int64 { return int64(v[i]) }
		case *array.Decimal64:
			v := a.Values()
			get = func(i int) int64 { return int64(v[i]) }
		case *array.Decimal128:
			v := a.Values()
			get = func(i int) int64 { return int64(v[i].LowBits()) }
		case *array.Decimal256:
			v := a.Values()
			get = func(i int) int64 { return int64(v[i].Array()[0]) }
		default:
			return nil, fmt.Errorf("cannot convert %s to %s", arr.DataType(), target)
		}
		if a, ok := arr.(*array.Decimal128); ok {
			// The common case (pqarrow decodes every decimal as 128 bits):
			// a tight loop over the low words.
			v := a.Values()
			return mapFixed(arr, target, mem, 8, func(dst []byte) {
				out := arrow.Int64Traits.CastFromBytes(dst)
				for i := range out {
					out[i] = int64(v[i].LowBits())
				}
			}), nil
		}
		return mapFixed(arr, target, mem, 8, func(dst []byte) {
			out := arrow.Int64Traits.CastFromBytes(dst)
			for i := 0; i < n; i++ {
				out[i] = get(i)
			}
		}), nil
	case arrow.DECIMAL128:
		switch a := arr.(type) {
		case *array.Decimal256:
			v := a.Values()
			return mapFixed(arr, target, mem, 16, func(dst []byte) {
				out := arrow.Decimal128Traits.CastFromBytes(dst)
				for i := range out {
					w := v[i].Array()
					out[i] = decimal128.New(int64(w[1]), w[0])
				}
			}), nil
		case *array.Decimal64:
			v := a.Values()
			return mapFixed(arr, target, mem, 16, func(dst []byte) {
				out := arrow.Decimal128Traits.CastFromBytes(dst)
				for i := range out {
					out[i] = decimal128.FromI64(int64(v[i]))
				}
			}), nil
		case *array.Decimal32:
			v := a.Values()
			return mapFixed(arr, target, mem, 16, func(dst []byte) {
				out := arrow.Decimal128Traits.CastFromBytes(dst)
				for i := range out {
					out[i] = decimal128.FromI64(int64(v[i]))
				}
			}), nil
		}
	}
	return nil, fmt.Errorf("cannot convert %s to %s", arr.DataType(), target)
}

// convertTimestamp rescales timestamps to target's unit (flooring when it
// is coarser), dropping any zone: values are UTC instants either way.
func convertTimestamp(arr arrow.Array, target *arrow.TimestampType, mem memory.Allocator) (arrow.Array, error) {
	src := arr.DataType().(*arrow.TimestampType)
	v := arr.(*array.Timestamp).TimestampValues()
	if src.Unit == target.Unit {
		d := arr.Data()
		nd := array.NewData(target, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
		defer nd.Release()
		return array.MakeFromData(nd), nil
	}
	mul, div := unitRatio(src.Unit, target.Unit)
	return mapFixed(arr, target, mem, 8, func(dst []byte) {
		out := arrow.Int64Traits.CastFromBytes(dst)
		switch {
		case div > 1:
			for i, x := range v {
				out[i] = floorDiv(int64(x), div)
			}
		default:
			for i, x := range v {
				out[i] = int64(x) * mul
			}
		}
	}), nil
}

// unitRatio returns the factors that convert a count of from units into to
// units: multiply by mul or divide by div (one of them is 1).
func unitRatio(from, to arrow.TimeUnit) (mul, div int64) {
	scale := [...]int64{1, 1_000, 1_000_000, 1_000_000_000} // s, ms, us, ns
	f, t := scale[from], scale[to]
	if t >= f {
		return t / f, 1
	}
	return 1, f / t
}

// viewToBinary copies a string_view/binary_view array into utf8/binary.
func viewToBinary(arr array.ViewLike, target arrow.DataType, mem memory.Allocator) (arrow.Array, error) {
	n := arr.Len()
	total := 0
	for i := 0; i < n; i++ {
		if arr.IsValid(i) {
			total += int(arr.ValueHeader(i).Len())
		}
	}
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("a batch of %d strings holds %d bytes, more than utf8 allows", n, total)
	}
	offsets := memory.NewResizableBuffer(mem)
	offsets.Resize((n + 1) * 4)
	data := memory.NewResizableBuffer(mem)
	data.Resize(total)
	off := arrow.Int32Traits.CastFromBytes(offsets.Bytes())
	dst := data.Bytes()
	pos := 0
	var value func(i int) []byte
	switch a := arr.(type) {
	case *array.StringView:
		value = func(i int) []byte { return unsafe.Slice(unsafe.StringData(a.Value(i)), a.ValueLen(i)) }
	case *array.BinaryView:
		value = a.Value
	default:
		offsets.Release()
		data.Release()
		return nil, fmt.Errorf("cannot convert %s to %s", arr.DataType(), target)
	}
	for i := 0; i < n; i++ {
		off[i] = int32(pos)
		if arr.IsValid(i) {
			pos += copy(dst[pos:], value(i))
		}
	}
	off[n] = int32(pos)
	valid := validityOf(arr, mem)
	d := array.NewData(target, n, []*memory.Buffer{valid, offsets, data}, nil, arr.NullN(), 0)
	offsets.Release()
	data.Release()
	if valid != nil {
		valid.Release()
	}
	defer d.Release()
	return array.MakeFromData(d), nil
}

// largeToBinary converts large_utf8/large_binary (int64 offsets) to
// utf8/binary, sharing the value bytes.
func largeToBinary(arr arrow.Array, target arrow.DataType, mem memory.Allocator) (arrow.Array, error) {
	d := arr.Data()
	n := d.Len()
	src := arrow.Int64Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset() : d.Offset()+n+1]
	base := src[0]
	if src[n]-base > math.MaxInt32 {
		return nil, fmt.Errorf("a batch of %d strings holds %d bytes, more than utf8 allows", n, src[n]-base)
	}
	offsets := memory.NewResizableBuffer(mem)
	offsets.Resize((n + 1) * 4)
	off := arrow.Int32Traits.CastFromBytes(offsets.Bytes())
	for i, o := range src {
		off[i] = int32(o - base)
	}
	values := memory.SliceBuffer(d.Buffers()[2], int(base), int(src[n]-base))
	valid := validityOf(arr, mem)
	nd := array.NewData(target, n, []*memory.Buffer{valid, offsets, values}, nil, d.NullN(), 0)
	offsets.Release()
	values.Release()
	if valid != nil {
		valid.Release()
	}
	defer nd.Release()
	return array.MakeFromData(nd), nil
}

// decodeDictionary materialises a dictionary array whose (already
// converted) dictionary is values.
func decodeDictionary(dict *array.Dictionary, values arrow.Array, mem memory.Allocator) (arrow.Array, error) {
	n := dict.Len()
	t := values.DataType()
	valid := validityOf(dict, mem)
	release := func(bufs ...*memory.Buffer) {
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
	}
	switch v := values.(type) {
	case *array.String, *array.Binary:
		get := func(i int) []byte {
			if s, ok := v.(*array.String); ok {
				return unsafe.Slice(unsafe.StringData(s.Value(i)), s.ValueLen(i))
			}
			return v.(*array.Binary).Value(i)
		}
		total := 0
		for i := 0; i < n; i++ {
			if dict.IsValid(i) {
				total += len(get(dict.GetValueIndex(i)))
			}
		}
		if total > math.MaxInt32 {
			release(valid)
			return nil, fmt.Errorf("a batch of %d strings holds %d bytes, more than utf8 allows", n, total)
		}
		offsets := memory.NewResizableBuffer(mem)
		offsets.Resize((n + 1) * 4)
		data := memory.NewResizableBuffer(mem)
		data.Resize(total)
		off := arrow.Int32Traits.CastFromBytes(offsets.Bytes())
		dst := data.Bytes()
		pos := 0
		for i := 0; i < n; i++ {
			off[i] = int32(pos)
			if dict.IsValid(i) {
				pos += copy(dst[pos:], get(dict.GetValueIndex(i)))
			}
		}
		off[n] = int32(pos)
		d := array.NewData(t, n, []*memory.Buffer{valid, offsets, data}, nil, dict.NullN(), 0)
		release(valid, offsets, data)
		defer d.Release()
		return array.MakeFromData(d), nil
	}
	fw, ok := t.(arrow.FixedWidthDataType)
	if !ok || fw.BitWidth()%8 != 0 || values.NullN() > 0 {
		release(valid)
		return nil, fmt.Errorf("cannot decode a dictionary of %s", t)
	}
	w := fw.BitWidth() / 8
	vd := values.Data()
	src := vd.Buffers()[1].Bytes()[vd.Offset()*w:]
	out := memory.NewResizableBuffer(mem)
	out.Resize(n * w)
	dst := out.Bytes()
	for i := 0; i < n; i++ {
		if dict.IsValid(i) {
			j := dict.GetValueIndex(i)
			copy(dst[i*w:(i+1)*w], src[j*w:(j+1)*w])
		}
	}
	d := array.NewData(t, n, []*memory.Buffer{valid, out}, nil, dict.NullN(), 0)
	release(valid, out)
	defer d.Release()
	return array.MakeFromData(d), nil
}
