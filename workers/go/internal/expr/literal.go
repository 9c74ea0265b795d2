package expr

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// literalArray builds the one-row array (in constAlloc memory) holding a
// literal's value.
func literalArray(l *logical.Literal) (arrow.Array, error) {
	if l.T == nil {
		return nil, fmt.Errorf("expr: literal %s has no type", l)
	}
	if l.Value == nil {
		return nullArray(constAlloc, l.T, 1), nil
	}
	b := array.NewBuilder(constAlloc, l.T)
	defer b.Release()
	bad := func() error {
		return fmt.Errorf("expr: literal value %v (%T) does not match its type %s", l.Value, l.Value, l.T)
	}
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		v, ok := l.Value.(bool)
		if !ok {
			return nil, bad()
		}
		bb.Append(v)
	case *array.Int8Builder:
		v, ok := asInt64(l.Value)
		if !ok || v < -1<<7 || v >= 1<<7 {
			return nil, bad()
		}
		bb.Append(int8(v))
	case *array.Int16Builder:
		v, ok := asInt64(l.Value)
		if !ok || v < -1<<15 || v >= 1<<15 {
			return nil, bad()
		}
		bb.Append(int16(v))
	case *array.Int32Builder:
		v, ok := asInt64(l.Value)
		if !ok || v < -1<<31 || v >= 1<<31 {
			return nil, bad()
		}
		bb.Append(int32(v))
	case *array.Int64Builder:
		v, ok := asInt64(l.Value)
		if !ok {
			return nil, bad()
		}
		bb.Append(v)
	case *array.Uint8Builder, *array.Uint16Builder, *array.Uint32Builder, *array.Uint64Builder:
		v, ok := asInt64(l.Value)
		if !ok || v < 0 {
			return nil, bad()
		}
		switch ub := bb.(type) {
		case *array.Uint8Builder:
			ub.Append(uint8(v))
		case *array.Uint16Builder:
			ub.Append(uint16(v))
		case *array.Uint32Builder:
			ub.Append(uint32(v))
		case *array.Uint64Builder:
			ub.Append(uint64(v))
		}
	case *array.Float32Builder:
		switch v := l.Value.(type) {
		case float32:
			bb.Append(v)
		case float64:
			bb.Append(float32(v))
		default:
			return nil, bad()
		}
	case *array.Float64Builder:
		switch v := l.Value.(type) {
		case float32:
			bb.Append(float64(v))
		case float64:
			bb.Append(v)
		default:
			return nil, bad()
		}
	case *array.StringBuilder, *array.LargeStringBuilder, *array.StringViewBuilder,
		*array.BinaryBuilder, *array.BinaryViewBuilder:
		var s string
		switch v := l.Value.(type) {
		case string:
			s = v
		case []byte:
			s = string(v)
		default:
			return nil, bad()
		}
		switch sb := bb.(type) {
		case *array.StringBuilder:
			sb.Append(s)
		case *array.LargeStringBuilder:
			sb.Append(s)
		case *array.StringViewBuilder:
			sb.Append(s)
		case *array.BinaryBuilder:
			sb.Append([]byte(s))
		case *array.BinaryViewBuilder:
			sb.Append([]byte(s))
		}
	case *array.Decimal64Builder:
		v, ok := l.Value.(int64)
		if !ok {
			return nil, bad()
		}
		bb.Append(decimal.Decimal64(v))
	case *array.Decimal128Builder:
		switch v := l.Value.(type) {
		case decimal128.Num:
			bb.Append(v)
		case int64:
			bb.Append(decimal128.FromI64(v))
		default:
			return nil, bad()
		}
	case *array.Date32Builder:
		switch v := l.Value.(type) {
		case arrow.Date32:
			bb.Append(v)
		case int32:
			bb.Append(arrow.Date32(v))
		default:
			return nil, bad()
		}
	case *array.TimestampBuilder:
		switch v := l.Value.(type) {
		case arrow.Timestamp:
			bb.Append(v)
		case int64:
			bb.Append(arrow.Timestamp(v))
		default:
			return nil, bad()
		}
	case *array.MonthDayNanoIntervalBuilder:
		v, ok := l.Value.(arrow.MonthDayNanoInterval)
		if !ok {
			return nil, bad()
		}
		bb.Append(v)
	default:
		return nil, fmt.Errorf("%w: literal of type %s", ErrNotSupported, l.T)
	}
	return b.NewArray(), nil
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x > 1<<63-1 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// broadcast returns an array of n rows that all equal row 0 of one.
func broadcast(alloc memory.Allocator, one arrow.Array, n int) (arrow.Array, error) {
	if one.IsNull(0) {
		return nullArray(alloc, one.DataType(), n), nil
	}
	switch one.DataType().ID() {
	case arrow.BOOL:
		v := one.(*array.Boolean).Value(0)
		buf, bits := newBitmap(alloc, n)
		if v {
			setAll(bits, n)
		}
		return makeArray(one.DataType(), n, nil, buf), nil
	case arrow.STRING:
		s := one.(*array.String).Value(0)
		return repeatString(alloc, s, n), nil
	}
	if w := fixedWidth(one.DataType()); w > 0 {
		return broadcastFixed(alloc, one, n, w), nil
	}
	idx := make([]int32, n)
	return takeArray(alloc, one, idx)
}

