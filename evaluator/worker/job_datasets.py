"""A job's datasets as the worker uses them: the expectations dataset of a trace job, read
once per job, and the ``build_dataset`` its rows are merged into.

Expectations are looked up by the canonical hash of a record's inputs, so a trace whose root
inputs equal a record's inputs (whatever their key order) gets that record's expectations.
Merging goes through the DatasetService (one ``MergeRecords`` stream, the records encoded and
checked as ``Dataset.merge_records`` does); it is idempotent, since the dataset keeps one
record per input hash, so a chunk merged twice (retried by another worker) changes nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from spyglass import canonical_json
from spyglass.errors import NotFoundError
from spyglass.evaluator.datasets.normalize import record_chunks
from spyglass.evaluator.datasets.records import decode_columns
from spyglass.evaluator.datasets.remote import MERGE_TIMEOUT_S
from spyglass.evaluator.worker.connection import Connection
from spyglass.v1 import datasets_pb2 as dpb
from spyglass.v1 import jobs_pb2 as pb

PAGE_SIZE = 5_000
JOBS_CACHED = 16
MERGED_BY = "spyglass-evaluator"


class JobDatasets:
    """The datasets of the jobs this worker scores (module docstring)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()
        self._expectations: OrderedDict[str, dict[str, dict[str, Any]]] = OrderedDict()

    def expectations(self, job: pb.EvaluationJob) -> dict[str, dict[str, Any]]:
        """{canonical input hash: expectations} of the job's expectations dataset (empty when
        it names none), fetched on the job's first chunk and kept for the next ones."""
        name = job.input.traces.expectations_dataset if job.input.HasField("traces") else ""
        if not name:
            return {}
        with self._lock:
            found = self._expectations.get(job.job_id)
            if found is not None:
                self._expectations.move_to_end(job.job_id)
                return found
        found = self._read_expectations(name)
        with self._lock:
            self._expectations[job.job_id] = found
            while len(self._expectations) > JOBS_CACHED:
                self._expectations.popitem(last=False)
        return found

    def merge(
        self, job: pb.EvaluationJob, rows: list[dict[str, Any]]
    ) -> dpb.MergeRecordsResponse | None:
        """Merge ``rows`` (inputs, expectations, source) into the job's ``build_dataset``;
        None when the job builds none or there is nothing to merge."""
        if not job.build_dataset or not rows:
            return None
        dataset_id = self._dataset_id(job.build_dataset)
        requests = [dpb.MergeRecordsRequest(records=chunk) for chunk in record_chunks(rows)]
        requests[0].dataset_id, requests[0].user = dataset_id, MERGED_BY
        merged: dpb.MergeRecordsResponse = self._connection.datasets(
            "MergeRecords", iter(requests), timeout=MERGE_TIMEOUT_S
        )
        return merged

    def _read_expectations(self, name_or_id: str) -> dict[str, dict[str, Any]]:
        request = dpb.ListRecordsRequest(
            dataset_id=self._dataset_id(name_or_id), page_size=PAGE_SIZE
        )
        found: dict[str, dict[str, Any]] = {}
        while True:
            response = self._connection.datasets("ListRecords", request)
            columns = decode_columns(response.records)
            for inputs, expectations in zip(columns["inputs"], columns["expectations"]):
                if expectations:
                    found[canonical_json.canonical_hash(inputs)] = expectations
            if not response.next_page_token:
                return found
            request.page_token = response.next_page_token
            request.version = response.version  # every page of the same version

    def _dataset_id(self, name_or_id: str) -> str:
        """The id of the dataset called ``name_or_id``, else of the one with that id."""
        found: dpb.Dataset
        try:
            found = self._connection.datasets("GetDataset", dpb.GetDatasetRequest(name=name_or_id))
        except NotFoundError:
            found = self._connection.datasets(
                "GetDataset", dpb.GetDatasetRequest(dataset_id=name_or_id)
            )
        return found.dataset_id
