package hashkey

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestHashWidthsAgree(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	vals := []int64{0, 1, -1, 42, math.MaxInt32, math.MinInt32}
	valid := []bool{true, true, true, false, true, true}

	b32 := array.NewInt32Builder(mem)
	b64 := array.NewInt64Builder(mem)
	bd := array.NewDate32Builder(mem)
	bdec := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 20, Scale: 0})
	bdec64 := array.NewDecimal64Builder(mem, &arrow.Decimal64Type{Precision: 10, Scale: 0})
	for i, v := range vals {
		if !valid[i] {
			b32.AppendNull()
			b64.AppendNull()
			bd.AppendNull()
			bdec.AppendNull()
			bdec64.AppendNull()
			continue
		}
		b32.Append(int32(v))
		b64.Append(v)
		bd.Append(arrow.Date32(v))
		bdec.Append(decimal128.FromI64(v))
		bdec64.Append(0)
	}
	_ = bdec64
	arrs := []arrow.Array{b32.NewArray(), b64.NewArray(), bd.NewArray(), bdec.NewArray()}
	for _, b := range []interface{ Release() }{b32, b64, bd, bdec, bdec64} {
		b.Release()
	}
	defer func() {
		for _, a := range arrs {
			a.Release()
		}
	}()
	want := make([]uint64, len(vals))
	Hash(arrs[:1], want)
	for _, a := range arrs[1:] {
		got := make([]uint64, len(vals))
		Hash([]arrow.Array{a}, got)
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s row %d: hash %x, int32 hash %x", a.DataType(), i, got[i], want[i])
			}
		}
	}
	// Distinct values give distinct hashes; NULL differs from 0.
	seen := map[uint64]int{}
	for i, h := range want {
		if j, ok := seen[h]; ok {
			t.Errorf("rows %d and %d collide", i, j)
		}
		seen[h] = i
	}
}

func TestHashDictionaryAndSlices(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	strs := []string{"a", "", "hello world, a longer string", "a", "zz", "seventeen bytes!!"}
	sb := array.NewStringBuilder(mem)
	for i, s := range strs {
		if i == 4 {
			sb.AppendNull()
			continue
		}
		sb.Append(s)
	}
	plain := sb.NewArray()
	sb.Release()
	defer plain.Release()

	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	db := array.NewDictionaryBuilder(mem, dt).(*array.BinaryDictionaryBuilder)
	for i, s := range strs {
		if i == 4 {
			db.AppendNull()
			continue
		}
		if err := db.AppendString(s); err != nil {
			t.Fatal(err)
		}
	}
	dict := db.NewArray()
	db.Release()
	defer dict.Release()

	a := make([]uint64, len(strs))
	b := make([]uint64, len(strs))
	Hash([]arrow.Array{plain}, a)
	Hash([]arrow.Array{dict}, b)
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("row %d: plain %x dictionary %x", i, a[i], b[i])
		}
	}
	if a[0] != a[3] || a[0] == a[1] {
		t.Errorf("equal strings must hash alike and different ones differ: %x", a)
	}
	// A slice hashes like the same rows of the whole array.
	sl := array.NewSlice(plain, 2, 5)
	defer sl.Release()
	c := make([]uint64, 3)
	Hash([]arrow.Array{sl}, c)
	for i := range c {
		if c[i] != a[i+2] {
			t.Errorf("slice row %d: %x, want %x", i, c[i], a[i+2])
		}
	}
}

// rowKey renders row i of cols as a canonical string, the reference for
// key equality in tests.
func rowKey(cols []arrow.Array, i int) string {
	parts := make([]string, len(cols))
	for c, a := range cols {
		if a.IsNull(i) {
			parts[c] = "∅"
			continue
		}
		switch x := a.(type) {
		case *array.Float64:
			v := x.Value(i)
			if v == 0 {
				v = 0
			}
			parts[c] = fmt.Sprint(v)
		default:
			parts[c] = a.ValueStr(i)
		}
	}
	return strings.Join(parts, "|")
}

