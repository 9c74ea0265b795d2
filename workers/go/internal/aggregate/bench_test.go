package aggregate

import (
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// q1Source makes n lineitem-like rows: returnflag, linestatus (4
// combinations in practice), quantity, extendedprice, discount and the two
// derived prices as decimal(15,2)/(15,4) columns.
func q1Source(mem memory.Allocator, n, batch int) *sourceNode {
	dec := func(s int32) arrow.DataType { return &arrow.Decimal64Type{Precision: 15, Scale: s} }
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "l_returnflag", Type: arrow.BinaryTypes.String},
		{Name: "l_linestatus", Type: arrow.BinaryTypes.String},
		{Name: "l_quantity", Type: dec(2)},
		{Name: "l_extendedprice", Type: dec(2)},
		{Name: "l_discount", Type: dec(2)},
		{Name: "disc_price", Type: dec(4)},
		{Name: "charge", Type: dec(6)},
	}, nil)
	r := rand.New(rand.NewPCG(1, 1))
	src := &sourceNode{schema: schema, parts: [][]arrow.RecordBatch{nil}}
	combos := [][2]string{{"A", "F"}, {"N", "F"}, {"N", "O"}, {"R", "F"}}
	for start := 0; start < n; start += batch {
		b := array.NewRecordBuilder(mem, schema)
		m := min(batch, n-start)
		for i := 0; i < m; i++ {
			c := combos[r.IntN(4)]
			b.Field(0).(*array.StringBuilder).Append(c[0])
			b.Field(1).(*array.StringBuilder).Append(c[1])
			q := int64(r.IntN(50)+1) * 100
			p := int64(r.IntN(10_000_000) + 90_000)
			d := int64(r.IntN(11))
			b.Field(2).(*array.Decimal64Builder).Append(decimal.Decimal64(q))
			b.Field(3).(*array.Decimal64Builder).Append(decimal.Decimal64(p))
			b.Field(4).(*array.Decimal64Builder).Append(decimal.Decimal64(d))
			b.Field(5).(*array.Decimal64Builder).Append(decimal.Decimal64(p * (100 - d)))
			b.Field(6).(*array.Decimal64Builder).Append(decimal.Decimal64(p * (100 - d) * 104))
		}
		src.parts[0] = append(src.parts[0], b.NewRecordBatch())
		b.Release()
	}
	return src
}

func drain(b *testing.B, n exec.Node, tc *exec.TaskContext) int64 {
	ctx := context.Background()
	st, err := n.Execute(ctx, 0, tc)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var rows int64
	for {
		rec, err := st.Next(ctx)
		if err == io.EOF {
			return rows
		}
		if err != nil {
			b.Fatal(err)
		}
		rows += rec.NumRows()
	}
}

func BenchmarkQ1(b *testing.B) {
	const n = 6_000_000
	mem := memory.NewGoAllocator()
	src := q1Source(mem, n, exec.DefaultBatchSize)
	defer src.release()
	s := src.schema
	c := func(name string) logical.Expr { return col(s, name) }
	aggs := []*logical.AggregateCall{
		call("sum", false, nil, c("l_quantity")),
		call("sum", false, nil, c("l_extendedprice")),
		call("sum", false, nil, c("disc_price")),
		call("sum", false, nil, c("charge")),
		call("avg", false, nil, c("l_quantity")),
		call("avg", false, nil, c("l_extendedprice")),
		call("avg", false, nil, c("l_discount")),
		call("count", false, nil),
	}
	names := []string{"sum_qty", "sum_base_price", "sum_disc_price", "sum_charge", "avg_qty", "avg_price", "avg_disc", "count_order"}
	node, err := NewHashAggregate(src, Single, []logical.Expr{c("l_returnflag"), c("l_linestatus")},
		[]string{"l_returnflag", "l_linestatus"}, nil, aggs, names)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		if got := drain(b, node, exec.NewTaskContext()); got != 4 {
			b.Fatalf("%d groups", got)
		}
	}
	cpu.report(b, n)
}

func BenchmarkHighCardinality(b *testing.B) {
	const n = 6_000_000
	const groups = 1_500_000
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
		{Name: "q", Type: &arrow.Decimal64Type{Precision: 15, Scale: 2}},
	}, nil)
	r := rand.New(rand.NewPCG(2, 2))
	src := &sourceNode{schema: schema, parts: [][]arrow.RecordBatch{nil}}
	for start := 0; start < n; start += exec.DefaultBatchSize {
		bb := array.NewRecordBuilder(mem, schema)
		for i := 0; i < min(exec.DefaultBatchSize, n-start); i++ {
			bb.Field(0).(*array.Int64Builder).Append(int64(r.IntN(groups)) * 7)
			bb.Field(1).(*array.Decimal64Builder).Append(decimal.Decimal64(r.IntN(5000)))
		}
		src.parts[0] = append(src.parts[0], bb.NewRecordBatch())
		bb.Release()
	}
	defer src.release()
	node, err := NewHashAggregate(src, Single, []logical.Expr{col(schema, "k")}, []string{"k"}, nil,
		[]*logical.AggregateCall{call("sum", false, nil, col(schema, "q")), call("count", false, nil)}, []string{"s", "c"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		if got := drain(b, node, exec.NewTaskContext()); got < groups*9/10 {
			b.Fatalf("%d groups", got)
		}
	}
	cpu.report(b, n)
}

// BenchmarkAvgManyGroups is TPC-H Q17's inner aggregate: avg of a
// decimal over 200 K groups in random order.
func BenchmarkAvgManyGroups(b *testing.B) {
	const n = 6_000_000
	const groups = 200_000
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
		{Name: "q", Type: &arrow.Decimal64Type{Precision: 15, Scale: 2}},
	}, nil)
	r := rand.New(rand.NewPCG(3, 3))
	src := &sourceNode{schema: schema, parts: [][]arrow.RecordBatch{nil}}
	for start := 0; start < n; start += exec.DefaultBatchSize {
		bb := array.NewRecordBuilder(mem, schema)
		for i := 0; i < min(exec.DefaultBatchSize, n-start); i++ {
			bb.Field(0).(*array.Int64Builder).Append(int64(r.IntN(groups)))
			bb.Field(1).(*array.Decimal64Builder).Append(decimal.Decimal64(r.IntN(5000)))
		}
		src.parts[0] = append(src.parts[0], bb.NewRecordBatch())
		bb.Release()
	}
	defer src.release()
	node, err := NewHashAggregate(src, Single, []logical.Expr{col(schema, "k")}, []string{"k"}, nil,
		[]*logical.AggregateCall{call("avg", false, nil, col(schema, "q"))}, []string{"a"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		if got := drain(b, node, exec.NewTaskContext()); got != groups {
			b.Fatalf("%d groups", got)
		}
	}
	cpu.report(b, n)
}
