"""OTLP/HTTP at the wire level, against a real collector on a loopback port.

Proves that ``POST /v1/traces`` accepts OTLP/JSON with hex ids (stored as the ids sent, on
SQLite and PostgreSQL) as well as protobuf, answers in the encoding of the request, takes
gzip and deflate bodies, works for a plain ``curl`` POST, and that ``/healthz``,
``/readyz`` and ``/metrics`` (stored-span counter, write-queue gauge, commit-time
histogram) serve what orchestrators and Prometheus expect.
"""

from __future__ import annotations

import gzip
import http.client
import json
import shutil
import subprocess
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from otlp_builders import (
    hex_id,
    make_request,
    make_span,
    new_trace_id,
    to_otlp_json,
)
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from spyglass.collector.server import Collector

TIMEOUT_S = 10


@dataclass(frozen=True)
class Encoding:
    """One OTLP/HTTP body encoding: its content type, and how to write and read bodies."""

    content_type: str
    encode: Callable[[ExportTraceServiceRequest], bytes]
    decode_response: Callable[[bytes], ExportTraceServiceResponse]


ENCODINGS = {
    "protobuf": Encoding(
        "application/x-protobuf",
        lambda request: request.SerializeToString(),
        ExportTraceServiceResponse.FromString,
    ),
    "json": Encoding(
        "application/json",
        lambda request: json.dumps(to_otlp_json(request)).encode(),
        lambda body: json_format.Parse(body, ExportTraceServiceResponse()),
    ),
}


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


# name → (Content-Encoding header, compressor)
COMPRESSIONS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", gzip.compress),
    "deflate": ("deflate", zlib.compress),  # zlib-wrapped, as HTTP defines it
    "deflate-raw": ("deflate", _raw_deflate),  # a bare deflate stream, as some clients send
}


# --- helpers --------------------------------------------------------------------------------


def base_url(collector: Collector) -> str:
    return f"http://127.0.0.1:{collector.http_port}"


def post_traces(
    collector: Collector, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    return httpx.post(
        f"{base_url(collector)}/v1/traces",
        content=body,
        timeout=TIMEOUT_S,
        headers={"Content-Type": content_type, **(headers or {})},
    )


def rows(engine: Engine, sql: str, **params: Any) -> list[Mapping[str, Any]]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params).mappings())


def stored_ids(engine: Engine, trace_id: str) -> set[tuple[str, str, str | None]]:
    """(trace_id, span_id, parent_span_id) of every stored span of ``trace_id``."""
    found = rows(
        engine,
        "SELECT trace_id, span_id, parent_span_id FROM spans WHERE trace_id = :t",
        t=trace_id,
    )
    return {(r["trace_id"], r["span_id"], r["parent_span_id"]) for r in found}


def two_span_request(service: str = "http-tests") -> ExportTraceServiceRequest:
    """A root span and its child, in one new trace."""
    trace_id = new_trace_id()
    root = make_span("root", trace_id, attributes={"input.value": "question"})
    child = make_span("child", trace_id, parent=root, attributes={"llm.token_count.prompt": 7})
    return make_request([root, child], resource={"service.name": service})


def request_ids(request: ExportTraceServiceRequest) -> set[tuple[str, str, str | None]]:
    spans = request.resource_spans[0].scope_spans[0].spans
    return {
        (hex_id(s.trace_id), hex_id(s.span_id), hex_id(s.parent_span_id) or None) for s in spans
    }


def trace_of(request: ExportTraceServiceRequest) -> str:
    return hex_id(request.resource_spans[0].scope_spans[0].spans[0].trace_id)


def metric(collector: Collector, sample: str) -> float:
    """The value of the unlabelled sample named ``sample`` on ``/metrics``."""
    response = httpx.get(f"{base_url(collector)}/metrics", timeout=TIMEOUT_S)
    assert response.status_code == 200, response.text
    for family in text_string_to_metric_families(response.text):
        for found in family.samples:
            if found.name == sample and not found.labels:
                return found.value
    raise AssertionError(f"/metrics has no sample {sample!r}:\n{response.text}")


