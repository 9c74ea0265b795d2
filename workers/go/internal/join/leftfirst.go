package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// The left-first strategy. A semi, anti or mark join outputs left rows
// only, so when the left (probe) side is much smaller than the right
// (build) side, as in EXISTS over a big fact table, indexing the right
// side is the wrong way round. Such a join first buffers its left side,
// cooperatively over the partitions, up to a bound. If the bound is
// exceeded, the join runs as usual: every partition probes with its
// buffered batches followed by the rest of its input. If the whole left
// side fits, the join buffers the right side up to the left side's size.
// When the right side ends first, it is indexed as usual from the
// buffered batches, and the partitions probe with their buffered left
// batches. Otherwise the left keys are indexed, the right side (its
// buffered batches, then the rest) streams through that index marking
// the left rows or keys it matches, and each partition then emits its own
// left rows by the join's rules. The strategy applies to CollectBuild
// joins whose NULL rules need at most the facts "the right side is not
// empty" and "the right side has a NULL key": semi and anti joins, and
// mark and null-aware anti joins with one key and no residual.

// Bounds of the left side the left-first strategy buffers, and of the
// right side as a multiple of the left side's rows (variables for the
// tests).
var (
	leftFirstMaxRows     int64 = 1 << 20
	leftFirstMaxBytes    int64 = 64 << 20
	leftFirstRightFactor int64 = 1
)

// leftFirstMode overrides the strategy in tests.
type leftFirstMode int

const (
	leftFirstAuto   leftFirstMode = iota // by the sizes
	leftFirstNever                       // always index the right side
	leftFirstAlways                      // always index the left side
)

// forceLeftFirst is the strategy the tests force.
var forceLeftFirst = leftFirstAuto

// leftFirstEligible reports whether the join may index its left side.
func (j *core) leftFirstEligible() bool {
	if j.nested || j.mode != CollectBuild || j.nullCond != nil || forceLeftFirst == leftFirstNever {
		return false
	}
	switch j.jt {
	case logical.JoinSemi, logical.JoinAnti, logical.JoinMark:
		return true
	}
	return false
}

// leftFirstStates holds the left-first state of each query (TaskContext).
type leftFirstStates struct {
	mu     sync.Mutex
	states map[*exec.TaskContext]*leftFirst
}

func (s *leftFirstStates) get(tc *exec.TaskContext, parts, rparts int) *leftFirst {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.states == nil {
		s.states = map[*exec.TaskContext]*leftFirst{}
	}
	lf := s.states[tc]
	if lf == nil {
		lf = &leftFirst{left: newBufPhase(parts), right: newBufPhase(rparts), closed: make([]bool, parts),
			probed: make(chan struct{})}
		s.states[tc] = lf
	}
	return lf
}

// release records that partition p closed its stream; the last one frees
// the state.
func (s *leftFirstStates) release(tc *exec.TaskContext, lf *leftFirst, p int) {
	lf.mu.Lock()
	if lf.closed[p] {
		lf.mu.Unlock()
		return
	}
	lf.closed[p] = true
	lf.nClosed++
	last := lf.nClosed == len(lf.closed)
	lf.mu.Unlock()
	if !last {
		return
	}
	s.mu.Lock()
	if s.states[tc] == lf {
		delete(s.states, tc)
	}
	s.mu.Unlock()
	lf.free()
}

// bufPhase is the bounded, cooperative read of one input's partitions (as
// the build side is read, see sharedBuild.acquire): callers claim unread
// partitions one at a time and buffer them until their end or until the
// phase stops (bound exceeded, or an error); the caller that ends the
// last read decides. A caller only waits for reads others are running.
type bufPhase struct {
	parts            []*bufPart // nil: not claimed, or taken
	claimed, running int
	rows, bytes      int64
	maxRows          int64 // stop past this many rows (-1: at once)
	maxBytes         int64
	overflow         bool // the bound was exceeded
	deciding         bool
	decided          chan struct{}
	err              error
}

func newBufPhase(parts int) *bufPhase {
	return &bufPhase{parts: make([]*bufPart, parts), decided: make(chan struct{})}
}

// bufPart is a partition as buffered: its batches, their pieces and key
// columns (reserved in pp.res), and the open stream when the read stopped
// before its end.
type bufPart struct {
	batches []arrow.RecordBatch
	pp      *partPieces
	stream  exec.Stream
}

