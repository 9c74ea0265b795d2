package aggregate

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// accumulator holds the state of one aggregate for every group. Groups are
// dense ids; resize grows the state to n groups with empty values.
//
// update folds raw argument values in: rows i of arg with group gids[i],
// for i in sel, or for every row when sel is nil (then arg has no nulls in
// the rows used). arg is nil for count(*). merge folds rows of partial state
// columns in (the layout of stateFields). final and state build the
// result, or the partial state columns, of the groups ids, in that order.
type accumulator interface {
	resize(n int)
	update(arg arrow.Array, gids []uint32, sel []int32) error
	merge(states []arrow.Array, gids []uint32) error
	final(alloc memory.Allocator, ids []uint32) (arrow.Array, error)
	state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error)
	// size is the bytes of state held.
	size() int64
	reset()
}

// multiArgAcc is an accumulator of an aggregate of several arguments
// (avg_merge): raw rows are folded in by updateArgs, called instead of
// update, with rows sel of every argument non-NULL (all rows when nil).
type multiArgAcc interface {
	accumulator
	updateArgs(args []arrow.Array, gids []uint32, sel []int32) error
}

// errOverflow is wrapped by arithmetic overflow errors.
var errOverflow = errors.New("numeric overflow")

func grow[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		old := len(s)
		s = s[:n]
		clear(s[old:])
		return s
	}
	ns := make([]T, n, max(n, 2*cap(s), 16))
	copy(ns, s)
	return ns
}

// ---- count ----

type countAcc struct{ c []int64 }

func (a *countAcc) resize(n int) { a.c = grow(a.c, n) }
func (a *countAcc) update(_ arrow.Array, gids []uint32, sel []int32) error {
	c := a.c
	if sel == nil {
		for _, g := range gids {
			c[g]++
		}
		return nil
	}
	for _, i := range sel {
		c[gids[i]]++
	}
	return nil
}
func (a *countAcc) merge(states []arrow.Array, gids []uint32) error {
	v := fixedValues[int64](states[0])
	c := a.c
	for i, g := range gids {
		c[g] += v[i]
	}
	return nil
}
func (a *countAcc) final(alloc memory.Allocator, ids []uint32) (arrow.Array, error) {
	return gatherFixed(alloc, arrow.PrimitiveTypes.Int64, a.c, nil, ids), nil
}
func (a *countAcc) state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	x, err := a.final(alloc, ids)
	return []arrow.Array{x}, err
}
func (a *countAcc) size() int64 { return int64(cap(a.c)) * 8 }
func (a *countAcc) reset()      { a.c = nil }

// ---- sum of integers ----

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

type sumIntAcc struct {
	s   []int64
	set []bool
}

func (a *sumIntAcc) resize(n int) { a.s = grow(a.s, n); a.set = grow(a.set, n) }

func sumInts[T integer](sums []int64, set []bool, vals []T, gids []uint32, sel []int32) bool {
	var of int64
	if sel == nil {
		for i, g := range gids {
			s, v := sums[g], int64(vals[i])
			r := s + v
			of |= (s ^ r) & (v ^ r)
			sums[g] = r
			set[g] = true
		}
	} else {
		for _, i := range sel {
			g := gids[i]
			s, v := sums[g], int64(vals[i])
			r := s + v
			of |= (s ^ r) & (v ^ r)
			sums[g] = r
			set[g] = true
		}
	}
	return of < 0
}

func (a *sumIntAcc) update(arg arrow.Array, gids []uint32, sel []int32) error {
	var of bool
	switch arg.DataType().ID() {
	case arrow.INT8:
		of = sumInts(a.s, a.set, fixedValues[int8](arg), gids, sel)
	case arrow.INT16:
		of = sumInts(a.s, a.set, fixedValues[int16](arg), gids, sel)
	case arrow.INT32:
		of = sumInts(a.s, a.set, fixedValues[int32](arg), gids, sel)
	case arrow.INT64:
		of = sumInts(a.s, a.set, fixedValues[int64](arg), gids, sel)
	case arrow.UINT8:
		of = sumInts(a.s, a.set, fixedValues[uint8](arg), gids, sel)
	case arrow.UINT16:
		of = sumInts(a.s, a.set, fixedValues[uint16](arg), gids, sel)
	case arrow.UINT32:
		of = sumInts(a.s, a.set, fixedValues[uint32](arg), gids, sel)
	case arrow.UINT64:
		vals := fixedValues[uint64](arg)
		for _, v := range vals {
			if v > math.MaxInt64 {
				return fmt.Errorf("%w: sum of %s: value %d exceeds int64", errOverflow, arg.DataType(), v)
			}
		}
		of = sumInts(a.s, a.set, vals, gids, sel)
	default:
		return fmt.Errorf("sum: unexpected argument type %s", arg.DataType())
	}
	if of {
		return fmt.Errorf("%w: sum of %s overflowed int64", errOverflow, arg.DataType())
	}
	return nil
}

