"""Small builders for OTLP trace and logs export requests, for tests that talk OTLP without
an SDK.

Typical use::

    trace_id = new_trace_id()
    root = make_span("root", trace_id, attributes={"input.value": "hi"})
    child = make_span("child", trace_id, parent=root, status_code=STATUS_ERROR)
    request = make_request([root, child], resource={"service.name": "shop"})
    body = request.SerializeToString()          # application/x-protobuf
    doc = to_otlp_json(request)                 # application/json (hex ids), a dict

Log records: ``make_logs_request([make_log_record(trace_id, span_id, event_name=...,
body={...})])``; ``to_otlp_json`` converts either kind of request.

Ids are raw ``bytes`` (16 for a trace, 8 for a span) as in the protobuf; :func:`hex_id`
gives the lower-case hex the collector stores. Attribute values are plain Python values
(str, bool, int, float, bytes, lists and dicts of those), converted by :func:`any_value`.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

__all__ = [
    "STATUS_ERROR",
    "STATUS_OK",
    "STATUS_UNSET",
    "any_value",
    "hex_id",
    "key_values",
    "make_log_record",
    "make_logs_request",
    "make_request",
    "make_span",
    "new_span_id",
    "new_trace_id",
    "to_otlp_json",
]

STATUS_UNSET = Status.STATUS_CODE_UNSET
STATUS_OK = Status.STATUS_CODE_OK
STATUS_ERROR = Status.STATUS_CODE_ERROR

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def new_trace_id() -> bytes:
    """A random 16-byte trace id."""
    return os.urandom(16)


def new_span_id() -> bytes:
    """A random 8-byte span id."""
    return os.urandom(8)


def hex_id(raw: bytes) -> str:
    """An id as the collector stores it: lower-case hex."""
    return raw.hex()


def any_value(value: Any) -> AnyValue:
    """A plain Python value as an OTLP ``AnyValue`` (dict → kvlist, list/tuple → array)."""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, Mapping):
        return AnyValue(kvlist_value=KeyValueList(values=key_values(value)))
    if isinstance(value, (list, tuple)):
        return AnyValue(array_value=ArrayValue(values=[any_value(v) for v in value]))
    raise TypeError(f"no OTLP AnyValue for {type(value).__name__}: {value!r}")


def key_values(values: Mapping[str, Any] | None) -> list[KeyValue]:
    """A mapping as a list of OTLP ``KeyValue`` (in the mapping's order)."""
    return [KeyValue(key=k, value=any_value(v)) for k, v in (values or {}).items()]


def make_span(
    name: str,
    trace_id: bytes,
    *,
    span_id: bytes | None = None,
    parent: Span | bytes | None = None,
    attributes: Mapping[str, Any] | None = None,
    start_ns: int | None = None,
    duration_ns: int = 1_000_000,
    status_code: int = STATUS_UNSET,
    status_message: str = "",
    kind: int = Span.SPAN_KIND_INTERNAL,
    events: Sequence[tuple[str, Mapping[str, Any]]] = (),
) -> Span:
    """One span. ``parent`` is a span or its id (``None``: a root span); ``span_id``
    defaults to a random one, ``start_ns`` to now; ``events`` are ``(name, attributes)``."""
    start = time.time_ns() if start_ns is None else start_ns
    parent_id = parent.span_id if isinstance(parent, Span) else (parent or b"")
    return Span(
        trace_id=trace_id,
        span_id=new_span_id() if span_id is None else span_id,
        parent_span_id=parent_id,
        name=name,
        kind=kind,
        start_time_unix_nano=start,
        end_time_unix_nano=start + duration_ns,
        attributes=key_values(attributes),
        events=[
            Span.Event(
                name=event_name, time_unix_nano=start, attributes=key_values(event_attributes)
            )
            for event_name, event_attributes in events
        ],
        status=Status(code=status_code, message=status_message),
    )


def make_request(
    spans: Iterable[Span],
    *,
    resource: Mapping[str, Any] | None = None,
    scope_name: str = "spyglass-tests",
    scope_version: str = "",
) -> ExportTraceServiceRequest:
    """An export request holding ``spans`` under one resource and one instrumentation scope."""
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=key_values(resource)),
                scope_spans=[
                    ScopeSpans(
                        scope=InstrumentationScope(name=scope_name, version=scope_version),
                        spans=list(spans),
                    )
                ],
            )
        ]
    )


def make_log_record(
    trace_id: bytes = b"",
    span_id: bytes = b"",
    *,
    event_name: str = "",
    body: Any = None,
    attributes: Mapping[str, Any] | None = None,
    time_ns: int | None = None,
    severity_text: str = "",
    severity_number: int = 0,
) -> LogRecord:
    """One log record, of span ``span_id`` of trace ``trace_id`` (empty: no span context);
    ``body`` is a plain Python value (dict → kvlist), ``None`` for no body."""
    record = LogRecord(
        time_unix_nano=time.time_ns() if time_ns is None else time_ns,
        trace_id=trace_id,
        span_id=span_id,
        event_name=event_name,
        attributes=key_values(attributes),
        severity_text=severity_text,
        severity_number=severity_number,  # type: ignore[arg-type]
    )
    if body is not None:
        record.body.CopyFrom(any_value(body))
    return record


def make_logs_request(
    records: Iterable[LogRecord],
    *,
    resource: Mapping[str, Any] | None = None,
    scope_name: str = "spyglass-tests",
) -> ExportLogsServiceRequest:
    """A logs export request holding ``records`` under one resource and one scope."""
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=Resource(attributes=key_values(resource)),
                scope_logs=[
                    ScopeLogs(
                        scope=InstrumentationScope(name=scope_name), log_records=list(records)
                    )
                ],
            )
        ]
    )


def to_otlp_json(request: Message) -> dict[str, Any]:
    """A trace or logs request in OTLP/JSON form: lowerCamelCase keys, integer enums, hex ids.

    Returns a dict (``json.dumps`` it to send), so a test can still break a field first.
    """
    doc = json_format.MessageToDict(request, use_integers_for_enums=True)
    for resource_spans in doc.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                _ids_to_hex(span)
                for link in span.get("links", []):
                    _ids_to_hex(link)
    for resource_logs in doc.get("resourceLogs", []):
        for scope_logs in resource_logs.get("scopeLogs", []):
            for record in scope_logs.get("logRecords", []):
                _ids_to_hex(record)
    return doc


def _ids_to_hex(obj: dict[str, Any]) -> None:
    for key in _ID_KEYS:
        if obj.get(key):
            obj[key] = base64.b64decode(obj[key]).hex()
