"""Builds small Substrait stage fragments for the tests, in the form the
Arbalest scheduler sends (spec 0.85, URN extension references, a
ShuffleWrite ExtensionSingleRel at the root)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from substrait import algebra_pb2, plan_pb2, type_pb2  # noqa: E402

from arbalest_worker._proto import plan_pb2 as apb  # noqa: E402

REQ = type_pb2.Type.NULLABILITY_REQUIRED
NUL = type_pb2.Type.NULLABILITY_NULLABLE


class T:
    """Substrait types."""

    @staticmethod
    def _t(kind, nullable, **kw):
        t = type_pb2.Type()
        m = getattr(t, kind)
        m.nullability = NUL if nullable else REQ
        for k, v in kw.items():
            setattr(m, k, v)
        return t

    i32 = staticmethod(lambda nullable=False: T._t("i32", nullable))
    i64 = staticmethod(lambda nullable=False: T._t("i64", nullable))
    fp64 = staticmethod(lambda nullable=False: T._t("fp64", nullable))
    string = staticmethod(lambda nullable=False: T._t("string", nullable))
    date = staticmethod(lambda nullable=False: T._t("date", nullable))
    bool = staticmethod(lambda nullable=False: T._t("bool", nullable))
    dec = staticmethod(lambda p, s, nullable=False: T._t("decimal", nullable, precision=p, scale=s))


URN_CMP = "extension:io.substrait:functions_comparison"
URN_DEC = "extension:io.substrait:functions_arithmetic_decimal"
URN_AGG = "extension:io.substrait:functions_aggregate_generic"
URN_DT = "extension:io.substrait:functions_datetime"
URN_ARB = "extension:io.arbalest:functions_arbalest"


class PlanBuilder:
    def __init__(self):
        self.plan = plan_pb2.Plan()
        self.plan.version.minor_number = 85
        self.plan.version.producer = "tests"
        self._urns = {}
        self._fns = {}

    def fn(self, name: str, urn: str = URN_CMP) -> int:
        if name in self._fns:
            return self._fns[name]
        if urn not in self._urns:
            a = len(self._urns) + 1
            self._urns[urn] = a
            self.plan.extension_urns.add(extension_urn_anchor=a, urn=urn)
        anchor = len(self._fns) + 1
        d = self.plan.extensions.add()
        d.extension_function.function_anchor = anchor
        d.extension_function.name = name
        d.extension_function.extension_urn_reference = self._urns[urn]
        self._fns[name] = anchor
        return anchor

    # expressions
    @staticmethod
    def col(i: int) -> algebra_pb2.Expression:
        e = algebra_pb2.Expression()
        e.selection.direct_reference.struct_field.field = i
        e.selection.root_reference.SetInParent()
        return e

    @staticmethod
    def lit_i64(v: int) -> algebra_pb2.Expression:
        e = algebra_pb2.Expression()
        e.literal.i64 = v
        return e

    @staticmethod
    def lit_i32(v: int) -> algebra_pb2.Expression:
        e = algebra_pb2.Expression()
        e.literal.i32 = v
        return e

    @staticmethod
    def lit_date(days: int) -> algebra_pb2.Expression:
        e = algebra_pb2.Expression()
        e.literal.date = days
        return e

    @staticmethod
    def lit_str(s: str) -> algebra_pb2.Expression:
        e = algebra_pb2.Expression()
        e.literal.string = s
        return e

    @staticmethod
    def lit_dec(unscaled: int, p: int, s: int) -> algebra_pb2.Expression:
        e = algebra_pb2.Expression()
        e.literal.decimal.value = unscaled.to_bytes(16, "little", signed=True)
        e.literal.decimal.precision = p
        e.literal.decimal.scale = s
        return e

    def call(self, name: str, args, out: type_pb2.Type, urn: str = URN_CMP, enum: str = "") -> algebra_pb2.Expression:
        e = algebra_pb2.Expression()
        sf = e.scalar_function
        sf.function_reference = self.fn(name, urn)
        if enum:
            sf.arguments.add().enum = enum
        for a in args:
            sf.arguments.add().value.CopyFrom(a)
        sf.output_type.CopyFrom(out)
        return e

    # relations
    @staticmethod
    def _schema(names, types):
        ns = type_pb2.NamedStruct()
        ns.names.extend(names)
        ns.struct.types.extend(types)
        ns.struct.nullability = REQ
        return ns

    def read_files(self, location: str, names, types, projection=None, best_effort=None, filter_=None,
                   fmt: str = "parquet", table: str = "t") -> algebra_pb2.Rel:
        r = algebra_pb2.Rel()
        rr = r.read
        rr.common.direct.SetInParent()
        rr.base_schema.CopyFrom(self._schema(names, types))
        if projection is not None:
            rr.projection.maintain_singular_struct = True
            rr.projection.select.SetInParent()
            for p in projection:
                rr.projection.select.struct_items.add().field = p
        if best_effort is not None:
            rr.best_effort_filter.CopyFrom(best_effort)
        if filter_ is not None:
            rr.filter.CopyFrom(filter_)
        it = rr.local_files.items.add()
        it.uri_path = location
        it.extension.Pack(apb.FileFormat(format=fmt, table=table))
        return r

    def read_shuffle(self, read: apb.ShuffleRead, names, types) -> algebra_pb2.Rel:
        r = algebra_pb2.Rel()
        rr = r.read
        rr.common.direct.SetInParent()
        rr.base_schema.CopyFrom(self._schema(names, types))
        rr.extension_table.detail.Pack(read)
        return r

    def values(self, names, types, rows) -> algebra_pb2.Rel:
        r = algebra_pb2.Rel()
        rr = r.read
        rr.common.direct.SetInParent()
        rr.base_schema.CopyFrom(self._schema(names, types))
        for row in rows:
            st = rr.virtual_table.expressions.add()
            for v in row:
                st.fields.add().CopyFrom(v)
        return r

    @staticmethod
    def filter(inp, cond) -> algebra_pb2.Rel:
        r = algebra_pb2.Rel()
        r.filter.common.direct.SetInParent()
        r.filter.input.CopyFrom(inp)
        r.filter.condition.CopyFrom(cond)
        return r

    @staticmethod
    def project(inp, exprs, emit=None) -> algebra_pb2.Rel:
        r = algebra_pb2.Rel()
        if emit is None:
            r.project.common.direct.SetInParent()
        else:
            r.project.common.emit.output_mapping.extend(emit)
        r.project.input.CopyFrom(inp)
        for e in exprs:
            r.project.expressions.add().CopyFrom(e)
        return r

    def aggregate(self, inp, groups, measures) -> algebra_pb2.Rel:
        """measures: (name, [args], output type, urn)."""
        r = algebra_pb2.Rel()
        a = r.aggregate
        a.common.direct.SetInParent()
        a.input.CopyFrom(inp)
        if groups:
            g = a.groupings.add()
            for i, e in enumerate(groups):
                a.grouping_expressions.add().CopyFrom(e)
                g.expression_references.append(i)
        for name, args, out, urn in measures:
            m = a.measures.add().measure
            m.function_reference = self.fn(name, urn)
            m.phase = algebra_pb2.AGGREGATION_PHASE_INITIAL_TO_RESULT
            m.invocation = algebra_pb2.AggregateFunction.AGGREGATION_INVOCATION_ALL
            m.output_type.CopyFrom(out)
            for e in args:
                m.arguments.add().value.CopyFrom(e)
        return r

    @staticmethod
    def sort(inp, keys) -> algebra_pb2.Rel:
        r = algebra_pb2.Rel()
        r.sort.common.direct.SetInParent()
        r.sort.input.CopyFrom(inp)
        for i in keys:
            f = r.sort.sorts.add()
            f.expr.CopyFrom(PlanBuilder.col(i))
            f.direction = algebra_pb2.SortField.SORT_DIRECTION_ASC_NULLS_LAST
        return r

    def finish(self, body, names, write: apb.ShuffleWrite) -> bytes:
        root = self.plan.relations.add().root
        es = root.input.extension_single
        es.common.direct.SetInParent()
        es.input.CopyFrom(body)
        es.detail.Pack(write)
        root.names.extend(names)
        return self.plan.SerializeToString()


def hash_write(keys, partitions, compression="lz4") -> apb.ShuffleWrite:
    return apb.ShuffleWrite(hash=apb.HashPartitioning(key_fields=keys, partitions=partitions), compression=compression)


def single_write(compression="lz4") -> apb.ShuffleWrite:
    return apb.ShuffleWrite(single=apb.Single(), compression=compression)
