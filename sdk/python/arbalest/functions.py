"""User-defined scalar and aggregate functions over pyarrow arrays.

A scalar function gets one pyarrow Array per argument (all of the batch's
length) and returns an Array of that length::

    @arbalest.udf(args=[pa.float64(), pa.float64()], returns=pa.float64())
    def hypot(x, y):
        return pc.sqrt(pc.add(pc.multiply(x, x), pc.multiply(y, y)))

An aggregate function is a class; the SDK makes one instance per group and
calls ``update`` with the group's rows (slices of the batch), ``state`` and
``merge`` to move partial results between the host's aggregation phases,
and ``evaluate`` for the result::

    @arbalest.udaf(args=[pa.float64()], returns=pa.float64(),
                   state=[pa.field("log_sum", pa.float64()), pa.field("n", pa.int64())])
    class GeoMean:
        def __init__(self): ...
        def update(self, values): ...
        def merge(self, log_sums, counts): ...
        def state(self): return [self.log_sum, self.n]
        def evaluate(self): ...
"""

from __future__ import annotations

import inspect
import json
import re
import threading
from typing import Any, Callable, Iterator, Optional, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from . import _types

__all__ = [
    "udf",
    "udaf",
    "ScalarFunction",
    "AggregateFunction",
    "FunctionError",
    "registered_functions",
    "extension_yaml",
]

VOLATILITIES = ("immutable", "stable", "volatile")

# Names SQL can call without quoting; ':' separates a Substrait compound name.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Aggregate output is sent in batches of at most this many groups.
OUTPUT_BATCH_ROWS = 64 * 1024

# One Python object per group: beyond this many groups an aggregation is a
# host bug (or would not fit in memory anyway), not something to attempt.
MAX_GROUPS = 1 << 28

GROUP_COLUMN = "group"


class FunctionError(Exception):
    """A function was declared or called wrongly, or raised. The message
    names the function."""


_registry_lock = threading.Lock()
_registry: list["Function"] = []


def _register(fn: "Function") -> None:
    with _registry_lock:
        _registry.append(fn)


def forget_module(module: str) -> None:
    """Drops the functions registered by a module (before loading it again)."""
    with _registry_lock:
        _registry[:] = [f for f in _registry if f.module != module]


def registered_functions(module: Optional[str] = None) -> list["Function"]:
    """The functions declared with @udf and @udaf so far (in declaration
    order), optionally only those defined in the named module."""
    with _registry_lock:
        fns = list(_registry)
    if module is not None:
        fns = [f for f in fns if f.module == module]
    return fns


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise FunctionError(f"function name {name!r} is not an identifier (letters, digits and _, "
                            f"not starting with a digit)")
    return name


def _check_volatility(name: str, v: str) -> str:
    vv = str(v).lower()
    if vv not in VOLATILITIES:
        raise FunctionError(f"function {name}: volatility {v!r} is not one of {', '.join(VOLATILITIES)}")
    return vv


def _description(obj: Any, given: Optional[str]) -> str:
    if given is not None:
        return given
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


def _check_declarable(name: str, what: str, f: pa.Field) -> None:
    try:
        _types.substrait_type_name(f.type)
    except TypeError as e:
        raise FunctionError(f"function {name}: {what}: {e}") from None


class Function:
    """What scalar and aggregate functions have in common."""

    kind: str
    name: str
    arg_fields: list[pa.Field]
    result_field: pa.Field
    volatility: str
    description: str
    null_on_null: bool
    module: Optional[str]

    @property
    def arg_types(self) -> list[pa.DataType]:
        return [f.type for f in self.arg_fields]

    @property
    def result_type(self) -> pa.DataType:
        return self.result_field.type

    def signature(self) -> str:
        args = ", ".join(str(t) for t in self.arg_types)
        return f"{self.name}({args}) -> {self.result_type}"

    def __repr__(self) -> str:
        return f"<arbalest {self.kind} function {self.signature()}>"


def _arg_fields(name: str, args: Sequence[Any], param_names: Sequence[str]) -> list[pa.Field]:
    if isinstance(args, (pa.DataType, pa.Field, str)):
        raise FunctionError(f"function {name}: args must be a list of types, got a single {args!r}")
    fields = []
    for i, a in enumerate(args):
        default = param_names[i] if i < len(param_names) else f"arg{i}"
        try:
            f = _types.as_field(a, default, f"argument {i + 1}")
        except TypeError as e:
            raise FunctionError(f"function {name}: {e}") from None
        _check_declarable(name, f"argument {i + 1}", f)
        fields.append(f)
    return fields


