"""Tracer setup, drop-in: the app's own OTel ``TracerProvider`` is kept when it has one.

On first use (:func:`get_tracer`), Spyglass either adds its export queue to the app's SDK
``TracerProvider`` (the app's own processors and exporters keep working), or creates a
provider (resource from ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES``, sampler from
``sampling_ratio`` or ``OTEL_TRACES_SAMPLER[_ARG]``) and makes it the global one. Spans go to
the collector :func:`spyglass.configure` selected; configuring again re-targets them.
Searching flushes first (a ``session.before_read`` hook), and interpreter exit flushes
without being held up for long when the collector is away.
"""

from __future__ import annotations

import atexit
import functools
import logging
import threading
from typing import Any

from opentelemetry import trace as otel_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from spyglass import __version__, session
from spyglass.config import TracingSettings
from spyglass.instrumentation.experiment import stamp_experiment
from spyglass.instrumentation.export_queue import ExportQueue, ExportStats
from spyglass.instrumentation.exporters import export_plan
from spyglass.instrumentation.sampling import SwitchableSampler, ratio_sampler

__all__ = [
    "ExportStats",
    "capture_content",
    "flush",
    "get_tracer",
    "install",
    "reset",
    "stats",
    "tracer_provider",
]

logger = logging.getLogger("spyglass.instrumentation")

TRACER_NAME = "spyglass"
READ_FLUSH_TIMEOUT_S = 30.0


class _Setup:
    """What :func:`get_tracer` built (one per process, replaced only by :func:`reset`)."""

    def __init__(
        self,
        tracer: Any,
        queue: ExportQueue,
        provider: TracerProvider,
        sampler: SwitchableSampler | None,
        env_rule: Any,
        custom: bool,
    ) -> None:
        self.tracer = tracer
        self.queue = queue
        self.provider = provider
        self.sampler = sampler  # None when the app's provider decides sampling
        self.env_rule = env_rule  # the sampler OTEL_TRACES_SAMPLER asks for
        self.custom = custom  # exporter given to install(): configure() does not re-target


_lock = threading.RLock()
_setup: _Setup | None = None
_capture = True
_own: tuple[TracerProvider, SwitchableSampler, Any] | None = None  # provider we created


def get_tracer() -> otel_trace.Tracer:
    """The tracer Spyglass's spans are made with (sets tracing up on first use)."""
    setup = _setup
    if setup is None:
        setup = _set_up()
    return setup.tracer


def tracer_provider() -> TracerProvider:
    """The provider Spyglass's spans are made on (sets tracing up on first use): other
    instrumentations given it export through Spyglass, stamped with the experiment."""
    setup = _setup
    if setup is None:
        setup = _set_up()
    return setup.provider


def capture_content() -> bool:
    """False when inputs, outputs, prompts and responses must not be recorded
    (``configure(capture_content=False)`` or ``SPYGLASS_CAPTURE_CONTENT=false``)."""
    if _setup is None:
        return session.tracing_settings().capture_content
    return _capture


def flush(timeout: float | None = None) -> bool:
    """Send every finished span now; False if ``timeout`` seconds passed first."""
    setup = _setup
    return True if setup is None else setup.queue.flush(timeout)


def stats() -> ExportStats | None:
    """Spans exported and dropped (queue full, failed exports) so far; None before setup."""
    setup = _setup
    return None if setup is None else setup.queue.stats()


def install(
    exporter: SpanExporter,
    provider: TracerProvider | None = None,
    *,
    settings: TracingSettings | None = None,
    label: str = "custom exporter",
    schedule_delay_s: float = 1.0,
) -> otel_trace.Tracer:
    """Trace to ``exporter`` instead of the configured collector (tests, benchmarks, custom
    pipelines), on ``provider`` if given (else as :func:`get_tracer` would choose)."""
    global _setup
    with _lock:
        reset()
        settings = settings or TracingSettings.load()
        _setup = _build(
            exporter, label, settings, provider, custom=True, schedule_delay_s=schedule_delay_s
        )
        return _setup.tracer


