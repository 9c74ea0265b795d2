package aggregate

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/hashkey"
)

// core is the grouping state of one aggregation: the hash table of group
// keys and one accumulator per aggregate. It consumes either raw rows
// (Partial, Single) or partial states (Final, and the merge of spilled
// partitions) and emits either final values or partial states.
type core struct {
	node     *HashAggregate
	tc       *exec.TaskContext
	alloc    memory.Allocator
	comp     *compiled // raw input only
	rawIn    bool
	finalOut bool
	level    int // spill recursion depth (partition hash bits used so far)

	nokeys  bool
	table   *hashkey.Table
	small   *smallKeys // packed-key cache in front of table, or nil
	ngroups int
	accs    []accumulator

	keys     hashkey.Keys
	evalBuf  []arrow.Array   // per batch: the compiled expressions' results
	cols     []arrow.Array   // per batch: the group key columns
	args     [][]arrow.Array // per batch: each aggregate's arguments
	multi    []multiArgAcc   // per aggregate of several arguments, else nil
	hashes   []uint64
	gids     []uint32
	sels     [][]int32
	keyArrs  []arrow.Array
	nullArrs []arrow.Array // per group column, all-NULL, of nullLen rows
	gidArrs  []arrow.Array // per grouping set, constant, of nullLen rows
	nullLen  int

	// mult is, per group, how many times its grouping set is listed: kept
	// only for final output when some set is repeated (nil otherwise).
	mult []int32

	res     *exec.Reservation
	metrics *exec.OperatorMetrics
	spill   *spiller
}

func newCore(n *HashAggregate, tc *exec.TaskContext, comp *compiled, rawIn, finalOut bool, level int, metrics *exec.OperatorMetrics) (*core, error) {
	c := &core{node: n, tc: tc, alloc: allocOf(tc), comp: comp, rawIn: rawIn, finalOut: finalOut, level: level,
		nokeys: len(n.keyTypes) == 0, metrics: metrics}
	pool := tc.Mem
	if pool == nil {
		pool = exec.NewMemoryPool(0)
	}
	c.res = pool.NewSpillableReservation(fmt.Sprintf("HashAggregate(%s)", n.mode))
	if !c.nokeys {
		t, err := hashkey.NewTable(n.keyTypes)
		if err != nil {
			return nil, err
		}
		c.table = t
		c.small = newSmallKeys(n.keyTypes)
	}
	for i := range n.specs {
		a, err := n.specs[i].newAcc()
		if err != nil {
			return nil, err
		}
		c.accs = append(c.accs, a)
		var m multiArgAcc
		if len(n.specs[i].argTypes) > 1 {
			m = a.(multiArgAcc) // checked by resolve
		}
		c.multi = append(c.multi, m)
	}
	c.sels = make([][]int32, len(n.specs))
	c.args = make([][]arrow.Array, len(n.specs))
	if finalOut && n.hasDupSets {
		c.mult = make([]int32, 0, 16)
	}
	if c.nokeys {
		c.setGroups(1)
	}
	if rawIn && len(n.sets) > 0 {
		// Empty grouping sets produce their row even without input.
		for _, si := range n.uniqueSets {
			if len(n.sets[si]) == 0 {
				if err := c.lookupSet(nil, si, 1); err != nil {
					c.close()
					return nil, err
				}
			}
		}
	}
	return c, nil
}

func (c *core) setGroups(n int) {
	if n <= c.ngroups {
		return
	}
	c.ngroups = n
	for _, a := range c.accs {
		a.resize(n)
	}
}

// lookup maps the key rows to group ids in c.gids.
func (c *core) lookup(keys []arrow.Array, n int) error {
	c.gids = grow(c.gids[:0], n)
	if c.nokeys {
		clear(c.gids)
		return nil
	}
	packed := false
	if c.small.active() {
		if packed = c.small.pack(keys, n); packed {
			if c.small.find(c.gids) {
				return nil // every key is a known group
			}
		} else {
			c.small.fails++
			if c.small.fails >= smallMaxFails {
				c.small.disable()
			}
		}
	}
	if err := c.keys.Reset(keys); err != nil {
		return err
	}
	c.hashes = grow(c.hashes[:0], n)
	c.keys.Hash(c.hashes)
	if err := c.table.FindOrInsert(&c.keys, c.hashes, c.gids); err != nil {
		return err
	}
	c.setGroups(c.table.Len())
	if packed && c.small.active() {
		c.small.learn(c.gids)
	}
	return nil
}

