package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// testRows is the size of the generated test table; it has three row groups
// of 100 rows.
const testRows = 300

// makeTable builds a table with every type the contract converts.
func makeTable(n int) arrow.RecordBatch {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "price", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.LargeString},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
		{Name: "cat", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	cats := []string{"a", "b", "c"}
	for i := 0; i < n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%10 == 9 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i)*100 + 25))
		}
		b.Field(2).(*array.LargeStringBuilder).Append(fmt.Sprintf("name%03d", i))
		b.Field(3).(*array.Date32Builder).Append(arrow.Date32(18000 + i))
		b.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(int64(i) * 1000))
		if err := b.Field(5).(*array.BinaryDictionaryBuilder).AppendString(cats[i%3]); err != nil {
			panic(err)
		}
		if i%7 == 6 {
			b.Field(6).AppendNull()
		} else {
			b.Field(6).(*array.Float64Builder).Append(float64(i) / 2)
		}
	}
	return b.NewRecordBatch()
}

// writeTestParquet writes the test table to dir/name.
func writeTestParquet(t testing.TB, dir, name string, decimalAsInt bool) string {
	rec := makeTable(testRows)
	defer rec.Release()
	path := filepath.Join(dir, name)
	writeParquet(t, path, rec, 100, decimalAsInt, true)
	return path
}

var wantSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "price", Type: &arrow.Decimal64Type{Precision: 15, Scale: 2}, Nullable: true},
	{Name: "name", Type: arrow.BinaryTypes.String},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
	{Name: "cat", Type: arrow.BinaryTypes.String},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

