package expr

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

func TestEvalFilter(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := testBatch(t, mem)
	defer b.Release()
	ctx := context.Background()
	for _, tc := range []struct {
		pred logical.Expr
		want []string // column s of the kept rows
	}{
		{call("gt", tB, col("i32"), i32(5)), rows("hello", "", "a_b%c")},
		{col("b2"), rows("hello", "Wörld")},
		{boolLit(true), rows("hello", "Wörld", "", "NULL", "a_b%c")},
		{null(tB), rows()},
		{call("lt", tB, col("i32"), i32(-100)), rows()},
	} {
		ev, err := Compile(tc.pred, b.Schema(), mem)
		if err != nil {
			t.Fatal(err)
		}
		out, err := EvalFilter(ctx, ev, b)
		if err != nil {
			t.Fatal(err)
		}
		got := formatAll(out.Column(11))
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %q want %q", tc.pred, got, tc.want)
		}
		if out.NumCols() != b.NumCols() || int(out.NumRows()) != len(tc.want) {
			t.Errorf("%s: got %d cols %d rows", tc.pred, out.NumCols(), out.NumRows())
		}
		out.Release()
	}
	ev, err := Compile(i64(1), b.Schema(), mem)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EvalFilter(ctx, ev, b); err == nil {
		t.Error("filter with an int64 predicate: want error")
	}
	if k, ok := Constant(ev); !ok || k.(*array.Int64).Value(0) != 1 {
		t.Errorf("Constant: got %v %v", k, ok)
	}
}

// TestSlicedInput evaluates expressions over a batch whose arrays have a
// non-zero offset and checks the results against the unsliced evaluation.
func TestSlicedInput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := testBatch(t, mem)
	defer b.Release()
	s := b.NewSlice(1, 5)
	defer s.Release()
	exprs := []logical.Expr{
		call("add", tI32, col("i32"), i32(-10)),
		call("gt", tB, col("i32"), i32(7)),
		call("and", tB, col("b"), col("b2")),
		call("is_distinct_from", tB, col("b"), col("b2")),
		call("multiply", logical.DecimalType(32, 4), col("dec"), col("dec2")),
		call("upper", tStr, col("s")),
		call("like", tB, col("s"), str("%l%")),
		call("coalesce", tStr, col("ls"), col("s")),
		&logical.Case{Whens: []logical.When{{Cond: col("b"), Then: col("s")}}, Else: str("x"), T: tStr},
		&logical.InList{Input: col("i32"), List: []logical.Expr{i32(7), i32(-20)}},
		call("nullif", tI32, col("i32"), i32(7)),
		call("not", tB, col("b")),
		&logical.Cast{Input: col("dec"), T: tStr},
		callOpt("extract", tI64, map[string]string{"component": "YEAR"}, col("date")),
	}
	for _, e := range exprs {
		full, err := evalExpr(mem, e, b)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		part, err := evalExpr(mem, e, s)
		if err != nil {
			t.Fatalf("%s sliced: %v", e, err)
		}
		if fmt.Sprint(part) != fmt.Sprint(full[1:]) {
			t.Errorf("%s: sliced %q, full %q", e, part, full[1:])
		}
	}
}

func TestTakeTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := testBatch(t, mem)
	defer b.Release()
	out, err := TakeBatch(mem, b, []int32{4, 0, 3})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	for i := range testColumns {
		want := formatAll(b.Column(i))
		got := formatAll(out.Column(i))
		if fmt.Sprint(got) != fmt.Sprint([]string{want[4], want[0], want[3]}) {
			t.Errorf("column %s: got %q", testColumns[i].name, got)
		}
		if !arrow.TypeEqual(out.Column(i).DataType(), b.Column(i).DataType()) {
			t.Errorf("column %s: type %s", testColumns[i].name, out.Column(i).DataType())
		}
	}
}