// randomBatch makes a batch of n rows over a small domain so keys repeat.
func randomBatch(mem memory.Allocator, r *rand.Rand, n, domain int) []arrow.Array {
	ib := array.NewInt64Builder(mem)
	sb := array.NewStringBuilder(mem)
	db := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 38, Scale: 2})
	bb := array.NewBooleanBuilder(mem)
	fb := array.NewFloat64Builder(mem)
	i8 := array.NewInt8Builder(mem)
	defer func() {
		ib.Release()
		sb.Release()
		db.Release()
		bb.Release()
		fb.Release()
		i8.Release()
	}()
	for i := 0; i < n; i++ {
		if r.IntN(10) == 0 {
			ib.AppendNull()
		} else {
			ib.Append(int64(r.IntN(domain)) - int64(domain/2))
		}
		if r.IntN(10) == 0 {
			sb.AppendNull()
		} else {
			sb.Append(strings.Repeat("x", r.IntN(3)*9) + fmt.Sprint(r.IntN(3)))
		}
		if r.IntN(20) == 0 {
			db.AppendNull()
		} else {
			db.Append(decimal128.New(int64(r.IntN(2)), uint64(r.IntN(3))))
		}
		if r.IntN(7) == 0 {
			bb.AppendNull()
		} else {
			bb.Append(r.IntN(2) == 0)
		}
		switch r.IntN(5) {
		case 0:
			fb.Append(math.Copysign(0, -1))
		case 1:
			fb.Append(math.NaN())
		case 2:
			fb.AppendNull()
		default:
			fb.Append(float64(r.IntN(2)))
		}
		i8.Append(int8(r.IntN(3) - 1))
	}
	return []arrow.Array{ib.NewArray(), sb.NewArray(), db.NewArray(), bb.NewArray(), fb.NewArray(), i8.NewArray()}
}

func release(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

func TestTableAgainstMap(t *testing.T) {
	for _, hashMode := range []string{"real", "constant", "fewbits"} {
		t.Run(hashMode, func(t *testing.T) {
			checkTableAgainstMap(t, hashMode, func(mem memory.Allocator, r *rand.Rand, n int) []arrow.Array {
				return randomBatch(mem, r, n, 40)
			})
		})
	}
}

// TestSingleColumnTable covers the inline-key layout of tables with one
// word-kind column: NULL keys, sliced input, floats (-0, NaN), narrow
// types, growth past the look-ahead threshold.
func TestSingleColumnTable(t *testing.T) {
	for col, name := range []string{"int64", "string", "decimal128", "bool", "float64", "int8"} {
		if name == "string" || name == "decimal128" {
			continue // not word kinds
		}
		for _, hashMode := range []string{"real", "constant", "fewbits"} {
			t.Run(name+"/"+hashMode, func(t *testing.T) {
				checkTableAgainstMap(t, hashMode, func(mem memory.Allocator, r *rand.Rand, n int) []arrow.Array {
					cols := randomBatch(mem, r, n+7, 40)
					defer release(cols)
					return []arrow.Array{array.NewSlice(cols[col], 3, int64(n+3))}
				})
			})
		}
	}
	// Runs of equal keys (and of NULLs) take the previous row's id.
	for _, hashMode := range []string{"real", "constant"} {
		t.Run("clustered/"+hashMode, func(t *testing.T) {
			checkTableAgainstMap(t, hashMode, func(mem memory.Allocator, r *rand.Rand, n int) []arrow.Array {
				b := array.NewInt64Builder(mem)
				defer b.Release()
				for b.Len() < n+2 {
					v, null := int64(r.IntN(300)), r.IntN(8) == 0
					for k := 1 + r.IntN(10); k > 0 && b.Len() < n+2; k-- {
						if null {
							b.AppendNull()
						} else {
							b.Append(v)
						}
					}
				}
				a := b.NewArray()
				defer a.Release()
				return []arrow.Array{array.NewSlice(a, 2, int64(n+2))}
			})
		})
	}
	t.Run("large", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		tbl, _ := NewTable([]arrow.DataType{arrow.PrimitiveTypes.Int64})
		const n, rounds, domain = 4096, 80, 150_000
		var k Keys
		hashes := make([]uint64, n)
		ids := make([]uint32, n)
		found := make([]int32, n)
		r := rand.New(rand.NewPCG(5, 6))
		want := map[int64]uint32{} // math.MinInt64 stands for NULL
		for round := 0; round < rounds; round++ {
			b := array.NewInt64Builder(mem)
			vals := make([]int64, n)
			for i := range vals {
				vals[i] = int64(r.IntN(domain)) * 1_000_003
				if i%1000 == 999 {
					b.AppendNull()
					vals[i] = math.MinInt64
				} else {
					b.Append(vals[i])
				}
			}
			a := b.NewArray()
			b.Release()
			if err := k.Reset([]arrow.Array{a}); err != nil {
				t.Fatal(err)
			}
			k.Hash(hashes)
			if err := tbl.FindOrInsert(&k, hashes, ids); err != nil {
				t.Fatal(err)
			}
			if err := tbl.Find(&k, hashes, found); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if id, ok := want[v]; ok && id != ids[i] {
					t.Fatalf("round %d row %d: key %d got id %d, had %d", round, i, v, ids[i], id)
				}
				want[v] = ids[i]
				if found[i] != int32(ids[i]) {
					t.Fatalf("Find gave %d, FindOrInsert %d", found[i], ids[i])
				}
			}
			if tbl.Len() != len(want) {
				t.Fatalf("round %d: %d keys, want %d", round, tbl.Len(), len(want))
			}
			if round == rounds-1 {
				// After Reset nothing is found, the NULL key included.
				tbl.Reset()
				if err := tbl.Find(&k, hashes, found); err != nil {
					t.Fatal(err)
				}
				for i, id := range found {
					if id != -1 {
						t.Fatalf("row %d found as %d after Reset", i, id)
					}
				}
			}
			a.Release()
		}
	})
}

