package expr

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Floating-point classification, trigonometry, logarithms with a base and
// bitwise integer functions.

func init() {
	for _, f := range []string{"is_nan", "is_finite", "is_infinite"} {
		register(f, true, compileFloatTest)
	}
	for f := range trigFuncs {
		register(f, true, compileTrig)
	}
	register("atan2", true, compileFloatBinary)
	register("logb", true, compileFloatBinary)
	register("pi", false, func(c *compiler, call *logical.Call, args []node) (node, error) {
		if len(args) != 0 {
			return nil, unsupported(call, args)
		}
		return c.float64Const(math.Pi), nil
	})
	for _, f := range []string{"bitwise_and", "bitwise_or", "bitwise_xor", "shift_left", "shift_right", "shift_right_unsigned"} {
		register(f, true, compileBitwise)
	}
	register("bitwise_not", true, compileBitwiseNot)
}

// float64Const is a one-row float64 constant.
func (c *compiler) float64Const(v float64) *constNode {
	buf, out := newValues[float64](c.alloc, 1)
	out[0] = v
	return c.constOf(makeArray(arrow.PrimitiveTypes.Float64, 1, nil, buf))
}

// compileFloatTest compiles is_nan, is_finite and is_infinite (float
// argument, boolean result, NULL for NULL).
func compileFloatTest(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 1 || (!logical.IsNumeric(args[0].dtype()) && args[0].dtype().ID() != arrow.NULL) {
		return nil, unsupported(call, args)
	}
	x, err := c.castNode(args[0], arrow.PrimitiveTypes.Float64, false)
	if err != nil {
		return nil, err
	}
	var pred func(float64) bool
	switch call.Func {
	case "is_nan":
		pred = math.IsNaN
	case "is_finite":
		pred = func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	default:
		pred = func(v float64) bool { return math.IsInf(v, 0) }
	}
	return &unaryNode{arg: x, t: arrow.FixedWidthTypes.Boolean, alloc: c.alloc,
		kernel: func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error) {
			src := values[float64](a)
			return buildBool(alloc, a.Len(), copyValidity(alloc, a), func(i int) bool { return pred(src[i]) }), nil
		}}, nil
}

// trigFunc is a float64 function with its domain [lo, hi] (outside it the
// on_domain_error option applies).
type trigFunc struct {
	f      func(float64) float64
	lo, hi float64
}

var trigFuncs = map[string]trigFunc{
	"sin":     {f: math.Sin, lo: math.Inf(-1), hi: math.Inf(1)},
	"cos":     {f: math.Cos, lo: math.Inf(-1), hi: math.Inf(1)},
	"tan":     {f: math.Tan, lo: math.Inf(-1), hi: math.Inf(1)},
	"asin":    {f: math.Asin, lo: -1, hi: 1},
	"acos":    {f: math.Acos, lo: -1, hi: 1},
	"atan":    {f: math.Atan, lo: math.Inf(-1), hi: math.Inf(1)},
	"sinh":    {f: math.Sinh, lo: math.Inf(-1), hi: math.Inf(1)},
	"cosh":    {f: math.Cosh, lo: math.Inf(-1), hi: math.Inf(1)},
	"tanh":    {f: math.Tanh, lo: math.Inf(-1), hi: math.Inf(1)},
	"asinh":   {f: math.Asinh, lo: math.Inf(-1), hi: math.Inf(1)},
	"acosh":   {f: math.Acosh, lo: 1, hi: math.Inf(1)},
	"atanh":   {f: math.Atanh, lo: -1, hi: 1},
	"radians": {f: func(v float64) float64 { return v * degToRad }, lo: math.Inf(-1), hi: math.Inf(1)},
	"degrees": {f: func(v float64) float64 { return v * radToDeg }, lo: math.Inf(-1), hi: math.Inf(1)},
}

// The conversion factors are rounded float64 quotients, as C libraries
// and other engines compute them (Go's exact constant arithmetic would
// round differently).
var (
	pi64     = math.Pi
	degToRad = pi64 / 180
	radToDeg = 180 / pi64
)

// domainResult applies on_domain_error to an argument outside a function's
// domain: NaN, NULL (null=true) or an error.
func domainResult(domain, fn string, v float64) (float64, bool, error) {
	switch domain {
	case "NAN":
		return math.NaN(), false, nil
	case "NULL":
		return 0, true, nil
	}
	return 0, false, fmt.Errorf("%w: %s(%v) is outside the function's domain", ErrInvalidValue, fn, v)
}

