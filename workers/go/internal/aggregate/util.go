package aggregate

import (
	"math"
	"math/big"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// fixedValues returns the values of a fixed-width array as a []T of its
// length (T must match the Arrow value width).
func fixedValues[T any](a arrow.Array) []T {
	d := a.Data()
	bufs := d.Buffers()
	if a.Len() == 0 || len(bufs) < 2 || bufs[1] == nil {
		return nil
	}
	b := bufs[1].Bytes()
	var z T
	size := int(unsafe.Sizeof(z))
	all := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/size)
	return all[d.Offset() : d.Offset()+d.Len()]
}

// bytesCol gives access to the values of a string or binary array of
// either offset width without per-row interface calls.
type bytesCol struct {
	offs32 []int32
	offs64 []int64
	data   []byte
}

func newBytesCol(a arrow.Array) bytesCol {
	d := a.Data()
	bufs := d.Buffers()
	var c bytesCol
	if len(bufs) > 2 && bufs[2] != nil {
		c.data = bufs[2].Bytes()
	}
	if len(bufs) < 2 || bufs[1] == nil {
		return c
	}
	switch a.DataType().ID() {
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		c.offs64 = fixedValuesN[int64](bufs[1].Bytes(), d.Offset(), d.Len()+1)
	default:
		c.offs32 = fixedValuesN[int32](bufs[1].Bytes(), d.Offset(), d.Len()+1)
	}
	return c
}

func fixedValuesN[T any](b []byte, off, n int) []T {
	var z T
	size := int(unsafe.Sizeof(z))
	all := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/size)
	return all[off : off+n]
}

func (c *bytesCol) at(i int) []byte {
	if c.offs32 != nil {
		return c.data[c.offs32[i]:c.offs32[i+1]]
	}
	return c.data[c.offs64[i]:c.offs64[i+1]]
}

// int128 is a signed 128-bit integer (two's complement).
type int128 struct {
	lo uint64
	hi int64
}

func i128(v int64) int128 { return int128{lo: uint64(v), hi: v >> 63} }

// add returns a+b and whether the signed addition overflowed.
func (a int128) add(b int128) (int128, bool) {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi := a.hi + b.hi + int64(c)
	r := int128{lo: lo, hi: hi}
	return r, (a.hi >= 0) == (b.hi >= 0) && (hi >= 0) != (a.hi >= 0)
}

func (a int128) less(b int128) bool {
	if a.hi != b.hi {
		return a.hi < b.hi
	}
	return a.lo < b.lo
}

func (a int128) fitsInt64() bool { return a.hi == int64(a.lo)>>63 }

func (a int128) big() *big.Int {
	neg := a.hi < 0
	x := a
	if neg {
		x.lo = ^x.lo + 1
		x.hi = ^x.hi
		if x.lo == 0 {
			x.hi++
		}
	}
	b := new(big.Int).SetUint64(uint64(x.hi))
	b.Lsh(b, 64)
	b.Or(b, new(big.Int).SetUint64(x.lo))
	if neg {
		b.Neg(b)
	}
	return b
}

func fromBig(b *big.Int) int128 {
	neg := b.Sign() < 0
	m := new(big.Int).Abs(b)
	lo := new(big.Int).And(m, new(big.Int).SetUint64(math.MaxUint64)).Uint64()
	hi := new(big.Int).Rsh(m, 64).Uint64()
	r := int128{lo: lo, hi: int64(hi)}
	if neg {
		r.lo = ^r.lo + 1
		r.hi = ^r.hi
		if r.lo == 0 {
			r.hi++
		}
	}
	return r
}

func (a int128) float() float64 {
	if a.fitsInt64() {
		return float64(int64(a.lo))
	}
	return float64(a.hi)*18446744073709551616.0 + float64(a.lo)
}

// maxDecimal38 is 10^38 - 1, the largest decimal(38, s) unscaled value.
var maxDecimal38 = func() int128 {
	b := new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil)
	return fromBig(b.Sub(b, big.NewInt(1)))
}()

var minDecimal38 = int128{lo: ^maxDecimal38.lo + 1, hi: ^maxDecimal38.hi + func() int64 {
	if maxDecimal38.lo == 0 {
		return 1
	}
	return 0
}()}

func (a int128) fits38() bool { return !maxDecimal38.less(a) && !a.less(minDecimal38) }

