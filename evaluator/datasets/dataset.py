"""``Dataset``: one evaluation dataset as of one version, and what you do with its records.

A Dataset object is a snapshot: ``digest``, ``version``, ``len()``, ``records`` and
``to_df()`` all describe the version it holds, so an evaluation that reads it and records
its digest names exactly the records it used, even while others merge into the dataset.
``merge_records`` and ``delete_records`` change the dataset and move the object to the
version they made (which includes other changes committed meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.datasets import remote as service
from spyglass.evaluator.datasets.normalize import record_chunks
from spyglass.evaluator.datasets.records import (
    COLUMNS,
    DatasetRecord,
    decode_columns,
    records_of,
)
from spyglass.evaluator.datasets.upload import send_merge
from spyglass.gc_pause import gc_paused_for_keeps
from spyglass.v1 import datasets_pb2 as pb

PAGE_SIZE = 1_000
FRAME_PAGE_SIZE = 10_000
_FRAME_DTYPES: dict[str, Any] = {"created_time": "int64", "last_update_time": "int64"}


@dataclass(frozen=True)
class MergeResult:
    """What one ``merge_records`` call did: records inserted (new inputs), updated (their
    content changed), unchanged, and the version and digest it left the dataset at."""

    inserted: int
    updated: int
    unchanged: int
    version: int
    digest: str


@dataclass(frozen=True)
class DatasetVersion:
    """One version of a dataset: what it holds and which change made it (times in ms)."""

    version: int
    digest: str
    record_count: int
    inserted: int
    updated: int
    deleted: int
    created_time: int
    created_by: str | None


@dataclass(eq=False)
class Dataset:
    """An evaluation dataset at one version (module docstring). Times are ms since the
    epoch; ``last_merge`` holds the counts of this object's latest ``merge_records``."""

    dataset_id: str
    name: str
    experiment_ids: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    digest: str = ""
    version: int = 0
    record_count: int = 0
    latest_version: int = 0
    created_time: int | None = None
    last_update_time: int | None = None
    created_by: str | None = None
    last_updated_by: str | None = None
    last_merge: MergeResult | None = None

    @staticmethod
    def from_proto(message: pb.Dataset) -> Dataset:
        dataset = Dataset(message.dataset_id, message.name)
        dataset._update(message)
        return dataset

    def _update(self, m: pb.Dataset) -> None:
        self.experiment_ids, self.tags = list(m.experiment_ids), dict(m.tags)
        self.digest, self.version, self.record_count = m.digest, m.version, m.record_count
        self.latest_version = m.latest_version
        self.created_time, self.last_update_time = m.create_time_ms, m.last_update_time_ms
        self.created_by = m.created_by or None
        self.last_updated_by = m.last_updated_by or None

    def __len__(self) -> int:
        return self.record_count

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, dataset_id={self.dataset_id!r}, "
            f"version={self.version}, records={self.record_count}, digest={self.digest!r})"
        )

    # -- change the records

    def merge_records(self, records: Any) -> Dataset:
        """Insert records with new inputs and update those whose inputs exist (expectations
        and tags merged key by key, newer wins; outputs replaced when given), all in one
        transaction. Takes a list of Trace, of dicts or of DatasetRecord, or a DataFrame
        (see ``normalize.py``). Returns this dataset, moved to the new version; the counts
        are in ``last_merge``."""
        chunks = record_chunks(records)
        first = next(chunks, None)
        if first is None:
            self.last_merge = MergeResult(0, 0, 0, self.version, self.digest)
            return self
        response = send_merge(self.dataset_id, chunks, first)
        self._update(response.dataset)
        self.last_merge = MergeResult(
            response.inserted_count,
            response.updated_count,
            response.unchanged_count,
            self.version,
            self.digest,
        )
        return self

    def delete_records(self, record_ids: Sequence[str]) -> int:
        """Delete records by id (ids not in the dataset are ignored); returns how many were
        deleted and moves this object to the new version."""
        if isinstance(record_ids, str):
            record_ids = [record_ids]
        request = pb.DeleteRecordsRequest(
            dataset_id=self.dataset_id,
            dataset_record_ids=list(record_ids),
            user=service.current_user(),
        )
        response: pb.DeleteRecordsResponse = service.call("DeleteRecords", request)
        self._update(response.dataset)
        return response.deleted_count

    # -- read the records

    @property
    def records(self) -> RecordPages:
        """The records of this version, in insertion order, fetched a page at a time as
        you iterate (each iteration reads them again)."""
        return RecordPages(self.dataset_id, self.version, self.record_count)

    def to_df(self, version: int | None = None) -> Any:
        """The records of ``version`` (default: this object's) as a pandas DataFrame with the
        columns dataset_record_id, inputs, expectations, outputs, tags, source_type,
        source_id, created_time, last_update_time (times in ms)."""
        wanted = self.version if version is None else _check_version(version)
        pages = _pages(self.dataset_id, wanted, FRAME_PAGE_SIZE, meanwhile=_import_pandas)
        # no collection while the records are decoded: each would scan the records decoded
        # so far again; the frame is kept, so they join the oldest generation (gc_pause.py)
        with gc_paused_for_keeps():
            merged: dict[str, list[Any]] = next(pages)  # pandas is imported while it comes
            for columns in pages:
                for name, values in columns.items():
                    merged[name] += values
            return _frame(merged)

    def versions(self) -> list[DatasetVersion]:
        """Every version of the dataset, newest first."""
        response = service.call(
            "ListDatasetVersions", pb.ListDatasetVersionsRequest(dataset_id=self.dataset_id)
        )
        return [
            DatasetVersion(
                v.version,
                v.digest,
                v.record_count,
                v.inserted_count,
                v.updated_count,
                v.deleted_count,
                v.create_time_ms,
                v.created_by or None,
            )
            for v in response.versions
        ]


