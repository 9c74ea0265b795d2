package hashkey

import "unsafe"

// Tables of one word-kind key column (integers, dates, decimals up to 64
// bits, floats, bools: by far the most common grouping and join keys) keep
// the key inline in the slot, next to the tag|id+1 word. A probe is then a
// single pass over the batch that touches one cache line per row, and a
// large table is probed in chunks whose slots are loaded ahead of the
// comparisons (the loads are independent, so the CPU overlaps their cache
// misses instead of paying for them one after another).

// prefetchMin is the size (bytes) of the occupied slots, counted twice for
// the empty ones between them, from which probes load a chunk's slots
// ahead: below it the table stays in the caches.
const prefetchMin = 1 << 20

// prefetchChunk is the number of rows whose slots are loaded ahead at once.
const prefetchChunk = 256

// pairs views the slots of a single-column table as (tag|id+1, key) pairs.
func (t *Table) pairs() [][2]uint64 {
	return unsafe.Slice((*[2]uint64)(unsafe.Pointer(unsafe.SliceData(t.slots))), len(t.slots)/2)
}

// grow doubles the slot array of a single-column table, moving the
// occupied slots over.
func (t *Table) grow() {
	const stride = 2
	old, oldMem := t.slots, t.slotMem
	t.slotMem = nil // freed below, once moved
	t.alloc(2 * t.capacity())
	slots, mask, shift := t.slots, t.mask, t.shift
	ahead := len(slots)*8 >= prefetchMin
	var home [prefetchChunk]uint64 // home slots of a chunk of old slots
	var from [prefetchChunk]int    // their positions in old
	for p := 0; p+stride <= len(old); {
		// Collect a chunk of occupied slots and their home positions.
		m := 0
		for ; m < prefetchChunk && p+stride <= len(old); p += stride {
			meta := old[p]
			if meta == 0 {
				continue
			}
			// The home slot is the top bits of the hash, which the tag
			// holds for tables of up to 2^32 slots.
			h := meta &^ 0xffffffff
			if shift < 32 {
				h = t.hashes[uint32(meta)-1]
			}
			home[m], from[m] = h>>shift, p
			m++
		}
		if ahead {
			for _, pos := range home[:m] {
				t.sink += slots[int(pos)*stride]
			}
		}
		for j, pos := range home[:m] {
			for slots[int(pos)*stride] != 0 {
				pos = (pos + 1) & mask
			}
			dst := slots[int(pos)*stride : int(pos)*stride+stride : int(pos)*stride+stride]
			src := old[from[j] : from[j]+stride : from[j]+stride]
			for w := range dst {
				dst[w] = src[w]
			}
		}
	}
	oldMem.free()
}

// Single-column tables place a key at the slot given by the top bits of its
// hash (home), so that growing the table can place it again from the tag
// in its slot, without a random access to its hash.

// home is the first slot to probe for hash h.
func (t *Table) home(h uint64) uint64 { return h >> t.shift }

// full reports whether one more key would exceed the load factor 1/2.
func (t *Table) full() bool { return 2*(len(t.hashes)+1) > t.capacity() }

// touch loads the home slot of every hash so that the cache misses of a
// chunk overlap; the sum only keeps the loads from being optimised away.
// A run of equal hashes (clustered keys) is touched once.
func touch(pairs [][2]uint64, shift uint8, hashes []uint64) uint64 {
	var sum uint64
	prev := ^uint64(0)
	for _, h := range hashes {
		if h != prev {
			sum += pairs[h>>shift][0]
			prev = h
		}
	}
	return sum
}

// lookupSingle is lookup for single-column word tables.
func (t *Table) lookupSingle(k *Keys, hashes []uint64, uids []uint32, sids []int32, insert bool) {
	b := &k.cols[0]
	n := len(hashes)
	w := b.w[:n]
	var nulls []bool
	if b.nulls != nil {
		nulls = b.nulls[:n]
	}
	for start := 0; start < n; start += prefetchChunk {
		end := min(start+prefetchChunk, n)
		// Look ahead once the keys spread over more than the caches hold.
		if len(t.hashes)*16 >= prefetchMin/2 {
			t.sink += touch(t.pairs(), t.shift, hashes[start:end])
		}
		if insert {
			t.insertSingle(hashes, w, nulls, uids, start, end)
		} else {
			t.findSingle(hashes, w, nulls, sids, start, end)
		}
	}
}

// insertSingle maps rows [start, end) to ids, inserting new keys.
//
// Input is often clustered by its key (a fact table sorted by its foreign
// key, rows of one order next to each other), so a row with the key of the
// row before it takes that row's id without probing. New keys go to the
// column store at once (the table grows as they arrive).
func (t *Table) insertSingle(hashes, w []uint64, nulls []bool, ids []uint32, start, end int) {
	pairs, mask := t.pairs(), t.mask
	sc := &t.cols[0]
	ids = ids[:end]
	for i := start; i < end; i++ {
		h := hashes[i]
		if i > 0 && w[i] == w[i-1] && h == hashes[i-1] && (nulls == nil || !nulls[i] && !nulls[i-1]) {
			ids[i] = ids[i-1]
			continue
		}
		if nulls != nil && nulls[i] {
			if t.nullID < 0 {
				t.nullID = int64(len(t.hashes))
				t.hashes = append(t.hashes, h)
				if sc.nulls == nil {
					sc.nulls = make([]bool, len(sc.w), cap(sc.w))
				}
				sc.w = append(sc.w, 0)
				sc.nulls = append(sc.nulls, true)
			}
			ids[i] = uint32(t.nullID)
			continue
		}
		v := w[i]
		pos := t.home(h)
		for {
			p := &pairs[pos]
			if p[0] == 0 {
				if t.full() {
					t.grow()
					pairs, mask = t.pairs(), t.mask
					pos = t.home(h)
					continue
				}
				id := uint64(len(t.hashes))
				t.hashes = append(t.hashes, h)
				*p = [2]uint64{h&^0xffffffff | (id + 1), v}
				sc.w = append(sc.w, v)
				if sc.nulls != nil {
					sc.nulls = append(sc.nulls, false)
				}
				ids[i] = uint32(id)
				break
			}
			if p[1] == v {
				ids[i] = uint32(p[0]) - 1
				break
			}
			pos = (pos + 1) & mask
		}
	}
}

// findSingle sets ids[i] for rows [start, end) to the id of the row's key,
// or -1.
func (t *Table) findSingle(hashes, w []uint64, nulls []bool, ids []int32, start, end int) {
	pairs, mask := t.pairs(), t.mask
	ids = ids[:end]
	for i := start; i < end; i++ {
		h := hashes[i]
		if i > 0 && w[i] == w[i-1] && h == hashes[i-1] && (nulls == nil || !nulls[i] && !nulls[i-1]) {
			ids[i] = ids[i-1]
			continue
		}
		if nulls != nil && nulls[i] {
			ids[i] = int32(t.nullID)
			continue
		}
		v := w[i]
		pos := t.home(h)
		for {
			p := &pairs[pos]
			if p[0] == 0 {
				ids[i] = -1
				break
			}
			if p[1] == v {
				ids[i] = int32(uint32(p[0]) - 1)
				break
			}
			pos = (pos + 1) & mask
		}
	}
}
