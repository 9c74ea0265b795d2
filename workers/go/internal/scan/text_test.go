package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCSVInferAndRead(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "t.csv", "id,price,day,ts,ok,name\n"+
		"1,1.5,2024-01-31,2024-01-31 10:00:00,true,\"a, b\"\n"+
		"2,,2024-02-29,2024-02-29T23:59:59.5,false,\"multi\nline \"\"quoted\"\"\"\r\n"+
		"\n"+
		"3,-2e3,1999-12-31,1999-12-31 00:00:00,TRUE,plain\n")
	schema, rows, err := Infer(context.Background(), "", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "id:int64 price:float64 day:date32 ts:timestamp[us] ok:bool name:utf8"
	var got []string
	for _, f := range schema.Fields() {
		got = append(got, f.Name+":"+f.Type.String())
	}
	if strings.Join(got, " ") != want || rows != 3 {
		t.Fatalf("infer: %v rows=%d", got, rows)
	}
	tc, mem := newTC(t)
	n, err := NewScan(source("t", "csv", path, schema, nil), []int{5, 0, 1, 3}, nil, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	bs := collect(t, n, tc)
	if rowCount(bs) != 3 {
		t.Fatalf("rows %d", rowCount(bs))
	}
	b := bs[0]
	name := b.Column(0).(*array.String)
	if name.Value(0) != "a, b" || name.Value(1) != "multi\nline \"quoted\"" || name.Value(2) != "plain" {
		t.Fatalf("names %v", name)
	}
	if !b.Column(2).IsNull(1) || b.Column(2).(*array.Float64).Value(2) != -2000 {
		t.Fatalf("price %v", b.Column(2))
	}
	if ts := b.Column(3).(*array.Timestamp).Value(1); ts != arrow.Timestamp((19782*86400+86399)*1_000_000+500_000) {
		t.Fatalf("ts %d", ts)
	}
	release(bs)

	// A declared schema with a decimal and custom options.
	path2 := writeFile(t, dir, "t2.txt", "1|12.345|NA\n2|NA|x\n")
	s2 := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "d", Type: logical.DecimalType(10, 2), Nullable: true},
		{Name: "s", Type: logical.Utf8, Nullable: true},
	}, nil)
	n, err = NewScan(source("t2", "csv", path2, s2, map[string]string{"header": "false", "delimiter": "|", "null": "NA"}), nil, nil, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	bs = collect(t, n, tc)
	d := bs[0].Column(1).(*array.Decimal64)
	if d.Value(0) != 1235 || !d.IsNull(1) || !bs[0].Column(2).IsNull(0) || bs[0].Column(2).(*array.String).Value(1) != "x" {
		t.Fatalf("decimal/null: %v", bs[0])
	}
	release(bs)
	mem.AssertSize(t, 0)
}

