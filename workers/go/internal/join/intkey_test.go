package join

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

// indexKinds are the build indexes the join tests run with.
var indexKinds = []indexKind{indexAuto, indexRank, indexPacked, indexHashed}

func int64Array(alloc memory.Allocator, vals []int64, valid []bool) arrow.Array {
	b := array.NewInt64Builder(alloc)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func int8Array(alloc memory.Allocator, vals []int8, valid []bool) arrow.Array {
	b := array.NewInt8Builder(alloc)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

func TestIntPacker(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	types := []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int8}
	// Build keys: column 0 in [-5, 7], column 1 in [-128, 3]; one NULL.
	b0 := int64Array(mem, []int64{-5, 7, 0, 3}, []bool{true, true, true, true})
	b1 := int8Array(mem, []int8{-128, 3, 0, 9}, []bool{true, true, true, false})
	defer b0.Release()
	defer b1.Release()
	p, ok := newIntPacker(types, [][]arrow.Array{{b0, b1}})
	if !ok {
		t.Fatal("int64 and int8 keys should pack")
	}
	if p.domain != 13*132 {
		t.Fatalf("domain %d, want %d", p.domain, 13*132)
	}
	// Probe keys: in range, out of range on either column, NULL on either,
	// the extremes of each type.
	p0 := int64Array(mem, []int64{-5, 7, 8, -6, 0, 0, 3, math.MinInt64, math.MaxInt64, 7}, []bool{true, true, true, true, false, true, true, true, true, true})
	p1 := int8Array(mem, []int8{-128, 3, 0, 0, 0, 4, 0, 0, 0, 127}, []bool{true, true, true, true, true, false, true, true, true, true})
	defer p0.Release()
	defer p1.Release()
	out := make([]uint64, 10)
	nulls := make([]bool, 10)
	if !p.pack([]arrow.Array{p0, p1}, out, nulls) {
		t.Fatal("pack should report the NULL keys")
	}
	s := p.domain
	want := []uint64{0, 12 + 131*13, s, s, s, s, 8 + 128*13, s, s, s}
	wantNull := []bool{false, false, false, false, true, true, false, false, false, false}
	for i := range out {
		if out[i] != want[i] || nulls[i] != wantNull[i] {
			t.Errorf("row %d: packed %d null %v, want %d %v", i, out[i], nulls[i], want[i], wantNull[i])
		}
	}

	// The full int64 range does not pack, nor a box of 2^62 values or more.
	full := int64Array(mem, []int64{math.MinInt64, math.MaxInt64}, nil)
	defer full.Release()
	if _, ok := newIntPacker(types[:1], [][]arrow.Array{{full}}); ok {
		t.Error("the full int64 range should not pack")
	}
	wide := int64Array(mem, []int64{0, 1 << 40}, nil)
	defer wide.Release()
	if _, ok := newIntPacker([]arrow.DataType{types[0], types[0]}, [][]arrow.Array{{wide, wide}}); ok {
		t.Error("a box of 2^82 values should not pack")
	}
	if _, ok := newIntPacker([]arrow.DataType{arrow.BinaryTypes.String}, nil); ok {
		t.Error("strings should not pack")
	}
	// All-NULL build keys: an empty box, nothing matches.
	nullCol := int64Array(mem, []int64{1, 2}, []bool{false, false})
	defer nullCol.Release()
	p, ok = newIntPacker(types[:1], [][]arrow.Array{{nullCol}})
	if !ok || p.domain != 0 {
		t.Fatalf("all-NULL keys: ok %v domain %d", ok, p.domain)
	}
	p.pack([]arrow.Array{b0}, out[:4], nulls)
	for i, k := range out[:4] {
		if k != 0 {
			t.Errorf("row %d packs to %d in an empty box", i, k)
		}
	}
	x := newRankIndex(0)
	x.add(out[:4])
	x.seal()
	g := make([]int32, 4)
	x.find(out[:4], g)
	for i, v := range g {
		if v != -1 {
			t.Errorf("empty rank index found row %d in group %d", i, v)
		}
	}
}

// TestPackedIndexes checks the rank index and the packed table against a
// map on random keys with duplicates and sentinels.
func TestPackedIndexes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, domain := range []uint64{1, 63, 64, 65, 1000, 1 << 16} {
		const sentinelEvery = 7
		build := make([]uint64, 3000)
		for i := range build {
			build[i] = rng.Uint64N(domain)
			if i%sentinelEvery == 0 {
				build[i] = domain
			}
		}
		probe := make([]uint64, 5000)
		for i := range probe {
			probe[i] = rng.Uint64N(domain + 1) // includes the sentinel
		}
		// Reference: key -> group by rank (sorted distinct) and by first
		// appearance.
		present := map[uint64]bool{}
		first := map[uint64]int32{}
		for _, k := range build {
			if k != domain {
				present[k] = true
				if _, ok := first[k]; !ok {
					first[k] = int32(len(first))
				}
			}
		}
		rank := map[uint64]int32{}
		r := int32(0)
		for k := uint64(0); k < domain; k++ {
			if present[k] {
				rank[k] = r
				r++
			}
		}
		x := newRankIndex(domain)
		x.add(build)
		x.seal()
		if x.n != len(present) {
			t.Fatalf("domain %d: rank index has %d groups, want %d", domain, x.n, len(present))
		}
		pt := newPackedTable(len(build))
		bg := make([]int32, len(build))
		pt.insert(build, domain, bg)
		if pt.n != len(present) {
			t.Fatalf("domain %d: packed table has %d groups, want %d", domain, pt.n, len(present))
		}
		for i, k := range build {
			want := int32(-1)
			if k != domain {
				want = first[k]
			}
			if bg[i] != want {
				t.Fatalf("domain %d: build row %d (key %d) inserted as group %d, want %d", domain, i, k, bg[i], want)
			}
		}
		gr, gp := make([]int32, len(probe)), make([]int32, len(probe))
		x.find(probe, gr)
		pt.find(probe, domain, gp)
		for i, k := range probe {
			wr, wp := int32(-1), int32(-1)
			if g, ok := rank[k]; ok {
				wr = g
			}
			if g, ok := first[k]; ok {
				wp = g
			}
			if gr[i] != wr || gp[i] != wp {
				t.Fatalf("domain %d: key %d found in groups %d (rank) and %d (packed), want %d and %d", domain, k, gr[i], gp[i], wr, wp)
			}
		}
	}
}

