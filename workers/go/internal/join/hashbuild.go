package join

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
	"github.com/arbalest/arbalest/workers/go/internal/hashkey"
)

// hashBuild is the indexed build side of a hash join: the build input's
// columns concatenated, a hash table of its distinct non-NULL keys, and for
// every key (group) the build rows that carry it.
type hashBuild struct {
	data  *collected
	table *probeTable
	// direct replaces table for a single integer key of a narrow range.
	direct *directIndex
	// keyCols are the build key columns the table compares with that are
	// not build columns themselves (computed keys).
	keyCols []arrow.Array
	// groupStart and groupRows list the rows of group g as
	// groupRows[groupStart[g]:groupStart[g+1]]. Both are nil when the
	// grouping is the identity (every build row has its own key and group g
	// is row g), the common case of a join on a unique key.
	groupStart []int32
	groupRows  []int32
	// all is set for a nested loop join: one group holds every build row
	// (and table is nil).
	all bool
	// hasNullKey is whether some build row has a NULL in a key column.
	hasNullKey bool
	res        *exec.Reservation
	alloc      memory.Allocator
}

// rows is the number of build rows.
func (b *hashBuild) rows() int { return b.data.n }

// groupSize is the number of build rows with key g.
func (b *hashBuild) groupSize(g int32) int32 {
	if b.all {
		return int32(b.data.n)
	}
	if b.groupStart == nil {
		return 1
	}
	return b.groupStart[g+1] - b.groupStart[g]
}

// groupRow is the k-th build row with key g.
func (b *hashBuild) groupRow(g, k int32) int32 {
	if b.all {
		return k
	}
	if b.groupStart == nil {
		return g
	}
	return b.groupRows[b.groupStart[g]+k]
}

func (b *hashBuild) free() {
	if b == nil {
		return
	}
	if b.data != nil {
		b.data.release()
	}
	for _, a := range b.keyCols {
		a.Release()
	}
	b.keyCols = nil
	b.table, b.direct = nil, nil
	b.groupStart, b.groupRows = nil, nil
	b.res.Free()
}

// keyProbe evaluates the join keys of one side a batch at a time and
// looks them up in (or inserts them into) an index. Its buffers are reused
// from batch to batch.
type keyProbe struct {
	evals  []expr.Evaluator
	arrays []arrow.Array
	keys   hashkey.Keys
	hashes []uint64
	nulls  []bool
	uids   []uint32
	sc     probeScratch
}

// eval evaluates the key expressions over b into kp.arrays; the caller
// calls done to release them (or takes them over).
func (kp *keyProbe) eval(ctx context.Context, b arrow.RecordBatch) error {
	n := int(b.NumRows())
	kp.arrays = kp.arrays[:0]
	for _, ev := range kp.evals {
		a, err := ev.Eval(ctx, b)
		if err != nil {
			kp.done()
			return err
		}
		kp.arrays = append(kp.arrays, a)
		if a.Len() != n {
			kp.done()
			return fmt.Errorf("join key evaluated to %d rows for a batch of %d", a.Len(), n)
		}
	}
	return nil
}

// prepare readies keys, hashes and the NULL mask of arrays and reports
// whether some row has a NULL key.
func (kp *keyProbe) prepare(arrays []arrow.Array) (bool, error) {
	if err := kp.keys.Reset(arrays); err != nil {
		return false, err
	}
	n := kp.keys.Len()
	kp.hashes = grow(kp.hashes, n)
	kp.keys.Hash(kp.hashes)
	kp.nulls = grow(kp.nulls, n)
	return kp.keys.NullMask(kp.nulls), nil
}

func (kp *keyProbe) done() {
	for _, a := range kp.arrays {
		a.Release()
	}
	kp.arrays = kp.arrays[:0]
}

// find writes the group of each row of probe batch b into groups: -1 when
// its key is absent or has a NULL. When it reports a NULL key, kp.nulls
// holds the NULL mask.
func (kp *keyProbe) find(ctx context.Context, b arrow.RecordBatch, build *hashBuild, groups []int32) (bool, error) {
	if err := kp.eval(ctx, b); err != nil {
		return false, err
	}
	defer kp.done()
	if build.direct != nil {
		kp.nulls = grow(kp.nulls, len(groups))
		return build.direct.find(kp.arrays[0], groups, kp.nulls), nil
	}
	anyNull, err := kp.prepare(kp.arrays)
	if err != nil {
		return false, err
	}
	var nulls []bool
	if anyNull {
		nulls = kp.nulls
	}
	if err := build.table.find(kp.arrays, kp.hashes, nulls, groups, &kp.sc); err != nil {
		return false, err
	}
	return anyNull, nil
}

// grow returns s with length n, reallocating only when its capacity is
// short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// useDirect enables the direct index; tests turn it off to run the hash
// table on integer keys.
var useDirect = true

