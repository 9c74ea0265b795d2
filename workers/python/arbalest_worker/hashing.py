"""The shuffle hash: Spark's HashPartitioning, vectorised with numpy.

A row's hash is murmur3_x86_32 folded over the key columns in order,
starting from seed 42 (each column's hash is the seed of the next); a NULL
leaves the running hash unchanged; the partition is pmod(hash as int32, n).
Values are encoded as Spark's Murmur3Hash encodes them (docs/protocol.md
section 5 has the table). The shared test vectors are in
conformance/shuffle_hash/vectors.json.

Everything works on whole columns: numpy uint32 arithmetic wraps modulo
2**32, which is exactly murmur3's arithmetic, so each step of the hash is
one numpy expression over all rows of a batch.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["SEED", "hash_columns", "partition_ids", "check_key_type", "UnsupportedKeyType"]

SEED = 42

_C1 = np.uint32(0xCC9E2D51)
_C2 = np.uint32(0x1B873593)
_N = np.uint32(0xE6546B64)
_F1 = np.uint32(0x85EBCA6B)
_F2 = np.uint32(0xC2B2AE35)


class UnsupportedKeyType(TypeError):
    """A key column of a type the protocol's hash does not define."""


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _mix_k1(k1: np.ndarray) -> np.ndarray:
    k1 = k1 * _C1
    k1 = _rotl(k1, 15)
    return k1 * _C2


def _mix_h1(h1: np.ndarray, k1: np.ndarray) -> np.ndarray:
    h1 = h1 ^ k1
    h1 = _rotl(h1, 13)
    return h1 * np.uint32(5) + _N


def _fmix(h1: np.ndarray, length) -> np.ndarray:
    h1 = h1 ^ np.asarray(length, dtype=np.uint32)
    h1 = h1 ^ (h1 >> np.uint32(16))
    h1 = h1 * _F1
    h1 = h1 ^ (h1 >> np.uint32(13))
    h1 = h1 * _F2
    return h1 ^ (h1 >> np.uint32(16))