var iSchema = arrow.NewSchema([]arrow.Field{
	{Name: "k1", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "k2", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}, nil)

// intRows makes rows of two integer keys drawn from k1s and [-3, 3] (with
// NULLs when nulls is set) and a payload.
func intRows(rng *rand.Rand, n int, k1s []int, nulls bool) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		var k1, k2, v any = k1s[rng.IntN(len(k1s))], rng.IntN(7) - 3, rng.IntN(1000)
		if nulls && rng.IntN(20) == 0 {
			k1 = nil
		}
		if nulls && rng.IntN(20) == 0 {
			k2 = nil
		}
		if rng.IntN(20) == 0 {
			v = nil
		}
		rows[i] = []any{k1, k2, v}
	}
	return rows
}

// TestJoinsRandomizedIntKeys runs every join type on integer keys packed
// into the rank index, the packed table and the hashed table: one and two
// key columns of different widths, negative keys, narrow and very wide
// ranges, NULLs and duplicates on both sides.
func TestJoinsRandomizedIntKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	narrow := []int{-7, -1, 0, 1, 2, 5, 9, 20, 33, 34, 35, 40, 51, 60, 77}
	wide := []int{-1 << 50, -3, 0, 17, 1 << 40, 1<<50 + 1}
	extreme := []int{math.MinInt64, -1, 0, math.MaxInt64}
	types := []logical.JoinType{logical.JoinInner, logical.JoinLeft, logical.JoinRight, logical.JoinFull,
		logical.JoinSemi, logical.JoinAnti, logical.JoinMark}
	residual := pred("test_gt10", col(5), col(2))
	k2 := &logical.ColumnRef{Index: 1, T: arrow.PrimitiveTypes.Int32, CanBeNull: true}
	for _, keys := range []struct {
		name string
		k1s  []int
	}{{"narrow", narrow}, {"wide", wide}, {"extreme", extreme}} {
		L := intRows(rng, 200, keys.k1s, true)
		R := intRows(rng, 120, keys.k1s[1:], true)
		for _, kind := range indexKinds {
			forceIndex = kind
			for _, jt := range types {
				for _, multi := range []bool{false, true} {
					for _, resid := range []bool{false, true} {
						su := randomSetup{schema: iSchema, rParts: 2}
						if multi {
							su.k2 = k2
						}
						t.Run(fmt.Sprintf("%s/%s/%s/multi=%v/resid=%v", keys.name, kind, jt, multi, resid), func(t *testing.T) {
							runRandomOn(t, su, jt, false, resid, false, L, R, residual)
						})
					}
				}
			}
			t.Run(fmt.Sprintf("%s/%s/not_in", keys.name, kind), func(t *testing.T) {
				runRandomOn(t, randomSetup{schema: iSchema, rParts: 2}, logical.JoinAnti, true, true, false, L, rowsNotNullKey(R), residual)
			})
		}
	}
	forceIndex = indexAuto
}

