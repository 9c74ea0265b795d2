package exec

import (
	"bufio"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// merger k-way merges sorted runs into output batches. Every row source
// (an in-memory batch, or the current batch of a spill file) has a slot;
// entries name their slot in the batch field. All entries carry prefixes
// of one key order, so most comparisons are two integer compares. The
// runs meet in a loser tree: each output row costs log2(runs) comparisons.
type merger struct {
	s       *sortStream
	recs    []arrow.RecordBatch
	blocks  []*keyBlock
	free    []uint32 // reusable slots
	retired []uint32 // slots to free once the current output batch is built
	cursors []*cursor
	order   keyOrder
	// tree is the loser tree over the cursors: tree[0] is the current
	// winner (smallest head), tree[i] for 0 < i < len(cursors) the loser
	// of the match at node i; leaf c sits at node c+len(cursors).
	tree    []int
	live    int   // cursors with rows left
	left    int64 // rows still to produce; < 0 unbounded
	refs    []rowRef
	slotMap []int32
	srcs    []arrow.RecordBatch
}

// cursor walks one run.
type cursor struct {
	entries []sortEntry
	pos     int
	done    bool
	// Spill runs read their file one batch at a time.
	file   *os.File
	reader *ipc.Reader
	slot   int32 // slot of the current spill batch, -1 none
}

func (c *cursor) head() sortEntry { return c.entries[c.pos] }

// newMerger takes ownership of the runs' batches; in-memory runs must be
// sorted under order, which also projects the spilled rows.
func newMerger(s *sortStream, runs []*sortedRun, order keyOrder) (*merger, error) {
	m := &merger{s: s, left: s.node.fetch, order: order}
	for _, r := range runs {
		if r.file != "" {
			c := &cursor{slot: -1}
			m.cursors = append(m.cursors, c)
			f, err := os.Open(r.file)
			if err != nil {
				m.close()
				return nil, fmt.Errorf("sort: opening spill file: %w", err)
			}
			c.file = f
			rd, err := ipc.NewReader(bufio.NewReaderSize(f, 1<<20), ipc.WithAllocator(s.alloc))
			if err != nil {
				m.close()
				return nil, fmt.Errorf("sort: reading spill file: %w", err)
			}
			c.reader = rd
			if err := m.loadChunk(c); err != nil {
				m.close()
				return nil, err
			}
			continue
		}
		base := uint32(len(m.recs))
		m.recs = append(m.recs, r.batches...)
		m.blocks = append(m.blocks, r.blocks...)
		for i := range r.entries {
			r.entries[i].batch += base
		}
		m.cursors = append(m.cursors, &cursor{entries: r.entries, slot: -1})
		r.batches, r.blocks, r.entries = nil, nil, nil
	}
	m.order.blocks = m.blocks
	for _, c := range m.cursors {
		c.done = c.pos >= len(c.entries)
		if !c.done {
			m.live++
		}
	}
	if k := len(m.cursors); k > 0 {
		m.tree = make([]int, k)
		m.tree[0] = m.build(1)
	}
	return m, nil
}

// build fills the matches of the subtree at node and returns its winner.
func (m *merger) build(node int) int {
	k := len(m.cursors)
	if node >= k {
		return node - k
	}
	a, b := m.build(2*node), m.build(2*node+1)
	if m.less(b, a) {
		a, b = b, a
	}
	m.tree[node] = b
	return a
}

// less orders cursors by head, exhausted ones last, ties by run order.
func (m *merger) less(a, b int) bool {
	ca, cb := m.cursors[a], m.cursors[b]
	switch {
	case ca.done:
		return false
	case cb.done:
		return true
	}
	if r := m.order.compareKeys(ca.head(), cb.head()); r != 0 {
		return r < 0
	}
	return a < b
}

// replay re-runs the matches from leaf c (whose head changed) to the root.
func (m *merger) replay(c int) {
	k := len(m.cursors)
	w := c
	for node := (c + k) / 2; node > 0; node /= 2 {
		if m.less(m.tree[node], w) {
			m.tree[node], w = w, m.tree[node]
		}
	}
	m.tree[0] = w
}

// loadChunk reads the next batch of a spill run into a slot.
func (m *merger) loadChunk(c *cursor) error {
	if c.slot >= 0 {
		m.retired = append(m.retired, uint32(c.slot))
		c.slot = -1
	}
	c.entries, c.pos = c.entries[:0], 0
	for c.reader.Next() {
		rec := c.reader.RecordBatch()
		if rec.NumRows() == 0 {
			continue
		}
		rec.Retain()
		kc, ok := rec.Column(int(rec.NumCols()) - 1).(*array.Binary)
		if !ok {
			rec.Release()
			return fmt.Errorf("sort: spill file has no key column")
		}
		blk := &keyBlock{data: kc.Data().Buffers()[2].Bytes(), offs: rawOffsets[int32](kc.Data())}
		var slot uint32
		if n := len(m.free); n > 0 {
			slot = m.free[n-1]
			m.free = m.free[:n-1]
			m.recs[slot], m.blocks[slot] = rec, blk
		} else {
			slot = uint32(len(m.recs))
			m.recs = append(m.recs, rec)
			m.blocks = append(m.blocks, blk)
		}
		m.order.blocks = m.blocks
		c.slot = int32(slot)
		c.entries = m.order.fill(c.entries, blk, slot)
		return nil
	}
	if err := c.reader.Err(); err != nil {
		return fmt.Errorf("sort: reading spill file: %w", err)
	}
	return nil
}

// advance moves cursor c past its head, loading the next spill chunk
// when needed, and marks it done at its end.
func (m *merger) advance(c *cursor) error {
	c.pos++
	if c.pos < len(c.entries) {
		return nil
	}
	if c.reader != nil {
		if err := m.loadChunk(c); err != nil {
			return err
		}
		if len(c.entries) > 0 {
			return nil
		}
	}
	c.done = true
	m.live--
	return nil
}

// next returns the next output batch of up to size rows, nil at the end.
func (m *merger) next(size int) (arrow.RecordBatch, error) {
	if m.left == 0 || m.live == 0 {
		return nil, nil
	}
	target := size
	if m.left > 0 && m.left < int64(target) {
		target = int(m.left)
	}
	m.refs = m.refs[:0]
	for len(m.refs) < target && m.live > 0 {
		w := m.tree[0]
		c := m.cursors[w]
		if m.live == 1 {
			// One run left: copy its entries in bulk.
			take := min(target-len(m.refs), len(c.entries)-c.pos)
			for _, e := range c.entries[c.pos : c.pos+take] {
				m.refs = append(m.refs, rowRef{Src: int32(e.batch), Row: int32(e.row)})
			}
			c.pos += take - 1
		} else {
			e := c.head()
			m.refs = append(m.refs, rowRef{Src: int32(e.batch), Row: int32(e.row)})
		}
		if err := m.advance(c); err != nil {
			return nil, err
		}
		if m.live > 0 {
			m.replay(w)
		}
	}
	if len(m.refs) == 0 {
		return nil, nil
	}
	b, err := m.gather()
	if err != nil {
		return nil, err
	}
	for _, slot := range m.retired {
		m.recs[slot].Release()
		m.recs[slot], m.blocks[slot] = nil, nil
		m.free = append(m.free, slot)
	}
	m.retired = m.retired[:0]
	if m.left > 0 {
		m.left -= int64(len(m.refs))
	}
	return b, nil
}

// gather builds the output batch from m.refs over only the slots used.
func (m *merger) gather() (arrow.RecordBatch, error) {
	if cap(m.slotMap) < len(m.recs) {
		m.slotMap = make([]int32, len(m.recs))
	}
	slotMap := m.slotMap[:len(m.recs)]
	for i := range slotMap {
		slotMap[i] = -1
	}
	m.srcs = m.srcs[:0]
	for i, r := range m.refs {
		local := slotMap[r.Src]
		if local < 0 {
			local = int32(len(m.srcs))
			slotMap[r.Src] = local
			m.srcs = append(m.srcs, m.recs[r.Src])
		}
		m.refs[i].Src = local
	}
	return interleaveBatches(m.s.alloc, m.s.node.Schema(), m.srcs, m.refs)
}

// close releases every slot and closes the spill files.
func (m *merger) close() error {
	var err error
	for i, r := range m.recs {
		if r != nil {
			r.Release()
			m.recs[i] = nil
		}
	}
	for _, c := range m.cursors {
		if c.reader != nil {
			c.reader.Release()
			c.reader = nil
		}
		if c.file != nil {
			if cerr := c.file.Close(); cerr != nil && err == nil {
				err = cerr
			}
			c.file = nil
		}
	}
	return err
}
