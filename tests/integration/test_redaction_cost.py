"""Redaction and pricing configured on a running collector: secrets never reach the store
(attributes, canonical inputs, events, resource; span, trace, event and scope names, status
messages, links, scope attributes, keys inside JSON text, log records); spans are priced
from the genai-prices catalog, a price file overrides it, and a model without a price is
stored without a cost and counted."""

from __future__ import annotations

import json

import grpc
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from otlp_builders import (
    make_log_record,
    make_logs_request,
    make_request,
    make_span,
    new_trace_id,
)
from sqlalchemy import text
from stored_spans import stored_spans

from spyglass.collector.server import Collector
from spyglass.config import CollectorSettings
from spyglass.errors import ConfigurationError

OPENAI_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _export(collector: Collector, body: bytes) -> ExportTraceServiceResponse:
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    call = channel.unary_unary(EXPORT, response_deserializer=ExportTraceServiceResponse.FromString)
    return call(body, timeout=30)


def _stored(collector: Collector) -> dict[str, str]:
    query = "SELECT attributes, inputs, outputs, events, resource, scope, cost FROM spans"
    (row,) = stored_spans(collector.engine, query)  # type: ignore[arg-type]
    return row


def test_secrets_are_redacted_everywhere_before_storage(start_collector, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "redact.toml"
    rules.write_text('builtins = ["email"]\n[patterns]\norder_id = "ORD-[0-9]{6}"\n')
    collector = start_collector(f"sqlite:///{tmp_path / 'r.db'}", redaction_file=str(rules))
    span = make_span(
        "chat",
        new_trace_id(),
        attributes={
            "llm.api_key": "plain-secret-value",
            "input.value": json.dumps(
                {"question": f"mail bob@example.com about ORD-123456, key {OPENAI_KEY}"}
            ),
            "input.mime_type": "application/json",
            "http.request.header.authorization": ["Bearer abc123def456"],
        },
        events=[("retry", {"detail": f"Authorization: Bearer tok3n{OPENAI_KEY}"})],
    )
    request = make_request([span], resource={"service.name": "svc", "deploy.password": "hunter2"})
    _export(collector, request.SerializeToString())

    stored = _stored(collector)
    everything = " ".join(str(v) for v in stored.values())
    for secret in (
        "plain-secret-value",
        "bob@example.com",
        "ORD-123456",
        OPENAI_KEY,
        "abc123def456",
        "hunter2",
    ):
        assert secret not in everything, secret
    attributes = json.loads(stored["attributes"])
    assert attributes["llm.api_key"] == "[REDACTED]"
    assert "[REDACTED:email]" in json.loads(stored["inputs"])["question"]
    assert "[REDACTED:order_id]" in json.loads(stored["inputs"])["question"]
    assert json.loads(stored["resource"]) == {
        "service.name": "svc",
        "deploy.password": "[REDACTED]",
    }


def test_price_file_overrides_and_adds_models(start_collector, tmp_path) -> None:  # type: ignore[no-untyped-def]
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"models": {"house-model": {"input": 1.0, "output": 3.0}}}))
    collector = start_collector(f"sqlite:///{tmp_path / 'p.db'}", price_file=str(prices))
    span = make_span(
        "llm",
        new_trace_id(),
        attributes={
            "gen_ai.request.model": "house-model-2026-01",
            "gen_ai.usage.input_tokens": 1_000_000,
            "gen_ai.usage.output_tokens": 500_000,
        },
    )
    _export(collector, make_request([span]).SerializeToString())
    assert _stored(collector)["cost"] == pytest.approx(1.0 + 1.5)


def _llm_span(model: str, system: str | None = None) -> object:
    attributes = {
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": 1_000_000,
        "gen_ai.usage.output_tokens": 1_000_000,
    }
    if system is not None:
        attributes["gen_ai.system"] = system
    return make_span(model, new_trace_id(), attributes=attributes)


