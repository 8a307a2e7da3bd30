"""The web UI's Traces page over an experiment of 100,000 traces: its first page, a filter and
the next page, each timed beside the bare API search of the same page in the same run.

The store is filled as ``benchmarks/search.py`` fills it (the collector's group-commit writer;
feedback "quality" on every 5th trace; tag ``env`` = "prod" on every 10th), with fewer spans
per trace since the page reads trace summaries only. A collector runs in this process, and
every request is made on its own event loop, so that the figures are server time (no
loopback TCP, whose delayed ACKs add ~40 ms to small HTTP answers and would hide the
difference being measured):

* page: ``GET /experiments/{id}/traces[?...]`` through the collector's ASGI app (the full
  page for the first page, the htmx fragment for a filter and the next page, as a browser
  asks for them), with a session as a browser has;
* JSON API: ``POST /api/v1/TraceService/SearchTraces`` through the same app, with the request
  the page makes (50 trace summaries, the same filter, order and page token);
* call: the same ``SearchTraces`` called in-process (the handler the page and the gRPC port
  share), i.e. the search itself;
* gRPC: the same search from this process's gRPC stub over loopback, for reference.

Each figure is the median of ``--runs`` requests after one warm-up; the goal is at most
300 ms per page. Run: ``python benchmarks/ui_traces.py [--traces 100000] [--stores
sqlite,postgresql]``; ``--profile`` prints where a page request's time goes on the event loop
(cProfile; the search's own SQL runs in the query pool and shows as the wait for it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import grpc
import httpx

sys.path.insert(0, str(Path(__file__).parent))
import search as search_bench
from harness import fresh_store

from spyglass.collector.server import Collector
from spyglass.config import CollectorSettings
from spyglass.v1 import traces_pb2, traces_pb2_grpc

PAGE_SIZE = 50
GOAL_MS = 300.0
ORDER = "attributes.timestamp_ms DESC"  # what the page asks for by default
PARTIAL = {"HX-Request": "true", "HX-Target": "traces-results"}
BASE = "http://collector"


class OnLoop:
    """Runs coroutines on the collector's event loop from this thread."""

    def __init__(self, collector: Collector) -> None:
        loop = collector._loop
        assert loop is not None, "the collector is not running in the background"
        self.loop = loop

    def run(self, coroutine: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(120)  # type: ignore[arg-type]


def median_ms(on: OnLoop, fn: Callable[[], Awaitable[int]], runs: int) -> tuple[float, int]:
    """Median milliseconds of ``fn`` timed on the loop itself (after one warm-up)."""

    async def timed() -> tuple[float, int]:
        started = time.perf_counter()
        n = await fn()
        return (time.perf_counter() - started) * 1000, n

    on.run(fn())
    results = [on.run(timed()) for _ in range(runs)]
    return statistics.median(ms for ms, _ in results), results[-1][1]


def grpc_median_ms(fn: Callable[[], int], runs: int) -> tuple[float, int]:
    fn()
    times, n = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        n = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), n


def _rows_in(html: str) -> int:
    return html.count('class="trace-row"')


def _older_token(html: str) -> str:
    found = re.search(r'id="older" href="[^"]*?[?;&]page=([^"&]+)', html)
    assert found, "the first page has no Older link"
    return unescape(found.group(1))


def run(store: str, n_traces: int, runs: int, spans_per_trace: int, profile: bool) -> None:
    search_bench.SPANS_PER_TRACE = spans_per_trace
    with fresh_store(store) as url:
        settings = CollectorSettings.load(store=url, grpc_port=0, http_port=0, decode_workers=0)
        collector = Collector(settings).start_background()
        try:
            search_bench.load(collector, n_traces)
            _measure(collector, store, n_traces, runs, profile)
        finally:
            collector.stop_background()


