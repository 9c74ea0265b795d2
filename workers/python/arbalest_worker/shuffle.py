"""Shuffle files: writing a task's output partitions and reading earlier
stages' outputs (from disk or over Flight).

Files (docs/protocol.md section 5): output partition p of map task m of
stage s is the Arrow IPC stream <work-dir>/<job>/stage-<s>/map-<m>/part-<p>.arrow,
body-compressed with LZ4_FRAME or ZSTD. Every partition has a file (a
schema-only stream when empty). Files are written under temporary names
and renamed once all are complete.
"""

from __future__ import annotations

import os
import struct
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Optional

import grpc
import numpy as np
import pyarrow as pa

from ._proto import plan_pb2 as apb
from .hashing import check_key_type, partition_ids
from .ticket import Ticket, partition_path, task_dir

__all__ = [
    "PartitionStats",
    "ShuffleWriter",
    "FetchFailure",
    "FlightClients",
    "read_shuffle",
    "MAX_MESSAGE_BYTES",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_IDLE_TIMEOUT",
]

MAX_MESSAGE_BYTES = 256 << 20
DEFAULT_BATCH_ROWS = 64 * 1024
DEFAULT_BATCH_BYTES = 4 << 20
DEFAULT_MEMORY_BUDGET = 64 << 20
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_IDLE_TIMEOUT = 60.0
DEFAULT_FETCH_CONCURRENCY = 4


def ipc_options(compression: str) -> pa.ipc.IpcWriteOptions:
    """The IPC writer options of a ShuffleWrite compression name."""
    c = (compression or "lz4").lower()
    if c in ("lz4", "lz4_frame"):
        return pa.ipc.IpcWriteOptions(compression="lz4")
    if c == "zstd":
        return pa.ipc.IpcWriteOptions(compression="zstd")
    if c in ("none", "uncompressed"):
        return pa.ipc.IpcWriteOptions()
    raise ValueError(f"shuffle write: unknown compression {compression!r} (want lz4, zstd or none)")


@dataclass
class PartitionStats:
    partition: int
    rows: int
    bytes: int
    path: str


