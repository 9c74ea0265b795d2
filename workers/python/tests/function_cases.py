"""SQL cases that exercise one function (or cast) each, over the table of
make_table(): the evidence behind the Python executor's advertised
function list. test_functions.py runs every case on a cluster whose only
executor is the Python one and compares the answer with the Go engine's;
`python tests/function_cases.py` runs candidate functions the same way to
find new ones that agree (see the README).
"""

import decimal
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# (function base names the case needs besides the always-present ones, SQL)
CASES = [
    # comparison and boolean
    ("equal", "SELECT i, i = 3 AS x FROM t"),
    ("not_equal", "SELECT i, i <> 3 AS x FROM t"),
    ("lt", "SELECT i, f < 1.5 AS x FROM t"),
    ("lte", "SELECT i, d <= 2.50 AS x FROM t"),
    ("gt", "SELECT i, s > 'b' AS x FROM t"),
    ("gte", "SELECT i, dt >= DATE '2021-01-01' AS x FROM t"),
    ("is_null", "SELECT i, f IS NULL AS x FROM t"),
    ("is_not_null", "SELECT i, s IS NOT NULL AS x FROM t"),
    ("and", "SELECT i, b AND i > 2 AS x FROM t"),
    ("or", "SELECT i, b OR i > 2 AS x FROM t"),
    ("not", "SELECT i, NOT b AS x FROM t"),
    ("is_not_false", "SELECT i, b IS NOT FALSE AS x FROM t"),
    ("coalesce", "SELECT i, coalesce(f, -1.0) AS x FROM t"),
    # arithmetic
    ("add", "SELECT i, i + j AS x, d + d AS y, f + 1 AS z FROM t"),
    ("subtract", "SELECT i, i - j AS x, d - 1.25 AS y FROM t"),
    ("multiply", "SELECT i, i * j AS x, d * d AS y, f * 2 AS z FROM t"),
    ("divide", "SELECT i, i / 2 AS x, d / 3 AS y, f / 4 AS z FROM t"),
    ("negate", "SELECT i, -i AS x, -d AS y FROM t"),
    # strings
    ("like", "SELECT i, s LIKE 'a%' AS x, s LIKE '_b%' AS y FROM t"),
    ("substring", "SELECT i, substring(s, 2, 2) AS x, substring(s, 1) AS y FROM t"),
    ("starts_with", "SELECT i, s LIKE 'ab%' AS x FROM t WHERE s IS NOT NULL"),
    ("ends_with", "SELECT i, s LIKE '%c' AS x FROM t"),
    ("contains", "SELECT i, s LIKE '%b%' AS x FROM t"),
    # dates
    ("extract", "SELECT i, extract(year FROM dt) AS y, extract(month FROM dt) AS m, extract(day FROM dt) AS d, "
                "extract(quarter FROM dt) AS q FROM t"),
    # aggregates (two phases: partial and final)
    ("sum", "SELECT s, sum(i) AS a, sum(d) AS b, sum(f) AS c FROM t GROUP BY s"),
    ("count", "SELECT s, count(*) AS a, count(f) AS b FROM t GROUP BY s"),
    ("min", "SELECT s, min(i) AS a, min(d) AS b, min(dt) AS c, min(f) AS e FROM t GROUP BY s"),
    ("max", "SELECT s, max(i) AS a, max(d) AS b, max(s) AS c FROM t GROUP BY s"),
    ("avg_merge", "SELECT s, avg(i) AS a, avg(d) AS b, avg(f) AS c FROM t GROUP BY s"),
    ("avg_merge", "SELECT avg(d) AS b FROM t"),
    # more arithmetic
    ("abs", "SELECT i, abs(i - 5) AS x, abs(d - 3) AS y, abs(f) AS z FROM t"),
    ("modulus", "SELECT i, i % 3 AS x, j % 3 AS y, i % (j + 3) AS z FROM t WHERE j <> -3"),
    ("round", "SELECT i, round(d, 1) AS x, round(f) AS y, round(d) AS z, round(f, 1) AS w FROM t"),
    ("floor", "SELECT i, floor(f) AS x, floor(d) AS y FROM t"),
    ("ceil", "SELECT i, ceil(f) AS x, ceil(d) AS y FROM t"),
    ("sqrt", "SELECT i, sqrt(abs(f)) AS x FROM t"),
    ("power", "SELECT i, power(f, 2) AS x, power(abs(f), 0.5) AS y FROM t"),
    # more strings
    ("upper", "SELECT i, upper(s) AS x FROM t"),
    ("lower", "SELECT i, lower(s) AS x FROM t"),
    ("char_length", "SELECT i, char_length(s) AS x FROM t"),
    ("concat", "SELECT i, s || 'x' AS x, s || s AS y FROM t"),
    ("trim", "SELECT i, trim(s) AS x FROM t"),
    ("strpos", "SELECT i, strpos(s, 'b') AS x FROM t"),
    ("replace", "SELECT i, replace(s, 'b', 'zz') AS x FROM t"),
    ("lpad", "SELECT i, lpad(s, 5, '*') AS x FROM t"),
    ("left", "SELECT i, left(s, 2) AS x FROM t"),
    ("reverse", "SELECT i, reverse(s) AS x FROM t"),
    ("split_part", "SELECT i, split_part(s, 'b', 1) AS x, split_part(s, 'b', 2) AS y FROM t"),
    # more comparison
    ("nullif", "SELECT i, nullif(i, 3) AS x FROM t"),
    ("greatest", "SELECT i, greatest(i, j) AS x FROM t"),
    ("least", "SELECT i, least(i, j) AS x FROM t"),
    ("is_distinct_from", "SELECT i, f IS DISTINCT FROM 1.5 AS x, f IS DISTINCT FROM NULL AS y FROM t"),
    ("bool_and", "SELECT bool_and(b) AS x FROM t"),
    ("count", "SELECT count(DISTINCT s) AS x FROM t"),
    # dates (add and subtract of dates and intervals)
    ("add", "SELECT i, dt + INTERVAL '1' MONTH AS x, dt + INTERVAL '3' DAY AS y FROM t"),
    ("subtract", "SELECT i, dt - DATE '2020-01-01' AS x FROM t"),
    # CASE, IN lists and the casts the executor runs (casts are checked per
    # pair of types: see fragment._cast_ok)
    ("case", "SELECT i, CASE WHEN i < 3 THEN 'lo' WHEN i < 6 THEN 'mid' ELSE 'hi' END AS x FROM t"),
    ("in", "SELECT i, i IN (1, 3, 5) AS x, s IN ('abc', 'b') AS y FROM t"),
    ("cast", "SELECT i, CAST(f AS BIGINT) AS x, CAST(d AS INTEGER) AS y FROM t"),
    ("cast", "SELECT i, CAST(j AS BIGINT) AS x, CAST(j AS DOUBLE) AS y, CAST(i AS DECIMAL(20,2)) AS z FROM t"),
    ("cast", "SELECT i, CAST(d AS DECIMAL(10,1)) AS x, CAST(d AS DECIMAL(20,4)) AS y, CAST(d AS DOUBLE) AS z FROM t"),
    ("cast", "SELECT i, CAST(ns AS BIGINT) AS x, CAST(ns AS DOUBLE) AS y, CAST(ns AS DECIMAL(10,2)) AS z FROM t"),
    ("cast", "SELECT i, CAST(ds AS DATE) AS x FROM t"),
    ("cast", "SELECT i, CAST(b AS INTEGER) AS x, CAST(b AS VARCHAR) AS y FROM t"),
    ("cast", "SELECT i, CAST(dt AS TIMESTAMP) AS x, CAST(dt AS VARCHAR) AS y FROM t"),
    ("cast", "SELECT i, CAST(i AS INTEGER) AS x, CAST(i AS VARCHAR) AS y, CAST(d AS VARCHAR) AS z FROM t"),
    # relations (a case with its own ORDER BY is compared row for row)
    ("rel:set", "SELECT i FROM t WHERE i < 5 UNION ALL SELECT j FROM t"),
    ("rel:set", "SELECT s FROM t UNION SELECT ns FROM t"),
    ("rel:set", "SELECT s FROM t INTERSECT SELECT upper(s) FROM t"),
    ("rel:set", "SELECT s FROM t EXCEPT SELECT ns FROM t"),
    ("rel:join", "SELECT a.i, b.i AS k FROM t a JOIN t b ON a.j = b.j AND a.i < b.i"),
    ("rel:join", "SELECT a.i, b.i AS k FROM t a LEFT JOIN t b ON a.i = b.j + 1"),
    ("rel:join", "SELECT a.i, b.i AS k FROM t a RIGHT JOIN t b ON a.i = b.j * 2"),
    ("rel:join", "SELECT a.i, b.i AS k FROM t a FULL JOIN t b ON a.s = b.ns"),
    ("rel:join", "SELECT i FROM t a WHERE EXISTS (SELECT 1 FROM t b WHERE b.j = a.j AND b.i > a.i)"),
    ("rel:join", "SELECT i FROM t a WHERE NOT EXISTS (SELECT 1 FROM t b WHERE b.j = a.j AND b.i <> a.i)"),
    ("rel:join", "SELECT i FROM t WHERE j IN (SELECT j FROM t WHERE b)"),
    ("rel:join", "SELECT i FROM t WHERE i NOT IN (SELECT j FROM t WHERE j IS NOT NULL)"),
    # NOT IN with NULLs on either side (a null-aware anti join)
    ("rel:join", "SELECT i FROM t WHERE ns NOT IN (SELECT s FROM t WHERE s <> 'b' OR s IS NULL)"),
    ("rel:join", "SELECT i FROM t WHERE s NOT IN (SELECT s FROM t WHERE s = 'b')"),
    ("rel:cross", "SELECT count(*) AS n, sum(a.i * b.j) AS s FROM t a CROSS JOIN t b"),
    ("rel:sort", "SELECT i, f FROM t ORDER BY f DESC NULLS FIRST, i"),
    ("rel:sort", "SELECT s, i FROM t ORDER BY s NULLS LAST, i DESC"),
    ("rel:fetch", "SELECT i FROM t ORDER BY i LIMIT 3 OFFSET 2"),
    ("rel:aggregate", "SELECT s, j, count(*) AS n FROM t GROUP BY s, j HAVING count(*) >= 1"),
    ("rel:values", "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(x, y)"),
]

