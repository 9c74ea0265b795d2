package expr

import (
	"fmt"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// decimalOf is the decimal type an integer type converts to losslessly.
func decimalOf(t arrow.DataType) (arrow.DataType, bool) {
	switch t.ID() {
	case arrow.INT8, arrow.UINT8:
		return logical.DecimalType(3, 0), true
	case arrow.INT16, arrow.UINT16:
		return logical.DecimalType(5, 0), true
	case arrow.INT32, arrow.UINT32:
		return logical.DecimalType(10, 0), true
	case arrow.INT64:
		return logical.DecimalType(19, 0), true
	case arrow.UINT64:
		return logical.DecimalType(20, 0), true
	}
	if logical.IsDecimal(t) {
		return t, true
	}
	return nil, false
}

func is64(t arrow.DataType) bool { return t.ID() == arrow.DECIMAL64 }

// decView reads a decimal operand as int64 (Decimal64) or i128 values.
type decView struct {
	v64     []int64
	v128    []i128
	isConst bool
}

func newDecView(o operand) decView {
	d := decView{isConst: o.isConst}
	if is64(o.arr.DataType()) {
		d.v64 = values[int64](o.arr)
	} else {
		d.v128 = values[i128](o.arr)
	}
	return d
}

func (d decView) at(i int) i128 {
	if d.isConst {
		i = 0
	}
	if d.v64 != nil {
		return i128From64(d.v64[i])
	}
	return d.v128[i]
}

func (c *compiler) compileDecimalArith(call *logical.Call, op arithOp, l, r node, dm divZeroMode) (node, error) {
	lt, ok1 := decimalOf(l.dtype())
	rt, ok2 := decimalOf(r.dtype())
	if !ok1 || !ok2 {
		return nil, unsupported(call, []node{l, r})
	}
	var err error
	if l, err = c.castNode(l, lt, false); err != nil {
		return nil, err
	}
	if r, err = c.castNode(r, rt, false); err != nil {
		return nil, err
	}
	p1, s1, _ := logical.DecimalParams(lt)
	p2, s2, _ := logical.DecimalParams(rt)
	t := call.T
	if t == nil || !logical.IsDecimal(t) {
		t = logical.DecimalType(logical.DecimalResultType(call.Func, p1, s1, p2, s2))
	}
	p, s, _ := logical.DecimalParams(t)
	k := decimalArithKernel(call.Func, op, dm, t, p1, s1, p2, s2, p, s, is64(lt), is64(rt))
	return &binaryNode{name: call.Func, l: l, r: r, t: t, alloc: c.alloc, kernel: k}, nil
}

func decOverflow(fn string, p, s int32) error {
	return fmt.Errorf("%w: result of %s does not fit decimal(%d, %d)", ErrOverflow, fn, p, s)
}

// decimalArithKernel picks the kernel for one decimal operation. Fast
// paths run on int64 unscaled values; the rest go through 128-bit math.
func decimalArithKernel(fn string, op arithOp, dm divZeroMode, t arrow.DataType,
	p1, s1, p2, s2, p, s int32, l64, r64 bool) binaryKernel {
	out64 := is64(t)
	switch {
	case (op == opAdd || op == opSub) && l64 && r64 && out64 &&
		s >= s1 && s >= s2 && p1-s1+s <= 18 && p2-s2+s <= 18:
		f1, f2 := pow10i64[s-s1], pow10i64[s-s2]
		bound := pow10i64[p]
		return func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
			return dec64AddSub(alloc, fn, op == opSub, t, a, b, n, f1, f2, bound, p, s)
		}
	case op == opMul && l64 && r64 && s == s1+s2 && p1+p2 <= 18:
		if out64 {
			bound := pow10i64[p]
			return func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
				return dec64Mul(alloc, fn, t, a, b, n, bound, p, s)
			}
		}
	case op == opMul && l64 && r64 && s == s1+s2 && !out64:
		return func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
			return dec64MulWide(alloc, fn, t, a, b, n, p1+p2 <= p, p, s)
		}
	case op == opMul && !l64 && r64 && s == s1+s2 && !out64:
		return func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
			return dec128Mul64(alloc, fn, t, a, b, n, p, s)
		}
	}
	return func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
		return decGeneric(alloc, fn, op, dm, t, a, b, n, s1, s2, p, s)
	}
}

