package exec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Sorting compares rows by normalised keys: each row's sort columns are
// encoded into one byte string whose bytewise order (memcmp) is the SQL
// order, so sorting and merging need no per-column comparator. Per column:
//
//	marker byte   0x01 for a value; NULL is 0x00 (NULLS FIRST) or 0x02
//	              (NULLS LAST)
//	value bytes   big-endian, sign bit flipped for signed integers; floats
//	              as total-order bits (-0.0 = 0.0, NaN largest); strings
//	              with 0x00 escaped as 0x00 0xFF and ended by 0x00 0x00;
//	              inverted for DESC
//
// Fixed-width columns always write their value bytes (zeros for NULL), so
// keys made only of fixed-width columns all have the same length. No key
// is a proper prefix of another. How sorts use the keys: sortorder.go.

// keyKind is how a sort column is encoded.
type keyKind uint8

const (
	kindSigned keyKind = iota
	kindUnsigned
	kindFloat32
	kindFloat64
	kindDecimal128
	kindBool
	kindMonthDayNano
	kindBytes
)

type keyCol struct {
	kind       keyKind
	width      int // value bytes for fixed-width kinds
	desc       bool
	nullsFirst bool
}

// keyEncoder encodes rows of a fixed list of sort columns.
type keyEncoder struct {
	cols  []keyCol
	fixed bool // every column is fixed-width
	width int  // bytes per key when fixed
}

// keyBlock holds the encoded keys of one batch: key i is
// data[offs[i]:offs[i+1]].
type keyBlock struct {
	data []byte
	offs []int32
}

func (b *keyBlock) key(i uint32) []byte { return b.data[b.offs[i]:b.offs[i+1]] }

func (b *keyBlock) bytes() int64 { return int64(cap(b.data) + 4*cap(b.offs)) }

// sortableType reports how a column of type t sorts.
func sortableType(t arrow.DataType) (keyKind, int, error) {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.DATE32, arrow.DATE64, arrow.TIME32,
		arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION, arrow.DECIMAL32, arrow.DECIMAL64, arrow.INTERVAL_MONTHS:
		return kindSigned, fixedWidth(t), nil
	case arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return kindUnsigned, fixedWidth(t), nil
	case arrow.FLOAT32:
		return kindFloat32, 4, nil
	case arrow.FLOAT64:
		return kindFloat64, 8, nil
	case arrow.DECIMAL128:
		return kindDecimal128, 16, nil
	case arrow.BOOL:
		return kindBool, 1, nil
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return kindMonthDayNano, 16, nil
	case arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.LARGE_BINARY, arrow.STRING_VIEW, arrow.BINARY_VIEW:
		return kindBytes, 0, nil
	case arrow.NULL:
		return kindUnsigned, 0, nil
	case arrow.DICTIONARY:
		return sortableType(t.(*arrow.DictionaryType).ValueType)
	}
	return 0, 0, fmt.Errorf("not supported: sorting by a column of type %s", t)
}

// sortDir is the direction and NULL placement of one key column.
type sortDir struct{ desc, nullsFirst bool }

func newKeyEncoder(types []arrow.DataType, dirs []sortDir) (*keyEncoder, error) {
	e := &keyEncoder{cols: make([]keyCol, len(types)), fixed: true}
	for i, t := range types {
		k, w, err := sortableType(t)
		if err != nil {
			return nil, err
		}
		e.cols[i] = keyCol{kind: k, width: w, desc: dirs[i].desc, nullsFirst: dirs[i].nullsFirst}
		if k == kindBytes {
			e.fixed = false
		}
		e.width += 1 + w
	}
	return e, nil
}

