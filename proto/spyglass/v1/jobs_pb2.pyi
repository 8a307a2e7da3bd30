from spyglass.v1 import evaluation_pb2 as _evaluation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATUS_UNSPECIFIED: _ClassVar[JobStatus]
    PENDING: _ClassVar[JobStatus]
    RUNNING: _ClassVar[JobStatus]
    FINISHED: _ClassVar[JobStatus]
    FAILED: _ClassVar[JobStatus]
    CANCELLED: _ClassVar[JobStatus]
JOB_STATUS_UNSPECIFIED: JobStatus
PENDING: JobStatus
RUNNING: JobStatus
FINISHED: JobStatus
FAILED: JobStatus
CANCELLED: JobStatus

class ScorerRef(_message.Message):
    __slots__ = ("type", "params_json")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    type: str
    params_json: str
    def __init__(self, type: _Optional[str] = ..., params_json: _Optional[str] = ...) -> None: ...

class JobInput(_message.Message):
    __slots__ = ("dataset", "traces")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    TRACES_FIELD_NUMBER: _ClassVar[int]
    dataset: DatasetInput
    traces: TraceInput
    def __init__(self, dataset: _Optional[_Union[DatasetInput, _Mapping]] = ..., traces: _Optional[_Union[TraceInput, _Mapping]] = ...) -> None: ...

class DatasetInput(_message.Message):
    __slots__ = ("dataset", "version")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    version: int
    def __init__(self, dataset: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class TraceInput(_message.Message):
    __slots__ = ("experiment", "filter_string", "start_time_ms", "end_time_ms", "max_traces", "expectations_dataset")
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    FILTER_STRING_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_TRACES_FIELD_NUMBER: _ClassVar[int]
    EXPECTATIONS_DATASET_FIELD_NUMBER: _ClassVar[int]
    experiment: str
    filter_string: str
    start_time_ms: int
    end_time_ms: int
    max_traces: int
    expectations_dataset: str
    def __init__(self, experiment: _Optional[str] = ..., filter_string: _Optional[str] = ..., start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., max_traces: _Optional[int] = ..., expectations_dataset: _Optional[str] = ...) -> None: ...

class EvaluationJob(_message.Message):
    __slots__ = ("job_id", "name", "experiment_id", "input", "scorers", "build_dataset", "run_id", "monitor_id", "status", "error_message", "total_rows", "rows_done", "rows_with_errors", "chunk_size", "chunks_total", "chunks_done", "chunks_leased", "chunks_failed", "errors", "eta_seconds", "created_time_ms", "started_time_ms", "finished_time_ms", "live_workers")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    SCORERS_FIELD_NUMBER: _ClassVar[int]
    BUILD_DATASET_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MONITOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ROWS_FIELD_NUMBER: _ClassVar[int]
    ROWS_DONE_FIELD_NUMBER: _ClassVar[int]
    ROWS_WITH_ERRORS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_DONE_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_LEASED_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FAILED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LIVE_WORKERS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    name: str
    experiment_id: str
    input: JobInput
    scorers: _containers.RepeatedCompositeFieldContainer[ScorerRef]
    build_dataset: str
    run_id: str
    monitor_id: str
    status: JobStatus
    error_message: str
    total_rows: int
    rows_done: int
    rows_with_errors: int
    chunk_size: int
    chunks_total: int
    chunks_done: int
    chunks_leased: int
    chunks_failed: int
    errors: _containers.RepeatedCompositeFieldContainer[ScorerErrors]
    eta_seconds: float
    created_time_ms: int
    started_time_ms: int
    finished_time_ms: int
    live_workers: int
    def __init__(self, job_id: _Optional[str] = ..., name: _Optional[str] = ..., experiment_id: _Optional[str] = ..., input: _Optional[_Union[JobInput, _Mapping]] = ..., scorers: _Optional[_Iterable[_Union[ScorerRef, _Mapping]]] = ..., build_dataset: _Optional[str] = ..., run_id: _Optional[str] = ..., monitor_id: _Optional[str] = ..., status: _Optional[_Union[JobStatus, str]] = ..., error_message: _Optional[str] = ..., total_rows: _Optional[int] = ..., rows_done: _Optional[int] = ..., rows_with_errors: _Optional[int] = ..., chunk_size: _Optional[int] = ..., chunks_total: _Optional[int] = ..., chunks_done: _Optional[int] = ..., chunks_leased: _Optional[int] = ..., chunks_failed: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[ScorerErrors, _Mapping]]] = ..., eta_seconds: _Optional[float] = ..., created_time_ms: _Optional[int] = ..., started_time_ms: _Optional[int] = ..., finished_time_ms: _Optional[int] = ..., live_workers: _Optional[int] = ...) -> None: ...

