"""An experiment's usage over a time range, per hour or day and per model, aggregated in SQL.

Two statements, neither returning more than a row per bucket (and model):

* the traces of the range (read through the traces table's ``(experiment_id,
  start_time_ns)`` index), per bucket: traces, errors (root span failed), input/output tokens
  and cost, summed from the per-trace aggregates the writer keeps; and the latency
  percentiles (p50, p95) of finished traces' execution time (end minus start), per bucket
  and over the whole range. PostgreSQL computes them with ``percentile_cont`` over
  ``GROUPING SETS`` (each bucket, and the range). SQLite has no percentile aggregate: there
  each trace gets its rank among the finished traces of its bucket and of the range by window
  functions (``row_number``, ``count``), and the aggregate keeps only the durations at the
  two ranks around each percentile's position, which are then interpolated as
  ``percentile_cont`` does (position ``p * (n - 1)``, linear between the neighbouring ranks).
  Both stores give the same numbers, rounded to the microsecond; totals are summed from the
  buckets on both;
* the spans of the range's traces that name a model, per model and bucket (calls, tokens,
  cost). PostgreSQL chooses its join itself. SQLite's only plan for the join looks up each
  trace's spans by primary key, one random read per span; when the range holds a large share
  of the store's traces (at least 1 in :data:`SCAN_SHARE`, estimated from the ingest
  sequence), reading the spans table in order and looking up each model span's trace is
  several times faster, so that plan is chosen instead. Both forms give the same rows.

A trace belongs to the bucket its start falls in, and its model calls with it. Buckets are
UTC hours or days (``start_time_ns`` divided by the bucket's length); every bucket of the
range is returned, empty ones as zeros, so a chart has an even time axis.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text

from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.ids import parse_experiment_id, require_experiment
from spyglass.errors import InvalidArgumentError
from spyglass.v1 import experiments_pb2 as pb

BUCKETS_MS = {"hour": 3_600_000, "day": 86_400_000}
DEFAULT_BUCKET = "day"
DEFAULT_RANGE_MS = 7 * 86_400_000
MAX_BUCKETS = 1000
MAX_TIME_MS = 9_000_000_000_000  # nanoseconds since the epoch fit 64 bits until 2262
PERCENTILES = (50, 95)  # whole percents: exact integer positions on SQLite
_NS = 1_000_000

_RANGE = "experiment_id = :experiment AND start_time_ns >= :low AND start_time_ns < :high"
_FINISHED = "status <> 'IN_PROGRESS' AND end_time_ns IS NOT NULL"

SCAN_SHARE = 8  # SQLite: scan the spans table when the range has >= 1/8 of the traces

# one row per trace of the range: its bucket, error flag, tokens, cost and, when finished,
# its execution time (NULL otherwise: percentiles skip it)
_TRACE_ROWS = f"""
    SELECT start_time_ns / :size AS bucket,
           CASE WHEN status = 'ERROR' THEN 1 ELSE 0 END AS failed,
           input_tokens, output_tokens, cost,
           CASE WHEN {_FINISHED} THEN end_time_ns - start_time_ns END AS d
    FROM traces WHERE {_RANGE}
