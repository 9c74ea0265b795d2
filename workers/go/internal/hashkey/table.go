package hashkey

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// MaxEntries is the most distinct keys one Table holds.
const MaxEntries = math.MaxUint32 - 1

// storeCol holds one key column of the distinct rows of a Table.
type storeCol struct {
	typ   arrow.DataType
	kind  kind
	width int // bytes per Arrow value for word kinds (0 = bool)
	w     []uint64
	nulls []bool
	offs  []int64 // bytes kinds: len(entries)+1
	arena []byte
	// short holds, for bytes kinds, two words per entry: the packed value
	// (packShort) when it is at most maxShort bytes, else longMark.
	short []uint64
}

// longMark is the second short word of a value longer than maxShort; no
// packed value has it (their length byte is at most maxShort).
const longMark = 0xff << 56

// Table is an open-addressing hash table (linear probing, power-of-two
// capacity, load factor at most 1/2) from key rows to dense ids 0, 1, 2, …
// (a new key gets the next free id; within one batch the ids of new keys
// need not follow row order). Each slot is one word: the upper 32 bits of
// the key's hash and id+1 (0 marks an empty slot). The distinct key rows
// are kept column by column (strings in one arena per column), together
// with each id's hash, so the table can grow by rehashing without
// revisiting the input. NULL keys are ordinary values that equal each other
// (GROUP BY semantics); callers that need SQL equality (joins) drop rows
// with NULL keys themselves (see Keys.NullMask).
//
// A Table is not safe for concurrent use.
type Table struct {
	cols    []storeCol
	slots   []uint64
	slotMem *mapping // backs slots when they are outside the Go heap
	mask    uint64
	shift   uint8    // 64 - log2(capacity)
	hashes  []uint64 // per id

	// single is set for a table of one word-kind key column: each slot is
	// then two words, the usual tag|id+1 word followed by the key's
	// canonical value, so a probe compares keys without touching the
	// column store, and the NULL key (nullID, -1 while absent) lives
	// outside the slots.
	single bool
	nullID int64
	sink   uint64 // keeps look-ahead loads alive

	// scratch for one batch
	cand    []int32  // rows whose slot tag matched
	candPos []uint64 // their slot positions
	candID  []uint32
	retry   []int32
	newRows []int32
	eq      []bool
}

// NewTable returns an empty table for keys of the given column types (a
// table with no columns has at most one key, the empty row).
func NewTable(types []arrow.DataType) (*Table, error) {
	t := &Table{cols: make([]storeCol, len(types))}
	for i, typ := range types {
		kd, width, err := classify(typ)
		if err != nil {
			return nil, fmt.Errorf("key column %d: %w", i, err)
		}
		t.cols[i] = storeCol{typ: typ, kind: kd, width: width}
		if kd == kindBytes || kd == kindLargeBytes {
			t.cols[i].offs = []int64{0}
		}
	}
	t.single = len(types) == 1 && t.cols[0].kind == kindWord
	t.nullID = -1
	t.alloc(64)
	return t, nil
}

// alloc replaces the slot array by an empty one of capacity slots.
func (t *Table) alloc(capacity int) {
	words := capacity
	if t.single {
		words = 2 * capacity
	}
	t.slotMem.free()
	t.slots, t.slotMem = allocSlots(words)
	t.shift = uint8(64 - bits.TrailingZeros(uint(capacity)))
	t.mask = uint64(capacity - 1)
}

// capacity is the number of slots.
func (t *Table) capacity() int { return int(t.mask) + 1 }

// Len is the number of distinct keys.
func (t *Table) Len() int { return len(t.hashes) }

// Types are the key column types.
func (t *Table) Types() []arrow.DataType {
	out := make([]arrow.DataType, len(t.cols))
	for i := range t.cols {
		out[i] = t.cols[i].typ
	}
	return out
}

// Hashes returns the hash of every id (index = id). The slice is the
// table's own; it is valid until the next insertion.
func (t *Table) Hashes() []uint64 { return t.hashes }

