package exec

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/arbalest/arbalest/substrait/logical"
)

// The expected values in window_data_test.go come from DuckDB 1.4.2 running
// the SQL of each case below over windowRows (avg of a decimal is computed
// there as the exact sum/count rounded half away from zero to scale s+4,
// since DuckDB's avg(decimal) returns a double).

var winSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "g", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "m", Type: &arrow.Decimal64Type{Precision: 12, Scale: 2}, Nullable: true},
	{Name: "d", Type: arrow.FixedWidthTypes.Date32},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

func wc(name string) *logical.ColumnRef {
	idx := winSchema.FieldIndices(name)
	if len(idx) != 1 {
		panic("no column " + name)
	}
	return col(winSchema, idx[0])
}

func lit(v any, t arrow.DataType) *logical.Literal { return &logical.Literal{Value: v, T: t} }

func i64(v int64) *logical.Literal { return lit(v, logical.Int64) }

func asc(e logical.Expr) logical.SortKey { return logical.SortKey{Expr: e} }

func ascNullsFirst(e logical.Expr) logical.SortKey { return logical.SortKey{Expr: e, NullsFirst: true} }

func desc(e logical.Expr) logical.SortKey { return logical.SortKey{Expr: e, Descending: true} }

func descNullsFirst(e logical.Expr) logical.SortKey {
	return logical.SortKey{Expr: e, Descending: true, NullsFirst: true}
}

// over is a window specification.
type over struct {
	part  []logical.Expr
	order []logical.SortKey
	frame *logical.Frame
}

func by(part ...logical.Expr) over { return over{part: part} }

func (o over) orderBy(keys ...logical.SortKey) over { o.order = keys; return o }

func bound(k logical.BoundKind, off logical.Expr) logical.FrameBound {
	return logical.FrameBound{Kind: k, Offset: off}
}

var (
	unbPrec = bound(logical.UnboundedPreceding, nil)
	unbFol  = bound(logical.UnboundedFollowing, nil)
	curRow  = bound(logical.CurrentRow, nil)
)

func prec(off logical.Expr) logical.FrameBound { return bound(logical.Preceding, off) }

func fol(off logical.Expr) logical.FrameBound { return bound(logical.Following, off) }

func (o over) rows(start, end logical.FrameBound) over {
	o.frame = &logical.Frame{Type: logical.FrameRows, Start: start, End: end}
	return o
}

func (o over) rangeFrame(start, end logical.FrameBound) over {
	o.frame = &logical.Frame{Type: logical.FrameRange, Start: start, End: end}
	return o
}

// fn builds a window call with the result type the binder would give.
func fn(name string, o over, args ...logical.Expr) *logical.WindowCall {
	c := &logical.WindowCall{Func: name, Args: args, PartitionBy: o.part, OrderBy: o.order, Frame: o.frame}
	switch name {
	case "row_number", "rank", "dense_rank", "ntile", "count":
		c.T = logical.Int64
	case "percent_rank", "cume_dist":
		c.T = logical.Float64
	case "sum", "avg":
		t, err := logical.AggregateResultType(name, args[0].Type())
		if err != nil {
			panic(err)
		}
		c.T = t
	case "bool_and", "bool_or":
		c.T = logical.Bool
	default:
		c.T = args[0].Type()
	}
	return c
}

var (
	dec32   = &arrow.Decimal64Type{Precision: 3, Scale: 2}
	partG   = by(wc("g"))
	byID    = by().orderBy(asc(wc("id")))
	gByID   = by(wc("g")).orderBy(asc(wc("id")))
	gByK    = by(wc("g")).orderBy(asc(wc("k")))
	kDescNF = by().orderBy(descNullsFirst(wc("k")))
)

type windowCase struct {
	name  string
	sql   string
	funcs []*logical.WindowCall
}