def _result_field(name: str, returns: Any) -> pa.Field:
    if returns is None:
        raise FunctionError(f"function {name}: returns= (the result type) is required")
    try:
        f = _types.as_field(returns, "result", "result")
    except TypeError as e:
        raise FunctionError(f"function {name}: {e}") from None
    _check_declarable(name, "result", f)
    return f


class ScalarFunction(Function):
    """A scalar UDF (see udf). Calling it calls the Python function."""

    kind = "scalar"

    def __init__(self, func: Callable, args: Sequence[Any], returns: Any, volatility: str = "immutable",
                 name: Optional[str] = None, description: Optional[str] = None, null_on_null: bool = False):
        if not callable(func):
            raise FunctionError(f"@udf needs a function, got {func!r}")
        self.func = func
        self.name = _check_name(name if name is not None else func.__name__)
        params = _parameter_names(func)
        self.arg_fields = _arg_fields(self.name, args, params)
        self.result_field = _result_field(self.name, returns)
        self.volatility = _check_volatility(self.name, volatility)
        self.description = _description(func, description)
        self.null_on_null = bool(null_on_null)
        self.module = getattr(func, "__module__", None)
        self.__doc__ = func.__doc__
        self.__wrapped__ = func

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)

    def evaluate(self, args: Sequence[pa.Array], num_rows: int) -> pa.Array:
        """Calls the function on one batch's argument arrays and checks the
        result: an Array of the declared type with num_rows rows."""
        try:
            out = self.func(*args)
        except Exception as e:
            raise FunctionError(f"function {self.name} raised {_exc(e)}") from e
        return _result_array(self, out, num_rows, allow_broadcast=not self.arg_fields)


def _parameter_names(func: Callable) -> list[str]:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    names = []
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
    return names


def _exc(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


_same_kind = (
    lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t),
    lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t),
    lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t),
    pa.types.is_timestamp,
    pa.types.is_date,
    pa.types.is_time,
    lambda t: pa.types.is_list(t) or pa.types.is_large_list(t),
    pa.types.is_boolean,
)


def _castable(src: pa.DataType, dst: pa.DataType) -> bool:
    """Whether a result of type src may be cast to the declared dst: only
    within one family (integer to float, string to large_string, ...), and
    only when the cast loses nothing (checked by the safe cast itself). A
    cast across families (string to number) would hide a bug."""
    return any(k(src) and k(dst) for k in _same_kind) or src == pa.null()


def _result_array(fn: Function, out: Any, num_rows: int, allow_broadcast: bool = False) -> pa.Array:
    want = fn.result_type
    if isinstance(out, pa.ChunkedArray):
        out = out.combine_chunks() if out.num_chunks != 1 else out.chunk(0)
    elif isinstance(out, pa.Scalar) or (allow_broadcast and _is_python_scalar(out)):
        if not allow_broadcast:
            raise FunctionError(f"function {fn.name} returned a single {type(out).__name__}; "
                                f"it must return an array of {num_rows} rows")
        try:
            out = pa.repeat(out if isinstance(out, pa.Scalar) else pa.scalar(out, type=want), num_rows)
        except (pa.ArrowException, TypeError, ValueError) as e:
            raise FunctionError(f"function {fn.name} returned {out!r}, not a {want}: {e}") from None
    elif not isinstance(out, pa.Array):
        if out is None or _is_python_scalar(out):
            raise FunctionError(f"function {fn.name} returned {type(out).__name__} {out!r}; "
                                f"it must return an array of {num_rows} rows")
        try:
            out = pa.array(out, type=want)
        except (pa.ArrowException, TypeError, ValueError) as e:
            raise FunctionError(f"function {fn.name} returned a {type(out).__name__} that is not an "
                                f"array of {want}: {e}") from None
    if len(out) != num_rows:
        raise FunctionError(f"function {fn.name} returned {len(out)} rows for a batch of {num_rows} rows")
    if pa.types.is_dictionary(out.type):
        out = out.dictionary_decode()
    if out.type != want:
        if not _castable(out.type, want):
            raise FunctionError(f"function {fn.name} returned {out.type}, declared {want}")
        try:
            out = out.cast(want, safe=True)
        except pa.ArrowException as e:
            raise FunctionError(f"function {fn.name} returned {out.type}, declared {want}, "
                                f"and the values do not fit: {e}") from None
    return out


def _is_python_scalar(v: Any) -> bool:
    import datetime
    import decimal
    return v is None or isinstance(v, (bool, int, float, str, bytes, decimal.Decimal, datetime.date,
                                       datetime.time, datetime.timedelta))


