package exec

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// keyTypeCase is one sortable type: random values (with extremes and
// repeats), how to append them, and their SQL order.
type keyTypeCase struct {
	dt     arrow.DataType
	gen    func(r *rand.Rand) any
	append func(b array.Builder, v any)
	cmp    func(a, b any) int
}

func pick[T any](r *rand.Rand, special []T, random func() T) T {
	if r.IntN(3) == 0 {
		return special[r.IntN(len(special))]
	}
	return random()
}

func intCase[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](dt arrow.DataType, special []T, random func(r *rand.Rand) T, app func(b array.Builder, v T)) keyTypeCase {
	return keyTypeCase{
		dt:     dt,
		gen:    func(r *rand.Rand) any { return pick(r, special, func() T { return random(r) }) },
		append: func(b array.Builder, v any) { app(b, v.(T)) },
		cmp:    func(a, b any) int { return cmp.Compare(a.(T), b.(T)) },
	}
}

func floatOrder(x, y float64) int {
	switch {
	case math.IsNaN(x) && math.IsNaN(y):
		return 0
	case math.IsNaN(x):
		return 1
	case math.IsNaN(y):
		return -1
	case x == y: // -0 == 0
		return 0
	}
	return cmp.Compare(x, y)
}

var specialStrings = []string{"", "a", "a\x00", "a\x00b", "a\x00\x00", "a\x01", "a\xff", "ab", "b", "\xff", "\x00", "Customer#000000001", "Customer#000000012"}

func stringCase(dt arrow.DataType) keyTypeCase {
	return keyTypeCase{
		dt: dt,
		gen: func(r *rand.Rand) any {
			return pick(r, specialStrings, func() string {
				return "Customer#" + fmt.Sprintf("%0*d", r.IntN(3)+1, r.IntN(40)) + strings.Repeat("z", r.IntN(3))
			})
		},
		append: func(b array.Builder, v any) {
			switch bb := b.(type) {
			case *array.StringBuilder:
				bb.Append(v.(string))
			case *array.LargeStringBuilder:
				bb.Append(v.(string))
			case *array.BinaryBuilder:
				bb.Append([]byte(v.(string)))
			case *array.StringViewBuilder:
				bb.Append(v.(string))
			default:
				panic(fmt.Sprintf("%T", b))
			}
		},
		cmp: func(a, b any) int { return strings.Compare(a.(string), b.(string)) },
	}
}