// MemSize estimates the bytes the table holds (slots, hashes and stored
// keys, by capacity; not the per-batch scratch).
func (t *Table) MemSize() int64 {
	n := int64(cap(t.slots)+cap(t.hashes)) * 8
	for i := range t.cols {
		c := &t.cols[i]
		n += int64(cap(c.w))*8 + int64(cap(c.nulls)) + int64(cap(c.offs))*8 + int64(cap(c.arena)) + int64(cap(c.short))*8
	}
	return n
}

// Reset removes every key and frees the memory the table grew to (the
// MemSize afterwards is that of an empty table).
func (t *Table) Reset() {
	if t.capacity() > 64 {
		t.alloc(64)
	} else {
		clear(t.slots)
	}
	t.hashes = nil
	t.nullID = -1
	for i := range t.cols {
		c := &t.cols[i]
		c.w, c.nulls, c.arena, c.short = nil, nil, nil, nil
		if c.offs != nil {
			c.offs = []int64{0}
		}
	}
}

// check verifies that k matches the table's key types.
func (t *Table) check(k *Keys) error {
	if len(k.cols) != len(t.cols) {
		return fmt.Errorf("hashkey: batch has %d key columns, table has %d", len(k.cols), len(t.cols))
	}
	for i := range t.cols {
		if !arrow.TypeEqual(k.typs[i], t.cols[i].typ) {
			return fmt.Errorf("hashkey: key column %d is %s, table expects %s", i, k.typs[i], t.cols[i].typ)
		}
	}
	return nil
}

// reserve makes room for extra more keys at load factor 1/2 in a general
// table (single-column tables grow as keys arrive, see grow).
func (t *Table) reserve(extra int) error {
	need := len(t.hashes) + extra
	if need > MaxEntries {
		return fmt.Errorf("hashkey: more than %d distinct keys", MaxEntries)
	}
	if 2*need <= t.capacity() {
		return nil
	}
	capacity := t.capacity()
	for capacity < 2*need {
		capacity *= 2
	}
	t.alloc(capacity)
	for id, h := range t.hashes {
		pos := h & t.mask
		for t.slots[pos] != 0 {
			pos = (pos + 1) & t.mask
		}
		t.slots[pos] = h&^0xffffffff | uint64(id+1)
	}
	return nil
}

// FindOrInsert sets ids[i] to the id of row i's key, inserting the keys not
// yet present. hashes must be k's hashes (Keys.Hash). It fails only when k
// does not match the table's key types or the table is full.
func (t *Table) FindOrInsert(k *Keys, hashes []uint64, ids []uint32) error {
	return t.lookup(k, hashes, ids, nil, true)
}

// Find sets ids[i] to the id of row i's key, or -1 when the key is absent.
func (t *Table) Find(k *Keys, hashes []uint64, ids []int32) error {
	return t.lookup(k, hashes, nil, ids, false)
}

