package exec

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
)

// Sort orders all rows of its input into one partition. Every input
// partition is consumed concurrently into a run of rows with encoded keys
// (sortkey.go); the runs are then radix-sorted concurrently on key
// prefixes projected the same way for all runs (sortorder.go) and merged
// through a loser tree. Rows with equal keys keep their input order
// (partitions taken in order). With fetch >= 0 only the first fetch rows
// are produced, and each input partition keeps just its best fetch rows
// in a bounded heap (top-k).
//
// Buffered batches are reserved in the task's memory pool. When a
// reservation fails, the partition's buffered rows are sorted and written
// as a run to an Arrow IPC file under the task's spill directory; the
// merge reads the runs back and the files are removed when the stream
// closes.
type Sort struct {
	input Node
	keys  []logical.SortKey
	fetch int64
}

var _ Node = (*Sort)(nil)

// NewSort builds a sort of input by keys; fetch >= 0 keeps only the first
// fetch rows.
func NewSort(input Node, keys []logical.SortKey, fetch int64) (Node, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("sort: no sort keys")
	}
	if _, err := compileSortKeys(keys, input.Schema(), memory.DefaultAllocator); err != nil {
		return nil, err
	}
	return &Sort{input: input, keys: keys, fetch: fetch}, nil
}

// sortKeys is a compiled list of sort keys.
type sortKeys struct {
	evs []expr.Evaluator
	enc *keyEncoder
}

func compileSortKeys(keys []logical.SortKey, schema *arrow.Schema, alloc memory.Allocator) (*sortKeys, error) {
	evs := make([]expr.Evaluator, len(keys))
	types := make([]arrow.DataType, len(keys))
	dirs := make([]sortDir, len(keys))
	for i, k := range keys {
		ev, err := expr.Compile(k.Expr, schema, alloc)
		if err != nil {
			return nil, fmt.Errorf("sort key %s: %w", k, err)
		}
		evs[i], types[i] = ev, ev.Type()
		dirs[i] = sortDir{desc: k.Descending, nullsFirst: k.NullsFirst}
	}
	enc, err := newKeyEncoder(types, dirs)
	if err != nil {
		return nil, fmt.Errorf("sort: %w", err)
	}
	return &sortKeys{evs: evs, enc: enc}, nil
}

// encodeBatch evaluates the keys over b and encodes them into blk.
func (k *sortKeys) encodeBatch(ctx context.Context, alloc memory.Allocator, b arrow.RecordBatch, blk *keyBlock) error {
	cols := make([]arrow.Array, len(k.evs))
	defer releaseAll(cols)
	for i, ev := range k.evs {
		a, err := ev.Eval(ctx, b)
		if err != nil {
			return err
		}
		cols[i] = a
	}
	return k.enc.encode(alloc, cols, int(b.NumRows()), blk)
}

// Schema implements Node.
func (s *Sort) Schema() *arrow.Schema { return s.input.Schema() }

// Children implements Node.
func (s *Sort) Children() []Node { return []Node{s.input} }

// Partitions implements Node.
func (s *Sort) Partitions() int { return 1 }

// String implements Node.
func (s *Sort) String() string {
	parts := make([]string, len(s.keys))
	for i, k := range s.keys {
		parts[i] = k.String()
	}
	out := "Sort: " + strings.Join(parts, ", ")
	if s.fetch >= 0 {
		out += fmt.Sprintf(" fetch=%d", s.fetch)
	}
	return out
}

// WithNewChildren implements ChildReplacer.
func (s *Sort) WithNewChildren(c []Node) (Node, error) {
	if err := expectChildren(s, c, 1); err != nil {
		return nil, err
	}
	return NewSort(c[0], s.keys, s.fetch)
}

// Execute implements Node. The input partitions start on the first Next.
func (s *Sort) Execute(ctx context.Context, p int, tc *TaskContext) (Stream, error) {
	if err := checkPartition(s, p); err != nil {
		return nil, err
	}
	return &sortStream{node: s, tc: tc, alloc: allocator(tc), om: metricsFor(tc, s)}, nil
}

