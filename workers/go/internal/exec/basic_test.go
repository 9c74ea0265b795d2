package exec

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/shuffle"
)

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "d", Type: arrow.FixedWidthTypes.Date32},
	{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "m", Type: &arrow.Decimal64Type{Precision: 12, Scale: 2}, Nullable: true},
}, nil)

// source splits rows over parts partitions in batches of size rows.
func source(t testing.TB, tc *TaskContext, rows [][]any, parts, size int) *MemorySource {
	t.Helper()
	ps := make([][]arrow.RecordBatch, parts)
	per := (len(rows) + parts - 1) / max(parts, 1)
	for p := range parts {
		lo, hi := min(p*per, len(rows)), min((p+1)*per, len(rows))
		ps[p] = buildBatches(t, tc.Alloc, testSchema, rows[lo:hi], size)
		t.Cleanup(func() { releaseAll(ps[p]) })
	}
	return NewMemorySource(testSchema, ps)
}

func testRows(n int, seed uint64) [][]any {
	return randRows(rand.New(rand.NewPCG(seed, 7)), testSchema, n, 0.2, 40)
}

func TestFilter(t *testing.T) {
	for _, size := range testBatchSizes {
		for _, rowsN := range []int{0, 1, 257} {
			tc, _ := newTestContext(t)
			rows := testRows(rowsN, uint64(size))
			f, err := NewFilter(source(t, tc, rows, 2, size), col(testSchema, 2))
			if err != nil {
				t.Fatal(err)
			}
			var want [][]any
			for _, r := range rows {
				if r[2] == true {
					want = append(want, r)
				}
			}
			sameRowsAnyOrder(t, collect(t, f, tc), want)
		}
	}
}

func TestFilterAllPassIsZeroCopy(t *testing.T) {
	tc, _ := newTestContext(t)
	rows := [][]any{{int64(1), "a", true, arrow.Date32(1), 1.0, int64(1)}, {int64(2), "b", true, arrow.Date32(2), 2.0, int64(2)}}
	src := source(t, tc, rows, 1, 10)
	f, err := NewFilter(src, col(testSchema, 2))
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.Execute(context.Background(), 0, tc)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := s.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b != src.partitions[0][0] {
		t.Error("a batch whose rows all pass was copied")
	}
}

func TestFilterRejectsNonBoolean(t *testing.T) {
	tc, _ := newTestContext(t)
	if _, err := NewFilter(source(t, tc, nil, 1, 1), col(testSchema, 0)); err == nil || !strings.Contains(err.Error(), "boolean") {
		t.Fatalf("got %v, want an error about the boolean type", err)
	}
}

func TestProject(t *testing.T) {
	for _, size := range testBatchSizes {
		tc, _ := newTestContext(t)
		rows := testRows(100, 3)
		src := source(t, tc, rows, 3, size)
		p, err := NewProject(src, []logical.Expr{col(testSchema, 1), col(testSchema, 0), col(testSchema, 1)}, []string{"s", "k", "s2"})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Schema().String(); !strings.Contains(got, "s2: type=utf8") {
			t.Errorf("schema %s", got)
		}
		var want [][]any
		for _, r := range rows {
			want = append(want, []any{r[1], r[0], r[1]})
		}
		sameRowsAnyOrder(t, collect(t, p, tc), want)
	}
	// Column references share the input's buffers.
	tc, _ := newTestContext(t)
	src := source(t, tc, testRows(5, 1), 1, 10)
	p, _ := NewProject(src, []logical.Expr{col(testSchema, 1)}, []string{"s"})
	s, _ := p.Execute(context.Background(), 0, tc)
	defer s.Close()
	b, err := s.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b.Column(0).Data() != src.partitions[0][0].Column(1).Data() {
		t.Error("project of a column reference copied the column")
	}
	if _, err := NewProject(src, []logical.Expr{col(testSchema, 1)}, nil); err == nil {
		t.Error("mismatched names accepted")
	}
}

func TestLimit(t *testing.T) {
	rows := testRows(50, 9)
	cases := []struct{ offset, count int64 }{{0, -1}, {0, 0}, {0, 10}, {5, 10}, {49, 10}, {50, 1}, {100, 5}, {7, -1}, {0, 50}}
	for _, size := range testBatchSizes {
		for _, c := range cases {
			tc, _ := newTestContext(t)
			l := NewLimit(source(t, tc, rows, 1, size), c.offset, c.count)
			want := rows[min(int(c.offset), len(rows)):]
			if c.count >= 0 && int(c.count) < len(want) {
				want = want[:c.count]
			}
			sameRowsInOrder(t, collect(t, l, tc), want)
		}
	}
	// Several partitions are coalesced; the count holds.
	tc, _ := newTestContext(t)
	l := NewLimit(source(t, tc, rows, 4, 3), 2, 7)
	if l.Partitions() != 1 || !strings.Contains(Format(l), "Coalesce") {
		t.Errorf("plan:\n%s", Format(l))
	}
	if got := collect(t, l, tc); len(got) != 7 {
		t.Errorf("got %d rows, want 7", len(got))
	}
}