// TestMultiColumnTable covers tables of several fixed-width columns: NULLs
// in any column (and a NULL next to a stored 0), sliced input, growth.
func TestMultiColumnTable(t *testing.T) {
	for _, pick := range [][]int{{0, 5}, {0, 3, 4, 5}, {3, 4}} {
		for _, hashMode := range []string{"real", "constant", "fewbits"} {
			t.Run(fmt.Sprint(pick, hashMode), func(t *testing.T) {
				checkTableAgainstMap(t, hashMode, func(mem memory.Allocator, r *rand.Rand, n int) []arrow.Array {
					cols := randomBatch(mem, r, n+1, 40)
					defer release(cols)
					var out []arrow.Array
					for _, c := range pick {
						out = append(out, array.NewSlice(cols[c], 1, int64(n+1)))
					}
					return out
				})
			})
		}
	}
	// Short strings are compared packed; batches with a long value are
	// compared through the arena, and both must agree on ids.
	for _, longFrom := range []int{0, 3, 1000} {
		for _, hashMode := range []string{"real", "constant"} {
			t.Run(fmt.Sprintf("strings/long from batch %d/%s", longFrom, hashMode), func(t *testing.T) {
				batch := 0
				checkTableAgainstMap(t, hashMode, func(mem memory.Allocator, r *rand.Rand, n int) []arrow.Array {
					batch++
					cols := randomBatch(mem, r, n+5, 40)
					defer release(cols)
					sb := array.NewStringBuilder(mem)
					defer sb.Release()
					for i := 0; i < n+5; i++ {
						switch {
						case r.IntN(9) == 0:
							sb.AppendNull()
						case batch >= longFrom && r.IntN(50) == 0:
							sb.Append("a string longer than fifteen bytes")
						default:
							sb.Append([]string{"", "A", "N", "R", "abcdefgh", "abcdefghijklmno"}[r.IntN(6)])
						}
					}
					str := sb.NewArray()
					defer str.Release()
					out := []arrow.Array{str, cols[2], cols[3]}
					for i, c := range out {
						out[i] = array.NewSlice(c, 5, int64(n+5))
					}
					return out
				})
			})
		}
	}
	t.Run("large", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		types := []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int32}
		tbl, _ := NewTable(types)
		const n, rounds = 4096, 60
		var k Keys
		hashes := make([]uint64, n)
		ids := make([]uint32, n)
		found := make([]int32, n)
		r := rand.New(rand.NewPCG(7, 8))
		want := map[[2]int64]uint32{}
		for round := 0; round < rounds; round++ {
			b1, b2 := array.NewInt64Builder(mem), array.NewInt32Builder(mem)
			keys := make([][2]int64, n)
			for i := range keys {
				a, c := int64(r.IntN(400)), int64(r.IntN(400))
				if i%500 == 7 {
					b1.AppendNull()
					a = math.MinInt64
				} else {
					b1.Append(a)
				}
				if i%700 == 9 {
					b2.AppendNull()
					c = math.MinInt64
				} else {
					b2.Append(int32(c))
				}
				keys[i] = [2]int64{a, c}
			}
			c1, c2 := b1.NewArray(), b2.NewArray()
			b1.Release()
			b2.Release()
			if err := k.Reset([]arrow.Array{c1, c2}); err != nil {
				t.Fatal(err)
			}
			k.Hash(hashes)
			if err := tbl.FindOrInsert(&k, hashes, ids); err != nil {
				t.Fatal(err)
			}
			if err := tbl.Find(&k, hashes, found); err != nil {
				t.Fatal(err)
			}
			for i, key := range keys {
				if id, ok := want[key]; ok && id != ids[i] {
					t.Fatalf("round %d row %d: key %v got id %d, had %d", round, i, key, ids[i], id)
				}
				want[key] = ids[i]
				if found[i] != int32(ids[i]) {
					t.Fatalf("Find gave %d, FindOrInsert %d", found[i], ids[i])
				}
			}
			if tbl.Len() != len(want) {
				t.Fatalf("round %d: %d keys, want %d", round, tbl.Len(), len(want))
			}
			c1.Release()
			c2.Release()
		}
	})
}