func (t *Table) lookup(k *Keys, hashes []uint64, uids []uint32, sids []int32, insert bool) error {
	if err := t.check(k); err != nil {
		return err
	}
	n := k.n
	if n == 0 {
		return nil
	}
	if insert && len(t.hashes)+n > MaxEntries {
		return fmt.Errorf("hashkey: more than %d distinct keys", MaxEntries)
	}
	hashes = hashes[:n]
	if len(t.cols) == 0 {
		// The only key is the empty row.
		if len(t.hashes) == 0 && insert {
			t.hashes = append(t.hashes, seed)
		}
		for i := 0; i < n; i++ {
			if insert {
				uids[i] = 0
			} else if len(t.hashes) > 0 {
				sids[i] = 0
			} else {
				sids[i] = -1
			}
		}
		return nil
	}
	if t.single {
		t.lookupSingle(k, hashes, uids, sids, insert)
		return nil
	}
	if insert {
		if err := t.reserve(n); err != nil {
			return err
		}
	}
	cand, candPos := t.cand[:0], t.candPos[:0]
	newRows := t.newRows[:0]
	slots, mask := t.slots, t.mask
	// First round: every row starts at its home slot.
	for i, h := range hashes {
		tag := h &^ 0xffffffff
		pos := h & mask
		for {
			s := slots[pos]
			if s == 0 {
				if insert {
					id := uint64(len(t.hashes))
					t.hashes = append(t.hashes, h)
					slots[pos] = tag | (id + 1)
					uids[i] = uint32(id)
					newRows = append(newRows, int32(i))
				} else {
					sids[i] = -1
				}
				break
			}
			if s&^0xffffffff == tag {
				cand = append(cand, int32(i))
				candPos = append(candPos, pos)
				break
			}
			pos = (pos + 1) & mask
		}
	}
	for {
		if len(newRows) > 0 {
			t.appendRows(k, newRows)
			newRows = newRows[:0]
		}
		if len(cand) == 0 {
			break
		}
		// Compare the candidates column by column.
		eq := t.eq[:0]
		ids := t.candID[:0]
		for _, pos := range candPos {
			ids = append(ids, uint32(slots[pos])-1)
			eq = append(eq, true)
		}
		for c := range t.cols {
			t.cols[c].equal(&k.cols[c], cand, ids, eq)
		}
		// Matches are done; mismatches probe on from the next slot.
		retry, retryPos := t.retry[:0], candPos[:0]
		for j, i := range cand {
			if eq[j] {
				if insert {
					uids[i] = ids[j]
				} else {
					sids[i] = int32(ids[j])
				}
				continue
			}
			retry = append(retry, i)
			retryPos = append(retryPos, candPos[j])
		}
		t.eq, t.candID = eq, ids
		cand2 := cand[:0]
		candPos2 := retryPos[:0]
		for j, i := range retry {
			h := hashes[i]
			tag := h &^ 0xffffffff
			pos := (retryPos[j] + 1) & mask
			for {
				s := slots[pos]
				if s == 0 {
					if insert {
						id := uint64(len(t.hashes))
						t.hashes = append(t.hashes, h)
						slots[pos] = tag | (id + 1)
						uids[i] = uint32(id)
						newRows = append(newRows, i)
					} else {
						sids[i] = -1
					}
					break
				}
				if s&^0xffffffff == tag {
					cand2 = append(cand2, i)
					candPos2 = append(candPos2, pos)
					break
				}
				pos = (pos + 1) & mask
			}
		}
		t.retry = retry
		cand, candPos = cand2, candPos2
	}
	t.cand, t.candPos, t.newRows = cand, candPos, newRows
	return nil
}

// Equal reports whether row i of k equals the stored key id (NULLs equal).
func (t *Table) Equal(k *Keys, i int, id uint32) bool {
	eq := []bool{true}
	rows := []int32{int32(i)}
	ids := []uint32{id}
	for c := range t.cols {
		t.cols[c].equal(&k.cols[c], rows, ids, eq)
	}
	return eq[0]
}

// equal clears eq[j] unless row rows[j] of b equals stored entry ids[j].
func (s *storeCol) equal(b *keyCol, rows []int32, ids []uint32, eq []bool) {
	switch s.kind {
	case kindNull:
		return
	case kindWord:
		w := s.w
		if b.nulls == nil && s.nulls == nil {
			for j, i := range rows {
				eq[j] = eq[j] && b.w[i] == w[ids[j]]
			}
			return
		}
		for j, i := range rows {
			id := ids[j]
			bn := b.nulls != nil && b.nulls[i]
			sn := s.nulls != nil && s.nulls[id]
			eq[j] = eq[j] && bn == sn && (bn || b.w[i] == w[id])
		}
	case kindWide:
		w := s.w
		for j, i := range rows {
			id := ids[j]
			bn := b.nulls != nil && b.nulls[i]
			sn := s.nulls != nil && s.nulls[id]
			eq[j] = eq[j] && bn == sn && (bn || (b.w[2*i] == w[2*id] && b.w[2*i+1] == w[2*id+1]))
		}
	case kindBytes, kindLargeBytes:
		if b.packed {
			w, sw := b.w, s.short
			if b.nulls == nil && s.nulls == nil {
				for j, i := range rows {
					id := ids[j]
					eq[j] = eq[j] && w[2*i] == sw[2*id] && w[2*i+1] == sw[2*id+1]
				}
				return
			}
			for j, i := range rows {
				id := ids[j]
				bn := b.nulls != nil && b.nulls[i]
				sn := s.nulls != nil && s.nulls[id]
				eq[j] = eq[j] && bn == sn && (bn || (w[2*i] == sw[2*id] && w[2*i+1] == sw[2*id+1]))
			}
			return
		}
		for j, i := range rows {
			if !eq[j] {
				continue
			}
			id := ids[j]
			bn := b.nulls != nil && b.nulls[i]
			sn := s.nulls != nil && s.nulls[id]
			eq[j] = bn == sn && (bn || bytes.Equal(b.bytesAt(int(i)), s.arena[s.offs[id]:s.offs[id+1]]))
		}
	}
}

