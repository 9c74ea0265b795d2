package aggregate

import (
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/workers/go/internal/hashkey"
)

// noGroup marks rows that a DISTINCT aggregate must not see (filtered out
// or NULL); they are deduplicated under this id and never reach a group.
const noGroup = math.MaxUint32

// distinctAcc implements agg(DISTINCT x): a hash set of (group, x) pairs
// lets only the first occurrence of each value per group reach the inner
// accumulator. Its partial state is one list<x> per group holding the
// distinct values seen; merging a list feeds its values through the same
// set, so the values of different partials are deduplicated again.
type distinctAcc struct {
	inner   accumulator
	argType arrow.DataType
	seen    *hashkey.Table
	ngroups int

	keys     hashkey.Keys
	hashes   []uint64
	ids      []uint32
	dgids    []uint32
	first    []int32
	mark     []bool
	entryGid []uint32 // group of each entry of seen

	// Entries ordered by group, built on the first state call.
	indexed int // seen.Len() when the index was built, -1 for none
	start   []int32
	order   []uint32
}

func newDistinctAcc(inner accumulator, argType arrow.DataType) (*distinctAcc, error) {
	seen, err := hashkey.NewTable([]arrow.DataType{arrow.PrimitiveTypes.Uint32, argType})
	if err != nil {
		return nil, err
	}
	return &distinctAcc{inner: inner, argType: argType, seen: seen, indexed: -1}, nil
}

func (a *distinctAcc) resize(n int) {
	a.inner.resize(n)
	a.ngroups = max(a.ngroups, n)
}

// uint32Array wraps vals (without copying) as an Arrow uint32 array; the
// slice must outlive the array's use.
func uint32Array(vals []uint32) arrow.Array {
	var b []byte
	if len(vals) > 0 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(vals))), 4*len(vals))
	}
	d := array.NewData(arrow.PrimitiveTypes.Uint32, len(vals), []*memory.Buffer{nil, memory.NewBufferBytes(b)}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

func (a *distinctAcc) update(arg arrow.Array, gids []uint32, sel []int32) error {
	n := len(gids)
	a.dgids = grow(a.dgids[:0], n)
	if sel == nil {
		copy(a.dgids, gids)
	} else {
		for i := range a.dgids {
			a.dgids[i] = noGroup
		}
		for _, i := range sel {
			a.dgids[i] = gids[i]
		}
	}
	ga := uint32Array(a.dgids)
	defer ga.Release()
	if err := a.keys.Reset([]arrow.Array{ga, arg}); err != nil {
		return err
	}
	a.hashes = grow(a.hashes[:0], n)
	a.ids = grow(a.ids[:0], n)
	a.keys.Hash(a.hashes)
	prev := a.seen.Len()
	if err := a.seen.FindOrInsert(&a.keys, a.hashes, a.ids); err != nil {
		return err
	}
	added := a.seen.Len() - prev
	a.mark = grow(a.mark[:0], added)
	clear(a.mark)
	a.entryGid = grow(a.entryGid, a.seen.Len())
	first := a.first[:0]
	if first == nil {
		first = make([]int32, 0, n)
	}
	for i, id := range a.ids[:n] {
		if int(id) < prev || a.mark[int(id)-prev] {
			continue
		}
		a.mark[int(id)-prev] = true
		a.entryGid[id] = a.dgids[i]
		if a.dgids[i] != noGroup {
			first = append(first, int32(i))
		}
	}
	a.first = first
	if len(first) == 0 {
		return nil
	}
	return a.inner.update(arg, gids, first)
}

func (a *distinctAcc) merge(states []arrow.Array, gids []uint32) error {
	list := states[0].(*array.List)
	offs := list.Offsets()
	n := list.Len()
	if n == 0 {
		return nil
	}
	lo, hi := int64(offs[0]), int64(offs[n])
	if lo == hi {
		return nil
	}
	vals := array.NewSlice(list.ListValues(), lo, hi)
	defer vals.Release()
	egids := make([]uint32, 0, hi-lo)
	for r := 0; r < n; r++ {
		g := gids[r]
		if list.IsNull(r) {
			g = noGroup // a NULL list holds no values, whatever its offsets span
		}
		for k := offs[r]; k < offs[r+1]; k++ {
			egids = append(egids, g)
		}
	}
	sel := validRows(vals, nil)
	if sel == nil {
		sel = make([]int32, 0, len(egids))
		for i, g := range egids {
			if g != noGroup {
				sel = append(sel, int32(i))
			}
		}
	} else {
		k := 0
		for _, i := range sel {
			if egids[i] != noGroup {
				sel[k] = i
				k++
			}
		}
		sel = sel[:k]
	}
	return a.update(vals, egids, sel)
}

func (a *distinctAcc) final(alloc memory.Allocator, ids []uint32) (arrow.Array, error) {
	return a.inner.final(alloc, ids)
}

// index orders the entries of seen by group (counting sort).
func (a *distinctAcc) index() {
	if a.indexed == a.seen.Len() {
		return
	}
	a.start = grow(a.start[:0], a.ngroups+1)
	clear(a.start)
	for _, g := range a.entryGid[:a.seen.Len()] {
		if g != noGroup {
			a.start[g+1]++
		}
	}
	for g := 1; g <= a.ngroups; g++ {
		a.start[g] += a.start[g-1]
	}
	a.order = grow(a.order[:0], int(a.start[a.ngroups]))
	fill := append([]int32(nil), a.start[:a.ngroups]...)
	for id, g := range a.entryGid[:a.seen.Len()] {
		if g != noGroup {
			a.order[fill[g]] = uint32(id)
			fill[g]++
		}
	}
	a.indexed = a.seen.Len()
}

func (a *distinctAcc) state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	a.index()
	offsets := newBuf(alloc, 4*(len(ids)+1))
	o := fixedValuesN[int32](offsets.Bytes(), 0, len(ids)+1)
	var take []uint32
	for j, g := range ids {
		o[j] = int32(len(take))
		take = append(take, a.order[a.start[g]:a.start[g+1]]...)
	}
	o[len(ids)] = int32(len(take))
	cols, err := a.seen.Take(alloc, take)
	if err != nil {
		offsets.Release()
		return nil, err
	}
	cols[0].Release()
	child := cols[1]
	defer child.Release()
	d := array.NewData(arrow.ListOf(a.argType), len(ids), []*memory.Buffer{nil, offsets}, []arrow.ArrayData{child.Data()}, 0, 0)
	offsets.Release()
	defer d.Release()
	return []arrow.Array{array.MakeFromData(d)}, nil
}

func (a *distinctAcc) size() int64 {
	return a.inner.size() + a.seen.MemSize() + int64(cap(a.entryGid))*4 + int64(cap(a.order)+cap(a.start))*4
}

func (a *distinctAcc) reset() {
	a.inner.reset()
	a.seen.Reset()
	a.entryGid, a.order, a.start = nil, nil, nil
	a.ngroups = 0
	a.indexed = -1
}
