package exec

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/arbalest/arbalest/substrait/logical"
)

// frameBounds are the computed bounds of one frame: position i's frame is
// the sorted positions [fs[i], fe[i]). Both never decrease with i.
type frameBounds struct {
	fs, fe []int32
}

// computeSpec sorts the rows for spec g and computes its functions.
func (s *windowStream) computeSpec(ctx context.Context, g int) error {
	sp := s.node.specs[g]
	n := s.total
	sr, err := s.sortSpec(g)
	if err != nil {
		return err
	}
	s.blocks[g] = nil // the keys are no longer needed
	s.res.Shrink(s.blockBytes[g])
	s.blockBytes[g] = 0
	fixed := int64(4*n + 4*len(sr.parts) + 4*len(sr.peers) + 8*n*len(sp.frames))
	if err := s.grow(fixed); err != nil {
		return err
	}
	defer s.res.Shrink(fixed)
	var rkeys arrow.Array
	if sp.rangeKey {
		if rkeys, err = s.concat(s.rparts[g], &s.rpartBytes[g]); err != nil {
			return err
		}
		defer func() {
			rkeys.Release()
			releaseAll(s.rparts[g])
			s.rparts[g] = nil
			s.res.Shrink(s.rpartBytes[g])
			s.rpartBytes[g] = 0
		}()
	}
	frames := make([]frameBounds, len(sp.frames))
	for i := range sp.frames {
		fb := frameBounds{fs: make([]int32, n), fe: make([]int32, n)}
		if err := s.computeFrame(&sp.frames[i], sr, rkeys, fb.fs, fb.fe); err != nil {
			return err
		}
		frames[i] = fb
	}
	for _, f := range sp.fns {
		if err := ctx.Err(); err != nil {
			return canceled(ctx)
		}
		fn := s.node.fns[f]
		args := make([]arrow.Array, len(s.aparts[f]))
		for i, parts := range s.aparts[f] {
			a, err := s.concat(parts, &s.apartBytes[f])
			if err != nil {
				releaseAll(args)
				return err
			}
			args[i] = a
		}
		var fb *frameBounds
		if fn.frame >= 0 {
			fb = &frames[fn.frame]
		}
		res, err := s.computeFn(fn, sr, fb, args)
		releaseAll(args)
		for _, parts := range s.aparts[f] {
			releaseAll(parts)
		}
		s.aparts[f] = nil
		s.res.Shrink(s.apartBytes[f])
		s.apartBytes[f] = 0
		if err != nil {
			return fmt.Errorf("window: %s: %w", fn.call, err)
		}
		if err := s.grow(totalArrayBytes(res)); err != nil {
			res.Release()
			return err
		}
		s.results[f] = res
	}
	return nil
}

// computeFn computes one function as a column in buffered-row order.
func (s *windowStream) computeFn(fn *windowFn, sr *sortedRows, fb *frameBounds, args []arrow.Array) (arrow.Array, error) {
	switch fn.kind {
	case fnRowNumber, fnRank, fnDenseRank:
		return s.rankInts(fn.kind, sr), nil
	case fnPercentRank, fnCumeDist:
		return s.rankFloats(fn.kind, sr), nil
	case fnNtile:
		return s.ntile(sr, args[0])
	case fnLag, fnLead:
		return s.lagLead(fn, sr, args)
	case fnFirstValue, fnLastValue, fnNthValue:
		return s.frameValue(fn, sr, fb, args)
	case fnCountStar, fnCount:
		return s.count(fn, sr, fb, args), nil
	case fnSum, fnAvg:
		if fn.class == numFloat {
			return s.sumFloat(fn, sr, fb, args[0]), nil
		}
		return s.sumExact(fn, sr, fb, args[0])
	case fnMin, fnMax:
		return s.minMax(fn, sr, fb, args[0])
	case fnBoolAnd, fnBoolOr:
		return s.boolAgg(fn, sr, fb, args[0]), nil
	}
	return nil, fmt.Errorf("unknown window function kind %d", fn.kind)
}

// forPeers calls fn for every peer group [gs, ge) of every partition
// [ps, pe).
func forPeers(sr *sortedRows, fn func(ps, pe, gs, ge int32)) {
	k := 0
	for p := 0; p+1 < len(sr.parts); p++ {
		ps, pe := sr.parts[p], sr.parts[p+1]
		for ; sr.peers[k] < pe; k++ {
			fn(ps, pe, sr.peers[k], sr.peers[k+1])
		}
	}
}

