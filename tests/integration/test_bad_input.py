"""Bad input at a real collector: each problem gets its own status and a message that says so.

Proves, over OTLP/HTTP and (where the problem exists there) over OTLP/gRPC sent as raw bytes:

* a body that is not an export request (garbage, a truncated protobuf, invalid JSON) is
  refused as a whole: HTTP 400 / gRPC INVALID_ARGUMENT;
* a body over ``max_request_bytes``, also one that only inflates past it (a gzip bomb), is
  refused: HTTP 413 / gRPC RESOURCE_EXHAUSTED;
* a wrong Content-Type or an unknown Content-Encoding is refused with HTTP 415;
* every HTTP error body is a ``google.rpc.Status`` (protobuf, or JSON for a JSON request)
  carrying the same code and message;
* one bad span (bad hex id in JSON, invalid UTF-8 in a protobuf string, an 8-byte trace id)
  is rejected alone: the answer is a success whose ``partial_success`` counts it and names
  its path, and the other spans of the request are stored;
* an attribute over ``max_attribute_bytes`` is stored truncated with a warning naming its
  key, and one under the default limit is stored whole.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from otlp_builders import make_request, make_span, new_trace_id, to_otlp_json
from sqlalchemy import text

from spyglass.collector.server import Collector

MiB = 1024 * 1024
KiB = 1024
REQUEST_LIMIT = 1 * MiB
ATTRIBUTE_LIMIT = 64 * KiB
TIMEOUT_S = 10
TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
TRANSPORTS = ("http", "grpc")


# --- sending and reading answers ------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a collector answered, in the same terms for both transports.

    ``code`` is the gRPC status name (for HTTP: the code of the ``google.rpc.Status``
    body, or OK for a 200); ``http_status`` is None over gRPC.
    """

    code: str
    message: str
    http_status: int | None = None
    response: ExportTraceServiceResponse | None = None


def send_http(
    collector: Collector,
    body: bytes,
    content_type: str = PROTOBUF,
    headers: Mapping[str, str] | None = None,
) -> Outcome:
    answer = httpx.post(
        f"http://127.0.0.1:{collector.http_port}/v1/traces",
        content=body,
        headers={"Content-Type": content_type, **(headers or {})},
        timeout=TIMEOUT_S,
    )
    is_json = answer.headers.get("content-type", "").startswith(JSON)
    if answer.status_code == 200:
        response = (
            json_format.Parse(answer.content, ExportTraceServiceResponse())
            if is_json
            else ExportTraceServiceResponse.FromString(answer.content)
        )
        return Outcome("OK", "", 200, response)
    status = (
        json_format.Parse(answer.content, status_pb2.Status())
        if is_json
        else status_pb2.Status.FromString(answer.content)
    )
    return Outcome(code_pb2.Code.Name(status.code), status.message, answer.status_code)


def send_grpc(collector: Collector, body: bytes) -> Outcome:
    """Send ``body`` as the raw bytes of an Export call (no client-side serialisation)."""
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
        export = channel.unary_unary(
            TRACE_EXPORT,
            request_serializer=None,
            response_deserializer=ExportTraceServiceResponse.FromString,
        )
        try:
            response = export(body, timeout=TIMEOUT_S)
        except grpc.RpcError as error:
            return Outcome(error.code().name, error.details() or "")
    return Outcome("OK", "", None, response)


def send(transport: str, collector: Collector, body: bytes) -> Outcome:
    """A protobuf body over ``transport``."""
    return send_http(collector, body) if transport == "http" else send_grpc(collector, body)


def expected_http(transport: str, status: int) -> int | None:
    return status if transport == "http" else None


def stored_span_names(collector: Collector) -> set[str]:
    with collector.engine.connect() as connection:
        return set(connection.execute(text("SELECT name FROM spans")).scalars())


def stored_attributes(collector: Collector, name: str) -> dict[str, Any]:
    with collector.engine.connect() as connection:
        value = connection.execute(
            text("SELECT attributes FROM spans WHERE name = :n"), {"n": name}
        ).scalar_one()
    return json.loads(value)


# --- bodies ---------------------------------------------------------------------------------


