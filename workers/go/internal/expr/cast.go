package expr

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// castFunc converts an array; failing rows are errors, or NULL when try.
type castFunc func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error)

// castNode evaluates a cast.
type castNode struct {
	in    node
	to    arrow.DataType
	try   bool
	fn    castFunc
	alloc memory.Allocator
}

func (c *castNode) dtype() arrow.DataType { return c.to }

func (c *castNode) eval(ctx context.Context, ch *chunk) (arrow.Array, error) {
	a, err := c.in.eval(ctx, ch)
	if err != nil {
		return nil, err
	}
	defer a.Release()
	return c.fn(c.alloc, a, c.try)
}

// castNode returns a node converting in to type to (in itself when the
// types are equal). Constant inputs are converted at compile time.
func (c *compiler) castNode(in node, to arrow.DataType, try bool) (node, error) {
	from := in.dtype()
	if arrow.TypeEqual(from, to) {
		return in, nil
	}
	fn, err := castKernel(from, to)
	if err != nil {
		return nil, err
	}
	if k, ok := in.(*constNode); ok {
		if out, err := fn(constAlloc, k.arr, try); err == nil {
			return c.constOf(out), nil
		}
	}
	return &castNode{in: in, to: to, try: try, fn: fn, alloc: c.alloc}, nil
}

func castUnsupported(from, to arrow.DataType) error {
	return fmt.Errorf("%w: cast from %s to %s", ErrNotSupported, from, to)
}

// castKernel picks the conversion from one type to another.
func castKernel(from, to arrow.DataType) (castFunc, error) {
	if from.ID() == arrow.NULL {
		return func(alloc memory.Allocator, a arrow.Array, _ bool) (arrow.Array, error) {
			return nullArray(alloc, to, a.Len()), nil
		}, nil
	}
	if to.ID() == arrow.STRING {
		if logical.IsString(from) || from.ID() == arrow.BINARY {
			return func(alloc memory.Allocator, a arrow.Array, _ bool) (arrow.Array, error) {
				return toUtf8(alloc, a)
			}, nil
		}
		return castToString(from)
	}
	if logical.IsString(to) && logical.IsString(from) {
		return func(alloc memory.Allocator, a arrow.Array, _ bool) (arrow.Array, error) {
			u, err := toUtf8(alloc, a)
			if err != nil {
				return nil, err
			}
			defer u.Release()
			return stringsTo(alloc, u, to)
		}, nil
	}
	if logical.IsString(from) {
		parse, err := castFromString(to)
		if err != nil {
			return nil, err
		}
		if from.ID() == arrow.STRING {
			return parse, nil
		}
		return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
			u, err := toUtf8(alloc, a)
			if err != nil {
				return nil, err
			}
			defer u.Release()
			return parse(alloc, u, try)
		}, nil
	}
	switch {
	case isSignedInt(from) && isSignedInt(to):
		return intToInt(from, to), nil
	case isSignedInt(from) && logical.IsFloat(to):
		return numToFloat(from, to), nil
	case logical.IsFloat(from) && logical.IsFloat(to):
		return numToFloat(from, to), nil
	case logical.IsFloat(from) && isSignedInt(to):
		return floatToInt(from, to), nil
	case isSignedInt(from) && logical.IsDecimal(to):
		return intToDecimal(from, to), nil
	case logical.IsDecimal(from) && logical.IsDecimal(to):
		return decimalToDecimal(from, to), nil
	case logical.IsDecimal(from) && isSignedInt(to):
		return decimalToInt(from, to), nil
	case logical.IsDecimal(from) && logical.IsFloat(to):
		return decimalToFloat(from, to), nil
	case logical.IsFloat(from) && logical.IsDecimal(to):
		return floatToDecimal(from, to), nil
	case from.ID() == arrow.BOOL && isSignedInt(to):
		return boolToInt(to), nil
	case isSignedInt(from) && to.ID() == arrow.BOOL:
		return intToBool(from), nil
	case from.ID() == arrow.DATE32 && to.ID() == arrow.TIMESTAMP && to.(*arrow.TimestampType).Unit == arrow.Microsecond:
		return func(alloc memory.Allocator, a arrow.Array, _ bool) (arrow.Array, error) {
			return mapValues(alloc, a, to, false, func(d int32) (int64, bool) { return int64(d) * usPerDay, true },
				nil)
		}, nil
	case from.ID() == arrow.TIMESTAMP && from.(*arrow.TimestampType).Unit == arrow.Microsecond && to.ID() == arrow.DATE32:
		return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
			return mapValues(alloc, a, to, try, func(us int64) (int32, bool) {
				d := floorDiv(us, usPerDay)
				return int32(d), d >= math.MinInt32 && d <= math.MaxInt32
			}, func(us int64) error { return fmt.Errorf("%w: timestamp %d out of range for date", ErrOverflow, us) })
		}, nil
	case from.ID() == arrow.TIMESTAMP && to.ID() == arrow.TIMESTAMP:
		return timestampUnit(from.(*arrow.TimestampType).Unit, to.(*arrow.TimestampType)), nil
	}
	return nil, castUnsupported(from, to)
}