// encode writes the keys of the n rows of cols into blk (reusing its
// buffers). alloc is used to decode dictionary columns.
func (e *keyEncoder) encode(alloc memory.Allocator, cols []arrow.Array, n int, blk *keyBlock) error {
	for i, c := range cols {
		if d, ok := c.(*array.Dictionary); ok {
			plain, err := decodeDictionary(alloc, d)
			if err != nil {
				return err
			}
			defer plain.Release()
			cols[i] = plain
			defer func() { cols[i] = c }()
		}
	}
	if cap(blk.offs) < n+1 {
		blk.offs = make([]int32, n+1)
	}
	offs := blk.offs[:n+1]
	blk.offs = offs
	total := 0
	if e.fixed {
		if int64(n)*int64(e.width) > math.MaxInt32 {
			return fmt.Errorf("sort keys of %d rows exceed 2 GiB", n)
		}
		for i := range offs {
			offs[i] = int32(i * e.width)
		}
		total = n * e.width
	} else {
		lens := offs[1:]
		clear(lens)
		for ci, c := range e.cols {
			if c.kind != kindBytes {
				for i := range lens {
					lens[i] += int32(1 + c.width)
				}
				continue
			}
			a := cols[ci]
			vr := varlenOf(a)
			v := validityOf(a)
			zeros := vr.anyZero(n)
			for i := range lens {
				if !v.valid(i) {
					lens[i]++
					continue
				}
				val := vr.at(i)
				l := 3 + len(val)
				if zeros {
					l += bytes.Count(val, zeroByte)
				}
				lens[i] += int32(l)
			}
		}
		offs[0] = 0
		var run int64
		for i := 1; i <= n; i++ {
			run += int64(offs[i])
			if run > math.MaxInt32 {
				return fmt.Errorf("sort keys of %d rows exceed 2 GiB", n)
			}
			offs[i] = int32(run)
		}
		total = int(run)
	}
	if cap(blk.data) < total {
		blk.data = make([]byte, total)
	}
	blk.data = blk.data[:total]
	// pos[i] is where the next column of row i is written; it starts at
	// offs[i] and is kept in a scratch slice.
	pos := make([]int32, n)
	copy(pos, offs[:n])
	for ci, c := range e.cols {
		encodeColumn(c, cols[ci], blk.data, pos)
	}
	return nil
}

var zeroByte = []byte{0}

func bytesAt(a arrow.Array, i int) []byte {
	switch x := a.(type) {
	case *array.String:
		return stringBytes(x.Value(i))
	case *array.LargeString:
		return stringBytes(x.Value(i))
	case *array.StringView:
		return stringBytes(x.Value(i))
	case *array.Binary:
		return x.Value(i)
	case *array.LargeBinary:
		return x.Value(i)
	case *array.BinaryView:
		return x.Value(i)
	}
	return nil
}

func decodeDictionary(alloc memory.Allocator, d *array.Dictionary) (arrow.Array, error) {
	idx := make([]int32, d.Len())
	for i := range idx {
		if d.IsNull(i) {
			idx[i] = -1
		} else {
			idx[i] = int32(d.GetValueIndex(i))
		}
	}
	return takeArray(alloc, d.Dictionary(), idx)
}

// encodeColumn writes one column of every row at pos, advancing pos.
func encodeColumn(c keyCol, a arrow.Array, data []byte, pos []int32) {
	nullMark := byte(0x02)
	if c.nullsFirst {
		nullMark = 0x00
	}
	v := validityOf(a)
	var inv byte
	if c.desc {
		inv = 0xff
	}
	n := len(pos)
	if c.kind == kindBytes {
		encodeBytes(a, v, nullMark, inv, data, pos)
		return
	}
	w := c.width
	var inv64 uint64
	if c.desc {
		inv64 = ^uint64(0)
	}
	if a.DataType().ID() == arrow.NULL {
		for i := range n {
			data[pos[i]] = nullMark
			pos[i] += int32(1 + w)
		}
		return
	}
	d := a.Data()
	switch c.kind {
	case kindSigned:
		switch w {
		case 1:
			encodeIntegers(rawValues[int8](d), 1, 1<<7, v, nullMark, inv64, data, pos)
		case 2:
			encodeIntegers(rawValues[int16](d), 2, 1<<15, v, nullMark, inv64, data, pos)
		case 4:
			encodeIntegers(rawValues[int32](d), 4, 1<<31, v, nullMark, inv64, data, pos)
		case 8:
			encodeIntegers(rawValues[int64](d), 8, 1<<63, v, nullMark, inv64, data, pos)
		}
	case kindUnsigned:
		switch w {
		case 1:
			encodeIntegers(rawValues[uint8](d), 1, 0, v, nullMark, inv64, data, pos)
		case 2:
			encodeIntegers(rawValues[uint16](d), 2, 0, v, nullMark, inv64, data, pos)
		case 4:
			encodeIntegers(rawValues[uint32](d), 4, 0, v, nullMark, inv64, data, pos)
		case 8:
			encodeIntegers(rawValues[uint64](d), 8, 0, v, nullMark, inv64, data, pos)
		}
	case kindFloat32:
		encodeFloats(rawValues[float32](d), v, nullMark, inv64, data, pos)
	case kindFloat64:
		encodeFloats(rawValues[float64](d), v, nullMark, inv64, data, pos)
	case kindDecimal128, kindMonthDayNano:
		encodeInts(rawValues[w16](d), v, nullMark, inv, data, pos, 16, func(b []byte, x w16) {
			if c.kind == kindDecimal128 {
				// Little-endian 128-bit: x[0] low word, x[1] high word.
				binary.BigEndian.PutUint64(b, x[1]^(1<<63))
				binary.BigEndian.PutUint64(b[8:], x[0])
				return
			}
			// months int32, days int32, nanoseconds int64.
			binary.BigEndian.PutUint32(b, uint32(x[0])^0x80000000)
			binary.BigEndian.PutUint32(b[4:], uint32(x[0]>>32)^0x80000000)
			binary.BigEndian.PutUint64(b[8:], x[1]^(1<<63))
		})
	case kindBool:
		bits := d.Buffers()[1].Bytes()
		off := d.Offset()
		for i := range n {
			p := pos[i]
			if v.valid(i) {
				data[p] = 0x01
				var x byte
				if bitutil.BitIsSet(bits, off+i) {
					x = 1
				}
				data[p+1] = x ^ inv
			} else {
				data[p], data[p+1] = nullMark, 0
			}
			pos[i] = p + 2
		}
	}
}

