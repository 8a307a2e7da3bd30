from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Dataset(_message.Message):
    __slots__ = ("dataset_id", "name", "experiment_ids", "tags", "digest", "version", "record_count", "latest_version", "create_time_ms", "last_update_time_ms", "created_by", "last_updated_by", "source_type_counts")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class SourceTypeCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    LATEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TYPE_COUNTS_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    name: str
    experiment_ids: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.ScalarMap[str, str]
    digest: str
    version: int
    record_count: int
    latest_version: int
    create_time_ms: int
    last_update_time_ms: int
    created_by: str
    last_updated_by: str
    source_type_counts: _containers.ScalarMap[str, int]
    def __init__(self, dataset_id: _Optional[str] = ..., name: _Optional[str] = ..., experiment_ids: _Optional[_Iterable[str]] = ..., tags: _Optional[_Mapping[str, str]] = ..., digest: _Optional[str] = ..., version: _Optional[int] = ..., record_count: _Optional[int] = ..., latest_version: _Optional[int] = ..., create_time_ms: _Optional[int] = ..., last_update_time_ms: _Optional[int] = ..., created_by: _Optional[str] = ..., last_updated_by: _Optional[str] = ..., source_type_counts: _Optional[_Mapping[str, int]] = ...) -> None: ...

class DatasetVersion(_message.Message):
    __slots__ = ("version", "digest", "record_count", "inserted_count", "updated_count", "deleted_count", "create_time_ms", "created_by")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    INSERTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_COUNT_FIELD_NUMBER: _ClassVar[int]
    DELETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    version: int
    digest: str
    record_count: int
    inserted_count: int
    updated_count: int
    deleted_count: int
    create_time_ms: int
    created_by: str
    def __init__(self, version: _Optional[int] = ..., digest: _Optional[str] = ..., record_count: _Optional[int] = ..., inserted_count: _Optional[int] = ..., updated_count: _Optional[int] = ..., deleted_count: _Optional[int] = ..., create_time_ms: _Optional[int] = ..., created_by: _Optional[str] = ...) -> None: ...

class DatasetRecordColumns(_message.Message):
    __slots__ = ("dataset_record_id", "inputs", "expectations", "outputs", "tags", "source_type", "source_id", "create_time_ms", "last_update_time_ms")
    class SourceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SOURCE_TYPE_UNSPECIFIED: _ClassVar[DatasetRecordColumns.SourceType]
        TRACE: _ClassVar[DatasetRecordColumns.SourceType]
        HUMAN: _ClassVar[DatasetRecordColumns.SourceType]
        CODE: _ClassVar[DatasetRecordColumns.SourceType]
        DOCUMENT: _ClassVar[DatasetRecordColumns.SourceType]
    SOURCE_TYPE_UNSPECIFIED: DatasetRecordColumns.SourceType
    TRACE: DatasetRecordColumns.SourceType
    HUMAN: DatasetRecordColumns.SourceType
    CODE: DatasetRecordColumns.SourceType
    DOCUMENT: DatasetRecordColumns.SourceType
    DATASET_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    EXPECTATIONS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    dataset_record_id: _containers.RepeatedScalarFieldContainer[str]
    inputs: bytes
    expectations: bytes
    outputs: bytes
    tags: bytes
    source_type: _containers.RepeatedScalarFieldContainer[DatasetRecordColumns.SourceType]
    source_id: _containers.RepeatedScalarFieldContainer[str]
    create_time_ms: _containers.RepeatedScalarFieldContainer[int]
    last_update_time_ms: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, dataset_record_id: _Optional[_Iterable[str]] = ..., inputs: _Optional[bytes] = ..., expectations: _Optional[bytes] = ..., outputs: _Optional[bytes] = ..., tags: _Optional[bytes] = ..., source_type: _Optional[_Iterable[_Union[DatasetRecordColumns.SourceType, str]]] = ..., source_id: _Optional[_Iterable[str]] = ..., create_time_ms: _Optional[_Iterable[int]] = ..., last_update_time_ms: _Optional[_Iterable[int]] = ...) -> None: ...

