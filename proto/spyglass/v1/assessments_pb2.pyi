from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Assessment(_message.Message):
    __slots__ = ("assessment_id", "trace_id", "span_id", "name", "expectation", "feedback", "rationale", "source", "metadata", "run_id", "create_time_ms", "last_update_time_ms", "valid", "overrides")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ASSESSMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPECTATION_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    assessment_id: str
    trace_id: str
    span_id: str
    name: str
    expectation: Expectation
    feedback: Feedback
    rationale: str
    source: AssessmentSource
    metadata: _containers.ScalarMap[str, str]
    run_id: str
    create_time_ms: int
    last_update_time_ms: int
    valid: bool
    overrides: str
    def __init__(self, assessment_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., name: _Optional[str] = ..., expectation: _Optional[_Union[Expectation, _Mapping]] = ..., feedback: _Optional[_Union[Feedback, _Mapping]] = ..., rationale: _Optional[str] = ..., source: _Optional[_Union[AssessmentSource, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., run_id: _Optional[str] = ..., create_time_ms: _Optional[int] = ..., last_update_time_ms: _Optional[int] = ..., valid: _Optional[bool] = ..., overrides: _Optional[str] = ...) -> None: ...

class AssessmentSource(_message.Message):
    __slots__ = ("source_type", "source_id")
    class SourceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SOURCE_TYPE_UNSPECIFIED: _ClassVar[AssessmentSource.SourceType]
        HUMAN: _ClassVar[AssessmentSource.SourceType]
        LLM_JUDGE: _ClassVar[AssessmentSource.SourceType]
        CODE: _ClassVar[AssessmentSource.SourceType]
    SOURCE_TYPE_UNSPECIFIED: AssessmentSource.SourceType
    HUMAN: AssessmentSource.SourceType
    LLM_JUDGE: AssessmentSource.SourceType
    CODE: AssessmentSource.SourceType
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    source_type: AssessmentSource.SourceType
    source_id: str
    def __init__(self, source_type: _Optional[_Union[AssessmentSource.SourceType, str]] = ..., source_id: _Optional[str] = ...) -> None: ...

class Expectation(_message.Message):
    __slots__ = ("value_json",)
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    value_json: str
    def __init__(self, value_json: _Optional[str] = ...) -> None: ...

class Feedback(_message.Message):
    __slots__ = ("value_json", "error")
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    value_json: str
    error: AssessmentError
    def __init__(self, value_json: _Optional[str] = ..., error: _Optional[_Union[AssessmentError, _Mapping]] = ...) -> None: ...

class AssessmentError(_message.Message):
    __slots__ = ("error_code", "error_message", "stack_trace")
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STACK_TRACE_FIELD_NUMBER: _ClassVar[int]
    error_code: str
    error_message: str
    stack_trace: str
    def __init__(self, error_code: _Optional[str] = ..., error_message: _Optional[str] = ..., stack_trace: _Optional[str] = ...) -> None: ...

class CreateAssessmentRequest(_message.Message):
    __slots__ = ("assessment",)
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    assessment: Assessment
    def __init__(self, assessment: _Optional[_Union[Assessment, _Mapping]] = ...) -> None: ...

class GetAssessmentRequest(_message.Message):
    __slots__ = ("trace_id", "assessment_id")
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_ID_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    assessment_id: str
    def __init__(self, trace_id: _Optional[str] = ..., assessment_id: _Optional[str] = ...) -> None: ...

class UpdateAssessmentRequest(_message.Message):
    __slots__ = ("assessment", "update_mask")
    ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    assessment: Assessment
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, assessment: _Optional[_Union[Assessment, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteAssessmentRequest(_message.Message):
    __slots__ = ("trace_id", "assessment_id")
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_ID_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    assessment_id: str
    def __init__(self, trace_id: _Optional[str] = ..., assessment_id: _Optional[str] = ...) -> None: ...

class DeleteAssessmentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class OverrideFeedbackRequest(_message.Message):
    __slots__ = ("trace_id", "old_assessment_id", "value_json", "rationale", "source", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    OLD_ASSESSMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    old_assessment_id: str
    value_json: str
    rationale: str
    source: AssessmentSource
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, trace_id: _Optional[str] = ..., old_assessment_id: _Optional[str] = ..., value_json: _Optional[str] = ..., rationale: _Optional[str] = ..., source: _Optional[_Union[AssessmentSource, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...
