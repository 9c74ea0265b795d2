package expr

import (
	"math/big"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// i128 is a signed 128-bit integer in two's complement with the memory
// layout of decimal128.Num (low word first), so Decimal128 value buffers
// can be read as []i128.
type i128 struct {
	lo uint64
	hi int64
}

// u128 is an unsigned 128-bit magnitude.
type u128 struct{ hi, lo uint64 }

func i128From64(v int64) i128 { return i128{lo: uint64(v), hi: v >> 63} }

func i128FromNum(n decimal128.Num) i128 { return i128{lo: n.LowBits(), hi: n.HighBits()} }

func (a i128) num() decimal128.Num { return decimal128.New(a.hi, a.lo) }

func (a i128) neg() i128 {
	lo, borrow := bits.Sub64(0, a.lo, 0)
	hi := -a.hi - int64(borrow)
	return i128{lo: lo, hi: hi}
}

func (a i128) sign() int {
	switch {
	case a.hi < 0:
		return -1
	case a.hi == 0 && a.lo == 0:
		return 0
	}
	return 1
}

// fitsInt64 reports whether a is representable as int64.
func (a i128) fitsInt64() bool { return a.hi == int64(a.lo)>>63 }

// mag returns |a| and whether a is negative. |MinInt128| is 2^127, which
// fits the unsigned magnitude.
func (a i128) mag() (u128, bool) {
	if a.hi < 0 {
		n := a.neg()
		return u128{hi: uint64(n.hi), lo: n.lo}, true
	}
	return u128{hi: uint64(a.hi), lo: a.lo}, false
}

// fromMag builds ±m, ok=false if it does not fit in i128.
func fromMag(m u128, neg bool) (i128, bool) {
	if neg {
		if m.hi > 1<<63 || (m.hi == 1<<63 && m.lo != 0) {
			return i128{}, false
		}
		return i128{lo: m.lo, hi: int64(m.hi)}.neg(), true
	}
	if m.hi >= 1<<63 {
		return i128{}, false
	}
	return i128{lo: m.lo, hi: int64(m.hi)}, true
}

func (a i128) add(b i128) (i128, bool) {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi := a.hi + b.hi + int64(c)
	ovf := (a.hi >= 0) == (b.hi >= 0) && (hi >= 0) != (a.hi >= 0)
	return i128{lo: lo, hi: hi}, !ovf
}

func (a i128) sub(b i128) (i128, bool) {
	lo, c := bits.Sub64(a.lo, b.lo, 0)
	hi := a.hi - b.hi - int64(c)
	ovf := (a.hi >= 0) != (b.hi >= 0) && (hi >= 0) != (a.hi >= 0)
	return i128{lo: lo, hi: hi}, !ovf
}

func (a i128) cmp(b i128) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

func (a u128) isZero() bool { return a.hi == 0 && a.lo == 0 }

// mulU128 multiplies magnitudes; ok=false when the product exceeds 128 bits.
func mulU128(a, b u128) (u128, bool) {
	if a.hi != 0 && b.hi != 0 {
		return u128{}, false
	}
	hi, lo := bits.Mul64(a.lo, b.lo)
	h1, l1 := bits.Mul64(a.hi, b.lo)
	h2, l2 := bits.Mul64(a.lo, b.hi)
	if h1 != 0 || h2 != 0 {
		return u128{}, false
	}
	var c uint64
	hi, c = bits.Add64(hi, l1, 0)
	if c != 0 {
		return u128{}, false
	}
	hi, c = bits.Add64(hi, l2, 0)
	if c != 0 {
		return u128{}, false
	}
	return u128{hi: hi, lo: lo}, true
}

// mul multiplies with overflow detection.
func (a i128) mul(b i128) (i128, bool) {
	ma, na := a.mag()
	mb, nb := b.mag()
	m, ok := mulU128(ma, mb)
	if !ok {
		return i128{}, false
	}
	return fromMag(m, na != nb)
}

// divU64 divides a magnitude by d (non-zero), returning quotient and remainder.
func (a u128) divU64(d uint64) (u128, uint64) {
	qhi := a.hi / d
	r := a.hi % d
	qlo, r := bits.Div64(r, a.lo, d)
	return u128{hi: qhi, lo: qlo}, r
}

// pow10u64 holds 10^0..10^19.
var pow10u64 [20]uint64

// pow10i128 holds 10^0..10^38.
var pow10i128 [39]u128

// pow10i64 holds 10^0..10^18.
var pow10i64 [19]int64

func init() {
	p := uint64(1)
	for i := range pow10u64 {
		pow10u64[i] = p
		if i < 19 {
			pow10i64[i] = int64(p)
		}
		p *= 10
	}
	m := u128{lo: 1}
	for i := range pow10i128 {
		pow10i128[i] = m
		m, _ = mulU128(m, u128{lo: 10})
	}
}

// fitsPrecision reports whether |a| < 10^p.
func (a i128) fitsPrecision(p int32) bool {
	m, _ := a.mag()
	return m.less(pow10i128[p])
}

// scaleUp multiplies by 10^k with overflow detection (0 <= k <= 38).
func (a i128) scaleUp(k int32) (i128, bool) {
	if k == 0 {
		return a, true
	}
	m, neg := a.mag()
	r, ok := mulU128(m, pow10i128[k])
	if !ok {
		return i128{}, false
	}
	return fromMag(r, neg)
}

// scaleDown divides by 10^k rounding half away from zero (0 <= k <= 38).
func (a i128) scaleDown(k int32) i128 {
	if k == 0 {
		return a
	}
	m, neg := a.mag()
	var q u128
	var roundUp bool
	if k <= 19 {
		d := pow10u64[k]
		var r uint64
		q, r = m.divU64(d)
		roundUp = r >= d-r
	} else {
		qb, rb := new(big.Int).QuoRem(m.big(), pow10i128[k].big(), new(big.Int))
		q = u128FromBig(qb)
		rb.Lsh(rb, 1)
		roundUp = rb.Cmp(pow10i128[k].big()) >= 0
	}
	if roundUp {
		var c uint64
		q.lo, c = bits.Add64(q.lo, 1, 0)
		q.hi += c
	}
	r, _ := fromMag(q, neg)
	return r
}

func (a u128) big() *big.Int {
	b := new(big.Int).SetUint64(a.hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(a.lo))
}

func u128FromBig(b *big.Int) u128 {
	lo := new(big.Int).And(b, new(big.Int).SetUint64(^uint64(0))).Uint64()
	hi := new(big.Int).Rsh(b, 64).Uint64()
	return u128{hi: hi, lo: lo}
}

func (a i128) big() *big.Int {
	m, neg := a.mag()
	b := m.big()
	if neg {
		b.Neg(b)
	}
	return b
}

// i128FromBig converts, ok=false when b does not fit.
func i128FromBig(b *big.Int) (i128, bool) {
	if b.BitLen() > 128 {
		return i128{}, false
	}
	neg := b.Sign() < 0
	m := new(big.Int).Abs(b)
	return fromMag(u128FromBig(m), neg)
}

// divRound computes a*10^k / b rounded half away from zero, for k >= 0.
// ok=false on overflow of 128 bits; b must be non-zero.
func divRound(a i128, k int32, b i128) (i128, bool) {
	ma, na := a.mag()
	mb, nb := b.mag()
	neg := na != nb
	if mb.hi == 0 {
		num, ok := mulU128(ma, pow10i128[k])
		if ok {
			q, r := num.divU64(mb.lo)
			// round half away from zero: r >= b - r
			if r >= mb.lo-r {
				var c uint64
				q.lo, c = bits.Add64(q.lo, 1, 0)
				q.hi += c
			}
			return fromMag(q, neg)
		}
	}
	num := ma.big()
	num.Mul(num, pow10i128[k].big())
	den := mb.big()
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	r.Lsh(r, 1)
	if r.Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	return i128FromBig(q)
}

// rem computes a % b with the sign of a (b non-zero).
func (a i128) rem(b i128) i128 {
	ma, na := a.mag()
	mb, _ := b.mag()
	var r u128
	if mb.hi == 0 {
		_, x := ma.divU64(mb.lo)
		r = u128{lo: x}
	} else {
		_, rb := new(big.Int).QuoRem(ma.big(), mb.big(), new(big.Int))
		r = u128FromBig(rb)
	}
	v, _ := fromMag(r, na)
	return v
}

// quo computes a / b truncated toward zero (b non-zero).
func (a i128) quo(b i128) (i128, bool) {
	ma, na := a.mag()
	mb, nb := b.mag()
	var q u128
	if mb.hi == 0 {
		q, _ = ma.divU64(mb.lo)
	} else {
		qb := new(big.Int).Quo(ma.big(), mb.big())
		q = u128FromBig(qb)
	}
	return fromMag(q, na != nb)
}

// mul64x64 returns the exact 128-bit product of two int64 values.
func mul64x64(a, b int64) i128 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	// Convert the unsigned product to the signed one.
	h := int64(hi)
	if a < 0 {
		h -= b
	}
	if b < 0 {
		h -= a
	}
	return i128{lo: lo, hi: h}
}

