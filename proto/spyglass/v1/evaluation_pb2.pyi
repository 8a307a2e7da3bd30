from spyglass.v1 import assessments_pb2 as _assessments_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EvaluationRun(_message.Message):
    __slots__ = ("run_id", "experiment_id", "name", "model_id", "dataset_id", "dataset_name", "dataset_digest", "dataset_version", "status", "scorers", "metrics", "record_count", "error_message", "start_time_ms", "end_time_ms", "judge_usage")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[EvaluationRun.Status]
        RUNNING: _ClassVar[EvaluationRun.Status]
        FINISHED: _ClassVar[EvaluationRun.Status]
        FAILED: _ClassVar[EvaluationRun.Status]
    STATUS_UNSPECIFIED: EvaluationRun.Status
    RUNNING: EvaluationRun.Status
    FINISHED: EvaluationRun.Status
    FAILED: EvaluationRun.Status
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_NAME_FIELD_NUMBER: _ClassVar[int]
    DATASET_DIGEST_FIELD_NUMBER: _ClassVar[int]
    DATASET_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SCORERS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    JUDGE_USAGE_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    experiment_id: str
    name: str
    model_id: str
    dataset_id: str
    dataset_name: str
    dataset_digest: str
    dataset_version: int
    status: EvaluationRun.Status
    scorers: _containers.RepeatedCompositeFieldContainer[EvaluationScorer]
    metrics: _containers.ScalarMap[str, float]
    record_count: int
    error_message: str
    start_time_ms: int
    end_time_ms: int
    judge_usage: JudgeUsage
    def __init__(self, run_id: _Optional[str] = ..., experiment_id: _Optional[str] = ..., name: _Optional[str] = ..., model_id: _Optional[str] = ..., dataset_id: _Optional[str] = ..., dataset_name: _Optional[str] = ..., dataset_digest: _Optional[str] = ..., dataset_version: _Optional[int] = ..., status: _Optional[_Union[EvaluationRun.Status, str]] = ..., scorers: _Optional[_Iterable[_Union[EvaluationScorer, _Mapping]]] = ..., metrics: _Optional[_Mapping[str, float]] = ..., record_count: _Optional[int] = ..., error_message: _Optional[str] = ..., start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., judge_usage: _Optional[_Union[JudgeUsage, _Mapping]] = ...) -> None: ...

class EvaluationScorer(_message.Message):
    __slots__ = ("name", "source_type", "source_id", "aggregations")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    AGGREGATIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    source_type: str
    source_id: str
    aggregations: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., source_type: _Optional[str] = ..., source_id: _Optional[str] = ..., aggregations: _Optional[_Iterable[str]] = ...) -> None: ...

class JudgeUsage(_message.Message):
    __slots__ = ("input_tokens", "output_tokens", "cost", "models")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    output_tokens: int
    cost: float
    models: _containers.RepeatedCompositeFieldContainer[ModelUsage]
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cost: _Optional[float] = ..., models: _Optional[_Iterable[_Union[ModelUsage, _Mapping]]] = ...) -> None: ...

class ModelUsage(_message.Message):
    __slots__ = ("model", "input_tokens", "output_tokens", "cost")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    model: str
    input_tokens: int
    output_tokens: int
    cost: float
    def __init__(self, model: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cost: _Optional[float] = ...) -> None: ...

class EvaluationRecord(_message.Message):
    __slots__ = ("row_index", "dataset_record_id", "input_hash", "trace_id", "inputs_json", "outputs_json", "expectations_json", "log_expectations", "error", "scores")
    ROW_INDEX_FIELD_NUMBER: _ClassVar[int]
    DATASET_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_HASH_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    INPUTS_JSON_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_JSON_FIELD_NUMBER: _ClassVar[int]
    EXPECTATIONS_JSON_FIELD_NUMBER: _ClassVar[int]
    LOG_EXPECTATIONS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    row_index: int
    dataset_record_id: str
    input_hash: str
    trace_id: str
    inputs_json: str
    outputs_json: str
    expectations_json: str
    log_expectations: bool
    error: str
    scores: _containers.RepeatedCompositeFieldContainer[EvaluationScore]
    def __init__(self, row_index: _Optional[int] = ..., dataset_record_id: _Optional[str] = ..., input_hash: _Optional[str] = ..., trace_id: _Optional[str] = ..., inputs_json: _Optional[str] = ..., outputs_json: _Optional[str] = ..., expectations_json: _Optional[str] = ..., log_expectations: _Optional[bool] = ..., error: _Optional[str] = ..., scores: _Optional[_Iterable[_Union[EvaluationScore, _Mapping]]] = ...) -> None: ...

