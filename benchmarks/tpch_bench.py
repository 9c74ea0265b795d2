"""TPC-H benchmark: Arbalest (in-process and distributed) against DuckDB,
DataFusion, Ballista and Spark on the same Parquet files, in one run, on
this machine.

Every engine runs in its own process (so peak memory is its own), with the
same number of threads, each query --runs times; the best time counts, and
only query execution is timed (not process start, cluster start or table
registration). Every engine's answers are checked against DuckDB's: the row
count of every query, and for the Python peers the sum of every numeric
value too; the distributed Arbalest client compares every value with
DuckDB's (`tpch run --verify`). A wrong answer counts as a failure, so a
fast wrong engine cannot win.

Suites (--suite):
  local        Arbalest in one process, DuckDB, DataFusion: "TPC-H SF N"
  distributed  Arbalest in one process, Arbalest on a cluster of a scheduler
               and executor processes on loopback (one column per
               --dist-config), Ballista (its in-process scheduler and
               executor), Spark in local mode, DuckDB: "TPC-H SF N: distributed"
  all          both (each engine runs once and serves both sections)

The report is Markdown: the sections this run measured replace the
sections of the same title in --out (others are kept), with a PNG chart per
section beside --out.

usage: python benchmarks/tpch_bench.py --arbalest bin/arbalest --data DIR --sf 1 --out docs/benchmarks.md [--suite all]
"""
import argparse
import atexit
import copy
import json
import math
import os
import platform
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
QUERIES = os.path.join(ROOT, "conformance", "tpch", "queries")
TABLES = ["nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"]
ALL_QUERIES = list(range(1, 23))
RESULT = "@@RESULT "  # prefix of the lines a Python child reports on
LOG_DIR = tempfile.gettempdir()  # where the engines' stderr goes (a new folder per run)

# Query-text adaptations per engine: (engine set, description, pattern, replacement).
# Every one is listed in the report.
ADAPTATIONS = [
    ({"duckdb", "datafusion", "ballista", "spark"},
     "Q1: `interval '90' day (3)` -> `interval '90' day` (no interval leading-field precision)",
     re.compile(r"(interval\s+'[^']*'\s+\w+)\s*\(\s*\d+\s*\)", re.I), r"\1"),
    ({"spark"},
     "Q15: `create view` -> `create temporary view` (a permanent view may not refer to the temporary views the tables are registered as)",
     re.compile(r"^\s*create\s+view\b", re.I | re.M), "create temporary view"),
]


def query_text(n, engine):
    """The statements of query n, adapted for engine."""
    text = open(os.path.join(QUERIES, "q%02d.sql" % n)).read()
    for engines, _, pattern, repl in ADAPTATIONS:
        if engine in engines:
            text = pattern.sub(repl, text)
    stmts = []
    for part in text.split(";"):
        s = "\n".join(l for l in part.splitlines() if not l.strip().startswith("--")).strip()
        if s:
            stmts.append(s)
    return stmts


def is_query(stmt):
    return re.match(r"\s*(select|with)\b", stmt, re.I) is not None


def table_path(data, t):
    p = os.path.join(data, t + ".parquet")
    return p if os.path.exists(p) else os.path.join(data, t)


# ---------------------------------------------------------------------------
# Memory of processes: VmHWM (peak resident set) from /proc.

