package aggregate

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
)

// udafAcc runs a user-defined aggregate in its provider (a plugin): the
// state lives there, keyed by this operator's group ids. Raw rows go to a
// PARTIAL session; states (merge) to a FINAL session. final() of raw rows
// takes the PARTIAL states and evaluates them in a FINAL session, so the
// same accumulator serves the single, partial and final modes and
// spilling (state, then merge). Rows with a NULL argument are skipped, as
// for the built-in aggregates.
type udafAcc struct {
	f    *logical.Function
	impl logical.AggregateImpl
	ctx  context.Context

	groups int
	sess   logical.AggregateSession
	phase  logical.AggregatePhase
	// out holds a finished session's columns (result, or states) in group
	// order; out[i] has one row per group 0..groups-1.
	out      []arrow.Array
	outPhase logical.AggregatePhase
}

func newUDAFAcc(f *logical.Function) (*udafAcc, error) {
	impl, ok := f.Impl.(logical.AggregateImpl)
	if !ok {
		return nil, fmt.Errorf("aggregate function %s (%s) cannot run in this process: its provider is not loaded here", f.Name, f.Provider)
	}
	return &udafAcc{f: f, impl: impl, ctx: context.Background()}, nil
}

func (a *udafAcc) setContext(ctx context.Context) { a.ctx = ctx }

func (a *udafAcc) resize(n int) { a.groups = max(a.groups, n) }

func (a *udafAcc) open(phase logical.AggregatePhase) error {
	if a.sess != nil && a.phase == phase {
		return nil
	}
	if a.out != nil {
		return fmt.Errorf("%s: rows arrived after the result was taken", a.f.Name)
	}
	if a.sess != nil {
		// Raw rows were sent and now states arrive (a spill was merged
		// back): turn the raw rows into states and merge them too.
		if err := a.finish(); err != nil {
			return err
		}
		states := a.out
		a.out = nil
		defer releaseAll(states)
		if err := a.open(phase); err != nil {
			return err
		}
		return a.sendAll(states)
	}
	s, err := a.impl.OpenAggregate(a.ctx, phase)
	if err != nil {
		return err
	}
	a.sess, a.phase = s, phase
	return nil
}

// sendAll sends state columns for groups 0..len-1.
func (a *udafAcc) sendAll(cols []arrow.Array) error {
	if len(cols) == 0 || cols[0].Len() == 0 {
		return nil
	}
	gids := make([]uint32, cols[0].Len())
	for i := range gids {
		gids[i] = uint32(i)
	}
	return a.send(cols, gids, nil)
}

// send sends rows sel (all when nil) of cols with their groups.
func (a *udafAcc) send(cols []arrow.Array, gids []uint32, sel []int32) error {
	mem := memory.DefaultAllocator
	var g []uint32
	if sel == nil {
		g = gids[:cols[0].Len()]
	} else {
		g = make([]uint32, len(sel))
		for i, r := range sel {
			g[i] = gids[r]
		}
	}
	gb := array.NewUint32Builder(mem)
	gb.AppendValues(g, nil)
	garr := gb.NewArray()
	gb.Release()
	defer garr.Release()
	send := cols
	if sel != nil {
		send = make([]arrow.Array, len(cols))
		for i, c := range cols {
			t, err := expr.TakeArray(mem, c, sel)
			if err != nil {
				releaseAll(send[:i])
				return err
			}
			send[i] = t
		}
		defer releaseAll(send)
	}
	return a.sess.Update(a.ctx, garr, send)
}

func (a *udafAcc) update(arg arrow.Array, gids []uint32, sel []int32) error {
	return a.updateArgs([]arrow.Array{arg}, gids, sel)
}

func (a *udafAcc) updateArgs(args []arrow.Array, gids []uint32, sel []int32) error {
	if err := a.open(logical.AggregatePartial); err != nil {
		return err
	}
	return a.send(args, gids, sel)
}

func (a *udafAcc) merge(states []arrow.Array, gids []uint32) error {
	if err := a.open(logical.AggregateFinal); err != nil {
		return err
	}
	return a.send(states, gids, nil)
}

