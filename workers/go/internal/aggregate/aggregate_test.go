package aggregate

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// trow is one generated input row; pointers are NULL when nil.
type trow struct {
	k1   *int32
	k2   *string
	v    *int64
	d    *int64 // decimal(15,2) unscaled
	f    *float64
	s    *string
	b    *bool
	flag *bool
	dep  int32
}

var dec152 = &arrow.Decimal64Type{Precision: 15, Scale: 2}

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "k1", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "k2", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "d", Type: dec152, Nullable: true},
	{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "dep", Type: arrow.PrimitiveTypes.Int32},
}, nil)

func ptr[T any](v T) *T { return &v }

// genRows makes n rows with about k1Domain*3 groups.
func genRows(r *rand.Rand, n, k1Domain int) []trow {
	rows := make([]trow, n)
	for i := range rows {
		var t trow
		if r.IntN(20) != 0 {
			t.k1 = ptr(int32(r.IntN(k1Domain)))
			t.dep = *t.k1
		}
		if r.IntN(15) != 0 {
			t.k2 = ptr([]string{"A", "N", "R"}[r.IntN(3)])
		}
		if r.IntN(8) != 0 {
			t.v = ptr(int64(r.IntN(2000)) - 1000)
		}
		if r.IntN(8) != 0 {
			t.d = ptr(int64(r.IntN(1_000_000)) - 300_000)
		}
		if r.IntN(8) != 0 {
			t.f = ptr(float64(r.IntN(20000))/100 - 100)
		}
		if r.IntN(8) != 0 {
			t.s = ptr(fmt.Sprintf("s%03d", r.IntN(300)))
		}
		if r.IntN(6) != 0 {
			t.b = ptr(r.IntN(4) != 0)
		}
		if r.IntN(6) != 0 {
			t.flag = ptr(r.IntN(2) == 0)
		}
		rows[i] = t
	}
	return rows
}

// toBatches turns rows into a source with the given partitions and batch
// size.
func toBatches(mem memory.Allocator, rows []trow, parts, batch int) *sourceNode {
	src := &sourceNode{schema: testSchema, parts: make([][]arrow.RecordBatch, parts)}
	per := (len(rows) + parts - 1) / max(parts, 1)
	for p := 0; p < parts; p++ {
		lo, hi := min(len(rows), p*per), min(len(rows), (p+1)*per)
		for start := lo; start < hi; start += batch {
			end := min(hi, start+batch)
			b := array.NewRecordBuilder(mem, testSchema)
			for _, t := range rows[start:end] {
				appendOpt(b.Field(0).(*array.Int32Builder), t.k1)
				if t.k2 == nil {
					b.Field(1).AppendNull()
				} else {
					b.Field(1).(*array.StringBuilder).Append(*t.k2)
				}
				appendOpt(b.Field(2).(*array.Int64Builder), t.v)
				if t.d == nil {
					b.Field(3).AppendNull()
				} else {
					b.Field(3).(*array.Decimal64Builder).Append(decimal.Decimal64(*t.d))
				}
				appendOpt(b.Field(4).(*array.Float64Builder), t.f)
				if t.s == nil {
					b.Field(5).AppendNull()
				} else {
					b.Field(5).(*array.StringBuilder).Append(*t.s)
				}
				appendOpt(b.Field(6).(*array.BooleanBuilder), t.b)
				appendOpt(b.Field(7).(*array.BooleanBuilder), t.flag)
				b.Field(8).(*array.Int32Builder).Append(t.dep)
			}
			src.parts[p] = append(src.parts[p], b.NewRecordBatch())
			b.Release()
		}
	}
	return src
}

func appendOpt[T any, B interface {
	Append(T)
	AppendNull()
}](b B, v *T) {
	if v == nil {
		b.AppendNull()
	} else {
		b.Append(*v)
	}
}

// refAgg is an aggregate with its independent reference implementation.
type refAgg struct {
	call *logical.AggregateCall
	ref  func(rows []trow) cell
}

