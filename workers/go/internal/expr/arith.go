package expr

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// signed is the set of signed integer value types.
type signed interface {
	~int8 | ~int16 | ~int32 | ~int64
}

// floating is the set of float value types.
type floating interface{ ~float32 | ~float64 }

type arithOp uint8

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv
	opMod
)

var arithOps = map[string]arithOp{
	"add": opAdd, "subtract": opSub, "multiply": opMul, "divide": opDiv, "modulus": opMod,
}

func (o arithOp) String() string {
	return [...]string{"add", "subtract", "multiply", "divide", "modulus"}[o]
}

// overflowMode is the Substrait overflow option of integer arithmetic.
type overflowMode uint8

const (
	overflowError overflowMode = iota
	overflowSaturate
	overflowSilent
)

// divZeroMode is what division by zero yields.
type divZeroMode uint8

const (
	divZeroError divZeroMode = iota
	divZeroNull
	divZeroNaN
)

// operand is an evaluated argument: an array of the chunk's rows, or a
// constant (a one-row array).
type operand struct {
	arr     arrow.Array
	isConst bool
}

// evalOperand evaluates n, keeping constants unmaterialised. The caller
// releases the result with release.
func evalOperand(ctx context.Context, n node, c *chunk) (operand, error) {
	if k, ok := n.(*constNode); ok {
		return operand{arr: k.arr, isConst: true}, nil
	}
	a, err := n.eval(ctx, c)
	if err != nil {
		return operand{}, err
	}
	return operand{arr: a}, nil
}

func (o operand) release() {
	if !o.isConst && o.arr != nil {
		o.arr.Release()
	}
}

// null reports whether a constant operand is NULL.
func (o operand) constNull() bool { return o.isConst && o.arr.IsNull(0) }

// validityOf is the AND of the operands' validity for n rows (constants
// are non-null here: NULL constants are folded at compile time).
func validityOf(alloc memory.Allocator, n int, ops ...operand) *memory.Buffer {
	arrs := make([]arrow.Array, 0, len(ops))
	for _, o := range ops {
		if !o.isConst {
			arrs = append(arrs, o.arr)
		} else if o.arr.IsNull(0) {
			buf, _ := newBitmap(alloc, n)
			return buf
		}
	}
	return combineValidity(alloc, n, arrs...)
}

// bitsOf returns the bytes of a validity buffer (nil for nil).
func bitsOf(b *memory.Buffer) []byte {
	if b == nil {
		return nil
	}
	return b.Bytes()
}

// binaryKernel computes a binary function over two operands into an array
// of n rows.
type binaryKernel func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error)

// binaryNode evaluates a binary kernel.
type binaryNode struct {
	name   string
	l, r   node
	t      arrow.DataType
	alloc  memory.Allocator
	kernel binaryKernel
	// nullSafe kernels handle NULL constants themselves.
	nullSafe bool
}

func (b *binaryNode) dtype() arrow.DataType { return b.t }

func (b *binaryNode) eval(ctx context.Context, c *chunk) (arrow.Array, error) {
	x, err := evalOperand(ctx, b.l, c)
	if err != nil {
		return nil, err
	}
	defer x.release()
	y, err := evalOperand(ctx, b.r, c)
	if err != nil {
		return nil, err
	}
	defer y.release()
	if !b.nullSafe && (x.constNull() || y.constNull()) {
		return nullArray(b.alloc, b.t, c.n), nil
	}
	return b.kernel(b.alloc, x, y, c.n)
}

func init() {
	for name := range arithOps {
		register(name, true, compileArith)
	}
}

func arithOptions(call *logical.Call) (overflowMode, divZeroMode, error) {
	if err := checkOptions(call, map[string][]string{
		"overflow":            {"ERROR", "SATURATE", "SILENT"},
		"on_division_by_zero": {"ERROR", "NULL", "NAN"},
		"rounding":            nil,
		"division_type":       {"TRUNCATE"},
	}); err != nil {
		return 0, 0, err
	}
	var om overflowMode
	switch option(call, "overflow", "ERROR") {
	case "SATURATE":
		om = overflowSaturate
	case "SILENT":
		om = overflowSilent
	}
	var dm divZeroMode
	switch option(call, "on_division_by_zero", "ERROR") {
	case "NULL":
		dm = divZeroNull
	case "NAN":
		dm = divZeroNaN
	}
	return om, dm, nil
}

