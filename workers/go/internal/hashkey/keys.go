package hashkey

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// kind is how a key column is held: as one canonical 64-bit word per row,
// two words per row, or variable-length bytes.
type kind uint8

const (
	kindNull kind = iota
	kindWord
	kindWide
	kindBytes
	kindLargeBytes
)

// Supported reports whether t can be a key column of Keys and Table: all
// integer types, float32/64, bool, date32/64, time32/64, timestamp,
// duration, decimal32/64/128, intervals, utf8, large_utf8, binary,
// large_binary and null. The error names the type otherwise.
func Supported(t arrow.DataType) error {
	if _, _, err := classify(t); err != nil {
		return err
	}
	return nil
}

// classify gives the storage kind of t and, for word kinds, the byte width
// of its Arrow values (0 for bool).
func classify(t arrow.DataType) (kind, int, error) {
	switch t.ID() {
	case arrow.NULL:
		return kindNull, 0, nil
	case arrow.BOOL:
		return kindWord, 0, nil
	case arrow.INT8, arrow.UINT8:
		return kindWord, 1, nil
	case arrow.INT16, arrow.UINT16:
		return kindWord, 2, nil
	case arrow.INT32, arrow.UINT32, arrow.DATE32, arrow.TIME32, arrow.DECIMAL32, arrow.INTERVAL_MONTHS, arrow.FLOAT32:
		return kindWord, 4, nil
	case arrow.INT64, arrow.UINT64, arrow.DATE64, arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION,
		arrow.DECIMAL64, arrow.INTERVAL_DAY_TIME, arrow.FLOAT64:
		return kindWord, 8, nil
	case arrow.DECIMAL128, arrow.INTERVAL_MONTH_DAY_NANO:
		return kindWide, 16, nil
	case arrow.STRING, arrow.BINARY:
		return kindBytes, 0, nil
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return kindLargeBytes, 0, nil
	}
	return 0, 0, fmt.Errorf("hashkey: key columns of type %s are not supported", t)
}

// keyCol is one key column of a batch in canonical form: fixed-width
// values as words (sign-extended integers, normalised float bits, 0/1 for
// bools; the words of NULL rows are unspecified), bytes as offsets into
// data.
type keyCol struct {
	kind   kind
	w      []uint64
	nulls  []bool // nil when the column has no nulls
	offs32 []int32
	offs64 []int64
	data   []byte
	// packed is set for a bytes column whose values are all at most
	// maxShort bytes long: w then holds two words per row (packShort).
	packed bool

	// Buffers owned for reuse between batches.
	ownW     []uint64
	ownNulls []bool
}

// Keys is a batch of key columns prepared for hashing and table lookups.
// It borrows the arrays passed to Reset (they must stay alive while the Keys
// is used) and reuses its own buffers from batch to batch. The zero value
// is ready to use.
type Keys struct {
	n    int
	cols []keyCol
	typs []arrow.DataType
}

// Reset prepares cols (all of one length) as the current batch. It fails
// when a column's type is not Supported or the lengths differ.
func (k *Keys) Reset(cols []arrow.Array) error {
	if cap(k.cols) < len(cols) {
		nc := make([]keyCol, len(cols))
		copy(nc, k.cols)
		k.cols = nc
	}
	k.cols = k.cols[:len(cols)]
	k.typs = k.typs[:0]
	k.n = 0
	if len(cols) > 0 {
		k.n = cols[0].Len()
	}
	for i, c := range cols {
		if c.Len() != k.n {
			return fmt.Errorf("hashkey: key column %d has %d rows, column 0 has %d", i, c.Len(), k.n)
		}
		if err := k.cols[i].prepare(c); err != nil {
			return err
		}
		k.typs = append(k.typs, c.DataType())
	}
	return nil
}

// Len is the number of rows of the current batch.
func (k *Keys) Len() int { return k.n }

// NumCols is the number of key columns.
func (k *Keys) NumCols() int { return len(k.cols) }

// Hash writes the hash of each row into out[:Len()]. It equals the
// package-level Hash of the same columns.
func (k *Keys) Hash(out []uint64) {
	out = out[:k.n]
	for i := range out {
		out[i] = seed
	}
	for c := range k.cols {
		k.cols[c].hashInto(out)
	}
}

// NullMask sets out[i] (len(out) >= Len()) to whether any key column of row
// i is NULL and reports whether any row has a NULL key. Joins use it to
// drop rows whose keys can never match.
func (k *Keys) NullMask(out []bool) bool {
	out = out[:k.n]
	clear(out)
	any := false
	for c := range k.cols {
		col := &k.cols[c]
		if col.kind == kindNull {
			for i := range out {
				out[i] = true
			}
			return k.n > 0
		}
		if col.nulls == nil {
			continue
		}
		for i, isNull := range col.nulls[:k.n] {
			if isNull {
				out[i] = true
				any = true
			}
		}
	}
	return any
}

// IsNull reports whether key column c of row i is NULL.
func (k *Keys) IsNull(c, i int) bool {
	col := &k.cols[c]
	return col.kind == kindNull || (col.nulls != nil && col.nulls[i])
}

func sliceAs[T any](b []byte, off, n int) []T {
	var z T
	size := int(unsafe.Sizeof(z))
	if n == 0 || len(b) == 0 {
		return nil
	}
	all := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/size)
	return all[off : off+n]
}

func (k *keyCol) ensureW(n int) []uint64 {
	if cap(k.ownW) < n {
		k.ownW = make([]uint64, n, n+n/4)
	}
	return k.ownW[:n]
}

