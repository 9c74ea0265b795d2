"""TPC-H benchmark: Arbalest, DuckDB and DataFusion on the same Parquet
files, in one run, on this machine.

Each engine runs in its own process (so peak memory is its own), with the
same thread count, each query `--runs` times; the best time counts. Writes
a Markdown report and a PNG chart of per-query times.

usage: python benchmarks/tpch_bench.py --arbalest bin/arbalest --data DIR --sf 1 --out docs/benchmarks.md
"""
import argparse
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
QUERIES = os.path.join(ROOT, "conformance", "tpch", "queries")
TABLES = ["nation", "region", "part", "supplier", "partsupp", "customer", "orders", "lineitem"]


def query_text(n, engine):
    text = open(os.path.join(QUERIES, "q%02d.sql" % n)).read()
    if engine in ("duckdb", "datafusion"):
        text = re.sub(r"(interval\s+'[^']*'\s+\w+)\s*\(\s*\d+\s*\)", r"\1", text, flags=re.I)
    return [s for s in ("\n".join(l for l in p.splitlines() if not l.strip().startswith("--")).strip() for p in text.split(";")) if s]


def table_path(data, t):
    p = os.path.join(data, t + ".parquet")
    return p if os.path.exists(p) else os.path.join(data, t)


def child(engine, data, runs, threads):
    """Runs in a subprocess: prints JSON {query: best seconds}."""
    times = {}
    if engine == "duckdb":
        import duckdb
        con = duckdb.connect()
        con.execute(f"SET threads TO {threads}")
        for t in TABLES:
            p = table_path(data, t)
            if os.path.isdir(p):
                p = os.path.join(p, "*.parquet")
            con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{p}')")
        run = lambda s: con.execute(s).fetchall()
    else:
        from datafusion import SessionContext, SessionConfig
        ctx = SessionContext(SessionConfig().with_target_partitions(threads))
        for t in TABLES:
            ctx.register_parquet(t, table_path(data, t))
        run = lambda s: ctx.sql(s).collect()
    for q in range(1, 23):
        best = None
        for _ in range(runs):
            start = time.perf_counter()
            for stmt in query_text(q, engine):
                run(stmt)
            el = time.perf_counter() - start
            best = el if best is None else min(best, el)
        times[q] = best
    print(json.dumps(times))


def rss_wrapper(cmd):
    """Runs cmd as this process's only child, then prints its output and,
    last, its peak resident set size in KiB."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    print("RSS_KIB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    sys.exit(proc.returncode)


def measure(cmd):
    """Runs cmd in a fresh wrapper process so the peak memory is cmd's own."""
    proc = subprocess.run([sys.executable, __file__, "--rss", "--", *cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"{cmd[0]} failed")
    lines = proc.stdout.rstrip("\n").split("\n")
    peak = int(lines[-1].split()[1])
    return "\n".join(lines[:-1]), peak / 1024.0


def arbalest(binary, data, runs, threads):
    out, peak = measure([binary, "tpch", "run", "--data", data, "--iterations", str(runs), "--partitions", str(threads)])
    times = {}
    for line in out.splitlines():
        m = re.match(r"q(\d+)\s+\d+\s+([\d.]+)s\s+(ok|verified)", line)
        if m:
            times[int(m.group(1))] = float(m.group(2))
    return times, peak


def peer(engine, data, runs, threads):
    out, peak = measure([sys.executable, __file__, "--child", engine, "--data", data, "--runs", str(runs), "--threads", str(threads)])
    return {int(k): v for k, v in json.loads(out.strip().splitlines()[-1]).items()}, peak


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


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--rss" and sys.argv[2] == "--":
        rss_wrapper(sys.argv[3:])
    ap = argparse.ArgumentParser()
    ap.add_argument("--child")
    ap.add_argument("--arbalest", default="bin/arbalest")
    ap.add_argument("--data", required=True)
    ap.add_argument("--sf", default="1")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default="docs/benchmarks.md")
    a = ap.parse_args()
    if a.child:
        child(a.child, a.data, a.runs, a.threads)
        return
    results = {}
    results["Arbalest"] = arbalest(a.arbalest, a.data, a.runs, a.threads)
    results["DuckDB"] = peer("duckdb", a.data, a.runs, a.threads)
    results["DataFusion"] = peer("datafusion", a.data, a.runs, a.threads)
    engines = list(results)
    import duckdb
    import datafusion
    lines = [f"# Benchmarks", "", f"TPC-H SF {a.sf} from the same Parquet files (written by `arbalest tpch gen`: snappy, "
             f"row groups of about 1M rows), best of {a.runs} runs per query, {a.threads} threads for every engine, "
             f"each engine in its own process, measured by `make bench` on {time.strftime('%Y-%m-%d')}. "
             f"Peers: DuckDB {duckdb.__version__}, DataFusion {datafusion.__version__} (Python packages).", "",
             f"Machine: {machine()}.", "",
             "| query | " + " | ".join(f"{e} (ms)" for e in engines) + " | Arbalest / DuckDB | Arbalest / DataFusion |",
             "|---|" + "---|" * (len(engines) + 2)]
    for q in range(1, 23):
        row = [f"Q{q}"]
        for e in engines:
            t = results[e][0].get(q)
            row.append(f"{t*1000:.0f}" if t is not None else "failed")
        arb = results["Arbalest"][0].get(q)
        for p in ("DuckDB", "DataFusion"):
            t = results[p][0].get(q)
            row.append(f"{arb/t:.2f}" if arb and t else "–")
        lines.append("| " + " | ".join(row) + " |")
    totals = {e: sum(results[e][0].values()) for e in engines}
    geos = {e: geomean(list(results[e][0].values())) for e in engines}
    complete = {e: len(results[e][0]) == 22 for e in engines}
    lines.append("| **total (s)** | " + " | ".join(f"{totals[e]:.2f}" + ("" if complete[e] else " (incomplete)") for e in engines)
                 + f" | {totals['Arbalest']/totals['DuckDB']:.2f} | {totals['Arbalest']/totals['DataFusion']:.2f} |")
    lines.append("| geomean (ms) | " + " | ".join(f"{geos[e]*1000:.0f}" for e in engines)
                 + f" | {geos['Arbalest']/geos['DuckDB']:.2f} | {geos['Arbalest']/geos['DataFusion']:.2f} |")
    lines.append("| peak RSS (MiB) | " + " | ".join(f"{results[e][1]:.0f}" for e in engines) + " | | |")
    lines.append("")
    lines.append("Absolute times on this shared 2-vCPU virtual machine move by up to a third between runs; "
                 "the ratios compare engines measured in the same run. `BENCH_SF=10 make bench` runs SF 10.")
    lines.append("")
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    chart = os.path.join(os.path.dirname(a.out), f"tpch-sf{a.sf}.png")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(12, 4.5))
        w = 0.8 / len(engines)
        for i, e in enumerate(engines):
            ax.bar([q + i * w for q in range(1, 23)], [results[e][0].get(q, 0) * 1000 for q in range(1, 23)], w, label=e)
        ax.set_xticks([q + w for q in range(1, 23)], [f"Q{q}" for q in range(1, 23)])
        ax.set_ylabel("ms (best of %d)" % a.runs)
        ax.set_title(f"TPC-H SF {a.sf}, {a.threads} threads")
        ax.legend()
        fig.tight_layout()
        fig.savefig(chart, dpi=110)
        lines.insert(4, f"![per-query times](tpch-sf{a.sf}.png)\n")
    except ImportError:
        lines.append("(matplotlib not installed: no chart)")
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    open(a.out, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