func (bp *bufPart) release() {
	for _, b := range bp.batches {
		b.Release()
	}
	bp.batches = nil
	if bp.pp != nil {
		bp.pp.release()
		bp.pp = nil
	}
	if bp.stream != nil {
		bp.stream.Close()
		bp.stream = nil
	}
}

// replay turns the buffered part into a stream of its batches followed by
// the rest of the partition; the key columns go.
func (bp *bufPart) replay(schema *arrow.Schema) exec.Stream {
	bp.pp.release()
	bp.pp = nil
	return &replayStream{schema: schema, batches: bp.batches, rest: bp.stream}
}

// leftFirst is the left-first state shared by the partitions of a query:
// the buffered left and right sides, then either the right side indexed
// as usual (rightBuild) or the left side indexed (build) with what the
// right side matched.
type leftFirst struct {
	mu          sync.Mutex
	left, right *bufPhase

	// rightBuild is the right side indexed as usual, when it turned out
	// no bigger than the left side.
	rightBuild *hashBuild

	// The left side indexed by the left keys (rows of partition q are
	// offsets[q] to offsets[q+1]-1), the right partitions' progress
	// through it (claimed and running, as in bufPhase), and what they
	// found: the left key groups (no residual) and left rows (residual)
	// they matched, whether any right row came and whether one had a
	// NULL key.
	build            *hashBuild
	offsets          []int
	rclaimed         int
	rrunning         int
	rdone            bool
	probed           chan struct{}
	perr             error
	groupHit, rowHit []uint64
	rightRows        bool
	rightNull        bool

	closed  []bool
	nClosed int
}

func (lf *leftFirst) free() {
	for _, ph := range []*bufPhase{lf.left, lf.right} {
		for q, bp := range ph.parts {
			if bp != nil {
				bp.release()
				ph.parts[q] = nil
			}
		}
	}
	lf.build.free()
	lf.build = nil
	lf.rightBuild.free()
	lf.rightBuild = nil
}

// take removes and returns buffered partition q of ph (nil when it was
// never claimed).
func (lf *leftFirst) take(ph *bufPhase, q int) *bufPart {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	bp := ph.parts[q]
	ph.parts[q] = nil
	return bp
}

// initLeftFirst runs the strategy's phases; it reports whether the
// stream now emits its left rows (stateEmitLeft). Otherwise the stream
// probes as usual with its buffered left batches (then the rest of its
// partition) as probe input, into the right side indexed here
// (s.build) or, when the left side did not fit, by the usual shared
// build.
func (s *hashStream) initLeftFirst(ctx context.Context) (bool, error) {
	j, lf := s.j, s.lf
	consumer := fmt.Sprintf("%s left side (%s join)", j.name(), j.jt)
	err := lf.collect(ctx, lf.left, func(ctx context.Context, q int) (*bufPart, error) {
		return lf.readPart(ctx, lf.left, j.left, j.leftKeys, q, s.tc, consumer)
	}, func() {
		lf.left.maxRows = leftFirstMaxRows
		if forceLeftFirst == leftFirstAlways {
			lf.left.maxRows = 1<<63 - 1
		}
		lf.left.maxBytes = leftFirstMaxBytes
	}, func() {})
	if err != nil {
		return false, err
	}
	if lf.left.overflow {
		if bp := lf.take(lf.left, s.p); bp != nil {
			s.probe = bp.replay(j.left.Schema())
		}
		return false, nil
	}
	if lf.left.rows == 0 {
		// No left row: no output, whatever the right side holds.
		s.state = stateDone
		return true, nil
	}
	err = lf.collect(ctx, lf.right, func(ctx context.Context, q int) (*bufPart, error) {
		return lf.readPart(ctx, lf.right, j.right, j.rightKeys, q, s.tc, j.buildConsumer())
	}, func() {
		lf.right.maxRows = lf.left.rows * leftFirstRightFactor
		if forceLeftFirst == leftFirstAlways {
			lf.right.maxRows = -1
		}
		lf.right.maxBytes = leftFirstMaxBytes
	}, func() { lf.decide(j, s.tc) })
	if err != nil {
		return false, err
	}
	if lf.rightBuild != nil {
		s.build = lf.rightBuild
		if bp := lf.take(lf.left, s.p); bp != nil {
			s.probe = bp.replay(j.left.Schema())
		}
		return false, nil
	}
	if err := s.probeRight(ctx); err != nil {
		return false, err
	}
	s.om.RecordPeak(lf.build.res.Size())
	s.emitPos, s.emitEnd = lf.offsets[s.p], lf.offsets[s.p+1]
	s.state = stateEmitLeft
	return true, nil
}