func (a *sumIntAcc) merge(states []arrow.Array, gids []uint32) error {
	var buf []int32
	sel := validRows(states[0], buf)
	if sumInts(a.s, a.set, fixedValues[int64](states[0]), gids, sel) {
		return fmt.Errorf("%w: sum overflowed int64", errOverflow)
	}
	return nil
}
func (a *sumIntAcc) final(alloc memory.Allocator, ids []uint32) (arrow.Array, error) {
	return gatherFixed(alloc, arrow.PrimitiveTypes.Int64, a.s, a.set, ids), nil
}
func (a *sumIntAcc) state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	x, err := a.final(alloc, ids)
	return []arrow.Array{x}, err
}
func (a *sumIntAcc) size() int64 { return int64(cap(a.s))*8 + int64(cap(a.set)) }
func (a *sumIntAcc) reset()      { a.s, a.set = nil, nil }

// ---- sum of floats ----

type sumFloatAcc struct {
	s   []float64
	set []bool
}

func (a *sumFloatAcc) resize(n int) { a.s = grow(a.s, n); a.set = grow(a.set, n) }

func sumFloats[T float32 | float64](sums []float64, set []bool, vals []T, gids []uint32, sel []int32) {
	if sel == nil {
		for i, g := range gids {
			sums[g] += float64(vals[i])
			set[g] = true
		}
		return
	}
	for _, i := range sel {
		g := gids[i]
		sums[g] += float64(vals[i])
		set[g] = true
	}
}

func (a *sumFloatAcc) update(arg arrow.Array, gids []uint32, sel []int32) error {
	switch arg.DataType().ID() {
	case arrow.FLOAT32:
		sumFloats(a.s, a.set, fixedValues[float32](arg), gids, sel)
	case arrow.FLOAT64:
		sumFloats(a.s, a.set, fixedValues[float64](arg), gids, sel)
	default:
		return fmt.Errorf("sum: unexpected argument type %s", arg.DataType())
	}
	return nil
}
func (a *sumFloatAcc) merge(states []arrow.Array, gids []uint32) error {
	sumFloats(a.s, a.set, fixedValues[float64](states[0]), gids, validRows(states[0], nil))
	return nil
}
func (a *sumFloatAcc) final(alloc memory.Allocator, ids []uint32) (arrow.Array, error) {
	return gatherFixed(alloc, arrow.PrimitiveTypes.Float64, a.s, a.set, ids), nil
}
func (a *sumFloatAcc) state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	x, err := a.final(alloc, ids)
	return []arrow.Array{x}, err
}
func (a *sumFloatAcc) size() int64 { return int64(cap(a.s))*8 + int64(cap(a.set)) }
func (a *sumFloatAcc) reset()      { a.s, a.set = nil, nil }

// ---- exact sum into 128 bits (decimals; integers for avg) ----

// wideCell is the state of an exact sum for one group: the 128-bit total
// and how many values were added (the sum is NULL while n is 0; avg
// divides by n). Keeping both in one cell means one cache line per row
// when there are many groups.
type wideCell struct {
	lo uint64
	hi int64
	n  int64
}

func (c *wideCell) add64(v int64) {
	lo, carry := bits.Add64(c.lo, uint64(v), 0)
	c.lo = lo
	c.hi += v>>63 + int64(carry)
}

func (c *wideCell) sum() int128 { return int128{lo: c.lo, hi: c.hi} }

// sumWideAcc sums decimals (and, for avg, integers) exactly in 128 bits,
// counting the values. Its result and state type is decimal(38, scale).
type sumWideAcc struct {
	c   []wideCell
	typ *arrow.Decimal128Type
	// part and partN hold per-batch int64 partial sums and counts for few
	// groups (see sumNarrow); they are all zero between batches.
	part, partN []int64
	// lows is scratch for the low words of Decimal128 arguments.
	lows []int64
}

// narrowGroups is the most groups for which a batch is summed into int64
// partials first (folding them costs one pass over the groups per batch).
const narrowGroups = 4096