def three_spans(
    middle: Callable[[bytes], Any] | None = None, attributes: Mapping[str, Any] | None = None
) -> ExportTraceServiceRequest:
    """Spans "first", "middle", "last" of one trace; ``middle(trace_id)`` may replace the
    middle span, ``attributes`` go on the middle span."""
    trace_id = new_trace_id()
    middle_span = (
        middle(trace_id) if middle else make_span("middle", trace_id, attributes=attributes)
    )
    return make_request([make_span("first", trace_id), middle_span, make_span("last", trace_id)])


PLACEHOLDER = b"@@PLACEHOLDER@@"
# same length as the placeholder, so every length prefix in the body stays right
INVALID_UTF8 = b"bad \xff\xfe name".ljust(len(PLACEHOLDER), b"!")


def invalid_utf8_name_body() -> bytes:
    """Three spans whose middle name is invalid UTF-8 (crafted after serialisation)."""
    assert len(INVALID_UTF8) == len(PLACEHOLDER)
    body = three_spans(lambda t: make_span(PLACEHOLDER.decode(), t)).SerializeToString()
    assert body.count(PLACEHOLDER) == 1
    return body.replace(PLACEHOLDER, INVALID_UTF8)


def short_trace_id_body() -> bytes:
    """Three spans, the middle one with an 8-byte trace id."""
    return three_spans(lambda t: make_span("middle", t[:8])).SerializeToString()


def valid_body() -> bytes:
    return three_spans().SerializeToString()


