"""Flight tickets (format version 1) and work-dir paths."""

import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from arbalest_worker.ticket import BadTicket, Ticket, partition_path, remove_job, remove_stage, sweep, task_dir  # noqa: E402


class TicketTest(unittest.TestCase):
    def test_encoding_is_the_go_executors(self):
        # Byte for byte what workers/go/internal/shuffle.EncodeTicket writes.
        self.assertEqual(Ticket("job-1", 2, 3, 4).encode(), b'{"v":1,"job":"job-1","stage":2,"map":3,"partition":4}')

    def test_round_trip(self):
        t = Ticket("a_B-9", 0, 2**31 - 1, 7)
        self.assertEqual(Ticket.decode(t.encode()), t)
        self.assertEqual(Ticket.decode(b' { "partition": 1, "map": 0, "stage": 5, "job": "j", "v": 1 } '), Ticket("j", 5, 0, 1))

    def test_rejects(self):
        bad = [
            b"", b"{}", b"[]", b"null", b"\xff",
            b'{"v":2,"job":"j","stage":1,"map":0,"partition":0}',
            b'{"v":1,"job":"j","stage":1,"map":0,"partition":0,"x":1}',
            b'{"job":"j","stage":1,"map":0,"partition":0}',
            b'{"v":1,"stage":1,"map":0,"partition":0}',
            b'{"v":1,"job":"j","map":0,"partition":0}',
            b'{"v":1,"job":"j","stage":-1,"map":0,"partition":0}',
            b'{"v":1,"job":"j","stage":1.5,"map":0,"partition":0}',
            b'{"v":1,"job":"j","stage":true,"map":0,"partition":0}',
            b'{"v":1,"job":"j","stage":2147483648,"map":0,"partition":0}',
            b'{"v":1,"job":"../x","stage":1,"map":0,"partition":0}',
            b'{"v":1,"job":"","stage":1,"map":0,"partition":0}',
            b'{"v":1,"job":"' + b"a" * 65 + b'","stage":1,"map":0,"partition":0}',
            b'{"v":1,"job":7,"stage":1,"map":0,"partition":0}',
            b'{"v":1,"job":"j","stage":1,"map":0,"partition":0} {}',
            b'{"v":1,"v":1,"job":"j","stage":1,"map":0,"partition":0}',
            b'{"v":1,"job":"j","stage":NaN,"map":0,"partition":0}',
            b'{"v":1,"job":"j","stage":1,"map":0,"partition":0' + b" " * 1024 + b"}",
        ]
        for raw in bad:
            with self.subTest(raw=raw[:80]):
                with self.assertRaises(BadTicket):
                    Ticket.decode(raw)
        with self.assertRaises(BadTicket):
            Ticket("bad/id", 0, 0, 0).encode()


class PathsTest(unittest.TestCase):
    def test_layout(self):
        d = task_dir("/w", "job-1", 3, 2)
        self.assertEqual(d, "/w/job-1/stage-3/map-2")
        self.assertEqual(partition_path(d, 5), "/w/job-1/stage-3/map-2/part-5.arrow")

    def test_remove_and_sweep(self):
        with tempfile.TemporaryDirectory() as root:
            for job in ("old", "new"):
                for st in (0, 1):
                    os.makedirs(task_dir(root, job, st, 0))
                    open(partition_path(task_dir(root, job, st, 0), 0), "w").close()
            os.makedirs(os.path.join(root, ".spill", "x"))
            remove_stage(root, "new", 0)
            self.assertFalse(os.path.exists(os.path.join(root, "new", "stage-0")))
            self.assertTrue(os.path.exists(os.path.join(root, "new", "stage-1")))
            past = time.time() - 3 * 86400
            for dirpath, dirnames, filenames in os.walk(os.path.join(root, "old")):
                for n in dirnames + filenames:
                    os.utime(os.path.join(dirpath, n), (past, past))
            os.utime(os.path.join(root, "old"), (past, past))
            self.assertEqual(sweep(root, 86400), ["old"])
            self.assertTrue(os.path.isdir(os.path.join(root, "new")))
            self.assertTrue(os.path.isdir(os.path.join(root, ".spill")))
            remove_job(root, "new")
            remove_job(root, "never-existed")
            self.assertFalse(os.path.exists(os.path.join(root, "new")))
            with self.assertRaises(ValueError):
                remove_job(root, "..")


if __name__ == "__main__":
    unittest.main()