// collect runs phase ph: it reads unclaimed partitions with read until
// none is left or the phase stops; the caller that ends the last read
// runs decide, after which every caller returns. setup, run once by the
// first caller, sets the bounds.
func (lf *leftFirst) collect(ctx context.Context, ph *bufPhase, read func(context.Context, int) (*bufPart, error),
	setup, decide func()) error {
	for {
		lf.mu.Lock()
		if ph.claimed == 0 && ph.running == 0 && !ph.deciding {
			setup()
			if ph.maxRows < 0 {
				ph.overflow = true
			}
		}
		if ph.overflow || ph.err != nil || ph.claimed == len(ph.parts) {
			if ph.running == 0 && !ph.deciding {
				ph.deciding = true
				lf.mu.Unlock()
				if ph.err == nil {
					decide()
				}
				close(ph.decided)
				return ph.err
			}
			lf.mu.Unlock()
			select {
			case <-ph.decided:
				return ph.err
			case <-ctx.Done():
				return canceled(ctx)
			}
		}
		q := ph.claimed
		ph.claimed++
		ph.running++
		lf.mu.Unlock()

		bp, err := read(ctx, q)

		lf.mu.Lock()
		ph.running--
		ph.parts[q] = bp
		if err != nil && ph.err == nil {
			ph.err = err
		}
		lf.mu.Unlock()
	}
}

// stop reports whether the reads of ph should stop.
func (lf *leftFirst) stop(ph *bufPhase) bool {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	return ph.overflow || ph.err != nil
}

// add counts a buffered batch against ph's bound; fits is false when its
// memory could not be reserved.
func (lf *leftFirst) add(ph *bufPhase, rows, bytes int64, fits bool) {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	ph.rows += rows
	ph.bytes += bytes
	if !fits || ph.rows > ph.maxRows || ph.bytes > ph.maxBytes {
		ph.overflow = true
	}
}

// readPart buffers partition q of input n with its key columns until its
// end or until ph stops; the stream stays open in the latter case.
func (lf *leftFirst) readPart(ctx context.Context, ph *bufPhase, n exec.Node, keys []logical.Expr, q int,
	tc *exec.TaskContext, consumer string) (*bufPart, error) {
	ncols := n.Schema().NumFields()
	bp := &bufPart{pp: &partPieces{pieces: make([][]arrow.Array, ncols), res: tc.Mem.NewReservation(consumer)}}
	evals, err := compileAll(keys, n.Schema(), tc.Alloc)
	if err != nil {
		return bp, fmt.Errorf("join keys: %w", err)
	}
	kp := keyProbe{evals: evals}
	st, err := n.Execute(ctx, q, tc)
	if err != nil {
		return bp, err
	}
	for {
		if err := canceled(ctx); err != nil {
			st.Close()
			return bp, err
		}
		if lf.stop(ph) {
			bp.stream = st
			return bp, nil
		}
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			return bp, st.Close()
		}
		if err != nil {
			st.Close()
			return bp, err
		}
		rows := int(b.NumRows())
		if rows == 0 {
			continue
		}
		if int(b.NumCols()) != ncols {
			st.Close()
			return bp, fmt.Errorf("join input produced a batch with %d columns, its schema has %d", b.NumCols(), ncols)
		}
		b.Retain()
		bp.batches = append(bp.batches, b)
		if err := kp.eval(ctx, b); err != nil {
			st.Close()
			return bp, err
		}
		ks := append([]arrow.Array(nil), kp.arrays...)
		kp.arrays = kp.arrays[:0]
		bp.pp.keys = append(bp.pp.keys, ks)
		var sz int64
		for c, col := range b.Columns() {
			col.Retain()
			bp.pp.pieces[c] = append(bp.pp.pieces[c], col)
			sz += arrayBytes(col)
		}
		for _, a := range ks {
			if !columnOf(b, a) {
				sz += arrayBytes(a)
			}
		}
		bp.pp.rows += rows
		// Past the memory limit the phase stops: the usual strategy
		// streams the left side, and the left-first one the right side.
		fits := bp.pp.res.Grow(sz) == nil
		lf.add(ph, int64(rows), sz, fits)
	}
}