const usPerDay = 86400 * 1_000_000

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// mapValues applies f to every valid row of a fixed-width array. A row for
// which f reports false is an error (made by fail), or NULL when try.
func mapValues[S, T fixed](alloc memory.Allocator, a arrow.Array, to arrow.DataType, try bool,
	f func(S) (T, bool), fail func(S) error) (arrow.Array, error) {
	n := a.Len()
	src := values[S](a)
	valid := copyValidity(alloc, a)
	vb := bitsOf(valid)
	buf, out := newValues[T](alloc, n)
	for i := 0; i < n; i++ {
		r, ok := f(src[i])
		out[i] = r
		if !ok && isValid(vb, 0, i) {
			if !try {
				buf.Release()
				releaseBuf(valid)
				return nil, fail(src[i])
			}
			if valid == nil {
				valid, vb = allValidBitmap(alloc, n)
			}
			setNull(vb, i)
		}
	}
	return makeArray(to, n, valid, buf), nil
}

func intRange(t arrow.DataType) (int64, int64) {
	switch t.ID() {
	case arrow.INT8:
		return math.MinInt8, math.MaxInt8
	case arrow.INT16:
		return math.MinInt16, math.MaxInt16
	case arrow.INT32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func intOutOfRange(v any, to arrow.DataType) error {
	return fmt.Errorf("%w: value %v out of range for %s", ErrOverflow, v, to)
}

// readInts returns a function reading row i of a signed integer array as int64.
func readInts(a arrow.Array) func(i int) int64 {
	switch a.DataType().ID() {
	case arrow.INT8:
		v := values[int8](a)
		return func(i int) int64 { return int64(v[i]) }
	case arrow.INT16:
		v := values[int16](a)
		return func(i int) int64 { return int64(v[i]) }
	case arrow.INT32:
		v := values[int32](a)
		return func(i int) int64 { return int64(v[i]) }
	default:
		v := values[int64](a)
		return func(i int) int64 { return v[i] }
	}
}

func intToInt(from, to arrow.DataType) castFunc {
	switch to.ID() {
	case arrow.INT8:
		return intToIntT[int8](from, to)
	case arrow.INT16:
		return intToIntT[int16](from, to)
	case arrow.INT32:
		return intToIntT[int32](from, to)
	}
	return intToIntT[int64](from, to)
}

func intToIntT[T signed](from, to arrow.DataType) castFunc {
	lo, hi := intRange(to)
	widening := intWidth(to) >= intWidth(from)
	return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
		if widening {
			switch from.ID() {
			case arrow.INT8:
				return widen[int8, T](alloc, a, to), nil
			case arrow.INT16:
				return widen[int16, T](alloc, a, to), nil
			case arrow.INT32:
				return widen[int32, T](alloc, a, to), nil
			}
		}
		get := readInts(a)
		return mapIndexed(alloc, a, to, try, func(i int) (T, error) {
			v := get(i)
			if v < lo || v > hi {
				return 0, intOutOfRange(v, to)
			}
			return T(v), nil
		})
	}
}

func widen[S, T signed](alloc memory.Allocator, a arrow.Array, to arrow.DataType) arrow.Array {
	src := values[S](a)
	buf, out := newValues[T](alloc, a.Len())
	for i, v := range src {
		out[i] = T(v)
	}
	return makeArray(to, a.Len(), copyValidity(alloc, a), buf)
}

// mapIndexed applies f to every valid row index; an error fails the cast,
// or makes the row NULL when try.
func mapIndexed[T fixed](alloc memory.Allocator, a arrow.Array, to arrow.DataType, try bool,
	f func(i int) (T, error)) (arrow.Array, error) {
	n := a.Len()
	valid := copyValidity(alloc, a)
	vb := bitsOf(valid)
	buf, out := newValues[T](alloc, n)
	for i := 0; i < n; i++ {
		if !isValid(vb, 0, i) {
			continue
		}
		r, err := f(i)
		if err != nil {
			if !try {
				buf.Release()
				releaseBuf(valid)
				return nil, err
			}
			if valid == nil {
				valid, vb = allValidBitmap(alloc, n)
			}
			setNull(vb, i)
			continue
		}
		out[i] = r
	}
	return makeArray(to, n, valid, buf), nil
}

// readFloats returns a reader of a numeric array as float64.
func readFloats(a arrow.Array) func(i int) float64 {
	switch a.DataType().ID() {
	case arrow.FLOAT32:
		v := values[float32](a)
		return func(i int) float64 { return float64(v[i]) }
	case arrow.FLOAT64:
		v := values[float64](a)
		return func(i int) float64 { return v[i] }
	}
	get := readInts(a)
	return func(i int) float64 { return float64(get(i)) }
}

func numToFloat(from, to arrow.DataType) castFunc {
	return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
		get := readFloats(a)
		if to.ID() == arrow.FLOAT32 {
			return mapIndexed(alloc, a, to, try, func(i int) (float32, error) { return float32(get(i)), nil })
		}
		if from.ID() == arrow.INT64 {
			return widenToFloat(alloc, a, to), nil
		}
		return mapIndexed(alloc, a, to, try, func(i int) (float64, error) { return get(i), nil })
	}
}

