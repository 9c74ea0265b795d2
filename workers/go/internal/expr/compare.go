package expr

import (
	"bytes"
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpNe
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

var cmpOps = map[string]cmpOp{
	"equal": cmpEq, "not_equal": cmpNe, "lt": cmpLt, "lte": cmpLe, "gt": cmpGt, "gte": cmpGe,
}

// flip returns the operator with its operands swapped (a op b == b flip(op) a).
func (o cmpOp) flip() cmpOp {
	switch o {
	case cmpLt:
		return cmpGt
	case cmpLe:
		return cmpGe
	case cmpGt:
		return cmpLt
	case cmpGe:
		return cmpLe
	}
	return o
}

// holds reports whether the comparison holds for a three-way result c.
func (o cmpOp) holds(c int) bool {
	switch o {
	case cmpEq:
		return c == 0
	case cmpNe:
		return c != 0
	case cmpLt:
		return c < 0
	case cmpLe:
		return c <= 0
	case cmpGt:
		return c > 0
	}
	return c >= 0
}

func init() {
	for name := range cmpOps {
		register(name, true, compileCompare)
	}
	register("is_distinct_from", false, compileDistinct)
	register("is_not_distinct_from", false, compileDistinct)
	register("between", true, compileBetween)
}

// commonType is the type two comparison operands are converted to.
func commonType(a, b arrow.DataType) (arrow.DataType, bool) {
	if arrow.TypeEqual(a, b) {
		return a, true
	}
	switch {
	case a.ID() == arrow.NULL:
		return b, true
	case b.ID() == arrow.NULL:
		return a, true
	case logical.IsString(a) && logical.IsString(b):
		return arrow.BinaryTypes.String, true
	case logical.IsNumeric(a) && logical.IsNumeric(b):
		if logical.IsFloat(a) || logical.IsFloat(b) {
			return arrow.PrimitiveTypes.Float64, true
		}
		if logical.IsDecimal(a) || logical.IsDecimal(b) {
			da, _ := decimalOf(a)
			db, _ := decimalOf(b)
			p1, s1, _ := logical.DecimalParams(da)
			p2, s2, _ := logical.DecimalParams(db)
			s := max(s1, s2)
			return logical.DecimalType(max(p1-s1, p2-s2)+s, s), true
		}
		if isSignedInt(a) && isSignedInt(b) {
			return widerInt(a, b), true
		}
		return arrow.PrimitiveTypes.Int64, true
	case a.ID() == arrow.DATE32 && b.ID() == arrow.TIMESTAMP, a.ID() == arrow.TIMESTAMP && b.ID() == arrow.DATE32:
		return logical.TimestampUs, true
	case logical.IsString(a):
		return b, true
	case logical.IsString(b):
		return a, true
	}
	return nil, false
}

// coercePair casts two operands to their common type.
func (c *compiler) coercePair(call *logical.Call, l, r node) (node, node, error) {
	t, ok := commonType(l.dtype(), r.dtype())
	if !ok {
		return nil, nil, unsupported(call, []node{l, r})
	}
	var err error
	if l, err = c.castNode(l, t, false); err != nil {
		return nil, nil, err
	}
	if r, err = c.castNode(r, t, false); err != nil {
		return nil, nil, err
	}
	return l, r, nil
}

func compileCompare(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 2 {
		return nil, unsupported(call, args)
	}
	l, r, err := c.coercePair(call, args[0], args[1])
	if err != nil {
		return nil, err
	}
	k, err := compareKernel(cmpOps[call.Func], l.dtype())
	if err != nil {
		return nil, unsupported(call, args)
	}
	return &binaryNode{name: call.Func, l: l, r: r, t: arrow.FixedWidthTypes.Boolean, alloc: c.alloc,
		kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
			valid := validityOf(alloc, n, a, b)
			buf, out := newBitmap(alloc, n)
			k(a, b, n, out)
			return makeArray(arrow.FixedWidthTypes.Boolean, n, valid, buf), nil
		}}, nil
}

// cmpFunc writes the comparison of a and b for n rows into out (zeroed),
// ignoring validity.
type cmpFunc func(a, b operand, n int, out []byte)