# Candidates that disagree with the Go executor (or that DataFusion's
# consumer cannot read) as of DataFusion 55: not advertised. Run
# `python tests/function_cases.py` to try them again.
CANDIDATES = [
    ("ilike", "SELECT i, s ILIKE 'A%' AS x FROM t"),  # DataFusion matches case-sensitively
    ("date_trunc", "SELECT i, date_trunc('month', dt) AS x FROM t"),  # enum argument
    ("std_dev", "SELECT stddev_samp(f) AS x FROM t"),  # no such aggregate in DataFusion
    ("regexp_replace", "SELECT i, regexp_replace(s, 'b+', 'X') AS x FROM t"),  # 5 arguments
    ("cast float to string", "SELECT i, CAST(f AS VARCHAR) AS z FROM t"),  # 3 vs 3.0: refused
]


def make_table(path: str) -> None:
    """A small table with NULLs, negative numbers, ties and edge strings."""
    n = 12
    i = np.arange(n, dtype=np.int64)
    t = pa.table({
        "i": pa.array(i),
        "j": pa.array((i * 7 % 5 - 2).astype(np.int32)),
        "f": pa.array([None if k % 5 == 4 else (k - 4) * 0.75 for k in range(n)], pa.float64()),
        "d": pa.array([None if k == 7 else decimal.Decimal(k * 125 - 600).scaleb(-2) for k in range(n)],
                      pa.decimal128(15, 2)),
        "s": pa.array(["abc", "b", None, "ab", "", "bbc", " a b ", "xyz", "ABC", "abc", "cab", "b"]),
        "dt": pa.array([18262 + k * 97 for k in range(n)], pa.int32()).cast(pa.date32()),
        "b": pa.array([True, False, None, True, False, True, None, False, True, True, False, None]),
        "ns": pa.array(["1", "-2", "30", "0", None, "12", "7", "-0", "99", "5", "3", "100"]),
        "ds": pa.array(["2021-03-04", "1999-12-31", None, "2000-02-29", "2024-01-01", "1970-01-01", "2021-03-04",
                        "2010-10-10", "2011-11-11", "2012-12-12", "2013-01-13", "2014-02-14"]),
    })
    pq.write_table(t, path, row_group_size=5)


