from spyglass.v1 import assessments_pb2 as _assessments_pb2
from spyglass.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Trace(_message.Message):
    __slots__ = ("info", "spans")
    INFO_FIELD_NUMBER: _ClassVar[int]
    SPANS_FIELD_NUMBER: _ClassVar[int]
    info: TraceInfo
    spans: _containers.RepeatedCompositeFieldContainer[Span]
    def __init__(self, info: _Optional[_Union[TraceInfo, _Mapping]] = ..., spans: _Optional[_Iterable[_Union[Span, _Mapping]]] = ...) -> None: ...

class TraceInfo(_message.Message):
    __slots__ = ("trace_id", "experiment_id", "request_time", "execution_duration_ms", "state", "name", "ingest_sequence", "request_preview", "response_preview", "tags", "trace_metadata", "assessments", "session_id", "user_id", "token_usage", "cost", "span_count", "error_count")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[TraceInfo.State]
        OK: _ClassVar[TraceInfo.State]
        ERROR: _ClassVar[TraceInfo.State]
        IN_PROGRESS: _ClassVar[TraceInfo.State]
    STATE_UNSPECIFIED: TraceInfo.State
    OK: TraceInfo.State
    ERROR: TraceInfo.State
    IN_PROGRESS: TraceInfo.State
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class TraceMetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TIME_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INGEST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_PREVIEW_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_PREVIEW_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    TRACE_METADATA_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_USAGE_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    SPAN_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    experiment_id: str
    request_time: int
    execution_duration_ms: int
    state: TraceInfo.State
    name: str
    ingest_sequence: int
    request_preview: str
    response_preview: str
    tags: _containers.ScalarMap[str, str]
    trace_metadata: _containers.ScalarMap[str, str]
    assessments: _containers.RepeatedCompositeFieldContainer[_assessments_pb2.Assessment]
    session_id: str
    user_id: str
    token_usage: _common_pb2.TokenUsage
    cost: float
    span_count: int
    error_count: int
    def __init__(self, trace_id: _Optional[str] = ..., experiment_id: _Optional[str] = ..., request_time: _Optional[int] = ..., execution_duration_ms: _Optional[int] = ..., state: _Optional[_Union[TraceInfo.State, str]] = ..., name: _Optional[str] = ..., ingest_sequence: _Optional[int] = ..., request_preview: _Optional[str] = ..., response_preview: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., trace_metadata: _Optional[_Mapping[str, str]] = ..., assessments: _Optional[_Iterable[_Union[_assessments_pb2.Assessment, _Mapping]]] = ..., session_id: _Optional[str] = ..., user_id: _Optional[str] = ..., token_usage: _Optional[_Union[_common_pb2.TokenUsage, _Mapping]] = ..., cost: _Optional[float] = ..., span_count: _Optional[int] = ..., error_count: _Optional[int] = ...) -> None: ...