def oversize_body() -> bytes:
    """A well-formed request of about 1.5 MiB, over REQUEST_LIMIT."""
    return three_spans(attributes={"blob": "z" * (3 * MiB // 2)}).SerializeToString()


# --- collectors -----------------------------------------------------------------------------


@pytest.fixture
def limited(start_collector, tmp_path) -> Collector:
    """A SQLite collector with a 1 MiB request limit and a 64 KiB attribute limit."""
    return start_collector(
        f"sqlite:///{tmp_path}/s.db",
        max_request_bytes=REQUEST_LIMIT,
        max_attribute_bytes=ATTRIBUTE_LIMIT,
    )


@pytest.fixture
def default_limits(start_collector, tmp_path) -> Collector:
    """A SQLite collector with the default limits (64 MiB request, 1 MiB attribute)."""
    return start_collector(f"sqlite:///{tmp_path}/s.db")


# --- whole-body problems --------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_body, http_status, code, says",
    [
        (
            lambda: b"this is not protobuf",
            400,
            "INVALID_ARGUMENT",
            "not a valid ExportTraceServiceRequest protobuf",
        ),
        (lambda: valid_body()[:-7], 400, "INVALID_ARGUMENT", "past the end"),
        (oversize_body, 413, "RESOURCE_EXHAUSTED", "larger than"),
    ],
    ids=["garbage", "truncated", "oversize"],
)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unusable_body_is_refused_whole(
    limited: Collector,
    transport: str,
    make_body: Callable[[], bytes],
    http_status: int,
    code: str,
    says: str,
) -> None:
    outcome = send(transport, limited, make_body())

    assert (outcome.code, outcome.http_status) == (code, expected_http(transport, http_status))
    assert says in outcome.message
    assert stored_span_names(limited) == set()


@pytest.mark.parametrize(
    "content_type, headers, body, http_status, code, says",
    [
        (
            "text/plain",
            {},
            valid_body,
            415,
            "INVALID_ARGUMENT",
            "Content-Type 'text/plain' is not OTLP",
        ),
        (
            PROTOBUF,
            {"Content-Encoding": "br"},
            valid_body,
            415,
            "INVALID_ARGUMENT",
            "Content-Encoding 'br' is not supported",
        ),
        (
            PROTOBUF,
            {"Content-Encoding": "gzip"},
            lambda: gzip.compress(bytes(16 * MiB)),
            413,
            "RESOURCE_EXHAUSTED",
            "larger than 1048576 bytes after decompression",
        ),
        (
            PROTOBUF,
            {"Content-Encoding": "gzip"},
            lambda: b"\x1f\x8b not really gzip",
            400,
            "INVALID_ARGUMENT",
            "not valid gzip data",
        ),
        (JSON, {}, lambda: b'{"resourceSpans": [', 400, "INVALID_ARGUMENT", "not valid JSON"),
    ],
    ids=["wrong-content-type", "unknown-encoding", "gzip-bomb", "corrupt-gzip", "bad-json"],
)
def test_http_body_problem_gets_its_status_and_a_status_body(
    limited: Collector,
    content_type: str,
    headers: dict[str, str],
    body: Callable[[], bytes],
    http_status: int,
    code: str,
    says: str,
) -> None:
    data = body()
    assert len(data) < REQUEST_LIMIT  # a bomb is small on the wire

    outcome = send_http(limited, data, content_type, headers)

    assert (outcome.http_status, outcome.code) == (http_status, code)
    assert says in outcome.message
    assert stored_span_names(limited) == set()


def test_http_error_answers_a_json_request_with_a_json_status(limited: Collector) -> None:
    answer = httpx.post(
        f"http://127.0.0.1:{limited.http_port}/v1/traces",
        content=b"[1, 2]",
        headers={"Content-Type": JSON},
        timeout=TIMEOUT_S,
    )

    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith(JSON)
    status = answer.json()
    assert status["code"] == code_pb2.INVALID_ARGUMENT
    assert "is a JSON array, not an object" in status["message"]


# --- one bad span in a good request ---------------------------------------------------------


@pytest.mark.parametrize(
    "make_body, says",
    [
        (invalid_utf8_name_body, "invalid UTF-8"),
        (short_trace_id_body, "traceId is 8 bytes, expected 16"),
    ],
    ids=["invalid-utf8-name", "8-byte-trace-id"],
)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bad_span_is_rejected_and_the_others_stored(
    limited: Collector, transport: str, make_body: Callable[[], bytes], says: str
) -> None:
    outcome = send(transport, limited, make_body())

    assert outcome.code == "OK", outcome.message
    partial = outcome.response.partial_success
    assert partial.rejected_spans == 1
    assert f"resourceSpans[0].scopeSpans[0].spans[1]: {says}" in partial.error_message
    assert stored_span_names(limited) == {"first", "last"}


def test_bad_hex_id_in_json_rejects_that_span_only(limited: Collector) -> None:
    doc = to_otlp_json(three_spans())
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["traceId"] = "zz" * 16

    outcome = send_http(limited, json.dumps(doc).encode(), JSON)

    assert (outcome.code, outcome.http_status) == ("OK", 200)
    partial = outcome.response.partial_success
    assert partial.rejected_spans == 1
    assert "resourceSpans[0].scopeSpans[0].spans[1]: traceId 'zzzz" in partial.error_message
    assert "is not hex" in partial.error_message
    assert stored_span_names(limited) == {"first", "last"}


# --- attribute size -------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_attribute_over_the_limit_is_stored_truncated_with_a_warning(
    limited: Collector, transport: str
) -> None:
    big = "0123456789" * 100_000  # 1 MB, under the request limit, over the attribute limit
    body = three_spans(attributes={"big.payload": big, "small": "kept"}).SerializeToString()
    assert len(body) < REQUEST_LIMIT

    outcome = send(transport, limited, body)

    assert outcome.code == "OK", outcome.message
    partial = outcome.response.partial_success
    assert partial.rejected_spans == 0
    assert "'big.payload'" in partial.error_message
    assert "truncated to 65536" in partial.error_message
    attributes = stored_attributes(limited, "middle")
    assert attributes["big.payload"] == big[:ATTRIBUTE_LIMIT]
    assert attributes["small"] == "kept"
    assert stored_span_names(limited) == {"first", "middle", "last"}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_attribute_under_the_default_limit_is_stored_whole(
    default_limits: Collector, transport: str
) -> None:
    large = "abcdefghi\n" * 90_000  # 900 kB, under the default 1 MiB attribute limit

    outcome = send(
        transport,
        default_limits,
        three_spans(attributes={"large.payload": large}).SerializeToString(),
    )

    assert outcome.code == "OK", outcome.message
    assert outcome.response == ExportTraceServiceResponse()  # no warning, nothing rejected
    assert stored_attributes(default_limits, "middle")["large.payload"] == large
