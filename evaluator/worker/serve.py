"""``spyglass evaluator serve``: one worker process, wired and shut down gracefully.

Start: check the settings, import the ``--scorers-module`` registry (an import error stops
the start with a clear message), connect to the collector, point the in-process SDK at the
same collector (judges trace their own model calls), serve ``/healthz``, ``/readyz`` and
``/metrics``, send the first heartbeat, and run the worker loop in a thread.

SIGTERM or SIGINT: ``/readyz`` turns 503, no more claims and no more rows are started; rows
in flight get ``shutdown_grace`` seconds to finish and be sent (a chunk finished in that
time is released as done); then whatever lease is still held is given back (no error: not a
failed attempt), a last heartbeat says ``stopping``, and the process exits 0.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from spyglass import session
from spyglass.client import SpyglassClient
from spyglass.config import EvaluatorSettings
from spyglass.errors import ConfigurationError, SpyglassError
from spyglass.evaluator.jobs import refs
from spyglass.evaluator.worker.connection import Connection, Readiness
from spyglass.evaluator.worker.heartbeat import Heartbeat, new_worker_id
from spyglass.evaluator.worker.http import HealthServer, health_app
from spyglass.evaluator.worker.loop import Worker, WorkerOptions
from spyglass.evaluator.worker.metrics import WorkerMetrics

logger = logging.getLogger("spyglass.evaluator.worker")

MAX_LEASE_SECONDS = 3600.0


def serve(
    settings: EvaluatorSettings,
    stop: threading.Event | None = None,
    on_started: Callable[[HealthServer], None] | None = None,
) -> bool:
    """Run one worker until SIGTERM/SIGINT (or until ``stop`` is set). Returns True when it
    stopped cleanly, False when rows were still running after the grace period (their
    threads may still be alive: the caller should exit the process)."""
    check_settings(settings)
    registry = refs.load_modules(settings.scorers_modules)
    client = _configure_sdk(settings)
    stop = stop or threading.Event()
    readiness = Readiness()
    connection = Connection(client, WorkerMetrics(), readiness)
    worker_id = new_worker_id()
    worker = Worker(
        connection,
        worker_id,
        registry,
        WorkerOptions(
            concurrency=settings.concurrency,
            lease_seconds=settings.lease_seconds,
            poll_seconds=settings.poll_seconds,
            code_scorer_time_limit=settings.code_scorer_time_limit,
            judge_time_limit=settings.judge_time_limit,
        ),
    )
    loop = threading.Thread(target=worker.run, name="spyglass-evaluator-worker", daemon=True)
    http = HealthServer(
        health_app(readiness, connection.metrics, loop.is_alive), settings.host, settings.http_port
    ).start()
    restore = _on_signals(stop)
    try:
        logger.info(
            "evaluator worker %s: collector %s, %d row(s) at once, scorers "
            "registered: %s; /healthz, /readyz, /metrics on http://%s:%d",
            worker_id,
            client.address,
            settings.concurrency,
            ", ".join(sorted(registry)) or "none",
            settings.host,
            http.port,
        )
        heartbeat = Heartbeat(
            connection, worker_id, settings.concurrency, list(registry), settings.judge_rate_limit
        ).start()
        loop.start()
        if on_started is not None:
            on_started(http)
        while not stop.wait(0.2) and loop.is_alive():
            pass
        died = not loop.is_alive()
        clean = _shut_down(worker, loop, readiness, heartbeat, settings.shutdown_grace)
    finally:
        restore()
        session.run_before_read()  # judge traces reach the collector before we go
        http.stop()
    if died:
        raise SpyglassError(
            "the evaluator worker loop stopped unexpectedly; see the log above for why"
        )
    return clean


def _shut_down(
    worker: Worker, loop: threading.Thread, readiness: Readiness, heartbeat: Heartbeat, grace: float
) -> bool:
    """Stop claiming, let rows in flight finish within ``grace``, give back what is held."""
    logger.info("shutting down: no more claims; rows in flight have %.0f s to finish", grace)
    started = time.monotonic()
    readiness.stopping()
    worker.stop()
    loop.join(grace)
    clean = not loop.is_alive()
    if not clean:
        logger.warning("rows still running after %.0f s: giving their chunk back", grace)
        worker.give_back_held()
    heartbeat.stop()
    logger.info("stopped in %.1f s", time.monotonic() - started)
    return clean


def check_settings(settings: EvaluatorSettings) -> None:
    """ConfigurationError naming the flag, for values the worker cannot work with."""
    problems = []
    if settings.concurrency < 1:
        problems.append(f"--concurrency must be at least 1, got {settings.concurrency}")
    if not 0 < settings.lease_seconds <= MAX_LEASE_SECONDS:
        problems.append(
            f"--lease-seconds must be more than 0 and at most "
            f"{MAX_LEASE_SECONDS:.0f}, got {settings.lease_seconds}"
        )
    if not settings.poll_seconds > 0:
        problems.append(f"--poll-seconds must be more than 0, got {settings.poll_seconds}")
    if not settings.shutdown_grace >= 0:
        problems.append(f"--shutdown-grace must be 0 or more, got {settings.shutdown_grace}")
    for flag, seconds in (
        ("--code-scorer-time-limit", settings.code_scorer_time_limit),
        ("--judge-time-limit", settings.judge_time_limit),
    ):
        if not (math.isfinite(seconds) and seconds > 0):
            problems.append(
                f"{flag} must be a number of seconds more than 0 (how long one "
                f"scorer call may take on one row), got {seconds}"
            )
    if settings.judge_rate_limit is not None and not settings.judge_rate_limit > 0:
        problems.append(
            f"--judge-rate-limit must be more than 0 requests per second, got "
            f"{settings.judge_rate_limit}"
        )
    if not 0 <= settings.http_port <= 65535:
        problems.append(
            f"--http-port must be a port number (0 picks a free one), got {settings.http_port}"
        )
    if problems:
        raise ConfigurationError("; ".join(problems))


def _configure_sdk(settings: EvaluatorSettings) -> SpyglassClient:
    """Point this process's session at the collector and return its client, so the worker's
    calls and the SDK that traces judge calls share one configuration (address, API key,
    TLS) and one API connection. The session closes it at exit."""
    session.configure(
        collector=settings.collector,
        api_key=settings.api_key,
        tls=settings.tls,
        tls_ca=settings.tls_ca,
    )
    return session.client()


def _on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGTERM and SIGINT set ``stop`` (main thread only); returns what undoes that."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, lambda _sig, _frame: stop.set())

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