class ScorerErrors(_message.Message):
    __slots__ = ("name", "count", "last_error")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    name: str
    count: int
    last_error: str
    def __init__(self, name: _Optional[str] = ..., count: _Optional[int] = ..., last_error: _Optional[str] = ...) -> None: ...

class SubmitJobRequest(_message.Message):
    __slots__ = ("name", "experiment", "input", "scorers", "build_dataset", "chunk_size")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    SCORERS_FIELD_NUMBER: _ClassVar[int]
    BUILD_DATASET_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    name: str
    experiment: str
    input: JobInput
    scorers: _containers.RepeatedCompositeFieldContainer[ScorerRef]
    build_dataset: str
    chunk_size: int
    def __init__(self, name: _Optional[str] = ..., experiment: _Optional[str] = ..., input: _Optional[_Union[JobInput, _Mapping]] = ..., scorers: _Optional[_Iterable[_Union[ScorerRef, _Mapping]]] = ..., build_dataset: _Optional[str] = ..., chunk_size: _Optional[int] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("status", "include_monitors", "max_results", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_MONITORS_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: JobStatus
    include_monitors: bool
    max_results: int
    page_token: str
    def __init__(self, status: _Optional[_Union[JobStatus, str]] = ..., include_monitors: _Optional[bool] = ..., max_results: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[EvaluationJob]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[EvaluationJob, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class Monitor(_message.Message):
    __slots__ = ("monitor_id", "name", "experiment_id", "filter_string", "sample_rate", "scorers", "quiet_period_seconds", "enabled", "job_id", "run_id", "created_time_ms", "traces_seen", "traces_sampled", "traces_scored", "last_check_time_ms", "windows")
    MONITOR_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_STRING_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    SCORERS_FIELD_NUMBER: _ClassVar[int]
    QUIET_PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    TRACES_SEEN_FIELD_NUMBER: _ClassVar[int]
    TRACES_SAMPLED_FIELD_NUMBER: _ClassVar[int]
    TRACES_SCORED_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECK_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    WINDOWS_FIELD_NUMBER: _ClassVar[int]
    monitor_id: str
    name: str
    experiment_id: str
    filter_string: str
    sample_rate: float
    scorers: _containers.RepeatedCompositeFieldContainer[ScorerRef]
    quiet_period_seconds: float
    enabled: bool
    job_id: str
    run_id: str
    created_time_ms: int
    traces_seen: int
    traces_sampled: int
    traces_scored: int
    last_check_time_ms: int
    windows: _containers.RepeatedCompositeFieldContainer[MonitorWindow]
    def __init__(self, monitor_id: _Optional[str] = ..., name: _Optional[str] = ..., experiment_id: _Optional[str] = ..., filter_string: _Optional[str] = ..., sample_rate: _Optional[float] = ..., scorers: _Optional[_Iterable[_Union[ScorerRef, _Mapping]]] = ..., quiet_period_seconds: _Optional[float] = ..., enabled: _Optional[bool] = ..., job_id: _Optional[str] = ..., run_id: _Optional[str] = ..., created_time_ms: _Optional[int] = ..., traces_seen: _Optional[int] = ..., traces_sampled: _Optional[int] = ..., traces_scored: _Optional[int] = ..., last_check_time_ms: _Optional[int] = ..., windows: _Optional[_Iterable[_Union[MonitorWindow, _Mapping]]] = ...) -> None: ...

class MonitorWindow(_message.Message):
    __slots__ = ("window", "rows", "scores")
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    window: str
    rows: int
    scores: _containers.RepeatedCompositeFieldContainer[WindowScore]
    def __init__(self, window: _Optional[str] = ..., rows: _Optional[int] = ..., scores: _Optional[_Iterable[_Union[WindowScore, _Mapping]]] = ...) -> None: ...

class WindowScore(_message.Message):
    __slots__ = ("name", "count", "mean", "error_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    count: int
    mean: float
    error_count: int
    def __init__(self, name: _Optional[str] = ..., count: _Optional[int] = ..., mean: _Optional[float] = ..., error_count: _Optional[int] = ...) -> None: ...

class CreateMonitorRequest(_message.Message):
    __slots__ = ("name", "experiment", "filter_string", "sample_rate", "scorers", "quiet_period_seconds", "include_existing")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    FILTER_STRING_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    SCORERS_FIELD_NUMBER: _ClassVar[int]
    QUIET_PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EXISTING_FIELD_NUMBER: _ClassVar[int]
    name: str
    experiment: str
    filter_string: str
    sample_rate: float
    scorers: _containers.RepeatedCompositeFieldContainer[ScorerRef]
    quiet_period_seconds: float
    include_existing: bool
    def __init__(self, name: _Optional[str] = ..., experiment: _Optional[str] = ..., filter_string: _Optional[str] = ..., sample_rate: _Optional[float] = ..., scorers: _Optional[_Iterable[_Union[ScorerRef, _Mapping]]] = ..., quiet_period_seconds: _Optional[float] = ..., include_existing: _Optional[bool] = ...) -> None: ...

class GetMonitorRequest(_message.Message):
    __slots__ = ("monitor",)
    MONITOR_FIELD_NUMBER: _ClassVar[int]
    monitor: str
    def __init__(self, monitor: _Optional[str] = ...) -> None: ...

class ListMonitorsRequest(_message.Message):
    __slots__ = ("experiment",)
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: str
    def __init__(self, experiment: _Optional[str] = ...) -> None: ...

class ListMonitorsResponse(_message.Message):
    __slots__ = ("monitors",)
    MONITORS_FIELD_NUMBER: _ClassVar[int]
    monitors: _containers.RepeatedCompositeFieldContainer[Monitor]
    def __init__(self, monitors: _Optional[_Iterable[_Union[Monitor, _Mapping]]] = ...) -> None: ...

class UpdateMonitorRequest(_message.Message):
    __slots__ = ("monitor", "enabled", "sample_rate", "filter_string", "quiet_period_seconds")
    MONITOR_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    FILTER_STRING_FIELD_NUMBER: _ClassVar[int]
    QUIET_PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    monitor: str
    enabled: bool
    sample_rate: float
    filter_string: str
    quiet_period_seconds: float
    def __init__(self, monitor: _Optional[str] = ..., enabled: _Optional[bool] = ..., sample_rate: _Optional[float] = ..., filter_string: _Optional[str] = ..., quiet_period_seconds: _Optional[float] = ...) -> None: ...

class DeleteMonitorRequest(_message.Message):
    __slots__ = ("monitor",)
    MONITOR_FIELD_NUMBER: _ClassVar[int]
    monitor: str
    def __init__(self, monitor: _Optional[str] = ...) -> None: ...

class DeleteMonitorResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetMonitorSeriesRequest(_message.Message):
    __slots__ = ("monitor", "window")
    MONITOR_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    monitor: str
    window: str
    def __init__(self, monitor: _Optional[str] = ..., window: _Optional[str] = ...) -> None: ...

class MonitorSeries(_message.Message):
    __slots__ = ("monitor_id", "window", "bucket_ms", "bucket_start_ms", "rows", "scores")
    MONITOR_ID_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    BUCKET_MS_FIELD_NUMBER: _ClassVar[int]
    BUCKET_START_MS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    monitor_id: str
    window: str
    bucket_ms: int
    bucket_start_ms: _containers.RepeatedScalarFieldContainer[int]
    rows: _containers.RepeatedScalarFieldContainer[int]
    scores: _containers.RepeatedCompositeFieldContainer[ScoreSeries]
    def __init__(self, monitor_id: _Optional[str] = ..., window: _Optional[str] = ..., bucket_ms: _Optional[int] = ..., bucket_start_ms: _Optional[_Iterable[int]] = ..., rows: _Optional[_Iterable[int]] = ..., scores: _Optional[_Iterable[_Union[ScoreSeries, _Mapping]]] = ...) -> None: ...

class ScoreSeries(_message.Message):
    __slots__ = ("name", "mean", "count", "error_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    mean: _containers.RepeatedScalarFieldContainer[float]
    count: _containers.RepeatedScalarFieldContainer[int]
    error_count: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, name: _Optional[str] = ..., mean: _Optional[_Iterable[float]] = ..., count: _Optional[_Iterable[int]] = ..., error_count: _Optional[_Iterable[int]] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("worker_id", "concurrency", "scorer_names", "stopping")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    SCORER_NAMES_FIELD_NUMBER: _ClassVar[int]
    STOPPING_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    concurrency: int
    scorer_names: _containers.RepeatedScalarFieldContainer[str]
    stopping: bool
    def __init__(self, worker_id: _Optional[str] = ..., concurrency: _Optional[int] = ..., scorer_names: _Optional[_Iterable[str]] = ..., stopping: _Optional[bool] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("live_workers",)
    LIVE_WORKERS_FIELD_NUMBER: _ClassVar[int]
    live_workers: int
    def __init__(self, live_workers: _Optional[int] = ...) -> None: ...

class ClaimWorkRequest(_message.Message):
    __slots__ = ("worker_id", "lease_seconds")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    lease_seconds: float
    def __init__(self, worker_id: _Optional[str] = ..., lease_seconds: _Optional[float] = ...) -> None: ...

class WorkItem(_message.Message):
    __slots__ = ("row_index", "trace_id", "dataset_record_id", "inputs_json", "expectations_json", "outputs_json")
    ROW_INDEX_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    INPUTS_JSON_FIELD_NUMBER: _ClassVar[int]
    EXPECTATIONS_JSON_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_JSON_FIELD_NUMBER: _ClassVar[int]
    row_index: int
    trace_id: str
    dataset_record_id: str
    inputs_json: str
    expectations_json: str
    outputs_json: str
    def __init__(self, row_index: _Optional[int] = ..., trace_id: _Optional[str] = ..., dataset_record_id: _Optional[str] = ..., inputs_json: _Optional[str] = ..., expectations_json: _Optional[str] = ..., outputs_json: _Optional[str] = ...) -> None: ...

class ClaimWorkResponse(_message.Message):
    __slots__ = ("lease_id", "lease_expires_ms", "job", "chunk_index", "items", "previous_attempts")
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_MS_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    lease_id: str
    lease_expires_ms: int
    job: EvaluationJob
    chunk_index: int
    items: _containers.RepeatedCompositeFieldContainer[WorkItem]
    previous_attempts: int
    def __init__(self, lease_id: _Optional[str] = ..., lease_expires_ms: _Optional[int] = ..., job: _Optional[_Union[EvaluationJob, _Mapping]] = ..., chunk_index: _Optional[int] = ..., items: _Optional[_Iterable[_Union[WorkItem, _Mapping]]] = ..., previous_attempts: _Optional[int] = ...) -> None: ...

class RenewLeaseRequest(_message.Message):
    __slots__ = ("lease_id", "worker_id", "lease_seconds")
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    lease_id: str
    worker_id: str
    lease_seconds: float
    def __init__(self, lease_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., lease_seconds: _Optional[float] = ...) -> None: ...

class RenewLeaseResponse(_message.Message):
    __slots__ = ("lease_expires_ms", "cancelled")
    LEASE_EXPIRES_MS_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    lease_expires_ms: int
    cancelled: bool
    def __init__(self, lease_expires_ms: _Optional[int] = ..., cancelled: _Optional[bool] = ...) -> None: ...

class LogWorkResultsRequest(_message.Message):
    __slots__ = ("lease_id", "worker_id", "records")
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    lease_id: str
    worker_id: str
    records: _containers.RepeatedCompositeFieldContainer[_evaluation_pb2.EvaluationRecord]
    def __init__(self, lease_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., records: _Optional[_Iterable[_Union[_evaluation_pb2.EvaluationRecord, _Mapping]]] = ...) -> None: ...

class LogWorkResultsResponse(_message.Message):
    __slots__ = ("records_logged", "records_skipped", "assessments_logged")
    RECORDS_LOGGED_FIELD_NUMBER: _ClassVar[int]
    RECORDS_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENTS_LOGGED_FIELD_NUMBER: _ClassVar[int]
    records_logged: int
    records_skipped: int
    assessments_logged: int
    def __init__(self, records_logged: _Optional[int] = ..., records_skipped: _Optional[int] = ..., assessments_logged: _Optional[int] = ...) -> None: ...

class ReleaseLeaseRequest(_message.Message):
    __slots__ = ("lease_id", "worker_id", "done", "judge_usage", "error_message")
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    JUDGE_USAGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    lease_id: str
    worker_id: str
    done: bool
    judge_usage: _containers.RepeatedCompositeFieldContainer[_evaluation_pb2.ModelUsage]
    error_message: str
    def __init__(self, lease_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., done: _Optional[bool] = ..., judge_usage: _Optional[_Iterable[_Union[_evaluation_pb2.ModelUsage, _Mapping]]] = ..., error_message: _Optional[str] = ...) -> None: ...

class ReleaseLeaseResponse(_message.Message):
    __slots__ = ("job_status",)
    JOB_STATUS_FIELD_NUMBER: _ClassVar[int]
    job_status: JobStatus
    def __init__(self, job_status: _Optional[_Union[JobStatus, str]] = ...) -> None: ...
