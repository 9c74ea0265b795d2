#!/usr/bin/env python3
"""Generate vectors.json: test vectors for Arbalest's shuffle hash.

The shuffle hash is Spark's HashPartitioning: murmur3_x86_32 with seed 42
folded over the key columns (the running hash of one column seeds the
next), partition = pmod(hash, N). This file is an independent pure-Python
reference of Spark's Murmur3_x86_32 and of the value encodings of Spark's
Murmur3Hash expression; it checks itself against values published by Spark
before writing the vectors. Run: python3 gen_vectors.py > vectors.json
"""

import json
import math
import struct

SEED = 42
M32 = 0xFFFFFFFF


def _rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & M32


def _mix_k1(k1):
    k1 = (k1 * 0xCC9E2D51) & M32
    k1 = _rotl(k1, 15)
    return (k1 * 0x1B873593) & M32


def _mix_h1(h1, k1):
    h1 ^= k1
    h1 = _rotl(h1, 13)
    return (h1 * 5 + 0xE6546B64) & M32


def _fmix(h1, length):
    h1 ^= length
    h1 ^= h1 >> 16
    h1 = (h1 * 0x85EBCA6B) & M32
    h1 ^= h1 >> 13
    h1 = (h1 * 0xC2B2AE35) & M32
    h1 ^= h1 >> 16
    return h1


def hash_int(v, seed):
    return _fmix(_mix_h1(seed, _mix_k1(v & M32)), 4)


def hash_long(v, seed):
    v &= 0xFFFFFFFFFFFFFFFF
    h = _mix_h1(seed, _mix_k1(v & M32))
    h = _mix_h1(h, _mix_k1(v >> 32))
    return _fmix(h, 8)


def hash_bytes(b, seed):
    """Spark's hashUnsafeBytes: LE words, then one round per tail byte (signed)."""
    n = len(b)
    aligned = n - n % 4
    h = seed
    for i in range(0, aligned, 4):
        h = _mix_h1(h, _mix_k1(struct.unpack_from("<I", b, i)[0]))
    for i in range(aligned, n):
        x = b[i] - 256 if b[i] >= 128 else b[i]
        h = _mix_h1(h, _mix_k1(x & M32))
    return _fmix(h, n)


def to_signed(h):
    return h - (1 << 32) if h >= 1 << 31 else h


def float_bits(f):
    if f == 0.0:
        return 0
    if math.isnan(f):
        return 0x7FC00000
    return struct.unpack("<i", struct.pack("<f", f))[0]


def double_bits(f):
    if f == 0.0:
        return 0
    if math.isnan(f):
        return 0x7FF8000000000000
    return struct.unpack("<q", struct.pack("<d", f))[0]


def bigint_bytes(v):
    """Java BigInteger.toByteArray: minimal big-endian two's complement."""
    n = 1
    while not (-(1 << (8 * n - 1)) <= v < (1 << (8 * n - 1))):
        n += 1
    return (v & ((1 << (8 * n)) - 1)).to_bytes(n, "big")


def parse_float(v):
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0.0": -0.0}.get(v, v) if isinstance(v, str) else float(v)


def hash_value(col, v, seed):
    t = col["type"]
    if v is None:
        return seed
    if t == "bool":
        return hash_int(1 if v else 0, seed)
    if t in ("int8", "int16", "int32", "date32"):
        return hash_int(v, seed)
    if t in ("int64", "timestamp_us"):
        return hash_long(v, seed)
    if t == "float32":
        f = struct.unpack("<f", struct.pack("<f", parse_float(v)))[0]
        return hash_int(float_bits(f), seed)
    if t == "float64":
        return hash_long(double_bits(parse_float(v)), seed)
    if t == "decimal":
        unscaled = int(v)
        if col["precision"] <= 18:
            return hash_long(unscaled, seed)
        return hash_bytes(bigint_bytes(unscaled), seed)
    if t == "utf8":
        return hash_bytes(v.encode("utf-8"), seed)
    if t == "binary":
        return hash_bytes(bytes.fromhex(v), seed)
    raise ValueError(t)


def row_hashes(cols):
    n = len(cols[0]["values"])
    out = []
    for i in range(n):
        h = SEED
        for c in cols:
            h = hash_value(c, c["values"][i], h)
        out.append(h)
    return out


def pmod(h, n):
    return to_signed(h) % n  # Python's % is already non-negative for n > 0