var windowCases = []windowCase{
	{"ranks", "row_number() over (partition by g order by k nulls last, id), rank(), dense_rank(), percent_rank(), cume_dist() over (partition by g order by k nulls last)", []*logical.WindowCall{
		fn("row_number", by(wc("g")).orderBy(asc(wc("k")), asc(wc("id")))),
		fn("rank", gByK), fn("dense_rank", gByK), fn("percent_rank", gByK), fn("cume_dist", gByK),
	}},
	{"ranks_desc_nulls_first", "rank(), dense_rank(), cume_dist() over (order by k desc nulls first)", []*logical.WindowCall{
		fn("rank", kDescNF), fn("dense_rank", kDescNF), fn("cume_dist", kDescNF),
	}},
	{"ntile", "ntile(3) over (partition by g order by id), ntile(5) over (order by id), ntile(40) over (partition by g order by id)", []*logical.WindowCall{
		fn("ntile", gByID, i64(3)), fn("ntile", byID, i64(5)), fn("ntile", gByID, i64(40)),
	}},
	{"lag_lead", "lag(v), lead(v, 2, -1), lag(v, -1) over (partition by g order by id), lag(s, 1, 'none'), lead(x, 0) over (order by id)", []*logical.WindowCall{
		fn("lag", gByID, wc("v"), i64(1)),
		fn("lead", gByID, wc("v"), i64(2), i64(-1)),
		fn("lag", gByID, wc("v"), i64(-1)),
		fn("lag", byID, wc("s"), i64(1), lit("none", logical.Utf8)),
		fn("lead", byID, wc("x"), i64(0)),
	}},
	{"default_frame", "sum(v), count(v), count(*), min(v), max(v), avg(v), first_value(k), last_value(k) over (partition by g order by k nulls last)", []*logical.WindowCall{
		fn("sum", gByK, wc("v")), fn("count", gByK, wc("v")), fn("count", gByK), fn("min", gByK, wc("v")),
		fn("max", gByK, wc("v")), fn("avg", gByK, wc("v")), fn("first_value", gByK, wc("k")), fn("last_value", gByK, wc("k")),
	}},
	{"whole_partition", "sum(v), count(*), max(s), avg(x), min(id) over (partition by g)", []*logical.WindowCall{
		fn("sum", partG, wc("v")), fn("count", partG), fn("max", partG, wc("s")), fn("avg", partG, wc("x")), fn("min", partG, wc("id")),
	}},
	{"no_spec", "count(*), sum(v), min(d), count(b) over ()", []*logical.WindowCall{
		fn("count", by()), fn("sum", by(), wc("v")), fn("min", by(), wc("d")), fn("count", by(), wc("b")),
	}},
	{"rows_centered", "sum(v), min(v), max(x), avg(x), count(v) over (partition by g order by id rows between 1 preceding and 1 following)", func() []*logical.WindowCall {
		o := gByID.rows(prec(i64(1)), fol(i64(1)))
		return []*logical.WindowCall{fn("sum", o, wc("v")), fn("min", o, wc("v")), fn("max", o, wc("x")), fn("avg", o, wc("x")), fn("count", o, wc("v"))}
	}()},
	{"rows_preceding", "sum(v), first_value(v), last_value(v), nth_value(v, 2), count(*), sum(x) over (order by id rows between 3 preceding and 1 preceding)", func() []*logical.WindowCall {
		o := byID.rows(prec(i64(3)), prec(i64(1)))
		return []*logical.WindowCall{fn("sum", o, wc("v")), fn("first_value", o, wc("v")), fn("last_value", o, wc("v")),
			fn("nth_value", o, wc("v"), i64(2)), fn("count", o), fn("sum", o, wc("x"))}
	}()},
	{"rows_following", "sum(v) rows current row..unbounded following; min(s), max(s) rows 1..3 following; sum(x) 1 following..unbounded following; count(*) 2..2 following (partition by g order by id)", []*logical.WindowCall{
		fn("sum", gByID.rows(curRow, unbFol), wc("v")),
		fn("min", gByID.rows(fol(i64(1)), fol(i64(3))), wc("s")),
		fn("max", gByID.rows(fol(i64(1)), fol(i64(3))), wc("s")),
		fn("sum", gByID.rows(fol(i64(1)), unbFol), wc("x")),
		fn("count", gByID.rows(fol(i64(2)), fol(i64(2)))),
	}},
	{"rows_full", "first_value(s), last_value(s), nth_value(s, 3) rows unbounded; sum(x), min(x) rows unbounded preceding..current row (partition by g order by id)", func() []*logical.WindowCall {
		all := gByID.rows(unbPrec, unbFol)
		run := gByID.rows(unbPrec, curRow)
		return []*logical.WindowCall{fn("first_value", all, wc("s")), fn("last_value", all, wc("s")), fn("nth_value", all, wc("s"), i64(3)),
			fn("sum", run, wc("x")), fn("min", run, wc("x"))}
	}()},
	{"range_int", "RANGE frames over (partition by g order by k nulls last)", []*logical.WindowCall{
		fn("sum", gByK.rangeFrame(prec(i64(2)), fol(i64(1))), wc("v")),
		fn("count", gByK.rangeFrame(prec(i64(2)), fol(i64(1)))),
		fn("min", gByK.rangeFrame(fol(i64(1)), fol(i64(3))), wc("v")),
		fn("count", gByK.rangeFrame(unbPrec, prec(i64(1)))),
		fn("last_value", gByK.rangeFrame(curRow, fol(i64(2))), wc("k")),
	}},
	{"range_int_desc_nulls_first", "RANGE frames over (order by k desc nulls first)", []*logical.WindowCall{
		fn("sum", kDescNF.rangeFrame(prec(i64(2)), fol(i64(1))), wc("v")),
		fn("count", kDescNF.rangeFrame(prec(i64(1)), curRow)),
		fn("count", kDescNF.rangeFrame(curRow, fol(i64(3)))),
		fn("max", kDescNF.rangeFrame(prec(i64(3)), prec(i64(2))), wc("id")),
	}},
	{"decimal", "sum(m) (partition by g order by id), avg(m) rows 1 preceding..1 following, avg(m) (order by id), min(m) (partition by g), max(m) rows 2 preceding, sum(m) (order by m range between 1.50 preceding and 5 following)", []*logical.WindowCall{
		fn("sum", gByID, wc("m")),
		fn("avg", gByID.rows(prec(i64(1)), fol(i64(1))), wc("m")),
		fn("avg", byID, wc("m")),
		fn("min", partG, wc("m")),
		fn("max", byID.rows(prec(i64(2)), curRow), wc("m")),
		fn("sum", by().orderBy(asc(wc("m"))).rangeFrame(prec(lit(int64(150), dec32)), fol(i64(5))), wc("m")),
	}},
	{"date_range", "RANGE frames over dates with interval and integer-day offsets", func() []*logical.WindowCall {
		byD := by().orderBy(asc(wc("d")))
		days := func(n int32) logical.Expr { return lit(arrow.MonthDayNanoInterval{Days: n}, logical.Interval) }
		month := lit(arrow.MonthDayNanoInterval{Months: 1}, logical.Interval)
		return []*logical.WindowCall{
			fn("count", byD.rangeFrame(prec(days(3)), curRow)),
			fn("min", byD.rangeFrame(prec(month), prec(days(1))), wc("id")),
			fn("max", by().orderBy(desc(wc("d"))).rangeFrame(curRow, fol(days(2))), wc("id")),
			fn("count", byD.rangeFrame(prec(i64(2)), fol(i64(2)))),
		}
	}()},
	{"float_range", "sum(v), count(*) over (order by x nulls first range between 1.0 preceding and 0.5 following), max(x) over (order by x desc nulls last range between 0.75 preceding and current row)", func() []*logical.WindowCall {
		o := by().orderBy(ascNullsFirst(wc("x"))).rangeFrame(prec(lit(1.0, logical.Float64)), fol(lit(0.5, logical.Float64)))
		return []*logical.WindowCall{fn("sum", o, wc("v")), fn("count", o),
			fn("max", by().orderBy(desc(wc("x"))).rangeFrame(prec(lit(0.75, logical.Float64)), curRow), wc("x"))}
	}()},
	{"bools", "bool_and(b) (partition by g order by id), bool_or(b) rows 1 preceding, min(b) rows 1 preceding..1 following (order by id), max(b) (partition by g)", []*logical.WindowCall{
		fn("bool_and", gByID, wc("b")),
		fn("bool_or", gByID.rows(prec(i64(1)), curRow), wc("b")),
		fn("min", byID.rows(prec(i64(1)), fol(i64(1))), wc("b")),
		fn("max", partG, wc("b")),
	}},
	{"multi_spec", "row_number() over (partition by g order by id desc), sum(v) over (order by k nulls last, id), count(*) over (), lag(id) over (partition by s order by id), rank() over (partition by g order by k nulls last), sum(v) over (partition by b order by k nulls last, id)", []*logical.WindowCall{
		fn("row_number", by(wc("g")).orderBy(desc(wc("id")))),
		fn("sum", by().orderBy(asc(wc("k")), asc(wc("id"))), wc("v")),
		fn("count", by()),
		fn("lag", by(wc("s")).orderBy(asc(wc("id"))), wc("id"), i64(1)),
		fn("rank", gByK),
		fn("sum", by(wc("b")).orderBy(asc(wc("k")), asc(wc("id"))), wc("v")),
	}},
}

