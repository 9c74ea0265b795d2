package aggregate

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/substrait/logical"
	"github.com/arbalest/arbalest/workers/go/internal/exec"
)

func TestSmallKeysEligibility(t *testing.T) {
	str, i32, i64 := arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64
	cases := []struct {
		types  []arrow.DataType
		ok     bool
		maxLen int
	}{
		{[]arrow.DataType{str, str}, true, 3},
		{[]arrow.DataType{str}, true, 7},
		{[]arrow.DataType{i32, str}, true, 3},
		{[]arrow.DataType{arrow.PrimitiveTypes.Int8, arrow.FixedWidthTypes.Boolean}, true, 0},
		{[]arrow.DataType{i32}, false, 0},                               // the single-column table is as fast
		{[]arrow.DataType{i64, str}, false, 0},                          // int64 does not pack
		{[]arrow.DataType{i32, i32}, false, 0},                          // 66 bits
		{[]arrow.DataType{str, str, str, str, str, str, str}, false, 0}, // no room for a byte each
		{[]arrow.DataType{arrow.BinaryTypes.LargeString, str}, false, 0},
	}
	for _, c := range cases {
		s := newSmallKeys(c.types)
		if (s != nil) != c.ok {
			t.Errorf("%v: eligible %v, want %v", c.types, s != nil, c.ok)
			continue
		}
		if s == nil {
			continue
		}
		for _, f := range s.fields {
			if (f.id == arrow.STRING) && f.max != c.maxLen {
				t.Errorf("%v: max string length %d, want %d", c.types, f.max, c.maxLen)
			}
		}
		last := s.fields[len(s.fields)-1]
		if last.shift+1+last.lbits+last.vbits > 64 {
			t.Errorf("%v: fields need %d bits", c.types, last.shift+1+last.lbits+last.vbits)
		}
	}
}

// TestSmallKeysPackInjective checks that distinct keys (NULL and "" and
// strings with zero bytes among them) pack to distinct words, equal keys
// to equal words whatever their offset in the array, and that a value too
// long for its field makes pack fail.
func TestSmallKeysPackInjective(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	vals := []*string{nil, ptr(""), ptr("A"), ptr("A\x00"), ptr("\x00"), ptr("\x00A"), ptr("AB"), ptr("BA"), ptr("ABC"), ptr("N")}
	sb := array.NewStringBuilder(mem)
	ib := array.NewInt16Builder(mem)
	var want []string
	for _, a := range vals {
		for _, x := range []*int16{nil, ptr(int16(0)), ptr(int16(-1)), ptr(int16(7))} {
			for rep := 0; rep < 2; rep++ { // each key twice
				if a == nil {
					sb.AppendNull()
				} else {
					sb.Append(*a)
				}
				appendOpt(ib, x)
				want = append(want, fmt.Sprintf("%v|%v", deref(a), deref(x)))
			}
		}
	}
	sa, ia := sb.NewArray(), ib.NewArray()
	sb.Release()
	ib.Release()
	defer sa.Release()
	defer ia.Release()
	s := newSmallKeys([]arrow.DataType{arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int16})
	// Slices at an offset exercise the offset handling.
	for _, off := range []int{0, 3} {
		n := sa.Len() - off
		cs := array.NewSlice(sa, int64(off), int64(sa.Len()))
		ci := array.NewSlice(ia, int64(off), int64(ia.Len()))
		if !s.pack([]arrow.Array{cs, ci}, n) {
			t.Fatalf("offset %d: pack failed", off)
		}
		byWord := map[uint64]string{}
		distinct := map[string]bool{}
		for _, k := range want[off:] {
			distinct[k] = true
		}
		for i, w := range s.packed[:n] {
			k := want[off+i]
			if prev, ok := byWord[w]; ok && prev != k {
				t.Errorf("keys %q and %q both pack to %#x", prev, k, w)
			}
			byWord[w] = k
		}
		if len(byWord) != len(distinct) {
			t.Errorf("offset %d: %d distinct words, want %d", off, len(byWord), len(distinct))
		}
		cs.Release()
		ci.Release()
	}
	lb := array.NewStringBuilder(mem)
	lb.AppendValues([]string{"A", "ABCDEF"}, nil) // the field holds 5 bytes
	la := lb.NewArray()
	lb.Release()
	defer la.Release()
	ib2 := array.NewInt16Builder(mem)
	ib2.AppendValues([]int16{1, 2}, nil)
	ia2 := ib2.NewArray()
	ib2.Release()
	defer ia2.Release()
	if s.pack([]arrow.Array{la, ia2}, 2) {
		t.Error("pack of a 6-byte string into a 5-byte field succeeded")
	}
}

// TestSmallKeysOneBytePath checks that columns of one-byte strings (packed
// without per-row lengths) pack to the same words as the general loop,
// since the cache is shared by batches of either kind.
func TestSmallKeysOneBytePath(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	build := func(vals ...string) arrow.Array {
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.AppendValues(vals, nil)
		return b.NewArray()
	}
	oneA, oneB := build("x", "A", "N", "R", "A", "\x00"), build("y", "F", "O", "F", "F", "O")
	mixA, mixB := build("A", "N", "R", "A", "\x00", "AB"), build("F", "O", "F", "F", "O", "")
	defer oneA.Release()
	defer oneB.Release()
	defer mixA.Release()
	defer mixB.Release()
	s := newSmallKeys([]arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.String})
	// The one-byte arrays are sliced past their first value (offsets not
	// starting at 0).
	sa, sb := array.NewSlice(oneA, 1, 6), array.NewSlice(oneB, 1, 6)
	defer sa.Release()
	defer sb.Release()
	if !s.pack([]arrow.Array{sa, sb}, 5) {
		t.Fatal("pack of one-byte strings failed")
	}
	fast := append([]uint64(nil), s.packed[:5]...)
	if !s.pack([]arrow.Array{mixA, mixB}, 6) {
		t.Fatal("pack of mixed strings failed")
	}
	for i, w := range fast {
		if s.packed[i] != w {
			t.Errorf("row %d: one-byte path packs %#x, general loop %#x", i, w, s.packed[i])
		}
	}
	if fast[0] != fast[3] || fast[0] == fast[1] || fast[2] == fast[0] {
		t.Errorf("packed words %#x: equal keys must pack alike, distinct keys apart", fast)
	}
}

