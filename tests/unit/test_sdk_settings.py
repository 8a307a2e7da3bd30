"""Where the SDK exports to and with which options: configure() arguments, SPYGLASS_* and
the standard OTEL_EXPORTER_OTLP_* variables."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)

from spyglass.config import TracingSettings
from spyglass.errors import ConfigurationError
from spyglass.instrumentation.exporters import ExportPlan, export_plan
from spyglass.session import CollectorTls, ExportTarget

REMOTE = ExportTarget("collector.internal:4317", None, "key-1")
EMBEDDED = ExportTarget("127.0.0.1:5001", "127.0.0.1:5002", None)


def test_default_is_grpc_to_the_configured_collector_with_the_api_key() -> None:
    plan = export_plan(REMOTE, {})
    assert plan == ExportPlan(
        "grpc",
        "collector.internal:4317",
        {"authorization": "Bearer key-1"},
        "collector.internal:4317 (OTLP/gRPC)",
    )
    exporter = plan.exporter()
    assert isinstance(exporter, GrpcSpanExporter)
    exporter.shutdown()


def test_http_protocol_uses_the_embedded_http_port_or_the_default_one() -> None:
    embedded = export_plan(EMBEDDED, {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
    assert (embedded.endpoint, embedded.headers) == ("http://127.0.0.1:5002/v1/traces", {})
    exporter = embedded.exporter()
    assert isinstance(exporter, HttpSpanExporter)
    exporter.shutdown()
    remote = export_plan(
        REMOTE,
        {
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-team=support",
        },
    )
    assert remote.endpoint == "http://collector.internal:4318/v1/traces"
    assert remote.headers == {"x-team": "support", "authorization": "Bearer key-1"}


def test_a_tls_collector_gets_tls_exports_on_both_protocols(tmp_path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked until a connection is made")
    secure = ExportTarget("collector.internal:4317", None, "key-1", CollectorTls(str(ca)))
    grpc_plan = export_plan(secure, {})
    assert (grpc_plan.endpoint, grpc_plan.tls, grpc_plan.label) == (
        "collector.internal:4317",
        CollectorTls(str(ca)),
        "collector.internal:4317 (OTLP/gRPC over TLS)",
    )
    exporter = grpc_plan.exporter()
    assert isinstance(exporter, GrpcSpanExporter)
    exporter.shutdown()
    http_plan = export_plan(secure, {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
    assert http_plan.endpoint == "https://collector.internal:4318/v1/traces"
    exporter = http_plan.exporter()
    assert isinstance(exporter, HttpSpanExporter)
    exporter.shutdown()


def test_headers_variable_may_carry_its_own_authorization() -> None:
    plan = export_plan(REMOTE, {"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "authorization=Bearer b"})
    assert plan.headers == {"authorization": "Bearer b"}


def test_endpoint_variable_wins_over_the_configured_collector() -> None:
    plan = export_plan(REMOTE, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://gateway:4317"})
    assert plan == ExportPlan("grpc", None, None, "http://gateway:4317 (grpc)")


def test_unknown_protocol_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"http/json.*grpc, http/protobuf"):
        export_plan(REMOTE, {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})


def test_tracing_settings_resolve_arguments_then_environment() -> None:
    assert TracingSettings.load(env={}) == TracingSettings(None, True, 20_000)
    env = {
        "SPYGLASS_CAPTURE_CONTENT": "false",
        "SPYGLASS_EXPORT_QUEUE_SIZE": "500",
        "SPYGLASS_SAMPLING_RATIO": "0.25",
    }
    assert TracingSettings.load(env=env) == TracingSettings(0.25, False, 500)
    assert TracingSettings.load(env=env, sampling_ratio=1, capture_content=True) == TracingSettings(
        1, True, 500
    )


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("sampling_ratio", 1.5, "a number from 0 to 1"),
        ("sampling_ratio", "half", "a number from 0 to 1"),
        ("sampling_ratio", True, "a number from 0 to 1"),
        ("export_queue_size", 0, "a positive integer"),
        ("export_queue_size", 10.5, "a positive integer"),
    ],
)
def test_bad_tracing_arguments_are_configuration_errors(
    argument: str, value: object, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"{argument}=.* is not valid: pass {message}"):
        TracingSettings.load(env={}, **{argument: value})


def test_bad_tracing_variables_name_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="SPYGLASS_SAMPLING_RATIO='2'"):
        TracingSettings.load(env={"SPYGLASS_SAMPLING_RATIO": "2"})
