package expr

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

func init() {
	register("negate", true, compileNegAbs)
	register("abs", true, compileNegAbs)
	register("sign", true, compileSign)
	for _, f := range []string{"sqrt", "exp", "ln", "log10", "log2"} {
		register(f, true, compileFloatUnary)
	}
	register("power", true, compilePower)
	register("floor", true, compileRounding)
	register("ceil", true, compileRounding)
	register("round", true, compileRounding)
}

func mathOptions(call *logical.Call) error {
	return checkOptions(call, map[string][]string{
		"overflow":        {"ERROR", "SATURATE", "SILENT"},
		"on_domain_error": {"ERROR", "NAN", "NULL"},
		"on_log_zero":     {"ERROR", "NAN", "MINUS_INFINITY"},
		"rounding":        {"TIE_TO_EVEN", "TIE_AWAY_FROM_ZERO", "TRUNCATE", "CEILING", "FLOOR"},
	})
}

// unaryMap builds a unary kernel from a per-value function that may fail
// (f returns ok=false and an error) or produce NULL (null=true).
func unaryMap[S, T fixed](t arrow.DataType, f func(S) (T, bool, error)) func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error) {
	return func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error) {
		n := a.Len()
		src := values[S](a)
		valid := copyValidity(alloc, a)
		vb := bitsOf(valid)
		buf, out := newValues[T](alloc, n)
		for i := 0; i < n; i++ {
			if !isValid(vb, 0, i) {
				continue
			}
			r, null, err := f(src[i])
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
			out[i] = r
		}
		return makeArray(t, n, valid, buf), nil
	}
}

func compileNegAbs(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 1 {
		return nil, unsupported(call, args)
	}
	if err := mathOptions(call); err != nil {
		return nil, err
	}
	sat := option(call, "overflow", "ERROR") == "SATURATE"
	silent := option(call, "overflow", "ERROR") == "SILENT"
	neg := call.Func == "negate"
	x := args[0]
	t := x.dtype()
	var k func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error)
	switch t.ID() {
	case arrow.INT8:
		k = unaryMap(t, intNegAbs[int8](neg, sat, silent))
	case arrow.INT16:
		k = unaryMap(t, intNegAbs[int16](neg, sat, silent))
	case arrow.INT32:
		k = unaryMap(t, intNegAbs[int32](neg, sat, silent))
	case arrow.INT64:
		k = unaryMap(t, intNegAbs[int64](neg, sat, silent))
	case arrow.FLOAT32:
		k = unaryMap(t, func(v float32) (float32, bool, error) {
			if neg {
				return -v, false, nil
			}
			return float32(math.Abs(float64(v))), false, nil
		})
	case arrow.FLOAT64:
		k = unaryMap(t, func(v float64) (float64, bool, error) {
			if neg {
				return -v, false, nil
			}
			return math.Abs(v), false, nil
		})
	case arrow.DECIMAL64:
		k = unaryMap(t, func(v int64) (int64, bool, error) {
			if neg || v < 0 {
				return -v, false, nil
			}
			return v, false, nil
		})
	case arrow.DECIMAL128:
		k = unaryMap(t, func(v i128) (i128, bool, error) {
			if neg || v.sign() < 0 {
				return v.neg(), false, nil
			}
			return v, false, nil
		})
	case arrow.INTERVAL_MONTH_DAY_NANO:
		if !neg {
			return nil, unsupported(call, args)
		}
		k = unaryMap(t, func(v arrow.MonthDayNanoInterval) (arrow.MonthDayNanoInterval, bool, error) {
			return arrow.MonthDayNanoInterval{Months: -v.Months, Days: -v.Days, Nanoseconds: -v.Nanoseconds}, false, nil
		})
	default:
		return nil, unsupported(call, args)
	}
	return &unaryNode{arg: x, t: t, alloc: c.alloc, kernel: k}, nil
}

