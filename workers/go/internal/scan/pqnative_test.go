package scan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
	"github.com/arbalest/arbalest/workers/go/internal/expr"
)

// nativeRows is the size of the table of the native reader tests: row
// groups of 1,500 rows, the last one short.
const nativeRows = 5000

// makeNativeTable builds a table with every column kind the native reader
// decodes, with NULLs (a whole first row group of them in "sparse"),
// low- and high-cardinality strings and empty strings.
func makeNativeTable(n int) arrow.RecordBatch {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "u32", Type: arrow.PrimitiveTypes.Uint32},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "dec9", Type: &arrow.Decimal128Type{Precision: 9, Scale: 2}, Nullable: true},
		{Name: "dec15", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64},
		{Name: "flag", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "comment", Type: arrow.BinaryTypes.String},
		{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
		{Name: "sparse", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	rnd := rand.New(rand.NewPCG(1, 2))
	flags := []string{"A", "N", "R", ""}
	for i := 0; i < n; i++ {
		null := func(pct int) bool { return rnd.IntN(100) < pct }
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if null(20) {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Int32Builder).Append(int32(rnd.IntN(50) - 25))
		}
		b.Field(2).(*array.Uint32Builder).Append(uint32(rnd.Uint32()))
		if null(10) {
			b.Field(3).AppendNull()
		} else {
			b.Field(3).(*array.Date32Builder).Append(arrow.Date32(8000 + rnd.IntN(2500)))
		}
		if null(30) {
			b.Field(4).AppendNull()
		} else {
			b.Field(4).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(rnd.IntN(2_000_000) - 1_000_000)))
		}
		b.Field(5).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(rnd.IntN(11))))
		if null(5) {
			b.Field(6).AppendNull()
		} else {
			b.Field(6).(*array.Float32Builder).Append(float32(rnd.NormFloat64()))
		}
		b.Field(7).(*array.Float64Builder).Append(float64(rnd.IntN(1000)) / 8)
		if null(15) {
			b.Field(8).AppendNull()
		} else {
			b.Field(8).(*array.StringBuilder).Append(flags[rnd.IntN(len(flags))])
		}
		b.Field(9).(*array.StringBuilder).Append(strings.Repeat("x", rnd.IntN(12)) + fmt.Sprintf("c%d", rnd.IntN(n)))
		if null(25) {
			b.Field(10).AppendNull()
		} else {
			b.Field(10).(*array.BinaryBuilder).Append([]byte{byte(i), 0, byte(i >> 8)})
		}
		b.Field(11).(*array.TimestampBuilder).Append(arrow.Timestamp(int64(i) * 1_000_003))
		if i < 1500 || null(50) {
			b.Field(12).AppendNull()
		} else {
			b.Field(12).(*array.Int64Builder).Append(int64(rnd.IntN(5)))
		}
	}
	return b.NewRecordBatch()
}

// nativeVariant is one way of writing the test table.
type nativeVariant struct {
	name  string
	props []parquet.WriterProperty
}

func nativeVariants() []nativeVariant {
	var out []nativeVariant
	for _, dict := range []bool{true, false} {
		for _, v2 := range []bool{false, true} {
			for _, codec := range []compress.Compression{compress.Codecs.Snappy, compress.Codecs.Uncompressed, compress.Codecs.Zstd} {
				for _, small := range []bool{false, true} {
					props := []parquet.WriterProperty{
						parquet.WithDictionaryDefault(dict),
						parquet.WithCompression(codec),
					}
					if v2 {
						props = append(props, parquet.WithDataPageVersion(parquet.DataPageV2))
					}
					if small {
						// Many pages per chunk, and dictionaries that
						// overflow into plain pages mid-chunk.
						props = append(props, parquet.WithDataPageSize(700), parquet.WithBatchSize(64),
							parquet.WithDictionaryPageSizeLimit(2000))
					}
					out = append(out, nativeVariant{
						name:  fmt.Sprintf("dict=%v,v2=%v,%s,small=%v", dict, v2, codec, small),
						props: props,
					})
				}
			}
		}
	}
	return out
}

