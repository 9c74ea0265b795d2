package flightsql_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arbalest/arbalest/conformance/tpch"
)

// TestPythonClient runs client_check.py, which uses the Python SDK's
// arbalest.connect against a standalone cluster's Flight SQL server: DDL,
// TPC-H Q1 and Q6 as SQL, a query with parameters, Q3 and Q14 as
// Substrait plans (binary and JSON), a view, cursor access and the
// errors. The answers are checked against the embedded engine.
func TestPythonClient(t *testing.T) {
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
	sqlQ := map[string]int{"q1": 1, "q6": 6}
	planQ := map[string]int{"q3": 3, "q14": 14}
	queries := map[string]string{}
	for k, q := range sqlQ {
		text, err := tpch.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		queries[k] = text
	}
	plans, plansJSON := map[string]string{}, map[string]string{}
	for k, q := range planQ {
		plans[k] = hex.EncodeToString(tpchPlan(t, local, q, false))
		plansJSON[k] = string(tpchPlan(t, local, q, true))
	}
	req, err := json.Marshal(map[string]any{
		"uri": "grpc://" + addr, "username": testUser, "password": testPassword,
		"tables": tables, "queries": queries, "plans": plans, "plans_json": plansJSON,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "client_check.py")
	sdk, err := filepath.Abs(filepath.Join("..", "..", "sdk", "python"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "PYTHONPATH="+sdk+string(os.PathListSeparator)+os.Getenv("PYTHONPATH"))
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("client_check.py: %v\n%s", err, stderr.String())
	}
	var ans struct {
		WrongPassword string                 `json:"wrong_password"`
		Queries       map[string][][]*string `json:"queries"`
		Param         [][]*string            `json:"param"`
		Plans         map[string][][]*string `json:"plans"`
		PlansJSON     map[string][][]*string `json:"plans_json"`
		ViewCount     int                    `json:"view_count"`
		Error         string                 `json:"error"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &ans); err != nil {
		t.Fatalf("client_check.py output: %v\n%s", err, stdout.String())
	}
	check := func(what string, got [][]*string, q int) {
		t.Helper()
		want := tpch.Run(ctx, local, q)
		if want.Err != nil {
			t.Fatal(want.Err)
		}
		if err := tpch.Compare(values(got), want.Rows); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	for k, q := range sqlQ {
		check(k+" with conn.sql", ans.Queries[k], q)
	}
	for k, q := range planQ {
		check(k+" with conn.substrait (binary)", ans.Plans[k], q)
		check(k+" with conn.substrait (JSON)", ans.PlansJSON[k], q)
	}
	want := runLocal(t, local, "SELECT count(*) AS n FROM lineitem WHERE l_quantity < 24 AND l_returnflag = 'R'")
	if err := tpch.Compare(values(ans.Param), want); err != nil {
		t.Errorf("query with parameters: %v", err)
	}
	if ans.ViewCount != 5 {
		t.Errorf("nations of region 1 through a view: %d, want 5", ans.ViewCount)
	}
	if !strings.Contains(ans.Error, "no_such_column") {
		t.Errorf("bad column's error: %q", ans.Error)
	}
	if !strings.Contains(ans.WrongPassword, "grpc://"+addr) {
		t.Errorf("wrong password's error does not name the server: %q", ans.WrongPassword)
	}
}
