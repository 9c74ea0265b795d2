"""Arrow Flight's FlightData on the wire, without copies where it matters.

A FlightData message is one Arrow IPC message: ``data_header`` holds the
flatbuffer Message (schema, record batch or dictionary batch) and
``data_body`` its body. The generated protobuf class would copy a batch's
body three times on the way out (to Python bytes, into the message, onto
the wire) and twice on the way in, so the hot paths encode and decode the
four FlightData fields by hand: a batch goes out with one copy (the IPC
body into the gRPC message) and comes in as views into the received
message, which pyarrow reads in place. ``_proto.flight_subset_pb2`` is the
reference for the layout (the tests compare the two).
"""

from __future__ import annotations

import struct
from typing import Callable, Iterator, Optional

import pyarrow as pa

from ._proto import flight_subset_pb2

__all__ = [
    "FlightMessage",
    "decode_flight_data",
    "encode_flight_data",
    "encode_schema",
    "encode_batch",
    "FlightBatchReader",
    "FlightProtocolError",
]

# Field tags: (field number << 3) | wire type 2 (length-delimited).
_TAG_DESCRIPTOR = b"\x0a"  # 1
_TAG_HEADER = b"\x12"  # 2
_TAG_APP_METADATA = b"\x1a"  # 3
_TAG_BODY = b"\xc2\x3e"  # 1000

_CONTINUATION = 0xFFFFFFFF


class FlightProtocolError(ValueError):
    """A FlightData stream that is not well formed."""


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


