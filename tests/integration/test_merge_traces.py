"""DatasetService.MergeTraces on a real collector, SQLite and PostgreSQL, against the Python
SDK's ``dataset.merge_records(traces)`` on the same traces.

What it proves:

* traces merged on the server (MergeTraces, what the web UI's "Export" does) and traces
  merged by the SDK give the same records (inputs, outputs, expectations, tags, source
  TRACE with the trace id) and the same digest, in two datasets of one collector;
* after an expectation is logged on a trace, merging again updates exactly that record on
  both sides (inserted/updated/unchanged counted alike), and the digests stay equal;
* the server reads the trace's current expectations, not a snapshot;
* a trace whose root span has no usable inputs is refused with the SDK's own wording, and
  unknown trace ids are NOT_FOUND naming them; either way the dataset is left as it was;
* an empty list of trace ids changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from test_api_traces import rpc_error

import spyglass
from spyglass import session
from spyglass.collector.server import Collector
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.datasets import Dataset, create_dataset, get_dataset
from spyglass.v1 import datasets_pb2 as pb
from spyglass.v1 import datasets_pb2_grpc

QUESTIONS = ["What is the refund policy?", "How long does shipping take?", "Is there a warranty?"]


@spyglass.trace
def answer(question: str, context: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"answer": f"Answer: {question.lower()}", "sources": [1, 2.5, None]}


@spyglass.trace
def no_arguments() -> str:
    return "nothing asked"


@pytest.fixture
def sdk(collector: Collector) -> Iterator[str]:
    """The SDK configured against ``collector``; yields its gRPC address."""
    address = f"127.0.0.1:{collector.grpc_port}"
    session.configure(collector=address)
    yield address
    session._shutdown()


@pytest.fixture
def datasets_api(sdk: str) -> Iterator[datasets_pb2_grpc.DatasetServiceStub]:
    with grpc.insecure_channel(sdk) as channel:
        yield datasets_pb2_grpc.DatasetServiceStub(channel)


def merge_traces(
    api: datasets_pb2_grpc.DatasetServiceStub, dataset_id: str, trace_ids: list[str]
) -> pb.MergeRecordsResponse:
    request = pb.MergeTracesRequest(dataset_id=dataset_id, trace_ids=trace_ids, user="ui-user")
    response: pb.MergeRecordsResponse = api.MergeTraces(request, timeout=30)
    return response


def records_of(dataset_name: str) -> list[dict[str, Any]]:
    """The dataset's records (content only), sorted by their trace id."""
    frame = get_dataset(name=dataset_name).to_df()
    columns = ["inputs", "outputs", "expectations", "tags", "source_type", "source_id"]
    return sorted(frame[columns].to_dict("records"), key=lambda r: r["source_id"])


def counts(response: pb.MergeRecordsResponse) -> tuple[int, int, int]:
    return response.inserted_count, response.updated_count, response.unchanged_count


def sdk_counts(dataset: Dataset) -> tuple[int, int, int]:
    merged = dataset.last_merge
    assert merged is not None
    return merged.inserted, merged.updated, merged.unchanged