// mul128x64 multiplies with overflow detection, fast when the product's
// magnitude fits 128 bits.
func mul128x64(a i128, b int64) (i128, bool) {
	ma, na := a.mag()
	var mb uint64
	nb := b < 0
	if nb {
		mb = uint64(-b)
	} else {
		mb = uint64(b)
	}
	h1, l1 := bits.Mul64(ma.lo, mb)
	h2, l2 := bits.Mul64(ma.hi, mb)
	if h2 != 0 {
		return i128{}, false
	}
	hi, c := bits.Add64(h1, l2, 0)
	if c != 0 {
		return i128{}, false
	}
	return fromMag(u128{hi: hi, lo: l1}, na != nb)
}

// toFloat64 converts a scaled value to float64.
func (a i128) toFloat64(scale int32) float64 {
	m, neg := a.mag()
	f := float64(m.hi)*18446744073709551616.0 + float64(m.lo)
	f = scaleFloat(f, scale)
	if neg {
		f = -f
	}
	return f
}

// scaleFloat divides f by 10^scale (multiplies for negative scale).
func scaleFloat(f float64, scale int32) float64 {
	if scale > 0 {
		if scale < int32(len(pow10f)) {
			return f / pow10f[scale]
		}
		return f / pow10float(int(scale))
	}
	if scale < 0 {
		return f * pow10float(int(-scale))
	}
	return f
}

var pow10f = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
	1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

func pow10float(k int) float64 {
	f := 1.0
	for k >= 22 {
		f *= 1e22
		k -= 22
	}
	return f * pow10f[k]
}
