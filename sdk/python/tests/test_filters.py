import datetime
import decimal
import unittest

import helpers  # noqa: F401
import pyarrow as pa
from substrait import algebra_pb2 as alg
from substrait import extended_expression_pb2 as eepb
from substrait import type_pb2 as tpb
from substrait.extensions import extensions_pb2 as extpb

from arbalest.filters import FilterDecodeError, decode_filters

E = alg.Expression
CMP = "extension:io.substrait:functions_comparison"
BOOL = "extension:io.substrait:functions_boolean"

# The table: id i64, name string, score fp64, tags struct<a i32, b string>, ok boolean
TYPES = [
    tpb.Type(i64=tpb.Type.I64()),
    tpb.Type(string=tpb.Type.String()),
    tpb.Type(fp64=tpb.Type.FP64()),
    tpb.Type(struct=tpb.Type.Struct(types=[tpb.Type(i32=tpb.Type.I32()), tpb.Type(string=tpb.Type.String())])),
    tpb.Type(bool=tpb.Type.Boolean()),
    tpb.Type(i32=tpb.Type.I32()),
]
NAMES = ["id", "name", "score", "tags", "a", "b", "ok", "small"]

TABLE = pa.table({
    "id": pa.array([1, 2, 3, 4, None], pa.int64()),
    "name": pa.array(["ann", "bob", None, "cy", "dee"]),
    "score": pa.array([0.5, 1.5, 2.5, None, 4.5]),
    "tags": pa.array([{"a": 1, "b": "x"}] * 5, pa.struct([("a", pa.int32()), ("b", pa.string())])),
    "ok": pa.array([True, False, None, True, True]),
    "small": pa.array([1, 2, 3, 4, 5], pa.int32()),
})


class Builder:
    def __init__(self):
        self.ee = eepb.ExtendedExpression()
        self.ee.base_schema.names.extend(NAMES)
        self.ee.base_schema.struct.types.extend(TYPES)
        self.urns = {}
        self.funcs = {}

    def fn(self, urn, compound):
        if urn not in self.urns:
            a = len(self.urns) + 1
            self.urns[urn] = a
            self.ee.extension_urns.append(extpb.SimpleExtensionURN(extension_urn_anchor=a, urn=urn))
        key = (urn, compound)
        if key not in self.funcs:
            a = len(self.funcs) + 10
            self.funcs[key] = a
            self.ee.extensions.append(extpb.SimpleExtensionDeclaration(
                extension_function=extpb.SimpleExtensionDeclaration.ExtensionFunction(
                    extension_urn_reference=self.urns[urn], function_anchor=a, name=compound)))
        return self.funcs[key]

    def call(self, urn, compound, *args):
        return E(scalar_function=E.ScalarFunction(
            function_reference=self.fn(urn, compound),
            arguments=[alg.FunctionArgument(value=a) for a in args],
            output_type=tpb.Type(bool=tpb.Type.Boolean())))

    def add(self, *exprs):
        for i, e in enumerate(exprs):
            self.ee.referred_expr.append(eepb.ExpressionReference(expression=e, output_names=[f"f{i}"]))
        return self.ee.SerializeToString()


def col(i):
    return E(selection=E.FieldReference(
        direct_reference=E.ReferenceSegment(struct_field=E.ReferenceSegment.StructField(field=i)),
        root_reference=E.FieldReference.RootReference()))


def lit(**kw):
    return E(literal=E.Literal(**kw))


def cast(e, t):
    return E(cast=E.Cast(type=t, input=e))


