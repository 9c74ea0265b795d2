package aggregate

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// avgMergeType is an argument type of avg with a generator of its values.
type avgMergeType struct {
	name  string
	typ   arrow.DataType
	value func(r *rand.Rand, b array.Builder)
}

func avgTestTypes() []avgMergeType {
	return []avgMergeType{
		{"int64", arrow.PrimitiveTypes.Int64, func(r *rand.Rand, b array.Builder) {
			b.(*array.Int64Builder).Append(r.Int64N(1<<40) - 1<<39)
		}},
		// Multiples of 1/8 of small magnitude: every partial sum is exact,
		// so any split of the rows gives the same bits.
		{"float64", arrow.PrimitiveTypes.Float64, func(r *rand.Rand, b array.Builder) {
			b.(*array.Float64Builder).Append(float64(r.IntN(16001)-8000) / 8)
		}},
		// Near the type's limits, so that sums leave int64.
		{"decimal(15,2)", &arrow.Decimal64Type{Precision: 15, Scale: 2}, func(r *rand.Rand, b array.Builder) {
			const m = 999_999_999_999_999
			b.(*array.Decimal64Builder).Append(decimal.Decimal64(r.Int64N(2*m+1) - m))
		}},
		// Its avg is decimal(16,7), stored as decimal64.
		{"decimal(12,3)", &arrow.Decimal64Type{Precision: 12, Scale: 3}, func(r *rand.Rand, b array.Builder) {
			const m = 999_999_999_999
			b.(*array.Decimal64Builder).Append(decimal.Decimal64(r.Int64N(2*m+1) - m))
		}},
		{"decimal(25,4)", &arrow.Decimal128Type{Precision: 25, Scale: 4}, func(r *rand.Rand, b array.Builder) {
			// |hi·2^64 + lo| < 542101·2^64 < 10^25.
			b.(*array.Decimal128Builder).Append(decimal128.New(r.Int64N(1_084_202)-542_101, r.Uint64()))
		}},
	}
}

// avgMergeSource makes rows (g, h, flag, x) in parts partitions (partition
// 1 empty): g in [0, groups) or NULL, h in [0, 3), x NULL in about one row
// in six and in every row of group 0.
func avgMergeSource(mem memory.Allocator, tt avgMergeType, seed uint64, rows, groups, parts, batch int) *sourceNode {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "g", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "h", Type: arrow.PrimitiveTypes.Int32},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "x", Type: tt.typ, Nullable: true},
	}, nil)
	r := rand.New(rand.NewPCG(seed, 77))
	src := &sourceNode{schema: schema, parts: make([][]arrow.RecordBatch, parts)}
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := 0; i < rows; {
		p := r.IntN(parts)
		if p == 1 {
			continue
		}
		n := min(rows-i, 1+r.IntN(batch))
		for range n {
			g := r.Int64N(int64(groups))
			appendOpt(b.Field(0).(*array.Int64Builder), ptrIf(g, r.IntN(20) != 0))
			b.Field(1).(*array.Int32Builder).Append(int32(r.IntN(3)))
			appendOpt(b.Field(2).(*array.BooleanBuilder), ptrIf(r.IntN(2) == 0, r.IntN(5) != 0))
			if g == 0 || r.IntN(6) == 0 {
				b.Field(3).AppendNull()
			} else {
				tt.value(r, b.Field(3))
			}
		}
		src.parts[p] = append(src.parts[p], b.NewRecordBatch())
		i += n
	}
	return src
}

func ptrIf[T any](v T, ok bool) *T {
	if !ok {
		return nil
	}
	return &v
}

