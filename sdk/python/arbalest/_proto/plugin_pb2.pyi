from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FunctionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FUNCTION_KIND_UNSPECIFIED: _ClassVar[FunctionKind]
    FUNCTION_KIND_SCALAR: _ClassVar[FunctionKind]
    FUNCTION_KIND_AGGREGATE: _ClassVar[FunctionKind]

class Volatility(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VOLATILITY_UNSPECIFIED: _ClassVar[Volatility]
    VOLATILITY_IMMUTABLE: _ClassVar[Volatility]
    VOLATILITY_STABLE: _ClassVar[Volatility]
    VOLATILITY_VOLATILE: _ClassVar[Volatility]

class FilterVerdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILTER_VERDICT_UNSPECIFIED: _ClassVar[FilterVerdict]
    FILTER_VERDICT_UNSUPPORTED: _ClassVar[FilterVerdict]
    FILTER_VERDICT_INEXACT: _ClassVar[FilterVerdict]
    FILTER_VERDICT_EXACT: _ClassVar[FilterVerdict]

class FunctionPhase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FUNCTION_PHASE_UNSPECIFIED: _ClassVar[FunctionPhase]
    FUNCTION_PHASE_SCALAR: _ClassVar[FunctionPhase]
    FUNCTION_PHASE_COMPLETE: _ClassVar[FunctionPhase]
    FUNCTION_PHASE_PARTIAL: _ClassVar[FunctionPhase]
    FUNCTION_PHASE_FINAL: _ClassVar[FunctionPhase]
FUNCTION_KIND_UNSPECIFIED: FunctionKind
FUNCTION_KIND_SCALAR: FunctionKind
FUNCTION_KIND_AGGREGATE: FunctionKind
VOLATILITY_UNSPECIFIED: Volatility
VOLATILITY_IMMUTABLE: Volatility
VOLATILITY_STABLE: Volatility
VOLATILITY_VOLATILE: Volatility
FILTER_VERDICT_UNSPECIFIED: FilterVerdict
FILTER_VERDICT_UNSUPPORTED: FilterVerdict
FILTER_VERDICT_INEXACT: FilterVerdict
FILTER_VERDICT_EXACT: FilterVerdict
FUNCTION_PHASE_UNSPECIFIED: FunctionPhase
FUNCTION_PHASE_SCALAR: FunctionPhase
FUNCTION_PHASE_COMPLETE: FunctionPhase
FUNCTION_PHASE_PARTIAL: FunctionPhase
FUNCTION_PHASE_FINAL: FunctionPhase

class GetInfoRequest(_message.Message):
    __slots__ = ("protocol_version",)
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    protocol_version: int
    def __init__(self, protocol_version: _Optional[int] = ...) -> None: ...

class GetInfoResponse(_message.Message):
    __slots__ = ("name", "version", "protocol_version", "scan", "scan_capabilities", "functions", "extension_yaml", "extension_urn")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SCAN_FIELD_NUMBER: _ClassVar[int]
    SCAN_CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    EXTENSION_YAML_FIELD_NUMBER: _ClassVar[int]
    EXTENSION_URN_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    protocol_version: int
    scan: bool
    scan_capabilities: ScanCapabilities
    functions: _containers.RepeatedCompositeFieldContainer[FunctionSignature]
    extension_yaml: str
    extension_urn: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., protocol_version: _Optional[int] = ..., scan: bool = ..., scan_capabilities: _Optional[_Union[ScanCapabilities, _Mapping]] = ..., functions: _Optional[_Iterable[_Union[FunctionSignature, _Mapping]]] = ..., extension_yaml: _Optional[str] = ..., extension_urn: _Optional[str] = ...) -> None: ...

class ScanCapabilities(_message.Message):
    __slots__ = ("projection", "filters", "limit", "splits")
    PROJECTION_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SPLITS_FIELD_NUMBER: _ClassVar[int]
    projection: bool
    filters: bool
    limit: bool
    splits: bool
    def __init__(self, projection: bool = ..., filters: bool = ..., limit: bool = ..., splits: bool = ...) -> None: ...