// canonical renders a result value as the probe did: decimals and dates
// as strings, integers as int64, floats as float64.
func canonical(t arrow.DataType, v any) any {
	if v == nil {
		return nil
	}
	switch tt := t.(type) {
	case *arrow.Decimal64Type:
		return logical.FormatDecimal64(v.(int64), tt.Scale)
	case *arrow.Decimal128Type:
		return v.(decimal128.Num).ToString(tt.Scale)
	case *arrow.Date32Type:
		return v.(arrow.Date32).FormattedString()
	}
	return v
}

func sameValue(got, want any) bool {
	if g, ok := got.(float64); ok {
		w, ok := want.(float64)
		return ok && (g == w || math.Abs(g-w) <= 1e-12*math.Max(1, math.Abs(w)))
	}
	return got == want
}

// runWindow evaluates funcs over windowRows split into parts partitions
// of batches of size rows, with output batches of outSize rows, and
// returns the window columns in id order.
func runWindow(t *testing.T, funcs []*logical.WindowCall, parts, size, outSize int) [][]any {
	t.Helper()
	tc, _ := newTestContext(t)
	tc.BatchSize = outSize
	// Deal rows to partitions round-robin so that window partitions span
	// input partitions.
	ps := make([][]arrow.RecordBatch, parts)
	for p := range parts {
		var rows [][]any
		for i := p; i < len(windowRows); i += parts {
			rows = append(rows, windowRows[i])
		}
		ps[p] = buildBatches(t, tc.Alloc, winSchema, rows, size)
		t.Cleanup(func() { releaseAll(ps[p]) })
	}
	names := make([]string, len(funcs))
	for i := range names {
		names[i] = fmt.Sprintf("w%d", i)
	}
	w, err := NewWindow(NewMemorySource(winSchema, ps), funcs, names)
	if err != nil {
		t.Fatalf("NewWindow: %v", err)
	}
	rows := collect(t, w, tc)
	if len(rows) != len(windowRows) {
		t.Fatalf("got %d rows, want %d", len(rows), len(windowRows))
	}
	slices.SortFunc(rows, func(a, b []any) int { return int(a[0].(int64) - b[0].(int64)) })
	nIn := winSchema.NumFields()
	out := make([][]any, len(rows))
	for i, r := range rows {
		if fmt.Sprint(r[:nIn]) != fmt.Sprint(windowRows[i]) {
			t.Fatalf("input columns of row %d changed: %v, want %v", i, r[:nIn], windowRows[i])
		}
		out[i] = make([]any, len(funcs))
		for f := range funcs {
			out[i][f] = canonical(w.Schema().Field(nIn+f).Type, r[nIn+f])
		}
	}
	return out
}

