"""ExperimentService.GetExperimentUsage on real collectors, SQLite and PostgreSQL.

What it proves:

* per UTC day or hour of a range: traces, errors, input/output tokens and cost are exact
  sums of the traces that started in the bucket (the range's start inclusive, its end
  exclusive; other experiments never count); empty buckets are answered as zeros;
* latency p50/p95 of finished traces (in-progress ones are left out) follow
  ``percentile_cont``'s definition, per bucket and over the range, to the microsecond and
  identically on both stores, for small and larger buckets;
* model calls, tokens and cost are split per model (the spans' model) and bucket, with
  per-model totals the most expensive first;
* defaults (end now, start 7 days before, bucket day) and bad arguments (unknown bucket,
  reversed range, too many buckets, malformed or unknown experiment) answer with clear
  INVALID_ARGUMENT / NOT_FOUND messages.

Traces and spans are written straight into the store (``traces`` and ``spans`` rows with
exact durations, tokens and costs), then read through the collector's gRPC API.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from sqlalchemy import Engine
from test_api_traces import Api, rpc_error

import spyglass
from spyglass import session
from spyglass.collector.server import Collector
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.models import SpanRow, TraceRow
from spyglass.collector.store.traces import usage as usage_store
from spyglass.errors import InvalidArgumentError
from spyglass.v1 import experiments_pb2 as pb

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
D0 = 1_709_251_200_000  # 2024-03-01 00:00 UTC
NS = 1_000_000


@pytest.fixture
def api(collector: Collector) -> Iterator[Api]:
    with Api(collector) as client:
        yield client


def make_experiment(api: Api, name: str) -> str:
    return api.experiments.CreateExperiment(pb.CreateExperimentRequest(name=name)).experiment_id


def store_trace(
    engine: Engine,
    experiment_id: str,
    start_ms: float,
    duration_ms: float,
    *,
    status: str = "OK",
    calls: tuple[tuple[str | None, int, int, float], ...] = (),
) -> str:
    """One trace starting at ``start_ms`` with a root span and one span per call
    (model or None, input tokens, output tokens, cost); the trace sums the calls."""
    trace_id = os.urandom(16).hex()
    start = int(start_ms * NS)
    end = start + int(duration_ms * NS)
    trace = {
        "trace_id": trace_id,
        "experiment_id": int(experiment_id),
        "name": "answer",
        "status": status,
        "start_time_ns": start,
        "end_time_ns": end,
        "input_tokens": sum(c[1] for c in calls),
        "output_tokens": sum(c[2] for c in calls),
        "total_tokens": sum(c[1] + c[2] for c in calls),
        "cost": sum(c[3] for c in calls),
        "span_count": 1 + len(calls),
        "created_at_ns": start,
        "last_span_at_ns": end,
    }
    spans = [_span(trace_id, "0" * 16, None, start, end, None, None, None, None)]
    for k, (model, tokens_in, tokens_out, cost) in enumerate(calls, 1):
        spans.append(
            _span(trace_id, f"{k:016x}", "0" * 16, start, end, model, tokens_in, tokens_out, cost)
        )
    with write_transaction(engine) as connection:
        connection.execute(TraceRow.__table__.insert(), [trace])
        connection.execute(SpanRow.__table__.insert(), spans)
    return trace_id


def _span(
    trace_id: str,
    span_id: str,
    parent: str | None,
    start: int,
    end: int,
    model: str | None,
    tokens_in: int | None,
    tokens_out: int | None,
    cost: float | None,
) -> dict[str, Any]:
    return {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": parent,
        "name": "llm" if model else "answer",
        "kind": 1,
        "span_type": "LLM" if model else "CHAIN",
        "start_time_ns": start,
        "end_time_ns": end,
        "status_code": 0,
        "model": model,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "cost": cost,
        "attributes": "{}",
        "received_at_ns": start,
    }


def usage(api: Api, experiment_id: str, **fields: Any) -> pb.GetExperimentUsageResponse:
    return api.experiments.GetExperimentUsage(
        pb.GetExperimentUsageRequest(experiment_id=experiment_id, **fields), timeout=20
    )


def percentile(values: list[float], p: float) -> float:
    """percentile_cont's definition: linear between the ranks around ``p * (n - 1)``."""
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


