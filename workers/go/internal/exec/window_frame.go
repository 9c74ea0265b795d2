package exec

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
)

// sortedRows is the order of one window spec over the buffered rows.
// Positions are indices into perm; partitions and peer groups are
// contiguous position ranges.
type sortedRows struct {
	perm  []int32 // sorted position -> buffered row
	parts []int32 // first position of each window partition, then n
	peers []int32 // first position of each peer group, then n
}

// sortSpec sorts the buffered rows by spec g's keys and finds the
// partition and peer boundaries by comparing adjacent encoded keys.
func (s *windowStream) sortSpec(g int) (*sortedRows, error) {
	n := s.total
	sp := s.node.specs[g]
	sr := &sortedRows{perm: make([]int32, n)}
	if s.keys[g] == nil {
		for i := range sr.perm {
			sr.perm[i] = int32(i)
		}
		sr.parts = []int32{0, int32(n)}
		sr.peers = sr.parts
		return sr, nil
	}
	blocks := s.blocks[g]
	enc := s.keys[g].enc
	if err := s.grow(entryBytes * int64(n)); err != nil {
		return nil, err
	}
	defer s.res.Shrink(entryBytes * int64(n))
	entries, ord := sortKeyBlocks(blocks)
	for i, e := range entries {
		sr.perm[i] = s.starts[e.batch] + int32(e.row)
	}
	sr.parts = append(sr.parts, 0)
	sr.peers = append(sr.peers, 0)
	nOrder := len(sp.keys) - sp.nPart
	// fixedLen is the byte length of the partition columns when they are
	// all fixed-width, else -1.
	fixedLen := 0
	for _, col := range enc.cols[:sp.nPart] {
		if col.kind == kindBytes {
			fixedLen = -1
			break
		}
		fixedLen += 1 + col.width
	}
	// When the entry prefixes cover the partition columns, partition
	// boundaries show in them under masks m0, m1.
	var m0, m1 uint64
	maskOK := false
	if fixedLen > 0 {
		m0, m1, maskOK = ord.leadingMask(fixedLen)
	}
	key := func(e sortEntry) []byte { return blocks[e.batch].key(e.row) }
	for i := 1; i < n; i++ {
		ea, eb := entries[i-1], entries[i]
		if ord.equal(ea, eb) {
			continue // peers
		}
		newPart := false
		switch {
		case sp.nPart == 0:
		case nOrder == 0:
			newPart = true
		case maskOK:
			newPart = (ea.p0^eb.p0)&m0 != 0 || (ea.p1^eb.p1)&m1 != 0
		default:
			a, b := key(ea), key(eb)
			la, lb := fixedLen, fixedLen
			if fixedLen < 0 {
				la, lb = enc.leadingLen(a, sp.nPart), enc.leadingLen(b, sp.nPart)
			}
			newPart = !bytes.Equal(a[:la], b[:lb])
		}
		if newPart {
			sr.parts = append(sr.parts, int32(i))
		}
		sr.peers = append(sr.peers, int32(i))
	}
	sr.parts = append(sr.parts, int32(n))
	sr.peers = append(sr.peers, int32(n))
	return sr, nil
}

// leadingLen is the byte length of the first m columns of encoded key k.
func (e *keyEncoder) leadingLen(k []byte, m int) int {
	p := 0
	for _, col := range e.cols[:m] {
		if col.kind != kindBytes {
			p += 1 + col.width
			continue
		}
		if k[p] != 0x01 { // NULL: the marker alone
			p++
			continue
		}
		p++
		var inv byte
		if col.desc {
			inv = 0xff
		}
		for {
			if k[p]^inv != 0 {
				p++
				continue
			}
			next := k[p+1] ^ inv
			p += 2
			if next == 0 { // 0x00 0x00 ends the value; 0x00 0xFF is an escaped 0x00
				break
			}
		}
	}
	return p
}

// rangeMode is how RANGE offsets compare ORDER BY values.
type rangeMode uint8

