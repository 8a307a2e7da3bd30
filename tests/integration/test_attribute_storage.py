"""Span content is stored once, and every attribute still comes back exactly as sent.

Spans of each GenAI convention go through a real collector (with redaction rules and an
attribute size limit); the store keeps each attribute value that repeats the span's
``inputs``/``outputs`` column as a reference, and the resource with its scope once. GetTrace
(the raw message and the public client) returns the attributes, resource and scope as sent
after redaction and truncation, byte for byte, and ``span.attributes`` filters on the
referenced keys find the same traces as on values stored in full. Runs on SQLite and
PostgreSQL (``CI=true``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from alembic import command
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from otlp_builders import (
    make_log_record,
    make_logs_request,
    make_request,
    make_span,
    new_trace_id,
)
from sqlalchemy import inspect, text

from spyglass.client import SpyglassClient
from spyglass.collector.server import Collector
from spyglass.collector.store import migrate
from spyglass.collector.store.attribute_refs import CONTENT, COPY, MESSAGES, STRING
from spyglass.collector.store.engine import create_store_engine
from spyglass.lenient_json import dumps
from spyglass.v1 import traces_pb2, traces_pb2_grpc

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
LOGS_EXPORT = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
LIMIT = 1500
LONG_TEXT = "refund shipping warranty " * 200  # over the limit: cut to LIMIT bytes
QUESTION = json.dumps({"question": "Where is my order 1234?", "options": {"top_k": 5}})
ANSWER = json.dumps({"answer": 'It ships tomorrow \u2014 \u00e9t\u00e9, from "Lyon" \\ today'})
MESSAGES_TEXT = json.dumps(
    [{"role": "user", "parts": [{"type": "text", "content": "Hello there, assistant!"}]}]
)
REPLY_TEXT = json.dumps(
    [{"role": "assistant", "parts": [{"type": "text", "content": "Hi! How can I help?"}]}]
)
RESOURCE = {
    "service.name": "attribute-storage",
    "service.version": "2.14.1",
    "telemetry.sdk.language": "python",
    "telemetry.sdk.name": "opentelemetry",
    "telemetry.sdk.version": "1.29.0",
    "process.pid": 48213,
    "process.command_args": ["/app/bin/gunicorn", "app.main:app"],
    "host.name": "assistant-7f9c8d6b5-x2vkq",
}

# (span name, attributes sent, attributes expected back, {key: how it is stored})
CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, int]]] = [
    (
        "openinference",
        {
            "openinference.span.kind": "CHAIN",
            "input.value": QUESTION,
            "input.mime_type": "application/json",
            "output.value": "Paris is the capital of France, of course.",
        },
        {},
        {"input.value": COPY, "output.value": STRING},
    ),
    (
        "genai",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief"}]),
            "gen_ai.input.messages": MESSAGES_TEXT,
            "gen_ai.output.messages": REPLY_TEXT,
        },
        {},
        {"gen_ai.input.messages": MESSAGES, "gen_ai.output.messages": MESSAGES},
    ),
    (
        "openllmetry",
        {
            "llm.request.type": "chat",
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "You are a helpful assistant for shipping.",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": "Where is my order 1234, and when will it ship?",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "Your order ships tomorrow morning from Lyon.",
        },
        {},
        {
            "gen_ai.prompt.0.content": CONTENT,
            "gen_ai.prompt.1.content": CONTENT,
            "gen_ai.completion.0.content": CONTENT,
        },
    ),
    (
        "openllmetry-workflow",
        {
            "traceloop.span.kind": "workflow",
            "traceloop.entity.input": json.dumps({"args": ["where is order 1234?"]}),
            "traceloop.entity.output": "a plain string result that is not JSON",
        },
        {},
        {"traceloop.entity.input": COPY, "traceloop.entity.output": STRING},
    ),
    (
        "mlflow",
        {
            "mlflow.spanType": '"CHAIN"',
            "mlflow.spanInputs": json.dumps({"query": "refund policy for damaged goods"}),
            "mlflow.spanOutputs": ANSWER,
            # differs from the inputs column (MLflow's inputs win): kept as sent
            "input.value": "a different question, kept in full by the store",
        },
        {},
        {"mlflow.spanInputs": COPY, "mlflow.spanOutputs": COPY},
    ),
    (
        "redacted",
        {
            "input.value": "please mail bob@example.com about the refund of order 1234",
            "output.value": json.dumps({"sent_to": "bob@example.com", "status": "queued"}),
            "output.mime_type": "application/json",
        },
        {
            "input.value": "please mail [REDACTED:email] about the refund of order 1234",
            "output.value": json.dumps({"sent_to": "[REDACTED:email]", "status": "queued"}),
        },
        {"input.value": STRING, "output.value": COPY},
    ),
    (
        "truncated",
        {"input.value": LONG_TEXT, "tool.note": LONG_TEXT},
        {"input.value": LONG_TEXT[:LIMIT], "tool.note": LONG_TEXT[:LIMIT]},
        {"input.value": STRING},
    ),
]


@pytest.fixture
def stored(
    start_collector: Callable[..., Collector], store_url: str, tmp_path: Any
) -> tuple[Collector, dict[str, str]]:
    """A collector holding one trace per case; returns it and the trace ids by case."""
    rules = tmp_path / "redact.toml"
    rules.write_text('builtins = ["email"]\n')
    collector = start_collector(store_url, redaction_file=str(rules), max_attribute_bytes=LIMIT)
    trace_ids = {}
    spans = []
    for name, sent, _, _ in CASES:
        trace_id = new_trace_id()
        trace_ids[name] = trace_id.hex()
        spans.append(make_span(name, trace_id, attributes=sent))
    request = make_request(spans, resource=RESOURCE, scope_name="acme.instrumentation")
    request.resource_spans[0].scope_spans[0].scope.version = "1.2.3"
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    export = channel.unary_unary(
        EXPORT, response_deserializer=ExportTraceServiceResponse.FromString
    )
    export(request.SerializeToString(), timeout=30)
    return collector, trace_ids


def _expected(sent: dict[str, Any], changed: dict[str, Any]) -> dict[str, Any]:
    return {key: changed.get(key, value) for key, value in sent.items()}


def test_every_attribute_comes_back_byte_for_byte(stored: tuple[Collector, dict[str, str]]) -> None:
    collector, trace_ids = stored
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    stub = traces_pb2_grpc.TraceServiceStub(channel)
    client = SpyglassClient(f"127.0.0.1:{collector.grpc_port}")
    for name, sent, changed, _ in CASES:
        expected = _expected(sent, changed)
        (span,) = stub.GetTrace(traces_pb2.GetTraceRequest(trace_id=trace_ids[name])).spans
        assert span.attributes == dumps(expected), name
        assert json.loads(span.resource) == RESOURCE
        assert json.loads(span.scope) == {"name": "acme.instrumentation", "version": "1.2.3"}
        (entity,) = client.get_trace(trace_ids[name]).data.spans
        assert entity.attributes == expected, name


def test_content_is_stored_once(stored: tuple[Collector, dict[str, str]]) -> None:
    collector = stored[0]
    assert collector.engine is not None
    with collector.engine.connect() as connection:
        rows = {
            row.name: row
            for row in connection.execute(
                text("SELECT name, attributes, resource, scope FROM spans")
            )
        }
        (shared,) = connection.execute(text("SELECT resource, scope FROM span_resources")).all()
    for name, _, _, how in CASES:
        kept = json.loads(rows[name].attributes)
        for key, marker in how.items():
            assert kept[key] == marker, (name, key)
        assert rows[name].resource.startswith("@") and rows[name].scope is None
    assert json.loads(rows["mlflow"].attributes)["input.value"].startswith("a different")
    assert json.loads(shared.resource) == RESOURCE


FILTERS = [
    ("span.attributes.`input.value` = 'Paris is the capital of France, of course.'", None),
    (
        "span.attributes.`output.value` = 'Paris is the capital of France, of course.'",
        "openinference",
    ),
    ("span.attributes.`input.value` LIKE '%\"top_k\": 5%'", "openinference"),
    ("span.attributes.`gen_ai.input.messages` LIKE '%Hello there, assistant!%'", "genai"),
    ('span.attributes.`gen_ai.output.messages` ILIKE \'[{"role": "ASSISTANT"%\'', "genai"),
    (
        "span.attributes.`gen_ai.prompt.1.content` = "
        "'Where is my order 1234, and when will it ship?'",
        "openllmetry",
    ),
    ("span.attributes.`gen_ai.completion.0.content` LIKE '%Lyon.'", "openllmetry"),
    ("span.attributes.`mlflow.spanInputs` LIKE '%damaged goods%'", "mlflow"),
    ("span.attributes.`input.value` = 'a different question, kept in full by the store'", "mlflow"),
    ("span.attributes.`input.value` LIKE 'please mail [REDACTED:email]%'", "redacted"),
    ("span.attributes.`input.value` LIKE '%bob@example.com%'", None),
    ("span.attributes.`input.value` IS NULL", "no input.value"),
]


@pytest.mark.parametrize(("condition", "case"), FILTERS)
def test_filters_on_referenced_keys_match_as_on_values_in_full(
    stored: tuple[Collector, dict[str, str]], condition: str, case: str | None
) -> None:
    collector, trace_ids = stored
    client = SpyglassClient(f"127.0.0.1:{collector.grpc_port}")
    found = {
        trace.info.trace_id
        for page, _ in client.search_trace_pages(filter_string=condition, include_spans=False)
        for trace in page
    }
    names = {name for name, trace_id in trace_ids.items() if trace_id in found}
    if case == "no input.value":
        assert names == {"genai", "openllmetry", "openllmetry-workflow"}
    else:
        assert names == ({case} if case else set())


def test_log_records_arriving_later_leave_referenced_content_intact(
    stored: tuple[Collector, dict[str, str]],
) -> None:
    # a log record of a stored span makes the log writer normalise the span's attributes
    # again (and append the record as an event): it must read them in full
    collector, trace_ids = stored
    assert collector.engine is not None
    with collector.engine.connect() as connection:
        before = {
            row.name: row
            for row in connection.execute(text("SELECT name, span_id, inputs, outputs FROM spans"))
        }
    records = [
        make_log_record(
            bytes.fromhex(trace_ids[name]),
            bytes.fromhex(before[name].span_id),
            event_name="app.audit",
            body={"checked": True},
        )
        for name in ("genai", "openinference")
    ]
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    channel.unary_unary(LOGS_EXPORT, response_deserializer=ExportLogsServiceResponse.FromString)(
        make_logs_request(records).SerializeToString(), timeout=30
    )
    stub = traces_pb2_grpc.TraceServiceStub(channel)
    for name, sent, changed, _ in CASES:
        if name not in ("genai", "openinference"):
            continue
        (span,) = stub.GetTrace(traces_pb2.GetTraceRequest(trace_id=trace_ids[name])).spans
        assert (span.inputs, span.outputs) == (before[name].inputs, before[name].outputs)
        assert span.attributes == dumps(_expected(sent, changed)), name
        assert any(e.get("source") == "log" for e in json.loads(span.events)), name


def test_the_migration_downgrade_writes_shared_resources_back_into_their_spans(
    start_collector: Callable[..., Collector], store_url: str
) -> None:
    collector = start_collector(store_url)
    span = make_span("answer", new_trace_id(), attributes={"input.value": QUESTION})
    request = make_request([span], resource=RESOURCE, scope_name="acme.instrumentation")
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    channel.unary_unary(EXPORT, response_deserializer=ExportTraceServiceResponse.FromString)(
        request.SerializeToString(), timeout=30
    )
    collector.stop_background()
    engine = create_store_engine(store_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT resource FROM spans")).scalar_one()[0] == "@"
            command.downgrade(migrate._config(connection), "0008")
            connection.commit()
            resource, scope = connection.execute(text("SELECT resource, scope FROM spans")).one()
        assert json.loads(resource) == RESOURCE
        assert json.loads(scope) == {"name": "acme.instrumentation"}
        assert "span_resources" not in inspect(engine).get_table_names()
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
