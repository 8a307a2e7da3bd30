"""Trace retention: a background thread deleting traces older than their experiment allows.

An experiment's own ``retention_days`` wins; experiments without one use the collector's
``--retention-days`` (``SPYGLASS_RETENTION_DAYS``); with neither, traces are kept. A trace's
age is measured from its start time. Each pass deletes in batches of :data:`BATCH` traces per
transaction (rows, spans, tags, metadata and assessments together), so the span writer is
never locked out for long; a failed pass (the store is down, say) is logged and the next
one tries again: retention never stops the collector.

The thread always runs, even without a global setting, because per-experiment settings can
be changed through the API at any time; an idle pass costs one small query. Each pass also
deletes log records of spans received more than a day ago (:func:`log_events.purge_expired`):
what they gave their span stays in the span.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine

from spyglass.collector.store.traces import log_events
from spyglass.collector.store.traces.experiment_queries import (
    MAX_RETENTION_DAYS,
    retention_policies,
)
from spyglass.collector.store.traces.queries import delete_traces_before
from spyglass.errors import ConfigurationError

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 60.0
BATCH = 500
NS_PER_DAY = 86_400 * 1_000_000_000


def run_pass(
    engine: Engine,
    global_days: int | None,
    now_ns: int | None = None,
    batch: int = BATCH,
    stop: threading.Event | None = None,
) -> int:
    """Delete every trace past its retention once; returns how many were deleted."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    with engine.connect() as connection:
        policies = retention_policies(connection)
    deleted = 0
    for experiment_id, days in policies:
        days = days if days is not None else global_days
        if days is None:
            continue
        if stop is not None and stop.is_set():
            break
        deleted += delete_traces_before(
            engine,
            experiment_id,
            now_ns - days * NS_PER_DAY,
            batch=batch,
            should_stop=stop.is_set if stop else lambda: False,
        )
    return deleted


class RetentionTask:
    """Runs :func:`run_pass` at start and then every ``interval`` seconds in a daemon thread."""

    def __init__(
        self,
        engine: Engine,
        global_days: int | None,
        interval: float | None = None,
        batch: int = BATCH,
    ) -> None:
        if global_days is not None and not 1 <= global_days <= MAX_RETENTION_DAYS:
            raise ConfigurationError(
                f"--retention-days / SPYGLASS_RETENTION_DAYS must be "
                f"between 1 and {MAX_RETENTION_DAYS}, got {global_days}; "
                "leave it unset to keep traces forever"
            )
        self.engine = engine
        self.global_days = global_days
        self.interval = DEFAULT_INTERVAL_S if interval is None else interval
        self.batch = batch
        self.passes = 0  # completed passes, failed ones included (for tests and metrics)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spyglass-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop (between batches) and wait up to ``timeout`` seconds."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)

    def run_once(self) -> int:
        """One pass; errors are logged, never raised (the next pass tries again)."""
        deleted = expired = 0
        try:
            deleted = run_pass(self.engine, self.global_days, batch=self.batch, stop=self._stop)
            expired = log_events.purge_expired(self.engine)
        except Exception as exc:  # a store outage must not end retention or the collector
            log.warning(
                "trace retention pass failed, retrying in %.0fs: %s",
                self.interval,
                (str(exc).strip().splitlines() or [type(exc).__name__])[0],
            )
        else:
            if deleted:
                log.info("trace retention deleted %d trace(s) past their retention", deleted)
            if expired:
                log.debug("deleted %d log record(s) of spans received over a day ago", expired)
        self.passes += 1
        return deleted