const (
	rangeNone  rangeMode = iota // no offsets
	rangeInt                    // int64 keys and offsets (integers, dates in days, Decimal64 unscaled)
	rangeFloat                  // float64 keys and offsets
	rangeWide                   // 128-bit unscaled decimals at a common scale
	rangeTime                   // int64 instants in unit, interval offsets
)

// frameBound is one end of a planned frame.
type frameBound struct {
	kind logical.BoundKind
	n    int64 // ROWS offset, rangeInt offset
	f    float64
	w    i128
	iv   arrow.MonthDayNanoInterval
}

// frameSpec is a planned frame; it is comparable so that functions with
// the same frame share its bounds.
type frameSpec struct {
	rows       bool
	start, end frameBound
	mode       rangeMode
	desc       bool
	shift      int32          // rangeInt: the keys' decimal scale; rangeWide: digits the keys are scaled up by
	unit       arrow.TimeUnit // rangeTime: unit of the keys
}

var defaultFrame = frameSpec{start: frameBound{kind: logical.UnboundedPreceding}, end: frameBound{kind: logical.CurrentRow}}

// constantOf evaluates a constant expression to a one-row array (borrowed).
func constantOf(e logical.Expr, schema *arrow.Schema) (arrow.Array, error) {
	if e == nil {
		return nil, fmt.Errorf("missing frame offset")
	}
	ev, err := expr.Compile(e, schema, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("frame offset %s: %w", e, err)
	}
	a, ok := expr.Constant(ev)
	if !ok {
		return nil, fmt.Errorf("frame offset %s must be a constant", e)
	}
	if a.Len() != 1 || a.IsNull(0) {
		return nil, fmt.Errorf("frame offset %s must not be NULL", e)
	}
	return a, nil
}

// planFrame normalises the frame of a framed function (SQL default: RANGE
// BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW, the whole partition when
// there is no ORDER BY since all rows are then peers).
func planFrame(c *logical.WindowCall, schema *arrow.Schema) (frameSpec, error) {
	f := c.Frame
	if f == nil {
		return defaultFrame, nil
	}
	fs := frameSpec{rows: f.Type == logical.FrameRows, start: frameBound{kind: f.Start.Kind}, end: frameBound{kind: f.End.Kind}}
	if f.Type != logical.FrameRows && f.Type != logical.FrameRange {
		return fs, fmt.Errorf("not supported: frame type %d", f.Type)
	}
	switch {
	case f.Start.Kind == logical.UnboundedFollowing:
		return fs, fmt.Errorf("frame start cannot be UNBOUNDED FOLLOWING")
	case f.End.Kind == logical.UnboundedPreceding:
		return fs, fmt.Errorf("frame end cannot be UNBOUNDED PRECEDING")
	case f.Start.Kind == logical.CurrentRow && f.End.Kind == logical.Preceding:
		return fs, fmt.Errorf("frame starting from current row cannot have preceding rows")
	case f.Start.Kind == logical.Following && (f.End.Kind == logical.Preceding || f.End.Kind == logical.CurrentRow):
		return fs, fmt.Errorf("frame starting from following row cannot have preceding rows")
	}
	offset := func(b logical.FrameBound) bool { return b.Kind == logical.Preceding || b.Kind == logical.Following }
	if fs.rows {
		for _, p := range []struct {
			src logical.FrameBound
			dst *frameBound
		}{{f.Start, &fs.start}, {f.End, &fs.end}} {
			if !offset(p.src) {
				continue
			}
			a, err := constantOf(p.src.Offset, schema)
			if err != nil {
				return fs, err
			}
			if !logical.IsInteger(a.DataType()) {
				return fs, fmt.Errorf("ROWS frame offset %s must be an integer, got %s", p.src.Offset, a.DataType())
			}
			v, ok := intConstant(a)
			if !ok || v < 0 {
				return fs, fmt.Errorf("ROWS frame offset %s must not be negative", p.src.Offset)
			}
			p.dst.n = v
		}
		return fs, nil
	}
	if !offset(f.Start) && !offset(f.End) {
		return fs, nil
	}
	if len(c.OrderBy) != 1 {
		return fs, fmt.Errorf("RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column, got %d", len(c.OrderBy))
	}
	kev, err := expr.Compile(c.OrderBy[0].Expr, schema, memory.DefaultAllocator)
	if err != nil {
		return fs, err
	}
	fs.desc = c.OrderBy[0].Descending
	return fs, planRange(&fs, kev.Type(), f, schema)
}