func (s *windowStream) rankInts(kind fnKind, sr *sortedRows) arrow.Array {
	o := newFixedOut[int64](s.alloc, len(sr.perm))
	perm := sr.perm
	var dense, lastPart int64 = 0, -1
	forPeers(sr, func(ps, pe, gs, ge int32) {
		if int64(ps) != lastPart {
			lastPart, dense = int64(ps), 0
		}
		dense++
		switch kind {
		case fnRowNumber:
			for i := gs; i < ge; i++ {
				o.v[perm[i]] = int64(i-ps) + 1
			}
		case fnRank:
			r := int64(gs-ps) + 1
			for i := gs; i < ge; i++ {
				o.v[perm[i]] = r
			}
		default:
			for i := gs; i < ge; i++ {
				o.v[perm[i]] = dense
			}
		}
	})
	return o.array(logical.Int64)
}

func (s *windowStream) rankFloats(kind fnKind, sr *sortedRows) arrow.Array {
	o := newFixedOut[float64](s.alloc, len(sr.perm))
	perm := sr.perm
	forPeers(sr, func(ps, pe, gs, ge int32) {
		var v float64
		if kind == fnCumeDist {
			v = float64(ge-ps) / float64(pe-ps)
		} else if pe-ps > 1 {
			v = float64(gs-ps) / float64(pe-ps-1)
		}
		for i := gs; i < ge; i++ {
			o.v[perm[i]] = v
		}
	})
	return o.array(logical.Float64)
}

// int64Values reads an integer column as int64 (buffered-row order).
func int64Values(a arrow.Array) ([]int64, error) {
	out := make([]int64, a.Len())
	d := a.Data()
	switch a.DataType().ID() {
	case arrow.INT8:
		widenAll(out, rawValues[int8](d))
	case arrow.INT16:
		widenAll(out, rawValues[int16](d))
	case arrow.INT32:
		widenAll(out, rawValues[int32](d))
	case arrow.INT64:
		copy(out, rawValues[int64](d))
	case arrow.UINT8:
		widenAll(out, rawValues[uint8](d))
	case arrow.UINT16:
		widenAll(out, rawValues[uint16](d))
	case arrow.UINT32:
		widenAll(out, rawValues[uint32](d))
	case arrow.UINT64:
		for i, v := range rawValues[uint64](d) {
			out[i] = int64(min(v, 1<<63-1))
		}
	default:
		return nil, fmt.Errorf("expected an integer, got %s", a.DataType())
	}
	return out, nil
}

func widenAll[T int8 | int16 | int32 | uint8 | uint16 | uint32](out []int64, vals []T) {
	for i, v := range vals {
		out[i] = int64(v)
	}
}

// ntile splits each partition into n buckets whose sizes differ by at
// most one, the larger first; n is read at the partition's first row.
func (s *windowStream) ntile(sr *sortedRows, arg arrow.Array) (arrow.Array, error) {
	buckets, err := int64Values(arg)
	if err != nil {
		return nil, err
	}
	valid := validityOf(arg)
	o := newFixedOut[int64](s.alloc, len(sr.perm))
	perm := sr.perm
	for p := 0; p+1 < len(sr.parts); p++ {
		ps, pe := sr.parts[p], sr.parts[p+1]
		first := perm[ps]
		if !valid.valid(int(first)) {
			for i := ps; i < pe; i++ {
				o.setNull(perm[i])
			}
			continue
		}
		k := buckets[first]
		if k <= 0 {
			o.release()
			return nil, fmt.Errorf("argument of ntile must be greater than zero, got %d", k)
		}
		m := int64(pe - ps)
		base, extra := m/k, m%k
		big := extra * (base + 1)
		for i := ps; i < pe; i++ {
			r := int64(i - ps)
			if r < big {
				o.v[perm[i]] = r/(base+1) + 1
			} else {
				o.v[perm[i]] = extra + (r-big)/base + 1
			}
		}
	}
	return o.array(logical.Int64), nil
}

