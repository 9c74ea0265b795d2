package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/arbalest/arbalest/conformance/tpch"
	"github.com/arbalest/arbalest/conformance/tpch/dbgen"
)

func cmdTPCH(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: arbalest tpch gen|run [flags]")
	}
	switch args[0] {
	case "gen":
		return cmdTPCHGen(ctx, args[1:])
	case "run":
		return cmdTPCHRun(ctx, args[1:])
	}
	return fmt.Errorf("unknown tpch command %q (gen, run)", args[0])
}

func cmdTPCHGen(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tpch gen", flag.ContinueOnError)
	sf := fs.Float64("sf", 0.1, "scale factor (any positive number, e.g. 0.01, 1, 10)")
	out := fs.String("out", "", "output folder: one <table>.parquet per table")
	tables := fs.String("tables", "", "comma-separated tables to write (default: all eight)")
	compression := fs.String("compression", "snappy", "Parquet compression: snappy, zstd, gzip, lz4 or none")
	if pos, err := parseFlags(fs, args); err != nil {
		return exitError(2)
	} else if len(pos) > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), pos[0])
	}
	if *out == "" {
		return fmt.Errorf("tpch gen: --out is required")
	}
	if err := dbgen.ValidateScaleFactor(*sf); err != nil {
		return fmt.Errorf("tpch gen: --sf: %w", err)
	}
	opts := dbgen.Options{ScaleFactor: *sf, Compression: *compression}
	if strings.TrimSpace(*tables) != "" {
		for _, name := range strings.Split(*tables, ",") {
			t, err := dbgen.ParseTable(name)
			if err != nil {
				return fmt.Errorf("tpch gen: --tables: %w", err)
			}
			opts.Tables = append(opts.Tables, t)
		}
	}
	start := time.Now()
	res, err := dbgen.Generate(ctx, *out, opts)
	if err != nil {
		return fmt.Errorf("tpch gen: %w", err)
	}
	var rows, bytes int64
	for _, r := range res {
		rows += r.Rows
		bytes += r.Bytes
	}
	fmt.Fprintf(os.Stderr, "TPC-H SF %g: %d tables, %d rows, %.1f MB written to %s in %.1fs\n",
		*sf, len(res), rows, float64(bytes)/1e6, *out, time.Since(start).Seconds())
	return nil
}

// findTool looks for a program in $env, the project's .venv, then PATH.
func findTool(name, env string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	for _, dir := range venvDirs() {
		p := filepath.Join(dir, "bin", name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found: set %s, or run `make setup` to install it into .venv", name, env)
}

// venvDirs lists candidate virtualenvs: $ARBALEST_VENV, ./.venv and the
// .venv beside the binary's folder.
func venvDirs() []string {
	var dirs []string
	if v := os.Getenv("ARBALEST_VENV"); v != "" {
		dirs = append(dirs, v)
	}
	dirs = append(dirs, ".venv")
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Join(filepath.Dir(filepath.Dir(exe)), ".venv"))
	}
	return dirs
}

func cmdTPCHRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("tpch run", flag.ContinueOnError)
	var sf sessionFlags
	sf.add(fs)
	data := fs.String("data", "", "folder with the TPC-H Parquet files")
	queries := fs.String("query", "", "queries to run, e.g. 1 or 1,6,14 (default: all 22)")
	verify := fs.Bool("verify", false, "compare the answers with DuckDB run on the same files")
	answers := fs.String("answers", "", "folder with official answers (qNN.out) to compare with, for SF 1 data")
	iterations := fs.Int("iterations", 1, "run each query this many times and report the fastest")
	if pos, err := parseFlags(fs, args); err != nil {
		return exitError(2)
	} else if len(pos) > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), pos[0])
	}
	if *data == "" {
		return fmt.Errorf("tpch run: --data is required")
	}
	qs, err := parseQueries(*queries)
	if err != nil {
		return err
	}
	s, done, err := sf.runner(ctx)
	if err != nil {
		return err
	}
	defer done()
	abs, err := filepath.Abs(*data)
	if err != nil {
		return err
	}
	if err := tpch.Register(ctx, s, abs); err != nil {
		return err
	}
	var oracle map[int][][]tpch.Value
	if *verify {
		python, err := findTool("python", "ARBALEST_PYTHON")
		if err != nil {
			if python, err = exec.LookPath("python3"); err != nil {
				return fmt.Errorf("--verify needs Python with duckdb: %w", err)
			}
		}
		oracle, err = tpch.DuckDBAnswers(ctx, python, abs, qs)
		if err != nil {
			return err
		}
	}
	passed, failed := 0, 0
	var total time.Duration
	fmt.Printf("%-5s %8s %10s  %s\n", "query", "rows", "time", "result")
	for _, q := range qs {
		var res *tpch.Result
		for i := 0; i < max(1, *iterations); i++ {
			r := tpch.Run(ctx, s, q)
			if res == nil || (r.Err == nil && r.Elapsed < res.Elapsed) {
				res = r
			}
			if r.Err != nil {
				res = r
				break
			}
		}
		status := "ok"
		if res.Err != nil {
			status = "ERROR: " + oneLine(res.Err.Error())
		} else {
			var checks []string
			if oracle != nil {
				if err := tpch.Compare(res.Rows, oracle[q]); err != nil {
					status = "WRONG vs DuckDB: " + err.Error()
				} else {
					checks = append(checks, "DuckDB")
				}
			}
			if *answers != "" && status == "ok" {
				want, note, err := tpch.OfficialAnswer(*answers, q)
				switch {
				case err != nil:
					status = "ERROR: " + err.Error()
				case tpch.Compare(res.Rows, want) != nil:
					status = "WRONG vs official answer: " + tpch.Compare(res.Rows, want).Error()
				case note != "":
					checks = append(checks, "official, corrected: "+note)
				default:
					checks = append(checks, "official")
				}
			}
			if status == "ok" && len(checks) > 0 {
				status = "verified (" + strings.Join(checks, ", ") + ")"
			}
		}
		if strings.HasPrefix(status, "ok") || strings.HasPrefix(status, "verified") {
			passed++
			total += res.Elapsed
		} else {
			failed++
		}
		fmt.Printf("q%02d   %8d %9.3fs  %s\n", q, len(res.Rows), res.Elapsed.Seconds(), status)
	}
	fmt.Printf("total time of passing queries: %.3fs\n", total.Seconds())
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitError(1)
	}
	return nil
}

func parseQueries(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		qs := make([]int, 22)
		for i := range qs {
			qs[i] = i + 1
		}
		return qs, nil
	}
	var qs []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(strings.ToLower(part)), "q"))
		if err != nil || n < 1 || n > 22 {
			return nil, fmt.Errorf("--query %q: expected numbers from 1 to 22", s)
		}
		qs = append(qs, n)
	}
	return qs, nil
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
