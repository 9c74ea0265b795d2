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
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/arbalest/arbalest/substrait/logical"
)

// compareValues is the reference SQL order of two non-NULL values.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int32:
		return cmp.Compare(x, b.(int32))
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		y := b.(float64)
		switch {
		case math.IsNaN(x) && math.IsNaN(y):
			return 0
		case math.IsNaN(x):
			return 1
		case math.IsNaN(y):
			return -1
		}
		return cmp.Compare(x, y)
	case string:
		return strings.Compare(x, b.(string))
	case arrow.Date32:
		return cmp.Compare(x, b.(arrow.Date32))
	case arrow.Timestamp:
		return cmp.Compare(x, b.(arrow.Timestamp))
	case decimal128.Num:
		return x.Cmp(b.(decimal128.Num))
	}
	panic(fmt.Sprintf("compareValues %T", a))
}

// referenceSort sorts rows by keys (column index, desc, nulls first).
func referenceSort(rows [][]any, keys []logical.SortKey) [][]any {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b []any) int {
		for _, k := range keys {
			i := k.Expr.(*logical.ColumnRef).Index
			va, vb := a[i], b[i]
			var c int
			switch {
			case va == nil && vb == nil:
				c = 0
			case va == nil:
				c = 1
				if k.NullsFirst {
					c = -1
				}
			case vb == nil:
				c = -1
				if k.NullsFirst {
					c = 1
				}
			default:
				c = compareValues(va, vb)
				if k.Descending {
					c = -c
				}
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

// keyColumns projects rows onto the key columns, for order checks that
// ignore how ties are broken.
func keyColumns(rows [][]any, keys []logical.SortKey) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		kr := make([]any, len(keys))
		for j, k := range keys {
			v := r[k.Expr.(*logical.ColumnRef).Index]
			if f, ok := v.(float64); ok && f == 0 {
				v = 0.0 // -0.0 and 0.0 are peers
			}
			if f, ok := v.(float64); ok && math.IsNaN(f) {
				v = "NaN"
			}
			kr[j] = v
		}
		out[i] = kr
	}
	return out
}

func checkSorted(t *testing.T, got, rows [][]any, keys []logical.SortKey, fetch int) {
	t.Helper()
	want := referenceSort(rows, keys)
	if fetch >= 0 && fetch < len(want) {
		want = want[:fetch]
		// Rows tied with the last kept row may be chosen either way: compare keys only.
		sameRowsInOrder(t, keyColumns(got, keys), keyColumns(want, keys))
		return
	}
	sameRowsInOrder(t, keyColumns(got, keys), keyColumns(want, keys))
	sameRowsAnyOrder(t, got, want)
}

var sortKeySets = [][]logical.SortKey{
	{{Expr: col(testSchema, 0)}},
	{{Expr: col(testSchema, 0), Descending: true, NullsFirst: true}},
	{{Expr: col(testSchema, 1)}, {Expr: col(testSchema, 0), Descending: true}},
	{{Expr: col(testSchema, 1), Descending: true, NullsFirst: false}, {Expr: col(testSchema, 3)}},
	{{Expr: col(testSchema, 2), NullsFirst: true}, {Expr: col(testSchema, 4), Descending: true}, {Expr: col(testSchema, 5)}},
	{{Expr: col(testSchema, 5), Descending: true}, {Expr: col(testSchema, 3), Descending: true}},
	{{Expr: col(testSchema, 4)}, {Expr: col(testSchema, 1), NullsFirst: true}},
}

func TestSort(t *testing.T) {
	for ki, keys := range sortKeySets {
		for _, size := range testBatchSizes {
			for _, parts := range []int{1, 3} {
				for _, fetch := range []int{-1, 0, 1, 17} {
					name := fmt.Sprintf("keys%d/size%d/parts%d/fetch%d", ki, size, parts, fetch)
					t.Run(name, func(t *testing.T) {
						tc, _ := newTestContext(t)
						tc.BatchSize = max(size, 2)
						rows := testRows(300, uint64(ki*7+size))
						s, err := NewSort(source(t, tc, rows, parts, size), keys, int64(fetch))
						if err != nil {
							t.Fatal(err)
						}
						checkSorted(t, collect(t, s, tc), rows, keys, fetch)
					})
				}
			}
		}
	}
}

func TestSortEmptyInput(t *testing.T) {
	tc, _ := newTestContext(t)
	for _, fetch := range []int64{-1, 5} {
		s, _ := NewSort(source(t, tc, nil, 2, 4), sortKeySets[2], fetch)
		if got := collect(t, s, tc); len(got) != 0 {
			t.Errorf("fetch %d: %d rows from empty input", fetch, len(got))
		}
	}
}

func TestSortSpecialValues(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "d", Type: &arrow.Decimal128Type{Precision: 38, Scale: 2}, Nullable: true},
		{Name: "t", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	floats := []any{math.Inf(-1), -1.5, math.Copysign(0, -1), 0.0, 2.5, math.Inf(1), math.NaN(), nil, math.MaxFloat64, -math.MaxFloat64}
	strs := []any{"", "a", "a\x00", "a\x00b", "a\x01", "ab", "b", "\u00ff", nil, "A"}
	decs := []any{decimal128.FromI64(-5), decimal128.FromI64(0), decimal128.New(1, 0), decimal128.New(-1, 0), decimal128.FromI64(math.MaxInt64), nil,
		decimal128.FromI64(math.MinInt64), decimal128.New(math.MaxInt64, math.MaxUint64), decimal128.New(math.MinInt64, 0), decimal128.FromI64(7)}
	ts := []any{arrow.Timestamp(-1), arrow.Timestamp(0), arrow.Timestamp(math.MaxInt64), arrow.Timestamp(math.MinInt64), nil, arrow.Timestamp(5), arrow.Timestamp(5), arrow.Timestamp(1), arrow.Timestamp(2), arrow.Timestamp(3)}
	ints := []any{int32(math.MinInt32), int32(-1), int32(0), int32(1), int32(math.MaxInt32), nil, int32(3), int32(3), int32(-7), int32(100)}
	var rows [][]any
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		rows = append(rows, []any{floats[r.IntN(10)], strs[r.IntN(10)], decs[r.IntN(10)], ts[r.IntN(10)], ints[r.IntN(10)]})
	}
	for c := range 5 {
		for _, desc := range []bool{false, true} {
			for _, nf := range []bool{false, true} {
				keys := []logical.SortKey{{Expr: col(schema, c), Descending: desc, NullsFirst: nf}, {Expr: col(schema, (c+1)%5)}}
				tc, _ := newTestContext(t)
				bs := buildBatches(t, tc.Alloc, schema, rows, 7)
				s, err := NewSort(NewMemorySource(schema, [][]arrow.RecordBatch{bs[:10], bs[10:]}), keys, -1)
				if err != nil {
					t.Fatal(err)
				}
				got := collect(t, s, tc)
				releaseAll(bs)
				want := referenceSort(rows, keys)
				sameRowsInOrder(t, keyColumns(got, keys), keyColumns(want, keys))
			}
		}
	}
}

