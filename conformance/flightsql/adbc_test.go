package flightsql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arbalest/arbalest/conformance/tpch"
)

// python is the interpreter with the ADBC driver: $ARBALEST_PYTHON or the
// project's venv.
func python(t *testing.T) string {
	t.Helper()
	py := os.Getenv("ARBALEST_PYTHON")
	if py == "" {
		py = "/work/main/.venv/bin/python"
		if wd, err := os.Getwd(); err == nil {
			if p := filepath.Join(wd, "..", "..", ".venv", "bin", "python"); fileExists(p) {
				py = p
			}
		}
	}
	if !fileExists(py) {
		if os.Getenv("ARBALEST_FLIGHTSQL_REQUIRED") == "1" {
			t.Fatalf("no Python at %s (set ARBALEST_PYTHON)", py)
		}
		t.Skipf("no Python at %s (set ARBALEST_PYTHON)", py)
	}
	if err := exec.Command(py, "-c", "import adbc_driver_flightsql, adbc_driver_manager").Run(); err != nil {
		if os.Getenv("ARBALEST_FLIGHTSQL_REQUIRED") == "1" {
			t.Fatalf("%s lacks the ADBC Flight SQL driver: pip install adbc-driver-flightsql adbc-driver-manager", py)
		}
		t.Skipf("%s lacks the ADBC Flight SQL driver", py)
	}
	return py
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

type adbcAnswer struct {
	Tables map[string]struct {
		Catalog, Schema, Type string
		Columns               []string
	} `json:"tables"`
	Vendor  string                 `json:"vendor"`
	Queries map[string][][]*string `json:"queries"`
	Param   [][]*string            `json:"param"`
	Error   string                 `json:"error"`
}

func values(rows [][]*string) [][]tpch.Value {
	out := make([][]tpch.Value, len(rows))
	for i, r := range rows {
		out[i] = make([]tpch.Value, len(r))
		for j, v := range r {
			if v == nil {
				out[i][j] = tpch.Value{Null: true}
			} else {
				out[i][j] = tpch.Value{Text: *v}
			}
		}
	}
	return out
}

// TestADBC connects with the ADBC Flight SQL driver from Python (username
// and password), lists the tables with adbc_get_objects, and runs TPC-H
// Q1 and Q6 and a query with parameters, checked against the embedded
// engine.
func TestADBC(t *testing.T) {
	dir := tpchData(t)
	py := python(t)
	local := embedded(t, dir)
	addr := startServer(t, testUser, testPassword)

	tables := map[string]string{}
	for _, tb := range tpch.Tables {
		loc := filepath.Join(dir, tb+".parquet")
		if !fileExists(loc) {
			loc = filepath.Join(dir, tb)
		}
		tables[tb] = loc
	}
	queries := map[string]string{}
	for _, q := range []int{1, 6} {
		text, err := tpch.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		queries[map[int]string{1: "q1", 6: "q6"}[q]] = text
	}
	req, err := json.Marshal(map[string]any{
		"uri": "grpc://" + addr, "username": testUser, "password": testPassword,
		"tables": tables, "queries": queries,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "adbc_check.py")
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("adbc_check.py: %v\n%s", err, stderr.String())
	}
	var ans adbcAnswer
	if err := json.Unmarshal(stdout.Bytes(), &ans); err != nil {
		t.Fatalf("adbc_check.py output: %v\n%s", err, stdout.String())
	}
	li, ok := ans.Tables["lineitem"]
	if !ok || li.Type != "TABLE" || len(li.Columns) != 16 || li.Catalog != "arbalest" {
		t.Errorf("adbc_get_objects lineitem: %+v", li)
	}
	if ans.Vendor != "Arbalest" {
		t.Errorf("vendor name %q", ans.Vendor)
	}
	for key, q := range map[string]int{"q1": 1, "q6": 6} {
		want := tpch.Run(ctx, local, q)
		if want.Err != nil {
			t.Fatal(want.Err)
		}
		if err := tpch.Compare(values(ans.Queries[key]), want.Rows); err != nil {
			t.Errorf("%s over ADBC: %v", key, err)
		}
	}
	want := runLocal(t, local, "SELECT count(*) AS n FROM lineitem WHERE l_quantity < 24 AND l_returnflag = 'R'")
	if err := tpch.Compare(values(ans.Param), want); err != nil {
		t.Errorf("query with parameters over ADBC: %v", err)
	}
	if !strings.Contains(ans.Error, "no_such_column") {
		t.Errorf("bad query's error over ADBC: %q", ans.Error)
	}
}
