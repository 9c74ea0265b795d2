package join

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/arbalest/arbalest/workers/go/internal/hashkey"
)

// probeTable is the read-only index the probe partitions share: an
// open-addressing table (linear probing, load factor at most 1/2) from the
// hash of a non-NULL build key to its group. Each slot is one word: the
// upper 32 bits of the hash and group+1 (0 marks an empty slot). A tag
// match is confirmed by comparing the probe key with the build key of a
// row of the group, column by column, over whole batches. Probing keeps
// its scratch in the caller's probeScratch, so any number of streams may
// probe at once (hashkey.Table keeps scratch inside and may not).
type probeTable struct {
	slots []uint64
	mask  uint64
	// keys are the build key columns over all build rows; rep[g] is the
	// build row that represents group g (nil: row g).
	keys []arrow.Array
	rep  []int32
}

// newProbeTable lays out the groups whose hash is in hashes (index =
// group), leaving out the groups flagged in skip (NULL keys).
func newProbeTable(hashes []uint64, skip []bool, keys []arrow.Array, rep []int32) *probeTable {
	n := 0
	for g := range hashes {
		if skip == nil || !skip[g] {
			n++
		}
	}
	capacity := 64
	for capacity < 2*n {
		capacity *= 2
	}
	t := &probeTable{slots: make([]uint64, capacity), mask: uint64(capacity - 1), keys: keys, rep: rep}
	for g, h := range hashes {
		if skip != nil && skip[g] {
			continue
		}
		pos := h & t.mask
		for t.slots[pos] != 0 {
			pos = (pos + 1) & t.mask
		}
		t.slots[pos] = h&^0xffffffff | uint64(g+1)
	}
	return t
}

// memSize is the bytes of the slot array (the key columns and rep are
// accounted with the build data or separately).
func (t *probeTable) memSize() int64 { return int64(cap(t.slots)) * 8 }

// probeScratch holds one stream's buffers for probing.
type probeScratch struct {
	cand []int32  // probe rows whose slot tag matched
	pos  []uint64 // their slot positions
	grp  []int32  // the groups of those slots
	brow []int32  // representative build rows
	eq   []bool
}

// find sets groups[i] to the group of probe row i, or -1 when its key is
// absent or (nulls[i], when nulls is not nil) NULL. keys are the probe key
// columns, hashes their row hashes.
func (t *probeTable) find(keys []arrow.Array, hashes []uint64, nulls []bool, groups []int32, sc *probeScratch) error {
	if len(keys) != len(t.keys) {
		return fmt.Errorf("join probe has %d key columns, build has %d", len(keys), len(t.keys))
	}
	slots, mask := t.slots, t.mask
	cand, pos, grp := sc.cand[:0], sc.pos[:0], sc.grp[:0]
	for i, h := range hashes[:len(groups)] {
		if nulls != nil && nulls[i] {
			groups[i] = -1
			continue
		}
		tag := h &^ 0xffffffff
		p := h & mask
		for {
			s := slots[p]
			if s == 0 {
				groups[i] = -1
				break
			}
			if s&^0xffffffff == tag {
				cand = append(cand, int32(i))
				pos = append(pos, p)
				grp = append(grp, int32(uint32(s)-1))
				break
			}
			p = (p + 1) & mask
		}
	}
	for len(cand) > 0 {
		m := len(cand)
		brow, eq := grow(sc.brow, m), grow(sc.eq, m)
		if t.rep == nil {
			copy(brow, grp)
		} else {
			for j, g := range grp {
				brow[j] = t.rep[g]
			}
		}
		for j := range eq {
			eq[j] = true
		}
		for c, k := range keys {
			if err := equalRows(t.keys[c], k, brow, cand, eq); err != nil {
				return err
			}
		}
		// Confirmed rows are done; the others probe on past their slot.
		w := 0
		for j, i := range cand {
			if eq[j] {
				groups[i] = grp[j]
				continue
			}
			h := hashes[i]
			tag := h &^ 0xffffffff
			p := (pos[j] + 1) & mask
			for {
				s := slots[p]
				if s == 0 {
					groups[i] = -1
					break
				}
				if s&^0xffffffff == tag {
					cand[w], pos[w], grp[w] = i, p, int32(uint32(s)-1)
					w++
					break
				}
				p = (p + 1) & mask
			}
		}
		cand, pos, grp = cand[:w], pos[:w], grp[:w]
		sc.brow, sc.eq = brow, eq
	}
	sc.cand, sc.pos, sc.grp = cand, pos, grp
	return nil
}

