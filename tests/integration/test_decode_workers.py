"""Decode worker processes: spans decoded in workers are stored like inline ones, and a
worker that dies costs only the requests it held (refused as retryable), not the collector."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from otlp_builders import make_request, make_span, new_trace_id

from spyglass.collector.ingest.decode_pool import ConverterConfig, Decoder
from spyglass.errors import OverloadedError


def _body(n: int = 3) -> bytes:
    trace = new_trace_id()
    return make_request([make_span(f"s{i}", trace) for i in range(n)]).SerializeToString()


def _worker_pids() -> list[int]:
    children = f"/proc/{os.getpid()}/task/{os.getpid()}/children"
    return [int(p) for p in open(children).read().split()]


@pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/task"), reason="needs Linux /proc")
@pytest.mark.filterwarnings("ignore:resource_tracker:UserWarning")
def test_a_killed_worker_is_replaced_and_its_request_is_retryable() -> None:
    decoder = Decoder(ConverterConfig(), workers=1)

    async def scenario() -> None:
        result = await decoder.convert(_body(), False, None)
        assert len(result.records) == 3
        before = set(_worker_pids())
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        refused = False
        while time.monotonic() < deadline:
            try:
                result = await decoder.convert(_body(4), False, None)
            except OverloadedError as exc:
                refused = True
                assert "send it again" in str(exc)
                continue
            break
        assert len(result.records) == 4, "a new worker decodes again"
        assert refused, "the request caught by the dead worker was refused as retryable"
        assert set(_worker_pids()).isdisjoint(before)

    try:
        asyncio.run(scenario())
    finally:
        decoder.close()


def test_collector_with_decode_workers_stores_spans(start_collector, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import grpc
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )
    from sqlalchemy import text

    collector = start_collector(f"sqlite:///{tmp_path / 'w.db'}", decode_workers=1)
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    export = channel.unary_unary(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        response_deserializer=ExportTraceServiceResponse.FromString,
    )
    export(_body(5), timeout=30)
    with collector.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM spans")).scalar_one() == 5