"""
_SUMS = (
    "count(*) AS traces, sum(failed) AS errors, sum(input_tokens) AS input_tokens, "
    "sum(output_tokens) AS output_tokens, sum(cost) AS cost"
)


def _postgresql_traces() -> Any:
    """Per bucket (``whole`` = 0) and for the range (``whole`` = 1): sums and percentiles."""
    wanted = ", ".join(
        f"percentile_cont({p / 100}) WITHIN GROUP (ORDER BY d) AS p{p}" for p in PERCENTILES
    )
    return text(
        f"SELECT bucket, grouping(bucket) AS whole, {_SUMS}, {wanted} "
        f"FROM ({_TRACE_ROWS}) r GROUP BY GROUPING SETS ((bucket), ())"
    )


def _sqlite_traces() -> Any:
    """Per bucket: sums and, for each percentile of the bucket (``p``) and of the range
    (``g``), the durations at the ranks just below and above its position and the position's
    fraction in hundredths (the range's values appear in the bucket holding that rank)."""
    picks = []
    for scope, rank, count in (("p", "i", "n"), ("g", "gi", "gn")):
        for p in PERCENTILES:
            low = f"({count} - 1) * {p} / 100"
            high = f"(({count} - 1) * {p} + 99) / 100"
            picks.append(
                f"max(CASE WHEN {rank} = {low} THEN d END) AS {scope}{p}_low, "
                f"max(CASE WHEN {rank} = {high} THEN d END) AS {scope}{p}_high, "
                f"max(({count} - 1) * {p} % 100) AS {scope}{p}_hundredths"
            )
    return text(
        f"""
        SELECT bucket, {_SUMS}, {", ".join(picks)}
        FROM (
            SELECT r.*,
                   row_number() OVER (PARTITION BY bucket ORDER BY d IS NULL, d) - 1 AS i,
                   count(d) OVER (PARTITION BY bucket) AS n,
                   row_number() OVER (ORDER BY d IS NULL, d) - 1 AS gi,
                   count(d) OVER () AS gn
            FROM ({_TRACE_ROWS}) r
        ) ranked
        GROUP BY bucket
        """
    )


_MODEL_SUMS = (
    "t.start_time_ns / :size AS bucket, s.model AS model, count(*) AS calls, "
    "sum(coalesce(s.input_tokens, 0)) AS input_tokens, "
    "sum(coalesce(s.output_tokens, 0)) AS output_tokens, "
    "sum(coalesce(s.cost, 0.0)) AS cost"
)
_TRACE_IN_RANGE = (
    "t.experiment_id = :experiment AND t.start_time_ns >= :low AND t.start_time_ns < :high"
)
# the range's traces, then each one's spans by primary key
_PER_MODEL_BY_TRACE = text(
    f"SELECT {_MODEL_SUMS} FROM traces t JOIN spans s ON s.trace_id = t.trace_id "
    f"WHERE {_TRACE_IN_RANGE} AND s.model IS NOT NULL GROUP BY 1, 2"
)
# SQLite only: the spans table in order, then each model span's trace by its unique id
_PER_MODEL_BY_SPAN = text(
    f"SELECT {_MODEL_SUMS} FROM spans s CROSS JOIN traces t "
    f"WHERE s.model IS NOT NULL AND t.trace_id = s.trace_id AND {_TRACE_IN_RANGE} "
    "GROUP BY 1, 2"
)


@dataclass(frozen=True)
class UsageRange:
    """A checked request: the experiment, ``[start_ms, end_ms)`` and the bucket length."""

    experiment_id: int
    start_ms: int
    end_ms: int
    bucket: str

    @property
    def size_ms(self) -> int:
        return BUCKETS_MS[self.bucket]

    def params(self, group_size_ns: int) -> dict[str, int]:
        return {
            "experiment": self.experiment_id,
            "low": self.start_ms * _NS,
            "high": self.end_ms * _NS,
            "size": group_size_ns,
        }


def usage_range(
    experiment_id: str, start_ms: int | None, end_ms: int | None, bucket: str
) -> UsageRange:
    """The request's range with defaults filled in (end: now; start: 7 days before the end;
    bucket: day); InvalidArgumentError when it makes no sense or has too many buckets."""
    number = parse_experiment_id(experiment_id)
    name = (bucket or DEFAULT_BUCKET).strip().lower()
    if name not in BUCKETS_MS:
        raise InvalidArgumentError(
            f"bucket must be 'day' or 'hour', got {bucket!r}; leave it empty for 'day'"
        )
    end = now_ms() if end_ms is None else end_ms
    start = end - DEFAULT_RANGE_MS if start_ms is None else start_ms
    if start < 0 or end > MAX_TIME_MS:
        raise InvalidArgumentError(
            f"the range must lie between 1970 and 2255: start {start} ms, end {end} ms "
            "since the epoch"
        )
    if start >= end:
        raise InvalidArgumentError(
            f"the range's start ({start} ms since the epoch) must be before its end ({end} ms)"
        )
    size = BUCKETS_MS[name]
    count = (end - 1) // size - start // size + 1
    if count > MAX_BUCKETS:
        raise InvalidArgumentError(
            f"the range spans {count:,} {name}s; at most {MAX_BUCKETS:,} buckets are "
            "answered at once: choose a shorter range"
            + (" or bucket='day'" if name == "hour" else "")
        )
    return UsageRange(number, start, end, name)


Latency = tuple[float | None, float | None]  # (p50 ms, p95 ms)


def experiment_usage(
    engine: Engine,
    experiment_id: str,
    start_ms: int | None,
    end_ms: int | None,
    bucket: str,
) -> pb.GetExperimentUsageResponse:
    """The experiment's usage over the range (module docstring)."""
    checked = usage_range(experiment_id, start_ms, end_ms, bucket)
    params = checked.params(checked.size_ms * _NS)
    with engine.connect() as connection:
        require_experiment(connection, checked.experiment_id)
        if connection.dialect.name == "postgresql":
            buckets, percentiles, overall = _postgresql_trace_usage(connection, params)
            by_span = False
        else:
            buckets, percentiles, overall = _sqlite_trace_usage(connection, params)
            by_span = _scan_spans(connection, sum(row.traces for row in buckets))
        per_model = _PER_MODEL_BY_SPAN if by_span else _PER_MODEL_BY_TRACE
        models = connection.execute(per_model, params).all()
    return _response(checked, buckets, percentiles, overall, models)


def _postgresql_trace_usage(
    connection: Connection, params: dict[str, int]
) -> tuple[list[Any], dict[int, Latency], Latency]:
    """(bucket rows, bucket -> latency, the range's latency) in one statement."""
    buckets: list[Any] = []
    percentiles: dict[int, Latency] = {}
    overall: Latency = (None, None)
    for row in connection.execute(_postgresql_traces(), params):
        latency = (_ms(row.p50), _ms(row.p95))
        if row.whole:
            overall = latency
        else:
            buckets.append(row)
            percentiles[row.bucket] = latency
    return buckets, percentiles, overall


def _sqlite_trace_usage(
    connection: Connection, params: dict[str, int]
) -> tuple[list[Any], dict[int, Latency], Latency]:
    """The same as :func:`_postgresql_trace_usage`, percentiles from ranks (module docstring)."""
    buckets = connection.execute(_sqlite_traces(), params).all()
    percentiles: dict[int, Latency] = {}
    whole: dict[str, Any] = {}
    for row in buckets:
        values = row._mapping
        percentiles[row.bucket] = tuple(  # type: ignore[assignment]
            _ms(_interpolate(values[f"p{p}_low"], values[f"p{p}_high"], values[f"p{p}_hundredths"]))
            for p in PERCENTILES
        )
        for key, value in values.items():  # the range's ranks lie in one bucket each
            if key.startswith("g") and value is not None:
                whole[key] = value
    overall = tuple(
        _ms(
            _interpolate(
                whole.get(f"g{p}_low"), whole.get(f"g{p}_high"), whole.get(f"g{p}_hundredths")
            )
        )
        for p in PERCENTILES
    )
    return list(buckets), percentiles, overall  # type: ignore[return-value]


def _scan_spans(connection: Connection, traces_in_range: int) -> bool:
    """Whether SQLite should read the spans table in order (module docstring): the range
    holds at least 1 in SCAN_SHARE of the traces ever stored (the ingest sequence's top,
    read from the primary key)."""
    if not traces_in_range:
        return False
    stored = connection.execute(text("SELECT max(id) FROM traces")).scalar() or 0
    return traces_in_range * SCAN_SHARE >= stored


def _interpolate(low: int | None, high: int | None, hundredths: int | None) -> float | None:
    """percentile_cont's value between the neighbouring ranks' durations."""
    if low is None or high is None:
        return None
    return low + (high - low) * ((hundredths or 0) / 100)


def _ms(ns: float | None) -> float | None:
    """Nanoseconds as milliseconds, rounded to the microsecond (so both stores agree)."""
    return None if ns is None else round(float(ns) / _NS, 3)


def _stats(row: Any | None, latency: Latency | None) -> pb.UsageStats:
    stats = pb.UsageStats()
    if row is not None:
        stats.trace_count = row.traces
        stats.error_count = int(row.errors or 0)
        stats.input_tokens = int(row.input_tokens or 0)
        stats.output_tokens = int(row.output_tokens or 0)
        stats.cost = float(row.cost or 0.0)
    p50, p95 = latency or (None, None)
    if p50 is not None:
        stats.latency_p50_ms = p50
    if p95 is not None:
        stats.latency_p95_ms = p95
    return stats


def _response(
    checked: UsageRange,
    totals: Sequence[Any],
    percentiles: dict[int, Latency],
    overall: Latency,
    models: Sequence[Any],
) -> pb.GetExperimentUsageResponse:
    size = checked.size_ms
    by_bucket = {row.bucket: row for row in totals}
    response = pb.GetExperimentUsageResponse(
        start_time_ms=checked.start_ms, end_time_ms=checked.end_ms, bucket=checked.bucket
    )
    total = response.total
    for number in range(checked.start_ms // size, (checked.end_ms - 1) // size + 1):
        stats = _stats(by_bucket.get(number), percentiles.get(number))
        response.buckets.add(start_time_ms=number * size).stats.CopyFrom(stats)
        total.trace_count += stats.trace_count
        total.error_count += stats.error_count
        total.input_tokens += stats.input_tokens
        total.output_tokens += stats.output_tokens
    total.cost = float(sum(float(row.cost or 0.0) for row in totals))
    if overall[0] is not None:
        total.latency_p50_ms = overall[0]
    if overall[1] is not None:
        total.latency_p95_ms = overall[1]

    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    for row in sorted(models, key=lambda r: (r.bucket, r.model)):
        response.models.add(
            start_time_ms=row.bucket * size,
            model=row.model,
            call_count=row.calls,
            input_tokens=int(row.input_tokens or 0),
            output_tokens=int(row.output_tokens or 0),
            cost=float(row.cost or 0.0),
        )
        acc = sums[row.model]
        acc[0] += row.calls
        acc[1] += int(row.input_tokens or 0)
        acc[2] += int(row.output_tokens or 0)
        acc[3] += float(row.cost or 0.0)
    for model, (calls, tokens_in, tokens_out, cost) in sorted(
        sums.items(), key=lambda item: (-item[1][3], -item[1][0], item[0])
    ):
        response.model_totals.add(
            start_time_ms=checked.start_ms,
            model=model,
            call_count=int(calls),
            input_tokens=int(tokens_in),
            output_tokens=int(tokens_out),
            cost=cost,
        )
    return response