// checkTableAgainstMap feeds batches from mk through Find and FindOrInsert
// and checks the ids against a map keyed by the rows' text, then the stored
// keys (Columns, Take) and Reset.
func checkTableAgainstMap(t *testing.T, hashMode string, mk func(mem memory.Allocator, r *rand.Rand, n int) []arrow.Array) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(1, 2))
	var tbl *Table
	ref := map[string]uint32{}
	var order []string
	var keys Keys
	nb := 6
	if hashMode == "constant" {
		nb = 2
	}
	for b := 0; b < nb; b++ {
		n := 700 + r.IntN(900)
		cols := mk(mem, r, n)
		if tbl == nil {
			types := make([]arrow.DataType, len(cols))
			for i, c := range cols {
				types[i] = c.DataType()
			}
			var err error
			if tbl, err = NewTable(types); err != nil {
				t.Fatal(err)
			}
		}
		if err := keys.Reset(cols); err != nil {
			t.Fatal(err)
		}
		hashes := make([]uint64, n)
		keys.Hash(hashes)
		switch hashMode {
		case "constant":
			for i := range hashes {
				hashes[i] = 0xdeadbeef00000007
			}
		case "fewbits":
			for i := range hashes {
				hashes[i] &= 0x0000000300000003
			}
		}
		// Probe before inserting: keys of earlier batches are found.
		found := make([]int32, n)
		if err := tbl.Find(&keys, hashes, found); err != nil {
			t.Fatal(err)
		}
		ids := make([]uint32, n)
		if err := tbl.FindOrInsert(&keys, hashes, ids); err != nil {
			t.Fatal(err)
		}
		next := len(order)
		for i := 0; i < n; i++ {
			k := rowKey(cols, i)
			want, ok := ref[k]
			if !ok {
				// A new key: its id is one of the fresh ones and no
				// other key has it.
				if found[i] != -1 {
					t.Fatalf("batch %d row %d: Find gave %d for a new key %s", b, i, found[i], k)
				}
				if int(ids[i]) < next || int(ids[i]) >= tbl.Len() {
					t.Fatalf("batch %d row %d: new key got id %d outside [%d,%d)", b, i, ids[i], next, tbl.Len())
				}
				want = ids[i]
				ref[k] = want
				for len(order) <= int(want) {
					order = append(order, "")
				}
				if order[want] != "" {
					t.Fatalf("id %d given to %s and %s", want, order[want], k)
				}
				order[want] = k
			} else if found[i] != int32(want) && ref[k] < uint32(next) {
				t.Fatalf("batch %d row %d: Find gave %d, want %d", b, i, found[i], want)
			}
			if ids[i] != want {
				t.Fatalf("batch %d row %d key %s: id %d, want %d", b, i, k, ids[i], want)
			}
			if !tbl.Equal(&keys, i, ids[i]) {
				t.Fatalf("Equal(row %d, id %d) = false", i, ids[i])
			}
		}
		release(cols)
	}
	if tbl.Len() != len(order) {
		t.Fatalf("Len %d, want %d", tbl.Len(), len(order))
	}
	// Stored keys round-trip.
	out, err := tbl.Columns(mem, 0, tbl.Len())
	if err != nil {
		t.Fatal(err)
	}
	for i := range order {
		if got := rowKey(out, i); got != order[i] {
			t.Errorf("stored key %d: %s, want %s", i, got, order[i])
		}
	}
	release(out)
	ids := []uint32{uint32(tbl.Len() - 1), 0}
	taken, err := tbl.Take(mem, ids)
	if err != nil {
		t.Fatal(err)
	}
	if rowKey(taken, 0) != order[len(order)-1] || rowKey(taken, 1) != order[0] {
		t.Errorf("Take gave %s, %s", rowKey(taken, 0), rowKey(taken, 1))
	}
	release(taken)
	tbl.Reset()
	if tbl.Len() != 0 {
		t.Fatal("Reset left keys")
	}
}

