import unittest

import helpers  # noqa: F401  (sys.path)
import pyarrow as pa

from arbalest import _types


class SubstraitTypeNames(unittest.TestCase):
    def test_names(self):
        cases = [
            (pa.bool_(), "boolean"),
            (pa.int8(), "i8"), (pa.int16(), "i16"), (pa.int32(), "i32"), (pa.int64(), "i64"),
            (pa.float32(), "fp32"), (pa.float64(), "fp64"),
            (pa.string(), "string"), (pa.large_string(), "string"), (pa.string_view(), "string"),
            (pa.binary(), "binary"), (pa.large_binary(), "binary"), (pa.binary(16), "fixed_binary<16>"),
            (pa.decimal128(38, 2), "decimal<38,2>"), (pa.decimal128(10, 0), "decimal<10,0>"),
            (pa.date32(), "date"), (pa.date64(), "date"),
            (pa.timestamp("us"), "precision_timestamp<6>"), (pa.timestamp("s"), "precision_timestamp<0>"),
            (pa.timestamp("ns", tz="UTC"), "precision_timestamp_tz<9>"),
            (pa.time64("us"), "precision_time<6>"), (pa.time32("ms"), "precision_time<3>"),
            (pa.month_day_nano_interval(), "interval_compound<9>"),
            (pa.list_(pa.int32()), "list<i32>"), (pa.large_list(pa.string()), "list<string>"),
            (pa.struct([("a", pa.int64()), ("b", pa.list_(pa.float64()))]), "struct<i64,list<fp64>>"),
        ]
        for t, want in cases:
            with self.subTest(t=str(t)):
                self.assertEqual(_types.substrait_type_name(t), want)

    def test_unsupported(self):
        for t in (pa.uint32(), pa.uint8(), pa.float16(), pa.map_(pa.string(), pa.int64()),
                  pa.dictionary(pa.int32(), pa.string()), pa.decimal256(40, 2), pa.null()):
            with self.subTest(t=str(t)):
                with self.assertRaises(TypeError) as cm:
                    _types.substrait_type_name(t)
                self.assertIn(str(t), str(cm.exception))

    def test_as_data_type(self):
        self.assertEqual(_types.as_data_type("int64", "x"), pa.int64())
        self.assertEqual(_types.as_data_type(pa.field("a", pa.string()), "x"), pa.string())
        with self.assertRaisesRegex(TypeError, "argument 2: unknown Arrow type name 'int65'"):
            _types.as_data_type("int65", "argument 2")
        with self.assertRaisesRegex(TypeError, "expected a pyarrow DataType"):
            _types.as_data_type(42, "x")


class PlainTypes(unittest.TestCase):
    def test_plain_type(self):
        d = pa.dictionary(pa.int8(), pa.string())
        self.assertEqual(_types.plain_type(d), pa.string())
        self.assertEqual(_types.plain_type(pa.list_(d)), pa.list_(pa.string()))
        self.assertEqual(_types.plain_type(pa.struct([("a", d), ("b", pa.int64())])),
                         pa.struct([("a", pa.string()), ("b", pa.int64())]))
        self.assertEqual(_types.plain_type(pa.int64()), pa.int64())

    def test_plain_batch(self):
        plain = pa.record_batch([pa.array([1, 2, 3])], names=["a"])
        self.assertIs(_types.plain_batch(plain), plain)
        b = pa.record_batch([pa.array(["x", "y", "x"]).dictionary_encode(), pa.array([1, 2, 3])], names=["s", "n"])
        out = _types.plain_batch(b)
        self.assertEqual(out.schema, pa.schema([("s", pa.string()), ("n", pa.int64())]))
        self.assertEqual(out.column(0).to_pylist(), ["x", "y", "x"])


class SchemaBytes(unittest.TestCase):
    def test_round_trip(self):
        s = pa.schema([pa.field("a", pa.int64(), nullable=False), ("b", pa.string()),
                       ("c", pa.decimal128(12, 3)), ("d", pa.list_(pa.timestamp("us")))],
                      metadata={"k": "v"})
        back = _types.schema_from_bytes(_types.schema_to_bytes(s), "test")
        self.assertTrue(back.equals(s, check_metadata=True))

    def test_arrow_go_layout(self):
        # arrow-go's flight.SerializeSchema writes the schema message and an
        # end-of-stream marker; both layouts read.
        s = pa.schema([("a", pa.int32())])
        b = _types.schema_to_bytes(s) + b"\xff\xff\xff\xff\x00\x00\x00\x00"
        self.assertEqual(_types.schema_from_bytes(b, "x"), s)

    def test_bad_bytes(self):
        with self.assertRaisesRegex(ValueError, "result: empty schema"):
            _types.schema_from_bytes(b"", "result")
        with self.assertRaisesRegex(ValueError, "result: not an Arrow IPC schema message"):
            _types.schema_from_bytes(b"\x01\x02\x03", "result")
        batch = pa.record_batch([pa.array([1])], names=["a"])
        with self.assertRaisesRegex(ValueError, "not an Arrow IPC schema message"):
            _types.schema_from_bytes(batch.serialize().to_pybytes(), "x")

    def test_difference(self):
        want = pa.schema([("a", pa.int64()), ("b", pa.string())])
        self.assertIsNone(_types.describe_schema_difference(want, pa.schema([pa.field("a", pa.int64(), False),
                                                                            ("b", pa.string())])))
        self.assertIn("1 columns", _types.describe_schema_difference(want, pa.schema([("a", pa.int64())])))
        self.assertEqual(_types.describe_schema_difference(want, pa.schema([("a", pa.int64()), ("c", pa.string())])),
                         "column 1 is named 'c', want 'b'")
        self.assertEqual(_types.describe_schema_difference(want, pa.schema([("a", pa.int32()), ("b", pa.string())])),
                         "column 0 (a) is int32, want int64")


if __name__ == "__main__":
    unittest.main()