// writeNative writes rec to path in row groups of 1,500 rows.
func writeNative(t testing.TB, path string, rec arrow.RecordBatch, props ...parquet.WriterProperty) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	props = append([]parquet.WriterProperty{parquet.WithMaxRowGroupLength(1500), parquet.WithStoreDecimalAsInteger(true), parquet.WithStats(true)}, props...)
	w, err := pqarrow.NewFileWriter(rec.Schema(), f, parquet.NewWriterProperties(props...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// scanAll reads path with the given reader, projection, filters and batch
// size and returns every column concatenated, with no bytes left
// allocated.
func scanAll(t *testing.T, path string, native bool, proj []int, filters []logical.Expr, batch, partitions int) (arrow.RecordBatch, exec.Node) {
	t.Helper()
	old := nativeParquet
	nativeParquet = native
	defer func() { nativeParquet = old }()
	schema, _, err := Infer(context.Background(), "parquet", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewScan(source("t", "parquet", path, schema, nil), proj, filters, -1, partitions)
	if err != nil {
		t.Fatal(err)
	}
	tc, mem := newTC(t)
	tc.BatchSize = batch
	bs := collect(t, n, tc)
	for _, b := range bs {
		if b.NumRows() > int64(batch) {
			t.Fatalf("batch of %d rows, limit %d", b.NumRows(), batch)
		}
	}
	out := concatBatches(t, n.Schema(), bs)
	release(bs)
	mem.AssertSize(t, 0)
	return out, n
}

// concatBatches joins batches into one, allocated outside the checked
// allocator.
func concatBatches(t *testing.T, schema *arrow.Schema, bs []arrow.RecordBatch) arrow.RecordBatch {
	t.Helper()
	cols := make([]arrow.Array, schema.NumFields())
	var rows int64
	for _, b := range bs {
		rows += b.NumRows()
	}
	for i := range cols {
		parts := make([]arrow.Array, 0, len(bs))
		for _, b := range bs {
			parts = append(parts, b.Column(i))
		}
		if len(parts) == 0 {
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, schema.Field(i).Type, 0)
			continue
		}
		c, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		cols[i] = c
	}
	r := array.NewRecordBatch(schema, cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return r
}

func assertSameBatch(t *testing.T, what string, got, want arrow.RecordBatch) {
	t.Helper()
	if got.NumRows() != want.NumRows() {
		t.Fatalf("%s: %d rows, want %d", what, got.NumRows(), want.NumRows())
	}
	for i := 0; i < int(want.NumCols()); i++ {
		if !arrow.TypeEqual(got.Column(i).DataType(), want.Column(i).DataType()) {
			t.Fatalf("%s: column %s is %s, want %s", what, want.ColumnName(i), got.Column(i).DataType(), want.Column(i).DataType())
		}
		if !array.Equal(got.Column(i), want.Column(i)) {
			for r := 0; r < want.Column(i).Len(); r++ {
				if !array.SliceEqual(got.Column(i), int64(r), int64(r+1), want.Column(i), int64(r), int64(r+1)) {
					t.Fatalf("%s: column %s differs first at row %d: %s vs %s", what, want.ColumnName(i),
						r, got.Column(i).ValueStr(r), want.Column(i).ValueStr(r))
				}
			}
			t.Fatalf("%s: column %s differs", what, want.ColumnName(i))
		}
	}
}

// TestNativeMatchesPqarrow reads files written every supported way with
// the native reader and with pqarrow and compares.
func TestNativeMatchesPqarrow(t *testing.T) {
	rec := makeNativeTable(nativeRows)
	defer rec.Release()
	dir := t.TempDir()
	for i, v := range nativeVariants() {
		t.Run(v.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("v%d.parquet", i))
			writeNative(t, path, rec, v.props...)
			assertNativeUnits(t, path, nil)
			for _, batch := range []int{37, 1024, 8192} {
				want, _ := scanAll(t, path, false, nil, nil, batch, 1)
				got, _ := scanAll(t, path, true, nil, nil, batch, 2)
				assertSameBatch(t, fmt.Sprintf("batch %d", batch), got, want)
				got.Release()
				want.Release()
			}
			// A projection that repeats and reorders columns.
			proj := []int{9, 0, 9, 12, 4}
			want, _ := scanAll(t, path, false, proj, nil, 500, 1)
			got, _ := scanAll(t, path, true, proj, nil, 500, 3)
			assertSameBatch(t, "projection", got, want)
			got.Release()
			want.Release()
		})
	}
}

// assertNativeUnits checks that the native reader takes every unit of a
// scan of path.
func assertNativeUnits(t *testing.T, path string, proj []int) {
	t.Helper()
	schema, _, err := Infer(context.Background(), "parquet", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	nd, err := NewScan(source("t", "parquet", path, schema, nil), proj, nil, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	n := nd.(*node)
	pool := newBufferPool(memory.NewGoAllocator(), poolLimit)
	defer pool.Close()
	p := &pqPartition{n: n, pool: pool, m: &exec.OperatorMetrics{}, batch: 100}
	for _, u := range n.pq.parts[0] {
		r, err := openNative(p, u)
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			t.Fatalf("unit %v of %s is not read natively", u, path)
		}
		r.close()
	}
}

// TestNativeFallback reads columns the native reader leaves to pqarrow:
// delta encodings and a timestamp that needs a unit conversion.
func TestNativeFallback(t *testing.T) {
	rec := makeNativeTable(2000)
	defer rec.Release()
	dir := t.TempDir()
	path := filepath.Join(dir, "delta.parquet")
	writeNative(t, path, rec, parquet.WithDictionaryDefault(false),
		parquet.WithEncodingFor("i64", parquet.Encodings.DeltaBinaryPacked),
		parquet.WithEncodingFor("comment", parquet.Encodings.DeltaLengthByteArray))
	want, _ := scanAll(t, path, false, nil, nil, 300, 1)
	got, _ := scanAll(t, path, true, nil, nil, 300, 2)
	assertSameBatch(t, "delta encodings", got, want)
	got.Release()
	want.Release()
	// Columns without delta encoding still go native.
	assertNativeUnits(t, path, []int{1, 8})
}

// nativeFilters lists filters over the test table with the columns they
// exercise.
func nativeFilters(s *arrow.Schema) map[string][]logical.Expr {
	i64 := func(v int64) logical.Expr { return lit(v, logical.Int64) }
	dec9 := s.Field(4).Type
	return map[string][]logical.Expr{
		"int range": {call("gte", col(s, 0), i64(1200)), call("lt", col(s, 0), i64(3300))},
		"nullable int and string": {
			call("lt", col(s, 1), lit(int32(0), arrow.PrimitiveTypes.Int32)),
			call("equal", col(s, 8), lit("A", logical.Utf8)),
		},
		"is null":             {call("is_null", col(s, 12))},
		"is not null":         {call("is_not_null", col(s, 4))},
		"coalesce on nulls":   {call("equal", &logical.Call{Func: "coalesce", Args: []logical.Expr{col(s, 12), i64(-1)}, T: logical.Int64}, i64(-1))},
		"decimal and date":    {call("gt", col(s, 4), lit(int64(0), dec9)), call("lt", col(s, 3), lit(arrow.Date32(9000), logical.Date32))},
		"like":                {call("like", col(s, 9), lit("xxxx%", logical.Utf8))},
		"empty string":        {call("equal", col(s, 8), lit("", logical.Utf8))},
		"two columns":         {call("lt", col(s, 7), &logical.Call{Func: "multiply", Args: []logical.Expr{&logical.Cast{Input: col(s, 5), T: logical.Float64}, lit(10.0, logical.Float64)}, T: logical.Float64})},
		"nothing":             {call("lt", col(s, 0), i64(-5))},
		"everything":          {call("gte", col(s, 0), i64(0))},
		"in list":             {&logical.InList{Input: col(s, 5), List: []logical.Expr{lit(int64(3), s.Field(5).Type), lit(int64(7), s.Field(5).Type)}}},
		"float":               {call("gt", col(s, 6), lit(float32(1.5), arrow.PrimitiveTypes.Float32))},
		"selective, then two": {call("equal", col(s, 8), lit("R", logical.Utf8)), call("gt", col(s, 1), &logical.Cast{Input: col(s, 5), T: arrow.PrimitiveTypes.Int32})},
	}
}

// TestNativeFilters checks that filtering inside the reader keeps exactly
// the rows the filters select (and may keep more only where evaluation is
// not possible): applying the filters to the full table and to the
// reader's output gives the same rows.
func TestNativeFilters(t *testing.T) {
	rec := makeNativeTable(nativeRows)
	defer rec.Release()
	dir := t.TempDir()
	variants := nativeVariants()
	for _, vi := range []int{0, 5, 9, 23} {
		v := variants[vi]
		path := filepath.Join(dir, fmt.Sprintf("v%d.parquet", vi))
		writeNative(t, path, rec, v.props...)
		for name, filters := range nativeFilters(rec.Schema()) {
			t.Run(v.name+"/"+name, func(t *testing.T) {
				full, n := scanAll(t, path, false, nil, nil, 8192, 1)
				defer full.Release()
				want := applyFilters(t, full, filters)
				defer want.Release()
				for _, batch := range []int{100, 8192} {
					got, _ := scanAll(t, path, true, nil, filters, batch, 2)
					exact := applyFilters(t, got, filters)
					assertSameBatch(t, "filtered", exact, want)
					// Everything but the filters that cannot fail drops
					// rows in the reader already.
					if got.NumRows() != want.NumRows() {
						t.Errorf("reader kept %d rows, the filters %d", got.NumRows(), want.NumRows())
					}
					exact.Release()
					got.Release()
				}
				_ = n
			})
		}
	}
}

// applyFilters evaluates the conjuncts over b and returns the rows that
// pass.
func applyFilters(t *testing.T, b arrow.RecordBatch, filters []logical.Expr) arrow.RecordBatch {
	t.Helper()
	b.Retain()
	for _, f := range filters {
		ev, err := expr.Compile(f, b.Schema(), memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		nb, err := expr.EvalFilter(context.Background(), ev, b)
		if err != nil {
			t.Fatal(err)
		}
		b.Release()
		b = nb
	}
	return b
}

// TestNativeFilterErrorsKeepRows checks that a conjunct that fails to
// evaluate in the reader keeps the rows, leaving the error to the filter
// above the scan.
func TestNativeFilterErrorsKeepRows(t *testing.T) {
	rec := makeNativeTable(3000)
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "t.parquet")
	writeNative(t, path, rec)
	s := rec.Schema()
	// 100 / dec15 fails where dec15 = 0.
	div := call("gt", &logical.Call{Func: "divide", Args: []logical.Expr{lit(int64(100), logical.Int64), &logical.Cast{Input: col(s, 5), T: logical.Int64}}, T: logical.Int64}, lit(int64(0), logical.Int64))
	got, _ := scanAll(t, path, true, nil, []logical.Expr{div}, 1000, 1)
	defer got.Release()
	if got.NumRows() != 3000 {
		t.Fatalf("kept %d rows of 3000", got.NumRows())
	}
}

// TestNativeCorruptFile checks that damaged column chunks give errors that
// name the file, not panics or hangs.
func TestNativeCorruptFile(t *testing.T) {
	rec := makeNativeTable(3000)
	defer rec.Release()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.parquet")
	writeNative(t, path, rec, parquet.WithCompression(compress.Codecs.Uncompressed))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	schema, _, err := Infer(context.Background(), "parquet", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	bad := filepath.Join(dir, "bad.parquet")
	failures := 0
	for trial := 0; trial < 200; trial++ {
		d := append([]byte(nil), data...)
		// Damage bytes in the data region, before the footer.
		for k := 0; k < 1+rnd.IntN(8); k++ {
			d[4+rnd.IntN(len(d)/2)] = byte(rnd.Uint32())
		}
		if err := os.WriteFile(bad, d, 0o644); err != nil {
			t.Fatal(err)
		}
		n, err := NewScan(source("t", "parquet", bad, schema, nil), nil, nil, -1, 1)
		if err != nil {
			continue
		}
		tc, mem := newTC(t)
		bs, err := runPartition(n, 0, tc)
		release(bs)
		mem.AssertSize(t, 0)
		if err != nil {
			failures++
			if !strings.Contains(err.Error(), bad) {
				t.Fatalf("error does not name the file: %v", err)
			}
		}
	}
	if failures == 0 {
		t.Fatal("no damage was detected")
	}
}

// TestRLEDecoder checks the hybrid decoder against a plain bit reader for
// every width, across run and group boundaries.
func TestRLEDecoder(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	for width := 0; width <= 32; width++ {
		var want []int32
		var enc []byte
		for run := 0; run < 40; run++ {
			if rnd.IntN(2) == 0 {
				// RLE run.
				cnt := 1 + rnd.IntN(30)
				v := uint32(rnd.Uint64() & (1<<uint(width) - 1))
				enc = appendUvarint(enc, uint64(cnt)<<1)
				for b := 0; b < (width+7)/8; b++ {
					enc = append(enc, byte(v>>(8*uint(b))))
				}
				for range cnt {
					want = append(want, int32(v))
				}
				continue
			}
			groups := 1 + rnd.IntN(6)
			enc = appendUvarint(enc, uint64(groups)<<1|1)
			vals := make([]uint32, groups*8)
			for i := range vals {
				vals[i] = uint32(rnd.Uint64() & (1<<uint(width) - 1))
				want = append(want, int32(vals[i]))
			}
			enc = append(enc, packBits(vals, width)...)
		}
		for _, chunk := range []int{1, 3, 8, 13, 64, len(want)} {
			var d rleDecoder
			if err := d.reset(enc, width); err != nil {
				t.Fatal(err)
			}
			got := make([]int32, len(want))
			for off := 0; off < len(want); off += chunk {
				end := min(off+chunk, len(want))
				if off%(2*chunk) == chunk && chunk > 1 {
					if err := d.skip(end - off); err != nil {
						t.Fatalf("width %d: skip: %v", width, err)
					}
					copy(got[off:end], want[off:end])
					continue
				}
				hi, err := d.decode(got[off:end])
				if err != nil {
					t.Fatalf("width %d chunk %d: %v", width, chunk, err)
				}
				var max int32
				for _, v := range got[off:end] {
					if uint32(v) > uint32(max) {
						max = v
					}
				}
				if hi != uint32(max) {
					t.Fatalf("width %d: largest %d, want %d", width, hi, max)
				}
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("width %d chunk %d: value %d is %d, want %d", width, chunk, i, got[i], want[i])
				}
			}
			var d2 rleDecoder
			_ = d2.reset(enc, width)
			if _, err := d2.decode(make([]int32, len(want)+1)); err == nil {
				t.Fatalf("width %d: decoding past the end is not an error", width)
			}
		}
	}
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// packBits packs values of width bits least significant bit first.
func packBits(vals []uint32, width int) []byte {
	out := make([]byte, (len(vals)*width+7)/8)
	bit := 0
	for _, v := range vals {
		for k := 0; k < width; k++ {
			if v>>uint(k)&1 != 0 {
				out[(bit+k)/8] |= 1 << uint((bit+k)%8)
			}
		}
		bit += width
	}
	return out
}

// TestPageHeaderParse checks the compact-protocol reader on headers with
// unknown and nested fields, and truncation.
func TestPageHeaderParse(t *testing.T) {
	var b []byte
	field := func(delta, typ byte) { b = append(b, delta<<4|typ) }
	zz := func(v int64) { b = appendUvarint(b, uint64(v<<1)^uint64(v>>63)) }
	field(1, tI32)
	zz(pageData)
	field(1, tI32)
	zz(1000)
	field(1, tI32)
	zz(400)
	field(1, tI32) // crc
	zz(12345)
	field(1, tStruct) // data page header
	field(1, tI32)
	zz(77)
	field(1, tI32)
	zz(encRLEDictionary)
	field(1, tI32)
	zz(encRLE)
	field(1, tI32)
	zz(encRLE)
	field(1, tStruct) // statistics, skipped
	field(1, tBinary)
	b = appendUvarint(b, 3)
	b = append(b, "abc"...)
	field(1, tList)
	b = append(b, 2<<4|tI64)
	zz(5)
	zz(-6)
	field(1, tBoolTrue)
	b = append(b, 0) // end of statistics
	b = append(b, 0) // end of data page header
	// An unknown field with a long id delta form.
	b = append(b, tMap)
	zz(40)
	b = appendUvarint(b, 1)
	b = append(b, tI32<<4|tDouble)
	zz(3)
	b = append(b, make([]byte, 8)...)
	b = append(b, 0)
	h, n, err := parsePageHeader(append(b, 0xff, 0xff))
	if err != nil {
		t.Fatal(err)
	}
	if n != len(b) {
		t.Fatalf("header length %d, want %d", n, len(b))
	}
	if h.typ != pageData || h.uncompressed != 1000 || h.compressed != 400 || !h.hasData ||
		h.numValues != 77 || h.encoding != encRLEDictionary || h.defEncoding != encRLE {
		t.Fatalf("parsed %+v", h)
	}
	// A collection claiming more elements than there are bytes.
	huge := append(append([]byte(nil), b[:len(b)-1]...), 12<<4|tMap)
	huge = appendUvarint(huge, 1<<40)
	huge = append(huge, tBoolTrue<<4|tBoolTrue, 0)
	if _, _, err := parsePageHeader(huge); err == nil {
		t.Fatal("a map of 2^40 booleans parsed")
	}
	for cut := 0; cut < len(b); cut++ {
		if _, _, err := parsePageHeader(b[:cut]); err == nil {
			t.Fatalf("header cut at %d of %d bytes parsed", cut, len(b))
		}
	}
}
