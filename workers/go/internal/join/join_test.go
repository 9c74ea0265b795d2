package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// testSource is a leaf node over prepared batches, one list per partition.
// It owns the batches; its streams lend them.
type testSource struct {
	schema *arrow.Schema
	parts  [][]arrow.RecordBatch
	// failAt, when > 0, makes every stream fail on its failAt-th Next.
	failAt int
}

func (s *testSource) Schema() *arrow.Schema { return s.schema }
func (s *testSource) Children() []exec.Node { return nil }
func (s *testSource) Partitions() int       { return len(s.parts) }
func (s *testSource) String() string        { return "TestSource" }
func (s *testSource) release()              { releaseParts(s.parts) }
func (s *testSource) Execute(_ context.Context, p int, _ *exec.TaskContext) (exec.Stream, error) {
	if p < 0 || p >= len(s.parts) {
		return nil, fmt.Errorf("test source: no partition %d", p)
	}
	return &testStream{src: s, p: p}, nil
}

func releaseParts(parts [][]arrow.RecordBatch) {
	for _, bs := range parts {
		for _, b := range bs {
			b.Release()
		}
	}
}

type testStream struct {
	src   *testSource
	p, i  int
	calls int
}

func (s *testStream) Schema() *arrow.Schema { return s.src.schema }
func (s *testStream) Next(context.Context) (arrow.RecordBatch, error) {
	s.calls++
	if s.src.failAt > 0 && s.calls >= s.src.failAt {
		return nil, errors.New("test source failure")
	}
	if s.i >= len(s.src.parts[s.p]) {
		return nil, io.EOF
	}
	b := s.src.parts[s.p][s.i]
	s.i++
	return b, nil
}
func (s *testStream) Close() error { return nil }

