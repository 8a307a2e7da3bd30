"""The process's connection to a collector, and its active experiment.

``configure(collector="host:port")`` talks to a running collector; with no address (and no
``SPYGLASS_COLLECTOR``) the embedded mode starts the real collector in this process, on
loopback ports the OS picks, over ``sqlite:///./spyglass.db`` (or ``SPYGLASS_STORE``). Any
API used before ``configure`` configures the defaults. Several processes may embed a
collector over the same SQLite file at once.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spyglass import semconv
from spyglass.client import SpyglassClient
from spyglass.config import TracingSettings, parse_bool
from spyglass.entities import Experiment
from spyglass.errors import AlreadyExistsError, ConfigurationError
from spyglass.extras import require_extra


@dataclass
class _State:
    client: SpyglassClient
    collector: Any = None  # the embedded spyglass.collector.server.Collector, if any
    experiment: Experiment | None = None
    api_key: str | None = None
    tracing: TracingSettings | None = None
    tls: CollectorTls | None = None


@dataclass(frozen=True)
class CollectorTls:
    """How to reach a collector that serves TLS (``--tls-cert``): trust the system's CAs,
    or the CA in the PEM file ``ca_file``."""

    ca_file: str | None = None

    def root_certificates(self) -> bytes | None:
        if self.ca_file is None:
            return None
        try:
            with open(self.ca_file, "rb") as f:
                return f.read()
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read the collector's CA file {self.ca_file} "
                f"(--tls-ca, tls_ca= or SPYGLASS_COLLECTOR_CA): {exc.strerror}"
            ) from exc


@dataclass(frozen=True)
class ExportTarget:
    """Where the in-app SDK sends spans: the configured collector's OTLP ports."""

    grpc_address: str  # host:port of the OTLP/gRPC (and API) port
    http_address: str | None  # host:port of the OTLP/HTTP port, when known (embedded mode)
    api_key: str | None
    tls: CollectorTls | None = None  # None: plaintext


_lock = threading.RLock()
_state: _State | None = None
_before_read: list[Callable[[], None]] = []
_on_configure: list[Callable[[], None]] = []


def configure(
    collector: str | None = None,
    experiment: str | None = None,
    api_key: str | None = None,
    store: str | None = None,
    *,
    sampling_ratio: float | None = None,
    capture_content: bool | None = None,
    export_queue_size: int | None = None,
    tls: bool | None = None,
    tls_ca: str | None = None,
) -> None:
    """Choose the collector this process talks to (None: embedded) and, optionally, the
    active experiment by name. Calling it again replaces the previous configuration.

    ``collector`` is ``host:port`` of its gRPC port; ``http://`` in front is dropped and
    ``https://`` means TLS (see :func:`collector_address`).

    A remote collector that serves TLS needs ``tls=True`` (``SPYGLASS_COLLECTOR_TLS``) or
    ``tls_ca=`` the PEM file of the CA that signed its certificate
    (``SPYGLASS_COLLECTOR_CA``); both the API calls and the SDK's span export use it.

    Tracing options (None: ``SPYGLASS_*`` variable, else default): ``sampling_ratio``
    (0 to 1, share of new traces recorded), ``capture_content`` (False: no inputs, outputs,
    prompts or responses recorded) and ``export_queue_size`` (spans waiting for export).
    """
    global _state
    tracing = TracingSettings.load(
        sampling_ratio=sampling_ratio,
        capture_content=capture_content,
        export_queue_size=export_queue_size,
    )
    with _lock:
        _shutdown()
        address = collector or os.environ.get("SPYGLASS_COLLECTOR") or None
        api_key = api_key or _first_key(os.environ.get("SPYGLASS_API_KEY"))
        embedded, secure = None, None
        if address is None:
            embedded = _start_embedded(store, api_key)
            address = f"127.0.0.1:{embedded.grpc_port}"
        else:
            address, https = collector_address(address)
            secure = _collector_tls(True if https else tls, tls_ca)
        client = SpyglassClient(
            address,
            api_key,
            tls=secure is not None,
            root_certificates=secure.root_certificates() if secure else None,
        )
        _state = _State(client, embedded, api_key=api_key, tracing=tracing, tls=secure)
        for hook in list(_on_configure):
            hook()
    if experiment:
        set_experiment(experiment)


def client() -> SpyglassClient:
    """The configured client (configuring the defaults on first use)."""
    if _state is None:
        with _lock:
            if _state is None:
                configure()
    assert _state is not None
    return _state.client


def embedded_collector() -> Any:
    """The collector this process runs itself (None when talking to a remote one)."""
    client()
    return _state.collector if _state else None


def before_read(hook: Callable[[], None]) -> None:
    """Register ``hook`` to run before every read (the SDK flushes pending spans there)."""
    if hook not in _before_read:
        _before_read.append(hook)


def run_before_read() -> None:
    for hook in list(_before_read):
        hook()


def on_configure(hook: Callable[[], None]) -> None:
    """Register ``hook`` to run after every :func:`configure` (the SDK re-targets export)."""
    if hook not in _on_configure:
        _on_configure.append(hook)


