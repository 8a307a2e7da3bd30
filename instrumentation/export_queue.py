"""A bounded, batching span processor that never lets export trouble reach the app.

Like the SDK's ``BatchSpanProcessor`` (finished spans wait in a queue; a background thread
exports them in batches), plus what an in-app SDK needs when the collector is away:

* memory is bounded: past ``max_queue_size`` waiting spans, new ones are dropped and counted;
* a failed export (after the exporter's own retries) drops its batch and pauses exporting
  for a while (doubling, up to a minute), so an outage costs one retry cycle, not one per
  batch; the next batch after the pause probes again;
* exactly one warning per outage-prone target, not one per batch: the OTLP exporters' own
  log lines are held back while this queue exports and the last one is quoted in ours;
* ``flush(timeout)`` honours its timeout, and ``shutdown()`` gives up once exporting stops
  making progress for ``stall_timeout`` seconds, so interpreter exit is never held long.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

logger = logging.getLogger("spyglass.instrumentation")

_EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
)
MAX_PAUSE_S = 60.0
FIRST_PAUSE_S = 5.0
MAX_SHUTDOWN_S = 15.0


@dataclass(frozen=True)
class ExportStats:
    """What happened to the spans handed to the queue, since the process started."""

    exported: int
    dropped_queue_full: int
    dropped_export_failed: int
    dropped_after_shutdown: int
    queued: int
    target: str

    @property
    def dropped(self) -> int:
        return self.dropped_queue_full + self.dropped_export_failed + self.dropped_after_shutdown


class _QuietExportLogs(logging.Filter):
    """Holds back the OTLP exporters' log records on threads that export for the queue,
    remembering the first message so the queue's one warning can quote it."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(self.local, "active", False):
            return True
        if getattr(self.local, "last", None) is None:  # the first says what went wrong
            try:
                self.local.last = record.getMessage()
            except Exception:  # a malformed record must not break logging
                self.local.last = str(record.msg)
        return False


_QUIET = _QuietExportLogs()
for _name in _EXPORTER_LOGGERS:
    logging.getLogger(_name).addFilter(_QUIET)


class _FlushMarker(threading.Event):
    """Put in the queue by ``flush``; set once everything before it was exported."""