func TestTableErrors(t *testing.T) {
	if _, err := NewTable([]arrow.DataType{arrow.ListOf(arrow.PrimitiveTypes.Int32)}); err == nil ||
		!strings.Contains(err.Error(), "list") {
		t.Errorf("want an error naming the list type, got %v", err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tbl, err := NewTable([]arrow.DataType{arrow.PrimitiveTypes.Int64})
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewInt32Builder(mem)
	b.Append(1)
	a := b.NewArray()
	b.Release()
	defer a.Release()
	var k Keys
	if err := k.Reset([]arrow.Array{a}); err != nil {
		t.Fatal(err)
	}
	if err := tbl.FindOrInsert(&k, []uint64{1}, []uint32{0}); err == nil || !strings.Contains(err.Error(), "int32") {
		t.Errorf("want a type mismatch error, got %v", err)
	}
}

func TestTableNoColumns(t *testing.T) {
	tbl, err := NewTable(nil)
	if err != nil {
		t.Fatal(err)
	}
	var k Keys
	_ = k.Reset(nil)
	if err := tbl.FindOrInsert(&k, nil, nil); err != nil {
		t.Fatal(err)
	}
	if tbl.Len() != 0 {
		t.Fatal("no rows must insert nothing")
	}
}

func BenchmarkTableInt64HighCardinality(b *testing.B) {
	mem := memory.NewGoAllocator()
	const n = 8192
	const groups = 1_500_000
	r := rand.New(rand.NewPCG(3, 4))
	var batches []arrow.Array
	for j := 0; j < 64; j++ {
		ib := array.NewInt64Builder(mem)
		for i := 0; i < n; i++ {
			ib.Append(int64(r.IntN(groups)))
		}
		batches = append(batches, ib.NewArray())
		ib.Release()
	}
	tbl, _ := NewTable([]arrow.DataType{arrow.PrimitiveTypes.Int64})
	var k Keys
	hashes := make([]uint64, n)
	ids := make([]uint32, n)
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		a := batches[it%len(batches)]
		_ = k.Reset([]arrow.Array{a})
		k.Hash(hashes)
		_ = tbl.FindOrInsert(&k, hashes, ids)
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds()/1e6, "Mrows/s")
}

func BenchmarkTableTwoStrings(b *testing.B) {
	mem := memory.NewGoAllocator()
	const n = 8192
	r := rand.New(rand.NewPCG(3, 4))
	s1 := array.NewStringBuilder(mem)
	s2 := array.NewStringBuilder(mem)
	for i := 0; i < n; i++ {
		s1.Append([]string{"A", "N", "R"}[r.IntN(3)])
		s2.Append([]string{"F", "O"}[r.IntN(2)])
	}
	cols := []arrow.Array{s1.NewArray(), s2.NewArray()}
	tbl, _ := NewTable([]arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.String})
	var k Keys
	hashes := make([]uint64, n)
	ids := make([]uint32, n)
	b.ResetTimer()
	cpu := startCPU(b)
	for it := 0; it < b.N; it++ {
		_ = k.Reset(cols)
		k.Hash(hashes)
		_ = tbl.FindOrInsert(&k, hashes, ids)
	}
	cpu.report(b, n)
}

