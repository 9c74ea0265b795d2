"""The shuffle hash against the shared conformance vectors."""

import decimal
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from arbalest_worker.hashing import SEED, UnsupportedKeyType, check_key_type, hash_columns, partition_ids  # noqa: E402

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "conformance", "shuffle_hash", "vectors.json")


def build(c, decimal64=False):
    t, vals = c["type"], c["values"]
    if t == "decimal":
        p, s = c["precision"], c["scale"]
        ctx = decimal.Context(prec=60)
        arr = pa.array([None if v is None else ctx.scaleb(decimal.Decimal(int(v)), -s) for v in vals], pa.decimal128(p, s))
        # The Go executors hold precision <= 18 as decimal64.
        return arr.cast(pa.decimal64(p, s)) if decimal64 and p <= 18 else arr
    if t in ("float32", "float64"):
        special = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf"), "-0.0": -0.0}
        return pa.array([special[v] if isinstance(v, str) else v for v in vals], getattr(pa, t)())
    if t == "binary":
        return pa.array([None if v is None else bytes.fromhex(v) for v in vals], pa.binary())
    if t == "utf8":
        return pa.array(vals, pa.string())
    if t == "timestamp_us":
        return pa.array(vals, pa.int64()).cast(pa.timestamp("us"))
    if t == "date32":
        return pa.array(vals, pa.int32()).cast(pa.date32())
    if t == "bool":
        return pa.array(vals, pa.bool_())
    return pa.array(vals, getattr(pa, t)())


class VectorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(VECTORS) as f:
            cls.doc = json.load(f)

    def test_seed(self):
        self.assertEqual(self.doc["seed"], SEED)

    def check(self, case, cols):
        got = hash_columns(cols).view(np.int32).tolist()
        self.assertEqual(got, case["hashes"], case["name"])
        for n, want in case["partitions"].items():
            self.assertEqual(partition_ids(cols, int(n)).tolist(), want, f"{case['name']} pmod {n}")

    def test_vectors(self):
        self.assertGreater(len(self.doc["cases"]), 10)
        for case in self.doc["cases"]:
            with self.subTest(case=case["name"]):
                self.check(case, [build(c) for c in case["columns"]])

    def test_vectors_in_other_layouts(self):
        # decimal64 storage, chunked and sliced arrays, dictionaries and
        # other string widths hash as their values.
        for case in self.doc["cases"]:
            with self.subTest(case=case["name"]):
                self.check(case, [build(c, decimal64=True) for c in case["columns"]])
                chunked = []
                for c in case["columns"]:
                    a = build(c)
                    chunked.append(pa.chunked_array([a.slice(0, 1), a.slice(1)], type=a.type))
                self.check(case, chunked)
                sliced = []
                for c in case["columns"]:
                    a = build(c)
                    padded = pa.concat_arrays([a.slice(0, 2), a])
                    sliced.append(padded.slice(2))
                self.check(case, sliced)
                if all(c["type"] in ("utf8", "binary") for c in case["columns"]):
                    self.check(case, [build(c).dictionary_encode() for c in case["columns"]])
                    wide = [build(c).cast(pa.large_string() if c["type"] == "utf8" else pa.large_binary())
                            for c in case["columns"]]
                    self.check(case, wide)
                    views = [build(c).cast(pa.string_view() if c["type"] == "utf8" else pa.binary_view())
                             for c in case["columns"]]
                    self.check(case, views)

    def test_long_strings(self):
        # Strings longer than one word exercise the word loop; the same
        # string must hash alike whatever its neighbours are.
        s = ["", "abcd", "abcdefghijklmnopqrstuvwxyz0123456789" * 3, "é" * 7, "x" * 5]
        whole = hash_columns([pa.array(s)])
        for i, v in enumerate(s):
            self.assertEqual(hash_columns([pa.array([v])])[0], whole[i], repr(v))

    def test_null_keeps_running_hash(self):
        h = hash_columns([pa.array([None, 1], pa.int32()), pa.array([None, None], pa.string())])
        self.assertEqual(h[0], SEED)
        self.assertEqual(h[1], hash_columns([pa.array([1], pa.int32())])[0])

    def test_errors(self):
        with self.assertRaises(UnsupportedKeyType):
            check_key_type(pa.list_(pa.int32()))
        with self.assertRaises(UnsupportedKeyType):
            hash_columns([pa.array([[1]], pa.list_(pa.int32()))])
        with self.assertRaises(ValueError):
            hash_columns([pa.array([1, 2]), pa.array([1])])
        with self.assertRaises(ValueError):
            partition_ids([pa.array([1])], 0)


if __name__ == "__main__":
    unittest.main()