func TestWindowFunctionsMatchDuckDB(t *testing.T) {
	layouts := []struct{ parts, size, out int }{{1, 1000, 8192}, {1, 1, 4}, {3, 4, 5}, {2, 3, 1}, {4, 2, 7}}
	for _, c := range windowCases {
		want, ok := windowExpected[c.name]
		if !ok {
			t.Fatalf("no expected values for %s", c.name)
		}
		for _, l := range layouts {
			t.Run(fmt.Sprintf("%s/parts=%d/batch=%d/out=%d", c.name, l.parts, l.size, l.out), func(t *testing.T) {
				got := runWindow(t, c.funcs, l.parts, l.size, l.out)
				for i := range want {
					for f := range want[i] {
						if !sameValue(got[i][f], want[i][f]) {
							t.Fatalf("%s\nid %d, function %d (%s): got %v (%T), want %v (%T)", c.sql, i, f, c.funcs[f], got[i][f], got[i][f], want[i][f], want[i][f])
						}
					}
				}
			})
		}
	}
}

func TestWindowEmptyInput(t *testing.T) {
	for _, parts := range []int{1, 3} {
		tc, _ := newTestContext(t)
		ps := make([][]arrow.RecordBatch, parts)
		ps[0] = []arrow.RecordBatch{emptyBatch(winSchema)}
		w, err := NewWindow(NewMemorySource(winSchema, ps), []*logical.WindowCall{
			fn("row_number", gByID), fn("sum", byID.rows(prec(i64(1)), curRow), wc("v")), fn("count", by()),
		}, []string{"rn", "s", "c"})
		if err != nil {
			t.Fatal(err)
		}
		if rows := collect(t, w, tc); len(rows) != 0 {
			t.Fatalf("got %d rows from an empty input", len(rows))
		}
	}
}

