package aggregate

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// Sums of Decimal128 arguments take an int64 path for batches whose values
// all fit in 64 bits (partial sums for few groups, 128-bit sums otherwise)
// and the 128-bit path for the others; every mix must be exact.
func TestDecimal128Sums(t *testing.T) {
	d382 := &arrow.Decimal128Type{Precision: 38, Scale: 2}
	for _, tc := range []struct {
		name   string
		groups int
		value  func(r *rand.Rand, batch int) decimal128.Num
	}{
		{"small values, few groups", 3, func(r *rand.Rand, _ int) decimal128.Num {
			return decimal128.FromI64(r.Int64N(2_000_000_000) - 1_000_000_000)
		}},
		{"near int64 limits", 3, func(r *rand.Rand, _ int) decimal128.Num {
			v := math.MaxInt64 - r.Int64N(1000)
			if r.IntN(3) == 0 {
				v = -v - 1
			}
			return decimal128.FromI64(v)
		}},
		{"many groups", 5000, func(r *rand.Rand, _ int) decimal128.Num {
			return decimal128.FromI64(r.Int64N(1 << 40))
		}},
		{"some wide batches", 3, func(r *rand.Rand, batch int) decimal128.Num {
			if batch%2 == 1 && r.IntN(100) == 0 {
				return decimal128.New(int64(r.IntN(200)-100), r.Uint64())
			}
			return decimal128.FromI64(r.Int64N(1 << 50))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			schema := arrow.NewSchema([]arrow.Field{
				{Name: "g", Type: arrow.PrimitiveTypes.Int64},
				{Name: "x", Type: d382, Nullable: true},
			}, nil)
			r := rand.New(rand.NewPCG(9, 10))
			src := &sourceNode{schema: schema, parts: [][]arrow.RecordBatch{nil}}
			for batch := 0; batch < 8; batch++ {
				b := array.NewRecordBuilder(mem, schema)
				for i := 0; i < 3000; i++ {
					g := r.IntN(tc.groups)
					b.Field(0).(*array.Int64Builder).Append(int64(g))
					if i%13 == 5 {
						b.Field(1).(*array.Decimal128Builder).AppendNull()
						continue
					}
					b.Field(1).(*array.Decimal128Builder).Append(tc.value(r, batch))
				}
				rec := b.NewRecordBatch()
				b.Release()
				// Sliced batches exercise value offsets.
				src.parts[0] = append(src.parts[0], rec.NewSlice(1, rec.NumRows()))
				rec.Release()
			}
			defer src.release()
			x, g := col(schema, "x"), col(schema, "g")
			aggs := []*logical.AggregateCall{call("sum", false, nil, x), call("count", false, nil, x)}
			n, err := NewHashAggregate(src, Single, []logical.Expr{g}, []string{"g"}, nil, aggs, []string{"s", "c"})
			if err != nil {
				t.Fatal(err)
			}
			// The reference, from what the (sliced) batches hold.
			sums := make([]*big.Int, tc.groups)
			counts := make([]int64, tc.groups)
			present := make([]bool, tc.groups)
			for g := range sums {
				sums[g] = new(big.Int)
			}
			for _, rec := range src.parts[0] {
				gs := rec.Column(0).(*array.Int64)
				xs := rec.Column(1).(*array.Decimal128)
				for i := 0; i < int(rec.NumRows()); i++ {
					present[gs.Value(i)] = true
					if xs.IsValid(i) {
						sums[gs.Value(i)].Add(sums[gs.Value(i)], xs.Value(i).BigInt())
						counts[gs.Value(i)]++
					}
				}
			}
			var want [][]cell
			for grp := range sums {
				switch {
				case !present[grp]:
				case counts[grp] == 0:
					want = append(want, []cell{fmtI(int64(grp)), nullCell, fmtI(0)})
				default:
					want = append(want, []cell{fmtI(int64(grp)), decCell(sums[grp]), fmtI(counts[grp])})
				}
			}
			compareRows(t, runAll(t, n, newTC(mem, 0, "", 0)), want)
		})
	}
}
