import unittest

import helpers  # noqa: F401
import pyarrow as pa

from arbalest import _flight
from arbalest._proto import flight_subset_pb2 as fpb


def ipc_messages(batches, schema=None):
    """The (metadata, body) of each message of an IPC stream, as pyarrow
    writes it (with dictionary batches when columns are dictionaries)."""
    schema = schema or batches[0].schema
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as w:
        for b in batches:
            w.write_batch(b)
    reader = pa.ipc.MessageReader.open_stream(sink.getvalue())
    out = []
    while True:
        try:
            m = reader.read_next_message()
        except StopIteration:
            break
        out.append((m.metadata.to_pybytes(), m.body.to_pybytes() if m.body is not None else b""))
    return out


class Codec(unittest.TestCase):
    def test_matches_protobuf(self):
        desc = fpb.FlightDescriptor(type=fpb.FlightDescriptor.CMD, cmd=b"\x0a\x03abc")
        cases = [
            dict(),
            dict(data_header=b"h" * 300),
            dict(data_header=b"hdr", data_body=b"\x00" * 70000, app_metadata=b"meta"),
            dict(data_header=b"hdr", descriptor=desc),
        ]
        for kw in cases:
            with self.subTest(kw=sorted(kw)):
                ours = _flight.encode_flight_data(**kw)
                ref = fpb.FlightData(
                    flight_descriptor=kw.get("descriptor"), data_header=kw.get("data_header", b""),
                    data_body=kw.get("data_body", b""), app_metadata=kw.get("app_metadata", b""))
                self.assertEqual(fpb.FlightData.FromString(ours), ref)
                msg = _flight.decode_flight_data(ref.SerializeToString())
                self.assertEqual(bytes(msg.data_header), kw.get("data_header", b""))
                self.assertEqual(bytes(msg.data_body), kw.get("data_body", b""))
                self.assertEqual(bytes(msg.app_metadata), kw.get("app_metadata", b""))
                self.assertEqual(msg.descriptor, kw.get("descriptor"))

    def test_skips_unknown_fields(self):
        # Field 5 varint, field 6 fixed64, field 7 bytes, field 8 fixed32.
        extra = b"\x28\x96\x01" + b"\x31" + b"\x00" * 8 + b"\x3a\x02hi" + b"\x45" + b"\x00" * 4
        data = extra + fpb.FlightData(data_header=b"abc").SerializeToString()
        self.assertEqual(bytes(_flight.decode_flight_data(data).data_header), b"abc")

    def test_malformed(self):
        for data, msg in [
            (b"\x12\x05ab", "runs past the end"),
            (b"\x12", "truncated varint"),
            (b"\x13", "unsupported wire type 3"),
            (b"\x0a\x02\xff\xff", "bad flight_descriptor"),
            (b"\x31\x00", "truncated message"),
        ]:
            with self.subTest(data=data):
                with self.assertRaisesRegex(_flight.FlightProtocolError, msg):
                    _flight.decode_flight_data(data)

    def test_decode_is_zero_copy(self):
        data = fpb.FlightData(data_header=b"h", data_body=b"b" * 1000).SerializeToString()
        msg = _flight.decode_flight_data(data)
        self.assertIs(msg.data_body.obj, data)


class RoundTrip(unittest.TestCase):
    def decode_stream(self, frames):
        return list(_flight.FlightBatchReader(iter(_flight.decode_flight_data(f) for f in frames)))

    def test_schema_then_batches(self):
        schema = pa.schema([("a", pa.int64()), ("s", pa.string()), ("d", pa.decimal128(10, 2)),
                            ("l", pa.list_(pa.float64()))])
        b1 = pa.record_batch([pa.array([1, None, 3]), pa.array(["x", "yy", None]),
                              pa.array([1, 2, None], pa.decimal128(10, 2)),
                              pa.array([[1.0], [], None])], schema=schema)
        b2 = b1.slice(1, 2)
        frames = [_flight.encode_schema(schema), _flight.encode_batch(b1), _flight.encode_batch(b2)]
        # The first FlightData carries the schema (what arrow-go's reader expects).
        first = fpb.FlightData.FromString(frames[0])
        self.assertEqual(pa.ipc.read_schema(pa.ipc.read_message(
            b"\xff\xff\xff\xff" + len(first.data_header).to_bytes(4, "little") + first.data_header)), schema)
        self.assertEqual(first.data_body, b"")
        got = self.decode_stream(frames)
        self.assertEqual(len(got), 2)
        self.assertTrue(got[0].equals(b1))
        self.assertTrue(got[1].equals(b2))

    def test_reads_dictionary_batches_from_other_writers(self):
        b = pa.record_batch([pa.array(["a", "b", "a"]).dictionary_encode(), pa.array([1, 2, 3])], names=["k", "v"])
        frames = [_flight.encode_flight_data(data_header=m, data_body=body) for m, body in ipc_messages([b, b])]
        got = self.decode_stream(frames)
        self.assertEqual([x.column(0).to_pylist() for x in got], [["a", "b", "a"]] * 2)

    def test_descriptor_only_and_metadata_only_messages(self):
        desc = fpb.FlightDescriptor(type=fpb.FlightDescriptor.CMD, cmd=b"call")
        b = pa.record_batch([pa.array([1.5, 2.5])], names=["x"])
        frames = [
            _flight.encode_flight_data(descriptor=desc),
            _flight.encode_schema(b.schema),
            _flight.encode_flight_data(app_metadata=b"note"),
            _flight.encode_batch(b),
        ]
        reader = _flight.FlightBatchReader(iter(_flight.decode_flight_data(f) for f in frames))
        self.assertEqual(reader.start(), b.schema)
        self.assertEqual(reader.descriptor.cmd, b"call")
        self.assertEqual([x.num_rows for x in reader], [2])

    def test_empty_stream(self):
        reader = _flight.FlightBatchReader(iter([_flight.decode_flight_data(_flight.encode_flight_data(
            descriptor=fpb.FlightDescriptor(type=fpb.FlightDescriptor.CMD, cmd=b"x")))]))
        self.assertIsNone(reader.start())
        self.assertEqual(list(reader), [])

    def test_garbage_header(self):
        frames = [_flight.encode_flight_data(data_header=b"\x00" * 16)]
        with self.assertRaises(_flight.FlightProtocolError):
            self.decode_stream(frames)

    def test_unaligned_header_is_padded(self):
        b = pa.record_batch([pa.array([7])], names=["a"])
        header, body = _flight._split_encapsulated(b.schema.serialize())
        # Strip the flatbuffer's trailing padding: other writers may not pad.
        h = bytes(header).rstrip(b"\x00")
        frames = [_flight.encode_flight_data(data_header=h), _flight.encode_batch(b)]
        self.assertEqual(self.decode_stream(frames)[0].column(0).to_pylist(), [7])


if __name__ == "__main__":
    unittest.main()
