package aggregate

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// sourceNode is a test leaf that replays prepared batches, one slice per
// partition. It retains the batches; release them with release().
type sourceNode struct {
	schema *arrow.Schema
	parts  [][]arrow.RecordBatch
}

func (s *sourceNode) Schema() *arrow.Schema { return s.schema }
func (s *sourceNode) Children() []exec.Node { return nil }
func (s *sourceNode) Partitions() int       { return len(s.parts) }
func (s *sourceNode) String() string        { return "Source" }
func (s *sourceNode) release() {
	for _, p := range s.parts {
		for _, b := range p {
			b.Release()
		}
	}
}
func (s *sourceNode) Execute(_ context.Context, p int, _ *exec.TaskContext) (exec.Stream, error) {
	if p < 0 || p >= len(s.parts) {
		return nil, fmt.Errorf("partition %d of %d", p, len(s.parts))
	}
	return &sliceStream{schema: s.schema, batches: s.parts[p]}, nil
}

type sliceStream struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	pos     int
}

func (s *sliceStream) Schema() *arrow.Schema { return s.schema }
func (s *sliceStream) Next(context.Context) (arrow.RecordBatch, error) {
	if s.pos >= len(s.batches) {
		return nil, io.EOF
	}
	s.pos++
	return s.batches[s.pos-1], nil
}
func (s *sliceStream) Close() error { return nil }

// coalesceNode runs every partition of its child in turn as one partition.
type coalesceNode struct{ child exec.Node }

func (c *coalesceNode) Schema() *arrow.Schema { return c.child.Schema() }
func (c *coalesceNode) Children() []exec.Node { return []exec.Node{c.child} }
func (c *coalesceNode) Partitions() int       { return 1 }
func (c *coalesceNode) String() string        { return "Coalesce" }
func (c *coalesceNode) Execute(ctx context.Context, _ int, tc *exec.TaskContext) (exec.Stream, error) {
	return &coalesceStream{node: c, tc: tc}, nil
}

type coalesceStream struct {
	node *coalesceNode
	tc   *exec.TaskContext
	p    int
	cur  exec.Stream
}

func (s *coalesceStream) Schema() *arrow.Schema { return s.node.Schema() }
func (s *coalesceStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if s.cur == nil {
			if s.p >= s.node.child.Partitions() {
				return nil, io.EOF
			}
			st, err := s.node.child.Execute(ctx, s.p, s.tc)
			if err != nil {
				return nil, err
			}
			s.cur = st
			s.p++
		}
		b, err := s.cur.Next(ctx)
		if err == io.EOF {
			if err := s.cur.Close(); err != nil {
				return nil, err
			}
			s.cur = nil
			continue
		}
		return b, err
	}
}
func (s *coalesceStream) Close() error {
	if s.cur != nil {
		return s.cur.Close()
	}
	return nil
}

// runAll executes every partition of n and returns its rows as cells.
func runAll(t testing.TB, n exec.Node, tc *exec.TaskContext) [][]cell {
	t.Helper()
	rows, err := tryRunAll(n, tc)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func tryRunAll(n exec.Node, tc *exec.TaskContext) ([][]cell, error) {
	var rows [][]cell
	ctx := context.Background()
	for p := 0; p < n.Partitions(); p++ {
		st, err := n.Execute(ctx, p, tc)
		if err != nil {
			return nil, err
		}
		for {
			b, err := st.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				st.Close()
				return nil, err
			}
			if !b.Schema().Equal(n.Schema()) {
				st.Close()
				return nil, fmt.Errorf("batch schema %s, node schema %s", b.Schema(), n.Schema())
			}
			for i := 0; i < int(b.NumRows()); i++ {
				row := make([]cell, b.NumCols())
				for c := range row {
					row[c] = cellOf(b.Column(c), i)
				}
				rows = append(rows, row)
			}
		}
		if err := st.Close(); err != nil {
			return nil, err
		}
		if err := st.Close(); err != nil { // idempotent
			return nil, err
		}
	}
	return rows, nil
}

// cell is one value rendered for comparison; floats compare approximately.
type cell struct {
	s     string
	f     float64
	float bool
}

func (c cell) String() string { return c.s }

