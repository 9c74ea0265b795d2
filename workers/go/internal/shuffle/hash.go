// Package shuffle holds the parts of the shuffle protocol that every worker
// must compute identically, starting with the partitioning hash.
//
// The hash is Spark's HashPartitioning: murmur3_x86_32 with seed 42 folded
// over the key columns (the running hash of one column is the seed of the
// next), then partition = pmod(hash, N). Values are encoded as Spark's
// Murmur3Hash expression encodes them:
//
//	bool                         hashInt(1 or 0)
//	int8, int16, int32, uint8,
//	uint16, date32               hashInt of the value (sign-extended)
//	int64, uint32, uint64,
//	timestamp, date64,
//	duration, time64             hashLong of the value
//	time32                       hashInt of the value
//	float32                      hashInt(floatToIntBits(v)), -0.0 as 0.0, NaN canonical
//	float64                      hashLong(doubleToLongBits(v)), -0.0 as 0.0, NaN canonical
//	decimal, precision <= 18     hashLong of the unscaled value
//	decimal, precision > 18      hashBytes of the unscaled value's minimal
//	                             big-endian two's complement bytes (Java's
//	                             BigInteger.toByteArray)
//	utf8, binary (all widths)    hashBytes of the bytes (Spark's
//	                             hashUnsafeBytes: 4-byte little-endian words,
//	                             then one mixing round per trailing byte,
//	                             sign-extended)
//	dictionary                   the hash of the decoded value
//
// A NULL leaves the running hash unchanged. The test vectors shared with
// other implementations are in conformance/shuffle_hash/vectors.json.
package shuffle

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Seed is the initial hash of every row.
const Seed uint32 = 42

const (
	c1 uint32 = 0xcc9e2d51
	c2 uint32 = 0x1b873593
)

func mixK1(k1 uint32) uint32 {
	k1 *= c1
	k1 = bits.RotateLeft32(k1, 15)
	return k1 * c2
}

func mixH1(h1, k1 uint32) uint32 {
	h1 ^= k1
	h1 = bits.RotateLeft32(h1, 13)
	return h1*5 + 0xe6546b64
}

func fmix(h1, length uint32) uint32 {
	h1 ^= length
	h1 ^= h1 >> 16
	h1 *= 0x85ebca6b
	h1 ^= h1 >> 13
	h1 *= 0xc2b2ae35
	h1 ^= h1 >> 16
	return h1
}

// HashInt is Spark's Murmur3_x86_32.hashInt.
func HashInt(v int32, seed uint32) uint32 {
	return fmix(mixH1(seed, mixK1(uint32(v))), 4)
}

// HashLong is Spark's Murmur3_x86_32.hashLong.
func HashLong(v int64, seed uint32) uint32 {
	u := uint64(v)
	h := mixH1(seed, mixK1(uint32(u)))
	h = mixH1(h, mixK1(uint32(u>>32)))
	return fmix(h, 8)
}

// HashBytes is Spark's Murmur3_x86_32.hashUnsafeBytes.
func HashBytes(b []byte, seed uint32) uint32 {
	n := len(b)
	aligned := n - n%4
	h := seed
	for i := 0; i < aligned; i += 4 {
		h = mixH1(h, mixK1(binary.LittleEndian.Uint32(b[i:])))
	}
	for i := aligned; i < n; i++ {
		h = mixH1(h, mixK1(uint32(int32(int8(b[i])))))
	}
	return fmix(h, uint32(n))
}

// floatBits is Java's Float.floatToIntBits after Spark's -0.0 normalisation.
func floatBits(f float32) int32 {
	switch {
	case f == 0:
		return 0
	case f != f:
		return 0x7fc00000
	}
	return int32(math.Float32bits(f))
}

// doubleBits is Java's Double.doubleToLongBits after Spark's -0.0
// normalisation.
func doubleBits(f float64) int64 {
	switch {
	case f == 0:
		return 0
	case f != f:
		return 0x7ff8000000000000
	}
	return int64(math.Float64bits(f))
}

// decimalBytes is Java's BigInteger.toByteArray of a 128-bit value: the
// shortest big-endian two's complement form.
func decimalBytes(v decimal128.Num, buf *[16]byte) []byte {
	binary.BigEndian.PutUint64(buf[:8], uint64(v.HighBits()))
	binary.BigEndian.PutUint64(buf[8:], v.LowBits())
	b := buf[:]
	for len(b) > 1 && ((b[0] == 0 && b[1]&0x80 == 0) || (b[0] == 0xff && b[1]&0x80 != 0)) {
		b = b[1:]
	}
	return b
}