func keyTypeCases() []keyTypeCase {
	return []keyTypeCase{
		intCase(arrow.PrimitiveTypes.Int8, []int8{math.MinInt8, -1, 0, 1, math.MaxInt8},
			func(r *rand.Rand) int8 { return int8(r.IntN(20) - 10) },
			func(b array.Builder, v int8) { b.(*array.Int8Builder).Append(v) }),
		intCase(arrow.PrimitiveTypes.Int16, []int16{math.MinInt16, -1, 0, 1, math.MaxInt16},
			func(r *rand.Rand) int16 { return int16(r.IntN(2000) - 1000) },
			func(b array.Builder, v int16) { b.(*array.Int16Builder).Append(v) }),
		intCase(arrow.PrimitiveTypes.Int32, []int32{math.MinInt32, -1, 0, 1, math.MaxInt32},
			func(r *rand.Rand) int32 { return int32(r.IntN(200) - 100) },
			func(b array.Builder, v int32) { b.(*array.Int32Builder).Append(v) }),
		intCase(arrow.PrimitiveTypes.Int64, []int64{math.MinInt64, -1, 0, 1, math.MaxInt64, 1 << 40},
			func(r *rand.Rand) int64 { return int64(r.IntN(1<<20)) - 1<<19 },
			func(b array.Builder, v int64) { b.(*array.Int64Builder).Append(v) }),
		intCase(arrow.PrimitiveTypes.Uint8, []uint8{0, 1, 127, 128, 255},
			func(r *rand.Rand) uint8 { return uint8(r.IntN(256)) },
			func(b array.Builder, v uint8) { b.(*array.Uint8Builder).Append(v) }),
		intCase(arrow.PrimitiveTypes.Uint16, []uint16{0, 1, 1 << 15, math.MaxUint16},
			func(r *rand.Rand) uint16 { return uint16(r.IntN(1 << 16)) },
			func(b array.Builder, v uint16) { b.(*array.Uint16Builder).Append(v) }),
		intCase(arrow.PrimitiveTypes.Uint32, []uint32{0, 1, 1 << 31, math.MaxUint32},
			func(r *rand.Rand) uint32 { return uint32(r.IntN(1000)) },
			func(b array.Builder, v uint32) { b.(*array.Uint32Builder).Append(v) }),
		intCase(arrow.PrimitiveTypes.Uint64, []uint64{0, 1, 1 << 63, math.MaxUint64},
			func(r *rand.Rand) uint64 { return r.Uint64() },
			func(b array.Builder, v uint64) { b.(*array.Uint64Builder).Append(v) }),
		intCase(arrow.FixedWidthTypes.Date32, []int32{math.MinInt32, -1, 0, 10957},
			func(r *rand.Rand) int32 { return int32(r.IntN(3000)) },
			func(b array.Builder, v int32) { b.(*array.Date32Builder).Append(arrow.Date32(v)) }),
		intCase(&arrow.TimestampType{Unit: arrow.Microsecond}, []int64{math.MinInt64, -1, 0, math.MaxInt64},
			func(r *rand.Rand) int64 { return r.Int64N(1 << 50) },
			func(b array.Builder, v int64) { b.(*array.TimestampBuilder).Append(arrow.Timestamp(v)) }),
		intCase(&arrow.Decimal64Type{Precision: 15, Scale: 2}, []int64{-999999999999999, -1, 0, 1, 999999999999999},
			func(r *rand.Rand) int64 { return r.Int64N(2000000) - 1000000 },
			func(b array.Builder, v int64) { b.(*array.Decimal64Builder).Append(decimal.Decimal64(v)) }),
		{
			dt: &arrow.Decimal128Type{Precision: 38, Scale: 2},
			gen: func(r *rand.Rand) any {
				return pick(r, []decimal128.Num{decimal128.New(math.MinInt64, 0), decimal128.FromI64(-1), decimal128.FromI64(0),
					decimal128.New(0, math.MaxUint64), decimal128.New(1, 0), decimal128.New(math.MaxInt64, math.MaxUint64)},
					func() decimal128.Num { return decimal128.FromI64(r.Int64N(20000) - 10000) })
			},
			append: func(b array.Builder, v any) { b.(*array.Decimal128Builder).Append(v.(decimal128.Num)) },
			cmp:    func(a, b any) int { return a.(decimal128.Num).Cmp(b.(decimal128.Num)) },
		},
		{
			dt: arrow.PrimitiveTypes.Float64,
			gen: func(r *rand.Rand) any {
				return pick(r, []float64{math.Inf(-1), -math.MaxFloat64, -1, math.Copysign(0, -1), 0, math.SmallestNonzeroFloat64, 1, math.MaxFloat64, math.Inf(1), math.NaN()},
					func() float64 { return float64(r.IntN(100)-50) / 4 })
			},
			append: func(b array.Builder, v any) { b.(*array.Float64Builder).Append(v.(float64)) },
			cmp:    func(a, b any) int { return floatOrder(a.(float64), b.(float64)) },
		},
		{
			dt: arrow.PrimitiveTypes.Float32,
			gen: func(r *rand.Rand) any {
				return pick(r, []float32{float32(math.Inf(-1)), -math.MaxFloat32, -1, float32(math.Copysign(0, -1)), 0, 1, math.MaxFloat32, float32(math.Inf(1)), float32(math.NaN())},
					func() float32 { return float32(r.IntN(100)-50) / 4 })
			},
			append: func(b array.Builder, v any) { b.(*array.Float32Builder).Append(v.(float32)) },
			cmp:    func(a, b any) int { return floatOrder(float64(a.(float32)), float64(b.(float32))) },
		},
		{
			dt:     arrow.FixedWidthTypes.Boolean,
			gen:    func(r *rand.Rand) any { return r.IntN(2) == 0 },
			append: func(b array.Builder, v any) { b.(*array.BooleanBuilder).Append(v.(bool)) },
			cmp: func(a, b any) int {
				x, y := a.(bool), b.(bool)
				if x == y {
					return 0
				}
				if !x {
					return -1
				}
				return 1
			},
		},
		{
			dt: arrow.FixedWidthTypes.MonthDayNanoInterval,
			gen: func(r *rand.Rand) any {
				return arrow.MonthDayNanoInterval{Months: int32(r.IntN(5) - 2), Days: int32(r.IntN(5) - 2), Nanoseconds: r.Int64N(5) - 2}
			},
			append: func(b array.Builder, v any) {
				b.(*array.MonthDayNanoIntervalBuilder).Append(v.(arrow.MonthDayNanoInterval))
			},
			cmp: func(a, b any) int {
				x, y := a.(arrow.MonthDayNanoInterval), b.(arrow.MonthDayNanoInterval)
				return cmp.Or(cmp.Compare(x.Months, y.Months), cmp.Compare(x.Days, y.Days), cmp.Compare(x.Nanoseconds, y.Nanoseconds))
			},
		},
		stringCase(arrow.BinaryTypes.String),
		stringCase(arrow.BinaryTypes.LargeString),
		stringCase(arrow.BinaryTypes.Binary),
		stringCase(arrow.BinaryTypes.StringView),
		{
			dt:     arrow.Null,
			gen:    func(*rand.Rand) any { return nil },
			append: func(b array.Builder, v any) { b.AppendNull() },
			cmp:    func(a, b any) int { return 0 },
		},
	}
}

