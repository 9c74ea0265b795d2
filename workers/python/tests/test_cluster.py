"""End to end: a real cluster of one scheduler, one Go executor and this
Python executor (processes on loopback) runs TPC-H SF 0.1 with answers
verified against DuckDB.

It builds the arbalest binary into a temporary directory (go build), so
it needs Go and the data at data/sf0.1; it is skipped without them, or
with ARBALEST_SKIP_CLUSTER=1.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
WORKER = os.path.abspath(os.path.join(HERE, ".."))
DATA = os.path.join(ROOT, "data", "sf0.1")

sys.path.insert(0, WORKER)

READY = re.compile(r"(?:executor (\S+)|scheduler) serving on")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A child process whose stderr and stdout are collected; ready when a
    line matches READY."""

    def __init__(self, name, args, env=None, cwd=None):
        self.name = name
        self.lines = []
        self.ready = threading.Event()
        self.id = None
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd, text=True)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append(line.rstrip("\n"))
            m = READY.search(line)
            if m and not self.ready.is_set():
                self.id = m.group(1)
                self.ready.set()

    def wait_ready(self, timeout=60):
        if not self.ready.wait(timeout):
            raise RuntimeError(f"{self.name} not ready within {timeout}s:\n" + "\n".join(self.lines[-30:]))

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(10)
        self.t.join(5)

    def log(self):
        return "\n".join(self.lines[-40:])


_BINARY = {}


def build_binary() -> str:
    """The arbalest binary, built once per test process into a temporary
    directory (never the repository's bin/)."""
    if "path" not in _BINARY:
        d = tempfile.mkdtemp(prefix="arbalest-pybin-")
        path = os.path.join(d, "arbalest")
        b = subprocess.run(["go", "build", "-o", path, "./cmd/arbalest"], cwd=ROOT, capture_output=True, text=True,
                           timeout=1200)
        if b.returncode:
            raise RuntimeError(f"go build failed:\n{b.stderr}")
        _BINARY["path"] = path
        _BINARY["dir"] = d
        import atexit
        atexit.register(shutil.rmtree, d, True)
    return _BINARY["path"]


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