// appendRows stores the keys of the given batch rows as new entries.
func (t *Table) appendRows(k *Keys, rows []int32) {
	for c := range t.cols {
		s, b := &t.cols[c], &k.cols[c]
		if b.nulls != nil || b.kind == kindNull {
			if s.nulls == nil {
				s.nulls = make([]bool, len(t.hashes)-len(rows), len(t.hashes)+len(rows))
			}
		}
		if s.nulls != nil {
			for _, i := range rows {
				s.nulls = append(s.nulls, b.kind == kindNull || (b.nulls != nil && b.nulls[i]))
			}
		}
		switch s.kind {
		case kindWord:
			for _, i := range rows {
				v := b.w[i]
				if b.nulls != nil && b.nulls[i] {
					v = 0
				}
				s.w = append(s.w, v)
			}
		case kindWide:
			for _, i := range rows {
				lo, hi := b.w[2*i], b.w[2*i+1]
				if b.nulls != nil && b.nulls[i] {
					lo, hi = 0, 0
				}
				s.w = append(s.w, lo, hi)
			}
		case kindBytes, kindLargeBytes:
			for _, i := range rows {
				var lo, hi uint64
				if b.nulls == nil || !b.nulls[i] {
					v := b.bytesAt(int(i))
					s.arena = append(s.arena, v...)
					if b.packed {
						lo, hi = b.w[2*i], b.w[2*i+1]
					} else if len(v) <= maxShort {
						lo, hi = packShort(v)
					} else {
						hi = longMark
					}
				}
				s.offs = append(s.offs, int64(len(s.arena)))
				s.short = append(s.short, lo, hi)
			}
		}
	}
}

// Columns builds Arrow arrays of the stored keys with ids from..to-1, one
// per key column, allocated with alloc. The caller releases them.
func (t *Table) Columns(alloc memory.Allocator, from, to int) ([]arrow.Array, error) {
	if from < 0 || to > t.Len() || from > to {
		return nil, fmt.Errorf("hashkey: id range [%d,%d) outside [0,%d)", from, to, t.Len())
	}
	return t.build(alloc, nil, from, to)
}

// Take builds Arrow arrays of the stored keys with the given ids, in that
// order. The caller releases them.
func (t *Table) Take(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	for _, id := range ids {
		if int(id) >= t.Len() {
			return nil, fmt.Errorf("hashkey: id %d outside [0,%d)", id, t.Len())
		}
	}
	return t.build(alloc, ids, 0, len(ids))
}

func (t *Table) build(alloc memory.Allocator, ids []uint32, from, to int) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(t.cols))
	for c := range t.cols {
		out[c] = t.cols[c].build(alloc, ids, from, to)
	}
	return out, nil
}

// idAt maps output position j to a stored id.
func idAt(ids []uint32, from, j int) int {
	if ids != nil {
		return int(ids[j])
	}
	return from + j
}