// finish ends the open session and keeps its output in group order.
func (a *udafAcc) finish() error {
	s := a.sess
	a.sess = nil
	defer s.Close()
	fields := []arrow.Field{a.f.Result}
	if a.phase == logical.AggregatePartial {
		fields = a.f.State
	}
	n := a.groups
	// pos[g] is the row of group g in the concatenated output, -1 if absent.
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = -1
	}
	var parts [][]arrow.Array
	rows := int32(0)
	defer func() {
		for _, p := range parts {
			releaseAll(p)
		}
	}()
	err := s.Finish(a.ctx, func(b arrow.RecordBatch) error {
		g := b.Column(0).(*array.Uint32).Uint32Values()
		for i, x := range g {
			if int(x) >= n {
				return fmt.Errorf("%s (%s) returned group %d, but only %d groups exist", a.f.Name, a.f.Provider, x, n)
			}
			if pos[x] >= 0 {
				return fmt.Errorf("%s (%s) returned group %d twice", a.f.Name, a.f.Provider, x)
			}
			pos[x] = rows + int32(i)
		}
		cols := make([]arrow.Array, len(fields))
		for i := range cols {
			cols[i] = b.Column(i + 1)
			cols[i].Retain()
		}
		parts = append(parts, cols)
		rows += int32(b.NumRows())
		return nil
	})
	if err != nil {
		return err
	}
	mem := memory.DefaultAllocator
	out := make([]arrow.Array, len(fields))
	for i, f := range fields {
		chunks := []arrow.Array{}
		for _, p := range parts {
			chunks = append(chunks, p[i])
		}
		// A trailing NULL row stands for groups the function never saw.
		null := array.MakeArrayOfNull(mem, f.Type, 1)
		chunks = append(chunks, null)
		all, err := array.Concatenate(chunks, mem)
		null.Release()
		if err != nil {
			releaseAll(out[:i])
			return err
		}
		idx := make([]int32, n)
		for g, p := range pos {
			if p < 0 {
				p = rows
			}
			idx[g] = p
		}
		out[i], err = expr.TakeArray(mem, all, idx)
		all.Release()
		if err != nil {
			releaseAll(out[:i])
			return err
		}
	}
	a.out, a.outPhase = out, a.phase
	return nil
}

// taken gives the finished columns of phase want for groups ids.
func (a *udafAcc) taken(alloc memory.Allocator, ids []uint32, want logical.AggregatePhase) ([]arrow.Array, error) {
	if a.sess != nil {
		if want == logical.AggregateFinal && a.phase == logical.AggregatePartial {
			// Raw rows: take their states and evaluate them.
			if err := a.open(logical.AggregateFinal); err != nil {
				return nil, err
			}
		}
		if err := a.finish(); err != nil {
			return nil, err
		}
	}
	if a.out == nil {
		// No rows at all: evaluate an empty aggregation.
		if err := a.open(want); err != nil {
			return nil, err
		}
		if err := a.finish(); err != nil {
			return nil, err
		}
	}
	if a.outPhase != want {
		return nil, fmt.Errorf("aggregate function %s: merged partial states cannot be emitted as partial states again (spilling a partial aggregation of a user-defined aggregate is not supported)", a.f.Name)
	}
	idx := make([]int32, len(ids))
	for i, id := range ids {
		idx[i] = int32(id)
	}
	res := make([]arrow.Array, len(a.out))
	for i, c := range a.out {
		t, err := expr.TakeArray(alloc, c, idx)
		if err != nil {
			releaseAll(res[:i])
			return nil, err
		}
		res[i] = t
	}
	return res, nil
}

func (a *udafAcc) final(alloc memory.Allocator, ids []uint32) (arrow.Array, error) {
	out, err := a.taken(alloc, ids, logical.AggregateFinal)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func (a *udafAcc) state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	return a.taken(alloc, ids, logical.AggregatePartial)
}

func (a *udafAcc) size() int64 {
	var n int64
	for _, c := range a.out {
		for _, b := range c.Data().Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
	}
	return n
}

func (a *udafAcc) reset() {
	if a.sess != nil {
		a.sess.Close()
		a.sess = nil
	}
	releaseAll(a.out)
	a.out = nil
	a.groups = 0
}

func releaseAll(as []arrow.Array) {
	for _, x := range as {
		if x != nil {
			x.Release()
		}
	}
}