@unittest.skipIf(os.environ.get("ARBALEST_SKIP_CLUSTER") == "1", "ARBALEST_SKIP_CLUSTER=1")
@unittest.skipUnless(shutil.which("go") and os.path.isdir(DATA), "needs Go and the TPC-H SF 0.1 data in data/sf0.1")
class MixedClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="arbalest-pytest-")
        cls.bin = build_binary()
        cls.procs = []
        cls.sched = f"127.0.0.1:{free_port()}"
        cls.web = f"127.0.0.1:{free_port()}"
        s = Proc("scheduler", [cls.bin, "scheduler", "--addr", cls.sched, "--heartbeat", "250ms",
                               "--executor-timeout", "2s", "--partitions", "4", "--http", cls.web])
        cls.procs.append(s)
        s.wait_ready()
        g = Proc("go executor", [cls.bin, "executor", "--scheduler", cls.sched, "--addr", "127.0.0.1:0", "--slots", "2",
                                 "--work-dir", os.path.join(cls.tmp, "go-work")])
        cls.procs.append(g)
        g.wait_ready()
        cls.go_id = g.id
        cls.py = cls.start_python()

    @classmethod
    def start_python(cls):
        env = dict(os.environ, PYTHONPATH=WORKER)
        n = sum(1 for p in cls.procs if p.name.startswith("python"))
        py = Proc(f"python executor {n}", [sys.executable, "-m", "arbalest_worker", "--scheduler", cls.sched,
                                           "--addr", "127.0.0.1:0", "--slots", "2",
                                           "--work-dir", os.path.join(cls.tmp, f"py-work-{n}")], env=env)
        cls.procs.append(py)
        py.wait_ready()
        # Registered once the scheduler lists it.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ids = {e["id"] for e in get_json(f"http://{cls.web}/api/executors")["executors"]}
            if py.id in ids:
                return py
            time.sleep(0.1)
        raise RuntimeError("the Python executor did not register:\n" + py.log())

    @classmethod
    def tearDownClass(cls):
        for p in reversed(cls.procs):
            p.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def logs(self):
        return "\n\n".join(f"== {p.name}\n{p.log()}" for p in self.procs)

    def arbalest(self, *args, timeout=900):
        env = dict(os.environ, ARBALEST_PYTHON=sys.executable)
        r = subprocess.run([self.bin, *args], capture_output=True, text=True, timeout=timeout, env=env)
        return r.returncode, r.stdout + r.stderr

    def tasks_by_engine(self, py_ids):
        """(tasks, stages with a task) by engine, over every job the
        scheduler remembers."""
        tasks, stages = {"go": 0, "python": 0}, {"go": 0, "python": 0}
        for j in get_json(f"http://{self.web}/api/jobs")["jobs"]:
            job = get_json(f"http://{self.web}/api/jobs/{j['id']}")
            for st in job.get("stage_list", []):
                seen = set()
                for t in st.get("task_list", []):
                    ex = t.get("executor")
                    if not ex:
                        continue
                    eng = "python" if ex in py_ids else "go"
                    tasks[eng] += 1
                    seen.add(eng)
                for eng in seen:
                    stages[eng] += 1
        return tasks, stages

    def test_1_tpch_verified(self):
        code, out = self.arbalest("tpch", "run", "--connect", self.sched, "--data", DATA, "--verify")
        self.assertEqual(code, 0, out + "\n" + self.logs())
        self.assertIn("22 passed, 0 failed", out, self.logs())
        py_ids = {p.id for p in self.procs if p.name.startswith("python")}
        tasks, stages = self.tasks_by_engine(py_ids)
        print(f"\nTPC-H SF 0.1 on the mixed cluster: tasks by engine {tasks}, stages with tasks by engine {stages}",
              file=sys.stderr)
        self.assertGreater(tasks["python"], 0, "no task ran on the Python executor")
        self.assertGreater(tasks["go"], 0, "no task ran on the Go executor")

    def test_2_scan_splits_agree_across_executors(self):
        # A Parquet file of many row groups, scanned by four tasks that
        # land on both executors: the Go and the Python split (with
        # row-group pruning) must cover every row exactly once.
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
        n = 100_000
        k = np.arange(n, dtype=np.int64)
        t = pa.table({"k": k, "v": (k * 7919) % 1000, "g": (k % 5).astype(np.int32)})
        path = os.path.join(self.tmp, "multi.parquet")
        pq.write_table(t, path, row_group_size=7000)
        for cut in (-1, 31000, 77777):
            want = t.filter(pc.greater(t["k"], cut))
            ws = pc.sum(want["v"]).as_py()
            for _ in range(2):
                code, out = self.arbalest("sql", "--connect", self.sched, "--register", f"m={path}", "--format", "csv",
                                          "-c", f"SELECT count(*) AS n, sum(v) AS s FROM m WHERE k > {cut}")
                self.assertEqual(code, 0, out)
                self.assertEqual(out.strip().splitlines()[-1], f"{want.num_rows},{ws}", f"k > {cut}")

    def test_3_python_executor_killed(self):
        # The Python executor dies while queries run: they still give the
        # verified answers (its tasks and lost outputs are redone).
        for q, delay in ((9, 0.15), (18, 0.3)):
            victim = self.py
            result = {}

            def run():
                result["r"] = self.arbalest("tpch", "run", "--connect", self.sched, "--data", DATA, "--verify",
                                            "--query", str(q))
            th = threading.Thread(target=run)
            th.start()
            time.sleep(delay)
            victim.p.kill()
            victim.p.wait(10)
            th.join(300)
            self.assertFalse(th.is_alive(), f"q{q} did not end within 5 minutes\n{self.logs()}")
            code, out = result["r"]
            self.assertEqual(code, 0, out + "\n" + self.logs())
            self.assertIn("1 passed, 0 failed", out)
            type(self).py = self.start_python()


if __name__ == "__main__":
    unittest.main()