func TestWindowExchange(t *testing.T) {
	src := NewMemorySource(winSchema, make([][]arrow.RecordBatch, 3))
	cases := []struct {
		funcs []*logical.WindowCall
		want  string
	}{
		{[]*logical.WindowCall{fn("rank", gByK), fn("count", by(wc("g"), wc("k")))}, "Repartition: hash([g#1], 3)"},
		{[]*logical.WindowCall{fn("rank", gByK), fn("count", by())}, "Coalesce"},
		{[]*logical.WindowCall{fn("row_number", byID)}, "Coalesce"},
	}
	for _, c := range cases {
		w, err := NewWindow(src, c.funcs, []string{"a", "b"}[:len(c.funcs)])
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Children()[0].String(); got != c.want {
			t.Errorf("exchange under %s: got %q, want %q", w, got, c.want)
		}
		if w.Partitions() != w.Children()[0].Partitions() {
			t.Errorf("window has %d partitions over a child of %d", w.Partitions(), w.Children()[0].Partitions())
		}
	}
	// A single-partition input is used as is.
	one := NewMemorySource(winSchema, nil)
	w, err := NewWindow(one, []*logical.WindowCall{fn("rank", gByK)}, []string{"r"})
	if err != nil {
		t.Fatal(err)
	}
	if w.Children()[0] != Node(one) {
		t.Errorf("single-partition input got an exchange: %s", Format(w))
	}
}

func TestWindowInstrument(t *testing.T) {
	tc, _ := newTestContext(t)
	ps := [][]arrow.RecordBatch{buildBatches(t, tc.Alloc, winSchema, windowRows[:9], 4), buildBatches(t, tc.Alloc, winSchema, windowRows[9:], 4)}
	defer releaseAll(ps[0])
	defer releaseAll(ps[1])
	w, err := NewWindow(NewMemorySource(winSchema, ps), []*logical.WindowCall{fn("sum", gByK, wc("v"))}, []string{"s"})
	if err != nil {
		t.Fatal(err)
	}
	inst := Instrument(w)
	rows := collect(t, inst, tc)
	if len(rows) != len(windowRows) {
		t.Fatalf("got %d rows, want %d", len(rows), len(windowRows))
	}
	text := FormatAnalyze(inst, tc.Metrics)
	if !strings.Contains(text, "Window: sum(v#3) OVER (PARTITION BY g#1 ORDER BY k#2 ASC NULLS LAST) AS s partitions=2 [rows=18") ||
		!strings.Contains(text, "  Repartition") || !strings.Contains(text, "peak_mem=") {
		t.Fatalf("unexpected EXPLAIN ANALYZE:\n%s", text)
	}
}

