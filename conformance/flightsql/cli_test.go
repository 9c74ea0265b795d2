package flightsql_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/arbalest/arbalest/conformance/tpch"
)

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
	cliOut  []byte
)

// cli builds the arbalest command once for the tests of this package.
func cli(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "arbalest-cli-")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "arbalest")
		cmd := exec.Command("go", "build", "-o", cliPath, "github.com/arbalest/arbalest/cmd/arbalest")
		cliOut, cliErr = cmd.CombinedOutput()
	})
	if cliErr != nil {
		t.Fatalf("building cmd/arbalest: %v\n%s", cliErr, cliOut)
	}
	return cliPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cliPath != "" {
		os.RemoveAll(filepath.Dir(cliPath))
	}
	os.Exit(code)
}

// runArbalest runs the command with args and extra environment.
func runArbalest(t *testing.T, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func csvValues(t *testing.T, out string) [][]tpch.Value {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, out)
	}
	if len(recs) == 0 {
		t.Fatalf("no header in %q", out)
	}
	rows := make([][]tpch.Value, 0, len(recs)-1)
	for _, r := range recs[1:] {
		row := make([]tpch.Value, len(r))
		for i, v := range r {
			row[i] = tpch.Value{Text: v}
		}
		rows = append(rows, row)
	}
	return rows
}

// TestCLIFlightSQL runs `arbalest sql --connect flightsql://...`: TPC-H
// queries with --register tables, DDL followed by a query in one script,
// --timing, the password from the environment, and the errors of a wrong
// password and of missing credentials.
func TestCLIFlightSQL(t *testing.T) {
	dir := tpchData(t)
	local := embedded(t, dir)
	addr := startServer(t, testUser, testPassword)
	target := "flightsql://" + addr

	help, helpErr, _ := runArbalest(t, nil, "sql", "-h")
	if !strings.Contains(help+helpErr, "flightsql://") || !strings.Contains(help+helpErr, "-password") {
		t.Errorf("arbalest sql -h does not document Flight SQL:\n%s%s", help, helpErr)
	}

	var regs []string
	for _, tb := range tpch.Tables {
		loc := filepath.Join(dir, tb+".parquet")
		if !fileExists(loc) {
			loc = filepath.Join(dir, tb)
		}
		regs = append(regs, "--register", tb+"="+loc)
	}
	for _, q := range []int{1, 3, 6, 13} {
		text, err := tpch.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"sql", "--connect", target, "--user", testUser, "--password", testPassword, "--format", "csv", "--timing"}, regs...)
		out, errOut, err := runArbalest(t, nil, append(args, "-c", text)...)
		if err != nil {
			t.Fatalf("q%02d: %v\n%s", q, err, errOut)
		}
		want := tpch.Run(context.Background(), local, q)
		if want.Err != nil {
			t.Fatal(want.Err)
		}
		if err := tpch.Compare(csvValues(t, out), want.Rows); err != nil {
			t.Errorf("q%02d through the CLI over Flight SQL: %v", q, err)
		}
		if !strings.Contains(errOut, "rows in") {
			t.Errorf("q%02d: --timing printed nothing: %q", q, errOut)
		}
	}

	// DDL and a query in one script: one session. The password comes from
	// the environment.
	script := "CREATE VIEW asia AS SELECT n_name FROM nation JOIN region ON n_regionkey = r_regionkey WHERE r_name = 'ASIA'; SELECT count(*) AS n FROM asia;"
	out, errOut, err := runArbalest(t, []string{"ARBALEST_FLIGHTSQL_PASSWORD=" + testPassword},
		"sql", "--connect", target, "--user", testUser, "--format", "csv", "--register", "nation="+filepath.Join(dir, "nation.parquet"),
		"--register", "region="+filepath.Join(dir, "region.parquet"), "-c", script)
	if err != nil {
		t.Fatalf("DDL script: %v\n%s", err, errOut)
	}
	if !strings.HasSuffix(strings.TrimSpace(out), "n\r\n5") {
		t.Errorf("DDL then query: %q, want the count 5 last", out)
	}

	// A statement's error is the engine's message.
	_, errOut, err = runArbalest(t, nil, "sql", "--connect", target, "--user", testUser, "--password", testPassword, "-c", "SELECT no_such_column FROM (VALUES (1)) AS t(x)")
	if err == nil || !strings.Contains(errOut, "no_such_column") || strings.Contains(errOut, "rpc error") {
		t.Errorf("bad column: err %v, stderr %q", err, errOut)
	}

	_, errOut, err = runArbalest(t, nil, "sql", "--connect", target, "--user", testUser, "--password", "wrong", "-c", "SELECT 1")
	if err == nil || !strings.Contains(errOut, `login as "analyst" refused`) || !strings.Contains(errOut, addr) {
		t.Errorf("wrong password: err %v, stderr %q", err, errOut)
	}
	_, errOut, err = runArbalest(t, nil, "sql", "--connect", target, "-c", "SELECT 1")
	if err == nil || !strings.Contains(errOut, "--user and --password") {
		t.Errorf("no credentials: err %v, stderr %q", err, errOut)
	}
	_, errOut, err = runArbalest(t, nil, "sql", "--user", testUser, "-c", "SELECT 1")
	if err == nil || !strings.Contains(errOut, "flightsql://") {
		t.Errorf("--user without a Flight SQL --connect: err %v, stderr %q", err, errOut)
	}
}

// TestCLIFlightSQLAnonymous connects without credentials to a loopback
// server: the CLI gets a session of its own.
func TestCLIFlightSQLAnonymous(t *testing.T) {
	addr := startServer(t, "", "")
	out, errOut, err := runArbalest(t, nil, "sql", "--connect", "flightsql://"+addr, "--format", "csv",
		"-c", "CREATE VIEW v AS SELECT 40 + 2 AS answer; SELECT answer FROM v")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !strings.HasSuffix(strings.TrimSpace(out), "answer\r\n42") {
		t.Fatalf("anonymous: %q", out)
	}
	// Another anonymous CLI does not see that view.
	_, errOut, err = runArbalest(t, nil, "sql", "--connect", "flightsql://"+addr, "-c", "SELECT answer FROM v")
	if err == nil || !strings.Contains(errOut, "v") {
		t.Fatalf("second anonymous CLI: err %v, stderr %q", err, errOut)
	}
}
