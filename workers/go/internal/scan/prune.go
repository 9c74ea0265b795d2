package scan

import (
	"bytes"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/arbalest/arbalest/substrait/logical"
)

// valKind is the comparison domain of a statistic or literal.
type valKind uint8

const (
	kNone  valKind = iota
	kInt           // integers, booleans, Decimal64 unscaled, date32 days, timestamp µs
	kFloat         // float32/float64
	kBytes         // strings and binary, compared bytewise (UTF-8 order)
	kDec           // Decimal128 unscaled
)

// sval is one value of a statistic or literal.
type sval struct {
	k valKind
	i int64
	f float64
	b []byte
	d decimal128.Num
}

// cmp orders two values of the same kind.
func (a sval) cmp(b sval) int {
	switch a.k {
	case kInt:
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	case kFloat:
		switch {
		case a.f < b.f:
			return -1
		case a.f > b.f:
			return 1
		}
		return 0
	case kBytes:
		return bytes.Compare(a.b, b.b)
	case kDec:
		return a.d.Cmp(b.d)
	}
	return 0
}

// kindOf gives the comparison domain of a contract type, kNone when
// statistics of that type are not used.
func kindOf(t arrow.DataType) valKind {
	switch t.ID() {
	case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.DECIMAL64, arrow.DATE32, arrow.TIMESTAMP:
		return kInt
	case arrow.FLOAT32, arrow.FLOAT64:
		return kFloat
	case arrow.STRING, arrow.BINARY, arrow.FIXED_SIZE_BINARY:
		return kBytes
	case arrow.DECIMAL128:
		return kDec
	}
	return kNone
}

// scaleOf is the decimal scale of t (0 for other types).
func scaleOf(t arrow.DataType) int32 {
	_, s, _ := logical.DecimalParams(t)
	return s
}

// literalVal converts a literal to the domain of type t (the type of the
// column side of a comparison), ok=false when they are not comparable.
func literalVal(l *logical.Literal, t arrow.DataType) (sval, bool) {
	k := kindOf(t)
	if k == kNone || l.Value == nil || kindOf(l.T) != k {
		return sval{}, false
	}
	if logical.IsDecimal(t) != logical.IsDecimal(l.T) || scaleOf(t) != scaleOf(l.T) {
		return sval{}, false
	}
	if (t.ID() == arrow.TIMESTAMP) != (l.T.ID() == arrow.TIMESTAMP) || (t.ID() == arrow.DATE32) != (l.T.ID() == arrow.DATE32) {
		return sval{}, false
	}
	switch v := l.Value.(type) {
	case bool:
		if v {
			return sval{k: kInt, i: 1}, true
		}
		return sval{k: kInt}, true
	case int8:
		return sval{k: kInt, i: int64(v)}, true
	case int16:
		return sval{k: kInt, i: int64(v)}, true
	case int32:
		return sval{k: kInt, i: int64(v)}, true
	case int64:
		return sval{k: kInt, i: v}, true
	case arrow.Date32:
		return sval{k: kInt, i: int64(v)}, true
	case arrow.Timestamp:
		return sval{k: kInt, i: int64(v)}, true
	case float32:
		if math.IsNaN(float64(v)) {
			return sval{}, false
		}
		return sval{k: kFloat, f: float64(v)}, true
	case float64:
		if math.IsNaN(v) {
			return sval{}, false
		}
		return sval{k: kFloat, f: v}, true
	case string:
		return sval{k: kBytes, b: []byte(v)}, true
	case []byte:
		return sval{k: kBytes, b: v}, true
	case decimal128.Num:
		return sval{k: kDec, d: v}, true
	}
	return sval{}, false
}

// colStats are the statistics of one column in one row group, in the
// domain of the column's contract type.
type colStats struct {
	hasMinMax    bool
	min, max     sval
	hasNullCount bool
	nullCount    int64
	rows         int64
}

func (s colStats) allNull() bool { return s.hasNullCount && s.nullCount == s.rows }

// pruner decides from statistics whether a row group can hold rows that
// satisfy the scan's filters.
type pruner struct {
	filters []logical.Expr
	schema  *arrow.Schema
}

func newPruner(filters []logical.Expr, schema *arrow.Schema) *pruner {
	return &pruner{filters: filters, schema: schema}
}

