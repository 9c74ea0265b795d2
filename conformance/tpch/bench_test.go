package tpch

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/arbalest/arbalest/cmd/arbalest/standalone"
	"github.com/arbalest/arbalest/host/engine"
)

// BenchmarkTPCH runs each query on the Parquet files in $ARBALEST_TPCH_DATA
// (for example data/sf1 after `make bench`). Profile one query with
//
//	ARBALEST_TPCH_DATA=$PWD/data/sf1 go test ./conformance/tpch -run '^$' -bench 'TPCH/q01$' -cpuprofile cpu.out
func BenchmarkTPCH(b *testing.B) {
	dir := os.Getenv("ARBALEST_TPCH_DATA")
	if dir == "" {
		b.Skip("set ARBALEST_TPCH_DATA to a folder of TPC-H Parquet files")
	}
	ctx := context.Background()
	s := standalone.NewSession(engine.ExecOptions{})
	if err := Register(ctx, s, dir); err != nil {
		b.Fatal(err)
	}
	for q := 1; q <= 22; q++ {
		b.Run(fmt.Sprintf("q%02d", q), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if r := Run(ctx, s, q); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		})
	}
}
