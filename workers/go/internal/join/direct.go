package join

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// directIndex maps a single integer join key to its group by indexing an
// array with key-min: no hashing, no key comparison, and keys that are
// close in value (sorted or clustered inputs, as TPC-H keys are) stay close
// in memory. It is used when the build keys span a range of at most
// directSpan(rows) values.
type directIndex struct {
	min   int64
	slots []int32 // key-min -> group+1; 0 when absent
	n     int     // number of groups
}

// directSpan is the largest key range a direct index is built for, given
// the number of non-NULL build keys: 8 slots (32 bytes) per key, about
// what a hash table holds per key, and at least 64 Ki slots.
func directSpan(keys int) uint64 { return uint64(max(8*keys, 1<<16)) }

// intKind gives the storage of a key type whose equality is equality of
// its integer values: byte width and signedness. ok is false for other
// types (floats, 64-bit unsigned, strings, wide decimals).
func intKind(t arrow.DataType) (width int, signed, ok bool) {
	switch t.ID() {
	case arrow.INT8:
		return 1, true, true
	case arrow.UINT8:
		return 1, false, true
	case arrow.INT16:
		return 2, true, true
	case arrow.UINT16:
		return 2, false, true
	case arrow.INT32, arrow.DATE32, arrow.TIME32, arrow.DECIMAL32, arrow.INTERVAL_MONTHS:
		return 4, true, true
	case arrow.UINT32:
		return 4, false, true
	case arrow.INT64, arrow.DATE64, arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION, arrow.DECIMAL64:
		return 8, true, true
	}
	return 0, false, false
}

type intElem interface {
	int8 | int16 | int32 | int64 | uint8 | uint16 | uint32
}

// intValues views the values of an integer-like array.
func intValues[T intElem](a arrow.Array) []T {
	d := a.Data()
	return fixedSlice[T](d.Buffers()[1].Bytes())[d.Offset() : d.Offset()+d.Len()]
}

// validBits returns the validity bitmap and offset of a, or nil when a has
// no NULLs.
func validBits(a arrow.Array) ([]byte, int) {
	if a.NullN() == 0 {
		return nil, 0
	}
	return a.Data().Buffers()[0].Bytes(), a.Data().Offset()
}

// dispatchInt calls the instantiation of fn for a's element type.
func dispatchInt(a arrow.Array, fn intFuncs) {
	width, signed, _ := intKind(a.DataType())
	switch {
	case width == 1 && signed:
		fn.i8(intValues[int8](a))
	case width == 1:
		fn.u8(intValues[uint8](a))
	case width == 2 && signed:
		fn.i16(intValues[int16](a))
	case width == 2:
		fn.u16(intValues[uint16](a))
	case width == 4 && signed:
		fn.i32(intValues[int32](a))
	case width == 4:
		fn.u32(intValues[uint32](a))
	default:
		fn.i64(intValues[int64](a))
	}
}

// intFuncs is one generic operation instantiated per element type.
type intFuncs struct {
	i8  func([]int8)
	u8  func([]uint8)
	i16 func([]int16)
	u16 func([]uint16)
	i32 func([]int32)
	u32 func([]uint32)
	i64 func([]int64)
}

// keyRange accumulates the minimum, maximum and count of non-NULL values.
type keyRange struct {
	lo, hi int64
	n      int
}

func rangeOf[T intElem](r *keyRange, vals []T, valid []byte, off int) {
	lo, hi, n := r.lo, r.hi, r.n
	for i, v := range vals {
		if valid != nil && !bitutil.BitIsSet(valid, off+i) {
			continue
		}
		x := int64(v)
		lo = min(lo, x)
		hi = max(hi, x)
		n++
	}
	r.lo, r.hi, r.n = lo, hi, n
}

// add folds the non-NULL values of a into r.
func (r *keyRange) add(a arrow.Array) {
	valid, off := validBits(a)
	dispatchInt(a, intFuncs{
		i8:  func(v []int8) { rangeOf(r, v, valid, off) },
		u8:  func(v []uint8) { rangeOf(r, v, valid, off) },
		i16: func(v []int16) { rangeOf(r, v, valid, off) },
		u16: func(v []uint16) { rangeOf(r, v, valid, off) },
		i32: func(v []int32) { rangeOf(r, v, valid, off) },
		u32: func(v []uint32) { rangeOf(r, v, valid, off) },
		i64: func(v []int64) { rangeOf(r, v, valid, off) },
	})
}