// columnOf reports whether a is one of b's columns.
func columnOf(b arrow.RecordBatch, a arrow.Array) bool {
	for _, c := range b.Columns() {
		if c == a {
			return true
		}
	}
	return false
}

// decide ends the right side's buffering (the whole left side is
// buffered). When the right side ended within the bound, it is indexed
// as usual; otherwise the left side is indexed for the right side to
// stream through.
func (lf *leftFirst) decide(j *core, tc *exec.TaskContext) {
	if !lf.right.overflow {
		pps := make([]*partPieces, len(lf.right.parts))
		for r, bp := range lf.right.parts {
			pps[r] = bp.pp
			bp.pp = nil
			bp.release() // the pieces hold the columns
			lf.right.parts[r] = nil
		}
		b, err := j.finishBuild(pps, tc)
		if err != nil {
			lf.right.err = err
			return
		}
		lf.rightBuild = b
		return
	}
	lf.offsets = make([]int, len(lf.left.parts)+1)
	pps := make([]*partPieces, len(lf.left.parts))
	for q, bp := range lf.left.parts {
		lf.offsets[q+1] = lf.offsets[q] + bp.pp.rows
		pps[q] = bp.pp
		bp.pp = nil
		bp.release()
		lf.left.parts[q] = nil
	}
	b := &hashBuild{res: tc.Mem.NewReservation(fmt.Sprintf("%s left side (%s join)", j.name(), j.jt)),
		alloc: tc.Alloc, keepGroups: true}
	if err := b.indexParts(pps, j.left.Schema(), j.leftTypes, j.leftKeys, j.resid != nil, false, tc); err != nil {
		lf.right.err = err
		return
	}
	lf.build = b
	if j.resid != nil {
		lf.rowHit = make([]uint64, (b.rows()+63)/64)
	} else {
		lf.groupHit = make([]uint64, (b.ngroups+63)/64)
	}
}

// probeRight streams the right side through the left index: the stream
// takes right partitions (their buffered batches, then the rest) until
// none is left, then waits for those that others are running.
func (s *hashStream) probeRight(ctx context.Context) error {
	lf, j := s.lf, s.j
	evals, err := compileAll(j.rightKeys, j.right.Schema(), s.tc.Alloc)
	if err != nil {
		return fmt.Errorf("%s right keys: %w", j.name(), err)
	}
	s.rkeys = keyProbe{evals: evals}
	defer s.rkeys.done()
	if lf.rowHit != nil {
		s.rowHit = make([]uint64, len(lf.rowHit))
	}
	if lf.groupHit != nil {
		s.groupHit = make([]uint64, len(lf.groupHit))
	}
	rparts := len(lf.right.parts)
	for {
		lf.mu.Lock()
		if lf.perr != nil || lf.rclaimed == rparts {
			if lf.rrunning == 0 && !lf.rdone {
				lf.rdone = true
				close(lf.probed)
			}
			lf.mu.Unlock()
			select {
			case <-lf.probed:
				return lf.perr
			case <-ctx.Done():
				return canceled(ctx)
			}
		}
		r := lf.rclaimed
		lf.rclaimed++
		lf.rrunning++
		bp := lf.right.parts[r]
		lf.right.parts[r] = nil
		lf.mu.Unlock()

		var in exec.Stream
		if bp != nil {
			in = bp.replay(j.right.Schema())
		} else {
			in, err = j.right.Execute(ctx, r, s.tc)
		}
		if err == nil {
			err = s.probeRightStream(ctx, in)
		}

		lf.mu.Lock()
		lf.rrunning--
		if err != nil && lf.perr == nil {
			lf.perr = err
		}
		orInto(lf.rowHit, s.rowHit)
		orInto(lf.groupHit, s.groupHit)
		lf.rightRows = lf.rightRows || s.rightRows
		lf.rightNull = lf.rightNull || s.rightNull
		if (lf.perr != nil || lf.rclaimed == rparts) && lf.rrunning == 0 && !lf.rdone {
			lf.rdone = true
			close(lf.probed)
		}
		lf.mu.Unlock()
	}
}

