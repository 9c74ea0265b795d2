package tpch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func vals(s ...string) []Value {
	out := make([]Value, len(s))
	for i, x := range s {
		if x == "NULL" {
			out[i] = Value{Null: true}
		} else {
			out[i] = Value{Text: x}
		}
	}
	return out
}

func TestCompareRule(t *testing.T) {
	cases := []struct {
		got, want []Value
		ok        bool
	}{
		{vals("A", "37734107.00", "25.5220058532", "1478493"), vals("A", "37734107.00", "25.52", "1478493"), true},
		{vals("25.526"), vals("25.52"), true},     // rounds to 25.53: within one unit of the last digit
		{vals("25.54"), vals("25.52"), false},     // two units off
		{vals("1478494"), vals("1478493"), false}, // integers must be exact
		{vals("Customer#000000001  "), vals("Customer#000000001"), true},
		{vals("Customer#000000001"), vals("Customer#000000002"), false},
		{vals("1995-03-15"), vals("1995-03-15 00:00:00"), true},
		{vals("NULL"), vals("NULL"), true},
		{vals("NULL"), vals("0"), false},
	}
	for _, c := range cases {
		err := Compare([][]Value{c.got}, [][]Value{c.want})
		if (err == nil) != c.ok {
			t.Errorf("Compare(%v, %v) = %v, want ok=%v", c.got, c.want, err, c.ok)
		}
	}
	if err := Compare([][]Value{vals("1")}, nil); err == nil || !strings.Contains(err.Error(), "rows") {
		t.Errorf("row count mismatch: %v", err)
	}
}

func TestLoadOfficial(t *testing.T) {
	dir := t.TempDir()
	text := "l|l|sum_qty      |count_order   \nA|F|37734107.00|               1478493\nN|F|991417.00|                 38854\n"
	if err := os.WriteFile(filepath.Join(dir, "q01.out"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, err := LoadOfficial(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1][3].Text != "38854" || rows[0][0].Text != "A" {
		t.Fatalf("rows = %v", rows)
	}
	if _, _, err := OfficialAnswer(dir, 2); err == nil {
		t.Fatal("a missing answer file must be an error")
	}
}

func TestQueries(t *testing.T) {
	for q := 1; q <= 22; q++ {
		text, err := Query(q)
		if err != nil || !strings.Contains(strings.ToLower(text), "select") {
			t.Fatalf("query %d: %v", q, err)
		}
	}
	if _, err := Query(23); err == nil {
		t.Fatal("query 23 must be refused")
	}
}