class CreateDatasetRequest(_message.Message):
    __slots__ = ("name", "experiment_ids", "tags", "user")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    name: str
    experiment_ids: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.ScalarMap[str, str]
    user: str
    def __init__(self, name: _Optional[str] = ..., experiment_ids: _Optional[_Iterable[str]] = ..., tags: _Optional[_Mapping[str, str]] = ..., user: _Optional[str] = ...) -> None: ...

class GetDatasetRequest(_message.Message):
    __slots__ = ("dataset_id", "name", "version")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    name: str
    version: int
    def __init__(self, dataset_id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class SearchDatasetsRequest(_message.Message):
    __slots__ = ("experiment_ids", "filter", "max_results", "order_by", "page_token", "with_source_counts")
    EXPERIMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WITH_SOURCE_COUNTS_FIELD_NUMBER: _ClassVar[int]
    experiment_ids: _containers.RepeatedScalarFieldContainer[str]
    filter: str
    max_results: int
    order_by: _containers.RepeatedScalarFieldContainer[str]
    page_token: str
    with_source_counts: bool
    def __init__(self, experiment_ids: _Optional[_Iterable[str]] = ..., filter: _Optional[str] = ..., max_results: _Optional[int] = ..., order_by: _Optional[_Iterable[str]] = ..., page_token: _Optional[str] = ..., with_source_counts: _Optional[bool] = ...) -> None: ...

class SearchDatasetsResponse(_message.Message):
    __slots__ = ("datasets", "next_page_token")
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    datasets: _containers.RepeatedCompositeFieldContainer[Dataset]
    next_page_token: str
    def __init__(self, datasets: _Optional[_Iterable[_Union[Dataset, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteDatasetRequest(_message.Message):
    __slots__ = ("dataset_id",)
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    def __init__(self, dataset_id: _Optional[str] = ...) -> None: ...

class DeleteDatasetResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetDatasetTagsRequest(_message.Message):
    __slots__ = ("dataset_id", "tags", "delete_keys", "user")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DELETE_KEYS_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    tags: _containers.ScalarMap[str, str]
    delete_keys: _containers.RepeatedScalarFieldContainer[str]
    user: str
    def __init__(self, dataset_id: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., delete_keys: _Optional[_Iterable[str]] = ..., user: _Optional[str] = ...) -> None: ...

class AddDatasetExperimentsRequest(_message.Message):
    __slots__ = ("dataset_id", "experiment_ids", "user")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    experiment_ids: _containers.RepeatedScalarFieldContainer[str]
    user: str
    def __init__(self, dataset_id: _Optional[str] = ..., experiment_ids: _Optional[_Iterable[str]] = ..., user: _Optional[str] = ...) -> None: ...

class RemoveDatasetExperimentsRequest(_message.Message):
    __slots__ = ("dataset_id", "experiment_ids", "user")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    experiment_ids: _containers.RepeatedScalarFieldContainer[str]
    user: str
    def __init__(self, dataset_id: _Optional[str] = ..., experiment_ids: _Optional[_Iterable[str]] = ..., user: _Optional[str] = ...) -> None: ...

class MergeRecordsRequest(_message.Message):
    __slots__ = ("dataset_id", "user", "records")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    user: str
    records: DatasetRecordColumns
    def __init__(self, dataset_id: _Optional[str] = ..., user: _Optional[str] = ..., records: _Optional[_Union[DatasetRecordColumns, _Mapping]] = ...) -> None: ...

class MergeTracesRequest(_message.Message):
    __slots__ = ("dataset_id", "trace_ids", "user")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_IDS_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    trace_ids: _containers.RepeatedScalarFieldContainer[str]
    user: str
    def __init__(self, dataset_id: _Optional[str] = ..., trace_ids: _Optional[_Iterable[str]] = ..., user: _Optional[str] = ...) -> None: ...

class MergeRecordsResponse(_message.Message):
    __slots__ = ("dataset", "inserted_count", "updated_count", "unchanged_count")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    INSERTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_COUNT_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_COUNT_FIELD_NUMBER: _ClassVar[int]
    dataset: Dataset
    inserted_count: int
    updated_count: int
    unchanged_count: int
    def __init__(self, dataset: _Optional[_Union[Dataset, _Mapping]] = ..., inserted_count: _Optional[int] = ..., updated_count: _Optional[int] = ..., unchanged_count: _Optional[int] = ...) -> None: ...

class ListRecordsRequest(_message.Message):
    __slots__ = ("dataset_id", "version", "page_size", "page_token", "contains")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CONTAINS_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    version: int
    page_size: int
    page_token: str
    contains: str
    def __init__(self, dataset_id: _Optional[str] = ..., version: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., contains: _Optional[str] = ...) -> None: ...

class ListRecordsResponse(_message.Message):
    __slots__ = ("records", "next_page_token", "version")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    records: DatasetRecordColumns
    next_page_token: str
    version: int
    def __init__(self, records: _Optional[_Union[DatasetRecordColumns, _Mapping]] = ..., next_page_token: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class DeleteRecordsRequest(_message.Message):
    __slots__ = ("dataset_id", "dataset_record_ids", "user")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_RECORD_IDS_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    dataset_record_ids: _containers.RepeatedScalarFieldContainer[str]
    user: str
    def __init__(self, dataset_id: _Optional[str] = ..., dataset_record_ids: _Optional[_Iterable[str]] = ..., user: _Optional[str] = ...) -> None: ...

class DeleteRecordsResponse(_message.Message):
    __slots__ = ("dataset", "deleted_count")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    DELETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    dataset: Dataset
    deleted_count: int
    def __init__(self, dataset: _Optional[_Union[Dataset, _Mapping]] = ..., deleted_count: _Optional[int] = ...) -> None: ...

class ListDatasetVersionsRequest(_message.Message):
    __slots__ = ("dataset_id",)
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    def __init__(self, dataset_id: _Optional[str] = ...) -> None: ...

class ListDatasetVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[DatasetVersion]
    def __init__(self, versions: _Optional[_Iterable[_Union[DatasetVersion, _Mapping]]] = ...) -> None: ...

class DiffDatasetVersionsRequest(_message.Message):
    __slots__ = ("dataset_id", "from_version", "to_version", "max_results")
    DATASET_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULTS_FIELD_NUMBER: _ClassVar[int]
    dataset_id: str
    from_version: int
    to_version: int
    max_results: int
    def __init__(self, dataset_id: _Optional[str] = ..., from_version: _Optional[int] = ..., to_version: _Optional[int] = ..., max_results: _Optional[int] = ...) -> None: ...

class RecordChange(_message.Message):
    __slots__ = ("dataset_record_id", "kind", "before", "after", "changed_fields")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[RecordChange.Kind]
        ADDED: _ClassVar[RecordChange.Kind]
        REMOVED: _ClassVar[RecordChange.Kind]
        CHANGED: _ClassVar[RecordChange.Kind]
    KIND_UNSPECIFIED: RecordChange.Kind
    ADDED: RecordChange.Kind
    REMOVED: RecordChange.Kind
    CHANGED: RecordChange.Kind
    DATASET_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    dataset_record_id: str
    kind: RecordChange.Kind
    before: bytes
    after: bytes
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, dataset_record_id: _Optional[str] = ..., kind: _Optional[_Union[RecordChange.Kind, str]] = ..., before: _Optional[bytes] = ..., after: _Optional[bytes] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class DiffDatasetVersionsResponse(_message.Message):
    __slots__ = ("from_version", "to_version", "added_count", "removed_count", "changed_count", "changes", "truncated")
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    ADDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    REMOVED_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    from_version: int
    to_version: int
    added_count: int
    removed_count: int
    changed_count: int
    changes: _containers.RepeatedCompositeFieldContainer[RecordChange]
    truncated: bool
    def __init__(self, from_version: _Optional[int] = ..., to_version: _Optional[int] = ..., added_count: _Optional[int] = ..., removed_count: _Optional[int] = ..., changed_count: _Optional[int] = ..., changes: _Optional[_Iterable[_Union[RecordChange, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...