func TestSortSpill(t *testing.T) {
	for _, keys := range sortKeySets[:4] {
		for _, parts := range []int{1, 3} {
			tc, _ := newTestContext(t)
			tc.BatchSize = 50
			tc.Mem = NewMemoryPool(40 << 10)
			rows := testRows(5000, 11)
			s, err := NewSort(source(t, tc, rows, parts, 50), keys, -1)
			if err != nil {
				t.Fatal(err)
			}
			inst := Instrument(s)
			got := collect(t, inst, tc)
			checkSorted(t, got, rows, keys, -1)
			if om := tc.Metrics.Lookup(s); om == nil || om.Spills.Load() == 0 {
				t.Errorf("no spill recorded under a 40 KiB limit")
			}
			if left := spillFiles(t, tc.SpillDir); len(left) != 0 {
				t.Errorf("spill files left behind: %v", left)
			}
			if tc.Mem.Used() != 0 {
				t.Errorf("%d bytes still reserved", tc.Mem.Used())
			}
		}
	}
}

func TestSortSpillCloseEarlyRemovesFiles(t *testing.T) {
	tc, _ := newTestContext(t)
	tc.BatchSize = 50
	tc.Mem = NewMemoryPool(30 << 10)
	s, _ := NewSort(source(t, tc, testRows(4000, 3), 2, 50), sortKeySets[2], -1)
	st, err := s.Execute(context.Background(), 0, tc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(spillFiles(t, tc.SpillDir)) == 0 {
		t.Fatal("expected spill files while the merge runs")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if left := spillFiles(t, tc.SpillDir); len(left) != 0 {
		t.Errorf("spill files left behind: %v", left)
	}
}

func TestSortMemoryLimitTooSmall(t *testing.T) {
	tc, _ := newTestContext(t)
	tc.Mem = NewMemoryPool(100)
	s, _ := NewSort(source(t, tc, testRows(100, 3), 1, 100), sortKeySets[0], -1)
	_, err := CollectAll(context.Background(), s, tc)
	if !errors.Is(err, ErrMemoryLimit) {
		t.Fatalf("got %v, want ErrMemoryLimit", err)
	}
}

func TestSortErrorsAndCancel(t *testing.T) {
	tc, _ := newTestContext(t)
	boom := errors.New("boom")
	s, _ := NewSort(&failingNode{schema: testSchema, parts: 3, after: 2, err: boom}, sortKeySets[0], -1)
	if _, err := CollectAll(context.Background(), s, tc); !errors.Is(err, boom) {
		t.Errorf("got %v", err)
	}
	s2, _ := NewSort(&blockingNode{schema: testSchema, parts: 2}, sortKeySets[0], 5)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := CollectAll(ctx, s2, tc); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v", err)
	}
	list := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)}}, nil)
	if _, err := NewSort(NewMemorySource(list, nil), []logical.SortKey{{Expr: col(list, 0)}}, -1); err == nil {
		t.Error("sort by a list column accepted")
	}
	if _, err := NewSort(NewMemorySource(list, nil), nil, -1); err == nil {
		t.Error("sort without keys accepted")
	}
}