// keyFixture is n rows of (a value of one type, a small int32) in
// batches, with the keys encoded.
type keyFixture struct {
	vals   [][2]any // nil = NULL
	batch  []int    // batch of row i
	row    []int    // row within the batch
	blocks []*keyBlock
	cols   [][]arrow.Array // per batch, the two key columns
	enc    *keyEncoder
	dirs   []sortDir
	tc     keyTypeCase
}

func newKeyFixture(t *testing.T, mem memory.Allocator, tc keyTypeCase, dirs []sortDir, n, batch int, seed uint64) *keyFixture {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 11))
	enc, err := newKeyEncoder([]arrow.DataType{tc.dt, arrow.PrimitiveTypes.Int32}, dirs)
	if err != nil {
		t.Fatal(err)
	}
	f := &keyFixture{enc: enc, dirs: dirs, tc: tc}
	for start := 0; start < n; start += batch {
		m := min(batch, n-start)
		b0 := array.NewBuilder(mem, tc.dt)
		b1 := array.NewInt32Builder(mem)
		for i := range m {
			var v [2]any
			if r.IntN(7) != 0 {
				v[0] = tc.gen(r)
			}
			if v[0] != nil {
				tc.append(b0, v[0])
			} else {
				b0.AppendNull()
			}
			if r.IntN(9) != 0 {
				v[1] = int32(r.IntN(3))
				b1.Append(v[1].(int32))
			} else {
				b1.AppendNull()
			}
			f.vals = append(f.vals, v)
			f.batch = append(f.batch, len(f.blocks))
			f.row = append(f.row, i)
		}
		cols := []arrow.Array{b0.NewArray(), b1.NewArray()}
		b0.Release()
		b1.Release()
		blk := &keyBlock{}
		if err := enc.encode(mem, cols, m, blk); err != nil {
			t.Fatal(err)
		}
		f.blocks = append(f.blocks, blk)
		f.cols = append(f.cols, cols)
	}
	return f
}

func (f *keyFixture) release() {
	for _, c := range f.cols {
		releaseAll(c)
	}
}

