// Package tpch runs the 22 TPC-H queries (validation parameters) against
// an Arbalest session and checks the answers under the TPC-H comparison
// rule: against DuckDB run on the same files, or against the official
// answers for scale factor 1.
package tpch

import (
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/arbalest/arbalest/host/engine"
)

//go:embed queries/*.sql
var queryFS embed.FS

// Tables are the TPC-H table names.
var Tables = []string{"nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"}

// Query returns the text of query n (1..22).
func Query(n int) (string, error) {
	if n < 1 || n > 22 {
		return "", fmt.Errorf("TPC-H has queries 1 to 22, not %d", n)
	}
	b, err := queryFS.ReadFile(fmt.Sprintf("queries/q%02d.sql", n))
	return string(b), err
}

// Register registers the eight tables found in dir: <table>.parquet files
// or <table>/ folders.
func Register(ctx context.Context, s engine.Runner, dir string) error {
	for _, t := range Tables {
		loc := filepath.Join(dir, t+".parquet")
		if _, err := os.Stat(loc); err != nil {
			loc = filepath.Join(dir, t)
			if _, err := os.Stat(loc); err != nil {
				return fmt.Errorf("TPC-H table %s not found in %s (expected %s.parquet or a %s/ folder)", t, dir, t, t)
			}
		}
		ddl := fmt.Sprintf("CREATE OR REPLACE EXTERNAL TABLE %s STORED AS PARQUET LOCATION '%s'", t, strings.ReplaceAll(loc, "'", "''"))
		if err := s.Run(ctx, ddl, func(r *engine.Result) error { return drain(ctx, r.Stream) }); err != nil {
			return err
		}
	}
	return nil
}

// Result is the outcome of one query.
type Result struct {
	Query   int
	Rows    [][]Value
	Columns []string
	Elapsed time.Duration
	Err     error
}

// Value is one cell as text; Null marks SQL NULL.
type Value = engine.Cell

// Run executes query n and collects its (small) result as text.
func Run(ctx context.Context, s engine.Runner, n int) *Result {
	res := &Result{Query: n}
	text, err := Query(n)
	if err != nil {
		res.Err = err
		return res
	}
	start := time.Now()
	err = s.Run(ctx, text, func(r *engine.Result) error {
		if !r.Query {
			return drain(ctx, r.Stream)
		}
		res.Columns = res.Columns[:0]
		for _, f := range r.Stream.Schema().Fields() {
			res.Columns = append(res.Columns, f.Name)
		}
		rows, err := engine.CollectText(ctx, r.Stream)
		res.Rows = rows
		return err
	})
	res.Elapsed = time.Since(start)
	res.Err = err
	return res
}

func drain(ctx context.Context, s engine.Stream) error {
	_, err := engine.CollectText(ctx, s)
	return err
}

// Compare checks got against want under the TPC-H rule (TPC-H 2.1.3.5):
// integers exact, decimals within ±0.01 after rounding to two decimals,
// strings exact after trimming, rows in order. It returns nil when they
// match, else an error describing the first difference.
func Compare(got, want [][]Value) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d rows, expected %d", len(got), len(want))
	}
	for r := range got {
		if len(got[r]) != len(want[r]) {
			return fmt.Errorf("row %d: %d columns, expected %d", r+1, len(got[r]), len(want[r]))
		}
		for c := range got[r] {
			if !valueEqual(got[r][c], want[r][c]) {
				return fmt.Errorf("row %d column %d: got %s, expected %s", r+1, c+1, show(got[r][c]), show(want[r][c]))
			}
		}
	}
	return nil
}

func show(v Value) string {
	if v.Null {
		return "NULL"
	}
	return fmt.Sprintf("%q", v.Text)
}

func valueEqual(a, b Value) bool {
	if a.Null || b.Null {
		return a.Null == b.Null
	}
	x, y := strings.TrimSpace(a.Text), strings.TrimSpace(b.Text)
	if x == y {
		return true
	}
	fx, okx := parseNumber(x)
	fy, oky := parseNumber(y)
	if okx && oky {
		rx, ry := round2(fx), round2(fy)
		d := rx - ry
		if d < 0 {
			d = -d
		}
		return d <= 0.01+1e-9
	}
	// Dates may come as timestamps at midnight from some engines.
	return strings.TrimSuffix(x, " 00:00:00") == strings.TrimSuffix(y, " 00:00:00")
}
