from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReviewField(_message.Message):
    __slots__ = ("name", "kind", "type", "options", "description")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[ReviewField.Kind]
        EXPECTATION: _ClassVar[ReviewField.Kind]
        FEEDBACK: _ClassVar[ReviewField.Kind]
    KIND_UNSPECIFIED: ReviewField.Kind
    EXPECTATION: ReviewField.Kind
    FEEDBACK: ReviewField.Kind
    class ValueType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        VALUE_TYPE_UNSPECIFIED: _ClassVar[ReviewField.ValueType]
        BOOL: _ClassVar[ReviewField.ValueType]
        NUMBER: _ClassVar[ReviewField.ValueType]
        CATEGORICAL: _ClassVar[ReviewField.ValueType]
        TEXT: _ClassVar[ReviewField.ValueType]
        JSON: _ClassVar[ReviewField.ValueType]
    VALUE_TYPE_UNSPECIFIED: ReviewField.ValueType
    BOOL: ReviewField.ValueType
    NUMBER: ReviewField.ValueType
    CATEGORICAL: ReviewField.ValueType
    TEXT: ReviewField.ValueType
    JSON: ReviewField.ValueType
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: ReviewField.Kind
    type: ReviewField.ValueType
    options: _containers.RepeatedScalarFieldContainer[str]
    description: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[ReviewField.Kind, str]] = ..., type: _Optional[_Union[ReviewField.ValueType, str]] = ..., options: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ...) -> None: ...

class ReviewQueue(_message.Message):
    __slots__ = ("queue_id", "experiment_id", "name", "fields", "filter_string", "created_by", "create_time_ms", "item_count", "done_count", "in_progress_count")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_STRING_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    DONE_COUNT_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    experiment_id: str
    name: str
    fields: _containers.RepeatedCompositeFieldContainer[ReviewField]
    filter_string: str
    created_by: str
    create_time_ms: int
    item_count: int
    done_count: int
    in_progress_count: int
    def __init__(self, queue_id: _Optional[str] = ..., experiment_id: _Optional[str] = ..., name: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[ReviewField, _Mapping]]] = ..., filter_string: _Optional[str] = ..., created_by: _Optional[str] = ..., create_time_ms: _Optional[int] = ..., item_count: _Optional[int] = ..., done_count: _Optional[int] = ..., in_progress_count: _Optional[int] = ...) -> None: ...

class ReviewItem(_message.Message):
    __slots__ = ("queue_id", "position", "trace_id", "state", "reviewer", "claim_expires_ms", "done_time_ms", "values")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[ReviewItem.State]
        PENDING: _ClassVar[ReviewItem.State]
        CLAIMED: _ClassVar[ReviewItem.State]
        DONE: _ClassVar[ReviewItem.State]
    STATE_UNSPECIFIED: ReviewItem.State
    PENDING: ReviewItem.State
    CLAIMED: ReviewItem.State
    DONE: ReviewItem.State
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    CLAIM_EXPIRES_MS_FIELD_NUMBER: _ClassVar[int]
    DONE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    position: int
    trace_id: str
    state: ReviewItem.State
    reviewer: str
    claim_expires_ms: int
    done_time_ms: int
    values: _containers.RepeatedCompositeFieldContainer[ReviewValue]
    def __init__(self, queue_id: _Optional[str] = ..., position: _Optional[int] = ..., trace_id: _Optional[str] = ..., state: _Optional[_Union[ReviewItem.State, str]] = ..., reviewer: _Optional[str] = ..., claim_expires_ms: _Optional[int] = ..., done_time_ms: _Optional[int] = ..., values: _Optional[_Iterable[_Union[ReviewValue, _Mapping]]] = ...) -> None: ...

class ReviewValue(_message.Message):
    __slots__ = ("name", "value_json")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    name: str
    value_json: str
    def __init__(self, name: _Optional[str] = ..., value_json: _Optional[str] = ...) -> None: ...