// mayMatch reports whether some row of the row group may satisfy all
// filters. It answers false only when the statistics prove none can.
func (p *pruner) mayMatch(f *pqFile, rg *metadata.RowGroupMetaData) bool {
	if len(p.filters) == 0 {
		return true
	}
	c := &rgCtx{p: p, f: f, rg: rg}
	for _, e := range p.filters {
		if !c.may(e, true) {
			return false
		}
	}
	return true
}

// rgCtx evaluates filters against one row group.
type rgCtx struct {
	p  *pruner
	f  *pqFile
	rg *metadata.RowGroupMetaData
}

// stats reads the statistics of output column j.
func (c *rgCtx) stats(j int) (colStats, bool) {
	if j < 0 || j >= len(c.f.cols) {
		return colStats{}, false
	}
	col := c.f.cols[j]
	if col.leaf < 0 {
		return colStats{}, false
	}
	cc, err := c.rg.ColumnChunk(col.leaf)
	if err != nil {
		return colStats{}, false
	}
	st, err := cc.Statistics()
	if err != nil || st == nil {
		return colStats{}, false
	}
	out := colStats{rows: c.rg.NumRows(), hasNullCount: st.HasNullCount(), nullCount: st.NullCount()}
	if !st.HasMinMax() {
		return out, true
	}
	lo, ok1 := statVal(st, col, true)
	hi, ok2 := statVal(st, col, false)
	if ok1 && ok2 {
		out.hasMinMax, out.min, out.max = true, lo, hi
	}
	return out, true
}

// statVal converts the min (or max) statistic to the column's domain.
func statVal(st metadata.TypedStatistics, col pqColumn, isMin bool) (sval, bool) {
	k := kindOf(col.outType)
	if k == kNone {
		return sval{}, false
	}
	switch s := st.(type) {
	case *metadata.BooleanStatistics:
		v := s.Max()
		if isMin {
			v = s.Min()
		}
		if v {
			return sval{k: kInt, i: 1}, true
		}
		return sval{k: kInt}, true
	case *metadata.Int32Statistics:
		v := s.Max()
		if isMin {
			v = s.Min()
		}
		switch col.fileType.ID() {
		case arrow.UINT8, arrow.UINT16, arrow.UINT32:
			return sval{k: kInt, i: int64(uint32(v))}, true
		}
		if k != kInt {
			return sval{}, false
		}
		return sval{k: kInt, i: int64(v)}, true
	case *metadata.Int64Statistics:
		v := s.Max()
		if isMin {
			v = s.Min()
		}
		switch t := col.fileType.(type) {
		case *arrow.Uint64Type:
			return sval{}, false
		case *arrow.TimestampType:
			mul, div := unitRatio(t.Unit, arrow.Microsecond)
			if div > 1 {
				return sval{k: kInt, i: floorDiv(v, div)}, true
			}
			if v > math.MaxInt64/mul || v < math.MinInt64/mul {
				return sval{}, false
			}
			return sval{k: kInt, i: v * mul}, true
		}
		if k != kInt {
			return sval{}, false
		}
		return sval{k: kInt, i: v}, true
	case *metadata.Float32Statistics:
		v := s.Max()
		if isMin {
			v = s.Min()
		}
		if math.IsNaN(float64(v)) {
			return sval{}, false
		}
		return sval{k: kFloat, f: float64(v)}, true
	case *metadata.Float64Statistics:
		v := s.Max()
		if isMin {
			v = s.Min()
		}
		if math.IsNaN(v) {
			return sval{}, false
		}
		return sval{k: kFloat, f: v}, true
	case *metadata.ByteArrayStatistics:
		v := s.Max()
		if isMin {
			v = s.Min()
		}
		return bytesStat(v, k)
	case *metadata.FixedLenByteArrayStatistics:
		v := s.Max()
		if isMin {
			v = s.Min()
		}
		return bytesStat(v, k)
	}
	return sval{}, false
}

// bytesStat interprets a binary statistic: raw bytes for strings, a
// big-endian two's complement integer for decimals.
func bytesStat(b []byte, k valKind) (sval, bool) {
	switch k {
	case kBytes:
		return sval{k: kBytes, b: b}, true
	case kInt, kDec:
		if len(b) == 0 || len(b) > 16 {
			return sval{}, false
		}
		var hi, lo uint64
		if b[0]&0x80 != 0 {
			hi, lo = math.MaxUint64, math.MaxUint64
		}
		for _, x := range b {
			hi = hi<<8 | lo>>56
			lo = lo<<8 | uint64(x)
		}
		n := decimal128.New(int64(hi), lo)
		if k == kDec {
			return sval{k: kDec, d: n}, true
		}
		if !n.FitsInPrecision(18) {
			return sval{}, false
		}
		return sval{k: kInt, i: int64(lo)}, true
	}
	return sval{}, false
}

