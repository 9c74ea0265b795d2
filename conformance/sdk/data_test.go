package sdk_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// rng is a small deterministic generator (so the data, and any failure,
// is the same on every run).
type rng uint64

func (r *rng) intn(n int) int {
	*r = *r*6364136223846793005 + 1442695040888963407
	return int((uint64(*r) >> 33) % uint64(n))
}

func (r *rng) pick(vs ...string) string { return vs[r.intn(len(vs))] }

var money = &arrow.Decimal128Type{Precision: 15, Scale: 2}

func days(s string) arrow.Date32 {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return arrow.Date32FromTime(t)
}

// table is one Parquet file to write: its schema and a function that
// appends row i.
type table struct {
	name   string
	rows   int
	fields []arrow.Field
	row    func(r *rng, i int, b *array.RecordBuilder)
}

// tpchTables are small TPC-H-like tables: some orders have no customer and
// some lines no order (for outer, semi and anti joins), and comments and
// taxes have NULLs.
func tpchTables() []table {
	segments := []string{"BUILDING", "AUTOMOBILE", "MACHINERY"}
	return []table{
		{
			name: "customer", rows: 30,
			fields: []arrow.Field{
				{Name: "c_custkey", Type: arrow.PrimitiveTypes.Int64},
				{Name: "c_name", Type: arrow.BinaryTypes.String},
				{Name: "c_nationkey", Type: arrow.PrimitiveTypes.Int32},
				{Name: "c_acctbal", Type: money},
				{Name: "c_mktsegment", Type: arrow.BinaryTypes.String},
			},
			row: func(r *rng, i int, b *array.RecordBuilder) {
				b.Field(0).(*array.Int64Builder).Append(int64(i + 1))
				b.Field(1).(*array.StringBuilder).Append("Customer#" + string(rune('A'+i%26)) + string(rune('a'+i/26)))
				b.Field(2).(*array.Int32Builder).Append(int32(i % 5))
				b.Field(3).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(r.intn(200000) - 20000)))
				b.Field(4).(*array.StringBuilder).Append(segments[i%3])
			},
		},
		{
			name: "orders", rows: 150,
			fields: []arrow.Field{
				{Name: "o_orderkey", Type: arrow.PrimitiveTypes.Int64},
				{Name: "o_custkey", Type: arrow.PrimitiveTypes.Int64},
				{Name: "o_totalprice", Type: money},
				{Name: "o_orderdate", Type: arrow.FixedWidthTypes.Date32},
				{Name: "o_orderpriority", Type: arrow.BinaryTypes.String},
				{Name: "o_shippriority", Type: arrow.PrimitiveTypes.Int32},
				{Name: "o_comment", Type: arrow.BinaryTypes.String, Nullable: true},
			},
			row: func(r *rng, i int, b *array.RecordBuilder) {
				b.Field(0).(*array.Int64Builder).Append(int64(i + 1))
				b.Field(1).(*array.Int64Builder).Append(int64(1 + r.intn(35)))
				b.Field(2).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(100 + r.intn(50000000))))
				b.Field(3).(*array.Date32Builder).Append(days("1994-01-01") + arrow.Date32(r.intn(1700)))
				b.Field(4).(*array.StringBuilder).Append(r.pick("1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"))
				b.Field(5).(*array.Int32Builder).Append(int32(r.intn(2)))
				if i%7 == 3 {
					b.Field(6).AppendNull()
				} else {
					b.Field(6).(*array.StringBuilder).Append(r.pick("quick brown", "lazy dog", "final deposits", "ironic"))
				}
			},
		},
		{
			name: "lineitem", rows: 700,
			fields: []arrow.Field{
				{Name: "l_orderkey", Type: arrow.PrimitiveTypes.Int64},
				{Name: "l_linenumber", Type: arrow.PrimitiveTypes.Int32},
				{Name: "l_quantity", Type: money},
				{Name: "l_extendedprice", Type: money},
				{Name: "l_discount", Type: money},
				{Name: "l_tax", Type: money, Nullable: true},
				{Name: "l_returnflag", Type: arrow.BinaryTypes.String},
				{Name: "l_linestatus", Type: arrow.BinaryTypes.String},
				{Name: "l_shipdate", Type: arrow.FixedWidthTypes.Date32},
				{Name: "l_shipmode", Type: arrow.BinaryTypes.String},
				{Name: "l_comment", Type: arrow.BinaryTypes.String, Nullable: true},
			},
			row: func(r *rng, i int, b *array.RecordBuilder) {
				b.Field(0).(*array.Int64Builder).Append(int64(1 + r.intn(160)))
				b.Field(1).(*array.Int32Builder).Append(int32(i%7 + 1))
				q := int64(1 + r.intn(50))
				b.Field(2).(*array.Decimal128Builder).Append(decimal128.FromI64(q * 100))
				b.Field(3).(*array.Decimal128Builder).Append(decimal128.FromI64(q * int64(90000+r.intn(10000000)) / 100))
				b.Field(4).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(r.intn(11))))
				if i%11 == 5 {
					b.Field(5).AppendNull()
				} else {
					b.Field(5).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(r.intn(9))))
				}
				b.Field(6).(*array.StringBuilder).Append(r.pick("A", "N", "R"))
				b.Field(7).(*array.StringBuilder).Append(r.pick("F", "O"))
				b.Field(8).(*array.Date32Builder).Append(days("1994-01-01") + arrow.Date32(r.intn(1800)))
				b.Field(9).(*array.StringBuilder).Append(r.pick("AIR", "MAIL", "SHIP", "TRUCK"))
				if i%13 == 0 {
					b.Field(10).AppendNull()
				} else {
					b.Field(10).(*array.StringBuilder).Append(r.pick("carefully final", "blithely regular", "slyly ironic", "furiously"))
				}
			},
		},
	}
}

// writeTables writes the tables as dir/<name>.parquet, with small row
// groups so scans split over several tasks.
func writeTables(t *testing.T, dir string) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rng(42)
	for _, tb := range tpchTables() {
		schema := arrow.NewSchema(tb.fields, nil)
		b := array.NewRecordBuilder(mem, schema)
		for i := 0; i < tb.rows; i++ {
			tb.row(&r, i, b)
		}
		rec := b.NewRecordBatch()
		b.Release()
		f, err := os.Create(filepath.Join(dir, tb.name+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		w, err := pqarrow.NewFileWriter(schema, f,
			parquet.NewWriterProperties(parquet.WithAllocator(mem), parquet.WithMaxRowGroupLength(64)),
			pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
		if err != nil {
			rec.Release()
			t.Fatal(err)
		}
		err = w.Write(rec)
		rec.Release()
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("writing %s: %v", tb.name, err)
		}
	}
}