func intNegAbs[T signed](neg, sat, silent bool) func(T) (T, bool, error) {
	lo, hi := minMax[T]()
	return func(v T) (T, bool, error) {
		if !neg && v >= 0 {
			return v, false, nil
		}
		if v == lo {
			switch {
			case sat:
				return hi, false, nil
			case silent:
				return lo, false, nil
			}
			fn := "abs"
			if neg {
				fn = "negate"
			}
			return 0, false, fmt.Errorf("%w: %s(%d) overflows", ErrOverflow, fn, v)
		}
		return -v, false, nil
	}
}

func compileSign(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 1 {
		return nil, unsupported(call, args)
	}
	x := args[0]
	t := x.dtype()
	var k func(alloc memory.Allocator, a arrow.Array) (arrow.Array, error)
	sgn := func(c int) int64 { return int64(c) }
	switch t.ID() {
	case arrow.INT8:
		k = unaryMap(t, func(v int8) (int8, bool, error) { return int8(sgnOf(int64(v))), false, nil })
	case arrow.INT16:
		k = unaryMap(t, func(v int16) (int16, bool, error) { return int16(sgnOf(int64(v))), false, nil })
	case arrow.INT32:
		k = unaryMap(t, func(v int32) (int32, bool, error) { return int32(sgnOf(int64(v))), false, nil })
	case arrow.INT64:
		k = unaryMap(t, func(v int64) (int64, bool, error) { return sgnOf(v), false, nil })
	case arrow.FLOAT32:
		k = unaryMap(t, func(v float32) (float32, bool, error) { return float32(fsign(float64(v))), false, nil })
	case arrow.FLOAT64:
		k = unaryMap(t, func(v float64) (float64, bool, error) { return fsign(v), false, nil })
	case arrow.DECIMAL64, arrow.DECIMAL128:
		// sign of a decimal is a decimal with the argument's scale.
		_, s, _ := logical.DecimalParams(t)
		one := i128From64(1)
		one, _ = one.scaleUp(s)
		if is64(t) {
			k = unaryMap(t, func(v int64) (int64, bool, error) { return sgn(int(sgnOf(v))) * int64(one.lo), false, nil })
		} else {
			k = unaryMap(t, func(v i128) (i128, bool, error) {
				switch v.sign() {
				case 1:
					return one, false, nil
				case -1:
					return one.neg(), false, nil
				}
				return i128{}, false, nil
			})
		}
	default:
		return nil, unsupported(call, args)
	}
	return &unaryNode{arg: x, t: t, alloc: c.alloc, kernel: k}, nil
}

func sgnOf(v int64) int64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func fsign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return v // 0, -0 or NaN
}

// toFloat64Node casts a numeric argument to float64.
func (c *compiler) toFloat64Node(call *logical.Call, args []node, i int) (node, error) {
	t := args[i].dtype()
	if !logical.IsNumeric(t) && t.ID() != arrow.NULL {
		return nil, unsupported(call, args)
	}
	return c.castNode(args[i], arrow.PrimitiveTypes.Float64, false)
}

func compileFloatUnary(c *compiler, call *logical.Call, args []node) (node, error) {
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
	domain := option(call, "on_domain_error", "ERROR")
	logZero := option(call, "on_log_zero", "ERROR")
	fn := call.Func
	var f func(float64) float64
	switch fn {
	case "sqrt":
		f = math.Sqrt
	case "exp":
		f = math.Exp
	case "ln":
		f = math.Log
	case "log10":
		f = math.Log10
	case "log2":
		f = math.Log2
	}
	isLog := fn == "ln" || fn == "log10" || fn == "log2"
	k := unaryMap(arrow.PrimitiveTypes.Float64, func(v float64) (float64, bool, error) {
		switch {
		case isLog && v == 0:
			switch logZero {
			case "NAN":
				return math.NaN(), false, nil
			case "MINUS_INFINITY":
				return math.Inf(-1), false, nil
			}
			return 0, false, fmt.Errorf("%w: cannot take logarithm of zero", ErrInvalidValue)
		case (isLog && v < 0) || (fn == "sqrt" && v < 0):
			switch domain {
			case "NAN":
				return math.NaN(), false, nil
			case "NULL":
				return 0, true, nil
			}
			if fn == "sqrt" {
				return 0, false, fmt.Errorf("%w: cannot take square root of a negative number", ErrInvalidValue)
			}
			return 0, false, fmt.Errorf("%w: cannot take logarithm of a negative number", ErrInvalidValue)
		}
		return f(v), false, nil
	})
	return &unaryNode{arg: x, t: arrow.PrimitiveTypes.Float64, alloc: c.alloc, kernel: k}, nil
}