def vm_hwm_kib(pid):
    """Peak resident set size of a live process in KiB, or 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def descendants(pid):
    """The live descendants of pid (from /proc/*/stat)."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # the command is in parentheses and may hold spaces: ppid follows the last ')'
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1:
            parent[int(d)] = int(fields[1])
    out, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out.extend(kids)
        frontier.extend(kids)
    return out


def tree_hwm_kib(pid):
    """Peak RSS of pid plus that of each of its live descendants (a JVM under Python)."""
    return vm_hwm_kib(pid) + sum(vm_hwm_kib(c) for c in descendants(pid))


# ---------------------------------------------------------------------------
# The Python children: one engine each, reporting one line per query.

def fingerprint(rows):
    """(row count, sum of every numeric value) of a result, for a rough check."""
    n, total = 0, 0.0
    for r in rows:
        n += 1
        for v in r:
            if isinstance(v, bool) or v is None:
                continue
            if isinstance(v, (int, float, Decimal)):
                f = float(v)
                if not math.isnan(f):
                    total += f
    return n, total


def arrow_rows(batches):
    for b in batches:
        cols = [c.to_pylist() for c in b.columns]
        yield from zip(*cols)


def report(obj):
    sys.stdout.write(RESULT + json.dumps(obj) + "\n")
    sys.stdout.flush()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child(engine, data, runs, threads, queries, opts):
    """Runs in a subprocess: one engine, one RESULT line per query, then one
    with the version and peak memory."""
    cleanup = lambda: None
    if engine == "duckdb":
        import duckdb
        version = duckdb.__version__
        con = duckdb.connect()
        con.execute(f"SET threads TO {threads}")
        for t in TABLES:
            p = table_path(data, t)
            if os.path.isdir(p):
                p = os.path.join(p, "*.parquet")
            con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{p}')")
        run = lambda s: con.execute(s).fetchall()
        rows = lambda r: r
    elif engine == "datafusion":
        import datafusion
        from datafusion import SessionContext, SessionConfig
        version = datafusion.__version__
        ctx = SessionContext(SessionConfig().with_target_partitions(threads))
        for t in TABLES:
            ctx.register_parquet(t, table_path(data, t))
        run = lambda s: ctx.sql(s).collect()
        rows = arrow_rows
    elif engine == "ballista":
        import ballista
        from ballista import BallistaScheduler, BallistaExecutor, BallistaSessionContext
        import datafusion
        version = f"{ballista.__version__} with datafusion {datafusion.__version__}"
        # Ballista's standalone cluster: its scheduler and one executor in
        # this process, talking gRPC and Flight over loopback.
        sport = free_port()
        sched = BallistaScheduler(bind_host="127.0.0.1", bind_port=sport)
        sched.start()
        ex = BallistaExecutor(bind_port=free_port(), bind_host="127.0.0.1", scheduler_host="127.0.0.1",
                              scheduler_port=sport, concurrent_tasks=opts["ballista_tasks"])
        ex.start()

        def cleanup():
            ex.close()
            sched.close()
        ctx = BallistaSessionContext(f"df://127.0.0.1:{sport}", cluster_config={
            "datafusion.execution.target_partitions": str(opts["ballista_partitions"])})
        for t in TABLES:
            ctx.register_parquet(t, table_path(data, t))
        # Wait for the executor to register (a query needs one), untimed.
        deadline = time.monotonic() + 60
        while True:
            try:
                ctx.sql("select 1").collect()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        run = lambda s: ctx.sql(s).collect()
        rows = arrow_rows
    elif engine == "spark":
        from pyspark.sql import SparkSession
        spark = (SparkSession.builder.master(f"local[{threads}]").appName("arbalest-tpch-bench")
                 .config("spark.driver.memory", opts["spark_memory"])
                 .config("spark.sql.shuffle.partitions", str(opts["spark_partitions"]))
                 .config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        version = spark.version
        cleanup = spark.stop
        for t in TABLES:
            spark.read.parquet(table_path(data, t)).createOrReplaceTempView(t)
        run = lambda s: spark.sql(s).collect()
        rows = lambda r: r
    else:
        raise SystemExit(f"unknown engine {engine!r}")
    try:
        for q in queries:
            best, result, err = None, None, None
            for _ in range(runs):
                try:
                    start = time.perf_counter()
                    for stmt in query_text(q, engine):
                        r = run(stmt)
                        if is_query(stmt):
                            result = r
                    el = time.perf_counter() - start
                except Exception as e:  # the engine's own error: reported, not fatal
                    err = f"{type(e).__name__}: {e}"
                    break
                best = el if best is None else min(best, el)
            if err is not None:
                report({"q": q, "error": err})
            else:
                n, total = fingerprint(rows(result))
                report({"q": q, "best": best, "rows": n, "sum": total})
        report({"version": version, "rss_kib": tree_hwm_kib(os.getpid())})
    finally:
        cleanup()


# ---------------------------------------------------------------------------
# Running engines from the parent.

_live = {}  # pid -> Popen of every process this script started and has not yet reaped


def start_process(cmd, stdout, stderr, env=None):
    """Starts cmd in a new session (its own process group) so that it and its
    children can be ended together."""
    p = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, env=env, text=True, start_new_session=True)
    _live[p.pid] = p
    return p


def stop_process(p, grace=5.0):
    """Ends p's process group (SIGTERM, then SIGKILL) and reaps p; returns its
    rusage peak RSS in KiB (0 if unknown)."""
    if p.pid not in _live:
        return 0
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        r = reap(p, block=False)
        if r is not None:
            kill_group(p.pid)
            return r
        time.sleep(0.05)
    kill_group(p.pid)
    r = reap(p, block=True)
    return r or 0


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def reap(p, block=True):
    """Waits for p with wait4 (which reports the child's own peak RSS);
    returns that peak in KiB, or None if p still runs and block is False."""
    try:
        pid, status, ru = os.wait4(p.pid, 0 if block else os.WNOHANG)
    except ChildProcessError:
        _live.pop(p.pid, None)
        return 0
    if pid == 0:
        return None
    p.returncode = os.waitstatus_to_exitcode(status)
    _live.pop(p.pid, None)
    return ru.ru_maxrss


def cleanup_all():
    for p in list(_live.values()):
        stop_process(p, grace=2.0)


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def tail(path, n=2000, start=0):
    """The last n characters of the file at path, from offset start on."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(start, size - n))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def one_line(s, n=400):
    s = " ".join(s.split())
    return s if len(s) <= n else s[:n - 1] + "…"


class Outcome:
    """What one engine did: per query {best, rows, sum?} or {error}; its
    peak memory in MiB; its version."""

    def __init__(self, name):
        self.name = name
        self.queries = {}
        self.peak_mib = None
        self.version = None
        self.note = ""

    def ok(self, q):
        r = self.queries.get(q)
        return r is not None and "error" not in r

    def time(self, q):
        return self.queries[q]["best"] if self.ok(q) else None


def run_engine(name, make_cmd, parse, queries, query_timeout, startup_timeout, env=None):
    """Runs an engine's process for the given queries, reading one result per
    query as it comes. A query that exceeds query_timeout or whose process
    dies is recorded as failed and the process is restarted for the queries
    left. make_cmd(queries) -> argv; parse(line) -> list of ("q", n, dict) or
    ("meta", dict)."""
    out = Outcome(name)
    remaining = list(queries)
    peak_kib = 0
    log = os.path.join(LOG_DIR, re.sub(r"[^\w.-]+", "-", name) + ".log")
    while remaining:
        log_start = os.path.getsize(log) if os.path.exists(log) else 0
        with open(log, "a") as errf:
            p = start_process(make_cmd(remaining), subprocess.PIPE, errf, env=env)
        lines = queue.Queue()

        def pump(stream=p.stdout):
            for line in stream:
                lines.put(line)
            lines.put(None)
        threading.Thread(target=pump, daemon=True).start()
        got_any, reported_kib, failure = False, 0, None
        deadline = time.monotonic() + startup_timeout + query_timeout
        try:
            while True:
                try:
                    line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    failure = f"timed out after {query_timeout:.0f} s"
                    break
                if line is None:
                    break
                for kind, *rest in parse(line):
                    if kind == "q":
                        q, r = rest
                        if q in remaining:
                            out.queries[q] = r
                            remaining.remove(q)
                            got_any = True
                            deadline = time.monotonic() + query_timeout
                    else:
                        meta = rest[0]
                        out.version = meta.get("version", out.version)
                        reported_kib = max(reported_kib, meta.get("rss_kib", 0))
        finally:
            rss = None
            if failure is None:
                # The process closed its output: give it a moment to exit by itself.
                for _ in range(100):
                    rss = reap(p, block=False)
                    if rss is not None:
                        break
                    time.sleep(0.05)
            if rss is None:
                rss = stop_process(p)
            else:
                kill_group(p.pid)  # anything it left behind
            peak_kib = max(peak_kib, rss, reported_kib)
        if not remaining:
            break
        if failure is None:
            failure = f"process exited with status {p.returncode}: {one_line(tail(log, 600, log_start))}"
        q = remaining.pop(0)
        out.queries[q] = {"error": failure}
        if not got_any and failure.startswith("process exited"):
            # It died before any result: the engine cannot run here at all.
            for q in remaining:
                out.queries[q] = {"error": failure}
            remaining = []
    out.peak_mib = peak_kib / 1024.0 if peak_kib else None
    return out


ARBALEST_LINE = re.compile(r"q(\d+)\s+(\d+)\s+([\d.]+)s\s+(.*)")


def parse_arbalest(line):
    m = ARBALEST_LINE.match(line.strip())
    if not m:
        return []
    q, rows, secs, status = int(m.group(1)), int(m.group(2)), float(m.group(3)), m.group(4).strip()
    if status.startswith("ok") or status.startswith("verified"):
        return [("q", q, {"best": secs, "rows": rows, "verified": status.startswith("verified")})]
    return [("q", q, {"error": status})]


def parse_child(line):
    if not line.startswith(RESULT):
        return []
    obj = json.loads(line[len(RESULT):])
    if "q" in obj:
        return [("q", obj.pop("q"), obj)]
    return [("meta", obj)]


def arbalest_version(binary):
    try:
        return subprocess.run([binary, "version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def run_arbalest_local(a):
    out = run_engine("arbalest", lambda qs: [a.arbalest, "tpch", "run", "--data", a.data, "--iterations", str(a.runs),
                                             "--partitions", str(a.threads), "--query", ",".join(map(str, qs))],
                     parse_arbalest, ALL_QUERIES, a.query_timeout, 60)
    out.version = arbalest_version(a.arbalest)
    return out


def run_python_engine(a, engine, python):
    opts = {"ballista_tasks": a.ballista_tasks, "ballista_partitions": a.ballista_partitions,
            "spark_partitions": a.spark_partitions, "spark_memory": a.spark_memory}
    return run_engine(engine, lambda qs: [python, os.path.abspath(__file__), "--child", engine, "--data", a.data,
                                          "--runs", str(a.runs), "--threads", str(a.threads),
                                          "--queries", ",".join(map(str, qs)), "--child-opts", json.dumps(opts)],
                      parse_child, ALL_QUERIES, a.query_timeout, 300)


def not_run(name, reason):
    out = Outcome(name)
    for q in ALL_QUERIES:
        out.queries[q] = {"error": reason}
    out.note = reason
    return out


ENGINE_NAMES = {"arbalest": "Arbalest", "duckdb": "DuckDB", "datafusion": "DataFusion", "ballista": "Ballista",
                "spark": "Spark"}
DIST_CONFIG = re.compile(r"^(\d+)x(\d+):(\d+)$")


def parse_dist_config(s):
    m = DIST_CONFIG.match(s)
    if not m or min(int(g) for g in m.groups()) < 1:
        raise argparse.ArgumentTypeError(f"--dist-config {s!r}: want EXECUTORSxSLOTS:PARTITIONS, e.g. 3x1:3")
    return tuple(int(g) for g in m.groups())


def dist_label(cfg):
    e, s, p = cfg
    return f"Arbalest distributed {e}×{s}, P={p}"


class Cluster:
    """A scheduler and executor processes of bin/arbalest on loopback."""

    def __init__(self, binary, executors, slots, partitions):
        self.binary, self.executors, self.slots, self.partitions = binary, executors, slots, partitions
        self.dir = tempfile.mkdtemp(prefix="tpch-bench-cluster-")
        self.addr = None
        self.sched = None
        self.execs = []

    def start(self, timeout=60.0):
        # The scheduler needs a fixed address for the executors: take a free
        # port (retrying if another process takes it first).
        for attempt in range(5):
            self.addr = f"127.0.0.1:{free_port()}"
            log = os.path.join(self.dir, "scheduler.log")
            with open(log, "w") as f:
                self.sched = start_process([self.binary, "scheduler", "--addr", self.addr, "--partitions",
                                            str(self.partitions)], f, f)
            if self._wait_log(log, re.compile(r"scheduler serving on"), 1, timeout, [self.sched]):
                break
            stop_process(self.sched)
            if attempt == 4:
                raise RuntimeError(f"scheduler did not start: {one_line(tail(log, 1000))}")
        for i in range(self.executors):
            wd = os.path.join(self.dir, f"executor-{i}")
            os.makedirs(wd)
            with open(os.path.join(self.dir, f"executor-{i}.log"), "w") as f:
                self.execs.append(start_process([self.binary, "executor", "--scheduler", self.addr, "--addr",
                                                 "127.0.0.1:0", "--slots", str(self.slots), "--work-dir", wd], f, f))
        if not self._wait_log(os.path.join(self.dir, "scheduler.log"), re.compile(r"executor \S+ registered"),
                              self.executors, timeout, [self.sched] + self.execs):
            logs = " | ".join(one_line(tail(os.path.join(self.dir, n), 500)) for n in sorted(os.listdir(self.dir))
                              if n.endswith(".log"))
            raise RuntimeError(f"{self.executors} executors did not register within {timeout:.0f} s: {logs}")

    def _wait_log(self, path, pattern, count, timeout, procs):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(pattern.findall(tail(path, 1 << 20))) >= count:
                return True
            if any(p.poll() is not None for p in procs):
                return False
            time.sleep(0.1)
        return False

    def alive(self):
        return all(p.poll() is None for p in [self.sched] + self.execs)

    def peak_kib(self):
        """The sum of the peak RSS of the scheduler and every executor (VmHWM, read while they run)."""
        return sum(vm_hwm_kib(p.pid) for p in [self.sched] + self.execs if p is not None)

    def stop(self):
        for p in self.execs + ([self.sched] if self.sched else []):
            stop_process(p)
        shutil.rmtree(self.dir, ignore_errors=True)


def run_arbalest_dist(a, cfg):
    executors, slots, partitions = cfg
    name = dist_label(cfg)
    cluster = Cluster(a.arbalest, executors, slots, partitions)
    try:
        cluster.start()
        env = dict(os.environ)
        env["ARBALEST_PYTHON"] = sys.executable  # the oracle of --verify: DuckDB in this Python
        cmd = lambda qs: [a.arbalest, "tpch", "run", "--connect", cluster.addr, "--data", a.data,
                          "--iterations", str(a.runs), "--query", ",".join(map(str, qs))] + (["--verify"] if a.verify_dist else [])
        out = run_engine(name, cmd, parse_arbalest, ALL_QUERIES, a.query_timeout, 300, env=env)
        if not cluster.alive():
            out.note = "a cluster process exited during the run"
        out.peak_mib = cluster.peak_kib() / 1024.0
        out.version = arbalest_version(a.arbalest)
        return out
    except RuntimeError as e:
        return not_run(name, f"cluster failed to start: {e}")
    finally:
        cluster.stop()


def check_against(ref, out):
    """Marks out's answers that differ from the reference's (row counts; numeric sums where both have them)."""
    if ref is None or ref is out:
        return
    for q, r in out.queries.items():
        want = ref.queries.get(q)
        if "error" in r or want is None or "error" in want:
            continue
        if r["rows"] != want["rows"]:
            r["error"] = f"wrong answer: {r['rows']} rows, DuckDB {want['rows']}"
        elif "sum" in r and "sum" in want:
            x, y = r["sum"], want["sum"]
            if abs(x - y) > 1e-6 * max(1.0, abs(x), abs(y)):
                r["error"] = f"wrong answer: numeric values sum to {x:.6g}, DuckDB's to {y:.6g}"


# ---------------------------------------------------------------------------
# The report.

def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def machine():
    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} vCPU ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}"


def ms(t):
    return f"{t * 1000:.0f}"


def table(engines, ratio_of, ratio_to, runs):
    """Markdown rows: per-query ms, total, geomean, peak RSS, and the ratios
    ratio_of / each of ratio_to (over the queries both completed)."""
    head = "| query | " + " | ".join(f"{e.name} (ms)" for e in engines) + " | " + \
        " | ".join(f"{short(ratio_of)} / {short(p)}" for p in ratio_to) + " |"
    lines = [head, "|---|" + "---:|" * (len(engines) + len(ratio_to))]
    for q in ALL_QUERIES:
        row = [f"Q{q}"]
        for e in engines:
            row.append(ms(e.time(q)) if e.ok(q) else ("wrong" if e.queries.get(q, {}).get("error", "").startswith("wrong")
                                                       else "failed"))
        for p in ratio_to:
            a, b = ratio_of.time(q), p.time(q)
            row.append(f"{a / b:.2f}" if a and b else "–")
        lines.append("| " + " | ".join(row) + " |")

    def agg(fn, label, fmt):
        row = [label]
        for e in engines:
            ts = [e.time(q) for q in ALL_QUERIES if e.ok(q)]
            n = len(ts)
            row.append((fmt(fn(ts)) if ts else "–") + ("" if n == 22 else f" ({n}/22)"))
        for p in ratio_to:
            common = [q for q in ALL_QUERIES if ratio_of.ok(q) and p.ok(q)]
            if common:
                r = fn([ratio_of.time(q) for q in common]) / fn([p.time(q) for q in common])
                row.append(f"{r:.2f}" + ("" if len(common) == 22 else f" ({len(common)} q)"))
            else:
                row.append("–")
        return "| " + " | ".join(row) + " |"
    lines.append(agg(sum, "**total (s)**", lambda x: f"{x:.2f}"))
    lines.append(agg(geomean, "geomean (ms)", ms))
    lines.append("| peak RSS (MiB) | " + " | ".join(f"{e.peak_mib:.0f}" if e.peak_mib else "–" for e in engines)
                 + " |" + " |" * len(ratio_to))
    return lines


def short(e):
    n = e.name
    if n.startswith("Arbalest distributed"):
        return "Arbalest dist."
    return n


def failures(engines):
    out = []
    for e in engines:
        errs = [(q, e.queries[q]["error"]) for q in ALL_QUERIES if q in e.queries and "error" in e.queries[q]]
        if not errs:
            continue
        if e.note and all(err == e.note for _, err in errs):
            out.append(f"- {e.name}: not run: {one_line(e.note)}")
            continue
        for q, err in errs:
            out.append(f"- {e.name}, Q{q}: {one_line(err)}")
    return out


def chart(path, engines, title, runs, log_scale):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(14, 4.8))
    w = 0.8 / len(engines)
    for i, e in enumerate(engines):
        ax.bar([q + i * w for q in ALL_QUERIES], [(e.time(q) or 0) * 1000 for q in ALL_QUERIES], w, label=e.name)
    ax.set_xticks([q + w * (len(engines) - 1) / 2 for q in ALL_QUERIES], [f"Q{q}" for q in ALL_QUERIES])
    if log_scale:
        ax.set_yscale("log")
    ax.set_ylabel("ms (best of %d)%s" % (runs, ", log scale" if log_scale else ""))
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def local_section(a, res, ctx, out_dir):
    arb, duck, df = res["arbalest"], res["duckdb"], res["datafusion"]
    engines = [arb, duck, df]
    lines = [f"## TPC-H SF {a.sf}", "",
             f"TPC-H SF {a.sf} from the same Parquet files (written by `arbalest tpch gen`: snappy, "
             f"row groups of about 1M rows), best of {a.runs} runs per query, {a.threads} threads for every engine, "
             f"each engine in its own process, measured by `{ctx['command']}` on {ctx['date']}. "
             f"Peers: DuckDB {duck.version}, DataFusion {df.version} (Python packages). Q1's `interval '90' day (3)` "
             f"is written `interval '90' day` for the peers (no interval precision in their SQL). Row counts are "
             f"checked against DuckDB's (and the sum of every numeric value for DataFusion).", ""]
    png = f"tpch-sf{a.sf}.png"
    if chart(os.path.join(out_dir, png), engines, f"TPC-H SF {a.sf}, {a.threads} threads", a.runs, False):
        lines += [f"![per-query times]({png})", ""]
    lines += [f"Machine: {ctx['machine']}; load average {ctx['load']}.", ""]
    lines += table(engines, arb, [duck, df], a.runs)
    lines += [""]
    f = failures(engines)
    if f:
        lines += ["Failures:", ""] + f + [""]
    lines += ["Absolute times on this shared 2-vCPU virtual machine move by up to a third between runs; "
              "the ratios compare engines measured in the same run. `BENCH_SF=10 make bench` runs SF 10.", ""]
    return f"TPC-H SF {a.sf}", lines


def distributed_section(a, res, ctx, out_dir):
    arb, duck = copy.copy(res["arbalest"]), res["duckdb"]
    arb.name = "Arbalest local"
    dists = [res[dist_label(c)] for c in a.dist_config]
    ball, spark = res["ballista"], res["spark"]
    main = dists[0]
    engines = [arb] + dists + [ball, spark, duck]
    lines = [f"## TPC-H SF {a.sf}: distributed", "",
             f"TPC-H SF {a.sf} on the same Parquet files, best of {a.runs} runs per query, every engine in its own "
             f"process(es) on this one machine, measured by `{ctx['command']}` on {ctx['date']}. Times are the "
             f"client's, from submitting a query to holding all its rows; starting processes and clusters and "
             f"registering the tables are not timed. Every answer is checked: row counts against DuckDB's for every "
             f"engine, the sum of every numeric value for Ballista and Spark, and every value against DuckDB's for "
             f"Arbalest distributed (`tpch run --verify`); a wrong answer counts as a failure.", ""]
    png = f"tpch-sf{a.sf}-distributed.png"
    if chart(os.path.join(out_dir, png), engines, f"TPC-H SF {a.sf}: distributed engines on {ctx['cpus']} vCPUs",
             a.runs, True):
        lines += [f"![per-query times](tpch-sf{a.sf}-distributed.png)", ""]
    lines += [f"Machine: {ctx['machine']}; load average {ctx['load']}.", ""]
    lines += table(engines, main, [arb, ball, spark, duck], a.runs)
    lines += ["", f"The ratio columns compare {main.name} (\"Arbalest dist.\") with each engine: below 1 it is "
              f"faster. Totals and geomeans of a ratio cover the queries both engines answered.", ""]
    lines += ["Settings and versions:", ""]
    lines += [f"- Arbalest {ctx['arbalest']} in one process: `arbalest tpch run --partitions {a.threads}`."]
    for c, d in zip(a.dist_config, dists):
        e, s, p = c
        lines.append(f"- {d.name}: `arbalest scheduler --partitions {p}` and {e} `arbalest executor --slots {s}` "
                     f"processes on loopback (shuffle files in Arrow IPC with lz4, served over Arrow Flight), and the "
                     f"client `arbalest tpch run --connect`; peak RSS is the sum over the scheduler and the executors "
                     f"(VmHWM), without the client.")
    lines.append(f"- Ballista {ball.version or '(not run)'} (PyPI `ballista`, built from its source distribution; "
                 f"PyPI has no wheel of it): its standalone cluster, a "
                 f"BallistaScheduler and a BallistaExecutor with {a.ballista_tasks} concurrent tasks in the benchmark's "
                 f"process, talking gRPC and Flight over loopback, `datafusion.execution.target_partitions="
                 f"{a.ballista_partitions}`; peak RSS of that process (scheduler, executor and client).")
    lines.append(f"- Spark {spark.version or '(not run)'} (PyPI `pyspark`, {ctx['java']}): local mode "
                 f"`local[{a.threads}]`, `spark.sql.shuffle.partitions={a.spark_partitions}`, "
                 f"`spark.driver.memory={a.spark_memory}`, adaptive query execution on (its default); `.collect()` "
                 f"of each query; peak RSS of the JVM plus its Python driver.")
    lines.append(f"- DuckDB {duck.version}: {a.threads} threads, in one process (the single-machine reference).")
    lines.append("- Query text adaptations (otherwise every engine runs the same text): " + "; ".join(
        f"{d}: {', '.join(ENGINE_NAMES[e] for e in sorted(engines_ - {'datafusion'}))}"
        for engines_, d, _, _ in ADAPTATIONS) + ".")
    lines.append("")
    f = failures(engines)
    lines += (["Failures:", ""] + f + [""]) if f else ["Failures: none.", ""]
    lines += ["Absolute times on this shared 2-vCPU virtual machine are noisy; the ratios compare engines measured in "
              "the same run. The distributed engines pay for stages, shuffle files and Flight transfers that an "
              "in-process engine does not: on one machine they measure the overhead of distribution, not its gain.", ""]
    return f"TPC-H SF {a.sf}: distributed", lines


def java_version():
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30).stderr
        m = re.search(r'version "([^"]+)"', out)
        return f"Java {m.group(1)}" if m else "Java"
    except (OSError, subprocess.TimeoutExpired):
        return "Java not found"


def write_sections(path, sections):
    """Replaces the '## title' sections of path (keeping the others), or appends them."""
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    parts = re.split(r"(?m)^(?=## )", text)
    head, body = parts[0], parts[1:]
    titles = [p.splitlines()[0][3:].strip() for p in body]
    for title, lines in sections:
        block = "\n".join(lines).rstrip("\n") + "\n\n"
        if title in titles:
            body[titles.index(title)] = block
        else:
            # after the last section of the same scale factor, else at the end
            sf = title.split(":")[0]
            idx = max((i for i, t in enumerate(titles) if t.split(":")[0] == sf), default=len(body) - 1)
            body.insert(idx + 1, block)
            titles.insert(idx + 1, title)
    if not head.endswith("\n\n"):
        head = head.rstrip("\n") + "\n\n"
    out = (head + "".join(body)).rstrip("\n") + "\n"
    open(path, "w").write(out)


def load_average():
    try:
        return " / ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "unknown"


def git_commit():
    """The checkout's commit (with '+ local changes' if the work tree differs), or ''."""
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return f"{rev}{' + local changes' if dirty else ''}" if rev else ""


SETTINGS = ["suite", "sf", "runs", "threads", "dist_config", "ballista_tasks", "ballista_partitions",
            "spark_partitions", "spark_memory"]


def render(a, res, ctx):
    """Checks every engine's answers against DuckDB's and writes the report sections."""
    for k, v in res.items():
        v.name = ENGINE_NAMES.get(k, v.name)
        check_against(res["duckdb"], v)
    out_dir = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(out_dir, exist_ok=True)
    sections = []
    if a.suite in ("local", "all"):
        sections.append(local_section(a, res, ctx, out_dir))
    if a.suite in ("distributed", "all"):
        sections.append(distributed_section(a, res, ctx, out_dir))
    write_sections(a.out, sections)
    for _, lines in sections:
        print("\n".join(lines))


def save_json(path, a, res, ctx):
    with open(path, "w") as f:
        json.dump({"context": ctx, "settings": {k: getattr(a, k) for k in SETTINGS},
                   "results": {k: {"name": v.name, "version": v.version, "peak_mib": v.peak_mib, "note": v.note,
                                   "queries": {str(q): r for q, r in v.queries.items()}} for k, v in res.items()}},
                  f, indent=1)


def load_json(path, a):
    with open(path) as f:
        d = json.load(f)
    for k, v in d["settings"].items():
        setattr(a, k, [tuple(c) for c in v] if k == "dist_config" else v)
    res = {}
    for k, v in d["results"].items():
        o = Outcome(v["name"])
        o.version, o.peak_mib, o.note = v["version"], v["peak_mib"], v["note"]
        o.queries = {int(q): r for q, r in v["queries"].items()}
        res[k] = o
    return res, d["context"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-opts", default="{}", help=argparse.SUPPRESS)
    ap.add_argument("--queries", default="", help=argparse.SUPPRESS)
    ap.add_argument("--suite", choices=["local", "distributed", "all"], default="local")
    ap.add_argument("--arbalest", default="bin/arbalest")
    ap.add_argument("--data", help="folder with the TPC-H Parquet files")
    ap.add_argument("--sf", default="1")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default="docs/benchmarks.md")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--query-timeout", type=float, default=0,
                    help="seconds for one query's runs before it counts as failed (default 300 × max(1, SF))")
    ap.add_argument("--dist-config", type=parse_dist_config, action="append",
                    help="an Arbalest cluster: EXECUTORSxSLOTS:PARTITIONS (repeatable; the first is compared "
                         "with the peers; default 3x1:3)")
    ap.add_argument("--no-verify-dist", dest="verify_dist", action="store_false",
                    help="do not compare the distributed Arbalest answers with DuckDB's value by value")
    ap.add_argument("--ballista-python", default=os.path.join(ROOT, ".venv", "ballista", "bin", "python"),
                    help="Python with the ballista package (it needs datafusion 54, so it has its own venv)")
    ap.add_argument("--ballista-tasks", type=int, default=0, help="concurrent tasks of Ballista's executor (default --threads)")
    ap.add_argument("--ballista-partitions", type=int, default=0, help="Ballista's target partitions (default --threads)")
    ap.add_argument("--spark-partitions", type=int, default=4, help="spark.sql.shuffle.partitions")
    ap.add_argument("--spark-memory", default="4g", help="spark.driver.memory")
    ap.add_argument("--from-json", help="write the report from the raw results of an earlier run (its --json)")
    a = ap.parse_args()
    if a.child:
        qs = [int(q) for q in a.queries.split(",") if q] or ALL_QUERIES
        child(a.child, a.data, a.runs, a.threads, qs, json.loads(a.child_opts))
        return
    if a.from_json:
        res, ctx = load_json(a.from_json, a)
        render(a, res, ctx)
        return
    if not a.data:
        ap.error("--data is required")
    a.dist_config = a.dist_config or [(3, 1, 3)]
    a.ballista_tasks = a.ballista_tasks or a.threads
    a.ballista_partitions = a.ballista_partitions or a.threads
    try:
        sf = float(a.sf)
    except ValueError:
        raise SystemExit(f"--sf {a.sf!r}: want a number")
    a.query_timeout = a.query_timeout or 300 * max(1.0, sf)
    a.data = os.path.abspath(a.data)
    if not os.path.exists(table_path(a.data, "lineitem")):
        raise SystemExit(f"--data {a.data}: no lineitem table there (make it with `arbalest tpch gen`)")
    if not os.access(a.arbalest, os.X_OK):
        raise SystemExit(f"--arbalest {a.arbalest}: not an executable (build it with `make build`)")
    a.arbalest = os.path.abspath(a.arbalest)

    atexit.register(cleanup_all)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    global LOG_DIR
    LOG_DIR = tempfile.mkdtemp(prefix="tpch-bench-logs-")
    print(f"tpch_bench: engine logs in {LOG_DIR}", file=sys.stderr, flush=True)
    commit = git_commit()
    ctx = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "cpus": os.cpu_count(), "java": java_version(),
           "command": " ".join(["benchmarks/tpch_bench.py"] + sys.argv[1:]),
           "arbalest": arbalest_version(a.arbalest).removeprefix("arbalest ") + (f" (commit {commit})" if commit else "")}
    load_start = load_average()
    res = {}

    def step(key, fn):
        t = time.monotonic()
        print(f"tpch_bench: {key}…", file=sys.stderr, flush=True)
        res[key] = fn()
        r = res[key]
        n = sum(1 for q in ALL_QUERIES if r.ok(q))
        print(f"tpch_bench: {key}: {n}/22 in {time.monotonic() - t:.0f} s", file=sys.stderr, flush=True)

    step("duckdb", lambda: run_python_engine(a, "duckdb", sys.executable))
    step("arbalest", lambda: run_arbalest_local(a))
    if a.suite in ("local", "all"):
        step("datafusion", lambda: run_python_engine(a, "datafusion", sys.executable))
    if a.suite in ("distributed", "all"):
        for c in a.dist_config:
            step(dist_label(c), lambda c=c: run_arbalest_dist(a, c))
        if os.access(a.ballista_python, os.X_OK):
            step("ballista", lambda: run_python_engine(a, "ballista", a.ballista_python))
        else:
            res["ballista"] = not_run("Ballista", f"no Python with ballista at {a.ballista_python}")
        step("spark", lambda: run_python_engine(a, "spark", sys.executable))
    ctx["load"] = f"{load_start} at the start, {load_average()} at the end"
    if a.json:
        save_json(a.json, a, res, ctx)
    render(a, res, ctx)


if __name__ == "__main__":
    main()