func widenToFloat(alloc memory.Allocator, a arrow.Array, to arrow.DataType) arrow.Array {
	src := values[int64](a)
	buf, out := newValues[float64](alloc, a.Len())
	for i, v := range src {
		out[i] = float64(v)
	}
	return makeArray(to, a.Len(), copyValidity(alloc, a), buf)
}

// floatToInt rounds half to even (PostgreSQL's rint) and checks the range.
func floatToInt(from, to arrow.DataType) castFunc {
	lo, hi := intRange(to)
	conv := func(get func(int) float64) func(i int) (int64, error) {
		return func(i int) (int64, error) {
			f := math.RoundToEven(get(i))
			// float64(MaxInt64) rounds up to 2^63, so compare with < 2^63.
			if math.IsNaN(f) || f < float64(lo) || f >= -float64(lo) || int64(f) > hi {
				return 0, intOutOfRange(get(i), to)
			}
			return int64(f), nil
		}
	}
	return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
		f := conv(readFloats(a))
		switch to.ID() {
		case arrow.INT8:
			return mapIndexed(alloc, a, to, try, func(i int) (int8, error) { v, err := f(i); return int8(v), err })
		case arrow.INT16:
			return mapIndexed(alloc, a, to, try, func(i int) (int16, error) { v, err := f(i); return int16(v), err })
		case arrow.INT32:
			return mapIndexed(alloc, a, to, try, func(i int) (int32, error) { v, err := f(i); return int32(v), err })
		}
		return mapIndexed(alloc, a, to, try, f)
	}
}

// readDecimal returns a reader of a decimal array as i128.
func readDecimal(a arrow.Array) func(i int) i128 {
	if is64(a.DataType()) {
		v := values[int64](a)
		return func(i int) i128 { return i128From64(v[i]) }
	}
	v := values[i128](a)
	return func(i int) i128 { return v[i] }
}