class ExportQueue(SpanProcessor):
    """Queue finished spans and export them in the background (see the module docstring)."""

    def __init__(
        self,
        exporter: SpanExporter,
        target: str,
        max_queue_size: int,
        *,
        max_batch_size: int = 512,
        schedule_delay_s: float = 1.0,
        stall_timeout_s: float = 1.5,
        on_start: Callable[..., None] | None = None,
    ) -> None:
        self._exporter = exporter
        self._target = target
        self.max_queue_size = max_queue_size
        self._batch = max_batch_size
        self._delay = schedule_delay_s
        self._stall = stall_timeout_s
        if on_start is not None:
            self.on_start = on_start  # type: ignore[method-assign]
        self._exported = 0
        self._dropped_full = 0
        self._dropped_failed = 0
        self._dropped_closed = 0
        self._pause_s = 0.0
        self._paused_until = 0.0
        self._warned = False
        self._last_progress = time.monotonic()
        self._stopped = False
        self._counter_lock = threading.Lock()
        self._start_worker()
        if hasattr(os, "register_at_fork"):
            ref = weakref.WeakMethod(self._start_worker)
            os.register_at_fork(after_in_child=lambda: (m := ref()) and m())

    def _start_worker(self) -> None:
        """(Re)create the queue and its thread (also in a forked child, where threads die)."""
        self._queue: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._export_lock = threading.Lock()
        self._worker = threading.Thread(target=self._run, name="spyglass-span-export", daemon=True)
        self._worker.start()

    # -- the app's threads ---------------------------------------------------------------

    def on_end(self, span: ReadableSpan) -> None:
        if not span.context.trace_flags.sampled:
            return
        queue = self._queue
        if len(queue) >= self.max_queue_size or self._stopped:
            self._drop_on_end()
            return
        queue.append(span)
        if len(queue) >= self._batch and not self._wake.is_set():
            self._wake.set()

    def _drop_on_end(self) -> None:
        with self._counter_lock:
            if self._stopped:
                self._dropped_closed += 1
                return
            self._dropped_full += 1
        self._warn_once(
            f"the export queue is full ({self.max_queue_size} spans waiting; "
            "raise export_queue_size or SPYGLASS_EXPORT_QUEUE_SIZE)"
        )

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.flush(timeout_millis / 1000)

    def flush(self, timeout: float | None = None) -> bool:
        """Export everything queued so far; False if ``timeout`` seconds passed first."""
        if self._stopped:
            return not self._queue
        marker = _FlushMarker()
        self._queue.append(marker)
        self._wake.set()
        return marker.wait(timeout)

    def shutdown(self) -> None:
        """Export what is queued while that makes progress, then stop; reports drops."""
        if self._stopped:
            return
        marker = _FlushMarker()
        self._queue.append(marker)
        self._wake.set()
        start = time.monotonic()
        while not marker.wait(0.05):
            now = time.monotonic()
            if now - max(start, self._last_progress) > self._stall or now - start > MAX_SHUTDOWN_S:
                break
        with self._counter_lock:
            self._stopped = True
        self._wake.set()
        if not marker.is_set():  # stuck: cancel the export in progress (ends its retries)
            self._exporter_shutdown(self._exporter)
            self._dropped_failed += sum(
                1 for item in self._queue if not isinstance(item, _FlushMarker)
            )
            self._queue.clear()
            self._worker.join(0.5)
            self._warn_once(
                f"the collector did not take the last spans within {self._stall:g} s of exit"
            )
        else:
            self._worker.join(1.0)
            self._exporter_shutdown(self._exporter)
        stats = self.stats()
        if stats.dropped:
            logger.info(
                "Spyglass exported %d spans to %s and dropped %d (queue full: %d, "
                "export failed: %d, after shutdown: %d).",
                stats.exported,
                stats.target,
                stats.dropped,
                stats.dropped_queue_full,
                stats.dropped_export_failed,
                stats.dropped_after_shutdown,
            )

    def set_exporter(self, exporter: SpanExporter, target: str) -> None:
        """Send from now on through ``exporter`` (the old one is shut down)."""
        with self._export_lock:
            old, self._exporter, self._target = self._exporter, exporter, target
            self._paused_until, self._pause_s, self._warned = 0.0, 0.0, False
        self._exporter_shutdown(old)

    def stats(self) -> ExportStats:
        queued = sum(1 for item in list(self._queue) if not isinstance(item, _FlushMarker))
        return ExportStats(
            self._exported,
            self._dropped_full,
            self._dropped_failed,
            self._dropped_closed,
            queued,
            self._target,
        )

    # -- the export thread ---------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self._delay)
            self._wake.clear()
            self._drain()

    def _drain(self) -> None:
        """Export everything in the queue now, in batches; release flush markers in turn."""
        queue = self._queue
        batch: list[ReadableSpan] = []
        while True:
            try:
                item = queue.popleft()
            except IndexError:
                break
            if type(item) is _FlushMarker:
                if batch:
                    self._export(batch)
                    batch = []
                item.set()
                continue
            batch.append(item)
            if len(batch) >= self._batch:
                self._export(batch)
                batch = []
        if batch:
            self._export(batch)

    def _export(self, batch: list[ReadableSpan]) -> None:
        with self._export_lock:
            if self._stopped or time.monotonic() < self._paused_until:
                self._dropped_failed += len(batch)
                return
            ok, detail = self._call_exporter(batch)
            if ok:
                self._exported += len(batch)
                self._pause_s, self._paused_until = 0.0, 0.0
                self._last_progress = time.monotonic()
                return
            self._dropped_failed += len(batch)
            self._pause_s = min(MAX_PAUSE_S, self._pause_s * 2 or FIRST_PAUSE_S)
            self._paused_until = time.monotonic() + self._pause_s
        self._warn_once(
            f"exporting {len(batch)} spans failed ({detail}); spans are "
            f"dropped while it stays unreachable"
        )

    def _call_exporter(self, batch: list[ReadableSpan]) -> tuple[bool, str]:
        _QUIET.local.active, _QUIET.local.last = True, None
        try:
            result = self._exporter.export(batch)
        except Exception as exc:  # an exporter bug must not kill the export thread
            return False, f"{type(exc).__name__}: {exc}"
        finally:
            _QUIET.local.active = False
        return result is SpanExportResult.SUCCESS, _QUIET.local.last or "no detail given"

    def _warn_once(self, reason: str) -> None:
        with self._counter_lock:
            if self._warned:
                return
            self._warned = True
        logger.warning(
            "Spyglass could not export spans to %s: %s. The app is not affected; "
            "this warning is shown once; "
            "spyglass.instrumentation.tracing.stats() counts the dropped spans.",
            self._target,
            reason,
        )

    @staticmethod
    def _exporter_shutdown(exporter: SpanExporter) -> None:
        _QUIET.local.active = True
        try:
            exporter.shutdown()
        except Exception:  # shutting down is best effort
            pass
        finally:
            _QUIET.local.active = False