// ref is the SQL order of rows i and j.
func (f *keyFixture) ref(i, j int) int {
	for c := range 2 {
		a, b := f.vals[i][c], f.vals[j][c]
		var r int
		switch {
		case a == nil && b == nil:
		case a == nil:
			r = 1
			if f.dirs[c].nullsFirst {
				r = -1
			}
		case b == nil:
			r = -1
			if f.dirs[c].nullsFirst {
				r = 1
			}
		default:
			if c == 0 {
				r = f.tc.cmp(a, b)
			} else {
				r = cmp.Compare(a.(int32), b.(int32))
			}
			if f.dirs[c].desc {
				r = -r
			}
		}
		if r != 0 {
			return r
		}
	}
	return 0
}

func (f *keyFixture) key(i int) []byte { return f.blocks[f.batch[i]].key(uint32(f.row[i])) }

var allDirs = []sortDir{{}, {desc: true}, {nullsFirst: true}, {desc: true, nullsFirst: true}}

// TestKeyEncodingOrder checks, for every sortable type, direction and
// NULL placement, that encoded keys compare as the SQL values do, that
// sorting entries gives the SQL order with ties in input order, that
// entry equality and leading-column masks agree with the keys, and that
// top-k lead screening never drops a row that could qualify.
func TestKeyEncodingOrder(t *testing.T) {
	for _, tc := range keyTypeCases() {
		for di, d := range allDirs {
			t.Run(fmt.Sprintf("%s/dir%d", tc.dt, di), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				dirs := []sortDir{d, allDirs[(di+1)%4]}
				f := newKeyFixture(t, mem, tc, dirs, 600, 97, uint64(di))
				defer f.release()
				n := len(f.vals)
				for i := range n {
					for j := i; j < n; j += 7 {
						got := cmp.Compare(bytes.Compare(f.key(i), f.key(j)), 0)
						if want := f.ref(i, j); got != want {
							t.Fatalf("rows %v and %v: keys compare %d, want %d (%x vs %x)", f.vals[i], f.vals[j], got, want, f.key(i), f.key(j))
						}
					}
				}
				entries, ord := sortKeyBlocks(f.blocks)
				if len(entries) != n {
					t.Fatalf("%d entries for %d rows", len(entries), n)
				}
				pos := func(e sortEntry) int { return int(e.batch)*97 + int(e.row) }
				m0, m1, maskOK := ord.leadingMask(1 + f.enc.cols[0].width)
				for k := 1; k < n; k++ {
					a, b := entries[k-1], entries[k]
					r := f.ref(pos(a), pos(b))
					if r > 0 || r == 0 && pos(a) > pos(b) {
						t.Fatalf("entries %d, %d out of order: %v then %v", k-1, k, f.vals[pos(a)], f.vals[pos(b)])
					}
					if ord.equal(a, b) != (r == 0) {
						t.Fatalf("equal(%v, %v) = %v", f.vals[pos(a)], f.vals[pos(b)], !(r == 0))
					}
					if maskOK && f.enc.cols[0].kind != kindBytes {
						samePrefix := (a.p0^b.p0)&m0 == 0 && (a.p1^b.p1)&m1 == 0
						w := 1 + f.enc.cols[0].width
						if want := bytes.Equal(ord.key(a)[:w], ord.key(b)[:w]); samePrefix != want {
							t.Fatalf("leading column of %v and %v: masked prefixes equal %v, keys %v", f.vals[pos(a)], f.vals[pos(b)], samePrefix, want)
						}
					}
				}
				if f.enc.leadBytes() == 0 {
					return
				}
				var sc leadScratch
				for probe := 0; probe < n; probe += 37 {
					thr := f.enc.leadOf(f.key(probe))
					for bi, cols := range f.cols {
						sel := f.enc.selectByLead(cols[0], thr, &sc, nil)
						kept := make([]bool, cols[0].Len())
						for _, s := range sel {
							kept[s] = true
						}
						for row, k := range kept {
							i := bi*97 + row
							if !k && f.ref(i, probe) <= 0 {
								t.Fatalf("lead screening dropped %v, not after %v", f.vals[i], f.vals[probe])
							}
						}
					}
				}
			})
		}
	}
}

