from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATE_UNSPECIFIED: _ClassVar[TaskState]
    TASK_STATE_RUNNING: _ClassVar[TaskState]
    TASK_STATE_SUCCEEDED: _ClassVar[TaskState]
    TASK_STATE_FAILED: _ClassVar[TaskState]
    TASK_STATE_CANCELLED: _ClassVar[TaskState]

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]
TASK_STATE_UNSPECIFIED: TaskState
TASK_STATE_RUNNING: TaskState
TASK_STATE_SUCCEEDED: TaskState
TASK_STATE_FAILED: TaskState
TASK_STATE_CANCELLED: TaskState
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState

class ExecutorMetadata(_message.Message):
    __slots__ = ("id", "grpc_address", "flight_address", "slots", "capabilities", "version")
    ID_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    FLIGHT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    grpc_address: str
    flight_address: str
    slots: int
    capabilities: Capabilities
    version: str
    def __init__(self, id: _Optional[str] = ..., grpc_address: _Optional[str] = ..., flight_address: _Optional[str] = ..., slots: _Optional[int] = ..., capabilities: _Optional[_Union[Capabilities, _Mapping]] = ..., version: _Optional[str] = ...) -> None: ...

class Capabilities(_message.Message):
    __slots__ = ("engine", "relations", "functions", "file_formats")
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    RELATIONS_FIELD_NUMBER: _ClassVar[int]
    FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    FILE_FORMATS_FIELD_NUMBER: _ClassVar[int]
    engine: str
    relations: _containers.RepeatedScalarFieldContainer[str]
    functions: _containers.RepeatedScalarFieldContainer[str]
    file_formats: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, engine: _Optional[str] = ..., relations: _Optional[_Iterable[str]] = ..., functions: _Optional[_Iterable[str]] = ..., file_formats: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterExecutorRequest(_message.Message):
    __slots__ = ("executor",)
    EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    executor: ExecutorMetadata
    def __init__(self, executor: _Optional[_Union[ExecutorMetadata, _Mapping]] = ...) -> None: ...

