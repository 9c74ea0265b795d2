package exec

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"

	"github.com/arbalest/arbalest/substrait/logical"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testBatchSizes are the batch sizes every operator is run with.
var testBatchSizes = []int{1, 3, 64, 1000}

// newTestContext returns a task context over a checked allocator that must
// be empty when the test ends.
func newTestContext(t testing.TB) (*TaskContext, *memory.CheckedAllocator) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	tc := NewTaskContext()
	tc.Alloc = mem
	tc.SpillDir = t.TempDir()
	return tc, mem
}

// buildBatches turns rows of Go values (nil = NULL) into batches of at
// most size rows. Values: bool, int8..int64, float32/64, string,
// arrow.Date32, arrow.Timestamp, decimal64 as int64 for Decimal64 columns,
// decimal128.Num.
func buildBatches(t testing.TB, alloc memory.Allocator, schema *arrow.Schema, rows [][]any, size int) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	for start := 0; start < len(rows); start += size {
		end := min(start+size, len(rows))
		b := array.NewRecordBuilder(alloc, schema)
		for _, r := range rows[start:end] {
			for c, v := range r {
				appendValue(t, b.Field(c), v)
			}
		}
		out = append(out, b.NewRecordBatch())
		b.Release()
	}
	return out
}

func appendValue(t testing.TB, b array.Builder, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		bb.Append(v.(bool))
	case *array.Int8Builder:
		bb.Append(v.(int8))
	case *array.Int16Builder:
		bb.Append(v.(int16))
	case *array.Int32Builder:
		bb.Append(v.(int32))
	case *array.Int64Builder:
		bb.Append(v.(int64))
	case *array.Uint32Builder:
		bb.Append(v.(uint32))
	case *array.Float32Builder:
		bb.Append(v.(float32))
	case *array.Float64Builder:
		bb.Append(v.(float64))
	case *array.StringBuilder:
		bb.Append(v.(string))
	case *array.BinaryBuilder:
		bb.Append(v.([]byte))
	case *array.Date32Builder:
		bb.Append(v.(arrow.Date32))
	case *array.TimestampBuilder:
		bb.Append(v.(arrow.Timestamp))
	case *array.Decimal64Builder:
		bb.Append(decimal.Decimal64(v.(int64)))
	case *array.Decimal128Builder:
		bb.Append(v.(decimal128.Num))
	default:
		t.Fatalf("appendValue: unsupported builder %T", b)
	}
}

// valueAt reads row i of a as a comparable Go value (nil = NULL).
func valueAt(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch x := a.(type) {
	case *array.Boolean:
		return x.Value(i)
	case *array.Int8:
		return x.Value(i)
	case *array.Int16:
		return x.Value(i)
	case *array.Int32:
		return x.Value(i)
	case *array.Int64:
		return x.Value(i)
	case *array.Uint32:
		return x.Value(i)
	case *array.Float32:
		return x.Value(i)
	case *array.Float64:
		return x.Value(i)
	case *array.String:
		return x.Value(i)
	case *array.Binary:
		return string(x.Value(i))
	case *array.Date32:
		return x.Value(i)
	case *array.Timestamp:
		return x.Value(i)
	case *array.Decimal64:
		return int64(x.Value(i))
	case *array.Decimal128:
		return x.Value(i)
	}
	return a.ValueStr(i)
}

// rowsOf flattens batches into rows.
func rowsOf(batches []arrow.RecordBatch) [][]any {
	var out [][]any
	for _, b := range batches {
		for i := range int(b.NumRows()) {
			r := make([]any, b.NumCols())
			for c := range r {
				r[c] = valueAt(b.Column(c), i)
			}
			out = append(out, r)
		}
	}
	return out
}

func rowString(r []any) string { return fmt.Sprint(r...) }

// sortedRowStrings renders rows as strings in a canonical order, for
// order-insensitive comparison.
func sortedRowStrings(rows [][]any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprintf("%v", r)
	}
	sort.Strings(out)
	return out
}

func sameRowsAnyOrder(t testing.TB, got, want [][]any) {
	t.Helper()
	g, w := sortedRowStrings(got), sortedRowStrings(want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("rows differ (any order):\ngot  %d rows %s\nwant %d rows %s", len(g), head(g), len(w), head(w))
	}
}