// countingNode counts the batches its streams hand out and whether they
// were closed.
type countingNode struct {
	Node
	pulled, closed int
}

func (c *countingNode) Execute(ctx context.Context, p int, tc *TaskContext) (Stream, error) {
	s, err := c.Node.Execute(ctx, p, tc)
	if err != nil {
		return nil, err
	}
	return &countingStream{Stream: s, n: c}, nil
}

type countingStream struct {
	Stream
	n *countingNode
}

func (s *countingStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	b, err := s.Stream.Next(ctx)
	if err == nil {
		s.n.pulled++
	}
	return b, err
}

func (s *countingStream) Close() error { s.n.closed++; return s.Stream.Close() }

func TestLimitStopsEarly(t *testing.T) {
	tc, _ := newTestContext(t)
	cn := &countingNode{Node: source(t, tc, testRows(100, 2), 1, 10)}
	l := NewLimit(cn, 0, 15)
	s, err := l.Execute(context.Background(), 0, tc)
	if err != nil {
		t.Fatal(err)
	}
	n, err := drain(context.Background(), s)
	if err != nil || n != 15 {
		t.Fatalf("rows %d err %v", n, err)
	}
	if cn.pulled != 2 || cn.closed != 1 {
		t.Errorf("pulled %d batches, closed %d times; want 2 and 1 (closed before the stream ends)", cn.pulled, cn.closed)
	}
	s.Close()
	if cn.closed != 1 {
		t.Errorf("input closed %d times", cn.closed)
	}
}

func TestUnion(t *testing.T) {
	tc, _ := newTestContext(t)
	r1, r2 := testRows(30, 1), testRows(20, 2)
	a, b := source(t, tc, r1, 2, 7), source(t, tc, r2, 3, 4)
	u, err := NewUnion(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if u.Partitions() != 5 {
		t.Errorf("partitions %d", u.Partitions())
	}
	sameRowsAnyOrder(t, collect(t, u, tc), append(append([][]any{}, r1...), r2...))

	other := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int32}}, nil)
	if _, err := NewUnion(a, NewMemorySource(other, nil)); err == nil {
		t.Error("union of different schemas accepted")
	}
	// Nullability is widened and names come from the first input.
	strict := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int32}}, nil)
	loose := arrow.NewSchema([]arrow.Field{{Name: "b", Type: arrow.PrimitiveTypes.Int32, Nullable: true}}, nil)
	u2, err := NewUnion(NewMemorySource(strict, nil), NewMemorySource(loose, nil))
	if err != nil {
		t.Fatal(err)
	}
	if f := u2.Schema().Field(0); f.Name != "a" || !f.Nullable {
		t.Errorf("union field %v", f)
	}
}

func TestCoalesce(t *testing.T) {
	for _, size := range testBatchSizes {
		for _, parts := range []int{1, 2, 5} {
			tc, _ := newTestContext(t)
			rows := testRows(300, uint64(parts))
			c := NewCoalesce(source(t, tc, rows, parts, size))
			sameRowsAnyOrder(t, collect(t, c, tc), rows)
		}
	}
}

func TestCoalesceError(t *testing.T) {
	tc, _ := newTestContext(t)
	boom := errors.New("boom")
	for _, after := range []int{0, 1, 3} {
		c := NewCoalesce(&failingNode{schema: testSchema, parts: 3, after: after, err: boom})
		_, err := CollectAll(context.Background(), c, tc)
		if !errors.Is(err, boom) {
			t.Errorf("after=%d: got %v, want boom", after, err)
		}
	}
}

// panicNode panics in Next.
type panicNode struct{ failingNode }

func (p *panicNode) Execute(context.Context, int, *TaskContext) (Stream, error) {
	return &panicStream{schema: p.schema}, nil
}

type panicStream struct{ schema *arrow.Schema }

func (s *panicStream) Schema() *arrow.Schema                           { return s.schema }
func (s *panicStream) Next(context.Context) (arrow.RecordBatch, error) { panic("kaboom") }
func (s *panicStream) Close() error                                    { return nil }