def _measure(collector: Collector, store: str, n_traces: int, runs: int, profile: bool) -> None:
    on = OnLoop(collector)
    assert collector._http is not None
    app = collector._http.config.app
    browser = on.run(http_client(app))  # keeps the session cookie, as a browser
    script = on.run(http_client(app))  # no cookie of a page, as a script
    local = collector._local
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    stub = traces_pb2_grpc.TraceServiceStub(channel)
    try:
        found = on.run(
            script.post("/api/v1/ExperimentService/GetExperimentByName", json={"name": "bench"})
        )
        experiment = found.json()["experimentId"]
        page_url = f"/experiments/{experiment}/traces"
        first = on.run(browser.get(page_url))
        assert first.status_code == 200, first.text[:500]
        assert _rows_in(first.text) == PAGE_SIZE, _rows_in(first.text)
        token = _older_token(first.text)

        cases = [
            ("first page", {}, {}, "", ""),
            (
                "filter tags.env = 'prod'",
                {"filter": "tags.env = 'prod'"},
                PARTIAL,
                "tags.env = 'prod'",
                "",
            ),
            (
                "filter feedback.quality < 0.3",
                {"filter": "feedback.quality < 0.3"},
                PARTIAL,
                "feedback.quality < 0.3",
                "",
            ),
            ("next page", {"page": token}, PARTIAL, "", token),
            (
                "last hour (nothing matches)",
                {"range": "1h"},
                PARTIAL,
                "attributes.timestamp_ms >= -1h",
                "",
            ),
            _custom_hour(n_traces),
        ]
        print(
            f"\nTraces page, {n_traces:,} traces ({store}); server ms, median of {runs}"
            f"\n{'case':<32}{'page':>8}{'rows':>6}{'JSON API':>10}{'call':>8}{'gRPC':>8}"
            f"{'page/call':>11}{'goal':>7}"
        )
        for label, params, headers, flt, page_token in cases:
            request = traces_pb2.SearchTracesRequest(
                experiment_ids=[experiment],
                filter=flt,
                order_by=[ORDER],
                page_size=PAGE_SIZE,
                max_results=PAGE_SIZE,
                page_token=page_token,
                include_spans=False,
            )
            body = {
                "experimentIds": [experiment],
                "filter": flt,
                "orderBy": [ORDER],
                "pageSize": PAGE_SIZE,
                "maxResults": PAGE_SIZE,
                "pageToken": page_token,
                "includeSpans": False,
            }

            async def page(
                params: dict[str, str] = params, headers: dict[str, str] = headers
            ) -> int:
                answer = await browser.get(page_url, params=params, headers=headers)
                assert answer.status_code == 200, answer.text[:500]
                return _rows_in(answer.text)

            async def json_api(body: dict[str, object] = body) -> int:
                answer = await script.post("/api/v1/TraceService/SearchTraces", json=body)
                assert answer.status_code == 200, answer.text[:500]
                data = answer.json()
                pages = data if isinstance(data, list) else [data]
                return sum(len(p.get("traces", [])) for p in pages)

            async def call(request: traces_pb2.SearchTracesRequest = request) -> int:
                pages = await local.unary("TraceService", "SearchTraces", request, 60)
                return sum(len(p.traces) for p in pages)

            def grpc_api(request: traces_pb2.SearchTracesRequest = request) -> int:
                return sum(len(p.traces) for p in stub.SearchTraces(request, timeout=60))

            page_ms, rows = median_ms(on, page, runs)
            json_ms, json_rows = median_ms(on, json_api, runs)
            call_ms, call_rows = median_ms(on, call, runs)
            grpc_ms, grpc_rows = grpc_median_ms(grpc_api, runs)
            assert rows == json_rows == call_rows == grpc_rows, (
                rows,
                json_rows,
                call_rows,
                grpc_rows,
            )
            verdict = "ok" if page_ms <= GOAL_MS else "SLOW"
            print(
                f"{label:<32}{page_ms:>8.1f}{rows:>6}{json_ms:>10.1f}{call_ms:>8.1f}"
                f"{grpc_ms:>8.1f}{page_ms / call_ms:>11.2f}{verdict:>7}"
            )
            if profile:
                print(f"-- profile: {label}\n{on.run(_profiled(page))}")
    finally:
        on.run(browser.aclose())
        on.run(script.aclose())
        channel.close()


def _custom_hour(n_traces: int) -> tuple[str, dict[str, str], dict[str, str], str, str]:
    """The custom range of one hour in the middle of the loaded traces (one a second)."""
    middle_s = (search_bench.BASE_NS // 1_000_000_000 + n_traces // 2) // 60 * 60
    start, end = middle_s, middle_s + 3600

    def local(seconds: int) -> str:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M")

    params = {"range": "custom", "from": local(start), "to": local(end), "tz": "0"}
    search = (
        f"attributes.timestamp_ms >= {start * 1000} AND attributes.timestamp_ms <= {end * 1000}"
    )
    return ("custom range (one hour)", params, PARTIAL, search, "")


async def http_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, timeout=60)


async def _profiled(page: Callable[[], Awaitable[int]]) -> str:
    """cProfile of five page requests on the event loop's thread."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        await page()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--spans-per-trace", type=int, default=3)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    for store in args.stores.split(","):
        run(store, args.traces, args.runs, args.spans_per_trace, args.profile)


if __name__ == "__main__":
    main()
