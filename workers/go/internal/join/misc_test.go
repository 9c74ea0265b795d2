package join

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

func TestNewHashJoinErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	l := split(t, mem, lSchema, lRows, 2, 3, false)
	defer l.release()
	r := split(t, mem, rSchema, rRows, 3, 3, false)
	defer r.release()
	cases := []struct {
		name    string
		build   func() (exec.Node, error)
		wantErr string
	}{
		{"no keys", func() (exec.Node, error) {
			return NewHashJoin(l, r, logical.JoinInner, nil, nil, nil, false, CollectBuild)
		}, "non-zero numbers of left and right keys"},
		{"key count", func() (exec.Node, error) {
			return NewHashJoin(l, r, logical.JoinInner, keyLKS, keyRK, nil, false, CollectBuild)
		}, "got 2 and 1"},
		{"key types", func() (exec.Node, error) {
			return NewHashJoin(l, r, logical.JoinInner, []logical.Expr{strCol(1)}, keyRK, nil, false, CollectBuild)
		}, "compares"},
		{"key out of range", func() (exec.Node, error) {
			return NewHashJoin(l, r, logical.JoinInner, []logical.Expr{col(9)}, keyRK, nil, false, CollectBuild)
		}, "out of range"},
		{"cross", func() (exec.Node, error) {
			return NewHashJoin(l, r, logical.JoinCross, keyLK, keyRK, nil, false, CollectBuild)
		}, "not supported"},
		{"null-aware inner", func() (exec.Node, error) {
			return NewHashJoin(l, r, logical.JoinInner, keyLK, keyRK, nil, true, CollectBuild)
		}, "null-aware applies to anti joins only"},
		{"partition counts", func() (exec.Node, error) {
			return NewHashJoin(l, r, logical.JoinInner, keyLK, keyRK, nil, false, Partitioned)
		}, "equal partition counts"},
		{"partitioned mark", func() (exec.Node, error) {
			return NewHashJoin(l, l, logical.JoinMark, keyLK, keyLK, nil, false, Partitioned)
		}, "use CollectBuild"},
		{"unknown mode", func() (exec.Node, error) {
			return NewHashJoin(l, r, logical.JoinInner, keyLK, keyRK, nil, false, Mode(7))
		}, "unknown mode"},
		{"residual not boolean", func() (exec.Node, error) {
			return NewHashJoin(l, r, logical.JoinInner, keyLK, keyRK, col(0), false, CollectBuild)
		}, "want boolean"},
		{"residual out of range", func() (exec.Node, error) {
			return NewHashJoin(l, r, logical.JoinInner, keyLK, keyRK, &logical.ColumnRef{Index: 6, T: arrow.FixedWidthTypes.Boolean}, false, CollectBuild)
		}, "reads column 6"},
		{"nested missing input", func() (exec.Node, error) {
			return NewNestedLoopJoin(nil, r, logical.JoinInner, nil)
		}, "missing input"},
		{"nested join type", func() (exec.Node, error) {
			return NewNestedLoopJoin(l, r, logical.JoinType(42), nil)
		}, "unknown join type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.build()
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	src := &testSource{schema: lSchema, parts: [][]arrow.RecordBatch{nil, nil}}
	bsrc := &testSource{schema: rSchema, parts: [][]arrow.RecordBatch{nil}}
	j, err := NewHashJoin(src, bsrc, logical.JoinAnti, keyLK, keyRK, rvGt10Lk, true, CollectBuild)
	if err != nil {
		t.Fatal(err)
	}
	want := "HashJoin: type=Anti mode=CollectBuild on=[#0 = #0] null_aware filter=gt(#5, multiply(#0, 10))"
	if j.String() != want {
		t.Errorf("got %q, want %q", j.String(), want)
	}
	if j.Partitions() != 2 || len(j.Children()) != 2 {
		t.Errorf("partitions %d, children %d", j.Partitions(), len(j.Children()))
	}
	n, err := NewNestedLoopJoin(src, bsrc, logical.JoinCross, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n.String() != "NestedLoopJoin: type=Cross" {
		t.Errorf("got %q", n.String())
	}
	if got := n.Schema().NumFields(); got != 6 {
		t.Errorf("cross join schema has %d fields", got)
	}
	// Outer-join padding makes the padded side nullable.
	f, err := NewHashJoin(src, bsrc, logical.JoinFull, keyLK, keyRK, nil, false, CollectBuild)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Schema().Field(2).Nullable {
		t.Error("full join: left field lv should be nullable")
	}
	m, err := NewHashJoin(src, bsrc, logical.JoinMark, keyLK, keyRK, nil, false, CollectBuild)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Schema(); s.NumFields() != 4 || s.Field(3).Name != "__mark" || s.Field(3).Type.ID() != arrow.BOOL {
		t.Errorf("mark schema %s", s)
	}
}

// bigRows makes n rows with distinct keys.
func bigRows(n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{i, "some string payload", i}
	}
	return rows
}

func TestMemoryLimit(t *testing.T) {
	for _, direct := range indexKinds {
		forceIndex = direct
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		l := split(t, mem, lSchema, lRows, 2, 3, false)
		r := split(t, mem, rSchema, bigRows(5000), 2, 500, false)
		node, err := NewHashJoin(l, r, logical.JoinInner, keyLK, keyRK, nil, false, CollectBuild)
		if err != nil {
			t.Fatal(err)
		}
		tc := exec.NewTaskContext()
		tc.Alloc = mem
		tc.Mem = exec.NewMemoryPool(64 << 10)
		_, err = drain(context.Background(), node, tc, true, 1024)
		if !errors.Is(err, exec.ErrMemoryLimit) || !strings.Contains(err.Error(), "65536 byte limit") ||
			!strings.Contains(err.Error(), "hash join build side") {
			t.Fatalf("got error %v, want the memory limit error naming the limit", err)
		}
		if u := tc.Mem.Used(); u != 0 {
			t.Errorf("memory pool still holds %d bytes", u)
		}
		l.release()
		r.release()
		mem.AssertSize(t, 0)

		// Under a generous limit the same join runs and accounts its build.
		mem = memory.NewCheckedAllocator(memory.NewGoAllocator())
		l = split(t, mem, lSchema, lRows, 2, 3, false)
		r = split(t, mem, rSchema, bigRows(5000), 2, 500, false)
		node, _ = NewHashJoin(l, r, logical.JoinInner, keyLK, keyRK, nil, false, CollectBuild)
		tc = exec.NewTaskContext()
		tc.Alloc = mem
		tc.Mem = exec.NewMemoryPool(64 << 20)
		got, err := drain(context.Background(), node, tc, false, 1024)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 6 {
			t.Errorf("got %d rows, want 6", len(got))
		}
		if tc.Mem.Peak() < 5000*8 {
			t.Errorf("peak reservation %d is less than the build keys alone", tc.Mem.Peak())
		}
		if p := tc.Metrics.For(node).PeakMem.Load(); p <= 0 {
			t.Errorf("peak memory metric %d", p)
		}
		if u := tc.Mem.Used(); u != 0 {
			t.Errorf("memory pool still holds %d bytes", u)
		}
		l.release()
		r.release()
		mem.AssertSize(t, 0)
	}
	forceIndex = indexAuto
}

func TestCancel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	l := split(t, mem, lSchema, lRows, 2, 1, false)
	defer l.release()
	r := split(t, mem, rSchema, rRows, 2, 1, false)
	defer r.release()
	node, err := NewHashJoin(l, r, logical.JoinFull, keyLK, keyRK, nil, false, CollectBuild)
	if err != nil {
		t.Fatal(err)
	}
	tc := exec.NewTaskContext()
	tc.Alloc = mem
	ctx, cancel := context.WithCancel(context.Background())
	s, err := node.Execute(ctx, 0, tc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := s.Next(ctx); !errors.Is(err, exec.ErrCanceled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want a cancellation error", err)
	}
	s.Close()
	// A partition that starts after the cancellation fails too.
	s2, err := node.Execute(ctx, 1, tc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Next(ctx); !errors.Is(err, exec.ErrCanceled) {
		t.Fatalf("got %v, want a cancellation error", err)
	}
	s2.Close()
	if u := tc.Mem.Used(); u != 0 {
		t.Errorf("memory pool still holds %d bytes", u)
	}
}

// TestEarlyClose closes every partition after one batch (as a LIMIT
// above would): the shared build side is freed by the last Close.
func TestEarlyClose(t *testing.T) {
	for _, jt := range []logical.JoinType{logical.JoinInner, logical.JoinFull, logical.JoinMark} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		l := split(t, mem, lSchema, lRows, 3, 1, false)
		r := split(t, mem, rSchema, rRows, 2, 1, false)
		node, err := NewHashJoin(l, r, jt, keyLK, keyRK, nil, false, CollectBuild)
		if err != nil {
			t.Fatal(err)
		}
		tc := exec.NewTaskContext()
		tc.Alloc = mem
		tc.BatchSize = 1
		ctx := context.Background()
		var streams []exec.Stream
		for p := range node.Partitions() {
			s, err := node.Execute(ctx, p, tc)
			if err != nil {
				t.Fatal(err)
			}
			streams = append(streams, s)
			if _, err := s.Next(ctx); err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
		}
		for _, s := range streams {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal("second Close:", err)
			}
		}
		if _, err := streams[0].Next(ctx); err == nil {
			t.Error("Next after Close succeeded")
		}
		if u := tc.Mem.Used(); u != 0 {
			t.Errorf("%s: memory pool still holds %d bytes", jt, u)
		}
		l.release()
		r.release()
		mem.AssertSize(t, 0)
	}
}