// intConstant reads a one-row integer array; ok=false when it does not
// fit int64.
func intConstant(a arrow.Array) (int64, bool) {
	switch x := a.(type) {
	case *array.Int8:
		return int64(x.Value(0)), true
	case *array.Int16:
		return int64(x.Value(0)), true
	case *array.Int32:
		return int64(x.Value(0)), true
	case *array.Int64:
		return x.Value(0), true
	case *array.Uint8:
		return int64(x.Value(0)), true
	case *array.Uint16:
		return int64(x.Value(0)), true
	case *array.Uint32:
		return int64(x.Value(0)), true
	case *array.Uint64:
		v := x.Value(0)
		return int64(min(v, math.MaxInt64)), true
	}
	return 0, false
}

// planRange chooses how a RANGE frame with offsets compares ORDER BY
// values of type kt, and converts the offsets.
func planRange(fs *frameSpec, kt arrow.DataType, f *logical.Frame, schema *arrow.Schema) error {
	type off struct {
		a   arrow.Array
		dst *frameBound
		src logical.FrameBound
	}
	var offs []off
	for _, p := range []struct {
		src logical.FrameBound
		dst *frameBound
	}{{f.Start, &fs.start}, {f.End, &fs.end}} {
		if p.src.Kind != logical.Preceding && p.src.Kind != logical.Following {
			continue
		}
		a, err := constantOf(p.src.Offset, schema)
		if err != nil {
			return err
		}
		offs = append(offs, off{a: a, dst: p.dst, src: p.src})
	}
	var anyFloat, anyDecimal bool
	nInterval := 0
	var maxScale int32
	for _, o := range offs {
		t := o.a.DataType()
		switch {
		case logical.IsInteger(t):
		case logical.IsFloat(t):
			anyFloat = true
		case logical.IsDecimal(t):
			anyDecimal = true
			_, s, _ := logical.DecimalParams(t)
			maxScale = max(maxScale, s)
		case t.ID() == arrow.INTERVAL_MONTH_DAY_NANO:
			nInterval++
		default:
			return fmt.Errorf("RANGE offset %s has unsupported type %s", o.src.Offset, t)
		}
	}
	bad := func() error {
		ts := make([]string, len(offs))
		for i, o := range offs {
			ts[i] = o.a.DataType().String()
		}
		return fmt.Errorf("RANGE offsets of type %s are not supported for an ORDER BY key of type %s", strings.Join(ts, " and "), kt)
	}
	kid := kt.ID()
	switch {
	case logical.IsInteger(kt) || logical.IsDecimal(kt):
		if nInterval > 0 {
			return bad()
		}
		if anyFloat {
			if logical.IsDecimal(kt) {
				return bad()
			}
			fs.mode = rangeFloat
			break
		}
		_, ks, _ := logical.DecimalParams(kt)
		scale := max(ks, maxScale)
		if (kid == arrow.DECIMAL128 || kid == arrow.UINT64) || scale > ks {
			fs.mode, fs.shift = rangeWide, scale-ks
			break
		}
		// Integers, and Decimal64 with offsets of at most its scale.
		fs.mode, fs.shift = rangeInt, ks
	case logical.IsFloat(kt):
		if nInterval > 0 {
			return bad()
		}
		fs.mode = rangeFloat
	case kid == arrow.DATE32:
		if anyFloat || anyDecimal {
			return bad()
		}
		fs.mode = rangeInt
		for _, o := range offs {
			if iv, ok := o.a.(*array.MonthDayNanoInterval); ok {
				v := iv.Value(0)
				if v.Months != 0 || v.Nanoseconds != 0 {
					fs.mode, fs.unit = rangeTime, arrow.Microsecond
				}
			}
		}
	case kid == arrow.TIMESTAMP:
		if nInterval != len(offs) {
			return bad()
		}
		fs.mode, fs.unit = rangeTime, kt.(*arrow.TimestampType).Unit
	default:
		return fmt.Errorf("RANGE with offset requires a numeric, decimal, date or timestamp ORDER BY key, got %s", kt)
	}
	for _, o := range offs {
		if err := convertOffset(fs, o.a, o.dst); err != nil {
			return fmt.Errorf("RANGE offset %s: %w", o.src.Offset, err)
		}
	}
	return nil
}