// collect runs every partition of n and keeps its batches as a source
// with the same partitions.
func collect(t testing.TB, n exec.Node, tc *exec.TaskContext) *sourceNode {
	t.Helper()
	ctx := context.Background()
	src := &sourceNode{schema: n.Schema(), parts: make([][]arrow.RecordBatch, n.Partitions())}
	for p := range src.parts {
		st, err := n.Execute(ctx, p, tc)
		if err != nil {
			t.Fatal(err)
		}
		for {
			b, err := st.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				src.release()
				t.Fatal(err)
			}
			b.Retain()
			src.parts[p] = append(src.parts[p], b)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// compareExact checks got against want ignoring order, floats to the bit.
func compareExact(t testing.TB, got, want [][]cell) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	if len(want) == 0 {
		t.Fatal("the comparison has no rows")
	}
	sortRows(got)
	sortRows(want)
	bad := 0
	for i := range got {
		for c := range got[i] {
			g, w := got[i][c], want[i][c]
			if g.s != w.s || g.float != w.float || math.Float64bits(g.f) != math.Float64bits(w.f) {
				t.Errorf("row %d col %d: got %s (%x), want %s (%x)\n got  %s\n want %s", i, c, g, math.Float64bits(g.f),
					w, math.Float64bits(w.f), rowString(got[i]), rowString(want[i]))
				if bad++; bad > 5 {
					t.FailNow()
				}
				break
			}
		}
	}
}

func avgMergeCall(s, c logical.Expr, result arrow.DataType, filter logical.Expr) *logical.AggregateCall {
	return &logical.AggregateCall{Func: "avg_merge", Args: []logical.Expr{s, c}, Filter: filter, T: result}
}

func keyCols(schema *arrow.Schema, names ...string) []logical.Expr {
	out := make([]logical.Expr, len(names))
	for i, n := range names {
		out[i] = col(schema, n)
	}
	return out
}

func newAgg(t testing.TB, in exec.Node, mode Mode, keys []logical.Expr, keyNames []string, sets [][]int,
	aggs []*logical.AggregateCall, names []string) *HashAggregate {
	t.Helper()
	n, err := NewHashAggregate(in, mode, keys, keyNames, sets, aggs, names)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// mergePlans are avg_merge's plans over partial rows: Single, and the
// local Partial → Final.
func mergePlans(t testing.TB, parts exec.Node, keys []logical.Expr, keyNames []string, sets [][]int,
	aggs []*logical.AggregateCall, names []string) map[string]exec.Node {
	t.Helper()
	p := newAgg(t, parts, Partial, keys, keyNames, sets, aggs, names)
	f, err := NewFinalAggregate(&coalesceNode{p}, p)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]exec.Node{
		"single":        newAgg(t, &coalesceNode{parts}, Single, keys, keyNames, sets, aggs, names),
		"partial-final": f,
	}
}

// TestAvgMergeEqualsAvg splits rows into partitions, computes per group of
// each partition the partial sums and counts (sum(x) and count(x), or
// avg's own Partial state), and checks that avg_merge over those equals
// avg(x) over all rows exactly, with and without grouping sets and
// FILTER, in every mode.
func TestAvgMergeEqualsAvg(t *testing.T) {
	for i, tt := range avgTestTypes() {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			src := avgMergeSource(mem, tt, uint64(i), 6000, 300, 4, 500)
			defer src.release()
			tc := newTC(mem, 0, t.TempDir(), 0)
			x, flag := col(src.schema, "x"), col(src.schema, "flag")
			avg := call("avg", false, nil, x)
			avgFiltered := call("avg", false, flag, x)
			fine := keyCols(src.schema, "g", "h", "flag")
			fineNames := []string{"g", "h", "flag"}

			// Stage 1, two ways: sum(x) and count(x) per group of each
			// partition; avg's Partial states.
			stage1 := map[string]struct {
				node exec.Node
				s, c string
			}{
				"sum-count": {newAgg(t, src, Single, fine, fineNames, nil,
					[]*logical.AggregateCall{call("sum", false, nil, x), call("count", false, nil, x)}, []string{"s", "c"}), "s", "c"},
				"avg-state": {newAgg(t, src, Partial, fine, fineNames, nil, []*logical.AggregateCall{avg}, []string{"a"}), "a.sum", "a.count"},
			}
			for name, st := range stage1 {
				parts := collect(t, st.node, tc)
				s, c := col(parts.schema, st.s), col(parts.schema, st.c)
				pflag := col(parts.schema, "flag")
				merges := []*logical.AggregateCall{avgMergeCall(s, c, avg.T, nil), avgMergeCall(s, c, avg.T, pflag)}
				for _, sets := range [][][]int{nil, {{0, 1}, {0}, {}}} {
					want := runAll(t, newAgg(t, &coalesceNode{src}, Single, keyCols(src.schema, "g", "h"), []string{"g", "h"}, sets,
						[]*logical.AggregateCall{avg, avgFiltered}, []string{"a", "af"}), tc)
					for mode, n := range mergePlans(t, parts, keyCols(parts.schema, "g", "h"), []string{"g", "h"}, sets,
						merges, []string{"a", "af"}) {
						t.Run(name+"/"+mode, func(t *testing.T) {
							if f := n.Schema().Field(2).Type; !arrow.TypeEqual(f, avg.T) {
								t.Fatalf("result type %s, want %s", f, avg.T)
							}
							compareExact(t, runAll(t, n, tc), want)
						})
					}
				}
				parts.release()
			}
			if tc.Mem.Used() != 0 {
				t.Errorf("%d bytes still reserved", tc.Mem.Used())
			}
		})
	}
}

