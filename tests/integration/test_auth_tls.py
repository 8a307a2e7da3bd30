"""API keys and TLS on a real collector's two ports.

Proves that with ``api_keys`` set, OTLP exports over HTTP (``Authorization: Bearer``) and
gRPC (``authorization`` metadata) are refused without a key (401 / UNAUTHENTICATED, with a
message saying how to send one) or with a wrong key, and accepted with any configured key,
also from the official OTLP exporters given the header; that health checks (``/healthz``,
``/readyz``, ``grpc.health.v1``) stay open while ``/metrics`` needs the key. With
``tls_cert``/``tls_key`` (a self-signed certificate made for the test) both ports speak
TLS: clients trusting the certificate export successfully, clients that do not are refused.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import code_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from otlp_builders import make_request, make_span, new_trace_id
from sqlalchemy import text

from spyglass.collector.auth import MISSING_KEY, WRONG_KEY
from spyglass.collector.server import Collector

KEYS = ("k1", "k2")
TIMEOUT_S = 10
TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
PROTOBUF = "application/x-protobuf"

# (authorization value sent, accepted?, message of the refusal)
KEY_CASES = [
    pytest.param(None, False, MISSING_KEY, id="no-key"),
    pytest.param("Basic k1", False, MISSING_KEY, id="not-bearer"),
    pytest.param("Bearer nope", False, WRONG_KEY, id="wrong-key"),
    pytest.param("Bearer k1", True, None, id="first-key"),
    pytest.param("Bearer k2", True, None, id="second-key"),
]


# --- helpers --------------------------------------------------------------------------------


def span_body(name: str) -> bytes:
    """A one-span export request, serialised."""
    return make_request([make_span(name, new_trace_id())]).SerializeToString()


def stored_span_names(collector: Collector) -> set[str]:
    with collector.engine.connect() as connection:
        return set(connection.execute(text("SELECT name FROM spans")).scalars())


def auth_headers(authorization: str | None) -> dict[str, str]:
    return {} if authorization is None else {"Authorization": authorization}


def raw_grpc_export(
    channel: grpc.Channel, body: bytes, metadata: tuple[tuple[str, str], ...] = ()
) -> ExportTraceServiceResponse:
    export = channel.unary_unary(
        TRACE_EXPORT,
        request_serializer=None,
        response_deserializer=ExportTraceServiceResponse.FromString,
    )
    return export(body, metadata=metadata, timeout=TIMEOUT_S)


def finished_span(name: str) -> ReadableSpan:
    """An ended SDK span, ready to hand to an exporter."""
    provider = TracerProvider(resource=Resource.create({"service.name": "auth-tests"}))
    span = provider.get_tracer("auth-tests").start_span(name)
    span.end()
    return span  # type: ignore[return-value]  # the SDK's Span is a ReadableSpan


def export_with(exporter: SpanExporter, name: str) -> SpanExportResult:
    try:
        return exporter.export([finished_span(name)])
    finally:
        exporter.shutdown()


def grpc_exporter(
    collector: Collector, headers: Mapping[str, str] | None = None, root_cert: bytes | None = None
) -> SpanExporter:
    """The official gRPC exporter; TLS trusting ``root_cert`` when given."""
    credentials = grpc.ssl_channel_credentials(root_cert) if root_cert else None
    return GrpcSpanExporter(
        endpoint=f"127.0.0.1:{collector.grpc_port}",
        insecure=root_cert is None,
        credentials=credentials,
        headers=dict(headers or {}),
        timeout=5,
    )


def http_exporter(
    collector: Collector, headers: Mapping[str, str] | None = None, cert_file: Path | None = None
) -> SpanExporter:
    """The official HTTP exporter; HTTPS trusting ``cert_file`` when given."""
    scheme = "https" if cert_file else "http"
    return HttpSpanExporter(
        endpoint=f"{scheme}://127.0.0.1:{collector.http_port}/v1/traces",
        headers=dict(headers or {}),
        timeout=5,
        certificate_file=str(cert_file) if cert_file else None,
    )


@pytest.fixture
def keyed(start_collector, tmp_path) -> Collector:
    """A SQLite collector accepting the API keys k1 and k2."""
    return start_collector(f"sqlite:///{tmp_path}/s.db", api_keys=KEYS)


# --- API keys -------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization, accepted, refusal", KEY_CASES)
def test_http_export_needs_an_accepted_key(
    keyed: Collector, authorization: str | None, accepted: bool, refusal: str | None
) -> None:
    answer = httpx.post(
        f"http://127.0.0.1:{keyed.http_port}/v1/traces",
        content=span_body("via-http"),
        timeout=TIMEOUT_S,
        headers={"Content-Type": PROTOBUF, **auth_headers(authorization)},
    )

    if accepted:
        assert answer.status_code == 200, answer.content
        assert stored_span_names(keyed) == {"via-http"}
    else:
        assert answer.status_code == 401
        status = status_pb2.Status.FromString(answer.content)
        assert (status.code, status.message) == (code_pb2.UNAUTHENTICATED, refusal)
        assert stored_span_names(keyed) == set()


@pytest.mark.parametrize("authorization, accepted, refusal", KEY_CASES)
def test_grpc_export_needs_an_accepted_key(
    keyed: Collector, authorization: str | None, accepted: bool, refusal: str | None
) -> None:
    metadata = () if authorization is None else (("authorization", authorization),)
    with grpc.insecure_channel(f"127.0.0.1:{keyed.grpc_port}") as channel:
        if accepted:
            assert (
                raw_grpc_export(channel, span_body("via-grpc"), metadata)
                == ExportTraceServiceResponse()
            )
            assert stored_span_names(keyed) == {"via-grpc"}
            return
        with pytest.raises(grpc.RpcError) as refused:
            raw_grpc_export(channel, span_body("via-grpc"), metadata)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert refused.value.details() == refusal
    assert stored_span_names(keyed) == set()


@pytest.mark.parametrize(
    "make_exporter, key_header",
    [
        (grpc_exporter, "authorization"),  # gRPC metadata keys are lower case
        (http_exporter, "Authorization"),
    ],
    ids=["grpc", "http"],
)
@pytest.mark.parametrize(
    "key, result",
    [
        ("k2", SpanExportResult.SUCCESS),
        (None, SpanExportResult.FAILURE),
    ],
    ids=["with-key", "without-key"],
)
def test_official_exporters_send_the_key_as_a_header(
    keyed: Collector,
    make_exporter: Callable[..., SpanExporter],
    key_header: str,
    key: str | None,
    result: SpanExportResult,
) -> None:
    headers = {key_header: f"Bearer {key}"} if key else {}

    assert export_with(make_exporter(keyed, headers), "exported") is result

    assert stored_span_names(keyed) == ({"exported"} if key else set())


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_http_health_is_open_without_a_key(keyed: Collector, path: str) -> None:
    answer = httpx.get(f"http://127.0.0.1:{keyed.http_port}{path}", timeout=TIMEOUT_S)
    assert answer.status_code == 200, answer.text


def test_grpc_health_is_open_without_a_key(keyed: Collector) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{keyed.grpc_port}") as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT_S
        )
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize(
    "authorization, status",
    [
        (None, 401),
        ("Bearer nope", 401),
        ("Bearer k1", 200),
    ],
    ids=["no-key", "wrong-key", "key"],
)
def test_metrics_need_the_key(keyed: Collector, authorization: str | None, status: int) -> None:
    answer = httpx.get(
        f"http://127.0.0.1:{keyed.http_port}/metrics",
        headers=auth_headers(authorization),
        timeout=TIMEOUT_S,
    )
    assert answer.status_code == status
    assert ("spyglass_spans_stored_total" in answer.text) is (status == 200)


# --- TLS ------------------------------------------------------------------------------------


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 and localhost, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not on PATH (needed to make a test certificate)")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_collector(start_collector, tmp_path, certificate: tuple[Path, Path]) -> Collector:
    cert, key = certificate
    return start_collector(f"sqlite:///{tmp_path}/s.db", tls_cert=str(cert), tls_key=str(key))


def grpc_raw_over_tls(collector: Collector, cert: Path, name: str) -> None:
    credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    with grpc.secure_channel(f"127.0.0.1:{collector.grpc_port}", credentials) as channel:
        assert raw_grpc_export(channel, span_body(name)) == ExportTraceServiceResponse()


def https_with_httpx(collector: Collector, cert: Path, name: str) -> None:
    trusting = ssl.create_default_context(cafile=str(cert))
    answer = httpx.post(
        f"https://127.0.0.1:{collector.http_port}/v1/traces",
        content=span_body(name),
        headers={"Content-Type": PROTOBUF},
        verify=trusting,
        timeout=TIMEOUT_S,
    )
    assert answer.status_code == 200, answer.content


def grpc_exporter_over_tls(collector: Collector, cert: Path, name: str) -> None:
    assert (
        export_with(grpc_exporter(collector, root_cert=cert.read_bytes()), name)
        is SpanExportResult.SUCCESS
    )


def http_exporter_over_tls(collector: Collector, cert: Path, name: str) -> None:
    assert export_with(http_exporter(collector, cert_file=cert), name) is SpanExportResult.SUCCESS


@pytest.mark.parametrize(
    "export",
    [
        grpc_raw_over_tls,
        https_with_httpx,
        grpc_exporter_over_tls,
        http_exporter_over_tls,
    ],
    ids=lambda f: f.__name__,
)
def test_tls_clients_trusting_the_certificate_export(
    tls_collector: Collector,
    certificate: tuple[Path, Path],
    export: Callable[[Collector, Path, str], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # requests (under the HTTP exporter) lets these variables override the exporter's own
    # certificate_file (psf/requests#3829, #4650); some CI images set them
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
    export(tls_collector, certificate[0], "over-tls")
    assert stored_span_names(tls_collector) == {"over-tls"}


def test_tls_clients_not_trusting_the_certificate_are_refused(tls_collector: Collector) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.post(
            f"https://127.0.0.1:{tls_collector.http_port}/v1/traces",
            content=span_body("untrusted"),
            headers={"Content-Type": PROTOBUF},
            timeout=TIMEOUT_S,
        )  # verifies against the system's CAs only
    with (
        grpc.secure_channel(
            f"127.0.0.1:{tls_collector.grpc_port}", grpc.ssl_channel_credentials()
        ) as channel,
        pytest.raises(grpc.RpcError) as refused,
    ):
        raw_grpc_export(channel, span_body("untrusted"))
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    assert stored_span_names(tls_collector) == set()


def test_the_sdk_session_traces_and_searches_over_tls(
    tls_collector: Collector, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``spyglass.configure(tls_ca=...)``: the API calls and the span export both use TLS."""
    import spyglass
    from spyglass import session

    for variable in ("SPYGLASS_COLLECTOR_TLS", "SPYGLASS_COLLECTOR_CA"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("SPYGLASS_COLLECTOR_CA", str(certificate[0]))  # as the variable
    spyglass.configure(collector=f"127.0.0.1:{tls_collector.grpc_port}")
    try:

        @spyglass.trace(name="answer-over-tls")
        def answer(question: str) -> str:
            return question.upper()

        assert answer("hi") == "HI"
        spyglass.flush()
        found = spyglass.search_traces(return_type="list")
        assert [t.data.root_span.name for t in found] == ["answer-over-tls"]
    finally:
        session._shutdown()


def test_the_sdk_session_refuses_an_unreadable_ca_file(tmp_path: Path) -> None:
    import spyglass
    from spyglass.errors import ConfigurationError

    with pytest.raises(
        ConfigurationError,
        match=r"cannot read the collector's CA file .*"
        r"missing\.pem",
    ):
        spyglass.configure(collector="127.0.0.1:9", tls_ca=str(tmp_path / "missing.pem"))