// CheckKeyType reports whether columns of type t can be hashed.
func CheckKeyType(t arrow.DataType) error {
	if !logical.ShuffleHashable(t) {
		return fmt.Errorf("shuffle hash: unsupported key type %s", t)
	}
	return nil
}

// Hash computes the Spark HashPartitioning hash of every row of cols into
// out (len(out) rows; every column must have that many rows).
func Hash(cols []arrow.Array, out []uint32) error {
	for i := range out {
		out[i] = Seed
	}
	for c, col := range cols {
		if col.Len() != len(out) {
			return fmt.Errorf("shuffle hash: key column %d has %d rows, expected %d", c, col.Len(), len(out))
		}
		if err := hashColumn(col, nil, out); err != nil {
			return err
		}
	}
	return nil
}

// PartitionIDs computes pmod(hash, n) for every row of cols into out.
func PartitionIDs(cols []arrow.Array, n int, out []int32) error {
	if n <= 0 {
		return fmt.Errorf("shuffle hash: partition count %d must be positive", n)
	}
	h := make([]uint32, len(out))
	if err := Hash(cols, h); err != nil {
		return err
	}
	// pmod(int32(h), n) without a division per row: Lemire's fastmod
	// gives u mod n for u = uint32(h); a negative h is u - 2^32, so it
	// subtracts 2^32 mod n and wraps.
	nn := uint64(n)
	magic := ^uint64(0)/nn + 1
	wrap := int64((uint64(1) << 32) % nn)
	for i, v := range h {
		r, _ := bits.Mul64(magic*uint64(v), nn)
		x := int64(r) - wrap*int64(v>>31)
		out[i] = int32(x + int64(nn)&(x>>63))
	}
	return nil
}

// SortByPartition orders the row numbers 0..len(ids)-1 by their
// partition ids (a counting sort, stable within a partition) into order.
// counts has one entry more than there are partitions; on return counts[p]
// is the end of partition p's rows in order (its start is counts[p-1], or
// 0 for p = 0).
func SortByPartition(ids, order []int32, counts []int) {
	clear(counts)
	for _, id := range ids {
		counts[id+1]++
	}
	for p := 1; p < len(counts); p++ {
		counts[p] += counts[p-1]
	}
	for i, id := range ids {
		order[counts[id]] = int32(i)
		counts[id]++
	}
}