func orInto(dst, src []uint64) {
	for i, w := range src {
		dst[i] |= w
	}
}

// probeRightStream reads a right partition through the left index and
// marks what it matches in the stream's own bitmaps. It closes st.
func (s *hashStream) probeRightStream(ctx context.Context, st exec.Stream) (err error) {
	lf, j := s.lf, s.j
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	ncols := j.right.Schema().NumFields()
	for {
		if err := canceled(ctx); err != nil {
			return err
		}
		b, err := st.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		n := int(b.NumRows())
		if n == 0 {
			continue
		}
		if int(b.NumCols()) != ncols {
			return fmt.Errorf("%s: right input produced a batch with %d columns, its schema has %d", j.name(), b.NumCols(), ncols)
		}
		s.rightRows = true
		s.groups = grow(s.groups, n)
		anyNull, err := s.rkeys.find(ctx, b, lf.build, s.groups)
		if err != nil {
			return fmt.Errorf("%s right keys: %w", j.name(), err)
		}
		if anyNull {
			s.rightNull = true
		}
		if s.resid == nil {
			hit := s.groupHit
			for _, g := range s.groups {
				if g >= 0 {
					hit[g>>6] |= 1 << (uint(g) & 63)
				}
			}
			continue
		}
		if err := s.matchPairs(ctx, b); err != nil {
			return err
		}
	}
}

