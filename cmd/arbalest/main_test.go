package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	old := stdout
	stdout = &buf
	defer func() { stdout = old }()
	err := run(context.Background(), args)
	return buf.String(), err
}

func csvFixture(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "t.csv")
	data := "k,v,s\n1,10,\"a,b\"\n2,,x\n3,30,\"say \"\"hi\"\"\"\n"
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSQLFormatCSV(t *testing.T) {
	p := csvFixture(t)
	out, err := runCLI(t, "sql", "--register", "t="+p, "--format", "csv", "-c", "select k, v, s from t order by k")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "k,v,s\r\n") {
		t.Fatalf("CSV must start with a header row and use CRLF (RFC 4180): %q", out)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v\n%s", err, out)
	}
	want := [][]string{{"k", "v", "s"}, {"1", "10", "a,b"}, {"2", "", "x"}, {"3", "30", `say "hi"`}}
	if len(recs) != len(want) {
		t.Fatalf("rows = %v", recs)
	}
	for i := range want {
		if strings.Join(recs[i], "|") != strings.Join(want[i], "|") {
			t.Fatalf("row %d = %v, want %v", i, recs[i], want[i])
		}
	}
}

func TestSQLFormatJSONAndTable(t *testing.T) {
	p := csvFixture(t)
	out, err := runCLI(t, "sql", "--register", "t="+p, "--format", "json", "-c", "select k, v from t order by k")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if len(rows) != 3 || rows[1]["v"] != nil || rows[2]["v"].(float64) != 30 {
		t.Fatalf("rows = %v", rows)
	}
	out, err = runCLI(t, "sql", "--register", "t="+p, "-c", "select count(*) as n from t")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "│ n │") || !strings.Contains(out, "(1 row)") {
		t.Fatalf("table output:\n%s", out)
	}
}

func TestSQLFileAndErrors(t *testing.T) {
	p := csvFixture(t)
	script := filepath.Join(t.TempDir(), "s.sql")
	os.WriteFile(script, []byte("create external table u stored as csv location '"+p+"';\n-- comment; with a semicolon\nselect sum(v) from u;"), 0o644)
	out, err := runCLI(t, "sql", "--format", "csv", "-f", script)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "40") {
		t.Fatalf("script output: %q", out)
	}
	if _, err := runCLI(t, "sql", "--format", "xml", "-c", "select 1"); err == nil {
		t.Fatal("unknown format must fail")
	}
	if _, err := runCLI(t, "sql", "--register", "broken", "-c", "select 1"); err == nil {
		t.Fatal("--register without = must fail")
	}
	if _, err := runCLI(t, "nosuchcommand"); err == nil {
		t.Fatal("unknown command must fail")
	}
}

func TestStatementComplete(t *testing.T) {
	cases := map[string]bool{
		"select 1;":                  true,
		"select 1":                   false,
		"select ';'":                 false,
		"select ';';":                true,
		"select 1; -- done":          true,
		"select 1 -- not yet;":       false,
		"select /* ; */ 1":           false,
		"select \"a;b\" from t;\n\n": true,
	}
	for in, want := range cases {
		if got := statementComplete(in); got != want {
			t.Errorf("statementComplete(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseQueries(t *testing.T) {
	qs, err := parseQueries("1, q6,14")
	if err != nil || len(qs) != 3 || qs[1] != 6 {
		t.Fatalf("parseQueries = %v, %v", qs, err)
	}
	if all, _ := parseQueries(""); len(all) != 22 {
		t.Fatalf("default is all 22, got %d", len(all))
	}
	if _, err := parseQueries("23"); err == nil {
		t.Fatal("query 23 must be refused")
	}
}