var errNegativeOffset = errors.New("must not be negative")

// convertOffset stores offset a in dst in the representation of fs.mode.
func convertOffset(fs *frameSpec, a arrow.Array, dst *frameBound) error {
	t := a.DataType()
	switch fs.mode {
	case rangeFloat:
		var v float64
		switch x := a.(type) {
		case *array.Float32:
			v = float64(x.Value(0))
		case *array.Float64:
			v = x.Value(0)
		case *array.Decimal64:
			v = float64(x.Value(0)) / math.Pow10(int(t.(*arrow.Decimal64Type).Scale))
		case *array.Decimal128:
			v = x.Value(0).ToFloat64(t.(*arrow.Decimal128Type).Scale)
		default:
			n, ok := intConstant(a)
			if !ok {
				return fmt.Errorf("unsupported type %s", t)
			}
			v = float64(n)
		}
		if v < 0 || math.IsNaN(v) {
			return errNegativeOffset
		}
		dst.f = v
	case rangeInt, rangeWide:
		var w i128
		var s int32
		switch x := a.(type) {
		case *array.Decimal64:
			w, s = i128Of(int64(x.Value(0))), t.(*arrow.Decimal64Type).Scale
		case *array.Decimal128:
			v := x.Value(0)
			w, s = i128{lo: v.LowBits(), hi: v.HighBits()}, t.(*arrow.Decimal128Type).Scale
		case *array.MonthDayNanoInterval: // date keys in days
			v := x.Value(0)
			if v.Days < 0 {
				return errNegativeOffset
			}
			w = i128Of(int64(v.Days))
		default:
			n, ok := intConstant(a)
			if !ok {
				return fmt.Errorf("unsupported type %s", t)
			}
			w = i128Of(n)
		}
		if w.hi < 0 {
			return errNegativeOffset
		}
		// rangeInt: scale the offset to the keys' scale (fs.shift). An
		// offset too large for int64 saturates: every key is then in range.
		var ok bool
		if fs.mode == rangeInt {
			if w, ok = w.mulPow10(fs.shift - s); !ok || !w.fitsInt64() {
				dst.n = math.MaxInt64 // saturate: every key is in range
			} else {
				dst.n = int64(w.lo)
			}
			return nil
		}
		dst.w = w
		dst.n = int64(s) // the offset's scale, aligned when keys are read
	case rangeTime:
		switch x := a.(type) {
		case *array.MonthDayNanoInterval:
			dst.iv = x.Value(0)
		default:
			n, ok := intConstant(a)
			if !ok || n > math.MaxInt32 {
				return fmt.Errorf("unsupported offset for a date key")
			}
			dst.iv = arrow.MonthDayNanoInterval{Days: int32(n)}
		}
		if dst.iv.Months < 0 || dst.iv.Days < 0 || dst.iv.Nanoseconds < 0 {
			return errNegativeOffset
		}
	}
	return nil
}

// computeFrames fills fs and fe (start inclusive, end exclusive, as
// sorted positions) for frame fr. keys is the RANGE key column (buffered
// rows) when fr has offsets.
func (s *windowStream) computeFrame(fr *frameSpec, sr *sortedRows, keys arrow.Array, fs, fe []int32) error {
	if fr.rows {
		rowsFrame(fr, sr, fs, fe)
		return nil
	}
	// Peer-based and unbounded ends first; offset ends are filled below.
	k := 0
	for p := 0; p+1 < len(sr.parts); p++ {
		ps, pe := sr.parts[p], sr.parts[p+1]
		for ; sr.peers[k] < pe; k++ {
			gs, ge := sr.peers[k], sr.peers[k+1]
			a, b := gs, ge // CURRENT ROW; offset ends start from the peer group too (NULL keys)
			switch fr.start.kind {
			case logical.UnboundedPreceding:
				a = ps
			case logical.UnboundedFollowing:
				a = pe
			}
			switch fr.end.kind {
			case logical.UnboundedFollowing:
				b = pe
			case logical.UnboundedPreceding:
				b = ps
			}
			for i := gs; i < ge; i++ {
				fs[i], fe[i] = a, b
			}
		}
	}
	if fr.mode != rangeNone {
		if err := s.rangeOffsets(fr, sr, keys, fs, fe); err != nil {
			return err
		}
	}
	for i := range fs {
		if fe[i] < fs[i] {
			fe[i] = fs[i]
		}
	}
	return nil
}

