"""Parquet row-group pruning, exactly as the Go executor prunes.

Pruning decides the split of a Parquet scan (scan.py): the row groups left
after pruning are dealt over the tasks, so a Python task must prune the
same row groups as a Go task of the same stage, or rows would be read
twice or not at all. This module mirrors workers/go/internal/scan/prune.go
rule for rule: the filters are the conjuncts of the ReadRel's
best_effort_filter (none when it reads a column outside the projection);
a row group is skipped only when statistics prove no row can match.

Filters are first turned into small trees (compile), then evaluated
against each row group's statistics (may_match).
"""

from __future__ import annotations

import math
import struct
from typing import Optional, Sequence

import pyarrow as pa
import pyarrow.parquet as pq
from substrait import algebra_pb2

from .contract import arrow_type, _literal_type

__all__ = ["compile_filter", "may_match"]

# Comparison domains (prune.go valKind).
K_NONE, K_INT, K_FLOAT, K_BYTES, K_DEC = range(5)


def _kind_of(t: pa.DataType) -> int:
    if (pa.types.is_boolean(t) or t in (pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32())
            or pa.types.is_decimal(t) and t.bit_width == 64 or pa.types.is_date32(t) or pa.types.is_timestamp(t)):
        return K_INT
    if pa.types.is_float32(t) or pa.types.is_float64(t):
        return K_FLOAT
    if pa.types.is_string(t) or pa.types.is_binary(t) or pa.types.is_fixed_size_binary(t):
        return K_BYTES
    if pa.types.is_decimal(t) and t.bit_width == 128:
        return K_DEC
    return K_NONE


def _is_decimal(t):
    return pa.types.is_decimal(t)


def _scale(t):
    return t.scale if pa.types.is_decimal(t) else 0


def _is_integer(t):
    return pa.types.is_integer(t)


# ---- compiling Substrait filters ----

class _Lit:
    __slots__ = ("t", "value")

    def __init__(self, t: pa.DataType, value):
        self.t, self.value = t, value  # value None: a NULL literal


def _literal(lit: algebra_pb2.Expression.Literal) -> Optional[_Lit]:
    """The literal as the Go consumer represents it; None when its kind is
    one the pruner ignores."""
    kind = lit.WhichOneof("literal_type")
    try:
        t = arrow_type(_literal_type(lit))
    except Exception:
        return None
    if kind == "null":
        return _Lit(t, None)
    if kind == "boolean":
        return _Lit(t, bool(lit.boolean))
    if kind in ("i8", "i16", "i32", "i64", "date", "timestamp"):
        return _Lit(t, int(getattr(lit, kind)))
    if kind in ("fp32", "fp64"):
        return _Lit(t, float(getattr(lit, kind)))
    if kind == "string":
        return _Lit(t, lit.string.encode())
    if kind == "var_char":
        return _Lit(t, lit.var_char.value.encode())
    if kind == "fixed_char":
        return _Lit(t, lit.fixed_char.encode())
    if kind in ("binary", "fixed_binary"):
        return _Lit(t, bytes(getattr(lit, kind)))
    if kind == "decimal":
        raw = lit.decimal.value
        if len(raw) != 16:
            return None
        return _Lit(t, int.from_bytes(raw, "little", signed=True))
    if kind in ("precision_timestamp", "precision_timestamp_tz"):
        ts = getattr(lit, kind)
        p = ts.precision
        target = 0 if p == 0 else 3 if p <= 3 else 6 if p <= 6 else 9
        return _Lit(t, ts.value * 10 ** (target - p))
    return _Lit(t, object())  # a value the pruner cannot use


def _conjuncts(e: algebra_pb2.Expression, names: dict) -> list:
    if e.WhichOneof("rex_type") == "scalar_function" and names.get(e.scalar_function.function_reference) == "and":
        out = []
        for a in e.scalar_function.arguments:
            if a.WhichOneof("arg_type") != "value":
                return [e]
            out += _conjuncts(a.value, names)
        return out
    return [e]


