package scan

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// writeParquet writes rec to path in row groups of rowGroup rows.
func writeParquet(t testing.TB, path string, rec arrow.RecordBatch, rowGroup int64, decimalAsInt, storeSchema bool) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props := parquet.NewWriterProperties(
		parquet.WithMaxRowGroupLength(rowGroup),
		parquet.WithStoreDecimalAsInteger(decimalAsInt),
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithStats(true),
	)
	var aprops pqarrow.ArrowWriterProperties
	if storeSchema {
		aprops = pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
	} else {
		aprops = pqarrow.DefaultWriterProps()
	}
	w, err := pqarrow.NewFileWriter(rec.Schema(), f, props, aprops)
	if err != nil {
		t.Fatal(err)
	}
	for off := int64(0); off < rec.NumRows(); off += rowGroup {
		s := rec.NewSlice(off, min(off+rowGroup, rec.NumRows()))
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
		s.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// collect runs every partition of n and returns the batches (retained),
// failing the test on error.
func collect(t testing.TB, n exec.Node, tc *exec.TaskContext) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	for p := 0; p < n.Partitions(); p++ {
		bs, err := runPartition(n, p, tc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bs...)
	}
	return out
}

func runPartition(n exec.Node, p int, tc *exec.TaskContext) ([]arrow.RecordBatch, error) {
	s, err := n.Execute(context.Background(), p, tc)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out []arrow.RecordBatch
	for {
		b, err := s.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			release(out)
			return nil, err
		}
		if !arrow.TypeEqual(arrow.StructOf(b.Schema().Fields()...), arrow.StructOf(n.Schema().Fields()...)) {
			release(out)
			return nil, errors.New("batch schema differs from node schema: " + b.Schema().String())
		}
		b.Retain()
		out = append(out, b)
	}
}

func release(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}

func rowCount(bs []arrow.RecordBatch) int64 {
	var n int64
	for _, b := range bs {
		n += b.NumRows()
	}
	return n
}

// newTC returns a task context over a checked allocator.
func newTC(t testing.TB) (*exec.TaskContext, *memory.CheckedAllocator) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	tc := exec.NewTaskContext()
	tc.Alloc = mem
	return tc, mem
}

func source(name, format, location string, schema *arrow.Schema, options map[string]string) *logical.TableSource {
	return &logical.TableSource{Name: name, Format: format, Location: location, Schema: schema, Options: options, RowCount: -1}
}

func col(s *arrow.Schema, i int) *logical.ColumnRef {
	f := s.Field(i)
	return &logical.ColumnRef{Index: i, Name: f.Name, T: f.Type, CanBeNull: f.Nullable}
}

func lit(v any, t arrow.DataType) *logical.Literal { return &logical.Literal{Value: v, T: t} }

func call(fn string, args ...logical.Expr) *logical.Call {
	return &logical.Call{Func: fn, Args: args, T: logical.Bool, NullableOut: true}
}