func compileTrig(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 1 {
		return nil, unsupported(call, args)
	}
	if err := mathOptions(call); err != nil {
		return nil, err
	}
	x, err := c.toFloat64Node(call, args, 0)
	if err != nil {
		return nil, err
	}
	fn := call.Func
	tf := trigFuncs[fn]
	domain := option(call, "on_domain_error", "ERROR")
	k := unaryMap(arrow.PrimitiveTypes.Float64, func(v float64) (float64, bool, error) {
		// NaN propagates; infinities are outside the domain of the
		// periodic functions (math.Sin(±Inf) is NaN).
		if v < tf.lo || v > tf.hi || (math.IsInf(v, 0) && math.IsNaN(tf.f(v))) {
			return domainResult(domain, fn, v)
		}
		return tf.f(v), false, nil
	})
	return &unaryNode{arg: x, t: arrow.PrimitiveTypes.Float64, alloc: c.alloc, kernel: k}, nil
}

// compileFloatBinary compiles atan2(y, x) and logb(base, x) over float64.
func compileFloatBinary(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 2 {
		return nil, unsupported(call, args)
	}
	if err := mathOptions(call); err != nil {
		return nil, err
	}
	l, err := c.toFloat64Node(call, args, 0)
	if err != nil {
		return nil, err
	}
	r, err := c.toFloat64Node(call, args, 1)
	if err != nil {
		return nil, err
	}
	fn := call.Func
	domain := option(call, "on_domain_error", "ERROR")
	logZero := option(call, "on_log_zero", "ERROR")
	var f func(a, b float64) (float64, bool, error)
	if fn == "atan2" {
		f = func(y, x float64) (float64, bool, error) { return math.Atan2(y, x), false, nil }
	} else {
		f = func(base, x float64) (float64, bool, error) {
			switch {
			case x == 0:
				switch logZero {
				case "NAN":
					return math.NaN(), false, nil
				case "MINUS_INFINITY":
					return math.Inf(-1), false, nil
				}
				return 0, false, fmt.Errorf("%w: cannot take logarithm of zero", ErrInvalidValue)
			case x < 0 || base <= 0 || base == 1:
				switch domain {
				case "NAN":
					return math.NaN(), false, nil
				case "NULL":
					return 0, true, nil
				}
				if x < 0 {
					return 0, false, fmt.Errorf("%w: cannot take logarithm of a negative number", ErrInvalidValue)
				}
				return 0, false, fmt.Errorf("%w: logarithm base %v is not positive and different from 1", ErrInvalidValue, base)
			}
			return math.Log(x) / math.Log(base), false, nil
		}
	}
	t := arrow.PrimitiveTypes.Float64
	return &binaryNode{name: fn, l: l, r: r, t: t, alloc: c.alloc,
		kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
			valid := validityOf(alloc, n, a, b)
			vb := bitsOf(valid)
			buf, out := newValues[float64](alloc, n)
			av, bv := values[float64](a.arr), values[float64](b.arr)
			for i := range out {
				if !isValid(vb, 0, i) {
					continue
				}
				v, null, err := f(pick(av, a.isConst, i), pick(bv, b.isConst, i))
				if err != nil {
					buf.Release()
					releaseBuf(valid)
					return nil, err
				}
				if null {
					if valid == nil {
						valid, vb = allValidBitmap(alloc, n)
					}
					setNull(vb, i)
					continue
				}
				out[i] = v
			}
			return makeArray(t, n, valid, buf), nil
		}}, nil
}

