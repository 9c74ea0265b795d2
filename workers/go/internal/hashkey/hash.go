// Package hashkey is the key machinery shared by the hash aggregate and the
// hash join: vectorised hashing of multi-column keys, a columnar store of
// distinct key rows (strings kept in one arena), and an open-addressing hash
// table that maps key rows to dense ids.
//
// Typical use, one batch at a time:
//
//	var keys hashkey.Keys
//	tbl, _ := hashkey.NewTable(keyTypes)
//	...
//	if err := keys.Reset(cols); err != nil { ... } // prepare the batch's key columns
//	keys.Hash(hashes)                              // one hash per row
//	tbl.FindOrInsert(&keys, hashes, ids)           // ids[i] = dense id of row i's key
//
// Hashes are deterministic (the same on every machine and process), so they
// may also be used to partition rows between processes. Equal values of
// different integer widths (int8..int64, date32, decimal64 with the same
// scale, ...) hash alike, and a NULL hashes to a fixed value. Floats hash
// by value with -0 equal to 0 and all NaNs equal.
package hashkey

import (
	"encoding/binary"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

const (
	// seed is the hash of a zero-column key; the first column is combined
	// into it.
	seed = 0x243f6a8885a308d3
	// nullWord is the value a NULL contributes to a row hash.
	nullWord = 0x9ae16a3b2f90404f
	kMul     = 0x9e3779b97f4a7c15

	p0 = 0xa0761d6478bd642f
	p1 = 0xe7037ed1a0b428db
	p2 = 0x8ebc6af09c88c6e3
	p3 = 0x589965cc75374cc3
)

// fmix64 is the MurmurHash3 finaliser: a bijection with full avalanche.
func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// combine folds the canonical value word v of one column into the running
// row hash h.
func combine(h, v uint64) uint64 { return fmix64(h*kMul ^ v) }

// mum multiplies two words to 128 bits and folds the halves.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// maxShort is the longest byte string held packed in two words.
const maxShort = 15

// packShort packs b (len(b) <= maxShort) into two words: the bytes little
// endian, and the length in the top byte of the second word.
func packShort(b []byte) (lo, hi uint64) {
	var buf [16]byte
	copy(buf[:], b)
	lo = binary.LittleEndian.Uint64(buf[:8])
	hi = binary.LittleEndian.Uint64(buf[8:]) | uint64(len(b))<<56
	return lo, hi
}

// hashShort is the hash of a packed short byte string.
func hashShort(lo, hi uint64) uint64 {
	return mum(lo^p1, hi^p2)
}

// HashBytes is the deterministic 64-bit hash of a byte string that string
// and binary key columns contribute to a row hash.
func HashBytes(b []byte) uint64 {
	if len(b) <= maxShort {
		return hashShort(packShort(b))
	}
	n := len(b)
	all := b
	h := uint64(n)*p0 ^ seed
	for len(b) > 16 {
		h = mum(binary.LittleEndian.Uint64(b)^p1, binary.LittleEndian.Uint64(b[8:])^h)
		b = b[16:]
	}
	// The last 16 bytes (overlapping what the loop consumed when fewer
	// remain).
	a := binary.LittleEndian.Uint64(all[n-16:])
	c := binary.LittleEndian.Uint64(all[n-8:])
	h = mum(a^p1, c^h^p2)
	return mum(h^p3, uint64(n)^p1)
}

// wideWord reduces a 128-bit value to one word so that a value that fits
// in 64 bits hashes like the same number in a narrower column.
func wideWord(lo, hi uint64) uint64 {
	if hi == uint64(int64(lo)>>63) {
		return lo
	}
	return fmix64(lo ^ hi*kMul)
}

// Hash computes one hash per row of cols into out (len(out) must be at least
// the row count; all columns must have the same length). Every Arrow type is
// accepted: the types listed in Supported take fast vectorised paths,
// dictionary arrays hash like their decoded values, and other types hash
// their text form.
func Hash(cols []arrow.Array, out []uint64) {
	if len(cols) == 0 {
		return
	}
	n := cols[0].Len()
	out = out[:n]
	for i := range out {
		out[i] = seed
	}
	var k keyCol
	for _, c := range cols {
		hashArray(c, out, &k)
	}
}

// hashArray folds one column into out, using scratch for preparation.
func hashArray(c arrow.Array, out []uint64, scratch *keyCol) {
	if d, ok := c.(*array.Dictionary); ok {
		hashDictionary(d, out)
		return
	}
	if err := scratch.prepare(c); err != nil {
		for i := range out {
			if c.IsNull(i) {
				out[i] = combine(out[i], nullWord)
			} else {
				out[i] = combine(out[i], HashBytes([]byte(c.ValueStr(i))))
			}
		}
		return
	}
	scratch.hashInto(out)
}

// hashDictionary folds a dictionary column in exactly like its decoded
// values: the per-value words are computed once per dictionary entry.
func hashDictionary(d *array.Dictionary, out []uint64) {
	dict := d.Dictionary()
	var k keyCol
	words := make([]uint64, dict.Len())
	valid := make([]bool, dict.Len())
	if err := k.prepare(dict); err == nil {
		for j := range words {
			valid[j] = k.nulls == nil || !k.nulls[j]
			words[j] = k.valueWord(j)
		}
	} else {
		for j := range words {
			valid[j] = dict.IsValid(j)
			if valid[j] {
				words[j] = HashBytes([]byte(dict.ValueStr(j)))
			}
		}
	}
	for i := range out {
		if d.IsNull(i) {
			out[i] = combine(out[i], nullWord)
			continue
		}
		j := d.GetValueIndex(i)
		if !valid[j] {
			out[i] = combine(out[i], nullWord)
		} else {
			out[i] = combine(out[i], words[j])
		}
	}
}

// hashInto folds the prepared column into out.
func (k *keyCol) hashInto(out []uint64) {
	switch k.kind {
	case kindNull:
		for i := range out {
			out[i] = combine(out[i], nullWord)
		}
	case kindWord:
		w := k.w[:len(out)]
		if k.nulls == nil {
			for i, v := range w {
				out[i] = combine(out[i], v)
			}
			return
		}
		nulls := k.nulls[:len(out)]
		for i, v := range w {
			if nulls[i] {
				v = nullWord
			}
			out[i] = combine(out[i], v)
		}
	case kindWide:
		w := k.w[:2*len(out)]
		for i := range out {
			v := wideWord(w[2*i], w[2*i+1])
			if k.nulls != nil && k.nulls[i] {
				v = nullWord
			}
			out[i] = combine(out[i], v)
		}
	case kindBytes:
		if k.packed {
			w := k.w[:2*len(out)]
			for i := range out {
				v := hashShort(w[2*i], w[2*i+1])
				if k.nulls != nil && k.nulls[i] {
					v = nullWord
				}
				out[i] = combine(out[i], v)
			}
			return
		}
		offs, data := k.offs32, k.data
		for i := range out {
			var v uint64
			if k.nulls != nil && k.nulls[i] {
				v = nullWord
			} else {
				v = HashBytes(data[offs[i]:offs[i+1]])
			}
			out[i] = combine(out[i], v)
		}
	case kindLargeBytes:
		offs, data := k.offs64, k.data
		for i := range out {
			var v uint64
			if k.nulls != nil && k.nulls[i] {
				v = nullWord
			} else {
				v = HashBytes(data[offs[i]:offs[i+1]])
			}
			out[i] = combine(out[i], v)
		}
	}
}

// valueWord is the word row i contributes to a hash (not for NULL rows).
func (k *keyCol) valueWord(i int) uint64 {
	switch k.kind {
	case kindWord:
		return k.w[i]
	case kindWide:
		return wideWord(k.w[2*i], k.w[2*i+1])
	case kindBytes:
		return HashBytes(k.data[k.offs32[i]:k.offs32[i+1]])
	case kindLargeBytes:
		return HashBytes(k.data[k.offs64[i]:k.offs64[i+1]])
	}
	return nullWord
}