class ReviewTraceIds(_message.Message):
    __slots__ = ("trace_ids",)
    TRACE_IDS_FIELD_NUMBER: _ClassVar[int]
    trace_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, trace_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateReviewQueueRequest(_message.Message):
    __slots__ = ("experiment_id", "name", "fields", "filter_string", "trace_ids", "max_traces", "created_by")
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_STRING_FIELD_NUMBER: _ClassVar[int]
    TRACE_IDS_FIELD_NUMBER: _ClassVar[int]
    MAX_TRACES_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    name: str
    fields: _containers.RepeatedCompositeFieldContainer[ReviewField]
    filter_string: str
    trace_ids: ReviewTraceIds
    max_traces: int
    created_by: str
    def __init__(self, experiment_id: _Optional[str] = ..., name: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[ReviewField, _Mapping]]] = ..., filter_string: _Optional[str] = ..., trace_ids: _Optional[_Union[ReviewTraceIds, _Mapping]] = ..., max_traces: _Optional[int] = ..., created_by: _Optional[str] = ...) -> None: ...

class ListReviewQueuesRequest(_message.Message):
    __slots__ = ("experiment_id",)
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    experiment_id: str
    def __init__(self, experiment_id: _Optional[str] = ...) -> None: ...

class ListReviewQueuesResponse(_message.Message):
    __slots__ = ("queues",)
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedCompositeFieldContainer[ReviewQueue]
    def __init__(self, queues: _Optional[_Iterable[_Union[ReviewQueue, _Mapping]]] = ...) -> None: ...

class GetReviewQueueRequest(_message.Message):
    __slots__ = ("queue_id",)
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    def __init__(self, queue_id: _Optional[str] = ...) -> None: ...

class DeleteReviewQueueRequest(_message.Message):
    __slots__ = ("queue_id",)
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    def __init__(self, queue_id: _Optional[str] = ...) -> None: ...

class DeleteReviewQueueResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NextReviewItemRequest(_message.Message):
    __slots__ = ("queue_id", "reviewer", "claim_seconds")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    CLAIM_SECONDS_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    reviewer: str
    claim_seconds: float
    def __init__(self, queue_id: _Optional[str] = ..., reviewer: _Optional[str] = ..., claim_seconds: _Optional[float] = ...) -> None: ...

class NextReviewItemResponse(_message.Message):
    __slots__ = ("item", "queue")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    item: ReviewItem
    queue: ReviewQueue
    def __init__(self, item: _Optional[_Union[ReviewItem, _Mapping]] = ..., queue: _Optional[_Union[ReviewQueue, _Mapping]] = ...) -> None: ...

class SubmitReviewItemRequest(_message.Message):
    __slots__ = ("queue_id", "trace_id", "reviewer", "values", "rationale")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    trace_id: str
    reviewer: str
    values: _containers.RepeatedCompositeFieldContainer[ReviewValue]
    rationale: str
    def __init__(self, queue_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., reviewer: _Optional[str] = ..., values: _Optional[_Iterable[_Union[ReviewValue, _Mapping]]] = ..., rationale: _Optional[str] = ...) -> None: ...

class SkipReviewItemRequest(_message.Message):
    __slots__ = ("queue_id", "trace_id", "reviewer")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    trace_id: str
    reviewer: str
    def __init__(self, queue_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., reviewer: _Optional[str] = ...) -> None: ...

class ListReviewItemsRequest(_message.Message):
    __slots__ = ("queue_id", "reviewer")
    QUEUE_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    queue_id: str
    reviewer: str
    def __init__(self, queue_id: _Optional[str] = ..., reviewer: _Optional[str] = ...) -> None: ...

class ListReviewItemsResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ReviewItem]
    def __init__(self, items: _Optional[_Iterable[_Union[ReviewItem, _Mapping]]] = ...) -> None: ...
