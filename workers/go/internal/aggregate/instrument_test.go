package aggregate

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// TestInstrumentPartialFinal checks that EXPLAIN ANALYZE instrumentation
// reaches through both aggregation phases: every node of
// Partial → Coalesce → Final is rebuilt over instrumented children and
// reports its own rows, and the rebuilt plan still computes the result.
func TestInstrumentPartialFinal(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rows := genRows(rand.New(rand.NewPCG(3, 9)), 2000, 25)
	src := toBatches(mem, rows, 3, 300)
	defer src.release()
	aggs := allAggs()
	want := reference(rows, 1, nil, aggs)

	g, gn := groupExprs(1)
	cs, names := calls(aggs)
	partial, err := NewHashAggregate(src, Partial, g, gn, nil, cs, names)
	if err != nil {
		t.Fatal(err)
	}
	mid := exec.NewCoalesce(partial)
	final, err := NewFinalAggregate(mid, partial)
	if err != nil {
		t.Fatal(err)
	}
	tc := newTC(mem, 0, t.TempDir(), 0)
	compareRows(t, runAll(t, exec.Instrument(final), tc), want)

	for _, n := range []exec.Node{final, mid, partial, src} {
		m := tc.Metrics.Lookup(n)
		if m == nil || m.Rows.Load() == 0 || m.Batches.Load() == 0 {
			t.Errorf("%s: no metrics (%v)", n, m)
		}
	}
	if m := tc.Metrics.Lookup(final); m != nil && m.Rows.Load() != int64(len(want)) {
		t.Errorf("final rows %d, want %d", m.Rows.Load(), len(want))
	}
	if m := tc.Metrics.Lookup(src); m != nil && m.Rows.Load() != int64(len(rows)) {
		t.Errorf("source rows %d, want %d", m.Rows.Load(), len(rows))
	}
	text := exec.FormatAnalyze(final, tc.Metrics)
	if strings.Count(text, "rows=") != 4 {
		t.Errorf("EXPLAIN ANALYZE should show rows on all four nodes:\n%s", text)
	}
}

// TestWithNewChildrenChecksInput checks that a rebuilt aggregate rejects an
// input that does not fit its mode.
func TestWithNewChildrenChecksInput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src := toBatches(mem, genRows(rand.New(rand.NewPCG(1, 2)), 10, 3), 1, 10)
	defer src.release()
	g, gn := groupExprs(1)
	cs, names := calls(allAggs())
	partial, err := NewHashAggregate(src, Partial, g, gn, nil, cs, names)
	if err != nil {
		t.Fatal(err)
	}
	final, err := NewFinalAggregate(partial, partial)
	if err != nil {
		t.Fatal(err)
	}
	// A Final node over raw input rows instead of the partial layout.
	if _, err := final.WithNewChildren([]exec.Node{src}); err == nil || !strings.Contains(err.Error(), "partial layout") {
		t.Errorf("Final over raw rows: %v", err)
	}
	if _, err := partial.WithNewChildren(nil); err == nil {
		t.Error("no children accepted")
	}
	// The same input gives an equivalent node.
	n, err := partial.WithNewChildren([]exec.Node{src})
	if err != nil || n.String() != partial.String() || !n.Schema().Equal(partial.Schema()) {
		t.Errorf("rebuilt partial: %v %v", n, err)
	}
}