var pow10 = func() [19]int64 {
	var p [19]int64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// divRound divides a by the positive n, rounding half away from zero, after
// scaling a by 10^k; ok is false when the quotient does not fit 128 bits.
func divRound(a int128, k int32, n int64) (int128, bool) {
	if a.fitsInt64() && k < int32(len(pow10)) {
		v := int64(a.lo)
		m := pow10[k]
		if v > math.MinInt64/m && v < math.MaxInt64/m {
			num := v * m
			q, r := num/n, num%n
			if r < 0 {
				r = -r
			}
			if r >= n-r { // 2r >= n without overflow
				if num < 0 {
					q--
				} else {
					q++
				}
			}
			return i128(q), true
		}
	}
	num := a.big()
	num.Mul(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil))
	den := big.NewInt(n)
	qb, r := new(big.Int).QuoRem(num, den, new(big.Int))
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(den) >= 0 {
		if num.Sign() < 0 {
			qb.Sub(qb, big.NewInt(1))
		} else {
			qb.Add(qb, big.NewInt(1))
		}
	}
	if qb.BitLen() > 127 {
		return int128{}, false
	}
	return fromBig(qb), true
}

// newBuf allocates a zeroed buffer of n bytes.
func newBuf(alloc memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(alloc)
	b.Resize(n)
	clear(b.Bytes())
	return b
}

// validityOf builds a validity bitmap for the ids (set nil = all valid);
// it returns a nil buffer when every value is valid.
func validityOf(alloc memory.Allocator, set []bool, ids []uint32) (*memory.Buffer, int) {
	if set == nil {
		return nil, 0
	}
	nulls := 0
	for _, id := range ids {
		if !set[id] {
			nulls++
		}
	}
	if nulls == 0 {
		return nil, 0
	}
	buf := newBuf(alloc, int(bitutil.BytesForBits(int64(len(ids)))))
	bm := buf.Bytes()
	for j, id := range ids {
		if set[id] {
			bitutil.SetBit(bm, j)
		}
	}
	return buf, nulls
}

func makeArray(typ arrow.DataType, n int, bufs []*memory.Buffer, nulls int) arrow.Array {
	d := array.NewData(typ, n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	defer d.Release()
	return array.MakeFromData(d)
}

// gatherFixed builds an array of typ (whose values are T) from src[ids],
// NULL where set is false.
func gatherFixed[T any](alloc memory.Allocator, typ arrow.DataType, src []T, set []bool, ids []uint32) arrow.Array {
	n := len(ids)
	validity, nulls := validityOf(alloc, set, ids)
	var z T
	vals := newBuf(alloc, n*int(unsafe.Sizeof(z)))
	dst := fixedValuesN[T](vals.Bytes(), 0, n)
	for j, id := range ids {
		dst[j] = src[id]
	}
	return makeArray(typ, n, []*memory.Buffer{validity, vals}, nulls)
}

func gatherBool(alloc memory.Allocator, src []bool, set []bool, ids []uint32) arrow.Array {
	n := len(ids)
	validity, nulls := validityOf(alloc, set, ids)
	vals := newBuf(alloc, int(bitutil.BytesForBits(int64(n))))
	vb := vals.Bytes()
	for j, id := range ids {
		if src[id] {
			bitutil.SetBit(vb, j)
		}
	}
	return makeArray(arrow.FixedWidthTypes.Boolean, n, []*memory.Buffer{validity, vals}, nulls)
}

func gatherBytes(alloc memory.Allocator, typ arrow.DataType, src [][]byte, set []bool, ids []uint32) arrow.Array {
	n := len(ids)
	validity, nulls := validityOf(alloc, set, ids)
	total := 0
	for _, id := range ids {
		total += len(src[id])
	}
	data := newBuf(alloc, total)
	db := data.Bytes()
	pos := 0
	var offsets *memory.Buffer
	switch typ.ID() {
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		offsets = newBuf(alloc, 8*(n+1))
		o := fixedValuesN[int64](offsets.Bytes(), 0, n+1)
		for j, id := range ids {
			o[j] = int64(pos)
			pos += copy(db[pos:], src[id])
		}
		o[n] = int64(pos)
	default:
		offsets = newBuf(alloc, 4*(n+1))
		o := fixedValuesN[int32](offsets.Bytes(), 0, n+1)
		for j, id := range ids {
			o[j] = int32(pos)
			pos += copy(db[pos:], src[id])
		}
		o[n] = int32(pos)
	}
	return makeArray(typ, n, []*memory.Buffer{validity, offsets, data}, nulls)
}

// boolAt reads bit i of a boolean array's values.
func boolValues(a arrow.Array) ([]byte, int) {
	d := a.Data()
	return d.Buffers()[1].Bytes(), d.Offset()
}

// validRows appends to buf the rows of a that are valid and returns them,
// or nil when a has no nulls.
func validRows(a arrow.Array, buf []int32) []int32 {
	if a.NullN() == 0 {
		return nil
	}
	if buf == nil {
		buf = make([]int32, 0, a.Len())
	}
	buf = buf[:0]
	d := a.Data()
	if a.DataType().ID() == arrow.NULL || d.Buffers()[0] == nil {
		return buf
	}
	bm := d.Buffers()[0].Bytes()
	off := d.Offset()
	for i := 0; i < a.Len(); i++ {
		if bitutil.BitIsSet(bm, off+i) {
			buf = append(buf, int32(i))
		}
	}
	return buf
}