// writeDecimal builds a decimal array of type to from per-row i128 values
// that already fit its precision.
func writeDecimal(alloc memory.Allocator, a arrow.Array, to arrow.DataType, try bool,
	f func(i int) (i128, error)) (arrow.Array, error) {
	if is64(to) {
		return mapIndexed(alloc, a, to, try, func(i int) (int64, error) {
			v, err := f(i)
			return int64(v.lo), err
		})
	}
	return mapIndexed(alloc, a, to, try, f)
}

func decOutOfRange(v string, to arrow.DataType) error {
	p, s, _ := logical.DecimalParams(to)
	return fmt.Errorf("%w: value %s does not fit decimal(%d, %d)", ErrOverflow, v, p, s)
}

func intToDecimal(from, to arrow.DataType) castFunc {
	p, s, _ := logical.DecimalParams(to)
	return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
		get := readInts(a)
		return writeDecimal(alloc, a, to, try, func(i int) (i128, error) {
			v, ok := i128From64(get(i)).scaleUp(s)
			if !ok || !v.fitsPrecision(p) {
				return i128{}, decOutOfRange(strconv.FormatInt(get(i), 10), to)
			}
			return v, nil
		})
	}
}

func decimalToDecimal(from, to arrow.DataType) castFunc {
	p1, s1, _ := logical.DecimalParams(from)
	p, s, _ := logical.DecimalParams(to)
	return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
		// Widening Decimal64 -> Decimal128 at the same scale: a plain copy.
		if is64(from) && !is64(to) && s == s1 && p >= p1 {
			src := values[int64](a)
			buf, out := newValues[i128](alloc, a.Len())
			for i, v := range src {
				out[i] = i128From64(v)
			}
			return makeArray(to, a.Len(), copyValidity(alloc, a), buf), nil
		}
		if is64(from) && is64(to) && s >= s1 && p-s >= p1-s1 {
			f := pow10i64[s-s1]
			src := values[int64](a)
			buf, out := newValues[int64](alloc, a.Len())
			for i, v := range src {
				out[i] = v * f
			}
			return makeArray(to, a.Len(), copyValidity(alloc, a), buf), nil
		}
		get := readDecimal(a)
		return writeDecimal(alloc, a, to, try, func(i int) (i128, error) {
			x := get(i)
			v, ok, _ := rescale128(x, s1, s)
			if !ok || !v.fitsPrecision(p) {
				return i128{}, decOutOfRange(formatDecimal(x, s1), to)
			}
			return v, nil
		})
	}
}

func decimalToInt(from, to arrow.DataType) castFunc {
	_, s, _ := logical.DecimalParams(from)
	lo, hi := intRange(to)
	return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
		get := readDecimal(a)
		f := func(i int) (int64, error) {
			v := get(i).scaleDown(s) // half away from zero, as PostgreSQL
			if !v.fitsInt64() || int64(v.lo) < lo || int64(v.lo) > hi {
				return 0, intOutOfRange(formatDecimal(get(i), s), to)
			}
			return int64(v.lo), nil
		}
		switch to.ID() {
		case arrow.INT8:
			return mapIndexed(alloc, a, to, try, func(i int) (int8, error) { v, err := f(i); return int8(v), err })
		case arrow.INT16:
			return mapIndexed(alloc, a, to, try, func(i int) (int16, error) { v, err := f(i); return int16(v), err })
		case arrow.INT32:
			return mapIndexed(alloc, a, to, try, func(i int) (int32, error) { v, err := f(i); return int32(v), err })
		}
		return mapIndexed(alloc, a, to, try, f)
	}
}

func decimalToFloat(from, to arrow.DataType) castFunc {
	_, s, _ := logical.DecimalParams(from)
	return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
		if is64(from) && to.ID() == arrow.FLOAT64 {
			src := values[int64](a)
			buf, out := newValues[float64](alloc, a.Len())
			for i, v := range src {
				out[i] = scaleFloat(float64(v), s)
			}
			return makeArray(to, a.Len(), copyValidity(alloc, a), buf), nil
		}
		get := readDecimal(a)
		if to.ID() == arrow.FLOAT32 {
			return mapIndexed(alloc, a, to, try, func(i int) (float32, error) { return float32(get(i).toFloat64(s)), nil })
		}
		return mapIndexed(alloc, a, to, try, func(i int) (float64, error) { return get(i).toFloat64(s), nil })
	}
}

