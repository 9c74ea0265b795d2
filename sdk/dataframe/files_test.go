package dataframe_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	pb "github.com/substrait-io/substrait-protobuf/go/substraitpb"
	"google.golang.org/protobuf/proto"

	"github.com/arbalest/arbalest/sdk/dataframe"
	"github.com/arbalest/arbalest/substrait/consumer"
	"github.com/arbalest/arbalest/substrait/logical"
)

// writeParquet writes one batch with the file types a Parquet writer
// commonly produces (decimal128, large strings, nanosecond timestamps).
func writeParquet(t *testing.T, path string, extra bool) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fs := []arrow.Field{
		{Name: "o_orderkey", Type: arrow.PrimitiveTypes.Int64},
		{Name: "o_totalprice", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true},
		{Name: "o_comment", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "o_ts", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}, Nullable: true},
	}
	if extra {
		fs = append(fs, arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32})
	}
	schema := arrow.NewSchema(fs, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := 0; i < 3; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(100 * i)))
		b.Field(2).(*array.LargeStringBuilder).Append("c")
		b.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(i))
		if extra {
			b.Field(4).(*array.Int32Builder).Append(1)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(parquet.WithAllocator(mem)),
		pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem), pqarrow.WithStoreSchema()))
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

func TestReadParquet(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "orders.parquet")
	writeParquet(t, path, false)
	df, err := dataframe.ReadParquet(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := df.Schema()
	if err != nil {
		t.Fatal(err)
	}
	want := "o_orderkey:int64, o_totalprice:decimal64(15, 2), o_comment:utf8, o_ts:timestamp[us]"
	if got := schemaText(s); got != want {
		t.Errorf("schema\n got %s\nwant %s", got, want)
	}
	cols, _ := df.Columns()
	if cols[0] != "orders.o_orderkey" {
		t.Errorf("columns are not qualified by the file's name: %v", cols)
	}
	// A file joined with a named table: one local-files read, one named.
	li := table(t, newContext(), "lineitem")
	q := df.JoinOn(li, dataframe.Inner, []string{"o_orderkey"}, []string{"l_orderkey"}).
		GroupBy("orders.o_orderkey").Agg(dataframe.Sum(dataframe.Col("l_quantity")).As("q"))
	plan, err := q.Substrait()
	if err != nil {
		t.Fatal(err)
	}
	var locals, named int
	walkReads(plan.GetRelations()[0].GetRoot().GetInput(), func(r *pb.ReadRel) {
		switch {
		case r.GetLocalFiles() != nil:
			locals++
			if got := r.GetLocalFiles().GetItems()[0].GetUriPath(); got != path {
				t.Errorf("local file %q, want %q", got, path)
			}
		case r.GetNamedTable() != nil:
			named++
		}
	})
	if locals != 1 || named != 1 {
		t.Errorf("%d local-files and %d named reads, want 1 and 1", locals, named)
	}
	b, _ := proto.Marshal(plan)
	back, err := consumer.FromBytes(b, catalog{})
	if err != nil {
		t.Fatal(err)
	}
	var scans []*logical.Scan
	var visit func(logical.Plan)
	visit = func(p logical.Plan) {
		if s, ok := p.(*logical.Scan); ok {
			scans = append(scans, s)
		}
		for _, c := range p.Children() {
			visit(c)
		}
	}
	visit(back)
	if len(scans) != 2 || scans[0].Source.Format != "parquet" || scans[0].Source.Location != path || scans[0].Source.Name != "orders" {
		t.Errorf("consumed scans: %+v", scans[0].Source)
	}

	// A folder and a glob read the same files; files that differ fail.
	if _, err := dataframe.ReadParquet(dir); err != nil {
		t.Error(err)
	}
	g, err := dataframe.ReadParquet(filepath.Join(dir, "*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := g.Columns(); c[0] != filepath.Base(dir)+".o_orderkey" {
		t.Errorf("glob qualifier: %v", c)
	}
	writeParquet(t, filepath.Join(dir, "more.parquet"), true)
	if _, err := dataframe.ReadParquet(dir); err == nil || !strings.Contains(err.Error(), "4 columns instead of 5") {
		t.Errorf("mismatched files: %v", err)
	}
}

func walkReads(r *pb.Rel, fn func(*pb.ReadRel)) {
	if r == nil {
		return
	}
	switch x := r.GetRelType().(type) {
	case *pb.Rel_Read:
		fn(x.Read)
	case *pb.Rel_Join:
		walkReads(x.Join.GetLeft(), fn)
		walkReads(x.Join.GetRight(), fn)
	case *pb.Rel_Aggregate:
		walkReads(x.Aggregate.GetInput(), fn)
	case *pb.Rel_Project:
		walkReads(x.Project.GetInput(), fn)
	case *pb.Rel_Filter:
		walkReads(x.Filter.GetInput(), fn)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.parquet")
	if err := os.WriteFile(junk, []byte("not parquet at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, want string
	}{
		{filepath.Join(dir, "missing.parquet"), "no such file"},
		{junk, "not a readable Parquet file"},
		{empty, "folder has no .parquet files"},
		{filepath.Join(dir, "*.nothing"), "no file matches"},
		{"", "empty path"},
	} {
		if _, err := dataframe.ReadParquet(c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadParquet(%q): got %v, want %q", c.path, err, c.want)
		}
	}
	csv := filepath.Join(dir, "x.csv")
	if err := os.WriteFile(csv, []byte("a,b\n1,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := dataframe.ReadCSV(csv, dataframe.CSVOptions{}); err == nil || !strings.Contains(err.Error(), "Schema is required") {
		t.Errorf("ReadCSV without a schema: %v", err)
	}
	df, err := dataframe.ReadCSV(csv, dataframe.CSVOptions{Schema: fields(false, "a", i32, "b", str), Delimiter: ','})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := df.Filter(dataframe.Col("a").Gt(0)).Substrait()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := proto.Marshal(plan)
	back, err := consumer.FromBytes(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	scan := back.Children()[0].(*logical.Scan)
	if scan.Source.Format != "csv" || scan.Source.Options["delimiter"] != "," || !scan.Schema().Fields[0].Nullable {
		t.Errorf("CSV source: %+v", scan.Source)
	}
}