// hashColumn folds col into out. When idx is set, row i of the output reads
// row idx[i] of col (dictionary decoding); idx[i] < 0 is NULL.
func hashColumn(col arrow.Array, idx []int32, out []uint32) error {
	valid := func(i int) (int, bool) {
		r := i
		if idx != nil {
			r = int(idx[i])
			if r < 0 {
				return 0, false
			}
		}
		return r, col.IsValid(r)
	}
	nulls := col.NullN() > 0 || idx != nil
	switch a := col.(type) {
	case *array.Null:
		return nil
	case *array.Boolean:
		for i := range out {
			if r, ok := valid(i); ok {
				v := int32(0)
				if a.Value(r) {
					v = 1
				}
				out[i] = HashInt(v, out[i])
			}
		}
	case *array.Int8:
		hashInts(a.Int8Values(), a, idx, nulls, out)
	case *array.Int16:
		hashInts(a.Int16Values(), a, idx, nulls, out)
	case *array.Int32:
		hashInts(a.Int32Values(), a, idx, nulls, out)
	case *array.Uint8:
		hashInts(a.Uint8Values(), a, idx, nulls, out)
	case *array.Uint16:
		hashInts(a.Uint16Values(), a, idx, nulls, out)
	case *array.Date32:
		hashInts(a.Date32Values(), a, idx, nulls, out)
	case *array.Time32:
		hashInts(a.Time32Values(), a, idx, nulls, out)
	case *array.Float32:
		hashFloats(a.Float32Values(), a, idx, nulls, out)
	case *array.Int64:
		hashLongs(a.Int64Values(), a, idx, nulls, out)
	case *array.Uint32:
		hashLongs(a.Uint32Values(), a, idx, nulls, out)
	case *array.Uint64:
		hashLongs(a.Uint64Values(), a, idx, nulls, out)
	case *array.Timestamp:
		hashLongs(a.TimestampValues(), a, idx, nulls, out)
	case *array.Date64:
		hashLongs(a.Date64Values(), a, idx, nulls, out)
	case *array.Time64:
		hashLongs(a.Time64Values(), a, idx, nulls, out)
	case *array.Duration:
		hashLongs(a.DurationValues(), a, idx, nulls, out)
	case *array.Float64:
		hashDoubles(a.Float64Values(), a, idx, nulls, out)
	case *array.Decimal64:
		hashLongs(a.Values(), a, idx, nulls, out)
	case *array.Decimal128:
		vals := a.Values()
		small := a.DataType().(*arrow.Decimal128Type).Precision <= 18
		var buf [16]byte
		for i := range out {
			if r, ok := valid(i); ok {
				if small {
					out[i] = HashLong(int64(vals[r].LowBits()), out[i])
				} else {
					out[i] = HashBytes(decimalBytes(vals[r], &buf), out[i])
				}
			}
		}
	case *array.String:
		for i := range out {
			if r, ok := valid(i); ok {
				out[i] = HashBytes(stringBytes(a.Value(r)), out[i])
			}
		}
	case *array.LargeString:
		for i := range out {
			if r, ok := valid(i); ok {
				out[i] = HashBytes(stringBytes(a.Value(r)), out[i])
			}
		}
	case *array.Binary:
		for i := range out {
			if r, ok := valid(i); ok {
				out[i] = HashBytes(a.Value(r), out[i])
			}
		}
	case *array.LargeBinary:
		for i := range out {
			if r, ok := valid(i); ok {
				out[i] = HashBytes(a.Value(r), out[i])
			}
		}
	case *array.StringView:
		for i := range out {
			if r, ok := valid(i); ok {
				out[i] = HashBytes(stringBytes(a.Value(r)), out[i])
			}
		}
	case *array.BinaryView:
		for i := range out {
			if r, ok := valid(i); ok {
				out[i] = HashBytes(a.Value(r), out[i])
			}
		}
	case *array.Dictionary:
		if idx != nil {
			return fmt.Errorf("shuffle hash: nested dictionary %s", col.DataType())
		}
		codes := make([]int32, len(out))
		for i := range codes {
			if a.IsNull(i) {
				codes[i] = -1
			} else {
				codes[i] = int32(a.GetValueIndex(i))
			}
		}
		return hashColumn(a.Dictionary(), codes, out)
	default:
		return CheckKeyType(col.DataType())
	}
	return nil
}

// hashInts folds 4-byte encodings into out.
func hashInts[T ~int8 | ~int16 | ~int32 | ~uint8 | ~uint16](vals []T, a arrow.Array, idx []int32, nulls bool, out []uint32) {
	if !nulls {
		for i, v := range vals[:len(out)] {
			out[i] = HashInt(int32(v), out[i])
		}
		return
	}
	bm, off := bitmap(a)
	for i := range out {
		if r, ok := rowOf(i, idx, bm, off); ok {
			out[i] = HashInt(int32(vals[r]), out[i])
		}
	}
}

// hashLongs folds 8-byte encodings into out.
func hashLongs[T ~int64 | ~uint32 | ~uint64](vals []T, a arrow.Array, idx []int32, nulls bool, out []uint32) {
	if !nulls {
		for i, v := range vals[:len(out)] {
			out[i] = HashLong(int64(v), out[i])
		}
		return
	}
	bm, off := bitmap(a)
	for i := range out {
		if r, ok := rowOf(i, idx, bm, off); ok {
			out[i] = HashLong(int64(vals[r]), out[i])
		}
	}
}

func hashFloats(vals []float32, a arrow.Array, idx []int32, _ bool, out []uint32) {
	bm, off := bitmap(a)
	for i := range out {
		if r, ok := rowOf(i, idx, bm, off); ok {
			out[i] = HashInt(floatBits(vals[r]), out[i])
		}
	}
}

func hashDoubles(vals []float64, a arrow.Array, idx []int32, _ bool, out []uint32) {
	bm, off := bitmap(a)
	for i := range out {
		if r, ok := rowOf(i, idx, bm, off); ok {
			out[i] = HashLong(doubleBits(vals[r]), out[i])
		}
	}
}

// rowOf maps output row i to the source row, false when it is NULL.
func rowOf(i int, idx []int32, bm []byte, off int) (int, bool) {
	r := i
	if idx != nil {
		if r = int(idx[i]); r < 0 {
			return 0, false
		}
	}
	return r, bm == nil || bitutil.BitIsSet(bm, off+r)
}

func bitmap(a arrow.Array) ([]byte, int) {
	if a.NullN() == 0 {
		return nil, 0
	}
	return a.Data().Buffers()[0].Bytes(), a.Data().Offset()
}

// stringBytes views a string's bytes without copying; HashBytes only reads.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
