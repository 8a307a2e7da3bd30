"""DatasetService.DiffDatasetVersions, ListRecords' ``contains`` and SearchDatasets'
``with_source_counts`` on a real collector, SQLite and PostgreSQL, over datasets the Python
SDK built with ``merge_records`` and ``delete_records``.

What it proves:

* a diff of two versions names the records added, removed and changed (matched by inputs),
  with their states before and after and the changed fields down to the expectation names;
  counts cover every change while ``max_results`` limits the changes returned;
* the diff of a version with itself is empty, and unknown versions are INVALID_ARGUMENT;
* ``contains`` keeps the records whose JSON text holds the text (any case, ``%`` and
  ``_`` literal), pages with tokens that belong to the text, and reads old versions;
* source counts count the latest records per source type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import grpc
import pytest
from test_api_traces import rpc_error

from spyglass import session
from spyglass.collector.server import Collector
from spyglass.evaluator.datasets import create_dataset
from spyglass.v1 import datasets_pb2 as pb
from spyglass.v1 import datasets_pb2_grpc


@pytest.fixture
def api(collector: Collector) -> Iterator[datasets_pb2_grpc.DatasetServiceStub]:
    address = f"127.0.0.1:{collector.grpc_port}"
    session.configure(collector=address)
    with grpc.insecure_channel(address) as channel:
        yield datasets_pb2_grpc.DatasetServiceStub(channel)
    session._shutdown()


def _ids_by_question(api: datasets_pb2_grpc.DatasetServiceStub, dataset_id: str) -> dict:
    page = api.ListRecords(pb.ListRecordsRequest(dataset_id=dataset_id), timeout=30)
    inputs = json.loads(page.records.inputs)
    return {i["q"]: rid for i, rid in zip(inputs, page.records.dataset_record_id)}


def test_diff_names_added_removed_and_changed_records(
    api: datasets_pb2_grpc.DatasetServiceStub,
) -> None:
    dataset = create_dataset("diff_three_kinds")
    dataset.merge_records(
        [
            {"inputs": {"q": "a"}, "expectations": {"answer": "A", "tone": "dry"}},
            {"inputs": {"q": "b"}, "expectations": {"answer": "B"}},
            {"inputs": {"q": "c"}, "outputs": "see c"},
        ]
    )  # version 1
    ids = _ids_by_question(api, dataset.dataset_id)
    dataset.merge_records([{"inputs": {"q": "a"}, "expectations": {"answer": "A!"}}])  # 2
    dataset.delete_records([ids["b"]])  # 3
    dataset.merge_records([{"inputs": {"q": "d"}, "tags": {"split": "test"}}])  # 4

    diff = api.DiffDatasetVersions(
        pb.DiffDatasetVersionsRequest(dataset_id=dataset.dataset_id, from_version=1), timeout=30
    )
    assert (diff.from_version, diff.to_version) == (1, 4)
    assert (diff.added_count, diff.removed_count, diff.changed_count) == (1, 1, 1)
    assert not diff.truncated
    by_kind = {pb.RecordChange.Kind.Name(c.kind): c for c in diff.changes}
    changed = by_kind["CHANGED"]
    assert changed.dataset_record_id == ids["a"]
    assert json.loads(changed.before)["expectations"] == {"answer": "A", "tone": "dry"}
    assert json.loads(changed.after)["expectations"] == {"answer": "A!", "tone": "dry"}
    assert list(changed.changed_fields) == ["expectations", "expectations.answer"]
    removed = by_kind["REMOVED"]
    assert removed.dataset_record_id == ids["b"] and removed.after == b""
    assert json.loads(removed.before)["inputs"] == {"q": "b"}
    added = by_kind["ADDED"]
    assert added.before == b"" and json.loads(added.after)["tags"] == {"split": "test"}
    assert [c.dataset_record_id for c in diff.changes] == sorted(
        c.dataset_record_id for c in diff.changes
    )

    # between two intermediate versions, and with a limit on what comes back
    step = api.DiffDatasetVersions(
        pb.DiffDatasetVersionsRequest(
            dataset_id=dataset.dataset_id, from_version=2, to_version=3, max_results=5
        ),
        timeout=30,
    )
    assert (step.added_count, step.removed_count, step.changed_count) == (0, 1, 0)
    limited = api.DiffDatasetVersions(
        pb.DiffDatasetVersionsRequest(dataset_id=dataset.dataset_id, from_version=0, max_results=2),
        timeout=30,
    )
    assert limited.added_count == 3 and len(limited.changes) == 2 and limited.truncated
    same = api.DiffDatasetVersions(
        pb.DiffDatasetVersionsRequest(dataset_id=dataset.dataset_id, from_version=4), timeout=30
    )
    assert (same.added_count, same.removed_count, same.changed_count, len(same.changes)) == (
        0,
        0,
        0,
        0,
    )
    error = rpc_error(
        api.DiffDatasetVersions,
        pb.DiffDatasetVersionsRequest(dataset_id=dataset.dataset_id, from_version=9),
        timeout=30,
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "version 9 does not exist" in str(error.details())


def test_records_filtered_by_contained_text(api: datasets_pb2_grpc.DatasetServiceStub) -> None:
    dataset = create_dataset("contains_filter")
    dataset.merge_records(
        [{"inputs": {"q": f"Refund {n}"}, "expectations": {"answer": "yes"}} for n in range(5)]
        + [{"inputs": {"q": f"shipping {n}"}, "outputs": "50% OFF_now"} for n in range(3)]
    )
    seen: list[str] = []
    token = ""
    while True:
        page = api.ListRecords(
            pb.ListRecordsRequest(
                dataset_id=dataset.dataset_id, contains="REFUND", page_size=2, page_token=token
            ),
            timeout=30,
        )
        seen += [i["q"] for i in json.loads(page.records.inputs)]
        token = page.next_page_token
        if not token:
            break
    assert seen == [f"Refund {n}" for n in range(5)]

    def matching(text: str, version: int | None = None) -> int:
        request = pb.ListRecordsRequest(dataset_id=dataset.dataset_id, contains=text)
        if version is not None:
            request.version = version
        return len(api.ListRecords(request, timeout=30).records.dataset_record_id)

    assert matching("0% off") == 3  # in outputs; % is literal
    assert matching("0_%") == 0
    assert matching('"answer"') == 5  # expectations' JSON text
    assert matching("nothing like it") == 0
    dataset.merge_records([{"inputs": {"q": "Refund 0"}, "expectations": {"answer": "no"}}])
    assert matching('"no"') == 1 and matching('"no"', version=1) == 0

    first = api.ListRecords(
        pb.ListRecordsRequest(dataset_id=dataset.dataset_id, contains="refund", page_size=1),
        timeout=30,
    )
    error = rpc_error(
        api.ListRecords,
        pb.ListRecordsRequest(
            dataset_id=dataset.dataset_id,
            contains="shipping",
            page_size=1,
            page_token=first.next_page_token,
        ),
        timeout=30,
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_source_counts(api: datasets_pb2_grpc.DatasetServiceStub) -> None:
    dataset = create_dataset("source_counts", tags={"kind": "mixed"})
    dataset.merge_records(
        [
            {"inputs": {"q": "h"}, "expectations": {"a": 1}},  # HUMAN (expectations)
            {"inputs": {"q": "c1"}},
            {"inputs": {"q": "c2"}},  # CODE
        ]
    )
    found = api.SearchDatasets(
        pb.SearchDatasetsRequest(filter="name = 'source_counts'", with_source_counts=True),
        timeout=30,
    )
    assert dict(found.datasets[0].source_type_counts) == {"HUMAN": 1, "CODE": 2}
    plain = api.SearchDatasets(
        pb.SearchDatasetsRequest(filter="name = 'source_counts'"), timeout=30
    )
    assert dict(plain.datasets[0].source_type_counts) == {}
