"""The official OTLP exporters, driven by the OTel SDK, against a real collector.

Proves, on SQLite and on PostgreSQL, that spans sent by ``opentelemetry-exporter-otlp``
(gRPC and HTTP, through a TracerProvider and a BatchSpanProcessor flushed explicitly):

* in each GenAI convention (OTel ``gen_ai.*``, OpenInference, OpenLLMetry, Spyglass and
  MLflow JSON-string attributes) are stored with the right canonical fields (inputs and
  outputs JSON, span type, model, provider, tokens, a cost for a priced model);
* make the right ``traces`` row (root name, status, span and error counts, token and cost
  totals, request/response previews, experiment from ``service.name``);
* keep their raw attributes, events, links, resource and instrumentation scope as sent;
* arrive when the exporter compresses them (gRPC gzip, HTTP gzip and deflate).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
import requests
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, Tracer
from otel_sdk import RecordingExporter
from sqlalchemy import Engine, text
from stored_spans import stored_spans

from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.server import Collector

EXPORTERS = ("grpc", "http")
EXPORT_TIMEOUT_S = 10


# --- the conventions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Convention:
    """Attributes an instrumentation library writes on an LLM span, and what they mean."""

    id: str
    attributes: Mapping[str, Any]
    span_type: str
    inputs: Any  # the canonical inputs, parsed from JSON
    outputs: Any
    model: str
    provider: str
    input_tokens: int
    output_tokens: int
    total_tokens: int
    session_id: str | None = None
    user_id: str | None = None


QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
ANSWER = [{"role": "assistant", "content": "Paris."}]

CONVENTIONS = [
    Convention(
        id="otel-genai",
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.usage.input_tokens": 120,
            "gen_ai.usage.output_tokens": 30,
            "gen_ai.input.messages": json.dumps(QUESTION),
            "gen_ai.output.messages": json.dumps(ANSWER),
            "gen_ai.conversation.id": "conv-7",
        },
        span_type="CHAT_MODEL",
        inputs={"messages": QUESTION},
        outputs={"messages": ANSWER},
        model="gpt-4o-mini-2024-07-18",
        provider="openai",
        input_tokens=120,
        output_tokens=30,
        total_tokens=150,
        session_id="conv-7",
    ),
    Convention(
        id="openinference",
        attributes={
            "openinference.span.kind": "LLM",
            "input.value": json.dumps({"messages": QUESTION}),
            "input.mime_type": "application/json",
            "output.value": "Paris.",  # no mime type: plain text, stored as a JSON string
            "llm.model_name": "gpt-4o-mini",
            "llm.provider": "openai",
            "llm.token_count.prompt": 200,
            "llm.token_count.completion": 40,
            "llm.token_count.total": 240,
            "session.id": "sess-1",
            "user.id": "user-9",
        },
        span_type="LLM",
        inputs={"messages": QUESTION},
        outputs="Paris.",
        model="gpt-4o-mini",
        provider="openai",
        input_tokens=200,
        output_tokens=40,
        total_tokens=240,
        session_id="sess-1",
        user_id="user-9",
    ),
    Convention(
        id="openllmetry",
        attributes={
            "llm.request.type": "chat",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": QUESTION[0]["content"],
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "Paris.",
            "gen_ai.completion.0.finish_reason": "stop",
            "gen_ai.usage.prompt_tokens": 55,
            "gen_ai.usage.completion_tokens": 5,
            "llm.usage.total_tokens": 60,
        },
        span_type="CHAT_MODEL",
        inputs={"messages": QUESTION},
        outputs={"messages": [{**ANSWER[0], "finish_reason": "stop"}]},
        model="gpt-4o-mini",
        provider="openai",
        input_tokens=55,
        output_tokens=5,
        total_tokens=60,
    ),
    Convention(
        id="spyglass",
        attributes={
            "spyglass.span.type": "CHAT_MODEL",
            "spyglass.span.inputs": json.dumps({"question": "capital of France?"}),
            "spyglass.span.outputs": json.dumps("Paris."),
            # MLflow's keys come second: the Spyglass ones win where both are present
            "mlflow.spanInputs": json.dumps({"ignored": True}),
            "spyglass.span.token_usage": json.dumps(
                {"input_tokens": 31, "output_tokens": 7, "total_tokens": 38}
            ),
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.provider.name": "openai",
        },
        span_type="CHAT_MODEL",
        inputs={"question": "capital of France?"},
        outputs="Paris.",
        model="gpt-4o-mini",
        provider="openai",
        input_tokens=31,
        output_tokens=7,
        total_tokens=38,
    ),
    Convention(
        id="mlflow",
        attributes={
            "mlflow.spanType": json.dumps("LLM"),
            "mlflow.spanInputs": json.dumps({"messages": QUESTION}),
            "mlflow.spanOutputs": json.dumps({"choices": [{"message": ANSWER[0]}]}),
            "mlflow.chat.tokenUsage": json.dumps(
                {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}
            ),
            "mlflow.llm.model": json.dumps("gpt-4o-mini"),
            "mlflow.llm.provider": json.dumps("openai"),
        },
        span_type="LLM",
        inputs={"messages": QUESTION},
        outputs={"choices": [{"message": ANSWER[0]}]},
        model="gpt-4o-mini",
        provider="openai",
        input_tokens=12,
        output_tokens=3,
        total_tokens=15,
    ),
]


# --- exporting through the SDK --------------------------------------------------------------


def otlp_exporter(
    kind: str,
    collector: Collector,
    compression: Any = None,
    session: requests.Session | None = None,
) -> SpanExporter:
    """The official exporter of ``kind`` ("grpc" or "http") pointed at ``collector``;
    ``session`` (HTTP only) lets a test watch the requests on the wire."""
    if kind == "grpc":
        return GrpcSpanExporter(
            endpoint=f"127.0.0.1:{collector.grpc_port}",
            insecure=True,
            compression=compression,
            timeout=EXPORT_TIMEOUT_S,
        )
    return HttpSpanExporter(
        endpoint=f"http://127.0.0.1:{collector.http_port}/v1/traces",
        compression=compression,
        session=session,
        timeout=EXPORT_TIMEOUT_S,
    )


@dataclass(frozen=True)
class ScopeSpec:
    """The instrumentation scope the SDK tracer reports."""

    name: str = "spyglass-tests"
    version: str | None = None
    attributes: Mapping[str, Any] | None = None


@contextlib.contextmanager
def sdk_tracer(
    exporter: SpanExporter, resource: Mapping[str, Any], scope: ScopeSpec = ScopeSpec()
) -> Iterator[Tracer]:
    """A tracer whose spans are exported in one batch when the block ends.

    The batch processor only exports on the explicit flush (its schedule delay is far
    longer than any test), so all spans of the block travel in one request; the flush and
    every export must succeed, and the collector acknowledges only after COMMIT, so the
    rows can be read as soon as this returns.
    """
    recorder = RecordingExporter(exporter)
    provider = TracerProvider(resource=Resource.create(dict(resource)))
    provider.add_span_processor(BatchSpanProcessor(recorder, schedule_delay_millis=600_000))
    try:
        yield provider.get_tracer(scope.name, scope.version, attributes=scope.attributes)
        assert provider.force_flush(EXPORT_TIMEOUT_S * 1000), "flush timed out"
    finally:
        provider.shutdown()
    assert recorder.results, "nothing was exported"
    assert all(r is SpanExportResult.SUCCESS for r in recorder.results), recorder.results


# --- reading back ---------------------------------------------------------------------------


def rows(engine: Engine, sql: str, **params: Any) -> list[Mapping[str, Any]]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params).mappings())


def spans_by_name(engine: Engine, trace_id: str) -> dict[str, Mapping[str, Any]]:
    found = stored_spans(engine, "SELECT * FROM spans WHERE trace_id = :t", t=trace_id)
    return {row["name"]: row for row in found}


def trace_row(engine: Engine, trace_id: str) -> Mapping[str, Any]:
    found = rows(engine, "SELECT * FROM traces WHERE trace_id = :t", t=trace_id)
    assert len(found) == 1, f"expected one traces row for {trace_id}, got {found}"
    return found[0]


def experiment_id(engine: Engine, name: str) -> int:
    found = rows(engine, "SELECT experiment_id FROM experiments WHERE name = :n", n=name)
    assert len(found) == 1, f"no experiment named {name!r}"
    return found[0]["experiment_id"]


def hex_trace_id(span: Any) -> str:
    return format(span.get_span_context().trace_id, "032x")


def hex_span_id(span: Any) -> str:
    return format(span.get_span_context().span_id, "016x")


def loads(text_value: str | None) -> Any:
    assert text_value is not None, "expected a JSON value, got NULL"
    return json.loads(text_value)


def assert_canonical(row: Mapping[str, Any], convention: Convention) -> None:
    """The span row has the canonical fields ``convention``'s attributes mean."""
    assert row["span_type"] == convention.span_type
    assert loads(row["inputs"]) == convention.inputs
    assert loads(row["outputs"]) == convention.outputs
    assert row["model"] == convention.model
    assert row["provider"] == convention.provider
    assert (row["input_tokens"], row["output_tokens"], row["total_tokens"]) == (
        convention.input_tokens,
        convention.output_tokens,
        convention.total_tokens,
    )
    assert row["session_id"] == convention.session_id
    assert row["user_id"] == convention.user_id
    expected_cost = PriceTable.load().cost(
        convention.model, convention.input_tokens, convention.output_tokens
    )
    assert expected_cost and expected_cost > 0, f"{convention.model} should be priced"
    assert row["cost"] == pytest.approx(expected_cost)
    assert loads(row["attributes"]) == dict(convention.attributes)


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("convention", CONVENTIONS, ids=lambda c: c.id)
@pytest.mark.parametrize("exporter", EXPORTERS)
def test_convention_is_stored_with_canonical_fields_and_trace_row(
    collector: Collector, exporter: str, convention: Convention
) -> None:
    service = f"shop-{convention.id}"
    with (
        sdk_tracer(otlp_exporter(exporter, collector), {"service.name": service}) as tracer,
        tracer.start_as_current_span("answer", attributes=convention.attributes) as root,
        tracer.start_as_current_span("answer-retry", attributes=convention.attributes) as child,
    ):
        child.set_status(Status(StatusCode.ERROR, "rate limited"))

    engine = collector.engine
    trace_id = hex_trace_id(root)
    spans = spans_by_name(engine, trace_id)
    assert sorted(spans) == ["answer", "answer-retry"]
    for row in spans.values():
        assert_canonical(row, convention)
    root_row, child_row = spans["answer"], spans["answer-retry"]
    assert (root_row["span_id"], root_row["parent_span_id"]) == (hex_span_id(root), None)
    assert (child_row["span_id"], child_row["parent_span_id"]) == (
        hex_span_id(child),
        hex_span_id(root),
    )
    assert (child_row["status_code"], child_row["status_message"]) == (2, "rate limited")

    trace = trace_row(engine, trace_id)
    assert trace["experiment_id"] == experiment_id(engine, service)
    assert (trace["name"], trace["root_span_id"], trace["status"]) == (
        "answer",
        hex_span_id(root),
        "OK",
    )
    assert (trace["span_count"], trace["error_count"]) == (2, 1)
    assert (trace["input_tokens"], trace["output_tokens"], trace["total_tokens"]) == (
        2 * convention.input_tokens,
        2 * convention.output_tokens,
        2 * convention.total_tokens,
    )
    assert trace["cost"] == pytest.approx(root_row["cost"] + child_row["cost"])
    assert trace["cost"] > 0
    assert loads(trace["request_preview"]) == convention.inputs
    assert loads(trace["response_preview"]) == convention.outputs
    assert trace["start_time_ns"] == root_row["start_time_ns"]
    assert trace["end_time_ns"] == max(root_row["end_time_ns"], child_row["end_time_ns"])
    assert trace["session_id"] == convention.session_id
    assert trace["user_id"] == convention.user_id


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_raw_attributes_events_links_resource_and_scope_are_kept(
    collector: Collector, exporter: str
) -> None:
    resource = {"service.name": "raw-keeper", "deployment.environment": "test", "host.cores": 2}
    scope = ScopeSpec("acme.instrumentation", "1.2.3", {"acme.scope.flag": True})
    attributes = {
        "s": "text",
        "i": 42,
        "f": 0.5,
        "b": True,
        "strings": ["a", "b"],
        "ints": [1, 2, 3],
        "input.value": "hello",
    }
    linked = SpanContext(
        trace_id=0x1234_5678_9ABC_DEF0_1234_5678_9ABC_DEF0,
        span_id=0x0102_0304_0506_0708,
        is_remote=True,
    )
    with (
        sdk_tracer(otlp_exporter(exporter, collector), resource, scope) as tracer,
        tracer.start_as_current_span(
            "tool-call",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            links=[Link(linked, {"link.kind": "follows"})],
        ) as span,
    ):
        span.add_event("cache.miss", {"key": "k1", "size": 3})
        span.set_status(Status(StatusCode.ERROR, "boom"))

    trace_id = hex_trace_id(span)
    row = spans_by_name(collector.engine, trace_id)["tool-call"]
    assert loads(row["attributes"]) == attributes
    assert row["kind"] == SpanKind.CLIENT.value + 1  # OTLP numbers kinds from UNSPECIFIED=0
    assert (row["status_code"], row["status_message"]) == (2, "boom")
    (event,) = loads(row["events"])
    assert (event["name"], event["attributes"]) == ("cache.miss", {"key": "k1", "size": 3})
    assert row["start_time_ns"] <= event["time_unix_nano"] <= row["end_time_ns"]
    assert loads(row["links"]) == [
        {
            "trace_id": format(linked.trace_id, "032x"),
            "span_id": format(linked.span_id, "016x"),
            "attributes": {"link.kind": "follows"},
        }
    ]
    stored_resource = loads(row["resource"])
    assert stored_resource.items() >= resource.items()
    assert stored_resource["telemetry.sdk.name"] == "opentelemetry"
    assert loads(row["scope"]) == {
        "name": "acme.instrumentation",
        "version": "1.2.3",
        "attributes": {"acme.scope.flag": True},
    }
    assert loads(row["inputs"]) == "hello"  # canonical fields come on top of the raw ones
    trace = trace_row(collector.engine, trace_id)
    assert (trace["status"], trace["error_count"], trace["span_count"]) == ("ERROR", 1, 1)