def export_target() -> ExportTarget:
    """The configured collector's OTLP addresses and API key (configuring on first use)."""
    c = client()
    state = _state
    assert state is not None
    http = state.collector.http_port if state.collector is not None else None
    return ExportTarget(c.address, f"127.0.0.1:{http}" if http else None, state.api_key, state.tls)


def tracing_settings() -> TracingSettings:
    """The tracing options given to :func:`configure`, else from the environment."""
    state = _state
    if state is not None and state.tracing is not None:
        return state.tracing
    return TracingSettings.load()


def current_experiment_id() -> str | None:
    """The id of the experiment :func:`set_experiment` chose, None when none was (never
    configures: the SDK calls this for every span)."""
    state = _state
    experiment = state.experiment if state is not None else None
    return experiment.experiment_id if experiment is not None else None


def set_experiment(name: str) -> Experiment:
    """Get or create the experiment called ``name`` and make it the active one."""
    c = client()
    experiment = c.get_experiment_by_name(name)
    if experiment is None:
        try:
            experiment = c.create_experiment(name)
        except AlreadyExistsError:  # another process created it just now
            experiment = c.get_experiment_by_name(name)
    assert experiment is not None and _state is not None
    _state.experiment = experiment
    return experiment


def active_experiment_id() -> str:
    """The active experiment's id (the default experiment's when none was set)."""
    client()
    if _state is not None and _state.experiment is not None:
        return _state.experiment.experiment_id
    return semconv.DEFAULT_EXPERIMENT_ID


def get_experiment_by_name(name: str) -> Experiment | None:
    return client().get_experiment_by_name(name)


def search_experiments(
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: list[str] | None = None,
) -> list[Experiment]:
    return client().search_experiments(filter_string, max_results, order_by)


_GRPC_TARGET_SCHEMES = ("dns:", "unix:", "unix-abstract:", "ipv4:", "ipv6:")


def collector_address(text: str) -> tuple[str, bool]:
    """The gRPC target of a collector address as users write it, and whether it asked for
    TLS: ``host:port`` as is; ``http://host:port`` without the scheme; ``https://host:port``
    without it, with TLS; gRPC's own target forms (``dns:///host:port``, ``unix:path``)
    untouched. Anything else (another scheme, a path, no port) is a ConfigurationError
    asking for host:port."""
    given = text.strip()
    if given.startswith(_GRPC_TARGET_SCHEMES):
        return given, False
    scheme, sep, rest = given.partition("://")
    if not sep:
        scheme, rest = "", given
    host, colon, port = rest.rstrip("/").rpartition(":")
    problem = None
    if scheme not in ("", "http", "https"):
        problem = f"the scheme {scheme}:// is not one a collector speaks"
    elif "/" in rest.rstrip("/"):
        problem = "it has a path"
    elif not colon or not host or not port.isdigit():
        problem = "it has no port"
    if problem:
        raise ConfigurationError(
            f"collector address {text!r} (--collector, collector= or SPYGLASS_COLLECTOR) is "
            f"not usable: {problem}. Give host:port of the collector's gRPC port, e.g. "
            "127.0.0.1:4317 (https://host:port for TLS)"
        )
    return f"{host}:{port}", scheme == "https"


def _collector_tls(tls: bool | None, tls_ca: str | None) -> CollectorTls | None:
    """TLS settings for a remote collector: arguments, else SPYGLASS_COLLECTOR_TLS /
    SPYGLASS_COLLECTOR_CA; None for plaintext."""
    ca_file = tls_ca or os.environ.get("SPYGLASS_COLLECTOR_CA") or None
    if tls is None:
        text = os.environ.get("SPYGLASS_COLLECTOR_TLS", "")
        try:
            tls = parse_bool(text)
        except ValueError as exc:
            raise ConfigurationError(
                f"SPYGLASS_COLLECTOR_TLS={text!r} is not valid: {exc}"
            ) from None
    return CollectorTls(ca_file) if tls or ca_file else None


def _first_key(keys: str | None) -> str | None:
    if not keys:
        return None
    return next((k.strip() for k in keys.split(",") if k.strip()), None)


def _start_embedded(store: str | None, api_key: str | None) -> Any:
    require_extra(
        "collector",
        "the embedded collector (configure() with no collector address and no SPYGLASS_COLLECTOR)",
    )
    from spyglass.collector.server import Collector
    from spyglass.config import CollectorSettings

    settings = CollectorSettings.load(
        store=store, host="127.0.0.1", grpc_port=0, http_port=0, decode_workers=0
    )
    collector = Collector(settings).start_background()
    atexit.register(_shutdown)
    return collector


def _shutdown() -> None:
    """Close the client and stop the embedded collector (runs at interpreter exit too)."""
    global _state
    with _lock:
        state, _state = _state, None
    if state is None:
        return
    run_before_read()  # pending spans reach the collector before it stops
    state.client.close()
    if state.collector is not None:
        state.collector.stop_background()