// TestAvgMergeFloatOrder checks floats whose sums round: avg_merge over
// the partitions' partial sums adds them in the order avg's Final merges
// its partial states, so both give the same bits.
func TestAvgMergeFloatOrder(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tt := avgMergeType{"float64", arrow.PrimitiveTypes.Float64, func(r *rand.Rand, b array.Builder) {
		b.(*array.Float64Builder).Append(r.NormFloat64() * math.Pow(10, float64(r.IntN(12))))
	}}
	src := avgMergeSource(mem, tt, 3, 8000, 40, 5, 300)
	defer src.release()
	tc := newTC(mem, 0, "", 0)
	x, flag := col(src.schema, "x"), col(src.schema, "flag")
	for _, filtered := range []bool{false, true} {
		keys, names := keyCols(src.schema, "g"), []string{"g"}
		var filter logical.Expr
		if filtered {
			// Stage 1 keeps flag as a key for the second stage to filter on.
			keys, names, filter = keyCols(src.schema, "g", "flag"), []string{"g", "flag"}, flag
		}
		parts := collect(t, newAgg(t, src, Single, keys, names, nil,
			[]*logical.AggregateCall{call("sum", false, nil, x), call("count", false, nil, x)}, []string{"s", "c"}), tc)
		var pfilter logical.Expr
		if filtered {
			pfilter = col(parts.schema, "flag")
		}
		avg := call("avg", false, filter, x)
		p := newAgg(t, src, Partial, keyCols(src.schema, "g"), []string{"g"}, nil, []*logical.AggregateCall{avg}, []string{"a"})
		f, err := NewFinalAggregate(&coalesceNode{p}, p)
		if err != nil {
			t.Fatal(err)
		}
		want := runAll(t, f, tc)
		merge := avgMergeCall(col(parts.schema, "s"), col(parts.schema, "c"), avg.T, pfilter)
		for mode, n := range mergePlans(t, parts, keyCols(parts.schema, "g"), []string{"g"}, nil,
			[]*logical.AggregateCall{merge}, []string{"a"}) {
			got := runAll(t, n, tc)
			t.Logf("filtered=%v %s: %d groups", filtered, mode, len(got))
			compareExact(t, got, want)
		}
		parts.release()
	}
}

// TestAvgMergeSpill runs avg_merge over many groups under a memory limit
// that makes Single and Final spill.
func TestAvgMergeSpill(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tt := avgTestTypes()[4] // decimal(25,4)
	src := avgMergeSource(mem, tt, 21, 30_000, 12_000, 3, 2048)
	defer src.release()
	x := col(src.schema, "x")
	avg := call("avg", false, nil, x)
	keys, names := keyCols(src.schema, "g", "h"), []string{"g", "h"}
	tc := newTC(mem, 0, "", 0)
	parts := collect(t, newAgg(t, src, Single, keys, names, nil,
		[]*logical.AggregateCall{call("sum", false, nil, x), call("count", false, nil, x)}, []string{"s", "c"}), tc)
	defer parts.release()
	want := runAll(t, newAgg(t, &coalesceNode{src}, Single, keys, names, nil, []*logical.AggregateCall{avg}, []string{"a"}), tc)
	merge := avgMergeCall(col(parts.schema, "s"), col(parts.schema, "c"), avg.T, nil)
	for mode, n := range mergePlans(t, parts, keyCols(parts.schema, "g", "h"), names, nil,
		[]*logical.AggregateCall{merge}, []string{"a"}) {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			ltc := newTC(mem, 256<<10, dir, 0)
			compareExact(t, runAll(t, n, ltc), want)
			if m := ltc.Metrics.Lookup(n); m == nil || m.Spills.Load() == 0 {
				t.Errorf("expected spills under a 256 KiB limit")
			}
			if ltc.Mem.Used() != 0 {
				t.Errorf("%d bytes still reserved", ltc.Mem.Used())
			}
		})
	}
}