// sumNarrow adds a batch of values of at most maxAbs in magnitude into
// int64 partials, which cannot overflow when len(rows) * maxAbs < 2^63,
// then folds the partials into the 128-bit sums. It reports false (doing
// nothing) when that bound does not hold or there are too many groups.
func sumNarrow[T integer](a *sumWideAcc, vals []T, maxAbs uint64, gids []uint32, sel []int32) bool {
	n := len(gids)
	if sel != nil {
		n = len(sel)
	}
	ng := len(a.c)
	if ng > narrowGroups || maxAbs == 0 || uint64(n) > math.MaxInt64/maxAbs {
		return false
	}
	a.part, a.partN = grow(a.part, ng), grow(a.partN, ng)
	part, pn := a.part[:ng], a.partN[:ng]
	if sel == nil {
		vals = vals[:len(gids)]
		for i, g := range gids {
			part[g] += int64(vals[i])
			pn[g]++
		}
	} else {
		for _, i := range sel {
			g := gids[i]
			part[g] += int64(vals[i])
			pn[g]++
		}
	}
	cells := a.c[:ng]
	for g, k := range pn {
		if k != 0 {
			c := &cells[g]
			c.add64(part[g])
			c.n += k
			part[g], pn[g] = 0, 0
		}
	}
	return true
}

// maxAbsOf bounds the magnitude of values of type t (0: no useful bound).
func maxAbsOf(t arrow.DataType) uint64 {
	switch t.ID() {
	case arrow.INT8, arrow.UINT8:
		return 1 << 8
	case arrow.INT16, arrow.UINT16:
		return 1 << 16
	case arrow.INT32, arrow.UINT32:
		return 1 << 32
	case arrow.DECIMAL64:
		p := t.(*arrow.Decimal64Type).Precision
		if p < 19 {
			return uint64(pow10[p])
		}
	}
	return 0
}

func (a *sumWideAcc) resize(n int) { a.c = grow(a.c, n) }

// sumSmall adds values of at most 64 bits into the cells (a 128-bit sum of
// fewer than 2^64 of them cannot overflow).
func sumSmall[T integer](cells []wideCell, vals []T, gids []uint32, sel []int32) {
	if sel == nil {
		vals = vals[:len(gids)]
		for i, g := range gids {
			c := &cells[g]
			c.add64(int64(vals[i]))
			c.n++
		}
		return
	}
	for _, i := range sel {
		c := &cells[gids[i]]
		c.add64(int64(vals[i]))
		c.n++
	}
}

// sumWide adds 128-bit values, reporting an overflow.
func sumWide(cells []wideCell, vals []int128, gids []uint32, sel []int32) bool {
	of := false
	one := func(c *wideCell, v int128) {
		r, o := c.sum().add(v)
		c.lo, c.hi = r.lo, r.hi
		c.n++
		of = of || o
	}
	if sel == nil {
		for i, g := range gids {
			one(&cells[g], vals[i])
		}
		return of
	}
	for _, i := range sel {
		one(&cells[gids[i]], vals[i])
	}
	return of
}

// lowWords copies the low words of the rows of vals in sel (all when sel is
// nil) into buf, returning it with the largest magnitude among them, and
// ok only if every one of those values fits in an int64.
func lowWords(vals []int128, sel []int32, buf []int64) (lows []int64, maxAbs uint64, ok bool) {
	if cap(buf) < len(vals) {
		buf = make([]int64, len(vals))
	}
	buf = buf[:len(vals)]
	var wide bool
	one := func(i int) {
		v := vals[i]
		x := int64(v.lo)
		buf[i] = x
		wide = wide || v.hi != x>>63
		m := uint64(x)
		if x < 0 {
			m = uint64(-x)
		}
		maxAbs = max(maxAbs, m)
	}
	if sel == nil {
		for i := range vals {
			one(i)
		}
	} else {
		for _, i := range sel {
			one(int(i))
		}
	}
	return buf, maxAbs, !wide
}

func (a *sumWideAcc) update(arg arrow.Array, gids []uint32, sel []int32) error {
	switch arg.DataType().ID() {
	case arrow.DECIMAL64:
		if sumNarrow(a, fixedValues[int64](arg), maxAbsOf(arg.DataType()), gids, sel) {
			return nil
		}
	case arrow.INT32:
		if sumNarrow(a, fixedValues[int32](arg), maxAbsOf(arg.DataType()), gids, sel) {
			return nil
		}
	}
	switch arg.DataType().ID() {
	case arrow.INT32:
		sumSmall(a.c, fixedValues[int32](arg), gids, sel)
	case arrow.DECIMAL64, arrow.INT64:
		sumSmall(a.c, fixedValues[int64](arg), gids, sel)
	case arrow.INT8:
		sumSmall(a.c, fixedValues[int8](arg), gids, sel)
	case arrow.INT16:
		sumSmall(a.c, fixedValues[int16](arg), gids, sel)
	case arrow.UINT8:
		sumSmall(a.c, fixedValues[uint8](arg), gids, sel)
	case arrow.UINT16:
		sumSmall(a.c, fixedValues[uint16](arg), gids, sel)
	case arrow.UINT32:
		sumSmall(a.c, fixedValues[uint32](arg), gids, sel)
	case arrow.UINT64:
		for _, v := range fixedValues[uint64](arg) {
			if v > math.MaxInt64 {
				return fmt.Errorf("%w: value %d of %s exceeds int64", errOverflow, v, arg.DataType())
			}
		}
		sumSmall(a.c, fixedValues[uint64](arg), gids, sel)
	case arrow.DECIMAL128:
		vals := fixedValues[int128](arg)
		if lows, maxAbs, ok := lowWords(vals, sel, a.lows); ok {
			// Every value fits in 64 bits (typical: products of narrow
			// decimals): sum them as int64s.
			a.lows = lows
			if !sumNarrow(a, lows, maxAbs, gids, sel) {
				sumSmall(a.c, lows, gids, sel)
			}
			return nil
		}
		if sumWide(a.c, vals, gids, sel) {
			return fmt.Errorf("%w: sum of %s exceeds 128 bits", errOverflow, arg.DataType())
		}
	default:
		return fmt.Errorf("sum: unexpected argument type %s", arg.DataType())
	}
	return nil
}