func deref[T any](p *T) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprint(*p)
}

// TestSmallKeysAggregate groups by two short string columns through the
// fast path: few groups at first (with NULLs), then, mid-stream, enough
// distinct keys to overflow the cache, or strings too long for their
// field, after which the general table must carry on with the same ids.
func TestSmallKeysAggregate(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	type row struct {
		a, b *string
		v    int64
	}
	gen := func(r *rand.Rand, n int, domain []string, nullEvery int) []row {
		rows := make([]row, n)
		for i := range rows {
			if r.IntN(nullEvery) != 0 {
				rows[i].a = ptr(domain[r.IntN(len(domain))])
			}
			if r.IntN(nullEvery) != 0 {
				rows[i].b = ptr(domain[r.IntN(len(domain))])
			}
			rows[i].v = int64(r.IntN(1000))
		}
		return rows
	}
	many := make([]string, 0, 400)
	for i := 0; i < 400; i++ {
		many = append(many, fmt.Sprintf("%03d", i))
	}
	cases := []struct {
		name   string
		phases [][]string // domain of each third of the rows
	}{
		{"few", [][]string{{"A", "N", "R"}, {"A", "N", "R"}, {"A", "", "R"}}},
		{"overflow", [][]string{{"A", "F"}, many, {"A", "F"}}},
		{"long", [][]string{{"A", "F"}, {"A", "LONGER"}, {"A", "F", "LONGER"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			r := rand.New(rand.NewPCG(3, 5))
			var rows []row
			for _, d := range tc.phases {
				rows = append(rows, gen(r, 3000, d, 12)...)
			}
			src := &sourceNode{schema: schema, parts: make([][]arrow.RecordBatch, 1)}
			defer src.release()
			for start := 0; start < len(rows); start += 250 {
				b := array.NewRecordBuilder(mem, schema)
				for _, x := range rows[start:min(len(rows), start+250)] {
					for f, p := range []*string{x.a, x.b} {
						if p == nil {
							b.Field(f).AppendNull()
						} else {
							b.Field(f).(*array.StringBuilder).Append(*p)
						}
					}
					b.Field(2).(*array.Int64Builder).Append(x.v)
				}
				src.parts[0] = append(src.parts[0], b.NewRecordBatch())
				b.Release()
			}
			type agg struct{ n, sum int64 }
			ref := map[[2]string]*agg{}
			for _, x := range rows {
				k := [2]string{deref(x.a), deref(x.b)}
				if ref[k] == nil {
					ref[k] = &agg{}
				}
				ref[k].n++
				ref[k].sum += x.v
			}
			var want [][]cell
			for k, a := range ref {
				want = append(want, []cell{scell(k[0]), scell(k[1]), scell(fmt.Sprint(a.n)), scell(fmt.Sprint(a.sum))})
			}
			v := col(schema, "v")
			g := []logical.Expr{col(schema, "a"), col(schema, "b")}
			cs := []*logical.AggregateCall{call("count", false, nil), call("sum", false, nil, v)}
			for _, mode := range []Mode{Single, Partial} {
				h, err := NewHashAggregate(src, mode, g, []string{"a", "b"}, nil, cs, []string{"n", "s"})
				if err != nil {
					t.Fatal(err)
				}
				var n exec.Node = h
				if mode == Partial {
					if n, err = NewFinalAggregate(&coalesceNode{h}, h); err != nil {
						t.Fatal(err)
					}
				}
				compareRows(t, runAll(t, n, newTC(mem, 0, t.TempDir(), 0)), want)
			}
		})
	}
}

// TestSmallKeysCache checks the cache's own bookkeeping: lookups of known
// keys, growth, and the switch-off past smallMaxGroups.
func TestSmallKeysCache(t *testing.T) {
	s := newSmallKeys([]arrow.DataType{arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int8})
	gids := make([]uint32, 1)
	s.packed = make([]uint64, 1)
	for k := 0; k < smallMaxGroups; k++ {
		s.packed[0] = uint64(k) * 3
		if s.find(gids) {
			t.Fatalf("key %d found before it was learnt", k)
		}
		gids[0] = uint32(k + 100)
		s.learn(gids)
		if !s.active() || s.n != k+1 {
			t.Fatalf("after %d keys: active %v, n %d", k+1, s.active(), s.n)
		}
	}
	for k := 0; k < smallMaxGroups; k++ {
		s.packed[0] = uint64(k) * 3
		if !s.find(gids) || gids[0] != uint32(k+100) {
			t.Fatalf("key %d: found %d", k, gids[0])
		}
	}
	s.packed[0] = 1
	gids[0] = 7
	s.learn(gids)
	if s.active() {
		t.Fatalf("cache still active with %d+1 keys", smallMaxGroups)
	}
	if s.size() != 0 {
		t.Errorf("disabled cache holds %d bytes", s.size())
	}
}
