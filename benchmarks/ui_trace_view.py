"""The web UI's trace view (``/traces/{id}``) of a 2,000-span trace: how long until it is
usable in Chromium, and what its page costs the server, each beside a same-run baseline.

A collector runs in this process over a fresh store (as in ``benchmarks/ui_traces.py``);
the Spyglass SDK records into it the 2,000-span trace of the browser tests
(``record_wide_trace`` in ``tests/browser/browser_support.py``: a root, 40 steps, 1,959
tools and retrievers, one failing) and the same shape's 2-span trace, the baseline.

* usable: Debian's Chromium (Playwright, the browser tests' launch arguments) opens
  ``/traces/{id}`` over loopback HTTP; the figure is the page's own
  ``performance.mark('spyglass:waterfall-ready')`` (``static/js/waterfall.js``: the span tree
  is built and a row selected), in the page's clock from the navigation's start. "cold" is
  a new browser context per run (nothing cached, as a first visit); "warm" is a new page in
  one context (styles and scripts cached, as a user going from trace to trace). The HTML
  response time the browser saw (request start to its last byte) is printed beside it.
* page server time: ``GET /traces/{id}`` through the collector's ASGI app on its event
  loop (no loopback TCP), with a session as a browser has;
* JSON API: ``POST /api/v1/TraceService/GetTrace`` of the same trace through the same app,
  i.e. the data the page is made of, fetched by a script; call: the same ``GetTrace``
  called in-process (the handler the page and the gRPC port share).

Figures are the median and 90th percentile of ``--runs`` runs after one warm-up; ratios
are to the 2-span page, and for the server time also to the JSON API. The goal is at most
1 s to usable. Run: ``python benchmarks/ui_trace_view.py [--runs 15] [--stores
sqlite,postgresql]`` (``make bench BENCH=ui_trace_view``); Chromium is ``SPYGLASS_CHROMIUM``
or ``/usr/bin/chromium``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "browser"))
from browser_support import (
    CHROMIUM_ARGS,
    DEFAULT_CHROMIUM,
    VIEWPORT,
    WIDE_SPANS,
    PageLog,
    record_wide_trace,
)
from harness import fresh_store
from ui_traces import OnLoop, http_client

from spyglass import session
from spyglass.collector.server import Collector
from spyglass.config import CollectorSettings
from spyglass.v1 import traces_pb2

GOAL_MS = 1000.0
SMALL_SPANS = 2
TIMINGS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const ready = performance.getEntriesByName('spyglass:waterfall-ready')[0];
  return {usable: ready.startTime, html: nav.responseEnd - nav.requestStart,
          rows: document.querySelectorAll('.wf-row').length};
}"""


@dataclass
class Figures:
    """Milliseconds of one measurement over the runs."""

    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.times, n=10, method="inclusive")[8]

    def text(self) -> str:
        return f"{self.median:7.1f} /{self.p90:7.1f}"


@dataclass
class Opened:
    """A trace page opened in the browser ``runs`` times: usable and HTML response ms."""

    usable: Figures
    html: Figures


def open_in_browser(browser: Browser, url: str, runs: int, warm: bool) -> Opened:
    """Opens ``url`` once to warm up, then ``runs`` times: each in a new page of one context
    (``warm``) or of a new context (cold)."""
    shared = browser.new_context(viewport=VIEWPORT) if warm else None  # type: ignore[arg-type]
    usable: list[float] = []
    html: list[float] = []
    try:
        for run in range(runs + 1):
            context = shared or browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
            page = context.new_page()
            log = PageLog()
            page.on("pageerror", log.on_page_error)
            page.on("console", log.on_console)
            response = page.goto(url)
            assert response is not None and response.status == 200, url
            page.wait_for_selector(".wf-row[aria-selected=true]")
            timings = page.evaluate(TIMINGS)
            log.assert_clean()
            assert 0 < timings["rows"] < 200, timings  # only the rows in view are built
            if run:  # the first is the warm-up
                usable.append(timings["usable"])
                html.append(timings["html"])
            page.close()
            if shared is None:
                context.close()
    finally:
        if shared is not None:
            shared.close()
    return Opened(Figures(usable), Figures(html))


def server_ms(on: OnLoop, fn: Callable[[], Awaitable[object]], runs: int) -> Figures:
    """``fn`` timed on the collector's event loop ``runs`` times after one warm-up."""

    async def timed() -> float:
        started = time.perf_counter()
        await fn()
        return (time.perf_counter() - started) * 1000

    on.run(fn())
    return Figures([on.run(timed()) for _ in range(runs)])