// floatToI128 converts f*10^s rounded half away from zero.
func floatToI128(f float64, s int32) (i128, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return i128{}, false
	}
	v := f * pow10float(int(s))
	v = math.Round(v)
	if math.Abs(v) < 9e18 {
		return i128From64(int64(v)), true
	}
	b, _ := new(big.Float).SetFloat64(v).Int(nil)
	return i128FromBig(b)
}

func floatToDecimal(from, to arrow.DataType) castFunc {
	p, s, _ := logical.DecimalParams(to)
	return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
		get := readFloats(a)
		return writeDecimal(alloc, a, to, try, func(i int) (i128, error) {
			f := get(i)
			// Round on the shortest decimal representation, so 2.675 is
			// 2.675 and not 2.67499999.
			v, ok := parseDecimal(strconv.FormatFloat(f, 'g', -1, 64), s)
			if !ok {
				v, ok = floatToI128(f, s)
			}
			if !ok || !v.fitsPrecision(p) {
				return i128{}, decOutOfRange(strconv.FormatFloat(f, 'g', -1, 64), to)
			}
			return v, nil
		})
	}
}

func boolToInt(to arrow.DataType) castFunc {
	return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
		b := a.(*array.Boolean)
		switch to.ID() {
		case arrow.INT8:
			return mapIndexed(alloc, a, to, try, func(i int) (int8, error) { return int8(b2u(b.Value(i))), nil })
		case arrow.INT16:
			return mapIndexed(alloc, a, to, try, func(i int) (int16, error) { return int16(b2u(b.Value(i))), nil })
		case arrow.INT32:
			return mapIndexed(alloc, a, to, try, func(i int) (int32, error) { return int32(b2u(b.Value(i))), nil })
		}
		return mapIndexed(alloc, a, to, try, func(i int) (int64, error) { return int64(b2u(b.Value(i))), nil })
	}
}

func intToBool(from arrow.DataType) castFunc {
	return func(alloc memory.Allocator, a arrow.Array, _ bool) (arrow.Array, error) {
		get := readInts(a)
		n := a.Len()
		buf, out := newBitmap(alloc, n)
		packBools(out, n, func(i int) bool { return get(i) != 0 })
		return makeArray(arrow.FixedWidthTypes.Boolean, n, copyValidity(alloc, a), buf), nil
	}
}

func timestampUnit(from arrow.TimeUnit, to *arrow.TimestampType) castFunc {
	mul := map[arrow.TimeUnit]int64{arrow.Second: 1e9, arrow.Millisecond: 1e6, arrow.Microsecond: 1e3, arrow.Nanosecond: 1}
	fm, tm := mul[from], mul[to.Unit]
	return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
		return mapValues(alloc, a, to, try, func(v int64) (int64, bool) {
			if fm >= tm {
				f := fm / tm
				r := v * f
				return r, v == 0 || r/f == v
			}
			return floorDiv(v, tm/fm), true
		}, func(v int64) error { return fmt.Errorf("%w: timestamp %d out of range for %s", ErrOverflow, v, to) })
	}
}

// stringsTo converts a utf8 array to another string type.
func stringsTo(alloc memory.Allocator, u arrow.Array, to arrow.DataType) (arrow.Array, error) {
	b := array.NewBuilder(alloc, to)
	defer b.Release()
	sv := newStrView(u)
	b.Reserve(u.Len())
	for i := 0; i < u.Len(); i++ {
		if u.IsNull(i) {
			b.AppendNull()
			continue
		}
		switch bb := b.(type) {
		case *array.LargeStringBuilder:
			bb.Append(sv.str(i))
		case *array.StringViewBuilder:
			bb.Append(sv.str(i))
		default:
			return nil, castUnsupported(u.DataType(), to)
		}
	}
	return b.NewArray(), nil
}

