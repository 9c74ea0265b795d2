package dbgen

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkGenerateBatch measures generation alone (no Parquet), per
// table, in batches of about 64K rows taken across an SF 1 table.
func BenchmarkGenerateBatch(b *testing.B) {
	textPool()
	for _, tb := range []Table{Part, PartSupp, Customer, Orders, LineItem} {
		b.Run(tb.String(), func(b *testing.B) {
			units, _ := Units(tb, 1)
			per := int64(65536 / rowsPerUnit(tb))
			var rows int64
			start := int64(0)
			for b.Loop() {
				rec, err := GenerateBatch(tb, 1, start, min(per, units-start), memory.DefaultAllocator)
				if err != nil {
					b.Fatal(err)
				}
				rows += rec.NumRows()
				rec.Release()
				start = (start + per) % units
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
		})
	}
}

// BenchmarkTextPool measures building the 300 MiB comment text pool.
func BenchmarkTextPool(b *testing.B) {
	buf := make([]byte, textPoolSize+maxSentenceLn)
	for b.Loop() {
		buildTextPool(buf)
	}
}