// rowsFrame computes a ROWS frame.
func rowsFrame(fr *frameSpec, sr *sortedRows, fs, fe []int32) {
	for p := 0; p+1 < len(sr.parts); p++ {
		ps, pe := int64(sr.parts[p]), int64(sr.parts[p+1])
		for i := ps; i < pe; i++ {
			var a, b int64
			switch fr.start.kind {
			case logical.UnboundedPreceding:
				a = ps
			case logical.Preceding:
				a = max(ps, subSat64(i, fr.start.n))
			case logical.CurrentRow:
				a = i
			case logical.Following:
				a = min(pe, addSat64(i, fr.start.n))
			default:
				a = pe
			}
			switch fr.end.kind {
			case logical.UnboundedPreceding:
				b = ps
			case logical.Preceding:
				b = max(ps, subSat64(i, fr.end.n)+1)
			case logical.CurrentRow:
				b = i + 1
			case logical.Following:
				b = min(pe, addSat64(addSat64(i, fr.end.n), 1))
			default:
				b = pe
			}
			fs[i], fe[i] = int32(a), int32(max(a, b))
		}
	}
}

// rangeOffsets fills the offset ends of a RANGE frame. For a row whose key
// is NULL the offset ends stay at its peer group (the NULL rows); for the
// others the search is confined to the partition's non-NULL rows.
func (s *windowStream) rangeOffsets(fr *frameSpec, sr *sortedRows, keys arrow.Array, fs, fe []int32) error {
	n := len(sr.perm)
	valid := validityOf(keys)
	type job struct {
		b   *frameBound
		out []int32
		end bool
	}
	var jobs []job
	if fr.start.kind == logical.Preceding || fr.start.kind == logical.Following {
		jobs = append(jobs, job{&fr.start, fs, false})
	}
	if fr.end.kind == logical.Preceding || fr.end.kind == logical.Following {
		jobs = append(jobs, job{&fr.end, fe, true})
	}
	// seg returns the non-NULL positions [lo, hi) of partition p: NULL keys
	// sort together at one end of it.
	seg := func(p int) (int32, int32) {
		lo, hi := sr.parts[p], sr.parts[p+1]
		for lo < hi && !valid.valid(int(sr.perm[lo])) {
			lo++
		}
		for hi > lo && !valid.valid(int(sr.perm[hi-1])) {
			hi--
		}
		return lo, hi
	}
	switch fr.mode {
	case rangeInt, rangeTime:
		vals, err := int64Keys(keys, sr.perm, fr)
		if err != nil {
			return err
		}
		if err := s.grow(int64(8 * n)); err != nil {
			return err
		}
		defer s.res.Shrink(int64(8 * n))
		for _, j := range jobs {
			b, plus := j.b, addsOffset(j.b.kind, fr.desc)
			var thr func(v int64) int64
			switch {
			case fr.mode == rangeTime:
				iv, unit := b.iv, fr.unit
				thr = func(v int64) int64 { return shiftInstant(v, iv, !plus, unit) }
			case plus:
				off := b.n
				thr = func(v int64) int64 { return addSat64(v, off) }
			default:
				off := b.n
				thr = func(v int64) int64 { return subSat64(v, off) }
			}
			for p := 0; p+1 < len(sr.parts); p++ {
				lo, hi := seg(p)
				searchBound(vals, lo, hi, thr, lessOrdered[int64], fr.desc, j.end, j.out)
			}
		}
	case rangeFloat:
		vals, err := floatKeys(keys, sr.perm)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			off, plus := j.b.f, addsOffset(j.b.kind, fr.desc)
			if !plus {
				off = -off
			}
			thr := func(v float64) float64 { return v + off }
			for p := 0; p+1 < len(sr.parts); p++ {
				lo, hi := seg(p)
				searchBound(vals, lo, hi, thr, lessFloat, fr.desc, j.end, j.out)
			}
		}
	case rangeWide:
		// Keys and offsets are aligned at the larger of their scales.
		ks := int32(0)
		if _, s, ok := logical.DecimalParams(keys.DataType()); ok {
			ks = s
		}
		scale := ks + fr.shift
		vals, err := wideKeys(keys, sr.perm, fr.shift)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			off, ok := j.b.w.mulPow10(scale - int32(j.b.n))
			if !ok {
				off = maxI128
			}
			plus := addsOffset(j.b.kind, fr.desc)
			thr := func(v i128) i128 {
				if plus {
					return v.addSat(off)
				}
				return v.subSat(off)
			}
			for p := 0; p+1 < len(sr.parts); p++ {
				lo, hi := seg(p)
				searchBound(vals, lo, hi, thr, lessI128, fr.desc, j.end, j.out)
			}
		}
	}
	return nil
}

