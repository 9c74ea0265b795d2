package join

import (
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// Joins on integer-like keys (every TPC-H join) skip hashing and key
// comparison: each key row is packed into one word, its offset in the
// box spanned by the build side's per-column [min, max] ranges, and that
// word is looked up in one of two indexes:
//
//   - rankIndex, when the box is at most about a hundred times the build
//     rows: a bitmap over the box, each 64-bit word carrying the number of
//     keys before it, so the group of a key is its rank among the distinct
//     build keys. A probe is one 16-byte load and a popcount, with no
//     branch; the index takes a quarter byte per box value.
//   - packedTable otherwise: open addressing over (packed key, group)
//     slots, so a probe touches one slot, and the equality test is the
//     word comparison.
//
// Probe keys outside the box, or with a NULL, pack to a sentinel that
// matches nothing: the build side's ranges filter the probe side for free.

// indexKind selects the build index; tests force each kind in turn.
type indexKind int

const (
	indexAuto   indexKind = iota // the rank index when the box is small enough, else the packed table
	indexRank                    // rankIndex when the keys pack (tests)
	indexPacked                  // packedTable when the keys pack (tests)
	indexHashed                  // the hashed probeTable for every key type (tests)
)

// forceIndex overrides the index choice in tests.
var forceIndex = indexAuto

// maxPackedDomain bounds the box a packer maps to: packed keys and the
// sentinel stay below 2^62.
const maxPackedDomain = 1 << 62

// rankDomainLimit is the largest box the rank index is built for, given
// the number of non-NULL build keys: at 128 box values per key it takes 32
// bytes per key, what a packed table of load 1/2 takes; small boxes (64 KiB
// of index) are always indexed.
func rankDomainLimit(keys int) uint64 { return uint64(max(128*keys, 1<<18)) }

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

// keyRange accumulates the minimum, maximum and count of non-NULL values.
type keyRange struct {
	lo, hi int64
	n      int
}

func newKeyRange() keyRange { return keyRange{lo: math.MaxInt64, hi: math.MinInt64} }

func rangeOf[T intElem](r *keyRange, vals []T, valid []byte, off int) {
	lo, hi, n := r.lo, r.hi, r.n
	if valid == nil {
		for _, v := range vals {
			x := int64(v)
			lo = min(lo, x)
			hi = max(hi, x)
		}
		n += len(vals)
	} else {
		for i, v := range vals {
			if !bitutil.BitIsSet(valid, off+i) {
				continue
			}
			x := int64(v)
			lo = min(lo, x)
			hi = max(hi, x)
			n++
		}
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

// span is the number of values in the range, 0 when it is empty or holds
// 2^64 values (hi-lo is exact in unsigned arithmetic).
func (r *keyRange) span() uint64 {
	if r.n == 0 {
		return 0
	}
	return uint64(r.hi-r.lo) + 1
}

// intPacker maps a row of integer-like key columns to one word, its
// offset in the box of the build side's ranges:
// sum over columns c of (v[c] - lo[c]) * mul[c]. Equal keys pack equal and
// distinct keys inside the box pack distinct; a key outside the box or
// with a NULL packs to the sentinel domain, which no build key packs to.
type intPacker struct {
	cols   []packCol
	domain uint64 // box size; packed keys are < domain
}

type packCol struct {
	lo        int64
	span, mul uint64
}

// newIntPacker plans the packing of the key columns from the build side's
// key batches; ok is false when a key type is not integer-like or the box
// has maxPackedDomain values or more.
func newIntPacker(types []arrow.DataType, keyBatches [][]arrow.Array) (*intPacker, bool) {
	for _, t := range types {
		if _, _, ok := intKind(t); !ok {
			return nil, false
		}
	}
	p := &intPacker{cols: make([]packCol, len(types))}
	domain := uint64(1)
	for c := range types {
		r := newKeyRange()
		for _, ks := range keyBatches {
			r.add(ks[c])
		}
		span := r.span()
		if span == 0 && r.n > 0 {
			return nil, false // the full 64-bit range
		}
		p.cols[c] = packCol{lo: r.lo, span: span, mul: domain}
		hi, lo := bits.Mul64(domain, span)
		if hi != 0 || lo >= maxPackedDomain {
			return nil, false
		}
		// An empty range (no non-NULL value) makes the box empty: every
		// key packs to the sentinel 0 and nothing matches.
		domain = lo
	}
	p.domain = domain
	return p, true
}

// pack writes the packed key of every row of arrays (the key columns, in
// order) into out. When it reports that some key is NULL, nulls[i] tells
// whether row i has a NULL key; otherwise nulls is not written.
func (p *intPacker) pack(arrays []arrow.Array, out []uint64, nulls []bool) bool {
	anyNull := false
	for _, a := range arrays {
		if a.NullN() > 0 {
			anyNull = true
		}
	}
	if anyNull {
		clear(nulls[:len(out)])
	}
	sentinel := p.domain
	for c, a := range arrays {
		pc := p.cols[c]
		first := c == 0
		valid, off := validBits(a)
		dispatchInt(a, intFuncs{
			i8:  func(v []int8) { packInto(v, pc, first, sentinel, out, valid, off, nulls) },
			u8:  func(v []uint8) { packInto(v, pc, first, sentinel, out, valid, off, nulls) },
			i16: func(v []int16) { packInto(v, pc, first, sentinel, out, valid, off, nulls) },
			u16: func(v []uint16) { packInto(v, pc, first, sentinel, out, valid, off, nulls) },
			i32: func(v []int32) { packInto(v, pc, first, sentinel, out, valid, off, nulls) },
			u32: func(v []uint32) { packInto(v, pc, first, sentinel, out, valid, off, nulls) },
			i64: func(v []int64) { packInto(v, pc, first, sentinel, out, valid, off, nulls) },
		})
	}
	return anyNull
}

// packInto folds one key column into out (the first column sets it). A
// partial sum never equals the sentinel: it is below the product of the
// spans folded so far, which is at most the domain.
func packInto[T intElem](vals []T, pc packCol, first bool, sentinel uint64, out []uint64, valid []byte, off int, nulls []bool) {
	out = out[:len(vals)]
	lo, span, mul := pc.lo, pc.span, pc.mul
	if first {
		for i, v := range vals {
			d := uint64(int64(v) - lo)
			k := sentinel
			if d < span {
				k = d * mul
			}
			out[i] = k
		}
	} else {
		for i, v := range vals {
			d := uint64(int64(v) - lo)
			k := sentinel
			if d < span && out[i] != sentinel {
				k = out[i] + d*mul
			}
			out[i] = k
		}
	}
	if valid != nil {
		nulls = nulls[:len(vals)]
		for i := range vals {
			if !bitutil.BitIsSet(valid, off+i) {
				out[i] = sentinel
				nulls[i] = true
			}
		}
	}
}

// rankWord covers 64 consecutive packed keys: which are build keys, and
// how many build keys come before them.
type rankWord struct {
	bits uint64
	rank uint32
	_    uint32
}

// rankIndex maps a packed key to its group, the key's rank among the
// distinct build keys (see the comment at the top of the file).
type rankIndex struct {
	words  []rankWord // domain/64 + 1: the sentinel's bit is never set
	domain uint64
	n      int // distinct keys (groups)
}

func newRankIndex(domain uint64) *rankIndex {
	return &rankIndex{words: make([]rankWord, domain/64+1), domain: domain}
}

// memSize is the bytes the index holds.
func rankIndexBytes(domain uint64) int64 { return int64(domain/64+1) * 16 }

// add marks the packed keys present (sentinels are skipped).
func (x *rankIndex) add(keys []uint64) {
	words, domain := x.words, x.domain
	for _, k := range keys {
		if k < domain {
			words[k>>6].bits |= 1 << (k & 63)
		}
	}
}

// seal computes the ranks once every key is added.
func (x *rankIndex) seal() {
	r := 0
	for i := range x.words {
		x.words[i].rank = uint32(r)
		r += bits.OnesCount64(x.words[i].bits)
	}
	x.n = r
}

// find sets groups[i] to the group of packed key keys[i], -1 when absent
// (keys are < domain or the sentinel). It does not branch on the data.
func (x *rankIndex) find(keys []uint64, groups []int32) {
	words := x.words
	groups = groups[:len(keys)]
	for i, k := range keys {
		w := words[k>>6]
		sh := k & 63
		hit := int32(w.bits>>sh) & 1
		g := int32(w.rank) + int32(bits.OnesCount64(w.bits&(1<<sh-1)))
		groups[i] = g | (hit - 1)
	}
}

// packedSlot is one slot of a packedTable: a packed key and its group+1
// (0 marks an empty slot).
type packedSlot struct {
	key uint64
	grp uint32
	_   uint32
}

// packedTable maps packed keys to groups numbered in order of first
// insertion: open addressing with linear probing at load factor at most
// 1/2, Fibonacci hashing of the packed key.
type packedTable struct {
	slots []packedSlot
	mask  uint64
	shift uint
	n     int // groups
}

// newPackedTable sizes a table for up to keys distinct keys.
func newPackedTable(keys int) *packedTable {
	capacity, log := 64, 6
	for capacity < 2*keys {
		capacity *= 2
		log++
	}
	return &packedTable{slots: make([]packedSlot, capacity), mask: uint64(capacity - 1), shift: uint(64 - log)}
}

// packedTableBytes is the size of a table for keys distinct keys.
func packedTableBytes(keys int) int64 {
	capacity := 64
	for capacity < 2*keys {
		capacity *= 2
	}
	return int64(capacity) * 16
}

const fibMul = 0x9e3779b97f4a7c15

// insert gives every packed key its group, creating groups for new keys;
// sentinels get -1. The table must have room (newPackedTable's keys).
func (t *packedTable) insert(keys []uint64, sentinel uint64, groups []int32) {
	slots, mask, shift := t.slots, t.mask, t.shift
	groups = groups[:len(keys)]
	for i, k := range keys {
		if k == sentinel {
			groups[i] = -1
			continue
		}
		p := (k * fibMul) >> shift
		for {
			s := &slots[p]
			if s.grp == 0 {
				t.n++
				s.key, s.grp = k, uint32(t.n)
				groups[i] = int32(t.n - 1)
				break
			}
			if s.key == k {
				groups[i] = int32(s.grp - 1)
				break
			}
			p = (p + 1) & mask
		}
	}
}

// find sets groups[i] to the group of keys[i], -1 when absent.
func (t *packedTable) find(keys []uint64, sentinel uint64, groups []int32) {
	slots, mask, shift := t.slots, t.mask, t.shift
	groups = groups[:len(keys)]
	for i, k := range keys {
		g := int32(-1)
		if k != sentinel {
			p := (k * fibMul) >> shift
			for {
				s := slots[p]
				if s.key == k && s.grp != 0 {
					g = int32(s.grp - 1)
					break
				}
				if s.grp == 0 {
					break
				}
				p = (p + 1) & mask
			}
		}
		groups[i] = g
	}
}

func (k indexKind) String() string {
	switch k {
	case indexAuto:
		return "auto"
	case indexRank:
		return "rank"
	case indexPacked:
		return "packed"
	case indexHashed:
		return "hashed"
	}
	return "indexKind(?)"
}