func TestInputErrors(t *testing.T) {
	for _, failBuild := range []bool{false, true} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		l := split(t, mem, lSchema, lRows, 2, 1, false)
		r := split(t, mem, rSchema, rRows, 2, 1, false)
		if failBuild {
			r.failAt = 3
		} else {
			l.failAt = 2
		}
		node, err := NewHashJoin(l, r, logical.JoinLeft, keyLK, keyRK, nil, false, CollectBuild)
		if err != nil {
			t.Fatal(err)
		}
		tc := exec.NewTaskContext()
		tc.Alloc = mem
		if _, err := drain(context.Background(), node, tc, true, 1024); err == nil || !strings.Contains(err.Error(), "test source failure") {
			t.Fatalf("failBuild=%v: got %v, want the input's error", failBuild, err)
		}
		if u := tc.Mem.Used(); u != 0 {
			t.Errorf("memory pool still holds %d bytes", u)
		}
		l.release()
		r.release()
		mem.AssertSize(t, 0)
	}
}

// TestFullJoinSequentialPartitions runs the probe partitions of a
// CollectBuild full join one after another, each closed before the next
// starts: the unmatched build rows still come out once, from the last.
func TestFullJoinSequentialPartitions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	l := split(t, mem, lSchema, lRows, 4, 1, false)
	defer l.release()
	r := split(t, mem, rSchema, rRows, 3, 2, false)
	defer r.release()
	node, err := NewHashJoin(l, r, logical.JoinFull, keyLK, keyRK, nil, false, CollectBuild)
	if err != nil {
		t.Fatal(err)
	}
	tc := exec.NewTaskContext()
	tc.Alloc = mem
	var all []string
	for p := range node.Partitions() {
		rows, err := drainPartition(context.Background(), node, p, tc, 1024)
		if err != nil {
			t.Fatal(err)
		}
		hasPadded := false
		for _, row := range rows {
			hasPadded = hasPadded || strings.HasPrefix(row, "NULL|NULL|NULL|")
		}
		if hasPadded != (p == node.Partitions()-1) {
			t.Errorf("partition %d: unmatched build rows present=%v", p, hasPadded)
		}
		all = append(all, rows...)
	}
	if want := expected["full1"]; len(all) != len(want) {
		t.Errorf("got %d rows, want %d", len(all), len(want))
	}
}