// lagLead reads the value offset rows before (lag) or after (lead) each
// row in its partition, else the default (NULL without one). A NULL
// offset gives NULL.
func (s *windowStream) lagLead(fn *windowFn, sr *sortedRows, args []arrow.Array) (arrow.Array, error) {
	n := len(sr.perm)
	var offs []int64
	var offValid validity
	if len(args) >= 2 {
		var err error
		if offs, err = int64Values(args[1]); err != nil {
			return nil, err
		}
		offValid = validityOf(args[1])
	}
	hasDefault := len(args) == 3
	refs := make([]rowRef, n)
	perm := sr.perm
	for p := 0; p+1 < len(sr.parts); p++ {
		ps, pe := int64(sr.parts[p]), int64(sr.parts[p+1])
		for i := ps; i < pe; i++ {
			r := perm[i]
			off := int64(1)
			if offs != nil {
				if !offValid.valid(int(r)) {
					refs[r] = rowRef{Src: -1}
					continue
				}
				off = offs[r]
			}
			var j int64
			if fn.kind == fnLag {
				j = subSat64(i, off)
			} else {
				j = addSat64(i, off)
			}
			switch {
			case j >= ps && j < pe:
				refs[r] = rowRef{Src: 0, Row: perm[j]}
			case hasDefault:
				refs[r] = rowRef{Src: 1, Row: r}
			default:
				refs[r] = rowRef{Src: -1}
			}
		}
	}
	srcs := args[:1]
	if hasDefault {
		srcs = []arrow.Array{args[0], args[2]}
	}
	return interleaveArrays(s.alloc, fn.call.T, srcs, refs)
}

// frameValue computes first_value, last_value and nth_value: a row of the
// frame, or NULL when the frame is too short.
func (s *windowStream) frameValue(fn *windowFn, sr *sortedRows, fb *frameBounds, args []arrow.Array) (arrow.Array, error) {
	n := len(sr.perm)
	idx := make([]int32, n)
	perm := sr.perm
	var nth []int64
	var nthValid validity
	if fn.kind == fnNthValue {
		var err error
		if nth, err = int64Values(args[1]); err != nil {
			return nil, err
		}
		nthValid = validityOf(args[1])
	}
	for i := range n {
		r := perm[i]
		a, b := fb.fs[i], fb.fe[i]
		j := int64(-1)
		if a < b {
			switch fn.kind {
			case fnFirstValue:
				j = int64(a)
			case fnLastValue:
				j = int64(b - 1)
			default:
				if !nthValid.valid(int(r)) {
					break
				}
				k := nth[r]
				if k <= 0 {
					return nil, fmt.Errorf("argument of nth_value must be greater than zero, got %d", k)
				}
				if k <= int64(b-a) {
					j = int64(a) + k - 1
				}
			}
		} else if fn.kind == fnNthValue && nthValid.valid(int(r)) && nth[r] <= 0 {
			return nil, fmt.Errorf("argument of nth_value must be greater than zero, got %d", nth[r])
		}
		if j < 0 {
			idx[r] = -1
		} else {
			idx[r] = perm[j]
		}
	}
	return takeArray(s.alloc, args[0], idx)
}

// validPrefix returns c with c[i] = the number of non-NULL values among
// sorted positions [0, i).
func validPrefix(a arrow.Array, perm []int32) []int32 {
	c := make([]int32, len(perm)+1)
	v := validityOf(a)
	if v.bits == nil {
		for i := range c {
			c[i] = int32(i)
		}
		return c
	}
	for i, r := range perm {
		c[i+1] = c[i]
		if v.valid(int(r)) {
			c[i+1]++
		}
	}
	return c
}

func (s *windowStream) count(fn *windowFn, sr *sortedRows, fb *frameBounds, args []arrow.Array) arrow.Array {
	n := len(sr.perm)
	o := newFixedOut[int64](s.alloc, n)
	if fn.kind == fnCountStar {
		for i, r := range sr.perm {
			o.v[r] = int64(fb.fe[i] - fb.fs[i])
		}
		return o.array(logical.Int64)
	}
	c := validPrefix(args[0], sr.perm)
	for i, r := range sr.perm {
		o.v[r] = int64(c[fb.fe[i]] - c[fb.fs[i]])
	}
	return o.array(logical.Int64)
}