func compareKernel(op cmpOp, t arrow.DataType) (cmpFunc, error) {
	switch t.ID() {
	case arrow.INT8:
		return orderedCmp[int8](op), nil
	case arrow.INT16:
		return orderedCmp[int16](op), nil
	case arrow.INT32, arrow.DATE32:
		return orderedCmp[int32](op), nil
	case arrow.INT64, arrow.TIMESTAMP, arrow.DECIMAL64, arrow.DATE64, arrow.TIME64, arrow.DURATION:
		return orderedCmp[int64](op), nil
	case arrow.UINT8:
		return orderedCmp[uint8](op), nil
	case arrow.UINT16:
		return orderedCmp[uint16](op), nil
	case arrow.UINT32:
		return orderedCmp[uint32](op), nil
	case arrow.UINT64:
		return orderedCmp[uint64](op), nil
	case arrow.FLOAT32:
		return orderedCmp[float32](op), nil
	case arrow.FLOAT64:
		return orderedCmp[float64](op), nil
	case arrow.DECIMAL128:
		return func(a, b operand, n int, out []byte) {
			av, bv := values[i128](a.arr), values[i128](b.arr)
			packBools(out, n, func(i int) bool { return op.holds(pick(av, a.isConst, i).cmp(pick(bv, b.isConst, i))) })
		}, nil
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return func(a, b operand, n int, out []byte) {
			av, bv := values[arrow.MonthDayNanoInterval](a.arr), values[arrow.MonthDayNanoInterval](b.arr)
			packBools(out, n, func(i int) bool {
				return op.holds(cmpInterval(pick(av, a.isConst, i), pick(bv, b.isConst, i)))
			})
		}, nil
	case arrow.STRING, arrow.BINARY:
		return stringCmp(op), nil
	case arrow.BOOL:
		return boolCmp(op), nil
	case arrow.NULL:
		return func(a, b operand, n int, out []byte) {}, nil
	}
	return nil, fmt.Errorf("%w: comparison of %s", ErrNotSupported, t)
}