func compileArith(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("%w: function %s with %d arguments", ErrNotSupported, call.Func, len(args))
	}
	op := arithOps[call.Func]
	om, dm, err := arithOptions(call)
	if err != nil {
		return nil, err
	}
	l, r := args[0], args[1]
	lt, rt := l.dtype(), r.dtype()
	// Date and interval arithmetic.
	if isDateTimeOrInterval(lt) || isDateTimeOrInterval(rt) {
		return c.compileDateArith(call, op, l, r)
	}
	// Decimals, possibly mixed with integers.
	if logical.IsDecimal(lt) || logical.IsDecimal(rt) {
		if logical.IsFloat(lt) || logical.IsFloat(rt) || logical.IsFloat(call.T) {
			return c.floatArith(call, op, l, r, dm)
		}
		return c.compileDecimalArith(call, op, l, r, dm)
	}
	if lt.ID() == arrow.NULL || rt.ID() == arrow.NULL {
		return c.nullConst(call.T), nil
	}
	if logical.IsFloat(lt) || logical.IsFloat(rt) {
		return c.floatArith(call, op, l, r, dm)
	}
	if isSignedInt(lt) && isSignedInt(rt) {
		t := call.T
		if t == nil || !isSignedInt(t) {
			t = widerInt(lt, rt)
		}
		if l, err = c.castNode(l, t, false); err != nil {
			return nil, err
		}
		if r, err = c.castNode(r, t, false); err != nil {
			return nil, err
		}
		var k binaryKernel
		switch t.ID() {
		case arrow.INT8:
			k = intArithKernel[int8](t, op, om, dm)
		case arrow.INT16:
			k = intArithKernel[int16](t, op, om, dm)
		case arrow.INT32:
			k = intArithKernel[int32](t, op, om, dm)
		default:
			k = intArithKernel[int64](t, op, om, dm)
		}
		return &binaryNode{name: call.Func, l: l, r: r, t: t, alloc: c.alloc, kernel: k}, nil
	}
	return nil, unsupported(call, args)
}

func (c *compiler) floatArith(call *logical.Call, op arithOp, l, r node, dm divZeroMode) (node, error) {
	t := call.T
	if t == nil || !logical.IsFloat(t) {
		t = arrow.PrimitiveTypes.Float64
	}
	var err error
	if l, err = c.castNode(l, t, false); err != nil {
		return nil, err
	}
	if r, err = c.castNode(r, t, false); err != nil {
		return nil, err
	}
	var k binaryKernel
	if t.ID() == arrow.FLOAT32 {
		k = floatArithKernel[float32](t, op, dm)
	} else {
		k = floatArithKernel[float64](t, op, dm)
	}
	return &binaryNode{name: call.Func, l: l, r: r, t: t, alloc: c.alloc, kernel: k}, nil
}

func isSignedInt(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		return true
	}
	return false
}

func intWidth(t arrow.DataType) int {
	switch t.ID() {
	case arrow.INT8:
		return 1
	case arrow.INT16:
		return 2
	case arrow.INT32:
		return 4
	}
	return 8
}

func widerInt(a, b arrow.DataType) arrow.DataType {
	if intWidth(a) >= intWidth(b) {
		return a
	}
	return b
}

func minMax[T signed]() (T, T) {
	var z T
	bitsN := unsafe.Sizeof(z) * 8
	mx := T(1<<(bitsN-2) - 1 + 1<<(bitsN-2))
	return -mx - 1, mx
}

// checkedInt computes one integer operation with overflow detection.
func checkedInt[T signed](op arithOp, x, y T) (T, bool) {
	lo, hi := minMax[T]()
	switch op {
	case opAdd:
		r := x + y
		return r, (x^r)&(y^r) >= 0
	case opSub:
		r := x - y
		return r, (x^y)&(x^r) >= 0
	case opMul:
		if unsafe.Sizeof(x) == 8 {
			p := mul64x64(int64(x), int64(y))
			return T(p.lo), p.fitsInt64()
		}
		p := int64(x) * int64(y)
		return T(p), p >= int64(lo) && p <= int64(hi)
	case opDiv:
		if x == lo && y == -1 {
			return lo, false
		}
		return x / y, true
	default:
		if y == -1 {
			return 0, true
		}
		return x % y, true
	}
}

// saturate returns the bound an overflowing operation hits.
func saturate[T signed](op arithOp, x, y T) T {
	lo, hi := minMax[T]()
	neg := false
	switch op {
	case opAdd:
		neg = x < 0
	case opSub:
		neg = x < 0 && y > 0
	case opMul:
		neg = (x < 0) != (y < 0)
	case opDiv:
		neg = false
	}
	if neg {
		return lo
	}
	return hi
}