// sortedRun is one sequence of rows: in memory (entries over batches and
// their key blocks, sorted once every run's keys are known) or sorted in a
// spill file.
type sortedRun struct {
	entries []sortEntry // nil until sorted, except for top-k runs
	batches []arrow.RecordBatch
	blocks  []*keyBlock
	rows    int
	stats   keyStats // of the run's keys, for the common key order
	file    string
}

func (r *sortedRun) release() {
	releaseAll(r.batches)
	r.batches, r.blocks, r.entries = nil, nil, nil
}

// entryBytes is the memory sorting takes per buffered row: its entry and
// the radix sort's scratch copy.
const entryBytes = 2 * int64(unsafe.Sizeof(sortEntry{}))

type sortStream struct {
	node  *Sort
	tc    *TaskContext
	alloc memory.Allocator
	om    *OperatorMetrics

	started bool
	done    bool
	runs    []*sortedRun
	order   keyOrder // over every run's keys
	filesMu sync.Mutex
	files   []string       // every spill file created, removed at Close
	res     []*Reservation // per input partition
	memUsed atomic.Int64   // sum of the reservations, for the peak metric
	merge   *merger
	out     arrow.RecordBatch
}

func (s *sortStream) Schema() *arrow.Schema { return s.node.Schema() }

func (s *sortStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	if s.done {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, canceled(ctx)
	}
	if !s.started {
		s.started = true
		if s.node.fetch == 0 {
			s.done = true
			return nil, io.EOF
		}
		if err := s.sortPartitions(ctx); err != nil {
			s.done = true
			return nil, err
		}
		m, err := newMerger(s, s.runs, s.order)
		if err != nil {
			s.done = true
			return nil, err
		}
		s.merge = m
	}
	b, err := s.merge.next(batchSize(s.tc))
	if err != nil {
		s.done = true
		return nil, err
	}
	if b == nil {
		s.done = true
		return nil, io.EOF
	}
	s.out = b
	return b, nil
}

// sortPartitions consumes every input partition into runs, concurrently,
// then sorts the in-memory runs by one key order common to all runs (so
// the merge compares the runs' entry prefixes directly).
func (s *sortStream) sortPartitions(ctx context.Context) error {
	n := s.node.input.Partitions()
	results := make([][]*sortedRun, n)
	s.res = make([]*Reservation, n)
	for p := range n {
		s.res[p] = s.tc.Mem.NewSpillableReservation(fmt.Sprintf("%s[partition %d]", s.node.String(), p))
	}
	run := func(ctx context.Context, p int) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = recovered(fmt.Sprintf("sort of input partition %d", p), r)
			}
		}()
		runs, err := s.sortPartition(ctx, p)
		results[p] = runs
		return err
	}
	err := forEach(ctx, n, run)
	for _, rs := range results {
		s.runs = append(s.runs, rs...)
	}
	if err != nil {
		return err
	}
	var st keyStats
	var mem []*sortedRun
	for _, r := range s.runs {
		st.merge(&r.stats)
		if r.file == "" {
			mem = append(mem, r)
		}
	}
	s.order = newKeyOrder(&st)
	return forEach(ctx, len(mem), func(_ context.Context, i int) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = recovered("sort of a run", r)
			}
		}()
		r := mem[i]
		o := s.order.withBlocks(r.blocks)
		if r.entries == nil {
			r.entries = make([]sortEntry, 0, r.rows)
			for b, blk := range r.blocks {
				r.entries = o.fill(r.entries, blk, uint32(b))
			}
		} else {
			o.reproject(r.entries)
		}
		o.sort(r.entries)
		return nil
	})
}

