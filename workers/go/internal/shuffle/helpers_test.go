package shuffle

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// testSchema has a column of every common key type; id is unique per row.
var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "dec", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "dt", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_us, Nullable: true},
}, nil)

// makeBatches builds nb batches of rows rows each of testSchema with ~10%
// nulls in every nullable column.
func makeBatches(t testing.TB, mem memory.Allocator, nb, rows int, seed uint64) []arrow.RecordBatch {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	bld := array.NewRecordBuilder(mem, testSchema)
	defer bld.Release()
	out := make([]arrow.RecordBatch, nb)
	id := int64(0)
	words := []string{"", "a", "apple", "banana split", "ünïcödé", "x", "the quick brown fox"}
	for bi := range nb {
		for range rows {
			null := func() bool { return rng.IntN(10) == 0 }
			bld.Field(0).(*array.Int64Builder).Append(id)
			id++
			if null() {
				bld.Field(1).AppendNull()
			} else {
				bld.Field(1).(*array.BooleanBuilder).Append(rng.IntN(2) == 0)
			}
			if null() {
				bld.Field(2).AppendNull()
			} else {
				bld.Field(2).(*array.Int8Builder).Append(int8(rng.IntN(256) - 128))
			}
			if null() {
				bld.Field(3).AppendNull()
			} else {
				bld.Field(3).(*array.Int32Builder).Append(rng.Int32() - 1<<30)
			}
			if null() {
				bld.Field(4).AppendNull()
			} else {
				bld.Field(4).(*array.Int64Builder).Append(int64(rng.IntN(50)) - 25)
			}
			if null() {
				bld.Field(5).AppendNull()
			} else {
				bld.Field(5).(*array.Float64Builder).Append(rng.NormFloat64() * 1e3)
			}
			if null() {
				bld.Field(6).AppendNull()
			} else {
				bld.Field(6).(*array.Decimal128Builder).Append(decimal128.FromI64(rng.Int64N(1e10) - 5e9))
			}
			if null() {
				bld.Field(7).AppendNull()
			} else {
				w := words[rng.IntN(len(words))]
				if rng.IntN(3) == 0 {
					w += fmt.Sprint(rng.IntN(1000))
				}
				bld.Field(7).(*array.StringBuilder).Append(w)
			}
			if null() {
				bld.Field(8).AppendNull()
			} else {
				bld.Field(8).(*array.Date32Builder).Append(arrow.Date32(rng.IntN(20000)))
			}
			if null() {
				bld.Field(9).AppendNull()
			} else {
				bld.Field(9).(*array.TimestampBuilder).Append(arrow.Timestamp(rng.Int64N(1e15)))
			}
		}
		out[bi] = bld.NewRecordBatch()
	}
	return out
}

func releaseAll(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}

// sliceInput is an Input over borrowed batches. hook, when set, runs
// before batch i is returned and may fail.
type sliceInput struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	i       int
	hook    func(i int) error
}

func (s *sliceInput) Schema() *arrow.Schema { return s.schema }

func (s *sliceInput) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.hook != nil {
		if err := s.hook(s.i); err != nil {
			return nil, err
		}
	}
	if s.i >= len(s.batches) {
		return nil, io.EOF
	}
	b := s.batches[s.i]
	s.i++
	return b, nil
}

// rowKey renders row i of b as text, to compare rows as multisets.
func rowKey(b arrow.RecordBatch, i int) string {
	var sb strings.Builder
	for c, col := range b.Columns() {
		if c > 0 {
			sb.WriteByte('|')
		}
		if col.IsNull(i) {
			sb.WriteString("∅")
		} else {
			sb.WriteString(col.ValueStr(i))
		}
	}
	return sb.String()
}

func rowKeys(bs []arrow.RecordBatch) []string {
	var out []string
	for _, b := range bs {
		for i := range int(b.NumRows()) {
			out = append(out, rowKey(b, i))
		}
	}
	slices.Sort(out)
	return out
}

// readIPCFile reads every batch of an IPC stream file (retained; the
// caller releases them) and its schema.
func readIPCFile(t testing.TB, mem memory.Allocator, path string) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	r, err := ipc.NewReader(bufio.NewReader(f), ipc.WithAllocator(mem))
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	defer r.Release()
	var out []arrow.RecordBatch
	for r.Next() {
		b := r.RecordBatch()
		b.Retain()
		out = append(out, b)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return r.Schema(), out
}

// wantPartitions computes pmod(Hash(keys), n) for every row of b with
// plain integer arithmetic, independently of PartitionIDs.
func wantPartitions(t testing.TB, b arrow.RecordBatch, keys []int, n int) []int {
	t.Helper()
	cols := make([]arrow.Array, len(keys))
	for i, k := range keys {
		cols[i] = b.Column(k)
	}
	h := make([]uint32, b.NumRows())
	if err := Hash(cols, h); err != nil {
		t.Fatal(err)
	}
	out := make([]int, len(h))
	for i, v := range h {
		p := int(int32(v)) % n
		if p < 0 {
			p += n
		}
		out[i] = p
	}
	return out
}

// listDir names the entries of dir.
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
