"""Every advertised function gives the Go engine's answer: each case of
function_cases.py runs on a cluster whose only executor is the Python one
and in the Go engine (arbalest sql in-process), and the outputs must be
identical. Needs Go (skipped without it, or with ARBALEST_SKIP_CLUSTER=1)."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from function_cases import CASES, make_table  # noqa: E402
from test_cluster import WORKER, Proc, build_binary, free_port  # noqa: E402

from arbalest_worker.fragment import SUPPORTED_FUNCTIONS  # noqa: E402


class CoverageTest(unittest.TestCase):
    def test_every_advertised_function_has_a_case(self):
        covered = {name for name, _ in CASES}
        self.assertEqual(sorted(set(SUPPORTED_FUNCTIONS) - covered), [])


@unittest.skipIf(os.environ.get("ARBALEST_SKIP_CLUSTER") == "1", "ARBALEST_SKIP_CLUSTER=1")
@unittest.skipUnless(shutil.which("go"), "needs Go")
class FunctionsAgreeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="arbalest-pyfn-")
        cls.bin = build_binary()
        cls.table = os.path.join(cls.tmp, "t.parquet")
        make_table(cls.table)
        cls.sched = f"127.0.0.1:{free_port()}"
        cls.procs = [Proc("scheduler", [cls.bin, "scheduler", "--addr", cls.sched, "--heartbeat", "250ms",
                                        "--partitions", "2"])]
        cls.procs[0].wait_ready()
        # The Python executor alone: every task of these queries runs on it
        # (a task it refused would leave the job waiting, and fail it).
        cls.procs.append(Proc("python executor", [sys.executable, "-m", "arbalest_worker", "--scheduler", cls.sched,
                                                  "--slots", "2", "--work-dir", os.path.join(cls.tmp, "work")],
                              env=dict(os.environ, PYTHONPATH=WORKER)))
        cls.procs[1].wait_ready()
        time.sleep(1)  # registered at its first heartbeat round

    @classmethod
    def tearDownClass(cls):
        for p in reversed(cls.procs):
            p.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_cases(self):
        for name, sql in CASES:
            with self.subTest(function=name, sql=sql):
                ordered = "ORDER BY" in sql
                common = ["--register", f"t={self.table}", "--format", "csv", "-c", sql]
                go = subprocess.run([self.bin, "sql", *common], capture_output=True, text=True, timeout=120)
                py = subprocess.run([self.bin, "sql", "--connect", self.sched, *common], capture_output=True,
                                    text=True, timeout=120)
                self.assertEqual(go.returncode, 0, go.stderr)
                self.assertEqual(py.returncode, 0, py.stderr)
                if ordered:
                    self.assertEqual(py.stdout, go.stdout)
                else:
                    # Rows in any order; the header first.
                    g, p = go.stdout.splitlines(), py.stdout.splitlines()
                    self.assertEqual(p[:1], g[:1])
                    self.assertEqual(sorted(p[1:]), sorted(g[1:]))


if __name__ == "__main__":
    unittest.main()
