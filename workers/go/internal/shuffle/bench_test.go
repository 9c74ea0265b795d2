package shuffle

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// BenchmarkWrite hash-partitions 1M rows of 4 columns (int64 key, int32,
// float64, string) into 8 partition files.
func BenchmarkWrite(b *testing.B) {
	const rows, batch = 1 << 20, 8192
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
		{Name: "i", Type: arrow.PrimitiveTypes.Int32},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64},
		{Name: "s", Type: arrow.BinaryTypes.String},
	}, nil)
	mem := memory.NewGoAllocator()
	bld := array.NewRecordBuilder(mem, schema)
	defer bld.Release()
	var in []arrow.RecordBatch
	for r := 0; r < rows; r += batch {
		for i := r; i < r+batch; i++ {
			bld.Field(0).(*array.Int64Builder).Append(int64(i*7919) % 100003)
			bld.Field(1).(*array.Int32Builder).Append(int32(i))
			bld.Field(2).(*array.Float64Builder).Append(float64(i) * 0.25)
			bld.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("customer#%09d", i%50000))
		}
		in = append(in, bld.NewRecordBatch())
	}
	defer releaseAll(in)
	for _, codec := range []string{"lz4", "zstd"} {
		b.Run(codec, func(b *testing.B) {
			spec := WriteSpec{Kind: logical.ShuffleHash, Keys: []int{0}, Partitions: 8, Compression: codec}
			b.SetBytes(int64(rows) * (8 + 4 + 8 + 4 + 15))
			for b.Loop() {
				dir := b.TempDir()
				if _, err := Write(context.Background(), &sliceInput{schema: schema, batches: in}, spec, dir, mem); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