// partialRows is a source of partial rows (g, s, c), one partition.
func partialRows(mem memory.Allocator, sumType arrow.DataType, g []int64, s []any, c []*int64) *sourceNode {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "g", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: sumType, Nullable: true},
		{Name: "c", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range g {
		b.Field(0).(*array.Int64Builder).Append(g[i])
		switch v := s[i].(type) {
		case nil:
			b.Field(1).AppendNull()
		case int64:
			b.Field(1).(*array.Int64Builder).Append(v)
		case float64:
			b.Field(1).(*array.Float64Builder).Append(v)
		case decimal128.Num:
			b.Field(1).(*array.Decimal128Builder).Append(v)
		}
		appendOpt(b.Field(2).(*array.Int64Builder), c[i])
	}
	return &sourceNode{schema: schema, parts: [][]arrow.RecordBatch{{b.NewRecordBatch()}}}
}

func TestAvgMergeEmptyAndNull(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d382 := &arrow.Decimal128Type{Precision: 38, Scale: 2}
	d196 := &arrow.Decimal128Type{Precision: 19, Scale: 6}
	dec := func(v int64) any { return decimal128.FromI64(v) }
	// Group 1: only empty partials (Σc = 0); group 2: one empty partial, a
	// row with a NULL count, and two real ones; group 3: real partials.
	g := []int64{1, 1, 2, 2, 2, 2, 3, 3}
	c := []*int64{ptr[int64](0), ptr[int64](0), ptr[int64](0), nil, ptr[int64](2), ptr[int64](1), ptr[int64](3), ptr[int64](1)}
	for _, tc := range []struct {
		name    string
		sumType arrow.DataType
		result  arrow.DataType
		s       []any
		want    [3]string
	}{
		{"int64", logical.Int64, logical.Float64, []any{nil, nil, nil, int64(99), int64(3), int64(4), int64(-5), int64(1)},
			[3]string{"NULL", "2.3333333", "-1"}},
		{"float64", logical.Float64, logical.Float64, []any{nil, nil, nil, 99.0, 0.5, 0.25, -5.0, 1.0},
			[3]string{"NULL", "0.25", "-1"}},
		{"decimal", d382, d196, []any{nil, nil, nil, dec(99), dec(3), dec(4), dec(-5), dec(2)},
			[3]string{"NULL", "0.023333", "-0.007500"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := partialRows(mem, tc.sumType, g, tc.s, c)
			defer src.release()
			s, cnt := col(src.schema, "s"), col(src.schema, "c")
			merge := []*logical.AggregateCall{avgMergeCall(s, cnt, tc.result, nil)}
			want := [][]cell{{scell("1"), scell(tc.want[0])}, {scell("2"), scell(tc.want[1])}, {scell("3"), scell(tc.want[2])}}
			for mode, n := range mergePlans(t, src, keyCols(src.schema, "g"), []string{"g"}, nil, merge, []string{"a"}) {
				got := runAll(t, n, newTC(mem, 0, "", 0))
				for _, r := range got {
					r[1] = scell(r[1].s) // compare the rendering
				}
				t.Logf("%s: %v", mode, got)
				compareRows(t, got, want)
			}
			// No keys, no input: one NULL row.
			empty := &sourceNode{schema: src.schema, parts: [][]arrow.RecordBatch{nil, nil}}
			for _, n := range mergePlans(t, empty, nil, nil, nil, merge, []string{"a"}) {
				compareRows(t, runAll(t, n, newTC(mem, 0, "", 0)), [][]cell{{nullCell}})
			}
			// Keys, no input: no rows.
			for _, n := range mergePlans(t, empty, keyCols(src.schema, "g"), []string{"g"}, nil, merge, []string{"a"}) {
				if got := runAll(t, n, newTC(mem, 0, "", 0)); len(got) != 0 {
					t.Errorf("rows from empty input: %v", got)
				}
			}
		})
	}
}