def udf(args: Sequence[Any] = (), returns: Any = None, volatility: str = "immutable",
        name: Optional[str] = None, description: Optional[str] = None,
        null_on_null: bool = False) -> Callable[[Callable], ScalarFunction]:
    """Declares a scalar function over pyarrow arrays.

    args: the argument types (pyarrow DataTypes, Fields, or names such as
    "int64"); the host casts arguments to them. returns: the result type.
    volatility: "immutable" (same arguments, same result: calls with
    constant arguments may be folded), "stable" (same within one query) or
    "volatile". name: the SQL name (default: the function's name).
    null_on_null: rows with a NULL argument are NULL without calling the
    function.

    The function gets one pyarrow Array per argument and returns an Array
    (or anything ``pa.array`` accepts) with as many rows. A function without
    arguments may return a single value, used for every row.
    """
    if callable(args) and returns is None:
        raise FunctionError("@udf needs arguments: @udf(args=[...], returns=...)")

    def wrap(func: Callable) -> ScalarFunction:
        fn = ScalarFunction(func, args, returns, volatility=volatility, name=name,
                            description=description, null_on_null=null_on_null)
        _register(fn)
        return fn

    return wrap


class AggregateFunction(Function):
    """An aggregate UDF (see udaf). Calling it makes an accumulator."""

    kind = "aggregate"

    def __init__(self, cls: type, args: Sequence[Any], returns: Any, state: Sequence[pa.Field],
                 volatility: str = "immutable", name: Optional[str] = None,
                 description: Optional[str] = None, null_on_null: bool = False):
        if not isinstance(cls, type):
            raise FunctionError(f"@udaf decorates a class, got {cls!r}")
        self.cls = cls
        self.name = _check_name(name if name is not None else _snake(cls.__name__))
        for method in ("update", "merge", "state", "evaluate"):
            if not callable(getattr(cls, method, None)):
                raise FunctionError(f"aggregate {self.name}: class {cls.__name__} has no {method}() method")
        self.arg_fields = _arg_fields(self.name, args, _parameter_names(cls.update)[1:])
        self.result_field = _result_field(self.name, returns)
        if not state or isinstance(state, (pa.Field, pa.DataType)):
            raise FunctionError(f"aggregate {self.name}: state= must list the state columns "
                                f"(pyarrow Fields), e.g. [pa.field('sum', pa.float64())]")
        fields = []
        for i, s in enumerate(state):
            try:
                f = _types.as_field(s, f"state{i}", f"state column {i + 1}")
            except TypeError as e:
                raise FunctionError(f"aggregate {self.name}: {e}") from None
            _check_declarable(self.name, f"state column {i + 1}", f)
            fields.append(f)
        names = [f.name for f in fields]
        if len(set(names)) != len(names) or GROUP_COLUMN in names:
            raise FunctionError(f"aggregate {self.name}: state column names must be distinct and not "
                                f"{GROUP_COLUMN!r}: {names}")
        self.state_fields = fields
        self.volatility = _check_volatility(self.name, volatility)
        self.description = _description(cls, description)
        self.null_on_null = bool(null_on_null)
        self.module = getattr(cls, "__module__", None)
        self.__doc__ = cls.__doc__
        self.__wrapped__ = cls

    def __call__(self, *args, **kwargs):
        return self.cls(*args, **kwargs)

    @property
    def state_types(self) -> list[pa.DataType]:
        return [f.type for f in self.state_fields]

    def new_accumulator(self):
        try:
            return self.cls()
        except Exception as e:
            raise FunctionError(f"aggregate {self.name}: {self.cls.__name__}() raised {_exc(e)}") from e


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return s.lower()


def udaf(args: Sequence[Any] = (), returns: Any = None, state: Sequence[Any] = (),
         volatility: str = "immutable", name: Optional[str] = None, description: Optional[str] = None,
         null_on_null: bool = False) -> Callable[[type], AggregateFunction]:
    """Declares an aggregate function implemented by a class.

    args and returns as for udf; state: the intermediate state columns
    (pyarrow Fields), which the host moves between its partial and final
    aggregation steps. name defaults to the class name in snake_case.

    The class is instantiated (without arguments) once per group and has:

    - ``update(self, *arrays)``: add rows (one Array per argument);
    - ``merge(self, *state_arrays)``: add other states (one Array per state
      column, rows as ``state`` returned them);
    - ``state(self)``: the state, one value per state column;
    - ``evaluate(self)``: the result, one value.

    A group that receives no rows is evaluated on a fresh instance.
    """
    if isinstance(args, type):
        raise FunctionError("@udaf needs arguments: @udaf(args=[...], returns=..., state=[...])")

    def wrap(cls: type) -> AggregateFunction:
        fn = AggregateFunction(cls, args, returns, state, volatility=volatility, name=name,
                               description=description, null_on_null=null_on_null)
        _register(fn)
        return fn

    return wrap


