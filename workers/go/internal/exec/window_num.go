package exec

import (
	"errors"
	"math"
	"math/big"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// errWindowOverflow is wrapped by window results that do not fit their
// declared type.
var errWindowOverflow = errors.New("numeric overflow")

// i128 is a signed 128-bit integer in two's complement with the memory
// layout of a Decimal128 value (low word first), so Decimal128 value
// buffers can be read as []i128.
type i128 struct {
	lo uint64
	hi int64
}

func i128Of(v int64) i128 { return i128{lo: uint64(v), hi: v >> 63} }

func i128OfUint(v uint64) i128 { return i128{lo: v} }

// add is wrapping addition.
func (a i128) add(b i128) i128 {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	return i128{lo: lo, hi: a.hi + b.hi + int64(c)}
}

// sub is wrapping subtraction.
func (a i128) sub(b i128) i128 {
	lo, c := bits.Sub64(a.lo, b.lo, 0)
	return i128{lo: lo, hi: a.hi - b.hi - int64(c)}
}

// addSat adds, saturating at the int128 range.
func (a i128) addSat(b i128) i128 {
	r := a.add(b)
	if (a.hi >= 0) == (b.hi >= 0) && (r.hi >= 0) != (a.hi >= 0) {
		if a.hi >= 0 {
			return maxI128
		}
		return minI128
	}
	return r
}

// subSat subtracts, saturating at the int128 range.
func (a i128) subSat(b i128) i128 {
	r := a.sub(b)
	if (a.hi >= 0) != (b.hi >= 0) && (r.hi >= 0) != (a.hi >= 0) {
		if a.hi >= 0 {
			return maxI128
		}
		return minI128
	}
	return r
}

var (
	maxI128 = i128{lo: math.MaxUint64, hi: math.MaxInt64}
	minI128 = i128{lo: 0, hi: math.MinInt64}
)

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

func (a i128) fitsInt64() bool { return a.hi == int64(a.lo)>>63 }

func (a i128) neg() i128 { return i128{}.sub(a) }

func (a i128) float() float64 {
	if a.fitsInt64() {
		return float64(int64(a.lo))
	}
	return float64(a.hi)*18446744073709551616.0 + float64(a.lo)
}

func (a i128) big() *big.Int {
	b := new(big.Int).SetInt64(a.hi)
	b.Lsh(b, 64)
	return b.Add(b, new(big.Int).SetUint64(a.lo))
}

// i128OfBig converts b, ok=false when it does not fit.
func i128OfBig(b *big.Int) (i128, bool) {
	if b.BitLen() > 127 {
		if b.Sign() < 0 && b.BitLen() == 128 && b.TrailingZeroBits() == 127 {
			return minI128, true // -2^127
		}
		return i128{}, false
	}
	m := new(big.Int).Abs(b)
	lo := new(big.Int).And(m, new(big.Int).SetUint64(math.MaxUint64)).Uint64()
	hi := new(big.Int).Rsh(m, 64).Uint64()
	r := i128{lo: lo, hi: int64(hi)}
	if b.Sign() < 0 {
		r = r.neg()
	}
	return r, true
}

// pow10I128[k] is 10^k for k <= 38.
var pow10I128 = func() [39]i128 {
	var p [39]i128
	p[0] = i128Of(1)
	for k := 1; k < len(p); k++ {
		hi, lo := bits.Mul64(p[k-1].lo, 10)
		p[k] = i128{lo: lo, hi: p[k-1].hi*10 + int64(hi)}
	}
	return p
}()

// fitsDigits reports whether |a| < 10^p.
func (a i128) fitsDigits(p int32) bool {
	if p >= 39 {
		return true
	}
	lim := pow10I128[p]
	return a.cmp(lim) < 0 && a.cmp(lim.neg()) > 0
}

// mulPow10 returns a*10^k, ok=false on overflow.
func (a i128) mulPow10(k int32) (i128, bool) {
	if k == 0 {
		return a, true
	}
	if k > 38 {
		return i128{}, a == i128{}
	}
	r, ok := i128OfBig(new(big.Int).Mul(a.big(), pow10I128[k].big()))
	return r, ok
}

// divRoundI128 returns a*10^k / n rounded half away from zero (n > 0),
// ok=false when it does not fit.
func divRoundI128(a i128, k int32, n int64) (i128, bool) {
	if a.fitsInt64() && k < 19 {
		v := int64(a.lo)
		m := pow10I128[k].lo
		if hi, lo := bits.Mul64(uint64(absInt64(v)), m); hi == 0 && lo <= math.MaxInt64 {
			num := int64(lo)
			q, r := num/n, num%n
			if r >= n-r {
				q++
			}
			if v < 0 {
				q = -q
			}
			return i128Of(q), true
		}
	}
	num := a.big()
	num.Mul(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil))
	den := big.NewInt(n)
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return i128OfBig(q)
}

