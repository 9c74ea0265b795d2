package expr

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

const benchRows = 1 << 20
const benchBatch = 8192

// lineitemBatches makes lineitem-like batches: extendedprice, discount
// (decimal(15,2)), shipdate (date32), name (utf8, ~5% contain "green").
func lineitemBatches(b *testing.B, mem memory.Allocator) []arrow.RecordBatch {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "price", Type: tDec},
		{Name: "disc", Type: tDec},
		{Name: "ship", Type: arrow.FixedWidthTypes.Date32},
		{Name: "name", Type: arrow.BinaryTypes.String},
	}, nil)
	words := []string{"almond", "antique", "aquamarine", "azure", "beige", "bisque", "black", "blanched",
		"blue", "blush", "brown", "burlywood", "burnished", "chartreuse", "chiffon", "chocolate", "coral",
		"cornflower", "cornsilk", "cream", "cyan", "dark", "deep", "dim", "dodger", "drab", "firebrick",
		"floral", "forest", "frosted", "gainsboro", "ghost", "goldenrod", "green", "grey", "honeydew"}
	var out []arrow.RecordBatch
	for start := 0; start < benchRows; start += benchBatch {
		pb := array.NewDecimal64Builder(mem, tDec.(*arrow.Decimal64Type))
		db := array.NewDecimal64Builder(mem, tDec.(*arrow.Decimal64Type))
		sb := array.NewDate32Builder(mem)
		nb := array.NewStringBuilder(mem)
		for i := 0; i < benchBatch; i++ {
			pb.Append(decimal.Decimal64(90000 + r.Int64N(10000000)))
			db.Append(decimal.Decimal64(r.Int64N(11)))
			sb.Append(arrow.Date32(8035 + r.Int32N(2500)))
			name := ""
			for w := 0; w < 5; w++ {
				if w > 0 {
					name += " "
				}
				name += words[r.IntN(len(words))]
			}
			nb.Append(name)
		}
		cols := []arrow.Array{pb.NewArray(), db.NewArray(), sb.NewArray(), nb.NewArray()}
		out = append(out, array.NewRecordBatch(schema, cols, benchBatch))
		for _, c := range cols {
			c.Release()
		}
		pb.Release()
		db.Release()
		sb.Release()
		nb.Release()
	}
	return out
}

var (
	benchOnce sync.Once
	benchData []arrow.RecordBatch
)

func benchExpr(b *testing.B, e logical.Expr, filter bool) {
	mem := memory.NewGoAllocator()
	benchOnce.Do(func() { benchData = lineitemBatches(b, mem) })
	batches := benchData
	ev, err := Compile(e, batches[0].Schema(), mem)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		for _, batch := range batches {
			if filter {
				out, err := EvalFilter(ctx, ev, batch)
				if err != nil {
					b.Fatal(err)
				}
				out.Release()
				continue
			}
			out, err := ev.Eval(ctx, batch)
			if err != nil {
				b.Fatal(err)
			}
			out.Release()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}

var (
	benchPrice = &logical.ColumnRef{Index: 0, Name: "price", T: tDec}
	benchDisc  = &logical.ColumnRef{Index: 1, Name: "disc", T: tDec}
	benchShip  = &logical.ColumnRef{Index: 2, Name: "ship", T: arrow.FixedWidthTypes.Date32}
	benchName  = &logical.ColumnRef{Index: 3, Name: "name", T: arrow.BinaryTypes.String}
)

// BenchmarkDecimalQ1 is TPC-H Q1's l_extendedprice * (1 - l_discount).
func BenchmarkDecimalQ1(b *testing.B) {
	oneMinus := call("subtract", logical.DecimalType(16, 2), dec(1, 1, 0), benchDisc)
	benchExpr(b, call("multiply", logical.DecimalType(32, 4), benchPrice, oneMinus), false)
}

// BenchmarkDateFilter filters l_shipdate <= date '1995-06-17' (about half the rows).
func BenchmarkDateFilter(b *testing.B) {
	benchExpr(b, call("lte", tB, benchShip, date(1995, 6, 17)), true)
}

// BenchmarkLikeContains is p_name LIKE '%green%'.
func BenchmarkLikeContains(b *testing.B) {
	benchExpr(b, call("like", tB, benchName, str("%green%")), false)
}

// BenchmarkLikeGeneral is a two-literal pattern like TPC-H Q13's
// o_comment NOT LIKE '%special%requests%'.
func BenchmarkLikeGeneral(b *testing.B) {
	benchExpr(b, call("like", tB, benchName, str("%almond%green%")), false)
}

// BenchmarkCaseTwoArms is CASE WHEN disc > 5 THEN price WHEN disc > 2 THEN disc ELSE 0 END.
func BenchmarkCaseTwoArms(b *testing.B) {
	benchExpr(b, &logical.Case{Whens: []logical.When{
		{Cond: call("gt", tB, benchDisc, dec(5, 15, 2)), Then: benchPrice},
		{Cond: call("gt", tB, benchDisc, dec(2, 15, 2)), Then: benchDisc},
	}, Else: dec(0, 15, 2), T: tDec}, false)
}
