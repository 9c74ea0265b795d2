//go:build cgo && !arbalest_nonative

package native

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"
	"golang.org/x/sync/errgroup"

	"github.com/arbalest/arbalest/substrait/logical"
)

// buildDir holds the test libraries compiled by gcc (one per variant).
var buildDir string

// observer is a second load of the good test library, kept open for the
// whole run: the library's counters are static, so they are shared by
// every load of the same file, and the observer can still read them after
// the library under test was closed.
var observer *Library

func TestMain(m *testing.M) {
	code, err := runTests(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func runTests(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "arbalest-native-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(dir)
	buildDir = dir
	path, err := compile()
	if err != nil {
		return 1, err
	}
	if observer, err = Load(path); err != nil {
		return 1, err
	}
	code := m.Run()
	if err := observer.Close(); err != nil {
		return 1, err
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			return 1, err
		}
	}
	return code, nil
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// compile builds testdata/testudf.c with the given -D defines (once per
// set) and returns the library's path.
func compile(defines ...string) (string, error) {
	key := strings.Join(defines, " ")
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[key]; ok {
		return p, nil
	}
	name := "libtestudf"
	for _, d := range defines {
		name += "_" + strings.NewReplacer("-D", "", "=", "").Replace(d)
	}
	out := filepath.Join(buildDir, name+".so")
	args := []string{"-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-fPIC", "-shared",
		"-fvisibility=hidden", "-I", ".", "-o", out}
	args = append(args, defines...)
	args = append(args, filepath.Join("testdata", "testudf.c"))
	if msg, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	built[key] = out
	return out, nil
}

func mustCompile(t testing.TB, defines ...string) string {
	t.Helper()
	p, err := compile(defines...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type counters struct {
	allocated, released, inits, releases, violations int64
}

func readCounters(t testing.TB) counters {
	t.Helper()
	var c counters
	for _, x := range []struct {
		sym string
		dst *int64
	}{
		{"testudf_results_allocated", &c.allocated},
		{"testudf_results_released", &c.released},
		{"testudf_lib_inits", &c.inits},
		{"testudf_lib_releases", &c.releases},
		{"testudf_serial_violations", &c.violations},
	} {
		v, err := observer.Int64Symbol(x.sym)
		if err != nil {
			t.Fatal(err)
		}
		*x.dst = v
	}
	return c
}

// open loads the good library with a checked allocator. At cleanup it
// closes the library and checks that no Go memory is left, that every
// result the C side allocated was released, and that the library's
// release ran.
func open(t *testing.T) (*Library, *memory.CheckedAllocator) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	before := readCounters(t)
	lib, err := Load(mustCompile(t), WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lib.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		mem.AssertSize(t, 0)
		after := readCounters(t)
		if after.allocated != after.released {
			t.Errorf("C results: %d allocated, %d released", after.allocated, after.released)
		}
		if after.inits != before.inits+1 || after.releases != before.releases+1 {
			t.Errorf("library inits %d→%d, releases %d→%d: want one each",
				before.inits, after.inits, before.releases, after.releases)
		}
	})
	return lib, mem
}

func fn(t testing.TB, lib *Library, name string) logical.ScalarImpl {
	t.Helper()
	for _, f := range lib.Functions() {
		if f.Name == name {
			return f.Impl.(logical.ScalarImpl)
		}
	}
	t.Fatalf("no function %s", name)
	return nil
}

func i64s(mem memory.Allocator, vals []int64, valid []bool) *array.Int64 {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewInt64Array()
}

func strs(mem memory.Allocator, vals []string, valid []bool) *array.String {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewStringArray()
}

// render prints an array as [v1 v2 (null) ...] for comparisons.
func render(a arrow.Array) string {
	parts := make([]string, a.Len())
	for i := range parts {
		if a.IsNull(i) {
			parts[i] = "(null)"
		} else {
			parts[i] = a.ValueStr(i)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func eval(t *testing.T, f logical.ScalarImpl, rows int, args ...arrow.Array) arrow.Array {
	t.Helper()
	res, err := f.EvalScalar(context.Background(), args, rows)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestFunctions(t *testing.T) {
	lib, _ := open(t)
	if lib.Name() != "testudf" || lib.Version() != "1.0.0" || lib.URN() != "extension:native:testudf" {
		t.Fatalf("name %q version %q urn %q", lib.Name(), lib.Version(), lib.URN())
	}
	byName := map[string]*logical.Function{}
	for _, f := range lib.Functions() {
		byName[f.Name] = f
		if f.URN != "extension:native:testudf" || f.Provider != "native:testudf" || f.Kind != logical.ScalarFunction {
			t.Errorf("%s: URN %q provider %q kind %v", f.Name, f.URN, f.Provider, f.Kind)
		}
		if _, ok := f.Impl.(logical.ScalarImpl); !ok {
			t.Errorf("%s: Impl %T is not a ScalarImpl", f.Name, f.Impl)
		}
	}
	for _, c := range []struct {
		name, sig  string
		vol        logical.Volatility
		nullOnNull bool
	}{
		{"add_i64", "add_i64(int64, int64) -> int64", logical.Immutable, true},
		{"str_len", "str_len(utf8) -> int64", logical.Immutable, false},
		{"upper", "upper(utf8) -> utf8", logical.Immutable, true},
		{"dec_double", "dec_double(decimal(15, 2)) -> decimal(15, 2)", logical.Immutable, true},
		{"schema_ok", "schema_ok(int64, utf8) -> bool", logical.Stable, false},
		{"seven", "seven() -> int64", logical.Volatile, false},
	} {
		f := byName[c.name]
		if f == nil {
			t.Errorf("no function %s", c.name)
			continue
		}
		if f.Signature() != c.sig || f.Volatility != c.vol || f.NullOnNull != c.nullOnNull {
			t.Errorf("%s: %s %v nullOnNull=%v, want %s %v %v", c.name, f.Signature(), f.Volatility, f.NullOnNull, c.sig, c.vol, c.nullOnNull)
		}
	}
	if len(byName) != 18 {
		t.Errorf("%d functions, want 18", len(byName))
	}
}

func TestAddInt64NullsAndSlices(t *testing.T) {
	lib, mem := open(t)
	add := fn(t, lib, "add_i64")

	a := i64s(mem, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		[]bool{true, true, false, true, true, true, true, false, true, true, true, true})
	defer a.Release()
	b := i64s(mem, []int64{100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200},
		[]bool{true, true, true, true, false, true, true, true, true, true, true, true})
	defer b.Release()

	// Whole arrays.
	res := eval(t, add, 12, a, b)
	defer res.Release()
	if got, want := render(res), "[100 201 (null) 403 (null) 605 706 (null) 908 1009 1110 1211]"; got != want {
		t.Errorf("add_i64 = %s, want %s", got, want)
	}
	if res.NullN() != 3 {
		t.Errorf("NullN = %d, want 3", res.NullN())
	}

	// Slices at different offsets (not multiples of 8 apart).
	as := array.NewSlice(a, 1, 10)
	defer as.Release()
	bs := array.NewSlice(b, 3, 12)
	defer bs.Release()
	res2 := eval(t, add, 9, as, bs)
	defer res2.Release()
	// a[1..9] + b[3..11]: a nulls at 2, 7 (rows 1, 6); b null at 4 (row 1).
	if got, want := render(res2), "[401 (null) 603 704 805 906 (null) 1108 1209]"; got != want {
		t.Errorf("add_i64 on slices = %s, want %s", got, want)
	}

	// No nulls: no bitmap is made.
	c := i64s(mem, []int64{1, 2, 3}, nil)
	defer c.Release()
	res3 := eval(t, add, 3, c, c)
	defer res3.Release()
	if got, want := render(res3), "[2 4 6]"; got != want || res3.NullN() != 0 {
		t.Errorf("add_i64 = %s (%d nulls), want %s", got, res3.NullN(), want)
	}
}

func TestStrLen(t *testing.T) {
	lib, mem := open(t)
	strLen := fn(t, lib, "str_len")
	s := strs(mem, []string{"", "a", "héllo", "x", "日本語", "ignored", "end"},
		[]bool{true, true, true, false, true, false, true})
	defer s.Release()
	res := eval(t, strLen, 7, s)
	defer res.Release()
	if got, want := render(res), "[0 1 6 (null) 9 (null) 3]"; got != want {
		t.Errorf("str_len = %s, want %s", got, want)
	}
	sl := array.NewSlice(s, 2, 7)
	defer sl.Release()
	res2 := eval(t, strLen, 5, sl)
	defer res2.Release()
	if got, want := render(res2), "[6 (null) 9 (null) 3]"; got != want {
		t.Errorf("str_len on a slice = %s, want %s", got, want)
	}
}

func TestUpperStringResult(t *testing.T) {
	lib, mem := open(t)
	upper := fn(t, lib, "upper")
	s := strs(mem, []string{"skip", "hello", "", "null", "wörld", "Go"},
		[]bool{true, true, true, false, true, true})
	defer s.Release()
	sl := array.NewSlice(s, 1, 6)
	defer sl.Release()
	res := eval(t, upper, 5, sl)
	defer res.Release()
	// The NULL row is NULL although the library wrote "NULL" there.
	if got, want := render(res), "[HELLO  (null) WöRLD GO]"; got != want {
		t.Errorf("upper = %q, want %q", got, want)
	}
}

func TestDecimal(t *testing.T) {
	lib, mem := open(t)
	dbl := fn(t, lib, "dec_double")
	dt := &arrow.Decimal128Type{Precision: 15, Scale: 2}
	b := array.NewDecimal128Builder(mem, dt)
	defer b.Release()
	b.AppendValues([]decimal128.Num{decimal128.FromI64(12345), decimal128.FromI64(-50), decimal128.FromI64(0)},
		[]bool{true, true, false})
	d := b.NewDecimal128Array()
	defer d.Release()
	res := eval(t, dbl, 3, d)
	defer res.Release()
	if got, want := render(res), "[246.9 -1 (null)]"; got != want {
		t.Errorf("dec_double = %s, want %s", got, want)
	}
	if !arrow.TypeEqual(res.DataType(), dt) {
		t.Errorf("type %s, want %s", res.DataType(), dt)
	}
}

func TestArgSchemasAndBoolResult(t *testing.T) {
	lib, mem := open(t)
	ok := fn(t, lib, "schema_ok")
	x := i64s(mem, []int64{1, 2, 3}, []bool{true, false, true})
	defer x.Release()
	s := strs(mem, []string{"a", "b", "c"}, nil)
	defer s.Release()
	res := eval(t, ok, 3, x, s)
	defer res.Release()
	if got, want := render(res), "[true true true]"; got != want {
		t.Errorf("schema_ok = %s, want %s", got, want)
	}
}

// TestZeroCopy checks that the library reads the Go buffer itself.
func TestZeroCopy(t *testing.T) {
	lib, mem := open(t)
	addr := fn(t, lib, "buf_addr")
	x := i64s(mem, []int64{1, 2, 3, 4, 5}, nil)
	defer x.Release()
	sl := array.NewSlice(x, 2, 5)
	defer sl.Release()
	res := eval(t, addr, 3, sl)
	defer res.Release()
	want := int64(uintptr(unsafe.Pointer(&x.Data().Buffers()[1].Bytes()[0])))
	for i, v := range res.(*array.Int64).Int64Values() {
		if v != want {
			t.Fatalf("row %d: the library read %#x, the Go buffer is at %#x", i, v, want)
		}
	}
}

func TestZeroArguments(t *testing.T) {
	lib, _ := open(t)
	seven := fn(t, lib, "seven")
	res := eval(t, seven, 4)
	defer res.Release()
	if got, want := render(res), "[7 7 7 7]"; got != want {
		t.Errorf("seven = %s, want %s", got, want)
	}
	before := readCounters(t).allocated
	empty := eval(t, seven, 0)
	defer empty.Release()
	if empty.Len() != 0 || !arrow.TypeEqual(empty.DataType(), arrow.PrimitiveTypes.Int64) {
		t.Errorf("0 rows: %s", render(empty))
	}
	if readCounters(t).allocated != before {
		t.Error("the library was called for 0 rows")
	}
}

// TestResultOffsetAndOwnNulls: a result at a non-zero offset with its own
// nulls, merged with the argument's nulls.
func TestResultOffsetAndOwnNulls(t *testing.T) {
	lib, mem := open(t)
	neg := fn(t, lib, "neg_nonzero")
	x := i64s(mem, []int64{9, 1, 0, 3, 4, -2, 0, 8, 7, 6, 5},
		[]bool{true, true, true, false, true, true, true, true, true, false, true})
	defer x.Release()
	sl := array.NewSlice(x, 1, 11)
	defer sl.Release()
	res := eval(t, neg, 10, sl)
	defer res.Release()
	if got, want := render(res), "[-1 (null) (null) -4 2 (null) -8 -7 (null) -5]"; got != want {
		t.Errorf("neg_nonzero = %s, want %s", got, want)
	}
	if res.NullN() != 4 {
		t.Errorf("NullN = %d, want 4", res.NullN())
	}
}

func TestCallErrors(t *testing.T) {
	lib, mem := open(t)
	one := i64s(mem, []int64{5}, nil)
	defer one.Release()
	two := i64s(mem, []int64{5, 6}, nil)
	defer two.Release()
	for _, c := range []struct {
		fn   string
		arg  arrow.Array
		want error
		msg  string
	}{
		{"fail", one, ErrCall, "fail: refusing 5 (code 22)"},
		{"fail_silent", one, ErrCall, "no message (code 42)"},
		{"fail_leaky", one, ErrCall, "failed after allocating"},
		{"wrong_type", one, ErrResult, "returned type float64, declared int64"},
		{"wrong_len", one, ErrResult, "returned 2 rows, want 1"},
		{"bad_layout", one, ErrResult, "expected 3 buffers"},
		{"bad_offsets", two, ErrResult, "malformed result: row 0: offset 3 past the end of the values (1 bytes)"},
		{"bad_utf8", one, ErrResult, "malformed result: row 0: not valid UTF-8"},
		{"no_result", one, ErrResult, "without a result array"},
	} {
		t.Run(c.fn, func(t *testing.T) {
			res, err := fn(t, lib, c.fn).EvalScalar(context.Background(), []arrow.Array{c.arg}, c.arg.Len())
			if err == nil {
				res.Release()
				t.Fatal("no error")
			}
			if !errors.Is(err, c.want) {
				t.Errorf("error %v is not %v", err, c.want)
			}
			for _, s := range []string{`native library "testudf"`, fmt.Sprintf("function %q", c.fn), c.msg} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestArgumentChecks(t *testing.T) {
	lib, mem := open(t)
	add := fn(t, lib, "add_i64")
	x := i64s(mem, []int64{1, 2}, nil)
	defer x.Release()
	s := strs(mem, []string{"a", "b"}, nil)
	defer s.Release()
	for _, c := range []struct {
		name string
		args []arrow.Array
		rows int
		msg  string
	}{
		{"count", []arrow.Array{x}, 2, "takes 2 arguments, got 1"},
		{"type", []arrow.Array{x, s}, 2, "argument 1 is utf8, declared int64"},
		{"rows", []arrow.Array{x, x}, 3, "argument 0 has 2 rows, want 3"},
		{"nil", []arrow.Array{x, nil}, 2, "argument 1 is nil"},
	} {
		_, err := add.EvalScalar(context.Background(), c.args, c.rows)
		if !errors.Is(err, ErrArgs) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want ErrArgs saying %q", c.name, err, c.msg)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := add.EvalScalar(ctx, []arrow.Array{x, x}, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}

// TestCloseKeepsResultsAlive: results outlive Close; the library's release
// runs after the last of them.
func TestCloseKeepsResultsAlive(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	before := readCounters(t)
	lib, err := Load(mustCompile(t), WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	add := fn(t, lib, "add_i64")
	x := i64s(mem, []int64{1, 2, 3}, []bool{true, false, true})
	defer x.Release()
	res := eval(t, add, 3, x, x)
	if err := lib.Close(); err != nil {
		t.Fatal(err)
	}
	if err := lib.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := add.EvalScalar(context.Background(), []arrow.Array{x, x}, 3); !errors.Is(err, ErrClosed) {
		t.Errorf("call after Close: %v, want ErrClosed", err)
	}
	if c := readCounters(t); c.releases != before.releases {
		t.Fatal("the library was released while one of its results is alive")
	}
	if got, want := render(res), "[2 (null) 6]"; got != want {
		t.Errorf("result after Close = %s, want %s", got, want)
	}
	res.Release()
	c := readCounters(t)
	if c.releases != before.releases+1 || c.allocated != c.released {
		t.Errorf("after the last result: releases %d→%d, results %d allocated %d released",
			before.releases, c.releases, c.allocated, c.released)
	}
}

func TestConcurrentCalls(t *testing.T) {
	lib, mem := open(t)
	add := fn(t, lib, "add_i64")
	strLen := fn(t, lib, "str_len")
	upper := fn(t, lib, "upper")
	serial := fn(t, lib, "serial_check")

	const rows = 1000
	vals := make([]int64, rows)
	valid := make([]bool, rows)
	words := make([]string, rows)
	for i := range vals {
		vals[i] = int64(i)
		valid[i] = i%7 != 0
		words[i] = strings.Repeat("ab", i%5)
	}
	x := i64s(mem, vals, valid)
	defer x.Release()
	s := strs(mem, words, valid)
	defer s.Release()
	xs := array.NewSlice(x, 3, rows)
	defer xs.Release()
	ss := array.NewSlice(s, 3, rows)
	defer ss.Release()
	// A slice's null count is computed on first use, without
	// synchronisation: compute it before the arrays are shared.
	_, _ = xs.NullN(), ss.NullN()
	n := rows - 3

	violations := readCounters(t).violations
	var g errgroup.Group
	for w := 0; w < 8; w++ {
		g.Go(func() error {
			for i := 0; i < 50; i++ {
				r1, err := add.EvalScalar(context.Background(), []arrow.Array{xs, xs}, n)
				if err != nil {
					return err
				}
				r2, err := strLen.EvalScalar(context.Background(), []arrow.Array{ss}, n)
				if err != nil {
					r1.Release()
					return err
				}
				r3, err := upper.EvalScalar(context.Background(), []arrow.Array{ss}, n)
				if err != nil {
					r1.Release()
					r2.Release()
					return err
				}
				err = checkConcurrent(r1.(*array.Int64), r2.(*array.Int64), r3.(*array.String), i)
				r1.Release()
				r2.Release()
				r3.Release()
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	for w := 0; w < 4; w++ {
		g.Go(func() error {
			for i := 0; i < 10; i++ {
				r, err := serial.EvalScalar(context.Background(), []arrow.Array{xs}, n)
				if err != nil {
					return err
				}
				r.Release()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if v := readCounters(t).violations; v != violations {
		t.Errorf("%d overlapping calls of a NOT_THREAD_SAFE function", v-violations)
	}
}

func checkConcurrent(sum, lens *array.Int64, up *array.String, iter int) error {
	for r := 0; r < sum.Len(); r++ {
		i := r + 3
		if i%7 == 0 {
			if sum.IsValid(r) || lens.IsValid(r) || up.IsValid(r) {
				return fmt.Errorf("iteration %d row %d: want NULL", iter, r)
			}
			continue
		}
		w := strings.Repeat("ab", i%5)
		if sum.Value(r) != int64(2*i) || lens.Value(r) != int64(len(w)) || up.Value(r) != strings.ToUpper(w) {
			return fmt.Errorf("iteration %d row %d: %d %d %q", iter, r, sum.Value(r), lens.Value(r), up.Value(r))
		}
	}
	return nil
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notalib.so")
	if err := os.WriteFile(text, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		path string
		want error
		msg  string
	}{
		{"missing", filepath.Join(dir, "nope.so"), ErrLoad, "no such file"},
		{"directory", dir, ErrLoad, "is a directory"},
		{"not a library", text, ErrLoad, "dlopen"},
		{"no init", mustCompile(t, "-DTESTUDF_NO_INIT"), ErrLoad, "does not export arbalest_udf_init_v1"},
		{"abi", mustCompile(t, "-DTESTUDF_ABI=2"), ErrABI, "ABI version 2, this host speaks 1"},
		{"init fails", mustCompile(t, "-DTESTUDF_INIT_FAIL"), ErrLoad, "failed with code 1: testudf: cannot start: no license"},
	} {
		_, err := Load(c.path)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: error %v, want %v naming %s and saying %q", c.name, err, c.want, c.path, c.msg)
		}
	}
	if _, err := Load(""); !errors.Is(err, ErrLoad) {
		t.Errorf("empty path: %v", err)
	}
}

// TestBadTables: each table is refused with an error naming the library
// and the function, and the library's release still runs.
func TestBadTables(t *testing.T) {
	for _, c := range []struct {
		bad int
		msg string
	}{
		{1, `functions 0 and 1 are both named "ADD_I64"`},
		{2, `function "upper": argument 0: format "q"`},
		{3, `function "dec_double": call is NULL`},
		{4, `function "schema_ok": volatility 0`},
		{5, `function "buf_addr": unknown flags 0x10000000000`},
		{6, `function "seven": argument 0: format "+l": nested types are not supported`},
		{7, `function 7: name "7up" is not an identifier`},
		{8, `name "test udf" is not an identifier`},
		{9, `n_functions is 0`},
		{10, `function "serial_check": n_args is 1000`},
	} {
		t.Run(fmt.Sprint(c.bad), func(t *testing.T) {
			path := mustCompile(t, fmt.Sprintf("-DTESTUDF_BAD=%d", c.bad))
			log := filepath.Join(t.TempDir(), "log")
			t.Setenv("TESTUDF_LOG", log)
			lib, err := Load(path)
			if err == nil {
				lib.Close()
				t.Fatal("loaded")
			}
			if !errors.Is(err, ErrABI) || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v, want ErrABI naming %s and saying %q", err, path, c.msg)
			}
			got, _ := os.ReadFile(log)
			if string(got) != "init\nrelease\n" {
				t.Errorf("library log %q, want init then release", got)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ format, want string }{
		{"l", "int64"}, {"g", "float64"}, {"u", "utf8"}, {"b", "bool"}, {"tdD", "date32"},
		{"d:15,2", "decimal(15, 2)"}, {"d:40,4,256", "decimal256(40, 4)"}, {"tsu:UTC", "timestamp[us, tz=UTC]"},
		{"w:16", "fixed_size_binary[16]"},
		{"", "error: empty format string"},
		{"q", "error: format \"q\": "},
		{"+l", "error: format \"+l\": nested types are not supported"},
		{"d:100,2", "error: format \"d:100,2\": invalid: precision for DECIMAL128 must be between 1 and 38, got 100"},
		{"d:0,0", "error: format \"d:0,0\": invalid: precision"},
		{"w:0", "error: format \"w:0\": "},
	} {
		dt, err := parseFormatString(c.format)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
		} else {
			got = dt.String()
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%q: %s, want %s", c.format, got, c.want)
		}
	}
}

// FuzzFormat: any format string a library declares gives a type or an
// error, never a crash.
func FuzzFormat(f *testing.F) {
	for _, s := range []string{"l", "u", "d:15,2", "d:40,4,256", "tsu:UTC", "tdD", "w:16", "+l", "+s", "", "d:", "d:1,2,3,4", "ts", "q", "vu", "+w:3", "tss:", "d:-1,2", "w:-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dt, err := parseFormatString(s)
		if err == nil && dt == nil {
			t.Fatalf("%q: no type and no error", s)
		}
	})
}
