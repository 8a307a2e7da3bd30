"""Where request bodies are decoded and converted: inline, or in worker processes.

Decoding protobuf and building rows is pure-Python CPU work. In one process it competes
for the GIL with the writer thread, so on a multi-core machine the collector hands it to
a pool of worker processes (``--decode-workers``) and the main process only moves bytes,
writes and acknowledges. With 0 workers (the embedded mode) it runs inline.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.ingest.logs import LogConverter, LogConvertResult
from spyglass.collector.ingest.parse import parse_json, parse_protobuf
from spyglass.collector.ingest.redaction import RedactionRules
from spyglass.collector.ingest.spans import ConvertResult, SpanConverter
from spyglass.errors import OverloadedError

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ConverterConfig:
    """What a worker process needs to build its own :class:`SpanConverter` (picklable)."""

    price_file: str | None = None
    redaction_file: str | None = None
    redact: tuple[str, ...] = ()
    max_attribute_bytes: int = 1 << 20

    def build(self) -> SpanConverter:
        return SpanConverter(
            PriceTable.load(self.price_file),
            RedactionRules.from_config(self.redaction_file, builtins=self.redact or None),
            self.max_attribute_bytes,
        )


def auto_workers() -> int:
    """One per core this process may use, max 4; none on a single core.

    Decoding a span costs more CPU than all the main process does with it (receive, write,
    acknowledge: ~35 against ~45 us per GenAI span), so one worker beside the main process
    on two cores is the bottleneck while the main process's core has time to spare; with a
    worker per core the OS shares every core between them. On one core a worker would only
    add the cost of passing spans between processes.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    return 0 if cores < 2 else min(4, cores)


_worker_converter: SpanConverter | None = None
_worker_log_converter: LogConverter | None = None


def _init_worker(config: ConverterConfig, parent_pid: int) -> None:
    global _worker_converter, _worker_log_converter
    _worker_converter = config.build()
    _worker_log_converter = log_converter(_worker_converter)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int) -> None:
    """End this worker once its collector is gone (even after a SIGKILL, which the
    executor cannot notice): otherwise orphans would wait on their queue forever."""
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(0)


def convert_body(
    converter: SpanConverter, data: bytes, is_json: bool, experiment: str | None
) -> ConvertResult:
    """Decode one OTLP trace request body and convert its spans (runs anywhere)."""
    parse = parse_json if is_json else parse_protobuf
    request, rejections = parse(data, ExportTraceServiceRequest)
    result = converter.convert(request.resource_spans, experiment, body_bytes=len(data))
    result.rejections[:0] = rejections
    return result


def convert_logs_body(converter: LogConverter, data: bytes, is_json: bool) -> LogConvertResult:
    """Decode one OTLP logs request body and convert its log records (runs anywhere)."""
    parse = parse_json if is_json else parse_protobuf
    request, rejections = parse(data, ExportLogsServiceRequest)
    result = converter.convert(request.resource_logs, body_bytes=len(data))
    result.rejections[:0] = rejections
    return result


def log_converter(spans: SpanConverter) -> LogConverter:
    """The log converter that goes with ``spans``: same redaction rules and size limit."""
    return LogConverter(spans.redaction, spans.max_attribute_bytes)


def _convert_in_worker(data: bytes, is_json: bool, experiment: str | None) -> ConvertResult:
    assert _worker_converter is not None, "worker started without its initializer"
    return convert_body(_worker_converter, data, is_json, experiment)


def _convert_logs_in_worker(data: bytes, is_json: bool) -> LogConvertResult:
    assert _worker_log_converter is not None, "worker started without its initializer"
    return convert_logs_body(_worker_log_converter, data, is_json)


class Decoder:
    """Converts request bodies inline (``workers=0``) or in a pool of worker processes."""

    def __init__(self, config: ConverterConfig, workers: int) -> None:
        self._config = config
        self._workers = workers
        self._inline = config.build()  # also validates the configuration up front
        self._inline_logs = log_converter(self._inline)
        self._pool = self._new_pool() if workers > 0 else None

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: forking a process that runs gRPC threads is unsafe
        return ProcessPoolExecutor(
            self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._config, os.getpid()),
        )

    async def convert(self, data: bytes, is_json: bool, experiment: str | None) -> ConvertResult:
        """Decode a trace request and convert its spans."""
        if self._pool is None:
            return convert_body(self._inline, data, is_json, experiment)
        return await self._in_worker(_convert_in_worker, data, is_json, experiment)

    async def convert_logs(self, data: bytes, is_json: bool) -> LogConvertResult:
        """Decode a logs request and convert its log records."""
        if self._pool is None:
            return convert_logs_body(self._inline_logs, data, is_json)
        return await self._in_worker(_convert_logs_in_worker, data, is_json)

    async def _in_worker(self, function: Callable[..., T], *args: Any) -> T:
        pool = self._pool
        assert pool is not None
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, function, *args)
        except BrokenProcessPool as exc:
            # a worker died (killed, out of memory): start a fresh pool for what follows;
            # the requests it held were not stored and are sent back to be retried
            if self._pool is pool:
                log.error("a decode worker died (%s); starting new workers", exc)
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            raise OverloadedError(
                "a decode worker stopped while handling this request; "
                "nothing was stored, send it again"
            ) from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
