package cluster_test

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arbalest/arbalest/conformance/tpch"
	"github.com/arbalest/arbalest/host/engine"
)

// buildTestPlugin builds the runtime's Go test plugin into dir.
func buildTestPlugin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "testplugin")
	if out, err := exec.Command("go", "build", "-o", bin, "../../plugins/runtime/testdata/testplugin").CombinedOutput(); err != nil {
		t.Fatalf("building the test plugin: %v\n%s", err, out)
	}
	return bin
}

// rowsOf runs script on r and returns the last statement's rows as "a|b".
func rowsOf(ctx context.Context, r engine.Runner, script string) ([]string, error) {
	var out []string
	err := r.Run(ctx, script, func(res *engine.Result) error {
		out = out[:0]
		for {
			b, err := res.Stream.Next(ctx)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			for i := range int(b.NumRows()) {
				vals := make([]string, b.NumCols())
				for j := range vals {
					if c := b.Column(j); c.IsNull(i) {
						vals[j] = "NULL"
					} else {
						vals[j] = c.ValueStr(i)
					}
				}
				out = append(out, strings.Join(vals, "|"))
			}
		}
	})
	return out, err
}

// TestPlugins runs a Go data source and function plugin on a cluster of
// executor processes: the scheduler plans with its instance, every
// executor reads splits and calls functions through its own.
func TestPlugins(t *testing.T) {
	e := needEnv(t)
	bin := buildTestPlugin(t)
	root, _ := filepath.Abs("../..")
	plug := []string{"--plugin", "tp=" + bin + ",timeout=5s",
		"--plugin", "udfs=" + filepath.Join(root, "examples/python/udfs.py"),
		"--plugin", "numbers=" + filepath.Join(root, "examples/python/datasource.py")}
	c := &testCluster{t: t, e: e, execFlags: plug}
	c.start(2, 2, plug...)
	r, done := c.runner()
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := tpch.Register(ctx, r, e.data); err != nil {
		t.Fatal(err)
	}
	expect := func(q string, want ...string) {
		t.Helper()
		got, err := rowsOf(ctx, r, q)
		if err != nil {
			t.Fatalf("%s: %v\n%s", q, err, c.logs())
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", q, got, want)
		}
	}
	expect("CREATE EXTERNAL TABLE nums STORED AS tp OPTIONS (rows '5000')")
	expect("SELECT count(*), sum(id), count(name) FROM nums", "5000|12497500|4500")
	expect("SELECT count(*), sum(id) FROM nums WHERE id > 1000", "3999|11997000")
	expect("SELECT id % 3 AS k, my_sum(add_one(id)), sum(id + 1) FROM nums GROUP BY 1 ORDER BY 1",
		"0|4167500|4167500", "1|4169167|4169167", "2|4165833|4165833")
	// A plugin table joined with a Parquet table, a UDF on the join's output.
	expect("SELECT n.n_name, shout(x.name), my_sum(x.id) FROM nums x JOIN nation n ON x.id = n.n_nationkey "+
		"WHERE n.n_regionkey = 1 GROUP BY 1, 2 ORDER BY 1",
		"ARGENTINA|n1!|1", "BRAZIL|n2!|2", "CANADA|n3!|3", "PERU|NULL!|17", "UNITED STATES|n24!|24")
	ex, err := rowsOf(ctx, r, "EXPLAIN SELECT count(*) FROM nums WHERE id > 1000")
	if err != nil || !strings.Contains(strings.Join(ex, "\n"), "exact_filters=[gt(id#0, 1000)]") {
		t.Errorf("EXPLAIN on the cluster: %v\n%s", err, strings.Join(ex, "\n"))
	}
	// A plugin that crashes in the executors fails the query and names it;
	// the next query runs.
	expect("CREATE EXTERNAL TABLE t_crash STORED AS tp OPTIONS (rows '5000', mode 'crash')")
	if _, err := rowsOf(ctx, r, "SELECT count(*) FROM t_crash"); err == nil || !strings.Contains(err.Error(), "plugin tp crashed") {
		t.Errorf("crash on the cluster: %v", err)
	}
	expect("SELECT count(*), add_one(41) FROM nums", "5000|42")

	// Python plugins: a data source read in splits by the executors, and
	// functions, joined with the Go plugin's table and a Parquet table.
	expect("CREATE EXTERNAL TABLE numbers STORED AS numbers OPTIONS (rows '200000')")
	expect("SELECT category, count(*), sum(id), round(geo_mean(x), 6) = round(exp(avg(ln(x))), 6) FROM numbers WHERE id >= 100 GROUP BY 1 ORDER BY 1",
		"even|99950|9999897550|true", "odd|99950|9999997500|true")
	expect("SELECT n.n_name, slug(x.label), add_one(y.id) FROM numbers x JOIN nums y ON x.id = y.id JOIN nation n ON n.n_nationkey = x.id "+
		"WHERE x.id < 3 ORDER BY 1", "ALGERIA|row-0|1", "ARGENTINA|row-1|2", "BRAZIL|row-2|3")
}
