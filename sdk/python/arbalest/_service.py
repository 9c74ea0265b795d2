"""The Arbalest plugin protocol's gRPC services for a Python plugin.

PluginService (GetInfo), ScanService (GetSchema, PlanScan) and Flight's
DoGet (read a split) and DoExchange (run a function), over the plugin's
data source and functions. Errors reach the host as gRPC statuses whose
message names the source or function: INVALID_ARGUMENT for requests the
plugin cannot read, NOT_FOUND for an unknown function, UNIMPLEMENTED for a
scan on a plugin without a data source, UNKNOWN when the plugin's own code
raised and INTERNAL when it returned something other than it declared. The
traceback goes to the plugin's log (stderr, which the host logs).
"""

from __future__ import annotations

import itertools
import logging
import struct
from typing import Iterable, Iterator, Optional

import grpc
import pyarrow as pa

from . import _flight, _types
from ._proto import flight_subset_pb2, plugin_pb2, plugin_pb2_grpc
from .filters import FilterDecodeError, decode_filters
from .functions import (PHASE_COMPLETE, PHASE_FINAL, PHASE_PARTIAL, AggregateFunction, AggregateRun,
                        FunctionError, ScalarFunction)
from .source import DataSource, Plan, Split, Statistics, Table, Verdict

log = logging.getLogger("arbalest")

PROTOCOL_VERSION = 1

FLIGHT_SERVICE = "arrow.flight.protocol.FlightService"

# Batches a source yields are cut to about this size on the wire (gRPC
# messages are bounded; the host's reader handles many small batches well).
MAX_BATCH_BYTES = 16 << 20

_VERDICTS = {
    Verdict.UNSUPPORTED: plugin_pb2.FILTER_VERDICT_UNSUPPORTED,
    Verdict.INEXACT: plugin_pb2.FILTER_VERDICT_INEXACT,
    Verdict.EXACT: plugin_pb2.FILTER_VERDICT_EXACT,
}

_VOLATILITY = {
    "immutable": plugin_pb2.VOLATILITY_IMMUTABLE,
    "stable": plugin_pb2.VOLATILITY_STABLE,
    "volatile": plugin_pb2.VOLATILITY_VOLATILE,
}

_PHASES = {
    plugin_pb2.FUNCTION_PHASE_COMPLETE: PHASE_COMPLETE,
    plugin_pb2.FUNCTION_PHASE_PARTIAL: PHASE_PARTIAL,
    plugin_pb2.FUNCTION_PHASE_FINAL: PHASE_FINAL,
}