func absInt64(v int64) int64 {
	if v < 0 {
		return -v // MinInt64 stays negative; callers only pass values that fit
	}
	return v
}

// addSat64 and subSat64 are int64 arithmetic saturating at the range.
func addSat64(a, b int64) int64 {
	r := a + b
	if (a >= 0) == (b >= 0) && (r >= 0) != (a >= 0) {
		if a >= 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return r
}

func subSat64(a, b int64) int64 {
	r := a - b
	if (a >= 0) != (b >= 0) && (r >= 0) != (a >= 0) {
		if a >= 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return r
}

// mulSat64 multiplies non-negative a by positive m, saturating.
func mulSat64(a, m int64) int64 {
	if a != 0 && a > math.MaxInt64/m {
		return math.MaxInt64
	}
	return a * m
}

// fixedOut builds a fixed-width output column of n values written at
// arbitrary positions; every position starts valid.
type fixedOut[T any] struct {
	vals  *memory.Buffer
	v     []T
	bits  *memory.Buffer
	b     []byte
	nulls int
}

func newFixedOut[T any](alloc memory.Allocator, n int) *fixedOut[T] {
	var zero T
	o := &fixedOut[T]{vals: bufferOf(alloc, n*int(unsafe.Sizeof(zero)))}
	o.v = asSlice[T](o.vals, n)
	o.bits = bufferOf(alloc, int(bitutil.BytesForBits(int64(n))))
	o.b = o.bits.Bytes()
	for i := range o.b {
		o.b[i] = 0xff
	}
	return o
}

func (o *fixedOut[T]) setNull(i int32) {
	bitutil.ClearBit(o.b, int(i))
	var zero T
	o.v[i] = zero
	o.nulls++
}

// array wraps the buffers into an array of type dt; o is spent.
func (o *fixedOut[T]) array(dt arrow.DataType) arrow.Array {
	return finish(dt, len(o.v), o.nulls, []*memory.Buffer{o.bits, o.vals})
}

// release frees the buffers of an unfinished output.
func (o *fixedOut[T]) release() {
	o.vals.Release()
	o.bits.Release()
}

// boolOut builds a boolean output column.
type boolOut struct {
	vals, bits *memory.Buffer
	v, b       []byte
	n, nulls   int
}

func newBoolOut(alloc memory.Allocator, n int) *boolOut {
	nb := int(bitutil.BytesForBits(int64(n)))
	o := &boolOut{vals: bufferOf(alloc, nb), bits: bufferOf(alloc, nb), n: n}
	o.v, o.b = o.vals.Bytes(), o.bits.Bytes()
	clear(o.v)
	for i := range o.b {
		o.b[i] = 0xff
	}
	return o
}

func (o *boolOut) set(i int32, x bool) {
	if x {
		bitutil.SetBit(o.v, int(i))
	}
}

func (o *boolOut) setNull(i int32) {
	bitutil.ClearBit(o.b, int(i))
	o.nulls++
}

func (o *boolOut) array() arrow.Array {
	return finish(arrow.FixedWidthTypes.Boolean, o.n, o.nulls, []*memory.Buffer{o.bits, o.vals})
}