// merge folds partial sums in (a NULL partial sum contributes nothing).
func (a *sumWideAcc) merge(states []arrow.Array, gids []uint32) error {
	if sumWide(a.c, fixedValues[int128](states[0]), gids, validRows(states[0], nil)) {
		return fmt.Errorf("%w: sum exceeds 128 bits", errOverflow)
	}
	return nil
}

// sums gathers the sums of ids and whether each is set (n > 0).
func (a *sumWideAcc) sums(ids []uint32) ([]int128, []bool) {
	out := make([]int128, len(ids))
	set := make([]bool, len(ids))
	for j, id := range ids {
		c := &a.c[id]
		out[j], set[j] = c.sum(), c.n > 0
	}
	return out, set
}

func (a *sumWideAcc) final(alloc memory.Allocator, ids []uint32) (arrow.Array, error) {
	out, set := a.sums(ids)
	for j, v := range out {
		if set[j] && !v.fits38() {
			return nil, fmt.Errorf("%w: sum %s does not fit %s", errOverflow, v.big(), a.typ)
		}
	}
	return gatherFixed(alloc, a.typ, out, set, identity(len(ids))), nil
}

func (a *sumWideAcc) state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	// Partial sums may exceed 38 digits transiently; the state keeps all
	// 128 bits.
	out, set := a.sums(ids)
	return []arrow.Array{gatherFixed(alloc, a.typ, out, set, identity(len(ids)))}, nil
}

func (a *sumWideAcc) size() int64 {
	return int64(cap(a.c))*24 + int64(cap(a.part)+cap(a.partN)+cap(a.lows))*8
}
func (a *sumWideAcc) reset() { a.c, a.part, a.partN, a.lows = nil, nil, nil, nil }

// identity is 0, 1, ..., n-1.
func identity(n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i)
	}
	return out
}

// ---- avg ----

// avgAcc keeps a sum and a count: float64 and a separate count for float
// arguments, the counted 128-bit sums of sumWideAcc for integers and
// decimals. Its state is [sum, count]. It is also avg_merge's accumulator
// (updateArgs), whose arguments are partial sums and counts like the
// state's.
type avgAcc struct {
	sumF   *sumFloatAcc // avgFloat
	cnt    countAcc     // avgFloat
	sumW   *sumWideAcc  // avgInt, avgDecimal
	result arrow.DataType
	kind   int   // avgFloat, avgInt, avgDecimal
	shift  int32 // result scale - argument scale (decimals)
	sel    []int32
}

const (
	avgFloat = iota
	avgInt
	avgDecimal
)

func (a *avgAcc) resize(n int) {
	if a.kind == avgFloat {
		a.sumF.resize(n)
		a.cnt.resize(n)
		return
	}
	a.sumW.resize(n)
}

func (a *avgAcc) update(arg arrow.Array, gids []uint32, sel []int32) error {
	if a.kind == avgFloat {
		if err := a.sumF.update(arg, gids, sel); err != nil {
			return err
		}
		return a.cnt.update(nil, gids, sel)
	}
	return a.sumW.update(arg, gids, sel)
}

func (a *avgAcc) merge(states []arrow.Array, gids []uint32) error {
	sel := selection(states[:2], nil, len(gids), a.sel)
	if sel == nil {
		return a.addPartials(states[0], states[1], gids, nil)
	}
	a.sel = sel
	if len(sel) == 0 {
		return nil
	}
	return a.addPartials(states[0], states[1], gids, sel)
}

// updateArgs folds in the rows of avg_merge(sums, counts).
func (a *avgAcc) updateArgs(args []arrow.Array, gids []uint32, sel []int32) error {
	if len(args) != 2 {
		return fmt.Errorf("avg_merge: %d arguments, want 2", len(args))
	}
	return a.addPartials(args[0], args[1], gids, sel)
}

