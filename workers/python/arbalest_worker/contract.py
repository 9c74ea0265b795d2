"""Substrait types as Arrow types, and the output schema of a relation.

The Arrow type of each Substrait type is the cluster's *contract type*: the
type every executor puts in shuffle files and results for it, and the
type the Go executors check a shuffle file's columns against
(arrow.TypeEqual, names and nullability aside):

    bool, i8..i64, fp32, fp64   bool, int8..int64, float32, float64
    string, varchar, fixed_char utf8
    binary                      binary
    fixed_binary(n)             fixed_size_binary(n)
    decimal(p, s)               decimal64(p, s) when p <= 18, else decimal128(p, s)
    date                        date32
    timestamp                   timestamp[us]; precision_timestamp(p) by p
    timestamp_tz                timestamp[us, UTC]; precision_timestamp_tz(p) by p
    time, precision_time        time64[us] (time64[ns] for precision 7-9)
    interval_*                  month_day_nano_interval
    list<T>                     list<item: T>
    struct<...>                 struct<f0, f1, ...>

DataFusion 55 has no decimal64: the engine sees decimal128 of the same
precision and scale (engine_type), and outputs are cast back.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import pyarrow as pa
from substrait import algebra_pb2, type_pb2

__all__ = [
    "UnsupportedPlan",
    "arrow_type",
    "arrow_schema",
    "engine_type",
    "engine_schema",
    "rel_types",
    "expr_type",
    "nullable",
    "with_nullability",
]

_REQUIRED = type_pb2.Type.NULLABILITY_REQUIRED
_NULLABLE = type_pb2.Type.NULLABILITY_NULLABLE


class UnsupportedPlan(ValueError):
    """A fragment this executor cannot run; the message says what (it
    becomes the reason of a task rejection)."""


def _time_unit(precision: int) -> str:
    if precision == 0:
        return "s"
    if 1 <= precision <= 3:
        return "ms"
    if 4 <= precision <= 6:
        return "us"
    if 7 <= precision <= 9:
        return "ns"
    raise UnsupportedPlan(f"invalid time precision {precision} (want 0..9)")


def nullable(t: type_pb2.Type) -> bool:
    """Whether a Substrait type is nullable (anything but REQUIRED)."""
    kind = t.WhichOneof("kind")
    if kind is None:
        raise UnsupportedPlan("missing type")
    return getattr(t, kind).nullability != _REQUIRED


def with_nullability(t: type_pb2.Type, is_nullable: bool) -> type_pb2.Type:
    """A copy of t with its nullability set."""
    out = type_pb2.Type()
    out.CopyFrom(t)
    kind = out.WhichOneof("kind")
    getattr(out, kind).nullability = _NULLABLE if is_nullable else _REQUIRED
    return out


def arrow_type(t: type_pb2.Type) -> pa.DataType:
    """The contract Arrow type of a Substrait type (see the module doc)."""
    kind = t.WhichOneof("kind")
    simple = {
        "bool": pa.bool_(), "i8": pa.int8(), "i16": pa.int16(), "i32": pa.int32(), "i64": pa.int64(),
        "fp32": pa.float32(), "fp64": pa.float64(), "string": pa.string(), "varchar": pa.string(),
        "fixed_char": pa.string(), "binary": pa.binary(), "date": pa.date32(),
        "timestamp": pa.timestamp("us"), "timestamp_tz": pa.timestamp("us", tz="UTC"), "time": pa.time64("us"),
        "interval_year": pa.month_day_nano_interval(), "interval_day": pa.month_day_nano_interval(),
        "interval_compound": pa.month_day_nano_interval(),
    }
    if kind in simple:
        return simple[kind]
    v = getattr(t, kind) if kind else None
    if kind == "decimal":
        p, s = v.precision, v.scale
        if p < 1 or p > 38 or s < 0 or s > p:
            raise UnsupportedPlan(f"invalid decimal<{p},{s}>")
        return pa.decimal64(p, s) if p <= 18 else pa.decimal128(p, s)
    if kind == "fixed_binary":
        if v.length <= 0:
            raise UnsupportedPlan(f"invalid fixed_binary length {v.length}")
        return pa.binary(v.length)
    if kind == "precision_timestamp":
        return pa.timestamp(_time_unit(v.precision))
    if kind == "precision_timestamp_tz":
        return pa.timestamp(_time_unit(v.precision), tz="UTC")
    if kind == "precision_time":
        return pa.time64("ns" if _time_unit(v.precision) == "ns" else "us")
    if kind == "list":
        return pa.list_(pa.field("item", arrow_type(v.type), nullable(v.type)))
    if kind == "struct":
        return pa.struct([pa.field(f"f{i}", arrow_type(ft), nullable(ft)) for i, ft in enumerate(v.types)])
    raise UnsupportedPlan(f"unsupported type {kind or 'missing'}")


def arrow_schema(names: Sequence[str], types: Sequence[type_pb2.Type]) -> pa.Schema:
    """The contract schema of named Substrait columns."""
    if len(names) != len(types):
        raise UnsupportedPlan(f"{len(names)} names for {len(types)} columns (nested names are not supported)")
    return pa.schema([pa.field(n, arrow_type(t), nullable(t)) for n, t in zip(names, types)])


def engine_type(t: pa.DataType) -> pa.DataType:
    """The type DataFusion holds a contract type in."""
    if pa.types.is_decimal(t) and t.bit_width in (32, 64):
        return pa.decimal128(t.precision, t.scale)
    if pa.types.is_list(t):
        f = t.value_field
        return pa.list_(f.with_type(engine_type(f.type)))
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(engine_type(t.field(i).type)) for i in range(t.num_fields)])
    return t


def engine_schema(s: pa.Schema) -> pa.Schema:
    return pa.schema([f.with_type(engine_type(f.type)) for f in s])


# ---- output types of relations and expressions ----

def _literal_type(lit: algebra_pb2.Expression.Literal) -> type_pb2.Type:
    kind = lit.WhichOneof("literal_type")
    n = _NULLABLE if lit.nullable else _REQUIRED
    t = type_pb2.Type()
    simple = {
        "boolean": "bool", "i8": "i8", "i16": "i16", "i32": "i32", "i64": "i64", "fp32": "fp32", "fp64": "fp64",
        "string": "string", "binary": "binary", "timestamp": "timestamp", "date": "date", "time": "time",
        "interval_year_to_month": "interval_year", "timestamp_tz": "timestamp_tz", "uuid": "uuid",
        "fixed_char": "fixed_char", "var_char": "varchar", "fixed_binary": "fixed_binary",
    }
    if kind in simple:
        getattr(t, simple[kind]).nullability = n
        if kind == "var_char":
            t.varchar.length = lit.var_char.length
        elif kind == "fixed_char":
            t.fixed_char.length = len(lit.fixed_char)
        elif kind == "fixed_binary":
            t.fixed_binary.length = len(lit.fixed_binary)
        return t
    if kind == "decimal":
        t.decimal.precision = lit.decimal.precision
        t.decimal.scale = lit.decimal.scale
        t.decimal.nullability = n
        return t
    if kind == "precision_timestamp":
        t.precision_timestamp.precision = lit.precision_timestamp.precision
        t.precision_timestamp.nullability = n
        return t
    if kind == "precision_timestamp_tz":
        t.precision_timestamp_tz.precision = lit.precision_timestamp_tz.precision
        t.precision_timestamp_tz.nullability = n
        return t
    if kind == "precision_time":
        t.precision_time.precision = lit.precision_time.precision
        t.precision_time.nullability = n
        return t
    if kind == "interval_day_to_second":
        t.interval_day.nullability = n
        return t
    if kind == "interval_compound":
        t.interval_compound.nullability = n
        return t
    if kind == "null":
        return lit.null
    raise UnsupportedPlan(f"literal of kind {kind} is not supported")


def expr_type(e: algebra_pb2.Expression, input_types: Sequence[type_pb2.Type],
              rel_types_fn: Optional[Callable] = None) -> type_pb2.Type:
    """The Substrait type of expression e over a relation whose columns
    have input_types."""
    kind = e.WhichOneof("rex_type")
    if kind == "literal":
        return _literal_type(e.literal)
    if kind == "selection":
        sel = e.selection
        if not sel.HasField("root_reference") and sel.WhichOneof("root_type") is not None:
            raise UnsupportedPlan("field references to outer queries or expressions are not supported")
        if sel.WhichOneof("reference_type") != "direct_reference":
            raise UnsupportedPlan("masked field references are not supported")
        seg = sel.direct_reference
        if seg.WhichOneof("reference_type") != "struct_field":
            raise UnsupportedPlan("only struct field references are supported")
        if seg.struct_field.HasField("child"):
            raise UnsupportedPlan("nested field references are not supported")
        i = seg.struct_field.field
        if i < 0 or i >= len(input_types):
            raise UnsupportedPlan(f"field reference {i} out of range for {len(input_types)} columns")
        return input_types[i]
    if kind == "scalar_function":
        return e.scalar_function.output_type
    if kind == "window_function":
        return e.window_function.output_type
    if kind == "cast":
        return e.cast.type
    if kind == "if_then":
        if not e.if_then.ifs:
            return expr_type(getattr(e.if_then, "else"), input_types, rel_types_fn)
        t = expr_type(e.if_then.ifs[0].then, input_types, rel_types_fn)
        any_null = any(nullable(expr_type(c.then, input_types, rel_types_fn)) for c in e.if_then.ifs)
        has_else = e.if_then.HasField("else")
        if has_else:
            any_null = any_null or nullable(expr_type(getattr(e.if_then, "else"), input_types, rel_types_fn))
        return with_nullability(t, any_null or not has_else)
    if kind == "switch_expression":
        sw = e.switch_expression
        if not sw.ifs:
            return expr_type(getattr(sw, "else"), input_types, rel_types_fn)
        t = expr_type(sw.ifs[0].then, input_types, rel_types_fn)
        return with_nullability(t, True)
    if kind in ("singular_or_list", "multi_or_list"):
        t = type_pb2.Type()
        t.bool.nullability = _NULLABLE
        return t
    if kind == "subquery":
        sq = e.subquery
        sk = sq.WhichOneof("subquery_type")
        if sk == "scalar" and rel_types_fn is not None:
            ts = rel_types_fn(sq.scalar.input)
            if len(ts) != 1:
                raise UnsupportedPlan(f"scalar subquery with {len(ts)} columns")
            return with_nullability(ts[0], True)
        t = type_pb2.Type()
        t.bool.nullability = _NULLABLE
        return t
    raise UnsupportedPlan(f"expression of kind {kind} is not supported")


def _emit(rel_common: algebra_pb2.RelCommon, types: list) -> list:
    if rel_common.WhichOneof("emit_kind") == "emit":
        out = []
        for i in rel_common.emit.output_mapping:
            if i < 0 or i >= len(types):
                raise UnsupportedPlan(f"emit index {i} out of range for {len(types)} columns")
            out.append(types[i])
        return out
    return types


def _nullable_all(types):
    return [with_nullability(t, True) for t in types]


def rel_types(rel: algebra_pb2.Rel) -> list:
    """The Substrait types of a relation's output columns (after its emit)."""
    kind = rel.WhichOneof("rel_type")
    if kind is None:
        raise UnsupportedPlan("relation without a type")
    r = getattr(rel, kind)
    J = algebra_pb2.JoinRel
    if kind == "read":
        types = list(r.base_schema.struct.types)
        if r.HasField("projection"):
            items = r.projection.select.struct_items
            sel = []
            for it in items:
                if it.HasField("child"):
                    raise UnsupportedPlan("nested projection masks are not supported")
                if it.field < 0 or it.field >= len(types):
                    raise UnsupportedPlan(f"projection field {it.field} out of range for {len(types)} columns")
                sel.append(types[it.field])
            types = sel
    elif kind in ("filter", "fetch", "sort", "extension_single"):
        types = rel_types(r.input)
    elif kind == "project":
        inp = rel_types(r.input)
        types = list(inp)
        for e in r.expressions:
            types.append(expr_type(e, types, rel_types))
    elif kind == "aggregate":
        inp = rel_types(r.input)
        types = []
        if len(r.grouping_expressions):
            types += [expr_type(e, inp, rel_types) for e in r.grouping_expressions]
        else:
            seen = []
            for g in r.groupings:
                for e in g.grouping_expressions:
                    key = e.SerializeToString(deterministic=True)
                    if key not in seen:
                        seen.append(key)
                        types.append(expr_type(e, inp, rel_types))
        if len(r.groupings) > 1:
            # A column is NULL in the grouping sets that do not group by it.
            types = _nullable_all(types)
        types += [m.measure.output_type for m in r.measures]
        if len(r.groupings) > 1:
            t = type_pb2.Type()
            t.i32.nullability = _REQUIRED
            types.append(t)
    elif kind == "join":
        left, right = rel_types(r.left), rel_types(r.right)
        jt = r.type
        if jt in (J.JOIN_TYPE_INNER,):
            types = left + right
        elif jt == J.JOIN_TYPE_LEFT or jt == J.JOIN_TYPE_LEFT_SINGLE:
            types = left + _nullable_all(right)
        elif jt == J.JOIN_TYPE_RIGHT or jt == J.JOIN_TYPE_RIGHT_SINGLE:
            types = _nullable_all(left) + right
        elif jt == J.JOIN_TYPE_OUTER:
            types = _nullable_all(left) + _nullable_all(right)
        elif jt in (J.JOIN_TYPE_LEFT_SEMI, J.JOIN_TYPE_LEFT_ANTI):
            types = left
        elif jt in (J.JOIN_TYPE_RIGHT_SEMI, J.JOIN_TYPE_RIGHT_ANTI):
            types = right
        elif jt in (J.JOIN_TYPE_LEFT_MARK, J.JOIN_TYPE_RIGHT_MARK):
            t = type_pb2.Type()
            t.bool.nullability = _NULLABLE
            types = (left if jt == J.JOIN_TYPE_LEFT_MARK else right) + [t]
        else:
            raise UnsupportedPlan(f"join type {J.JoinType.Name(jt)} is not supported")
    elif kind == "cross":
        types = rel_types(r.left) + rel_types(r.right)
    elif kind == "set":
        if not r.inputs:
            raise UnsupportedPlan("set relation without inputs")
        all_types = [rel_types(i) for i in r.inputs]
        types = []
        for c, t in enumerate(all_types[0]):
            types.append(with_nullability(t, any(nullable(ts[c]) for ts in all_types if c < len(ts))))
    elif kind == "window":
        types = rel_types(r.input) + [f.output_type for f in r.window_functions]
    else:
        raise UnsupportedPlan(f"relation {kind} is not supported")
    return _emit(r.common, types)