// forEach runs f(i) for i in [0, n), concurrently when n > 1.
func forEach(ctx context.Context, n int, f func(context.Context, int) error) error {
	if n == 1 {
		return f(ctx, 0)
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := range n {
		g.Go(func() error { return f(gctx, i) })
	}
	return g.Wait()
}

func (s *sortStream) grow(p int, n int64) error {
	if err := s.res[p].Grow(n); err != nil {
		return err
	}
	if s.om != nil {
		s.om.RecordPeak(s.memUsed.Add(n))
	} else {
		s.memUsed.Add(n)
	}
	return nil
}

func (s *sortStream) shrink(p int, n int64) {
	s.res[p].Shrink(n)
	s.memUsed.Add(-n)
}

// sortPartition consumes input partition p and returns its runs: spilled
// ones, then the rows still in memory (unsorted).
func (s *sortStream) sortPartition(ctx context.Context, p int) ([]*sortedRun, error) {
	keys, err := compileSortKeys(s.node.keys, s.node.input.Schema(), s.alloc)
	if err != nil {
		return nil, err
	}
	in, err := s.node.input.Execute(ctx, p, s.tc)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	if s.node.fetch > 0 {
		return s.topK(ctx, p, in, keys)
	}
	var runs []*sortedRun
	cur := &sortedRun{}
	var held int64
	// Partitions share the pool: each spills once it holds its share, so
	// one partition cannot starve the others.
	var budget int64
	if lim := s.tc.Mem.Limit(); lim > 0 {
		budget = lim / int64(max(1, s.node.input.Partitions()))
	}
	fail := func(err error) ([]*sortedRun, error) {
		cur.release()
		return runs, err
	}
	for {
		b, err := in.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		if b.NumRows() == 0 {
			continue
		}
		blk := &keyBlock{}
		if err := keys.encodeBatch(ctx, s.alloc, b, blk); err != nil {
			return fail(err)
		}
		size := batchBytes(b) + blk.bytes() + entryBytes*b.NumRows()
		err = nil
		if budget > 0 && held+size > budget && len(cur.batches) > 0 {
			// Over this partition's fair share of the limit: spill first.
			err = fmt.Errorf("%w: over the partition's share", ErrMemoryLimit)
		} else {
			err = s.grow(p, size)
		}
		if err != nil {
			if len(cur.batches) == 0 || !errors.Is(err, ErrMemoryLimit) {
				return fail(err)
			}
			// Spill what is buffered, then retry.
			spilled, serr := s.spill(cur)
			s.shrink(p, held)
			held = 0
			if serr != nil {
				return fail(serr)
			}
			runs = append(runs, spilled)
			cur = &sortedRun{}
			if err := s.grow(p, size); err != nil {
				return fail(fmt.Errorf("sort: one batch of %d bytes does not fit: %w", size, err))
			}
		}
		held += size
		b.Retain()
		cur.batches = append(cur.batches, b)
		cur.blocks = append(cur.blocks, blk)
		cur.rows += int(b.NumRows())
		cur.stats.addBlock(blk)
	}
	if cur.rows > 0 {
		runs = append(runs, cur)
	}
	return runs, nil
}

// spillSchema is the schema of a spill file: the data columns plus the
// encoded key.
func spillSchema(s *arrow.Schema) *arrow.Schema {
	fs := append(append([]arrow.Field(nil), s.Fields()...), arrow.Field{Name: "__sort_key", Type: arrow.BinaryTypes.Binary})
	return arrow.NewSchema(fs, nil)
}

// spill sorts run and writes it to a new file; run's batches are released.
func (s *sortStream) spill(run *sortedRun) (out *sortedRun, err error) {
	defer run.release()
	o := newKeyOrder(&run.stats).withBlocks(run.blocks)
	entries := make([]sortEntry, 0, run.rows)
	for b, blk := range run.blocks {
		entries = o.fill(entries, blk, uint32(b))
	}
	o.sort(entries)
	dir := s.tc.SpillDir
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "arbalest-sort-*.arrow")
	if err != nil {
		return nil, fmt.Errorf("sort: creating spill file: %w", err)
	}
	name := f.Name()
	s.filesMu.Lock()
	s.files = append(s.files, name) // removed at Close whatever happens
	s.filesMu.Unlock()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("sort: writing spill file: %w", cerr)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	schema := spillSchema(s.node.Schema())
	w := ipc.NewWriter(bw, ipc.WithSchema(schema), ipc.WithAllocator(s.alloc))
	bs := batchSize(s.tc)
	refs := make([]rowRef, 0, bs)
	for start := 0; start < len(entries); start += bs {
		end := min(start+bs, len(entries))
		refs = refs[:0]
		kb := array.NewBinaryBuilder(s.alloc, arrow.BinaryTypes.Binary)
		for _, e := range entries[start:end] {
			refs = append(refs, rowRef{Src: int32(e.batch), Row: int32(e.row)})
			kb.Append(o.key(e))
		}
		keyCol := kb.NewArray()
		kb.Release()
		data, err := interleaveBatches(s.alloc, s.node.Schema(), run.batches, refs)
		if err != nil {
			keyCol.Release()
			return nil, err
		}
		cols := append(append([]arrow.Array(nil), data.Columns()...), keyCol)
		rec := array.NewRecordBatch(schema, cols, int64(end-start))
		data.Release()
		keyCol.Release()
		err = w.Write(rec)
		rec.Release()
		if err != nil {
			return nil, fmt.Errorf("sort: writing spill file: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("sort: writing spill file: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("sort: writing spill file: %w", err)
	}
	if s.om != nil {
		s.om.Spills.Add(1)
	}
	return &sortedRun{file: name, rows: run.rows, stats: run.stats}, nil
}

// topK keeps the best fetch rows of input partition p in a bounded
// max-heap (worst row on top) and returns them as one run.
//
// Once the heap is full, a batch is first screened on the lead of its
// first key column (marker and leading value bytes, see selectByLead):
// rows whose lead exceeds that of the heap's worst key cannot qualify.
// Batches with no candidate are dropped without encoding their keys, and
// sparse candidates are gathered into a small batch before encoding.
func (s *sortStream) topK(ctx context.Context, p int, in Stream, keys *sortKeys) ([]*sortedRun, error) {
	k := int(s.node.fetch)
	t := &topKHeap{k: k, order: identityOrder(keys.enc)}
	defer t.release()
	var held int64
	defer func() { s.shrink(p, held) }()
	screen := keys.enc.leadBytes() > 0
	var sc leadScratch
	var sel []int32
	for {
		b, err := in.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		n := int(b.NumRows())
		if n == 0 {
			continue
		}
		batch := b
		if screen && len(t.heap) == k {
			a, err := keys.evs[0].Eval(ctx, b)
			if err != nil {
				return nil, err
			}
			if a.DataType().ID() == arrow.DICTIONARY {
				screen = false // leads need plain values
			} else {
				thr := keys.enc.leadOf(t.order.key(t.heap[0]))
				sel = keys.enc.selectByLead(a, thr, &sc, sel[:0])
				if len(sel) == 0 {
					a.Release()
					continue
				}
				if len(sel) <= n/2 {
					batch, err = takeBatch(s.alloc, s.node.Schema(), b, sel)
					if err != nil {
						a.Release()
						return nil, err
					}
				}
			}
			a.Release()
		}
		blk := &keyBlock{}
		err = keys.encodeBatch(ctx, s.alloc, batch, blk)
		retained := err == nil && t.offer(batch, blk)
		if batch != b {
			batch.Release()
		}
		if err != nil {
			return nil, err
		}
		if !retained {
			continue
		}
		// Compact once the retained batches hold many more rows than the
		// heap needs, so memory stays proportional to k.
		if t.retainedRows > 2*k+batchSize(s.tc) && len(t.batches) > 1 {
			if err := t.compact(s.alloc, s.node.Schema()); err != nil {
				return nil, err
			}
		}
		size := t.bytes()
		if err := s.grow(p, size-held); err != nil {
			return nil, fmt.Errorf("sort: top-%d rows: %w", k, err)
		}
		held = size
	}
	if len(t.heap) == 0 {
		return nil, nil
	}
	run := &sortedRun{entries: t.heap, batches: t.batches, blocks: t.blocks, rows: len(t.heap)}
	t.heap, t.batches, t.blocks = nil, nil, nil
	// Input order, so that the (stable) sort keeps it among equal keys.
	slices.SortFunc(run.entries, bySource)
	for _, e := range run.entries {
		run.stats.add(run.blocks[e.batch].key(e.row))
	}
	return []*sortedRun{run}, nil
}

// bySource orders entries by (batch, row).
func bySource(a, b sortEntry) int {
	if a.batch != b.batch {
		return cmp.Compare(a.batch, b.batch)
	}
	return cmp.Compare(a.row, b.row)
}

// topKHeap is a max-heap of the k best rows seen so far, ordered by key
// prefix (the first 16 key bytes), then the rest of the key, then input
// position.
type topKHeap struct {
	k            int
	order        keyOrder
	heap         []sortEntry
	batches      []arrow.RecordBatch
	blocks       []*keyBlock
	retainedRows int
}

// offer adds the qualifying rows of b (borrowed) and reports whether b
// was retained.
func (t *topKHeap) offer(b arrow.RecordBatch, blk *keyBlock) bool {
	id := uint32(len(t.batches))
	t.blocks = append(t.blocks, blk)
	t.order.blocks = t.blocks
	used := false
	n := int(b.NumRows())
	for i := range n {
		e := t.order.entry(blk.key(uint32(i)), id, uint32(i))
		if len(t.heap) < t.k {
			t.heap = append(t.heap, e)
			t.up(len(t.heap) - 1)
			used = true
		} else if t.order.compare(e, t.heap[0]) < 0 {
			t.heap[0] = e
			t.down(0)
			used = true
		}
	}
	if !used {
		t.blocks = t.blocks[:id]
		t.order.blocks = t.blocks
		return false
	}
	b.Retain()
	t.batches = append(t.batches, b)
	t.retainedRows += n
	return true
}

func (t *topKHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if t.order.compare(t.heap[i], t.heap[parent]) <= 0 {
			return
		}
		t.heap[i], t.heap[parent] = t.heap[parent], t.heap[i]
		i = parent
	}
}

func (t *topKHeap) down(i int) {
	n := len(t.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		big := l
		if r := l + 1; r < n && t.order.compare(t.heap[r], t.heap[l]) > 0 {
			big = r
		}
		if t.order.compare(t.heap[big], t.heap[i]) <= 0 {
			return
		}
		t.heap[i], t.heap[big] = t.heap[big], t.heap[i]
		i = big
	}
}

// compact gathers the heap's rows into one batch and key block and
// releases the batches they came from. Rows are renumbered in their
// (batch, row) order, which keeps tie-breaking unchanged, and the heap is
// rebuilt.
func (t *topKHeap) compact(alloc memory.Allocator, schema *arrow.Schema) error {
	slices.SortFunc(t.heap, bySource)
	refs := make([]rowRef, len(t.heap))
	blk := &keyBlock{offs: make([]int32, 1, len(t.heap)+1)}
	for i, e := range t.heap {
		refs[i] = rowRef{Src: int32(e.batch), Row: int32(e.row)}
		blk.data = append(blk.data, t.blocks[e.batch].key(e.row)...)
		blk.offs = append(blk.offs, int32(len(blk.data)))
		t.heap[i] = sortEntry{p0: e.p0, p1: e.p1, batch: 0, row: uint32(i)}
	}
	b, err := interleaveBatches(alloc, schema, t.batches, refs)
	if err != nil {
		return err
	}
	releaseAll(t.batches)
	t.batches = []arrow.RecordBatch{b}
	t.blocks = []*keyBlock{blk}
	t.order.blocks = t.blocks
	t.retainedRows = int(b.NumRows())
	for i := len(t.heap)/2 - 1; i >= 0; i-- {
		t.down(i)
	}
	return nil
}

func (t *topKHeap) bytes() int64 {
	var n int64
	for i, b := range t.batches {
		n += batchBytes(b) + t.blocks[i].bytes()
	}
	return n + int64(cap(t.heap))*int64(unsafe.Sizeof(sortEntry{}))
}

func (t *topKHeap) release() {
	releaseAll(t.batches)
	t.batches, t.blocks, t.heap = nil, nil, nil
}

func (s *sortStream) Close() error {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	s.done = true
	var err error
	if s.merge != nil {
		err = s.merge.close()
		s.merge = nil
	}
	for _, r := range s.runs {
		r.release()
	}
	s.runs = nil
	for _, f := range s.files {
		if rerr := os.Remove(f); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = fmt.Errorf("sort: removing spill file: %w", rerr)
		}
	}
	s.files = nil
	for _, r := range s.res {
		s.memUsed.Add(-r.Size())
		r.Free()
	}
	return err
}