// operand resolves a column reference, possibly under monotonic casts, to
// the bounds of its values in the row group and the type they are in.
func (c *rgCtx) operand(e logical.Expr) (colStats, arrow.DataType, bool) {
	switch x := e.(type) {
	case *logical.ColumnRef:
		st, ok := c.stats(x.Index)
		if !ok || x.Index >= c.p.schema.NumFields() {
			return colStats{}, nil, false
		}
		return st, c.p.schema.Field(x.Index).Type, true
	case *logical.Cast:
		st, from, ok := c.operand(x.Input)
		if !ok {
			return colStats{}, nil, false
		}
		if !st.hasMinMax {
			return st, x.T, true
		}
		lo, ok1 := castBound(st.min, from, x.T, false)
		hi, ok2 := castBound(st.max, from, x.T, true)
		if !ok1 || !ok2 {
			st.hasMinMax = false
		} else {
			st.min, st.max = lo, hi
		}
		return st, x.T, true
	}
	return colStats{}, nil, false
}

var pow10 = func() [19]int64 {
	var p [19]int64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// castBound maps a bound through a cast that preserves order; up rounds a
// lossy conversion up (for a max), else down. ok=false for casts it does
// not model.
func castBound(v sval, from, to arrow.DataType, up bool) (sval, bool) {
	switch {
	case logical.IsInteger(from) && logical.IsInteger(to):
		return v, v.k == kInt
	case logical.IsInteger(from) && logical.IsFloat(to):
		return sval{k: kFloat, f: float64(v.i)}, v.k == kInt
	case (logical.IsInteger(from) || from.ID() == arrow.DECIMAL64) && to.ID() == arrow.DECIMAL64:
		if v.k != kInt {
			return sval{}, false
		}
		d := int(scaleOf(to) - scaleOf(from))
		if d >= 0 {
			if d > 18 || v.i > math.MaxInt64/pow10[d] || v.i < math.MinInt64/pow10[d] {
				return sval{}, false
			}
			return sval{k: kInt, i: v.i * pow10[d]}, true
		}
		if -d > 18 {
			return sval{}, false
		}
		q := floorDiv(v.i, pow10[-d])
		if up && q*pow10[-d] != v.i {
			q++
		}
		return sval{k: kInt, i: q}, true
	case from.ID() == arrow.DECIMAL64 && to.ID() == arrow.DECIMAL128:
		d := int(scaleOf(to) - scaleOf(from))
		if v.k != kInt || d < 0 || d > 18 {
			return sval{}, false
		}
		return sval{k: kDec, d: decimal128.FromI64(v.i).Mul(decimal128.FromI64(pow10[d]))}, true
	case from.ID() == arrow.DECIMAL64 && logical.IsFloat(to):
		if v.k != kInt {
			return sval{}, false
		}
		return sval{k: kFloat, f: float64(v.i) / math.Pow10(int(scaleOf(from)))}, true
	case from.ID() == arrow.FLOAT32 && to.ID() == arrow.FLOAT64:
		return v, v.k == kFloat
	case from.ID() == arrow.DATE32 && to.ID() == arrow.TIMESTAMP:
		const usPerDay = 86_400_000_000
		if v.k != kInt || v.i > math.MaxInt64/usPerDay || v.i < math.MinInt64/usPerDay {
			return sval{}, false
		}
		return sval{k: kInt, i: v.i * usPerDay}, true
	case arrow.TypeEqual(from, to):
		return v, true
	}
	return sval{}, false
}

// flip returns the comparison with its operands swapped.
func flip(fn string) string {
	switch fn {
	case "lt":
		return "gt"
	case "lte":
		return "gte"
	case "gt":
		return "lt"
	case "gte":
		return "lte"
	}
	return fn
}

// negate returns the comparison that is true exactly when fn is false (for
// non-null operands).
func negate(fn string) string {
	switch fn {
	case "lt":
		return "gte"
	case "lte":
		return "gt"
	case "gt":
		return "lte"
	case "gte":
		return "lt"
	case "equal":
		return "not_equal"
	case "not_equal":
		return "equal"
	}
	return ""
}

// may reports whether e may evaluate to want for some row of the row group.
// true is always a safe answer.
func (c *rgCtx) may(e logical.Expr, want bool) bool {
	switch x := e.(type) {
	case *logical.Literal:
		if x.Value == nil {
			return false
		}
		if b, ok := x.Value.(bool); ok {
			return b == want
		}
		return true
	case *logical.InList:
		return c.mayIn(x, want)
	case *logical.Call:
		switch x.Func {
		case "and", "or":
			// and is true when all are true and false when any is false; or
			// the other way round.
			all := (x.Func == "and") == want
			for _, a := range x.Args {
				m := c.may(a, want)
				if all && !m {
					return false
				}
				if !all && m {
					return true
				}
			}
			return all
		case "not":
			if len(x.Args) == 1 {
				return c.may(x.Args[0], !want)
			}
		case "is_null", "is_not_null":
			if len(x.Args) != 1 {
				return true
			}
			st, _, ok := c.operand(x.Args[0])
			if !ok || !st.hasNullCount {
				return true
			}
			wantNull := (x.Func == "is_null") == want
			if wantNull {
				return st.nullCount > 0
			}
			return st.nullCount < st.rows
		case "equal", "not_equal", "lt", "lte", "gt", "gte":
			if len(x.Args) != 2 {
				return true
			}
			fn := x.Func
			colE, litE := x.Args[0], x.Args[1]
			lit, isLit := litE.(*logical.Literal)
			if !isLit {
				if l, ok := colE.(*logical.Literal); ok {
					lit, colE, isLit = l, litE, true
					fn = flip(fn)
				}
			}
			if !isLit {
				return true
			}
			if !want {
				fn = negate(fn)
			}
			return c.mayCompare(colE, fn, lit)
		case "between":
			if len(x.Args) != 3 {
				return true
			}
			lo, ok1 := x.Args[1].(*logical.Literal)
			hi, ok2 := x.Args[2].(*logical.Literal)
			if !ok1 || !ok2 {
				return true
			}
			if want {
				return c.mayCompare(x.Args[0], "gte", lo) && c.mayCompare(x.Args[0], "lte", hi)
			}
			return c.mayCompare(x.Args[0], "lt", lo) || c.mayCompare(x.Args[0], "gt", hi)
		}
	}
	return true
}

// mayCompare reports whether `col fn lit` may be true for some row.
func (c *rgCtx) mayCompare(colE logical.Expr, fn string, lit *logical.Literal) bool {
	st, t, ok := c.operand(colE)
	if !ok {
		return true
	}
	if st.allNull() || lit.Value == nil {
		return false // NULL compares to nothing
	}
	if !st.hasMinMax {
		return true
	}
	v, ok := literalVal(lit, t)
	if !ok {
		return true
	}
	if v.k == kFloat {
		// Statistics leave NaN out; NaN sorts above every number here, so
		// only predicates NaN cannot satisfy may be pruned.
		switch fn {
		case "gt", "gte", "not_equal":
			return true
		}
	}
	switch fn {
	case "equal":
		return st.min.cmp(v) <= 0 && st.max.cmp(v) >= 0
	case "not_equal":
		return !(st.min.cmp(v) == 0 && st.max.cmp(v) == 0)
	case "lt":
		return st.min.cmp(v) < 0
	case "lte":
		return st.min.cmp(v) <= 0
	case "gt":
		return st.max.cmp(v) > 0
	case "gte":
		return st.max.cmp(v) >= 0
	}
	return true
}

// mayIn handles `x [NOT] IN (literals)`.
func (c *rgCtx) mayIn(x *logical.InList, want bool) bool {
	if x.Negated {
		want = !want
	}
	if !want {
		// x NOT IN list may be true unless every row holds one listed value.
		st, _, ok := c.operand(x.Input)
		if !ok || !st.hasMinMax || st.min.cmp(st.max) != 0 {
			return true
		}
		for _, e := range x.List {
			if l, ok := e.(*logical.Literal); !ok || l.Value == nil {
				return true
			}
		}
		for _, e := range x.List {
			if c.mayCompare(x.Input, "equal", e.(*logical.Literal)) {
				// Every non-null row holds a listed value.
				return false
			}
		}
		return true
	}
	for _, e := range x.List {
		l, ok := e.(*logical.Literal)
		if !ok || c.mayCompare(x.Input, "equal", l) {
			return true
		}
	}
	return false
}
