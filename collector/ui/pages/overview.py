"""An experiment's Overview page (``/experiments/{id}/overview``): its usage over the last
24 hours, 7 days or 30 days from one ``GetExperimentUsage`` call.

Summary figures for the range (traces, errors with their rate, latency p50/p95, tokens,
cost), then charts per hour (24 hours) or per UTC day (7 and 30 days; ``?bucket=`` overrides)
drawn by ``static/js/charts.js`` over uPlot (numbers on hover), each followed by the same
numbers as a table. Model names come from spans, so they reach the page as escaped text or
JSON data blocks only.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from spyglass.collector.ui.app import ui_of
from spyglass.collector.ui.pages.experiments import experiment_of
from spyglass.v1 import experiments_pb2

RANGES: dict[str, tuple[str, int, str]] = {  # value: (label, length ms, default bucket)
    "24h": ("Last 24 hours", 86_400_000, "hour"),
    "7d": ("Last 7 days", 7 * 86_400_000, "day"),
    "30d": ("Last 30 days", 30 * 86_400_000, "day"),
}
DEFAULT_RANGE = "7d"
MAX_MODEL_SERIES = 8  # more models than this are charted as "other models"


async def overview_page(request: Request) -> Response:
    ui = ui_of(request)
    experiment = await experiment_of(request)
    chosen = request.query_params.get("range", DEFAULT_RANGE)
    if chosen not in RANGES:
        chosen = DEFAULT_RANGE
    label, length_ms, default_bucket = RANGES[chosen]
    bucket = request.query_params.get("bucket", default_bucket)
    if bucket not in ("hour", "day"):
        bucket = default_bucket
    end_ms = int(time.time() * 1000)
    usage = await ui.call(
        "ExperimentService",
        "GetExperimentUsage",
        experiments_pb2.GetExperimentUsageRequest(
            experiment_id=experiment.experiment_id,
            start_time_ms=end_ms - length_ms,
            end_time_ms=end_ms,
            bucket=bucket,
        ),
    )
    return ui.render(
        request,
        "overview.html",
        {
            "experiment": experiment,
            "tab": "overview",
            "ranges": {k: v[0] for k, v in RANGES.items()},
            "range": chosen,
            "range_label": label,
            "bucket": bucket,
            "usage": usage,
            "total": summary(usage.total),
            "rows": [bucket_row(b, usage.bucket) for b in usage.buckets],
            "models": list(usage.model_totals),
            "model_rows": [
                {"when": bucket_text(m.start_time_ms, usage.bucket), "m": m} for m in usage.models
            ],
            "charts": charts(usage),
        },
    )


def summary(stats: experiments_pb2.UsageStats) -> dict[str, Any]:
    """The figures of a bucket or the range, ``None`` where there is nothing to show."""
    return {
        "traces": stats.trace_count,
        "errors": stats.error_count,
        "error_rate": (
            f"{stats.error_count / stats.trace_count:.1%}" if stats.trace_count else None
        ),
        "p50": stats.latency_p50_ms if stats.HasField("latency_p50_ms") else None,
        "p95": stats.latency_p95_ms if stats.HasField("latency_p95_ms") else None,
        "input_tokens": stats.input_tokens,
        "output_tokens": stats.output_tokens,
        "cost": stats.cost,
    }


def bucket_text(start_ms: int, bucket: str) -> str:
    """A bucket's UTC start as people read it: the date, or the date and hour."""
    moment = datetime.fromtimestamp(start_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%d") if bucket == "day" else moment.strftime("%Y-%m-%d %H:00")


def bucket_row(b: experiments_pb2.UsageBucket, bucket: str) -> dict[str, Any]:
    return {"when": bucket_text(b.start_time_ms, bucket), **summary(b.stats)}


def charts(usage: experiments_pb2.GetExperimentUsageResponse) -> list[dict[str, Any]]:
    """The chart specs of ``static/js/charts.js``: x in unix seconds, a series per line."""
    xs = [b.start_time_ms // 1000 for b in usage.buckets]
    stats = [summary(b.stats) for b in usage.buckets]

    def column(key: str) -> list[Any]:
        return [s[key] for s in stats]

    def spec(
        ident: str, title: str, series: list[dict[str, Any]], data: list[list[Any]], **options: Any
    ) -> dict[str, Any]:
        return {
            "id": ident,
            "title": title,
            "spec": {"series": series, "data": [xs, *data], "options": options},
        }

    return [
        spec(
            "chart-traces",
            "Traces and errors",
            [{"label": "traces"}, {"label": "errors", "color": "#c62828"}],
            [column("traces"), column("errors")],
            yMin=0,
            digits=0,
        ),
        spec(
            "chart-latency",
            "Latency",
            [{"label": "p50", "unit": "ms"}, {"label": "p95", "unit": "ms", "color": "#e8710a"}],
            [column("p50"), column("p95")],
            yMin=0,
            digits=1,
            spanGaps=True,
        ),
        spec(
            "chart-tokens",
            "Tokens",
            [{"label": "input tokens"}, {"label": "output tokens", "color": "#2e7d32"}],
            [column("input_tokens"), column("output_tokens")],
            yMin=0,
            digits=0,
        ),
        spec(
            "chart-cost",
            "Cost",
            [{"label": "cost", "unit": "USD", "color": "#7b1fa2"}],
            [column("cost")],
            yMin=0,
            digits=4,
        ),
        model_chart(usage, xs),
    ]


def model_chart(usage: experiments_pb2.GetExperimentUsageResponse, xs: list[int]) -> dict[str, Any]:
    """Cost per model and bucket: the most expensive models a line each, the rest summed."""
    shown = [m.model for m in usage.model_totals[:MAX_MODEL_SERIES]]
    rest = len(usage.model_totals) > MAX_MODEL_SERIES
    index = {x * 1000: i for i, x in enumerate(xs)}
    lines: dict[str, list[float]] = {name: [0.0] * len(xs) for name in shown}
    other = [0.0] * len(xs)
    for m in usage.models:
        at = index.get(m.start_time_ms)
        if at is None:
            continue
        lines.get(m.model, other)[at] += m.cost
    series = [{"label": name, "unit": "USD"} for name in shown]
    data = [lines[name] for name in shown]
    if rest:
        series.append({"label": "other models", "unit": "USD"})
        data.append(other)
    return {
        "id": "chart-models",
        "title": "Cost per model",
        "spec": {"series": series, "data": [xs, *data], "options": {"yMin": 0, "digits": 4}},
    }


def routes() -> list[BaseRoute]:
    return [Route("/experiments/{experiment_id}/overview", overview_page)]
