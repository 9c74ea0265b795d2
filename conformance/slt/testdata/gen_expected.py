#!/usr/bin/env python3
"""Fills in and checks the expected results of the sqllogictest corpus with DuckDB.

Usage (from any directory; needs the duckdb Python package):

    python gen_expected.py [--check] [file.slt ...]

Without file arguments every testdata/*.slt is processed. Each file runs in a
fresh in-memory DuckDB database with the working directory set to
conformance/slt, so data paths read 'testdata/data/x.csv' as in the Go
runner.

For every `query` record the query runs in DuckDB and its rows, formatted the
way the Go runner prints Arrow values, replace the record's expected block
(a record may have `----` followed by nothing, or no `----` at all, to ask for
completion). With --check nothing is written: differences are printed and the
exit status is 1 when there are any.

Comment lines directly above a record steer it:

    # differs from DuckDB: <why>
        The corpus follows PostgreSQL (or the engine's documented type rules)
        where DuckDB does not; the expected block is written by hand and left
        alone. The record still runs in DuckDB for --check's information
        unless it cannot (then it is skipped).
    # duckdb: <sql>
        Used with the line above: DuckDB runs <sql> (which computes the same
        values with DuckDB's spelling) instead of the record's SQL, and its
        result fills in the expected block as for any record.

`statement ok|error` and `query error` records are run too: statements must
succeed in DuckDB and errors must be errors in DuckDB as well (a warning
otherwise; error messages are the engine's own and are not compared).
CREATE EXTERNAL TABLE is translated to a DuckDB table read with read_csv or
read_parquet: unquoted empty CSV fields are NULL and quoted ones ("") are
empty strings, as in the engine's CSV reader.

Values are formatted as the runner expects: NULL, (empty) for '', true and
false, decimals with their scale, dates YYYY-MM-DD, timestamps
'YYYY-MM-DD HH:MM:SS[.ffffff]', floats in Go's shortest form. Rows of rowsort
records are written sorted. The generator checks that every value matches
its column's type letter (T, I, R, D, B).
"""

import argparse
import datetime as dt
import decimal
import glob
import math
import os
import re
import sys

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
SLT_DIR = os.path.dirname(HERE)  # conformance/slt: the runner's working directory


class Record:
    """One record: the lines it spans and its parsed parts."""

    def __init__(self, start, comments):
        self.start = start  # index of the header line
        self.end = start  # index one past the last line
        self.comments = comments  # comment lines directly above
        self.kind = ""
        self.header = ""
        self.types = ""
        self.sort = "nosort"
        self.expect_err = False
        self.sql_lines = []
        self.expected = None  # None: no ---- line

    @property
    def sql(self):
        return "\n".join(self.sql_lines)

    def directive(self, name):
        for c in self.comments:
            body = c.strip()[1:].strip()
            if body.lower().startswith(name + ":"):
                return body[len(name) + 1:].strip()
        return None


def parse(lines):
    """Splits a file into records (and leaves everything else alone)."""
    recs = []
    comments = []
    i = 0
    while i < len(lines):
        t = lines[i].strip()
        if t == "":
            comments = []
            i += 1
            continue
        if t.startswith("#"):
            comments.append(lines[i])
            i += 1
            continue
        fields = t.split()
        if fields[0] in ("halt",):
            break
        if fields[0] in ("skipif", "onlyif"):
            i += 1
            continue
        if fields[0] not in ("statement", "query"):
            raise SystemExit(f"line {i + 1}: unknown record {fields[0]!r}")
        r = Record(i, comments)
        comments = []
        r.kind = fields[0]
        r.header = lines[i]
        if r.kind == "statement":
            r.expect_err = fields[1] == "error"
        elif fields[1] == "error":
            r.expect_err = True
        else:
            r.types = fields[1]
            if len(fields) > 2:
                r.sort = fields[2]
        i += 1
        while i < len(lines) and lines[i].strip() != "":
            if r.kind == "query" and lines[i].strip() == "----":
                r.expected = []
            elif r.expected is not None:
                r.expected.append(lines[i].rstrip(" \t"))
            else:
                r.sql_lines.append(lines[i])
            i += 1
        r.end = i
        recs.append(r)
    return recs