// integer is the Go types of integer key columns.
type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// encodeIntegers writes marker + w big-endian value bytes per row: the
// value with its sign bit flipped (flip) so that signed order is unsigned
// order, XORed with inv (all ones for DESC).
func encodeIntegers[T integer](vals []T, w int, flip uint64, v validity, nullMark byte, inv uint64, data []byte, pos []int32) {
	for i := range pos {
		p := int(pos[i])
		if v.valid(i) {
			data[p] = 0x01
			u := uint64(vals[i]) ^ flip ^ inv
			switch w {
			case 8:
				binary.BigEndian.PutUint64(data[p+1:], u)
			case 4:
				binary.BigEndian.PutUint32(data[p+1:], uint32(u))
			case 2:
				binary.BigEndian.PutUint16(data[p+1:], uint16(u))
			default:
				data[p+1] = byte(u)
			}
		} else {
			data[p] = nullMark
			clear(data[p+1 : p+1+w])
		}
		pos[i] = int32(p + 1 + w)
	}
}

// encodeFloats writes marker + total-order bits per row (see floatKey64).
func encodeFloats[T float32 | float64](vals []T, v validity, nullMark byte, inv uint64, data []byte, pos []int32) {
	var zero T
	w := int(unsafe.Sizeof(zero))
	for i := range pos {
		p := int(pos[i])
		if v.valid(i) {
			data[p] = 0x01
			if w == 4 {
				binary.BigEndian.PutUint32(data[p+1:], floatKey32(float32(vals[i]))^uint32(inv))
			} else {
				binary.BigEndian.PutUint64(data[p+1:], floatKey64(float64(vals[i]))^inv)
			}
		} else {
			data[p] = nullMark
			clear(data[p+1 : p+1+w])
		}
		pos[i] = int32(p + 1 + w)
	}
}

// encodeInts writes marker + put(value) (inverted for DESC) per row, for
// the 16-byte kinds.
func encodeInts[T any](vals []T, v validity, nullMark, inv byte, data []byte, pos []int32, w int, put func([]byte, T)) {
	for i := range pos {
		p := pos[i]
		b := data[p : int(p)+1+w]
		if v.valid(i) {
			b[0] = 0x01
			put(b[1:], vals[i])
			if inv != 0 {
				for j := 1; j <= w; j++ {
					b[j] ^= 0xff
				}
			}
		} else {
			b[0] = nullMark
			clear(b[1:])
		}
		pos[i] = p + int32(1+w)
	}
}

// varlen reads the values of a string or binary column.
type varlen struct {
	offs32 []int32
	offs64 []int64
	data   []byte
	other  arrow.Array // views: read through bytesAt
}

func varlenOf(a arrow.Array) varlen {
	if a.Len() == 0 {
		return varlen{other: a}
	}
	d := a.Data()
	switch a.DataType().ID() {
	case arrow.STRING, arrow.BINARY:
		return varlen{offs32: rawOffsets[int32](d), data: d.Buffers()[2].Bytes()}
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return varlen{offs64: rawOffsets[int64](d), data: d.Buffers()[2].Bytes()}
	}
	return varlen{other: a}
}

