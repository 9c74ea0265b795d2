package exec

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
)

// Ordering rows by their encoded keys (see sortkey.go).
//
// Comparing whole keys costs a memory access per row and a memcmp, and a
// fixed 16-byte key prefix often fails to tell rows apart: columns whose
// high bytes never change (small integers in 8 bytes, strings sharing a
// "Customer#00" head) fill it with constant bytes. So a run of keys is
// first summarised (keyStats: which byte positions differ between any
// two keys), and each row's entry carries the first 16 *varying* byte
// positions of its key, packed into two integers (the projection). Bytes
// left out either are the same in every key or come after the projected
// ones, so integer comparison of the projections is the key order, and
// equal projections leave only the key bytes after the last projected
// position to compare. When no varying position was left out, equal
// projections mean equal keys and rows never touch their key bytes.
//
// Entries are sorted with an MSD radix sort on the projected bytes
// (stable, so rows with equal keys keep their input order), then any run
// of equal projections is ordered by its remaining key bytes.

// sortEntry references row row of key block (and batch) batch, with the
// row's projected key prefix as two big-endian integers.
type sortEntry struct {
	p0, p1 uint64
	batch  uint32
	row    uint32
}

// prefixLen is how many key bytes an entry prefix holds.
const prefixLen = 16

// keyStats summarises a set of encoded keys: where they differ.
type keyStats struct {
	n      int    // keys seen
	minLen int    // shortest key
	maxLen int    // longest key
	ref    []byte // first minLen bytes of the first key
	diff   []byte // diff[i] is the OR over all keys of key[i]^ref[i], i < minLen
}

// add accounts for key k.
func (s *keyStats) add(k []byte) {
	if s.n == 0 {
		s.ref = append(s.ref[:0], k...)
		s.diff = make([]byte, len(k))
		s.minLen, s.maxLen, s.n = len(k), len(k), 1
		return
	}
	s.n++
	s.maxLen = max(s.maxLen, len(k))
	if len(k) < s.minLen {
		s.truncate(len(k))
	}
	orXor(s.diff, s.ref, k[:s.minLen])
}

// addBlock accounts for every key of blk.
func (s *keyStats) addBlock(blk *keyBlock) {
	n := len(blk.offs) - 1
	if n <= 0 {
		return
	}
	for i := range n {
		k := blk.data[blk.offs[i]:blk.offs[i+1]]
		if len(k) != s.minLen || len(k) != s.maxLen {
			s.add(k)
			continue
		}
		orXor(s.diff, s.ref, k)
		s.n++
	}
}

// merge accounts for the keys summarised by o.
func (s *keyStats) merge(o *keyStats) {
	if o.n == 0 {
		return
	}
	if s.n == 0 {
		s.n, s.minLen, s.maxLen = o.n, o.minLen, o.maxLen
		s.ref = append([]byte(nil), o.ref...)
		s.diff = append([]byte(nil), o.diff...)
		return
	}
	s.n += o.n
	s.maxLen = max(s.maxLen, o.maxLen)
	if o.minLen < s.minLen {
		s.truncate(o.minLen)
	}
	m := s.minLen
	orXor(s.diff, s.ref, o.ref[:m])
	for i, d := range o.diff[:m] {
		s.diff[i] |= d
	}
}

// truncate forgets positions from m on: they become "maybe varying".
func (s *keyStats) truncate(m int) {
	s.minLen = m
	s.ref, s.diff = s.ref[:m], s.diff[:m]
}

// orXor sets acc[i] |= ref[i]^k[i] for i < len(acc), 8 bytes at a time.
func orXor(acc, ref, k []byte) {
	n := len(acc)
	ref, k = ref[:n], k[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		x := binary.LittleEndian.Uint64(ref[i:]) ^ binary.LittleEndian.Uint64(k[i:])
		if x != 0 {
			binary.LittleEndian.PutUint64(acc[i:], binary.LittleEndian.Uint64(acc[i:])|x)
		}
	}
	for ; i < n; i++ {
		acc[i] |= ref[i] ^ k[i]
	}
}

// projSeg copies n (1..8) consecutive key bytes from start into the
// prefix, shifted left by sh bits within the 128-bit prefix.
type projSeg struct {
	start int32
	n     uint8
	sh    uint8
}