// TestKeyEncodingDictionary sorts a dictionary-encoded string column as
// its values.
func TestKeyEncodingDictionary(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}
	b := array.NewDictionaryBuilder(mem, dt).(*array.BinaryDictionaryBuilder)
	defer b.Release()
	vals := []any{"pear", nil, "apple", "fig", "apple", nil, "zucchini", "fig"}
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
		} else if err := b.AppendString(v.(string)); err != nil {
			t.Fatal(err)
		}
	}
	a := b.NewArray()
	defer a.Release()
	enc, err := newKeyEncoder([]arrow.DataType{dt}, []sortDir{{desc: true, nullsFirst: true}})
	if err != nil {
		t.Fatal(err)
	}
	blk := &keyBlock{}
	if err := enc.encode(mem, []arrow.Array{a}, a.Len(), blk); err != nil {
		t.Fatal(err)
	}
	entries, _ := sortKeyBlocks([]*keyBlock{blk})
	var got []any
	for _, e := range entries {
		got = append(got, vals[e.row])
	}
	want := []any{nil, nil, "zucchini", "pear", "fig", "fig", "apple", "apple"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// rawBlocks packs keys into blocks of up to size keys.
func rawBlocks(keys [][]byte, size int) []*keyBlock {
	var out []*keyBlock
	for start := 0; start < len(keys); start += size {
		blk := &keyBlock{offs: []int32{0}}
		for _, k := range keys[start:min(start+size, len(keys))] {
			blk.data = append(blk.data, k...)
			blk.offs = append(blk.offs, int32(len(blk.data)))
		}
		out = append(out, blk)
	}
	return out
}

// checkEntryOrder verifies that entries order keys bytewise, ties by
// (batch, row), and cover every key once.
func checkEntryOrder(t *testing.T, keys [][]byte, size int, entries []sortEntry, ord keyOrder) {
	t.Helper()
	if len(entries) != len(keys) {
		t.Fatalf("%d entries for %d keys", len(entries), len(keys))
	}
	idx := func(e sortEntry) int { return int(e.batch)*size + int(e.row) }
	seen := make([]bool, len(keys))
	for k, e := range entries {
		if seen[idx(e)] {
			t.Fatalf("key %d appears twice", idx(e))
		}
		seen[idx(e)] = true
		if k == 0 {
			continue
		}
		p := entries[k-1]
		c := bytes.Compare(keys[idx(p)], keys[idx(e)])
		if c > 0 || c == 0 && idx(p) > idx(e) {
			t.Fatalf("entries %d and %d out of order: %x (#%d) then %x (#%d)", k-1, k, keys[idx(p)], idx(p), keys[idx(e)], idx(e))
		}
		if ord.equal(p, e) != (c == 0) {
			t.Fatalf("equal(%x, %x) wrong", keys[idx(p)], keys[idx(e)])
		}
	}
}

// TestSortKeyBlocksProjection drives the key projection and the radix
// sort through their cases: more varying bytes than the prefix holds,
// keys of different lengths, identical keys, outliers that leave long
// single-valued stretches, and inputs large enough for two-byte digits.
func TestSortKeyBlocksProjection(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	randBytes := func(n, alphabet int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(alphabet))
		}
		return b
	}
	cases := map[string]func(i int) []byte{
		// 24 varying bytes: prefixes tie often (tiny alphabet), the tail decides.
		"undecided": func(int) []byte { return append([]byte{1}, randBytes(24, 2)...) },
		// Keys of 1 to 40 bytes sharing a long head: varying lengths.
		"ragged": func(int) []byte {
			k := []byte("Customer#000000")
			for range r.IntN(5) {
				k = append(k, byte(1+r.IntN(3)))
			}
			// Terminated (no 0x00 before) so that no key is a prefix of
			// another, as encoded keys are.
			return append(k, 0, 0)
		},
		// Varying positions 0 and 5..12: the second segment fills prefix
		// bytes 1..8, across the two prefix words.
		"straddle": func(int) []byte {
			return append([]byte{byte(r.IntN(2)), 7, 7, 7, 7}, randBytes(8, 2)...)
		},
		"identical": func(int) []byte { return []byte{1, 2, 3, 4} },
		"one": func(i int) []byte {
			if i == 0 {
				return []byte{9}
			}
			return []byte{1}
		},
		"smallrange": func(int) []byte { return []byte{1, 0, 0, 0, 0, 0, 0, byte(r.IntN(3))} },
	}
	for name, gen := range cases {
		for _, n := range []int{0, 1, 2, 47, 48, 49, 500, 5000} {
			t.Run(fmt.Sprintf("%s/%d", name, n), func(t *testing.T) {
				keys := make([][]byte, n)
				for i := range keys {
					keys[i] = gen(i)
				}
				entries, ord := sortKeyBlocks(rawBlocks(keys, 64))
				checkEntryOrder(t, keys, 64, entries, ord)
			})
		}
	}
	// Large inputs: two-byte digits at the top, and (with one outlier
	// varying bytes 0..7) single-valued stretches that reach prefix byte
	// 7, where a two-byte digit would straddle the prefix words.
	for _, outlier := range []bool{false, true} {
		t.Run(fmt.Sprintf("wide/outlier=%v", outlier), func(t *testing.T) {
			n := wideRadixMin + 5000
			keys := make([][]byte, n)
			for i := range keys {
				k := make([]byte, 14)
				k[0] = 1
				copy(k[8:], randBytes(6, 40))
				if !outlier {
					k[1], k[2] = byte(r.IntN(3)), byte(r.IntN(256))
				}
				keys[i] = k
			}
			if outlier {
				copy(keys[n/2][:8], []byte{1, 5, 5, 5, 5, 5, 5, 5})
			}
			entries, ord := sortKeyBlocks(rawBlocks(keys, 8192))
			checkEntryOrder(t, keys, 8192, entries, ord)
		})
	}
}