if __name__ == "__main__":
    import subprocess
    import sys
    import tempfile
    import time

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_cluster import ROOT, WORKER, Proc, free_port

    args_ = [a for a in sys.argv[1:] if not a.startswith("--")]
    binary = args_[0] if args_ else os.path.join(ROOT, "bin", "arbalest")
    tmp = tempfile.mkdtemp()
    table = os.path.join(tmp, "t.parquet")
    make_table(table)
    sched = f"127.0.0.1:{free_port()}"
    procs = [Proc("scheduler", [binary, "scheduler", "--addr", sched, "--heartbeat", "250ms", "--partitions", "2"])]
    procs[0].wait_ready()
    procs.append(Proc("python", [sys.executable, "-m", "arbalest_worker", "--scheduler", sched, "--slots", "2",
                                 "--functions", "all", "--work-dir", os.path.join(tmp, "w")],
                      env=dict(os.environ, PYTHONPATH=WORKER)))
    procs[1].wait_ready()
    time.sleep(1)
    try:
        for name, sql in (CASES if "--candidates" not in sys.argv else []) + CANDIDATES:
            args = ["sql", "--register", f"t={table}", "--format", "csv", "-c", sql]
            local = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)
            remote = subprocess.run([binary, *args[:0], "sql", "--connect", sched, *args[1:]], capture_output=True,
                                    text=True, timeout=120)
            if "ORDER BY" in sql:
                same = local.stdout == remote.stdout
            else:
                same = sorted(local.stdout.splitlines()) == sorted(remote.stdout.splitlines())
            same = same and local.returncode == 0 and remote.returncode == 0
            print(f"{'AGREE' if same else 'DIFFER':7} {name:18} {sql}")
            if not same:
                print("   go:    ", (local.stdout + local.stderr).strip().replace("\n", " | ")[:400])
                print("   python:", (remote.stdout + remote.stderr).strip().replace("\n", " | ")[:400])
    finally:
        for p in reversed(procs):
            p.stop()