// cmpInterval orders intervals as PostgreSQL does: months of 30 days, days
// of 24 hours.
func cmpInterval(a, b arrow.MonthDayNanoInterval) int {
	const dayNs = 86400 * 1e9
	x := (int64(a.Months)*30+int64(a.Days))*dayNs + a.Nanoseconds
	y := (int64(b.Months)*30+int64(b.Days))*dayNs + b.Nanoseconds
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

type ordered interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

func b2u(b bool) byte {
	var x byte
	if b {
		x = 1
	}
	return x
}

// Float comparisons follow PostgreSQL: NaN equals NaN and sorts above every
// other value. For integer types the NaN tests fold away.

func ltT[T ordered](x, y T) bool { return x < y || (x == x && y != y) }
func eqT[T ordered](x, y T) bool { return x == y || (x != x && y != y) }

func orderedCmp[T ordered](op cmpOp) cmpFunc {
	return func(a, b operand, n int, out []byte) {
		av, bv := values[T](a.arr), values[T](b.arr)
		o := op
		aConst, bConst := a.isConst, b.isConst
		if aConst && !bConst {
			av, bv = bv, av
			o = op.flip()
			aConst, bConst = false, true
		}
		if bConst {
			y := bv[0]
			if aConst {
				// both constant: broadcast the single result.
				x := av[0]
				r := false
				switch o {
				case cmpEq:
					r = eqT(x, y)
				case cmpNe:
					r = !eqT(x, y)
				case cmpLt:
					r = ltT(x, y)
				case cmpLe:
					r = !ltT(y, x)
				case cmpGt:
					r = ltT(y, x)
				case cmpGe:
					r = !ltT(x, y)
				}
				if r {
					setAll(out, n)
				}
				return
			}
			cmpVS(o, av[:n], y, out)
			return
		}
		cmpVV(o, av[:n], bv[:n], out)
	}
}

func cmpVS[T ordered](op cmpOp, a []T, y T, out []byte) {
	n := len(a)
	full := n &^ 7
	switch op {
	case cmpEq:
		for i := 0; i < full; i += 8 {
			var w byte
			for k := 0; k < 8; k++ {
				w |= b2u(eqT(a[i+k], y)) << k
			}
			out[i>>3] = w
		}
	case cmpNe:
		for i := 0; i < full; i += 8 {
			var w byte
			for k := 0; k < 8; k++ {
				w |= b2u(!eqT(a[i+k], y)) << k
			}
			out[i>>3] = w
		}
	case cmpLt:
		for i := 0; i < full; i += 8 {
			var w byte
			for k := 0; k < 8; k++ {
				w |= b2u(ltT(a[i+k], y)) << k
			}
			out[i>>3] = w
		}
	case cmpLe:
		for i := 0; i < full; i += 8 {
			var w byte
			for k := 0; k < 8; k++ {
				w |= b2u(!ltT(y, a[i+k])) << k
			}
			out[i>>3] = w
		}
	case cmpGt:
		for i := 0; i < full; i += 8 {
			var w byte
			for k := 0; k < 8; k++ {
				w |= b2u(ltT(y, a[i+k])) << k
			}
			out[i>>3] = w
		}
	case cmpGe:
		for i := 0; i < full; i += 8 {
			var w byte
			for k := 0; k < 8; k++ {
				w |= b2u(!ltT(a[i+k], y)) << k
			}
			out[i>>3] = w
		}
	}
	for i := full; i < n; i++ {
		x := a[i]
		var r bool
		switch op {
		case cmpEq:
			r = eqT(x, y)
		case cmpNe:
			r = !eqT(x, y)
		case cmpLt:
			r = ltT(x, y)
		case cmpLe:
			r = !ltT(y, x)
		case cmpGt:
			r = ltT(y, x)
		case cmpGe:
			r = !ltT(x, y)
		}
		if r {
			out[i>>3] |= 1 << (i & 7)
		}
	}
}

func cmpVV[T ordered](op cmpOp, a, b []T, out []byte) {
	n := len(a)
	b = b[:n]
	full := n &^ 7
	switch op {
	case cmpEq:
		for i := 0; i < full; i += 8 {
			var w byte
			for k := 0; k < 8; k++ {
				w |= b2u(eqT(a[i+k], b[i+k])) << k
			}
			out[i>>3] = w
		}
	case cmpNe:
		for i := 0; i < full; i += 8 {
			var w byte
			for k := 0; k < 8; k++ {
				w |= b2u(!eqT(a[i+k], b[i+k])) << k
			}
			out[i>>3] = w
		}
	case cmpLt:
		for i := 0; i < full; i += 8 {
			var w byte
			for k := 0; k < 8; k++ {
				w |= b2u(ltT(a[i+k], b[i+k])) << k
			}
			out[i>>3] = w
		}
	case cmpLe:
		for i := 0; i < full; i += 8 {
			var w byte
			for k := 0; k < 8; k++ {
				w |= b2u(!ltT(b[i+k], a[i+k])) << k
			}
			out[i>>3] = w
		}
	case cmpGt:
		for i := 0; i < full; i += 8 {
			var w byte
			for k := 0; k < 8; k++ {
				w |= b2u(ltT(b[i+k], a[i+k])) << k
			}
			out[i>>3] = w
		}
	case cmpGe:
		for i := 0; i < full; i += 8 {
			var w byte
			for k := 0; k < 8; k++ {
				w |= b2u(!ltT(a[i+k], b[i+k])) << k
			}
			out[i>>3] = w
		}
	}
	for i := full; i < n; i++ {
		x, y := a[i], b[i]
		var r bool
		switch op {
		case cmpEq:
			r = eqT(x, y)
		case cmpNe:
			r = !eqT(x, y)
		case cmpLt:
			r = ltT(x, y)
		case cmpLe:
			r = !ltT(y, x)
		case cmpGt:
			r = ltT(y, x)
		case cmpGe:
			r = !ltT(x, y)
		}
		if r {
			out[i>>3] |= 1 << (i & 7)
		}
	}
}

func stringCmp(op cmpOp) cmpFunc {
	return func(a, b operand, n int, out []byte) {
		ao, ad := binaryParts(a.arr)
		bo, bd := binaryParts(b.arr)
		if b.isConst || a.isConst {
			o := op
			if a.isConst && !b.isConst {
				ao, ad, bo, bd = bo, bd, ao, ad
				o = op.flip()
			}
			y := bd[bo[0]:bo[1]]
			aIsConst := a.isConst && b.isConst
			if o == cmpEq || o == cmpNe {
				want := o == cmpEq
				packBools(out, n, func(i int) bool {
					if aIsConst {
						i = 0
					}
					x := ad[ao[i]:ao[i+1]]
					return (len(x) == len(y) && string(x) == string(y)) == want
				})
				return
			}
			packBools(out, n, func(i int) bool {
				if aIsConst {
					i = 0
				}
				return o.holds(bytes.Compare(ad[ao[i]:ao[i+1]], y))
			})
			return
		}
		packBools(out, n, func(i int) bool {
			return op.holds(bytes.Compare(ad[ao[i]:ao[i+1]], bd[bo[i]:bo[i+1]]))
		})
	}
}

func boolCmp(op cmpOp) cmpFunc {
	return func(a, b operand, n int, out []byte) {
		ab, aoff := boolBits(a.arr)
		bb, boff := boolBits(b.arr)
		packBools(out, n, func(i int) bool {
			x := getBit(ab, aoff, i, a.isConst)
			y := getBit(bb, boff, i, b.isConst)
			c := int(b2u(x)) - int(b2u(y))
			return op.holds(c)
		})
	}
}

func getBit(bm []byte, off, i int, isConst bool) bool {
	if isConst {
		i = 0
	}
	i += off
	return bm[i>>3]&(1<<(i&7)) != 0
}

// compileDistinct compiles is_distinct_from and is_not_distinct_from:
// comparisons where NULL equals NULL and the result is never NULL.
func compileDistinct(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 2 {
		return nil, unsupported(call, args)
	}
	l, r, err := c.coercePair(call, args[0], args[1])
	if err != nil {
		return nil, err
	}
	k, err := compareKernel(cmpEq, l.dtype())
	if err != nil {
		return nil, unsupported(call, args)
	}
	distinct := call.Func == "is_distinct_from"
	return &binaryNode{name: call.Func, l: l, r: r, t: arrow.FixedWidthTypes.Boolean, alloc: c.alloc, nullSafe: true,
		kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
			buf, out := newBitmap(alloc, n)
			an, bn := a.constNull(), b.constNull()
			if !an && !bn {
				k(a, b, n, out)
			}
			var s1, s2 []byte
			va := operandValidity(a, n, &s1)
			vb := operandValidity(b, n, &s2)
			for i := 0; i < len(out); i += 8 {
				x, y := word(va, i), word(vb, i)
				eq := (x & y & word(out, i)) | (^x & ^y)
				if distinct {
					eq = ^eq
				}
				putWord(out, i, eq)
			}
			if n%8 != 0 {
				out[len(out)-1] &= byte(1<<(n%8)) - 1
			}
			return makeArray(arrow.FixedWidthTypes.Boolean, n, nil, buf), nil
		}}, nil
}