func widen[T int8 | int16 | int32 | uint8 | uint16 | uint32, S int64 | uint64](dst []uint64, src []T) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = uint64(S(v))
	}
}

// prepare converts an Arrow array into canonical form.
func (k *keyCol) prepare(a arrow.Array) error {
	kd, width, err := classify(a.DataType())
	if err != nil {
		return err
	}
	n := a.Len()
	data := a.Data()
	off := data.Offset()
	bufs := data.Buffers()
	k.kind = kd
	k.nulls = nil
	k.w, k.offs32, k.offs64, k.data = nil, nil, nil, nil
	k.packed = false
	if kd == kindNull {
		return nil
	}
	if nn := a.NullN(); nn > 0 {
		if cap(k.ownNulls) < n {
			k.ownNulls = make([]bool, n, n+n/4)
		}
		nulls := k.ownNulls[:n]
		bm := bufs[0].Bytes()
		for i := range nulls {
			nulls[i] = !bitutil.BitIsSet(bm, off+i)
		}
		k.nulls = nulls
	}
	var vb []byte
	if len(bufs) > 1 && bufs[1] != nil {
		vb = bufs[1].Bytes()
	}
	switch kd {
	case kindWord:
		switch a.DataType().ID() {
		case arrow.BOOL:
			w := k.ensureW(n)
			for i := range w {
				if bitutil.BitIsSet(vb, off+i) {
					w[i] = 1
				} else {
					w[i] = 0
				}
			}
			k.w = w
		case arrow.INT8:
			k.w = k.ensureW(n)
			widen[int8, int64](k.w, sliceAs[int8](vb, off, n))
		case arrow.UINT8:
			k.w = k.ensureW(n)
			widen[uint8, uint64](k.w, sliceAs[uint8](vb, off, n))
		case arrow.INT16:
			k.w = k.ensureW(n)
			widen[int16, int64](k.w, sliceAs[int16](vb, off, n))
		case arrow.UINT16:
			k.w = k.ensureW(n)
			widen[uint16, uint64](k.w, sliceAs[uint16](vb, off, n))
		case arrow.UINT32:
			k.w = k.ensureW(n)
			widen[uint32, uint64](k.w, sliceAs[uint32](vb, off, n))
		case arrow.FLOAT32:
			w := k.ensureW(n)
			for i, v := range sliceAs[float32](vb, off, n) {
				switch {
				case v == 0:
					v = 0
				case v != v:
					v = float32(math.NaN())
				}
				w[i] = uint64(math.Float32bits(v))
			}
			k.w = w
		case arrow.FLOAT64:
			w := k.ensureW(n)
			for i, v := range sliceAs[float64](vb, off, n) {
				switch {
				case v == 0:
					v = 0
				case v != v:
					v = math.NaN()
				}
				w[i] = math.Float64bits(v)
			}
			k.w = w
		default:
			if width == 4 {
				k.w = k.ensureW(n)
				widen[int32, int64](k.w, sliceAs[int32](vb, off, n))
			} else {
				// 8-byte values are used in place.
				k.w = sliceAs[uint64](vb, off, n)
			}
		}
	case kindWide:
		k.w = sliceAs[uint64](vb, 2*off, 2*n)
	case kindBytes:
		k.offs32 = sliceAs[int32](vb, off, n+1)
		if len(bufs) > 2 && bufs[2] != nil {
			k.data = bufs[2].Bytes()
		}
		k.packShortStrings(n)
	case kindLargeBytes:
		k.offs64 = sliceAs[int64](vb, off, n+1)
		if len(bufs) > 2 && bufs[2] != nil {
			k.data = bufs[2].Bytes()
		}
	}
	return nil
}

// bytesAt returns the bytes of row i of a bytes column.
func (k *keyCol) bytesAt(i int) []byte {
	if k.kind == kindBytes {
		return k.data[k.offs32[i]:k.offs32[i+1]]
	}
	return k.data[k.offs64[i]:k.offs64[i+1]]
}

// loMask and hiMask keep the first l bytes of a little-endian 16-byte
// load, split into its two words (l <= maxShort).
var loMask, hiMask [16]uint64

func init() {
	for l := 0; l < 16; l++ {
		if l >= 8 {
			loMask[l] = ^uint64(0)
			hiMask[l] = 1<<(8*uint(l-8)) - 1
		} else {
			loMask[l] = 1<<(8*uint(l)) - 1
		}
	}
}

// packShortStrings fills w with the packed form of every value when all
// are at most maxShort bytes long.
func (k *keyCol) packShortStrings(n int) {
	offs := k.offs32
	if len(offs) < n+1 {
		return
	}
	for i := 0; i < n; i++ {
		if offs[i+1]-offs[i] > maxShort {
			return
		}
	}
	w := k.ensureW(2 * n)
	data := k.data
	for i := 0; i < n; i++ {
		o0, o1 := int(offs[i]), int(offs[i+1])
		l := o1 - o0
		var lo, hi uint64
		if o0+16 <= len(data) {
			// Load 16 bytes and keep the value's: no branch on the length.
			lo = binary.LittleEndian.Uint64(data[o0:]) & loMask[l&15]
			hi = binary.LittleEndian.Uint64(data[o0+8:])&hiMask[l&15] | uint64(l)<<56
		} else {
			lo, hi = packShort(data[o0:o1])
		}
		w[2*i], w[2*i+1] = lo, hi
	}
	k.w = w
	k.packed = true
}