class EvaluationScore(_message.Message):
    __slots__ = ("name", "value_json", "score", "rationale", "error", "source", "metadata", "assessment_id")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    value_json: str
    score: float
    rationale: str
    error: _assessments_pb2.AssessmentError
    source: _assessments_pb2.AssessmentSource
    metadata: _containers.ScalarMap[str, str]
    assessment_id: str
    def __init__(self, name: _Optional[str] = ..., value_json: _Optional[str] = ..., score: _Optional[float] = ..., rationale: _Optional[str] = ..., error: _Optional[_Union[_assessments_pb2.AssessmentError, _Mapping]] = ..., source: _Optional[_Union[_assessments_pb2.AssessmentSource, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., assessment_id: _Optional[str] = ...) -> None: ...

class CreateEvaluationRunRequest(_message.Message):
    __slots__ = ("experiment_id", "name", "model_id", "dataset_id", "dataset_name", "dataset_digest", "dataset_version", "scorers")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_NAME_FIELD_NUMBER: _ClassVar[int]
    DATASET_DIGEST_FIELD_NUMBER: _ClassVar[int]
    DATASET_VERSION_FIELD_NUMBER: _ClassVar[int]
    SCORERS_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    name: str
    model_id: str
    dataset_id: str
    dataset_name: str
    dataset_digest: str
    dataset_version: int
    scorers: _containers.RepeatedCompositeFieldContainer[EvaluationScorer]
    def __init__(self, experiment_id: _Optional[str] = ..., name: _Optional[str] = ..., model_id: _Optional[str] = ..., dataset_id: _Optional[str] = ..., dataset_name: _Optional[str] = ..., dataset_digest: _Optional[str] = ..., dataset_version: _Optional[int] = ..., scorers: _Optional[_Iterable[_Union[EvaluationScorer, _Mapping]]] = ...) -> None: ...

class LogEvaluationResultsRequest(_message.Message):
    __slots__ = ("run_id", "records")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    records: _containers.RepeatedCompositeFieldContainer[EvaluationRecord]
    def __init__(self, run_id: _Optional[str] = ..., records: _Optional[_Iterable[_Union[EvaluationRecord, _Mapping]]] = ...) -> None: ...

class LogEvaluationResultsResponse(_message.Message):
    __slots__ = ("records_logged", "records_skipped", "assessments_logged")
    RECORDS_LOGGED_FIELD_NUMBER: _ClassVar[int]
    RECORDS_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENTS_LOGGED_FIELD_NUMBER: _ClassVar[int]
    records_logged: int
    records_skipped: int
    assessments_logged: int
    def __init__(self, records_logged: _Optional[int] = ..., records_skipped: _Optional[int] = ..., assessments_logged: _Optional[int] = ...) -> None: ...

class FinishEvaluationRunRequest(_message.Message):
    __slots__ = ("run_id", "status", "metrics", "judge_usage", "error_message")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    JUDGE_USAGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    status: EvaluationRun.Status
    metrics: _containers.ScalarMap[str, float]
    judge_usage: _containers.RepeatedCompositeFieldContainer[ModelUsage]
    error_message: str
    def __init__(self, run_id: _Optional[str] = ..., status: _Optional[_Union[EvaluationRun.Status, str]] = ..., metrics: _Optional[_Mapping[str, float]] = ..., judge_usage: _Optional[_Iterable[_Union[ModelUsage, _Mapping]]] = ..., error_message: _Optional[str] = ...) -> None: ...

class GetEvaluationRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class SearchEvaluationRunsRequest(_message.Message):
    __slots__ = ("experiment_ids", "name", "model_id", "dataset_id", "status", "order_by", "max_results", "page_token")
    EXPERIMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    experiment_ids: _containers.RepeatedScalarFieldContainer[str]
    name: str
    model_id: str
    dataset_id: str
    status: EvaluationRun.Status
    order_by: _containers.RepeatedScalarFieldContainer[str]
    max_results: int
    page_token: str
    def __init__(self, experiment_ids: _Optional[_Iterable[str]] = ..., name: _Optional[str] = ..., model_id: _Optional[str] = ..., dataset_id: _Optional[str] = ..., status: _Optional[_Union[EvaluationRun.Status, str]] = ..., order_by: _Optional[_Iterable[str]] = ..., max_results: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SearchEvaluationRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[EvaluationRun]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[EvaluationRun, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListEvaluationResultsRequest(_message.Message):
    __slots__ = ("run_id", "page_size", "page_token")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    page_size: int
    page_token: str
    def __init__(self, run_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEvaluationResultsResponse(_message.Message):
    __slots__ = ("records", "next_page_token")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[EvaluationRecord]
    next_page_token: str
    def __init__(self, records: _Optional[_Iterable[_Union[EvaluationRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