// sumExact computes sum and avg of integers and decimals from 128-bit
// prefix sums over the sorted positions: a frame's sum is the difference
// of two prefixes (exact in wrapping arithmetic while the true sum fits).
func (s *windowStream) sumExact(fn *windowFn, sr *sortedRows, fb *frameBounds, arg arrow.Array) (arrow.Array, error) {
	n := len(sr.perm)
	perm := sr.perm
	if err := s.grow(int64(16 * (n + 1))); err != nil {
		return nil, err
	}
	defer s.res.Shrink(int64(16 * (n + 1)))
	p := make([]i128, n+1)
	v := validityOf(arg)
	d := arg.Data()
	switch arg.DataType().ID() {
	case arrow.INT8:
		prefixSum(p, rawValues[int8](d), v, perm)
	case arrow.INT16:
		prefixSum(p, rawValues[int16](d), v, perm)
	case arrow.INT32:
		prefixSum(p, rawValues[int32](d), v, perm)
	case arrow.INT64, arrow.DECIMAL64:
		prefixSum(p, rawValues[int64](d), v, perm)
	case arrow.UINT8:
		prefixSum(p, rawValues[uint8](d), v, perm)
	case arrow.UINT16:
		prefixSum(p, rawValues[uint16](d), v, perm)
	case arrow.UINT32:
		prefixSum(p, rawValues[uint32](d), v, perm)
	case arrow.UINT64:
		vals := rawValues[uint64](d)
		for i, r := range perm {
			p[i+1] = p[i]
			if v.valid(int(r)) {
				p[i+1] = p[i].add(i128OfUint(vals[r]))
			}
		}
	case arrow.DECIMAL128:
		vals := rawValues[i128](d)
		// With |values| < 2^96 and fewer than 2^31 rows no frame sum
		// reaches 2^127, so the wrapped prefix differences are exact.
		for i, r := range perm {
			p[i+1] = p[i]
			if v.valid(int(r)) {
				x := vals[r]
				if x.hi >= 1<<32 || x.hi < -(1<<32) {
					return nil, fmt.Errorf("%w: decimal values too large to sum exactly over a window frame", errWindowOverflow)
				}
				p[i+1] = p[i].add(x)
			}
		}
	default:
		return nil, fmt.Errorf("cannot sum %s", arg.DataType())
	}
	c := validPrefix(arg, perm)
	out := fn.call.T
	rp, rs, isDec := logical.DecimalParams(out)
	switch {
	case fn.kind == fnAvg && fn.class == numInt:
		o := newFixedOut[float64](s.alloc, n)
		for i, r := range perm {
			a, b := fb.fs[i], fb.fe[i]
			cnt := c[b] - c[a]
			if cnt == 0 {
				o.setNull(r)
				continue
			}
			o.v[r] = p[b].sub(p[a]).float() / float64(cnt)
		}
		return o.array(out), nil
	case !isDec: // sum of integers
		o := newFixedOut[int64](s.alloc, n)
		for i, r := range perm {
			a, b := fb.fs[i], fb.fe[i]
			if c[b] == c[a] {
				o.setNull(r)
				continue
			}
			x := p[b].sub(p[a])
			if !x.fitsInt64() {
				o.release()
				return nil, fmt.Errorf("%w: sum does not fit int64", errWindowOverflow)
			}
			o.v[r] = int64(x.lo)
		}
		return o.array(out), nil
	}
	shift := rs - fn.scale
	var o64 *fixedOut[int64]
	var o128 *fixedOut[i128]
	if out.ID() == arrow.DECIMAL64 {
		o64 = newFixedOut[int64](s.alloc, n)
	} else {
		o128 = newFixedOut[i128](s.alloc, n)
	}
	fail := func() (arrow.Array, error) {
		if o64 != nil {
			o64.release()
		} else {
			o128.release()
		}
		return nil, fmt.Errorf("%w: %s does not fit %s", errWindowOverflow, fn.call.Func, out)
	}
	for i, r := range perm {
		a, b := fb.fs[i], fb.fe[i]
		cnt := c[b] - c[a]
		if cnt == 0 {
			if o64 != nil {
				o64.setNull(r)
			} else {
				o128.setNull(r)
			}
			continue
		}
		x := p[b].sub(p[a])
		var ok bool
		if fn.kind == fnAvg {
			x, ok = divRoundI128(x, shift, int64(cnt))
		} else {
			x, ok = x.mulPow10(shift)
		}
		if !ok || !x.fitsDigits(rp) {
			return fail()
		}
		if o64 != nil {
			o64.v[r] = int64(x.lo)
		} else {
			o128.v[r] = x
		}
	}
	if o64 != nil {
		return o64.array(out), nil
	}
	return o128.array(out), nil
}

func prefixSum[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32](p []i128, vals []T, v validity, perm []int32) {
	if v.bits == nil {
		for i, r := range perm {
			p[i+1] = p[i].add(i128Of(int64(vals[r])))
		}
		return
	}
	for i, r := range perm {
		p[i+1] = p[i]
		if v.valid(int(r)) {
			p[i+1] = p[i].add(i128Of(int64(vals[r])))
		}
	}
}