// Short strings are packed into words when a whole batch allows it; the
// ids and hashes must not depend on which batches were packed.
func TestShortStringsAcrossBatches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	short := []string{"", "a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmno", "abcdefghijklmnp", "b"}
	long := "abcdefghijklmnopq"
	mk := func(vals []string, nullAt int) arrow.Array {
		b := array.NewStringBuilder(mem)
		defer b.Release()
		for i, v := range vals {
			if i == nullAt {
				b.AppendNull()
			}
			b.Append(v)
		}
		return b.NewArray()
	}
	packedBatch := mk(short, 3)
	defer packedBatch.Release()
	rev := append([]string{long}, short...)
	for i, j := 1, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	mixedBatch := mk(rev, 5)
	defer mixedBatch.Release()

	tbl, _ := NewTable([]arrow.DataType{arrow.BinaryTypes.String})
	ids := map[string]uint32{}
	for _, a := range []arrow.Array{packedBatch, mixedBatch, packedBatch} {
		var k Keys
		if err := k.Reset([]arrow.Array{a}); err != nil {
			t.Fatal(err)
		}
		h := make([]uint64, a.Len())
		k.Hash(h)
		out := make([]uint32, a.Len())
		if err := tbl.FindOrInsert(&k, h, out); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < a.Len(); i++ {
			key := "NULL"
			want := combine(seed, nullWord)
			if a.IsValid(i) {
				key = a.(*array.String).Value(i)
				want = combine(seed, HashBytes([]byte(key)))
			}
			if h[i] != want {
				t.Errorf("%q: hash %x, want %x", key, h[i], want)
			}
			if id, ok := ids[key]; ok && id != out[i] {
				t.Errorf("%q: id %d, earlier %d", key, out[i], id)
			}
			ids[key] = out[i]
		}
	}
	if tbl.Len() != len(short)+2 {
		t.Errorf("%d keys, want %d", tbl.Len(), len(short)+2)
	}
}

// BenchmarkTableInt64Probe measures FindOrInsert against a table that
// already holds every key (1.5 M distinct int64 keys: larger than cache).
func BenchmarkTableInt64Probe(b *testing.B) {
	mem := memory.NewGoAllocator()
	const n = 8192
	const groups = 1_500_000
	r := rand.New(rand.NewPCG(3, 4))
	tbl, _ := NewTable([]arrow.DataType{arrow.PrimitiveTypes.Int64})
	var k Keys
	hashes := make([]uint64, n)
	ids := make([]uint32, n)
	for start := 0; start < groups; start += n {
		ib := array.NewInt64Builder(mem)
		for i := start; i < min(start+n, groups); i++ {
			ib.Append(int64(i) * 7)
		}
		a := ib.NewArray()
		ib.Release()
		_ = k.Reset([]arrow.Array{a})
		k.Hash(hashes)
		_ = tbl.FindOrInsert(&k, hashes, ids)
		a.Release()
	}
	var batches []arrow.Array
	for j := 0; j < 16; j++ {
		ib := array.NewInt64Builder(mem)
		for i := 0; i < n; i++ {
			ib.Append(int64(r.IntN(groups)) * 7)
		}
		batches = append(batches, ib.NewArray())
		ib.Release()
	}
	defer release(batches)
	b.ResetTimer()
	cpu := startCPU(b)
	for it := 0; it < b.N; it++ {
		a := batches[it%len(batches)]
		_ = k.Reset([]arrow.Array{a})
		k.Hash(hashes)
		_ = tbl.FindOrInsert(&k, hashes, ids)
	}
	cpu.report(b, n)
}

// BenchmarkTableTwoColumnsProbe measures FindOrInsert of keys (int64,
// date32) against a table that holds all 1 M of them.
func BenchmarkTableTwoColumnsProbe(b *testing.B) {
	mem := memory.NewGoAllocator()
	const n = 8192
	const groups = 1_000_000
	mk := func(keys func(i int) int) []arrow.Array {
		ib := array.NewInt64Builder(mem)
		db := array.NewDate32Builder(mem)
		for i := 0; i < n; i++ {
			k := keys(i)
			ib.Append(int64(k) * 7)
			db.Append(arrow.Date32(k % 2400))
		}
		defer ib.Release()
		defer db.Release()
		return []arrow.Array{ib.NewArray(), db.NewArray()}
	}
	tbl, _ := NewTable([]arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.FixedWidthTypes.Date32})
	var k Keys
	hashes := make([]uint64, n)
	ids := make([]uint32, n)
	for start := 0; start < groups; start += n {
		cols := mk(func(i int) int { return (start + i) % groups })
		_ = k.Reset(cols)
		k.Hash(hashes)
		_ = tbl.FindOrInsert(&k, hashes, ids)
		release(cols)
	}
	r := rand.New(rand.NewPCG(3, 4))
	var batches [][]arrow.Array
	for j := 0; j < 16; j++ {
		batches = append(batches, mk(func(int) int { return r.IntN(groups) }))
	}
	defer func() {
		for _, c := range batches {
			release(c)
		}
	}()
	b.ResetTimer()
	cpu := startCPU(b)
	for it := 0; it < b.N; it++ {
		_ = k.Reset(batches[it%len(batches)])
		k.Hash(hashes)
		_ = tbl.FindOrInsert(&k, hashes, ids)
	}
	cpu.report(b, n)
}