// operandValidity returns an aligned validity bitmap of n bits for an
// operand (all ones when it has no nulls, all zeros for a NULL constant).
func operandValidity(o operand, n int, scratch *[]byte) []byte {
	nb := (n + 7) / 8
	if o.isConst || o.arr.NullN() == 0 || o.arr.DataType().ID() == arrow.NULL {
		if cap(*scratch) < nb {
			*scratch = make([]byte, nb)
		}
		s := (*scratch)[:nb]
		v := byte(0xff)
		if (o.isConst && o.arr.IsNull(0)) || (!o.isConst && o.arr.NullN() == o.arr.Len() && o.arr.Len() > 0) {
			v = 0
		}
		for i := range s {
			s[i] = v
		}
		return s
	}
	bm, off := validityBits(o.arr)
	return alignedBits(bm, off, n, scratch)
}

// compileBetween compiles between(x, low, high) as x >= low AND x <= high.
func compileBetween(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 3 {
		return nil, unsupported(call, args)
	}
	ge, err := compileCompare(c, &logical.Call{Func: "gte", Args: call.Args[:2], T: logical.Bool}, args[:2])
	if err != nil {
		return nil, unsupported(call, args)
	}
	le, err := compileCompare(c, &logical.Call{Func: "lte", Args: []logical.Expr{call.Args[0], call.Args[2]}, T: logical.Bool},
		[]node{args[0], args[2]})
	if err != nil {
		return nil, unsupported(call, args)
	}
	return &logicNode{and: true, args: []node{ge, le}, alloc: c.alloc}, nil
}

// evalBool evaluates a boolean node.
func evalBool(ctx context.Context, n node, c *chunk) (arrow.Array, error) {
	return n.eval(ctx, c)
}