def raw_post(url: str, body_file: Path, content_type: str) -> tuple[int, str, bytes]:
    """POST a file the way a person would from a shell: ``curl --data-binary @file``.

    Falls back to the standard library's http.client when curl is not installed. Returns
    the status, the response's content type and its body.
    """
    curl = shutil.which("curl")
    if curl is None:
        return _http_client_post(url, body_file.read_bytes(), content_type)
    out = body_file.with_suffix(".response")
    done = subprocess.run(
        [
            curl,
            "--silent",
            "--show-error",
            "--max-time",
            str(TIMEOUT_S),
            "-X",
            "POST",
            "-H",
            f"Content-Type: {content_type}",
            "--data-binary",
            f"@{body_file}",
            "--output",
            str(out),
            "--write-out",
            "%{http_code} %{content_type}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S + 5,
        check=True,
    )
    status, _, response_type = done.stdout.partition(" ")
    return int(status), response_type, out.read_bytes()


def _http_client_post(url: str, body: bytes, content_type: str) -> tuple[int, str, bytes]:
    parsed = httpx.URL(url)
    connection = http.client.HTTPConnection(parsed.host, parsed.port, timeout=TIMEOUT_S)
    try:
        connection.request("POST", parsed.path, body, {"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("hex_case", ["lower", "upper"])
def test_otlp_json_is_stored_under_the_hex_ids_sent(collector: Collector, hex_case: str) -> None:
    request = two_span_request()
    doc = to_otlp_json(request)
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    for span in spans:  # OTLP/JSON ids are case-insensitive hex
        for key in ("traceId", "spanId", "parentSpanId"):
            if key in span and hex_case == "upper":
                span[key] = span[key].upper()
    sent = {
        (s["traceId"].lower(), s["spanId"].lower(), (s.get("parentSpanId") or "").lower() or None)
        for s in spans
    }

    response = post_traces(collector, json.dumps(doc).encode(), "application/json")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {}  # full success: an empty ExportTraceServiceResponse
    assert sent == request_ids(request)
    assert stored_ids(collector.engine, trace_of(request)) == sent
    (trace,) = rows(
        collector.engine,
        "SELECT name, span_count FROM traces WHERE trace_id = :t",
        t=trace_of(request),
    )
    assert (trace["name"], trace["span_count"]) == ("root", 2)


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_response_uses_the_encoding_of_the_request(
    start_collector, tmp_path, encoding: str
) -> None:
    collector = start_collector(f"sqlite:///{tmp_path}/s.db")
    request = two_span_request()
    spans = request.resource_spans[0].scope_spans[0].spans
    spans.append(make_span("short-id", new_trace_id()[:8]))  # rejected: 8-byte trace id
    codec = ENCODINGS[encoding]

    response = post_traces(collector, codec.encode(request), codec.content_type)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == codec.content_type
    if encoding == "json":  # OTLP/JSON field names, int64 as a string
        assert json.loads(response.content)["partialSuccess"]["rejectedSpans"] in ("1", 1)
    answer = codec.decode_response(response.content)
    assert answer.partial_success.rejected_spans == 1
    assert "resourceSpans[0].scopeSpans[0].spans[2]" in answer.partial_success.error_message
    assert "traceId" in answer.partial_success.error_message
    assert len(stored_ids(collector.engine, trace_of(request))) == 2


@pytest.mark.parametrize("compression", sorted(COMPRESSIONS))
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_compressed_bodies_are_accepted(
    start_collector, tmp_path, encoding: str, compression: str
) -> None:
    collector = start_collector(f"sqlite:///{tmp_path}/s.db")
    request = two_span_request()
    codec = ENCODINGS[encoding]
    header, compress = COMPRESSIONS[compression]
    body = compress(codec.encode(request))

    response = post_traces(collector, body, codec.content_type, {"Content-Encoding": header})

    assert response.status_code == 200, response.text
    assert codec.decode_response(response.content) == ExportTraceServiceResponse()
    assert stored_ids(collector.engine, trace_of(request)) == request_ids(request)


def test_curl_style_json_post_is_stored(start_collector, tmp_path) -> None:
    collector = start_collector(f"sqlite:///{tmp_path}/s.db")
    request = two_span_request()
    body_file = tmp_path / "trace.json"
    body_file.write_text(json.dumps(to_otlp_json(request), indent=2))

    status, content_type, body = raw_post(
        f"{base_url(collector)}/v1/traces", body_file, "application/json"
    )

    assert (status, content_type.split(";")[0]) == (200, "application/json"), body
    assert json.loads(body) == {}
    assert stored_ids(collector.engine, trace_of(request)) == request_ids(request)


@pytest.mark.parametrize("path, body", [("/healthz", "ok"), ("/readyz", "ready")])
def test_health_endpoints_answer_200(start_collector, tmp_path, path: str, body: str) -> None:
    collector = start_collector(f"sqlite:///{tmp_path}/s.db")
    response = httpx.get(f"{base_url(collector)}{path}", timeout=TIMEOUT_S)
    assert (response.status_code, response.text.strip()) == (200, body)


def test_metrics_count_stored_spans_and_show_queue_and_commit_time(
    start_collector, tmp_path
) -> None:
    collector = start_collector(f"sqlite:///{tmp_path}/s.db")
    before = metric(collector, "spyglass_spans_stored_total")
    commits_before = metric(collector, "spyglass_commit_seconds_count")
    first, second = two_span_request(), two_span_request()
    for request in (first, second, first):  # the re-delivery stores nothing new
        response = post_traces(collector, request.SerializeToString(), "application/x-protobuf")
        assert response.status_code == 200, response.text

    assert metric(collector, "spyglass_spans_stored_total") == before + 4
    assert metric(collector, "spyglass_commit_seconds_count") >= commits_before + 1
    assert metric(collector, "spyglass_commit_seconds_sum") > 0
    assert metric(collector, "spyglass_write_queue_spans") == 0  # all committed
