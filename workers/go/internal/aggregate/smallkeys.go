package aggregate

import (
	"encoding/binary"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// Group keys made of a few narrow columns (TPC-H Q1 groups by two 1-byte
// strings into 4 groups) spend most of their time in the general hash
// table: preparing each column, hashing and comparing column by column.
// smallKeys packs such a key into one 64-bit word per row, in a single
// pass per column, and maps packed words to group ids through a small
// open-addressing cache in front of the general table. The packing is
// injective (every column has its own bit field that encodes NULL, the
// length of a string and its bytes), so the cache agrees with the table;
// a batch with a word the cache has not seen yet goes through the table
// and then fills the cache. When the keys turn out to have many distinct
// values the cache is dropped for good and the general path alone runs.

const (
	// smallMinSlots and smallMaxSlots bound the capacity of the cache (a
	// power of two that grows with its entries, load at most 1/4).
	smallMinSlots = 16
	smallMaxSlots = 1024
	// smallMaxGroups is the most entries the cache holds; one more
	// disables the fast path.
	smallMaxGroups = smallMaxSlots / 4
	// smallMaxFails is how many batches whose keys do not pack (a string
	// longer than its field) are tolerated before the fast path is
	// disabled.
	smallMaxFails = 4
)

// byteMasks[l] keeps the low l bytes of a word.
var byteMasks = [8]uint64{0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffff, 0xffffffffffff, 0xffffffffffffff}

// smallField is the bit field of one key column in the packed word.
type smallField struct {
	id    arrow.Type
	shift uint   // position of the field's lowest bit
	vbits uint   // value bits: 8*maxLen for strings, the width for integers
	lbits uint   // length bits (strings)
	max   int    // longest string that fits (strings)
	bmask uint64 // keeps vbits bits
}

// smallKeys is the packed-key cache of one grouping state.
type smallKeys struct {
	fields   []smallField
	disabled bool
	fails    int
	n        int      // entries
	keys     []uint64 // packed key per slot
	ids      []uint32 // group id + 1 per slot; 0 marks an empty slot
	shift    uint     // 64 - log2(len(keys))
	packed   []uint64
}

// newSmallKeys returns a cache for the key types, or nil when their
// fields do not fit one word together or the general table is already
// as fast (a single integer column).
func newSmallKeys(types []arrow.DataType) *smallKeys {
	if len(types) == 0 {
		return nil
	}
	fields := make([]smallField, len(types))
	fixed, nstr := uint(0), 0
	for i, t := range types {
		f := smallField{id: t.ID()}
		switch t.ID() {
		case arrow.STRING, arrow.BINARY:
			nstr++
		case arrow.BOOL:
			f.vbits = 1
		case arrow.INT8, arrow.UINT8:
			f.vbits = 8
		case arrow.INT16, arrow.UINT16:
			f.vbits = 16
		case arrow.INT32, arrow.UINT32, arrow.DATE32:
			f.vbits = 32
		default:
			return nil
		}
		fixed += f.vbits + 1 // + NULL flag
		fields[i] = f
	}
	if nstr == 0 && len(types) == 1 {
		return nil
	}
	if fixed > 64 {
		return nil
	}
	if nstr > 0 {
		budget := (64 - fixed) / uint(nstr)
		// Longest string length L whose 8L value bits and bits.Len(L)
		// length bits fit the budget (the NULL flag is counted in fixed).
		maxLen := 0
		for l := 1; l <= 7; l++ {
			if uint(8*l+bits.Len(uint(l))) <= budget {
				maxLen = l
			}
		}
		if maxLen == 0 {
			return nil
		}
		for i := range fields {
			if f := &fields[i]; f.id == arrow.STRING || f.id == arrow.BINARY {
				f.max = maxLen
				f.vbits = uint(8 * maxLen)
				f.lbits = uint(bits.Len(uint(maxLen)))
			}
		}
	}
	shift := uint(0)
	for i := range fields {
		f := &fields[i]
		f.shift = shift
		if f.vbits == 64 {
			f.bmask = ^uint64(0)
		} else {
			f.bmask = 1<<f.vbits - 1
		}
		shift += 1 + f.lbits + f.vbits
	}
	return &smallKeys{fields: fields}
}

// active reports whether the fast path is still in use.
func (s *smallKeys) active() bool { return s != nil && !s.disabled }

// clear forgets every entry (the grouping state was reset).
func (s *smallKeys) clear() {
	if s == nil {
		return
	}
	s.keys, s.ids, s.n = nil, nil, 0
}

// disable drops the fast path for good.
func (s *smallKeys) disable() {
	s.disabled = true
	s.packed, s.keys, s.ids, s.n = nil, nil, nil, 0
}

// size is the bytes the cache holds.
func (s *smallKeys) size() int64 {
	if !s.active() {
		return 0
	}
	return int64(cap(s.keys))*8 + int64(cap(s.ids))*4 + int64(cap(s.packed))*8
}

// pack fills s.packed[:n] with the packed keys of cols; it reports false
// when some value does not fit its field.
func (s *smallKeys) pack(cols []arrow.Array, n int) bool {
	if len(cols) != len(s.fields) {
		return false
	}
	if cap(s.packed) < n {
		s.packed = make([]uint64, n)
	}
	p := s.packed[:n]
	clear(p)
	for c, a := range cols {
		f := &s.fields[c]
		if a.DataType().ID() != f.id || a.Len() != n {
			return false
		}
		if !f.packCol(a, p) {
			return false
		}
	}
	return true
}

// packCol ORs the field of column a into p.
func (f *smallField) packCol(a arrow.Array, p []uint64) bool {
	n := len(p)
	d := a.Data()
	off := d.Offset()
	bufs := d.Buffers()
	var valid []byte
	if a.NullN() > 0 {
		if a.NullN() == n {
			for i := range p {
				p[i] |= 1 << f.shift
			}
			return true
		}
		valid = bufs[0].Bytes()
	}
	sh := f.shift
	switch f.id {
	case arrow.STRING, arrow.BINARY:
		offs := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(bufs[1].Bytes()))), off+n+1)[off:]
		var data []byte
		if len(bufs) > 2 && bufs[2] != nil {
			data = bufs[2].Bytes()
		}
		maxLen := uint32(f.max)
		vsh, lsh := sh+1+f.lbits, sh+1
		// Values are loaded 8 bytes at a time and masked to their length;
		// the load may run into the buffer's padding (within its capacity).
		ext := data[:cap(data)]
		if valid == nil && f.max >= 1 && oneByteEach(offs[:n+1]) && int(offs[0])+n <= len(data) {
			// Every value is one byte (CHAR(1) flags): no per-row lengths.
			one := data[offs[0] : int(offs[0])+n]
			lenBit := uint64(1) << lsh
			for i := range p {
				p[i] |= uint64(one[i])<<vsh | lenBit
			}
			return true
		}
		for i := range p {
			if valid != nil && !bitutil.BitIsSet(valid, off+i) {
				p[i] |= 1 << sh
				continue
			}
			o0 := offs[i]
			l := uint32(offs[i+1] - o0)
			if l > maxLen {
				return false // too long (or malformed offsets)
			}
			var v uint64
			if int(o0)+8 <= len(ext) {
				v = binary.LittleEndian.Uint64(ext[o0:]) & byteMasks[l&7]
			} else {
				for j := int32(l) - 1; j >= 0; j-- {
					v = v<<8 | uint64(data[o0+j])
				}
			}
			p[i] |= v<<vsh | uint64(l)<<lsh
		}
	case arrow.BOOL:
		vals := bufs[1].Bytes()
		for i := range p {
			if valid != nil && !bitutil.BitIsSet(valid, off+i) {
				p[i] |= 1 << sh
				continue
			}
			if bitutil.BitIsSet(vals, off+i) {
				p[i] |= 2 << sh
			}
		}
	default:
		vb := bufs[1].Bytes()
		width := int(f.vbits / 8)
		vb = vb[off*width : (off+n)*width]
		for i := range p {
			if valid != nil && !bitutil.BitIsSet(valid, off+i) {
				p[i] |= 1 << sh
				continue
			}
			var v uint64
			switch width {
			case 1:
				v = uint64(vb[i])
			case 2:
				v = uint64(binary.LittleEndian.Uint16(vb[2*i:]))
			default:
				v = uint64(binary.LittleEndian.Uint32(vb[4*i:]))
			}
			p[i] |= v << (sh + 1)
		}
	}
	return true
}

