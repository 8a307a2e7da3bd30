"""What a real collector stores of values the store cannot hold as sent, on SQLite and
PostgreSQL, over OTLP/gRPC (raw protobuf bytes), OTLP/HTTP protobuf and OTLP/JSON:

* a time past the signed 64-bit range rejects only its span (or log record), naming it and
  the field; token counts over the column are clamped, an unknown span kind or status code
  is stored as 0, a string wider than its column (session id, model, tag key) is cut, each
  with a warning; the other spans of the request are stored;
* ``--max-attribute-bytes`` cuts every stored string (arrays, kvlists, bytes, events, links,
  resource, scope, names, status messages), with warnings naming where;
* an end before the start is stored with duration 0, with a warning; a second, different
  span with the id of an earlier one of the request is rejected, the first stored;
* a span nested too deeply to decode is rejected alone, in protobuf and JSON alike;

and in every case the collector goes on ingesting.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from otlp_builders import (
    key_values,
    make_log_record,
    make_logs_request,
    make_request,
    make_span,
    new_span_id,
    new_trace_id,
    to_otlp_json,
)
from sqlalchemy import text
from stored_spans import stored_spans as rows_as_sent

from spyglass.collector.server import Collector

TIMEOUT_S = 10
TRACES = (
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "/v1/traces",
    ExportTraceServiceResponse,
)
LOGS = (
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    "/v1/logs",
    ExportLogsServiceResponse,
)
TRANSPORTS = ("grpc", "http", "http-json")
SPANS = "resourceSpans[0].scopeSpans[0].spans"
TOKENS_MAX = 2**31 - 1
LATE = 2**63  # one past the largest signed 64-bit integer: a valid fixed64


def export(collector: Collector, transport: str, request: Message) -> Any:
    """Send ``request`` over ``transport``; the ``partial_success`` of the (OK) answer."""
    method, url_path, response_type = (
        LOGS if isinstance(request, ExportLogsServiceRequest) else TRACES
    )
    if transport == "grpc":
        with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
            call = channel.unary_unary(
                method, request_serializer=None, response_deserializer=response_type.FromString
            )
            return call(request.SerializeToString(), timeout=TIMEOUT_S).partial_success
    url = f"http://127.0.0.1:{collector.http_port}{url_path}"
    if transport == "http-json":
        answer = httpx.post(
            url,
            content=json.dumps(to_otlp_json(request)),
            headers={"Content-Type": "application/json"},
            timeout=TIMEOUT_S,
        )
        assert answer.status_code == 200, answer.text
        return json_format.Parse(answer.content, response_type()).partial_success
    answer = httpx.post(
        url,
        content=request.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=TIMEOUT_S,
    )
    assert answer.status_code == 200, answer.text
    return response_type.FromString(answer.content).partial_success


def stored_spans(collector: Collector) -> dict[str, Any]:
    """Every stored span row, by name (attributes, resource and scope as the API gives them)."""
    found = rows_as_sent(collector.engine, "SELECT * FROM spans")  # type: ignore[arg-type]
    return {row["name"]: SimpleNamespace(**row) for row in found}


def still_ingesting(collector: Collector, transport: str) -> None:
    """A later, valid request is stored: the collector survived the bad one."""
    request = make_request([make_span("afterwards", new_trace_id())])
    partial = export(collector, transport, request)
    assert partial.rejected_spans == 0 and not partial.error_message
    assert "afterwards" in stored_spans(collector)


# --- numbers out of the store's range -----------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_out_of_range_numbers_reject_or_clamp_only_their_span(
    start_collector: Callable[..., Collector], store_url: str, transport: str
) -> None:
    collector = start_collector(store_url)
    trace_id = new_trace_id()
    huge = make_span(
        "huge",
        trace_id,
        kind=40000,
        status_code=7,
        attributes={
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": "1e30",
            "gen_ai.usage.output_tokens": 3_000_000_000,
        },
    )
    request = make_request(
        [make_span("good", trace_id), make_span("late", trace_id, start_ns=LATE), huge]
    )

    partial = export(collector, transport, request)

    assert partial.rejected_spans == 1
    message = partial.error_message
    assert message.startswith("rejected 1 span(s), the others were stored: ")
    assert f"{SPANS}[1]: startTimeUnixNano {LATE} is later than the latest time" in message
    assert f"{SPANS}[2]: input_tokens 1.000e+30 is more than the store holds" in message
    assert f"{SPANS}[2]: output_tokens 3000000000 is more than the store holds" in message
    spans = stored_spans(collector)
    assert set(spans) == {"good", "huge"}
    row = spans["huge"]
    assert (row.input_tokens, row.output_tokens, row.total_tokens) == (TOKENS_MAX,) * 3
    assert (row.kind, row.status_code) == (0, 0)
    with collector.engine.connect() as connection:
        trace = connection.execute(
            text("SELECT span_count, input_tokens FROM traces WHERE trace_id = :t"),
            {"t": trace_id.hex()},
        ).one()
    assert tuple(trace) == (2, TOKENS_MAX)
    still_ingesting(collector, transport)


@pytest.mark.parametrize("transport", ("grpc", "http"))
def test_a_log_record_time_out_of_range_rejects_only_that_record(
    start_collector: Callable[..., Collector], store_url: str, transport: str
) -> None:
    collector = start_collector(store_url)
    trace_id, span_id = new_trace_id(), new_span_id()
    request = make_logs_request(
        [
            make_log_record(trace_id, span_id, body="on time"),
            make_log_record(trace_id, span_id, body="too late", time_ns=LATE),
        ]
    )

    partial = export(collector, transport, request)

    assert partial.rejected_log_records == 1
    assert (
        f"resourceLogs[0].scopeLogs[0].logRecords[1]: timeUnixNano {LATE} is later than"
        in partial.error_message
    )
    with collector.engine.connect() as connection:
        contents = connection.execute(text("SELECT content FROM span_log_events")).scalars()
        bodies = [json.loads(c)["attributes"]["log.body"] for c in contents]
    assert bodies == ["on time"]
    still_ingesting(collector, transport)


@pytest.mark.parametrize("transport", ("grpc", "http-json"))
def test_strings_wider_than_their_column_are_cut_with_a_warning(
    start_collector: Callable[..., Collector], store_url: str, transport: str
) -> None:
    collector = start_collector(store_url)
    trace_id = new_trace_id()
    wide = make_span(
        "wide",
        trace_id,
        attributes={
            "session.id": "s\x00" + "s" * 400,
            "gen_ai.request.model": "m" * 400,
            "spyglass.trace.tags": json.dumps({"k" * 400: "tagged"}),
        },
    )

    partial = export(collector, transport, make_request([make_span("plain", trace_id), wide]))

    assert partial.rejected_spans == 0
    assert (
        f"{SPANS}[1]: session_id is 402 characters, more than the store holds; cut to 256"
        in partial.error_message
    )
    assert f"{SPANS}[1]: model is 400 characters" in partial.error_message
    row = stored_spans(collector)["wide"]
    assert (row.session_id, row.model) == (("s\ufffd" + "s" * 400)[:256], "m" * 256)
    with collector.engine.connect() as connection:
        tags = dict(connection.execute(text("SELECT key, value FROM trace_tags")).all())
        session = connection.execute(text("SELECT session_id FROM traces")).scalar_one()
    assert tags == {"k" * 250: "tagged"}
    assert session == row.session_id
    still_ingesting(collector, transport)


# --- strings over --max-attribute-bytes ---------------------------------------------------

LIMIT = 1024
BIG = "0123456789" * 400  # 4000 bytes


def everything_big(trace_id: bytes) -> ExportTraceServiceRequest:
    """A small span and a span with a BIG string in every place a string is stored."""
    span = make_span(
        BIG,
        trace_id,
        status_code=2,
        status_message=BIG,
        attributes={"list": ["ok", BIG], "map": {"inner": BIG}, "raw": BIG.encode()},
        events=[(BIG, {"e": BIG})],
    )
    span.links.add(trace_id=trace_id, span_id=new_span_id(), attributes=key_values({"l": [BIG]}))
    request = make_request(
        [make_span("small", trace_id, attributes={"a": "fine"}), span],
        resource={"r": {"deep": BIG}},
    )
    request.resource_spans[0].scope_spans[0].scope.attributes.extend(key_values({"s": BIG}))
    return request


@pytest.mark.parametrize("transport", ("grpc", "http-json"))
def test_every_stored_string_is_cut_to_the_limit_with_warnings(
    start_collector: Callable[..., Collector], store_url: str, transport: str
) -> None:
    collector = start_collector(store_url, max_attribute_bytes=LIMIT)

    partial = export(collector, transport, everything_big(new_trace_id()))

    assert partial.rejected_spans == 0
    message = partial.error_message
    assert message.startswith(
        "stored with warnings: resourceSpans[0].resource: "
        "attributes['r']['deep'] is 4000 bytes, truncated to 1024"
    )
    assert message.endswith("; and 5 more")  # 10 strings cut, the first 5 named
    spans = stored_spans(collector)
    cut = BIG[:LIMIT]
    assert set(spans) == {"small", cut}
    row = spans[cut]
    assert row.status_message == cut
    assert json.loads(row.attributes)["list"] == ["ok", cut]
    assert json.loads(row.attributes)["map"] == {"inner": cut}
    assert len(json.loads(row.attributes)["raw"]) <= LIMIT * 4 // 3 + 4  # base64
    assert json.loads(row.events)[0]["name"] == cut
    assert json.loads(row.events)[0]["attributes"] == {"e": cut}
    assert json.loads(row.links)[0]["attributes"] == {"l": [cut]}
    assert json.loads(row.resource) == {"r": {"deep": cut}}
    assert json.loads(row.scope)["attributes"] == {"s": cut}
    assert json.loads(spans["small"].attributes) == {"a": "fine"}
    still_ingesting(collector, transport)


# --- end before start, duplicate span ids ---------------------------------------------------


@pytest.mark.parametrize("transport", ("grpc", "http-json"))
def test_end_before_start_and_duplicate_ids_are_reported(
    start_collector: Callable[..., Collector], store_url: str, transport: str
) -> None:
    collector = start_collector(store_url)
    trace_id, dup_id = new_trace_id(), new_span_id()
    start = 1_700_000_000_000_000_000
    backwards = make_span("backwards", trace_id, start_ns=start, duration_ns=-5_000)
    first = make_span("first", trace_id, parent=backwards, span_id=dup_id, start_ns=start)
    copy = make_span("first", trace_id, parent=backwards, span_id=dup_id, start_ns=start)
    other = make_span("other", trace_id, parent=backwards, span_id=dup_id, start_ns=start)

    partial = export(collector, transport, make_request([backwards, first, copy, other]))

    assert partial.rejected_spans == 1
    assert (
        f"{SPANS}[3]: spanId {dup_id.hex()} of traceId {trace_id.hex()} is also the id "
        f"of {SPANS}[1] in this request, with different content" in partial.error_message
    )
    assert (
        f"{SPANS}[0]: endTimeUnixNano {start - 5_000} is before startTimeUnixNano "
        f"{start}; stored with duration 0" in partial.error_message
    )
    spans = stored_spans(collector)
    assert set(spans) == {"backwards", "first"}
    assert spans["backwards"].end_time_ns == spans["backwards"].start_time_ns == start
    with collector.engine.connect() as connection:
        trace = connection.execute(
            text("SELECT start_time_ns, end_time_ns, span_count FROM traces")
        ).one()
    assert tuple(trace) == (start, start + 1_000_000, 2)
    still_ingesting(collector, transport)


# --- nesting ------------------------------------------------------------------------------


def with_deep_span(levels: int) -> ExportTraceServiceRequest:
    """Spans "a", "deep" (an attribute of ``levels`` nested kvlists) and "c"."""
    trace_id = new_trace_id()
    request = make_request(
        [make_span("a", trace_id), make_span("deep", trace_id), make_span("c", trace_id)]
    )
    value = request.resource_spans[0].scope_spans[0].spans[1].attributes.add(key="d").value
    for _ in range(levels):  # in place: copying a deep sub-message hits protobuf's limit
        value = value.kvlist_value.values.add(key="k").value
    value.string_value = "leaf"
    return request


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_span_nested_too_deeply_is_rejected_alone_saying_so(
    start_collector: Callable[..., Collector], store_url: str, transport: str
) -> None:
    collector = start_collector(store_url)

    partial = export(collector, transport, with_deep_span(40))

    assert partial.rejected_spans == 1
    assert (
        f"{SPANS}[1]: values are nested deeper than 100 levels of OTLP messages"
        in partial.error_message
    )
    assert "Wire format" not in partial.error_message
    assert set(stored_spans(collector)) == {"a", "c"}
    still_ingesting(collector, transport)
