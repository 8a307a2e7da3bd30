"""The ingest pipeline both receivers share: decode → convert → queue → wait for COMMIT.

A receiver hands over the raw body and gets back the OTLP response to send, or a typed
error (:mod:`spyglass.errors`) that it maps to its protocol's status. Nothing is
acknowledged before the writer has committed the request's spans.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess, ExportTraceServiceResponse,
)

from spyglass.collector.decode import Rejection
from spyglass.collector.decoding import Decoder
from spyglass.collector.metrics import CollectorMetrics
from spyglass.collector.store.writer import Writer
from spyglass.errors import OverloadedError

log = logging.getLogger(__name__)

MAX_PROBLEMS_IN_MESSAGE = 5


@dataclass(frozen=True, slots=True)
class Body:
    """A request body as received, with what the receiver knows about it."""

    data: bytes
    json: bool = False
    experiment: str | None = None  # the x-spyglass-experiment header, if any


class IngestPipeline:
    """Decodes, converts and stores OTLP trace requests for one collector."""

    def __init__(self, decoder: Decoder, writer: Writer, metrics: CollectorMetrics,
                 max_inflight_bytes: int, retry_after: float) -> None:
        self.decoder = decoder
        self.writer = writer
        self.metrics = metrics
        self._max_inflight = max_inflight_bytes
        self._retry_after = retry_after
        self._inflight = 0  # bytes of request bodies being decoded or waiting for COMMIT

    async def export_traces(self, body: Body, protocol: str) -> ExportTraceServiceResponse:
        """Store the spans of one request; returns after they are committed.

        Admission is by bytes in flight: past ``max_inflight_bytes`` a request is refused
        at once (retry later) rather than queued, so memory stays bounded under overload.
        """
        size = len(body.data)
        if self._inflight and self._inflight + size > self._max_inflight:
            raise OverloadedError(
                f"{self._inflight} bytes of requests are in flight (limit "
                f"{self._max_inflight}); retry after {self._retry_after:g}s", self._retry_after)
        self._inflight += size
        try:
            return await self._export(body, protocol)
        finally:
            self._inflight -= size

    async def _export(self, body: Body, protocol: str) -> ExportTraceServiceResponse:
        result = await self.decoder.convert(body.data, body.json, body.experiment)
        rejections = result.rejections
        self.metrics.spans_received.labels(protocol).inc(len(result.records) + len(rejections))
        if rejections:
            self.metrics.spans_rejected.labels(protocol).inc(len(rejections))
        future = self.writer.submit(result.records)
        await asyncio.wrap_future(future)
        return _response(rejections, result.warnings)


def _response(rejections: list[Rejection], warnings: list[str]) -> ExportTraceServiceResponse:
    if not rejections and not warnings:
        return ExportTraceServiceResponse()
    problems = [f"{p.path}: {p.reason}" for p in rejections] + warnings
    shown = "; ".join(problems[:MAX_PROBLEMS_IN_MESSAGE])
    more = len(problems) - MAX_PROBLEMS_IN_MESSAGE
    head = (f"rejected {len(rejections)} span(s), the others were stored: " if rejections
            else "stored with warnings: ")
    message = head + shown + (f"; and {more} more" if more > 0 else "")
    log.info("partial success: %s", message)
    return ExportTraceServiceResponse(partial_success=ExportTracePartialSuccess(
        rejected_spans=len(rejections), error_message=message))