// dec64AddSub adds or subtracts Decimal64 values rescaled by f1 and f2.
// The preconditions of its fast path guarantee no int64 overflow; only
// the result precision needs checking.
func dec64AddSub(alloc memory.Allocator, fn string, sub bool, t arrow.DataType, a, b operand, n int,
	f1, f2, bound int64, p, s int32) (arrow.Array, error) {
	valid := validityOf(alloc, n, a, b)
	buf, out := newValues[int64](alloc, n)
	av, bv := values[int64](a.arr), values[int64](b.arr)
	bm1, span := bound-1, uint64(2*bound-1)
	sign := int64(1)
	if sub {
		sign = -1
	}
	var bad bool
	switch {
	case a.isConst:
		x := av[0] * f1
		bv = bv[:n]
		for i := range out {
			r := x + sign*bv[i]*f2
			out[i] = r
			if uint64(r+bm1) >= span {
				bad = true
			}
		}
	case b.isConst:
		y := sign * bv[0] * f2
		av = av[:n]
		if f1 == 1 {
			for i := range out {
				r := av[i] + y
				out[i] = r
				if uint64(r+bm1) >= span {
					bad = true
				}
			}
		} else {
			for i := range out {
				r := av[i]*f1 + y
				out[i] = r
				if uint64(r+bm1) >= span {
					bad = true
				}
			}
		}
	default:
		av, bv = av[:n], bv[:n]
		if f1 == 1 && f2 == 1 {
			for i := range out {
				r := av[i] + sign*bv[i]
				out[i] = r
				if uint64(r+bm1) >= span {
					bad = true
				}
			}
		} else {
			for i := range out {
				r := av[i]*f1 + sign*bv[i]*f2
				out[i] = r
				if uint64(r+bm1) >= span {
					bad = true
				}
			}
		}
	}
	if bad {
		if err := checkBound64(out, bitsOf(valid), bound, fn, p, s); err != nil {
			buf.Release()
			releaseBuf(valid)
			return nil, err
		}
	}
	return makeArray(t, n, valid, buf), nil
}

func releaseBuf(b *memory.Buffer) {
	if b != nil {
		b.Release()
	}
}

// checkBound64 reports an overflow if a valid row is out of bounds.
func checkBound64(out []int64, valid []byte, bound int64, fn string, p, s int32) error {
	for i, r := range out {
		if (r >= bound || r <= -bound) && isValid(valid, 0, i) {
			return decOverflow(fn, p, s)
		}
	}
	return nil
}

func dec64Mul(alloc memory.Allocator, fn string, t arrow.DataType, a, b operand, n int, bound int64, p, s int32) (arrow.Array, error) {
	valid := validityOf(alloc, n, a, b)
	buf, out := newValues[int64](alloc, n)
	av, bv := values[int64](a.arr), values[int64](b.arr)
	var bad bool
	if a.isConst || b.isConst {
		if a.isConst {
			av, bv = bv, av
		}
		y := bv[0]
		av = av[:n]
		for i := range out {
			r := av[i] * y
			out[i] = r
			if uint64(r+bound-1) >= uint64(2*bound-1) {
				bad = true
			}
		}
	} else {
		av, bv = av[:n], bv[:n]
		for i := range out {
			r := av[i] * bv[i]
			out[i] = r
			if uint64(r+bound-1) >= uint64(2*bound-1) {
				bad = true
			}
		}
	}
	if bad {
		if err := checkBound64(out, bitsOf(valid), bound, fn, p, s); err != nil {
			buf.Release()
			releaseBuf(valid)
			return nil, err
		}
	}
	return makeArray(t, n, valid, buf), nil
}