// TestGroupLayouts covers the layouts of the build rows by key: sorted
// with duplicates (rows of a key consecutive), unique keys in key order
// (the identity) and out of order (a permutation), for the join types
// that read the build rows.
func TestGroupLayouts(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var sortedDup, uniqueSorted, uniqueShuffled [][]any
	for k := -20; k < 40; k++ {
		if k%3 == 0 {
			continue // gaps between keys
		}
		for range 1 + rng.IntN(3) {
			sortedDup = append(sortedDup, []any{k, 0, rng.IntN(1000)})
		}
		uniqueSorted = append(uniqueSorted, []any{k, 0, rng.IntN(1000)})
	}
	uniqueShuffled = append(uniqueShuffled, uniqueSorted...)
	rng.Shuffle(len(uniqueShuffled), func(i, j int) { uniqueShuffled[i], uniqueShuffled[j] = uniqueShuffled[j], uniqueShuffled[i] })
	keys := make([]int, 0, 70)
	for k := -25; k < 45; k++ {
		keys = append(keys, k)
	}
	L := intRows(rng, 300, keys, true)
	residual := pred("test_gt10", col(5), col(2))
	types := []logical.JoinType{logical.JoinInner, logical.JoinLeft, logical.JoinRight, logical.JoinFull,
		logical.JoinSemi, logical.JoinAnti, logical.JoinMark}
	for _, layout := range []struct {
		name string
		R    [][]any
	}{{"sorted_dup", sortedDup}, {"unique_sorted", uniqueSorted}, {"unique_shuffled", uniqueShuffled},
		// As many rows with non-NULL keys as keys (NULL keys included),
		// yet not one row per key.
		{"pair_and_null", [][]any{{5, 0, 1}, {5, 0, 2}, {nil, 0, 3}}}} {
		for _, kind := range indexKinds {
			forceIndex = kind
			for _, jt := range types {
				for _, resid := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/%s/%s/resid=%v", layout.name, kind, jt, resid), func(t *testing.T) {
						runRandomOn(t, randomSetup{schema: iSchema, rParts: 1}, jt, false, resid, false, L, layout.R, residual)
					})
				}
			}
			t.Run(fmt.Sprintf("%s/%s/single", layout.name, kind), func(t *testing.T) {
				runRandomOn(t, randomSetup{schema: iSchema, rParts: 1}, logical.JoinSingle, false, false, false, L, layout.R, residual)
			})
		}
	}
	forceIndex = indexAuto
}

// TestDecimalKeysOfDifferentPrecision joins decimal keys that differ only
// in precision: their unscaled values compare directly.
func TestDecimalKeysOfDifferentPrecision(t *testing.T) {
	lt := &arrow.Decimal64Type{Precision: 12, Scale: 2}
	rt := &arrow.Decimal64Type{Precision: 15, Scale: 2}
	ls := arrow.NewSchema([]arrow.Field{{Name: "lk", Type: lt, Nullable: true}}, nil)
	rs := arrow.NewSchema([]arrow.Field{{Name: "rk", Type: rt, Nullable: true}, {Name: "rv", Type: arrow.PrimitiveTypes.Int64}}, nil)
	L := [][]any{{105}, {-3}, {nil}, {999999}, {105}}
	R := [][]any{{105, 1}, {999999, 2}, {7, 3}, {nil, 4}, {105, 5}}
	want := []string{"-0.03|NULL|NULL", "1.05|1.05|1", "1.05|1.05|1", "1.05|1.05|5", "1.05|1.05|5", "9999.99|9999.99|2", "NULL|NULL|NULL"}
	if _, err := NewHashJoin(nil, nil, logical.JoinInner, nil, nil, nil, false, CollectBuild); err == nil {
		t.Fatal("missing inputs should fail")
	}
	if KeyTypesCompatible(lt, &arrow.Decimal64Type{Precision: 12, Scale: 3}) {
		t.Error("decimals of different scales are not compatible")
	}
	for _, kind := range indexKinds {
		forceIndex = kind
		t.Run(kind.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			l := split(t, mem, ls, L, 2, 2, false)
			defer l.release()
			r := split(t, mem, rs, R, 2, 2, false)
			defer r.release()
			lk := []logical.Expr{&logical.ColumnRef{Index: 0, T: lt, CanBeNull: true}}
			rk := []logical.Expr{&logical.ColumnRef{Index: 0, T: rt, CanBeNull: true}}
			node, err := NewHashJoin(l, r, logical.JoinLeft, lk, rk, nil, false, CollectBuild)
			if err != nil {
				t.Fatal(err)
			}
			tc := exec.NewTaskContext()
			tc.Alloc = mem
			got, err := drain(context.Background(), node, tc, true, 1024)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	forceIndex = indexAuto
}
