package scan

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// makeLineitem writes a lineitem-like Parquet file: quantity, extended
// price and discount as decimal(15,2) stored in INT64, shipdate as date32,
// in row groups of 122,880 rows (DuckDB's default).
func makeLineitem(b *testing.B, path string, rows int) {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "l_quantity", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}},
		{Name: "l_extendedprice", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}},
		{Name: "l_discount", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}},
		{Name: "l_shipdate", Type: arrow.FixedWidthTypes.Date32},
	}, nil)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	f.Close()
	const chunk = 122880
	bld := array.NewRecordBuilder(mem, schema)
	defer bld.Release()
	var recs []arrow.RecordBatch
	seed := uint64(42)
	rnd := func(n uint64) int64 {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return int64(seed % n)
	}
	for done := 0; done < rows; done += chunk {
		m := min(chunk, rows-done)
		q := bld.Field(0).(*array.Decimal128Builder)
		p := bld.Field(1).(*array.Decimal128Builder)
		d := bld.Field(2).(*array.Decimal128Builder)
		s := bld.Field(3).(*array.Date32Builder)
		for i := 0; i < m; i++ {
			qty := 1 + rnd(50)
			q.Append(decimalFromInt(qty * 100))
			p.Append(decimalFromInt(qty * (90000 + rnd(10000000)) / 100))
			d.Append(decimalFromInt(rnd(11)))
			s.Append(arrow.Date32(8035 + rnd(2500)))
		}
		recs = append(recs, bld.NewRecordBatch())
	}
	tbl := array.NewTableFromRecords(schema, recs)
	for _, r := range recs {
		r.Release()
	}
	defer tbl.Release()
	rec := concatTable(tbl, mem)
	defer rec.Release()
	writeParquet(b, path, rec, chunk, true, false)
}

func concatTable(tbl arrow.Table, mem memory.Allocator) arrow.RecordBatch {
	cols := make([]arrow.Array, tbl.NumCols())
	for i := range cols {
		a, err := array.Concatenate(tbl.Column(i).Data().Chunks(), mem)
		if err != nil {
			panic(err)
		}
		cols[i] = a
	}
	r := array.NewRecordBatch(tbl.Schema(), cols, tbl.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return r
}

// BenchmarkParquetScan scans 6M lineitem-like rows (4 columns) with one
// partition and reports rows per second: all rows, and with the filters of
// TPC-H Q6 pushed into the scan. Set ARBALEST_LINEITEM to a real
// lineitem.parquet to scan it instead.
func BenchmarkParquetScan(b *testing.B) {
	path := os.Getenv("ARBALEST_LINEITEM")
	if path == "" {
		path = filepath.Join(b.TempDir(), "lineitem.parquet")
		makeLineitem(b, path, 6_000_000)
	}
	schema, rows, err := Infer(context.Background(), "parquet", path, nil)
	if err != nil {
		b.Fatal(err)
	}
	var proj []int
	for _, name := range []string{"l_quantity", "l_extendedprice", "l_discount", "l_shipdate"} {
		proj = append(proj, schema.FieldIndices(name)[0])
	}
	out := arrow.NewSchema([]arrow.Field{schema.Field(proj[0]), schema.Field(proj[1]), schema.Field(proj[2]), schema.Field(proj[3])}, nil)
	dec := out.Field(2).Type
	q6 := []logical.Expr{
		call("gte", col(out, 3), lit(arrow.Date32(8766), logical.Date32)), // 1994-01-01
		call("lt", col(out, 3), lit(arrow.Date32(9131), logical.Date32)),  // 1995-01-01
		call("gte", col(out, 2), lit(int64(5), dec)),
		call("lte", col(out, 2), lit(int64(7), dec)),
		call("lt", col(out, 0), lit(int64(2400), out.Field(0).Type)),
	}
	b.Run("all", func(b *testing.B) { benchScan(b, path, schema, proj, nil, rows) })
	b.Run("q6", func(b *testing.B) { benchScan(b, path, schema, proj, q6, rows) })
}

func benchScan(b *testing.B, path string, schema *arrow.Schema, proj []int, filters []logical.Expr, rows int64) {
	n, err := NewScan(source("lineitem", "parquet", path, schema, nil), proj, filters, -1, 1)
	if err != nil {
		b.Fatal(err)
	}
	tc := exec.NewTaskContext()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := n.Execute(context.Background(), 0, tc)
		if err != nil {
			b.Fatal(err)
		}
		var got int64
		for {
			batch, err := s.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got += batch.NumRows()
		}
		s.Close()
		if filters == nil && got != rows {
			b.Fatalf("read %d rows of %d", got, rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
	// The process's CPU time (GC included) gives a rate per core that a
	// busy machine does not distort.
	b.ReportMetric(float64(rows)*float64(b.N)/(cpuTime()-cpu0).Seconds()/1e6, "Mrows/cpu-s")
}

func decimalFromInt(v int64) decimal128.Num { return decimal128.FromI64(v) }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