// TestAvgMergeIntegerAvgState merges avg's own partial state of an
// integer argument (an exact decimal(38,0) sum) where sum(x) would
// overflow int64.
func TestAvgMergeIntegerAvgState(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tt := avgMergeType{"int64", logical.Int64, func(r *rand.Rand, b array.Builder) {
		b.(*array.Int64Builder).Append(math.MaxInt64 - r.Int64N(1<<20))
	}}
	src := avgMergeSource(mem, tt, 8, 3000, 5, 3, 200)
	defer src.release()
	tc := newTC(mem, 0, "", 0)
	x := col(src.schema, "x")
	avg := call("avg", false, nil, x)
	keys, names := keyCols(src.schema, "g"), []string{"g"}
	if _, err := tryRunAll(newAgg(t, src, Single, keys, names, nil, []*logical.AggregateCall{call("sum", false, nil, x)}, []string{"s"}), tc); err == nil {
		t.Fatal("test data must overflow sum(x)")
	}
	parts := collect(t, newAgg(t, src, Partial, keys, names, nil, []*logical.AggregateCall{avg}, []string{"a"}), tc)
	defer parts.release()
	if typ := parts.schema.Field(1).Type.String(); typ != "decimal(38, 0)" {
		t.Fatalf("avg state sum is %s", typ)
	}
	want := runAll(t, newAgg(t, &coalesceNode{src}, Single, keys, names, nil, []*logical.AggregateCall{avg}, []string{"a"}), tc)
	merge := avgMergeCall(col(parts.schema, "a.sum"), col(parts.schema, "a.count"), logical.Float64, nil)
	for _, n := range mergePlans(t, parts, keyCols(parts.schema, "g"), names, nil, []*logical.AggregateCall{merge}, []string{"a"}) {
		compareExact(t, runAll(t, n, tc), want)
	}
}

func TestAvgMergeOverflow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d380 := &arrow.Decimal128Type{Precision: 38, Scale: 0}
	d384 := &arrow.Decimal128Type{Precision: 38, Scale: 4}
	max38, _ := decimal128.FromString(strings.Repeat("9", 38), 38, 0)
	e37, _ := decimal128.FromString("1"+strings.Repeat("0", 37), 38, 0)
	for _, tc := range []struct {
		name string
		x    decimal128.Num
		want string
	}{
		// Two partial sums of 10^38-1 exceed 128 bits.
		{"sum", max38, "aggregate a: numeric overflow: sum of decimal(38, 0) exceeds 128 bits"},
		// 10^37 at scale 4 needs 42 digits.
		{"result", e37, "aggregate a: numeric overflow: avg does not fit decimal(38, 4)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			one := ptr[int64](1)
			parts := partialRows(mem, d380, []int64{0, 0}, []any{tc.x, tc.x}, []*int64{one, one})
			defer parts.release()
			merge := []*logical.AggregateCall{avgMergeCall(col(parts.schema, "s"), col(parts.schema, "c"), d384, nil)}
			// avg over the rows behind the partial sums.
			rows := partialRows(mem, d380, []int64{0, 0}, []any{tc.x, tc.x}, []*int64{one, one})
			defer rows.release()
			_, avgErr := tryRunAll(newAgg(t, rows, Single, keyCols(rows.schema, "g"), []string{"g"}, nil,
				[]*logical.AggregateCall{call("avg", false, nil, col(rows.schema, "s"))}, []string{"a"}), newTC(mem, 0, "", 0))
			if !errors.Is(avgErr, errOverflow) || avgErr.Error() != tc.want {
				t.Fatalf("avg: error %v, want %q", avgErr, tc.want)
			}
			for mode, n := range mergePlans(t, parts, keyCols(parts.schema, "g"), []string{"g"}, nil, merge, []string{"a"}) {
				_, err := tryRunAll(n, newTC(mem, 0, "", 0))
				if !errors.Is(err, errOverflow) || err.Error() != tc.want {
					t.Errorf("%s: error %v, want %q", mode, err, tc.want)
				}
			}
		})
	}
}

func TestAvgMergeBadPartials(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	parts := partialRows(mem, logical.Int64, []int64{0, 0}, []any{int64(1), int64(2)}, []*int64{ptr[int64](1), ptr[int64](-2)})
	defer parts.release()
	merge := []*logical.AggregateCall{avgMergeCall(col(parts.schema, "s"), col(parts.schema, "c"), logical.Float64, nil)}
	for mode, n := range mergePlans(t, parts, keyCols(parts.schema, "g"), []string{"g"}, nil, merge, []string{"a"}) {
		_, err := tryRunAll(n, newTC(mem, 0, "", 0))
		if err == nil || !strings.Contains(err.Error(), "partial count -2 is negative") {
			t.Errorf("%s: error %v", mode, err)
		}
	}
}