func sameRowsInOrder(t testing.TB, got, want [][]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d\ngot  %v\nwant %v", len(got), len(want), headRows(got), headRows(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("row %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func head(s []string) string {
	if len(s) > 20 {
		return strings.Join(s[:20], " ") + " ..."
	}
	return strings.Join(s, " ")
}

func headRows(r [][]any) [][]any {
	if len(r) > 20 {
		return r[:20]
	}
	return r
}

// collect runs every partition of n and returns the rows, releasing the
// batches.
func collect(t testing.TB, n Node, tc *TaskContext) [][]any {
	t.Helper()
	bs, err := CollectAll(context.Background(), n, tc)
	if err != nil {
		t.Fatalf("CollectAll: %v", err)
	}
	defer releaseAll(bs)
	for _, b := range bs {
		for c, a := range b.Columns() {
			if int64(a.Len()) != b.NumRows() || !arrow.TypeEqual(a.DataType(), n.Schema().Field(c).Type) {
				t.Fatalf("output column %d: %d rows of %s in a batch of %d rows, schema %s", c, a.Len(), a.DataType(), b.NumRows(), n.Schema())
			}
			if v, ok := a.(interface{ ValidateFull() error }); ok {
				if err := v.ValidateFull(); err != nil {
					t.Fatalf("invalid output column %d: %v", c, err)
				}
			}
		}
	}
	return rowsOf(bs)
}

// drain reads a stream to the end.
func drain(ctx context.Context, s Stream) (rows int64, err error) {
	for {
		b, err := s.Next(ctx)
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows += b.NumRows()
	}
}

// col returns a column reference to field i of schema.
func col(s *arrow.Schema, i int) *logical.ColumnRef {
	f := s.Field(i)
	return &logical.ColumnRef{Index: i, Name: f.Name, T: f.Type, CanBeNull: f.Nullable}
}

// randRows makes n random rows for schema with about nullFrac NULLs.
func randRows(r *rand.Rand, schema *arrow.Schema, n int, nullFrac float64, distinct int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		row := make([]any, schema.NumFields())
		for c, f := range schema.Fields() {
			if f.Nullable && r.Float64() < nullFrac {
				continue
			}
			k := r.IntN(distinct)
			switch f.Type.ID() {
			case arrow.BOOL:
				row[c] = k%2 == 0
			case arrow.INT32:
				row[c] = int32(k - distinct/2)
			case arrow.INT64:
				row[c] = int64(k-distinct/2) * 1000003
			case arrow.FLOAT64:
				row[c] = float64(k-distinct/2) / 4
			case arrow.STRING:
				row[c] = strings.Repeat("x", k%5) + fmt.Sprintf("s%03d", k)
			case arrow.DATE32:
				row[c] = arrow.Date32(k * 3)
			case arrow.DECIMAL64:
				row[c] = int64(k*101 - distinct*50)
			}
		}
		rows[i] = row
	}
	return rows
}

// failingNode fails on the nth Next of each partition (or at Execute when
// n == 0).
type failingNode struct {
	schema *arrow.Schema
	parts  int
	after  int
	err    error
}

func (f *failingNode) Schema() *arrow.Schema { return f.schema }
func (f *failingNode) Children() []Node      { return nil }
func (f *failingNode) Partitions() int       { return f.parts }
func (f *failingNode) String() string        { return "Failing" }
func (f *failingNode) Execute(context.Context, int, *TaskContext) (Stream, error) {
	if f.after == 0 {
		return nil, f.err
	}
	return &failingStream{f: f}, nil
}

type failingStream struct {
	f *failingNode
	n int
}

func (s *failingStream) Schema() *arrow.Schema { return s.f.schema }
func (s *failingStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	s.n++
	if s.n >= s.f.after {
		return nil, s.f.err
	}
	return emptyBatch(s.f.schema), nil
}
func (s *failingStream) Close() error { return nil }

var (
	emptyMu      sync.Mutex
	emptyBatches = map[*arrow.Schema]arrow.RecordBatch{}
)

func emptyBatch(s *arrow.Schema) arrow.RecordBatch {
	emptyMu.Lock()
	defer emptyMu.Unlock()
	if b, ok := emptyBatches[s]; ok {
		return b
	}
	cols := make([]arrow.Array, s.NumFields())
	for i, f := range s.Fields() {
		cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, 0)
	}
	b := array.NewRecordBatch(s, cols, 0)
	emptyBatches[s] = b
	return b
}

// blockingNode never produces a batch until its context ends.
type blockingNode struct {
	schema *arrow.Schema
	parts  int
}

func (b *blockingNode) Schema() *arrow.Schema { return b.schema }
func (b *blockingNode) Children() []Node      { return nil }
func (b *blockingNode) Partitions() int       { return b.parts }
func (b *blockingNode) String() string        { return "Blocking" }
func (b *blockingNode) Execute(context.Context, int, *TaskContext) (Stream, error) {
	return &blockingStream{schema: b.schema}, nil
}

type blockingStream struct{ schema *arrow.Schema }

func (s *blockingStream) Schema() *arrow.Schema { return s.schema }
func (s *blockingStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (s *blockingStream) Close() error { return nil }

// spillFiles lists the files left in dir.
func spillFiles(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
