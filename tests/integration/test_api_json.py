"""The spyglass.v1 services as JSON over HTTP (``POST /api/v1/<Service>/<Method>``) on real
collectors, SQLite and PostgreSQL, called as a script would call them (httpx, no browser).

What it proves:

* a unary call takes and answers protobuf's JSON mapping (lowerCamelCase names, 64-bit
  integers as strings): CreateExperiment, then GetExperimentByName finds it;
* SearchTraces, a server-streaming method, answers a JSON array of pages, here over spans
  sent by the official OTel SDK exporter; MergeTraces exports those traces to a dataset;
* MergeRecords, a client-streaming method, takes a JSON array of chunks and merges them in
  one call;
* errors answer ``{"code", "message"}`` with the HTTP status of their code: a bad filter is
  400 invalid_argument with the caret under the bad spot, an unknown service or method 404
  listing the names there are, a body that is not JSON 400;
* with API keys, a missing or wrong key is 401 and the answer does not tell a near miss
  from a wild guess; the right key works;
* a state-changing request a browser marks as cross-site (``Origin`` of another site or
  ``Sec-Fetch-Site: cross-site``) is refused with 403, with or without a valid key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from otel_sdk import otel_sdk

from spyglass.collector.server import Collector

KEY = "json-api-key-0123456789"


def api_url(collector: Collector, service: str, method: str) -> str:
    return f"http://127.0.0.1:{collector.http_port}/api/v1/{service}/{method}"


def call(
    collector: Collector,
    service: str,
    method: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    url = api_url(collector, service, method)
    if content is not None:
        return httpx.post(url, content=content, headers=headers, timeout=30)
    return httpx.post(url, json={} if body is None else body, headers=headers, timeout=30)


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def b64_json(value: Any) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def from_b64_json(text: str) -> Any:
    return json.loads(base64.b64decode(text))


def test_unary_calls_use_the_json_mapping(collector: Collector) -> None:
    created = ok(
        call(
            collector,
            "ExperimentService",
            "CreateExperiment",
            {"name": "json experiment", "tags": {"team": "api"}},
        )
    )
    assert created["name"] == "json experiment" and created["tags"] == {"team": "api"}
    assert isinstance(created["creationTimeMs"], str) and int(created["creationTimeMs"]) > 0

    found = ok(
        call(collector, "ExperimentService", "GetExperimentByName", {"name": created["name"]})
    )
    assert found == created
    # the .proto's own field names are accepted too, and the package prefix
    by_id = ok(
        call(collector, "spyglass.v1.ExperimentService", "GetExperiment", {"experiment_id": "0"})
    )
    assert by_id["name"] == "Default"

    taken = call(collector, "ExperimentService", "CreateExperiment", {"name": "json experiment"})
    assert taken.status_code == 409
    assert taken.json()["code"] == "already_exists"
    assert "already exists" in taken.json()["message"]


def test_unary_calls_are_connect_protocol_calls(collector: Collector) -> None:
    """What a Connect client with base URL ``.../api/v1`` sends for a unary call (JSON codec)
    and what it expects back: the message, or a Connect error object and status."""
    connect = {"content-type": "application/json", "connect-protocol-version": "1"}
    base = f"http://127.0.0.1:{collector.http_port}/api/v1/spyglass.v1.ExperimentService"
    answer = httpx.post(
        f"{base}/GetExperiment", content=b'{"experimentId": "0"}', headers=connect, timeout=30
    )
    assert answer.status_code == 200 and answer.json()["name"] == "Default"
    missing = httpx.post(
        f"{base}/GetExperiment", content=b'{"experimentId": "4242"}', headers=connect, timeout=30
    )
    assert missing.status_code == 404  # Connect's status for not_found
    error = missing.json()
    assert error["code"] == "not_found" and "4242" in error["message"]


def test_search_traces_streams_pages_as_a_json_array(collector: Collector) -> None:
    with otel_sdk(collector, "http", {"service.name": "json search"}) as sdk:
        for number in range(3):
            with sdk.tracer.start_as_current_span(f"question {number}") as root:
                root.set_attribute("input.value", json.dumps({"question": f"q{number}"}))
                root.set_attribute("input.mime_type", "application/json")
                root.set_attribute("output.value", f"answer {number}")
                with sdk.tracer.start_as_current_span("retrieve"):
                    pass
        sdk.flush_spans()
    experiment = ok(
        call(collector, "ExperimentService", "GetExperimentByName", {"name": "json search"})
    )

    response = call(
        collector,
        "TraceService",
        "SearchTraces",
        {
            "experimentIds": [experiment["experimentId"]],
            "filter": "attributes.name LIKE 'question %'",
            "orderBy": ["attributes.name ASC"],
            "pageSize": 2,
            "includeSpans": True,
        },
    )
    pages = ok(response)
    assert isinstance(pages, list) and len(pages) == 2  # pages of 2 and 1, in one answer
    traces = [trace for page in pages for trace in page.get("traces", [])]
    assert [t["info"]["name"] for t in traces] == ["question 0", "question 1", "question 2"]
    first = traces[0]
    assert isinstance(first["info"]["requestTime"], str)  # int64 as a string
    assert {s["name"] for s in first["spans"]} == {"question 0", "retrieve"}
    root = next(s for s in first["spans"] if s["name"] == "question 0")
    assert json.loads(root["inputs"]) == {"question": "q0"}
    assert pages[0]["nextPageToken"] and not pages[-1].get("nextPageToken")

    # nothing matches: no traces (one empty page, as over gRPC), not an error
    none = ok(call(collector, "TraceService", "SearchTraces", {"filter": "attributes.name = 'x'"}))
    assert [t for page in none for t in page.get("traces", [])] == []

    # the UI's "Export": these traces into a dataset, as merge_records(traces) would
    dataset = ok(call(collector, "DatasetService", "CreateDataset", {"name": "json export"}))
    merged = ok(
        call(
            collector,
            "DatasetService",
            "MergeTraces",
            {
                "datasetId": dataset["datasetId"],
                "traceIds": [t["info"]["traceId"] for t in traces],
            },
        )
    )
    assert merged["insertedCount"] == "3" and merged["dataset"]["version"] == "1"
    listed = ok(
        call(collector, "DatasetService", "ListRecords", {"datasetId": dataset["datasetId"]})
    )
    assert from_b64_json(listed["records"]["inputs"]) == [{"question": f"q{n}"} for n in range(3)]
    assert listed["records"]["sourceType"] == ["TRACE"] * 3


def test_errors_answer_a_code_and_a_message(collector: Collector) -> None:
    bad_filter = call(collector, "TraceService", "SearchTraces", {"filter": "attributes.name = "})
    assert bad_filter.status_code == 400
    error = bad_filter.json()
    assert error["code"] == "invalid_argument"
    assert "attributes.name = \n" in error["message"] and error["message"].rstrip().endswith("^")

    unknown_service = call(collector, "NoSuchService", "Anything")
    assert unknown_service.status_code == 404
    message = unknown_service.json()["message"]
    assert "no service 'NoSuchService'" in message
    assert all(s in message for s in ("TraceService", "ExperimentService", "DatasetService"))

    unknown_method = call(collector, "DatasetService", "Nope")
    assert unknown_method.status_code == 404
    assert unknown_method.json()["code"] == "not_found"
    assert "DatasetService has no method 'Nope'" in unknown_method.json()["message"]
    assert "MergeTraces" in unknown_method.json()["message"]

    malformed = call(
        collector,
        "ExperimentService",
        "CreateExperiment",
        content=b'{"name": ',
        headers={"content-type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "invalid_argument"
    assert "is not JSON" in malformed.json()["message"]

    wrong_field = call(collector, "ExperimentService", "CreateExperiment", {"nom": "x"})
    assert wrong_field.status_code == 400
    assert "CreateExperimentRequest" in wrong_field.json()["message"]

    missing = call(collector, "DatasetService", "GetDataset", {"datasetId": "d-" + "0" * 32})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_merge_records_takes_a_json_array_of_chunks(collector: Collector) -> None:
    dataset = ok(call(collector, "DatasetService", "CreateDataset", {"name": "json merge"}))
    dataset_id = dataset["datasetId"]
    chunks = [
        {
            "datasetId": dataset_id,
            "user": "script",
            "records": {
                "inputs": b64_json([{"question": "a"}, {"question": "b"}]),
                "expectations": b64_json([{"answer": "A"}, None]),
            },
        },
        {"records": {"inputs": b64_json([{"question": "c"}, {"question": "a"}])}},
    ]
    merged = ok(call(collector, "DatasetService", "MergeRecords", chunks))
    assert merged["insertedCount"] == "3"  # "a" twice is one record
    assert merged["dataset"]["recordCount"] == "3"
    assert merged["dataset"]["lastUpdatedBy"] == "script"

    listed = ok(call(collector, "DatasetService", "ListRecords", {"datasetId": dataset_id}))
    records = listed["records"]
    assert from_b64_json(records["inputs"]) == [{"question": q} for q in "abc"]
    assert from_b64_json(records["expectations"]) == [{"answer": "A"}, {}, {}]
    assert records["sourceType"] == ["HUMAN", "CODE", "CODE"]

    # one bad record in the last chunk: nothing is merged
    bad = [chunks[0], {"records": {"inputs": b64_json([{}])}}]
    refused = call(collector, "DatasetService", "MergeRecords", bad)
    assert refused.status_code == 400 and "record 3" in refused.json()["message"]
    after = ok(call(collector, "DatasetService", "GetDataset", {"datasetId": dataset_id}))
    assert after["version"] == "1" and after["digest"] == merged["dataset"]["digest"]


@pytest.fixture
def keyed(start_collector: Callable[..., Collector], store_url: str) -> Collector:
    return start_collector(store_url, api_keys=(KEY,))


def test_api_keys(keyed: Collector) -> None:
    request = ("ExperimentService", "GetExperiment", {"experimentId": "0"})
    answers = {
        "missing": call(keyed, *request),
        "not bearer": call(keyed, *request, headers={"authorization": KEY}),
        "near miss": call(keyed, *request, headers={"authorization": f"Bearer {KEY[:-1]}x"}),
        "wild guess": call(keyed, *request, headers={"authorization": "Bearer guess"}),
    }
    for why, answer in answers.items():
        assert answer.status_code == 401, why
        assert answer.json()["code"] == "unauthenticated", why
        assert KEY[:8] not in answer.text, why
    # a wrong key is not told apart from another wrong key
    assert answers["near miss"].json() == answers["wild guess"].json()
    assert "not accepted" in answers["wild guess"].json()["message"]

    right = call(keyed, *request, headers={"authorization": f"Bearer {KEY}"})
    assert ok(right)["name"] == "Default"


def test_cross_site_browser_posts_are_refused(keyed: Collector, collector: Collector) -> None:
    create = ("ExperimentService", "CreateExperiment")
    # (two collectors over one store: the names differ per collector)
    for target, auth in ((collector, {}), (keyed, {"authorization": f"Bearer {KEY}"})):
        for browser in ({"origin": "http://evil.example"}, {"sec-fetch-site": "cross-site"}):
            refused = call(target, *create, {"name": "forged"}, headers={**auth, **browser})
            assert refused.status_code == 403, (browser, refused.text)
            assert "cross-site" in refused.text
        # from the collector's own origin: a key is judged by itself, a browser without
        # one needs the CSRF token of a session
        own = {"origin": f"http://127.0.0.1:{target.http_port}"}
        same = call(target, *create, {"name": "own page"}, headers={**auth, **own})
        if auth:
            assert ok(same)["name"] == "own page"
        else:
            assert same.status_code == 403 and "CSRF" in same.text, same.text
        name = f"from a script {target.http_port}"
        script = call(target, *create, {"name": name}, headers=auth)
        assert ok(script)["name"] == name
        found = call(
            target, "ExperimentService", "GetExperimentByName", {"name": "forged"}, headers=auth
        )
        assert found.status_code == 404  # nothing forged was created