class RecordPages:
    """The records of one dataset version, iterable any number of times; ``len()`` is the
    version's record count."""

    def __init__(self, dataset_id: str, version: int, count: int) -> None:
        self._dataset_id, self._version, self._count = dataset_id, version, count

    def __iter__(self) -> Iterator[DatasetRecord]:
        for columns in _pages(self._dataset_id, self._version, PAGE_SIZE):
            yield from records_of(columns)

    def __len__(self) -> int:
        return self._count


def _pages(
    dataset_id: str,
    version: int,
    page_size: int,
    meanwhile: Callable[[], Any] | None = None,
) -> Iterator[dict[str, list[Any]]]:
    """The decoded columns of each page of a version's records. Every page is requested in
    a thread, the next one while this one is decoded, so the collector and the client work
    at once; ``meanwhile`` runs while the first page is on its way."""

    def fetch(token: str) -> pb.ListRecordsResponse:
        request = pb.ListRecordsRequest(
            dataset_id=dataset_id, version=version, page_size=page_size, page_token=token
        )
        response: pb.ListRecordsResponse = service.call("ListRecords", request)
        return response

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="spyglass-records") as pool:
        following: Future[pb.ListRecordsResponse] | None = pool.submit(fetch, "")
        if meanwhile is not None:
            meanwhile()
        while following is not None:
            response = following.result()
            token = response.next_page_token
            following = pool.submit(fetch, token) if token else None
            yield decode_columns(response.records)


def _frame(columns: dict[str, list[Any]]) -> Any:
    """The DataFrame of decoded columns: object columns (pandas would infer a string dtype
    for the ids otherwise) and int64 times. Each column becomes an array the frame takes as
    it is, rather than one pandas copies into a combined block (three times as long)."""
    import numpy as np

    pd = _import_pandas()
    series = {}
    for name, values in columns.items():
        dtype = _FRAME_DTYPES.get(name, object)
        array = np.fromiter(values, dtype=dtype, count=len(values))
        series[name] = pd.Series(array, dtype=dtype, copy=False)
    return pd.DataFrame(series, columns=COLUMNS, copy=False)


def _import_pandas() -> Any:
    import pandas as pd

    return pd


def _check_version(version: Any) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise InvalidArgumentError(f"version must be a whole number of at least 0, got {version!r}")
    return version
