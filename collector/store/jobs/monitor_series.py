"""A monitor's scores over time (GetMonitorSeries): the rows of its run stored within a
window ending now, in equal time buckets, and per score name each bucket's mean of the
numeric scores with their count and the rows whose scoring failed.

Rows count by the time they were stored (``evaluation_records.created_time_ms``), as the
monitor's window metrics do, so a chart's buckets add up to GetMonitor's window figures.
Buckets are aligned to multiples of their length since the epoch; the database groups and
averages, so only one row per (bucket, score name) leaves it.
"""

from __future__ import annotations

from sqlalchemy import Engine, and_, case, func, select

from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.jobs.monitors import find_monitor
from spyglass.collector.store.models import EvaluationRecordRow, EvaluationResultRow
from spyglass.errors import InvalidArgumentError
from spyglass.v1 import jobs_pb2 as pb

# window -> (length, bucket length), ms
SERIES_WINDOWS = {
    "1h": (3600_000, 60_000),
    "24h": (86_400_000, 900_000),
    "7d": (7 * 86_400_000, 7_200_000),
}
DEFAULT_WINDOW = "24h"

_RECORDS = EvaluationRecordRow.__table__.c
_RESULTS = EvaluationResultRow.__table__.c


def get_monitor_series(engine: Engine, request: pb.GetMonitorSeriesRequest) -> pb.MonitorSeries:
    """The monitor's rows and scores per bucket over the window (module docstring)."""
    window = request.window.strip() or DEFAULT_WINDOW
    if window not in SERIES_WINDOWS:
        raise InvalidArgumentError(
            f"window must be one of {', '.join(SERIES_WINDOWS)}, got {request.window!r}"
        )
    length, bucket = SERIES_WINDOWS[window]
    now = now_ms()
    last = now // bucket * bucket
    first = (now - length) // bucket * bucket + bucket
    starts = list(range(first, last + 1, bucket))
    index = {start: n for n, start in enumerate(starts)}
    series = pb.MonitorSeries(window=window, bucket_ms=bucket, bucket_start_ms=starts)
    rows = [0] * len(starts)
    with engine.connect() as connection:
        monitor = find_monitor(connection, request.monitor)
        series.monitor_id = monitor.monitor_id
        in_window = and_(_RECORDS.run_id == monitor.run_id, _RECORDS.created_time_ms >= first)
        slot = (_RECORDS.created_time_ms // bucket * bucket).label("slot")
        for start, count in connection.execute(
            select(slot, func.count()).where(in_window).group_by(slot)
        ):
            if int(start) in index:
                rows[index[int(start)]] = count
        ok = and_(_RESULTS.error.is_(None), _RESULTS.score.is_not(None))
        scored = (
            select(
                _RESULTS.name,
                slot,
                func.count(case((ok, 1))),
                func.avg(case((ok, _RESULTS.score))),
                func.count(_RESULTS.error),
            )
            .join_from(
                EvaluationResultRow,
                EvaluationRecordRow,
                and_(_RECORDS.run_id == _RESULTS.run_id, _RECORDS.row_index == _RESULTS.row_index),
            )
            .where(in_window)
            .group_by(_RESULTS.name, slot)
        )
        by_name: dict[str, pb.ScoreSeries] = {}
        for name, start, count, mean, errors in connection.execute(scored):
            if int(start) not in index:
                continue
            found = by_name.get(name)
            if found is None:
                found = by_name[name] = pb.ScoreSeries(
                    name=name,
                    mean=[float("nan")] * len(starts),
                    count=[0] * len(starts),
                    error_count=[0] * len(starts),
                )
            n = index[int(start)]
            found.count[n] = count
            found.error_count[n] = errors
            if mean is not None:
                found.mean[n] = float(mean)
    series.rows.extend(rows)
    series.scores.extend(by_name[name] for name in sorted(by_name))
    return series