var (
	lSchema = arrow.NewSchema([]arrow.Field{
		{Name: "lk", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "ls", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "lv", Type: arrow.BinaryTypes.String},
	}, nil)
	rSchema = arrow.NewSchema([]arrow.Field{
		{Name: "rk", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "rs", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "rv", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	mSchema = arrow.NewSchema([]arrow.Field{
		{Name: "rk", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "mv", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)

	lRows = [][]any{
		{1, "a", "l1"}, {2, "b", "l2"}, {2, "b", "l3"}, {3, "c", "l4"}, {nil, "a", "l5"}, {4, nil, "l6"}, {5, "e", "l7"},
	}
	rRows = [][]any{
		{1, "a", 10}, {2, "b", 20}, {2, "b", 21}, {2, "x", 22}, {4, "d", 40}, {nil, "a", 50}, {6, "f", 60}, {4, nil, 41}, {5, "e", nil},
	}
	// mRows is R grouped by rk with max(rv): unique keys for single joins.
	mRows = [][]any{{1, 10}, {2, 22}, {4, 41}, {nil, 50}, {6, 60}, {5, nil}}
)

// rowsNotNullKey drops the rows whose first column is NULL.
func rowsNotNullKey(rows [][]any) [][]any {
	var out [][]any
	for _, r := range rows {
		if r[0] != nil {
			out = append(out, r)
		}
	}
	return out
}

// makeBatch builds a batch of rows (int, string, bool or nil per cell).
func makeBatch(t testing.TB, alloc memory.Allocator, schema *arrow.Schema, rows [][]any) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(alloc, schema)
	defer b.Release()
	for _, row := range rows {
		for c, v := range row {
			fb := b.Field(c)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.Int64Builder:
				fb.Append(int64(v.(int)))
			case *array.Int32Builder:
				fb.Append(int32(v.(int)))
			case *array.Int8Builder:
				fb.Append(int8(v.(int)))
			case *array.Decimal64Builder:
				fb.Append(decimal.Decimal64(v.(int)))
			case *array.StringBuilder:
				fb.Append(v.(string))
			case *array.BooleanBuilder:
				fb.Append(v.(bool))
			default:
				t.Fatalf("makeBatch: unsupported builder %T", fb)
			}
		}
	}
	return b.NewRecordBatch()
}

// split deals rows into nparts partitions of batches of at most per rows.
// With byKey, a row goes to partition key mod nparts (NULL keys to 0), so
// that two inputs split alike are hash-partitioned on their first column.
func split(t testing.TB, alloc memory.Allocator, schema *arrow.Schema, rows [][]any, nparts, per int, byKey bool) *testSource {
	t.Helper()
	buckets := make([][][]any, nparts)
	for i, r := range rows {
		p := i % nparts
		if byKey {
			p = 0
			if r[0] != nil {
				p = r[0].(int) % nparts
			}
		}
		buckets[p] = append(buckets[p], r)
	}
	src := &testSource{schema: schema, parts: make([][]arrow.RecordBatch, nparts)}
	for p, rs := range buckets {
		for lo := 0; lo < len(rs); lo += per {
			src.parts[p] = append(src.parts[p], makeBatch(t, alloc, schema, rs[lo:min(lo+per, len(rs))]))
		}
	}
	return src
}

// drain runs every partition of n (concurrently when asked) and returns
// the output rows rendered and sorted.
// Batches may not exceed maxRows rows (semi, anti and mark joins pass the
// probe batches through, so they may exceed the batch size).
func drain(ctx context.Context, n exec.Node, tc *exec.TaskContext, concurrent bool, maxRows int) ([]string, error) {
	var mu sync.Mutex
	var rows []string
	var firstErr error
	run := func(p int) {
		got, err := drainPartition(ctx, n, p, tc, maxRows)
		mu.Lock()
		defer mu.Unlock()
		rows = append(rows, got...)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if concurrent {
		var wg sync.WaitGroup
		for p := range n.Partitions() {
			wg.Add(1)
			go func() { defer wg.Done(); run(p) }()
		}
		wg.Wait()
	} else {
		for p := range n.Partitions() {
			run(p)
		}
	}
	slices.Sort(rows)
	return rows, firstErr
}

func drainPartition(ctx context.Context, n exec.Node, p int, tc *exec.TaskContext, maxRows int) (rows []string, err error) {
	s, err := n.Execute(ctx, p, tc)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	for {
		b, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		if !b.Schema().Equal(n.Schema()) {
			return rows, fmt.Errorf("batch schema %s differs from node schema %s", b.Schema(), n.Schema())
		}
		if int(b.NumRows()) > maxRows {
			return rows, fmt.Errorf("batch of %d rows exceeds %d", b.NumRows(), maxRows)
		}
		if b.NumRows() == 0 {
			return rows, errors.New("empty batch emitted")
		}
		rows = append(rows, renderRows(b)...)
	}
}

func renderRows(b arrow.RecordBatch) []string {
	out := make([]string, b.NumRows())
	for i := range out {
		cells := make([]string, b.NumCols())
		for c, col := range b.Columns() {
			if col.IsNull(i) {
				cells[c] = "NULL"
			} else {
				cells[c] = col.ValueStr(i)
			}
		}
		out[i] = strings.Join(cells, "|")
	}
	return out
}

func col(i int) *logical.ColumnRef {
	return &logical.ColumnRef{Index: i, T: arrow.PrimitiveTypes.Int64, CanBeNull: true}
}

func strCol(i int) *logical.ColumnRef {
	return &logical.ColumnRef{Index: i, T: arrow.BinaryTypes.String, CanBeNull: true}
}

// pred builds the tests' int64 residual predicates: "test_ne" is a <> b,
// "test_gt10" is a > b * 10; both are NULL when an argument is NULL.
func pred(op string, a, b logical.Expr) logical.Expr {
	boolCall := func(fn string, args ...logical.Expr) logical.Expr {
		return &logical.Call{Func: fn, Args: args, T: arrow.FixedWidthTypes.Boolean, NullableOut: true}
	}
	switch op {
	case "test_ne":
		return boolCall("not_equal", a, b)
	case "test_gt10":
		return boolCall("gt", a, &logical.Call{Func: "multiply", Args: []logical.Expr{b, lit(10)}, T: arrow.PrimitiveTypes.Int64, NullableOut: true})
	}
	panic("unknown test predicate " + op)
}

func lit(v int64) logical.Expr { return &logical.Literal{Value: v, T: arrow.PrimitiveTypes.Int64} }

// Column positions in the residual's input (L fields then R fields).
const (
	cLK = 0
	cRK = 3
	cRV = 5
)

var (
	rvNot20   = pred("test_ne", col(cRV), lit(20))
	rvNot21   = pred("test_ne", col(cRV), lit(21))
	rvGt10Lk  = pred("test_gt10", col(cRV), col(cLK))
	mvGt10Lk  = pred("test_gt10", col(4), col(cLK)) // over L + M
	keyLK     = []logical.Expr{col(0)}
	keyRK     = []logical.Expr{col(0)}
	keyLKS    = []logical.Expr{col(0), strCol(1)}
	keyRKS    = []logical.Expr{col(0), strCol(1)}
	errSingle = ErrScalarSubquery
)

type joinCase struct {
	name      string
	jt        logical.JoinType
	multi     bool // join on (k, s) instead of k
	resid     logical.Expr
	nullAware bool
	right     [][]any // build rows; rRows when nil
	rSchema   *arrow.Schema
	nested    bool // nested loop join with resid as the condition
	want      string
	wantErr   error
}

var joinCases = []joinCase{
	{name: "inner", jt: logical.JoinInner, want: "inner1"},
	{name: "left", jt: logical.JoinLeft, want: "left1"},
	{name: "right", jt: logical.JoinRight, want: "right1"},
	{name: "full", jt: logical.JoinFull, want: "full1"},
	{name: "semi", jt: logical.JoinSemi, want: "semi1"},
	{name: "anti", jt: logical.JoinAnti, want: "anti1"},
	{name: "inner_multi", jt: logical.JoinInner, multi: true, want: "inner2"},
	{name: "left_multi", jt: logical.JoinLeft, multi: true, want: "left2"},
	{name: "full_multi", jt: logical.JoinFull, multi: true, want: "full2"},
	{name: "semi_multi", jt: logical.JoinSemi, multi: true, want: "semi2"},
	{name: "anti_multi", jt: logical.JoinAnti, multi: true, want: "anti2"},
	{name: "not_in_null_build", jt: logical.JoinAnti, nullAware: true, want: "notin_nullbuild"},
	{name: "not_in", jt: logical.JoinAnti, nullAware: true, right: rowsNotNullKey(rRows), want: "notin"},
	{name: "not_in_empty", jt: logical.JoinAnti, nullAware: true, right: [][]any{}, want: "notin_empty"},
	{name: "not_in_residual", jt: logical.JoinAnti, nullAware: true, resid: rvGt10Lk, right: rowsNotNullKey(rRows), want: "notin_x"},
	{name: "mark", jt: logical.JoinMark, want: "mark"},
	{name: "mark_no_null_build", jt: logical.JoinMark, right: rowsNotNullKey(rRows), want: "mark_nn"},
	{name: "mark_empty", jt: logical.JoinMark, right: [][]any{}, want: "mark_empty"},
	{name: "mark_residual", jt: logical.JoinMark, resid: rvGt10Lk, right: rowsNotNullKey(rRows), want: "mark_x"},
	{name: "inner_residual", jt: logical.JoinInner, resid: rvNot20, want: "inner_res"},
	{name: "left_residual", jt: logical.JoinLeft, resid: rvNot20, want: "left_res"},
	{name: "right_residual", jt: logical.JoinRight, resid: rvNot20, want: "right_res"},
	{name: "full_residual", jt: logical.JoinFull, resid: rvNot20, want: "full_res"},
	{name: "semi_residual", jt: logical.JoinSemi, resid: rvNot20, want: "semi_res"},
	{name: "anti_residual", jt: logical.JoinAnti, resid: rvNot21, want: "anti_res"},
	{name: "semi_cross_residual", jt: logical.JoinSemi, resid: rvGt10Lk, want: "semi_x"},
	{name: "anti_cross_residual", jt: logical.JoinAnti, resid: rvGt10Lk, want: "anti_x"},
	{name: "single", jt: logical.JoinSingle, right: mRows, rSchema: mSchema, want: "single"},
	{name: "single_residual", jt: logical.JoinSingle, right: mRows, rSchema: mSchema, resid: mvGt10Lk, want: "single_res"},
	{name: "single_duplicates", jt: logical.JoinSingle, wantErr: errSingle},
	{name: "single_residual_duplicates", jt: logical.JoinSingle, resid: rvGt10Lk, wantErr: errSingle},
	{name: "inner_empty_build", jt: logical.JoinInner, right: [][]any{}, want: "cross_empty"},
	{name: "full_empty_build", jt: logical.JoinFull, right: [][]any{}, want: "notin_empty_padded"},

	{name: "nl_cross", jt: logical.JoinCross, nested: true, want: "cross"},
	{name: "nl_cross_empty", jt: logical.JoinCross, nested: true, right: [][]any{}, want: "cross_empty"},
	{name: "nl_inner", jt: logical.JoinInner, nested: true, resid: rvGt10Lk, want: "nl_inner"},
	{name: "nl_left", jt: logical.JoinLeft, nested: true, resid: rvGt10Lk, want: "nl_left"},
	{name: "nl_right", jt: logical.JoinRight, nested: true, resid: rvGt10Lk, want: "nl_right"},
	{name: "nl_full", jt: logical.JoinFull, nested: true, resid: rvGt10Lk, want: "nl_full"},
	{name: "nl_semi", jt: logical.JoinSemi, nested: true, resid: rvGt10Lk, want: "nl_semi"},
	{name: "nl_anti", jt: logical.JoinAnti, nested: true, resid: rvGt10Lk, want: "nl_anti"},
	{name: "nl_mark", jt: logical.JoinMark, nested: true, resid: rvGt10Lk, want: "nl_mark"},
	{name: "nl_single_duplicates", jt: logical.JoinSingle, nested: true, wantErr: errSingle},
}

func init() {
	// A full join with an empty build side is the probe side padded with
	// NULL build columns.
	var padded []string
	for _, r := range expected["notin_empty"] {
		padded = append(padded, r+"|NULL|NULL|NULL")
	}
	expected["notin_empty_padded"] = padded
}

// buildJoin makes the node of c over sources l and r.
func buildJoin(c joinCase, l, r exec.Node, mode Mode) (exec.Node, error) {
	if c.nested {
		return NewNestedLoopJoin(l, r, c.jt, c.resid)
	}
	lk, rk := keyLK, keyRK
	if c.multi {
		lk, rk = keyLKS, keyRKS
	}
	return NewHashJoin(l, r, c.jt, lk, rk, c.resid, c.nullAware, mode)
}

type runConfig struct {
	lParts, rParts, per, batch int
	mode                       Mode
	concurrent                 bool
}

func (rc runConfig) String() string {
	return fmt.Sprintf("%s/l%d/r%d/per%d/bs%d/conc=%v", rc.mode, rc.lParts, rc.rParts, rc.per, rc.batch, rc.concurrent)
}

var runConfigs = []runConfig{
	{lParts: 1, rParts: 1, per: 100, batch: 1024, mode: CollectBuild},
	{lParts: 3, rParts: 2, per: 2, batch: 2, mode: CollectBuild},
	{lParts: 3, rParts: 2, per: 1, batch: 1, mode: CollectBuild, concurrent: true},
	{lParts: 2, rParts: 3, per: 3, batch: 3, mode: CollectBuild, concurrent: true},
	{lParts: 2, rParts: 2, per: 2, batch: 2, mode: Partitioned},
	{lParts: 3, rParts: 3, per: 1, batch: 1024, mode: Partitioned, concurrent: true},
}

func TestJoins(t *testing.T) {
	forEachLeftFirst(t, testJoins)
}

func testJoins(t *testing.T) {
	for _, direct := range indexKinds {
		forceIndex = direct
		for _, c := range joinCases {
			for _, rc := range runConfigs {
				if rc.mode == Partitioned && (c.nested || c.nullAware || c.jt == logical.JoinMark) {
					continue
				}
				t.Run(fmt.Sprintf("%s/index=%v/%s", c.name, direct, rc), func(t *testing.T) { runCase(t, c, rc) })
			}
		}
	}
	forceIndex = indexAuto
}

func runCase(t *testing.T, c joinCase, rc runConfig) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rs := rSchema
	if c.rSchema != nil {
		rs = c.rSchema
	}
	right := c.right
	if right == nil {
		right = rRows
	}
	byKey := rc.mode == Partitioned
	l := split(t, mem, lSchema, lRows, rc.lParts, rc.per, byKey)
	defer l.release()
	r := split(t, mem, rs, right, rc.rParts, rc.per, byKey)
	defer r.release()
	node, err := buildJoin(c, l, r, rc.mode)
	if err != nil {
		t.Fatal(err)
	}
	tc := exec.NewTaskContext()
	tc.Alloc = mem
	tc.BatchSize = rc.batch
	got, err := drain(context.Background(), node, tc, rc.concurrent, max(rc.batch, rc.per))
	if c.wantErr != nil {
		if !errors.Is(err, c.wantErr) {
			t.Fatalf("got error %v, want %v", err, c.wantErr)
		}
	} else {
		if err != nil {
			t.Fatal(err)
		}
		want, ok := expected[c.want]
		if !ok {
			t.Fatalf("no expected result %q", c.want)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("rows differ\n got: %q\nwant: %q", got, want)
		}
		if n := tc.Metrics.For(node).Rows.Load(); n != int64(len(got)) {
			t.Errorf("metrics count %d rows, output has %d", n, len(got))
		}
	}
	if u := tc.Mem.Used(); u != 0 {
		t.Errorf("memory pool still holds %d bytes", u)
	}
}
