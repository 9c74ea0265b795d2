"""Shuffle files, the Flight service and shuffle reads."""

import os
import socket
import sys
import tempfile
import threading
import time
import unittest
from concurrent import futures

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import grpc  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.flight as fl  # noqa: E402

from arbalest_worker._proto import plan_pb2 as apb  # noqa: E402
from arbalest_worker.flight import flight_handler  # noqa: E402
from arbalest_worker.hashing import partition_ids  # noqa: E402
from arbalest_worker.shuffle import FetchFailure, FlightClients, ShuffleWriter, read_shuffle  # noqa: E402
from arbalest_worker.ticket import Ticket, partition_path, task_dir  # noqa: E402

from plans import hash_write, single_write  # noqa: E402

SCHEMA = pa.schema([pa.field("k", pa.int64(), False), pa.field("s", pa.string()), pa.field("d", pa.decimal64(15, 2))])


def batch(n, start=0):
    k = np.arange(start, start + n, dtype=np.int64)
    return pa.record_batch([pa.array(k), pa.array([f"s{i % 17}" if i % 5 else None for i in k]),
                            pa.array(k * 3).cast(pa.decimal128(38, 2)).cast(pa.decimal64(15, 2))], schema=SCHEMA)


def read_file(path):
    with pa.OSFile(path, "rb") as f:
        r = pa.ipc.open_stream(f)
        return r.read_all()


LZ4_FRAME_MAGIC = b"\x04\x22\x4d\x18"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def first_body(path):
    """The body of the first record batch message of an IPC stream file
    (compressed buffers in it start with their codec's frame magic)."""
    with pa.OSFile(path, "rb") as f:
        r = pa.ipc.MessageReader.open_stream(f)
        while True:
            try:
                m = r.read_next_message()
            except StopIteration:
                return None
            if m.type == "record batch":
                return m.body.to_pybytes()


