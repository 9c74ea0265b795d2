package aggregate

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// batchRows runs every partition of n and returns the row count of each
// output batch.
func batchRows(t *testing.T, n exec.Node, tc *exec.TaskContext) []int64 {
	t.Helper()
	var out []int64
	ctx := context.Background()
	for p := 0; p < n.Partitions(); p++ {
		st, err := n.Execute(ctx, p, tc)
		if err != nil {
			t.Fatal(err)
		}
		for {
			b, err := st.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				st.Close()
				t.Fatal(err)
			}
			out = append(out, b.NumRows())
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A repeated grouping set is aggregated once (the Partial output holds each
// group once, with the shared grouping id) and its rows are emitted once per
// occurrence by Single and Final, in batches of at most BatchSize rows.
func TestRepeatedSetsPartialOnceFinalRepeated(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(21, 22))
	rows := genRows(r, 1500, 12)
	src := toBatches(mem, rows, 2, 256)
	defer src.release()
	aggs := allAggs()[:4]
	sets := [][]int{{0}, {0}, {0}, {1}, {}}
	distinctSets := [][]int{{0}, {1}, {}}
	want := reference(rows, 2, sets, aggs)
	single, final := plans(t, src, 2, sets, aggs)
	partial := final.(*HashAggregate).input.(*coalesceNode).child

	tc := newTC(mem, 0, t.TempDir(), 0)
	// The Partial node: its rows are those of the same aggregation over
	// the distinct sets (per input partition, each group once).
	g, gn := groupExprs(2)
	cs, names := calls(aggs)
	dp, err := NewHashAggregate(src, Partial, g, gn, distinctSets, cs, names)
	if err != nil {
		t.Fatal(err)
	}
	compareRows(t, runAll(t, partial, tc), runAll(t, dp, tc))
	for _, bs := range []int{0, 2, 3, 5} {
		tc := newTC(mem, 0, t.TempDir(), bs)
		compareRows(t, runAll(t, single, tc), want)
		compareRows(t, runAll(t, final, tc), want)
		if bs == 0 {
			continue
		}
		for _, n := range []exec.Node{single, final} {
			total := int64(0)
			for _, k := range batchRows(t, n, tc) {
				if k > int64(bs) || k == 0 {
					t.Errorf("%s: batch of %d rows with BatchSize %d", n, k, bs)
				}
				total += k
			}
			if total != int64(len(want)) {
				t.Errorf("%s: %d rows in batches, want %d", n, total, len(want))
			}
		}
	}
}

// A group whose set occurs more times than BatchSize still comes out whole.
func TestRepeatedSetsMoreThanBatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(23, 24))
	rows := genRows(r, 200, 5)
	src := toBatches(mem, rows, 1, 64)
	defer src.release()
	aggs := allAggs()[:3]
	sets := [][]int{{}, {}, {}, {}, {1}}
	want := reference(rows, 2, sets, aggs)
	single, final := plans(t, src, 2, sets, aggs)
	tc := newTC(mem, 0, t.TempDir(), 2)
	compareRows(t, runAll(t, single, tc), want)
	compareRows(t, runAll(t, final, tc), want)
}

// Repeated sets survive spilling: the spilled partitions hold partial
// states once per group, and the merge emits the repeats.
func TestRepeatedSetsSpill(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(25, 26))
	rows := genRows(r, 30_000, 4000)
	src := toBatches(mem, rows, 3, 2048)
	defer src.release()
	// No DISTINCT aggregates: the global set's one group would hold every
	// distinct value, more than the limit, and a single group cannot spill.
	var aggs []refAgg
	for _, a := range allAggs() {
		if !a.call.Distinct {
			aggs = append(aggs, a)
		}
	}
	sets := [][]int{{0, 1}, {1}, {0, 1}, {}}
	want := reference(rows, 2, sets, aggs)
	single, final := plans(t, src, 2, sets, aggs)
	for _, n := range []exec.Node{single, final} {
		tc := newTC(mem, 512<<10, t.TempDir(), 0)
		compareRows(t, runAll(t, n, tc), want)
		if m := tc.Metrics.Lookup(n); m == nil || m.Spills.Load() == 0 {
			t.Errorf("%s: expected spills with a 512 KiB limit", n)
		}
		if tc.Mem.Used() != 0 {
			t.Errorf("%s: %d bytes still reserved", n, tc.Mem.Used())
		}
	}
}

// A Final node with repeated sets rejects partial rows whose grouping id
// belongs to none of its sets, instead of guessing how often to emit them.
func TestRepeatedSetsUnknownGroupingID(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	k1 := col(testSchema, "k1")
	aggs := []*logical.AggregateCall{call("count", false, nil)}
	raw := toBatches(mem, nil, 1, 1)
	defer raw.release()
	p, err := NewHashAggregate(raw, Partial, []logical.Expr{k1}, []string{"k1"}, [][]int{{0}, {0}}, aggs, []string{"c"})
	if err != nil {
		t.Fatal(err)
	}
	schema := p.PartialSchema()
	for _, tc := range []struct {
		name string
		gid  int64
		null bool
		want string
	}{
		{"unknown id", 1, false, "matches no grouping set"},
		{"null id", 0, true, "NULL " + GroupingIDName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := array.NewRecordBuilder(mem, schema)
			b.Field(0).(*array.Int32Builder).AppendValues([]int32{7, 8}, nil)
			b.Field(1).(*array.Int64Builder).AppendValues([]int64{0, tc.gid}, []bool{true, !tc.null})
			b.Field(2).(*array.Int64Builder).AppendValues([]int64{3, 4}, nil)
			src := &sourceNode{schema: schema, parts: [][]arrow.RecordBatch{{b.NewRecordBatch()}}}
			b.Release()
			defer src.release()
			f, err := NewHashAggregate(src, Final, []logical.Expr{k1}, []string{"k1"}, [][]int{{0}, {0}}, aggs, []string{"c"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tryRunAll(f, newTC(mem, 0, "", 0)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