func TestCSVErrors(t *testing.T) {
	dir := t.TempDir()
	s := arrow.NewSchema([]arrow.Field{{Name: "a", Type: logical.Int64, Nullable: true}, {Name: "b", Type: logical.Utf8, Nullable: true}}, nil)
	tc, mem := newTC(t)
	cases := []struct{ text, want string }{
		{"a,b\n1,x\n2,y,z\n", "line 3: expected 2 fields, found 3"},
		{"a,b\n1,x\nfoo,y\n", `line 3: column a: cannot read "foo" as int64`},
		{"a,b\n1,\"x\n", "line 2: quoted field is not closed"},
		{"a\n1\n", "header has 1 fields"},
	}
	for _, c := range cases {
		path := writeFile(t, dir, "bad.csv", c.text)
		n, err := NewScan(source("t", "csv", path, s, nil), nil, nil, -1, 1)
		if err == nil {
			_, err = runPartition(n, 0, tc)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
	if _, err := NewScan(source("t", "csv", filepath.Join(dir, "bad.csv"), s, map[string]string{"delimter": ";"}), nil, nil, -1, 1); err == nil {
		t.Error("unknown option accepted")
	}
	mem.AssertSize(t, 0)
}

func TestCSVPartitionsByFile(t *testing.T) {
	dir := t.TempDir()
	for i, text := range []string{"a\n1\n2\n", "a\n3\n", "a\n4\n5\n6\n"} {
		writeFile(t, dir, string(rune('x'+i))+".csv", text)
	}
	schema, _, err := Infer(context.Background(), "csv", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	tc, mem := newTC(t)
	n, err := NewScan(source("t", "csv", dir, schema, nil), nil, nil, -1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if n.Partitions() != 2 {
		t.Fatalf("partitions %d", n.Partitions())
	}
	var sum int64
	for p := 0; p < 2; p++ {
		bs, err := runPartition(n, p, tc)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			for _, v := range b.Column(0).(*array.Int64).Int64Values() {
				sum += v
			}
		}
		release(bs)
	}
	if sum != 21 {
		t.Fatalf("sum %d", sum)
	}
	mem.AssertSize(t, 0)
}

func TestJSON(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "t.jsonl", `{"id": 1, "name": "a", "day": "2024-01-02", "x": 1.5, "tags": ["p", "q"]}
{"id": 2, "name": null, "day": "2024-01-03", "x": 2, "extra": true}

{"id": 3, "day": "2024-01-04", "x": null, "tags": []}
`)
	schema, rows, err := Infer(context.Background(), "", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "id:int64 name:utf8 day:date32 x:float64 tags:list<item: utf8, nullable> extra:bool"
	var got []string
	for _, f := range schema.Fields() {
		got = append(got, f.Name+":"+f.Type.String())
	}
	if strings.Join(got, " ") != want || rows != 3 {
		t.Fatalf("infer: %v rows=%d", got, rows)
	}
	tc, mem := newTC(t)
	n, err := NewScan(source("t", "json", path, schema, nil), []int{2, 0, 1}, nil, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	bs := collect(t, n, tc)
	b := bs[0]
	if b.NumRows() != 3 || b.Column(0).(*array.Date32).Value(2) != arrow.Date32(19726) || b.Column(1).(*array.Int64).Value(1) != 2 || !b.Column(2).IsNull(1) || !b.Column(2).IsNull(2) {
		t.Fatalf("json batch %v", b)
	}
	release(bs)

	bad := writeFile(t, dir, "bad.json", "{\"id\": 1}\n{\"id\": \"x\"}\n")
	n, err = NewScan(source("t", "json", bad, arrow.NewSchema([]arrow.Field{{Name: "id", Type: logical.Int64, Nullable: true}}, nil), nil), nil, nil, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runPartition(n, 0, tc); err == nil || !strings.Contains(err.Error(), bad+" line 2") {
		t.Fatalf("bad json: %v", err)
	}
	mem.AssertSize(t, 0)
}

func TestArrowIPC(t *testing.T) {
	dir := t.TempDir()
	mem0 := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.StringView, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}},
		{Name: "d", Type: &arrow.Decimal128Type{Precision: 12, Scale: 3}},
	}, nil)
	b := array.NewRecordBuilder(mem0, schema)
	for i := 0; i < 20000; i++ {
		if i%5 == 0 {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.StringViewBuilder).Append(strings.Repeat("v", i%20))
		}
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(int64(i) * 1_500))
		b.Field(2).(*array.Decimal128Builder).Append(decimalFromInt(int64(-i)))
	}
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()

	fileP := filepath.Join(dir, "t.arrow")
	f, _ := os.Create(fileP)
	fw, err := ipc.NewFileWriter(f, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	fw.Close()
	f.Close()
	streamP := filepath.Join(dir, "t.arrows")
	f, _ = os.Create(streamP)
	sw := ipc.NewWriter(f, ipc.WithSchema(schema))
	if err := sw.Write(rec); err != nil {
		t.Fatal(err)
	}
	sw.Close()
	f.Close()

	for _, p := range []string{fileP, streamP} {
		s, _, err := Infer(context.Background(), "", p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.Field(0).Type.ID() != arrow.STRING || !arrow.TypeEqual(s.Field(1).Type, logical.TimestampUs) || !arrow.TypeEqual(s.Field(2).Type, logical.DecimalType(12, 3)) {
			t.Fatalf("%s: schema %s", p, s)
		}
		tc, mem := newTC(t)
		n, err := NewScan(source("t", "arrow", p, s, nil), nil, nil, -1, 1)
		if err != nil {
			t.Fatal(err)
		}
		bs := collect(t, n, tc)
		if rowCount(bs) != 20000 || len(bs) < 3 {
			t.Fatalf("%s: %d rows in %d batches", p, rowCount(bs), len(bs))
		}
		last := bs[len(bs)-1]
		i := int(last.NumRows()) - 1
		if v := last.Column(0).(*array.String).Value(i); v != strings.Repeat("v", 19999%20) {
			t.Fatalf("string %q", v)
		}
		if v := last.Column(1).(*array.Timestamp).Value(i); v != arrow.Timestamp(19999*1_500/1000) {
			t.Fatalf("ts %d", v)
		}
		if v := last.Column(2).(*array.Decimal64).Value(i); int64(v) != -19999 {
			t.Fatalf("decimal %d", v)
		}
		release(bs)
		mem.AssertSize(t, 0)
	}
}

func TestFormatFromPath(t *testing.T) {
	dir := t.TempDir()
	for path, want := range map[string]string{"a.parquet": "parquet", "b.CSV": "csv", "c.ndjson": "json", "d.feather": "arrow", "x/*.parquet": "parquet"} {
		if got, err := FormatFromPath(path); err != nil || got != want {
			t.Errorf("%s: %q %v", path, got, err)
		}
	}
	writeFile(t, dir, "z.json", "{}\n")
	if got, err := FormatFromPath(dir); err != nil || got != "json" {
		t.Errorf("folder: %q %v", got, err)
	}
	if _, err := FormatFromPath(filepath.Join(dir, "nope")); err == nil {
		t.Error("missing path accepted")
	}
	if _, err := FormatFromPath(writeFile(t, dir, "data.bin", "")); err == nil {
		t.Error("unknown extension accepted")
	}
}
