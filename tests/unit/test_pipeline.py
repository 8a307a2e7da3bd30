"""The ingest pipeline's admission control: bytes in flight are bounded, refusals are
immediate and say when to retry, and a finished request frees its share."""

from __future__ import annotations

import asyncio

import pytest

from spyglass.collector.ingest.pipeline import Body, IngestPipeline
from spyglass.collector.ingest.spans import ConvertResult
from spyglass.collector.metrics import CollectorMetrics
from spyglass.errors import OverloadedError


class StalledDecoder:
    """Stands in for the decoder: holds every request until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def convert(self, data: bytes, is_json: bool, experiment: str | None) -> ConvertResult:
        await self.release.wait()
        return ConvertResult()


class NullWriter:
    def submit(self, records):  # type: ignore[no-untyped-def]
        from concurrent.futures import Future

        future: Future = Future()
        future.set_result(0)
        return future


def test_requests_past_the_inflight_limit_are_refused_until_one_finishes() -> None:
    async def scenario() -> None:
        decoder = StalledDecoder()
        pipeline = IngestPipeline(
            decoder,
            NullWriter(),
            CollectorMetrics(),  # type: ignore[arg-type]
            max_inflight_bytes=1000,
            retry_after=2.0,
        )
        first = asyncio.create_task(pipeline.export_traces(Body(b"x" * 600), "http"))
        await asyncio.sleep(0)
        with pytest.raises(OverloadedError, match="600 bytes of requests are in flight") as info:
            await pipeline.export_traces(Body(b"y" * 600), "http")
        assert info.value.retry_after == 2.0
        decoder.release.set()
        await first
        # the first request's bytes are released: the same request is admitted now
        await pipeline.export_traces(Body(b"y" * 600), "http")

    asyncio.run(scenario())


def test_a_single_request_larger_than_the_limit_is_still_admitted_when_idle() -> None:
    async def scenario() -> None:
        decoder = StalledDecoder()
        decoder.release.set()
        pipeline = IngestPipeline(
            decoder,
            NullWriter(),
            CollectorMetrics(),  # type: ignore[arg-type]
            max_inflight_bytes=10,
            retry_after=1.0,
        )
        response = await pipeline.export_traces(Body(b"z" * 50), "grpc")
        assert not response.HasField("partial_success")

    asyncio.run(scenario())