// TestQ21Residual runs TPC-H Q21's EXISTS / NOT EXISTS shape through the
// real expression kernels: l3.l_orderkey = l1.l_orderkey AND
// l3.l_suppkey <> l1.l_suppkey (expected rows from DuckDB).
func TestQ21Residual(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "l_orderkey", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "l_suppkey", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	rows := [][]any{{1, 10}, {1, 11}, {2, 20}, {2, 20}, {3, 30}, {nil, 1}}
	ne := &logical.Call{Func: "not_equal", Args: []logical.Expr{col(3), col(1)}, T: arrow.FixedWidthTypes.Boolean, NullableOut: true}
	for _, c := range []struct {
		jt   logical.JoinType
		want []string
	}{
		{logical.JoinSemi, []string{"1|10", "1|11"}},
		{logical.JoinAnti, []string{"2|20", "2|20", "3|30", "NULL|1"}},
	} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		l := split(t, mem, schema, rows, 2, 2, false)
		r := split(t, mem, schema, rows, 2, 1, false)
		node, err := NewHashJoin(l, r, c.jt, keyLK, keyRK, ne, false, CollectBuild)
		if err != nil {
			t.Fatal(err)
		}
		tc := exec.NewTaskContext()
		tc.Alloc = mem
		got, err := drain(context.Background(), node, tc, true, 1024)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: got %q, want %q", c.jt, got, c.want)
		}
		l.release()
		r.release()
		mem.AssertSize(t, 0)
	}
}

