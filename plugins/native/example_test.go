//go:build cgo && !arbalest_nonative

package native

import (
	"context"
	"hash/fnv"
	"math"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestExampleLibrary builds examples/native/example.c the way its comment
// says (plus strict warnings) and checks its three functions.
func TestExampleLibrary(t *testing.T) {
	src := filepath.Join("..", "..", "examples", "native", "example.c")
	so := filepath.Join(t.TempDir(), "libexample.so")
	cmd := exec.Command("gcc", "-shared", "-fPIC", "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
		"-I", ".", "-o", so, src, "-lm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	lib, err := Load(so, WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	if lib.URN() != "extension:native:example" || len(lib.Functions()) != 3 {
		t.Fatalf("urn %s, %d functions", lib.URN(), len(lib.Functions()))
	}
	ctx := context.Background()

	// levenshtein over slices with NULLs.
	a := strs(mem, []string{"-", "kitten", "flaw", "", "日本語", "x", "same"}, []bool{true, true, true, true, true, false, true})
	defer a.Release()
	b := strs(mem, []string{"sitting", "lawn", "abc", "日本", "y", "same", "-"}, nil)
	defer b.Release()
	as, bs := array.NewSlice(a, 1, 7), array.NewSlice(b, 0, 6)
	defer as.Release()
	defer bs.Release()
	res, err := fn(t, lib, "levenshtein").EvalScalar(ctx, []arrow.Array{as, bs}, 6)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := render(res), "[3 2 3 1 (null) 0]"; got != want {
		t.Errorf("levenshtein = %s, want %s", got, want)
	}
	res.Release()

	// fnv1a_64 against Go's hash/fnv.
	words := []string{"arbalest", "", "héllo"}
	w := strs(mem, words, nil)
	defer w.Release()
	res, err = fn(t, lib, "fnv1a_64").EvalScalar(ctx, []arrow.Array{w}, len(words))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range words {
		h := fnv.New64a()
		h.Write([]byte(s))
		if got, want := res.(*array.Int64).Value(i), int64(h.Sum64()); got != want {
			t.Errorf("fnv1a_64(%q) = %d, want %d", s, got, want)
		}
	}
	res.Release()

	// haversine_km: Paris to London, and a point to itself.
	f64 := func(v ...float64) arrow.Array {
		bld := array.NewFloat64Builder(mem)
		defer bld.Release()
		bld.AppendValues(v, nil)
		return bld.NewArray()
	}
	args := []arrow.Array{f64(48.8566, 10), f64(2.3522, 20), f64(51.5074, 10), f64(-0.1278, 20)}
	defer func() {
		for _, x := range args {
			x.Release()
		}
	}()
	res, err = fn(t, lib, "haversine_km").EvalScalar(ctx, args, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	got := res.(*array.Float64).Float64Values()
	if math.Abs(got[0]-343.56) > 0.5 || got[1] != 0 {
		t.Errorf("haversine_km = %v, want [~343.56 0]", got)
	}
}