// compileBitwise compiles bitwise_and/or/xor (two integers of one type,
// widened to the wider) and shift_left/right/right_unsigned (an integer
// and an integer shift count; the result has the first argument's type).
func compileBitwise(c *compiler, call *logical.Call, args []node) (node, error) {
	if err := checkOptions(call, nil); err != nil {
		return nil, err
	}
	if len(args) != 2 {
		return nil, unsupported(call, args)
	}
	lt, rt := args[0].dtype(), args[1].dtype()
	fn := call.Func
	shift := fn != "bitwise_and" && fn != "bitwise_or" && fn != "bitwise_xor"
	if !shift && (logical.IsDecimal(lt) || logical.IsDecimal(rt)) {
		return compileDecimalBitwise(c, call, args)
	}
	if !isSignedInt(lt) && lt.ID() != arrow.NULL || !isSignedInt(rt) && rt.ID() != arrow.NULL {
		return nil, unsupported(call, args)
	}
	t := lt
	if !shift && (t.ID() == arrow.NULL || rt.ID() != arrow.NULL && intWidth(rt) > intWidth(t)) {
		t = rt
	}
	if t.ID() == arrow.NULL {
		t = arrow.PrimitiveTypes.Int64
	}
	l, err := c.castNode(args[0], t, false)
	if err != nil {
		return nil, err
	}
	rTo := t
	if shift {
		rTo = arrow.PrimitiveTypes.Int32
	}
	r, err := c.castNode(args[1], rTo, false)
	if err != nil {
		return nil, err
	}
	var k binaryKernel
	switch t.ID() {
	case arrow.INT8:
		k = bitwiseKernel[int8, uint8](fn, t, shift)
	case arrow.INT16:
		k = bitwiseKernel[int16, uint16](fn, t, shift)
	case arrow.INT32:
		k = bitwiseKernel[int32, uint32](fn, t, shift)
	default:
		k = bitwiseKernel[int64, uint64](fn, t, shift)
	}
	return &binaryNode{name: fn, l: l, r: r, t: t, alloc: c.alloc, kernel: k}, nil
}

// bitwise operation codes.
const (
	bitAnd uint8 = iota
	bitOr
	bitXor
	shiftLeft
	shiftRight
	shiftRightUnsigned
)

var bitOps = map[string]uint8{"bitwise_and": bitAnd, "bitwise_or": bitOr, "bitwise_xor": bitXor,
	"shift_left": shiftLeft, "shift_right": shiftRight, "shift_right_unsigned": shiftRightUnsigned}

func bitwiseKernel[T signed, U ~uint8 | ~uint16 | ~uint32 | ~uint64](fn string, t arrow.DataType, shift bool) binaryKernel {
	op := bitOps[fn]
	if shift {
		return func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
			valid := validityOf(alloc, n, a, b)
			vb := bitsOf(valid)
			av, bv := values[T](a.arr), values[int32](b.arr)
			// Negative counts are errors (rows under NULLs excepted).
			for i := 0; i < n; i++ {
				if s := pick(bv, b.isConst, i); s < 0 && isValid(vb, 0, i) {
					releaseBuf(valid)
					return nil, fmt.Errorf("%w: %s by a negative count (%d)", ErrInvalidValue, fn, s)
				}
				if b.isConst {
					break
				}
			}
			buf, out := newValues[T](alloc, n)
			// Counts of at least the width shift every bit out (Go
			// semantics): 0, or -1 for an arithmetic right shift of a
			// negative number. Rows under NULLs may hold any count; a
			// negative one is clamped so the shift stays defined.
			cnt := func(i int) uint32 { return uint32(max(pick(bv, b.isConst, i), 0)) }
			switch op {
			case shiftLeft:
				for i := range out {
					out[i] = pick(av, a.isConst, i) << cnt(i)
				}
			case shiftRight:
				for i := range out {
					out[i] = pick(av, a.isConst, i) >> cnt(i)
				}
			default:
				for i := range out {
					out[i] = T(U(pick(av, a.isConst, i)) >> cnt(i))
				}
			}
			return makeArray(t, n, valid, buf), nil
		}
	}
	return func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
		valid := validityOf(alloc, n, a, b)
		buf, out := newValues[T](alloc, n)
		// Rows under NULLs compute garbage from the (defined) values
		// buffers, which is harmless and keeps the loops branch-free.
		bitApply(op, out, values[T](a.arr), values[T](b.arr), a.isConst, b.isConst)
		return makeArray(t, n, valid, buf), nil
	}
}

// bitApply computes out[i] = av[i] op bv[i] (index 0 of a constant side).
func bitApply[T signed](op uint8, out, av, bv []T, ac, bc bool) {
	switch op {
	case bitAnd:
		for i := range out {
			out[i] = pick(av, ac, i) & pick(bv, bc, i)
		}
	case bitOr:
		for i := range out {
			out[i] = pick(av, ac, i) | pick(bv, bc, i)
		}
	default:
		for i := range out {
			out[i] = pick(av, ac, i) ^ pick(bv, bc, i)
		}
	}
}