// dec64MulWide multiplies Decimal64 values into a Decimal128 result; the
// 128-bit product is exact, so only the precision may need checking.
func dec64MulWide(alloc memory.Allocator, fn string, t arrow.DataType, a, b operand, n int, fits bool, p, s int32) (arrow.Array, error) {
	valid := validityOf(alloc, n, a, b)
	buf, out := newValues[i128](alloc, n)
	av, bv := values[int64](a.arr), values[int64](b.arr)
	switch {
	case a.isConst || b.isConst:
		if a.isConst {
			av, bv = bv, av
		}
		y := bv[0]
		av = av[:n]
		for i := range out {
			out[i] = mul64x64(av[i], y)
		}
	default:
		av, bv = av[:n], bv[:n]
		for i := range out {
			out[i] = mul64x64(av[i], bv[i])
		}
	}
	if !fits {
		if err := checkBound128(out, bitsOf(valid), fn, p, s); err != nil {
			buf.Release()
			releaseBuf(valid)
			return nil, err
		}
	}
	return makeArray(t, n, valid, buf), nil
}

func checkBound128(out []i128, valid []byte, fn string, p, s int32) error {
	for i, r := range out {
		if !r.fitsPrecision(p) && isValid(valid, 0, i) {
			return decOverflow(fn, p, s)
		}
	}
	return nil
}

// dec128Mul64 multiplies Decimal128 by Decimal64 values. When every
// Decimal128 value of the batch fits in 64 bits (as in TPC-H, where wide
// decimals come from multiplying narrow ones) the exact 128-bit product of
// two int64s is used, and the precision is only checked if 19 digits times
// the Decimal64 operand's precision may exceed the result's.
func dec128Mul64(alloc memory.Allocator, fn string, t arrow.DataType, a, b operand, n int, p, s int32) (arrow.Array, error) {
	valid := validityOf(alloc, n, a, b)
	vb := bitsOf(valid)
	buf, out := newValues[i128](alloc, n)
	av, bv := values[i128](a.arr), values[int64](b.arr)
	if !a.isConst && all64(av[:n]) {
		p2, _, _ := logical.DecimalParams(b.arr.DataType())
		if b.isConst {
			y := bv[0]
			for i, x := range av[:n] {
				out[i] = mul64x64(int64(x.lo), y)
			}
		} else {
			bv = bv[:n]
			for i, x := range av[:n] {
				out[i] = mul64x64(int64(x.lo), bv[i])
			}
		}
		if 19+p2 > p {
			if err := checkBound128(out, vb, fn, p, s); err != nil {
				buf.Release()
				releaseBuf(valid)
				return nil, err
			}
		}
		return makeArray(t, n, valid, buf), nil
	}
	bound := pow10i128[p]
	for i := range out {
		x, y := pick(av, a.isConst, i), pick(bv, b.isConst, i)
		r, ok := mul128x64(x, y)
		out[i] = r
		if ok {
			m, _ := r.mag()
			ok = m.less(bound)
		}
		if !ok && isValid(vb, 0, i) {
			buf.Release()
			releaseBuf(valid)
			return nil, decOverflow(fn, p, s)
		}
	}
	return makeArray(t, n, valid, buf), nil
}

// all64 reports whether every value fits in an int64.
func all64(v []i128) bool {
	bad := false
	for _, x := range v {
		bad = bad || x.hi != int64(x.lo)>>63
	}
	return !bad
}

// decGeneric evaluates any decimal operation row by row in 128-bit
// arithmetic (big integers for the rare wider intermediates).
func decGeneric(alloc memory.Allocator, fn string, op arithOp, dm divZeroMode, t arrow.DataType,
	a, b operand, n int, s1, s2, p, s int32) (arrow.Array, error) {
	valid := validityOf(alloc, n, a, b)
	vb := bitsOf(valid)
	out64 := is64(t)
	var buf *memory.Buffer
	var o64 []int64
	var o128 []i128
	if out64 {
		buf, o64 = newValues[int64](alloc, n)
	} else {
		buf, o128 = newValues[i128](alloc, n)
	}
	fail := func(err error) (arrow.Array, error) {
		buf.Release()
		releaseBuf(valid)
		return nil, err
	}
	x, y := newDecView(a), newDecView(b)
	for i := 0; i < n; i++ {
		if !isValid(vb, 0, i) {
			continue
		}
		r, ok, err := decOp(op, x.at(i), y.at(i), s1, s2, s)
		if err != nil {
			if err == errDecDivZero {
				switch dm {
				case divZeroError:
					return fail(fmt.Errorf("%w: %s of decimals", ErrDivisionByZero, fn))
				default:
					if valid == nil {
						valid, vb = allValidBitmap(alloc, n)
					}
					setNull(vb, i)
					continue
				}
			}
			return fail(err)
		}
		if !ok || !r.fitsPrecision(p) {
			return fail(decOverflow(fn, p, s))
		}
		if out64 {
			o64[i] = int64(r.lo)
		} else {
			o128[i] = r
		}
	}
	return makeArray(t, n, valid, buf), nil
}

