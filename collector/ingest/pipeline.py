"""The ingest pipeline both receivers share: decode → convert → queue → wait for COMMIT.

A receiver hands over the raw body of a trace or logs request and gets back the OTLP
response to send, or a typed error (:mod:`spyglass.errors`) that it maps to its protocol's
status. Nothing is acknowledged before the writer has committed the request's spans or log
records.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)

from spyglass.collector.ingest.decode_pool import Decoder
from spyglass.collector.ingest.parse import Rejection
from spyglass.collector.metrics import CollectorMetrics
from spyglass.collector.store.traces.writer import Refused, Writer
from spyglass.errors import OverloadedError

log = logging.getLogger(__name__)

R = TypeVar("R")

MAX_PROBLEMS_IN_MESSAGE = 5
MAX_UNPRICED_MODELS_LOGGED = 1000


@dataclass(frozen=True, slots=True)
class Body:
    """A request body as received, with what the receiver knows about it."""

    data: bytes
    json: bool = False
    experiment: str | None = None  # the x-spyglass-experiment header, if any


class InflightBudget:
    """Bytes of request bodies being read, decoded or waiting for COMMIT, with a limit.

    Receivers take a :class:`Reservation` before reading a body and grow it as bytes
    arrive, so bodies that are sent slowly or never finished count from their first byte:
    memory stays bounded by the limit, whatever the senders do.
    """

    def __init__(self, limit: int, retry_after: float) -> None:
        self.limit = limit
        self.retry_after = retry_after
        self.used = 0

    def reservation(self) -> Reservation:
        """An empty reservation; grow it with :meth:`Reservation.grow_to`."""
        return Reservation(self)


class Reservation:
    """One request's share of an :class:`InflightBudget`; released on leaving ``with``
    (or by :meth:`release`, which may be called more than once)."""

    def __init__(self, budget: InflightBudget) -> None:
        self._budget = budget
        self.size = 0

    def grow_to(self, size: int) -> None:
        """Hold ``size`` bytes in total, or raise :class:`OverloadedError` (retry later).

        A request alone in flight is admitted whatever its size (``max_request_bytes``
        bounds it), so one large request never waits for itself.
        """
        budget = self._budget
        if size <= self.size:
            return
        others = budget.used - self.size
        if others and others + size > budget.limit:
            raise OverloadedError(
                f"{others} bytes of requests are in flight (limit {budget.limit}, set by "
                f"--max-inflight-bytes); retry after {budget.retry_after:g}s",
                budget.retry_after,
            )
        budget.used += size - self.size
        self.size = size

    def release(self) -> None:
        self._budget.used -= self.size
        self.size = 0

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class IngestPipeline:
    """Decodes, converts and stores OTLP trace and logs requests for one collector."""

    def __init__(
        self,
        decoder: Decoder,
        writer: Writer,
        metrics: CollectorMetrics,
        max_inflight_bytes: int,
        retry_after: float,
    ) -> None:
        self.decoder = decoder
        self.writer = writer
        self.metrics = metrics
        self.inflight = InflightBudget(max_inflight_bytes, retry_after)
        self._unpriced_seen: set[str] = set()  # models already logged as having no price

    async def export_traces(
        self,
        body: Body,
        protocol: str,
        reservation: Reservation | None = None,
    ) -> ExportTraceServiceResponse:
        """Store the spans of one request; returns after they are committed.

        Admission is by bytes in flight: past ``max_inflight_bytes`` a request is refused
        at once (retry later) rather than queued, so memory stays bounded under overload.
        A receiver that reserved bytes while reading the body passes its ``reservation``,
        which is grown to the decoded body's size and released when the answer is ready.
        """
        return await self._admitted(body, reservation, lambda: self._export(body, protocol))

    async def export_logs(
        self,
        body: Body,
        protocol: str,
        reservation: Reservation | None = None,
    ) -> ExportLogsServiceResponse:
        """Store the log records of one request that belong to a span; returns after they
        are committed. Admission as for traces (the same bytes-in-flight budget)."""
        return await self._admitted(body, reservation, lambda: self._export_logs(body, protocol))

    async def _admitted(
        self, body: Body, reservation: Reservation | None, export: Callable[[], Awaitable[R]]
    ) -> R:
        with reservation or self.inflight.reservation() as held:
            held.grow_to(len(body.data))
            return await export()

    async def _export(self, body: Body, protocol: str) -> ExportTraceServiceResponse:
        result = await self.decoder.convert(body.data, body.json, body.experiment)
        rejections = result.rejections
        self.metrics.spans_received.labels(protocol).inc(len(result.records) + len(rejections))
        if rejections:
            self.metrics.spans_rejected.labels(protocol).inc(len(rejections))
        if result.unpriced_models:
            self._count_unpriced(result.unpriced_models)
        refused = await asyncio.wrap_future(self.writer.submit(result.records))
        if refused:
            self.metrics.spans_rejected.labels(protocol).inc(len(refused))
            rejections = rejections + _store_refusals(refused)
        message = _message(rejections, result.warnings, "span(s)")
        if message is None:
            return ExportTraceServiceResponse()
        log.info("partial success: %s", message)
        return ExportTraceServiceResponse(
            partial_success=ExportTracePartialSuccess(
                rejected_spans=len(rejections), error_message=message
            )
        )

    def _count_unpriced(self, models: list[str]) -> None:
        """Count LLM spans stored without a cost; log each model the first time (the set of
        names logged is bounded: a span can carry any string)."""
        self.metrics.cost_unknown_model.inc(len(models))
        seen = self._unpriced_seen
        for model in models:
            if model not in seen and len(seen) < MAX_UNPRICED_MODELS_LOGGED:
                seen.add(model)
                log.warning(
                    "no price is known for model %r: its spans are stored without a cost "
                    "(add it with --price-file; counted in spyglass_cost_unknown_model_total)",
                    model,
                )

    async def _export_logs(self, body: Body, protocol: str) -> ExportLogsServiceResponse:
        result = await self.decoder.convert_logs(body.data, body.json)
        self.metrics.log_records_received.labels(protocol).inc(len(result.rows) + result.refused)
        if result.rejections:
            self.metrics.log_records_rejected.labels(protocol, "invalid").inc(
                len(result.rejections)
            )
        if result.without_span:
            self.metrics.log_records_rejected.labels(protocol, "no_span").inc(
                len(result.without_span)
            )
        refused = await asyncio.wrap_future(self.writer.submit_logs(result.rows))
        rejections = result.rejections
        if refused:
            self.metrics.log_records_rejected.labels(protocol, "invalid").inc(len(refused))
            rejections = rejections + _store_refusals(refused)
        warnings = result.warnings
        if result.without_span:
            warnings = [_without_span(result.without_span), *warnings]
        refused_count = result.refused + len(refused)
        message = _message(rejections, warnings, "log record(s)", refused_count)
        if message is None:
            return ExportLogsServiceResponse()
        # debug: apps that send all their logs would otherwise fill the collector's log
        log.debug("partial success: %s", message)
        return ExportLogsServiceResponse(
            partial_success=ExportLogsPartialSuccess(
                rejected_log_records=refused_count, error_message=message
            )
        )


def _store_refusals(refused: list[Refused]) -> list[Rejection]:
    """Items the database refused, as rejections of their request."""
    return [
        Rejection(
            item,
            f"the store refused it ({reason}); the value it names cannot be "
            "stored, fix it at the source",
        )
        for item, reason in refused
    ]


def _without_span(paths: list[str]) -> str:
    return (
        f"{len(paths)} log record(s) without a trace and span id were dropped (first: "
        f"{paths[0]}); Spyglass keeps the log records of spans (GenAI events become the "
        "span's inputs and outputs, other records its events), so emit them inside a span"
    )


def _message(
    rejections: list[Rejection], warnings: list[str], items: str, refused: int | None = None
) -> str | None:
    """The ``partial_success`` message, or None when everything was stored as sent."""
    if not rejections and not warnings:
        return None
    refused = len(rejections) if refused is None else refused
    problems = [f"{p.path}: {p.reason}" for p in rejections] + warnings
    shown = "; ".join(problems[:MAX_PROBLEMS_IN_MESSAGE])
    more = len(problems) - MAX_PROBLEMS_IN_MESSAGE
    head = (
        f"rejected {refused} {items}, the others were stored: "
        if refused
        else "stored with warnings: "
    )
    return head + shown + (f"; and {more} more" if more > 0 else "")