func (x *varlen) at(i int) []byte {
	switch {
	case x.offs32 != nil:
		return x.data[x.offs32[i]:x.offs32[i+1]]
	case x.offs64 != nil:
		return x.data[x.offs64[i]:x.offs64[i+1]]
	}
	return bytesAt(x.other, i)
}

// anyZero reports whether some value of the first n may hold a 0x00 byte
// (which the encoding escapes).
func (x *varlen) anyZero(n int) bool {
	switch {
	case n == 0:
		return false
	case x.offs32 != nil:
		return bytes.IndexByte(x.data[x.offs32[0]:x.offs32[n]], 0) >= 0
	case x.offs64 != nil:
		return bytes.IndexByte(x.data[x.offs64[0]:x.offs64[n]], 0) >= 0
	}
	return true
}

// encodeBytes writes marker + escaped value + terminator per row.
func encodeBytes(a arrow.Array, v validity, nullMark, inv byte, data []byte, pos []int32) {
	vr := varlenOf(a)
	zeros := vr.anyZero(len(pos))
	for i := range pos {
		p := int(pos[i])
		if !v.valid(i) {
			data[p] = nullMark
			pos[i] = int32(p + 1)
			continue
		}
		data[p] = 0x01
		p++
		val := vr.at(i)
		if !zeros {
			p += copy(data[p:], val)
			if inv != 0 {
				invertBytes(data[p-len(val) : p])
			}
		} else {
			for _, ch := range val {
				data[p] = ch ^ inv
				p++
				if ch == 0 {
					data[p] = 0xff ^ inv
					p++
				}
			}
		}
		data[p], data[p+1] = inv, inv
		pos[i] = int32(p + 2)
	}
}

// invertBytes flips every bit of b.
func invertBytes(b []byte) {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], ^binary.LittleEndian.Uint64(b[i:]))
	}
	for ; i < len(b); i++ {
		b[i] = ^b[i]
	}
}

func floatKey32(x float32) uint32 {
	if x == 0 {
		x = 0
	}
	u := math.Float32bits(x)
	if x != x {
		u = 0x7fc00000
	}
	if u&(1<<31) != 0 {
		return ^u
	}
	return u | 1<<31
}

func floatKey64(x float64) uint64 {
	if x == 0 {
		x = 0
	}
	u := math.Float64bits(x)
	if x != x {
		u = 0x7ff8000000000000
	}
	if u&(1<<63) != 0 {
		return ^u
	}
	return u | 1<<63
}

// prefixed reports whether every key fits in an entry prefix.
func (e *keyEncoder) prefixed() bool { return e.fixed && e.width <= prefixLen }

// leadBytes is how many bytes of each key the first column's lead covers:
// its marker and up to 7 value bytes, 0 when the first column is not
// fixed-width.
func (e *keyEncoder) leadBytes() int {
	c := e.cols[0]
	if c.kind == kindBytes {
		return 0
	}
	return min(8, 1+c.width)
}

// leadOf is the lead of encoded key k: its first leadBytes() bytes as a
// big-endian integer, zero-padded.
func (e *keyEncoder) leadOf(k []byte) uint64 {
	var b [8]byte
	copy(b[:], k[:e.leadBytes()])
	return binary.BigEndian.Uint64(b[:])
}

// leadScratch holds reusable buffers for selectByLead.
type leadScratch struct {
	data []byte
	pos  []int32
}

// selectByLead appends to sel the rows of a (the first key column, not
// dictionary-encoded) whose lead is at most thr: the other rows' keys are
// greater than any key with lead thr. leadBytes() must be positive.
func (e *keyEncoder) selectByLead(a arrow.Array, thr uint64, sc *leadScratch, sel []int32) []int32 {
	c := e.cols[0]
	stride := 1 + c.width
	n := a.Len()
	if cap(sc.data) < n*stride+8 {
		sc.data = make([]byte, n*stride+8)
	}
	if cap(sc.pos) < n {
		sc.pos = make([]int32, n)
	}
	data, pos := sc.data[:n*stride+8], sc.pos[:n]
	for i := range pos {
		pos[i] = int32(i * stride)
	}
	encodeColumn(c, a, data, pos)
	lb := e.leadBytes()
	mask := ^uint64(0) << (64 - 8*lb)
	for i := range n {
		// data has 8 spare bytes, so the load never runs past it.
		if binary.BigEndian.Uint64(data[i*stride:])&mask <= thr {
			sel = append(sel, int32(i))
		}
	}
	return sel
}