def _columns_used(e, acc: set) -> bool:
    """Adds the root field references of e to acc; False when e refers to
    something it cannot account for (outer references)."""
    ok = True
    if isinstance(e, algebra_pb2.Expression.FieldReference):
        if e.HasField("root_reference") and e.WhichOneof("reference_type") == "direct_reference" \
                and e.direct_reference.WhichOneof("reference_type") == "struct_field":
            acc.add(e.direct_reference.struct_field.field)
        elif not e.HasField("root_reference"):
            return False
    for fd, v in e.ListFields():
        if fd.message_type is None:
            continue
        if fd.message_type.name == "Rel":
            continue  # subqueries have their own scope
        items = v if fd.is_repeated else [v]
        for it in items:
            if fd.message_type.GetOptions().map_entry:
                continue
            ok = _columns_used(it, acc) and ok
    return ok


def compile_filter(e: algebra_pb2.Expression, names: dict, pos: dict, types: Sequence[pa.DataType]) -> list:
    """The pruning conjuncts of a best_effort_filter over a base schema:
    names maps function anchors to base names, pos maps base columns to
    output positions, types are the output columns' contract types. Empty
    when the filter reads a column outside pos (the Go consumer then gives
    the scan no filters)."""
    used: set = set()
    if not _columns_used(e, used) or any(c not in pos for c in used):
        return []
    return [_compile(c, names, pos, types) for c in _conjuncts(e, names)]


def _compile(e: algebra_pb2.Expression, names, pos, types):
    kind = e.WhichOneof("rex_type")
    if kind == "literal":
        lit = _literal(e.literal)
        return ("lit", lit) if lit is not None else ("other",)
    if kind == "selection":
        sel = e.selection
        if sel.HasField("root_reference") and sel.WhichOneof("reference_type") == "direct_reference" \
                and sel.direct_reference.WhichOneof("reference_type") == "struct_field" \
                and not sel.direct_reference.struct_field.HasField("child"):
            j = pos[sel.direct_reference.struct_field.field]
            return ("col", j, types[j])
        return ("other",)
    if kind == "cast":
        try:
            to = arrow_type(e.cast.type)
        except Exception:
            return ("other",)
        return ("cast", _compile(e.cast.input, names, pos, types), to)
    if kind == "scalar_function":
        fn = names.get(e.scalar_function.function_reference, "")
        args = []
        for a in e.scalar_function.arguments:
            if a.WhichOneof("arg_type") != "value":
                return ("other",)
            args.append(_compile(a.value, names, pos, types))
        return ("call", fn, args)
    if kind == "singular_or_list":
        sol = e.singular_or_list
        return ("in", _compile(sol.value, names, pos, types), [_compile(o, names, pos, types) for o in sol.options])
    return ("other",)


# ---- statistics ----

class _Stats:
    __slots__ = ("has_min_max", "lo", "hi", "has_null_count", "null_count", "rows")

    def __init__(self, rows):
        self.has_min_max = False
        self.lo = self.hi = None  # (kind, value)
        self.has_null_count = False
        self.null_count = 0
        self.rows = rows

    def all_null(self):
        return self.has_null_count and self.null_count == self.rows


def _floor_div(a, b):
    return a // b


_UNIT_US = {"s": (1_000_000, 1), "ms": (1000, 1), "us": (1, 1), "ns": (1, 1000)}


def _stat_val(raw, physical: str, file_type: pa.DataType, out_type: pa.DataType):
    k = _kind_of(out_type)
    if k == K_NONE:
        return None
    if physical == "BOOLEAN":
        return (K_INT, 1 if raw else 0)
    if physical == "INT32":
        if file_type in (pa.uint8(), pa.uint16(), pa.uint32()):
            return (K_INT, int(raw) & 0xFFFFFFFF)
        if k != K_INT:
            return None
        return (K_INT, int(raw))
    if physical == "INT64":
        if file_type == pa.uint64():
            return None
        if pa.types.is_timestamp(file_type):
            mul, div = _UNIT_US[file_type.unit]
            v = int(raw)
            if div > 1:
                return (K_INT, _floor_div(v, div))
            if v > (2**63 - 1) // mul or v < -(2**63) // mul:
                return None
            return (K_INT, v * mul)
        if k != K_INT:
            return None
        return (K_INT, int(raw))
    if physical in ("FLOAT", "DOUBLE"):
        v = float(raw)
        if math.isnan(v):
            return None
        return (K_FLOAT, v)
    if physical in ("BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"):
        b = bytes(raw) if not isinstance(raw, str) else raw.encode()
        if k == K_BYTES:
            return (K_BYTES, b)
        if k in (K_INT, K_DEC):
            if len(b) == 0 or len(b) > 16:
                return None
            n = int.from_bytes(b, "big", signed=True)
            if k == K_DEC:
                return (K_DEC, n)
            if abs(n) >= 10**18:
                return None
            return (K_INT, n)
    return None