func bigSum(vals []int64) *big.Int {
	s := new(big.Int)
	for _, v := range vals {
		s.Add(s, big.NewInt(v))
	}
	return s
}

// roundDiv divides with rounding half away from zero.
func roundDiv(num *big.Int, den int64) *big.Int {
	d := big.NewInt(den)
	q, r := new(big.Int).QuoRem(num, d, new(big.Int))
	r2 := new(big.Int).Abs(r)
	r2.Lsh(r2, 1)
	if r2.Cmp(d) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

func vals[T any](rows []trow, get func(trow) *T, keep func(trow) bool) []T {
	var out []T
	for _, r := range rows {
		if keep != nil && !keep(r) {
			continue
		}
		if p := get(r); p != nil {
			out = append(out, *p)
		}
	}
	return out
}

func distinctVals[T comparable](v []T) []T {
	seen := map[T]bool{}
	var out []T
	for _, x := range v {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func variance(x []float64, sample bool) (float64, bool) {
	n := float64(len(x))
	if n == 0 || (sample && n < 2) {
		return 0, false
	}
	mean := 0.0
	for _, v := range x {
		mean += v
	}
	mean /= n
	ss := 0.0
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	if sample {
		return ss / (n - 1), true
	}
	return ss / n, true
}

func flagTrue(r trow) bool { return r.flag != nil && *r.flag }

func getV(r trow) *int64      { return r.v }
func getD(r trow) *int64      { return r.d }
func getF(r trow) *float64    { return r.f }
func getS(r trow) *string     { return r.s }
func getB(r trow) *bool       { return r.b }
func getDep(r trow) *int32    { return &r.dep }
func getK1(r trow) *int32     { return r.k1 }
func getK2(r trow) *string    { return r.k2 }
func fmtI(v int64) cell       { return scell(fmt.Sprint(v)) }
func decCell(v *big.Int) cell { return scell(bigDec(v, 2)) }

// allAggs is the aggregate list of the randomized tests.
func allAggs() []refAgg {
	s := testSchema
	v, d, f, str, b, flag, dep := col(s, "v"), col(s, "d"), col(s, "f"), col(s, "s"), col(s, "b"), col(s, "flag"), col(s, "dep")
	sumInts := func(x []int64) cell {
		if len(x) == 0 {
			return nullCell
		}
		return scell(bigSum(x).String())
	}
	sumDec := func(x []int64) cell {
		if len(x) == 0 {
			return nullCell
		}
		return decCell(bigSum(x))
	}
	avgDec := func(x []int64) cell {
		if len(x) == 0 {
			return nullCell
		}
		num := bigSum(x)
		num.Mul(num, big.NewInt(10000))
		return scell(bigDec(roundDiv(num, int64(len(x))), 6))
	}
	avgInt := func(x []int64) cell {
		if len(x) == 0 {
			return nullCell
		}
		return fcell(float64(bigSum(x).Int64()) / float64(len(x)))
	}
	varCell := func(x []float64, sample, sqrt bool) cell {
		v, ok := variance(x, sample)
		if !ok {
			return nullCell
		}
		if sqrt {
			v = math.Sqrt(v)
		}
		return fcell(v)
	}
	decFloats := func(x []int64) []float64 {
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = float64(v) / 100
		}
		return out
	}
	return []refAgg{
		{call("count", false, nil), func(r []trow) cell { return fmtI(int64(len(r))) }},
		{call("count", false, nil, v), func(r []trow) cell { return fmtI(int64(len(vals(r, getV, nil)))) }},
		{call("sum", false, nil, v), func(r []trow) cell { return sumInts(vals(r, getV, nil)) }},
		{call("sum", false, nil, d), func(r []trow) cell { return sumDec(vals(r, getD, nil)) }},
		{call("avg", false, nil, d), func(r []trow) cell { return avgDec(vals(r, getD, nil)) }},
		{call("avg", false, nil, v), func(r []trow) cell { return avgInt(vals(r, getV, nil)) }},
		{call("min", false, nil, str), func(r []trow) cell {
			x := vals(r, getS, nil)
			if len(x) == 0 {
				return nullCell
			}
			sort.Strings(x)
			return scell(x[0])
		}},
		{call("max", false, nil, str), func(r []trow) cell {
			x := vals(r, getS, nil)
			if len(x) == 0 {
				return nullCell
			}
			sort.Strings(x)
			return scell(x[len(x)-1])
		}},
		{call("min", false, nil, d), func(r []trow) cell {
			x := vals(r, getD, nil)
			if len(x) == 0 {
				return nullCell
			}
			sort.Slice(x, func(i, j int) bool { return x[i] < x[j] })
			return decCell(big.NewInt(x[0]))
		}},
		{call("max", false, nil, v), func(r []trow) cell {
			x := vals(r, getV, nil)
			if len(x) == 0 {
				return nullCell
			}
			sort.Slice(x, func(i, j int) bool { return x[i] < x[j] })
			return fmtI(x[len(x)-1])
		}},
		{call("var_samp", false, nil, f), func(r []trow) cell { return varCell(vals(r, getF, nil), true, false) }},
		{call("stddev_pop", false, nil, f), func(r []trow) cell { return varCell(vals(r, getF, nil), false, true) }},
		{call("stddev_samp", false, nil, f), func(r []trow) cell { return varCell(vals(r, getF, nil), true, true) }},
		{call("var_pop", false, nil, d), func(r []trow) cell { return varCell(decFloats(vals(r, getD, nil)), false, false) }},
		{call("bool_and", false, nil, b), func(r []trow) cell {
			x := vals(r, getB, nil)
			if len(x) == 0 {
				return nullCell
			}
			for _, v := range x {
				if !v {
					return scell("false")
				}
			}
			return scell("true")
		}},
		{call("bool_or", false, nil, b), func(r []trow) cell {
			x := vals(r, getB, nil)
			if len(x) == 0 {
				return nullCell
			}
			for _, v := range x {
				if v {
					return scell("true")
				}
			}
			return scell("false")
		}},
		{call("count", true, nil, v), func(r []trow) cell { return fmtI(int64(len(distinctVals(vals(r, getV, nil))))) }},
		{call("sum", true, nil, d), func(r []trow) cell { return sumDec(distinctVals(vals(r, getD, nil))) }},
		{call("avg", true, nil, v), func(r []trow) cell { return avgInt(distinctVals(vals(r, getV, nil))) }},
		{call("sum", false, flag, v), func(r []trow) cell { return sumInts(vals(r, getV, flagTrue)) }},
		{call("count", false, flag), func(r []trow) cell {
			n := 0
			for _, x := range r {
				if flagTrue(x) {
					n++
				}
			}
			return fmtI(int64(n))
		}},
		{call("count", true, flag, str), func(r []trow) cell { return fmtI(int64(len(distinctVals(vals(r, getS, flagTrue))))) }},
		{call("any_value", false, nil, dep), func(r []trow) cell {
			if len(r) == 0 {
				return nullCell
			}
			return fmtI(int64(*getDep(r[0])))
		}},
		{call("sum", false, nil, f), func(r []trow) cell {
			x := vals(r, getF, nil)
			if len(x) == 0 {
				return nullCell
			}
			s := 0.0
			for _, v := range x {
				s += v
			}
			return fcell(s)
		}},
		{call("avg", false, flag, f), func(r []trow) cell {
			x := vals(r, getF, flagTrue)
			if len(x) == 0 {
				return nullCell
			}
			s := 0.0
			for _, v := range x {
				s += v
			}
			return fcell(s / float64(len(x)))
		}},
	}
}

type keyed struct {
	key  string
	vals []cell
	rows []trow
}

// reference computes the expected output rows: group keys, aggregates,
// then the grouping id when sets are given (nil sets: one set of all keys
// and no id column; nkeys 0: one global row).
func reference(rows []trow, nkeys int, sets [][]int, aggs []refAgg) [][]cell {
	type set struct {
		cols []int
		id   int64
	}
	var ss []set
	if sets == nil {
		all := make([]int, nkeys)
		for i := range all {
			all[i] = i
		}
		ss = []set{{cols: all}}
	} else {
		for _, s := range sets {
			id := int64(1)<<nkeys - 1
			for _, c := range s {
				id &^= 1 << c
			}
			ss = append(ss, set{cols: s, id: id})
		}
	}
	var out [][]cell
	for _, st := range ss {
		groups := map[string]*keyed{}
		var order []string
		in := func(c int) bool {
			for _, x := range st.cols {
				if x == c {
					return true
				}
			}
			return false
		}
		for _, r := range rows {
			kc := make([]cell, nkeys)
			for c := 0; c < nkeys; c++ {
				kc[c] = nullCell
				if !in(c) {
					continue
				}
				switch c {
				case 0:
					if r.k1 != nil {
						kc[c] = fmtI(int64(*r.k1))
					}
				case 1:
					if r.k2 != nil {
						kc[c] = scell(*r.k2)
					}
				}
			}
			k := rowString(kc)
			g := groups[k]
			if g == nil {
				g = &keyed{key: k, vals: kc}
				groups[k] = g
				order = append(order, k)
			}
			g.rows = append(g.rows, r)
		}
		if len(st.cols) == 0 && len(groups) == 0 {
			kc := make([]cell, nkeys)
			for i := range kc {
				kc[i] = nullCell
			}
			groups[""] = &keyed{vals: kc}
			order = append(order, "")
		}
		for _, k := range order {
			g := groups[k]
			row := append([]cell(nil), g.vals...)
			for _, a := range aggs {
				row = append(row, a.ref(g.rows))
			}
			if sets != nil {
				row = append(row, fmtI(st.id))
			}
			out = append(out, row)
		}
	}
	return out
}

func groupExprs(nkeys int) ([]logical.Expr, []string) {
	all := []logical.Expr{col(testSchema, "k1"), col(testSchema, "k2")}
	return all[:nkeys], []string{"k1", "k2"}[:nkeys]
}

func calls(aggs []refAgg) ([]*logical.AggregateCall, []string) {
	var cs []*logical.AggregateCall
	var names []string
	for i, a := range aggs {
		cs = append(cs, a.call)
		names = append(names, fmt.Sprintf("a%d", i))
	}
	return cs, names
}

// plans builds the Single and the Partial→coalesce→Final plans.
func plans(t testing.TB, src exec.Node, nkeys int, sets [][]int, aggs []refAgg) (single, final exec.Node) {
	t.Helper()
	g, gn := groupExprs(nkeys)
	cs, names := calls(aggs)
	s, err := NewHashAggregate(&coalesceNode{src}, Single, g, gn, sets, cs, names)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewHashAggregate(src, Partial, g, gn, sets, cs, names)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFinalAggregate(&coalesceNode{p}, p)
	if err != nil {
		t.Fatal(err)
	}
	return s, f
}

func TestAggregatesAgainstReference(t *testing.T) {
	cases := []struct {
		name         string
		n, domain    int
		nkeys, parts int
		batch        int
		sets         [][]int
	}{
		{"global", 3000, 10, 0, 3, 500, nil},
		{"global-empty", 0, 10, 0, 2, 100, nil},
		{"one-key", 5000, 50, 1, 3, 777, nil},
		{"two-keys", 7000, 200, 2, 4, 1024, nil},
		{"two-keys-small-batches", 2000, 30, 2, 2, 7, nil},
		{"keys-empty-input", 0, 10, 2, 2, 100, nil},
		{"rollup", 4000, 20, 2, 3, 600, [][]int{{0, 1}, {0}, {}}},
		{"cube-empty-input", 0, 20, 2, 2, 600, [][]int{{0, 1}, {0}, {1}, {}}},
		{"grouping-sets", 3000, 20, 2, 2, 400, [][]int{{1}, {0}}},
		{"repeated-sets", 3000, 20, 2, 3, 400, [][]int{{0}, {1}, {0}, {}, {0}, {}}},
		{"repeated-sets-empty-input", 0, 20, 2, 2, 400, [][]int{{0}, {0}, {}, {}}},
		{"repeated-sets-key-order", 2000, 20, 2, 2, 300, [][]int{{0, 1}, {1, 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			r := rand.New(rand.NewPCG(uint64(tc.n), 7))
			rows := genRows(r, tc.n, tc.domain)
			src := toBatches(mem, rows, tc.parts, tc.batch)
			defer src.release()
			aggs := allAggs()
			want := reference(rows, tc.nkeys, tc.sets, aggs)
			single, final := plans(t, src, tc.nkeys, tc.sets, aggs)
			for _, bs := range []int{0, 3} {
				ctx := newTC(mem, 0, t.TempDir(), bs)
				compareRows(t, runAll(t, single, ctx), want)
				compareRows(t, runAll(t, final, ctx), want)
				if m := ctx.Metrics.Lookup(single); m == nil || m.Rows.Load() != int64(len(want)) {
					t.Errorf("metrics: single node rows %v, want %d", m, len(want))
				}
			}
		})
	}
}

func TestSingleRowOnEmptyInput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src := toBatches(mem, nil, 1, 10)
	v, d := col(testSchema, "v"), col(testSchema, "d")
	aggs := []*logical.AggregateCall{call("count", false, nil), call("count", false, nil, v), call("sum", false, nil, v),
		call("avg", false, nil, d), call("min", false, nil, d), call("count", true, nil, d)}
	n, err := NewHashAggregate(src, Single, nil, nil, nil, aggs, []string{"c", "cv", "s", "a", "m", "cd"})
	if err != nil {
		t.Fatal(err)
	}
	got := runAll(t, n, newTC(mem, 0, "", 0))
	want := [][]cell{{scell("0"), scell("0"), nullCell, nullCell, nullCell, scell("0")}}
	compareRows(t, got, want)
	// Result types are exactly the logical ones.
	for i, a := range aggs {
		if !arrow.TypeEqual(n.Schema().Field(i).Type, a.T) {
			t.Errorf("column %d: %s, want %s", i, n.Schema().Field(i).Type, a.T)
		}
	}
}

// decimalSource is one decimal(15,2) column "x" with a constant key "g".
func decimalSource(mem memory.Allocator, xs []int64, batch int) *sourceNode {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "g", Type: arrow.PrimitiveTypes.Int64},
		{Name: "x", Type: dec152, Nullable: true},
	}, nil)
	src := &sourceNode{schema: schema, parts: [][]arrow.RecordBatch{nil}}
	for start := 0; start < len(xs); start += batch {
		b := array.NewRecordBuilder(mem, schema)
		for i, x := range xs[start:min(len(xs), start+batch)] {
			b.Field(0).(*array.Int64Builder).Append(int64((start + i) % 2))
			b.Field(1).(*array.Decimal64Builder).Append(decimal.Decimal64(x))
		}
		src.parts[0] = append(src.parts[0], b.NewRecordBatch())
		b.Release()
	}
	return src
}