// newBuf allocates a zeroed buffer of n bytes.
func newBuf(alloc memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(alloc)
	b.Resize(n)
	clear(b.Bytes())
	return b
}

func (s *storeCol) build(alloc memory.Allocator, ids []uint32, from, to int) arrow.Array {
	n := to - from
	if ids != nil {
		n = len(ids)
		from = 0
	}
	if s.kind == kindNull {
		return array.NewNull(n)
	}
	var validity *memory.Buffer
	nullN := 0
	if s.nulls != nil {
		validity = newBuf(alloc, int(bitutil.BytesForBits(int64(n))))
		vb := validity.Bytes()
		for j := 0; j < n; j++ {
			if s.nulls[idAt(ids, from, j)] {
				nullN++
			} else {
				bitutil.SetBit(vb, j)
			}
		}
		if nullN == 0 {
			validity.Release()
			validity = nil
		}
	}
	var bufs []*memory.Buffer
	switch s.kind {
	case kindWord:
		var vals *memory.Buffer
		switch s.width {
		case 0:
			vals = newBuf(alloc, int(bitutil.BytesForBits(int64(n))))
			vb := vals.Bytes()
			for j := 0; j < n; j++ {
				if s.w[idAt(ids, from, j)] != 0 {
					bitutil.SetBit(vb, j)
				}
			}
		case 1:
			vals = newBuf(alloc, n)
			dst := vals.Bytes()
			for j := range dst {
				dst[j] = byte(s.w[idAt(ids, from, j)])
			}
		case 2:
			vals = newBuf(alloc, 2*n)
			dst := sliceAs[uint16](vals.Bytes(), 0, n)
			for j := range dst {
				dst[j] = uint16(s.w[idAt(ids, from, j)])
			}
		case 4:
			vals = newBuf(alloc, 4*n)
			dst := sliceAs[uint32](vals.Bytes(), 0, n)
			for j := range dst {
				dst[j] = uint32(s.w[idAt(ids, from, j)])
			}
		default:
			vals = newBuf(alloc, 8*n)
			dst := sliceAs[uint64](vals.Bytes(), 0, n)
			if ids == nil {
				copy(dst, s.w[from:to])
			} else {
				for j := range dst {
					dst[j] = s.w[ids[j]]
				}
			}
		}
		bufs = []*memory.Buffer{validity, vals}
	case kindWide:
		vals := newBuf(alloc, 16*n)
		dst := sliceAs[uint64](vals.Bytes(), 0, 2*n)
		for j := 0; j < n; j++ {
			id := idAt(ids, from, j)
			dst[2*j], dst[2*j+1] = s.w[2*id], s.w[2*id+1]
		}
		bufs = []*memory.Buffer{validity, vals}
	case kindBytes, kindLargeBytes:
		total := 0
		for j := 0; j < n; j++ {
			id := idAt(ids, from, j)
			total += int(s.offs[id+1] - s.offs[id])
		}
		data := newBuf(alloc, total)
		db := data.Bytes()
		var offsets *memory.Buffer
		pos := 0
		if s.kind == kindBytes {
			offsets = newBuf(alloc, 4*(n+1))
			o := sliceAs[int32](offsets.Bytes(), 0, n+1)
			for j := 0; j < n; j++ {
				id := idAt(ids, from, j)
				o[j] = int32(pos)
				pos += copy(db[pos:], s.arena[s.offs[id]:s.offs[id+1]])
			}
			o[n] = int32(pos)
		} else {
			offsets = newBuf(alloc, 8*(n+1))
			o := sliceAs[int64](offsets.Bytes(), 0, n+1)
			for j := 0; j < n; j++ {
				id := idAt(ids, from, j)
				o[j] = int64(pos)
				pos += copy(db[pos:], s.arena[s.offs[id]:s.offs[id+1]])
			}
			o[n] = int64(pos)
		}
		bufs = []*memory.Buffer{validity, offsets, data}
	}
	d := array.NewData(s.typ, n, bufs, nil, nullN, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	defer d.Release()
	return array.MakeFromData(d)
}