func TestParquetInferAndReadAll(t *testing.T) {
	for _, asInt := range []bool{true, false} {
		t.Run(fmt.Sprintf("decimalAsInt=%v", asInt), func(t *testing.T) {
			dir := t.TempDir()
			path := writeTestParquet(t, dir, "t.parquet", asInt)
			schema, rows, err := Infer(context.Background(), "parquet", path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !schema.Equal(wantSchema) {
				t.Fatalf("schema:\n%s\nwant:\n%s", schema, wantSchema)
			}
			if rows != testRows {
				t.Fatalf("rows = %d", rows)
			}
			tc, mem := newTC(t)
			n, err := NewScan(source("t", "parquet", path, schema, nil), nil, nil, -1, 1)
			if err != nil {
				t.Fatal(err)
			}
			bs := collect(t, n, tc)
			if got := rowCount(bs); got != testRows {
				t.Fatalf("read %d rows", got)
			}
			i := 0
			for _, b := range bs {
				id := b.Column(0).(*array.Int64).Int64Values()
				price := b.Column(1).(*array.Decimal64)
				name := b.Column(2).(*array.String)
				day := b.Column(3).(*array.Date32)
				ts := b.Column(4).(*array.Timestamp)
				cat := b.Column(5).(*array.String)
				score := b.Column(6).(*array.Float64)
				for r := 0; r < int(b.NumRows()); r++ {
					if id[r] != int64(i) {
						t.Fatalf("row %d: id %d", i, id[r])
					}
					if (i%10 == 9) != price.IsNull(r) || (!price.IsNull(r) && int64(price.Value(r)) != int64(i)*100+25) {
						t.Fatalf("row %d: price %v", i, price.ValueStr(r))
					}
					if name.Value(r) != fmt.Sprintf("name%03d", i) || cat.Value(r) != []string{"a", "b", "c"}[i%3] {
						t.Fatalf("row %d: name %q cat %q", i, name.Value(r), cat.Value(r))
					}
					if day.Value(r) != arrow.Date32(18000+i) || ts.Value(r) != arrow.Timestamp(int64(i)*1_000_000) {
						t.Fatalf("row %d: day %v ts %v", i, day.Value(r), ts.Value(r))
					}
					if (i%7 == 6) != score.IsNull(r) || (!score.IsNull(r) && score.Value(r) != float64(i)/2) {
						t.Fatalf("row %d: score %v", i, score.ValueStr(r))
					}
					i++
				}
			}
			release(bs)
			mem.AssertSize(t, 0)
		})
	}
}

func TestParquetProjectionAndLimit(t *testing.T) {
	dir := t.TempDir()
	path := writeTestParquet(t, dir, "t.parquet", true)
	tc, mem := newTC(t)
	n, err := NewScan(source("t", "parquet", path, wantSchema, nil), []int{5, 0, 0}, nil, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Schema().String(); !strings.Contains(got, "cat: type=utf8") || n.Schema().NumFields() != 3 || n.Schema().Field(1).Name != "id" {
		t.Fatalf("schema %s", got)
	}
	bs := collect(t, n, tc)
	if rowCount(bs) != testRows {
		t.Fatalf("rows %d", rowCount(bs))
	}
	b := bs[0]
	if b.Column(0).(*array.String).Value(4) != "b" || b.Column(1).(*array.Int64).Value(4) != 4 || b.Column(2).(*array.Int64).Value(4) != 4 {
		t.Fatalf("row 4: %v", b)
	}
	release(bs)

	// A limit stops early; the batch is cut to the limit.
	n, err = NewScan(source("t", "parquet", path, wantSchema, nil), []int{0}, nil, 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	bs = collect(t, n, tc)
	if rowCount(bs) != 7 {
		t.Fatalf("limit: %d rows", rowCount(bs))
	}
	release(bs)

	// No columns at all (count(*)): row counts from the footers.
	n, err = NewScan(source("t", "parquet", path, wantSchema, nil), []int{}, nil, -1, 2)
	if err != nil {
		t.Fatal(err)
	}
	bs = collect(t, n, tc)
	if rowCount(bs) != testRows {
		t.Fatalf("count(*): %d rows", rowCount(bs))
	}
	release(bs)
	mem.AssertSize(t, 0)
}

// readIDs scans with filters over the projection (id, price, name, day,
// ts, cat, score) and returns the node's EXPLAIN line and the ids read.
func readIDs(t *testing.T, path string, filters ...logical.Expr) (string, []int64) {
	t.Helper()
	tc, mem := newTC(t)
	n, err := NewScan(source("t", "parquet", path, wantSchema, nil), nil, filters, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	bs := collect(t, n, tc)
	var ids []int64
	for _, b := range bs {
		ids = append(ids, b.Column(0).(*array.Int64).Int64Values()...)
	}
	release(bs)
	mem.AssertSize(t, 0)
	return n.String(), ids
}

func TestParquetRowGroupPruning(t *testing.T) {
	dir := t.TempDir()
	path := writeTestParquet(t, dir, "t.parquet", true)
	s := wantSchema
	dec := s.Field(1).Type
	cases := []struct {
		name   string
		filter logical.Expr
		groups int // row groups read of 3
	}{
		{"id >= 250", call("gte", col(s, 0), lit(int64(250), logical.Int64)), 1},
		{"250 <= id (flipped)", call("lte", lit(int64(250), logical.Int64), col(s, 0)), 1},
		{"id < 0", call("lt", col(s, 0), lit(int64(0), logical.Int64)), 0},
		{"id = 150", call("equal", col(s, 0), lit(int64(150), logical.Int64)), 1},
		{"id <> 150", call("not_equal", col(s, 0), lit(int64(150), logical.Int64)), 3},
		{"not(id < 200)", call("not", call("lt", col(s, 0), lit(int64(200), logical.Int64))), 1},
		{"id between 120 and 130", call("between", col(s, 0), lit(int64(120), logical.Int64), lit(int64(130), logical.Int64)), 1},
		{"id in (5, 250)", &logical.InList{Input: col(s, 0), List: []logical.Expr{lit(int64(5), logical.Int64), lit(int64(250), logical.Int64)}}, 2},
		{"id = 5 or id = 105", call("or", call("equal", col(s, 0), lit(int64(5), logical.Int64)), call("equal", col(s, 0), lit(int64(105), logical.Int64))), 2},
		{"id > 50 and id < 60", call("and", call("gt", col(s, 0), lit(int64(50), logical.Int64)), call("lt", col(s, 0), lit(int64(60), logical.Int64))), 1},
		{"price >= 200.00", call("gte", col(s, 1), lit(int64(20000), dec)), 1},
		{"price >= 198.00", call("gte", col(s, 1), lit(int64(19800), dec)), 2},
		{"price < 1.00", call("lt", col(s, 1), lit(int64(100), dec)), 1},
		{"day > 18000+280", call("gt", col(s, 3), lit(arrow.Date32(18280), logical.Date32)), 1},
		{"name >= 'name2'", call("gte", col(s, 2), lit("name2", logical.Utf8)), 1},
		{"name = 'zzz'", call("equal", col(s, 2), lit("zzz", logical.Utf8)), 0},
		{"ts < 10s", call("lt", col(s, 4), lit(arrow.Timestamp(10_000_000), logical.TimestampUs)), 1},
		{"cast(id as float64) > 299.5", call("gt", &logical.Cast{Input: col(s, 0), T: logical.Float64}, lit(299.5, logical.Float64)), 3},
		{"cast(id as float64) < 99.5", call("lt", &logical.Cast{Input: col(s, 0), T: logical.Float64}, lit(99.5, logical.Float64)), 1},
		{"cast(id as decimal(20,2)) ... decimal64", call("lt", &logical.Cast{Input: col(s, 0), T: logical.DecimalType(18, 2)}, lit(int64(1000), logical.DecimalType(18, 2))), 1},
		{"score is null", call("is_null", col(s, 6)), 3},
		{"id is null", call("is_null", col(s, 0)), 0},
		{"false", lit(false, logical.Bool), 0},
		{"null literal", lit(nil, logical.Bool), 0},
		{"unknown function keeps all", call("like", col(s, 2), lit("x%", logical.Utf8)), 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			explain, ids := readIDs(t, path, c.filter)
			want := fmt.Sprintf("row_groups=%d/3", c.groups)
			if !strings.Contains(explain, want) {
				t.Fatalf("%s: want %s in %s", c.name, want, explain)
			}
			if len(ids) != c.groups*100 {
				t.Fatalf("read %d rows for %d row groups", len(ids), c.groups)
			}
		})
	}
}

func TestParquetPartitionsAndFolders(t *testing.T) {
	dir := t.TempDir()
	writeTestParquet(t, dir, "a.parquet", true)
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestParquet(t, filepath.Join(dir, "sub"), "b.parquet", true)
	// Files that are not data are ignored.
	if err := os.WriteFile(filepath.Join(dir, "_SUCCESS"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	schema, rows, err := Infer(context.Background(), "", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 2*testRows || !schema.Equal(wantSchema) {
		t.Fatalf("infer: %d rows, %s", rows, schema)
	}
	tc, mem := newTC(t)
	for _, parts := range []int{1, 2, 4, 16} {
		n, err := NewScan(source("t", "parquet", dir, schema, nil), []int{0}, nil, -1, parts)
		if err != nil {
			t.Fatal(err)
		}
		if want := min(parts, 6); n.Partitions() != want {
			t.Fatalf("%d partitions wanted, node has %d", want, n.Partitions())
		}
		var sum int64
		for p := 0; p < n.Partitions(); p++ {
			bs, err := runPartition(n, p, tc)
			if err != nil {
				t.Fatal(err)
			}
			if rowCount(bs) == 0 {
				t.Fatalf("partition %d of %d is empty", p, parts)
			}
			for _, b := range bs {
				for _, v := range b.Column(0).(*array.Int64).Int64Values() {
					sum += v
				}
			}
			release(bs)
		}
		if want := int64(2 * testRows * (testRows - 1) / 2); sum != want {
			t.Fatalf("%d partitions: sum of ids %d, want %d", parts, sum, want)
		}
	}
	// A glob.
	n, err := NewScan(source("t", "parquet", filepath.Join(dir, "*.parquet"), schema, nil), []int{0}, nil, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	bs := collect(t, n, tc)
	if rowCount(bs) != testRows {
		t.Fatalf("glob read %d rows", rowCount(bs))
	}
	release(bs)
	mem.AssertSize(t, 0)
}

func TestParquetErrors(t *testing.T) {
	dir := t.TempDir()
	path := writeTestParquet(t, dir, "t.parquet", true)

	missing := filepath.Join(dir, "missing.parquet")
	if _, _, err := Infer(context.Background(), "parquet", missing, nil); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := NewScan(source("t", "parquet", missing, wantSchema, nil), nil, nil, -1, 1); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing file: %v", err)
	}
	if _, _, err := Infer(context.Background(), "parquet", filepath.Join(dir, "*.nothing"), nil); err == nil {
		t.Fatal("empty glob accepted")
	}

	// Truncated: the footer is gone.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "trunc.parquet")
	if err := os.WriteFile(trunc, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Infer(context.Background(), "parquet", trunc, nil); err == nil || !strings.Contains(err.Error(), trunc) {
		t.Fatalf("truncated file: %v", err)
	}
	if _, err := NewScan(source("t", "parquet", trunc, wantSchema, nil), nil, nil, -1, 1); err == nil || !strings.Contains(err.Error(), trunc) {
		t.Fatalf("truncated file: %v", err)
	}
	// Garbage that ends like a Parquet file.
	junk := filepath.Join(dir, "junk.parquet")
	if err := os.WriteFile(junk, append([]byte("PAR1 this is not parquet at all \xff\xff\xff\x7f"), "PAR1"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Infer(context.Background(), "parquet", junk, nil); err == nil || !strings.Contains(err.Error(), junk) {
		t.Fatalf("junk file: %v", err)
	}
	// Pages corrupted after the footer was read.
	corrupt := filepath.Join(dir, "corrupt.parquet")
	bad := append([]byte(nil), data...)
	for i := 100; i < len(bad)/2; i++ {
		bad[i] ^= 0x5a
	}
	if err := os.WriteFile(corrupt, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	tc, mem := newTC(t)
	n, err := NewScan(source("t", "parquet", corrupt, wantSchema, nil), nil, nil, -1, 1)
	if err == nil {
		_, err = runPartition(n, 0, tc)
	}
	if err == nil || !strings.Contains(err.Error(), corrupt) {
		t.Fatalf("corrupt pages: %v", err)
	}
	// A table schema the file does not have.
	other := arrow.NewSchema([]arrow.Field{{Name: "nope", Type: arrow.PrimitiveTypes.Int64}}, nil)
	if _, err := NewScan(source("t", "parquet", path, other, nil), nil, nil, -1, 1); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("missing column: %v", err)
	}
	wrong := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}}, nil)
	if _, err := NewScan(source("t", "parquet", path, wrong, nil), nil, nil, -1, 1); err == nil || !strings.Contains(err.Error(), "expects utf8") {
		t.Fatalf("wrong type: %v", err)
	}
	if _, err := NewScan(source("t", "parquet", path, wantSchema, nil), []int{9}, nil, -1, 1); err == nil {
		t.Fatal("bad projection accepted")
	}
	mem.AssertSize(t, 0)
}

func TestParquetCancel(t *testing.T) {
	dir := t.TempDir()
	path := writeTestParquet(t, dir, "t.parquet", true)
	tc, mem := newTC(t)
	tc.BatchSize = 10
	n, err := NewScan(source("t", "parquet", path, wantSchema, nil), nil, nil, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := n.Execute(ctx, 0, tc)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := s.Next(ctx); err != nil || b.NumRows() != 10 {
		t.Fatalf("first batch: %v", err)
	}
	cancel()
	if _, err := s.Next(ctx); !errors.Is(err, exec.ErrCanceled) {
		t.Fatalf("after cancel: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second close:", err)
	}
	mem.AssertSize(t, 0)
}

func TestExplainAndMetrics(t *testing.T) {
	dir := t.TempDir()
	path := writeTestParquet(t, dir, "t.parquet", true)
	tc, mem := newTC(t)
	f := call("gte", col(wantSchema, 0), lit(int64(250), logical.Int64))
	n, err := NewScan(source("lineitem", "parquet", path, wantSchema, nil), nil, []logical.Expr{f}, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	got := n.String()
	for _, want := range []string{"Scan: lineitem", "format=parquet", path, "projection=[id, price, name, day, ts, cat, score]", "filters=[gte(id#0, 250)]", "row_groups=1/3 (pruned 2)"} {
		if !strings.Contains(got, want) {
			t.Errorf("EXPLAIN %q lacks %q", got, want)
		}
	}
	bs := collect(t, n, tc)
	release(bs)
	if m := tc.Metrics.Lookup(n); m == nil || m.Bytes.Load() <= 0 {
		t.Fatalf("no bytes recorded")
	}
	mem.AssertSize(t, 0)
}