# --- running aggregates -----------------------------------------------------

PHASE_COMPLETE = "complete"
PHASE_PARTIAL = "partial"
PHASE_FINAL = "final"


def split_groups(groups: pa.Array) -> Iterator[tuple[int, Optional[pa.Array], int, int]]:
    """Splits a batch by its group column without a per-row Python loop.

    Yields (group, order, start, length): the rows of the group are
    ``take(order)[start:start+length]``, or ``[start:start+length]`` when
    order is None (the batch was already one group). Groups come in
    ascending order.
    """
    n = len(groups)
    if n == 0:
        return
    if groups.null_count:
        raise FunctionError(f"the {GROUP_COLUMN!r} column has {groups.null_count} NULLs")
    mm = pc.min_max(groups)
    lo, hi = mm["min"].as_py(), mm["max"].as_py()
    if lo == hi:
        yield lo, None, 0, n
        return
    order = pc.sort_indices(groups)
    runs = pc.run_end_encode(groups.take(order))
    start = 0
    for g, end in zip(runs.values.to_pylist(), runs.run_ends.to_pylist()):
        yield g, order, start, end - start
        start = end


class AggregateRun:
    """One aggregation (one DoExchange) of an aggregate function: batches go
    in with ``add``, and ``finish`` yields the output batches."""

    def __init__(self, fn: AggregateFunction, phase: str):
        if phase not in (PHASE_COMPLETE, PHASE_PARTIAL, PHASE_FINAL):
            raise ValueError(f"unknown aggregate phase {phase!r}")
        self.fn = fn
        self.phase = phase
        self.accumulators: dict[int, Any] = {}
        self.max_group = -1
        self.input_types = fn.state_types if phase == PHASE_FINAL else fn.arg_types

    def input_schema_error(self, schema: pa.Schema) -> Optional[str]:
        """What is wrong with the input schema for this phase, or None."""
        want = self.input_types
        what = "state columns" if self.phase == PHASE_FINAL else "arguments"
        if len(schema) != len(want) + 1:
            return (f"input has {len(schema)} columns, want {GROUP_COLUMN!r} and {len(want)} {what} "
                    f"({', '.join(str(t) for t in want)})")
        if schema.field(0).type != pa.uint32():
            return f"input column 0 ({schema.field(0).name}) is {schema.field(0).type}, want uint32 groups"
        for i, t in enumerate(want):
            got = schema.field(i + 1).type
            if got != t:
                return f"input column {i + 1} ({schema.field(i + 1).name}) is {got}, declared {t}"
        return None

    def output_schema(self) -> pa.Schema:
        group = pa.field(GROUP_COLUMN, pa.uint32(), nullable=False)
        if self.phase == PHASE_PARTIAL:
            return pa.schema([group] + self.fn.state_fields)
        return pa.schema([group, self.fn.result_field])

    def _accumulator(self, g: int):
        acc = self.accumulators.get(g)
        if acc is None:
            acc = self.fn.new_accumulator()
            self.accumulators[g] = acc
        return acc

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        err = self.input_schema_error(batch.schema)
        if err:
            raise FunctionError(f"aggregate {self.fn.name}: {err}")
        groups = batch.column(0)
        cols = batch.columns[1:]
        method = "merge" if self.phase == PHASE_FINAL else "update"
        taken: Optional[list[pa.Array]] = None
        for g, order, start, length in split_groups(groups):
            if g >= MAX_GROUPS:
                raise FunctionError(f"aggregate {self.fn.name}: group {g} is beyond the limit of "
                                    f"{MAX_GROUPS} groups")
            if order is None:
                rows = cols
            else:
                if taken is None:
                    taken = [c.take(order) for c in cols]
                rows = [c.slice(start, length) for c in taken]
            if g > self.max_group:
                self.max_group = g
            acc = self._accumulator(g)
            try:
                getattr(acc, method)(*rows)
            except Exception as e:
                raise FunctionError(f"aggregate {self.fn.name}: {method}() raised {_exc(e)}") from e

    def finish(self) -> Iterator[pa.RecordBatch]:
        """The output: one row per group from 0 to the largest group seen
        (none when no rows came), in batches."""
        schema = self.output_schema()
        n = self.max_group + 1
        for lo in range(0, n, OUTPUT_BATCH_ROWS):
            hi = min(n, lo + OUTPUT_BATCH_ROWS)
            groups = pa.array(range(lo, hi), type=pa.uint32())
            if self.phase == PHASE_PARTIAL:
                cols = self._states(lo, hi)
            else:
                cols = [self._results(lo, hi)]
            yield pa.RecordBatch.from_arrays([groups] + cols, schema=schema)

    def _get(self, g: int):
        acc = self.accumulators.get(g)
        return acc if acc is not None else self.fn.new_accumulator()

    def _results(self, lo: int, hi: int) -> pa.Array:
        values = []
        for g in range(lo, hi):
            try:
                values.append(_py(self._get(g).evaluate()))
            except Exception as e:
                raise FunctionError(f"aggregate {self.fn.name}: evaluate() raised {_exc(e)} (group {g})") from e
        return _column(self.fn, "evaluate()", self.fn.result_type, values, lo)

    def _states(self, lo: int, hi: int) -> list[pa.Array]:
        k = len(self.fn.state_fields)
        columns: list[list] = [[] for _ in range(k)]
        for g in range(lo, hi):
            try:
                st = self._get(g).state()
            except Exception as e:
                raise FunctionError(f"aggregate {self.fn.name}: state() raised {_exc(e)} (group {g})") from e
            if isinstance(st, (str, bytes)) or not isinstance(st, Sequence) or len(st) != k:
                raise FunctionError(f"aggregate {self.fn.name}: state() returned {st!r}; it must return a "
                                    f"list of {k} values ({', '.join(f.name for f in self.fn.state_fields)})")
            for i, v in enumerate(st):
                columns[i].append(_py(v))
        return [_column(self.fn, f"state() column {f.name}", f.type, vals, lo)
                for f, vals in zip(self.fn.state_fields, columns)]