func compilePower(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) != 2 {
		return nil, unsupported(call, args)
	}
	if err := mathOptions(call); err != nil {
		return nil, err
	}
	// Integer power (Substrait power(i64, i64) -> i64) with overflow checks.
	if isSignedInt(args[0].dtype()) && isSignedInt(args[1].dtype()) && call.T != nil && isSignedInt(call.T) {
		l, err := c.castNode(args[0], arrow.PrimitiveTypes.Int64, false)
		if err != nil {
			return nil, err
		}
		r, err := c.castNode(args[1], arrow.PrimitiveTypes.Int64, false)
		if err != nil {
			return nil, err
		}
		return &binaryNode{name: "power", l: l, r: r, t: arrow.PrimitiveTypes.Int64, alloc: c.alloc,
			kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
				valid := validityOf(alloc, n, a, b)
				vb := bitsOf(valid)
				buf, out := newValues[int64](alloc, n)
				av, bv := values[int64](a.arr), values[int64](b.arr)
				for i := range out {
					if !isValid(vb, 0, i) {
						continue
					}
					r, err := ipow(pick(av, a.isConst, i), pick(bv, b.isConst, i))
					if err != nil {
						buf.Release()
						releaseBuf(valid)
						return nil, err
					}
					out[i] = r
				}
				return makeArray(arrow.PrimitiveTypes.Int64, n, valid, buf), nil
			}}, nil
	}
	l, err := c.toFloat64Node(call, args, 0)
	if err != nil {
		return nil, err
	}
	r, err := c.toFloat64Node(call, args, 1)
	if err != nil {
		return nil, err
	}
	domain := option(call, "on_domain_error", "ERROR")
	return &binaryNode{name: "power", l: l, r: r, t: arrow.PrimitiveTypes.Float64, alloc: c.alloc,
		kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
			valid := validityOf(alloc, n, a, b)
			vb := bitsOf(valid)
			buf, out := newValues[float64](alloc, n)
			av, bv := values[float64](a.arr), values[float64](b.arr)
			if b.isConst && !a.isConst && bv[0] == 2 {
				// Squares (the common case) without math.Pow, which gives
				// the same x*x several times slower. NULL rows hold
				// garbage behind their validity bit, as elsewhere.
				for i, x := range av[:n] {
					out[i] = x * x
				}
				return makeArray(arrow.PrimitiveTypes.Float64, n, valid, buf), nil
			}
			for i := range out {
				if !isValid(vb, 0, i) {
					continue
				}
				x, y := pick(av, a.isConst, i), pick(bv, b.isConst, i)
				if (x == 0 && y < 0) || (x < 0 && y != math.Trunc(y)) {
					switch domain {
					case "NAN":
						out[i] = math.NaN()
						continue
					case "NULL":
						if valid == nil {
							valid, vb = allValidBitmap(alloc, n)
						}
						setNull(vb, i)
						continue
					}
					buf.Release()
					releaseBuf(valid)
					if x == 0 {
						return nil, fmt.Errorf("%w: zero raised to a negative power is undefined", ErrInvalidValue)
					}
					return nil, fmt.Errorf("%w: a negative number raised to a non-integer power yields a complex result", ErrInvalidValue)
				}
				out[i] = math.Pow(x, y)
			}
			return makeArray(arrow.PrimitiveTypes.Float64, n, valid, buf), nil
		}}, nil
}