// setArrays returns the all-NULL column j and the grouping-id column of set
// si for n rows, cached for the batch length.
func (c *core) setArrays(n int) {
	if c.nullLen == n && c.nullArrs != nil {
		return
	}
	c.releaseSetArrays()
	c.nullLen = n
	for _, t := range c.node.groupTypes {
		c.nullArrs = append(c.nullArrs, array.MakeArrayOfNull(c.alloc, t, n))
	}
	for _, id := range c.node.setIDs {
		b := array.NewInt64Builder(c.alloc)
		b.Reserve(n)
		for i := 0; i < n; i++ {
			b.UnsafeAppend(id)
		}
		c.gidArrs = append(c.gidArrs, b.NewArray())
		b.Release()
	}
}

func (c *core) releaseSetArrays() {
	for _, a := range c.nullArrs {
		a.Release()
	}
	for _, a := range c.gidArrs {
		a.Release()
	}
	c.nullArrs, c.gidArrs = nil, nil
}

// lookupSet looks up the keys of grouping set si: the set's group columns
// from cols, NULL for the others, then the set's grouping id.
func (c *core) lookupSet(cols []arrow.Array, si, n int) error {
	c.setArrays(n)
	keys := c.keyArrs[:0]
	for range c.node.groupTypes {
		keys = append(keys, nil)
	}
	for j := range keys {
		keys[j] = c.nullArrs[j]
	}
	for _, j := range c.node.sets[si] {
		keys[j] = cols[j]
	}
	keys = append(keys, c.gidArrs[si])
	c.keyArrs = keys
	old := c.table.Len()
	if err := c.lookup(keys, n); err != nil {
		return err
	}
	if c.mult != nil {
		// Every group this lookup created belongs to set si.
		m := c.node.multOfID(c.node.setIDs[si])
		for range c.table.Len() - old {
			c.mult = append(c.mult, m)
		}
	}
	return nil
}

// noteStateMults records the multiplicity of the groups a lookup of
// partial rows created (ids from old on), from the grouping-id column gid.
func (c *core) noteStateMults(gid arrow.Array, old int) error {
	g, ok := gid.(*array.Int64)
	if !ok {
		return fmt.Errorf("aggregate: %s column is %s, want int64", GroupingIDName, gid.DataType())
	}
	newLen := c.table.Len()
	if newLen == old {
		return nil
	}
	c.mult = grow(c.mult[:old], newLen)
	vals := g.Int64Values()
	for i, id := range c.gids[:len(vals)] {
		if int(id) < old || c.mult[id] != 0 {
			continue
		}
		if g.IsNull(i) {
			return fmt.Errorf("aggregate: NULL %s in partial input", GroupingIDName)
		}
		m := c.node.multOfID(vals[i])
		if m == 0 {
			return fmt.Errorf("aggregate: %s %d in partial input matches no grouping set", GroupingIDName, vals[i])
		}
		c.mult[id] = m
	}
	return nil
}

func anyNulls(args []arrow.Array) bool {
	for _, a := range args {
		if a.NullN() > 0 {
			return true
		}
	}
	return false
}

// bitmapAt is a validity bitmap and the offset of row 0 in it.
type bitmapAt struct {
	bits []byte
	off  int
}

// selection computes the rows an aggregate sees: those where no argument
// is NULL and the filter is true. nil means every row.
func selection(args []arrow.Array, filter arrow.Array, n int, buf []int32) []int32 {
	if filter == nil && !anyNulls(args) {
		return nil
	}
	if buf == nil {
		// Allocated here, not only where rows are appended: an empty
		// selection must not be nil.
		buf = make([]int32, 0, n)
	}
	buf = buf[:0]
	var withNulls arrow.Array
	masks := make([]bitmapAt, 0, 4)
	for _, a := range args {
		if a.NullN() == 0 {
			continue
		}
		d := a.Data()
		if a.DataType().ID() == arrow.NULL || a.NullN() == a.Len() || d.Buffers()[0] == nil {
			return buf // an all-NULL argument: no row
		}
		withNulls = a
		masks = append(masks, bitmapAt{d.Buffers()[0].Bytes(), d.Offset()})
	}
	if filter == nil && len(masks) == 1 {
		return validRows(withNulls, buf)
	}
	var fb, fvalid []byte
	foff := 0
	if filter != nil {
		if filter.DataType().ID() != arrow.BOOL || filter.NullN() == filter.Len() {
			return buf // a NULL filter is never true
		}
		fb, foff = boolValues(filter)
		if filter.NullN() > 0 {
			fvalid = filter.Data().Buffers()[0].Bytes()
		}
	}
rows:
	for i := 0; i < n; i++ {
		if fb != nil && (!bitutil.BitIsSet(fb, foff+i) || (fvalid != nil && !bitutil.BitIsSet(fvalid, foff+i))) {
			continue
		}
		for _, m := range masks {
			if !bitutil.BitIsSet(m.bits, m.off+i) {
				continue rows
			}
		}
		buf = append(buf, int32(i))
	}
	return buf
}