class Decode(unittest.TestCase):
    def test_simple_comparisons(self):
        b = Builder()
        data = b.add(
            b.call(CMP, "gt:any_any", col(0), lit(i64=2)),
            b.call(CMP, "equal:any_any", col(1), lit(string="bob")),
            b.call(CMP, "lt:any_any", lit(fp64=3.0), col(2)),  # 3.0 < score: score > 3.0
            b.call(CMP, "is_null:any", col(2)),
            b.call(CMP, "is_not_null:any", col(1)),
            b.call(CMP, "not_equal:any_any", col(4), lit(boolean=True)),
            b.call(CMP, "lte:any_any", cast(col(5), tpb.Type(i64=tpb.Type.I64())), lit(i64=3)),
            b.call(CMP, "gte:any_any", col(1), E(literal=E.Literal(var_char=E.Literal.VarChar(value="b", length=3)))),
        )
        fs = decode_filters(data, 8)
        self.assertEqual([(f.column, f.op, f.value) for f in fs], [
            ("id", ">", 2), ("name", "==", "bob"), ("score", ">", 3.0), ("score", "is_null", None),
            ("name", "is_not_null", None), ("ok", "!=", True), ("small", "<=", 3), ("name", ">=", "b"),
        ])
        self.assertEqual(str(fs[2]), "3.0 < score")
        self.assertEqual(repr(fs[0]), "Filter('id', '>', 2)")
        self.assertTrue(all(f.substrait.HasField("scalar_function") for f in fs))
        # The expressions select what SQL would.
        got = [TABLE.filter(f.expression).column("id").to_pylist() for f in fs]
        self.assertEqual(got, [[3, 4], [2], [None], [4], [1, 2, 4, None], [2], [1, 2, 3], [2, 4, None]])

    def test_nested_names_are_skipped(self):
        # "ok" comes after the struct's field names a, b in the NamedStruct.
        b = Builder()
        fs = decode_filters(b.add(b.call(CMP, "equal:any_any", col(4), lit(boolean=True))), 1)
        self.assertEqual(fs[0].column, "ok")

    def test_compound_expressions(self):
        b = Builder()
        data = b.add(
            b.call(BOOL, "or:bool", b.call(CMP, "lt:any_any", col(0), lit(i64=2)),
                   b.call(CMP, "is_null:any", col(1))),
            b.call(BOOL, "not:bool", b.call(CMP, "equal:any_any", col(1), lit(string="ann"))),
            b.call(BOOL, "and:bool", b.call(CMP, "gt:any_any", col(2), lit(fp64=1.0)),
                   b.call(CMP, "lt:any_any", col(2), lit(fp64=4.0))),
        )
        fs = decode_filters(data)
        for f in fs:
            self.assertFalse(f.is_simple)
            self.assertIsNotNone(f.expression)
        self.assertEqual(str(fs[0]), "(id < 2 OR name IS NULL)")
        self.assertEqual(str(fs[1]), "NOT name = 'ann'")
        got = [TABLE.filter(f.expression).column("id").to_pylist() for f in fs]
        self.assertEqual(got, [[1, 3], [2, 4, None], [2, 3]])

    def test_in_lists(self):
        b = Builder()
        inlist = E(singular_or_list=E.SingularOrList(value=col(0), options=[lit(i64=1), lit(i64=3)]))
        with_null = E(singular_or_list=E.SingularOrList(
            value=col(0), options=[lit(i64=4), lit(null=tpb.Type(i64=tpb.Type.I64()))]))
        data = b.add(inlist, b.call(BOOL, "not:bool", inlist), with_null, b.call(BOOL, "not:bool", with_null))
        fs = decode_filters(data, 4)
        self.assertEqual([(f.column, f.op, f.value) for f in fs],
                         [("id", "in", [1, 3]), ("id", "not in", [1, 3]), ("id", "in", [4]), (None, None, None)])
        got = [TABLE.filter(f.expression).column("id").to_pylist() for f in fs]
        # x NOT IN (4, NULL) is never true.
        self.assertEqual(got, [[1, 3], [2, 4], [4], []])

    def test_literals(self):
        b = Builder()
        dec = (-12345).to_bytes(16, "little", signed=True)
        data = b.add(
            b.call(CMP, "equal:any_any", col(0), lit(date=19000)),
            b.call(CMP, "equal:any_any", col(0), lit(decimal=E.Literal.Decimal(value=dec, precision=10, scale=2))),
            b.call(CMP, "equal:any_any", col(0), lit(precision_timestamp=E.Literal.PrecisionTimestamp(
                precision=6, value=1_700_000_000_123_456))),
            b.call(CMP, "equal:any_any", col(0), lit(precision_timestamp_tz=E.Literal.PrecisionTimestamp(
                precision=3, value=1_700_000_000_123))),
            b.call(CMP, "equal:any_any", col(0), lit(null=tpb.Type(string=tpb.Type.String()))),
            b.call(CMP, "equal:any_any", col(0), lit(binary=b"\x00\x01")),
            b.call(CMP, "equal:any_any", col(0), lit(i8=-3)),
        )
        vals = [f.value for f in decode_filters(data)]
        self.assertEqual(vals[0], datetime.date(1970, 1, 1) + datetime.timedelta(days=19000))
        self.assertEqual(vals[1], decimal.Decimal("-123.45"))
        self.assertEqual(vals[2], datetime.datetime(2023, 11, 14, 22, 13, 20, 123456))
        self.assertEqual(vals[3], datetime.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=datetime.timezone.utc))
        self.assertIsNone(vals[4])
        self.assertEqual(vals[5:], [b"\x00\x01", -3])

    def test_nanoseconds_keep_the_scalar(self):
        b = Builder()
        data = b.add(b.call(CMP, "equal:any_any", col(0), lit(precision_timestamp=E.Literal.PrecisionTimestamp(
            precision=9, value=1_700_000_000_000_000_001))))
        f = decode_filters(data)[0]
        self.assertIsInstance(f.value, pa.TimestampScalar)
        self.assertEqual(f.value.value, 1_700_000_000_000_000_001)
        self.assertEqual(str(f), "id = '2023-11-14 22:13:20.000000001'")

    def test_not_taken_for_standard(self):
        b = Builder()
        data = b.add(
            # A user's extension function that happens to be called "equal".
            b.call("extension:acme:mine", "equal:any_any", col(0), lit(i64=1)),
            # A narrowing cast changes the comparison.
            b.call(CMP, "equal:any_any", cast(col(2), tpb.Type(i64=tpb.Type.I64())), lit(i64=1)),
            # Column against column.
            b.call(CMP, "equal:any_any", col(0), col(5)),
            b.call(CMP, "like:str_str", col(1), lit(string="a%")),
        )
        fs = decode_filters(data, 4)
        self.assertEqual([f.op for f in fs], [None, None, None, None])
        self.assertIsNone(fs[0].expression)
        self.assertIsNotNone(fs[1].expression)  # the cast itself is expressible
        self.assertIsNotNone(fs[2].expression)
        self.assertIsNone(fs[3].expression)
        self.assertEqual(str(fs[0]), "equal(id, 1)")

    def test_errors(self):
        self.assertEqual(decode_filters(b""), [])
        with self.assertRaisesRegex(FilterDecodeError, "filter_count is 2 but no filters were sent"):
            decode_filters(b"", 2)
        with self.assertRaisesRegex(FilterDecodeError, "not a Substrait ExtendedExpression"):
            decode_filters(b"\xff\xff\xff")
        b = Builder()
        data = b.add(b.call(CMP, "equal:any_any", col(0), lit(i64=1)))
        with self.assertRaisesRegex(FilterDecodeError, "filter_count is 3 but the ExtendedExpression has 1"):
            decode_filters(data, 3)
        b = Builder()
        data = b.add(b.call(CMP, "equal:any_any", col(42), lit(i64=1)))
        with self.assertRaisesRegex(FilterDecodeError, "column 42; the base schema has 6"):
            decode_filters(data)


if __name__ == "__main__":
    unittest.main()