class _Abort(Exception):
    """Ends an RPC with a status (raised inside the handlers, turned into
    context.abort at their top)."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- split tickets ----------------------------------------------------------

# A ticket wraps the source's split with what DoGet needs without asking the
# source again: the projected schema the split must produce and, for a
# source that does not project, the columns to keep. Layout: magic, version,
# u32 schema length, schema, u32 column count, u32 columns, split.
_TICKET_MAGIC = b"ARBPY"
_TICKET_VERSION = 1


def encode_ticket(schema: pa.Schema, columns: Optional[list[int]], split: bytes) -> bytes:
    sb = _types.schema_to_bytes(schema)
    cols = columns if columns is not None else []
    has = 1 if columns is not None else 0
    return b"".join([
        _TICKET_MAGIC, bytes([_TICKET_VERSION, has]),
        struct.pack("<I", len(sb)), sb,
        struct.pack("<I", len(cols)), struct.pack(f"<{len(cols)}I", *cols),
        split,
    ])


def decode_ticket(ticket: bytes) -> tuple[pa.Schema, Optional[list[int]], bytes]:
    """Raises ValueError when the ticket was not made by encode_ticket."""
    mv = memoryview(ticket)
    head = len(_TICKET_MAGIC) + 2
    if len(mv) < head + 4 or bytes(mv[:len(_TICKET_MAGIC)]) != _TICKET_MAGIC:
        raise ValueError("not a split ticket of a Python plugin")
    if mv[len(_TICKET_MAGIC)] != _TICKET_VERSION:
        raise ValueError(f"split ticket version {mv[len(_TICKET_MAGIC)]}, want {_TICKET_VERSION}")
    has = mv[len(_TICKET_MAGIC) + 1]
    pos = head
    (n,) = struct.unpack_from("<I", mv, pos)
    pos += 4
    if pos + n + 4 > len(mv):
        raise ValueError("truncated split ticket")
    schema = _types.schema_from_bytes(bytes(mv[pos:pos + n]), "split ticket schema")
    pos += n
    (k,) = struct.unpack_from("<I", mv, pos)
    pos += 4
    if pos + 4 * k > len(mv):
        raise ValueError("truncated split ticket")
    cols = list(struct.unpack_from(f"<{k}I", mv, pos))
    pos += 4 * k
    return schema, (cols if has else None), bytes(mv[pos:])


# --- the services -----------------------------------------------------------


class PluginServices:
    """The protocol's services over one plugin (see arbalest.Plugin)."""

    def __init__(self, plugin):
        self.plugin = plugin
        self.functions = {f.name: f for f in plugin.functions}
        self.info = self._info()

    # PluginService

    def _info(self) -> plugin_pb2.GetInfoResponse:
        p = self.plugin
        resp = plugin_pb2.GetInfoResponse(name=p.name, version=p.version, protocol_version=PROTOCOL_VERSION)
        src = p.source
        if src is not None:
            resp.scan = True
            # Projection is always taken: the SDK drops the columns a source
            # that does not project returns.
            resp.scan_capabilities.CopyFrom(plugin_pb2.ScanCapabilities(
                projection=True, filters=bool(src.filters), limit=bool(src.limit), splits=bool(src.splits)))
        for f in p.functions:
            sig = plugin_pb2.FunctionSignature(
                name=f.name,
                kind=plugin_pb2.FUNCTION_KIND_SCALAR if isinstance(f, ScalarFunction)
                else plugin_pb2.FUNCTION_KIND_AGGREGATE,
                arguments=_types.schema_to_bytes(pa.schema(f.arg_fields)),
                result=_types.schema_to_bytes(pa.schema([f.result_field])),
                volatility=_VOLATILITY[f.volatility],
                description=f.description,
                null_on_null=f.null_on_null,
            )
            if isinstance(f, AggregateFunction):
                sig.state = _types.schema_to_bytes(pa.schema(f.state_fields))
            resp.functions.append(sig)
        if p.functions:
            resp.extension_urn = p.extension_urn
            resp.extension_yaml = p.extension_yaml
        return resp

    def GetInfo(self, request: plugin_pb2.GetInfoRequest, context: grpc.ServicerContext):
        if request.protocol_version not in (0, PROTOCOL_VERSION):
            log.warning("host speaks plugin protocol %d; this plugin speaks %d",
                        request.protocol_version, PROTOCOL_VERSION)
        return self.info

    # ScanService

    def _source(self) -> DataSource:
        src = self.plugin.source
        if src is None:
            raise _Abort(grpc.StatusCode.UNIMPLEMENTED, f"plugin {self.plugin.name} has no data source")
        return src

    def _schema(self, src: DataSource, table: Table) -> pa.Schema:
        try:
            schema = src.schema(table)
        except Exception as e:
            raise _user_error(f"data source {src}: schema() raised", e)
        if not isinstance(schema, pa.Schema):
            raise _Abort(grpc.StatusCode.INTERNAL,
                         f"data source {src}: schema() returned {type(schema).__name__}, not a pyarrow Schema")
        return _types.plain_schema(schema)

    def GetSchema(self, request: plugin_pb2.GetSchemaRequest, context: grpc.ServicerContext):
        return _unary(context, self._get_schema, request)

    def _get_schema(self, request: plugin_pb2.GetSchemaRequest) -> plugin_pb2.GetSchemaResponse:
        src = self._source()
        table = _table(request.table)
        schema = self._schema(src, table)
        try:
            stats = src.statistics(table)
        except Exception as e:
            raise _user_error(f"data source {src}: statistics() raised", e)
        if stats is not None and not isinstance(stats, Statistics):
            raise _Abort(grpc.StatusCode.INTERNAL, f"data source {src}: statistics() returned "
                                                   f"{type(stats).__name__}, not arbalest.Statistics or None")
        resp = plugin_pb2.GetSchemaResponse(schema=_types.schema_to_bytes(schema))
        resp.statistics.CopyFrom(_statistics(src, "statistics()", stats.row_count if stats else None,
                                             stats.total_bytes if stats else None))
        return resp

    def PlanScan(self, request: plugin_pb2.PlanScanRequest, context: grpc.ServicerContext):
        return _unary(context, self._plan_scan, request)

    def _plan_scan(self, request: plugin_pb2.PlanScanRequest) -> plugin_pb2.PlanScanResponse:
        src = self._source()
        table = _table(request.table)
        full = self._schema(src, table)
        table.schema = full
        indices: Optional[list[int]] = None
        if request.HasField("projection"):
            indices = list(request.projection.columns)
            for i in indices:
                if i >= len(full):
                    raise _Abort(grpc.StatusCode.INVALID_ARGUMENT,
                                 f"data source {src}: projection column {i} is out of range for "
                                 f"{len(full)} columns")
        out_schema = pa.schema([full.field(i) for i in indices]) if indices is not None else full
        projection = [full.field(i).name for i in indices] if indices is not None else None
        # A source that does not project reads every column; the SDK keeps
        # the projected ones.
        keep: Optional[list[int]] = None
        if projection is not None and not src.projection:
            keep, projection = indices, None
        try:
            filters = decode_filters(request.filters, request.filter_count)
        except FilterDecodeError as e:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"data source {src}: {e}")
        given = filters if src.filters else []
        limit = request.limit if request.limit >= 0 and src.limit else None
        parallelism = max(1, request.target_parallelism)
        try:
            plan = src.plan(table, projection, given, limit, parallelism)
        except Exception as e:
            raise _user_error(f"data source {src}: plan() raised", e)
        if not isinstance(plan, Plan):
            raise _Abort(grpc.StatusCode.INTERNAL,
                         f"data source {src}: plan() returned {type(plan).__name__}, not an arbalest.Plan")
        if len(plan.verdicts) > len(given):
            raise _Abort(grpc.StatusCode.INTERNAL,
                         f"data source {src}: plan() gave {len(plan.verdicts)} verdicts for {len(given)} filters")
        resp = plugin_pb2.PlanScanResponse(explain=str(plan.explain or ""))
        for i, v in enumerate(plan.verdicts):
            try:
                resp.verdicts.append(_VERDICTS[Verdict.of(v)])
            except ValueError as e:
                raise _Abort(grpc.StatusCode.INTERNAL, f"data source {src}: verdict {i}: {e}")
        if not src.splits and len(plan.splits) > 1:
            raise _Abort(grpc.StatusCode.INTERNAL,
                         f"data source {src}: plan() returned {len(plan.splits)} splits but the source "
                         f"declares splits = False")
        # What read() must return: the projected columns, or all of them
        # for a source that does not project.
        read_schema = full if keep is not None else out_schema
        for i, s in enumerate(plan.splits):
            split = _split(src, i, s)
            resp.splits.append(plugin_pb2.Split(
                ticket=encode_ticket(read_schema, keep, split.data),
                statistics=_statistics(src, f"split {i}", split.row_count, split.total_bytes)))
        resp.statistics.CopyFrom(_statistics(src, "plan()", plan.row_count, None))
        return resp

    # FlightService

    def DoGet(self, request: flight_subset_pb2.Ticket, context: grpc.ServicerContext) -> Iterator[bytes]:
        try:
            yield from self._do_get(request)
        except _Abort as a:
            _abort(context, a)

    def _do_get(self, request: flight_subset_pb2.Ticket) -> Iterator[bytes]:
        src = self._source()
        try:
            schema, keep, split = decode_ticket(request.ticket)
        except ValueError as e:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"data source {src}: bad ticket: {e}")
        out_schema = schema if keep is None else pa.schema([schema.field(i) for i in keep])
        yield _flight.encode_schema(out_schema)
        try:
            items = src.read(split)
            if isinstance(items, (pa.RecordBatch, pa.Table)):
                items = [items]
            it = iter(items)
        except Exception as e:
            raise _user_error(f"data source {src}: read() raised", e)
        while True:
            try:
                item = next(it)
            except StopIteration:
                break
            except Exception as e:
                raise _user_error(f"data source {src}: read() raised", e)
            for batch in _batches(src, item):
                batch = _types.plain_batch(batch)
                diff = _types.describe_schema_difference(schema, batch.schema)
                if diff:
                    raise _Abort(grpc.StatusCode.INTERNAL,
                                 f"data source {src}: read() returned a batch with the wrong schema: {diff}")
                if keep is not None:
                    batch = batch.select(keep)
                if batch.schema != out_schema:
                    # Same names and types; take the declared nullability
                    # and metadata.
                    batch = pa.RecordBatch.from_arrays(batch.columns, schema=out_schema)
                for piece in _slices(batch):
                    yield _flight.encode_batch(piece)

    def DoExchange(self, request_iterator: Iterator[_flight.FlightMessage],
                   context: grpc.ServicerContext) -> Iterator[bytes]:
        try:
            yield from self._do_exchange(request_iterator)
        except _Abort as a:
            _abort(context, a)

    def _do_exchange(self, messages: Iterator[_flight.FlightMessage]) -> Iterator[bytes]:
        first = next(messages, None)
        if first is None:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "DoExchange without any message")
        d = first.descriptor
        if d is None or d.type != flight_subset_pb2.FlightDescriptor.CMD:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT,
                         "DoExchange: the first message must carry a CMD descriptor holding a FunctionCall")
        call = plugin_pb2.FunctionCall()
        try:
            call.ParseFromString(d.cmd)
        except Exception as e:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"DoExchange: the descriptor is not a FunctionCall: {e}")
        fn = self.functions.get(call.function)
        if fn is None:
            known = ", ".join(sorted(self.functions)) or "none"
            raise _Abort(grpc.StatusCode.NOT_FOUND,
                         f"plugin {self.plugin.name} has no function {call.function!r} (it has: {known})")
        reader = _flight.FlightBatchReader(itertools.chain([first], messages))
        if isinstance(fn, ScalarFunction):
            if call.phase != plugin_pb2.FUNCTION_PHASE_SCALAR:
                raise _Abort(grpc.StatusCode.INVALID_ARGUMENT,
                             f"function {fn.name} is scalar; called in phase "
                             f"{plugin_pb2.FunctionPhase.Name(call.phase)}")
            yield from self._scalar(fn, reader)
        else:
            phase = _PHASES.get(call.phase)
            if phase is None:
                raise _Abort(grpc.StatusCode.INVALID_ARGUMENT,
                             f"function {fn.name} is an aggregate; called in phase "
                             f"{plugin_pb2.FunctionPhase.Name(call.phase) if call.phase in plugin_pb2.FunctionPhase.values() else call.phase}")
            yield from self._aggregate(fn, phase, reader)

    def _scalar(self, fn: ScalarFunction, reader: _flight.FlightBatchReader) -> Iterator[bytes]:
        out_schema = pa.schema([fn.result_field])
        yield _flight.encode_schema(out_schema)
        schema = _start(fn, reader)
        if schema is None:
            return
        want = fn.arg_types
        checked = False
        for batch in _read(fn, reader):
            batch = _types.plain_batch(batch)
            if not checked:
                got = [f.type for f in batch.schema]
                if got != want:
                    raise _Abort(grpc.StatusCode.INVALID_ARGUMENT,
                                 f"function {fn.name}: arguments are ({', '.join(map(str, got))}), "
                                 f"declared ({', '.join(map(str, want))})")
                checked = True
            try:
                out = fn.evaluate(batch.columns, batch.num_rows)
            except FunctionError as e:
                raise _function_error(e)
            yield _flight.encode_batch(pa.RecordBatch.from_arrays([out], schema=out_schema))

    def _aggregate(self, fn: AggregateFunction, phase: str, reader: _flight.FlightBatchReader) -> Iterator[bytes]:
        run = AggregateRun(fn, phase)
        yield _flight.encode_schema(run.output_schema())
        schema = _start(fn, reader)
        if schema is not None:
            err = run.input_schema_error(_types.plain_schema(schema))
            if err:
                raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"aggregate {fn.name}: {err}")
            for batch in _read(fn, reader):
                try:
                    run.add(_types.plain_batch(batch))
                except FunctionError as e:
                    raise _function_error(e)
        try:
            for batch in run.finish():
                yield _flight.encode_batch(batch)
        except FunctionError as e:
            raise _function_error(e)