def run(store: str, runs: int, chromium: str) -> None:
    with fresh_store(store) as url:
        settings = CollectorSettings.load(store=url, grpc_port=0, http_port=0, decode_workers=0)
        collector = Collector(settings).start_background()
        try:
            session.configure(
                collector=f"127.0.0.1:{collector.grpc_port}", experiment="bench trace view"
            )
            try:
                wide = record_wide_trace(WIDE_SPANS)
                small = record_wide_trace(SMALL_SPANS)
            finally:
                session._shutdown()
            _measure(collector, store, wide, small, runs, chromium)
        finally:
            collector.stop_background()


def _measure(
    collector: Collector, store: str, wide: str, small: str, runs: int, chromium: str
) -> None:
    on = OnLoop(collector)
    assert collector._http is not None
    app = collector._http.config.app
    page_client = on.run(http_client(app))  # keeps the session cookie, as a browser
    script = on.run(http_client(app))  # no cookie of a page, as a script
    local = collector._local
    sizes: dict[str, int] = {}

    def page_of(trace_id: str) -> Callable[[], Awaitable[object]]:
        async def page() -> None:
            answer = await page_client.get(f"/traces/{trace_id}")
            assert answer.status_code == 200, answer.text[:500]
            sizes[trace_id] = len(answer.content)

        return page

    def json_api_of(trace_id: str) -> Callable[[], Awaitable[object]]:
        async def json_api() -> None:
            answer = await script.post("/api/v1/TraceService/GetTrace", json={"traceId": trace_id})
            assert answer.status_code == 200, answer.text[:500]
            assert len(answer.json()["spans"]) in (WIDE_SPANS, SMALL_SPANS)

        return json_api

    def call_of(trace_id: str) -> Callable[[], Awaitable[object]]:
        request = traces_pb2.GetTraceRequest(trace_id=trace_id)

        async def call() -> None:
            await local.unary("TraceService", "GetTrace", request, 60)

        return call

    try:
        page_ms = {t: server_ms(on, page_of(t), runs) for t in (wide, small)}
        json_ms = {t: server_ms(on, json_api_of(t), runs) for t in (wide, small)}
        call_ms = {t: server_ms(on, call_of(t), runs) for t in (wide, small)}
    finally:
        on.run(page_client.aclose())
        on.run(script.aclose())

    base = f"http://127.0.0.1:{collector.http_port}"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            cold = {
                t: open_in_browser(browser, f"{base}/traces/{t}", runs, False)
                for t in (wide, small)
            }
            warm = {
                t: open_in_browser(browser, f"{base}/traces/{t}", runs, True) for t in (wide, small)
            }
        finally:
            browser.close()

    print(
        f"\nTrace view, {WIDE_SPANS:,} spans vs {SMALL_SPANS} ({store}); ms, median / p90 of "
        f"{runs}; page {sizes[wide] / 1024:,.0f} KiB vs {sizes[small] / 1024:,.1f} KiB"
        f"\n{'measure':<34}{f'{WIDE_SPANS:,} spans':>16}{f'{SMALL_SPANS} spans':>16}"
        f"{'ratio':>8}{'goal':>7}"
    )

    def line(label: str, figures: dict[str, Figures], goal: bool = False) -> None:
        verdict = ("ok" if figures[wide].p90 <= GOAL_MS else "SLOW") if goal else ""
        print(
            f"{label:<34}{figures[wide].text():>16}{figures[small].text():>16}"
            f"{figures[wide].median / figures[small].median:>8.2f}{verdict:>7}"
        )

    line("usable, cold (new context)", {t: o.usable for t, o in cold.items()}, goal=True)
    line("usable, warm (cached assets)", {t: o.usable for t, o in warm.items()}, goal=True)
    line("HTML response in the browser", {t: o.html for t, o in warm.items()})
    line("page, server time", page_ms)
    line("JSON API GetTrace", json_ms)
    line("GetTrace call (in-process)", call_ms)
    print(
        f"page / JSON API GetTrace ({WIDE_SPANS:,} spans): "
        f"{page_ms[wide].median / json_ms[wide].median:.2f}; "
        f"page / GetTrace call: {page_ms[wide].median / call_ms[wide].median:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    chromium = os.environ.get("SPYGLASS_CHROMIUM") or DEFAULT_CHROMIUM
    if not os.access(chromium, os.X_OK):
        raise SystemExit(
            f"no Chromium at {chromium}: install Debian's package (`apt-get install -y "
            "--no-install-recommends chromium`) or set SPYGLASS_CHROMIUM"
        )
    for store in args.stores.split(","):
        run(store, args.runs, chromium)


if __name__ == "__main__":
    main()
