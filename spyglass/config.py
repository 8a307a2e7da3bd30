"""Settings: explicit arguments beat ``SPYGLASS_*`` environment variables beat the
configuration file (``spyglass.toml``, see :mod:`spyglass.settings_file`) beat defaults.

Each setting is declared once, with its environment variable and parser, so the CLI, the
embedded mode and the tests all resolve configuration the same way (the pattern
opentelemetry-python uses for ``OTEL_*`` variables).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from spyglass.errors import ConfigurationError
from spyglass.settings_file import file_values

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

MiB = 1024 * 1024


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _parse_list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _parse_sync(text: str) -> str:
    value = text.strip().lower()
    if value not in ("normal", "full"):
        raise ValueError(f"expected 'normal' or 'full', got {text!r}")
    return value


def _parse_positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(f"expected a positive number, got {text!r}")
    return value


def _setting(default: Any, env: str, parse: Callable[[str], Any] = str, help: str = "") -> Any:
    meta = {"env": env, "parse": parse, "help": help}
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class CollectorSettings:
    """Everything the collector process can be told; each field has a flag and an env var
    (and a key in the ``[collector]`` table of the config file)."""

    config_section: ClassVar[str] = "collector"

    store: str = _setting(
        "sqlite:///./spyglass.db",
        "SPYGLASS_STORE",
        help="database URL: sqlite:///path.db or postgresql+psycopg://…",
    )
    host: str = _setting("127.0.0.1", "SPYGLASS_HOST", help="address to bind both ports on")
    grpc_port: int = _setting(4317, "SPYGLASS_GRPC_PORT", int, "OTLP/gRPC + API port (0: any)")
    http_port: int = _setting(4318, "SPYGLASS_HTTP_PORT", int, "OTLP/HTTP port (0: any)")
    api_keys: tuple[str, ...] = _setting(
        (), "SPYGLASS_API_KEY", _parse_list, "accepted API keys, comma-separated (none: no auth)"
    )
    migrate: bool = _setting(
        True, "SPYGLASS_MIGRATE", parse_bool, "apply database migrations at start"
    )
    sync: str = _setting(
        "normal",
        "SPYGLASS_SYNC",
        _parse_sync,
        "SQLite durability: normal (survives a crash) or full (power loss)",
    )
    tls_cert: str | None = _setting(None, "SPYGLASS_TLS_CERT", help="PEM certificate file")
    tls_key: str | None = _setting(None, "SPYGLASS_TLS_KEY", help="PEM private key file")
    max_request_bytes: int = _setting(
        64 * MiB, "SPYGLASS_MAX_REQUEST_BYTES", int, "request size limit after decompression"
    )
    max_attribute_bytes: int = _setting(
        1 * MiB, "SPYGLASS_MAX_ATTRIBUTE_BYTES", int, "longer attribute values are truncated"
    )
    queue_max_spans: int = _setting(
        20_000,
        "SPYGLASS_QUEUE_MAX_SPANS",
        int,
        "spans waiting for commit before requests are refused",
    )
    max_inflight_bytes: int = _setting(
        128 * MiB,
        "SPYGLASS_MAX_INFLIGHT_BYTES",
        int,
        "request bytes being read, decoded or committed before new requests are refused",
    )
    http_read_timeout: float = _setting(
        30.0,
        "SPYGLASS_HTTP_READ_TIMEOUT",
        float,
        "seconds a client has to send a request's headers "
        "and body (HTTP) or open its connection (gRPC)",
    )
    max_connections: int = _setting(
        1024,
        "SPYGLASS_MAX_CONNECTIONS",
        lambda text: _parse_positive_int(text),
        "open OTLP/HTTP connections; more are closed at once",
    )
    batch_max_spans: int = _setting(
        10_000, "SPYGLASS_BATCH_MAX_SPANS", int, "most spans committed in one transaction"
    )
    decode_workers: int = _setting(
        -1,
        "SPYGLASS_DECODE_WORKERS",
        int,
        "processes decoding requests (0: inline; -1: one per core, max 4)",
    )
    retry_after: float = _setting(
        1.0, "SPYGLASS_RETRY_AFTER", float, "seconds a refused sender is told to wait"
    )
    query_timeout: float = _setting(
        30.0,
        "SPYGLASS_QUERY_TIMEOUT",
        _parse_positive_float,
        "seconds one database query of an API call (a search page) may run before it is stopped",
    )
    query_workers: int = _setting(
        4,
        "SPYGLASS_QUERY_WORKERS",
        int,
        "searches and other bulk API calls run at once, 1 to 8 "
        "(other API calls have threads of their own)",
    )
    price_file: str | None = _setting(
        None, "SPYGLASS_PRICE_FILE", help="JSON/TOML price table merged over the shipped one"
    )
    redaction_file: str | None = _setting(
        None, "SPYGLASS_REDACTION_FILE", help="JSON/TOML redaction rules"
    )
    redact: tuple[str, ...] = _setting(
        (), "SPYGLASS_REDACT", _parse_list, "extra built-in redaction patterns, e.g. email"
    )
    log_level: str = _setting("info", "SPYGLASS_LOG_LEVEL", help="debug, info, warning, error")
    ui: bool = _setting(
        True, "SPYGLASS_UI", parse_bool, "serve the web UI on the HTTP port (the JSON API stays)"
    )
    session_secret: str | None = _setting(
        None,
        "SPYGLASS_SESSION_SECRET",
        help="key signing the web UI's session cookies (unset: a random one per start, "
        "which signs everyone out at restart; set the same one on every replica)",
    )
    session_hours: float = _setting(
        12.0,
        "SPYGLASS_SESSION_HOURS",
        _parse_positive_float,
        "hours a web UI sign-in lasts (with API keys)",
    )
    retention_days: int | None = _setting(
        None,
        "SPYGLASS_RETENTION_DAYS",
        int,
        "delete traces older than N days (per-experiment settings win)",
    )

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> CollectorSettings:
        """Resolve every field: ``overrides`` (None means unset) > ``env`` > the config file
        ``env[SPYGLASS_CONFIG]`` names > default."""
        return load_settings(cls, env, overrides)


def _parse_ratio(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"expected a number from 0 to 1, got {text!r}")
    return value


def _parse_positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"expected a positive integer, got {text!r}")
    return value


@dataclass(frozen=True)
class EvaluatorSettings:
    """Everything ``spyglass evaluator serve`` can be told; each field has a flag and an env
    var (and a key in the ``[evaluator]`` table of the config file)."""

    config_section: ClassVar[str] = "evaluator"

    collector: str | None = _setting(
        None,
        "SPYGLASS_COLLECTOR",
        help="host:port of a collector's gRPC port (unset: the store in this folder, "
        "./spyglass.db or SPYGLASS_STORE, as the query commands use it)",
    )
    api_key: str | None = _setting(
        None,
        "SPYGLASS_API_KEY",
        lambda text: (_parse_list(text) or (None,))[0],
        "API key sent to the collector (the first of a comma-separated list)",
    )
    tls: bool = _setting(
        False, "SPYGLASS_COLLECTOR_TLS", parse_bool, "connect to the collector over TLS"
    )
    tls_ca: str | None = _setting(
        None,
        "SPYGLASS_COLLECTOR_CA",
        help="PEM file of the CA that signed the collector's certificate (implies TLS)",
    )
    concurrency: int = _setting(
        16,
        "SPYGLASS_EVALUATOR_CONCURRENCY",
        _parse_positive_int,
        "rows scored at once by this process",
    )
    scorers_modules: tuple[str, ...] = _setting(
        (),
        "SPYGLASS_SCORERS_MODULE",
        _parse_list,
        "modules whose scorers jobs may name, comma-separated (e.g. mypkg.scorers)",
    )
    host: str = _setting(
        "127.0.0.1",
        "SPYGLASS_EVALUATOR_HOST",
        help="address of the /healthz, /readyz and /metrics port",
    )
    http_port: int = _setting(
        4319, "SPYGLASS_EVALUATOR_HTTP_PORT", int, "port of /healthz, /readyz and /metrics (0: any)"
    )
    lease_seconds: float = _setting(
        30.0,
        "SPYGLASS_EVALUATOR_LEASE_SECONDS",
        float,
        "how long a claimed chunk stays this worker's without a "
        "renewal (renewed every third of it)",
    )
    poll_seconds: float = _setting(
        1.0, "SPYGLASS_EVALUATOR_POLL_SECONDS", float, "pause between claims when there is no work"
    )
    judge_rate_limit: float | None = _setting(
        None,
        "SPYGLASS_EVALUATOR_JUDGE_RATE_LIMIT",
        float,
        "judge requests per second per endpoint for the whole service, shared among the "
        "live workers (unset: no limit)",
    )
    code_scorer_time_limit: float = _setting(
        60.0,
        "SPYGLASS_EVALUATOR_CODE_SCORER_TIME_LIMIT",
        float,
        "seconds a code scorer may take on one row before that row gets an error (for "
        "scorers without their own time_limit)",
    )
    judge_time_limit: float = _setting(
        300.0,
        "SPYGLASS_EVALUATOR_JUDGE_TIME_LIMIT",
        float,
        "seconds an LLM judge (or another scorer that calls a model) may take on one row, "
        "retries included, before that row gets an error (for those without their own "
        "time_limit)",
    )
    shutdown_grace: float = _setting(
        20.0,
        "SPYGLASS_EVALUATOR_SHUTDOWN_GRACE",
        float,
        "seconds to finish rows in flight on SIGTERM before leases are given back",
    )
    log_level: str = _setting("info", "SPYGLASS_LOG_LEVEL", help="debug, info, warning, error")

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> EvaluatorSettings:
        """Resolve every field: ``overrides`` (None means unset) > ``env`` > the config file
        ``env[SPYGLASS_CONFIG]`` names > default."""
        return load_settings(cls, env, overrides)


@dataclass(frozen=True)
class TracingSettings:
    """How the in-app SDK traces: sampling, content capture and the export queue."""

    sampling_ratio: float | None = _setting(
        None,
        "SPYGLASS_SAMPLING_RATIO",
        _parse_ratio,
        "share of new traces recorded, 0 to 1 (unset: OTEL_TRACES_SAMPLER, else all)",
    )
    capture_content: bool = _setting(
        True,
        "SPYGLASS_CAPTURE_CONTENT",
        parse_bool,
        "record inputs, outputs, prompts and responses (false: only structure, timings "
        "and token counts)",
    )
    export_queue_size: int = _setting(
        20_000,
        "SPYGLASS_EXPORT_QUEUE_SIZE",
        _parse_positive_int,
        "finished spans waiting for export; more are dropped and counted",
    )

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> TracingSettings:
        """Resolve every field (``overrides`` > ``env`` > default); bad values raise
        :class:`ConfigurationError` naming the argument or variable."""
        for name, (expected, valid) in _TRACING_ARGUMENTS.items():
            value = overrides.get(name)
            if value is not None and (isinstance(value, bool) or not valid(value)):
                raise ConfigurationError(f"{name}={value!r} is not valid: pass {expected}")
        return load_settings(cls, env, overrides)


CONFIG_FILE_SETTINGS: tuple[type[CollectorSettings] | type[EvaluatorSettings], ...] = (
    CollectorSettings,
    EvaluatorSettings,
)
"""The settings classes with a table in the config file (their ``config_section``)."""

_TRACING_ARGUMENTS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "sampling_ratio": (
        "a number from 0 to 1",
        lambda v: isinstance(v, (int, float)) and 0 <= v <= 1,
    ),
    "export_queue_size": ("a positive integer", lambda v: isinstance(v, int) and v >= 1),
}


SettingsT = TypeVar("SettingsT", bound="DataclassInstance")


def load_settings(
    cls: type[SettingsT], env: Mapping[str, str] | None, overrides: Mapping[str, Any]
) -> SettingsT:
    """Build the settings dataclass ``cls`` from overrides, the environment, the config file
    (for classes with a ``config_section``; TracingSettings has none: the SDK runs inside
    applications, which are configured by their environment) and defaults."""
    env = os.environ if env is None else env
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(overrides) - names
    if unknown:
        raise ConfigurationError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(names)}")
    from_file = file_values(cls, env, {c.config_section: c for c in CONFIG_FILE_SETTINGS})
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if overrides.get(f.name) is not None:
            values[f.name] = overrides[f.name]
            continue
        raw = env.get(f.metadata["env"])
        if raw is None or raw == "":
            if f.name in from_file:
                values[f.name] = from_file[f.name]
            continue
        try:
            values[f.name] = f.metadata["parse"](raw)
        except ValueError as exc:
            raise ConfigurationError(
                f"{f.metadata['env']}={raw!r} is not valid: {exc}. "
                f"Set it to a valid value or unset it (default: {f.default!r})."
            ) from exc
    return cls(**values)
