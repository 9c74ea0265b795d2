package join

import (
	"context"
	"fmt"

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
	data *collected
	// The key index: packer with rank or packed for integer-like keys,
	// table for the others.
	packer *intPacker
	rank   *rankIndex
	packed *packedTable
	table  *probeTable
	// keyCols are the build key columns the table compares with that are
	// not build columns themselves (computed keys).
	keyCols []arrow.Array
	// groupStart and groupRows list the rows of group g as
	// groupRows[groupStart[g]:groupStart[g+1]]. groupRows is nil when
	// the rows of each group are consecutive and the groups in row order
	// (rows groupStart[g] to groupStart[g+1]-1). groupStart is nil when
	// every group has one row: row groupRows[g], or row g when groupRows is
	// nil too (the identity, a join on a unique key in key order or
	// numbered by first appearance). Neither is built for semi, anti and
	// mark joins without a residual, which only test membership.
	groupStart []int32
	groupRows  []int32
	// all is set for a nested loop join: one group holds every build row
	// (and table is nil).
	all bool
	// hasNullKey is whether some build row has a NULL in a key column.
	hasNullKey bool
	// rowGroups is the group of every row (-1 for a NULL key), kept when
	// keepGroups is set before indexing (the left-first strategy, which
	// indexes the probe side).
	rowGroups  []int32
	keepGroups bool
	// ngroups is the number of groups (distinct keys, NULL ones included
	// for the hashed index).
	ngroups int
	// nullRows lists the build rows with a NULL in a key column, for the
	// NULL rules of mark and null-aware anti joins with a condition
	// beyond one key (core.nullCond); nil otherwise.
	nullRows []int32
	res      *exec.Reservation
	alloc    memory.Allocator
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
	switch {
	case b.all:
		return k
	case b.groupStart == nil && b.groupRows == nil:
		return g
	case b.groupStart == nil:
		return b.groupRows[g]
	case b.groupRows == nil:
		return b.groupStart[g] + k
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
	b.table, b.rank, b.packed, b.packer = nil, nil, nil, nil
	b.groupStart, b.groupRows, b.nullRows, b.rowGroups = nil, nil, nil, nil
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
	packed []uint64 // packed integer keys
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
	if p := build.packer; p != nil {
		n := len(groups)
		kp.nulls = grow(kp.nulls, n)
		kp.packed = grow(kp.packed, n)
		anyNull := p.pack(kp.arrays, kp.packed, kp.nulls)
		if build.rank != nil {
			build.rank.find(kp.packed, groups)
		} else {
			build.packed.find(kp.packed, p.domain, groups)
		}
		return anyNull, nil
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

// buildConsumer names the build side in the memory pool.
func (j *core) buildConsumer() string {
	return fmt.Sprintf("%s build side (%s join)", j.name(), j.jt)
}

// readBuildPart reads partition p of the right input, evaluating the
// right keys of every batch.
func (j *core) readBuildPart(ctx context.Context, p int, tc *exec.TaskContext) (*partPieces, error) {
	var kp *keyProbe
	if !j.nested {
		evals, err := compileAll(j.rightKeys, j.right.Schema(), tc.Alloc)
		if err != nil {
			return nil, fmt.Errorf("%s build keys: %w", j.name(), err)
		}
		kp = &keyProbe{evals: evals}
	}
	return readPart(ctx, j.right, p, tc, j.buildConsumer(), kp)
}

// finishBuild concatenates the partitions read (in order) and indexes
// them by the right keys. It releases the partitions.
func (j *core) finishBuild(parts []*partPieces, tc *exec.TaskContext) (*hashBuild, error) {
	defer func() {
		for _, pp := range parts {
			pp.release()
		}
	}()
	b := &hashBuild{res: tc.Mem.NewReservation(j.buildConsumer()), alloc: tc.Alloc}
	data, err := mergeParts(parts, j.right.Schema(), tc, b.res)
	if err != nil {
		b.res.Free()
		return nil, err
	}
	b.data = data
	if j.nested {
		b.all = true
		return b, nil
	}
	if err := b.indexData(parts, j.keyTypes, j.rightKeys, j.needRows(), j.nullCond != nil); err != nil {
		return nil, err
	}
	return b, nil
}

// indexParts concatenates the partitions read (in order) into b and
// indexes them by keys (see indexKeys). It releases the partitions, and b
// on failure.
func (b *hashBuild) indexParts(parts []*partPieces, schema *arrow.Schema, types []arrow.DataType, keys []logical.Expr,
	needRows, keepNullRows bool, tc *exec.TaskContext) error {
	defer func() {
		for _, pp := range parts {
			pp.release()
		}
	}()
	data, err := mergeParts(parts, schema, tc, b.res)
	if err != nil {
		b.res.Free()
		return err
	}
	b.data = data
	return b.indexData(parts, types, keys, needRows, keepNullRows)
}

// indexData indexes b's data by the key columns the partitions hold; it
// frees b on failure.
func (b *hashBuild) indexData(parts []*partPieces, types []arrow.DataType, keys []logical.Expr, needRows, keepNullRows bool) error {
	var keyBatches [][]arrow.Array
	for _, pp := range parts {
		keyBatches = append(keyBatches, pp.keys...)
	}
	if err := b.indexKeys(types, keys, &keyProbe{}, keyBatches, needRows, keepNullRows); err != nil {
		b.free()
		return err
	}
	return nil
}

// needRows reports whether the join reads the build rows of a key, not
// just whether the key is present: every join but semi, anti and mark
// joins without a residual.
func (j *core) needRows() bool {
	switch j.jt {
	case logical.JoinSemi, logical.JoinAnti, logical.JoinMark:
		return j.resid != nil
	}
	return true
}

// indexKeys builds the key index from the key columns of the build
// batches and, when needRows is set, the row lists of every group; when
// keepNullRows is set, the rows with a NULL key (nullRows).
func (b *hashBuild) indexKeys(types []arrow.DataType, rightKeys []logical.Expr, kp *keyProbe,
	keyBatches [][]arrow.Array, needRows, keepNullRows bool) error {
	n := b.data.n
	if err := b.res.Grow(int64(n) * 4); err != nil {
		return err
	}
	defer b.res.Shrink(int64(n) * 4)
	groups := make([]int32, n)
	if b.keepGroups {
		if err := b.res.Grow(int64(n) * 4); err != nil {
			return err
		}
		b.rowGroups = groups
	}
	if forceIndex != indexHashed {
		if p, ok := newIntPacker(types, keyBatches); ok {
			ng, err := b.indexPacked(p, keyBatches, groups)
			if err != nil {
				return err
			}
			b.ngroups = ng
			if err := b.collectNullRows(groups, keepNullRows); err != nil {
				return err
			}
			if needRows {
				return b.index(groups, ng)
			}
			return nil
		}
	}
	table, nullGroups, err := assignGroups(types, kp, keyBatches, groups, b.res.Grow)
	if err != nil {
		return err
	}
	b.hasNullKey = nullGroups != nil
	if err := b.collectNullRows(groups, keepNullRows); err != nil {
		return err
	}
	// The hashkey table only numbers the keys; the probe table replaces it.
	defer b.res.Shrink(table.MemSize())
	ng := table.Len()
	b.ngroups = ng
	if needRows {
		if err := b.index(groups, ng); err != nil {
			return err
		}
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
	// rep[g] is a build row of group g (its key is compared on a tag
	// match); nil when it is row g.
	var rep []int32
	switch {
	case !needRows:
		rep = firstRows(groups, ng)
	case b.groupStart != nil:
		rep = make([]int32, ng)
		for g := range int32(ng) {
			if b.groupSize(g) > 0 {
				rep[g] = b.groupRow(g, 0)
			}
		}
	}
	if rep != nil {
		if err := b.res.Grow(int64(cap(rep)) * 4); err != nil {
			return err
		}
	} else {
		rep = b.groupRows // one row per group, accounted with the groups
	}
	pt := newProbeTable(table.Hashes(), nullGroups, keyCols, rep)
	if err := b.res.Grow(pt.memSize()); err != nil {
		return err
	}
	b.table = pt
	return nil
}

// collectNullRows sets nullRows to the rows whose group is -1 (a NULL
// key), when keep is set and there are any.
func (b *hashBuild) collectNullRows(groups []int32, keep bool) error {
	if !keep || !b.hasNullKey {
		return nil
	}
	var rows []int32
	for r, g := range groups {
		if g < 0 {
			rows = append(rows, int32(r))
		}
	}
	if err := b.res.Grow(int64(cap(rows)) * 4); err != nil {
		return err
	}
	b.nullRows = rows
	return nil
}

// firstRows returns the first row of each group, or nil when that is row g
// for every group g.
func firstRows(groups []int32, ng int) []int32 {
	rep := make([]int32, ng)
	for g := range rep {
		rep[g] = -1
	}
	for r, g := range groups {
		if g >= 0 && rep[g] < 0 {
			rep[g] = int32(r)
		}
	}
	identity := true
	for g, r := range rep {
		if r < 0 {
			rep[g] = 0 // a group of NULL keys: never probed
		}
		identity = identity && r == int32(g)
	}
	if identity {
		return nil
	}
	return rep
}

// indexPacked indexes integer-like keys with p: it packs the build keys,
// builds the rank index or the packed table and writes every row's group
// (-1 for NULL keys) into groups. It returns the number of groups.
func (b *hashBuild) indexPacked(p *intPacker, keyBatches [][]arrow.Array, groups []int32) (int, error) {
	n := b.data.n
	if err := b.res.Grow(int64(n) * 8); err != nil {
		return 0, err
	}
	defer b.res.Shrink(int64(n) * 8)
	packed := make([]uint64, n)
	var nulls []bool
	off := 0
	for _, ks := range keyBatches {
		m := ks[0].Len()
		nulls = grow(nulls, m)
		if p.pack(ks, packed[off:off+m], nulls) {
			b.hasNullKey = true
		}
		off += m
	}
	keys := n // non-NULL keys
	if b.hasNullKey {
		keys = 0
		for _, k := range packed {
			if k != p.domain {
				keys++
			}
		}
	}
	b.packer = p
	useRank := p.domain <= rankDomainLimit(keys)
	switch forceIndex {
	case indexRank:
		useRank = p.domain <= 1<<24
	case indexPacked:
		useRank = false
	}
	if useRank {
		if err := b.res.Grow(rankIndexBytes(p.domain)); err != nil {
			return 0, err
		}
		x := newRankIndex(p.domain)
		x.add(packed)
		x.seal()
		x.find(packed, groups)
		b.rank = x
		return x.n, nil
	}
	if err := b.res.Grow(packedTableBytes(keys)); err != nil {
		return 0, err
	}
	t := newPackedTable(keys)
	t.insert(packed, p.domain, groups)
	b.packed = t
	return t.n, nil
}

// index lays out the rows of each group (see hashBuild.groupStart).
func (b *hashBuild) index(groups []int32, ng int) error {
	n := b.data.n
	identity, sorted := true, true
	prev := int32(-1)
	for r, g := range groups {
		if g != int32(r) {
			identity = false
		}
		if g < prev {
			sorted = false
			break
		}
		prev = g
	}
	if identity && ng == n && !b.hasNullKey {
		return nil
	}
	// Rows with a NULL key (group -1) belong to no group; the groups of
	// NULL keys (hashed index) have no rows.
	if err := b.res.Grow(int64(ng+1) * 4); err != nil {
		return err
	}
	start := make([]int32, ng+1)
	nonNull := 0
	for _, g := range groups {
		if g >= 0 {
			start[g+1]++
			nonNull++
		}
	}
	unique := true
	for _, c := range start[1:] {
		if c != 1 {
			unique = false
			break
		}
	}
	if unique {
		// One row per group: a permutation.
		clear(start)
		rows := start[:ng]
		for r, g := range groups {
			if g >= 0 {
				rows[g] = int32(r)
			}
		}
		b.groupRows = rows
		return nil
	}
	for g := 1; g <= ng; g++ {
		start[g] += start[g-1]
	}
	b.groupStart = start
	if sorted && nonNull == n {
		// Group g is rows start[g] to start[g+1]-1.
		return nil
	}
	if err := b.res.Grow(int64(ng+n) * 4); err != nil {
		return err
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
	b.groupRows = rows
	// The row lists stay; the fill cursors go.
	b.res.Shrink(int64(ng) * 4)
	return nil
}