def _py(v: Any) -> Any:
    return v.as_py() if isinstance(v, pa.Scalar) else v


def _column(fn: Function, what: str, t: pa.DataType, values: list, first_group: int) -> pa.Array:
    try:
        return pa.array(values, type=t)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as e:
        # Find the offending group for the message.
        for i, v in enumerate(values):
            try:
                pa.scalar(v, type=t)
            except (pa.ArrowException, TypeError, ValueError, OverflowError):
                raise FunctionError(f"aggregate {fn.name}: {what} returned {v!r} for group "
                                    f"{first_group + i}, not a {t}") from None
        raise FunctionError(f"aggregate {fn.name}: {what} values are not {t}: {e}") from None


# --- the extension YAML -------------------------------------------------------


def extension_urn(owner: str, plugin_name: str) -> str:
    return f"extension:{owner}:{plugin_name}"


def _q(s: str) -> str:
    # JSON strings are YAML 1.2 double-quoted scalars.
    return json.dumps(s, ensure_ascii=False)


def extension_yaml(urn: str, functions: Sequence[Function]) -> str:
    """A Substrait simple extension YAML declaring the functions under urn.

    Results are declared nullable (``DECLARED_OUTPUT``, ``T?``): a Python
    function may return NULL for any row. Aggregates are decomposable into
    the declared state (``intermediate: struct<...>``). Volatile functions
    are not deterministic.
    """
    lines = ["%YAML 1.2", "---", f"urn: {_q(urn)}"]
    for kind, key in (("scalar", "scalar_functions"), ("aggregate", "aggregate_functions")):
        fns = [f for f in functions if f.kind == kind]
        if not fns:
            continue
        lines.append(f"{key}:")
        for f in fns:
            lines.append(f"  - name: {_q(f.name)}")
            if f.description:
                lines.append(f"    description: {_q(f.description)}")
            lines.append("    impls:")
            if f.arg_fields:
                lines.append("      - args:")
                for a in f.arg_fields:
                    lines.append(f"          - name: {_q(a.name)}")
                    lines.append(f"            value: {_types.substrait_type_name(a.type)}")
            else:
                lines.append("      - args: []")
            lines.append("        nullability: DECLARED_OUTPUT")
            if f.volatility == "volatile":
                lines.append("        deterministic: false")
            if kind == "aggregate":
                inter = ",".join(_types.substrait_type_name(s.type) for s in f.state_fields)
                lines.append("        decomposable: MANY")
                lines.append(f"        intermediate: {_q('struct<' + inter + '>')}")
            lines.append(f"        return: {_types.substrait_type_name(f.result_type)}?")
    return "\n".join(lines) + "\n"