func ipow(x, y int64) (int64, error) {
	if y < 0 {
		switch x {
		case 1:
			return 1, nil
		case -1:
			if y%2 == 0 {
				return 1, nil
			}
			return -1, nil
		case 0:
			return 0, fmt.Errorf("%w: zero raised to a negative power is undefined", ErrInvalidValue)
		}
		return 0, nil
	}
	r := int64(1)
	b := x
	for e := y; e > 0; e >>= 1 {
		if e&1 == 1 {
			p := mul64x64(r, b)
			if !p.fitsInt64() {
				return 0, fmt.Errorf("%w: power(%d, %d) overflows", ErrOverflow, x, y)
			}
			r = int64(p.lo)
		}
		if e > 1 {
			p := mul64x64(b, b)
			if !p.fitsInt64() {
				return 0, fmt.Errorf("%w: power(%d, %d) overflows", ErrOverflow, x, y)
			}
			b = int64(p.lo)
		}
	}
	return r, nil
}

// compileRounding compiles floor, ceil and round(x[, digits]).
func compileRounding(c *compiler, call *logical.Call, args []node) (node, error) {
	if len(args) < 1 || len(args) > 2 || (call.Func != "round" && len(args) != 1) {
		return nil, unsupported(call, args)
	}
	if err := mathOptions(call); err != nil {
		return nil, err
	}
	mode := map[string]string{"floor": "FLOOR", "ceil": "CEILING"}[call.Func]
	if mode == "" {
		mode = option(call, "rounding", "TIE_AWAY_FROM_ZERO")
	}
	x := args[0]
	t := x.dtype()
	var digits node
	if len(args) == 2 {
		if !logical.IsInteger(args[1].dtype()) {
			return nil, unsupported(call, args)
		}
		var err error
		if digits, err = c.castNode(args[1], arrow.PrimitiveTypes.Int64, false); err != nil {
			return nil, err
		}
	} else {
		digits = c.constOf(int64Const(0))
	}
	out := t
	if logical.IsDecimal(t) && call.T != nil && logical.IsDecimal(call.T) {
		out = call.T
	}
	switch {
	case logical.IsFloat(t):
		if t.ID() == arrow.FLOAT32 {
			var err error
			if x, err = c.castNode(x, arrow.PrimitiveTypes.Float64, false); err != nil {
				return nil, err
			}
			t = arrow.PrimitiveTypes.Float64
			out = t
		}
		return &binaryNode{name: call.Func, l: x, r: digits, t: out, alloc: c.alloc,
			kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
				valid := validityOf(alloc, n, a, b)
				buf, o := newValues[float64](alloc, n)
				av, bv := values[float64](a.arr), values[int64](b.arr)
				for i := range o {
					o[i] = roundFloat(pick(av, a.isConst, i), pick(bv, b.isConst, i), mode)
				}
				return makeArray(out, n, valid, buf), nil
			}}, nil
	case isSignedInt(t):
		var err error
		if x, err = c.castNode(x, arrow.PrimitiveTypes.Int64, false); err != nil {
			return nil, err
		}
		return &binaryNode{name: call.Func, l: x, r: digits, t: arrow.PrimitiveTypes.Int64, alloc: c.alloc,
			kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
				valid := validityOf(alloc, n, a, b)
				vb := bitsOf(valid)
				buf, o := newValues[int64](alloc, n)
				av, bv := values[int64](a.arr), values[int64](b.arr)
				for i := range o {
					v, d := pick(av, a.isConst, i), pick(bv, b.isConst, i)
					if d >= 0 || !isValid(vb, 0, i) {
						o[i] = v
						continue
					}
					if d < -18 {
						o[i] = 0
						continue
					}
					r := roundScaled(i128From64(v), int32(-d), mode)
					r, ok := r.scaleUp(int32(-d))
					if !ok || !r.fitsInt64() {
						buf.Release()
						releaseBuf(valid)
						return nil, fmt.Errorf("%w: %s(%d, %d) overflows", ErrOverflow, call.Func, v, d)
					}
					o[i] = int64(r.lo)
				}
				return makeArray(arrow.PrimitiveTypes.Int64, n, valid, buf), nil
			}}, nil
	case logical.IsDecimal(t):
		_, s, _ := logical.DecimalParams(t)
		po, so, _ := logical.DecimalParams(out)
		return &binaryNode{name: call.Func, l: x, r: digits, t: out, alloc: c.alloc,
			kernel: func(alloc memory.Allocator, a, b operand, n int) (arrow.Array, error) {
				valid := validityOf(alloc, n, a, b)
				vb := bitsOf(valid)
				x := newDecView(a)
				bv := values[int64](b.arr)
				var buf *memory.Buffer
				var o64 []int64
				var o128 []i128
				if is64(out) {
					buf, o64 = newValues[int64](alloc, n)
				} else {
					buf, o128 = newValues[i128](alloc, n)
				}
				for i := 0; i < n; i++ {
					if !isValid(vb, 0, i) {
						continue
					}
					d := pick(bv, b.isConst, i)
					v := x.at(i)
					// Round away the digits beyond d, then express at scale so.
					drop := s - int32(max(min(d, 38), -38))
					if drop > 0 {
						if drop > 38 {
							v = i128{}
						} else {
							v = roundScaled(v, drop, mode)
							v, _ = v.scaleUp(drop)
						}
					}
					r, ok, _ := rescale128(v, s, so)
					if !ok || !r.fitsPrecision(po) {
						buf.Release()
						releaseBuf(valid)
						return nil, decOverflow(call.Func, po, so)
					}
					if o64 != nil {
						o64[i] = int64(r.lo)
					} else {
						o128[i] = r
					}
				}
				return makeArray(out, n, valid, buf), nil
			}}, nil
	}
	return nil, unsupported(call, args)
}