class FunctionSignature(_message.Message):
    __slots__ = ("name", "kind", "arguments", "result", "state", "volatility", "description", "null_on_null")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VOLATILITY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NULL_ON_NULL_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: FunctionKind
    arguments: bytes
    result: bytes
    state: bytes
    volatility: Volatility
    description: str
    null_on_null: bool
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[FunctionKind, str]] = ..., arguments: _Optional[bytes] = ..., result: _Optional[bytes] = ..., state: _Optional[bytes] = ..., volatility: _Optional[_Union[Volatility, str]] = ..., description: _Optional[str] = ..., null_on_null: bool = ...) -> None: ...

class Table(_message.Message):
    __slots__ = ("location", "options")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    location: str
    options: _containers.ScalarMap[str, str]
    def __init__(self, location: _Optional[str] = ..., options: _Optional[_Mapping[str, str]] = ...) -> None: ...

class GetSchemaRequest(_message.Message):
    __slots__ = ("table",)
    TABLE_FIELD_NUMBER: _ClassVar[int]
    table: Table
    def __init__(self, table: _Optional[_Union[Table, _Mapping]] = ...) -> None: ...

class GetSchemaResponse(_message.Message):
    __slots__ = ("schema", "statistics")
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    schema: bytes
    statistics: Statistics
    def __init__(self, schema: _Optional[bytes] = ..., statistics: _Optional[_Union[Statistics, _Mapping]] = ...) -> None: ...

class Statistics(_message.Message):
    __slots__ = ("row_count", "total_bytes")
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    row_count: int
    total_bytes: int
    def __init__(self, row_count: _Optional[int] = ..., total_bytes: _Optional[int] = ...) -> None: ...

class PlanScanRequest(_message.Message):
    __slots__ = ("table", "projection", "filters", "filter_count", "limit", "target_parallelism")
    TABLE_FIELD_NUMBER: _ClassVar[int]
    PROJECTION_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    FILTER_COUNT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    TARGET_PARALLELISM_FIELD_NUMBER: _ClassVar[int]
    table: Table
    projection: Projection
    filters: bytes
    filter_count: int
    limit: int
    target_parallelism: int
    def __init__(self, table: _Optional[_Union[Table, _Mapping]] = ..., projection: _Optional[_Union[Projection, _Mapping]] = ..., filters: _Optional[bytes] = ..., filter_count: _Optional[int] = ..., limit: _Optional[int] = ..., target_parallelism: _Optional[int] = ...) -> None: ...

class Projection(_message.Message):
    __slots__ = ("columns",)
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, columns: _Optional[_Iterable[int]] = ...) -> None: ...

class PlanScanResponse(_message.Message):
    __slots__ = ("verdicts", "splits", "statistics", "explain")
    VERDICTS_FIELD_NUMBER: _ClassVar[int]
    SPLITS_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    verdicts: _containers.RepeatedScalarFieldContainer[FilterVerdict]
    splits: _containers.RepeatedCompositeFieldContainer[Split]
    statistics: Statistics
    explain: str
    def __init__(self, verdicts: _Optional[_Iterable[_Union[FilterVerdict, str]]] = ..., splits: _Optional[_Iterable[_Union[Split, _Mapping]]] = ..., statistics: _Optional[_Union[Statistics, _Mapping]] = ..., explain: _Optional[str] = ...) -> None: ...

class Split(_message.Message):
    __slots__ = ("ticket", "statistics")
    TICKET_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    ticket: bytes
    statistics: Statistics
    def __init__(self, ticket: _Optional[bytes] = ..., statistics: _Optional[_Union[Statistics, _Mapping]] = ...) -> None: ...

class FunctionCall(_message.Message):
    __slots__ = ("function", "phase")
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    function: str
    phase: FunctionPhase
    def __init__(self, function: _Optional[str] = ..., phase: _Optional[_Union[FunctionPhase, str]] = ...) -> None: ...