func bitOp[T signed](op uint8, x, y T) T {
	switch op {
	case bitAnd:
		return x & y
	case bitOr:
		return x | y
	}
	return x ^ y
}

func compileBitwiseNot(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 1 || !isSignedInt(args[0].dtype()) {
		return nil, unsupported(call, args)
	}
	if err := checkOptions(call, nil); err != nil {
		return nil, err
	}
	x := args[0]
	t := x.dtype()
	var k func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error)
	switch t.ID() {
	case arrow.INT8:
		k = notKernel[int8](t)
	case arrow.INT16:
		k = notKernel[int16](t)
	case arrow.INT32:
		k = notKernel[int32](t)
	default:
		k = notKernel[int64](t)
	}
	return &unaryNode{arg: x, t: t, alloc: c.alloc, kernel: k}, nil
}

func notKernel[T signed](t arrow.DataType) func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error) {
	return func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error) {
		n := a.Len()
		src := values[T](a)[:n]
		buf, out := newValues[T](alloc, n)
		for i := range out {
			out[i] = ^src[i]
		}
		return makeArray(t, n, copyValidity(alloc, a), buf), nil
	}
}

func init() {
	register("factorial", true, compileFactorial)
	register("add_intervals", true, compileAddIntervals)
	register("and_not", false, compileAndNot)
}

// compileAndNot compiles and_not(a, b) as and(a, not(b)) (Kleene logic).
func compileAndNot(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 2 {
		return nil, unsupported(call, args)
	}
	if err := checkOptions(call, nil); err != nil {
		return nil, err
	}
	nb, err := compileNot(c, &logical.Call{Func: "not", T: logical.Bool, NullableOut: true}, args[1:])
	if err != nil {
		return nil, err
	}
	return compileLogic(c, &logical.Call{Func: "and", T: logical.Bool, NullableOut: true}, []node{args[0], nb})
}

// compileFactorial compiles factorial(n) over integers: the result has
// n's type; a negative n is an error, overflow follows the overflow
// option.
func compileFactorial(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 1 || !isSignedInt(args[0].dtype()) {
		return nil, unsupported(call, args)
	}
	if err := mathOptions(call); err != nil {
		return nil, err
	}
	mode := option(call, "overflow", "ERROR")
	x := args[0]
	t := x.dtype()
	var k func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error)
	switch t.ID() {
	case arrow.INT8:
		k = unaryMap(t, factorialOf[int8](mode))
	case arrow.INT16:
		k = unaryMap(t, factorialOf[int16](mode))
	case arrow.INT32:
		k = unaryMap(t, factorialOf[int32](mode))
	default:
		k = unaryMap(t, factorialOf[int64](mode))
	}
	return &unaryNode{arg: x, t: t, alloc: c.alloc, kernel: k}, nil
}

// factorials[i] is i! for every i! that fits in int64.
var factorials = func() [21]int64 {
	var f [21]int64
	f[0] = 1
	for i := 1; i < len(f); i++ {
		f[i] = f[i-1] * int64(i)
	}
	return f
}()

func factorialOf[T signed](mode string) func(T) (T, bool, error) {
	_, hi := minMax[T]()
	return func(v T) (T, bool, error) {
		if v < 0 {
			return 0, false, fmt.Errorf("%w: factorial of a negative number (%d)", ErrInvalidValue, v)
		}
		if int64(v) < int64(len(factorials)) && factorials[v] <= int64(hi) {
			return T(factorials[v]), false, nil
		}
		switch mode {
		case "SATURATE":
			return hi, false, nil
		case "SILENT":
			// The wrapped product, as unchecked multiplication gives.
			r := T(1)
			for i := T(2); i <= v && r != 0; i++ {
				r *= i
			}
			return r, false, nil
		}
		return 0, false, fmt.Errorf("%w: factorial(%d) overflows", ErrOverflow, v)
	}
}