func TestDecimalExactness(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	// Values near the decimal(15,2) maximum: the sums leave int64 range.
	const maxUnscaled = 999_999_999_999_999
	r := rand.New(rand.NewPCG(5, 6))
	var xs []int64
	for i := 0; i < 40_000; i++ {
		v := int64(maxUnscaled - r.IntN(1000))
		if i%7 == 3 {
			v = -v / 3
		}
		xs = append(xs, v)
	}
	src := decimalSource(mem, xs, 4096)
	defer src.release()
	x := col(src.schema, "x")
	g := col(src.schema, "g")
	aggs := []*logical.AggregateCall{call("sum", false, nil, x), call("avg", false, nil, x), call("count", false, nil)}
	n, err := NewHashAggregate(src, Single, []logical.Expr{g}, []string{"g"}, nil, aggs, []string{"s", "a", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Schema().Field(1).Type.String(); got != "decimal(38, 2)" {
		t.Errorf("sum type %s", got)
	}
	if got := n.Schema().Field(2).Type.String(); got != "decimal(19, 6)" {
		t.Errorf("avg type %s", got)
	}
	var want [][]cell
	for grp := 0; grp < 2; grp++ {
		var mine []int64
		for i, v := range xs {
			if i%2 == grp {
				mine = append(mine, v)
			}
		}
		sum := bigSum(mine)
		if sum.IsInt64() {
			t.Fatal("test data must overflow int64")
		}
		num := new(big.Int).Mul(sum, big.NewInt(10000))
		want = append(want, []cell{fmtI(int64(grp)), decCell(sum), scell(bigDec(roundDiv(num, int64(len(mine))), 6)), fmtI(int64(len(mine)))})
	}
	compareRows(t, runAll(t, n, newTC(mem, 0, "", 0)), want)
}

func TestDecimalAvgRounding(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cases := []struct {
		xs   []int64
		want string
	}{
		{[]int64{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "0.000313"}, // 0.0003125
		{[]int64{-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "-0.000313"},
		{[]int64{1, 0, 0}, "0.003333"},
		{[]int64{2, 0, 0}, "0.006667"},
		{[]int64{-2, 0, 0}, "-0.006667"},
		{[]int64{12345, 12346}, "123.455000"},
	}
	for _, c := range cases {
		// All rows in group 0: give every row key 0 by doubling the slice
		// with group 1 copies and checking group 0 only.
		var xs []int64
		for _, v := range c.xs {
			xs = append(xs, v, v)
		}
		src := decimalSource(mem, xs, 5)
		x := col(src.schema, "x")
		g := col(src.schema, "g")
		n, err := NewHashAggregate(src, Single, []logical.Expr{g}, []string{"g"}, nil,
			[]*logical.AggregateCall{call("avg", false, nil, x)}, []string{"a"})
		if err != nil {
			t.Fatal(err)
		}
		got := runAll(t, n, newTC(mem, 0, "", 0))
		compareRows(t, got, [][]cell{{scell("0"), scell(c.want)}, {scell("1"), scell(c.want)}})
		src.release()
	}
}

func TestSpill(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(11, 12))
	rows := genRows(r, 30_000, 4000) // ~12k groups
	src := toBatches(mem, rows, 3, 2048)
	defer src.release()
	aggs := allAggs()
	want := reference(rows, 2, nil, aggs)
	single, final := plans(t, src, 2, nil, aggs)
	for _, n := range []exec.Node{single, final} {
		dir := t.TempDir()
		tc := newTC(mem, 512<<10, dir, 0)
		compareRows(t, runAll(t, n, tc), want)
		m := tc.Metrics.Lookup(n)
		if m == nil || m.Spills.Load() == 0 {
			t.Errorf("%s: expected spills with a 512 KiB limit", n)
		}
		if tc.Mem.Used() != 0 {
			t.Errorf("%s: %d bytes still reserved", n, tc.Mem.Used())
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 0 {
			t.Errorf("%s: spill files left behind: %v", n, ents)
		}
		// A Partial node under the same limit emits early instead.
		if f, ok := n.(*HashAggregate); ok && f.Mode() == Final {
			p := f.input.(*coalesceNode).child
			got := runAll(t, p, tc)
			if len(got) <= len(want) {
				t.Errorf("partial under a memory limit emitted %d rows for %d groups; expected early emission", len(got), len(want))
			}
		}
	}
}

func TestSpillRecursive(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(13, 14))
	rows := genRows(r, 20_000, 6000)
	src := toBatches(mem, rows, 1, 4096)
	defer src.release()
	aggs := allAggs()[:6]
	want := reference(rows, 2, nil, aggs)
	single, _ := plans(t, src, 2, nil, aggs)
	// So small that a 1/16 partition must spill again.
	tc := newTC(mem, 64<<10, t.TempDir(), 512)
	compareRows(t, runAll(t, single, tc), want)
	if s := tc.Metrics.Lookup(single).Spills.Load(); s < 2 {
		t.Errorf("spills %d", s)
	}
}

func TestPartialSchemaAndKeyColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src := toBatches(mem, nil, 1, 1)
	g, gn := groupExprs(2)
	d, v := col(testSchema, "d"), col(testSchema, "v")
	p, err := NewHashAggregate(src, Partial, g, gn, [][]int{{0}, {}}, []*logical.AggregateCall{
		call("avg", false, nil, d), call("count", true, nil, v), call("stddev_samp", false, nil, v)}, []string{"a", "c", "s"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range p.Schema().Fields() {
		names = append(names, f.Name+":"+f.Type.String())
	}
	want := "k1:int32 k2:utf8 __grouping_id:int64 a.sum:decimal(38, 2) a.count:int64 c.distinct:list<item: int64, nullable> s.count:int64 s.mean:float64 s.m2:float64"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("partial schema\n got  %s\n want %s", got, want)
	}
	if fmt.Sprint(p.KeyColumns()) != "[0 1 2]" {
		t.Errorf("key columns %v", p.KeyColumns())
	}
	if !strings.Contains(p.String(), "mode=Partial") {
		t.Errorf("String: %s", p.String())
	}
}

func TestErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src := toBatches(mem, nil, 1, 1)
	s, v, k1 := col(testSchema, "s"), col(testSchema, "v"), col(testSchema, "k1")
	bad := []struct {
		name string
		make func() (*HashAggregate, error)
		want string
	}{
		{"unknown function", func() (*HashAggregate, error) {
			return NewHashAggregate(src, Single, nil, nil, nil, []*logical.AggregateCall{{Func: "median", Args: []logical.Expr{v}, T: logical.Int64}}, []string{"m"})
		}, "median"},
		{"sum of string", func() (*HashAggregate, error) {
			return NewHashAggregate(src, Single, nil, nil, nil, []*logical.AggregateCall{{Func: "sum", Args: []logical.Expr{s}, T: logical.Int64}}, []string{"m"})
		}, "utf8"},
		{"wrong declared type", func() (*HashAggregate, error) {
			return NewHashAggregate(src, Single, nil, nil, nil, []*logical.AggregateCall{{Func: "sum", Args: []logical.Expr{v}, T: logical.Float64}}, []string{"m"})
		}, "declared type"},
		{"bad set", func() (*HashAggregate, error) {
			return NewHashAggregate(src, Single, []logical.Expr{k1}, []string{"k1"}, [][]int{{3}}, nil, nil)
		}, "grouping set"},
		{"names", func() (*HashAggregate, error) {
			return NewHashAggregate(src, Single, []logical.Expr{k1}, nil, nil, nil, nil)
		}, "group names"},
		{"final over raw input", func() (*HashAggregate, error) {
			return NewHashAggregate(src, Final, []logical.Expr{k1}, []string{"k1"}, nil, []*logical.AggregateCall{call("count", false, nil)}, []string{"c"})
		}, "partial layout"},
		{"column out of range", func() (*HashAggregate, error) {
			return NewHashAggregate(src, Single, []logical.Expr{&logical.ColumnRef{Index: 42, T: logical.Int64}}, []string{"x"}, nil, nil, nil)
		}, "out of range"},
	}
	for _, b := range bad {
		_, err := b.make()
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: error %v, want one mentioning %q", b.name, err, b.want)
		}
	}
}

func TestSumOverflow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{math.MaxInt64, 1}, nil)
	src := &sourceNode{schema: schema, parts: [][]arrow.RecordBatch{{b.NewRecordBatch()}}}
	b.Release()
	defer src.release()
	n, err := NewHashAggregate(src, Single, nil, nil, nil, []*logical.AggregateCall{call("sum", false, nil, col(schema, "x"))}, []string{"s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tryRunAll(n, newTC(mem, 0, "", 0)); err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Errorf("want an overflow error, got %v", err)
	}
}