class Span(_message.Message):
    __slots__ = ("trace_id", "span_id", "parent_span_id", "name", "kind", "span_type", "start_time_ns", "end_time_ns", "status_code", "status_message", "inputs", "outputs", "attributes", "events", "links", "resource", "scope", "model", "provider", "token_usage", "cost", "session_id", "user_id")
    class SpanKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SPAN_KIND_UNSPECIFIED: _ClassVar[Span.SpanKind]
        SPAN_KIND_INTERNAL: _ClassVar[Span.SpanKind]
        SPAN_KIND_SERVER: _ClassVar[Span.SpanKind]
        SPAN_KIND_CLIENT: _ClassVar[Span.SpanKind]
        SPAN_KIND_PRODUCER: _ClassVar[Span.SpanKind]
        SPAN_KIND_CONSUMER: _ClassVar[Span.SpanKind]
    SPAN_KIND_UNSPECIFIED: Span.SpanKind
    SPAN_KIND_INTERNAL: Span.SpanKind
    SPAN_KIND_SERVER: Span.SpanKind
    SPAN_KIND_CLIENT: Span.SpanKind
    SPAN_KIND_PRODUCER: Span.SpanKind
    SPAN_KIND_CONSUMER: Span.SpanKind
    class StatusCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_CODE_UNSET: _ClassVar[Span.StatusCode]
        STATUS_CODE_OK: _ClassVar[Span.StatusCode]
        STATUS_CODE_ERROR: _ClassVar[Span.StatusCode]
    STATUS_CODE_UNSET: Span.StatusCode
    STATUS_CODE_OK: Span.StatusCode
    STATUS_CODE_ERROR: Span.StatusCode
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SPAN_TYPE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_NS_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    TOKEN_USAGE_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: Span.SpanKind
    span_type: str
    start_time_ns: int
    end_time_ns: int
    status_code: Span.StatusCode
    status_message: str
    inputs: str
    outputs: str
    attributes: str
    events: str
    links: str
    resource: str
    scope: str
    model: str
    provider: str
    token_usage: _common_pb2.TokenUsage
    cost: float
    session_id: str
    user_id: str
    def __init__(self, trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., parent_span_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[Span.SpanKind, str]] = ..., span_type: _Optional[str] = ..., start_time_ns: _Optional[int] = ..., end_time_ns: _Optional[int] = ..., status_code: _Optional[_Union[Span.StatusCode, str]] = ..., status_message: _Optional[str] = ..., inputs: _Optional[str] = ..., outputs: _Optional[str] = ..., attributes: _Optional[str] = ..., events: _Optional[str] = ..., links: _Optional[str] = ..., resource: _Optional[str] = ..., scope: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., token_usage: _Optional[_Union[_common_pb2.TokenUsage, _Mapping]] = ..., cost: _Optional[float] = ..., session_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class SearchTracesRequest(_message.Message):
    __slots__ = ("experiment_ids", "filter", "order_by", "page_size", "page_token", "max_results", "include_spans")
    EXPERIMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SPANS_FIELD_NUMBER: _ClassVar[int]
    experiment_ids: _containers.RepeatedScalarFieldContainer[str]
    filter: str
    order_by: _containers.RepeatedScalarFieldContainer[str]
    page_size: int
    page_token: str
    max_results: int
    include_spans: bool
    def __init__(self, experiment_ids: _Optional[_Iterable[str]] = ..., filter: _Optional[str] = ..., order_by: _Optional[_Iterable[str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., max_results: _Optional[int] = ..., include_spans: _Optional[bool] = ...) -> None: ...

class SearchTracesPage(_message.Message):
    __slots__ = ("traces", "next_page_token")
    TRACES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    traces: _containers.RepeatedCompositeFieldContainer[Trace]
    next_page_token: str
    def __init__(self, traces: _Optional[_Iterable[_Union[Trace, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetTraceRequest(_message.Message):
    __slots__ = ("trace_id",)
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    def __init__(self, trace_id: _Optional[str] = ...) -> None: ...

class BatchGetTracesRequest(_message.Message):
    __slots__ = ("trace_ids",)
    TRACE_IDS_FIELD_NUMBER: _ClassVar[int]
    trace_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, trace_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetTracesResponse(_message.Message):
    __slots__ = ("traces",)
    TRACES_FIELD_NUMBER: _ClassVar[int]
    traces: _containers.RepeatedCompositeFieldContainer[Trace]
    def __init__(self, traces: _Optional[_Iterable[_Union[Trace, _Mapping]]] = ...) -> None: ...

class SetTraceTagRequest(_message.Message):
    __slots__ = ("trace_id", "key", "value")
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    key: str
    value: str
    def __init__(self, trace_id: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class SetTraceTagResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteTraceTagRequest(_message.Message):
    __slots__ = ("trace_id", "key")
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    key: str
    def __init__(self, trace_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class DeleteTraceTagResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetTraceMetadataRequest(_message.Message):
    __slots__ = ("trace_id", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, trace_id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SetTraceMetadataResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteTracesRequest(_message.Message):
    __slots__ = ("trace_ids", "experiment_id", "max_timestamp_ms", "max_traces")
    TRACE_IDS_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_TRACES_FIELD_NUMBER: _ClassVar[int]
    trace_ids: _containers.RepeatedScalarFieldContainer[str]
    experiment_id: str
    max_timestamp_ms: int
    max_traces: int
    def __init__(self, trace_ids: _Optional[_Iterable[str]] = ..., experiment_id: _Optional[str] = ..., max_timestamp_ms: _Optional[int] = ..., max_traces: _Optional[int] = ...) -> None: ...

class DeleteTracesResponse(_message.Message):
    __slots__ = ("deleted_count",)
    DELETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    deleted_count: int
    def __init__(self, deleted_count: _Optional[int] = ...) -> None: ...

class SearchSessionsRequest(_message.Message):
    __slots__ = ("experiment_id", "filter", "max_results", "page_token")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    filter: str
    max_results: int
    page_token: str
    def __init__(self, experiment_id: _Optional[str] = ..., filter: _Optional[str] = ..., max_results: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SearchSessionsResponse(_message.Message):
    __slots__ = ("sessions", "next_page_token")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[Session]
    next_page_token: str
    def __init__(self, sessions: _Optional[_Iterable[_Union[Session, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ("session_id", "experiment_id", "user_id", "trace_count", "start_time_ms", "end_time_ms", "duration_ms", "first_trace_id", "first_request_preview", "last_response_preview", "token_usage", "cost", "error_trace_count", "feedback")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_COUNT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    FIRST_TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_REQUEST_PREVIEW_FIELD_NUMBER: _ClassVar[int]
    LAST_RESPONSE_PREVIEW_FIELD_NUMBER: _ClassVar[int]
    TOKEN_USAGE_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    ERROR_TRACE_COUNT_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    experiment_id: str
    user_id: str
    trace_count: int
    start_time_ms: int
    end_time_ms: int
    duration_ms: int
    first_trace_id: str
    first_request_preview: str
    last_response_preview: str
    token_usage: _common_pb2.TokenUsage
    cost: float
    error_trace_count: int
    feedback: _containers.RepeatedCompositeFieldContainer[FeedbackSummary]
    def __init__(self, session_id: _Optional[str] = ..., experiment_id: _Optional[str] = ..., user_id: _Optional[str] = ..., trace_count: _Optional[int] = ..., start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., duration_ms: _Optional[int] = ..., first_trace_id: _Optional[str] = ..., first_request_preview: _Optional[str] = ..., last_response_preview: _Optional[str] = ..., token_usage: _Optional[_Union[_common_pb2.TokenUsage, _Mapping]] = ..., cost: _Optional[float] = ..., error_trace_count: _Optional[int] = ..., feedback: _Optional[_Iterable[_Union[FeedbackSummary, _Mapping]]] = ...) -> None: ...

class FeedbackSummary(_message.Message):
    __slots__ = ("name", "mean", "scored_count", "error_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    SCORED_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    mean: float
    scored_count: int
    error_count: int
    def __init__(self, name: _Optional[str] = ..., mean: _Optional[float] = ..., scored_count: _Optional[int] = ..., error_count: _Optional[int] = ...) -> None: ...
