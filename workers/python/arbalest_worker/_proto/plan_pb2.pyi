from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ShuffleRead(_message.Message):
    __slots__ = ("job_id", "stage_id", "partitions", "locations")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    stage_id: int
    partitions: _containers.RepeatedScalarFieldContainer[int]
    locations: _containers.RepeatedCompositeFieldContainer[ShuffleLocation]
    def __init__(self, job_id: _Optional[str] = ..., stage_id: _Optional[int] = ..., partitions: _Optional[_Iterable[int]] = ..., locations: _Optional[_Iterable[_Union[ShuffleLocation, _Mapping]]] = ...) -> None: ...

class ShuffleLocation(_message.Message):
    __slots__ = ("map_partition", "executor_id", "flight_address", "path")
    MAP_PARTITION_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    FLIGHT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    map_partition: int
    executor_id: str
    flight_address: str
    path: str
    def __init__(self, map_partition: _Optional[int] = ..., executor_id: _Optional[str] = ..., flight_address: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class ShuffleWrite(_message.Message):
    __slots__ = ("hash", "broadcast", "single", "compression")
    HASH_FIELD_NUMBER: _ClassVar[int]
    BROADCAST_FIELD_NUMBER: _ClassVar[int]
    SINGLE_FIELD_NUMBER: _ClassVar[int]
    COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    hash: HashPartitioning
    broadcast: Broadcast
    single: Single
    compression: str
    def __init__(self, hash: _Optional[_Union[HashPartitioning, _Mapping]] = ..., broadcast: _Optional[_Union[Broadcast, _Mapping]] = ..., single: _Optional[_Union[Single, _Mapping]] = ..., compression: _Optional[str] = ...) -> None: ...

class HashPartitioning(_message.Message):
    __slots__ = ("key_fields", "partitions")
    KEY_FIELDS_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    key_fields: _containers.RepeatedScalarFieldContainer[int]
    partitions: int
    def __init__(self, key_fields: _Optional[_Iterable[int]] = ..., partitions: _Optional[int] = ...) -> None: ...

class Broadcast(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Single(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class JoinHint(_message.Message):
    __slots__ = ("null_aware",)
    NULL_AWARE_FIELD_NUMBER: _ClassVar[int]
    null_aware: bool
    def __init__(self, null_aware: bool = ...) -> None: ...

class FileFormat(_message.Message):
    __slots__ = ("format", "options", "table")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    format: str
    options: _containers.ScalarMap[str, str]
    table: str
    def __init__(self, format: _Optional[str] = ..., options: _Optional[_Mapping[str, str]] = ..., table: _Optional[str] = ...) -> None: ...

class PluginScan(_message.Message):
    __slots__ = ("plugin", "table", "location", "options", "splits", "explain", "exact_filters")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PLUGIN_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    SPLITS_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    EXACT_FILTERS_FIELD_NUMBER: _ClassVar[int]
    plugin: str
    table: str
    location: str
    options: _containers.ScalarMap[str, str]
    splits: _containers.RepeatedScalarFieldContainer[bytes]
    explain: str
    exact_filters: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, plugin: _Optional[str] = ..., table: _Optional[str] = ..., location: _Optional[str] = ..., options: _Optional[_Mapping[str, str]] = ..., splits: _Optional[_Iterable[bytes]] = ..., explain: _Optional[str] = ..., exact_filters: _Optional[_Iterable[str]] = ...) -> None: ...