func TestAvgMergeResolve(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d382 := &arrow.Decimal128Type{Precision: 38, Scale: 2}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: logical.Int64}, {Name: "f", Type: logical.Float64}, {Name: "d", Type: d382},
		{Name: "d0", Type: &arrow.Decimal128Type{Precision: 38, Scale: 0}},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32}, {Name: "d64", Type: &arrow.Decimal64Type{Precision: 15, Scale: 2}},
	}, nil)
	src := &sourceNode{schema: schema, parts: [][]arrow.RecordBatch{nil}}
	c := func(n string) logical.Expr { return col(schema, n) }
	build := func(a *logical.AggregateCall) (*HashAggregate, error) {
		return NewHashAggregate(src, Single, nil, nil, nil, []*logical.AggregateCall{a}, []string{"a"})
	}
	// Accepted: the result type of the avg completed.
	for _, ok := range []struct {
		s, c   string
		result arrow.DataType
	}{
		{"i", "i", logical.Float64},
		{"i", "i", nil},
		{"f", "i", logical.Float64},
		{"f", "i", nil},
		{"d", "i", &arrow.Decimal128Type{Precision: 19, Scale: 6}}, // avg(decimal(15,2))
		{"d", "i", &arrow.Decimal64Type{Precision: 13, Scale: 6}},  // avg(decimal(9,2))
		{"d", "i", &arrow.Decimal128Type{Precision: 38, Scale: 6}},
		{"d0", "i", logical.Float64}, // avg's state of an integer
		{"d0", "i", &arrow.Decimal128Type{Precision: 22, Scale: 4}},
	} {
		n, err := build(avgMergeCall(c(ok.s), c(ok.c), ok.result, nil))
		if err != nil {
			t.Errorf("avg_merge(%s, %s) as %v: %v", ok.s, ok.c, ok.result, err)
			continue
		}
		if ok.result != nil && !arrow.TypeEqual(n.Schema().Field(0).Type, ok.result) {
			t.Errorf("avg_merge(%s, %s): result %s", ok.s, ok.c, n.Schema().Field(0).Type)
		}
	}
	for _, bad := range []struct {
		call *logical.AggregateCall
		want string
	}{
		{&logical.AggregateCall{Func: "avg_merge", Args: []logical.Expr{c("i")}, T: logical.Float64}, "avg_merge takes two arguments, got 1"},
		{avgMergeCall(c("i"), c("i32"), logical.Float64, nil), "count argument is int32"},
		{avgMergeCall(c("i32"), c("i"), logical.Float64, nil), "sum argument is int32"},
		{avgMergeCall(c("d64"), c("i"), nil, nil), "sum argument is decimal64(15, 2)"},
		{avgMergeCall(c("i"), c("i"), d382, nil), "declared type decimal(38, 2) is not the result of an avg whose sum is int64"},
		{avgMergeCall(c("d"), c("i"), logical.Float64, nil), "declared type float64"},
		{avgMergeCall(c("d"), c("i"), &arrow.Decimal128Type{Precision: 38, Scale: 2}, nil), "declared type decimal(38, 2)"},
		{avgMergeCall(c("d"), c("i"), &arrow.Decimal128Type{Precision: 5, Scale: 6}, nil), "declared type"},
		{avgMergeCall(c("d"), c("i"), nil, nil), "needs a declared result type"},
		{&logical.AggregateCall{Func: "avg_merge", Args: []logical.Expr{c("i"), c("i")}, Distinct: true, T: logical.Float64}, "DISTINCT"},
		{avgMergeCall(c("i"), c("i"), logical.Float64, c("i")), "FILTER condition has type int64"},
	} {
		_, err := build(bad.call)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one with %q", bad.call, err, bad.want)
		}
	}
	// avg_merge's partial state is avg's.
	p, err := NewHashAggregate(src, Partial, nil, nil, nil, []*logical.AggregateCall{
		avgMergeCall(c("d"), c("i"), &arrow.Decimal128Type{Precision: 19, Scale: 6}, nil), avgMergeCall(c("i"), c("i"), nil, nil)},
		[]string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, f := range p.Schema().Fields() {
		fields = append(fields, f.Name+":"+f.Type.String())
	}
	if got, want := strings.Join(fields, " "), "a.sum:decimal(38, 2) a.count:int64 b.sum:decimal(38, 0) b.count:int64"; got != want {
		t.Errorf("partial schema %s, want %s", got, want)
	}
}
