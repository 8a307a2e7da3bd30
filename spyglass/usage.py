"""``get_experiment_usage``: an experiment's traces, errors, latency, tokens and cost per
hour or day (or per model), as a DataFrame: the numbers of the UI's Overview page, from the
same aggregate call (``ExperimentService.GetExperimentUsage``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from spyglass import session
from spyglass.errors import InvalidArgumentError
from spyglass.extras import require_extra
from spyglass.times import TIME_FORMS, parse_time_ms
from spyglass.v1 import experiments_pb2, experiments_pb2_grpc

BUCKET_COLUMNS = [
    "bucket_start",
    "traces",
    "errors",
    "latency_p50_ms",
    "latency_p95_ms",
    "input_tokens",
    "output_tokens",
    "cost",
]
MODEL_COLUMNS = ["bucket_start", "model", "calls", "input_tokens", "output_tokens", "cost"]


def get_experiment_usage(
    experiment_id: str | None = None,
    start: str | int | datetime | None = None,
    end: str | int | datetime | None = None,
    bucket: Literal["day", "hour"] = "day",
    by: Literal["time", "model"] = "time",
) -> Any:
    """Usage of ``experiment_id`` (None: the active experiment) from ``start`` (inclusive;
    None: 7 days before the end) to ``end`` (exclusive; None: now), per UTC ``bucket``.

    ``by="time"``: one row per bucket, empty ones included: ``bucket_start`` (UTC
    timestamp), ``traces``, ``errors``, ``latency_p50_ms``/``latency_p95_ms`` (of finished
    traces; NaN when none), ``input_tokens``, ``output_tokens``, ``cost``. ``by="model"``:
    one row per bucket and model that spans name: ``bucket_start``, ``model``, ``calls``,
    tokens and ``cost``. Times are datetimes, ms since the epoch, or text: ISO 8601
    ('2024-05-01T12:00:00Z'; no zone: local time) or an age before now ('24h', '7d').
    """
    if by not in ("time", "model"):
        raise InvalidArgumentError(f"by must be 'time' or 'model', not {by!r}")
    require_extra("evaluator", "get_experiment_usage()", modules=("pandas",))
    request = experiments_pb2.GetExperimentUsageRequest(
        experiment_id=str(experiment_id) if experiment_id else session.active_experiment_id(),
        bucket=bucket,
    )
    if start is not None:
        request.start_time_ms = _ms(start, "start")
    if end is not None:
        request.end_time_ms = _ms(end, "end")
    session.run_before_read()
    client = session.client()
    stub = client.stub(experiments_pb2_grpc.ExperimentServiceStub)
    answer = client.call(stub.GetExperimentUsage, request)
    import pandas as pd

    if by == "model":
        rows: list[list[Any]] = [
            [m.start_time_ms, m.model, m.call_count, m.input_tokens, m.output_tokens, m.cost]
            for m in answer.models
        ]
        frame = pd.DataFrame(rows, columns=MODEL_COLUMNS)
    else:
        rows = [
            [
                b.start_time_ms,
                b.stats.trace_count,
                b.stats.error_count,
                b.stats.latency_p50_ms if b.stats.HasField("latency_p50_ms") else float("nan"),
                b.stats.latency_p95_ms if b.stats.HasField("latency_p95_ms") else float("nan"),
                b.stats.input_tokens,
                b.stats.output_tokens,
                b.stats.cost,
            ]
            for b in answer.buckets
        ]
        frame = pd.DataFrame(rows, columns=BUCKET_COLUMNS)
    frame["bucket_start"] = pd.to_datetime(frame["bucket_start"], unit="ms", utc=True)
    return frame


def _ms(value: str | int | datetime, name: str) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    parsed = parse_time_ms(str(value))
    if parsed is None:
        raise InvalidArgumentError(f"{name} {value!r} is no time; write {TIME_FORMS}")
    return parsed
