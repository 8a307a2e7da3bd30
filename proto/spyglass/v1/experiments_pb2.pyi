from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Experiment(_message.Message):
    __slots__ = ("experiment_id", "name", "lifecycle_stage", "creation_time_ms", "last_update_time_ms", "tags", "retention_days")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_STAGE_FIELD_NUMBER: _ClassVar[int]
    CREATION_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    RETENTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    name: str
    lifecycle_stage: str
    creation_time_ms: int
    last_update_time_ms: int
    tags: _containers.ScalarMap[str, str]
    retention_days: int
    def __init__(self, experiment_id: _Optional[str] = ..., name: _Optional[str] = ..., lifecycle_stage: _Optional[str] = ..., creation_time_ms: _Optional[int] = ..., last_update_time_ms: _Optional[int] = ..., tags: _Optional[_Mapping[str, str]] = ..., retention_days: _Optional[int] = ...) -> None: ...

class CreateExperimentRequest(_message.Message):
    __slots__ = ("name", "tags")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    tags: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class GetExperimentRequest(_message.Message):
    __slots__ = ("experiment_id",)
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    def __init__(self, experiment_id: _Optional[str] = ...) -> None: ...

class GetExperimentByNameRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class SearchExperimentsRequest(_message.Message):
    __slots__ = ("filter", "max_results", "page_token", "order_by")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    filter: str
    max_results: int
    page_token: str
    order_by: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, filter: _Optional[str] = ..., max_results: _Optional[int] = ..., page_token: _Optional[str] = ..., order_by: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchExperimentsResponse(_message.Message):
    __slots__ = ("experiments", "next_page_token")
    EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    experiments: _containers.RepeatedCompositeFieldContainer[Experiment]
    next_page_token: str
    def __init__(self, experiments: _Optional[_Iterable[_Union[Experiment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SetExperimentRetentionRequest(_message.Message):
    __slots__ = ("experiment_id", "retention_days")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    RETENTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    retention_days: int
    def __init__(self, experiment_id: _Optional[str] = ..., retention_days: _Optional[int] = ...) -> None: ...

class GetExperimentStatsRequest(_message.Message):
    __slots__ = ("experiment_ids",)
    EXPERIMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    experiment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, experiment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ExperimentStats(_message.Message):
    __slots__ = ("trace_count", "last_trace_time_ms")
    TRACE_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_TRACE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    trace_count: int
    last_trace_time_ms: int
    def __init__(self, trace_count: _Optional[int] = ..., last_trace_time_ms: _Optional[int] = ...) -> None: ...

class GetExperimentStatsResponse(_message.Message):
    __slots__ = ("stats",)
    class StatsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ExperimentStats
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ExperimentStats, _Mapping]] = ...) -> None: ...
    STATS_FIELD_NUMBER: _ClassVar[int]
    stats: _containers.MessageMap[str, ExperimentStats]
    def __init__(self, stats: _Optional[_Mapping[str, ExperimentStats]] = ...) -> None: ...

class GetExperimentUsageRequest(_message.Message):
    __slots__ = ("experiment_id", "start_time_ms", "end_time_ms", "bucket")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    start_time_ms: int
    end_time_ms: int
    bucket: str
    def __init__(self, experiment_id: _Optional[str] = ..., start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., bucket: _Optional[str] = ...) -> None: ...

class UsageStats(_message.Message):
    __slots__ = ("trace_count", "error_count", "latency_p50_ms", "latency_p95_ms", "input_tokens", "output_tokens", "cost")
    TRACE_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    trace_count: int
    error_count: int
    latency_p50_ms: float
    latency_p95_ms: float
    input_tokens: int
    output_tokens: int
    cost: float
    def __init__(self, trace_count: _Optional[int] = ..., error_count: _Optional[int] = ..., latency_p50_ms: _Optional[float] = ..., latency_p95_ms: _Optional[float] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cost: _Optional[float] = ...) -> None: ...

class UsageBucket(_message.Message):
    __slots__ = ("start_time_ms", "stats")
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    start_time_ms: int
    stats: UsageStats
    def __init__(self, start_time_ms: _Optional[int] = ..., stats: _Optional[_Union[UsageStats, _Mapping]] = ...) -> None: ...

class ExperimentModelUsage(_message.Message):
    __slots__ = ("start_time_ms", "model", "call_count", "input_tokens", "output_tokens", "cost")
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CALL_COUNT_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    start_time_ms: int
    model: str
    call_count: int
    input_tokens: int
    output_tokens: int
    cost: float
    def __init__(self, start_time_ms: _Optional[int] = ..., model: _Optional[str] = ..., call_count: _Optional[int] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cost: _Optional[float] = ...) -> None: ...

class GetExperimentUsageResponse(_message.Message):
    __slots__ = ("start_time_ms", "end_time_ms", "bucket", "total", "buckets", "models", "model_totals")
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    MODEL_TOTALS_FIELD_NUMBER: _ClassVar[int]
    start_time_ms: int
    end_time_ms: int
    bucket: str
    total: UsageStats
    buckets: _containers.RepeatedCompositeFieldContainer[UsageBucket]
    models: _containers.RepeatedCompositeFieldContainer[ExperimentModelUsage]
    model_totals: _containers.RepeatedCompositeFieldContainer[ExperimentModelUsage]
    def __init__(self, start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., bucket: _Optional[str] = ..., total: _Optional[_Union[UsageStats, _Mapping]] = ..., buckets: _Optional[_Iterable[_Union[UsageBucket, _Mapping]]] = ..., models: _Optional[_Iterable[_Union[ExperimentModelUsage, _Mapping]]] = ..., model_totals: _Optional[_Iterable[_Union[ExperimentModelUsage, _Mapping]]] = ...) -> None: ...