func cellOf(a arrow.Array, i int) cell {
	if a.IsNull(i) {
		return cell{s: "NULL"}
	}
	switch x := a.(type) {
	case *array.Float64:
		v := x.Value(i)
		return cell{s: strconv.FormatFloat(v, 'g', 8, 64), f: v, float: true}
	case *array.Decimal128:
		_, s, _ := logical.DecimalParams(a.DataType())
		return cell{s: x.Value(i).ToString(s)}
	case *array.Decimal64:
		_, s, _ := logical.DecimalParams(a.DataType())
		return cell{s: decimal128.FromI64(int64(x.Value(i))).ToString(s)}
	}
	return cell{s: a.ValueStr(i)}
}

func fcell(v float64) cell {
	return cell{s: strconv.FormatFloat(v, 'g', 8, 64), f: v, float: true}
}
func scell(s string) cell { return cell{s: s} }

var nullCell = cell{s: "NULL"}

func rowString(r []cell) string {
	parts := make([]string, len(r))
	for i, c := range r {
		parts[i] = c.s
	}
	return strings.Join(parts, " | ")
}

// sortRows orders rows by their non-float cells (group keys).
func sortRows(rows [][]cell) {
	key := func(r []cell) string {
		var b strings.Builder
		for _, c := range r {
			if !c.float {
				b.WriteString(c.s)
			}
			b.WriteByte('|')
		}
		return b.String()
	}
	keys := make([]string, len(rows))
	idx := make([]int, len(rows))
	for i, r := range rows {
		keys[i], idx[i] = key(r), i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	sorted := make([][]cell, len(rows))
	for i, j := range idx {
		sorted[i] = rows[j]
	}
	copy(rows, sorted)
}

func cellsEqual(a, b cell) bool {
	if a.float && b.float {
		if a.f == b.f {
			return true
		}
		d := math.Abs(a.f - b.f)
		return d <= 1e-9*math.Max(math.Abs(a.f), math.Abs(b.f)) || d < 1e-12
	}
	return a.s == b.s
}

// compareRows checks got against want ignoring order.
func compareRows(t testing.TB, got, want [][]cell) {
	t.Helper()
	sortRows(got)
	sortRows(want)
	if len(got) != len(want) {
		for _, r := range got {
			t.Logf("got  %s", rowString(r))
		}
		for _, r := range want {
			t.Logf("want %s", rowString(r))
		}
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	bad := 0
	for i := range got {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("row %d: %d columns, want %d", i, len(got[i]), len(want[i]))
		}
		for c := range got[i] {
			if !cellsEqual(got[i][c], want[i][c]) {
				t.Errorf("row %d col %d: got %s, want %s\n got  %s\n want %s", i, c, got[i][c], want[i][c],
					rowString(got[i]), rowString(want[i]))
				bad++
				break
			}
		}
		if bad > 5 {
			t.FailNow()
		}
	}
}

func col(schema *arrow.Schema, name string) *logical.ColumnRef {
	idx := schema.FieldIndices(name)
	if len(idx) != 1 {
		panic("no column " + name)
	}
	f := schema.Field(idx[0])
	return &logical.ColumnRef{Index: idx[0], Name: name, T: f.Type, CanBeNull: f.Nullable}
}

// call builds an aggregate call with its declared result type.
func call(fn string, distinct bool, filter logical.Expr, args ...logical.Expr) *logical.AggregateCall {
	var argT arrow.DataType
	if len(args) > 0 {
		argT = args[0].Type()
	}
	t, err := logical.AggregateResultType(fn, argT)
	if err != nil {
		panic(err)
	}
	return &logical.AggregateCall{Func: fn, Args: args, Distinct: distinct, Filter: filter, T: t}
}

// bigDec renders an unscaled big integer with scale s like decimal128's
// ToString.
func bigDec(v *big.Int, s int32) string {
	neg := v.Sign() < 0
	digits := new(big.Int).Abs(v).String()
	for int32(len(digits)) <= s {
		digits = "0" + digits
	}
	if s > 0 {
		digits = digits[:len(digits)-int(s)] + "." + digits[len(digits)-int(s):]
	}
	if neg {
		digits = "-" + digits
	}
	return digits
}

func newTC(mem memory.Allocator, limit int64, dir string, batch int) *exec.TaskContext {
	tc := exec.NewTaskContext()
	tc.Alloc = mem
	tc.Mem = exec.NewMemoryPool(limit)
	tc.SpillDir = dir
	if batch > 0 {
		tc.BatchSize = batch
	}
	return tc
}