class _RG:
    """Statistics access for one row group."""

    def __init__(self, pf: pq.ParquetFile, rgm, schema: pa.Schema, cols: Sequence[str]):
        self.pf, self.rgm, self.schema, self.cols = pf, rgm, schema, cols
        self._leaf = {}
        ps = pf.schema
        for i in range(len(ps)):
            self._leaf.setdefault(ps.column(i).path, i)
        self._arrow = pf.schema_arrow

    def stats(self, j: int) -> Optional[_Stats]:
        if j < 0 or j >= len(self.cols):
            return None
        name = self.cols[j]
        leaf = self._leaf.get(name)
        if leaf is None:
            return None  # a nested column
        col = self.rgm.column(leaf)
        st = col.statistics
        if st is None:
            return None
        out = _Stats(self.rgm.num_rows)
        out.has_null_count = st.has_null_count
        out.null_count = st.null_count if st.has_null_count else 0
        if not st.has_min_max:
            return out
        file_type = self._arrow.field(name).type
        out_type = self.schema.field(j).type
        lo = _stat_val(st.min_raw, col.physical_type, file_type, out_type)
        hi = _stat_val(st.max_raw, col.physical_type, file_type, out_type)
        if lo is not None and hi is not None:
            out.has_min_max, out.lo, out.hi = True, lo, hi
        return out

    def operand(self, node):
        if node[0] == "col":
            st = self.stats(node[1])
            if st is None or node[1] >= len(self.schema):
                return None
            return st, node[2]
        if node[0] == "cast":
            inner = self.operand(node[1])
            if inner is None:
                return None
            st, frm = inner
            to = node[2]
            if not st.has_min_max:
                return st, to
            lo = _cast_bound(st.lo, frm, to, False)
            hi = _cast_bound(st.hi, frm, to, True)
            if lo is None or hi is None:
                st.has_min_max = False
            else:
                st.lo, st.hi = lo, hi
            return st, to
        return None

    # may reports whether e may evaluate to `want` for some row.
    def may(self, e, want: bool) -> bool:
        tag = e[0]
        if tag == "lit":
            lit = e[1]
            if lit.value is None:
                return False
            if isinstance(lit.value, bool):
                return lit.value == want
            return True
        if tag == "in":
            return self.may_in(e, want)
        if tag != "call":
            return True
        fn, args = e[1], e[2]
        if fn in ("and", "or"):
            all_ = (fn == "and") == want
            for a in args:
                m = self.may(a, want)
                if all_ and not m:
                    return False
                if not all_ and m:
                    return True
            return all_
        if fn == "not":
            if len(args) == 1:
                return self.may(args[0], not want)
            return True
        if fn in ("is_null", "is_not_null"):
            if len(args) != 1:
                return True
            o = self.operand(args[0])
            if o is None or not o[0].has_null_count:
                return True
            st = o[0]
            if (fn == "is_null") == want:
                return st.null_count > 0
            return st.null_count < st.rows
        if fn in ("equal", "not_equal", "lt", "lte", "gt", "gte"):
            if len(args) != 2:
                return True
            col, lit = args[0], args[1]
            if lit[0] != "lit":
                if col[0] == "lit":
                    col, lit = lit, col
                    fn = _FLIP.get(fn, fn)
                else:
                    return True
            if not want:
                fn = _NEGATE[fn]
            return self.may_compare(col, fn, lit[1])
        if fn == "between":
            if len(args) != 3 or args[1][0] != "lit" or args[2][0] != "lit":
                return True
            if want:
                return self.may_compare(args[0], "gte", args[1][1]) and self.may_compare(args[0], "lte", args[2][1])
            return self.may_compare(args[0], "lt", args[1][1]) or self.may_compare(args[0], "gt", args[2][1])
        return True

    def may_compare(self, col, fn: str, lit: _Lit) -> bool:
        o = self.operand(col)
        if o is None:
            return True
        st, t = o
        if st.all_null() or lit.value is None:
            return False
        if not st.has_min_max:
            return True
        v = _literal_val(lit, t)
        if v is None:
            return True
        if v[0] == K_FLOAT and fn in ("gt", "gte", "not_equal"):
            return True
        lo, hi = st.lo[1], st.hi[1]
        x = v[1]
        if fn == "equal":
            return lo <= x <= hi
        if fn == "not_equal":
            return not (lo == x and hi == x)
        if fn == "lt":
            return lo < x
        if fn == "lte":
            return lo <= x
        if fn == "gt":
            return hi > x
        if fn == "gte":
            return hi >= x
        return True

    def may_in(self, e, want: bool) -> bool:
        operand, options = e[1], e[2]
        if not want:
            o = self.operand(operand)
            if o is None or not o[0].has_min_max or o[0].lo[1] != o[0].hi[1]:
                return True
            for opt in options:
                if opt[0] != "lit" or opt[1].value is None:
                    return True
            for opt in options:
                if self.may_compare(operand, "equal", opt[1]):
                    return False
            return True
        for opt in options:
            if opt[0] != "lit" or self.may_compare(operand, "equal", opt[1]):
                return True
        return False