def reset() -> None:
    """Stop tracing to the current target (flushing first); the next use sets up anew."""
    global _setup
    with _lock:
        setup, _setup = _setup, None
    if setup is not None:
        setup.queue.shutdown()
        _remove_processor(setup.provider, setup.queue)


# --- setting up -----------------------------------------------------------------------------


def _set_up() -> _Setup:
    global _setup
    # Resolved before taking _lock: configure() holds the session's lock while it calls
    # _reconfigure (which takes _lock), so the two locks are always taken in that order.
    target = session.export_target()
    with _lock:
        if _setup is None:
            plan = export_plan(target)
            _setup = _build(
                plan.exporter(), plan.label, session.tracing_settings(), None, custom=False
            )
            session.before_read(_flush_before_read)
            session.on_configure(_reconfigure)
            _register_exit_flush()
        setup = _setup
    if not setup.custom and session.export_target() != target:
        _reconfigure()  # configure() ran on another thread meanwhile
    return setup


def _build(
    exporter: SpanExporter,
    label: str,
    settings: TracingSettings,
    provider: TracerProvider | None,
    custom: bool,
    schedule_delay_s: float = 1.0,
) -> _Setup:
    global _capture, _own
    queue = ExportQueue(
        exporter,
        label,
        settings.export_queue_size,
        schedule_delay_s=schedule_delay_s,
        on_start=stamp_experiment,
    )
    sampler = env_rule = None
    current = otel_trace.get_tracer_provider()
    if provider is None and _own is not None and current is _own[0]:
        provider, sampler, env_rule = _own  # set up before (then reset)
        sampler.rule = _rule(settings, env_rule)
    elif provider is None and isinstance(current, TracerProvider):
        provider = current  # drop-in: the app's provider, its sampler and processors stay
        if settings.sampling_ratio is not None:
            logger.warning(
                "Spyglass: the app's TracerProvider decides sampling; "
                "sampling_ratio=%s is not applied",
                settings.sampling_ratio,
            )
    elif provider is None:
        provider = TracerProvider(resource=Resource.create(), shutdown_on_exit=False)
        env_rule = provider.sampler  # from OTEL_TRACES_SAMPLER / _ARG (default: all)
        sampler = SwitchableSampler(_rule(settings, env_rule))
        provider.sampler = sampler
        if isinstance(current, otel_trace.ProxyTracerProvider):
            otel_trace.set_tracer_provider(provider)
            if otel_trace.get_tracer_provider() is provider:
                _own = (provider, sampler, env_rule)
    provider.add_span_processor(queue)
    _capture = settings.capture_content
    tracer = provider.get_tracer(TRACER_NAME, __version__)
    return _Setup(tracer, queue, provider, sampler, env_rule, custom)


def _rule(settings: TracingSettings, env_rule: Any) -> Any:
    if settings.sampling_ratio is not None:
        return ratio_sampler(settings.sampling_ratio)
    return env_rule


def _reconfigure() -> None:
    """``configure()`` ran again: send to the new collector, apply the new options."""
    global _capture
    with _lock:
        setup = _setup
        if setup is None:
            return
        settings = session.tracing_settings()
        _capture = settings.capture_content
        setup.queue.max_queue_size = settings.export_queue_size
        if setup.sampler is not None:
            setup.sampler.rule = _rule(settings, setup.env_rule)
        if not setup.custom:
            plan = export_plan(session.export_target())
            setup.queue.set_exporter(plan.exporter(), plan.label)


def _flush_before_read() -> None:
    flush(READ_FLUSH_TIMEOUT_S)


@functools.cache
def _register_exit_flush() -> None:
    atexit.register(_at_exit)


def _at_exit() -> None:
    setup = _setup
    if setup is not None:
        setup.queue.shutdown()


def _remove_processor(provider: Any, queue: ExportQueue) -> None:
    """Take ``queue`` out of ``provider`` (the SDK has no public way; best effort)."""
    multi = getattr(provider, "_active_span_processor", None)
    processors = getattr(multi, "_span_processors", None)
    if multi is not None and isinstance(processors, tuple) and queue in processors:
        with multi._lock:
            multi._span_processors = tuple(p for p in processors if p is not queue)