def test_catalog_prices_overrides_and_unknown_models(start_collector, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    prices = tmp_path / "prices.toml"
    prices.write_text("[models.gpt-4o]\ninput = 1.0\noutput = 2.0\n")
    collector = start_collector(f"sqlite:///{tmp_path / 'c.db'}", price_file=str(prices))
    spans = [
        _llm_span("gpt-4o-mini"),  # the package's price: 0.15 + 0.60
        _llm_span("gpt-4o-2024-08-06"),  # a variant of the overridden model: 1 + 2
        _llm_span("text-embedding-3-small", system="openai"),  # found with its provider: 0.02
        _llm_span("house-llm"),  # nobody's price
        _llm_span("house-llm"),
    ]
    with caplog.at_level("WARNING", logger="spyglass.collector.ingest.pipeline"):
        _export(collector, make_request(spans).SerializeToString())
        _export(collector, make_request([_llm_span("house-llm")]).SerializeToString())
    costs = {row["name"]: row["cost"] for row in _rows(collector, "SELECT name, cost FROM spans")}
    assert costs["gpt-4o-mini"] == pytest.approx(0.75)
    assert costs["gpt-4o-2024-08-06"] == pytest.approx(3.0)
    assert costs["text-embedding-3-small"] == pytest.approx(0.02)
    assert costs["house-llm"] is None
    registry = collector.metrics.registry
    assert registry.get_sample_value("spyglass_cost_unknown_model_total") == 3
    logged = [r.getMessage() for r in caplog.records if "no price is known" in r.getMessage()]
    assert logged == [logged[0]] and "'house-llm'" in logged[0] and "--price-file" in logged[0]


def test_a_bad_price_file_stops_the_start_with_its_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    prices = tmp_path / "prices.json"
    prices.write_text('{"models": {"m": {"input": -1, "output": 1}}}')
    settings = CollectorSettings.load(
        env={},
        store=f"sqlite:///{tmp_path / 'b.db'}",
        grpc_port=0,
        http_port=0,
        decode_workers=0,
        price_file=str(prices),
    )
    with pytest.raises(ConfigurationError, match=r"prices.json"):
        Collector(settings).start_background()


BASIC = "dXNlcjpwYXNz"  # base64("user:pass")


def _rows(collector: Collector, query: str) -> list[dict]:
    with collector.engine.connect() as connection:  # type: ignore[union-attr]
        return [dict(row._mapping) for row in connection.execute(text(query))]


def test_every_stored_string_and_json_keys_are_redacted(start_collector, store_url) -> None:  # type: ignore[no-untyped-def]
    collector = start_collector(store_url)
    trace_id = new_trace_id()
    span = make_span(
        f"call with Bearer tok3n{OPENAI_KEY}",
        trace_id,
        status_message=f"401 for Authorization: Basic {BASIC}",
        attributes={
            "spyglass.trace.tags": json.dumps({"env": "prod", "api_key": "tag-secret-1"}),
            "spyglass.trace.metadata": json.dumps({"db": {"password": "meta-secret-2"}}),
            "input.value": json.dumps(
                {"tool": "login", "args": {"user": "bob", "password": "tool-secret-3"}}
            ),
            "input.mime_type": "application/json",
            "http.request.header": f"Authorization: Basic {BASIC}",
        },
        events=[(f"retry with {OPENAI_KEY}", {"n": 1})],
    )
    span.links.add(trace_id=trace_id, span_id=span.span_id).attributes.add(
        key="db.password"
    ).value.string_value = "link-secret-4"
    request = make_request([span], scope_name=f"lib {OPENAI_KEY}")
    request.resource_spans[0].scope_spans[0].scope.attributes.add(
        key="client_secret"
    ).value.string_value = "scope-secret-5"
    log_request = make_logs_request(
        [
            make_log_record(
                trace_id,
                span.span_id,
                event_name=f"audit {OPENAI_KEY}",
                body=json.dumps({"api_key": "log-secret-6", "q": "hi"}),
                severity_text=f"Bearer zz{OPENAI_KEY}",
            )
        ]
    )

    _export(collector, request.SerializeToString())
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    channel.unary_unary(
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        response_deserializer=ExportLogsServiceResponse.FromString,
    )(log_request.SerializeToString(), timeout=30)

    stored = {
        "spans": stored_spans(collector.engine, "SELECT * FROM spans"),  # type: ignore[arg-type]
        "traces": _rows(collector, "SELECT * FROM traces"),
        "tags": _rows(collector, "SELECT * FROM trace_tags"),
        "metadata": _rows(collector, "SELECT * FROM trace_metadata"),
        "logs": _rows(collector, "SELECT * FROM span_log_events"),
    }
    everything = json.dumps(stored, default=str)
    for secret in (
        OPENAI_KEY,
        BASIC,
        "tag-secret-1",
        "meta-secret-2",
        "tool-secret-3",
        "link-secret-4",
        "scope-secret-5",
        "log-secret-6",
    ):
        assert secret not in everything, secret
    row = stored["spans"][0]
    assert row["name"] == "call with [REDACTED:bearer_token]"
    assert stored["traces"][0]["name"] == row["name"]
    assert row["status_message"] == "401 for Authorization: [REDACTED:basic_auth]"
    assert json.loads(row["events"])[0]["name"] == "retry with [REDACTED:openai_api_key]"
    assert json.loads(row["links"])[0]["attributes"] == {"db.password": "[REDACTED]"}
    assert json.loads(row["scope"]) == {
        "name": "lib [REDACTED:openai_api_key]",
        "attributes": {"client_secret": "[REDACTED]"},
    }
    assert json.loads(row["inputs"])["args"] == {"user": "bob", "password": "[REDACTED]"}
    assert {r["key"]: r["value"] for r in stored["tags"]} == {
        "env": "prod",
        "api_key": "[REDACTED]",
    }
    assert json.loads(stored["metadata"][0]["value"]) == {"password": "[REDACTED]"}
    log_row = stored["logs"][0]
    assert log_row["event_name"] == "audit [REDACTED:openai_api_key]"
    log_attributes = json.loads(log_row["content"])["attributes"]
    assert json.loads(log_attributes["log.body"]) == {"api_key": "[REDACTED]", "q": "hi"}