class Server:
    """A gRPC server with the executor's Flight handler."""

    def __init__(self, root, token=""):
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        self.server.add_generic_rpc_handlers((flight_handler(root),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.addr = f"127.0.0.1:{self.port}"
        self.server.start()

    def stop(self):
        self.server.stop(0).wait(5)


class WriterTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = task_dir(self.tmp.name, "job-1", 0, 0)

    def tearDown(self):
        self.tmp.cleanup()

    def test_hash_partitions(self):
        w = ShuffleWriter(SCHEMA, hash_write([0, 1], 7), self.dir, batch_rows=1000)
        for i in range(10):
            w.add(batch(997, i * 997))
        stats = w.finish()
        self.assertEqual([s.partition for s in stats], list(range(7)))
        self.assertEqual(sum(s.rows for s in stats), 9970)
        self.assertEqual(sorted(os.listdir(self.dir)), sorted(f"part-{p}.arrow" for p in range(7)))
        seen = 0
        for s in stats:
            t = read_file(s.path)
            self.assertTrue(t.schema.equals(SCHEMA))
            self.assertEqual(t.num_rows, s.rows)
            self.assertEqual(os.path.getsize(s.path), s.bytes)
            if t.num_rows:
                ids = partition_ids([t.column(0), t.column(1)], 7)
                self.assertTrue((ids == s.partition).all(), f"rows of partition {s.partition} hash elsewhere")
            seen += t.num_rows
        self.assertEqual(seen, 9970)

    def test_empty_partitions_have_schema_only_files(self):
        w = ShuffleWriter(SCHEMA, hash_write([0], 50), self.dir)
        w.add(batch(3))
        stats = w.finish()
        self.assertEqual(len(stats), 50)
        empty = [s for s in stats if s.rows == 0]
        self.assertGreaterEqual(len(empty), 47)
        t = read_file(empty[0].path)
        self.assertEqual(t.num_rows, 0)
        self.assertTrue(t.schema.equals(SCHEMA))

    def test_single_and_compression(self):
        for codec in ("lz4", "zstd"):
            w = ShuffleWriter(SCHEMA, single_write(codec), self.dir)
            w.add(batch(5000))
            stats = w.finish()
            self.assertEqual(len(stats), 1)
            self.assertEqual(read_file(stats[0].path).num_rows, 5000)
            body = first_body(stats[0].path)
            magic, other = (LZ4_FRAME_MAGIC, ZSTD_MAGIC) if codec == "lz4" else (ZSTD_MAGIC, LZ4_FRAME_MAGIC)
            self.assertIn(magic, body, f"{codec} file without {codec} frames")
            self.assertNotIn(other, body)

    def test_abort_leaves_nothing(self):
        w = ShuffleWriter(SCHEMA, hash_write([0], 3), self.dir, batch_rows=10)
        w.add(batch(100))
        w.abort()
        self.assertEqual(os.listdir(self.dir), [])

    def test_rejects_bad_specs(self):
        with self.assertRaises(ValueError):
            ShuffleWriter(SCHEMA, hash_write([5], 3), self.dir)
        with self.assertRaises(ValueError):
            ShuffleWriter(SCHEMA, apb.ShuffleWrite(compression="lz4"), self.dir)
        with self.assertRaises(ValueError):
            ShuffleWriter(SCHEMA, single_write("snappy"), self.dir)
        w = ShuffleWriter(SCHEMA, single_write(), self.dir)
        with self.assertRaises(ValueError):
            w.add(pa.record_batch([pa.array([1])], names=["x"]))
        w.abort()


class FlightTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.root = cls.tmp.name
        w = ShuffleWriter(SCHEMA, hash_write([0], 3), task_dir(cls.root, "job-1", 1, 0))
        for i in range(20):
            w.add(batch(10000, i * 10000))
        cls.stats = w.finish()
        cls.server = Server(cls.root)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()

    def test_pyarrow_flight_client_reads_it(self):
        # An independent Flight implementation (Arrow C++) reads our DoGet.
        client = fl.FlightClient(f"grpc://{self.server.addr}")
        for s in self.stats:
            t = client.do_get(fl.Ticket(Ticket("job-1", 1, 0, s.partition).encode())).read_all()
            self.assertEqual(t.num_rows, s.rows)
            self.assertTrue(t.equals(read_file(s.path)))
        client.close()

    def test_error_codes(self):
        client = fl.FlightClient(f"grpc://{self.server.addr}")
        with self.assertRaisesRegex(pa.ArrowException, "not found"):
            client.do_get(fl.Ticket(Ticket("job-1", 1, 0, 99).encode())).read_all()
        with self.assertRaisesRegex(pa.ArrowException, "version 2"):
            client.do_get(fl.Ticket(b'{"v":2,"job":"j","stage":1,"map":0,"partition":0}')).read_all()
        client.close()
        # The gRPC status codes themselves.
        clients = FlightClients()
        for tk, code in ((Ticket("job-1", 1, 0, 99).encode(), grpc.StatusCode.NOT_FOUND),
                         (b'{"v":1,"job":"job-1","stage":1,"map":0,"partition":0,"x":1}', grpc.StatusCode.INVALID_ARGUMENT)):
            with self.assertRaises(grpc.RpcError) as cm:
                list(clients.do_get(self.server.addr, tk))
            self.assertEqual(cm.exception.code(), code)
        clients.close()

    def test_read_shuffle_remote_and_local(self):
        read = apb.ShuffleRead(job_id="job-1", stage_id=1, partitions=[0, 2], locations=[
            apb.ShuffleLocation(map_partition=0, executor_id="other", flight_address=self.server.addr,
                                path="/nonexistent/dir")])
        clients = FlightClients()
        try:
            remote = read_shuffle(read, SCHEMA, "me", "/nonexistent", clients, threading.Event())
        finally:
            clients.close()
        want = self.stats[0].rows + self.stats[2].rows
        self.assertEqual(sum(b.num_rows for b in remote), want)
        read.locations[0].path = task_dir(self.root, "job-1", 1, 0)
        local = read_shuffle(read, SCHEMA, "me", "/nonexistent", FlightClients(), threading.Event())
        self.assertEqual(pa.Table.from_batches(local).sort_by("k"), pa.Table.from_batches(remote).sort_by("k"))

    def test_fetch_failures(self):
        clients = FlightClients()
        try:
            # A map output that exists nowhere.
            read = apb.ShuffleRead(job_id="job-1", stage_id=1, partitions=[0], locations=[
                apb.ShuffleLocation(map_partition=5, executor_id="e5", flight_address=self.server.addr)])
            with self.assertRaises(FetchFailure) as cm:
                read_shuffle(read, SCHEMA, "me", "/nonexistent", clients, threading.Event())
            self.assertEqual((cm.exception.stage, cm.exception.map_partition, cm.exception.executor_id), (1, 5, "e5"))
            self.assertIn("NOT_FOUND", str(cm.exception))
            # Columns of other types.
            other = pa.schema([pa.field("k", pa.int32()), pa.field("s", pa.string()), pa.field("d", pa.decimal64(15, 2))])
            read = apb.ShuffleRead(job_id="job-1", stage_id=1, partitions=[0], locations=[
                apb.ShuffleLocation(map_partition=0, executor_id="e0", flight_address=self.server.addr)])
            with self.assertRaises(FetchFailure) as cm:
                read_shuffle(read, other, "me", "/nonexistent", clients, threading.Event())
            self.assertIn("schema mismatch", str(cm.exception))
            # A server that accepts connections and never answers: the
            # connect timeout bounds the wait.
            silent = socket.socket()
            silent.bind(("127.0.0.1", 0))
            silent.listen(1)
            addr = f"127.0.0.1:{silent.getsockname()[1]}"
            read = apb.ShuffleRead(job_id="job-1", stage_id=1, partitions=[0], locations=[
                apb.ShuffleLocation(map_partition=0, executor_id="e9", flight_address=addr)])
            start = time.monotonic()
            with self.assertRaises(FetchFailure) as cm:
                read_shuffle(read, SCHEMA, "me", "/nonexistent", clients, threading.Event(), connect_timeout=1.0)
            self.assertLess(time.monotonic() - start, 10)
            self.assertEqual(cm.exception.executor_id, "e9")
            silent.close()
        finally:
            clients.close()

    def test_token(self):
        # With a token, calls without it are refused.
        from arbalest_worker.executor import _TokenCheck
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), interceptors=[_TokenCheck("s3cret")])
        server.add_generic_rpc_handlers((flight_handler(self.root),))
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        try:
            tk = Ticket("job-1", 1, 0, 1).encode()
            with self.assertRaises(grpc.RpcError) as cm:
                list(FlightClients().do_get(f"127.0.0.1:{port}", tk))
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            msgs = list(FlightClients("s3cret").do_get(f"127.0.0.1:{port}", tk))
            self.assertGreater(len(msgs), 1)
        finally:
            server.stop(0).wait(5)


if __name__ == "__main__":
    unittest.main()