def _hash_int(v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Spark's hashInt over uint32 bit patterns."""
    return _fmix(_mix_h1(seed, _mix_k1(v)), 4)


def _hash_long(v: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Spark's hashLong over uint64 bit patterns: low word, then high."""
    lo = (v & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    hi = (v >> np.uint64(32)).astype(np.uint32)
    h = _mix_h1(seed, _mix_k1(lo))
    h = _mix_h1(h, _mix_k1(hi))
    return _fmix(h, 8)


def _hash_bytes(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Spark's hashUnsafeBytes of one byte string per row: little-endian
    4-byte words, then one mixing round per trailing byte (sign-extended),
    then fmix with the length. Rows are processed word by word, each round
    only over the rows that still have a word, so the cost is the total
    number of words rather than rows times the longest string."""
    h = seed.copy()
    starts = starts.astype(np.int64)
    lengths = lengths.astype(np.int64)
    words = lengths // 4
    d32 = data.astype(np.uint32)
    if len(lengths):
        active = np.arange(len(lengths))
        w = 0
        while True:
            active = active[words[active] > w]
            if not len(active):
                break
            o = starts[active] + 4 * w
            k = d32[o] | (d32[o + 1] << np.uint32(8)) | (d32[o + 2] << np.uint32(16)) | (d32[o + 3] << np.uint32(24))
            h[active] = _mix_h1(h[active], _mix_k1(k))
            w += 1
        tail = lengths - 4 * words
        for t in range(3):
            rows = np.nonzero(tail > t)[0]
            if not len(rows):
                break
            b = data[starts[rows] + 4 * words[rows] + t].view(np.int8).astype(np.int32).view(np.uint32)
            h[rows] = _mix_h1(h[rows], _mix_k1(b))
    return _fmix(h, lengths.astype(np.uint32))


def _validity(arr: pa.Array) -> np.ndarray | None:
    """A bool mask of the valid rows, or None when there is no NULL."""
    if arr.null_count == 0:
        return None
    return arr.is_valid().to_numpy(zero_copy_only=False)


def _fixed(arr: pa.Array, dtype) -> np.ndarray:
    """The value buffer of a fixed-width array as numpy (NULL slots hold
    whatever the buffer holds; callers mask them)."""
    buf = arr.buffers()[1]
    n = len(arr) + arr.offset
    return np.frombuffer(buf, dtype=dtype, count=n)[arr.offset:]


def _binary_parts(arr: pa.Array):
    """(data bytes, row starts, row lengths) of a binary or string array of
    any width."""
    t = arr.type
    if pa.types.is_string_view(t) or pa.types.is_binary_view(t):
        arr = arr.cast(pa.large_binary() if pa.types.is_binary_view(t) else pa.large_string())
        t = arr.type
    off_dtype = np.int64 if (pa.types.is_large_string(t) or pa.types.is_large_binary(t)) else np.int32
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=off_dtype, count=len(arr) + 1 + arr.offset)[arr.offset:]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    # Pad so that the word loop's 4-byte reads never run past the end.
    data = np.concatenate([data, np.zeros(4, np.uint8)])
    starts = offsets[:-1].astype(np.int64)
    lengths = (offsets[1:] - offsets[:-1]).astype(np.int64)
    return data, starts, lengths


def _decimal_bytes(arr: pa.Array):
    """The minimal big-endian two's complement bytes of every decimal128
    unscaled value (Java's BigInteger.toByteArray), as (data, starts,
    lengths) for _hash_bytes."""
    n = len(arr)
    le = np.frombuffer(arr.buffers()[1], dtype=np.uint8, count=16 * (n + arr.offset))[16 * arr.offset:].reshape(n, 16)
    be = le[:, ::-1]  # big-endian rows
    # Strip leading bytes that only repeat the sign: 0x00 followed by a
    # byte with the top bit clear, or 0xff followed by one with it set.
    strip = np.zeros(n, dtype=np.int64)
    still = np.ones(n, dtype=bool)
    for i in range(15):
        b0, b1 = be[:, i], be[:, i + 1]
        can = ((b0 == 0) & (b1 < 0x80)) | ((b0 == 0xFF) & (b1 >= 0x80))
        still &= can
        strip += still
    starts = np.arange(n, dtype=np.int64) * 16 + strip
    lengths = 16 - strip
    data = np.concatenate([np.ascontiguousarray(be).reshape(-1), np.zeros(4, np.uint8)])
    return data, starts, lengths


def check_key_type(t: pa.DataType) -> None:
    """Raises UnsupportedKeyType when columns of type t cannot be hashed."""
    if pa.types.is_dictionary(t):
        check_key_type(t.value_type)
        return
    ok = (
        pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t) and not pa.types.is_float16(t)
        or pa.types.is_date(t) or pa.types.is_time(t) or pa.types.is_timestamp(t) or pa.types.is_duration(t)
        or pa.types.is_decimal(t) and t.bit_width in (64, 128)
        or pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
        or pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t)
        or pa.types.is_null(t)
    )
    if not ok:
        raise UnsupportedKeyType(f"shuffle hash: unsupported key type {t}")


def _fold(arr: pa.Array, h: np.ndarray) -> np.ndarray:
    """Folds one key column into the running hashes h (one per row)."""
    t = arr.type
    if pa.types.is_null(t):
        return h
    if pa.types.is_dictionary(t):
        return _fold(arr.dictionary_decode(), h)
    valid = _validity(arr)
    if pa.types.is_boolean(t):
        v = pc.fill_null(arr, False).cast(pa.uint32()).to_numpy(zero_copy_only=False).astype(np.uint32)
        new = _hash_int(v, h)
    elif t in (pa.int8(), pa.int16(), pa.int32()) or pa.types.is_date32(t) or pa.types.is_time32(t):
        v = _fixed(arr, {8: np.int8, 16: np.int16, 32: np.int32}[t.bit_width]).astype(np.int32).view(np.uint32)
        new = _hash_int(v, h)
    elif t in (pa.uint8(), pa.uint16()):
        v = _fixed(arr, {8: np.uint8, 16: np.uint16}[t.bit_width]).astype(np.uint32)
        new = _hash_int(v, h)
    elif t == pa.uint32():
        new = _hash_long(_fixed(arr, np.uint32).astype(np.uint64), h)
    elif (t in (pa.int64(), pa.uint64()) or pa.types.is_date64(t) or pa.types.is_time64(t)
          or pa.types.is_timestamp(t) or pa.types.is_duration(t)):
        new = _hash_long(_fixed(arr, np.uint64), h)
    elif pa.types.is_float32(t):
        v = _fixed(arr, np.float32)
        bits = v.view(np.uint32).copy()
        bits[v == 0] = 0  # -0.0 hashes as 0.0
        bits[np.isnan(v)] = 0x7FC00000  # Java's canonical NaN
        new = _hash_int(bits, h)
    elif pa.types.is_float64(t):
        v = _fixed(arr, np.float64)
        bits = v.view(np.uint64).copy()
        bits[v == 0] = 0
        bits[np.isnan(v)] = 0x7FF8000000000000
        new = _hash_long(bits, h)
    elif pa.types.is_decimal(t) and t.bit_width == 64:
        new = _hash_long(_fixed(arr, np.uint64), h)
    elif pa.types.is_decimal(t) and t.bit_width == 128:
        if t.precision <= 18:
            new = _hash_long(_decimal_low_words(arr), h)
        else:
            data, starts, lengths = _decimal_bytes(arr)
            new = _hash_bytes(data, starts, lengths, h)
    elif (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
          or pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t)):
        data, starts, lengths = _binary_parts(arr)
        new = _hash_bytes(data, starts, lengths, h)
    else:
        check_key_type(t)
        raise UnsupportedKeyType(f"shuffle hash: unsupported key type {t}")
    if valid is None:
        return new
    return np.where(valid, new, h)


def _decimal_low_words(arr: pa.Array) -> np.ndarray:
    """The low 64 bits of every decimal128 unscaled value (the whole value
    when the precision is at most 18)."""
    n = len(arr)
    words = np.frombuffer(arr.buffers()[1], dtype=np.uint64, count=2 * (n + arr.offset))
    return words[2 * arr.offset::2][:n]


def _as_array(col) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col


def hash_columns(cols: Sequence[pa.Array | pa.ChunkedArray], rows: int | None = None) -> np.ndarray:
    """The Spark HashPartitioning hash of every row of cols, as uint32 (view
    it as int32 for Spark's signed value). Every column must have the same
    number of rows; with no columns, rows gives the count."""
    arrays = [_as_array(c) for c in cols]
    if rows is None:
        if not arrays:
            raise ValueError("shuffle hash: no key columns and no row count")
        rows = len(arrays[0])
    h = np.full(rows, SEED, dtype=np.uint32)
    for i, a in enumerate(arrays):
        if len(a) != rows:
            raise ValueError(f"shuffle hash: key column {i} has {len(a)} rows, expected {rows}")
        h = _fold(a, h)
    return h


def partition_ids(cols: Sequence[pa.Array | pa.ChunkedArray], n: int, rows: int | None = None) -> np.ndarray:
    """pmod(hash as int32, n) of every row, as int64."""
    if n <= 0:
        raise ValueError(f"shuffle hash: partition count {n} must be positive")
    h = hash_columns(cols, rows).view(np.int32).astype(np.int64)
    # numpy's % takes the divisor's sign: a non-negative result, Spark's pmod.
    return h % n
