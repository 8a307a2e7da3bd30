"""The OTLP exporter that carries the app's spans to the configured collector.

By default spans go to the collector :func:`spyglass.configure` selected (the embedded one's
loopback port, or the remote address with the API key as a bearer token). The standard
``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`` / ``_HEADERS`` / ``_PROTOCOL`` variables win when
set, as they do for every OTel SDK, so an app already pointed at an OTel Collector gateway
keeps sending there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.util.re import parse_env_headers

from spyglass.errors import ConfigurationError
from spyglass.session import CollectorTls, ExportTarget

PROTOCOLS = ("grpc", "http/protobuf")
DEFAULT_HTTP_PORT = 4318


@dataclass(frozen=True)
class ExportPlan:
    """Which OTLP exporter to make: protocol, endpoint and headers (None: the exporter reads
    the ``OTEL_EXPORTER_OTLP_*`` variables itself), and a label for messages."""

    protocol: str
    endpoint: str | None
    headers: dict[str, str] | None
    label: str
    tls: CollectorTls | None = None

    def exporter(self) -> SpanExporter:
        if self.protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter,
            )

            if self.endpoint is None:
                return OTLPSpanExporter()
            return OTLPSpanExporter(
                endpoint=self.endpoint,
                insecure=self.tls is None,
                credentials=self._grpc_credentials(),
                headers=self.headers or None,
            )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpSpanExporter,
        )

        if self.endpoint is None:
            return HttpSpanExporter()
        return HttpSpanExporter(
            endpoint=self.endpoint,
            headers=self.headers or None,
            certificate_file=self.tls.ca_file if self.tls else None,
        )

    def _grpc_credentials(self) -> Any:
        if self.tls is None:
            return None
        import grpc

        return grpc.ssl_channel_credentials(root_certificates=self.tls.root_certificates())


def export_plan(target: ExportTarget, env: Mapping[str, str] | None = None) -> ExportPlan:
    """How to reach ``target``, unless ``OTEL_EXPORTER_OTLP_*`` say otherwise."""
    env = os.environ if env is None else env
    protocol = _first(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
    protocol = (protocol or "grpc").strip().lower()
    if protocol not in PROTOCOLS:
        raise ConfigurationError(
            f"OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL={protocol!r} is not supported by the "
            f"Spyglass SDK; use one of {', '.join(PROTOCOLS)} or unset it (default grpc)"
        )
    endpoint = _first(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    if endpoint:  # the OTLP exporters read the OTEL_* variables themselves
        return ExportPlan(protocol, None, None, f"{endpoint} ({protocol})")
    headers = _headers(env, target.api_key)
    secure = " over TLS" if target.tls else ""
    if protocol == "grpc":
        return ExportPlan(
            protocol,
            target.grpc_address,
            headers,
            f"{target.grpc_address} (OTLP/gRPC{secure})",
            target.tls,
        )
    host = target.grpc_address.rsplit(":", 1)[0]
    scheme = "https" if target.tls else "http"
    url = f"{scheme}://{target.http_address or f'{host}:{DEFAULT_HTTP_PORT}'}/v1/traces"
    return ExportPlan(protocol, url, headers, f"{url} (OTLP/HTTP)", target.tls)


def _headers(env: Mapping[str, str], api_key: str | None) -> dict[str, str]:
    """Headers from ``OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`` plus the API key (unless the
    variables already set ``authorization``)."""
    raw = _first(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")
    headers = dict(parse_env_headers(raw, liberal=True)) if raw else {}
    if api_key and "authorization" not in headers:
        headers["authorization"] = f"Bearer {api_key}"
    return headers


def _first(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name)
        if value and value.strip():
            return value.strip()
    return None
