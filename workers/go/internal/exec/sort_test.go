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
	"time"

	"github.com/apache/arrow-go/v18/arrow"
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
	b.ReportMetric(float64(b.N)*1e6/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSort sorts 1M rows by (int64 DESC, string) from 2 partitions.
func BenchmarkSort(b *testing.B) { benchSort(b, -1) }

// BenchmarkTopK keeps the first 100 of 1M rows (ORDER BY ... LIMIT 100).
func BenchmarkTopK(b *testing.B) { benchSort(b, 100) }