// TestKeyStatsMerge checks that merged statistics describe the union of
// the keys: positions varying only across the two sets are found.
func TestKeyStatsMerge(t *testing.T) {
	var a, b, all keyStats
	for _, k := range [][]byte{{1, 2, 3, 4}, {1, 2, 3, 5}} {
		a.add(k)
		all.add(k)
	}
	for _, k := range [][]byte{{1, 7, 3, 4, 0}, {1, 7, 3, 4, 1}} {
		b.add(k)
		all.add(k)
	}
	var m keyStats
	m.merge(&a)
	m.merge(&b)
	if m.n != 4 || m.minLen != 4 || m.maxLen != 5 || !slices.Equal(m.diff, all.diff) {
		t.Fatalf("merged %+v, want %+v", m, all)
	}
	o := newKeyOrder(&m)
	// Varying: position 1 (across sets), 3, and 4 (past the shortest key).
	if o.nbytes != 3 || !o.decided {
		t.Fatalf("projection %+v", o)
	}
}

// BenchmarkKeyEncode measures encoding (int64 DESC, string) keys.
func BenchmarkKeyEncode(b *testing.B) {
	src, done := benchSource(b, 1<<16, 1)
	defer done()
	enc, err := newKeyEncoder([]arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String}, []sortDir{{desc: true}, {}})
	if err != nil {
		b.Fatal(err)
	}
	batches := src.partitions[0]
	blk := &keyBlock{}
	cpu := startCPU()
	for b.Loop() {
		for _, rb := range batches {
			if err := enc.encode(memory.DefaultAllocator, []arrow.Array{rb.Column(0), rb.Column(1)}, int(rb.NumRows()), blk); err != nil {
				b.Fatal(err)
			}
		}
	}
	cpu.report(b)
}