// oneByteEach reports whether the offsets step by exactly one.
func oneByteEach(offs []int32) bool {
	if len(offs) == 0 {
		return false
	}
	base := offs[0]
	for i, o := range offs {
		if o != base+int32(i) {
			return false
		}
	}
	return true
}

// alloc replaces the slots by empty ones of the given capacity.
func (s *smallKeys) alloc(capacity int) {
	s.keys = make([]uint64, capacity)
	s.ids = make([]uint32, capacity)
	s.shift = uint(64 - bits.TrailingZeros(uint(capacity)))
}

// insert adds key k with group id (k absent, room left).
func (s *smallKeys) insert(k uint64, id uint32) {
	mask := uint64(len(s.keys) - 1)
	pos := (k * 0x9e3779b97f4a7c15) >> s.shift
	for s.ids[pos] != 0 {
		pos = (pos + 1) & mask
	}
	s.keys[pos], s.ids[pos] = k, id+1
	s.n++
}

// grow doubles the slots, placing the entries again.
func (s *smallKeys) grow() {
	keys, ids := s.keys, s.ids
	s.alloc(2 * len(keys))
	s.n = 0
	for pos, id := range ids {
		if id != 0 {
			s.insert(keys[pos], id-1)
		}
	}
}

// find sets gids[i] to the group of every packed key; it reports false
// (leaving gids partly written) when some key is not in the cache.
func (s *smallKeys) find(gids []uint32) bool {
	if s.n == 0 {
		return false
	}
	p := s.packed[:len(gids)]
	keys, ids, shift := s.keys, s.ids, s.shift
	mask := uint64(len(keys) - 1)
	prev, prevID := uint64(0), uint32(0) // prevID 0: none yet
	for i, k := range p {
		if k == prev && prevID != 0 {
			gids[i] = prevID - 1
			continue
		}
		pos := (k * 0x9e3779b97f4a7c15) >> shift
		for {
			id := ids[pos]
			if id == 0 {
				return false
			}
			if keys[pos] == k {
				gids[i] = id - 1
				prev, prevID = k, id
				break
			}
			pos = (pos + 1) & mask
		}
	}
	return true
}

// learn adds the packed keys of the batch with their group ids (found by
// the general table). It disables the cache when it would hold too many.
func (s *smallKeys) learn(gids []uint32) {
	if s.keys == nil {
		s.alloc(smallMinSlots)
	}
	p := s.packed[:len(gids)]
	for i, k := range p {
		if i > 0 && k == p[i-1] {
			continue
		}
		mask := uint64(len(s.keys) - 1)
		pos := (k * 0x9e3779b97f4a7c15) >> s.shift
		for s.ids[pos] != 0 && s.keys[pos] != k {
			pos = (pos + 1) & mask
		}
		if s.ids[pos] != 0 {
			continue // known
		}
		if s.n == smallMaxGroups {
			s.disable()
			return
		}
		if 4*(s.n+1) > len(s.keys) {
			s.grow()
		}
		s.insert(k, gids[i])
	}
}