// keyOrder compares entries of rows whose keys live in blocks (indexed
// by the entries' batch field).
type keyOrder struct {
	blocks []*keyBlock
	segs   []projSeg
	// identity: the prefix is simply the first 16 key bytes.
	identity bool
	// nbytes is how many prefix bytes are projected (the rest are 0).
	nbytes int
	// decided: every byte position where keys differ is projected, so
	// equal prefixes mean equal keys.
	decided bool
	// tailFrom is the first key position not covered by the prefix when
	// it does not decide: key bytes before it are equal when prefixes are.
	tailFrom int
}

// identityOrder orders keys by their first 16 bytes, then the rest; it
// needs no statistics (top-k heaps fill before the keys are known).
func identityOrder(enc *keyEncoder) keyOrder {
	return keyOrder{identity: true, nbytes: prefixLen, decided: enc.prefixed(), tailFrom: prefixLen}
}

// newKeyOrder builds the projection for keys summarised by st.
func newKeyOrder(st *keyStats) keyOrder {
	o := keyOrder{decided: true}
	var pos []int
	for i := 0; i < st.maxLen; i++ {
		if i >= st.minLen || st.diff[i] != 0 {
			if len(pos) == prefixLen {
				o.decided = false
				break
			}
			pos = append(pos, i)
		}
	}
	o.nbytes = len(pos)
	if len(pos) > 0 {
		o.tailFrom = pos[len(pos)-1] + 1
	}
	for j := 0; j < len(pos); {
		start, n := pos[j], 1
		for j+n < len(pos) && pos[j+n] == start+n && n < 8 {
			n++
		}
		// The segment's bytes go to prefix bytes [j, j+n).
		o.segs = append(o.segs, projSeg{start: int32(start), n: uint8(n), sh: uint8(8 * (prefixLen - j - n))})
		j += n
	}
	return o
}

// withBlocks returns a copy of o over blocks.
func (o keyOrder) withBlocks(blocks []*keyBlock) keyOrder {
	o.blocks = blocks
	return o
}

func (o *keyOrder) key(e sortEntry) []byte { return o.blocks[e.batch].key(e.row) }

// prefix projects key k.
func (o *keyOrder) prefix(k []byte) (p0, p1 uint64) {
	if o.identity {
		return prefixOf(k)
	}
	for _, s := range o.segs {
		var w uint64
		if st := int(s.start); st+8 <= len(k) {
			w = binary.BigEndian.Uint64(k[st:])
		} else {
			for i := range 8 {
				w <<= 8
				if st+i < len(k) {
					w |= uint64(k[st+i])
				}
			}
		}
		v := w >> (64 - 8*s.n)
		if s.sh >= 64 {
			p0 |= v << (s.sh - 64)
		} else {
			p1 |= v << s.sh
			p0 |= v >> (64 - s.sh)
		}
	}
	return p0, p1
}

func prefixOf(k []byte) (uint64, uint64) {
	if len(k) >= 16 {
		return binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(k[8:])
	}
	var b [16]byte
	copy(b[:], k)
	return binary.BigEndian.Uint64(b[:]), binary.BigEndian.Uint64(b[8:])
}

// entry builds the entry of row row of block batch.
func (o *keyOrder) entry(k []byte, batch, row uint32) sortEntry {
	p0, p1 := o.prefix(k)
	return sortEntry{p0: p0, p1: p1, batch: batch, row: row}
}

// fill appends an entry per row of blk, tagged with batch.
func (o *keyOrder) fill(entries []sortEntry, blk *keyBlock, batch uint32) []sortEntry {
	n := len(blk.offs) - 1
	for i := range n {
		entries = append(entries, o.entry(blk.data[blk.offs[i]:blk.offs[i+1]], batch, uint32(i)))
	}
	return entries
}

// reproject recomputes the prefixes of entries under o.
func (o *keyOrder) reproject(entries []sortEntry) {
	for i := range entries {
		entries[i].p0, entries[i].p1 = o.prefix(o.key(entries[i]))
	}
}

// compareKeys orders two entries by key.
func (o *keyOrder) compareKeys(a, b sortEntry) int {
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
	if o.decided {
		return 0
	}
	ka, kb := o.key(a), o.key(b)
	return bytes.Compare(ka[min(o.tailFrom, len(ka)):], kb[min(o.tailFrom, len(kb)):])
}

