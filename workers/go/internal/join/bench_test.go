package join

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// int64Batches makes batches of per rows of (key, payload) from keys.
func int64Batches(alloc memory.Allocator, schema *arrow.Schema, keys []int64, per int) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	for lo := 0; lo < len(keys); lo += per {
		hi := min(lo+per, len(keys))
		kb := array.NewInt64Builder(alloc)
		pb := array.NewInt64Builder(alloc)
		kb.AppendValues(keys[lo:hi], nil)
		for _, k := range keys[lo:hi] {
			pb.Append(k * 3)
		}
		ka, pa := kb.NewArray(), pb.NewArray()
		out = append(out, array.NewRecordBatch(schema, []arrow.Array{ka, pa}, int64(hi-lo)))
		ka.Release()
		pa.Release()
		kb.Release()
		pb.Release()
	}
	return out
}

// keyLayout says how the benchmark keys are drawn.
type keyLayout int

const (
	// randomKeys: distinct random 64-bit build keys (hash table), probe
	// rows in random order.
	randomKeys keyLayout = iota
	// sparseKeys: TPC-H o_orderkey-like build keys (8 of every 32
	// integers, a direct index), probe rows in random order.
	sparseKeys
	// clusteredKeys: as sparseKeys, with the build side sorted and the
	// probe side in key order with repeats, as lineitem probes orders.
	clusteredKeys
	// selectiveKeys: a filtered dimension, as lineitem probes the parts
	// of one colour in Q9: build keys are every 20th integer, probe keys
	// random over the whole range, so 1 probe row in 20 matches.
	selectiveKeys
)

// benchJoin probes probeRows keys into a build side of buildRows distinct
// int64 keys (every probe row matches once) and reports rows per second.
func benchJoin(b *testing.B, jt logical.JoinType, layout keyLayout, buildRows, probeRows int) {
	alloc := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	bkeys := make([]int64, buildRows)
	for i := range bkeys {
		switch layout {
		case randomKeys:
			bkeys[i] = int64(rng.Uint64())
		case selectiveKeys:
			bkeys[i] = int64(20*i + 1)
		default:
			bkeys[i] = int64(i/8*32 + i%8 + 1)
		}
	}
	if layout != clusteredKeys {
		rng.Shuffle(len(bkeys), func(i, j int) { bkeys[i], bkeys[j] = bkeys[j], bkeys[i] })
	}
	pkeys := make([]int64, probeRows)
	if layout == clusteredKeys {
		for i, k := 0, 0; i < probeRows; k = (k + 1) % buildRows {
			for r := 1 + rng.IntN(7); r > 0 && i < probeRows; r-- {
				pkeys[i] = bkeys[k]
				i++
			}
		}
	} else if layout == selectiveKeys {
		for i := range pkeys {
			pkeys[i] = int64(rng.IntN(20*buildRows) + 1)
		}
	} else {
		for i := range pkeys {
			pkeys[i] = bkeys[rng.IntN(buildRows)]
		}
	}
	wantRows := probeRows
	if layout == selectiveKeys {
		wantRows = 0
		for _, k := range pkeys {
			if k%20 == 1 {
				wantRows++
			}
		}
		if jt == logical.JoinAnti {
			wantRows = probeRows - wantRows
		}
	}
	build := &testSource{schema: schema, parts: [][]arrow.RecordBatch{int64Batches(alloc, schema, bkeys, exec.DefaultBatchSize)}}
	defer build.release()
	probe := &testSource{schema: schema, parts: [][]arrow.RecordBatch{int64Batches(alloc, schema, pkeys, exec.DefaultBatchSize)}}
	defer probe.release()
	key := []logical.Expr{&logical.ColumnRef{Index: 0, T: arrow.PrimitiveTypes.Int64}}
	node, err := NewHashJoin(probe, build, jt, key, key, nil, false, CollectBuild)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var buildTime time.Duration
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		tc := exec.NewTaskContext()
		tc.Alloc = alloc
		s, err := node.Execute(ctx, 0, tc)
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for first := true; ; first = false {
			start := time.Now()
			out, err := s.Next(ctx)
			if first {
				buildTime += time.Since(start)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows += int(out.NumRows())
		}
		s.Close()
		if rows != wantRows {
			b.Fatalf("got %d rows, want %d", rows, wantRows)
		}
	}
	cpu := (cpuTime() - cpu0).Seconds()
	// The machine may be shared: CPU time is the steadier measure.
	b.ReportMetric(float64(probeRows)*float64(b.N)/cpu/1e6, "Mrows/cpu-s")
	total := b.Elapsed().Seconds()
	b.ReportMetric(float64(probeRows)*float64(b.N)/total/1e6, "Mrows/s")
	// The first Next builds the hash table; the rest is the probe.
	b.ReportMetric(float64(probeRows)*float64(b.N)/(total-buildTime.Seconds())/1e6, "probe-Mrows/s")
	b.ReportMetric(buildTime.Seconds()*1e3/float64(b.N), "build-ms")
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// The benchmarks probe 6 M rows into a 1.5 M-row build side on an int64
// key; the time includes building. probe-Mrows/s leaves the build out.
func BenchmarkProbeRandom(b *testing.B) {
	benchJoin(b, logical.JoinInner, randomKeys, 1_500_000, 6_000_000)
}
func BenchmarkProbeSparse(b *testing.B) {
	benchJoin(b, logical.JoinInner, sparseKeys, 1_500_000, 6_000_000)
}
func BenchmarkProbeClustered(b *testing.B) {
	benchJoin(b, logical.JoinInner, clusteredKeys, 1_500_000, 6_000_000)
}
func BenchmarkSemiRandom(b *testing.B) {
	benchJoin(b, logical.JoinSemi, randomKeys, 1_500_000, 6_000_000)
}
func BenchmarkSemiClustered(b *testing.B) {
	benchJoin(b, logical.JoinSemi, clusteredKeys, 1_500_000, 6_000_000)
}

// A 10 K-row build side probed by 6 M rows of which 1 in 20 match.
func BenchmarkProbeSelective(b *testing.B) {
	benchJoin(b, logical.JoinInner, selectiveKeys, 10_000, 6_000_000)
}
func BenchmarkAntiSelective(b *testing.B) {
	benchJoin(b, logical.JoinAnti, selectiveKeys, 10_000, 6_000_000)
}