// addsOffset reports whether a bound's threshold is key + offset: rows
// that follow in an ascending order, or precede in a descending one.
func addsOffset(k logical.BoundKind, desc bool) bool {
	return (k == logical.Following) != desc
}

func lessOrdered[T int64 | float64](a, b T) bool { return a < b }

func lessFloat(a, b float64) bool { return floatKey64(a) < floatKey64(b) }

func lessI128(a, b i128) bool { return a.cmp(b) < 0 }

// searchBound sets out[i] for the positions [lo, hi) (non-NULL keys of one
// partition, sorted in the ORDER BY direction): for a start bound the
// first position whose key is not before thr(key[i]), for an end bound the
// first position whose key is after it. Thresholds move with the keys, so
// one forward pointer serves the whole segment.
func searchBound[T any](keys []T, lo, hi int32, thr func(T) T, less func(a, b T) bool, desc, end bool, out []int32) {
	j := lo
	for i := lo; i < hi; i++ {
		t := thr(keys[i])
		for j < hi {
			k := keys[j]
			var stop bool
			switch {
			case !desc && !end:
				stop = !less(k, t)
			case !desc && end:
				stop = less(t, k)
			case desc && !end:
				stop = !less(t, k)
			default:
				stop = less(k, t)
			}
			if stop {
				break
			}
			j++
		}
		out[i] = j
	}
}

// int64Keys reads the RANGE key column in sorted order as int64: integers,
// Decimal64 unscaled values, dates in days (rangeInt) or instants in
// fr.unit (rangeTime).
func int64Keys(a arrow.Array, perm []int32, fr *frameSpec) ([]int64, error) {
	out := make([]int64, len(perm))
	d := a.Data()
	switch a.DataType().ID() {
	case arrow.INT8:
		gatherWiden(out, rawValues[int8](d), perm)
	case arrow.INT16:
		gatherWiden(out, rawValues[int16](d), perm)
	case arrow.INT32:
		gatherWiden(out, rawValues[int32](d), perm)
	case arrow.INT64, arrow.DECIMAL64, arrow.TIMESTAMP:
		gatherWiden(out, rawValues[int64](d), perm)
	case arrow.UINT8:
		gatherWiden(out, rawValues[uint8](d), perm)
	case arrow.UINT16:
		gatherWiden(out, rawValues[uint16](d), perm)
	case arrow.UINT32:
		gatherWiden(out, rawValues[uint32](d), perm)
	case arrow.DATE32:
		gatherWiden(out, rawValues[int32](d), perm)
		if fr.mode == rangeTime {
			for i, v := range out {
				out[i] = mulSatSigned(v, 86400*unitsPerSecond(fr.unit))
			}
		}
	default:
		return nil, fmt.Errorf("window: RANGE key of type %s", a.DataType())
	}
	return out, nil
}

