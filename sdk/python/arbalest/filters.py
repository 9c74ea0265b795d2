"""Pushed-down scan filters, decoded from Substrait for Python sources.

The host sends a scan's filters as one serialized Substrait
ExtendedExpression over the table's full schema: one boolean expression per
conjunct, functions named by URN-qualified extension declarations (equal,
lt, and, is_null, ... from the standard extensions). Each becomes a Filter
with:

- ``substrait``: the expression (substrait.algebra_pb2.Expression), always;
- ``column``, ``op``, ``value``: when it is a simple comparison of a column
  with a constant (``op`` one of ``==``, ``!=``, ``<``, ``<=``, ``>``,
  ``>=``, ``in``, ``not in``, ``is_null``, ``is_not_null``, the operators of
  pyarrow's filter tuples);
- ``expression``: a pyarrow.compute.Expression when the expression only
  uses columns, constants, comparisons, and/or/not, null tests and IN lists
  (then ``dataset.to_table(filter=f.expression)`` or
  ``batch.filter(f.expression)`` applies it).

Functions from other extensions than the standard ones are never taken for
standard ones, even with the same name.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any, Optional

import pyarrow as pa
import pyarrow.compute as pc
from substrait import algebra_pb2, extended_expression_pb2, type_pb2

__all__ = ["Filter", "decode_filters", "FilterDecodeError"]

STANDARD_URN_PREFIX = "extension:io.substrait:"

_COMPARISONS = {"equal": "==", "not_equal": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
# The comparison seen from the other side: 5 < x is x > 5.
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_SQL_OPS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

_UNITS = {0: "s", 3: "ms", 6: "us", 9: "ns"}

_INT_WIDTH = {"i8": 1, "i16": 2, "i32": 3, "i64": 4}


class FilterDecodeError(ValueError):
    """The filters are not a readable Substrait ExtendedExpression."""


class Filter:
    """One pushed-down filter: a boolean condition over the table's columns
    (the filters of a scan are ANDed)."""

    __slots__ = ("substrait", "column", "op", "value", "expression", "_text")

    def __init__(self, substrait: algebra_pb2.Expression, column: Optional[str] = None,
                 op: Optional[str] = None, value: Any = None,
                 expression: Optional[pc.Expression] = None, text: str = ""):
        self.substrait = substrait
        self.column = column
        self.op = op
        self.value = value
        self.expression = expression
        self._text = text

    @property
    def is_simple(self) -> bool:
        """Whether column, op and value describe the filter."""
        return self.op is not None

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        if self.is_simple:
            return f"Filter({self.column!r}, {self.op!r}, {self.value!r})"
        return f"Filter({self._text})"


# --- the intermediate tree --------------------------------------------------


class _Node:
    pass


class _Field(_Node):
    def __init__(self, index: int, name: str, kind: str):
        self.index, self.name, self.kind = index, name, kind


class _Literal(_Node):
    def __init__(self, value: Any, scalar: Optional[pa.Scalar], kind: str):
        # value: the Python value (or the pa.Scalar when Python cannot hold
        # it exactly); scalar: the typed pyarrow scalar, None if unsupported.
        self.value, self.scalar, self.kind = value, scalar, kind


class _Call(_Node):
    def __init__(self, name: str, args: list[_Node], standard: bool):
        self.name, self.args, self.standard = name, args, standard


class _InList(_Node):
    def __init__(self, value: _Node, options: list[_Node]):
        self.value, self.options = value, options


class _Cast(_Node):
    def __init__(self, input: _Node, kind: str, arrow_type: Optional[pa.DataType]):
        self.input, self.kind, self.arrow_type = input, kind, arrow_type


class _Other(_Node):
    def __init__(self, what: str):
        self.what = what


def decode_filters(data: bytes, count: Optional[int] = None) -> list[Filter]:
    """Decodes PlanScanRequest.filters. count (filter_count) is checked when
    given. Raises FilterDecodeError when the bytes are not an
    ExtendedExpression or do not hold count filters."""
    if not data:
        if count:
            raise FilterDecodeError(f"filter_count is {count} but no filters were sent")
        return []
    ee = extended_expression_pb2.ExtendedExpression()
    try:
        ee.ParseFromString(data)
    except Exception as e:  # google.protobuf.message.DecodeError
        raise FilterDecodeError(f"filters are not a Substrait ExtendedExpression: {e}") from None
    if count is not None and len(ee.referred_expr) != count:
        raise FilterDecodeError(f"filter_count is {count} but the ExtendedExpression has "
                                f"{len(ee.referred_expr)} expressions")
    ctx = _Context(ee)
    out = []
    for i, ref in enumerate(ee.referred_expr):
        if ref.WhichOneof("expr_type") != "expression":
            raise FilterDecodeError(f"filter {i} is not an expression")
        out.append(ctx.filter(ref.expression))
    return out


class _Context:
    def __init__(self, ee: extended_expression_pb2.ExtendedExpression):
        urns = {u.extension_urn_anchor: u.urn for u in ee.extension_urns}
        self.functions: dict[int, tuple[str, bool]] = {}
        for d in ee.extensions:
            if d.WhichOneof("mapping_type") != "extension_function":
                continue
            f = d.extension_function
            urn = urns.get(f.extension_urn_reference, "")
            self.functions[f.function_anchor] = (f.name.split(":", 1)[0], urn.startswith(STANDARD_URN_PREFIX))
        self.columns = _top_level_columns(ee.base_schema)

    def filter(self, expr: algebra_pb2.Expression) -> Filter:
        node = self.node(expr)
        column, op, value = _simple(node)
        try:
            expression = _expression(node)
        except (pa.ArrowException, TypeError, ValueError):
            expression = None
        return Filter(expr, column, op, value, expression, _render(node))

    def node(self, e: algebra_pb2.Expression) -> _Node:
        kind = e.WhichOneof("rex_type")
        if kind == "selection":
            return self.field(e.selection)
        if kind == "literal":
            return _literal(e.literal)
        if kind == "scalar_function":
            f = e.scalar_function
            name, standard = self.functions.get(f.function_reference, (f"function#{f.function_reference}", False))
            args = []
            for a in f.arguments:
                which = a.WhichOneof("arg_type")
                args.append(self.node(a.value) if which == "value" else _Other(f"<{which}>"))
            return _Call(name, args, standard)
        if kind == "singular_or_list":
            return _InList(self.node(e.singular_or_list.value), [self.node(o) for o in e.singular_or_list.options])
        if kind == "cast":
            t = e.cast.type
            return _Cast(self.node(e.cast.input), t.WhichOneof("kind") or "", _arrow_type(t))
        return _Other(f"<{kind}>")

    def field(self, sel: algebra_pb2.Expression.FieldReference) -> _Node:
        if sel.WhichOneof("reference_type") != "direct_reference" or \
                sel.WhichOneof("root_type") not in (None, "root_reference"):
            return _Other("<field reference>")
        seg = sel.direct_reference
        if seg.WhichOneof("reference_type") != "struct_field" or seg.struct_field.HasField("child"):
            return _Other("<nested field reference>")
        i = seg.struct_field.field
        if i < 0 or i >= len(self.columns):
            raise FilterDecodeError(f"filter refers to column {i}; the base schema has {len(self.columns)}")
        name, kind = self.columns[i]
        return _Field(i, name, kind)


def _nested_names(t: type_pb2.Type) -> int:
    """How many names a type's nested struct fields take in a NamedStruct
    (names are listed depth-first, nested struct fields included)."""
    kind = t.WhichOneof("kind")
    if kind == "struct":
        return sum(1 + _nested_names(ft) for ft in t.struct.types)
    if kind == "list":
        return _nested_names(t.list.type)
    if kind == "map":
        return _nested_names(t.map.key) + _nested_names(t.map.value)
    return 0


def _top_level_columns(ns: type_pb2.NamedStruct) -> list[tuple[str, str]]:
    names = list(ns.names)
    out = []
    pos = 0
    for t in ns.struct.types:
        if pos >= len(names):
            raise FilterDecodeError("the filters' base schema has fewer names than columns")
        out.append((names[pos], t.WhichOneof("kind") or ""))
        pos += 1 + _nested_names(t)
    return out


def _arrow_type(t: type_pb2.Type) -> Optional[pa.DataType]:
    kind = t.WhichOneof("kind")
    simple = {"bool": pa.bool_(), "i8": pa.int8(), "i16": pa.int16(), "i32": pa.int32(), "i64": pa.int64(),
              "fp32": pa.float32(), "fp64": pa.float64(), "string": pa.string(), "varchar": pa.string(),
              "fixed_char": pa.string(), "binary": pa.binary(), "date": pa.date32(),
              "timestamp": pa.timestamp("us"), "timestamp_tz": pa.timestamp("us", tz="UTC")}
    if kind in simple:
        return simple[kind]
    if kind == "decimal":
        return pa.decimal128(t.decimal.precision or 38, t.decimal.scale)
    if kind == "fixed_binary":
        return pa.binary(t.fixed_binary.length)
    if kind in ("precision_timestamp", "precision_timestamp_tz"):
        p = getattr(t, kind).precision
        unit = _unit(p)
        return pa.timestamp(unit, tz="UTC" if kind.endswith("_tz") else None)
    if kind == "precision_time":
        unit = _unit(t.precision_time.precision)
        return pa.time32(unit) if unit in ("s", "ms") else pa.time64(unit)
    return None


def _unit(precision: int) -> str:
    for p in (0, 3, 6, 9):
        if precision <= p:
            return _UNITS[p]
    raise FilterDecodeError(f"time precision {precision} is above 9")


def _literal(lit: algebra_pb2.Expression.Literal) -> _Node:
    kind = lit.WhichOneof("literal_type")
    try:
        if kind == "boolean":
            return _typed(lit.boolean, pa.bool_(), kind)
        if kind in ("i8", "i16", "i32", "i64"):
            return _typed(getattr(lit, kind), {"i8": pa.int8(), "i16": pa.int16(), "i32": pa.int32(),
                                               "i64": pa.int64()}[kind], kind)
        if kind in ("fp32", "fp64"):
            return _typed(getattr(lit, kind), pa.float32() if kind == "fp32" else pa.float64(), kind)
        if kind == "string":
            return _typed(lit.string, pa.string(), kind)
        if kind == "var_char":
            return _typed(lit.var_char.value, pa.string(), kind)
        if kind == "fixed_char":
            return _typed(lit.fixed_char, pa.string(), kind)
        if kind == "binary":
            return _typed(lit.binary, pa.binary(), kind)
        if kind == "fixed_binary":
            return _typed(lit.fixed_binary, pa.binary(len(lit.fixed_binary)), kind)
        if kind == "date":
            return _typed(datetime.date(1970, 1, 1) + datetime.timedelta(days=lit.date), pa.date32(), kind)
        if kind == "decimal":
            d = lit.decimal
            if len(d.value) != 16:
                return _Other(f"<decimal of {len(d.value)} bytes>")
            n = int.from_bytes(d.value, "little", signed=True)
            v = decimal.Decimal(n).scaleb(-d.scale)
            return _typed(v, pa.decimal128(d.precision, d.scale), kind)
        if kind in ("precision_timestamp", "precision_timestamp_tz"):
            pt = getattr(lit, kind)
            return _timestamp(pt.value, pt.precision, kind.endswith("_tz"), kind)
        if kind == "timestamp":
            return _timestamp(lit.timestamp, 6, False, kind)
        if kind == "timestamp_tz":
            return _timestamp(lit.timestamp_tz, 6, True, kind)
        if kind == "precision_time":
            unit = _unit(lit.precision_time.precision)
            v = lit.precision_time.value * 10 ** (_precision_of(unit) - lit.precision_time.precision)
            t = pa.time32(unit) if unit in ("s", "ms") else pa.time64(unit)
            return _from_scalar(pa.scalar(v, type=t), kind)
        if kind == "time":
            return _from_scalar(pa.scalar(lit.time, type=pa.time64("us")), kind)
        if kind == "null":
            t = _arrow_type(lit.null)
            return _Literal(None, pa.scalar(None, type=t) if t is not None else None, "null")
    except (pa.ArrowException, ValueError, OverflowError, TypeError):
        return _Other(f"<{kind} literal>")
    return _Other(f"<{kind} literal>")


def _precision_of(unit: str) -> int:
    return {"s": 0, "ms": 3, "us": 6, "ns": 9}[unit]


def _timestamp(value: int, precision: int, tz: bool, kind: str) -> _Node:
    unit = _unit(precision)
    v = value * 10 ** (_precision_of(unit) - precision)
    return _from_scalar(pa.scalar(v, type=pa.timestamp(unit, tz="UTC" if tz else None)), kind)


def _from_scalar(s: pa.Scalar, kind: str) -> _Literal:
    try:
        value = s.as_py()
    except (ValueError, OverflowError, pa.ArrowException):
        value = s  # nanoseconds Python's datetime cannot hold
    return _Literal(value, s, kind)


def _typed(value: Any, t: pa.DataType, kind: str) -> _Literal:
    return _Literal(value, pa.scalar(value, type=t), kind)


# --- simple forms -------------------------------------------------------------


def _unwrap_cast(n: _Node) -> _Node:
    """A column under a widening cast compares like the column itself
    (int32 widened to int64, integers or fp32 to fp64, strings to strings);
    any other cast changes the comparison and is kept."""
    if not isinstance(n, _Cast) or not isinstance(n.input, _Field):
        return n
    src, dst = n.input.kind, n.kind
    if src in _INT_WIDTH and dst in _INT_WIDTH and _INT_WIDTH[dst] >= _INT_WIDTH[src]:
        return n.input
    if dst == "fp64" and (src in ("i8", "i16", "i32", "fp32")):
        return n.input
    if src in ("string", "varchar", "fixed_char") and dst in ("string", "varchar"):
        return n.input
    return n


def _simple(n: _Node) -> tuple[Optional[str], Optional[str], Any]:
    if isinstance(n, _Call) and n.standard:
        if n.name in _COMPARISONS and len(n.args) == 2:
            a, b = _unwrap_cast(n.args[0]), _unwrap_cast(n.args[1])
            op = _COMPARISONS[n.name]
            if isinstance(a, _Field) and isinstance(b, _Literal):
                return a.name, op, b.value
            if isinstance(a, _Literal) and isinstance(b, _Field):
                return b.name, _FLIPPED[op], a.value
        if n.name in ("is_null", "is_not_null") and len(n.args) == 1:
            a = _unwrap_cast(n.args[0])
            if isinstance(a, _Field):
                return a.name, n.name, None
        if n.name == "not" and len(n.args) == 1 and isinstance(n.args[0], _InList):
            col, op, vals = _simple(n.args[0])
            # x NOT IN (.., NULL) is never true: no simple form for it.
            if op == "in" and len(vals) == len(n.args[0].options):
                return col, "not in", vals
    if isinstance(n, _InList):
        v = _unwrap_cast(n.value)
        if isinstance(v, _Field) and n.options and all(isinstance(o, _Literal) for o in n.options):
            return v.name, "in", [o.value for o in n.options if o.value is not None]
    return None, None, None


# --- pyarrow expressions ------------------------------------------------------


class _NoExpression(Exception):
    pass


def _expression(n: _Node) -> Optional[pc.Expression]:
    try:
        return _expr(n)
    except _NoExpression:
        return None


def _expr(n: _Node) -> pc.Expression:
    if isinstance(n, _Field):
        return pc.field(n.name)
    if isinstance(n, _Literal):
        if n.scalar is None:
            raise _NoExpression
        return pc.scalar(n.scalar)
    if isinstance(n, _Cast):
        if n.arrow_type is None:
            raise _NoExpression
        return _expr(n.input).cast(n.arrow_type)
    if isinstance(n, _InList):
        if not n.options or not all(isinstance(o, _Literal) and o.scalar is not None for o in n.options):
            raise _NoExpression
        values = [o.scalar for o in n.options if o.value is not None]
        has_null = len(values) != len(n.options)
        try:
            value_set = pa.array([s.as_py() for s in values], type=n.options[0].scalar.type) if values \
                else pa.array([], type=n.options[0].scalar.type)
        except (pa.ArrowException, TypeError, ValueError):
            raise _NoExpression from None
        x = _expr(n.value)
        found = pc.is_in(x, value_set=value_set, skip_nulls=True)
        null = pa.scalar(None, type=pa.bool_())
        if has_null:
            # SQL: x IN (.., NULL) is TRUE when x matches, else NULL.
            return pc.if_else(found, pa.scalar(True), null)
        # SQL: NULL IN (...) is NULL (is_in says false, and NOT would flip it).
        return pc.if_else(x.is_valid(), found, null)
    if isinstance(n, _Call) and n.standard:
        args = n.args
        if n.name in _COMPARISONS and len(args) == 2:
            a, b = _expr(args[0]), _expr(args[1])
            op = _COMPARISONS[n.name]
            return {"==": a.__eq__, "!=": a.__ne__, "<": a.__lt__, "<=": a.__le__,
                    ">": a.__gt__, ">=": a.__ge__}[op](b)
        if n.name in ("and", "or") and args:
            out = _expr(args[0])
            for a in args[1:]:
                out = (out & _expr(a)) if n.name == "and" else (out | _expr(a))
            return out
        if n.name == "not" and len(args) == 1:
            return ~_expr(args[0])
        if n.name == "is_null" and len(args) == 1:
            return _expr(args[0]).is_null()
        if n.name == "is_not_null" and len(args) == 1:
            return _expr(args[0]).is_valid()
    raise _NoExpression


# --- text -------------------------------------------------------------------


def _render(n: _Node) -> str:
    if isinstance(n, _Field):
        return n.name
    if isinstance(n, _Literal):
        if n.value is None:
            return "NULL"
        if isinstance(n.value, str):
            return "'" + n.value.replace("'", "''") + "'"
        if isinstance(n.value, (datetime.date, datetime.datetime, datetime.time, decimal.Decimal)):
            return f"'{n.value}'"
        if isinstance(n.value, pa.Scalar):
            try:
                return f"'{n.value.cast(pa.string()).as_py()}'"
            except (pa.ArrowException, ValueError):
                return f"<{n.kind} literal>"
        return str(n.value)
    if isinstance(n, _Cast):
        t = n.arrow_type if n.arrow_type is not None else n.kind
        return f"CAST({_render(n.input)} AS {t})"
    if isinstance(n, _InList):
        return f"{_render(n.value)} IN ({', '.join(_render(o) for o in n.options)})"
    if isinstance(n, _Call):
        args = [_render(a) for a in n.args]
        if n.standard:
            if n.name in _COMPARISONS and len(args) == 2:
                return f"{args[0]} {_SQL_OPS[_COMPARISONS[n.name]]} {args[1]}"
            if n.name in ("and", "or") and args:
                return "(" + f" {n.name.upper()} ".join(args) + ")"
            if n.name == "not" and len(args) == 1:
                return f"NOT {args[0]}"
            if n.name == "is_null" and len(args) == 1:
                return f"{args[0]} IS NULL"
            if n.name == "is_not_null" and len(args) == 1:
                return f"{args[0]} IS NOT NULL"
        return f"{n.name}({', '.join(args)})"
    if isinstance(n, _Other):
        return n.what
    return "?"