// sumFloat computes sum and avg of floats. Frames that start at the
// partition's first row keep a running sum; moving frames query a segment
// tree, so no value is ever subtracted (which would lose precision and
// turn infinities into NaN).
func (s *windowStream) sumFloat(fn *windowFn, sr *sortedRows, fb *frameBounds, arg arrow.Array) arrow.Array {
	n := len(sr.perm)
	perm := sr.perm
	x := make([]float64, n)
	v := validityOf(arg)
	d := arg.Data()
	if arg.DataType().ID() == arrow.FLOAT32 {
		vals := rawValues[float32](d)
		for i, r := range perm {
			if v.valid(int(r)) {
				x[i] = float64(vals[r])
			}
		}
	} else {
		vals := rawValues[float64](d)
		for i, r := range perm {
			if v.valid(int(r)) {
				x[i] = vals[r]
			}
		}
	}
	c := validPrefix(arg, perm)
	o := newFixedOut[float64](s.alloc, n)
	avg := fn.kind == fnAvg
	put := func(i int, sum float64) {
		r := perm[i]
		cnt := c[fb.fe[i]] - c[fb.fs[i]]
		switch {
		case cnt == 0:
			o.setNull(r)
		case avg:
			o.v[r] = sum / float64(cnt)
		default:
			o.v[r] = sum
		}
	}
	running := true
	for p := 0; p+1 < len(sr.parts) && running; p++ {
		for i := sr.parts[p]; i < sr.parts[p+1]; i++ {
			if fb.fs[i] != sr.parts[p] {
				running = false
				break
			}
		}
	}
	if running {
		for p := 0; p+1 < len(sr.parts); p++ {
			ps, pe := sr.parts[p], sr.parts[p+1]
			sum, j := 0.0, ps
			for i := ps; i < pe; i++ {
				for ; j < fb.fe[i]; j++ {
					sum += x[j]
				}
				put(int(i), sum)
			}
		}
		return o.array(logical.Float64)
	}
	tree := make([]float64, 2*n)
	copy(tree[n:], x)
	for i := n - 1; i >= 1; i-- {
		tree[i] = tree[2*i] + tree[2*i+1]
	}
	for i := range n {
		l, r := int(fb.fs[i])+n, int(fb.fe[i])+n
		sum := 0.0
		for l < r {
			if l&1 == 1 {
				sum += tree[l]
				l++
			}
			if r&1 == 1 {
				r--
				sum += tree[r]
			}
			l >>= 1
			r >>= 1
		}
		put(i, sum)
	}
	return o.array(logical.Float64)
}

// boolAgg computes bool_and and bool_or from prefix counts of non-NULL
// and of true values.
func (s *windowStream) boolAgg(fn *windowFn, sr *sortedRows, fb *frameBounds, arg arrow.Array) arrow.Array {
	n := len(sr.perm)
	c := validPrefix(arg, sr.perm)
	t := make([]int32, n+1)
	v := validityOf(arg)
	d := arg.Data()
	bits, off := d.Buffers()[1].Bytes(), d.Offset()
	for i, r := range sr.perm {
		t[i+1] = t[i]
		if v.valid(int(r)) && bitutil.BitIsSet(bits, off+int(r)) {
			t[i+1]++
		}
	}
	o := newBoolOut(s.alloc, n)
	for i, r := range sr.perm {
		a, b := fb.fs[i], fb.fe[i]
		cnt, trues := c[b]-c[a], t[b]-t[a]
		switch {
		case cnt == 0:
			o.setNull(r)
		case fn.kind == fnBoolAnd:
			o.set(r, trues == cnt)
		default:
			o.set(r, trues > 0)
		}
	}
	return o.array()
}