GPT = ("gpt-4o", 60, 6, 0.125)
CLAUDE = ("claude-3", 40, 4, 0.25)
PLAIN = (None, 0, 0, 0.0)


def seed_three_days(collector: Collector, api: Api) -> str:
    """Day 0: four finished traces (10, 20, 30 and 40 ms, the third failed) and one still in
    progress; day 1: nothing; day 2: one trace of 100 ms. Plus traces just outside the
    range and in another experiment, which must not count."""
    experiment = make_experiment(api, "usage")
    other = make_experiment(api, "usage other")
    store_trace(collector.engine, experiment, D0 + 1000, 10, calls=(GPT,))
    store_trace(collector.engine, experiment, D0 + 2 * HOUR_MS, 20, calls=(GPT, CLAUDE))
    store_trace(
        collector.engine, experiment, D0 + 13 * HOUR_MS, 30, status="ERROR", calls=(CLAUDE,)
    )
    store_trace(collector.engine, experiment, D0 + 23 * HOUR_MS, 40, calls=(PLAIN,))
    store_trace(collector.engine, experiment, D0 + 23 * HOUR_MS + 5, 7, status="IN_PROGRESS")
    store_trace(collector.engine, experiment, D0 + 2 * DAY_MS, 100, calls=(GPT, GPT))
    store_trace(collector.engine, experiment, D0 - 1, 5, calls=(GPT,))  # before the range
    store_trace(collector.engine, experiment, D0 + 3 * DAY_MS, 5, calls=(GPT,))  # at its end
    store_trace(collector.engine, other, D0 + 1000, 50, calls=(GPT,))
    return experiment


def stats_of(stats: pb.UsageStats) -> tuple:
    return (
        stats.trace_count,
        stats.error_count,
        stats.latency_p50_ms if stats.HasField("latency_p50_ms") else None,
        stats.latency_p95_ms if stats.HasField("latency_p95_ms") else None,
        stats.input_tokens,
        stats.output_tokens,
        stats.cost,
    )


def test_daily_usage_counts_percentiles_and_models(collector: Collector, api: Api) -> None:
    experiment = seed_three_days(collector, api)
    answer = usage(api, experiment, start_time_ms=D0, end_time_ms=D0 + 3 * DAY_MS)

    assert (answer.start_time_ms, answer.end_time_ms, answer.bucket) == (
        D0,
        D0 + 3 * DAY_MS,
        "day",
    )
    assert [b.start_time_ms for b in answer.buckets] == [D0, D0 + DAY_MS, D0 + 2 * DAY_MS]
    day0, day1, day2 = (stats_of(b.stats) for b in answer.buckets)
    # day 0: 5 traces (one in progress), 1 error; durations 10, 20, 30, 40
    assert day0 == (5, 1, 25.0, 38.5, 60 + 100 + 40, 6 + 10 + 4, 0.125 + 0.375 + 0.25)
    assert day1 == (0, 0, None, None, 0, 0, 0.0)
    assert day2 == (1, 0, 100.0, 100.0, 120, 12, 0.25)
    # the range: durations 10, 20, 30, 40, 100 -> p50 30, p95 40 + 0.8 * 60
    assert stats_of(answer.total) == (6, 1, 30.0, 88.0, 320, 32, 1.0)

    models = [
        (m.start_time_ms, m.model, m.call_count, m.input_tokens, m.output_tokens, m.cost)
        for m in answer.models
    ]
    assert models == [
        (D0, "claude-3", 2, 80, 8, 0.5),
        (D0, "gpt-4o", 2, 120, 12, 0.25),
        (D0 + 2 * DAY_MS, "gpt-4o", 2, 120, 12, 0.25),
    ]
    totals = [
        (m.model, m.call_count, m.input_tokens, m.output_tokens, m.cost)
        for m in answer.model_totals
    ]
    assert totals == [("claude-3", 2, 80, 8, 0.5), ("gpt-4o", 4, 240, 24, 0.5)] or totals == [
        ("gpt-4o", 4, 240, 24, 0.5),
        ("claude-3", 2, 80, 8, 0.5),
    ]
    # equal cost: more calls first
    assert totals[0][0] == "gpt-4o"