// rendezvousSource wraps a source whose partitions each wait, before their
// first batch, until every partition has started (or a timeout passes and
// the stream fails): it completes only when its partitions are read in
// parallel.
type rendezvousSource struct {
	*testSource
	arrived chan struct{}
}

func (s *rendezvousSource) Execute(ctx context.Context, p int, tc *exec.TaskContext) (exec.Stream, error) {
	st, err := s.testSource.Execute(ctx, p, tc)
	if err != nil {
		return nil, err
	}
	return &rendezvousStream{Stream: st, src: s}, nil
}

type rendezvousStream struct {
	exec.Stream
	src     *rendezvousSource
	started bool
}

func (s *rendezvousStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !s.started {
		s.started = true
		s.src.arrived <- struct{}{}
		deadline := time.After(5 * time.Second)
		for len(s.src.arrived) < cap(s.src.arrived) {
			select {
			case <-deadline:
				return nil, errors.New("build partitions were not read in parallel")
			case <-time.After(time.Millisecond):
			}
		}
	}
	return s.Stream.Next(ctx)
}

// TestParallelBuildRead checks that the probe partitions of a
// CollectBuild join that start together read the build partitions in
// parallel, and that partitions run one after another still complete.
func TestParallelBuildRead(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	l := split(t, mem, lSchema, lRows, 2, 2, false)
	defer l.release()
	r := split(t, mem, rSchema, rRows, 2, 2, false)
	defer r.release()
	src := &rendezvousSource{testSource: r, arrived: make(chan struct{}, 2)}
	node, err := NewHashJoin(l, src, logical.JoinInner, keyLK, keyRK, nil, false, CollectBuild)
	if err != nil {
		t.Fatal(err)
	}
	tc := exec.NewTaskContext()
	tc.Alloc = mem
	got, err := drain(context.Background(), node, tc, true, 1024)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := referenceJoin(logical.JoinInner, false, false, false, lRows, rRows)
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// One after another: the first partition reads every build partition.
	node, _ = NewHashJoin(l, r, logical.JoinInner, keyLK, keyRK, nil, false, CollectBuild)
	tc = exec.NewTaskContext()
	tc.Alloc = mem
	seq, err := drain(context.Background(), node, tc, false, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seq, got) {
		t.Errorf("sequential run got %q, concurrent %q", seq, got)
	}
	if u := tc.Mem.Used(); u != 0 {
		t.Errorf("memory pool still holds %d bytes", u)
	}
}