def export_compressible_span(exporter: SpanExporter, collector: Collector) -> None:
    """Export one span with a large, repetitive input; assert it is stored whole."""
    big_input = "the same sentence again; " * 2000  # 50 kB that compresses to little
    with (
        sdk_tracer(exporter, {"service.name": "zipped"}) as tracer,
        tracer.start_as_current_span("zipped", attributes={"input.value": big_input}) as span,
    ):
        pass
    row = spans_by_name(collector.engine, hex_trace_id(span))["zipped"]
    assert loads(row["inputs"]) == big_input


def test_grpc_exporter_with_gzip_is_stored(start_collector, tmp_path) -> None:
    collector = start_collector(f"sqlite:///{tmp_path}/s.db")
    export_compressible_span(otlp_exporter("grpc", collector, grpc.Compression.Gzip), collector)


@pytest.mark.parametrize(
    "compression", [HttpCompression.Gzip, HttpCompression.Deflate], ids=lambda c: c.value
)
def test_http_exporter_with_compression_is_stored(
    start_collector, tmp_path, compression: HttpCompression
) -> None:
    collector = start_collector(f"sqlite:///{tmp_path}/s.db")
    sent_encodings: list[str | None] = []
    session = requests.Session()
    session.hooks["response"].append(
        lambda response, *_, **__: sent_encodings.append(
            response.request.headers.get("Content-Encoding")
        )
    )
    exporter = otlp_exporter("http", collector, compression, session=session)
    export_compressible_span(exporter, collector)
    assert sent_encodings == [compression.value]  # the body really went compressed