def self_check():
    # Spark: SELECT hash(1) -> -559580957
    assert to_signed(hash_int(1, SEED)) == -559580957
    # Spark docs: SELECT hash('Spark', array(123), 2) -> -1321691492
    # (array elements are folded like columns).
    h = hash_bytes(b"Spark", SEED)
    h = hash_int(123, h)
    h = hash_int(2, h)
    assert to_signed(h) == -1321691492, to_signed(h)
    # For 4- and 8-byte inputs Spark's hash is standard murmur3_x86_32.
    assert hash_bytes(struct.pack("<i", 7), SEED) == hash_int(7, SEED)
    assert bigint_bytes(0) == b"\x00" and bigint_bytes(128) == b"\x00\x80" and bigint_bytes(-129) == b"\xff\x7f"


CASES = [
    {"name": "int32", "columns": [{"type": "int32", "values": [1, 0, -1, 2, 42, 2147483647, -2147483648, None, 123456]}]},
    {"name": "int8", "columns": [{"type": "int8", "values": [0, 1, -1, 127, -128, None]}]},
    {"name": "int16", "columns": [{"type": "int16", "values": [0, 1, -1, 32767, -32768, None]}]},
    {"name": "int64", "columns": [{"type": "int64", "values": [1, 0, -1, 4294967296, 9223372036854775807, -9223372036854775808, None, 6000000]}]},
    {"name": "date32", "columns": [{"type": "date32", "values": [0, 8035, 10591, -1, None]}]},
    {"name": "timestamp_us", "columns": [{"type": "timestamp_us", "values": [0, 1700000000000000, -1, None]}]},
    {"name": "bool", "columns": [{"type": "bool", "values": [True, False, None]}]},
    {"name": "float32", "columns": [{"type": "float32", "values": [0.0, "-0.0", 1.5, -2.25, "NaN", "Infinity", "-Infinity", None]}]},
    {"name": "float64", "columns": [{"type": "float64", "values": [0.0, "-0.0", 1.5, -2.25, 0.1, "NaN", "Infinity", "-Infinity", None]}]},
    {"name": "decimal(15,2)", "columns": [{"type": "decimal", "precision": 15, "scale": 2, "values": ["0", "1", "-1", "12345", "-999999999999999", None]}]},
    {"name": "decimal(38,4)", "columns": [{"type": "decimal", "precision": 38, "scale": 4, "values": ["0", "1", "-1", "127", "128", "-128", "-129", "123456789012345678901234567890", "-99999999999999999999999999999999999999", None]}]},
    {"name": "utf8", "columns": [{"type": "utf8", "values": ["", "a", "ab", "abc", "abcd", "abcde", "Spark", "héllo wörld", "\u00ff\u0080", "BUILDING", "1-URGENT", None]}]},
    {"name": "binary", "columns": [{"type": "binary", "values": ["", "00", "ff", "80ff7f", "0102030405060708", None]}]},
    {
        "name": "multi int64,utf8,date32",
        "columns": [
            {"type": "int64", "values": [1, 2, None, 3, None]},
            {"type": "utf8", "values": ["x", None, "y", "zz", None]},
            {"type": "date32", "values": [1, 2, 3, None, None]},
        ],
    },
    {
        "name": "multi int32,int32",
        "columns": [
            {"type": "int32", "values": [1, 1, 2, 2, 7]},
            {"type": "int32", "values": [1, 2, 1, 2, 7]},
        ],
    },
]

PARTITION_COUNTS = [1, 2, 7, 200]


def main():
    self_check()
    out_cases = []
    for c in CASES:
        hashes = row_hashes(c["columns"])
        out_cases.append(
            {
                "name": c["name"],
                "columns": c["columns"],
                "hashes": [to_signed(h) for h in hashes],
                "partitions": {str(n): [pmod(h, n) for h in hashes] for n in PARTITION_COUNTS},
            }
        )
    doc = {
        "description": (
            "Arbalest shuffle hash test vectors: Spark HashPartitioning, murmur3_x86_32 seed 42 folded over "
            "the key columns, partition = pmod(hash, N). hashes are signed 32-bit. Floats given as strings are "
            "NaN, Infinity, -Infinity or -0.0; decimals are unscaled integers as strings; binary is hex. "
            "Generated by gen_vectors.py (pure-Python reference checked against Spark's published values)."
        ),
        "seed": SEED,
        "cases": out_cases,
    }
    print(json.dumps(doc, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
