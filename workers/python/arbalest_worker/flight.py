"""The executor's Flight service: DoGet of its shuffle and result files.

It is served on the executor's one gRPC port next to ExecutorService, as
a generic handler of arrow.flight.protocol.FlightService/DoGet (the other
Flight methods answer UNIMPLEMENTED). The ticket is the JSON ticket of
ticket.py. A file's IPC messages are sent as they are stored (already
compressed): each becomes one FlightData whose data_header is the
message's flatbuffer and data_body its body. Batches written by this
executor or a Go executor are at most a few MiB; a larger one is decoded
and re-sent in slices.
"""

from __future__ import annotations

import logging
from typing import Iterator

import grpc
import pyarrow as pa

from .shuffle import decode_fields, ipc_options, _varint
from .ticket import BadTicket, Ticket, partition_path, task_dir

__all__ = ["flight_handler", "encode_flight_data", "MAX_BATCH_BYTES"]

MAX_BATCH_BYTES = 4 << 20
# Messages up to this size are passed through as they are.
_PASS_THROUGH_BYTES = 16 << 20

log = logging.getLogger("arbalest_worker.flight")


def encode_flight_data(header, body=None) -> bytes:
    """A serialized FlightData with data_header (field 2) and data_body
    (field 1000)."""
    h = memoryview(header)
    parts = [b"\x12", _varint(h.nbytes), h]
    if body is not None:
        b = memoryview(body)
        if b.nbytes:
            parts += [b"\xc2\x3e", _varint(b.nbytes), b]
    return b"".join(parts)


def _split(buf: pa.Buffer):
    """(flatbuffer, body) of an encapsulated IPC message."""
    mv = memoryview(buf)
    n = int.from_bytes(mv[4:8], "little", signed=True)
    return mv[8:8 + n], mv[8 + n:]


def _sliced(msg: pa.ipc.Message, schema: pa.Schema, options) -> Iterator[bytes]:
    batch = pa.ipc.read_record_batch(msg, schema)
    rows = batch.num_rows
    step = max(1, rows * MAX_BATCH_BYTES // max(batch.nbytes, 1))
    for off in range(0, rows, step):
        header, body = _split(batch.slice(off, step).serialize(options=options))
        yield encode_flight_data(header, body)


def stream_file(path: str) -> Iterator[bytes]:
    """The FlightData messages of one shuffle file."""
    with pa.OSFile(path, "rb") as f:
        reader = pa.ipc.MessageReader.open_stream(f)
        schema = None
        options = ipc_options("lz4")
        while True:
            try:
                msg = reader.read_next_message()
            except StopIteration:
                return
            if msg.type == "schema":
                schema = pa.ipc.read_schema(msg)
            body = msg.body
            if msg.type == "record batch" and body is not None and body.size > _PASS_THROUGH_BYTES and schema is not None:
                yield from _sliced(msg, schema, options)
                continue
            yield encode_flight_data(msg.metadata, body)


def flight_handler(root: str) -> grpc.GenericRpcHandler:
    """The Flight DoGet service over the files under root (the work dir)."""

    def do_get(request: bytes, context: grpc.ServicerContext):
        try:
            raw = decode_fields(request).get(1, b"")
        except ValueError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad Ticket message: {e}")
        try:
            t = Ticket.decode(bytes(raw))
        except BadTicket as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"shuffle: {e}")
        path = partition_path(task_dir(root, t.job, t.stage, t.map), t.partition)
        try:
            messages = stream_file(path)
            first = next(messages, None)
        except FileNotFoundError:
            context.abort(grpc.StatusCode.NOT_FOUND, f"shuffle: no output for {t} on this executor")
        except (OSError, pa.ArrowException) as e:
            context.abort(grpc.StatusCode.DATA_LOSS, f"shuffle: {t}: unreadable file: {e}")
        if first is None:
            context.abort(grpc.StatusCode.DATA_LOSS, f"shuffle: {t}: the file has no schema")
        yield first
        try:
            for m in messages:
                if not context.is_active():
                    return
                yield m
        except (OSError, pa.ArrowException) as e:
            log.warning("serving %s: %s", t, e)
            context.abort(grpc.StatusCode.DATA_LOSS, f"shuffle: {t}: corrupt file: {e}")

    handler = grpc.unary_stream_rpc_method_handler(
        do_get, request_deserializer=lambda b: b, response_serializer=lambda b: b)
    return grpc.method_handlers_generic_handler("arrow.flight.protocol.FlightService", {"DoGet": handler})
