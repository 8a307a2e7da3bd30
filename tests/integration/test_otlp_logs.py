"""OTLP logs at a real collector: GenAI events become their span's inputs and outputs.

Proves, on SQLite and on PostgreSQL, with the official OTLP log and span exporters (gRPC
and HTTP, driven by the SDK's LoggerProvider and TracerProvider) and with hand-built
requests, reading back through the public client (``SpyglassClient.get_trace``):

* GenAI events (``gen_ai.system/user/assistant/tool.message``, ``gen_ai.choice``,
  ``gen_ai.client.inference.operation.details``, or the event name in the older
  ``event.name`` attribute) fill the span's canonical inputs (ordered messages) and outputs
  (choices), whether they arrive before the span or after it, in one request or several;
  the root span's fields also become the trace's request/response previews;
* the span's own inputs/outputs (from its attributes) win over log records;
* re-delivered log records change nothing;
* other log records of a span become span events (after the span's own), records without
  a span context are dropped with a ``partial_success`` saying so, malformed payloads get
  clear errors (400/INVALID_ARGUMENT as a whole, or one record rejected by path);
* two collectors on one PostgreSQL database, one receiving the spans and the other their
  log records at the same moment, lose nothing;
* log records are deleted a day after they came (their span keeps what they gave it), also
  those whose span never arrived; the metrics count what came, what was attached and what
  had to wait.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry._logs import LogRecord
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk._logs import LoggingHandler
from opentelemetry.trace import Span as OtelSpan
from otel_sdk import OtelSdk, otel_sdk
from otlp_builders import (
    hex_id,
    make_log_record,
    make_logs_request,
    make_request,
    make_span,
    new_trace_id,
    to_otlp_json,
)
from sqlalchemy import create_engine, text

from spyglass.client import SpyglassClient
from spyglass.collector.server import Collector
from spyglass.collector.store.traces import log_events
from spyglass.entities import Span, Trace

PROTOCOLS = ("grpc", "http")
LOGS_EXPORT = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
TIMEOUT_S = 10

SYSTEM = "You answer in one sentence."
QUESTION = "What is the capital of France?"
ANSWER = "Paris."
MESSAGES = {
    "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
}
CHOICES = {
    "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": ANSWER}}
    ]
}
LLM_ATTRIBUTES = {
    "gen_ai.operation.name": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 20,
    "gen_ai.usage.output_tokens": 3,
}


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def client(collector: Collector) -> Iterator[SpyglassClient]:
    spyglass_client = SpyglassClient(f"127.0.0.1:{collector.grpc_port}")
    yield spyglass_client
    spyglass_client.close()


def emit_chat_events(sdk: OtelSdk, span: OtelSpan) -> None:
    """What the OpenAI instrumentation logs for one chat call: messages, then the choice."""
    context_span = span.get_span_context()
    assert context_span.is_valid
    sdk.logger.emit(
        LogRecord(
            event_name="gen_ai.system.message",
            body={"content": SYSTEM},
            attributes={"gen_ai.system": "openai"},
        )
    )
    sdk.logger.emit(
        LogRecord(
            event_name="gen_ai.user.message",
            body={"content": QUESTION},
            attributes={"gen_ai.system": "openai"},
        )
    )
    sdk.logger.emit(
        LogRecord(
            event_name="gen_ai.choice",
            body={
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": ANSWER},
            },
            attributes={"gen_ai.system": "openai"},
        )
    )


def llm_call(sdk: OtelSdk, name: str = "chat gpt-4o-mini") -> str:
    """An ended LLM span (the trace's root) with its chat events; returns the trace id."""
    with sdk.tracer.start_as_current_span(name, attributes=LLM_ATTRIBUTES) as span:
        emit_chat_events(sdk, span)
        return format(span.get_span_context().trace_id, "032x")


def only_span(trace: Trace) -> Span:
    assert len(trace.data.spans) == 1, trace.data.spans
    return trace.data.spans[0]


def grpc_stub(collector: Collector, path: str, response: Any) -> Any:
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    return channel.unary_unary(
        path,
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=response.FromString,
    )


def send_logs(
    collector: Collector, request: ExportLogsServiceRequest, protocol: str = "grpc"
) -> ExportLogsServiceResponse:
    """One logs request, as protobuf over gRPC or as OTLP/JSON over HTTP."""
    if protocol == "grpc":
        return grpc_stub(collector, LOGS_EXPORT, ExportLogsServiceResponse)(
            request, timeout=TIMEOUT_S
        )
    answer = httpx.post(
        f"http://127.0.0.1:{collector.http_port}/v1/logs",
        json=to_otlp_json(request),
        timeout=TIMEOUT_S,
    )
    assert answer.status_code == 200, answer.text
    return json_format.Parse(answer.text, ExportLogsServiceResponse())


def send_spans(collector: Collector, request: ExportTraceServiceRequest) -> None:
    response = grpc_stub(collector, TRACE_EXPORT, ExportTraceServiceResponse)(
        request, timeout=TIMEOUT_S
    )
    assert not response.HasField("partial_success"), response


def metric(collector: Collector, sample: str) -> float:
    text_ = httpx.get(f"http://127.0.0.1:{collector.http_port}/metrics", timeout=TIMEOUT_S).text
    for line in text_.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


def sql(collector: Collector, statement: str, **params: Any) -> list[Any]:
    assert collector.engine is not None
    with collector.engine.connect() as connection:
        return list(connection.execute(text(statement), params))


# --- the official exporters -------------------------------------------------------------------


@pytest.mark.parametrize("logs_first", [True, False], ids=["logs-first", "span-first"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_events_fill_their_spans_inputs_outputs_and_trace_previews_whichever_comes_first(
    collector: Collector, client: SpyglassClient, protocol: str, logs_first: bool
) -> None:
    with otel_sdk(collector, protocol) as sdk:
        trace_id = llm_call(sdk)
        first, second = (
            (sdk.flush_logs, sdk.flush_spans) if logs_first else (sdk.flush_spans, sdk.flush_logs)
        )
        first()
        # before the second signal: log rows wait unseen, or the span has no content yet
        assert sql(collector, "SELECT count(*) FROM span_log_events")[0][0] == (
            3 if logs_first else 0
        )
        assert sql(collector, "SELECT count(*) FROM spans WHERE inputs IS NOT NULL")[0][0] == 0
        assert sql(collector, "SELECT count(*) FROM traces")[0][0] == (0 if logs_first else 1)
        second()
    trace = client.get_trace(trace_id)
    span = only_span(trace)
    assert span.inputs == MESSAGES
    assert span.outputs == CHOICES
    assert (span.span_type, span.model, span.input_tokens) == ("CHAT_MODEL", "gpt-4o-mini", 20)
    assert json.loads(trace.info.request_preview) == MESSAGES
    assert json.loads(trace.info.response_preview) == CHOICES
    assert span.events == []  # GenAI events are content, not span events
    when = "span_arrived" if logs_first else "span_stored"
    assert metric(collector, f'spyglass_log_records_attached_total{{when="{when}"}}') == 3
    assert metric(collector, "spyglass_log_records_pending_total") == (3 if logs_first else 0)
    assert metric(collector, f'spyglass_log_records_received_total{{protocol="{protocol}"}}') == 3


def test_events_of_a_child_span_fill_that_span_only(
    collector: Collector, client: SpyglassClient
) -> None:
    with otel_sdk(collector, "grpc") as sdk:
        with sdk.tracer.start_as_current_span("answer_question") as root:
            root.set_attribute("input.value", "question")
            with sdk.tracer.start_as_current_span("chat", attributes=LLM_ATTRIBUTES) as llm:
                emit_chat_events(sdk, llm)
            trace_id = format(root.get_span_context().trace_id, "032x")
        sdk.flush_logs()
        sdk.flush_spans()
    trace = client.get_trace(trace_id)
    spans = {s.name: s for s in trace.data.spans}
    assert spans["chat"].inputs == MESSAGES and spans["chat"].outputs == CHOICES
    assert spans["answer_question"].inputs == "question"
    assert spans["answer_question"].outputs is None
    assert json.loads(trace.info.request_preview) == "question"  # the root's, untouched


def test_other_log_records_of_a_span_become_its_events(
    collector: Collector, client: SpyglassClient
) -> None:
    with otel_sdk(collector, "http") as sdk:
        app_log = logging.getLogger("spyglass-tests.app")
        handler = LoggingHandler(logger_provider=sdk.logger_provider)
        app_log.addHandler(handler)
        app_log.setLevel(logging.INFO)
        try:
            with sdk.tracer.start_as_current_span("retrieve") as span:
                span.add_event("own-event", {"k": "v"})
                app_log.warning("cache miss for %s", "doc-7")
                trace_id = format(span.get_span_context().trace_id, "032x")
            app_log.info("after the span: no span context")
        finally:
            app_log.removeHandler(handler)
        sdk.flush_spans()
        sdk.flush_logs()
    events = only_span(client.get_trace(trace_id)).events
    assert [e["name"] for e in events] == ["own-event", "log"]
    assert events[0]["attributes"] == {"k": "v"}
    assert events[1]["attributes"]["log.body"] == "cache miss for doc-7"
    assert events[1]["attributes"]["log.severity_text"] == "WARN"
    assert events[1]["source"] == "log"
    assert (
        metric(collector, 'spyglass_log_records_rejected_total{protocol="http",reason="no_span"}')
        == 1
    )


# --- hand-built requests ----------------------------------------------------------------------


def chat_records(trace_id: bytes, span_id: bytes, t0: int = 1_000) -> list[Any]:
    return [
        make_log_record(
            trace_id,
            span_id,
            event_name="gen_ai.system.message",
            body={"content": SYSTEM},
            time_ns=t0,
        ),
        make_log_record(
            trace_id,
            span_id,
            event_name="gen_ai.user.message",
            body={"content": QUESTION},
            time_ns=t0 + 1,
        ),
        make_log_record(
            trace_id,
            span_id,
            event_name="gen_ai.choice",
            time_ns=t0 + 2,
            body={
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": ANSWER},
            },
        ),
    ]


@pytest.mark.parametrize("span_first", [False, True], ids=["logs-first", "span-first"])
def test_redelivered_log_records_change_nothing(
    collector: Collector, client: SpyglassClient, span_first: bool
) -> None:
    trace_id = new_trace_id()
    span = make_span("chat", trace_id, attributes=LLM_ATTRIBUTES)
    request = make_logs_request(chat_records(trace_id, span.span_id))
    if span_first:
        send_spans(collector, make_request([span]))
    send_logs(collector, request)
    send_logs(collector, request, "http")  # the same records, re-sent as JSON
    if not span_first:
        send_spans(collector, make_request([span]))
    send_logs(collector, request)
    stored = only_span(client.get_trace(hex_id(trace_id)))
    assert stored.inputs == MESSAGES and stored.outputs == CHOICES
    assert sql(collector, "SELECT count(*) FROM span_log_events")[0][0] == 3
    attached = metric(
        collector, 'spyglass_log_records_attached_total{when="span_stored"}'
    ) + metric(collector, 'spyglass_log_records_attached_total{when="span_arrived"}')
    assert attached == 3  # re-deliveries are not counted again


def test_records_split_over_requests_merge_in_time_order(
    collector: Collector, client: SpyglassClient
) -> None:
    trace_id = new_trace_id()
    span = make_span("chat", trace_id, attributes=LLM_ATTRIBUTES)
    system, user, choice = chat_records(trace_id, span.span_id)
    second_choice = make_log_record(
        trace_id,
        span.span_id,
        event_name="gen_ai.choice",
        time_ns=5,
        body={"index": 1, "finish_reason": "length", "message": {"content": "Par"}},
    )
    send_logs(collector, make_logs_request([user, choice]))
    send_spans(collector, make_request([span]))
    send_logs(collector, make_logs_request([second_choice, system]), "http")
    stored = only_span(client.get_trace(hex_id(trace_id)))
    assert stored.inputs == MESSAGES  # the system message came later but is older
    assert [c["index"] for c in stored.outputs["choices"]] == [0, 1]


def test_the_spans_own_inputs_win_over_log_records(
    collector: Collector, client: SpyglassClient
) -> None:
    trace_id = new_trace_id()
    own = [{"role": "user", "parts": [{"type": "text", "content": "own question"}]}]
    span = make_span(
        "chat", trace_id, attributes={**LLM_ATTRIBUTES, "gen_ai.input.messages": json.dumps(own)}
    )
    records = chat_records(trace_id, span.span_id)
    send_logs(collector, make_logs_request(records[:1]))
    send_spans(collector, make_request([span]))
    send_logs(collector, make_logs_request(records[1:]))
    stored = only_span(client.get_trace(hex_id(trace_id)))
    assert stored.inputs == {"messages": own}  # from the span's attribute
    assert stored.outputs == CHOICES  # missing on the span: filled from the choice event


def test_operation_details_event_and_event_name_attribute(
    collector: Collector, client: SpyglassClient
) -> None:
    trace_id = new_trace_id()
    first = make_span("chat", trace_id, attributes=LLM_ATTRIBUTES)
    second = make_span("chat-2", trace_id, parent=first, attributes=LLM_ATTRIBUTES)
    messages = [{"role": "user", "parts": [{"type": "text", "content": QUESTION}]}]
    answer = [
        {
            "role": "assistant",
            "finish_reason": "stop",
            "parts": [{"type": "text", "content": ANSWER}],
        }
    ]
    details = make_log_record(
        trace_id,
        first.span_id,
        event_name="gen_ai.client.inference.operation.details",
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.input.messages": messages,
            "gen_ai.output.messages": answer,
            "gen_ai.system_instructions": [{"type": "text", "content": SYSTEM}],
        },
    )
    legacy = make_log_record(
        trace_id,
        second.span_id,
        attributes={"event.name": "gen_ai.user.message"},
        body={"content": "older SDK"},
    )
    send_spans(collector, make_request([first, second]))
    send_logs(collector, make_logs_request([details, legacy]), "http")
    spans = {s.name: s for s in client.get_trace(hex_id(trace_id)).data.spans}
    assert spans["chat"].inputs == {
        "messages": messages,
        "system_instructions": [{"type": "text", "content": SYSTEM}],
    }
    assert spans["chat"].outputs == {"messages": answer}
    assert spans["chat-2"].inputs == {"messages": [{"role": "user", "content": "older SDK"}]}


def test_content_capture_off_keeps_the_message_structure(
    collector: Collector, client: SpyglassClient
) -> None:
    """With content capture off the instrumentation still sends the events, without
    bodies (or a choice without content): the span shows roles and finish reasons only."""
    trace_id = new_trace_id()
    span = make_span("chat", trace_id, attributes=LLM_ATTRIBUTES)
    send_spans(collector, make_request([span]))
    send_logs(
        collector,
        make_logs_request(
            [
                make_log_record(
                    trace_id, span.span_id, event_name="gen_ai.user.message", time_ns=1
                ),
                make_log_record(
                    trace_id,
                    span.span_id,
                    event_name="gen_ai.choice",
                    time_ns=2,
                    body={"index": 0, "finish_reason": "stop", "message": {"role": "assistant"}},
                ),
            ]
        ),
    )
    stored = only_span(client.get_trace(hex_id(trace_id)))
    assert stored.inputs == {"messages": [{"role": "user"}]}
    assert stored.outputs == {
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant"}}]
    }


# --- what is refused --------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_records_without_a_span_context_are_dropped_with_partial_success(
    collector: Collector, protocol: str
) -> None:
    trace_id = new_trace_id()
    kept = make_log_record(
        trace_id, b"spanid01", event_name="gen_ai.user.message", body={"content": "kept"}
    )
    response = send_logs(
        collector,
        make_logs_request(
            [
                make_log_record(body="no context"),
                kept,
                make_log_record(trace_id, b"", body="trace id without a span id"),
            ]
        ),
        protocol,
    )
    assert response.partial_success.rejected_log_records == 2
    message = response.partial_success.error_message
    assert "2 log record(s) without a trace and span id were dropped" in message
    assert "resourceLogs[0].scopeLogs[0].logRecords[0]" in message
    assert sql(collector, "SELECT span_id FROM span_log_events") == [("7370616e69643031",)]


def test_malformed_log_payloads_get_clear_errors(collector: Collector) -> None:
    url = f"http://127.0.0.1:{collector.http_port}/v1/logs"
    garbage = httpx.post(
        url,
        content=b"\xff\x00not protobuf",
        headers={"content-type": "application/x-protobuf"},
        timeout=TIMEOUT_S,
    )
    assert garbage.status_code == 400
    assert (
        "not a valid ExportLogsServiceRequest protobuf"
        in status_pb2.Status.FromString(garbage.content).message
    )
    bad_json = httpx.post(
        url,
        content=b'{"resourceLogs": [',
        timeout=TIMEOUT_S,
        headers={"content-type": "application/json"},
    )
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["message"]
    wrong_shape = httpx.post(
        url,
        json={"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "yesterday"}]}]}]},
        timeout=TIMEOUT_S,
    )
    assert wrong_shape.status_code == 400
    assert "ExportLogsServiceRequest in OTLP/JSON" in wrong_shape.json()["message"]
    wrong_type = httpx.post(
        url, content=b"{}", headers={"content-type": "text/plain"}, timeout=TIMEOUT_S
    )
    assert wrong_type.status_code == 415
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    with pytest.raises(grpc.RpcError) as info:
        channel.unary_unary(LOGS_EXPORT)(b"\xff\xff\xff\xff", timeout=TIMEOUT_S)
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "ExportLogsServiceRequest" in info.value.details()
    assert sql(collector, "SELECT count(*) FROM span_log_events")[0][0] == 0


def test_one_bad_record_is_rejected_by_path_and_the_others_are_stored(collector: Collector) -> None:
    trace_id = new_trace_id()
    request = make_logs_request(
        [
            make_log_record(
                trace_id, b"spanid01", event_name="gen_ai.user.message", body={"content": "good"}
            ),
            make_log_record(trace_id, b"spanid02", body="second"),
        ]
    )
    doc = to_otlp_json(request)
    doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][1]["traceId"] = "zz" * 16
    answer = httpx.post(
        f"http://127.0.0.1:{collector.http_port}/v1/logs", json=doc, timeout=TIMEOUT_S
    )
    assert answer.status_code == 200
    partial = answer.json()["partialSuccess"]
    assert partial["rejectedLogRecords"] == "1"
    assert "resourceLogs[0].scopeLogs[0].logRecords[1]: traceId" in partial["errorMessage"]
    assert "is not hex" in partial["errorMessage"]
    # a record whose span id has the wrong length (protobuf does not check it)
    short = make_logs_request([make_log_record(trace_id, b"short", body="x")])
    response = send_logs(collector, short)
    assert response.partial_success.rejected_log_records == 1
    assert "spanId is 5 bytes, expected 8" in response.partial_success.error_message
    assert sql(collector, "SELECT span_id FROM span_log_events") == [("7370616e69643031",)]


# --- concurrency and housekeeping -------------------------------------------------------------


TRACES_AT_ONCE = 120


def test_two_collectors_receiving_a_span_and_its_logs_at_once_lose_nothing(
    start_collector: Any, postgres_url: str
) -> None:
    spans_to = start_collector(postgres_url)
    logs_to = start_collector(postgres_url)
    work = []
    for _ in range(TRACES_AT_ONCE):
        trace_id = new_trace_id()
        span = make_span("chat", trace_id, attributes=LLM_ATTRIBUTES)
        work.append((make_request([span]), make_logs_request(chat_records(trace_id, span.span_id))))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def deliver(send: Any, collector: Collector, index: int) -> None:
        try:
            start.wait()
            for item in work:
                send(collector, item[index])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=deliver, args=(send_spans, spans_to, 0)),
        threading.Thread(target=deliver, args=(send_logs, logs_to, 1)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            missing = connection.execute(
                text("SELECT count(*) FROM spans WHERE inputs IS NULL OR outputs IS NULL")
            ).scalar()
            traces = connection.execute(
                text("SELECT count(*), min(span_count), max(span_count) FROM traces")
            ).one()
            previews = connection.execute(
                text("SELECT count(*) FROM traces WHERE request_preview IS NULL")
            ).scalar()
    finally:
        engine.dispose()
    assert missing == 0
    assert tuple(traces) == (TRACES_AT_ONCE, 1, 1)  # no row left without spans
    assert previews == 0


def test_log_records_are_deleted_a_day_after_they_came_and_their_span_keeps_its_content(
    collector: Collector, client: SpyglassClient
) -> None:
    waiting, attached = new_trace_id(), new_trace_id()
    span = make_span("chat", attached)
    send_logs(
        collector,
        make_logs_request(
            [
                make_log_record(waiting, b"spanid01", body="never"),
                *chat_records(attached, span.span_id),
            ]
        ),
    )
    send_spans(collector, make_request([span]))
    assert collector.engine is not None
    assert log_events.purge_expired(collector.engine) == 0  # younger than a day
    a_day_later = time.time_ns() + log_events.ROW_TTL_NS + 1
    assert log_events.purge_expired(collector.engine, now_ns=a_day_later, batch=2) == 4
    assert sql(collector, "SELECT count(*) FROM span_log_events")[0][0] == 0
    stored = only_span(client.get_trace(hex_id(attached)))
    assert stored.inputs == MESSAGES and stored.outputs == CHOICES


def test_logs_endpoints_follow_the_trace_endpoints_rules(
    start_collector: Any, tmp_path: Any
) -> None:
    """API keys, the request size limit and decoding in worker processes apply to logs."""
    collector = start_collector(
        f"sqlite:///{tmp_path / 's.db'}",
        api_keys=("k-1",),
        max_request_bytes=64 * 1024,
        decode_workers=1,
    )
    trace_id = new_trace_id()
    request = make_logs_request(chat_records(trace_id, b"spanid01"))
    url = f"http://127.0.0.1:{collector.http_port}/v1/logs"
    body = request.SerializeToString()
    protobuf = {"content-type": "application/x-protobuf"}
    assert httpx.post(url, content=body, headers=protobuf, timeout=TIMEOUT_S).status_code == 401
    with pytest.raises(grpc.RpcError) as info:
        grpc_stub(collector, LOGS_EXPORT, ExportLogsServiceResponse)(request, timeout=TIMEOUT_S)
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
    authorized = {**protobuf, "authorization": "Bearer k-1"}
    too_big = make_logs_request([make_log_record(trace_id, b"spanid01", body="x" * 70_000)])
    answer = httpx.post(
        url, content=too_big.SerializeToString(), headers=authorized, timeout=TIMEOUT_S
    )
    assert answer.status_code == 413
    answer = httpx.post(url, content=body, headers=authorized, timeout=TIMEOUT_S)
    assert answer.status_code == 200  # decoded in the worker process
    assert sql(collector, "SELECT count(*) FROM span_log_events")[0][0] == 3