class RegisterExecutorResponse(_message.Message):
    __slots__ = ("scheduler_id", "heartbeat_interval_ms")
    SCHEDULER_ID_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    scheduler_id: str
    heartbeat_interval_ms: int
    def __init__(self, scheduler_id: _Optional[str] = ..., heartbeat_interval_ms: _Optional[int] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("executor_id", "running", "load")
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    executor_id: str
    running: _containers.RepeatedCompositeFieldContainer[TaskId]
    load: ExecutorLoad
    def __init__(self, executor_id: _Optional[str] = ..., running: _Optional[_Iterable[_Union[TaskId, _Mapping]]] = ..., load: _Optional[_Union[ExecutorLoad, _Mapping]] = ...) -> None: ...

class ExecutorLoad(_message.Message):
    __slots__ = ("free_slots", "memory_used_bytes", "disk_used_bytes")
    FREE_SLOTS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    DISK_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    free_slots: int
    memory_used_bytes: int
    disk_used_bytes: int
    def __init__(self, free_slots: _Optional[int] = ..., memory_used_bytes: _Optional[int] = ..., disk_used_bytes: _Optional[int] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("reregister", "cancel")
    REREGISTER_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    reregister: bool
    cancel: _containers.RepeatedCompositeFieldContainer[TaskId]
    def __init__(self, reregister: bool = ..., cancel: _Optional[_Iterable[_Union[TaskId, _Mapping]]] = ...) -> None: ...

class TaskId(_message.Message):
    __slots__ = ("job_id", "stage_id", "partition", "attempt")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    stage_id: int
    partition: int
    attempt: int
    def __init__(self, job_id: _Optional[str] = ..., stage_id: _Optional[int] = ..., partition: _Optional[int] = ..., attempt: _Optional[int] = ...) -> None: ...

class TaskDefinition(_message.Message):
    __slots__ = ("task", "plan", "task_count", "settings")
    class SettingsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TASK_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    TASK_COUNT_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    task: TaskId
    plan: bytes
    task_count: int
    settings: _containers.ScalarMap[str, str]
    def __init__(self, task: _Optional[_Union[TaskId, _Mapping]] = ..., plan: _Optional[bytes] = ..., task_count: _Optional[int] = ..., settings: _Optional[_Mapping[str, str]] = ...) -> None: ...

class LaunchTasksRequest(_message.Message):
    __slots__ = ("scheduler_id", "tasks")
    SCHEDULER_ID_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    scheduler_id: str
    tasks: _containers.RepeatedCompositeFieldContainer[TaskDefinition]
    def __init__(self, scheduler_id: _Optional[str] = ..., tasks: _Optional[_Iterable[_Union[TaskDefinition, _Mapping]]] = ...) -> None: ...

class LaunchTasksResponse(_message.Message):
    __slots__ = ("rejected",)
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    rejected: _containers.RepeatedCompositeFieldContainer[TaskRejection]
    def __init__(self, rejected: _Optional[_Iterable[_Union[TaskRejection, _Mapping]]] = ...) -> None: ...

class TaskRejection(_message.Message):
    __slots__ = ("task", "reason")
    TASK_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    task: TaskId
    reason: str
    def __init__(self, task: _Optional[_Union[TaskId, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelTasksRequest(_message.Message):
    __slots__ = ("tasks", "job_id")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[TaskId]
    job_id: str
    def __init__(self, tasks: _Optional[_Iterable[_Union[TaskId, _Mapping]]] = ..., job_id: _Optional[str] = ...) -> None: ...

class CancelTasksResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RemoveJobDataRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class RemoveJobDataResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RemoveJobFilesRequest(_message.Message):
    __slots__ = ("job_id", "stages")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    stages: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, job_id: _Optional[str] = ..., stages: _Optional[_Iterable[int]] = ...) -> None: ...

class RemoveJobFilesResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TaskStatus(_message.Message):
    __slots__ = ("task", "executor_id", "state", "error", "fetch_failure", "outputs", "metrics", "output_dir")
    TASK_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FETCH_FAILURE_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_DIR_FIELD_NUMBER: _ClassVar[int]
    task: TaskId
    executor_id: str
    state: TaskState
    error: str
    fetch_failure: FetchFailure
    outputs: _containers.RepeatedCompositeFieldContainer[PartitionOutput]
    metrics: TaskMetrics
    output_dir: str
    def __init__(self, task: _Optional[_Union[TaskId, _Mapping]] = ..., executor_id: _Optional[str] = ..., state: _Optional[_Union[TaskState, str]] = ..., error: _Optional[str] = ..., fetch_failure: _Optional[_Union[FetchFailure, _Mapping]] = ..., outputs: _Optional[_Iterable[_Union[PartitionOutput, _Mapping]]] = ..., metrics: _Optional[_Union[TaskMetrics, _Mapping]] = ..., output_dir: _Optional[str] = ...) -> None: ...

class FetchFailure(_message.Message):
    __slots__ = ("executor_id", "stage_id", "map_partition")
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MAP_PARTITION_FIELD_NUMBER: _ClassVar[int]
    executor_id: str
    stage_id: int
    map_partition: int
    def __init__(self, executor_id: _Optional[str] = ..., stage_id: _Optional[int] = ..., map_partition: _Optional[int] = ...) -> None: ...

class PartitionOutput(_message.Message):
    __slots__ = ("partition", "rows", "bytes", "ticket")
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    TICKET_FIELD_NUMBER: _ClassVar[int]
    partition: int
    rows: int
    bytes: int
    ticket: bytes
    def __init__(self, partition: _Optional[int] = ..., rows: _Optional[int] = ..., bytes: _Optional[int] = ..., ticket: _Optional[bytes] = ...) -> None: ...

class TaskMetrics(_message.Message):
    __slots__ = ("elapsed_ms", "output_rows", "peak_memory_bytes", "operators")
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_ROWS_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    OPERATORS_FIELD_NUMBER: _ClassVar[int]
    elapsed_ms: int
    output_rows: int
    peak_memory_bytes: int
    operators: str
    def __init__(self, elapsed_ms: _Optional[int] = ..., output_rows: _Optional[int] = ..., peak_memory_bytes: _Optional[int] = ..., operators: _Optional[str] = ...) -> None: ...

class UpdateTaskStatusRequest(_message.Message):
    __slots__ = ("executor_id", "statuses")
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    executor_id: str
    statuses: _containers.RepeatedCompositeFieldContainer[TaskStatus]
    def __init__(self, executor_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[TaskStatus, _Mapping]]] = ...) -> None: ...

class UpdateTaskStatusResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SubmitJobRequest(_message.Message):
    __slots__ = ("sql", "substrait", "session_id", "settings", "request_id")
    class SettingsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SQL_FIELD_NUMBER: _ClassVar[int]
    SUBSTRAIT_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    sql: str
    substrait: bytes
    session_id: str
    settings: _containers.ScalarMap[str, str]
    request_id: str
    def __init__(self, sql: _Optional[str] = ..., substrait: _Optional[bytes] = ..., session_id: _Optional[str] = ..., settings: _Optional[_Mapping[str, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class SubmitJobResponse(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchJobResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: JobStatus
    def __init__(self, status: _Optional[_Union[JobStatus, _Mapping]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: JobStatus
    def __init__(self, status: _Optional[_Union[JobStatus, _Mapping]] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class JobStatus(_message.Message):
    __slots__ = ("job_id", "state", "error", "schema", "results", "inline_result", "tasks_total", "tasks_done")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    INLINE_RESULT_FIELD_NUMBER: _ClassVar[int]
    TASKS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    TASKS_DONE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    state: JobState
    error: str
    schema: bytes
    results: _containers.RepeatedCompositeFieldContainer[ResultPartition]
    inline_result: bytes
    tasks_total: int
    tasks_done: int
    def __init__(self, job_id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., error: _Optional[str] = ..., schema: _Optional[bytes] = ..., results: _Optional[_Iterable[_Union[ResultPartition, _Mapping]]] = ..., inline_result: _Optional[bytes] = ..., tasks_total: _Optional[int] = ..., tasks_done: _Optional[int] = ...) -> None: ...

class ResultPartition(_message.Message):
    __slots__ = ("executor_id", "flight_address", "ticket", "rows")
    EXECUTOR_ID_FIELD_NUMBER: _ClassVar[int]
    FLIGHT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    executor_id: str
    flight_address: str
    ticket: bytes
    rows: int
    def __init__(self, executor_id: _Optional[str] = ..., flight_address: _Optional[str] = ..., ticket: _Optional[bytes] = ..., rows: _Optional[int] = ...) -> None: ...
