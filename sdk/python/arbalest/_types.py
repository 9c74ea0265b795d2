"""Arrow type helpers: declarations, Substrait type names, schema bytes.

The plugin protocol carries Arrow schemas as encapsulated IPC schema
messages (what ``pa.Schema.serialize`` writes and arrow-go's
``flight.DeserializeSchema`` reads). Function declarations name their types
in Substrait's YAML type syntax; only types with a Substrait equivalent can
be declared.
"""

from __future__ import annotations

from typing import Sequence

import pyarrow as pa

__all__ = [
    "as_data_type",
    "as_field",
    "plain_type",
    "plain_schema",
    "plain_batch",
    "schema_to_bytes",
    "schema_from_bytes",
    "substrait_type_name",
    "describe_schema_difference",
]

_TIME_PRECISION = {"s": 0, "ms": 3, "us": 6, "ns": 9}

# Substrait's decimal precision limit (decimal<P,S> with P <= 38).
MAX_DECIMAL_PRECISION = 38


def as_data_type(t: object, what: str) -> pa.DataType:
    """Returns t as a pyarrow DataType: a DataType, a Field's type, or a type
    alias such as "int64" or "string". ``what`` names t in errors."""
    if isinstance(t, pa.DataType):
        return t
    if isinstance(t, pa.Field):
        return t.type
    if isinstance(t, str):
        try:
            return pa.type_for_alias(t)
        except (ValueError, KeyError):
            raise TypeError(f"{what}: unknown Arrow type name {t!r}") from None
    raise TypeError(f"{what}: expected a pyarrow DataType, Field or type name, got {type(t).__name__} {t!r}")


def as_field(t: object, default_name: str, what: str) -> pa.Field:
    """Returns t as a nullable Field named default_name, or t itself when it
    is already a Field."""
    if isinstance(t, pa.Field):
        return t
    return pa.field(default_name, as_data_type(t, what), nullable=True)


def substrait_type_name(t: pa.DataType) -> str:
    """The Substrait YAML type name of an Arrow type (i64, fp64, string,
    decimal<38,2>, precision_timestamp<6>, list<i32>, ...).

    The mapping is the one the host uses between Arrow and Substrait types:
    every string type is ``string``, timestamps are precision timestamps.
    Raises TypeError for types without a Substrait equivalent (unsigned
    integers, float16, maps, unions, dictionaries, ...).
    """
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t):
        return "i8"
    if pa.types.is_int16(t):
        return "i16"
    if pa.types.is_int32(t):
        return "i32"
    if pa.types.is_int64(t):
        return "i64"
    if pa.types.is_float32(t):
        return "fp32"
    if pa.types.is_float64(t):
        return "fp64"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return "binary"
    if pa.types.is_fixed_size_binary(t) and not pa.types.is_decimal(t):
        return f"fixed_binary<{t.byte_width}>"
    if pa.types.is_decimal(t):
        if t.precision > MAX_DECIMAL_PRECISION:
            raise TypeError(f"{t} has no Substrait equivalent: decimal precision above {MAX_DECIMAL_PRECISION}")
        return f"decimal<{t.precision},{t.scale}>"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        p = _TIME_PRECISION[t.unit]
        return f"precision_timestamp_tz<{p}>" if t.tz else f"precision_timestamp<{p}>"
    if pa.types.is_time(t):
        return f"precision_time<{_TIME_PRECISION[t.unit]}>"
    if t == pa.month_day_nano_interval():
        return "interval_compound<9>"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"list<{substrait_type_name(t.value_type)}>"
    if pa.types.is_struct(t):
        return "struct<" + ",".join(substrait_type_name(t.field(i).type) for i in range(t.num_fields)) + ">"
    raise TypeError(f"{t} has no Substrait equivalent; declare a signed integer, float, string, binary, "
                    f"decimal, date, time, timestamp, interval, list or struct type")


def plain_type(t: pa.DataType) -> pa.DataType:
    """t with every dictionary encoding (also nested) replaced by its value
    type: the plugin sends plain columns so the host's Flight reader never
    needs dictionary batches."""
    if pa.types.is_dictionary(t):
        return plain_type(t.value_type)
    if pa.types.is_struct(t):
        fields = [t.field(i) for i in range(t.num_fields)]
        new = [f.with_type(plain_type(f.type)) for f in fields]
        return t if all(a.type == b.type for a, b in zip(fields, new)) else pa.struct(new)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        vf = t.value_field
        vt = plain_type(vf.type)
        if vt == vf.type:
            return t
        if pa.types.is_large_list(t):
            return pa.large_list(vf.with_type(vt))
        if pa.types.is_fixed_size_list(t):
            return pa.list_(vf.with_type(vt), t.list_size)
        return pa.list_(vf.with_type(vt))
    if pa.types.is_map(t):
        kt, it = plain_type(t.key_type), plain_type(t.item_type)
        if kt == t.key_type and it == t.item_type:
            return t
        return pa.map_(t.key_field.with_type(kt), t.item_field.with_type(it), t.keys_sorted)
    return t


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """schema with dictionary encodings removed (see plain_type)."""
    fields = [f.with_type(plain_type(f.type)) for f in schema]
    return pa.schema(fields, metadata=schema.metadata)


def plain_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """batch with dictionary-encoded columns decoded (a no-op, without a
    copy, when there are none)."""
    target = plain_schema(batch.schema)
    if target.equals(batch.schema):
        return batch
    cols = []
    for col, f in zip(batch.columns, target):
        cols.append(col if col.type == f.type else col.cast(f.type))
    return pa.RecordBatch.from_arrays(cols, schema=target)


def schema_to_bytes(schema: pa.Schema) -> bytes:
    """The protocol's bytes for a schema: an encapsulated IPC schema message."""
    return schema.serialize().to_pybytes()


def schema_from_bytes(data: bytes, what: str) -> pa.Schema:
    """Reads the protocol's schema bytes (also arrow-go's, which end with an
    end-of-stream marker). Raises ValueError naming ``what`` when they are
    not a schema."""
    if not data:
        raise ValueError(f"{what}: empty schema")
    try:
        return pa.ipc.read_schema(pa.py_buffer(data))
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as e:
        raise ValueError(f"{what}: not an Arrow IPC schema message: {e}") from None


def describe_schema_difference(want: pa.Schema, got: pa.Schema) -> str | None:
    """None when got has want's column names and types (nullability and
    metadata are not compared), else what differs."""
    if len(want) != len(got):
        return f"{len(got)} columns ({_names(got)}), want {len(want)} ({_names(want)})"
    for i, (w, g) in enumerate(zip(want, got)):
        if w.name != g.name:
            return f"column {i} is named {g.name!r}, want {w.name!r}"
        if w.type != g.type:
            return f"column {i} ({w.name}) is {g.type}, want {w.type}"
    return None


def _names(s: Sequence[pa.Field]) -> str:
    return ", ".join(f"{f.name}: {f.type}" for f in s)