func TestCoalescePanicBecomesError(t *testing.T) {
	tc, _ := newTestContext(t)
	c := NewCoalesce(&panicNode{failingNode{schema: testSchema, parts: 2}})
	_, err := CollectAll(context.Background(), c, tc)
	if err == nil || !strings.Contains(err.Error(), "kaboom") {
		t.Fatalf("got %v, want the panic as an error", err)
	}
}

func TestCoalesceCancel(t *testing.T) {
	tc, _ := newTestContext(t)
	c := NewCoalesce(&blockingNode{schema: testSchema, parts: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	s, err := c.Execute(ctx, 0, tc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Next(ctx)
	if !errors.Is(err, ErrCanceled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want a cancellation", err)
	}
	s.Close()
}

// TestCoalesceCloseEarly closes while producers are blocked on a full
// queue: they must stop and release what is queued.
func TestCoalesceCloseEarly(t *testing.T) {
	tc, _ := newTestContext(t)
	c := NewCoalesce(source(t, tc, testRows(2000, 5), 4, 10))
	s, err := c.Execute(context.Background(), 0, tc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // let the producers fill the queue
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(context.Background()); err != io.EOF {
		t.Errorf("Next after Close: %v", err)
	}
}

func TestRepartitionHash(t *testing.T) {
	for _, size := range testBatchSizes {
		for _, n := range []int{1, 3, 8} {
			tc, _ := newTestContext(t)
			rows := testRows(400, uint64(n*size))
			keys := []logical.Expr{col(testSchema, 1), col(testSchema, 0)}
			r, err := NewRepartition(source(t, tc, rows, 3, size), keys, n)
			if err != nil {
				t.Fatal(err)
			}
			// Collect per partition and check each row landed where the
			// shuffle hash says.
			bs, err := CollectAll(context.Background(), r, tc)
			if err != nil {
				t.Fatal(err)
			}
			releaseAll(bs)
			var all [][]any
			for p := range n {
				s, err := r.(*Repartition).executeOnly(t, tc, p)
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range s {
					ids := make([]int32, b.NumRows())
					if err := shuffle.PartitionIDs([]arrow.Array{b.Column(1), b.Column(0)}, n, ids); err != nil {
						t.Fatal(err)
					}
					for i, id := range ids {
						if int(id) != p {
							t.Fatalf("row %d of partition %d hashes to %d", i, p, id)
						}
					}
				}
				all = append(all, rowsOf(s)...)
				releaseAll(s)
			}
			sameRowsAnyOrder(t, all, rows)
		}
	}
}

// executeOnly runs all partitions concurrently and returns partition p's
// batches (retained).
func (r *Repartition) executeOnly(t testing.TB, tc *TaskContext, p int) ([]arrow.RecordBatch, error) {
	t.Helper()
	type res struct {
		bs  []arrow.RecordBatch
		err error
	}
	ch := make([]chan res, r.n)
	for j := range r.n {
		ch[j] = make(chan res, 1)
		go func() {
			s, err := r.Execute(context.Background(), j, tc)
			if err != nil {
				ch[j] <- res{err: err}
				return
			}
			var bs []arrow.RecordBatch
			for {
				b, err := s.Next(context.Background())
				if err != nil {
					if err != io.EOF {
						ch[j] <- res{err: err}
					}
					break
				}
				if j == p {
					b.Retain()
					bs = append(bs, b)
				}
			}
			s.Close()
			ch[j] <- res{bs: bs}
		}()
	}
	var out res
	for j := range r.n {
		x := <-ch[j]
		if j == p {
			out = x
		} else if x.err != nil {
			out.err = x.err
		}
	}
	return out.bs, out.err
}

func TestRepartitionRoundRobin(t *testing.T) {
	tc, _ := newTestContext(t)
	rows := testRows(500, 4)
	r, err := NewRepartition(source(t, tc, rows, 2, 10), nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	sameRowsAnyOrder(t, collect(t, r, tc), rows)
	// Partitions drained one after another must not deadlock.
	tc2, _ := newTestContext(t)
	r2, _ := NewRepartition(source(t, tc2, rows, 2, 1), nil, 3)
	var total int64
	for p := range 3 {
		s, err := r2.Execute(context.Background(), p, tc2)
		if err != nil {
			t.Fatal(err)
		}
		n, err := drain(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		s.Close()
	}
	if total != 500 {
		t.Errorf("sequential drain got %d rows", total)
	}
}

func TestRepartitionErrorReachesEveryOutput(t *testing.T) {
	tc, _ := newTestContext(t)
	boom := errors.New("boom")
	r, err := NewRepartition(&failingNode{schema: testSchema, parts: 2, after: 2, err: boom}, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	for p := range 3 {
		s, err := r.Execute(context.Background(), p, tc)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
	}
	// Every output reports the failure (executed once per task, so reuse
	// the open streams via a fresh task context instead).
	tc2, _ := newTestContext(t)
	var errs int
	streams := make([]Stream, 3)
	for p := range 3 {
		streams[p], _ = r.Execute(context.Background(), p, tc2)
	}
	for _, s := range streams {
		if _, err := drain(context.Background(), s); errors.Is(err, boom) {
			errs++
		}
		s.Close()
	}
	if errs != 3 {
		t.Errorf("%d of 3 outputs saw the error", errs)
	}
}

func TestRepartitionCancelAndEarlyClose(t *testing.T) {
	tc, _ := newTestContext(t)
	r, _ := NewRepartition(&blockingNode{schema: testSchema, parts: 2}, []logical.Expr{col(testSchema, 0)}, 2)
	ctx, cancel := context.WithCancel(context.Background())
	s0, _ := r.Execute(ctx, 0, tc)
	s1, _ := r.Execute(ctx, 1, tc)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if _, err := s0.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v", err)
	}
	s0.Close()
	s1.Close()

	// Closing outputs before the end releases what they did not deliver.
	tc2, _ := newTestContext(t)
	r2, _ := NewRepartition(source(t, tc2, testRows(3000, 1), 3, 5), []logical.Expr{col(testSchema, 3)}, 2)
	a, _ := r2.Execute(context.Background(), 0, tc2)
	b, _ := r2.Execute(context.Background(), 1, tc2)
	if _, err := a.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := drain(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	b.Close()

	// A query that executes only some outputs and then ends its context
	// stops the producers and releases the queued batches.
	tc3, _ := newTestContext(t)
	r3, _ := NewRepartition(source(t, tc3, testRows(3000, 1), 3, 5), []logical.Expr{col(testSchema, 3)}, 2)
	ctx3, cancel3 := context.WithCancel(context.Background())
	c, err := r3.Execute(ctx3, 0, tc3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(ctx3); err != nil {
		t.Fatal(err)
	}
	c.Close()
	cancel3()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r3.(*Repartition).mu.Lock()
		left := len(r3.(*Repartition).states)
		r3.(*Repartition).mu.Unlock()
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("abandoned exchange still running after its context ended")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRepartitionExecuteTwice(t *testing.T) {
	tc, _ := newTestContext(t)
	r, _ := NewRepartition(source(t, tc, testRows(10, 1), 1, 5), nil, 2)
	s0, err := r.Execute(context.Background(), 0, tc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Execute(context.Background(), 0, tc); err == nil {
		t.Error("second Execute of a partition accepted")
	}
	s1, _ := r.Execute(context.Background(), 1, tc)
	drain(context.Background(), s0)
	drain(context.Background(), s1)
	s0.Close()
	s1.Close()
	if _, err := NewRepartition(source(t, tc, nil, 1, 1), nil, 0); err == nil {
		t.Error("0 partitions accepted")
	}
}

func TestExecuteToReader(t *testing.T) {
	tc, _ := newTestContext(t)
	rows := testRows(100, 8)
	rd, err := ExecuteToReader(context.Background(), source(t, tc, rows, 1, 9), tc)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]any
	for rd.Next() {
		got = append(got, rowsOf([]arrow.RecordBatch{rd.RecordBatch()})...)
	}
	if rd.Err() != nil {
		t.Fatal(rd.Err())
	}
	rd.Release()
	sameRowsInOrder(t, got, rows)
}

func TestInstrumentAndFormatAnalyze(t *testing.T) {
	tc, _ := newTestContext(t)
	rows := testRows(200, 3)
	src := source(t, tc, rows, 2, 16)
	f, _ := NewFilter(src, col(testSchema, 2))
	s, _ := NewSort(f, []logical.SortKey{{Expr: col(testSchema, 0)}}, -1)
	l := NewLimit(s, 0, 10)
	inst := Instrument(l)
	got := collect(t, inst, tc)
	if len(got) != 10 {
		t.Fatalf("got %d rows", len(got))
	}
	text := FormatAnalyze(l, tc.Metrics)
	for _, want := range []string{"Limit: offset=0 count=10 [rows=10", "Sort: k#0 ASC NULLS LAST", "Filter: b#2", "MemorySource", "peak_mem="} {
		if !strings.Contains(text, want) {
			t.Errorf("EXPLAIN ANALYZE lacks %q:\n%s", want, text)
		}
	}
	if om := tc.Metrics.Lookup(src); om == nil || om.Rows.Load() != 200 {
		t.Errorf("source metrics %+v", om)
	}
	if FormatAnalyze(inst, tc.Metrics) != text {
		t.Errorf("instrumented and original trees print differently:\n%s", FormatAnalyze(inst, tc.Metrics))
	}
}