// addPartials folds in partial sums with their value counts, rows sel
// (every row when nil; those rows must not be NULL). Sums are float64
// (float avg), or int64 or decimal128 unscaled at the scale of the state
// (exact avg). The counts, not the number of rows, are added; a row with
// count 0 contributes nothing and a negative count is an error.
func (a *avgAcc) addPartials(sums, counts arrow.Array, gids []uint32, sel []int32) error {
	if counts.DataType().ID() != arrow.INT64 {
		return fmt.Errorf("partial counts are %s, want int64", counts.DataType())
	}
	var (
		fs   []float64 // float avg
		s64  []int64   // exact avg, int64 sums
		s128 []int128  // exact avg, decimal128 sums
	)
	switch id := sums.DataType().ID(); {
	case a.kind == avgFloat && id == arrow.FLOAT64:
		fs = fixedValues[float64](sums)
	case a.kind != avgFloat && id == arrow.INT64:
		s64 = fixedValues[int64](sums)
	case a.kind != avgFloat && id == arrow.DECIMAL128:
		s128 = fixedValues[int128](sums)
	default:
		return fmt.Errorf("unexpected partial sum type %s", sums.DataType())
	}
	cv := fixedValues[int64](counts)
	var (
		sumOverflow, countOverflow bool
		negative                   = int64(0) // a negative count seen, or 0
	)
	one := func(i int) {
		n := cv[i]
		if n <= 0 {
			negative = min(negative, n)
			return
		}
		g := gids[i]
		var cnt *int64
		if fs != nil {
			a.sumF.s[g] += fs[i]
			a.sumF.set[g] = true
			cnt = &a.cnt.c[g]
		} else {
			c := &a.sumW.c[g]
			var v int128
			if s128 != nil {
				v = s128[i]
			} else {
				v = i128(s64[i])
			}
			r, o := c.sum().add(v)
			c.lo, c.hi = r.lo, r.hi
			sumOverflow = sumOverflow || o
			cnt = &c.n
		}
		m := *cnt + n
		countOverflow = countOverflow || m < n
		*cnt = m
	}
	if sel == nil {
		for i := range gids {
			one(i)
		}
	} else {
		for _, i := range sel {
			one(int(i))
		}
	}
	switch {
	case negative < 0:
		return fmt.Errorf("partial count %d is negative", negative)
	case sumOverflow:
		return fmt.Errorf("%w: sum of %s exceeds 128 bits", errOverflow, sums.DataType())
	case countOverflow:
		return fmt.Errorf("%w: count exceeds int64", errOverflow)
	}
	return nil
}

// count is the number of values of group id.
func (a *avgAcc) count(id uint32) int64 {
	if a.kind == avgFloat {
		return a.cnt.c[id]
	}
	return a.sumW.c[id].n
}

func (a *avgAcc) final(alloc memory.Allocator, ids []uint32) (arrow.Array, error) {
	set := make([]bool, len(ids))
	for j, id := range ids {
		set[j] = a.count(id) > 0
	}
	local := identity(len(ids))
	switch a.kind {
	case avgFloat:
		s := a.sumF.s
		out := make([]float64, len(ids))
		for j, id := range ids {
			if set[j] {
				out[j] = s[id] / float64(a.count(id))
			}
		}
		return gatherFixed(alloc, arrow.PrimitiveTypes.Float64, out, set, local), nil
	case avgInt:
		out := make([]float64, len(ids))
		for j, id := range ids {
			if set[j] {
				out[j] = a.sumW.c[id].sum().float() / float64(a.count(id))
			}
		}
		return gatherFixed(alloc, arrow.PrimitiveTypes.Float64, out, set, local), nil
	}
	out := make([]int128, len(ids))
	for j, id := range ids {
		if set[j] {
			var ok bool
			if out[j], ok = divRound(a.sumW.c[id].sum(), a.shift, a.count(id)); !ok {
				return nil, fmt.Errorf("%w: avg does not fit %s", errOverflow, a.result)
			}
		}
	}
	if d, ok := a.result.(*arrow.Decimal64Type); ok {
		o64 := make([]int64, len(out))
		for j, v := range out {
			if !v.fitsInt64() {
				return nil, fmt.Errorf("%w: avg does not fit %s", errOverflow, d)
			}
			o64[j] = int64(v.lo)
		}
		return gatherFixed(alloc, a.result, o64, set, local), nil
	}
	for j, v := range out {
		if set[j] && !v.fits38() {
			return nil, fmt.Errorf("%w: avg does not fit %s", errOverflow, a.result)
		}
	}
	return gatherFixed(alloc, a.result, out, set, local), nil
}