// compare orders two entries by key, then by (batch, row): a total order
// that follows the input on ties.
func (o *keyOrder) compare(a, b sortEntry) int {
	if r := o.compareKeys(a, b); r != 0 {
		return r
	}
	if a.batch != b.batch {
		return cmp.Compare(a.batch, b.batch)
	}
	return cmp.Compare(a.row, b.row)
}

// equal reports whether two entries have equal keys.
func (o *keyOrder) equal(a, b sortEntry) bool {
	if a.p0 != b.p0 || a.p1 != b.p1 {
		return false
	}
	return o.decided || bytes.Equal(o.key(a), o.key(b))
}

// leadingMask returns masks over (p0, p1) that select the projected bytes
// of the first n key positions, when comparing those is the same as
// comparing the first n key bytes (ok); n must not exceed any key length.
func (o *keyOrder) leadingMask(n int) (m0, m1 uint64, ok bool) {
	if !o.decided && n > o.tailFrom {
		return 0, 0, false
	}
	if o.identity {
		if n > prefixLen {
			return 0, 0, false
		}
		return maskTop(n)
	}
	cnt := 0
	for _, s := range o.segs {
		if int(s.start) >= n {
			break
		}
		cnt += min(int(s.n), n-int(s.start))
	}
	return maskTop(cnt)
}

// maskTop masks the top cnt bytes of a 128-bit (hi, lo) value.
func maskTop(cnt int) (hi, lo uint64, ok bool) {
	switch {
	case cnt == 0:
		return 0, 0, true
	case cnt <= 8:
		return ^uint64(0) << (64 - 8*cnt), 0, true
	}
	return ^uint64(0), ^uint64(0) << (128 - 8*cnt), true
}

// radixCutoff is the bucket size below which insertion sort takes over.
const radixCutoff = 48

// sort orders entries by key, ties in their current order (stably).
func (o *keyOrder) sort(entries []sortEntry) {
	if len(entries) < 2 {
		return
	}
	if o.nbytes > 0 {
		if len(entries) <= radixCutoff {
			insertionSortPrefix(entries)
		} else {
			radixInPlace(entries, make([]sortEntry, len(entries)), 0, o.nbytes)
		}
	}
	if o.decided {
		return
	}
	// Runs of equal prefixes: order by the key bytes after them.
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].p0 == entries[i].p0 && entries[j].p1 == entries[i].p1 {
			j++
		}
		if j-i > 1 {
			slices.SortStableFunc(entries[i:j], o.compareKeys)
		}
		i = j
	}
}

// The MSD radix sort moves entries between the slice being sorted and a
// scratch slice of the same length, one byte of prefix per level (two at
// the top of large inputs), and never copies back except at the leaves:
// radixInPlace leaves its result where the data was, radixInto in the
// other slice. Both are stable and sort by prefix bytes [d, nbytes), the
// bytes before d being equal across the input.

// prefixByte is byte d (0 = most significant) of e's prefix.
func prefixByte(e *sortEntry, d int) byte {
	if d < 8 {
		return byte(e.p0 >> (56 - 8*uint(d)))
	}
	return byte(e.p1 >> (56 - 8*uint(d-8)))
}

// radixInPlace sorts x, using s (same length) as scratch.
func radixInPlace(x, s []sortEntry, d, nbytes int) {
	for {
		if d >= nbytes {
			return
		}
		if len(x) <= radixCutoff {
			insertionSortPrefix(x)
			return
		}
		if len(x) >= wideRadixMin && d+1 < nbytes {
			if scatterWide(x, s, d, func(lo, hi int) { radixInto(s[lo:hi], x[lo:hi], d+2, nbytes) }) {
				return
			}
		}
		var counts [256]int
		if !histogram(x, d, &counts) {
			d++
			continue
		}
		scatter(x, s, d, &counts)
		start := 0
		for _, c := range counts {
			if c > 0 {
				radixInto(s[start:start+c], x[start:start+c], d+1, nbytes)
			}
			start += c
		}
		return
	}
}

