"""Running a rewritten fragment with DataFusion's Substrait consumer.

Each task gets its own SessionContext with one target partition: the
executor's parallelism is its slots (tasks run side by side), and the
machine is shared with other executors. The leaves are in-memory tables;
the result streams batch by batch into the shuffle writer, converted to
the fragment's contract schema (the types the other executors expect).
"""

from __future__ import annotations

import threading
from typing import Iterator, Mapping

import pyarrow as pa
import pyarrow.compute as pc
from datafusion import RuntimeEnvBuilder, SessionConfig, SessionContext, udf
from datafusion import substrait as dfs

from .contract import UnsupportedPlan
from .fragment import EnginePlan, UdfSpec

__all__ = ["run_plan", "to_contract", "convert", "TaskCancelled", "decimal_from_unscaled", "avg_merge_final",
           "decimal_divide"]


class TaskCancelled(RuntimeError):
    """The task was cancelled while it ran."""


def decimal_from_unscaled(values: list, t: pa.DataType) -> pa.Array:
    """A decimal128 array of type t from unscaled Python ints (None for
    NULL), built from its 16-byte little-endian two's complement words."""
    n = len(values)
    data = bytearray(16 * n)
    valid = bytearray((n + 7) // 8)
    nulls = 0
    for i, v in enumerate(values):
        if v is None:
            nulls += 1
            continue
        valid[i >> 3] |= 1 << (i & 7)
        data[16 * i:16 * i + 16] = int(v).to_bytes(16, "little", signed=True)
    buffers = [pa.py_buffer(bytes(valid)) if nulls else None, pa.py_buffer(bytes(data))]
    return pa.Array.from_buffers(pa.decimal128(t.precision, t.scale), n, buffers, null_count=nulls)


def _unscaled(arr: pa.Array) -> list:
    """The unscaled values of a decimal128 array as Python ints (None for
    NULL)."""
    n = len(arr)
    raw = memoryview(arr.buffers()[1])[16 * arr.offset:16 * (arr.offset + n)]
    valid = arr.is_valid().to_pylist() if arr.null_count else None
    out = []
    for i in range(n):
        if valid is not None and not valid[i]:
            out.append(None)
        else:
            out.append(int.from_bytes(raw[16 * i:16 * i + 16], "little", signed=True))
    return out


def avg_merge_final(sums: pa.Array, counts: pa.Array, spec: UdfSpec) -> pa.Array:
    """sum(s) / sum(c) as the Go executor's avg computes it: exact for
    decimals and integers (rounded half away from zero to the result
    scale), a float division for floats; NULL when the count is 0."""
    if isinstance(sums, pa.ChunkedArray):
        sums = sums.combine_chunks()
    if isinstance(counts, pa.ChunkedArray):
        counts = counts.combine_chunks()
    cnt = counts.cast(pa.int64()).to_pylist()
    rt = spec.result_type
    if pa.types.is_floating(rt):
        s = sums.cast(pa.float64()).to_pylist()
        out = [None if a is None or c is None or c == 0 else a / c for a, c in zip(s, cnt)]
        return pa.array(out, pa.float64()).cast(rt)
    if pa.types.is_decimal(sums.type):
        s = _unscaled(sums.cast(pa.decimal128(38, sums.type.scale)))
    elif pa.types.is_integer(sums.type):
        s = sums.cast(pa.int64()).to_pylist()
    else:
        raise TypeError(f"avg_merge over {sums.type}")
    mul = 10 ** spec.result_scale_shift
    out = []
    for a, c in zip(s, cnt):
        if a is None or c is None or c <= 0:
            out.append(None)
            continue
        num = a * mul
        q, r = divmod(abs(num), c)
        if 2 * r >= c:
            q += 1
        out.append(-q if num < 0 else q)
    return decimal_from_unscaled(out, rt)


def decimal_divide(a: pa.Array, b: pa.Array, result_type: pa.DataType) -> pa.Array:
    """a / b for decimals, rounded half away from zero to the result's
    scale (the Go executor's decimal division); division by zero is an
    error, a NULL operand gives NULL."""
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    if isinstance(b, pa.ChunkedArray):
        b = b.combine_chunks()
    sa, sb, sr = a.type.scale, b.type.scale, result_type.scale
    av = _unscaled(a.cast(pa.decimal128(38, sa)))
    bv = _unscaled(b.cast(pa.decimal128(38, sb)))
    # a/10^sa / (b/10^sb) * 10^sr = a * 10^(sr - sa + sb) / b
    k = sr - sa + sb
    out = []
    limit = 10 ** result_type.precision
    for x, y in zip(av, bv):
        if x is None or y is None:
            out.append(None)
            continue
        if y == 0:
            raise ZeroDivisionError("division by zero")
        num, den = (x * 10 ** k, y) if k >= 0 else (x, y * 10 ** (-k))
        q, r = divmod(abs(num), abs(den))
        if 2 * r >= abs(den):
            q += 1
        if (num < 0) != (den < 0):
            q = -q
        if abs(q) >= limit:
            raise OverflowError(f"decimal division overflows {result_type}")
        out.append(q)
    return decimal_from_unscaled(out, result_type)


def _make_udf(spec: UdfSpec):
    if spec.kind == "round_half_even":
        def rint(x):
            if isinstance(x, pa.ChunkedArray):
                x = x.combine_chunks()
            return pc.round(x.cast(pa.float64()), 0, round_mode="half_to_even")
        return udf(rint, [pa.float64()], pa.float64(), "immutable", spec.name)
    if spec.kind == "decimal_divide":
        def div(a, b):
            return decimal_divide(a, b, spec.result_type)
        return udf(div, [spec.sum_type, spec.arg2_type], spec.result_type, "immutable", spec.name)

    def fn(sums, counts):
        return avg_merge_final(sums, counts, spec)
    return udf(fn, [spec.sum_type, pa.int64()], spec.result_type, "immutable", spec.name)


def convert(col: pa.Array, t: pa.DataType) -> pa.Array:
    """col cast to t; a decimal with more digits after the point than t is
    rounded half away from zero first (SQL's rounding; a plain cast would
    refuse to lose the digits)."""
    if pa.types.is_decimal(col.type) and pa.types.is_decimal(t) and col.type.scale > t.scale:
        col = pc.round(col, ndigits=t.scale, round_mode="half_towards_infinity")
    return col.cast(t)


def to_contract(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """batch (DataFusion's types, any names) as the fragment's contract
    schema: same columns by position, cast to the contract types."""
    if batch.num_columns != len(schema):
        raise RuntimeError(f"the engine produced {batch.num_columns} columns, the fragment declares {len(schema)}")
    cols = []
    for i, f in enumerate(schema):
        c = batch.column(i)
        if not c.type.equals(f.type):
            try:
                c = convert(c, f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise RuntimeError(f"column {i} ({f.name}): cannot convert the engine's {c.type} to {f.type}: {e}") from None
        cols.append(c)
    return pa.RecordBatch.from_arrays(cols, schema=schema)


def run_plan(ep: EnginePlan, tables: Mapping[str, pa.Table], out_schema: pa.Schema,
             cancelled: threading.Event, batch_size: int = 8192, memory_limit: int = 0,
             spill_dir: str = "") -> Iterator[pa.RecordBatch]:
    """Runs the plan over the tables and yields its batches in out_schema.
    memory_limit > 0 bounds the operators' memory (sorts, aggregates and
    joins spill to spill_dir or fail with DataFusion's "resources
    exhausted" error). Raises TaskCancelled between batches once cancelled
    is set."""
    config = SessionConfig().with_target_partitions(1).with_batch_size(batch_size)
    runtime = None
    if memory_limit > 0:
        runtime = RuntimeEnvBuilder().with_fair_spill_pool(memory_limit)
        runtime = runtime.with_disk_manager_specified(spill_dir) if spill_dir else runtime.with_disk_manager_os()
    ctx = SessionContext(config, runtime)
    for name, t in tables.items():
        batches = t.to_batches()
        if not batches:
            batches = [pa.RecordBatch.from_pylist([], schema=t.schema)]
        ctx.register_record_batches(name, [batches])
    for spec in ep.udfs:
        ctx.register_udf(_make_udf(spec))
    try:
        plan = dfs.Serde.deserialize_bytes(ep.plan)
        lp = dfs.Consumer.from_substrait_plan(ctx, plan)
    except Exception as e:  # DataFusion raises plain Exceptions
        raise UnsupportedPlan(f"DataFusion cannot read the fragment: {_first_line(e)}") from None
    df = ctx.create_dataframe_from_logical_plan(lp)
    if cancelled.is_set():
        raise TaskCancelled("cancelled")
    stream = df.execute_stream()
    for b in stream:
        if cancelled.is_set():
            raise TaskCancelled("cancelled")
        rb = b.to_pyarrow()
        if rb.num_rows:
            yield to_contract(rb, out_schema)


def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__