// setAll sets the first n bits of bits.
func setAll(bits []byte, n int) {
	full := n / 8
	for i := 0; i < full; i++ {
		bits[i] = 0xff
	}
	for i := full * 8; i < n; i++ {
		bits[i>>3] |= 1 << (i & 7)
	}
}

func broadcastFixed(alloc memory.Allocator, one arrow.Array, n, w int) arrow.Array {
	switch w {
	case 1:
		return fillFixed[int8](alloc, one, n)
	case 2:
		return fillFixed[int16](alloc, one, n)
	case 4:
		return fillFixed[int32](alloc, one, n)
	case 8:
		return fillFixed[int64](alloc, one, n)
	default:
		return fillFixed[decimal128.Num](alloc, one, n)
	}
}

func fillFixed[T fixed](alloc memory.Allocator, one arrow.Array, n int) arrow.Array {
	v := values[T](one)[0]
	buf, out := newValues[T](alloc, n)
	for i := range out {
		out[i] = v
	}
	return makeArray(one.DataType(), n, nil, buf)
}

func repeatString(alloc memory.Allocator, s string, n int) arrow.Array {
	obuf, offs := newValues[int32](alloc, n+1)
	dbuf := memory.NewResizableBuffer(alloc)
	dbuf.Resize(len(s) * n)
	data := dbuf.Bytes()
	pos := 0
	for i := 0; i < n; i++ {
		offs[i] = int32(pos)
		pos += copy(data[pos:], s)
	}
	offs[n] = int32(pos)
	return makeArray(arrow.BinaryTypes.String, n, nil, obuf, dbuf)
}

// fixedWidth is the byte width of a fixed-width primitive type (0 for
// others; booleans are bit-packed and report 0).
func fixedWidth(t arrow.DataType) int {
	switch t.ID() {
	case arrow.INT8, arrow.UINT8:
		return 1
	case arrow.INT16, arrow.UINT16, arrow.FLOAT16:
		return 2
	case arrow.INT32, arrow.UINT32, arrow.FLOAT32, arrow.DATE32, arrow.TIME32, arrow.DECIMAL32, arrow.INTERVAL_MONTHS:
		return 4
	case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.DATE64, arrow.TIMESTAMP, arrow.TIME64, arrow.DURATION,
		arrow.DECIMAL64, arrow.INTERVAL_DAY_TIME:
		return 8
	case arrow.DECIMAL128, arrow.INTERVAL_MONTH_DAY_NANO:
		return 16
	}
	return 0
}
