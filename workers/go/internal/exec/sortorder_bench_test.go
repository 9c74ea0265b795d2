package exec

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// benchEntryBlocks builds n fixed-width keys: a 1000-value int64 then a
// 2^30-value int64, as a window's PARTITION BY / ORDER BY would.
func benchEntryBlocks(n int) []*keyBlock {
	r := rand.New(rand.NewPCG(3, 4))
	var blocks []*keyBlock
	for start := 0; start < n; start += 8192 {
		m := min(8192, n-start)
		blk := &keyBlock{data: make([]byte, 18*m), offs: make([]int32, m+1)}
		for i := range m {
			k := blk.data[18*i:]
			k[0] = 1
			binary.BigEndian.PutUint64(k[1:], uint64(r.IntN(1000))^1<<63)
			k[9] = 1
			binary.BigEndian.PutUint64(k[10:], uint64(r.IntN(1<<30))^1<<63)
			blk.offs[i+1] = int32(18 * (i + 1))
		}
		blocks = append(blocks, blk)
	}
	return blocks
}

// BenchmarkSortKeyBlocks measures sortKeyBlocks alone on 1M keys.
func BenchmarkSortKeyBlocks(b *testing.B) {
	blocks := benchEntryBlocks(1 << 20)
	cpu := startCPU()
	for b.Loop() {
		sortKeyBlocks(blocks)
	}
	cpu.report(b)
}