// consume folds one input batch in.
func (c *core) consume(ctx context.Context, b arrow.RecordBatch) error {
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	for _, a := range c.accs {
		if x, ok := a.(interface{ setContext(context.Context) }); ok {
			x.setContext(ctx)
		}
	}
	if !c.rawIn {
		return c.consumeStates(b, n)
	}
	vals := c.evalBuf[:0]
	for range c.comp.prog.Len() {
		vals = append(vals, nil)
	}
	c.evalBuf = vals
	if err := c.comp.prog.Eval(ctx, b, vals); err != nil {
		return err
	}
	defer func() {
		for i, a := range vals {
			a.Release()
			vals[i] = nil
		}
	}()
	for _, a := range vals {
		if a.Len() != n {
			return fmt.Errorf("aggregate: expression produced %d rows for a batch of %d", a.Len(), n)
		}
	}
	cols := c.cols[:0]
	for _, i := range c.comp.groups {
		cols = append(cols, vals[i])
	}
	c.cols = cols
	args := c.args
	defer func() {
		for i := range args {
			clear(args[i])
		}
	}()
	for i := range c.accs {
		var filter arrow.Array
		args[i] = args[i][:0]
		for _, j := range c.comp.args[i] {
			args[i] = append(args[i], vals[j])
		}
		if j := c.comp.filters[i]; j >= 0 {
			filter = vals[j]
		}
		c.sels[i] = selection(args[i], filter, n, c.sels[i])
	}
	update := func() error {
		for i, a := range c.accs {
			sel := c.sels[i]
			if sel != nil && len(sel) == 0 {
				continue
			}
			var err error
			switch {
			case c.multi[i] != nil:
				err = c.multi[i].updateArgs(args[i], c.gids[:n], sel)
			case len(args[i]) == 0:
				err = a.update(nil, c.gids[:n], sel)
			default:
				err = a.update(args[i][0], c.gids[:n], sel)
			}
			if err != nil {
				return fmt.Errorf("aggregate %s: %w", c.node.aggNames[i], err)
			}
		}
		return nil
	}
	if len(c.node.sets) == 0 {
		if err := c.lookup(cols, n); err != nil {
			return err
		}
		return update()
	}
	for _, si := range c.node.uniqueSets {
		if err := c.lookupSet(cols, si, n); err != nil {
			return err
		}
		if err := update(); err != nil {
			return err
		}
	}
	return nil
}

// consumeStates merges a batch in the partial layout.
func (c *core) consumeStates(b arrow.RecordBatch, n int) error {
	nk := len(c.node.keyTypes)
	cols := b.Columns()
	if len(cols) != c.node.partial.NumFields() {
		return fmt.Errorf("aggregate: partial batch has %d columns, want %d", len(cols), c.node.partial.NumFields())
	}
	old := 0
	if c.table != nil {
		old = c.table.Len()
	}
	if err := c.lookup(cols[:nk], n); err != nil {
		return err
	}
	if c.mult != nil {
		if err := c.noteStateMults(cols[nk-1], old); err != nil {
			return err
		}
	}
	pos := nk
	for i, a := range c.accs {
		k := len(c.node.specs[i].states)
		if err := a.merge(cols[pos:pos+k], c.gids[:n]); err != nil {
			return fmt.Errorf("aggregate %s: %w", c.node.aggNames[i], err)
		}
		pos += k
	}
	return nil
}

// stateSize is the bytes the grouping state holds.
func (c *core) stateSize() int64 {
	var n int64
	if c.table != nil {
		n += c.table.MemSize()
	}
	n += c.small.size()
	for _, a := range c.accs {
		n += a.size()
	}
	return n + int64(cap(c.gids))*4 + int64(cap(c.hashes))*8 + int64(cap(c.mult))*4
}

