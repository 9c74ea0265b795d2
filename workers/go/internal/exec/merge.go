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
// entries name their slot in the batch field.
type merger struct {
	s       *sortStream
	recs    []arrow.RecordBatch
	blocks  []*keyBlock
	free    []uint32 // reusable slots
	retired []uint32 // slots to free once the current output batch is built
	cursors []*cursor
	heap    []int // indexes into cursors, smallest head first
	cmp     entryComparer
	left    int64 // rows still to produce; < 0 unbounded
	refs    []rowRef
	slotMap []int32
	srcs    []arrow.RecordBatch
}

// cursor walks one run.
type cursor struct {
	entries []sortEntry
	pos     int
	// Spill runs read their file one batch at a time.
	file   *os.File
	reader *ipc.Reader
	slot   int32 // slot of the current spill batch, -1 none
}

func (c *cursor) head() sortEntry { return c.entries[c.pos] }

// newMerger takes ownership of the runs' batches.
func newMerger(s *sortStream, runs []*sortedRun) (*merger, error) {
	m := &merger{s: s, left: s.node.fetch}
	m.cmp.prefixed = false // spill keys come back as bytes; compare fully
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
	m.cmp.blocks = m.blocks
	for i, c := range m.cursors {
		if c.pos < len(c.entries) {
			m.heap = append(m.heap, i)
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	return m, nil
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
		m.cmp.blocks = m.blocks
		c.slot = int32(slot)
		for i := range int(rec.NumRows()) {
			c.entries = append(c.entries, newEntry(blk.key(uint32(i)), slot, uint32(i)))
		}
		return nil
	}
	if err := c.reader.Err(); err != nil {
		return fmt.Errorf("sort: reading spill file: %w", err)
	}
	return nil
}

func (m *merger) less(a, b int) bool {
	return m.cmp.compare(m.cursors[a].head(), m.cursors[b].head()) < 0
}

func (m *merger) down(i int) {
	n := len(m.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		small := l
		if r := l + 1; r < n && m.less(m.heap[r], m.heap[l]) {
			small = r
		}
		if !m.less(m.heap[small], m.heap[i]) {
			return
		}
		m.heap[i], m.heap[small] = m.heap[small], m.heap[i]
		i = small
	}
}

// advance moves cursor c past its head, loading the next spill chunk
// when needed; it reports whether c still has rows.
func (m *merger) advance(c *cursor) (bool, error) {
	c.pos++
	if c.pos < len(c.entries) {
		return true, nil
	}
	if c.reader == nil {
		return false, nil
	}
	if err := m.loadChunk(c); err != nil {
		return false, err
	}
	return len(c.entries) > 0, nil
}

// next returns the next output batch of up to size rows, nil at the end.
func (m *merger) next(size int) (arrow.RecordBatch, error) {
	if m.left == 0 || len(m.heap) == 0 {
		return nil, nil
	}
	target := size
	if m.left > 0 && m.left < int64(target) {
		target = int(m.left)
	}
	m.refs = m.refs[:0]
	if len(m.heap) == 1 {
		// One run left: copy its entries in bulk.
		c := m.cursors[m.heap[0]]
		for len(m.refs) < target {
			take := min(target-len(m.refs), len(c.entries)-c.pos)
			for _, e := range c.entries[c.pos : c.pos+take] {
				m.refs = append(m.refs, rowRef{Src: int32(e.batch), Row: int32(e.row)})
			}
			c.pos += take - 1
			more, err := m.advance(c)
			if err != nil {
				return nil, err
			}
			if !more {
				m.heap = m.heap[:0]
				break
			}
		}
	} else {
		for len(m.refs) < target && len(m.heap) > 0 {
			c := m.cursors[m.heap[0]]
			e := c.head()
			m.refs = append(m.refs, rowRef{Src: int32(e.batch), Row: int32(e.row)})
			more, err := m.advance(c)
			if err != nil {
				return nil, err
			}
			if !more {
				last := len(m.heap) - 1
				m.heap[0] = m.heap[last]
				m.heap = m.heap[:last]
			}
			if len(m.heap) > 0 {
				m.down(0)
			}
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
