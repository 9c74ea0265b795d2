"""Stage fragments: reading them, what they need, and rewriting them for
DataFusion's Substrait consumer.

A fragment (docs/protocol.md section 4) is a Substrait Plan whose root is
an ExtensionSingleRel holding arbalest.plan.v1.ShuffleWrite; its leaves
read earlier stages (ReadRel.extension_table = ShuffleRead), files
(ReadRel.local_files with the planpb.FileFormat extension) or VALUES.

The executor takes the ShuffleWrite off the root and applies it itself,
turns every leaf into a table it registers with DataFusion (a NamedTable
read), and normalises what DataFusion 55 cannot read (engine_plan):

- spec 0.85 plans declare extensions by URN (extension_urns, field 8, and
  extension_urn_reference, field 4); DataFusion 55's protos still have the
  URI fields (1 and 1), so the declarations are re-encoded in that form;
- column names are made unique (DataFusion rejects a schema with two
  "sum" columns; Substrait references columns by position);
- extract(<component enum>, x) becomes CAST(date_part('<component>', x)),
  since DataFusion's consumer reads no enum arguments;
- avg_merge(s, c), Arbalest's final phase of a distributed avg, becomes
  sum(s) and sum(c) in the aggregate and an exact division (a Python UDF)
  in a projection above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional

import pyarrow as pa
from google.protobuf import message as pbmessage
from substrait import algebra_pb2, plan_pb2, type_pb2

from ._proto import plan_pb2 as apb
from . import prune
from .scan import ScanItem, normalize_format
from .shuffle import _varint
from .contract import (UnsupportedPlan, arrow_schema, arrow_type, engine_schema, engine_type, expr_type,
                    rel_types, with_nullability)

__all__ = [
    "SUPPORTED_RELATIONS",
    "SUPPORTED_FUNCTIONS",
    "SUPPORTED_FORMATS",
    "Requirements",
    "requirements",
    "missing",
    "Fragment",
    "ShuffleLeaf",
    "ScanLeaf",
    "ValuesLeaf",
    "EnginePlan",
    "UdfSpec",
]

# What this executor runs (capability names of docs/protocol.md and the
# scheduler's host/scheduler/capabilities.go).
SUPPORTED_RELATIONS = (
    "read_local_files", "read_virtual_table", "read_shuffle", "filter", "project", "aggregate",
    "join", "cross", "sort", "fetch", "set", "write_shuffle",
)

# Functions whose DataFusion implementation (after the rewrites below)
# gives the Go executor's results: each has a case in
# tests/function_cases.py that test_functions.py runs on both engines.
# Base names, as in the fragments' extension declarations.
SUPPORTED_FUNCTIONS = (
    # comparison and boolean
    "equal", "not_equal", "lt", "lte", "gt", "gte", "is_null", "is_not_null", "and", "or", "not",
    "is_not_false", "coalesce", "nullif", "greatest", "least", "is_distinct_from",
    # arithmetic (numbers, and dates with intervals)
    "add", "subtract", "multiply", "divide", "negate", "abs", "modulus", "round", "floor", "ceil", "sqrt", "power",
    # strings
    "like", "substring", "starts_with", "ends_with", "contains", "upper", "lower", "char_length", "concat",
    "trim", "strpos", "replace", "lpad", "left", "reverse", "split_part",
    # dates
    "extract",
    # aggregates
    "sum", "count", "min", "max", "avg_merge", "bool_and",
)

SUPPORTED_FORMATS = ("parquet", "arrow")

# Substrait Rel oneof fields → capability names (the scheduler's table).
_RELATION_NAMES = {
    "filter": "filter", "project": "project", "aggregate": "aggregate", "join": "join",
    "hash_join": "join", "merge_join": "join", "nested_loop_join": "join", "cross": "cross",
    "sort": "sort", "fetch": "fetch", "set": "set", "window": "window",
    "extension_leaf": "extension_leaf", "extension_multi": "extension_multi",
    "exchange": "exchange", "expand": "expand", "write": "write", "ddl": "ddl", "reference": "reference",
}

# extract components this executor maps onto DataFusion's date_part with
# the same meaning.
_EXTRACT_COMPONENTS = {"YEAR": "year", "QUARTER": "quarter", "MONTH": "month", "DAY": "day",
                       "HOUR": "hour", "MINUTE": "minute"}

_TABLE_PREFIX = "arbalest_leaf_"
_WORKER_URN = "extension:io.arbalest:python_worker"


def base_name(name: str) -> str:
    return name.split(":", 1)[0]


def _messages(m: pbmessage.Message, skip_rels: bool = False) -> Iterator[pbmessage.Message]:
    """Every message under m (m included), children before parents. With
    skip_rels, does not descend into Rel messages below m."""
    for fd, v in m.ListFields():
        if fd.message_type is None:
            continue
        if fd.message_type.GetOptions().map_entry:
            items = [v[k] for k in v] if fd.message_type.fields_by_name["value"].message_type is not None else []
        elif fd.is_repeated:
            items = list(v)
        else:
            items = [v]
        for it in items:
            if skip_rels and isinstance(it, algebra_pb2.Rel):
                continue
            yield from _messages(it, skip_rels)
    yield m


@dataclass
class Requirements:
    relations: list[str]
    functions: list[str]
    formats: list[str]


def _file_format(it: algebra_pb2.ReadRel.LocalFiles.FileOrFiles) -> str:
    k = it.WhichOneof("file_format")
    if k == "parquet":
        return "parquet"
    if k == "arrow":
        return "arrow"
    if k in ("orc", "dwrf"):
        return k
    if k == "text":
        return "csv"
    if k == "extension":
        f = apb.FileFormat()
        if it.extension.Unpack(f) and f.format:
            return f.format.lower()
    return "unknown"


def requirements(plan: plan_pb2.Plan) -> Requirements:
    """What an executor must run to take the fragment, in the vocabulary of
    Capabilities (the same walk as the scheduler's)."""
    rels, formats = set(), set()
    for m in _messages(plan):
        if isinstance(m, algebra_pb2.Rel):
            k = m.WhichOneof("rel_type")
            if k in _RELATION_NAMES:
                rels.add(_RELATION_NAMES[k])
        elif isinstance(m, algebra_pb2.ReadRel):
            k = m.WhichOneof("read_type")
            if k == "virtual_table":
                rels.add("read_virtual_table")
            elif k == "local_files":
                rels.add("read_local_files")
                for it in m.local_files.items:
                    formats.add(_file_format(it))
            elif k == "extension_table":
                d = m.extension_table.detail
                if d.Is(apb.ShuffleRead.DESCRIPTOR):
                    rels.add("read_shuffle")
                elif d.Is(apb.PluginScan.DESCRIPTOR):
                    rels.add("read_plugin")
                else:
                    rels.add("read_extension_table")
            elif k == "named_table":
                rels.add("read_named_table")
            else:
                rels.add("read")
        elif isinstance(m, algebra_pb2.ExtensionSingleRel):
            rels.add("write_shuffle" if m.detail.Is(apb.ShuffleWrite.DESCRIPTOR) else "extension_single")
        elif isinstance(m, algebra_pb2.Expression.WindowFunction):
            rels.add("window")
    funcs = {base_name(d.extension_function.name) for d in plan.extensions if d.HasField("extension_function")}
    return Requirements(sorted(rels), sorted(funcs), sorted(formats))


def missing(req: Requirements, relations=SUPPORTED_RELATIONS, functions=SUPPORTED_FUNCTIONS,
            formats=SUPPORTED_FORMATS) -> Optional[str]:
    """Why an executor with these capabilities cannot run req (the reason of
    a rejection), or None. None for a list means everything."""
    out = []
    for what, need, have in (("relations", req.relations, relations), ("functions", req.functions, functions),
                             ("file formats", req.formats, formats)):
        if have is None:
            continue
        lack = [n for n in need if n not in have]
        if lack:
            out.append(f"{what} {', '.join(lack)}")
    if not out:
        return None
    return "cannot run " + "; ".join(out)


# ---- leaves ----

@dataclass
class ShuffleLeaf:
    index: int
    read: apb.ShuffleRead
    # The rows' contract schema (the ReadRel's base_schema).
    schema: pa.Schema


@dataclass
class ScanLeaf:
    index: int
    items: list[ScanItem]
    # The contract schema of the table registered for the leaf.
    schema: pa.Schema


@dataclass
class ValuesLeaf:
    index: int
    schema: pa.Schema


@dataclass
class UdfSpec:
    """A Python scalar UDF the engine plan calls: avg_merge's final
    division (kind "avg_merge": sum(s), sum(c)), an exact decimal
    division (kind "decimal_divide": a, b) or rounding half to even
    (kind "round_half_even": x)."""
    name: str
    sum_type: pa.DataType      # engine type of the first argument
    result_type: pa.DataType   # engine type of the result
    result_scale_shift: int    # avg_merge: result scale minus sum scale
    kind: str = "avg_merge"
    arg2_type: pa.DataType = pa.int64()  # engine type of the second argument


@dataclass
class EnginePlan:
    plan: bytes
    udfs: list[UdfSpec] = field(default_factory=list)


def table_name(index: int) -> str:
    return f"{_TABLE_PREFIX}{index}"


def _unique_names(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


# ---- the fragment ----

class Fragment:
    """A parsed stage fragment."""

    def __init__(self, data: bytes):
        try:
            self.plan = plan_pb2.Plan.FromString(data)
        except pbmessage.DecodeError as e:
            raise UnsupportedPlan(f"cannot read the fragment: not a Substrait plan: {e}") from None
        rels = self.plan.relations
        if len(rels) != 1 or not rels[0].HasField("root"):
            raise UnsupportedPlan(f"cannot read the fragment: want one root relation, got {len(rels)} relations")
        root = rels[0].root
        if root.input.WhichOneof("rel_type") != "extension_single" or \
                not root.input.extension_single.detail.Is(apb.ShuffleWrite.DESCRIPTOR):
            raise UnsupportedPlan("cannot read the fragment: its root is not an ExtensionSingleRel with a ShuffleWrite")
        self.write = apb.ShuffleWrite()
        root.input.extension_single.detail.Unpack(self.write)
        self.functions = {}
        for d in self.plan.extensions:
            if d.HasField("extension_function"):
                f = d.extension_function
                self.functions[f.function_anchor] = base_name(f.name)
        self.output_types = rel_types(root.input)
        self.names = list(root.names)
        if len(self.names) != len(self.output_types):
            raise UnsupportedPlan(f"cannot read the fragment: {len(self.names)} root names for {len(self.output_types)} columns")
        self.output_schema = arrow_schema(self.names, self.output_types)
        self._check_write()

    def _check_write(self) -> None:
        w = self.write
        kind = w.WhichOneof("partitioning")
        if kind is None:
            raise UnsupportedPlan("shuffle write without a partitioning")
        if kind == "hash":
            if w.hash.partitions <= 0:
                raise UnsupportedPlan(f"shuffle write: hash partition count {w.hash.partitions} must be positive")
            if not w.hash.key_fields:
                raise UnsupportedPlan("shuffle write: hash partitioning needs at least one key column")
            for k in w.hash.key_fields:
                if k >= len(self.output_types):
                    raise UnsupportedPlan(f"shuffle write: key column {k} out of range for {len(self.output_types)} columns")
        if w.compression not in ("", "lz4", "lz4_frame", "zstd", "none", "uncompressed"):
            raise UnsupportedPlan(f"shuffle write: unknown compression {w.compression!r} (want lz4 or zstd)")

    @property
    def partitions(self) -> int:
        """How many output partitions the task writes."""
        return self.write.hash.partitions if self.write.WhichOneof("partitioning") == "hash" else 1

    def requirements(self) -> Requirements:
        return requirements(self.plan)

    @staticmethod
    def _read_rels(body: algebra_pb2.Rel) -> list[algebra_pb2.Rel]:
        """The read relations under body (the Rel messages holding them),
        in a fixed order (children first)."""
        return [m for m in _messages(body) if isinstance(m, algebra_pb2.Rel) and m.WhichOneof("rel_type") == "read"]

    def check(self) -> None:
        """Raises UnsupportedPlan when the fragment has something this
        executor does not run (beyond what capabilities say)."""
        self.leaves()
        self.engine_plan(0)

    def leaves(self) -> list:
        """The fragment's leaves, in the order engine_plan numbers them."""
        out = []
        for i, rel in enumerate(self._read_rels(self.plan.relations[0].root.input.extension_single.input)):
            r = rel.read
            kind = r.WhichOneof("read_type")
            base = r.base_schema
            if kind == "extension_table":
                d = r.extension_table.detail
                if not d.Is(apb.ShuffleRead.DESCRIPTOR):
                    raise UnsupportedPlan(f"cannot run a read of extension table {d.type_url}")
                if r.HasField("projection") or r.HasField("filter") or r.HasField("best_effort_filter"):
                    raise UnsupportedPlan("a shuffle read with a projection or filter is not supported")
                sr = apb.ShuffleRead()
                d.Unpack(sr)
                out.append(ShuffleLeaf(i, sr, arrow_schema(list(base.names), list(base.struct.types))))
            elif kind == "local_files":
                leaf, _ = self._scan(i, r)
                out.append(leaf)
            elif kind == "virtual_table":
                out.append(ValuesLeaf(i, arrow_schema(list(base.names), list(base.struct.types))))
            else:
                raise UnsupportedPlan(f"cannot run a {kind or 'typeless'} read")
        return out

    def _scan(self, index: int, r: algebra_pb2.ReadRel):
        """The ScanLeaf of a local_files read, and the columns (base schema
        indexes) of the table registered for it."""
        base = r.base_schema
        types = list(base.struct.types)
        names = list(base.names)
        if len(names) != len(types):
            raise UnsupportedPlan("base_schema with nested names is not supported")
        proj = None
        if r.HasField("projection"):
            if not r.projection.HasField("select"):
                raise UnsupportedPlan("projection mask without select")
            proj = []
            for it in r.projection.select.struct_items:
                if it.HasField("child"):
                    raise UnsupportedPlan("nested projection masks are not supported")
                if it.field < 0 or it.field >= len(types):
                    raise UnsupportedPlan(f"projection field {it.field} out of range for {len(types)} columns")
                proj.append(it.field)
        out_cols = list(range(len(types))) if proj is None else proj
        # The scan's output position of each base column (first occurrence).
        pos = {}
        for j, c in enumerate(out_cols):
            pos.setdefault(c, j)
        # The registered table's columns: the outputs, then any column the
        # filter reads besides.
        cols = []
        for c in out_cols:
            if c not in cols:
                cols.append(c)
        if r.HasField("filter"):
            used: set = set()
            if not prune._columns_used(r.filter, used):
                raise UnsupportedPlan("a scan filter with outer references is not supported")
            for c in sorted(used):
                if c >= len(types):
                    raise UnsupportedPlan(f"scan filter reads column {c} of {len(types)}")
                if c not in cols:
                    cols.append(c)
        if not cols:
            cols = [0] if types else []
        if not cols:
            raise UnsupportedPlan("a scan of a table without columns")
        schema = arrow_schema([names[c] for c in cols], [types[c] for c in cols])
        out_types = [arrow_type(types[c]) for c in out_cols]
        preds = []
        if r.HasField("best_effort_filter"):
            preds = prune.compile_filter(r.best_effort_filter, self.functions, pos, out_types)
        items = []
        for it in r.local_files.items:
            kind = it.WhichOneof("path_type")
            if kind is None:
                raise UnsupportedPlan("local_files item without a path")
            loc = getattr(it, kind)
            if loc.startswith("file://"):
                loc = loc[len("file://"):]
            if not loc:
                raise UnsupportedPlan("local_files item with an empty path")
            if it.start or it.length:
                raise UnsupportedPlan(f"local_files item {loc}: byte ranges are not supported")
            fk = it.WhichOneof("file_format")
            options, table = {}, ""
            if fk == "extension":
                ff = apb.FileFormat()
                if not it.extension.Unpack(ff):
                    raise UnsupportedPlan(f"local_files item {loc}: unknown file format extension {it.extension.type_url}")
                fmt, options, table = ff.format, dict(ff.options), ff.table
            elif fk in ("parquet", "arrow"):
                fmt = fk
            else:
                raise UnsupportedPlan(f"local_files item {loc}: file format {fk} is not supported")
            fmt = normalize_format(fmt)
            if fmt not in SUPPORTED_FORMATS:
                raise UnsupportedPlan(f"local_files item {loc}: the Python executor does not read {fmt} files")
            if r.common.hint.alias:
                table = r.common.hint.alias
            table = table or loc.rsplit("/", 1)[-1].split(".", 1)[0]
            # The pruning conjuncts refer to scan output positions; map
            # them to the registered table's columns (the first len(pos)).
            items.append(ScanItem(fmt, loc, options, table, schema, _reposition(preds, out_cols, cols)))
        if not items:
            raise UnsupportedPlan("local_files without items")
        return ScanLeaf(index, items, schema), cols

    def engine_plan(self, partition: int) -> EnginePlan:
        """The fragment below its ShuffleWrite as a Substrait plan that
        DataFusion 55 reads, every leaf i a NamedTable read of table_name(i)
        whose columns are named c0, c1, ..."""
        plan = plan_pb2.Plan()
        plan.CopyFrom(self.plan)
        root = plan.relations[0].root
        body = algebra_pb2.Rel()
        body.CopyFrom(root.input.extension_single.input)
        emit = root.input.extension_single.common
        if emit.WhichOneof("emit_kind") == "emit":
            # Keep the write's emit as a projection-free remap: wrap in a
            # project with no expressions carrying the emit.
            wrapped = algebra_pb2.Rel()
            wrapped.project.input.CopyFrom(body)
            wrapped.project.common.CopyFrom(emit)
            body = wrapped
        root.input.CopyFrom(body)
        del root.names[:]
        root.names.extend(_unique_names(len(self.output_types)))
        ext = _Extensions(plan)
        for i, rel in enumerate(self._read_rels(root.input)):
            r = rel.read
            kind = r.WhichOneof("read_type")
            if kind == "extension_table":
                _to_named(r, i, list(r.base_schema.struct.types))
            elif kind == "local_files":
                _, cols = self._scan(i, r)
                self._rewrite_scan(rel, i, cols)
            elif kind == "virtual_table" and partition != 0:
                # VALUES rows come out of task 0 only: the other tasks read
                # an empty table of the same columns.
                _to_named(r, i, list(r.base_schema.struct.types))
        udfs: list[UdfSpec] = []
        _rewrite_functions(plan, ext, udfs)
        return EnginePlan(_datafusion_bytes(plan), udfs)

    def _rewrite_scan(self, rel: algebra_pb2.Rel, index: int, cols: list[int]) -> None:
        """Turns a local_files read into a read of the registered table
        (columns cols of the base schema). DataFusion applies neither a
        ReadRel's filter nor (rightly) its best_effort_filter on a named
        table, so the filter becomes a FilterRel above the read and the
        projection a ProjectRel emit above that."""
        r = rel.read
        types = list(r.base_schema.struct.types)
        at = {c: k for k, c in enumerate(cols)}
        if r.HasField("projection"):
            proj = [at[it.field] for it in r.projection.select.struct_items]
        else:
            proj = list(range(len(types)))
        common = algebra_pb2.RelCommon()
        common.CopyFrom(r.common)
        cond = None
        if r.HasField("filter"):
            cond = algebra_pb2.Expression()
            cond.CopyFrom(r.filter)
            _remap_refs(cond, at)
        read = algebra_pb2.Rel()
        read.read.CopyFrom(r)
        read.read.common.Clear()
        read.read.common.direct.SetInParent()
        _to_named(read.read, index, [types[c] for c in cols])
        out = read
        if cond is not None:
            f = algebra_pb2.Rel()
            f.filter.common.direct.SetInParent()
            f.filter.input.CopyFrom(out)
            f.filter.condition.CopyFrom(cond)
            out = f
        if proj != list(range(len(cols))):
            p = algebra_pb2.Rel()
            p.project.common.emit.output_mapping.extend(proj)
            p.project.input.CopyFrom(out)
            out = p
        if common.WhichOneof("emit_kind") == "emit":
            # The read's own emit, over its output (the projection).
            p = algebra_pb2.Rel()
            p.project.common.CopyFrom(common)
            p.project.input.CopyFrom(out)
            out = p
        rel.CopyFrom(out)


def _reposition(preds, out_cols, cols):
    """Pruning trees over scan output positions, re-pointed at the columns
    of the registered table (identical for the output columns, since the
    table lists them first in output order unless one repeats)."""
    if not preds:
        return []
    table_pos = {}
    for j, c in enumerate(out_cols):
        table_pos[j] = cols.index(c)

    def walk(node):
        if node[0] == "col":
            return ("col", table_pos[node[1]], node[2])
        if node[0] == "cast":
            return ("cast", walk(node[1]), node[2])
        if node[0] == "call":
            return ("call", node[1], [walk(a) for a in node[2]])
        if node[0] == "in":
            return ("in", walk(node[1]), [walk(o) for o in node[2]])
        return node
    return [walk(p) for p in preds]


def _to_named(r: algebra_pb2.ReadRel, index: int, types: list, keep_filter: bool = False) -> None:
    """Turns r into a NamedTable read of table_name(index) with columns
    c0.. of the given types."""
    for f in ("virtual_table", "local_files", "extension_table", "named_table"):
        r.ClearField(f)
    if not keep_filter:
        r.ClearField("filter")
        r.ClearField("best_effort_filter")
        r.ClearField("projection")
    bs = type_pb2.NamedStruct()
    bs.names.extend(_unique_names(len(types)))
    st = type_pb2.Type.Struct(types=types, nullability=type_pb2.Type.NULLABILITY_REQUIRED)
    bs.struct.CopyFrom(st)
    r.base_schema.CopyFrom(bs)
    r.named_table.names.append(table_name(index))


def _remap_refs(e: algebra_pb2.Expression, mapping: dict) -> None:
    """Re-points the root field references of e (outside subqueries)."""
    for m in _messages(e, skip_rels=True):
        if isinstance(m, algebra_pb2.Expression.FieldReference) and m.HasField("root_reference") \
                and m.WhichOneof("reference_type") == "direct_reference" \
                and m.direct_reference.WhichOneof("reference_type") == "struct_field":
            f = m.direct_reference.struct_field.field
            if f not in mapping:
                raise UnsupportedPlan(f"scan filter reads column {f}, which the scan does not read")
            m.direct_reference.struct_field.field = mapping[f]


class _Extensions:
    """The plan's function declarations, and new ones for rewrites."""

    def __init__(self, plan: plan_pb2.Plan):
        self.plan = plan
        self.names = {}
        self.by_name = {}
        for d in plan.extensions:
            if d.HasField("extension_function"):
                f = d.extension_function
                self.names[f.function_anchor] = f.name
                self.by_name.setdefault(f.name, f.function_anchor)
        self._urn = None

    def name(self, anchor: int) -> str:
        return base_name(self.names.get(anchor, ""))

    def anchor(self, name: str) -> int:
        """The anchor of a function declared as name, declaring it if new."""
        if name in self.by_name:
            return self.by_name[name]
        if self._urn is None:
            anchors = [u.extension_urn_anchor for u in self.plan.extension_urns]
            self._urn = max(anchors, default=0) + 1
            self.plan.extension_urns.add(extension_urn_anchor=self._urn, urn=_WORKER_URN)
        a = max(self.names, default=0) + 1
        d = self.plan.extensions.add()
        d.extension_function.function_anchor = a
        d.extension_function.name = name
        d.extension_function.extension_urn_reference = self._urn
        self.names[a] = name
        self.by_name[name] = a
        return a


def _field_ref(i: int) -> algebra_pb2.Expression:
    e = algebra_pb2.Expression()
    e.selection.direct_reference.struct_field.field = i
    e.selection.root_reference.SetInParent()
    return e


def _rewrite_functions(plan: plan_pb2.Plan, ext: _Extensions, udfs: list) -> None:
    """Rewrites what DataFusion would read differently from the Go
    executor, relation by relation (an expression's rewrite may need the
    types of its relation's input)."""
    body = plan.relations[0].root.input
    for m in list(_messages(body)):
        if isinstance(m, algebra_pb2.Expression.WindowFunction):
            raise UnsupportedPlan("window functions are not supported by the Python executor")
        if isinstance(m, algebra_pb2.Expression) and m.WhichOneof("rex_type") == "subquery":
            raise UnsupportedPlan("subquery expressions are not supported by the Python executor")
        if isinstance(m, algebra_pb2.JoinRel) and _null_aware(m):
            # NOT IN semantics (a NULL key on the right removes every row)
            # that DataFusion's consumer cannot be told about.
            raise UnsupportedPlan("cannot run a null-aware anti join (NOT IN)")
    for rel in [m for m in _messages(body) if isinstance(m, algebra_pb2.Rel)]:
        for expr, types in _rel_expressions(rel):
            for e in list(_messages(expr, skip_rels=True)):
                if isinstance(e, algebra_pb2.Expression):
                    _rewrite_expression(e, types, ext, udfs)
        if rel.WhichOneof("rel_type") == "aggregate" and \
                any(ext.name(ms.measure.function_reference) == "avg_merge" for ms in rel.aggregate.measures):
            _rewrite_avg_merge(rel, ext, udfs)


def _null_aware(j: algebra_pb2.JoinRel) -> bool:
    for a in j.advanced_extension.optimization:
        if a.Is(apb.JoinHint.DESCRIPTOR):
            h = apb.JoinHint()
            a.Unpack(h)
            if h.null_aware:
                return True
    return False


def _rel_expressions(rel: algebra_pb2.Rel):
    """The expressions of a relation, each with the column types it reads."""
    kind = rel.WhichOneof("rel_type")
    r = getattr(rel, kind)
    out = []
    if kind == "filter":
        out.append((r.condition, rel_types(r.input)))
    elif kind == "project":
        inp = rel_types(r.input)
        out += [(e, inp) for e in r.expressions]
    elif kind == "aggregate":
        inp = rel_types(r.input)
        out += [(e, inp) for e in r.grouping_expressions]
        for g in r.groupings:
            out += [(e, inp) for e in g.grouping_expressions]
        for ms in r.measures:
            out += [(a.value, inp) for a in ms.measure.arguments if a.WhichOneof("arg_type") == "value"]
            out += [(s.expr, inp) for s in ms.measure.sorts]
            if ms.HasField("filter"):
                out.append((ms.filter, inp))
    elif kind == "join":
        both = rel_types(r.left) + rel_types(r.right)
        if r.HasField("expression"):
            out.append((r.expression, both))
        if r.HasField("post_join_filter"):
            out.append((r.post_join_filter, both))
    elif kind == "sort":
        inp = rel_types(r.input)
        out += [(f.expr, inp) for f in r.sorts]
    elif kind == "read":
        base = list(r.base_schema.struct.types)
        if r.HasField("filter"):
            out.append((r.filter, base))
    return out


# Casts (by Substrait type kind) whose DataFusion result is the Go
# executor's; others are rewritten (see _rewrite_cast) or refused.
_INTS = ("i8", "i16", "i32", "i64")
_INT_WIDTH = {"i8": 8, "i16": 16, "i32": 32, "i64": 64}


def _cast_ok(frm: type_pb2.Type, to: type_pb2.Type) -> bool:
    f, t = frm.WhichOneof("kind"), to.WhichOneof("kind")
    if f == t and f != "decimal":
        return True
    if f in _INTS and t in _INTS:
        return True  # narrowing: an out-of-range value is an error in both
    if f in _INTS and t in ("fp32", "fp64", "decimal", "string"):
        return True
    if f == "decimal" and t == "decimal":
        return True  # both round half away from zero when the scale drops
    if f == "decimal" and t in ("string", "fp64"):
        return True
    if f == "fp32" and t == "fp64":
        return True
    if f == "date" and t in ("string", "timestamp", "precision_timestamp"):
        return True
    if f == "string" and t in _INTS + ("fp64", "decimal", "date"):
        return True
    if f == "bool" and t in _INTS + ("string",):
        return True
    return False


def _rewrite_expression(e: algebra_pb2.Expression, types, ext: _Extensions, udfs: list) -> None:
    kind = e.WhichOneof("rex_type")
    if kind == "scalar_function":
        name = ext.name(e.scalar_function.function_reference)
        if name == "extract":
            _rewrite_extract(e, ext)
        elif name == "divide" and e.scalar_function.output_type.WhichOneof("kind") == "decimal":
            _rewrite_decimal_divide(e, types, ext, udfs)
        elif name == "concat":
            _rewrite_concat(e, ext)
    elif kind == "cast":
        frm = expr_type(e.cast.input, types, rel_types)
        to = e.cast.type
        if _cast_ok(frm, to):
            return
        f, t = frm.WhichOneof("kind"), to.WhichOneof("kind")
        if f == "decimal" and t in _INTS:
            # Go rounds half away from zero; DataFusion's cast truncates.
            _round_before_cast(e, frm, ext)
            return
        if f in ("fp32", "fp64") and t in _INTS:
            # Go rounds half to even; DataFusion's cast truncates.
            name = "arbalest_round_half_even"
            if not any(u.name == name for u in udfs):
                udfs.append(UdfSpec(name, pa.float64(), pa.float64(), 0, kind="round_half_even"))
            inner = algebra_pb2.Expression()
            inner.CopyFrom(e.cast.input)
            call = algebra_pb2.Expression()
            call.scalar_function.function_reference = ext.anchor(name)
            call.scalar_function.arguments.add().value.CopyFrom(inner)
            fp64 = type_pb2.Type()
            fp64.fp64.nullability = type_pb2.Type.NULLABILITY_NULLABLE
            call.scalar_function.output_type.CopyFrom(fp64)
            e.cast.input.CopyFrom(call)
            return
        raise UnsupportedPlan(f"cannot run a cast from {f} to {t} with the Go executor's semantics")


def _round_before_cast(e: algebra_pb2.Expression, frm: type_pb2.Type, ext: _Extensions) -> None:
    inner = algebra_pb2.Expression()
    inner.CopyFrom(e.cast.input)
    rounded = algebra_pb2.Expression()
    sf = rounded.scalar_function
    sf.function_reference = ext.anchor("round")
    sf.arguments.add().value.CopyFrom(inner)
    sf.arguments.add().value.literal.i32 = 0
    sf.output_type.CopyFrom(frm)
    e.cast.input.CopyFrom(rounded)


def _rewrite_concat(e: algebra_pb2.Expression, ext: _Extensions) -> None:
    """concat is NULL when an argument is (Substrait's default, and the Go
    executor's); DataFusion's skips NULL arguments. Wrap it: CASE WHEN any
    argument IS NULL THEN NULL ELSE concat(...) END."""
    sf = e.scalar_function
    for o in sf.options:
        if o.name == "null_handling" and o.preference and o.preference[0].upper() == "IGNORE_NULLS":
            return  # DataFusion's own behaviour
    args = [a.value for a in sf.arguments if a.WhichOneof("arg_type") == "value"]
    if len(args) != len(sf.arguments):
        raise UnsupportedPlan("concat with non-value arguments")
    bool_t = type_pb2.Type()
    bool_t.bool.nullability = type_pb2.Type.NULLABILITY_REQUIRED
    cond = None
    for a in args:
        isnull = algebra_pb2.Expression()
        isnull.scalar_function.function_reference = ext.anchor("is_null:any")
        isnull.scalar_function.arguments.add().value.CopyFrom(a)
        isnull.scalar_function.output_type.CopyFrom(bool_t)
        if cond is None:
            cond = isnull
        else:
            o = algebra_pb2.Expression()
            o.scalar_function.function_reference = ext.anchor("or:bool")
            o.scalar_function.arguments.add().value.CopyFrom(cond)
            o.scalar_function.arguments.add().value.CopyFrom(isnull)
            o.scalar_function.output_type.CopyFrom(bool_t)
            cond = o
    call = algebra_pb2.Expression()
    call.CopyFrom(e)
    out = type_pb2.Type()
    out.CopyFrom(sf.output_type)
    new = algebra_pb2.Expression()
    clause = new.if_then.ifs.add()
    getattr(clause, "if").CopyFrom(cond)
    clause.then.literal.null.CopyFrom(with_nullability(out, True))
    getattr(new.if_then, "else").CopyFrom(call)
    e.CopyFrom(new)


def _rewrite_decimal_divide(e: algebra_pb2.Expression, types, ext: _Extensions, udfs: list) -> None:
    """Decimal division rounded half away from zero at the declared scale
    (the Go executor's); DataFusion's truncates at a scale of its own."""
    sf = e.scalar_function
    if len(sf.arguments) != 2 or any(a.WhichOneof("arg_type") != "value" for a in sf.arguments):
        raise UnsupportedPlan("divide: want two value arguments")
    a_t = expr_type(sf.arguments[0].value, types, rel_types)
    b_t = expr_type(sf.arguments[1].value, types, rel_types)
    if a_t.WhichOneof("kind") != "decimal" or b_t.WhichOneof("kind") != "decimal":
        raise UnsupportedPlan("decimal divide of non-decimal arguments")
    out = sf.output_type
    a_e, b_e, r_e = (engine_type(arrow_type(t)) for t in (a_t, b_t, out))
    name = f"arbalest_decimal_divide_{len(udfs)}"
    udfs.append(UdfSpec(name, a_e, r_e, 0, kind="decimal_divide", arg2_type=b_e))
    sf.function_reference = ext.anchor(name)


def _rewrite_extract(e: algebra_pb2.Expression, ext: _Extensions) -> None:
    """extract(<component>[, <indexing>], x) as CAST(date_part('<component>', x))."""
    sf = e.scalar_function
    args = list(sf.arguments)
    if len(args) not in (2, 3) or args[0].WhichOneof("arg_type") != "enum" \
            or args[-1].WhichOneof("arg_type") != "value" \
            or (len(args) == 3 and args[1].WhichOneof("arg_type") != "enum"):
        raise UnsupportedPlan("extract: want a component, an optional indexing and a value")
    comp = args[0].enum.upper()
    if comp not in _EXTRACT_COMPONENTS:
        raise UnsupportedPlan(f"cannot run extract of {comp}")
    if len(args) == 3 and args[1].enum.upper() != "ONE":
        raise UnsupportedPlan(f"cannot run extract of {comp} indexed from {args[1].enum}")
    out_type = type_pb2.Type()
    out_type.CopyFrom(sf.output_type)
    value = algebra_pb2.Expression()
    value.CopyFrom(args[-1].value)
    call = algebra_pb2.Expression()
    call.scalar_function.function_reference = ext.anchor("date_part")
    call.scalar_function.arguments.add().value.literal.string = _EXTRACT_COMPONENTS[comp]
    call.scalar_function.arguments.add().value.CopyFrom(value)
    i32 = type_pb2.Type()
    i32.i32.nullability = type_pb2.Type.NULLABILITY_NULLABLE
    call.scalar_function.output_type.CopyFrom(i32)
    new = algebra_pb2.Expression()
    new.cast.type.CopyFrom(out_type)
    new.cast.input.CopyFrom(call)
    new.cast.failure_behavior = algebra_pb2.Expression.Cast.FAILURE_BEHAVIOR_THROW_EXCEPTION
    e.CopyFrom(new)


def _sum_name(t: type_pb2.Type) -> str:
    k = t.WhichOneof("kind")
    return {"decimal": "sum:dec", "i64": "sum:i64", "fp64": "sum:fp64", "i32": "sum:i32"}.get(k, "sum:any")


def _rewrite_avg_merge(rel: algebra_pb2.Rel, ext: _Extensions, udfs: list) -> None:
    agg = algebra_pb2.AggregateRel()
    agg.CopyFrom(rel.aggregate)
    if len(agg.groupings) > 1:
        raise UnsupportedPlan("avg_merge with grouping sets is not supported")
    in_types = rel_types(agg.input)
    if len(agg.grouping_expressions):
        n_groups = len(agg.grouping_expressions)
    else:
        seen = []
        for g in agg.groupings:
            for e in g.grouping_expressions:
                k = e.SerializeToString(deterministic=True)
                if k not in seen:
                    seen.append(k)
        n_groups = len(seen)
    n_measures = len(agg.measures)
    outer_emit = None
    if agg.common.WhichOneof("emit_kind") == "emit":
        outer_emit = list(agg.common.emit.output_mapping)
        agg.common.ClearField("emit")
        agg.common.direct.SetInParent()
    i64 = type_pb2.Type()
    i64.i64.nullability = type_pb2.Type.NULLABILITY_NULLABLE
    merges = []  # (measure index, count measure index, output type)
    for k in range(n_measures):
        ms = agg.measures[k]
        m = ms.measure
        if ext.name(m.function_reference) != "avg_merge":
            continue
        if len(m.arguments) != 2 or any(a.WhichOneof("arg_type") != "value" for a in m.arguments):
            raise UnsupportedPlan("avg_merge: want two value arguments")
        if m.invocation == algebra_pb2.AggregateFunction.AGGREGATION_INVOCATION_DISTINCT or len(m.sorts):
            raise UnsupportedPlan("avg_merge with DISTINCT or ORDER BY is not supported")
        s_arg, c_arg = algebra_pb2.Expression(), algebra_pb2.Expression()
        s_arg.CopyFrom(m.arguments[0].value)
        c_arg.CopyFrom(m.arguments[1].value)
        s_type = expr_type(s_arg, in_types, rel_types)
        out_type = type_pb2.Type()
        out_type.CopyFrom(m.output_type)
        sum_out = type_pb2.Type()
        sum_out.CopyFrom(s_type)
        getattr(sum_out, sum_out.WhichOneof("kind")).nullability = type_pb2.Type.NULLABILITY_NULLABLE
        # The measure becomes sum(s) ...
        m.function_reference = ext.anchor(_sum_name(s_type))
        del m.arguments[:]
        m.arguments.add().value.CopyFrom(s_arg)
        m.output_type.CopyFrom(sum_out)
        # ... and sum(c) goes at the end.
        cm = agg.measures.add()
        cm.CopyFrom(ms)
        cm.measure.function_reference = ext.anchor("sum:i64")
        del cm.measure.arguments[:]
        cm.measure.arguments.add().value.CopyFrom(c_arg)
        cm.measure.output_type.CopyFrom(i64)
        merges.append((k, n_measures + len(merges), out_type, sum_out))
    # The projection divides; its emit restores the aggregate's columns.
    proj = algebra_pb2.Rel()
    proj.project.input.aggregate.CopyFrom(agg)
    width = n_groups + len(agg.measures)
    mapping = list(range(n_groups + n_measures))
    for j, (k, ck, out_type, sum_type) in enumerate(merges):
        s_engine = engine_schema(pa.schema([pa.field("s", arrow_type(sum_type))])).field(0).type
        r_engine = engine_schema(pa.schema([pa.field("r", arrow_type(out_type))])).field(0).type
        shift = 0
        if pa.types.is_decimal(r_engine):
            s_scale = s_engine.scale if pa.types.is_decimal(s_engine) else 0
            shift = r_engine.scale - s_scale
            if shift < 0:
                raise UnsupportedPlan(f"avg_merge: result scale {r_engine.scale} below the sum's {s_scale}")
        elif not (pa.types.is_floating(r_engine)):
            raise UnsupportedPlan(f"avg_merge with result type {r_engine} is not supported")
        name = f"arbalest_avg_merge_{len(udfs)}"
        udfs.append(UdfSpec(name, s_engine, r_engine, shift))
        e = proj.project.expressions.add()
        e.scalar_function.function_reference = ext.anchor(name)
        e.scalar_function.output_type.CopyFrom(out_type)
        e.scalar_function.arguments.add().value.CopyFrom(_field_ref(n_groups + k))
        e.scalar_function.arguments.add().value.CopyFrom(_field_ref(n_groups + ck))
        mapping[n_groups + k] = width + j
    if outer_emit is not None:
        mapping = [mapping[i] for i in outer_emit]
    proj.project.common.emit.output_mapping.extend(mapping)
    rel.CopyFrom(proj)


# ---- DataFusion's wire form ----



def _ld(fieldno: int, payload: bytes) -> bytes:
    return _varint(fieldno << 3 | 2) + _varint(len(payload)) + payload


def _vi(fieldno: int, v: int) -> bytes:
    return _varint(fieldno << 3) + _varint(v)


def _datafusion_bytes(plan: plan_pb2.Plan) -> bytes:
    """Serialises plan with its extension declarations in the URI form of
    Substrait before 0.75 (Plan.extension_uris = 1 with
    SimpleExtensionURI{extension_uri_anchor = 1, uri = 2}, and
    ExtensionFunction.extension_uri_reference = 1), which is what
    DataFusion 55 reads; the URN itself serves as the URI."""
    p = plan_pb2.Plan()
    p.CopyFrom(plan)
    urns = list(p.extension_urns)
    decls = list(p.extensions)
    p.ClearField("extension_urns")
    p.ClearField("extensions")
    out = [p.SerializeToString()]
    for u in urns:
        out.append(_ld(1, _vi(1, u.extension_urn_anchor) + _ld(2, u.urn.encode())))
    for d in decls:
        if d.HasField("extension_function"):
            f = d.extension_function
            body = _vi(1, f.extension_urn_reference) + _vi(2, f.function_anchor) + _ld(3, f.name.encode())
            out.append(_ld(2, _ld(3, body)))
        else:
            raise UnsupportedPlan("extension type declarations are not supported")
    return b"".join(out)