func (a *avgAcc) state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	if a.kind == avgFloat {
		s, err := a.sumF.state(alloc, ids)
		if err != nil {
			return nil, err
		}
		c, _ := a.cnt.state(alloc, ids)
		return append(s, c...), nil
	}
	s, err := a.sumW.state(alloc, ids)
	if err != nil {
		return nil, err
	}
	counts := make([]int64, len(ids))
	for j, id := range ids {
		counts[j] = a.sumW.c[id].n
	}
	return append(s, gatherFixed(alloc, arrow.PrimitiveTypes.Int64, counts, nil, identity(len(ids)))), nil
}

func (a *avgAcc) size() int64 {
	n := int64(cap(a.sel)) * 4
	if a.kind == avgFloat {
		return n + a.sumF.size() + a.cnt.size()
	}
	return n + a.sumW.size()
}

func (a *avgAcc) reset() {
	a.sel = nil
	if a.kind == avgFloat {
		a.sumF.reset()
		a.cnt.reset()
		return
	}
	a.sumW.reset()
}

// ---- min, max, any_value ----

type pickOp int

const (
	pickMin pickOp = iota
	pickMax
	pickAny
)

type ordered interface {
	integer | ~float32 | ~float64
}

// minMaxAcc keeps one fixed-width value per group (T is the Arrow value
// type of typ).
type minMaxAcc[T ordered] struct {
	v   []T
	set []bool
	op  pickOp
	typ arrow.DataType
}

func (a *minMaxAcc[T]) resize(n int) { a.v = grow(a.v, n); a.set = grow(a.set, n) }

func (a *minMaxAcc[T]) update(arg arrow.Array, gids []uint32, sel []int32) error {
	vals := fixedValues[T](arg)
	v, set := a.v, a.set
	switch a.op {
	case pickMin:
		if sel == nil {
			for i, g := range gids {
				if x := vals[i]; !set[g] || x < v[g] {
					v[g], set[g] = x, true
				}
			}
		} else {
			for _, i := range sel {
				g := gids[i]
				if x := vals[i]; !set[g] || x < v[g] {
					v[g], set[g] = x, true
				}
			}
		}
	case pickMax:
		if sel == nil {
			for i, g := range gids {
				if x := vals[i]; !set[g] || x > v[g] {
					v[g], set[g] = x, true
				}
			}
		} else {
			for _, i := range sel {
				g := gids[i]
				if x := vals[i]; !set[g] || x > v[g] {
					v[g], set[g] = x, true
				}
			}
		}
	default:
		if sel == nil {
			for i, g := range gids {
				if !set[g] {
					v[g], set[g] = vals[i], true
				}
			}
		} else {
			for _, i := range sel {
				if g := gids[i]; !set[g] {
					v[g], set[g] = vals[i], true
				}
			}
		}
	}
	return nil
}
func (a *minMaxAcc[T]) merge(states []arrow.Array, gids []uint32) error {
	if sel := validRows(states[0], nil); sel == nil || len(sel) > 0 {
		return a.update(states[0], gids, sel)
	}
	return nil
}
func (a *minMaxAcc[T]) final(alloc memory.Allocator, ids []uint32) (arrow.Array, error) {
	return gatherFixed(alloc, a.typ, a.v, a.set, ids), nil
}
func (a *minMaxAcc[T]) state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	x, err := a.final(alloc, ids)
	return []arrow.Array{x}, err
}
func (a *minMaxAcc[T]) size() int64 {
	var z T
	return int64(cap(a.v))*int64(unsafe.Sizeof(z)) + int64(cap(a.set))
}
func (a *minMaxAcc[T]) reset() { a.v, a.set = nil, nil }

// minMaxWideAcc is min/max/any_value over decimal128 (and other 16-byte
// values compared as signed 128-bit integers).
type minMaxWideAcc struct {
	v   []int128
	set []bool
	op  pickOp
	typ arrow.DataType
}

func (a *minMaxWideAcc) resize(n int) { a.v = grow(a.v, n); a.set = grow(a.set, n) }
func (a *minMaxWideAcc) update(arg arrow.Array, gids []uint32, sel []int32) error {
	vals := fixedValues[int128](arg)
	one := func(i int32, g uint32) {
		x := vals[i]
		if !a.set[g] || (a.op == pickMin && x.less(a.v[g])) || (a.op == pickMax && a.v[g].less(x)) {
			a.v[g], a.set[g] = x, true
		}
	}
	if sel == nil {
		for i, g := range gids {
			one(int32(i), g)
		}
	} else {
		for _, i := range sel {
			one(i, gids[i])
		}
	}
	return nil
}
func (a *minMaxWideAcc) merge(states []arrow.Array, gids []uint32) error {
	if sel := validRows(states[0], nil); sel == nil || len(sel) > 0 {
		return a.update(states[0], gids, sel)
	}
	return nil
}
func (a *minMaxWideAcc) final(alloc memory.Allocator, ids []uint32) (arrow.Array, error) {
	return gatherFixed(alloc, a.typ, a.v, a.set, ids), nil
}
func (a *minMaxWideAcc) state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	x, err := a.final(alloc, ids)
	return []arrow.Array{x}, err
}
func (a *minMaxWideAcc) size() int64 { return int64(cap(a.v))*16 + int64(cap(a.set)) }
func (a *minMaxWideAcc) reset()      { a.v, a.set = nil, nil }