func intArithKernel[T signed](t arrow.DataType, op arithOp, om overflowMode, dm divZeroMode) binaryKernel {
	return func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
		valid := validityOf(alloc, n, a, b)
		vb := bitsOf(valid)
		buf, out := newValues[T](alloc, n)
		av, bv := values[T](a.arr), values[T](b.arr)
		var err error
		switch op {
		case opAdd, opSub, opMul:
			var ovf bool
			switch {
			case a.isConst:
				ovf = intLoopSV(op, av[0], bv, out)
			case b.isConst:
				ovf = intLoopVS(op, av, bv[0], out)
			default:
				ovf = intLoopVV(op, av, bv, out)
			}
			if ovf && om != overflowSilent {
				err = fixOverflow(op, om, a, b, av, bv, out, vb)
			}
		default:
			valid, err = intDivLoop(alloc, op, om, dm, a, b, av, bv, out, valid)
		}
		if err != nil {
			buf.Release()
			if valid != nil {
				valid.Release()
			}
			return nil, err
		}
		return makeArray(t, n, valid, buf), nil
	}
}

func intLoopVV[T signed](op arithOp, a, b, out []T) bool {
	var ovf T
	a, b = a[:len(out)], b[:len(out)]
	switch op {
	case opAdd:
		for i := range out {
			x, y := a[i], b[i]
			r := x + y
			out[i] = r
			ovf |= (x ^ r) & (y ^ r)
		}
	case opSub:
		for i := range out {
			x, y := a[i], b[i]
			r := x - y
			out[i] = r
			ovf |= (x ^ y) & (x ^ r)
		}
	case opMul:
		return mulLoop(a, b, out, 0, 0)
	}
	return ovf < 0
}

func intLoopVS[T signed](op arithOp, a []T, y T, out []T) bool {
	var ovf T
	a = a[:len(out)]
	switch op {
	case opAdd:
		for i := range out {
			x := a[i]
			r := x + y
			out[i] = r
			ovf |= (x ^ r) & (y ^ r)
		}
	case opSub:
		for i := range out {
			x := a[i]
			r := x - y
			out[i] = r
			ovf |= (x ^ y) & (x ^ r)
		}
	case opMul:
		return mulLoop(a, nil, out, 0, y)
	}
	return ovf < 0
}

func intLoopSV[T signed](op arithOp, x T, b []T, out []T) bool {
	var ovf T
	b = b[:len(out)]
	switch op {
	case opAdd:
		for i := range out {
			y := b[i]
			r := x + y
			out[i] = r
			ovf |= (x ^ r) & (y ^ r)
		}
	case opSub:
		for i := range out {
			y := b[i]
			r := x - y
			out[i] = r
			ovf |= (x ^ y) & (x ^ r)
		}
	case opMul:
		return mulLoop(nil, b, out, x, 0)
	}
	return ovf < 0
}

// mulLoop multiplies a (or the constant ca when a is nil) by b (or cb),
// reporting whether any product overflowed.
func mulLoop[T signed](a, b, out []T, ca, cb T) bool {
	ovf := false
	lo, hi := minMax[T]()
	wide := unsafe.Sizeof(ca) == 8
	for i := range out {
		x, y := ca, cb
		if a != nil {
			x = a[i]
		}
		if b != nil {
			y = b[i]
		}
		if wide {
			h, l := bits.Mul64(uint64(x), uint64(y))
			sh := int64(h)
			if x < 0 {
				sh -= int64(y)
			}
			if y < 0 {
				sh -= int64(x)
			}
			out[i] = T(l)
			if sh != int64(l)>>63 {
				ovf = true
			}
		} else {
			p := int64(x) * int64(y)
			out[i] = T(p)
			if p < int64(lo) || p > int64(hi) {
				ovf = true
			}
		}
	}
	return ovf
}

// fixOverflow revisits the rows after the fast loop flagged an overflow:
// a valid overflowing row is an error, or saturates.
func fixOverflow[T signed](op arithOp, om overflowMode, a, b operand, av, bv, out []T, valid []byte) error {
	for i := range out {
		if !isValid(valid, 0, i) {
			continue
		}
		x, y := pick(av, a.isConst, i), pick(bv, b.isConst, i)
		r, ok := checkedInt(op, x, y)
		if ok {
			out[i] = r
			continue
		}
		if om == overflowSaturate {
			out[i] = saturate(op, x, y)
			continue
		}
		return overflowErr(op.String(), x, y)
	}
	return nil
}

func overflowErr(fn string, x, y any) error {
	return fmt.Errorf("%w: %s(%v, %v) overflows", ErrOverflow, fn, x, y)
}

func pick[T any](v []T, isConst bool, i int) T {
	if isConst {
		return v[0]
	}
	return v[i]
}

