// Package slt runs sqllogictest files against an Arbalest session.
//
// Supported records:
//
//	statement ok|error [message substring]
//	<sql>
//
//	query <types> [nosort|rowsort|valuesort] [label]
//	<sql>
//	----
//	<expected values, one row per line, columns separated by one space or a tab>
//
//	halt, skipif <engine>, onlyif <engine> (only "arbalest" is this engine)
//
// Types are one letter per column: T text, I integer, R float, D decimal
// (compared as text), B boolean. NULL prints as NULL, the empty string as
// (empty). R values compare with a relative tolerance of 1e-9.
package slt

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/arbalest/arbalest/host/engine"
)

// Record is one statement or query of a file.
type Record struct {
	Line      int
	Kind      string // statement or query
	ExpectErr bool
	ErrSubstr string
	Types     string
	Sort      string
	SQL       string
	Expected  []string
}

// Parse reads the records of a sqllogictest file.
func Parse(r io.Reader) ([]*Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var recs []*Record
	line := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		line++
		return sc.Text(), true
	}
	skip := false
	for {
		l, ok := next()
		if !ok {
			break
		}
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		fields := strings.Fields(t)
		switch fields[0] {
		case "halt":
			return recs, sc.Err()
		case "skipif":
			if len(fields) > 1 && fields[1] == "arbalest" {
				skip = true
			}
			continue
		case "onlyif":
			if len(fields) > 1 && fields[1] != "arbalest" {
				skip = true
			}
			continue
		case "statement", "query":
		default:
			return nil, fmt.Errorf("line %d: unknown record %q", line, fields[0])
		}
		rec := &Record{Line: line, Kind: fields[0]}
		if rec.Kind == "statement" {
			if len(fields) < 2 || (fields[1] != "ok" && fields[1] != "error") {
				return nil, fmt.Errorf("line %d: expected `statement ok` or `statement error`", line)
			}
			rec.ExpectErr = fields[1] == "error"
			if len(fields) > 2 {
				rec.ErrSubstr = strings.TrimSpace(strings.SplitN(t, "error", 2)[1])
			}
		} else {
			if len(fields) < 2 {
				return nil, fmt.Errorf("line %d: query without column types", line)
			}
			if fields[1] == "error" {
				rec.ExpectErr = true
				if len(fields) > 2 {
					rec.ErrSubstr = strings.TrimSpace(strings.SplitN(t, "error", 2)[1])
				}
			} else {
				rec.Types = fields[1]
				rec.Sort = "nosort"
				if len(fields) > 2 {
					rec.Sort = fields[2]
				}
			}
		}
		var sqlLines []string
		inResults := false
		for {
			l, ok := next()
			if !ok || strings.TrimSpace(l) == "" {
				break
			}
			if rec.Kind == "query" && strings.TrimSpace(l) == "----" {
				inResults = true
				continue
			}
			if inResults {
				rec.Expected = append(rec.Expected, strings.TrimRight(l, " \t"))
			} else {
				sqlLines = append(sqlLines, l)
			}
		}
		rec.SQL = strings.Join(sqlLines, "\n")
		if skip {
			skip = false
			continue
		}
		recs = append(recs, rec)
	}
	return recs, sc.Err()
}

// RunFile runs every record of the file at path in session s and returns
// the failures (nil when all pass).
func RunFile(ctx context.Context, s *engine.Session, path string) ([]error, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	recs, err := Parse(f)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	var fails []error
	for _, r := range recs {
		if err := Run(ctx, s, r); err != nil {
			fails = append(fails, fmt.Errorf("%s:%d: %w", path, r.Line, err))
		}
	}
	return fails, len(recs), nil
}

// Run executes one record and checks its outcome. A panic while running
// the record is reported as its failure, so one engine bug does not hide
// the results of the records after it.
func Run(ctx context.Context, s *engine.Session, r *Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s\n%s", p, r.SQL, debug.Stack())
		}
	}()
	var rows [][]string
	err = s.Run(ctx, r.SQL, func(res *engine.Result) error {
		cells, err := engine.CollectText(ctx, res.Stream)
		rows = rows[:0]
		for _, cr := range cells {
			row := make([]string, len(cr))
			for c, v := range cr {
				switch {
				case v.Null:
					row[c] = "NULL"
				case v.Text == "":
					row[c] = "(empty)"
				default:
					row[c] = v.Text
				}
			}
			rows = append(rows, row)
		}
		return err
	})
	if r.ExpectErr {
		if err == nil {
			return fmt.Errorf("expected an error, got success\n%s", r.SQL)
		}
		if r.ErrSubstr != "" && !strings.Contains(err.Error(), r.ErrSubstr) {
			return fmt.Errorf("expected an error containing %q, got: %v", r.ErrSubstr, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%v\n%s", err, r.SQL)
	}
	if r.Kind == "statement" {
		return nil
	}
	if len(rows) > 0 && len(rows[0]) != len(r.Types) {
		return fmt.Errorf("query returned %d columns, types say %d\n%s", len(rows[0]), len(r.Types), r.SQL)
	}
	got := make([]string, 0, len(rows))
	var gotVals, wantVals []string
	switch r.Sort {
	case "rowsort":
		lines := make([]string, len(rows))
		for i, row := range rows {
			lines[i] = rowLine(row)
		}
		sort.Strings(lines)
		got = lines
	case "valuesort":
		for _, row := range rows {
			gotVals = append(gotVals, row...)
		}
		sort.Strings(gotVals)
		for _, l := range r.Expected {
			wantVals = append(wantVals, strings.Fields(l)...)
		}
		sort.Strings(wantVals)
		if strings.Join(gotVals, "\n") != strings.Join(wantVals, "\n") {
			return fmt.Errorf("values differ\n%s\n-- got:\n%s\n-- expected:\n%s", r.SQL, strings.Join(gotVals, "\n"), strings.Join(wantVals, "\n"))
		}
		return nil
	default:
		for _, row := range rows {
			got = append(got, rowLine(row))
		}
	}
	want := append([]string(nil), r.Expected...)
	if r.Sort == "rowsort" {
		sort.Strings(want)
	}
	if !linesEqual(got, want, r.Types) {
		return fmt.Errorf("results differ\n%s\n-- got:\n%s\n-- expected:\n%s", r.SQL, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	return nil
}

// rowLine renders a result row as one line. Trailing blanks are dropped
// because Parse drops them from expected lines too.
func rowLine(row []string) string {
	return strings.TrimRight(strings.Join(row, " "), " \t")
}

func linesEqual(got, want []string, types string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] == want[i] {
			continue
		}
		g, w := strings.Split(got[i], " "), strings.Split(want[i], " ")
		if len(g) != len(w) || len(g) != len(types) {
			return false
		}
		for c := range g {
			if g[c] == w[c] {
				continue
			}
			if types[c] != 'R' {
				return false
			}
			a, err1 := strconv.ParseFloat(g[c], 64)
			b, err2 := strconv.ParseFloat(w[c], 64)
			if err1 != nil || err2 != nil {
				return false
			}
			if math.Abs(a-b) > 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b))) {
				return false
			}
		}
	}
	return true
}
