package runtime

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// BenchmarkGoPluginScalar measures one call of a Go plugin's scalar
// function (add_one over int64) per batch size: the per-batch overhead of
// the plugin protocol (Arrow over a pooled Flight DoExchange stream) is
// the time at 1 row; the per-row cost shows at large batches.
func BenchmarkGoPluginScalar(b *testing.B) {
	m, err := New([]Config{{Name: "tp", Path: testPlugin(&testing.T{})}}, Options{Log: io.Discard, Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	f, _ := m.LookupFunction("add_one")
	impl := f.Impl.(logical.ScalarImpl)
	for _, rows := range []int{1, 1024, 8192, 65536} {
		bld := array.NewInt64Builder(memory.DefaultAllocator)
		for i := range rows {
			bld.Append(int64(i))
		}
		in := bld.NewArray()
		bld.Release()
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			ctx := context.Background()
			b.SetBytes(int64(rows) * 8)
			for b.Loop() {
				out, err := impl.EvalScalar(ctx, []arrow.Array{in}, rows)
				if err != nil {
					b.Fatal(err)
				}
				out.Release()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "µs/batch")
		})
		in.Release()
	}
}