class ShuffleWriter:
    """Routes a task's output batches to its partition files.

    Rows routed to a partition are buffered until they reach BATCH_ROWS or
    BATCH_BYTES, and all buffers together stay under MEMORY_BUDGET (the
    largest is written early): files get batches of a few MiB, which the
    Flight service can send as they are."""

    def __init__(self, schema: pa.Schema, write: apb.ShuffleWrite, dir_: str,
                 batch_rows: int = DEFAULT_BATCH_ROWS, batch_bytes: int = DEFAULT_BATCH_BYTES,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET):
        kind = write.WhichOneof("partitioning")
        if kind == "hash":
            self.n = int(write.hash.partitions)
            self.keys = [int(k) for k in write.hash.key_fields]
            if self.n <= 0:
                raise ValueError(f"shuffle write: hash partition count {self.n} must be positive")
            if not self.keys:
                raise ValueError("shuffle write: hash partitioning needs at least one key column")
            for k in self.keys:
                if k >= len(schema):
                    raise ValueError(f"shuffle write: key column {k} out of range for {len(schema)} columns")
                check_key_type(schema.field(k).type)
        elif kind in ("broadcast", "single"):
            self.n, self.keys = 1, []
        else:
            raise ValueError("shuffle write without a partitioning")
        self.schema = schema
        self.options = ipc_options(write.compression)
        self.dir = dir_
        self.batch_rows, self.batch_bytes, self.budget = batch_rows, batch_bytes, memory_budget
        self.tag = uuid.uuid4().hex[:12]
        os.makedirs(dir_, exist_ok=True)
        self.buffers: list[list[pa.RecordBatch]] = [[] for _ in range(self.n)]
        self.buf_rows = [0] * self.n
        self.buf_bytes = [0] * self.n
        self.rows = [0] * self.n
        self.pending = 0
        self.writers: list = [None] * self.n
        self.sinks: list = [None] * self.n
        self.done = False

    def _tmp(self, p: int) -> str:
        return partition_path(self.dir, p) + f".tmp-{self.tag}"

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if not batch.schema.equals(self.schema):
            raise ValueError(f"shuffle write: batch schema {batch.schema} is not the output schema {self.schema}")
        if self.n == 1:
            self._buffer(0, batch)
            return
        ids = partition_ids([batch.column(k) for k in self.keys], self.n)
        order = np.argsort(ids, kind="stable")
        counts = np.bincount(ids, minlength=self.n)
        routed = batch.take(pa.array(order))
        start = 0
        for p in range(self.n):
            c = int(counts[p])
            if c:
                self._buffer(p, routed.slice(start, c))
                start += c

    def _buffer(self, p: int, b: pa.RecordBatch) -> None:
        size = b.nbytes
        self.buffers[p].append(b)
        self.buf_rows[p] += b.num_rows
        self.buf_bytes[p] += size
        self.pending += size
        if self.buf_rows[p] >= self.batch_rows or self.buf_bytes[p] >= self.batch_bytes:
            self._flush(p)
        while self.pending > self.budget:
            self._flush(max(range(self.n), key=lambda i: self.buf_bytes[i]))

    def _writer(self, p: int):
        if self.writers[p] is None:
            sink = pa.OSFile(self._tmp(p), "wb")
            self.sinks[p] = sink
            self.writers[p] = pa.ipc.new_stream(sink, self.schema, options=self.options)
        return self.writers[p]

    def _flush(self, p: int) -> None:
        bufs = self.buffers[p]
        if not bufs:
            return
        w = self._writer(p)
        t = pa.Table.from_batches(bufs, schema=self.schema).combine_chunks()
        # Keep written batches near batch_bytes, so the Flight service can
        # send them without slicing.
        rows = t.num_rows
        per_row = max(1, t.nbytes // max(rows, 1))
        chunk = max(1, min(self.batch_rows, self.batch_bytes // per_row))
        for b in t.to_batches(max_chunksize=chunk):
            w.write_batch(b)
        self.rows[p] += rows
        self.pending -= self.buf_bytes[p]
        self.buffers[p], self.buf_rows[p], self.buf_bytes[p] = [], 0, 0

    def finish(self) -> list[PartitionStats]:
        """Writes what is buffered, closes every file (schema-only ones for
        empty partitions) and renames them into place."""
        try:
            for p in range(self.n):
                self._flush(p)
                self._writer(p).close()
                self.sinks[p].close()
            stats = []
            for p in range(self.n):
                final = partition_path(self.dir, p)
                os.replace(self._tmp(p), final)
                stats.append(PartitionStats(p, self.rows[p], os.path.getsize(final), final))
            self.done = True
            return stats
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Closes and removes the temporary files (after an error or a
        cancellation)."""
        for p in range(self.n):
            for obj in (self.writers[p], self.sinks[p]):
                if obj is not None:
                    try:
                        obj.close()
                    except Exception:
                        pass
            try:
                os.remove(self._tmp(p))
            except FileNotFoundError:
                pass
        self.writers = [None] * self.n
        self.sinks = [None] * self.n


# ---- reading ----

class FetchFailure(RuntimeError):
    """An input (one map task's output partition) that cannot be read: the
    scheduler re-runs that map task."""

    def __init__(self, stage: int, map_partition: int, partition: int, executor_id: str, where: str, why: str):
        super().__init__(f"shuffle fetch of stage {stage} map {map_partition} partition {partition} "
                         f"from executor {executor_id} ({where}): {why}")
        self.stage, self.map_partition, self.partition = stage, map_partition, partition
        self.executor_id = executor_id


def _types_match(want: pa.Schema, got: pa.Schema) -> Optional[str]:
    if len(want) != len(got):
        return (f"schema mismatch: source has {len(got)} columns ({', '.join(str(f.type) for f in got)}), "
                f"expected {len(want)} ({', '.join(str(f.type) for f in want)})")
    for i, (w, g) in enumerate(zip(want, got)):
        if not w.type.equals(g.type):
            return f"schema mismatch: column {i} ({w.name}) is {g.type}, expected {w.type}"
    return None


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode_ticket_message(ticket: bytes) -> bytes:
    """The arrow.flight.protocol.Ticket message {bytes ticket = 1}."""
    return b"\x0a" + _varint(len(ticket)) + ticket


def _read_varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 64 bits")


def decode_fields(data: bytes) -> dict:
    """The length-delimited fields of a protobuf message (last one wins),
    skipping the others: enough for Ticket and FlightData."""
    buf = memoryview(data)
    pos, out = 0, {}
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 2:
            n, pos = _read_varint(buf, pos)
            if pos + n > len(buf):
                raise ValueError(f"field {field} runs past the end of the message")
            out[field] = buf[pos:pos + n]
            pos += n
        elif wire == 0:
            _, pos = _read_varint(buf, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
    if pos > len(buf):
        raise ValueError("truncated message")
    return out


def _encapsulate(header: memoryview, body: Optional[memoryview]) -> pa.Buffer:
    """An IPC message in the encapsulated format (continuation marker,
    length, flatbuffer padded to 8 bytes, body)."""
    pad = (-len(header)) % 8
    parts = [struct.pack("<Ii", 0xFFFFFFFF, len(header) + pad), header, b"\0" * pad]
    if body is not None and len(body):
        parts.append(body)
    return pa.py_buffer(b"".join(parts))


class FlightClients:
    """One gRPC channel per Flight address, shared by an executor's tasks;
    every call carries the cluster's bearer token."""

    def __init__(self, token: str = ""):
        self._token = token
        self._lock = threading.Lock()
        self._channels: dict[str, grpc.Channel] = {}
        self._closed = False

    def metadata(self):
        return (("authorization", f"Bearer {self._token}"),) if self._token else None

    def channel(self, addr: str) -> grpc.Channel:
        with self._lock:
            if self._closed:
                raise RuntimeError("flight clients are closed")
            ch = self._channels.get(addr)
            if ch is None:
                ch = grpc.insecure_channel(addr, options=[
                    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                    ("grpc.max_reconnect_backoff_ms", 5000),
                ])
                self._channels[addr] = ch
            return ch

    def do_get(self, addr: str, ticket: bytes):
        """Starts a DoGet; returns the call (an iterator of raw FlightData
        messages that can be cancelled)."""
        method = self.channel(addr).unary_stream(
            "/arrow.flight.protocol.FlightService/DoGet",
            request_serializer=lambda b: b, response_deserializer=lambda b: b)
        return method(encode_ticket_message(ticket), metadata=self.metadata())

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for ch in self._channels.values():
                ch.close()
            self._channels.clear()


class _Watchdog:
    """Calls fire() when a wait outlasts its deadline (re-armed per
    message), on one helper thread per fetch."""

    def __init__(self, fire: Callable[[], None]):
        self._fire = fire
        self._cond = threading.Condition()
        self._deadline: Optional[float] = None
        self._stopped = False
        self.fired = False
        self._t = threading.Thread(target=self._run, daemon=True, name="fetch-watchdog")
        self._t.start()

    def arm(self, seconds: float) -> None:
        with self._cond:
            self._deadline = time.monotonic() + seconds
            self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._deadline = None
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._t.join(timeout=5)

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left <= 0:
                    self.fired = True
                    self._deadline = None
                    try:
                        self._fire()
                    except Exception:
                        pass
                    continue
                self._cond.wait(left)


def _read_local(path: str) -> tuple[pa.Schema, list[pa.RecordBatch]]:
    with pa.OSFile(path, "rb") as f:
        r = pa.ipc.open_stream(f)
        return r.schema, [b for b in r]


def _read_remote(clients: FlightClients, addr: str, ticket: bytes, connect_timeout: float,
                 idle_timeout: float, cancelled: threading.Event) -> tuple[pa.Schema, list[pa.RecordBatch]]:
    call = clients.do_get(addr, ticket)
    wd = _Watchdog(call.cancel)
    schema = None
    batches = []
    started = False
    try:
        it = iter(call)
        while True:
            if cancelled.is_set():
                call.cancel()
                raise _Cancelled()
            wd.arm(idle_timeout if started else connect_timeout)
            try:
                raw = next(it)
            except StopIteration:
                break
            finally:
                wd.disarm()
            started = True
            fields = decode_fields(raw)
            header = fields.get(2)
            if header is None or not len(header):
                continue  # a message without IPC data (metadata only)
            msg = pa.ipc.read_message(_encapsulate(header, fields.get(1000)))
            if msg.type == "schema":
                schema = pa.ipc.read_schema(msg)
            elif msg.type == "record batch":
                if schema is None:
                    raise ValueError("record batch before the schema")
                b = pa.ipc.read_record_batch(msg, schema)
                if b.num_rows:
                    batches.append(b)
            else:
                raise ValueError(f"unexpected IPC message {msg.type}")
    except grpc.RpcError as e:
        if wd.fired:
            phase = f"idle timeout {idle_timeout:g}s" if started else f"connect timeout {connect_timeout:g}s"
            raise TimeoutError(f"timed out ({phase})") from None
        if cancelled.is_set():
            raise _Cancelled() from None
        raise RuntimeError(f"{e.code().name}: {e.details()}") from None
    finally:
        wd.stop()
    if schema is None:
        raise ValueError("the stream had no schema")
    return schema, batches


class _Cancelled(Exception):
    pass


class _Either:
    """Set when either event is."""

    def __init__(self, a: threading.Event, b: threading.Event):
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()


def read_shuffle(read: apb.ShuffleRead, schema: pa.Schema, executor_id: str, work_dir: str,
                 clients: FlightClients, cancelled: threading.Event, flight_only: bool = False,
                 concurrency: int = DEFAULT_FETCH_CONCURRENCY, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 idle_timeout: float = DEFAULT_IDLE_TIMEOUT) -> list[pa.RecordBatch]:
    """Every batch of the listed output partitions of every map task of a
    ShuffleRead, checked against schema (the ReadRel's base_schema, contract
    types) and labelled with it. A location whose path holds the files on
    this machine is read from disk, the others over Flight. Raises
    FetchFailure naming the first map task that cannot be read; returns
    early with what it has (the caller checks cancelled) when cancelled."""
    sources = []
    for loc in read.locations:
        for p in read.partitions:
            sources.append((loc, int(p)))

    def fetch(src):
        loc, p = src
        path_dir = loc.path
        if not path_dir and loc.executor_id == executor_id:
            path_dir = task_dir(work_dir, read.job_id, read.stage_id, loc.map_partition)
        where = loc.flight_address
        try:
            got = None
            if path_dir and (not flight_only or loc.executor_id == executor_id):
                path = partition_path(path_dir, p)
                where = path
                try:
                    got = _read_local(path)
                except FileNotFoundError:
                    got = None  # not on this machine: ask its Flight service
            if got is None:
                if not loc.flight_address:
                    raise RuntimeError("no local file and no Flight address")
                where = loc.flight_address
                t = Ticket(read.job_id, int(read.stage_id), int(loc.map_partition), p).encode()
                got = _read_remote(clients, loc.flight_address, t, connect_timeout, idle_timeout, halt)
            file_schema, batches = got
            why = _types_match(schema, file_schema)
            if why:
                raise RuntimeError(why)
            return [pa.RecordBatch.from_arrays(b.columns, schema=schema) for b in batches]
        except _Cancelled:
            return []
        except FetchFailure:
            raise
        except Exception as e:
            raise FetchFailure(int(read.stage_id), int(loc.map_partition), p, loc.executor_id, where,
                               str(e) or type(e).__name__) from None

    out: list[pa.RecordBatch] = []
    if not sources:
        return out
    stop = threading.Event()
    halt = _Either(cancelled, stop)
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(sources))), thread_name_prefix="fetch") as pool:
        futures = [pool.submit(fetch, s) for s in sources]
        first_error = None
        for f in futures:
            try:
                out.extend(f.result())
            except FetchFailure as e:
                if first_error is None:
                    # The task fails: stop the other fetches at their next message.
                    first_error = e
                    stop.set()
        if first_error is not None:
            raise first_error
    return out