// castFromString parses utf8 strings into type to.
func castFromString(to arrow.DataType) (castFunc, error) {
	bad := func(s string) error {
		return fmt.Errorf("%w: invalid input syntax for type %s: %q", ErrInvalidValue, to, s)
	}
	switch {
	case isSignedInt(to):
		lo, hi := intRange(to)
		parse := func(s string) (int64, error) {
			t := strings.TrimSpace(s)
			v, err := strconv.ParseInt(t, 10, 64)
			if err != nil {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
					return 0, intOutOfRange(t, to)
				}
				return 0, bad(s)
			}
			if v < lo || v > hi {
				return 0, intOutOfRange(t, to)
			}
			return v, nil
		}
		return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
			sv := newStrView(a)
			switch to.ID() {
			case arrow.INT8:
				return mapIndexed(alloc, a, to, try, func(i int) (int8, error) { v, err := parse(sv.str(i)); return int8(v), err })
			case arrow.INT16:
				return mapIndexed(alloc, a, to, try, func(i int) (int16, error) { v, err := parse(sv.str(i)); return int16(v), err })
			case arrow.INT32:
				return mapIndexed(alloc, a, to, try, func(i int) (int32, error) { v, err := parse(sv.str(i)); return int32(v), err })
			}
			return mapIndexed(alloc, a, to, try, func(i int) (int64, error) { return parse(sv.str(i)) })
		}, nil
	case logical.IsFloat(to):
		parse := func(s string) (float64, error) {
			t := strings.TrimSpace(s)
			switch strings.ToLower(t) {
			case "infinity", "+infinity", "inf", "+inf":
				return math.Inf(1), nil
			case "-infinity", "-inf":
				return math.Inf(-1), nil
			case "nan":
				return math.NaN(), nil
			}
			v, err := strconv.ParseFloat(t, 64)
			if err != nil {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
					return 0, fmt.Errorf("%w: %q is out of range for type %s", ErrOverflow, t, to)
				}
				return 0, bad(s)
			}
			return v, nil
		}
		return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
			sv := newStrView(a)
			if to.ID() == arrow.FLOAT32 {
				return mapIndexed(alloc, a, to, try, func(i int) (float32, error) { v, err := parse(sv.str(i)); return float32(v), err })
			}
			return mapIndexed(alloc, a, to, try, func(i int) (float64, error) { return parse(sv.str(i)) })
		}, nil
	case logical.IsDecimal(to):
		p, s, _ := logical.DecimalParams(to)
		return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
			sv := newStrView(a)
			return writeDecimal(alloc, a, to, try, func(i int) (i128, error) {
				str := sv.str(i)
				v, ok := parseDecimal(strings.TrimSpace(str), s)
				if !ok {
					return i128{}, bad(str)
				}
				if !v.fitsPrecision(p) {
					return i128{}, decOutOfRange(strings.TrimSpace(str), to)
				}
				return v, nil
			})
		}, nil
	case to.ID() == arrow.DATE32:
		return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
			sv := newStrView(a)
			return mapIndexed(alloc, a, to, try, func(i int) (int32, error) {
				d, ok := parseDate(strings.TrimSpace(sv.str(i)))
				if !ok {
					return 0, bad(sv.str(i))
				}
				return d, nil
			})
		}, nil
	case to.ID() == arrow.TIMESTAMP && to.(*arrow.TimestampType).Unit == arrow.Microsecond:
		return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
			sv := newStrView(a)
			return mapIndexed(alloc, a, to, try, func(i int) (int64, error) {
				t, ok := parseTimestamp(strings.TrimSpace(sv.str(i)))
				if !ok {
					return 0, bad(sv.str(i))
				}
				return t, nil
			})
		}, nil
	case to.ID() == arrow.BOOL:
		return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
			sv := newStrView(a)
			n := a.Len()
			valid := copyValidity(alloc, a)
			vb := bitsOf(valid)
			buf, out := newBitmap(alloc, n)
			for i := 0; i < n; i++ {
				if !isValid(vb, 0, i) {
					continue
				}
				v, ok := parseBool(sv.str(i))
				if !ok {
					if !try {
						buf.Release()
						releaseBuf(valid)
						return nil, bad(sv.str(i))
					}
					if valid == nil {
						valid, vb = allValidBitmap(alloc, n)
					}
					setNull(vb, i)
					continue
				}
				if v {
					out[i>>3] |= 1 << (i & 7)
				}
			}
			return makeArray(to, n, valid, buf), nil
		}, nil
	case to.ID() == arrow.INTERVAL_MONTH_DAY_NANO:
		return func(alloc memory.Allocator, a arrow.Array, try bool) (arrow.Array, error) {
			sv := newStrView(a)
			return mapIndexed(alloc, a, to, try, func(i int) (arrow.MonthDayNanoInterval, error) {
				v, ok := parseInterval(sv.str(i))
				if !ok {
					return v, bad(sv.str(i))
				}
				return v, nil
			})
		}, nil
	}
	return nil, castUnsupported(arrow.BinaryTypes.String, to)
}