// TestSortTopKScreening runs top-k over many batches, so that the heap
// fills early and later batches are screened on their first key column
// (dropped whole, gathered, or kept), for every first-key type of
// testSchema, both directions and NULL placements.
func TestSortTopKScreening(t *testing.T) {
	rows := testRows(6000, 99)
	for c := range testSchema.NumFields() {
		for _, desc := range []bool{false, true} {
			for _, nf := range []bool{false, true} {
				keys := []logical.SortKey{{Expr: col(testSchema, c), Descending: desc, NullsFirst: nf}, {Expr: col(testSchema, (c+1)%6)}}
				for _, fetch := range []int{1, 10, 300, 7000} {
					for _, parts := range []int{1, 3} {
						name := fmt.Sprintf("col%d/desc=%v/nf=%v/fetch%d/parts%d", c, desc, nf, fetch, parts)
						t.Run(name, func(t *testing.T) {
							tc, _ := newTestContext(t)
							tc.BatchSize = 64
							s, err := NewSort(source(t, tc, rows, parts, 64), keys, int64(fetch))
							if err != nil {
								t.Fatal(err)
							}
							checkSorted(t, collect(t, s, tc), rows, keys, fetch)
						})
					}
				}
			}
		}
	}
}

// stableSchema has a small-domain key and a unique row id.
var stableSchema = arrow.NewSchema([]arrow.Field{
	{Name: "k", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
}, nil)

// TestSortStable checks that rows with equal keys keep their input order
// (partitions taken in order), in memory, with spills (many runs meeting
// in the merge) and for top-k.
func TestSortStable(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	rows := make([][]any, 4000)
	for i := range rows {
		var k, s any
		if r.IntN(10) != 0 {
			k = int32(r.IntN(4))
		}
		if r.IntN(10) != 0 {
			s = fmt.Sprintf("Customer#%09d", r.IntN(3))
		}
		rows[i] = []any{k, s, int64(i)}
	}
	keySets := [][]logical.SortKey{
		{{Expr: col(stableSchema, 0), Descending: true}},
		{{Expr: col(stableSchema, 1), NullsFirst: true}, {Expr: col(stableSchema, 0)}},
	}
	for ki, keys := range keySets {
		for _, parts := range []int{1, 3} {
			for _, limit := range []int64{0, 24 << 10} {
				for _, fetch := range []int{-1, 50} {
					if limit > 0 && fetch >= 0 {
						continue // top-k keeps its rows in memory
					}
					t.Run(fmt.Sprintf("keys%d/parts%d/limit%d/fetch%d", ki, parts, limit, fetch), func(t *testing.T) {
						tc, _ := newTestContext(t)
						tc.BatchSize = 50
						if limit > 0 {
							tc.Mem = NewMemoryPool(limit)
						}
						ps := make([][]arrow.RecordBatch, parts)
						per := len(rows) / parts
						for p := range parts {
							hi := (p + 1) * per
							if p == parts-1 {
								hi = len(rows)
							}
							ps[p] = buildBatches(t, tc.Alloc, stableSchema, rows[p*per:hi], 50)
						}
						defer func() {
							for _, p := range ps {
								releaseAll(p)
							}
						}()
						s, err := NewSort(NewMemorySource(stableSchema, ps), keys, int64(fetch))
						if err != nil {
							t.Fatal(err)
						}
						inst := Instrument(s)
						got := collect(t, inst, tc)
						want := referenceSort(rows, keys) // stable
						if fetch >= 0 {
							want = want[:fetch]
						}
						sameRowsInOrder(t, got, want)
						spilled := tc.Metrics.Lookup(s) != nil && tc.Metrics.Lookup(s).Spills.Load() > 0
						if limit > 0 && !spilled {
							t.Error("no spill under the memory limit")
						}
					})
				}
			}
		}
	}
}

// benchSource builds n rows of (int64 with repeats, string) in 8192-row
// batches over parts partitions.
func benchSource(b *testing.B, n, parts int) (*MemorySource, func()) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64},
		{Name: "b", Type: arrow.BinaryTypes.String},
		{Name: "c", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	r := rand.New(rand.NewPCG(1, 1))
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(r.IntN(n / 10)), fmt.Sprintf("customer#%09d", r.IntN(n)), r.Float64()}
	}
	tc := NewTaskContext()
	ps := make([][]arrow.RecordBatch, parts)
	per := n / parts
	for p := range parts {
		ps[p] = buildBatches(b, tc.Alloc, schema, rows[p*per:(p+1)*per], 8192)
	}
	return NewMemorySource(schema, ps), func() {
		for _, p := range ps {
			releaseAll(p)
		}
	}
}