// minMaxBytesAcc is min/max/any_value over strings and binaries; each
// group's value is its own byte slice, reused as the value changes.
type minMaxBytesAcc struct {
	v     [][]byte
	set   []bool
	op    pickOp
	typ   arrow.DataType
	bytes int64
}

func (a *minMaxBytesAcc) resize(n int) { a.v = grow(a.v, n); a.set = grow(a.set, n) }
func (a *minMaxBytesAcc) update(arg arrow.Array, gids []uint32, sel []int32) error {
	col := newBytesCol(arg)
	one := func(i int, g uint32) {
		x := col.at(i)
		if !a.set[g] || (a.op == pickMin && bytes.Compare(x, a.v[g]) < 0) || (a.op == pickMax && bytes.Compare(x, a.v[g]) > 0) {
			old := cap(a.v[g])
			a.v[g] = append(a.v[g][:0], x...)
			a.bytes += int64(cap(a.v[g]) - old)
			a.set[g] = true
		}
	}
	if sel == nil {
		for i, g := range gids {
			one(i, g)
		}
	} else {
		for _, i := range sel {
			one(int(i), gids[i])
		}
	}
	return nil
}
func (a *minMaxBytesAcc) merge(states []arrow.Array, gids []uint32) error {
	if sel := validRows(states[0], nil); sel == nil || len(sel) > 0 {
		return a.update(states[0], gids, sel)
	}
	return nil
}
func (a *minMaxBytesAcc) final(alloc memory.Allocator, ids []uint32) (arrow.Array, error) {
	return gatherBytes(alloc, a.typ, a.v, a.set, ids), nil
}
func (a *minMaxBytesAcc) state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	x, err := a.final(alloc, ids)
	return []arrow.Array{x}, err
}
func (a *minMaxBytesAcc) size() int64 { return int64(cap(a.v))*24 + int64(cap(a.set)) + a.bytes }
func (a *minMaxBytesAcc) reset() {
	a.v, a.set, a.bytes = nil, nil, 0
}

// ---- booleans: bool_and, bool_or, min, max, any_value ----

type boolOp int

const (
	boolAnd boolOp = iota
	boolOr
	boolAny
)

type boolAcc struct {
	v   []bool
	set []bool
	op  boolOp
}

func (a *boolAcc) resize(n int) { a.v = grow(a.v, n); a.set = grow(a.set, n) }
func (a *boolAcc) update(arg arrow.Array, gids []uint32, sel []int32) error {
	bm, off := boolValues(arg)
	v, set := a.v, a.set
	one := func(i int, g uint32) {
		x := bitutil.BitIsSet(bm, off+i)
		switch {
		case !set[g]:
			v[g], set[g] = x, true
		case a.op == boolAnd:
			v[g] = v[g] && x
		case a.op == boolOr:
			v[g] = v[g] || x
		}
	}
	if sel == nil {
		for i, g := range gids {
			one(i, g)
		}
	} else {
		for _, i := range sel {
			one(int(i), gids[i])
		}
	}
	return nil
}
func (a *boolAcc) merge(states []arrow.Array, gids []uint32) error {
	if sel := validRows(states[0], nil); sel == nil || len(sel) > 0 {
		return a.update(states[0], gids, sel)
	}
	return nil
}
func (a *boolAcc) final(alloc memory.Allocator, ids []uint32) (arrow.Array, error) {
	return gatherBool(alloc, a.v, a.set, ids), nil
}
func (a *boolAcc) state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	x, err := a.final(alloc, ids)
	return []arrow.Array{x}, err
}
func (a *boolAcc) size() int64 { return int64(cap(a.v)) + int64(cap(a.set)) }
func (a *boolAcc) reset()      { a.v, a.set = nil, nil }

// ---- variance and standard deviation ----

// varAcc keeps count, mean and the sum of squared deviations (Welford),
// merged with Chan's formula; its state is [count int64, mean, m2].
type varAcc struct {
	n       []int64
	mean    []float64
	m2      []float64
	fn      aggFunc
	scratch []float64
}

func (a *varAcc) resize(n int) {
	a.n, a.mean, a.m2 = grow(a.n, n), grow(a.mean, n), grow(a.m2, n)
}