var errDecDivZero = fmt.Errorf("%w: decimal", ErrDivisionByZero)

// decOp computes one decimal operation: x at scale s1, y at scale s2,
// result at scale s (rounded half away from zero when reducing scale).
func decOp(op arithOp, x, y i128, s1, s2, s int32) (i128, bool, error) {
	switch op {
	case opAdd, opSub, opMod:
		// Bring both to the larger scale, operate, then to s.
		cs := max(s1, s2)
		xs, ok1 := x.scaleUp(cs - s1)
		ys, ok2 := y.scaleUp(cs - s2)
		if !ok1 || !ok2 {
			return bigDecOp(op, x, y, s1, s2, s)
		}
		var r i128
		ok := true
		switch op {
		case opAdd:
			r, ok = xs.add(ys)
		case opSub:
			r, ok = xs.sub(ys)
		default:
			if ys.sign() == 0 {
				return i128{}, false, errDecDivZero
			}
			r = xs.rem(ys)
		}
		if !ok {
			return bigDecOp(op, x, y, s1, s2, s)
		}
		return rescale128(r, cs, s)
	case opMul:
		r, ok := x.mul(y)
		if !ok {
			return bigDecOp(op, x, y, s1, s2, s)
		}
		return rescale128(r, s1+s2, s)
	default: // divide
		if y.sign() == 0 {
			return i128{}, false, errDecDivZero
		}
		k := s - s1 + s2
		if k >= 0 && k <= 38 {
			r, ok := divRound(x, k, y)
			return r, ok, nil
		}
		return bigDecOp(op, x, y, s1, s2, s)
	}
}

// rescale128 converts r from scale from to scale to.
func rescale128(r i128, from, to int32) (i128, bool, error) {
	switch {
	case to > from:
		if to-from > 38 {
			return i128{}, r.sign() == 0, nil
		}
		v, ok := r.scaleUp(to - from)
		return v, ok, nil
	case to < from:
		if from-to > 38 {
			return i128{}, true, nil
		}
		return r.scaleDown(from - to), true, nil
	}
	return r, true, nil
}

// bigDecOp is decOp in arbitrary precision.
func bigDecOp(op arithOp, x, y i128, s1, s2, s int32) (i128, bool, error) {
	bx, by := x.big(), y.big()
	ten := big.NewInt(10)
	pow := func(k int32) *big.Int { return new(big.Int).Exp(ten, big.NewInt(int64(k)), nil) }
	var num, den *big.Int
	switch op {
	case opAdd, opSub, opMod:
		cs := max(s1, s2)
		bx.Mul(bx, pow(cs-s1))
		by.Mul(by, pow(cs-s2))
		switch op {
		case opAdd:
			bx.Add(bx, by)
		case opSub:
			bx.Sub(bx, by)
		default:
			if by.Sign() == 0 {
				return i128{}, false, errDecDivZero
			}
			bx.Rem(bx, by)
		}
		num, den = bx, big.NewInt(1)
		if s >= cs {
			num.Mul(num, pow(s-cs))
		} else {
			den = pow(cs - s)
		}
	case opMul:
		num = bx.Mul(bx, by)
		den = big.NewInt(1)
		if s >= s1+s2 {
			num.Mul(num, pow(s-s1-s2))
		} else {
			den = pow(s1 + s2 - s)
		}
	default:
		if by.Sign() == 0 {
			return i128{}, false, errDecDivZero
		}
		k := s - s1 + s2
		num, den = bx, by
		if k >= 0 {
			num.Mul(num, pow(k))
		} else {
			den.Mul(den, pow(-k))
		}
	}
	neg := (num.Sign() < 0) != (den.Sign() < 0)
	num.Abs(num)
	den.Abs(den)
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	rem.Lsh(rem, 1)
	if rem.Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	r, ok := i128FromBig(q)
	return r, ok, nil
}