func gatherWiden[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32](out []int64, vals []T, perm []int32) {
	if len(vals) == 0 {
		return
	}
	for i, r := range perm {
		out[i] = int64(vals[r])
	}
}

func mulSatSigned(v, m int64) int64 {
	if v < 0 {
		return -mulSat64(-v, m)
	}
	return mulSat64(v, m)
}

func floatKeys(a arrow.Array, perm []int32) ([]float64, error) {
	out := make([]float64, len(perm))
	d := a.Data()
	switch a.DataType().ID() {
	case arrow.FLOAT32:
		vals := rawValues[float32](d)
		for i, r := range perm {
			out[i] = float64(vals[r])
		}
	case arrow.FLOAT64:
		vals := rawValues[float64](d)
		for i, r := range perm {
			out[i] = vals[r]
		}
	default:
		ks, err := int64Keys(a, perm, &frameSpec{mode: rangeInt})
		if err != nil {
			if a.DataType().ID() == arrow.UINT64 {
				vals := rawValues[uint64](d)
				for i, r := range perm {
					out[i] = float64(vals[r])
				}
				return out, nil
			}
			return nil, err
		}
		for i, v := range ks {
			out[i] = float64(v)
		}
	}
	return out, nil
}

// wideKeys reads the RANGE key column in sorted order as 128-bit unscaled
// values scaled up by 10^shift (NULL rows read as zero).
func wideKeys(a arrow.Array, perm []int32, shift int32) ([]i128, error) {
	out := make([]i128, len(perm))
	d := a.Data()
	switch a.DataType().ID() {
	case arrow.DECIMAL128:
		vals := rawValues[i128](d)
		for i, r := range perm {
			out[i] = vals[r]
		}
	case arrow.UINT64:
		vals := rawValues[uint64](d)
		for i, r := range perm {
			out[i] = i128OfUint(vals[r])
		}
	default:
		ks, err := int64Keys(a, perm, &frameSpec{mode: rangeInt})
		if err != nil {
			return nil, err
		}
		for i, v := range ks {
			out[i] = i128Of(v)
		}
	}
	if shift > 0 {
		v := validityOf(a)
		for i, r := range perm {
			if !v.valid(int(r)) {
				continue
			}
			x, ok := out[i].mulPow10(shift)
			if !ok {
				return nil, fmt.Errorf("window: %w: RANGE key scaled by 10^%d", errWindowOverflow, shift)
			}
			out[i] = x
		}
	}
	return out, nil
}

func unitsPerSecond(u arrow.TimeUnit) int64 {
	switch u {
	case arrow.Second:
		return 1
	case arrow.Millisecond:
		return 1e3
	case arrow.Microsecond:
		return 1e6
	}
	return 1e9
}

// shiftInstant adds (or subtracts) an interval to an instant counted in
// unit since the epoch: months in calendar arithmetic (the day clamped to
// the month's last), then days and nanoseconds, saturating.
func shiftInstant(v int64, iv arrow.MonthDayNanoInterval, neg bool, unit arrow.TimeUnit) int64 {
	m, d, ns := int64(iv.Months), int64(iv.Days), iv.Nanoseconds
	if neg {
		m, d, ns = -m, -d, -ns
	}
	per := unitsPerSecond(unit)
	if m != 0 {
		day := per * 86400
		days := v / day
		if v%day < 0 {
			days--
		}
		tod := v - days*day
		t := time.Unix(days*86400, 0).UTC()
		y, mo, dd := t.Date()
		total := int64(y)*12 + int64(mo-1) + m
		ny, nm := total/12, total%12
		if nm < 0 {
			nm += 12
			ny--
		}
		last := time.Date(int(ny), time.Month(nm+2), 0, 0, 0, 0, 0, time.UTC).Day()
		nd := min(dd, last)
		nt := time.Date(int(ny), time.Month(nm+1), nd, 0, 0, 0, 0, time.UTC)
		v = addSat64(mulSatSigned(nt.Unix()/86400, day), tod)
	}
	v = addSat64(v, mulSatSigned(d, 86400*per))
	return addSat64(v, ns/(1e9/per))
}