// compileAddIntervals compiles add_intervals(a, b) over month_day_nano
// intervals, adding each field with an overflow check.
func compileAddIntervals(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 2 {
		return nil, unsupported(call, args)
	}
	if err := checkOptions(call, nil); err != nil {
		return nil, err
	}
	mdn := arrow.FixedWidthTypes.MonthDayNanoInterval
	for _, a := range args {
		if id := a.dtype().ID(); id != arrow.INTERVAL_MONTH_DAY_NANO && id != arrow.NULL {
			return nil, unsupported(call, args)
		}
	}
	l, err := c.castNode(args[0], mdn, false)
	if err != nil {
		return nil, err
	}
	r, err := c.castNode(args[1], mdn, false)
	if err != nil {
		return nil, err
	}
	return &binaryNode{name: call.Func, l: l, r: r, t: mdn, alloc: c.alloc,
		kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
			valid := validityOf(alloc, n, a, b)
			vb := bitsOf(valid)
			buf, out := newValues[arrow.MonthDayNanoInterval](alloc, n)
			av, bv := values[arrow.MonthDayNanoInterval](a.arr), values[arrow.MonthDayNanoInterval](b.arr)
			for i := range out {
				if !isValid(vb, 0, i) {
					continue
				}
				x, y := pick(av, a.isConst, i), pick(bv, b.isConst, i)
				m, d, ns := int64(x.Months)+int64(y.Months), int64(x.Days)+int64(y.Days), x.Nanoseconds+y.Nanoseconds
				if m != int64(int32(m)) || d != int64(int32(d)) || (x.Nanoseconds >= 0) == (y.Nanoseconds >= 0) && (ns >= 0) != (x.Nanoseconds >= 0) {
					buf.Release()
					releaseBuf(valid)
					return nil, fmt.Errorf("%w: add_intervals overflows", ErrOverflow)
				}
				out[i] = arrow.MonthDayNanoInterval{Months: int32(m), Days: int32(d), Nanoseconds: ns}
			}
			return makeArray(mdn, n, valid, buf), nil
		}}, nil
}

// compileDecimalBitwise compiles bitwise_and/or/xor over integral
// decimals (scale 0) on their two's complement unscaled values; the
// result is decimal(max(P1, P2), 0), and an error when it does not fit.
func compileDecimalBitwise(c *compiler, call *logical.Call, args []node) (node, error) {
	var p int32
	for _, a := range args {
		ap, as, ok := logical.DecimalParams(a.dtype())
		if !ok && isSignedInt(a.dtype()) {
			ap, as, ok = 19, 0, true
		}
		if !ok || as != 0 {
			return nil, unsupported(call, args)
		}
		p = max(p, ap)
	}
	t := logical.DecimalType(p, 0)
	l, err := c.castNode(args[0], t, false)
	if err != nil {
		return nil, err
	}
	r, err := c.castNode(args[1], t, false)
	if err != nil {
		return nil, err
	}
	fn := call.Func
	op := bitOps[fn]
	overflow := func(v any) error {
		return fmt.Errorf("%w: %s result %v does not fit decimal(%d, 0)", ErrOverflow, fn, v, p)
	}
	var k binaryKernel
	if is64(t) {
		bound := int64(1)
		for range p {
			bound *= 10
		}
		k = func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
			valid := validityOf(alloc, n, a, b)
			vb := bitsOf(valid)
			buf, out := newValues[int64](alloc, n)
			av, bv := values[int64](a.arr), values[int64](b.arr)
			for i := range out {
				if !isValid(vb, 0, i) {
					continue
				}
				v := bitOp(op, pick(av, a.isConst, i), pick(bv, b.isConst, i))
				if v >= bound || v <= -bound {
					buf.Release()
					releaseBuf(valid)
					return nil, overflow(v)
				}
				out[i] = v
			}
			return makeArray(t, n, valid, buf), nil
		}
	} else {
		k = func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
			valid := validityOf(alloc, n, a, b)
			vb := bitsOf(valid)
			buf, out := newValues[i128](alloc, n)
			av, bv := values[i128](a.arr), values[i128](b.arr)
			for i := range out {
				if !isValid(vb, 0, i) {
					continue
				}
				x, y := pick(av, a.isConst, i), pick(bv, b.isConst, i)
				v := i128{lo: uint64(bitOp(op, int64(x.lo), int64(y.lo))), hi: bitOp(op, x.hi, y.hi)}
				if !v.fitsPrecision(p) {
					buf.Release()
					releaseBuf(valid)
					return nil, overflow(formatDecimal(v, 0))
				}
				out[i] = v
			}
			return makeArray(t, n, valid, buf), nil
		}
	}
	return &binaryNode{name: fn, l: l, r: r, t: t, alloc: c.alloc, kernel: k}, nil
}
