"""Redaction and pricing configured on a running collector: secrets never reach the store
(attributes, canonical inputs, events, resource), and a price file overrides the table."""

from __future__ import annotations

import json

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from sqlalchemy import text

from spyglass.config import CollectorSettings
from spyglass.collector.server import Collector
from spyglass.errors import ConfigurationError

from otlp_builders import make_request, make_span, new_trace_id

OPENAI_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _export(collector: Collector, body: bytes) -> ExportTraceServiceResponse:
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    call = channel.unary_unary(EXPORT, response_deserializer=ExportTraceServiceResponse.FromString)
    return call(body, timeout=30)


def _stored(collector: Collector) -> dict[str, str]:
    with collector.engine.connect() as connection:  # type: ignore[union-attr]
        row = connection.execute(text(
            "SELECT attributes, inputs, events, resource, cost FROM spans")).one()
    return dict(row._mapping)


def test_secrets_are_redacted_everywhere_before_storage(start_collector, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "redact.toml"
    rules.write_text('builtins = ["email"]\n[patterns]\norder_id = "ORD-[0-9]{6}"\n')
    collector = start_collector(f"sqlite:///{tmp_path / 'r.db'}", redaction_file=str(rules))
    span = make_span("chat", new_trace_id(), attributes={
        "llm.api_key": "plain-secret-value",
        "input.value": json.dumps({"question": f"mail bob@example.com about ORD-123456, "
                                               f"key {OPENAI_KEY}"}),
        "input.mime_type": "application/json",
        "http.request.header.authorization": ["Bearer abc123def456"],
    }, events=[("retry", {"detail": f"Authorization: Bearer tok3n{OPENAI_KEY}"})])
    request = make_request([span], resource={"service.name": "svc", "deploy.password": "hunter2"})
    _export(collector, request.SerializeToString())

    stored = _stored(collector)
    everything = " ".join(str(v) for v in stored.values())
    for secret in ("plain-secret-value", "bob@example.com", "ORD-123456", OPENAI_KEY,
                   "abc123def456", "hunter2"):
        assert secret not in everything, secret
    attributes = json.loads(stored["attributes"])
    assert attributes["llm.api_key"] == "[REDACTED]"
    assert "[REDACTED:email]" in json.loads(stored["inputs"])["question"]
    assert "[REDACTED:order_id]" in json.loads(stored["inputs"])["question"]
    assert json.loads(stored["resource"]) == {"service.name": "svc",
                                              "deploy.password": "[REDACTED]"}


def test_price_file_overrides_and_adds_models(start_collector, tmp_path) -> None:  # type: ignore[no-untyped-def]
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"models": {"house-model": {"input": 1.0, "output": 3.0}}}))
    collector = start_collector(f"sqlite:///{tmp_path / 'p.db'}", price_file=str(prices))
    span = make_span("llm", new_trace_id(), attributes={
        "gen_ai.request.model": "house-model-2026-01", "gen_ai.usage.input_tokens": 1_000_000,
        "gen_ai.usage.output_tokens": 500_000})
    _export(collector, make_request([span]).SerializeToString())
    assert _stored(collector)["cost"] == pytest.approx(1.0 + 1.5)


def test_a_bad_price_file_stops_the_start_with_its_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    prices = tmp_path / "prices.json"
    prices.write_text('{"models": {"m": {"input": -1, "output": 1}}}')
    settings = CollectorSettings.load(env={}, store=f"sqlite:///{tmp_path / 'b.db'}",
                                      grpc_port=0, http_port=0, decode_workers=0,
                                      price_file=str(prices))
    with pytest.raises(ConfigurationError, match="prices.json"):
        Collector(settings).start_background()