// account reserves the state size; it reports false when the memory limit
// was hit (the state must then be emitted or spilled).
func (c *core) account() (bool, error) {
	err := c.res.Resize(c.stateSize())
	if c.metrics != nil {
		c.metrics.RecordPeak(c.res.Size())
	}
	if err == nil {
		return true, nil
	}
	if errors.Is(err, exec.ErrMemoryLimit) {
		return false, nil
	}
	return false, err
}

// reset drops every group (after emitting or spilling them).
func (c *core) reset() {
	if c.table != nil {
		c.table.Reset()
	}
	c.small.clear()
	for _, a := range c.accs {
		a.reset()
	}
	c.ngroups = 0
	if c.mult != nil {
		c.mult = c.mult[:0]
	}
	if c.nokeys {
		c.setGroups(1)
	}
	_ = c.res.Resize(c.stateSize())
}

// output builds the output batch of the groups ids: partial states, or
// final values.
func (c *core) output(ids []uint32, partialLayout bool) (arrow.RecordBatch, error) {
	var cols []arrow.Array
	ok := false
	defer func() {
		if !ok {
			for _, a := range cols {
				a.Release()
			}
		}
	}()
	var keyCols []arrow.Array
	if !c.nokeys {
		var err error
		if keyCols, err = c.table.Take(c.alloc, ids); err != nil {
			return nil, err
		}
	}
	nsets := 0
	if len(c.node.sets) > 0 {
		nsets = 1
	}
	schema := c.node.partial
	if partialLayout {
		cols = append(cols, keyCols...)
		for i, a := range c.accs {
			s, err := a.state(c.alloc, ids)
			if err != nil {
				return nil, fmt.Errorf("aggregate %s: %w", c.node.aggNames[i], err)
			}
			cols = append(cols, s...)
		}
	} else {
		schema = c.node.final
		cols = append(cols, keyCols[:len(keyCols)-nsets]...)
		gid := keyCols[len(keyCols)-nsets:]
		for i, a := range c.accs {
			v, err := a.final(c.alloc, ids)
			if err != nil {
				for _, g := range gid {
					g.Release()
				}
				return nil, fmt.Errorf("aggregate %s: %w", c.node.aggNames[i], err)
			}
			cols = append(cols, v)
		}
		cols = append(cols, gid...)
	}
	rec := array.NewRecordBatch(schema, cols, int64(len(ids)))
	for _, a := range cols {
		a.Release()
	}
	ok = true
	return rec, nil
}

func (c *core) batchSize() int {
	if c.tc.BatchSize > 0 {
		return c.tc.BatchSize
	}
	return exec.DefaultBatchSize
}

// close frees everything the core holds.
func (c *core) close() {
	c.releaseSetArrays()
	if c.spill != nil {
		c.spill.close()
		c.spill = nil
	}
	if c.table != nil {
		c.table.Reset()
	}
	for _, a := range c.accs {
		a.reset()
	}
	c.res.Free()
}

// memOutput emits the groups held in memory, BatchSize at a time.
type memOutput struct {
	c       *core
	pos     int
	rep     int // copies of group pos emitted (repeated grouping sets)
	partial bool
	ids     []uint32
}

func (o *memOutput) next(context.Context) (arrow.RecordBatch, error) {
	if o.pos >= o.c.ngroups {
		return nil, errEOF
	}
	bs := o.c.batchSize()
	o.ids = o.ids[:0]
	if mult := o.c.mult; mult != nil && !o.partial {
		// Repeated grouping sets: each group's row once per occurrence of
		// its set (o.rep of group o.pos's copies are out already).
		for len(o.ids) < bs && o.pos < o.c.ngroups {
			left := int(mult[o.pos]) - o.rep
			take := min(left, bs-len(o.ids))
			for range take {
				o.ids = append(o.ids, uint32(o.pos))
			}
			if take == left {
				o.pos++
				o.rep = 0
			} else {
				o.rep += take
			}
		}
		return o.c.output(o.ids, o.partial)
	}
	end := min(o.c.ngroups, o.pos+bs)
	for id := o.pos; id < end; id++ {
		o.ids = append(o.ids, uint32(id))
	}
	o.pos = end
	return o.c.output(o.ids, o.partial)
}

func (o *memOutput) close() {}