// parseBool accepts PostgreSQL's spellings of booleans.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, true
	case "f", "false", "n", "no", "off", "0":
		return false, true
	}
	return false, false
}

// parseDecimal parses a decimal number (optional sign, digits, point,
// exponent) into an unscaled value at scale s, rounding half away from
// zero.
func parseDecimal(str string, s int32) (i128, bool) {
	if str == "" {
		return i128{}, false
	}
	neg := false
	switch str[0] {
	case '+':
		str = str[1:]
	case '-':
		neg = true
		str = str[1:]
	}
	var m u128
	digits, frac := 0, 0
	seenPoint, any := false, false
	dropped := false // a nonzero digit beyond 38 significant ones
	firstDropped := -1
	i := 0
	for ; i < len(str); i++ {
		c := str[i]
		if c == '.' {
			if seenPoint {
				return i128{}, false
			}
			seenPoint = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		any = true
		if digits >= 38 {
			if !seenPoint {
				return i128{}, false // too many integer digits
			}
			if firstDropped < 0 {
				firstDropped = int(c - '0')
			}
			dropped = dropped || c != '0'
			continue
		}
		if m.isZero() && c == '0' {
			if seenPoint {
				frac++
			}
			continue
		}
		m, _ = mulU128(m, u128{lo: 10})
		m.lo += uint64(c - '0')
		digits++
		if seenPoint {
			frac++
		}
	}
	if !any {
		return i128{}, false
	}
	exp := 0
	if i < len(str) {
		if str[i] != 'e' && str[i] != 'E' {
			return i128{}, false
		}
		e, err := strconv.Atoi(str[i+1:])
		if err != nil || e > 1000 || e < -1000 {
			return i128{}, false
		}
		exp = e
	}
	v, ok := fromMag(m, neg)
	if !ok {
		return i128{}, false
	}
	// value = v * 10^(exp - frac); want v * 10^(exp - frac + s)
	shift := int32(exp - frac + int(s))
	if shift >= 0 {
		if shift > 38 {
			return i128{}, v.sign() == 0
		}
		return v.scaleUp(shift)
	}
	if -shift > 38 {
		return i128{}, true
	}
	r := v.scaleDown(-shift)
	_ = dropped
	if -shift == 0 && firstDropped >= 5 {
		// rounding on digits beyond 38 significant ones
		if neg {
			r, _ = r.sub(i128From64(1))
		} else {
			r, _ = r.add(i128From64(1))
		}
	}
	return r, true
}

// castToString formats values of type from as utf8.
func castToString(from arrow.DataType) (castFunc, error) {
	var format func(a arrow.Array) func(i int, b *strBuilder)
	switch {
	case isSignedInt(from):
		format = func(a arrow.Array) func(int, *strBuilder) {
			get := readInts(a)
			return func(i int, b *strBuilder) {
				b.grow(20)
				b.data = strconv.AppendInt(b.data, get(i), 10)
			}
		}
	case logical.IsFloat(from):
		bitSize := 64
		if from.ID() == arrow.FLOAT32 {
			bitSize = 32
		}
		format = func(a arrow.Array) func(int, *strBuilder) {
			get := readFloats(a)
			return func(i int, b *strBuilder) { b.appendString(formatFloat(get(i), bitSize)) }
		}
	case logical.IsDecimal(from):
		_, s, _ := logical.DecimalParams(from)
		format = func(a arrow.Array) func(int, *strBuilder) {
			get := readDecimal(a)
			return func(i int, b *strBuilder) { b.appendString(formatDecimal(get(i), s)) }
		}
	case from.ID() == arrow.BOOL:
		format = func(a arrow.Array) func(int, *strBuilder) {
			bb := a.(*array.Boolean)
			return func(i int, b *strBuilder) {
				if bb.Value(i) {
					b.appendString("true")
				} else {
					b.appendString("false")
				}
			}
		}
	case from.ID() == arrow.DATE32:
		format = func(a arrow.Array) func(int, *strBuilder) {
			v := values[int32](a)
			return func(i int, b *strBuilder) { b.grow(16); b.data = appendDate(b.data, int64(v[i])) }
		}
	case from.ID() == arrow.TIMESTAMP && from.(*arrow.TimestampType).Unit == arrow.Microsecond:
		format = func(a arrow.Array) func(int, *strBuilder) {
			v := values[int64](a)
			return func(i int, b *strBuilder) { b.grow(32); b.data = appendTimestamp(b.data, v[i]) }
		}
	case from.ID() == arrow.INTERVAL_MONTH_DAY_NANO:
		format = func(a arrow.Array) func(int, *strBuilder) {
			v := values[arrow.MonthDayNanoInterval](a)
			return func(i int, b *strBuilder) { b.appendString(formatInterval(v[i])) }
		}
	default:
		return nil, castUnsupported(from, arrow.BinaryTypes.String)
	}
	return func(alloc memory.Allocator, a arrow.Array, _ bool) (arrow.Array, error) {
		n := a.Len()
		b := newStrBuilder(alloc, n, n*8)
		f := format(a)
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				f(i, b)
			}
			b.endRow()
		}
		return b.finish(copyValidity(alloc, a))
	}, nil
}