func TestWindowPlanErrors(t *testing.T) {
	src := NewMemorySource(winSchema, nil)
	bad := func(c *logical.WindowCall) *logical.WindowCall { return c }
	cases := []struct {
		call *logical.WindowCall
		want string
	}{
		{fn("sum", by().orderBy(asc(wc("k")), asc(wc("id"))).rangeFrame(prec(i64(1)), curRow), wc("v")), "requires exactly one ORDER BY column"},
		{fn("sum", by().orderBy(asc(wc("s"))).rangeFrame(prec(i64(1)), curRow), wc("v")), "ORDER BY key, got utf8"},
		{fn("sum", byID.rows(prec(i64(-1)), curRow), wc("v")), "must not be negative"},
		{fn("sum", byID.rows(prec(wc("k")), curRow), wc("v")), "must be a constant"},
		{fn("sum", by().orderBy(asc(wc("m"))).rangeFrame(curRow, fol(lit(int64(-5), dec32))), wc("v")), "RANGE offset -0.05::decimal(3,2): must not be negative"},
		{fn("sum", by().orderBy(asc(wc("k"))).rangeFrame(prec(lit(nil, logical.Int64)), curRow), wc("v")), "must not be NULL"},
		{fn("sum", byID.rows(unbFol, curRow), wc("v")), "cannot be UNBOUNDED FOLLOWING"},
		{fn("sum", by().orderBy(asc(wc("d"))).rangeFrame(prec(lit(1.5, logical.Float64)), curRow), wc("v")), "not supported for an ORDER BY key of type date32"},
		{bad(&logical.WindowCall{Func: "sum", Args: []logical.Expr{wc("s")}, T: logical.Int64}), "does not accept an argument of type utf8"},
		{fn("stddev_samp", by(), wc("x")), "not supported: window function stddev_samp"},
		{fn("ntile", byID, wc("s")), "must be an integer"},
		{bad(&logical.WindowCall{Func: "sum", Args: []logical.Expr{wc("v")}, T: logical.Float64}), "result type float64 is not supported (expected int64)"},
		{bad(&logical.WindowCall{Func: "lag", Args: []logical.Expr{wc("v"), i64(1), lit("x", logical.Utf8)}, T: logical.Int64}), "default value of type utf8"},
		{bad(&logical.WindowCall{Func: "row_number", T: arrow.PrimitiveTypes.Int32}), "result type int32 is not supported"},
	}
	for _, c := range cases {
		_, err := NewWindow(src, []*logical.WindowCall{c.call}, []string{"w"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one containing %q", c.call, err, c.want)
		}
	}
	if _, err := NewWindow(src, []*logical.WindowCall{fn("count", by())}, nil); err == nil {
		t.Errorf("names/functions mismatch accepted")
	}
}

func TestWindowRuntimeErrors(t *testing.T) {
	cases := []struct {
		call *logical.WindowCall
		want string
	}{
		{fn("ntile", gByID, i64(0)), "argument of ntile must be greater than zero"},
		{fn("nth_value", gByID, wc("v"), i64(0)), "argument of nth_value must be greater than zero"},
	}
	for _, c := range cases {
		tc, _ := newTestContext(t)
		ps := [][]arrow.RecordBatch{buildBatches(t, tc.Alloc, winSchema, windowRows, 5)}
		w, err := NewWindow(NewMemorySource(winSchema, ps), []*logical.WindowCall{c.call}, []string{"w"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = CollectAll(context.Background(), w, tc)
		releaseAll(ps[0])
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one containing %q", c.call, err, c.want)
		}
	}
}

func TestWindowMemoryLimit(t *testing.T) {
	tc, _ := newTestContext(t)
	tc.Mem = NewMemoryPool(2000)
	rows := randRows(rand.New(rand.NewPCG(1, 2)), testSchema, 500, 0.1, 50)
	w, err := NewWindow(source(t, tc, rows, 1, 100), []*logical.WindowCall{
		fn("sum", by(col(testSchema, 0)).orderBy(asc(col(testSchema, 3))), col(testSchema, 0)),
	}, []string{"s"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = CollectAll(context.Background(), w, tc)
	if !errors.Is(err, ErrMemoryLimit) || !strings.Contains(err.Error(), "2000 byte limit") {
		t.Fatalf("got %v, want a memory limit error naming the limit", err)
	}
	if tc.Mem.Used() != 0 {
		t.Fatalf("%d bytes still reserved after the failed query", tc.Mem.Used())
	}
}

func TestWindowSumOverflow(t *testing.T) {
	tc, _ := newTestContext(t)
	rows := [][]any{{int64(math.MaxInt64), nil, nil, nil, nil, nil, arrow.Date32(0), nil, nil}, {int64(1), nil, nil, nil, nil, nil, arrow.Date32(0), nil, nil}}
	ps := [][]arrow.RecordBatch{buildBatches(t, tc.Alloc, winSchema, rows, 10)}
	defer releaseAll(ps[0])
	w, err := NewWindow(NewMemorySource(winSchema, ps), []*logical.WindowCall{fn("sum", by(), wc("id"))}, []string{"s"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = CollectAll(context.Background(), w, tc)
	if !errors.Is(err, errWindowOverflow) {
		t.Fatalf("got %v, want an overflow error", err)
	}
	// A frame whose sum fits is fine even when the partition's does not.
	w, err = NewWindow(NewMemorySource(winSchema, ps), []*logical.WindowCall{fn("sum", byID.rows(curRow, curRow), wc("id"))}, []string{"s"})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, w, tc)
	slices.SortFunc(got, func(a, b []any) int { return cmp.Compare(a[0].(int64), b[0].(int64)) })
	if got[0][9] != int64(1) || got[1][9] != int64(math.MaxInt64) {
		t.Fatalf("got %v", got)
	}
}

func TestWindowCloseEarly(t *testing.T) {
	tc, _ := newTestContext(t)
	rows := randRows(rand.New(rand.NewPCG(3, 4)), testSchema, 300, 0.1, 20)
	w, err := NewWindow(source(t, tc, rows, 3, 16), []*logical.WindowCall{
		fn("row_number", by(col(testSchema, 1)).orderBy(asc(col(testSchema, 0)))),
	}, []string{"rn"})
	if err != nil {
		t.Fatal(err)
	}
	tc.BatchSize = 10
	for p := range w.Partitions() {
		s, err := w.Execute(context.Background(), p, tc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Next(context.Background()); err != nil && err.Error() != "EOF" {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if tc.Mem.Used() != 0 {
		t.Fatalf("%d bytes still reserved", tc.Mem.Used())
	}
}

// TestWindowRandomFrames compares sums, counts, min/max and value
// functions over random ROWS and RANGE frames on random data with a naive
// evaluation of the frame definitions.
func TestWindowRandomFrames(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "p", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "o", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "m", Type: &arrow.Decimal128Type{Precision: 20, Scale: 3}, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	r := rand.New(rand.NewPCG(42, 7))
	const n = 3000
	rows := make([][]any, n)
	for i := range rows {
		row := []any{int64(i), int64(r.IntN(7)), int64(r.IntN(400)), float64(r.IntN(64)-32) / 8, decimal128.FromI64(int64(r.IntN(2_000_000) - 1_000_000)), fmt.Sprintf("s%04d", r.IntN(5000))}
		for c := 1; c < len(row); c++ {
			if r.IntN(10) == 0 {
				row[c] = nil
			}
		}
		rows[i] = row
	}
	c := func(i int) *logical.ColumnRef { return col(schema, i) }
	type frameKind struct {
		rows       bool
		start, end logical.FrameBound
	}
	kinds := []logical.BoundKind{logical.UnboundedPreceding, logical.Preceding, logical.CurrentRow, logical.Following, logical.UnboundedFollowing}
	var frames []frameKind
	for _, rowsMode := range []bool{true, false} {
		for si, sk := range kinds[:4] {
			for _, ek := range kinds[max(si, 1):] {
				if sk == logical.Following && ek == logical.CurrentRow {
					continue
				}
				frames = append(frames, frameKind{rowsMode, bound(sk, i64(int64(r.IntN(30)))), bound(ek, i64(int64(r.IntN(30))))})
			}
		}
	}
	tc, _ := newTestContext(t)
	tc.BatchSize = 700
	ps := make([][]arrow.RecordBatch, 3)
	for p := range ps {
		ps[p] = buildBatches(t, tc.Alloc, schema, rows[p*n/3:(p+1)*n/3], 256)
		defer releaseAll(ps[p])
	}
	for _, descending := range []bool{false, true} {
		for _, fk := range frames {
			key := logical.SortKey{Expr: c(2), Descending: descending, NullsFirst: descending}
			frame := &logical.Frame{Type: logical.FrameRange, Start: fk.start, End: fk.end}
			order := []logical.SortKey{key}
			if fk.rows {
				frame.Type = logical.FrameRows
				order = append(order, asc(c(0)))
			}
			o := over{part: []logical.Expr{c(1)}, order: order, frame: frame}
			// Peers come in no particular order: in RANGE frames take the
			// first value of the key, which is the same for all of them.
			firstOf := c(0)
			if !fk.rows {
				firstOf = c(2)
			}
			funcs := []*logical.WindowCall{
				fn("sum", o, c(3)), fn("count", o, c(3)), fn("min", o, c(3)), fn("max", o, c(5)),
				fn("sum", o, c(4)), fn("first_value", o, firstOf), fn("count", o),
			}
			w, err := NewWindow(NewMemorySource(schema, ps), funcs, []string{"a", "b", "c", "d", "e", "f", "g"})
			if err != nil {
				t.Fatal(err)
			}
			got := collect(t, w, tc)
			slices.SortFunc(got, func(a, b []any) int { return int(a[0].(int64) - b[0].(int64)) })
			want := naiveWindow(rows, fk.rows, fk.start, fk.end, descending, int(firstOf.Index))
			for i := range rows {
				for f := range want[i] {
					g := got[i][6+f]
					if num, ok := g.(decimal128.Num); ok {
						g = num.ToString(3)
					}
					if !sameValue(g, want[i][f]) {
						t.Fatalf("%s: row %d function %d: got %v, want %v", funcs[f], i, f, g, want[i][f])
					}
				}
			}
		}
	}
}

// naiveWindow evaluates, for every row of the random table, the functions
// of TestWindowRandomFrames by scanning its partition.
func naiveWindow(rows [][]any, rowsMode bool, start, end logical.FrameBound, descending bool, firstCol int) [][]any {
	byPart := map[any][]int{}
	for i, r := range rows {
		byPart[r[1]] = append(byPart[r[1]], i)
	}
	// cmpKey orders by o (descending NULLS FIRST, or ascending NULLS LAST).
	cmpKey := func(a, b any) int {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			if descending {
				return -1
			}
			return 1
		case b == nil:
			if descending {
				return 1
			}
			return -1
		}
		x, y := a.(int64), b.(int64)
		if descending {
			x, y = y, x
		}
		return int(x - y)
	}
	off := func(b logical.FrameBound) int64 { return b.Offset.(*logical.Literal).Value.(int64) }
	out := make([][]any, len(rows))
	for _, idx := range byPart {
		slices.SortStableFunc(idx, func(a, b int) int {
			if c := cmpKey(rows[a][2], rows[b][2]); c != 0 {
				return c
			}
			return a - b
		})
		for pos, i := range idx {
			in := func(q int) bool {
				if rowsMode {
					lo, hi := math.MinInt, math.MaxInt
					switch start.Kind {
					case logical.Preceding:
						lo = pos - int(off(start))
					case logical.CurrentRow:
						lo = pos
					case logical.Following:
						lo = pos + int(off(start))
					}
					switch end.Kind {
					case logical.Preceding:
						hi = pos - int(off(end))
					case logical.CurrentRow:
						hi = pos
					case logical.Following:
						hi = pos + int(off(end))
					}
					return q >= lo && q <= hi
				}
				// The frame is the positions that are neither before its
				// start nor after its end. A NULL key is a peer of NULL
				// keys only; offsets from a NULL key reach its peers.
				cur, other := rows[i][2], rows[idx[q]][2]
				order := cmpKey(other, cur)
				rangeEnd := func(b logical.FrameBound, isStart bool) bool {
					switch b.Kind {
					case logical.UnboundedPreceding, logical.UnboundedFollowing:
						return true
					case logical.CurrentRow:
						if isStart {
							return order >= 0
						}
						return order <= 0
					}
					lim := off(b)
					if b.Kind == logical.Preceding {
						lim = -lim
					}
					switch {
					case cur == nil && isStart:
						return order >= 0
					case cur == nil:
						return order <= 0
					case other == nil && isStart:
						return order > 0
					case other == nil:
						return order < 0
					}
					dist := other.(int64) - cur.(int64)
					if descending {
						dist = -dist
					}
					if isStart {
						return dist >= lim
					}
					return dist <= lim
				}
				okStart, okEnd := rangeEnd(start, true), rangeEnd(end, false)
				return okStart && okEnd
			}
			var sum float64
			var cnt, all int64
			var minX, maxS, first any
			var seen bool
			dsum, dcnt := decimal128.Num{}, 0
			for q, j := range idx {
				if !in(q) {
					continue
				}
				r := rows[j]
				if !seen {
					first, seen = r[firstCol], true
				}
				all++
				if x, ok := r[3].(float64); ok {
					sum += x
					cnt++
					if minX == nil || x < minX.(float64) {
						minX = x
					}
				}
				if s, ok := r[5].(string); ok && (maxS == nil || s > maxS.(string)) {
					maxS = s
				}
				if m, ok := r[4].(decimal128.Num); ok {
					dsum = dsum.Add(m)
					dcnt++
				}
			}
			var sumV, dsumV any
			if cnt > 0 {
				sumV = sum
			}
			if dcnt > 0 {
				dsumV = dsum.ToString(3)
			}
			out[i] = []any{sumV, cnt, minX, maxS, dsumV, first, all}
		}
	}
	return out
}

// BenchmarkWindow measures a ranking, a sliding ROWS sum and a running
// decimal sum over 1M rows in 1000 window partitions.
func BenchmarkWindow(b *testing.B) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "p", Type: arrow.PrimitiveTypes.Int64},
		{Name: "o", Type: arrow.PrimitiveTypes.Int64},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64},
		{Name: "m", Type: &arrow.Decimal64Type{Precision: 12, Scale: 2}},
	}, nil)
	r := rand.New(rand.NewPCG(1, 1))
	const n = 1 << 20
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(r.IntN(1000)), int64(r.IntN(1 << 30)), r.Float64(), int64(r.IntN(100000))}
	}
	tc := NewTaskContext()
	batches := buildBatches(b, tc.Alloc, schema, rows, DefaultBatchSize)
	defer releaseAll(batches)
	c := func(i int) *logical.ColumnRef { return col(schema, i) }
	o := over{part: []logical.Expr{c(0)}, order: []logical.SortKey{asc(c(1))}}
	funcs := []*logical.WindowCall{
		fn("rank", o),
		fn("sum", o.rows(prec(i64(5)), fol(i64(5))), c(2)),
		fn("sum", o, c(3)),
	}
	w, err := NewWindow(NewMemorySource(schema, [][]arrow.RecordBatch{batches}), funcs, []string{"r", "s", "t"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := drainNode(w, tc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
}

func drainNode(n Node, tc *TaskContext) (int64, error) {
	s, err := n.Execute(context.Background(), 0, tc)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return drain(context.Background(), s)
}
