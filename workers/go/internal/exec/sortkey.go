package exec

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

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
// keys made only of fixed-width columns all have the same length. The
// first 16 bytes of a key are kept as two integers beside each row
// reference; most comparisons end there.

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
			for i := range lens {
				if a.IsNull(i) {
					lens[i]++
				} else {
					v := bytesAt(a, i)
					lens[i] += int32(3 + len(v) + bytes.Count(v, zeroByte))
				}
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
	switch c.kind {
	case kindBytes:
		for i := range n {
			p := pos[i]
			if !v.valid(i) {
				data[p] = nullMark
				pos[i] = p + 1
				continue
			}
			data[p] = 0x01
			p++
			for _, ch := range bytesAt(a, i) {
				data[p] = ch ^ inv
				p++
				if ch == 0 {
					data[p] = 0xff ^ inv
					p++
				}
			}
			data[p], data[p+1] = inv, inv
			pos[i] = p + 2
		}
		return
	}
	w := c.width
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
			encodeInts(rawValues[int8](d), v, nullMark, inv, data, pos, 1, func(b []byte, x int8) { b[0] = byte(x) ^ 0x80 })
		case 2:
			encodeInts(rawValues[int16](d), v, nullMark, inv, data, pos, 2, func(b []byte, x int16) {
				binary.BigEndian.PutUint16(b, uint16(x)^0x8000)
			})
		case 4:
			encodeInts(rawValues[int32](d), v, nullMark, inv, data, pos, 4, func(b []byte, x int32) {
				binary.BigEndian.PutUint32(b, uint32(x)^0x80000000)
			})
		case 8:
			encodeInts(rawValues[int64](d), v, nullMark, inv, data, pos, 8, func(b []byte, x int64) {
				binary.BigEndian.PutUint64(b, uint64(x)^(1<<63))
			})
		}
	case kindUnsigned:
		switch w {
		case 1:
			encodeInts(rawValues[uint8](d), v, nullMark, inv, data, pos, 1, func(b []byte, x uint8) { b[0] = x })
		case 2:
			encodeInts(rawValues[uint16](d), v, nullMark, inv, data, pos, 2, binary.BigEndian.PutUint16)
		case 4:
			encodeInts(rawValues[uint32](d), v, nullMark, inv, data, pos, 4, binary.BigEndian.PutUint32)
		case 8:
			encodeInts(rawValues[uint64](d), v, nullMark, inv, data, pos, 8, binary.BigEndian.PutUint64)
		}
	case kindFloat32:
		encodeInts(rawValues[float32](d), v, nullMark, inv, data, pos, 4, func(b []byte, x float32) {
			binary.BigEndian.PutUint32(b, floatKey32(x))
		})
	case kindFloat64:
		encodeInts(rawValues[float64](d), v, nullMark, inv, data, pos, 8, func(b []byte, x float64) {
			binary.BigEndian.PutUint64(b, floatKey64(x))
		})
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

// encodeInts writes marker + put(value) (inverted for DESC) per row. put is
// a direct function value the compiler specialises per instantiation.
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

// sortEntry references row Row of block/batch Batch, with the first 16
// key bytes as two big-endian integers (zero-padded).
type sortEntry struct {
	p0, p1 uint64
	batch  uint32
	row    uint32
}

// prefixLen is how many key bytes the entry prefix holds.
const prefixLen = 16

func prefixOf(k []byte) (uint64, uint64) {
	if len(k) >= 16 {
		return binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(k[8:])
	}
	var b [16]byte
	copy(b[:], k)
	return binary.BigEndian.Uint64(b[:]), binary.BigEndian.Uint64(b[8:])
}

func newEntry(k []byte, batch, row uint32) sortEntry {
	p0, p1 := prefixOf(k)
	return sortEntry{p0: p0, p1: p1, batch: batch, row: row}
}

// fillEntries appends an entry per row of blk, tagged with batch.
func fillEntries(entries []sortEntry, blk *keyBlock, batch uint32) []sortEntry {
	n := len(blk.offs) - 1
	for i := range n {
		entries = append(entries, newEntry(blk.data[blk.offs[i]:blk.offs[i+1]], batch, uint32(i)))
	}
	return entries
}

// entryComparer orders entries by their keys, then by (batch, row) so that
// the order is total and follows the input on ties.
type entryComparer struct {
	blocks   []*keyBlock
	prefixed bool // keys never exceed the prefix: it decides
}

func newEntryComparer(blocks []*keyBlock, enc *keyEncoder) entryComparer {
	return entryComparer{blocks: blocks, prefixed: enc.prefixed()}
}

// prefixed reports whether every key fits in the entry prefix.
func (e *keyEncoder) prefixed() bool { return e.fixed && e.width <= prefixLen }

func (c *entryComparer) keys(a, b sortEntry) int {
	if a.p0 != b.p0 {
		if a.p0 < b.p0 {
			return -1
		}
		return 1
	}
	if a.p1 != b.p1 {
		if a.p1 < b.p1 {
			return -1
		}
		return 1
	}
	if c.prefixed {
		return 0
	}
	ka, kb := c.blocks[a.batch].key(a.row), c.blocks[b.batch].key(b.row)
	return bytes.Compare(ka[min(prefixLen, len(ka)):], kb[min(prefixLen, len(kb)):])
}

func (c *entryComparer) compare(a, b sortEntry) int {
	if r := c.keys(a, b); r != 0 {
		return r
	}
	if a.batch != b.batch {
		return cmp.Compare(a.batch, b.batch)
	}
	return cmp.Compare(a.row, b.row)
}

// sortEntries sorts entries by key.
func sortEntries(entries []sortEntry, c *entryComparer) {
	if c.prefixed {
		slices.SortFunc(entries, func(a, b sortEntry) int {
			if a.p0 != b.p0 {
				return cmp.Compare(a.p0, b.p0)
			}
			if a.p1 != b.p1 {
				return cmp.Compare(a.p1, b.p1)
			}
			if a.batch != b.batch {
				return cmp.Compare(a.batch, b.batch)
			}
			return cmp.Compare(a.row, b.row)
		})
		return
	}
	slices.SortFunc(entries, c.compare)
}