// equalRows clears eq[j] unless row brow[j] of build equals row prow[j] of
// probe. Both columns have the same type and the rows compared are not
// NULL. Floats compare by value with all NaNs equal, as they hash.
func equalRows(build, probe arrow.Array, brow, prow []int32, eq []bool) error {
	switch build.DataType().ID() {
	case arrow.BOOL:
		bb, bo := build.Data().Buffers()[1].Bytes(), build.Data().Offset()
		pb, po := probe.Data().Buffers()[1].Bytes(), probe.Data().Offset()
		for j := range eq {
			eq[j] = eq[j] && bitutil.BitIsSet(bb, bo+int(brow[j])) == bitutil.BitIsSet(pb, po+int(prow[j]))
		}
	case arrow.FLOAT32:
		equalFloat(values[float32](build), values[float32](probe), brow, prow, eq)
	case arrow.FLOAT64:
		equalFloat(values[float64](build), values[float64](probe), brow, prow, eq)
	case arrow.STRING, arrow.BINARY:
		equalBytes[int32](build, probe, brow, prow, eq)
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		equalBytes[int64](build, probe, brow, prow, eq)
	case arrow.NULL:
		// Never reached: NULL keys do not probe.
	default:
		fw, ok := build.DataType().(arrow.FixedWidthDataType)
		if !ok {
			return fmt.Errorf("join keys of type %s are not supported", build.DataType())
		}
		switch fw.BitWidth() {
		case 8:
			equalFixed(values[uint8](build), values[uint8](probe), brow, prow, eq)
		case 16:
			equalFixed(values[uint16](build), values[uint16](probe), brow, prow, eq)
		case 32:
			equalFixed(values[uint32](build), values[uint32](probe), brow, prow, eq)
		case 64:
			equalFixed(values[uint64](build), values[uint64](probe), brow, prow, eq)
		case 128:
			equalFixed(values[[16]byte](build), values[[16]byte](probe), brow, prow, eq)
		case 256:
			equalFixed(values[[32]byte](build), values[[32]byte](probe), brow, prow, eq)
		default:
			return fmt.Errorf("join keys of type %s are not supported", build.DataType())
		}
	}
	return nil
}

// values views the fixed-width values of a.
func values[T any](a arrow.Array) []T {
	d := a.Data()
	return fixedSlice[T](d.Buffers()[1].Bytes())[d.Offset() : d.Offset()+d.Len()]
}

func equalFixed[T comparable](b, p []T, brow, prow []int32, eq []bool) {
	for j := range eq {
		eq[j] = eq[j] && b[brow[j]] == p[prow[j]]
	}
}

func equalFloat[T float32 | float64](b, p []T, brow, prow []int32, eq []bool) {
	for j := range eq {
		x, y := b[brow[j]], p[prow[j]]
		eq[j] = eq[j] && (x == y || (x != x && y != y))
	}
}

func equalBytes[O int32 | int64](build, probe arrow.Array, brow, prow []int32, eq []bool) {
	bd, pd := build.Data(), probe.Data()
	bo := fixedSlice[O](bd.Buffers()[1].Bytes())[bd.Offset():]
	po := fixedSlice[O](pd.Buffers()[1].Bytes())[pd.Offset():]
	var bv, pv []byte
	if b := bd.Buffers()[2]; b != nil {
		bv = b.Bytes()
	}
	if b := pd.Buffers()[2]; b != nil {
		pv = b.Bytes()
	}
	for j := range eq {
		if !eq[j] {
			continue
		}
		r, s := brow[j], prow[j]
		eq[j] = string(bv[bo[r]:bo[r+1]]) == string(pv[po[s]:po[s+1]])
	}
}

// assignGroups runs the build keys through a hashkey.Table (single
// threaded) to number the distinct keys; it returns the table and, per
// group, whether its key has a NULL.
func assignGroups(types []arrow.DataType, kp *keyProbe, keyBatches [][]arrow.Array, groups []int32,
	reserve func(int64) error) (*hashkey.Table, []bool, error) {
	table, err := hashkey.NewTable(types)
	if err != nil {
		return nil, nil, err
	}
	var nullGroups []bool
	var tableBytes int64
	off := 0
	for _, ks := range keyBatches {
		m := ks[0].Len()
		anyNull, err := kp.prepare(ks)
		if err != nil {
			return nil, nil, err
		}
		kp.uids = grow(kp.uids, m)
		if err := table.FindOrInsert(&kp.keys, kp.hashes, kp.uids); err != nil {
			return nil, nil, err
		}
		out := groups[off : off+m]
		for i, id := range kp.uids[:m] {
			out[i] = int32(id)
		}
		if anyNull {
			if len(nullGroups) < table.Len() {
				nullGroups = append(nullGroups, make([]bool, table.Len()-len(nullGroups))...)
			}
			for i, isNull := range kp.nulls[:m] {
				if isNull {
					nullGroups[out[i]] = true
					out[i] = -1
				}
			}
		}
		off += m
		if sz := table.MemSize(); sz > tableBytes {
			if err := reserve(sz - tableBytes); err != nil {
				return nil, nil, err
			}
			tableBytes = sz
		}
	}
	if nullGroups != nil && len(nullGroups) < table.Len() {
		nullGroups = append(nullGroups, make([]bool, table.Len()-len(nullGroups))...)
	}
	return table, nullGroups, nil
}