_FLIP = {"lt": "gt", "lte": "gte", "gt": "lt", "gte": "lte"}
_NEGATE = {"lt": "gte", "lte": "gt", "gt": "lte", "gte": "lt", "equal": "not_equal", "not_equal": "equal"}


def _literal_val(lit: _Lit, t: pa.DataType):
    """The literal in the domain of column type t; None when they are not
    comparable (prune.go literalVal)."""
    k = _kind_of(t)
    if k == K_NONE or lit.value is None or _kind_of(lit.t) != k:
        return None
    if _is_decimal(t) != _is_decimal(lit.t) or _scale(t) != _scale(lit.t):
        return None
    if pa.types.is_timestamp(t) != pa.types.is_timestamp(lit.t) or pa.types.is_date32(t) != pa.types.is_date32(lit.t):
        return None
    v = lit.value
    if isinstance(v, bool):
        return (K_INT, 1 if v else 0)
    if isinstance(v, int):
        return (k, v)
    if isinstance(v, float):
        if math.isnan(v):
            return None
        if pa.types.is_float32(lit.t):
            v = struct.unpack("<f", struct.pack("<f", v))[0]
        return (K_FLOAT, v)
    if isinstance(v, bytes):
        return (K_BYTES, v)
    return None


def _cast_bound(v, frm: pa.DataType, to: pa.DataType, up: bool):
    """A statistic bound through an order-preserving cast (prune.go
    castBound); None for casts it does not model."""
    kind, x = v
    d64 = lambda t: pa.types.is_decimal(t) and t.bit_width == 64  # noqa: E731
    if _is_integer(frm) and _is_integer(to):
        return v if kind == K_INT else None
    if _is_integer(frm) and pa.types.is_floating(to):
        return (K_FLOAT, float(x)) if kind == K_INT else None
    if (_is_integer(frm) or d64(frm)) and d64(to):
        if kind != K_INT:
            return None
        d = _scale(to) - _scale(frm)
        if d >= 0:
            if d > 18:
                return None
            r = x * 10**d
            if r > 2**63 - 1 or r < -(2**63):
                return None
            return (K_INT, r)
        if -d > 18:
            return None
        q = x // 10 ** (-d)
        if up and q * 10 ** (-d) != x:
            q += 1
        return (K_INT, q)
    if d64(frm) and pa.types.is_decimal(to) and to.bit_width == 128:
        d = _scale(to) - _scale(frm)
        if kind != K_INT or d < 0 or d > 18:
            return None
        return (K_DEC, x * 10**d)
    if d64(frm) and pa.types.is_floating(to):
        if kind != K_INT:
            return None
        return (K_FLOAT, float(x) / math.pow(10, _scale(frm)))
    if pa.types.is_float32(frm) and pa.types.is_float64(to):
        return v if kind == K_FLOAT else None
    if pa.types.is_date32(frm) and pa.types.is_timestamp(to):
        us_per_day = 86_400_000_000
        if kind != K_INT or x > (2**63 - 1) // us_per_day or x < -(2**63) // us_per_day:
            return None
        return (K_INT, x * us_per_day)
    if frm.equals(to):
        return v
    return None


def may_match(preds: list, pf: pq.ParquetFile, rgm, schema: pa.Schema, cols: Sequence[str]) -> bool:
    """Whether some row of the row group may satisfy every conjunct: False
    only when the statistics prove that none can. schema holds the scan's
    output columns (contract types) and cols their names in the file."""
    if not preds:
        return True
    rg = _RG(pf, rgm, schema, cols)
    for p in preds:
        if not rg.may(p, True):
            return False
    return True
