// Package plugins drives plugins through the engine's public entry
// points: data source and function plugins (Go, Python) from SQL and from
// Substrait plans, on the embedded engine; the failure cases; and a
// cluster of executor processes.
package plugins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/arbalest/arbalest/cmd/arbalest/standalone"
	"github.com/arbalest/arbalest/host/engine"
	"github.com/arbalest/arbalest/plugins/runtime"
	"github.com/arbalest/arbalest/substrait/producer"
	"google.golang.org/protobuf/proto"
)

var (
	buildOnce sync.Once
	goPlugin  string
	buildErr  error
)

// testPlugin builds the runtime's Go test plugin once.
func testPlugin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "arbalest-plugins-")
		if err != nil {
			buildErr = err
			return
		}
		goPlugin = filepath.Join(dir, "testplugin")
		out, err := exec.Command("go", "build", "-o", goPlugin, "../../plugins/runtime/testdata/testplugin").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("building the test plugin: %v", buildErr)
	}
	return goPlugin
}

// buildGo builds the Go main package at pkg (relative to the repository root).
func buildGo(t *testing.T, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, "../../"+pkg).CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// TestGoExamples runs the Go SDK's example plugins from SQL.
func TestGoExamples(t *testing.T) {
	s, _ := session(t,
		runtime.Config{Name: "geo", Path: buildGo(t, "examples/plugins/geo")},
		runtime.Config{Name: "series", Path: buildGo(t, "examples/plugins/series")})
	expect(t, s, "SELECT round(haversine_km(48.85, 2.35, 51.51, -0.13), 1), haversine_km(NULL, 0, 0, 0)", "344.4|NULL")
	mustQuery(t, s, "CREATE EXTERNAL TABLE s STORED AS series OPTIONS (start '1', stop '1000000')")
	q := "SELECT count(*), sum(value), round(geo_mean(CAST(value AS DOUBLE)), 3) FROM s WHERE value > 999000 AND value <= 999010"
	expect(t, s, q, "10|9990055|999005.5")
	if ex := explain(t, s, q); strings.Contains(ex, "Filter:") || !strings.Contains(ex, "values 999001..999010") {
		t.Errorf("EXPLAIN of the series example:\n%s", ex)
	}
	expect(t, s, "SELECT value % 2, count(*) FROM s GROUP BY 1 ORDER BY 1", "0|500000", "1|500000")
	if _, err := query(s, "SELECT geo_mean(CAST(value - 5 AS DOUBLE)) FROM s WHERE value < 10"); err == nil || !strings.Contains(err.Error(), "values must be positive") {
		t.Errorf("geo_mean of negatives: %v", err)
	}
}