def _start(fn, reader: _flight.FlightBatchReader) -> Optional[pa.Schema]:
    try:
        return reader.start()
    except _flight.FlightProtocolError as e:
        raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"function {fn.name}: {e}")


def _read(fn, reader: _flight.FlightBatchReader) -> Iterator[pa.RecordBatch]:
    it = iter(reader)
    while True:
        try:
            batch = next(it)
        except StopIteration:
            return
        except _flight.FlightProtocolError as e:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"function {fn.name}: {e}")
        yield batch


def _function_error(e: FunctionError) -> _Abort:
    cause = e.__cause__
    if cause is not None and not isinstance(cause, FunctionError):
        log.error("%s", e, exc_info=(type(cause), cause, cause.__traceback__))
        return _Abort(grpc.StatusCode.UNKNOWN, f"{e}{_where(cause)}")
    log.error("%s", e)
    return _Abort(grpc.StatusCode.INTERNAL, str(e))


def _user_error(what: str, e: BaseException) -> _Abort:
    log.error("%s", what, exc_info=(type(e), e, e.__traceback__))
    return _Abort(grpc.StatusCode.UNKNOWN, f"{what} {type(e).__name__}: {e}{_where(e)}")


def _where(e: BaseException) -> str:
    """Where the innermost frame of e's traceback is, for the message."""
    tb = e.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return f" (at {code.co_filename}:{tb.tb_lineno} in {code.co_name})"