# --- statement translation -------------------------------------------------

CREATE_EXT = re.compile(
    r"^\s*CREATE\s+(OR\s+REPLACE\s+)?EXTERNAL\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?"
    r"(?P<name>\w+)\s*(?P<cols>\(.*\))?\s*STORED\s+AS\s+(?P<fmt>\w+)\s+"
    r"LOCATION\s+'(?P<loc>[^']*)'\s*(OPTIONS\s*\((?P<opts>.*)\))?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)


def split_top(s):
    """Splits s at commas outside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def translate(sql):
    """Returns the DuckDB form of a statement (or sql unchanged)."""
    m = CREATE_EXT.match(sql)
    if not m:
        return sql
    name, fmt, loc = m.group("name"), m.group("fmt").lower(), m.group("loc")
    replace = "OR REPLACE " if m.group(1) else ""
    ine = "IF NOT EXISTS " if m.group(2) else ""
    if fmt == "parquet":
        src = f"read_parquet('{loc}')"
    elif fmt == "csv":
        opts = dict(re.findall(r"'([^']*)'\s+'([^']*)'", m.group("opts") or ""))
        args = [f"'{loc}'", "allow_quoted_nulls=false", "quote='\"'", "escape='\"'"]
        args.append(f"header={'false' if opts.get('header', 'true').lower() == 'false' else 'true'}")
        if "delimiter" in opts:
            args.append(f"delim='{opts['delimiter']}'")
        if "null" in opts:
            args.append(f"nullstr='{opts['null']}'")
        if m.group("cols"):
            cols = []
            for c in split_top(m.group("cols").strip()[1:-1]):
                cname, ctype = c.split(None, 1)
                ctype = re.sub(r"\s+(NOT\s+)?NULL\b", "", ctype, flags=re.IGNORECASE)
                cols.append(f"'{cname}': '{ctype}'")
            args.append("columns={" + ", ".join(cols) + "}")
            args.append("auto_detect=false")
        src = f"read_csv({', '.join(args)})"
    else:
        raise SystemExit(f"gen_expected: unsupported format {fmt}")
    return f"CREATE {replace}TABLE {ine}{name} AS SELECT * FROM {src}"


# --- value formatting ------------------------------------------------------


def go_float(v):
    """Formats v like Go's strconv.FormatFloat(v, 'g', -1, 64)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "-0" if math.copysign(1, v) < 0 else "0"
    d = decimal.Decimal(repr(v))  # the shortest digits that round-trip
    sign, digits, _ = d.as_tuple()
    digits = "".join(map(str, digits)).rstrip("0") or "0"
    e = d.adjusted()
    neg = "-" if sign else ""
    if e < -4 or e >= 6:  # Go switches to %e at exponent 6 for shortest 'g'
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{neg}{mant}e{'+' if e >= 0 else '-'}{abs(e):02d}"
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def fmt_value(v, letter, where):
    if v is None:
        return "NULL"
    ok = True
    if isinstance(v, bool):
        s = "true" if v else "false"
        ok = letter in "BT"
    elif isinstance(v, int):
        s = str(v)
        ok = letter in "IR"
    elif isinstance(v, float):
        s = go_float(v)
        ok = letter == "R"
    elif isinstance(v, decimal.Decimal):
        s = format(v, "f")
        ok = letter in "D"
    elif isinstance(v, dt.datetime):
        s = v.strftime("%Y-%m-%d %H:%M:%S")
        if v.microsecond:
            s += (".%06d" % v.microsecond).rstrip("0")
        ok = letter == "T"
    elif isinstance(v, dt.date):
        s = v.isoformat()
        ok = letter == "T"
    elif isinstance(v, str):
        s = v if v != "" else "(empty)"
        ok = letter == "T"
    else:
        raise SystemExit(f"{where}: cannot format {type(v).__name__} value {v!r}")
    if not ok:
        warn(f"{where}: DuckDB value {v!r} ({type(v).__name__}) does not match type letter {letter}")
    return s


# --- running ---------------------------------------------------------------

WARNINGS = []


def warn(msg):
    WARNINGS.append(msg)
    print("warning: " + msg, file=sys.stderr)


def new_conn():
    con = duckdb.connect()
    # PostgreSQL's default: NULLs sort as larger than any value.
    con.execute("SET default_null_order='nulls_last_on_asc_first_on_desc'")
    return con


def run_query(con, sql):
    cur = con.execute(sql)
    if cur.description is None:
        return []
    return cur.fetchall()


def expected_for(rec, rows, where):
    out = []
    for row in rows:
        if len(row) != len(rec.types):
            raise SystemExit(f"{where}: DuckDB returned {len(row)} columns, types say {len(rec.types)}")
        # Trailing blanks are not kept in the file (the runner trims both sides).
        out.append(" ".join(fmt_value(v, rec.types[i], where) for i, v in enumerate(row)).rstrip(" \t"))
    if rec.sort == "rowsort":
        out.sort(key=lambda s: s.encode("utf-8"))
    return out


def lines_equal(got, want, types):
    """Compares rows as the Go runner does: R columns with a relative tolerance of 1e-9."""
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        if g == w:
            continue
        gs, ws = g.split(" "), w.split(" ")
        if len(gs) != len(ws) or len(gs) != len(types):
            return False
        for a, b, t in zip(gs, ws, types):
            if a == b:
                continue
            if t != "R":
                return False
            try:
                x, y = float(a), float(b)
            except ValueError:
                return False
            if abs(x - y) > 1e-9 * max(1.0, abs(x), abs(y)):
                return False
    return True


def process(path, check):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    recs = parse(lines)
    con = new_conn()
    diffs = 0
    replacements = []  # (start, end, new lines)
    name = os.path.relpath(path, SLT_DIR)
    for r in recs:
        where = f"{name}:{r.start + 1}"
        differs = r.directive("differs from duckdb")
        alt = r.directive("duckdb")
        sql = alt if alt is not None else translate(r.sql)
        if r.kind == "statement" or r.expect_err:
            if differs is not None and alt is None:
                continue
            try:
                run_query(con, sql)
                failed = None
            except duckdb.Error as e:
                failed = str(e).splitlines()[0]
            if r.expect_err and failed is None:
                warn(f"{where}: expected an error, DuckDB succeeded")
            if not r.expect_err and failed is not None:
                raise SystemExit(f"{where}: statement failed in DuckDB: {failed}\n{sql}")
            continue
        # A query with results.
        try:
            rows = run_query(con, sql)
        except duckdb.Error as e:
            if differs is not None and alt is None:
                continue
            raise SystemExit(f"{where}: query failed in DuckDB: {str(e).splitlines()[0]}\n{sql}")
        if differs is not None and alt is None:
            # Hand-written: show what DuckDB says, for information.
            if check:
                print(f"{where}: hand-written (differs from DuckDB: {differs})\n  corpus: {r.expected}\n  duckdb: {rows}")
            continue
        got = expected_for(r, rows, where)
        if r.expected is None or not lines_equal(got, r.expected, r.types):
            if check:
                diffs += 1
                print(f"{where}: expected block differs from DuckDB\n  corpus: {r.expected}\n  duckdb: {got}")
            new = [r.header] + r.sql_lines + ["----"] + got
            replacements.append((r.start, r.end, new))
    if not check and replacements:
        for start, end, new in reversed(replacements):
            lines[start:end] = new
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print(f"{name}: wrote {len(replacements)} expected blocks")
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="report differences, write nothing")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    files = [os.path.abspath(f) for f in a.files] or sorted(glob.glob(os.path.join(HERE, "*.slt")))
    os.chdir(SLT_DIR)
    diffs = 0
    for f in files:
        diffs += process(f, a.check)
    if a.check:
        print(f"{len(files)} files, {diffs} records differ from DuckDB, {len(WARNINGS)} warnings")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