// python is the interpreter with the SDK's dependencies: $ARBALEST_PYTHON
// or the Makefile's .venv.
func python(t *testing.T) string {
	if p := os.Getenv("ARBALEST_PYTHON"); p != "" {
		return p
	}
	p, err := filepath.Abs("../../.venv/bin/python")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sdkPython(t *testing.T) string {
	p, err := filepath.Abs("../../sdk/python")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pyFile is the absolute path of a Python plugin file of the repository.
func pyFile(t *testing.T, rel string) string {
	p, err := filepath.Abs("../../" + rel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(python(t)); err != nil {
		t.Fatalf("no Python with the SDK's packages at %s (run make setup or set ARBALEST_PYTHON): %v", python(t), err)
	}
	return p
}

// session is an embedded engine with the given plugins loaded.
func session(t *testing.T, cfgs ...runtime.Config) (*engine.Session, *runtime.Manager) {
	t.Helper()
	m, err := runtime.New(cfgs, runtime.Options{Timeout: 3 * time.Second, Log: io.Discard, Python: python(t), PythonPath: sdkPython(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	s := standalone.NewSession(engine.ExecOptions{Partitions: 3})
	s.Catalog.SetExtensions(m)
	return s, m
}

// query runs script and returns the last statement's rows as "a|b|c".
func query(s *engine.Session, script string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []string
	err := s.Run(ctx, script, func(r *engine.Result) error {
		out = out[:0]
		for {
			b, err := r.Stream.Next(ctx)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			out = append(out, format(b)...)
		}
	})
	return out, err
}

func format(b arrow.RecordBatch) []string {
	var out []string
	for i := range int(b.NumRows()) {
		vals := make([]string, b.NumCols())
		for j := range vals {
			c := b.Column(j)
			if c.IsNull(i) {
				vals[j] = "NULL"
			} else {
				vals[j] = c.ValueStr(i)
			}
		}
		out = append(out, strings.Join(vals, "|"))
	}
	return out
}

func mustQuery(t *testing.T, s *engine.Session, script string) []string {
	t.Helper()
	rows, err := query(s, script)
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	return rows
}

func expect(t *testing.T, s *engine.Session, script string, want ...string) {
	t.Helper()
	got := mustQuery(t, s, script)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", script, got, want)
	}
}

func explain(t *testing.T, s *engine.Session, q string) string {
	t.Helper()
	return strings.Join(mustQuery(t, s, "EXPLAIN "+q), "\n")
}

const nums = "CREATE EXTERNAL TABLE nums STORED AS tp OPTIONS (rows '5000');"

func TestGoScanPlugin(t *testing.T) {
	s, _ := session(t, runtime.Config{Name: "tp", Path: testPlugin(t)})
	mustQuery(t, s, nums)
	expect(t, s, "SELECT count(*), sum(id), count(name) FROM nums", "5000|12497500|4500")
	// id > 1000 is exact in the plugin: the Filter is gone, the rows are right.
	q := "SELECT count(*), sum(id) FROM nums WHERE id > 1000"
	expect(t, s, q, "3999|11997000")
	ex := explain(t, s, q)
	if !strings.Contains(ex, "exact_filters=[") || strings.Contains(ex, "Filter: ") || !strings.Contains(ex, "id > 1000") {
		t.Errorf("EXPLAIN does not show the exact filter pushed and the Filter removed:\n%s", ex)
	}
	// A filter the plugin does not take stays in the plan.
	q = "SELECT count(*) FROM nums WHERE id > 1000 AND name LIKE 'n1%'"
	expect(t, s, q, "899")
	if ex := explain(t, s, q); !strings.Contains(ex, "Filter: starts_with") {
		t.Errorf("EXPLAIN lost the unsupported filter:\n%s", ex)
	}
	// LIMIT reaches the plugin.
	q = "SELECT id FROM nums WHERE id > 10 LIMIT 3"
	if got := mustQuery(t, s, q); len(got) != 3 {
		t.Errorf("%s: %v", q, got)
	}
	if ex := explain(t, s, q); !strings.Contains(ex, "pushed_limit=3") {
		t.Errorf("EXPLAIN does not show the pushed limit:\n%s", ex)
	}
	// Projection: only the columns used are asked for.
	expect(t, s, "SELECT max(score) FROM nums", "1249.75")
	// Joined with a file table.
	dir := t.TempDir()
	csv := filepath.Join(dir, "labels.csv")
	os.WriteFile(csv, []byte("k,label\n1,one\n2,two\n4000,four thousand\n"), 0o644)
	expect(t, s, "CREATE EXTERNAL TABLE labels STORED AS CSV WITH HEADER ROW LOCATION '"+csv+"';"+
		"SELECT n.id, n.name, l.label FROM nums n JOIN labels l ON n.id = l.k ORDER BY n.id",
		"1|n1|one", "2|n2|two", "4000|n4000|four thousand")
	// Declared columns must match the plugin's.
	if _, err := query(s, "CREATE EXTERNAL TABLE bad (id INT) STORED AS tp"); err == nil || !strings.Contains(err.Error(), "1 columns declared but plugin tp gives 3") {
		t.Errorf("wrong declared columns: %v", err)
	}
	if _, err := query(s, "CREATE EXTERNAL TABLE bad STORED AS tp OPTIONS (rows 'lots')"); err == nil || !strings.Contains(err.Error(), `option rows: "lots"`) {
		t.Errorf("bad option: %v", err)
	}
	if _, err := query(s, "CREATE EXTERNAL TABLE bad STORED AS nosuch"); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("unknown plugin: %v", err)
	}
}

func TestGoFunctionPlugin(t *testing.T) {
	s, _ := session(t, runtime.Config{Name: "tp", Path: testPlugin(t)})
	mustQuery(t, s, nums)
	expect(t, s, "SELECT add_one(id), shout(name), add_one(NULL) FROM nums WHERE id IN (6, 7) ORDER BY 1",
		"7|n6!|NULL", "8|NULL!|NULL")
	// Arguments are coerced to the declared types; functions nest.
	expect(t, s, "SELECT add_one(add_one(CAST(40 AS INT)))", "42")
	expect(t, s, "SELECT sum(add_one(id)) FROM nums", "12502500")
	// A user-defined aggregate, grouped and not.
	expect(t, s, "SELECT id % 3 AS k, my_sum(id), sum(id) FROM nums GROUP BY 1 ORDER BY 1",
		"0|4165833|4165833", "1|4167500|4167500", "2|4164167|4164167")
	expect(t, s, "SELECT my_sum(id) FROM nums WHERE id < 10", "45")
	expect(t, s, "SELECT my_sum(DISTINCT id % 4) FROM nums", "6")
	if _, err := query(s, "SELECT add_one(name) FROM nums"); err == nil || !strings.Contains(err.Error(), "does not convert implicitly") {
		t.Errorf("wrong argument type: %v", err)
	}
	if _, err := query(s, "SELECT add_one(1, 2)"); err == nil || !strings.Contains(err.Error(), "takes 1 arguments") {
		t.Errorf("wrong argument count: %v", err)
	}
}

// TestSubstraitCallsPlugins: a Substrait plan (as any producer would
// write it: the function by the plugin's extension URN) runs.
func TestSubstraitCallsPlugins(t *testing.T) {
	s, _ := session(t, runtime.Config{Name: "tp", Path: testPlugin(t)})
	mustQuery(t, s, nums)
	plan, err := s.PlanSQL("SELECT id % 3 AS k, my_sum(add_one(id)) AS m FROM nums WHERE id > 4990 GROUP BY 1 ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	pb, err := producer.ToProto(plan)
	if err != nil {
		t.Fatal(err)
	}
	var urns []string
	for _, u := range pb.GetExtensionUrns() {
		urns = append(urns, u.GetUrn())
	}
	if !strings.Contains(strings.Join(urns, " "), "extension:arbalest-tests:testplugin") {
		t.Errorf("plan URNs %v lack the plugin's", urns)
	}
	b, _ := proto.Marshal(pb)
	stream, err := s.RunSubstrait(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	var got []string
	for {
		batch, err := stream.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, format(batch)...)
	}
	want := "0|14988,1|14991,2|14985"
	if strings.Join(got, ",") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

func TestPluginFailures(t *testing.T) {
	s, m := session(t, runtime.Config{Name: "tp", Path: testPlugin(t), Timeout: 2 * time.Second})
	mustQuery(t, s, nums)
	for _, mode := range []string{"crash", "hang", "wrong_schema"} {
		mustQuery(t, s, fmt.Sprintf("CREATE EXTERNAL TABLE t_%s STORED AS tp OPTIONS (rows '5000', mode '%s')", mode, mode))
	}
	cases := []struct{ q, want string }{
		{"SELECT count(*) FROM t_crash", "plugin tp crashed"},
		{"SELECT count(*) FROM t_hang", "timed out"},
		{"SELECT count(*) FROM t_wrong_schema", "wrong schema"},
		{"SELECT misbehave('crash')", "plugin tp crashed"},
		{"SELECT misbehave('hang') FROM nums", "timed out"},
		{"SELECT misbehave('wrong_type') FROM nums", "returned"},
		{"SELECT misbehave('error') FROM nums", "misbehave was asked to fail"},
	}
	for _, c := range cases {
		start := time.Now()
		_, err := query(s, c.q)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "tp") {
			t.Errorf("%s: %v, want an error naming the plugin and %q", c.q, err, c.want)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%s took %s", c.q, d)
		}
		// The plugin (restarted when it crashed) serves the next query.
		t.Logf("after %s", c.q)
		expect(t, s, "SELECT count(*), add_one(1) FROM nums", "5000|2")
	}
	// Other queries keep running while one plugin call hangs.
	done := make(chan error, 1)
	go func() {
		_, err := query(s, "SELECT count(*) FROM t_hang")
		done <- err
	}()
	expect(t, s, "SELECT count(*) FROM nums WHERE id > 4000", "999")
	if err := <-done; err == nil {
		t.Error("the hanging query succeeded")
	}
	_ = m
}

// TestPythonPlugins runs the Python SDK's examples: functions (scalar,
// strings, an aggregate) and a data source with pushdown and splits.
func TestPythonPlugins(t *testing.T) {
	s, _ := session(t,
		runtime.Config{Name: "udfs", Path: pyFile(t, "examples/python/udfs.py")},
		runtime.Config{Name: "numbers", Path: pyFile(t, "examples/python/datasource.py")})
	expect(t, s, "SELECT round(haversine_km(48.85, 2.35, 51.51, -0.13), 1), slug('Hello, World!'), repeat_word('ab', 3), repeat_word(NULL, 2)",
		"344.4|hello-world|ab ab ab|NULL")
	mustQuery(t, s, "CREATE EXTERNAL TABLE n STORED AS numbers OPTIONS (rows '100000')")
	expect(t, s, "SELECT count(*), sum(id), count(DISTINCT category) FROM n", "100000|4999950000|2")
	q := "SELECT count(*), sum(id), round(geo_mean(x), 6) = round(exp(avg(ln(x))), 6) FROM n WHERE id >= 500 AND category = 'odd'"
	expect(t, s, q, "49750|2499937500|true")
	// category is read only by an exact filter: it is not fetched.
	if ex := explain(t, s, q); strings.Contains(ex, "Filter:") || !strings.Contains(ex, "exact_filters=[gte(id#0, 500), equal(category#3, 'odd')]") ||
		!strings.Contains(ex, "Scan: n projection=[id, x] ") {
		t.Errorf("EXPLAIN of the Python data source:\n%s", ex)
	}
	expect(t, s, "SELECT category, count(*), round(geo_mean(x), 3) FROM n WHERE id BETWEEN 1 AND 16 GROUP BY 1 ORDER BY 1",
		"even|8|0.941", "odd|8|0.768")
	expect(t, s, "SELECT label FROM n WHERE id >= 99998 ORDER BY id", "row-99998", "row-99999")
	if got := mustQuery(t, s, "SELECT id FROM n LIMIT 5"); len(got) != 5 {
		t.Errorf("LIMIT 5: %v", got)
	}
	// A join of the Python table with a Go-side VALUES list and a slug of it.
	expect(t, s, "SELECT slug(n.label || ' ' || v.w) FROM n JOIN (VALUES (7, 'Seven!'), (9, 'Nine?')) v(k, w) ON n.id = v.k ORDER BY 1",
		"row-7-seven", "row-9-nine")
	if _, err := query(s, "CREATE EXTERNAL TABLE bad STORED AS numbers OPTIONS (rows 'many')"); err == nil || !strings.Contains(err.Error(), "is not an integer") {
		t.Errorf("bad option: %v", err)
	}
}

// TestPythonFailures: a Python plugin that raises, answers wrongly,
// crashes or hangs fails the query with the plugin's name; the next query
// works.
func TestPythonFailures(t *testing.T) {
	s, _ := session(t, runtime.Config{Name: "mb", Path: pyFile(t, "conformance/plugins/testdata/misbehave.py"), Timeout: 3 * time.Second})
	for _, mode := range []string{"crash", "hang", "wrong_schema", "error"} {
		mustQuery(t, s, fmt.Sprintf("CREATE EXTERNAL TABLE r_%s STORED AS mb OPTIONS (rows '5000', mode '%s')", mode, mode))
	}
	mustQuery(t, s, "CREATE EXTERNAL TABLE r STORED AS mb OPTIONS (rows '5000')")
	cases := []struct{ q, want string }{
		{"SELECT misbehave('error')", "misbehave was asked to fail"},
		{"SELECT misbehave('wrong_type') FROM r", "misbehave"},
		{"SELECT misbehave('wrong_length') FROM r", "misbehave"},
		{"SELECT count(*) FROM r_error", "read was asked to fail"},
		{"SELECT count(*) FROM r_wrong_schema", "id"},
		{"SELECT misbehave('crash')", "plugin mb crashed"},
		{"SELECT count(*) FROM r_crash", "plugin mb crashed"},
		{"SELECT misbehave('hang')", "timed out"},
		{"SELECT count(*) FROM r_hang", "timed out"},
	}
	for _, c := range cases {
		start := time.Now()
		_, err := query(s, c.q)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "mb") {
			t.Errorf("%s: %v, want an error naming the plugin and %q", c.q, err, c.want)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s took %s", c.q, d)
		}
		expect(t, s, "SELECT count(*), sum(misbehave('ok')) FROM r", "5000|5000")
	}
}
