package plugins

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/arbalest/arbalest/plugins/native"
	"github.com/arbalest/arbalest/plugins/runtime"
)

// gcc compiles a native UDF library.
func gcc(t *testing.T, src string, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "lib"+filepath.Base(src)+".so")
	args := append([]string{"-std=c11", "-Wall", "-Werror", "-O2", "-fPIC", "-shared", "-I", "../../plugins/native", "-o", out, "../../" + src}, extra...)
	if msg, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", args, err, msg)
	}
	return out
}

// TestNativeUDFFromSQL compiles C UDF libraries with gcc, calls their
// functions from SQL (alone, nested, in aggregates, over many batches and
// partitions), and checks that nothing leaked: the Go buffers (a checked
// allocator) and the C results (the test library's counters).
func TestNativeUDFFromSQL(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	lib, err := native.Load(gcc(t, "plugins/native/testdata/testudf.c"), native.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := native.Load(gcc(t, "examples/native/example.c", "-lm"))
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	s, m := session(t, runtime.Config{Name: "tp", Path: testPlugin(t)})
	if err := m.AddFunctions(lib.Functions()); err != nil {
		t.Fatal(err)
	}
	if err := m.AddFunctions(ex.Functions()); err != nil {
		t.Fatal(err)
	}
	mustQuery(t, s, "CREATE EXTERNAL TABLE nums STORED AS tp OPTIONS (rows '100000')")
	expect(t, s, "SELECT add_i64(2, 40), str_len('héllo'), add_i64(NULL, 1), fnv1a_64('arbalest')", "42|6|NULL|-3355496573763998553")
	expect(t, s, "SELECT sum(add_i64(id, 1)), sum(str_len(name)), count(str_len(name)) FROM nums", "5000050000|530001|90000")
	expect(t, s, "SELECT id % 2, sum(add_i64(add_i64(id, id), 1)) FROM nums WHERE id < 10 GROUP BY 1 ORDER BY 1", "0|45", "1|55")
	for q, want := range map[string]string{
		"SELECT fail(id) FROM nums":       "fail: refusing",
		"SELECT fail_leaky(id) FROM nums": "failed after allocating",
		"SELECT wrong_type(id) FROM nums": "wrong_type",
		"SELECT bad_utf8(1)":              "UTF-8",
	} {
		if _, err := query(s, q); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", q, err, want)
		}
	}
	var allocated, released int64
	if allocated, err = lib.Int64Symbol("testudf_results_allocated"); err != nil {
		t.Fatal(err)
	}
	if released, err = lib.Int64Symbol("testudf_results_released"); err != nil {
		t.Fatal(err)
	}
	if allocated == 0 || allocated != released {
		t.Errorf("C results: %d allocated, %d released", allocated, released)
	}
	if err := lib.Close(); err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
}