def test_hourly_buckets_and_a_range_starting_mid_day(collector: Collector, api: Api) -> None:
    experiment = seed_three_days(collector, api)
    hourly = usage(api, experiment, start_time_ms=D0, end_time_ms=D0 + DAY_MS, bucket="hour")
    assert len(hourly.buckets) == 24
    counts = {b.start_time_ms: b.stats.trace_count for b in hourly.buckets if b.stats.trace_count}
    assert counts == {D0: 1, D0 + 2 * HOUR_MS: 1, D0 + 13 * HOUR_MS: 1, D0 + 23 * HOUR_MS: 2}
    last = hourly.buckets[23].stats
    assert (last.latency_p50_ms, last.latency_p95_ms) == (40.0, 40.0)  # in progress left out

    afternoon = usage(api, experiment, start_time_ms=D0 + 12 * HOUR_MS, end_time_ms=D0 + DAY_MS)
    assert [b.start_time_ms for b in afternoon.buckets] == [D0]  # the day it falls in
    assert stats_of(afternoon.total)[:4] == (3, 1, 35.0, 39.5)  # one in progress
    assert [m.model for m in afternoon.models] == ["claude-3"]


def test_percentiles_follow_the_definition_on_many_traces(collector: Collector, api: Api) -> None:
    experiment = make_experiment(api, "many")
    rng = random.Random(7)
    durations: dict[int, list[float]] = {0: [], 1: []}
    for day, n in ((0, 37), (1, 101)):
        for _ in range(n):
            ms = rng.randrange(1, 5_000_000) / 1000  # microsecond steps
            durations[day].append(ms)
            store_trace(collector.engine, experiment, D0 + day * DAY_MS + rng.randrange(DAY_MS), ms)
    answer = usage(api, experiment, start_time_ms=D0, end_time_ms=D0 + 2 * DAY_MS)
    for day, bucket in enumerate(answer.buckets):
        assert bucket.stats.latency_p50_ms == pytest.approx(
            percentile(durations[day], 0.5), abs=0.0011
        )
        assert bucket.stats.latency_p95_ms == pytest.approx(
            percentile(durations[day], 0.95), abs=0.0011
        )
    everything = durations[0] + durations[1]
    assert answer.total.latency_p50_ms == pytest.approx(percentile(everything, 0.5), abs=0.0011)
    assert answer.total.latency_p95_ms == pytest.approx(percentile(everything, 0.95), abs=0.0011)


def test_empty_range_and_defaults(collector: Collector, api: Api) -> None:
    experiment = seed_three_days(collector, api)
    empty = usage(api, experiment, start_time_ms=D0 + 5 * DAY_MS, end_time_ms=D0 + 7 * DAY_MS)
    assert len(empty.buckets) == 2 and not empty.models and not empty.model_totals
    assert stats_of(empty.total) == (0, 0, None, None, 0, 0, 0.0)

    before = int(time.time() * 1000)
    default = usage(api, experiment)
    after = int(time.time() * 1000)
    assert before <= default.end_time_ms <= after and default.bucket == "day"
    assert default.end_time_ms - default.start_time_ms == 7 * DAY_MS
    assert len(default.buckets) in (7, 8)

    recent = make_experiment(api, "recent")
    now = int(time.time() * 1000)
    store_trace(collector.engine, recent, now - HOUR_MS, 12, calls=(GPT,))
    answer = usage(api, recent, bucket="HOUR", start_time_ms=now - 2 * HOUR_MS)
    assert answer.bucket == "hour" and answer.total.trace_count == 1