def _abort(context: grpc.ServicerContext, a: _Abort) -> None:
    if a.code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNIMPLEMENTED):
        log.warning("%s", a.message)
    context.abort(a.code, a.message)


def _unary(context: grpc.ServicerContext, fn, request):
    try:
        return fn(request)
    except _Abort as a:
        _abort(context, a)


def _table(t: plugin_pb2.Table) -> Table:
    return Table(location=t.location, options=dict(t.options))


def _statistics(src, what: str, rows: Optional[int], size: Optional[int]) -> plugin_pb2.Statistics:
    for name, v in (("row count", rows), ("size", size)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise _Abort(grpc.StatusCode.INTERNAL,
                         f"data source {src}: {what}: the {name} {v!r} is not a non-negative integer or None")
    return plugin_pb2.Statistics(row_count=-1 if rows is None else rows, total_bytes=-1 if size is None else size)


def _split(src: DataSource, i: int, s) -> Split:
    if isinstance(s, Split):
        data = s.data
        out = s
    else:
        data = s
        out = None
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise _Abort(grpc.StatusCode.INTERNAL,
                     f"data source {src}: split {i} is {type(data).__name__}; splits are bytes, str or arbalest.Split")
    if out is None:
        return Split(data)
    return Split(data, out.row_count, out.total_bytes)


def _batches(src: DataSource, item) -> Iterable[pa.RecordBatch]:
    if isinstance(item, pa.RecordBatch):
        return [item]
    if isinstance(item, pa.Table):
        return item.to_batches()
    raise _Abort(grpc.StatusCode.INTERNAL,
                 f"data source {src}: read() yielded {type(item).__name__}; it must yield pyarrow RecordBatches or Tables")


def _slices(batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
    """batch cut into pieces of about MAX_BATCH_BYTES."""
    size = batch.nbytes
    if size <= MAX_BATCH_BYTES or batch.num_rows <= 1:
        yield batch
        return
    pieces = -(-size // MAX_BATCH_BYTES)
    rows = max(1, -(-batch.num_rows // pieces))
    for start in range(0, batch.num_rows, rows):
        yield batch.slice(start, rows)


def add_to_server(services: PluginServices, server: grpc.Server) -> None:
    """Registers PluginService, ScanService and the Flight methods."""
    plugin_pb2_grpc.add_PluginServiceServicer_to_server(services, server)
    plugin_pb2_grpc.add_ScanServiceServicer_to_server(services, server)
    identity = lambda b: b  # noqa: E731 - the handlers yield encoded FlightData
    handlers = {
        "DoGet": grpc.unary_stream_rpc_method_handler(
            services.DoGet, request_deserializer=flight_subset_pb2.Ticket.FromString,
            response_serializer=identity),
        "DoExchange": grpc.stream_stream_rpc_method_handler(
            services.DoExchange, request_deserializer=_flight.decode_flight_data,
            response_serializer=identity),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(FLIGHT_SERVICE, handlers),))