// radixInto sorts src into dst (same length); src is clobbered.
func radixInto(src, dst []sortEntry, d, nbytes int) {
	for {
		if d >= nbytes || len(src) <= radixCutoff {
			copy(dst, src)
			if d < nbytes {
				insertionSortPrefix(dst)
			}
			return
		}
		if len(src) >= wideRadixMin && d+1 < nbytes {
			if scatterWide(src, dst, d, func(lo, hi int) { radixInPlace(dst[lo:hi], src[lo:hi], d+2, nbytes) }) {
				return
			}
		}
		var counts [256]int
		if !histogram(src, d, &counts) {
			d++
			continue
		}
		scatter(src, dst, d, &counts)
		start := 0
		for _, c := range counts {
			if c > 0 {
				radixInPlace(dst[start:start+c], src[start:start+c], d+1, nbytes)
			}
			start += c
		}
		return
	}
}

// histogram counts byte d of a's prefixes and reports whether it takes
// more than one value.
func histogram(a []sortEntry, d int, counts *[256]int) bool {
	if d < 8 {
		sh := 56 - 8*uint(d)
		for i := range a {
			counts[byte(a[i].p0>>sh)]++
		}
	} else {
		sh := 56 - 8*uint(d-8)
		for i := range a {
			counts[byte(a[i].p1>>sh)]++
		}
	}
	return counts[prefixByte(&a[0], d)] != len(a)
}

// scatter moves src into dst by byte d, stably, given its histogram.
func scatter(src, dst []sortEntry, d int, counts *[256]int) {
	var offs [256]int
	sum := 0
	for b, c := range counts {
		offs[b] = sum
		sum += c
	}
	dst = dst[:len(src)]
	if d < 8 {
		sh := 56 - 8*uint(d)
		for i := range src {
			b := byte(src[i].p0 >> sh)
			dst[offs[b]] = src[i]
			offs[b]++
		}
	} else {
		sh := 56 - 8*uint(d-8)
		for i := range src {
			b := byte(src[i].p1 >> sh)
			dst[offs[b]] = src[i]
			offs[b]++
		}
	}
}

// wideRadixMin is the input size from which a level sorts two bytes at
// once (65536 buckets): the fewer passes over a large input pay for the
// bigger histogram.
const wideRadixMin = 1 << 17

// scatterWide moves src into dst by prefix bytes d and d+1 (d+1 < 16),
// stably, and calls bucket(lo, hi) for each non-empty bucket [lo, hi).
// It reports false, doing nothing, when the two bytes take one value.
func scatterWide(src, dst []sortEntry, d int, bucket func(lo, hi int)) bool {
	counts := make([]int32, 1<<16)
	var sh uint
	var hi bool // the two bytes are in p1
	switch {
	case d < 7:
		sh = 48 - 8*uint(d)
	case d == 7:
		// Straddles p0 and p1: handled by the byte-wise levels.
		return false
	default:
		sh, hi = 48-8*uint(d-8), true
	}
	digit := func(e *sortEntry) uint16 {
		if hi {
			return uint16(e.p1 >> sh)
		}
		return uint16(e.p0 >> sh)
	}
	for i := range src {
		counts[digit(&src[i])]++
	}
	if int(counts[digit(&src[0])]) == len(src) {
		return false
	}
	offs := make([]int32, 1<<16)
	var sum int32
	for b, c := range counts {
		offs[b] = sum
		sum += c
	}
	dst = dst[:len(src)]
	for i := range src {
		b := digit(&src[i])
		dst[offs[b]] = src[i]
		offs[b]++
	}
	start := 0
	for _, c := range counts {
		if c > 0 {
			bucket(start, start+int(c))
		}
		start += int(c)
	}
	return true
}

// insertionSortPrefix sorts a small slice by prefix, stably.
func insertionSortPrefix(a []sortEntry) {
	for i := 1; i < len(a); i++ {
		e := a[i]
		j := i
		for j > 0 && (a[j-1].p0 > e.p0 || a[j-1].p0 == e.p0 && a[j-1].p1 > e.p1) {
			a[j] = a[j-1]
			j--
		}
		a[j] = e
	}
}

// sortKeyBlocks returns an entry per row of blocks (batch = block index),
// sorted by key with ties in (block, row) order, and the order that
// compares them.
func sortKeyBlocks(blocks []*keyBlock) ([]sortEntry, keyOrder) {
	var st keyStats
	n := 0
	for _, blk := range blocks {
		st.addBlock(blk)
		n += len(blk.offs) - 1
	}
	o := newKeyOrder(&st).withBlocks(blocks)
	entries := make([]sortEntry, 0, n)
	for b, blk := range blocks {
		entries = o.fill(entries, blk, uint32(b))
	}
	o.sort(entries)
	return entries, o
}
