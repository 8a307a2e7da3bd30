"""The experiment Overview page over 100,000 traces / 1,000,000 spans (a third of them model
calls): the page for the last 30 days (per day), 7 days (per day) and 24 hours (per hour),
each timed beside the bare ``GetExperimentUsage`` call of the same range in the same run.

The store is filled as ``benchmarks/search.py`` fills it (the collector's group-commit writer,
ten spans per trace, one trace a second), with the traces ending just before now, so that
the last 30 days hold all of them. A collector runs in this process and every request is made
on its event loop (as ``benchmarks/ui_traces.py``), so the figures are server time:

* page: ``GET /experiments/{id}/overview?range=...`` through the collector's ASGI app, with a
  session as a browser has (the API call, five chart specs and the tables);
* JSON API: ``POST /api/v1/ExperimentService/GetExperimentUsage`` with the page's request;
* call: the same call in-process (the handler the page and the gRPC port share).

Each figure is the median of ``--runs`` requests after one warm-up; the goal is at most
1 s per page. Run: ``python benchmarks/ui_overview.py [--traces 100000] [--stores
sqlite,postgresql]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import search as search_bench
from harness import fresh_store
from ui_traces import OnLoop, http_client, median_ms

from spyglass.collector.server import Collector
from spyglass.config import CollectorSettings
from spyglass.v1 import experiments_pb2

GOAL_MS = 1000.0
DAY_MS = 86_400_000
RANGES = {"30d": (30 * DAY_MS, "day"), "7d": (7 * DAY_MS, "day"), "24h": (DAY_MS, "hour")}


def run(store: str, n_traces: int, runs: int) -> None:
    search_bench.SPANS_PER_TRACE = 10
    search_bench.BASE_NS = (int(time.time()) - n_traces - 120) * 1_000_000_000
    with fresh_store(store) as url:
        settings = CollectorSettings.load(store=url, grpc_port=0, http_port=0, decode_workers=0)
        collector = Collector(settings).start_background()
        try:
            search_bench.load(collector, n_traces)
            _measure(collector, store, n_traces, runs)
        finally:
            collector.stop_background()


def _measure(collector: Collector, store: str, n_traces: int, runs: int) -> None:
    on = OnLoop(collector)
    assert collector._http is not None
    app = collector._http.config.app
    browser = on.run(http_client(app))
    script = on.run(http_client(app))
    local = collector._local
    try:
        found = on.run(
            script.post("/api/v1/ExperimentService/GetExperimentByName", json={"name": "bench"})
        )
        experiment = found.json()["experimentId"]
        print(
            f"\nOverview page, {n_traces:,} traces / {n_traces * 10:,} spans ({store}); "
            f"server ms, median of {runs}"
            f"\n{'range':<22}{'page':>8}{'traces':>9}{'JSON API':>10}{'call':>8}"
            f"{'page/call':>11}{'goal':>7}"
        )
        for name, (length_ms, bucket) in RANGES.items():

            async def page(name: str = name) -> int:
                answer = await browser.get(
                    f"/experiments/{experiment}/overview", params={"range": name}
                )
                assert answer.status_code == 200, answer.text[:500]
                assert answer.text.count("<canvas") == 0  # charts are drawn in the browser
                return int(answer.text.count('data-chart="'))

            def request(length_ms: int = length_ms, bucket: str = bucket) -> dict[str, object]:
                end = int(time.time() * 1000)
                return {
                    "experiment_id": experiment,
                    "start_time_ms": end - length_ms,
                    "end_time_ms": end,
                    "bucket": bucket,
                }

            async def json_api() -> int:
                fields = request()
                body = {
                    "experimentId": fields["experiment_id"],
                    "startTimeMs": str(fields["start_time_ms"]),
                    "endTimeMs": str(fields["end_time_ms"]),
                    "bucket": fields["bucket"],
                }
                answer = await script.post(
                    "/api/v1/ExperimentService/GetExperimentUsage", json=body
                )
                assert answer.status_code == 200, answer.text[:500]
                return int(answer.json()["total"].get("traceCount", 0))

            async def call() -> int:
                message = experiments_pb2.GetExperimentUsageRequest(**request())  # type: ignore[arg-type]
                answer = await local.unary("ExperimentService", "GetExperimentUsage", message, 60)
                return int(answer.total.trace_count)

            page_ms, charts = median_ms(on, page, runs)
            json_ms, _ = median_ms(on, json_api, runs)
            call_ms, traces = median_ms(on, call, runs)
            assert charts == 5, charts
            verdict = "ok" if page_ms <= GOAL_MS and call_ms <= GOAL_MS else "SLOW"
            label = f"last {name} ({bucket})"
            print(
                f"{label:<22}{page_ms:>8.1f}{traces:>9,}{json_ms:>10.1f}{call_ms:>8.1f}"
                f"{page_ms / call_ms:>11.2f}{verdict:>7}"
            )
    finally:
        on.run(browser.aclose())
        on.run(script.aclose())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    for store in args.stores.split(","):
        run(store, args.traces, args.runs)


if __name__ == "__main__":
    main()