// intDivLoop computes division or modulus, checking each valid row for a
// zero divisor and for MIN / -1.
func intDivLoop[T signed](alloc memory.Allocator, op arithOp, om overflowMode, dm divZeroMode,
	a, b operand, av, bv, out []T, valid *memory.Buffer) (*memory.Buffer, error) {
	lo, hi := minMax[T]()
	vb := bitsOf(valid)
	for i := range out {
		x, y := pick(av, a.isConst, i), pick(bv, b.isConst, i)
		if y == 0 || (y == -1 && x == lo) {
			if !isValid(vb, 0, i) {
				out[i] = 0
				continue
			}
			if y == 0 {
				if dm == divZeroError {
					return valid, fmt.Errorf("%w: %s(%v, 0)", ErrDivisionByZero, op, x)
				}
				if valid == nil {
					valid, vb = allValidBitmap(alloc, len(out))
				}
				setNull(vb, i)
				out[i] = 0
				continue
			}
			if op == opMod {
				out[i] = 0
				continue
			}
			switch om {
			case overflowError:
				return valid, overflowErr(op.String(), x, y)
			case overflowSaturate:
				out[i] = hi
			default:
				out[i] = lo
			}
			continue
		}
		if op == opDiv {
			out[i] = x / y
		} else {
			out[i] = x % y
		}
	}
	return valid, nil
}

func setNull(bm []byte, i int) { bm[i>>3] &^= 1 << (i & 7) }

func floatArithKernel[T floating](t arrow.DataType, op arithOp, dm divZeroMode) binaryKernel {
	return func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
		valid := validityOf(alloc, n, a, b)
		buf, out := newValues[T](alloc, n)
		av, bv := values[T](a.arr), values[T](b.arr)
		switch {
		case a.isConst:
			floatLoopSV(op, av[0], bv, out)
		case b.isConst:
			floatLoopVS(op, av, bv[0], out)
		default:
			floatLoopVV(op, av, bv, out)
		}
		if op == opDiv || op == opMod {
			// Division by zero: error (PostgreSQL), NULL or NaN per option.
			vb := bitsOf(valid)
			for i := range out {
				if pick(bv, b.isConst, i) != 0 || !isValid(vb, 0, i) {
					continue
				}
				switch dm {
				case divZeroError:
					buf.Release()
					if valid != nil {
						valid.Release()
					}
					return nil, fmt.Errorf("%w: %s(%v, 0)", ErrDivisionByZero, op, pick(av, a.isConst, i))
				case divZeroNull:
					if valid == nil {
						valid, vb = allValidBitmap(alloc, n)
					}
					setNull(vb, i)
				case divZeroNaN:
					out[i] = T(math.NaN())
				}
			}
		}
		return makeArray(t, n, valid, buf), nil
	}
}

func floatLoopVV[T floating](op arithOp, a, b, out []T) {
	a, b = a[:len(out)], b[:len(out)]
	switch op {
	case opAdd:
		for i := range out {
			out[i] = a[i] + b[i]
		}
	case opSub:
		for i := range out {
			out[i] = a[i] - b[i]
		}
	case opMul:
		for i := range out {
			out[i] = a[i] * b[i]
		}
	case opDiv:
		for i := range out {
			out[i] = a[i] / b[i]
		}
	case opMod:
		for i := range out {
			out[i] = T(math.Mod(float64(a[i]), float64(b[i])))
		}
	}
}

func floatLoopVS[T floating](op arithOp, a []T, y T, out []T) {
	a = a[:len(out)]
	switch op {
	case opAdd:
		for i := range out {
			out[i] = a[i] + y
		}
	case opSub:
		for i := range out {
			out[i] = a[i] - y
		}
	case opMul:
		for i := range out {
			out[i] = a[i] * y
		}
	case opDiv:
		for i := range out {
			out[i] = a[i] / y
		}
	case opMod:
		for i := range out {
			out[i] = T(math.Mod(float64(a[i]), float64(y)))
		}
	}
}

func floatLoopSV[T floating](op arithOp, x T, b, out []T) {
	b = b[:len(out)]
	switch op {
	case opAdd:
		for i := range out {
			out[i] = x + b[i]
		}
	case opSub:
		for i := range out {
			out[i] = x - b[i]
		}
	case opMul:
		for i := range out {
			out[i] = x * b[i]
		}
	case opDiv:
		for i := range out {
			out[i] = x / b[i]
		}
	case opMod:
		for i := range out {
			out[i] = T(math.Mod(float64(x), float64(b[i])))
		}
	}
}