// buildHash collects the given partitions of the join's right input and
// indexes them by the right keys.
func (j *core) buildHash(ctx context.Context, parts []int, tc *exec.TaskContext) (*hashBuild, error) {
	consumer := fmt.Sprintf("%s build side (%s join)", j.name(), j.jt)
	b := &hashBuild{res: tc.Mem.NewReservation(consumer), alloc: tc.Alloc}
	if j.nested {
		b.all = true
		data, err := collect(ctx, j.right, parts, tc, b.res, nil)
		if err != nil {
			b.res.Free()
			return nil, err
		}
		b.data = data
		return b, nil
	}
	evals, err := compileAll(j.rightKeys, j.right.Schema(), tc.Alloc)
	if err != nil {
		return nil, fmt.Errorf("%s build keys: %w", j.name(), err)
	}
	kp := &keyProbe{evals: evals}
	// The key columns of every batch are kept until the index is built;
	// computed ones (not columns of the batch) are accounted.
	var keyBatches [][]arrow.Array
	var keyBytes int64
	releaseKeys := func() {
		for _, ks := range keyBatches {
			for _, a := range ks {
				a.Release()
			}
		}
		keyBatches = nil
		b.res.Shrink(keyBytes)
		keyBytes = 0
	}
	perBatch := func(batch arrow.RecordBatch, _ int) error {
		if err := kp.eval(ctx, batch); err != nil {
			return err
		}
		ks := slices.Clone(kp.arrays)
		kp.arrays = kp.arrays[:0]
		keyBatches = append(keyBatches, ks)
		var sz int64
		for _, a := range ks {
			if !slices.Contains(batch.Columns(), a) {
				sz += arrayBytes(a)
			}
		}
		if err := b.res.Grow(sz); err != nil {
			return err
		}
		keyBytes += sz
		return nil
	}
	data, err := collect(ctx, j.right, parts, tc, b.res, perBatch)
	if err != nil {
		releaseKeys()
		b.res.Free()
		return nil, err
	}
	b.data = data
	err = b.indexKeys(j.keyTypes, j.rightKeys, kp, keyBatches)
	releaseKeys()
	if err != nil {
		b.free()
		return nil, err
	}
	return b, nil
}

// indexKeys builds the key index (direct or hashed) and the row lists of
// every group from the key columns of the build batches.
func (b *hashBuild) indexKeys(types []arrow.DataType, rightKeys []logical.Expr, kp *keyProbe, keyBatches [][]arrow.Array) error {
	n := b.data.n
	if err := b.res.Grow(int64(n) * 4); err != nil {
		return err
	}
	defer b.res.Shrink(int64(n) * 4)
	groups := make([]int32, n)

	var direct *directIndex
	if _, _, ok := intKind(types[0]); ok && len(types) == 1 && useDirect {
		r := newKeyRange()
		for _, ks := range keyBatches {
			r.add(ks[0])
		}
		if span := r.span(); span <= directSpan(r.n) {
			if err := b.res.Grow(int64(span) * 4); err != nil {
				return err
			}
			direct = &directIndex{min: r.lo, slots: make([]int32, span)}
		}
	}
	off := 0
	if direct != nil {
		for _, ks := range keyBatches {
			m := ks[0].Len()
			b.hasNullKey = direct.insert(ks[0], groups[off:off+m]) || b.hasNullKey
			off += m
		}
		b.direct = direct
		return b.index(groups, direct.n)
	}
	table, nullGroups, err := assignGroups(types, kp, keyBatches, groups, b.res.Grow)
	if err != nil {
		return err
	}
	b.hasNullKey = nullGroups != nil
	// The hashkey table only numbers the keys; the probe table replaces it.
	defer b.res.Shrink(table.MemSize())
	if err := b.index(groups, table.Len()); err != nil {
		return err
	}
	keyCols := make([]arrow.Array, len(types))
	for c := range types {
		if ref, ok := rightKeys[c].(*logical.ColumnRef); ok {
			keyCols[c] = b.data.cols[ref.Index]
			continue
		}
		parts := make([]arrow.Array, len(keyBatches))
		var sz int64
		for i, ks := range keyBatches {
			parts[i] = ks[c]
			sz += arrayBytes(ks[c])
		}
		if err := b.res.Grow(sz); err != nil {
			return err
		}
		cat, err := array.Concatenate(parts, b.alloc)
		if err != nil {
			b.res.Shrink(sz)
			return fmt.Errorf("concatenating build key %d: %w", c, err)
		}
		keyCols[c] = cat
		b.keyCols = append(b.keyCols, cat)
	}
	var rep []int32
	if b.groupStart != nil {
		ng := table.Len()
		rep = make([]int32, ng)
		for g := range ng {
			if b.groupStart[g+1] > b.groupStart[g] {
				rep[g] = b.groupRows[b.groupStart[g]]
			}
		}
	}
	pt := newProbeTable(table.Hashes(), nullGroups, keyCols, rep)
	if err := b.res.Grow(pt.memSize()); err != nil {
		return err
	}
	b.table = pt
	return nil
}

// index lays out the rows of each group contiguously (a counting sort by
// group), unless every row is its own group in row order.
func (b *hashBuild) index(groups []int32, ng int) error {
	n := b.data.n
	identity := ng == n && !b.hasNullKey
	if identity {
		for r, g := range groups {
			if g != int32(r) {
				identity = false
				break
			}
		}
	}
	if identity {
		return nil
	}
	if err := b.res.Grow(int64(2*ng+1+n) * 4); err != nil {
		return err
	}
	start := make([]int32, ng+1)
	for _, g := range groups {
		if g >= 0 {
			start[g+1]++
		}
	}
	for g := 1; g <= ng; g++ {
		start[g] += start[g-1]
	}
	rows := make([]int32, start[ng])
	fill := make([]int32, ng)
	copy(fill, start[:ng])
	for r, g := range groups {
		if g >= 0 {
			rows[fill[g]] = int32(r)
			fill[g]++
		}
	}
	b.groupStart, b.groupRows = start, rows
	// The row lists stay; the fill cursors go.
	b.res.Shrink(int64(ng) * 4)
	return nil
}
