package expr

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
)

// randDec128 makes n Decimal128 values (every 7th NULL); wide adds values
// that do not fit in 64 bits.
func randDec128(mem memory.Allocator, r *rand.Rand, t *arrow.Decimal128Type, n int, wide bool) arrow.Array {
	b := array.NewDecimal128Builder(mem, t)
	defer b.Release()
	for i := 0; i < n; i++ {
		switch {
		case i%7 == 3:
			b.AppendNull()
		case wide && i%5 == 0:
			b.Append(decimal128.New(int64(r.IntN(1000)-500), r.Uint64()))
		default:
			b.Append(decimal128.FromI64(r.Int64N(2_000_000_000_000) - 1_000_000_000_000))
		}
	}
	return b.NewArray()
}

func randDec64(mem memory.Allocator, r *rand.Rand, t *arrow.Decimal64Type, n int, bound int64) arrow.Array {
	b := array.NewDecimal64Builder(mem, t)
	defer b.Release()
	for i := 0; i < n; i++ {
		if i%11 == 5 {
			b.AppendNull()
		} else {
			b.Append(decimal.Decimal64(r.Int64N(2*bound) - bound))
		}
	}
	return b.NewArray()
}

// sameArrays compares two arrays row by row (formatted), NULLs included.
func sameArrays(t *testing.T, what string, got, want arrow.Array) {
	t.Helper()
	g, w := formatAll(got), formatAll(want)
	if fmt.Sprint(g) != fmt.Sprint(w) {
		for i := range g {
			if g[i] != w[i] {
				t.Fatalf("%s: row %d: got %s, want %s", what, i, g[i], w[i])
			}
		}
	}
}

// The Decimal128 x Decimal64 product takes a 64-bit path when the wide
// operand's values fit; it must agree with the general 128-bit path.
func TestDec128Mul64FastPath(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(7, 8))
	at := &arrow.Decimal128Type{Precision: 32, Scale: 4}
	bt := &arrow.Decimal64Type{Precision: 16, Scale: 2}
	rt := logical.DecimalType(38, 6)
	const n = 1000
	for _, wide := range []bool{false, true} {
		x := randDec128(mem, r, at, n+3, wide)
		y := randDec64(mem, r, bt, n+3, 1_000_000)
		xs, ys := array.NewSlice(x, 3, n+3), array.NewSlice(y, 3, n+3)
		for _, yConst := range []bool{false, true} {
			yo := operand{arr: ys}
			if yConst {
				yo = operand{arr: array.NewSlice(y, 4, 5), isConst: true}
			}
			got, err := dec128Mul64(mem, "multiply", rt, operand{arr: xs}, yo, n, 38, 6)
			if err != nil {
				t.Fatal(err)
			}
			want, err := decGeneric(mem, "multiply", opMul, divZeroError, rt, operand{arr: xs}, yo, n, 4, 2, 38, 6)
			if err != nil {
				t.Fatal(err)
			}
			sameArrays(t, fmt.Sprintf("wide=%v const=%v", wide, yConst), got, want)
			got.Release()
			want.Release()
			if yConst {
				yo.arr.Release()
			}
		}
		// A narrower result precision overflows on the fast path too.
		big := randDec64(mem, r, bt, n, 1_000_000_000_000)
		if res, err := dec128Mul64(mem, "multiply", logical.DecimalType(20, 6), operand{arr: xs}, operand{arr: big}, n, 20, 6); err == nil ||
			!strings.Contains(err.Error(), "does not fit decimal(20, 6)") {
			t.Errorf("wide=%v: want an overflow error, got %v", wide, err)
			if res != nil {
				res.Release()
			}
		}
		big.Release()
		xs.Release()
		ys.Release()
		x.Release()
		y.Release()
	}
}

// LIKE patterns with a literal are matched only on the rows holding their
// longest literal, found by one search over the whole buffer; the result
// must equal matching every row.
func TestLikeCandidateScan(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(11, 12))
	words := []string{"special", "requests", "spec", "ial", "req", "uests", "x", "é", "", "packages"}
	b := array.NewStringBuilder(mem)
	const n = 3000
	for i := 0; i < n+4; i++ {
		if i%17 == 3 {
			b.AppendNull()
			continue
		}
		var sb strings.Builder
		for k := r.IntN(6); k > 0; k-- {
			sb.WriteString(words[r.IntN(len(words))])
			if r.IntN(3) == 0 {
				sb.WriteByte(' ')
			}
		}
		b.Append(sb.String())
	}
	all := b.NewArray()
	b.Release()
	defer all.Release()
	arr := array.NewSlice(all, 4, n+4) // offsets not starting at 0
	defer arr.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	batch := array.NewRecordBatch(schema, []arrow.Array{arr}, n)
	defer batch.Release()
	s := &logical.ColumnRef{Index: 0, Name: "s", T: arrow.BinaryTypes.String, CanBeNull: true}
	for _, pat := range []string{"%special%requests%", "%requests", "special%", "%s_ecial%", "%ial%ial%", "%é%", "_%uests%x", "%requests%special"} {
		p, err := compileLikePattern(pat, -1, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := evalExpr(mem, call("like", logical.Bool, s, str(pat)), batch)
		if err != nil {
			t.Fatal(err)
		}
		str := arr.(*array.String)
		hits := 0
		for i := 0; i < n; i++ {
			want := "NULL"
			if str.IsValid(i) {
				want = fmt.Sprint(p.match([]byte(str.Value(i))))
			}
			if got[i] != want {
				t.Fatalf("%q on %q: got %s, want %s", pat, str.Value(i), got[i], want)
			}
			if want == "true" {
				hits++
			}
		}
		if hits == 0 {
			t.Errorf("%q matches nothing: the test data is too weak", pat)
		}
	}
}