def test_merge_traces_matches_the_sdk(
    sdk: str, datasets_api: datasets_pb2_grpc.DatasetServiceStub
) -> None:
    spyglass.set_experiment("export from the UI")
    for number, question in enumerate(QUESTIONS):
        answer(question, context={"turn": number, "nested": {"z": 1, "a": [True, "x"]}})
    spyglass.flush()
    traces = spyglass.search_traces(max_results=10, return_type="list")
    assert len(traces) == 3
    ids = {t.data.root_span.inputs["question"]: t.info.trace_id for t in traces}
    refund = ids["What is the refund policy?"]
    spyglass.log_expectation(trace_id=refund, name="must_mention", value=["30 days"])
    trace_ids = [ids[q] for q in QUESTIONS]

    on_server = create_dataset("merged by MergeTraces")
    by_sdk = create_dataset("merged by the SDK")
    response = merge_traces(datasets_api, on_server.dataset_id, trace_ids)
    by_sdk.merge_records(traces)  # fetched before the expectation: the SDK reads it again

    assert counts(response) == sdk_counts(by_sdk) == (3, 0, 0)
    assert response.dataset.version == by_sdk.version == 1
    assert response.dataset.last_updated_by == "ui-user"
    assert response.dataset.digest == by_sdk.digest
    records = records_of(on_server.name)
    assert records == records_of(by_sdk.name)
    assert {r["source_type"] for r in records} == {"TRACE"}
    assert sorted(r["source_id"] for r in records) == sorted(trace_ids)
    by_id = {r["source_id"]: r for r in records}
    assert by_id[refund]["inputs"] == {
        "question": "What is the refund policy?",
        "context": {"turn": 0, "nested": {"z": 1, "a": [True, "x"]}},
    }
    assert by_id[refund]["outputs"] == {
        "answer": "Answer: what is the refund policy?",
        "sources": [1, 2.5, None],
    }
    assert by_id[refund]["expectations"] == {"must_mention": ["30 days"]}
    assert by_id[ids["Is there a warranty?"]]["expectations"] == {}
    assert all(r["tags"] == {} for r in records)

    # merging again changes nothing; after a new expectation, exactly that record changes
    assert counts(merge_traces(datasets_api, on_server.dataset_id, trace_ids)) == (0, 0, 3)
    shipping = ids["How long does shipping take?"]
    spyglass.log_expectation(trace_id=shipping, name="max_days", value=7)
    again = merge_traces(datasets_api, on_server.dataset_id, trace_ids)
    by_sdk.merge_records(traces)  # the same stale Trace objects
    assert counts(again) == sdk_counts(by_sdk) == (0, 1, 2)
    assert again.dataset.version == by_sdk.version == 2
    assert again.dataset.digest == by_sdk.digest != response.dataset.digest
    records = records_of(on_server.name)
    assert records == records_of(by_sdk.name)
    assert {r["source_id"]: r for r in records}[shipping]["expectations"] == {"max_days": 7}

    # the same trace twice in one merge folds into one record, as in the SDK
    twice = create_dataset("the same trace twice")
    doubled = merge_traces(datasets_api, twice.dataset_id, [refund, refund.upper()])
    assert counts(doubled) == (1, 0, 0) and doubled.dataset.record_count == 1

    # nothing to merge: nothing changes
    empty = merge_traces(datasets_api, on_server.dataset_id, [])
    assert counts(empty) == (0, 0, 0)
    assert (empty.dataset.version, empty.dataset.digest) == (2, again.dataset.digest)


def test_bad_traces_are_refused_as_the_sdk_refuses_them(
    sdk: str, datasets_api: datasets_pb2_grpc.DatasetServiceStub
) -> None:
    spyglass.set_experiment("bad exports")
    answer("fine question")
    no_arguments()
    spyglass.flush()
    traces = spyglass.search_traces(
        max_results=10, order_by=["attributes.timestamp_ms ASC"], return_type="list"
    )
    assert [t.data.root_span.name for t in traces] == ["answer", "no_arguments"]
    good, empty_inputs = (t.info.trace_id for t in traces)
    dataset = create_dataset("bad exports")

    with pytest.raises(InvalidArgumentError) as sdk_failure:
        get_dataset(name="bad exports").merge_records(traces)
    failure = rpc_error(merge_traces, datasets_api, dataset.dataset_id, [good, empty_inputs])
    assert failure.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.details() == str(sdk_failure.value)
    assert f"record 2 (trace {empty_inputs})" in failure.details()
    assert "the root span's inputs are an empty dict" in failure.details()

    unknown = ["0" * 32, "f" * 32]
    failure = rpc_error(merge_traces, datasets_api, dataset.dataset_id, [good, *unknown])
    assert failure.code() == grpc.StatusCode.NOT_FOUND
    assert f"2 traces not found: {unknown[0]}, {unknown[1]}" in failure.details()
    assert good not in failure.details()

    failure = rpc_error(merge_traces, datasets_api, dataset.dataset_id, ["not-a-trace-id"])
    assert failure.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'not-a-trace-id' is not a trace id" in failure.details()

    failure = rpc_error(merge_traces, datasets_api, "d-" + "0" * 32, [good])
    assert failure.code() == grpc.StatusCode.NOT_FOUND
    assert "dataset 'd-" in failure.details()

    after = get_dataset(name="bad exports")
    assert (after.version, after.record_count, after.digest) == (0, 0, dataset.digest)
