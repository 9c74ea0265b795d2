package join

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// TestInstrumentJoins checks that EXPLAIN ANALYZE instrumentation reaches
// below both join operators: each is rebuilt over instrumented inputs,
// gives the same rows as the original, and every node reports its rows.
func TestInstrumentJoins(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	l := split(t, mem, lSchema, lRows, 2, 3, false)
	defer l.release()
	r := split(t, mem, rSchema, rRows, 2, 2, false)
	defer r.release()
	hj, err := NewHashJoin(l, r, logical.JoinInner, keyLK, keyRK, nil, false, CollectBuild)
	if err != nil {
		t.Fatal(err)
	}
	nl, err := NewNestedLoopJoin(l, r, logical.JoinLeft, pred("test_ne", col(cLK), col(cRK)))
	if err != nil {
		t.Fatal(err)
	}
	for _, node := range []exec.Node{hj, nl} {
		newTC := func() *exec.TaskContext {
			tc := exec.NewTaskContext()
			tc.Alloc = mem
			tc.Mem = exec.NewMemoryPool(64 << 20)
			return tc
		}
		want, err := drain(context.Background(), node, newTC(), false, 1024)
		if err != nil {
			t.Fatal(err)
		}
		tc := newTC()
		got, err := drain(context.Background(), exec.Instrument(node), tc, false, 1024)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: instrumented rows %v, want %v", node, got, want)
		}
		for i, n := range []exec.Node{node, l, r} {
			m := tc.Metrics.Lookup(n)
			if m == nil || m.Batches.Load() == 0 {
				t.Errorf("%s: node %d (%s) has no metrics", node, i, n)
			}
		}
		if m := tc.Metrics.Lookup(l); m != nil && m.Rows.Load() != int64(len(lRows)) {
			t.Errorf("%s: left rows %d, want %d", node, m.Rows.Load(), len(lRows))
		}
		if m := tc.Metrics.Lookup(node); m != nil && m.Rows.Load() != int64(len(want)) {
			t.Errorf("%s: join rows %d, want %d", node, m.Rows.Load(), len(want))
		}
		if text := exec.FormatAnalyze(node, tc.Metrics); strings.Count(text, "rows=") != 3 {
			t.Errorf("EXPLAIN ANALYZE should show rows on all three nodes:\n%s", text)
		}
	}
	// Inputs of another shape are refused.
	if _, err := hj.(exec.ChildReplacer).WithNewChildren([]exec.Node{r, l}); err == nil {
		t.Error("hash join accepted inputs with other schemas")
	}
	if _, err := nl.(exec.ChildReplacer).WithNewChildren([]exec.Node{l}); err == nil {
		t.Error("nested loop join accepted one input")
	}
}