func int64Const(v int64) arrow.Array {
	a, _ := literalArray(&logical.Literal{Value: v, T: arrow.PrimitiveTypes.Int64})
	return a
}

// roundScaled divides v by 10^k with the given rounding mode.
func roundScaled(v i128, k int32, mode string) i128 {
	if mode == "TIE_AWAY_FROM_ZERO" {
		return v.scaleDown(k)
	}
	m, neg := v.mag()
	var q u128
	var r uint64
	var d uint64
	if k <= 19 {
		d = pow10u64[k]
		q, r = m.divU64(d)
	} else {
		// 10^k beyond 64 bits: every representable digit is dropped.
		q, r, d = u128{}, 1, 2
		if m.isZero() {
			r = 0
		}
	}
	up := false
	switch mode {
	case "TIE_TO_EVEN":
		up = r > d-r || (r == d-r && q.lo&1 == 1)
	case "TRUNCATE":
	case "CEILING":
		up = r != 0 && !neg
	case "FLOOR":
		up = r != 0 && neg
	}
	if up {
		q.lo++
		if q.lo == 0 {
			q.hi++
		}
	}
	res, _ := fromMag(q, neg)
	return res
}

// roundFloat rounds to d decimal digits.
func roundFloat(v float64, d int64, mode string) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	r := func(x float64) float64 {
		switch mode {
		case "TIE_TO_EVEN":
			return math.RoundToEven(x)
		case "TRUNCATE":
			return math.Trunc(x)
		case "CEILING":
			return math.Ceil(x)
		case "FLOOR":
			return math.Floor(x)
		}
		return math.Round(x)
	}
	if d == 0 {
		return r(v)
	}
	if d > 308 || d < -308 {
		if d > 0 {
			return v
		}
		return 0
	}
	p := math.Pow(10, float64(d))
	x := v * p
	if math.IsInf(x, 0) {
		return v
	}
	return r(x) / p
}