func newKeyRange() keyRange { return keyRange{lo: math.MaxInt64, hi: math.MinInt64} }

// span is the number of slots the range needs (0 when empty); the
// subtraction is exact in unsigned arithmetic.
func (r *keyRange) span() uint64 {
	if r.n == 0 {
		return 0
	}
	return uint64(r.hi-r.lo) + 1
}

func insertDirect[T intElem](d *directIndex, vals []T, valid []byte, off int, groups []int32) bool {
	anyNull := false
	slots, lo := d.slots, d.min
	for i, v := range vals {
		if valid != nil && !bitutil.BitIsSet(valid, off+i) {
			groups[i] = -1
			anyNull = true
			continue
		}
		s := &slots[int64(v)-lo]
		if *s == 0 {
			d.n++
			*s = int32(d.n)
		}
		groups[i] = *s - 1
	}
	return anyNull
}

// insert gives the rows of a their groups (-1 for NULL keys), creating
// groups for new keys, and reports whether a NULL key was seen. Every
// value must lie in the index's range.
func (d *directIndex) insert(a arrow.Array, groups []int32) bool {
	valid, off := validBits(a)
	var anyNull bool
	dispatchInt(a, intFuncs{
		i8:  func(v []int8) { anyNull = insertDirect(d, v, valid, off, groups) },
		u8:  func(v []uint8) { anyNull = insertDirect(d, v, valid, off, groups) },
		i16: func(v []int16) { anyNull = insertDirect(d, v, valid, off, groups) },
		u16: func(v []uint16) { anyNull = insertDirect(d, v, valid, off, groups) },
		i32: func(v []int32) { anyNull = insertDirect(d, v, valid, off, groups) },
		u32: func(v []uint32) { anyNull = insertDirect(d, v, valid, off, groups) },
		i64: func(v []int64) { anyNull = insertDirect(d, v, valid, off, groups) },
	})
	return anyNull
}

func findDirect[T intElem](d *directIndex, vals []T, valid []byte, off int, groups []int32, nulls []bool) bool {
	slots, lo := d.slots, d.min
	size := uint64(len(slots))
	if valid == nil {
		for i, v := range vals {
			if k := uint64(int64(v) - lo); k < size {
				groups[i] = slots[k] - 1
			} else {
				groups[i] = -1
			}
		}
		return false
	}
	anyNull := false
	for i, v := range vals {
		if !bitutil.BitIsSet(valid, off+i) {
			groups[i] = -1
			nulls[i] = true
			anyNull = true
			continue
		}
		nulls[i] = false
		if k := uint64(int64(v) - lo); k < size {
			groups[i] = slots[k] - 1
		} else {
			groups[i] = -1
		}
	}
	return anyNull
}

// find writes the group of each row of a into groups (-1 when absent or
// NULL), and into nulls whether its key is NULL when it reports that some
// key is (nulls must have a's length).
func (d *directIndex) find(a arrow.Array, groups []int32, nulls []bool) bool {
	valid, off := validBits(a)
	var anyNull bool
	dispatchInt(a, intFuncs{
		i8:  func(v []int8) { anyNull = findDirect(d, v, valid, off, groups, nulls) },
		u8:  func(v []uint8) { anyNull = findDirect(d, v, valid, off, groups, nulls) },
		i16: func(v []int16) { anyNull = findDirect(d, v, valid, off, groups, nulls) },
		u16: func(v []uint16) { anyNull = findDirect(d, v, valid, off, groups, nulls) },
		i32: func(v []int32) { anyNull = findDirect(d, v, valid, off, groups, nulls) },
		u32: func(v []uint32) { anyNull = findDirect(d, v, valid, off, groups, nulls) },
		i64: func(v []int64) { anyNull = findDirect(d, v, valid, off, groups, nulls) },
	})
	return anyNull
}