func (a *varAcc) update(arg arrow.Array, gids []uint32, sel []int32) error {
	x, err := toFloat64(arg, a.scratch)
	if err != nil {
		return err
	}
	a.scratch = x
	one := func(i int, g uint32) {
		a.n[g]++
		d := x[i] - a.mean[g]
		a.mean[g] += d / float64(a.n[g])
		a.m2[g] += d * (x[i] - a.mean[g])
	}
	if sel == nil {
		for i, g := range gids {
			one(i, g)
		}
	} else {
		for _, i := range sel {
			one(int(i), gids[i])
		}
	}
	return nil
}

func (a *varAcc) merge(states []arrow.Array, gids []uint32) error {
	nb := fixedValues[int64](states[0])
	mb := fixedValues[float64](states[1])
	m2b := fixedValues[float64](states[2])
	for i, g := range gids {
		if nb[i] == 0 {
			continue
		}
		na := a.n[g]
		n := na + nb[i]
		d := mb[i] - a.mean[g]
		a.mean[g] += d * float64(nb[i]) / float64(n)
		a.m2[g] += m2b[i] + d*d*float64(na)*float64(nb[i])/float64(n)
		a.n[g] = n
	}
	return nil
}

func (a *varAcc) final(alloc memory.Allocator, ids []uint32) (arrow.Array, error) {
	out := make([]float64, len(ids))
	set := make([]bool, len(ids))
	local := make([]uint32, len(ids))
	for j, id := range ids {
		local[j] = uint32(j)
		n := float64(a.n[id])
		var v float64
		switch a.fn {
		case fnVarSamp, fnStddevSamp:
			if n < 2 {
				continue
			}
			v = a.m2[id] / (n - 1)
		default:
			if n < 1 {
				continue
			}
			v = a.m2[id] / n
		}
		if v < 0 {
			v = 0
		}
		if a.fn == fnStddevSamp || a.fn == fnStddevPop {
			v = math.Sqrt(v)
		}
		out[j], set[j] = v, true
	}
	return gatherFixed(alloc, arrow.PrimitiveTypes.Float64, out, set, local), nil
}

func (a *varAcc) state(alloc memory.Allocator, ids []uint32) ([]arrow.Array, error) {
	return []arrow.Array{
		gatherFixed(alloc, arrow.PrimitiveTypes.Int64, a.n, nil, ids),
		gatherFixed(alloc, arrow.PrimitiveTypes.Float64, a.mean, nil, ids),
		gatherFixed(alloc, arrow.PrimitiveTypes.Float64, a.m2, nil, ids),
	}, nil
}
func (a *varAcc) size() int64 { return int64(cap(a.n)+cap(a.mean)+cap(a.m2)) * 8 }
func (a *varAcc) reset()      { a.n, a.mean, a.m2 = nil, nil, nil }

func convertFloat[T integer | float32 | float64](dst []float64, src []T, scale float64) {
	for i, v := range src {
		dst[i] = float64(v) / scale
	}
}

// toFloat64 converts a numeric array to float64 values (decimals by their
// scale); NULL rows get unspecified values.
func toFloat64(a arrow.Array, buf []float64) ([]float64, error) {
	n := a.Len()
	if cap(buf) < n {
		buf = make([]float64, n)
	}
	buf = buf[:n]
	switch a.DataType().ID() {
	case arrow.INT8:
		convertFloat(buf, fixedValues[int8](a), 1)
	case arrow.INT16:
		convertFloat(buf, fixedValues[int16](a), 1)
	case arrow.INT32:
		convertFloat(buf, fixedValues[int32](a), 1)
	case arrow.INT64:
		convertFloat(buf, fixedValues[int64](a), 1)
	case arrow.UINT8:
		convertFloat(buf, fixedValues[uint8](a), 1)
	case arrow.UINT16:
		convertFloat(buf, fixedValues[uint16](a), 1)
	case arrow.UINT32:
		convertFloat(buf, fixedValues[uint32](a), 1)
	case arrow.UINT64:
		convertFloat(buf, fixedValues[uint64](a), 1)
	case arrow.FLOAT32:
		convertFloat(buf, fixedValues[float32](a), 1)
	case arrow.FLOAT64:
		copy(buf, fixedValues[float64](a))
	case arrow.DECIMAL64, arrow.DECIMAL128:
		_, s, _ := logical.DecimalParams(a.DataType())
		scale := math.Pow10(int(s))
		switch a.DataType().ID() {
		case arrow.DECIMAL64:
			convertFloat(buf, fixedValues[int64](a), scale)
		default:
			for i, v := range fixedValues[int128](a) {
				buf[i] = v.float() / scale
			}
		}
	default:
		return nil, fmt.Errorf("expected a numeric argument, got %s", a.DataType())
	}
	return buf, nil
}