func benchSort(b *testing.B, fetch int64) {
	src, done := benchSource(b, 1_000_000, 2)
	defer done()
	keys := []logical.SortKey{{Expr: col(src.Schema(), 0), Descending: true}, {Expr: col(src.Schema(), 1)}}
	s, err := NewSort(src, keys, fetch)
	if err != nil {
		b.Fatal(err)
	}
	tc := NewTaskContext()
	b.ResetTimer()
	cpu := startCPU()
	for b.Loop() {
		st, err := s.Execute(context.Background(), 0, tc)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := drain(context.Background(), st); err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
	cpu.report(b)
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSort sorts 1M rows by (int64 DESC, string) from 2 partitions.
func BenchmarkSort(b *testing.B) { benchSort(b, -1) }

// BenchmarkTopK keeps the first 100 of 1M rows (ORDER BY ... LIMIT 100).
func BenchmarkTopK(b *testing.B) { benchSort(b, 100) }

// cpuClock measures the process CPU time (user + system) a benchmark
// uses; on a shared machine it is steadier than wall time.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{start: processCPU()} }

// report adds the CPU seconds per iteration to b's results.
func (c cpuClock) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric((processCPU()-c.start).Seconds()/float64(b.N), "cpu-s/op")
	}
}

// TestSortDictionaryKey sorts by a dictionary-encoded string column, in
// full and top-k (where lead screening does not apply).
func TestSortDictionaryKey(t *testing.T) {
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "d", Type: dt, Nullable: true},
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	words := []string{"pear", "apple", "fig", "zucchini", "kiwi"}
	for _, fetch := range []int{-1, 7} {
		tc, _ := newTestContext(t)
		var batches []arrow.RecordBatch
		var want []string
		type row struct {
			word string
			id   int64
		}
		var rows []row
		for bi := range 30 {
			db := array.NewDictionaryBuilder(tc.Alloc, dt).(*array.BinaryDictionaryBuilder)
			ib := array.NewInt64Builder(tc.Alloc)
			for i := range 20 {
				id := int64(bi*20 + i)
				w := words[(bi*7+i*3)%len(words)]
				if id%11 == 0 {
					db.AppendNull()
					w = ""
				} else if err := db.AppendString(w); err != nil {
					t.Fatal(err)
				}
				ib.Append(id)
				rows = append(rows, row{w, id})
			}
			d, ids := db.NewArray(), ib.NewArray()
			db.Release()
			ib.Release()
			batches = append(batches, array.NewRecordBatch(schema, []arrow.Array{d, ids}, 20))
			d.Release()
			ids.Release()
		}
		// DESC NULLS LAST, ties by input order.
		slices.SortStableFunc(rows, func(a, b row) int {
			switch {
			case a.word == b.word:
				return 0
			case a.word == "":
				return 1
			case b.word == "":
				return -1
			}
			return -strings.Compare(a.word, b.word)
		})
		for _, r := range rows {
			want = append(want, fmt.Sprint(r.word, r.id))
		}
		if fetch >= 0 {
			want = want[:fetch]
		}
		s, err := NewSort(NewMemorySource(schema, [][]arrow.RecordBatch{batches}), []logical.SortKey{{Expr: col(schema, 0), Descending: true}}, int64(fetch))
		if err != nil {
			t.Fatal(err)
		}
		out, err := CollectAll(context.Background(), s, tc)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, b := range out {
			d := b.Column(0).(*array.Dictionary)
			dict := d.Dictionary().(*array.String)
			ids := b.Column(1).(*array.Int64)
			for i := range d.Len() {
				w := ""
				if d.IsValid(i) {
					w = dict.Value(d.GetValueIndex(i))
				}
				got = append(got, fmt.Sprint(w, ids.Value(i)))
			}
		}
		releaseAll(out)
		releaseAll(batches)
		if !slices.Equal(got, want) {
			t.Errorf("fetch %d: got %v, want %v", fetch, got, want)
		}
	}
}