@pytest.mark.parametrize(
    ("fields", "code", "fragment"),
    [
        ({"bucket": "week"}, grpc.StatusCode.INVALID_ARGUMENT, "bucket must be 'day' or 'hour'"),
        (
            {"start_time_ms": D0, "end_time_ms": D0},
            grpc.StatusCode.INVALID_ARGUMENT,
            "must be before its end",
        ),
        (
            {"start_time_ms": D0, "end_time_ms": D0 + 60 * DAY_MS, "bucket": "hour"},
            grpc.StatusCode.INVALID_ARGUMENT,
            "choose a shorter range or bucket='day'",
        ),
        ({"start_time_ms": -5}, grpc.StatusCode.INVALID_ARGUMENT, "between 1970 and 2255"),
        ({"experiment_id": "abc"}, grpc.StatusCode.INVALID_ARGUMENT, "is not an experiment id"),
        ({"experiment_id": "987654"}, grpc.StatusCode.NOT_FOUND, "experiment 987654 not found"),
    ],
)
def test_bad_arguments_are_clear_errors(
    api: Api, fields: dict[str, Any], code: grpc.StatusCode, fragment: str
) -> None:
    request = {"experiment_id": "0", **fields}
    error = rpc_error(
        api.experiments.GetExperimentUsage, pb.GetExperimentUsageRequest(**request), timeout=20
    )
    assert error.code() == code, error.details()
    assert fragment in error.details()


@pytest.fixture
def sdk(collector: Collector, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("SPYGLASS_", "OTEL_")):
            monkeypatch.delenv(name)
    session.configure(collector=f"127.0.0.1:{collector.grpc_port}")
    yield
    session._shutdown()


def test_the_facade_gives_data_frames(collector: Collector, api: Api, sdk: None) -> None:
    experiment = seed_three_days(collector, api)
    days = spyglass.get_experiment_usage(
        experiment, start="2024-03-01T00:00:00Z", end=D0 + 3 * DAY_MS
    )
    assert list(days.columns) == [
        "bucket_start",
        "traces",
        "errors",
        "latency_p50_ms",
        "latency_p95_ms",
        "input_tokens",
        "output_tokens",
        "cost",
    ]
    assert days["traces"].tolist() == [5, 0, 1]
    assert days["latency_p95_ms"].tolist()[0] == 38.5 and math.isnan(days["latency_p50_ms"][1])
    assert str(days["bucket_start"][0]) == "2024-03-01 00:00:00+00:00"
    models = spyglass.get_experiment_usage(
        experiment, start=D0, end=D0 + 3 * DAY_MS, bucket="day", by="model"
    )
    assert models[["model", "calls", "cost"]].values.tolist() == [
        ["claude-3", 2, 0.5],
        ["gpt-4o", 2, 0.25],
        ["gpt-4o", 2, 0.25],
    ]
    with pytest.raises(InvalidArgumentError, match="bucket must be 'day' or 'hour'"):
        spyglass.get_experiment_usage(experiment, bucket="week")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="is no time"):
        spyglass.get_experiment_usage(experiment, start="yesterday-ish")


def test_both_model_plans_give_the_same_rows(collector: Collector, api: Api) -> None:
    """SQLite reads model spans by trace (a small share of the store) or in table order (a
    large one); both statements must agree, on either store."""
    experiment = seed_three_days(collector, api)
    checked = usage_store.usage_range(experiment, D0, D0 + 3 * DAY_MS, "day")
    params = checked.params(DAY_MS * NS)
    with collector.engine.connect() as connection:
        by_trace = connection.execute(usage_store._PER_MODEL_BY_TRACE, params).all()
        by_span = connection.execute(usage_store._PER_MODEL_BY_SPAN, params).all()
        assert usage_store._scan_spans(connection, 6)  # 6 of the 9 stored traces
        assert not usage_store._scan_spans(connection, 1)
        assert not usage_store._scan_spans(connection, 0)
    assert sorted(map(tuple, by_trace)) == sorted(map(tuple, by_span))
    assert len(by_trace) == 3
