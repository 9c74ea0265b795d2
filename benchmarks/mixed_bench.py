"""Mixed-cluster benchmark: TPC-H on a scheduler with a Go executor and a
Python executor (workers/python) against the same scheduler with two Go
executors, same slots, same data, in the same run. Writes the
'## TPC-H SF <n>: mixed Go and Python executors' section of
docs/benchmarks.md.

usage: python benchmarks/mixed_bench.py --arbalest bin/arbalest --data data/sf1 --sf 1 [--runs 3]
"""

import argparse
import json
import os
import re
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import tpch_bench  # noqa: E402
from tpch_bench import (ALL_QUERIES, Cluster, arbalest_version, free_port, geomean, git_commit,  # noqa: E402
                        load_average, machine, ms, parse_arbalest, run_engine, start_process, write_sections)


class MixedCluster(Cluster):
    """A scheduler (with its REST API), go Go executors and py Python executors."""

    def __init__(self, binary, go, py, slots, partitions, python):
        super().__init__(binary, go, slots, partitions)
        self.py, self.python, self.web = py, python, None

    def start(self, timeout=90.0):
        self.web = f"127.0.0.1:{free_port()}"
        real = self.binary
        # Cluster.start runs `binary scheduler ...`: add the REST API flag through a wrapper.
        wrapper = os.path.join(self.dir, "arbalest-with-http")
        with open(wrapper, "w") as f:
            f.write(f'#!/bin/sh\nif [ "$1" = scheduler ]; then exec "{real}" "$@" --http {self.web}; fi\nexec "{real}" "$@"\n')
        os.chmod(wrapper, 0o755)
        self.binary = wrapper
        try:
            super().start(timeout)
        finally:
            self.binary = real
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "workers", "python"))
        for i in range(self.py):
            wd = os.path.join(self.dir, f"py-executor-{i}")
            os.makedirs(wd)
            with open(os.path.join(self.dir, f"py-executor-{i}.log"), "w") as f:
                self.execs.append(start_process([self.python, "-m", "arbalest_worker", "--scheduler", self.addr,
                                                 "--addr", "127.0.0.1:0", "--slots", str(self.slots),
                                                 "--work-dir", wd], f, f, env=env))
        if not self._wait_log(os.path.join(self.dir, "scheduler.log"), re.compile(r"executor \S+ registered"),
                              self.executors + self.py, timeout, [self.sched] + self.execs):
            raise RuntimeError("the Python executors did not register")

    def tasks_by_engine(self):
        def get(path):
            with urllib.request.urlopen(f"http://{self.web}{path}", timeout=30) as r:
                return json.load(r)
        engine = {e["id"]: e["engine"] for e in get("/api/executors")["executors"]}
        out = {}
        for j in get("/api/jobs")["jobs"]:
            for st in get(f"/api/jobs/{j['id']}").get("stage_list", []):
                for t in st.get("task_list", []):
                    if t.get("executor"):
                        k = engine.get(t["executor"], "lost")
                        out[k] = out.get(k, 0) + 1
        return out


def run(a, go, py):
    name = f"{go} Go" + (f" + {py} Python" if py else "") + f" executors × {a.slots} slot"
    c = MixedCluster(a.arbalest, go, py, a.slots, a.partitions, sys.executable)
    try:
        c.start()
        env = dict(os.environ, ARBALEST_PYTHON=sys.executable)
        cmd = lambda qs: [a.arbalest, "tpch", "run", "--connect", c.addr, "--data", a.data, "--iterations", str(a.runs),
                          "--verify", "--query", ",".join(map(str, qs))]
        out = run_engine(name, cmd, parse_arbalest, ALL_QUERIES, a.query_timeout, 300, env=env)
        out.tasks = c.tasks_by_engine()
        return out
    finally:
        c.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arbalest", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--sf", default="1")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--slots", type=int, default=1)
    ap.add_argument("--partitions", type=int, default=2)
    ap.add_argument("--query-timeout", type=float, default=600)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    a = ap.parse_args()
    a.arbalest, a.data = os.path.abspath(a.arbalest), os.path.abspath(a.data)
    tpch_bench.LOG_DIR = tempfile.mkdtemp(prefix="mixed-bench-logs-")
    load_start = load_average()
    go_only = run(a, 2, 0)
    mixed = run(a, 1, 1)
    lines = [f"## TPC-H SF {a.sf}: mixed Go and Python executors", "",
             f"TPC-H SF {a.sf}, best of {a.runs} runs per query, every answer verified against DuckDB "
             f"(`tpch run --verify`): a scheduler (`--partitions {a.partitions}`) with two Go executors, against the same "
             f"scheduler with one Go and one Python executor (`python -m arbalest_worker`, workers/python), "
             f"{a.slots} slot each, all on loopback; measured by `benchmarks/mixed_bench.py --sf {a.sf} --runs {a.runs}` on "
             f"{time.strftime('%Y-%m-%d')} at commit {git_commit() or 'unknown'} ({arbalest_version(a.arbalest)}).", "",
             f"Machine: {machine()}; load average {load_start} at the start, {load_average()} at the end.", "",
             f"Tasks by engine in the mixed run: " + ", ".join(f"{k} {v}" for k, v in sorted(mixed.tasks.items())) + ".", "",
             "| query | Go only (ms) | Go + Python (ms) | mixed / Go only |", "|---|---:|---:|---:|"]
    ratios, tg, tm = [], 0.0, 0.0
    for q in ALL_QUERIES:
        g, m = go_only.time(q), mixed.time(q)
        r = f"{m / g:.2f}" if g and m else "-"
        if g and m:
            ratios.append(m / g)
            tg, tm = tg + g, tm + m
        err = "" if mixed.ok(q) and go_only.ok(q) else " (failed: " + (mixed.queries.get(q) or go_only.queries.get(q) or {}).get("error", "?")[:120] + ")"
        lines.append(f"| Q{q} | {ms(g)} | {ms(m)} | {r}{err} |")
    if ratios:
        lines.append(f"| **total (s)** | {tg:.2f} | {tm:.2f} | {tm / tg:.2f} |")
        lines.append(f"| geomean of the ratios | | | {geomean(ratios):.2f} |")
    lines += ["", "The Python executor runs the fragments it advertises in its capabilities (the rest go to the Go "
              "executor): it reads its inputs into memory, runs the fragment with DataFusion's Substrait consumer and "
              "writes Arrow IPC shuffle files; the ratio is the price of that on the stages it takes.", ""]
    write_sections(a.out, [(f"TPC-H SF {a.sf}: mixed Go and Python executors", lines)])
    print("\n".join(lines))


if __name__ == "__main__":
    main()