def _read_varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise FlightProtocolError("FlightData: truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise FlightProtocolError("FlightData: varint longer than 64 bits")


class FlightMessage:
    """A decoded FlightData. The byte fields are memoryviews into the
    received message (no copies)."""

    __slots__ = ("descriptor", "data_header", "app_metadata", "data_body")

    def __init__(self, descriptor: Optional[flight_subset_pb2.FlightDescriptor] = None,
                 data_header: memoryview | bytes = b"", app_metadata: memoryview | bytes = b"",
                 data_body: memoryview | bytes = b""):
        self.descriptor = descriptor
        self.data_header = memoryview(data_header)
        self.app_metadata = memoryview(app_metadata)
        self.data_body = memoryview(data_body)


def decode_flight_data(data: bytes) -> FlightMessage:
    """Decodes a serialized FlightData (skipping fields it does not know, as
    protobuf does). Raises FlightProtocolError when it is malformed."""
    buf = memoryview(data)
    pos = 0
    end = len(buf)
    msg = FlightMessage()
    while pos < end:
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 2:
            n, pos = _read_varint(buf, pos)
            if pos + n > end:
                raise FlightProtocolError(f"FlightData: field {field} runs past the end of the message")
            value = buf[pos:pos + n]
            pos += n
            if field == 1:
                d = flight_subset_pb2.FlightDescriptor()
                try:
                    d.ParseFromString(bytes(value))
                except Exception as e:  # protobuf raises DecodeError
                    raise FlightProtocolError(f"FlightData: bad flight_descriptor: {e}") from None
                msg.descriptor = d
            elif field == 2:
                msg.data_header = value
            elif field == 3:
                msg.app_metadata = value
            elif field == 1000:
                msg.data_body = value
        elif wire == 0:
            _, pos = _read_varint(buf, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise FlightProtocolError(f"FlightData: unsupported wire type {wire} (field {field})")
        if pos > end:
            raise FlightProtocolError("FlightData: truncated message")
    return msg


def encode_flight_data(data_header=b"", data_body=b"", app_metadata=b"",
                       descriptor: Optional[flight_subset_pb2.FlightDescriptor] = None) -> bytes:
    """Serializes a FlightData; the byte arguments may be any buffer (bytes,
    memoryview, pyarrow Buffer) and are copied once, into the result."""
    parts: list = []
    if descriptor is not None:
        d = descriptor.SerializeToString()
        parts += [_TAG_DESCRIPTOR, _varint(len(d)), d]
    for tag, value in ((_TAG_HEADER, data_header), (_TAG_APP_METADATA, app_metadata), (_TAG_BODY, data_body)):
        mv = memoryview(value)
        if mv.nbytes:
            parts += [tag, _varint(mv.nbytes), mv]
    return b"".join(parts)


def _split_encapsulated(buf: pa.Buffer) -> tuple[memoryview, memoryview]:
    """Splits an encapsulated IPC message (continuation, length, flatbuffer,
    body) into its flatbuffer and body."""
    mv = memoryview(buf)
    cont, n = struct.unpack_from("<Ii", mv, 0)
    if cont != _CONTINUATION or n < 0 or 8 + n > len(mv):
        raise FlightProtocolError("pyarrow wrote an unexpected IPC message prefix")
    return mv[8:8 + n], mv[8 + n:]


def encode_schema(schema: pa.Schema) -> bytes:
    """The FlightData that starts a stream: the schema message."""
    header, _ = _split_encapsulated(schema.serialize())
    return encode_flight_data(data_header=header)


def encode_batch(batch: pa.RecordBatch) -> bytes:
    """The FlightData of one record batch (plain columns: see
    _types.plain_batch)."""
    header, body = _split_encapsulated(batch.serialize())
    return encode_flight_data(data_header=header, data_body=body)


class _MessageStream:
    """A read-only, unseekable file over FlightData messages, re-framed as an
    Arrow IPC stream so pyarrow's stream reader does the decoding (schema,
    record batches, dictionary batches). Bodies are handed over as views."""

    def __init__(self, next_message: Callable[[], Optional[FlightMessage]]):
        self._next = next_message
        self._pieces: list[memoryview] = []
        self._pos = 0
        self.closed = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self.closed = True

    def push(self, msg: FlightMessage) -> None:
        header = msg.data_header
        if header.nbytes % 8:
            # The IPC stream format wants 8-byte aligned metadata.
            header = memoryview(bytes(header) + b"\0" * (8 - header.nbytes % 8))
        self._pieces += [memoryview(struct.pack("<Ii", _CONTINUATION, header.nbytes)), header]
        if msg.data_body.nbytes:
            self._pieces.append(msg.data_body)

    def read(self, n: int = -1):
        out: list[memoryview] = []
        while n != 0:
            if not self._pieces:
                msg = self._next()
                if msg is None:
                    break
                self.push(msg)
                continue
            p = self._pieces[0]
            take = p if n < 0 or n >= len(p) else p[:n]
            out.append(take)
            rest = p[len(take):]
            if len(rest):
                self._pieces[0] = rest
            else:
                self._pieces.pop(0)
            if n > 0:
                n -= len(take)
        size = sum(len(x) for x in out)
        self._pos += size
        if len(out) == 1:
            return out[0]
        return b"".join(out)


class FlightBatchReader:
    """Reads the record batches of a stream of FlightData (the host's side of
    a DoExchange). Messages without a data_header (a descriptor alone, app
    metadata alone) are skipped; the descriptor of the first message that
    has one is kept in ``descriptor``."""

    def __init__(self, messages: Iterator[FlightMessage]):
        self._messages = messages
        self.descriptor: Optional[flight_subset_pb2.FlightDescriptor] = None
        self._stream = _MessageStream(self._next_data_message)
        self._reader: Optional[pa.RecordBatchStreamReader] = None
        self._peeked: Optional[FlightMessage] = None
        self._ended = False

    def _pull(self) -> Optional[FlightMessage]:
        """The next message that carries an IPC message, or None at the end."""
        for msg in self._messages:
            if msg.descriptor is not None and self.descriptor is None:
                self.descriptor = msg.descriptor
            if msg.data_header.nbytes:
                return msg
        return None

    def _next_data_message(self) -> Optional[FlightMessage]:
        if self._peeked is not None:
            msg, self._peeked = self._peeked, None
            return msg
        if self._ended:
            return None
        msg = self._pull()
        if msg is None:
            self._ended = True
        return msg

    def start(self) -> Optional[pa.Schema]:
        """Reads up to the schema message. Returns the schema, or None when
        the stream ended without any IPC message (an empty input)."""
        if self._reader is not None:
            return self._reader.schema
        self._peeked = self._pull()
        if self._peeked is None:
            self._ended = True
            return None
        try:
            self._reader = pa.ipc.open_stream(self._stream)
        except (pa.ArrowException, OSError, ValueError) as e:
            raise FlightProtocolError(f"reading the stream's schema: {e}") from None
        return self._reader.schema

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        if self.start() is None:
            return
        while True:
            try:
                batch = self._reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowException, OSError, ValueError) as e:
                raise FlightProtocolError(f"reading a record batch: {e}") from None
            yield batch
