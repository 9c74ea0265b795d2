package expr

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// q1Exprs are TPC-H Q1's aggregate arguments over the test columns: the
// discounted price occurs twice, 1 - disc three times.
func q1Exprs() []logical.Expr {
	oneMinus := func() logical.Expr { return call("subtract", logical.DecimalType(16, 2), dec(1, 1, 0), col("dec2")) }
	discPrice := func() logical.Expr { return call("multiply", logical.DecimalType(32, 4), col("dec"), oneMinus()) }
	return []logical.Expr{
		col("dec"),
		discPrice(),
		call("multiply", logical.DecimalType(38, 6), discPrice(), call("add", logical.DecimalType(16, 2), dec(1, 1, 0), col("dec2"))),
		oneMinus(),
	}
}

func TestProgramSharesSubexpressions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := testBatch(t, mem)
	defer b.Release()
	exprs := q1Exprs()
	p, err := CompileProgram(exprs, b.Schema(), mem)
	if err != nil {
		t.Fatal(err)
	}
	// subtract(1, dec2) and multiply(dec, subtract(1, dec2)) are shared.
	if p.nshared != 2 {
		t.Errorf("%d shared sub-expressions, want 2", p.nshared)
	}
	// Sliced input exercises offsets in the shared results.
	for _, in := range []arrow.RecordBatch{b, b.NewSlice(1, 5)} {
		out := make([]arrow.Array, p.Len())
		if err := p.Eval(context.Background(), in, out); err != nil {
			t.Fatal(err)
		}
		for i, e := range exprs {
			want, err := evalExpr(mem, e, in)
			if err != nil {
				t.Fatal(err)
			}
			if !arrow.TypeEqual(out[i].DataType(), p.Types()[i]) {
				t.Errorf("%s: type %s, declared %s", e, out[i].DataType(), p.Types()[i])
			}
			if got := formatAll(out[i]); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s:\n got %q\nwant %q", e, got, want)
			}
			out[i].Release()
		}
		if in != b {
			in.Release()
		}
	}
}

// A sub-expression shared between the top level and a CASE arm (which runs
// over a subset of the rows) must give each its own rows.
func TestProgramSharingInsideCase(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := testBatch(t, mem)
	defer b.Release()
	neg := func() logical.Expr { return call("negate", arrow.PrimitiveTypes.Int64, col("i64")) }
	exprs := []logical.Expr{
		&logical.Case{Whens: []logical.When{{Cond: call("gt", logical.Bool, col("i64"), i64(0)), Then: neg()}},
			Else: i64(0), T: arrow.PrimitiveTypes.Int64},
		neg(),
	}
	p, err := CompileProgram(exprs, b.Schema(), mem)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]arrow.Array, 2)
	if err := p.Eval(context.Background(), b, out); err != nil {
		t.Fatal(err)
	}
	defer out[0].Release()
	defer out[1].Release()
	want := [][]string{rows("-10", "0", "-7", "0", "-9223372036854775807"), rows("-10", "20", "-7", "NULL", "-9223372036854775807")}
	for i := range out {
		if got := formatAll(out[i]); fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Errorf("%s: got %q, want %q", exprs[i], got, want[i])
		}
	}
}

// Expressions that only look alike (other options, types or literals) are
// not merged.
func TestProgramKeepsDistinctExpressions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := testBatch(t, mem)
	defer b.Release()
	exprs := []logical.Expr{
		callOpt("add", arrow.PrimitiveTypes.Int64, map[string]string{"overflow": "SATURATE"}, col("i64"), i64(1)),
		callOpt("add", arrow.PrimitiveTypes.Int64, map[string]string{"overflow": "SILENT"}, col("i64"), i64(1)),
		call("add", arrow.PrimitiveTypes.Int64, col("i32"), i64(2)),
		&logical.Cast{Input: col("s"), T: arrow.PrimitiveTypes.Int64, Try: true},
	}
	p, err := CompileProgram(exprs, b.Schema(), mem)
	if err != nil {
		t.Fatal(err)
	}
	if p.nshared != 0 {
		t.Fatalf("%d shared sub-expressions, want 0", p.nshared)
	}
	out := make([]arrow.Array, len(exprs))
	if err := p.Eval(context.Background(), b, out); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"[11 -19 8 NULL 9223372036854775807]",
		"[11 -19 8 NULL -9223372036854775808]",
		"[12 -18 9 NULL 2147483649]",
		"[NULL NULL NULL NULL NULL]",
	}
	for i := range out {
		if got := fmt.Sprint(formatAll(out[i])); got != want[i] {
			t.Errorf("%s: got %s, want %s", exprs[i], got, want[i])
		}
		out[i].Release()
	}
}

func TestProgramErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := testBatch(t, mem)
	defer b.Release()
	if _, err := CompileProgram([]logical.Expr{col("i64"), call("no_such_function", logical.Bool, col("i64"))}, b.Schema(), mem); err == nil ||
		!strings.Contains(err.Error(), "no_such_function") {
		t.Errorf("want an error naming the function, got %v", err)
	}
	// The second expression fails at run time (division by zero in row 0);
	// the first result must not leak.
	div := call("divide", arrow.PrimitiveTypes.Int64, col("i64"), col("z64"))
	p, err := CompileProgram([]logical.Expr{call("multiply", arrow.PrimitiveTypes.Int64, col("i32"), i64(2)), div, div}, b.Schema(), mem)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]arrow.Array, 3)
	if err := p.Eval(context.Background(), b, out); err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("want a division by zero, got %v", err)
	}
	for i, a := range out {
		if a != nil {
			t.Errorf("result %d left after an error", i)
		}
	}
	if err := p.Eval(context.Background(), b, out[:1]); err == nil {
		t.Error("want an error for a short result slice")
	}
}

// BenchmarkProgramQ1 evaluates Q1's two price expressions together, the
// shared l_extendedprice * (1 - l_discount) once.
func BenchmarkProgramQ1(b *testing.B) {
	mem := memory.NewGoAllocator()
	benchOnce.Do(func() { benchData = lineitemBatches(b, mem) })
	oneMinus := call("subtract", logical.DecimalType(16, 2), dec(1, 1, 0), benchDisc)
	discPrice := call("multiply", logical.DecimalType(32, 4), benchPrice, oneMinus)
	charge := call("multiply", logical.DecimalType(38, 6), discPrice, call("add", logical.DecimalType(16, 2), dec(1, 1, 0), benchDisc))
	p, err := CompileProgram([]logical.Expr{discPrice, charge}, benchData[0].Schema(), mem)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]arrow.Array, 2)
	ctx := context.Background()
	b.ResetTimer()
	cpu := startCPU(b)
	for range b.N {
		for _, batch := range benchData {
			if err := p.Eval(ctx, batch, out); err != nil {
				b.Fatal(err)
			}
			for _, a := range out {
				a.Release()
			}
		}
	}
	cpu.report(b, benchRows)
}