// minMax computes min and max as the position of the extreme non-NULL
// value of each frame, found with a monotonic deque over the sorted
// positions (frames only move forward), then gathers those values.
func (s *windowStream) minMax(fn *windowFn, sr *sortedRows, fb *frameBounds, arg arrow.Array) (arrow.Array, error) {
	perm := sr.perm
	n := len(perm)
	v := validityOf(arg)
	d := arg.Data()
	isMax := fn.kind == fnMax
	sel := make([]int32, n)
	switch arg.DataType().ID() {
	case arrow.INT8:
		extremes(sortedKeys(rawValues[int8](d), perm), v, perm, fb, isMax, sel)
	case arrow.INT16:
		extremes(sortedKeys(rawValues[int16](d), perm), v, perm, fb, isMax, sel)
	case arrow.INT32, arrow.DATE32, arrow.TIME32:
		extremes(sortedKeys(rawValues[int32](d), perm), v, perm, fb, isMax, sel)
	case arrow.INT64, arrow.DATE64, arrow.TIME64, arrow.TIMESTAMP, arrow.DECIMAL64:
		extremes(sortedKeys(rawValues[int64](d), perm), v, perm, fb, isMax, sel)
	case arrow.UINT8:
		extremes(sortedKeys(rawValues[uint8](d), perm), v, perm, fb, isMax, sel)
	case arrow.UINT16:
		extremes(sortedKeys(rawValues[uint16](d), perm), v, perm, fb, isMax, sel)
	case arrow.UINT32:
		extremes(sortedKeys(rawValues[uint32](d), perm), v, perm, fb, isMax, sel)
	case arrow.UINT64:
		extremes(sortedKeys(rawValues[uint64](d), perm), v, perm, fb, isMax, sel)
	case arrow.FLOAT32:
		vals := rawValues[float32](d)
		k := make([]uint32, n)
		for i, r := range perm {
			k[i] = floatKey32(vals[r])
		}
		extremes(k, v, perm, fb, isMax, sel)
	case arrow.FLOAT64:
		vals := rawValues[float64](d)
		k := make([]uint64, n)
		for i, r := range perm {
			k[i] = floatKey64(vals[r])
		}
		extremes(k, v, perm, fb, isMax, sel)
	case arrow.BOOL:
		bits, off := d.Buffers()[1].Bytes(), d.Offset()
		k := make([]uint8, n)
		for i, r := range perm {
			if bitutil.BitIsSet(bits, off+int(r)) {
				k[i] = 1
			}
		}
		extremes(k, v, perm, fb, isMax, sel)
	case arrow.DECIMAL128:
		vals := rawValues[i128](d)
		extremes(denseRanks(n, perm, v, func(a, b int32) int { return vals[a].cmp(vals[b]) }), v, perm, fb, isMax, sel)
	case arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.LARGE_BINARY:
		extremes(denseRanks(n, perm, v, func(a, b int32) int {
			return bytes.Compare(bytesAt(arg, int(a)), bytesAt(arg, int(b)))
		}), v, perm, fb, isMax, sel)
	default:
		return nil, fmt.Errorf("not supported: %s of %s", fn.call.Func, arg.DataType())
	}
	idx := make([]int32, n)
	for i, r := range perm {
		if j := sel[i]; j >= 0 {
			idx[r] = perm[j]
		} else {
			idx[r] = -1
		}
	}
	return takeArray(s.alloc, arg, idx)
}

// sortedKeys gathers vals into sorted-position order.
func sortedKeys[T any](vals []T, perm []int32) []T {
	out := make([]T, len(perm))
	if len(vals) == 0 {
		return out
	}
	for i, r := range perm {
		out[i] = vals[r]
	}
	return out
}

// denseRanks maps the values of the sorted positions to their dense rank
// among all values (by cmpRows over buffered rows), for types without a
// native order.
func denseRanks(n int, perm []int32, v validity, cmpRows func(a, b int32) int) []int32 {
	order := make([]int32, 0, n)
	for i, r := range perm {
		if v.valid(int(r)) {
			order = append(order, int32(i))
		}
	}
	slices.SortFunc(order, func(a, b int32) int { return cmpRows(perm[a], perm[b]) })
	keys := make([]int32, n)
	rank := int32(0)
	for t, i := range order {
		if t > 0 && cmpRows(perm[order[t-1]], perm[i]) != 0 {
			rank++
		}
		keys[i] = rank
	}
	return keys
}

// extremes sets sel[i] to the sorted position of the smallest (largest
// with isMax) non-NULL key in frame i, or -1. The deque holds candidate
// positions with strictly improving keys from back to front.
func extremes[T cmp.Ordered](keys []T, v validity, perm []int32, fb *frameBounds, isMax bool, sel []int32) {
	n := len(keys)
	q := make([]int32, 0, n)
	head := 0
	next := int32(0)
	for i := range n {
		a, b := fb.fs[i], fb.fe[i]
		for ; next < b; next++ {
			if !v.valid(int(perm[next])) {
				continue
			}
			k := keys[next]
			for len(q) > head {
				last := keys[q[len(q)-1]]
				if (isMax && last > k) || (!isMax && last < k) {
					break
				}
				q = q[:len(q)-1]
			}
			q = append(q, next)
		}
		for head < len(q) && q[head] < a {
			head++
		}
		if head < len(q) {
			sel[i] = q[head]
		} else {
			sel[i] = -1
		}
	}
}