// matchPairs evaluates the residual over the pairs of right batch b's
// rows and the left rows with their key that no pair has matched yet, and
// marks the left rows of the pairs it is true for.
func (s *hashStream) matchPairs(ctx context.Context, b arrow.RecordBatch) error {
	build, hit := s.lf.build, s.rowHit
	lIdx, rIdx := grow(s.lIdx, s.bs)[:0], grow(s.bIdx, s.bs)[:0]
	flush := func() error {
		if len(lIdx) == 0 {
			return nil
		}
		res, err := s.evalLeftFirstPairs(ctx, b, lIdx, rIdx)
		if err != nil {
			return err
		}
		for c, l := range lIdx {
			if res.IsValid(c) && res.Value(c) {
				hit[l>>6] |= 1 << (uint(l) & 63)
			}
		}
		res.Release()
		lIdx, rIdx = lIdx[:0], rIdx[:0]
		return nil
	}
	for row, g := range s.groups {
		if g < 0 {
			continue
		}
		size := build.groupSize(g)
		for k := range size {
			l := build.groupRow(g, k)
			if hit[l>>6]&(1<<(uint(l)&63)) != 0 {
				continue
			}
			lIdx = append(lIdx, l)
			rIdx = append(rIdx, int32(row))
			if len(lIdx) == s.bs {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	err := flush()
	s.lIdx, s.bIdx = lIdx, rIdx
	return err
}

// evalLeftFirstPairs evaluates the residual over the pairs (left row
// lIdx[i], row rIdx[i] of right batch b).
func (s *hashStream) evalLeftFirstPairs(ctx context.Context, b arrow.RecordBatch, lIdx, rIdx []int32) (*array.Boolean, error) {
	rp := s.j.resid
	cols := make([]arrow.Array, 0, len(rp.leftCols)+len(rp.rightCols))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, c := range rp.leftCols {
		a, err := gather(s.tc.Alloc, s.lf.build.data.cols[c], lIdx)
		if err != nil {
			return nil, err
		}
		cols = append(cols, a)
	}
	for _, c := range rp.rightCols {
		a, err := gather(s.tc.Alloc, b.Column(c), rIdx)
		if err != nil {
			return nil, err
		}
		cols = append(cols, a)
	}
	return evalCondition(ctx, s.resid, rp.schema, cols, len(lIdx))
}

// emitLeft returns the next batch of this partition's left rows by the
// join's rules, or nil when none remain.
func (s *hashStream) emitLeft() (arrow.RecordBatch, error) {
	lf, j := s.lf, s.j
	groups := lf.build.rowGroups
	matched := func(i int) bool {
		if lf.rowHit != nil {
			return lf.rowHit[i>>6]&(1<<(uint(i)&63)) != 0
		}
		g := groups[i]
		return g >= 0 && lf.groupHit[g>>6]&(1<<(uint(g)&63)) != 0
	}
	for s.emitPos < s.emitEnd {
		lo := s.emitPos
		hi := min(s.emitEnd, lo+s.bs)
		s.emitPos = hi
		if j.jt == logical.JoinMark {
			return s.leftMarkBatch(lo, hi, matched)
		}
		sel := s.lIdx[:0]
		for i := lo; i < hi; i++ {
			var keep bool
			switch {
			case j.jt == logical.JoinSemi:
				keep = matched(i)
			case !j.nullAware:
				keep = !matched(i)
			default:
				// NOT IN with one key and no residual: no row qualifies
				// when the right side has a NULL key; a NULL left key
				// qualifies only when the right side is empty.
				keep = !lf.rightNull && !matched(i) && (groups[i] >= 0 || !lf.rightRows)
			}
			if keep {
				sel = append(sel, int32(i))
			}
		}
		s.lIdx = sel
		if len(sel) == 0 {
			continue
		}
		return s.gatherLeft(sel)
	}
	return nil, nil
}

// gatherLeft outputs the left rows sel.
func (s *hashStream) gatherLeft(sel []int32) (arrow.RecordBatch, error) {
	data := s.lf.build.data.cols
	cols := make([]arrow.Array, 0, len(data))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, c := range data {
		a, err := gather(s.tc.Alloc, c, sel)
		if err != nil {
			return nil, err
		}
		cols = append(cols, a)
	}
	return array.NewRecordBatch(s.j.schema, cols, int64(len(sel))), nil
}

// leftMarkBatch outputs left rows lo to hi-1 with their __mark: true when
// matched; NULL when unmatched and the left key is NULL with a non-empty
// right side, or the right side has a NULL key; false otherwise.
func (s *hashStream) leftMarkBatch(lo, hi int, matched func(int) bool) (arrow.RecordBatch, error) {
	lf := s.lf
	n := hi - lo
	alloc := s.tc.Alloc
	vals := memory.NewResizableBuffer(alloc)
	vals.Resize(int(bitutil.BytesForBits(int64(n))))
	vb := vals.Bytes()
	clear(vb)
	valid := memory.NewResizableBuffer(alloc)
	valid.Resize(len(vb))
	nb := valid.Bytes()
	clear(nb)
	nulls := 0
	for i := range n {
		switch {
		case matched(lo + i):
			bitutil.SetBit(vb, i)
			bitutil.SetBit(nb, i)
		case lf.rightNull || (lf.build.rowGroups[lo+i] < 0 && lf.rightRows):
			nulls++
		default:
			bitutil.SetBit(nb, i)
		}
	}
	if nulls == 0 {
		valid.Release()
		valid = nil
	}
	mark := finish(arrow.FixedWidthTypes.Boolean, n, nulls, valid, vals)
	defer mark.Release()
	cols := make([]arrow.Array, 0, s.j.schema.NumFields())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, c := range lf.build.data.cols {
		cols = append(cols, array.NewSlice(c, int64(lo), int64(hi)))
	}
	mark.Retain()
	cols = append(cols, mark)
	return array.NewRecordBatch(s.j.schema, cols, int64(n)), nil
}

// replayStream lends buffered batches, then the batches of rest (when not
// nil). It owns both.
type replayStream struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	next    int
	rest    exec.Stream
	closed  bool
}

func (r *replayStream) Schema() *arrow.Schema { return r.schema }

func (r *replayStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.next > 0 && r.next <= len(r.batches) {
		r.batches[r.next-1].Release()
		r.batches[r.next-1] = nil
	}
	if r.next < len(r.batches) {
		r.next++
		return r.batches[r.next-1], nil
	}
	r.next = len(r.batches) + 1
	if r.rest == nil {
		return nil, io.EOF
	}
	return r.rest.Next(ctx)
}

func (r *replayStream) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	for i, b := range r.batches {
		if b != nil {
			b.Release()
			r.batches[i] = nil
		}
	}
	if r.rest != nil {
		return r.rest.Close()
	}
	return nil
}