// formatFloat renders a float as PostgreSQL does (shortest exact form).
func formatFloat(f float64, bitSize int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	// Shortest round-trip digits; exponent form outside [1e-4, 1e15).
	e := strconv.FormatFloat(f, 'e', -1, bitSize)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 15 {
		mant, ex, _ := strings.Cut(e, "e")
		if len(ex) == 2 { // e+5 -> e+05
			ex = ex[:1] + "0" + ex[1:]
		}
		return mant + "e" + ex
	}
	return strconv.FormatFloat(f, 'f', -1, bitSize)
}

// formatDecimal renders an unscaled value with scale s.
func formatDecimal(v i128, s int32) string {
	if v.fitsInt64() {
		return logical.FormatDecimal64(int64(v.lo), s)
	}
	return v.num().ToString(s)
}

// formatInterval renders an interval like PostgreSQL ("1 year 2 mons 3 days 04:05:06").
func formatInterval(v arrow.MonthDayNanoInterval) string {
	var parts []string
	y, m := v.Months/12, v.Months%12
	plural := func(n int64, unit string) string {
		if n == 1 || n == -1 {
			return fmt.Sprintf("%d %s", n, unit)
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	if y != 0 {
		parts = append(parts, plural(int64(y), "year"))
	}
	if m != 0 {
		parts = append(parts, plural(int64(m), "mon"))
	}
	if v.Days != 0 {
		parts = append(parts, plural(int64(v.Days), "day"))
	}
	if v.Nanoseconds != 0 || len(parts) == 0 {
		ns := v.Nanoseconds
		sign := ""
		if ns < 0 {
			sign = "-"
			ns = -ns
		}
		us := ns / 1000
		h, mi, sec, frac := us/3600e6, us/60e6%60, us/1e6%60, us%1e6
		t := fmt.Sprintf("%s%02d:%02d:%02d", sign, h, mi, sec)
		if frac != 0 {
			t += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}
