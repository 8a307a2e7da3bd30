"""Tests of spyglass.collector.ingest.parse: protobuf and OTLP/JSON bodies parsed into export
requests with per-item rejection, and the nesting limit."""

from __future__ import annotations

import random

import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from spyglass.collector.ingest.parse import Rejection, parse_json, parse_protobuf
from spyglass.errors import InvalidRequestError

TRACE_ID = bytes(range(1, 17))
SPAN_IDS = [bytes([0xA0 + i] * 8) for i in range(4)]


def trace_request(span_names: list[str], attribute: str = "ok") -> ExportTraceServiceRequest:
    """One resource, one scope, one span per name, each with a string attribute."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.add(key="service.name").value.string_value = "svc"
    resource_spans.schema_url = "https://opentelemetry.io/schemas/1.26.0"
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "spyglass.test"
    for index, name in enumerate(span_names):
        span = scope_spans.spans.add(name=name, trace_id=TRACE_ID, span_id=SPAN_IDS[index])
        span.attributes.add(key="attr").value.string_value = attribute
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + index
    return request


def logs_request(bodies: list[str]) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    scope_logs = request.resource_logs.add().scope_logs.add()
    for body in bodies:
        scope_logs.log_records.add(severity_number=9, trace_id=TRACE_ID).body.string_value = body
    return request


def with_bad_utf8(serialized: bytes, placeholder: bytes) -> bytes:
    """Replace the one occurrence of ``placeholder`` (2 bytes) with invalid UTF-8."""
    assert len(placeholder) == 2 and serialized.count(placeholder) == 1
    return serialized.replace(placeholder, b"\xff\xfe")


def span_names(request: ExportTraceServiceRequest) -> list[str]:
    return [
        span.name for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans
    ]


# --- parse_protobuf ----------------------------------------------------------------------


def test_protobuf_fast_path_returns_the_request_and_no_rejections() -> None:
    original = trace_request(["a", "b"])
    request, rejections = parse_protobuf(original.SerializeToString(), ExportTraceServiceRequest)
    assert request == original
    assert rejections == []


def test_empty_protobuf_body_is_an_empty_request() -> None:
    assert parse_protobuf(b"", ExportTraceServiceRequest) == (ExportTraceServiceRequest(), [])


def test_invalid_utf8_in_a_span_name_rejects_only_that_span() -> None:
    original = trace_request(["first", "#@", "third"])
    body = with_bad_utf8(original.SerializeToString(), b"#@")
    request, rejections = parse_protobuf(body, ExportTraceServiceRequest)
    assert span_names(request) == ["first", "third"]
    assert [r.path for r in rejections] == ["resourceSpans[0].scopeSpans[0].spans[1]"]
    assert "invalid UTF-8 in a string field" in rejections[0].reason
    # the resource and scope around the kept spans survive unchanged
    kept = request.resource_spans[0]
    assert kept.resource == original.resource_spans[0].resource
    assert kept.schema_url == original.resource_spans[0].schema_url
    assert kept.scope_spans[0].scope.name == "spyglass.test"
    assert kept.scope_spans[0].spans[1] == original.resource_spans[0].scope_spans[0].spans[2]


def test_invalid_utf8_in_an_attribute_value_rejects_only_that_span() -> None:
    original = trace_request(["a", "b"])
    original.resource_spans[0].scope_spans[0].spans[0].attributes[0].value.string_value = "%!"
    body = with_bad_utf8(original.SerializeToString(), b"%!")
    request, rejections = parse_protobuf(body, ExportTraceServiceRequest)
    assert span_names(request) == ["b"]
    assert rejections == [
        Rejection("resourceSpans[0].scopeSpans[0].spans[0]", rejections[0].reason)
    ]


def test_invalid_utf8_in_the_resource_rejects_its_spans() -> None:
    original = trace_request(["a", "b"])
    second = original.resource_spans.add()
    second.resource.attributes.add(key="service.name").value.string_value = "%!"
    second.scope_spans.add().spans.add(name="c", trace_id=TRACE_ID, span_id=SPAN_IDS[2])
    body = with_bad_utf8(original.SerializeToString(), b"%!")
    request, rejections = parse_protobuf(body, ExportTraceServiceRequest)
    assert span_names(request) == ["a", "b"]
    assert [r.path for r in rejections] == ["resourceSpans[1].scopeSpans[0].spans[0]"]
    assert "the enclosing resourceSpans[1] cannot be decoded" in rejections[0].reason


def test_rejection_path_counts_resources_scopes_and_spans() -> None:
    original = trace_request(["a"])
    second = original.resource_spans.add()
    second.scope_spans.add().spans.add(name="b", trace_id=TRACE_ID, span_id=SPAN_IDS[1])
    scope = second.scope_spans.add(schema_url="s")
    scope.spans.add(name="c", trace_id=TRACE_ID, span_id=SPAN_IDS[2])
    scope.spans.add(name="#@", trace_id=TRACE_ID, span_id=SPAN_IDS[3])
    body = with_bad_utf8(original.SerializeToString(), b"#@")
    request, rejections = parse_protobuf(body, ExportTraceServiceRequest)
    assert span_names(request) == ["a", "b", "c"]
    assert request.resource_spans[1].scope_spans[1].schema_url == "s"
    assert [r.path for r in rejections] == ["resourceSpans[1].scopeSpans[1].spans[1]"]


def test_truncated_protobuf_is_invalid() -> None:
    body = trace_request(["a", "b", "c"]).SerializeToString()
    with pytest.raises(InvalidRequestError) as caught:
        parse_protobuf(body[:-5], ExportTraceServiceRequest)
    message = str(caught.value)
    assert message.startswith("request body is not a valid ExportTraceServiceRequest protobuf")
    assert "past the end of the request" in message
    assert "Content-Type" in message


def test_truncated_protobuf_with_a_bad_span_is_still_invalid() -> None:
    body = with_bad_utf8(trace_request(["#@", "b"]).SerializeToString(), b"#@")
    with pytest.raises(InvalidRequestError):
        parse_protobuf(body[:-3], ExportTraceServiceRequest)


@pytest.mark.parametrize(
    "body",
    [
        b"this is definitely not protobuf",
        b'{"resourceSpans": []}',
        bytes(range(256)),
        b"\x0a\x05hello",
    ],
)
def test_garbage_is_invalid_not_an_empty_request(body: bytes) -> None:
    with pytest.raises(InvalidRequestError, match="not a valid ExportTraceServiceRequest"):
        parse_protobuf(body, ExportTraceServiceRequest)


def test_mutated_protobuf_bodies_decode_or_raise_invalid_request() -> None:
    """Random byte edits must give a request (maybe with rejections) or a 400, nothing else."""
    base = trace_request(["a", "b", "c"]).SerializeToString()
    rng = random.Random(20240501)
    for _ in range(2000):
        body = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(body))
            if rng.random() < 0.7:
                body[position] = rng.randrange(256)
            else:
                del body[position]
        try:
            request, rejections = parse_protobuf(bytes(body), ExportTraceServiceRequest)
        except InvalidRequestError:
            continue
        assert isinstance(request, ExportTraceServiceRequest)
        assert all(isinstance(r, Rejection) for r in rejections)


def test_logs_protobuf_with_bad_utf8_rejects_one_log_record() -> None:
    body = with_bad_utf8(logs_request(["one", "#@", "three"]).SerializeToString(), b"#@")
    request, rejections = parse_protobuf(body, ExportLogsServiceRequest)
    records = request.resource_logs[0].scope_logs[0].log_records
    assert [r.body.string_value for r in records] == ["one", "three"]
    assert [r.path for r in rejections] == ["resourceLogs[0].scopeLogs[0].logRecords[1]"]


def test_logs_protobuf_fast_path() -> None:
    original = logs_request(["one"])
    assert parse_protobuf(original.SerializeToString(), ExportLogsServiceRequest) == (original, [])


def test_non_export_message_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not an OTLP export request"):
        parse_protobuf(b"\xff", ExportTracePartialSuccess)


# --- parse_json --------------------------------------------------------------------------


def json_span(**fields: object) -> dict[str, object]:
    span: dict[str, object] = {
        "traceId": TRACE_ID.hex(),
        "spanId": SPAN_IDS[0].hex(),
        "name": "span",
    }
    span.update(fields)
    return span


def json_body(*spans: dict[str, object], **extra: object) -> bytes:
    doc = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]
                },
                "scopeSpans": [{"scope": {"name": "lib"}, "spans": list(spans)}],
            }
        ],
        **extra,
    }
    return orjson.dumps(doc)


def test_json_hex_ids_become_bytes() -> None:
    link = {"traceId": "FF" * 16, "spanId": "ee" * 8}
    body = json_body(json_span(parentSpanId=SPAN_IDS[1].hex().upper(), links=[link]))
    request, rejections = parse_json(body, ExportTraceServiceRequest)
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert rejections == []
    assert span.trace_id == TRACE_ID
    assert span.span_id == SPAN_IDS[0]
    assert span.parent_span_id == SPAN_IDS[1]
    assert span.links[0].trace_id == b"\xff" * 16
    assert span.links[0].span_id == b"\xee" * 8
    assert request.resource_spans[0].resource.attributes[0].value.string_value == "svc"


def test_json_int64_as_string_and_number_enum_as_int_and_unknown_fields() -> None:
    body = json_body(
        json_span(
            startTimeUnixNano="1700000000000000001",
            endTimeUnixNano=1700000000000000002,
            kind=2,
            status={"code": 2, "message": "boom"},
            attributes=[{"key": "n", "value": {"intValue": "42"}}],
            someFutureField={"x": 1},
        ),
        futureTopLevel=True,
    )
    request, rejections = parse_json(body, ExportTraceServiceRequest)
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert rejections == []
    assert span.start_time_unix_nano == 1700000000000000001
    assert span.end_time_unix_nano == 1700000000000000002
    assert span.kind == Span.SPAN_KIND_SERVER
    assert span.status.code == 2
    assert span.attributes[0].value.int_value == 42


def test_json_snake_case_keys_are_accepted() -> None:
    doc = {
        "resource_spans": [
            {
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": TRACE_ID.hex(),
                                "span_id": SPAN_IDS[0].hex(),
                                "parent_span_id": "",
                                "start_time_unix_nano": "5",
                            }
                        ]
                    }
                ]
            }
        ]
    }
    request, rejections = parse_json(orjson.dumps(doc), ExportTraceServiceRequest)
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert rejections == []
    assert (span.trace_id, span.span_id, span.start_time_unix_nano) == (TRACE_ID, SPAN_IDS[0], 5)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"traceId": "zz12"}, "traceId 'zz12' is not hex"),
        ({"traceId": "AQIDBAUGBwgJCgsMDQ4PEA=="}, "not base64"),
        ({"spanId": "0102"}, "spanId '0102' is 2 bytes, expected 8"),
        ({"parentSpanId": "abc"}, "parentSpanId 'abc' is not hex"),
        ({"spanId": ""}, "spanId is missing or empty"),
        ({"traceId": 7}, "traceId is a JSON number"),
        ({"links": [{"traceId": TRACE_ID.hex(), "spanId": "nothex!!"}]}, "links[0].spanId"),
    ],
)
def test_json_span_with_bad_id_is_rejected_and_others_kept(
    bad: dict[str, object], reason: str
) -> None:
    spans = [json_span(name="a"), json_span(name="b", **bad), json_span(name="c")]
    request, rejections = parse_json(json_body(*spans), ExportTraceServiceRequest)
    assert span_names(request) == ["a", "c"]
    assert len(rejections) == 1
    assert rejections[0].path == "resourceSpans[0].scopeSpans[0].spans[1]"
    assert reason in rejections[0].reason


def test_json_rejection_paths_use_camel_case_names_for_snake_case_bodies() -> None:
    good = {"trace_id": TRACE_ID.hex(), "span_id": SPAN_IDS[0].hex(), "name": "good"}
    bad = {"trace_id": TRACE_ID.hex(), "span_id": "xx", "name": "bad"}
    doc = {"resource_spans": [{}, {"scope_spans": [{}, {"spans": [good, bad]}]}]}
    request, rejections = parse_json(orjson.dumps(doc), ExportTraceServiceRequest)
    assert span_names(request) == ["good"]
    assert [r.path for r in rejections] == ["resourceSpans[1].scopeSpans[1].spans[1]"]


def test_json_long_bad_id_is_shortened_in_the_reason() -> None:
    body = json_body(json_span(traceId="q" * 10_000))
    request, rejections = parse_json(body, ExportTraceServiceRequest)
    assert span_names(request) == []
    assert len(rejections[0].reason) < 300


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b"[]", "array"), (b'"resourceSpans"', "string"), (b"42", "number"), (b"null", "null")],
)
def test_json_that_is_not_an_object_is_invalid(body: bytes, kind: str) -> None:
    with pytest.raises(InvalidRequestError, match=f"is a JSON {kind}, not an object"):
        parse_json(body, ExportTraceServiceRequest)


@pytest.mark.parametrize("body", [b"", b"{", b"\x0a\x05hello", b'{"resourceSpans": "\xff\xfe"}'])
def test_body_that_is_not_json_is_invalid(body: bytes) -> None:
    with pytest.raises(InvalidRequestError, match="not valid JSON"):
        parse_json(body, ExportTraceServiceRequest)


def test_json_that_does_not_fit_the_message_names_the_field() -> None:
    body = json_body(json_span(startTimeUnixNano="soon"))
    with pytest.raises(InvalidRequestError) as caught:
        parse_json(body, ExportTraceServiceRequest)
    assert "ExportTraceServiceRequest in OTLP/JSON" in str(caught.value)
    assert "startTimeUnixNano" in str(caught.value)


def test_json_logs_request() -> None:
    doc = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": "9",
                                "severityNumber": 17,
                                "body": {"stringValue": "x"},
                                "traceId": TRACE_ID.hex(),
                                "spanId": SPAN_IDS[0].hex(),
                            },
                            {"body": {"stringValue": "no trace context"}},
                            {"body": {"stringValue": "bad"}, "traceId": "xyz"},
                        ]
                    }
                ]
            }
        ]
    }
    request, rejections = parse_json(orjson.dumps(doc), ExportLogsServiceRequest)
    records = request.resource_logs[0].scope_logs[0].log_records
    assert [r.body.string_value for r in records] == ["x", "no trace context"]
    assert records[0].trace_id == TRACE_ID
    assert records[0].span_id == SPAN_IDS[0]
    assert records[0].severity_number == 17
    assert records[1].trace_id == b""
    assert [r.path for r in rejections] == ["resourceLogs[0].scopeLogs[0].logRecords[2]"]


def test_json_and_protobuf_decode_to_the_same_request() -> None:
    original = trace_request(["a", "b"])
    doc = json_format.MessageToDict(original, use_integers_for_enums=True)
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    for span, proto in zip(spans, original.resource_spans[0].scope_spans[0].spans):
        span["traceId"], span["spanId"] = proto.trace_id.hex(), proto.span_id.hex()
    request, rejections = parse_json(orjson.dumps(doc), ExportTraceServiceRequest)
    assert rejections == []
    assert request == original


# --- nesting ----------------------------------------------------------------------------

NESTED_TOO_DEEP = "values are nested deeper than 100 levels of OTLP messages"


def nest_kvlists(value: AnyValue, levels: int) -> None:
    """Nest ``levels`` kvlists into ``value`` in place (building a deep message by copying
    sub-messages would hit protobuf's own depth limit)."""
    for _ in range(levels):
        value = value.kvlist_value.values.add(key="a").value
    value.string_value = "leaf"


def json_kvlists(levels: int) -> dict[str, object]:
    value: dict[str, object] = {"stringValue": "leaf"}
    for _ in range(levels):
        value = {"kvlistValue": {"values": [{"key": "a", "value": value}]}}
    return value


@pytest.mark.parametrize("levels", [40, 200])
def test_protobuf_span_nested_too_deeply_is_rejected_alone_saying_so(levels: int) -> None:
    request = trace_request(["a", "deep", "c"])
    deep = request.resource_spans[0].scope_spans[0].spans[1]
    nest_kvlists(deep.attributes.add(key="deep").value, levels)

    parsed, rejections = parse_protobuf(request.SerializeToString(), ExportTraceServiceRequest)

    assert span_names(parsed) == ["a", "c"]
    assert [r.path for r in rejections] == ["resourceSpans[0].scopeSpans[0].spans[1]"]
    assert rejections[0].reason.startswith(NESTED_TOO_DEEP)
    assert "flatten" in rejections[0].reason


def test_protobuf_nesting_within_the_limit_is_kept() -> None:
    request = trace_request(["a", "nested"])
    nest_kvlists(
        request.resource_spans[0].scope_spans[0].spans[1].attributes.add(key="nested").value, 31
    )

    parsed, rejections = parse_protobuf(request.SerializeToString(), ExportTraceServiceRequest)

    assert (span_names(parsed), rejections) == (["a", "nested"], [])


@pytest.mark.parametrize("levels", [32, 40, 60])
def test_json_span_nested_too_deeply_is_rejected_alone_with_the_protobuf_reason(
    levels: int,
) -> None:
    deep = json_span(
        spanId=SPAN_IDS[2].hex(),
        name="deep",
        attributes=[{"key": "deep", "value": json_kvlists(levels)}],
    )
    body = json_body(
        json_span(name="a"),
        json_span(spanId="zz", name="bad-id"),
        deep,
        json_span(spanId=SPAN_IDS[3].hex(), name="c"),
    )

    parsed, rejections = parse_json(body, ExportTraceServiceRequest)

    assert span_names(parsed) == ["a", "c"]
    prefix = "resourceSpans[0].scopeSpans[0].spans"
    assert [r.path for r in rejections] == [f"{prefix}[1]", f"{prefix}[2]"]
    assert "is not hex" in rejections[0].reason
    assert rejections[1].reason.startswith(NESTED_TOO_DEEP)


def test_json_nesting_within_the_limit_is_kept() -> None:
    nested = json_span(name="nested", attributes=[{"key": "n", "value": json_kvlists(31)}])
    parsed, rejections = parse_json(json_body(nested), ExportTraceServiceRequest)
    assert (span_names(parsed), rejections) == (["nested"], [])


def test_json_log_record_nested_too_deeply_is_rejected_alone() -> None:
    doc = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {
                        "logRecords": [
                            {"body": {"stringValue": "fine"}},
                            {"body": json_kvlists(40)},
                        ]
                    }
                ]
            }
        ]
    }

    parsed, rejections = parse_json(orjson.dumps(doc), ExportLogsServiceRequest)

    records = parsed.resource_logs[0].scope_logs[0].log_records
    assert [r.body.string_value for r in records] == ["fine"]
    assert [r.path for r in rejections] == ["resourceLogs[0].scopeLogs[0].logRecords[1]"]
    assert rejections[0].reason.startswith(NESTED_TOO_DEEP)


def test_json_misfit_that_is_not_nesting_still_refuses_the_request() -> None:
    body = json_body(
        json_span(startTimeUnixNano="soon"),
        json_span(spanId=SPAN_IDS[1].hex(), attributes=[{"key": "n", "value": json_kvlists(40)}]),
    )
    with pytest.raises(InvalidRequestError, match="startTimeUnixNano"):
        parse_json(body, ExportTraceServiceRequest)
