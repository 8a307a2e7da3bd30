"""GetMonitorSeries in the store, on SQLite and PostgreSQL: a monitor's scores bucketed over
time, and CreateMonitor's refusal of two scorers with one score name.

What it proves:

* after three traces are scored (1.0, 0.0 and an error) the newest bucket of every window
  holds the three rows, the mean 0.5 over 2 scored rows and 1 error, other buckets are
  empty (NaN mean, zero counts), and the buckets are aligned, ordered and cover the window;
* an unknown window is refused naming the choices; an unknown monitor is NOT_FOUND;
* two scorers whose scores would share a name are refused by the collector itself.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from stored_traces import insert_traces

from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.store import migrate
from spyglass.collector.store.engine import create_store_engine
from spyglass.collector.store.jobs import leases as job_leases
from spyglass.collector.store.jobs import monitor_checks, monitor_series, monitors
from spyglass.errors import InvalidArgumentError, NotFoundError
from spyglass.v1 import evaluation_pb2 as epb
from spyglass.v1 import jobs_pb2 as pb

OLD = 10**12


@pytest.fixture
def engine(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr(monitor_checks, "MONITOR_CHECK_SECONDS", 0.0)
    monkeypatch.setattr(monitor_checks, "SETTLE_NS", 0)
    engine = create_store_engine(store_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _score(value: float | None) -> epb.EvaluationScore:
    score = epb.EvaluationScore(name="match")
    if value is None:
        score.error.error_code, score.error.error_message = "ScorerError", "boom"
    else:
        score.value_json, score.score = str(value), value
    return score


def test_scores_are_bucketed_over_each_window(engine: Engine) -> None:
    monitor = monitors.create_monitor(
        engine,
        pb.CreateMonitorRequest(
            name="series", scorers=[pb.ScorerRef(type="ExactMatch")], quiet_period_seconds=0
        ),
    )
    insert_traces(engine, 3, last_span_ns=time.time_ns() - OLD)
    claim = job_leases.claim_work(engine, pb.ClaimWorkRequest(worker_id="w"))
    assert len(claim.items) == 3
    records = [
        epb.EvaluationRecord(row_index=item.row_index, trace_id=item.trace_id, scores=[_score(v)])
        for item, v in zip(claim.items, [1.0, 0.0, None])
    ]
    job_leases.log_work_results(
        engine, pb.LogWorkResultsRequest(lease_id=claim.lease_id, worker_id="w", records=records)
    )
    now = int(time.time() * 1000)
    for window, (length, bucket) in monitor_series.SERIES_WINDOWS.items():
        series = monitor_series.get_monitor_series(
            engine, pb.GetMonitorSeriesRequest(monitor="series", window=window)
        )
        assert series.monitor_id == monitor.monitor_id
        assert series.window == window and series.bucket_ms == bucket
        starts = list(series.bucket_start_ms)
        assert len(starts) == length // bucket
        assert all(s % bucket == 0 for s in starts)
        assert starts == sorted(starts) and starts[-1] <= now < starts[-1] + bucket + 5000
        assert len(series.rows) == len(starts)
        assert series.rows[-1] + (series.rows[-2] if len(starts) > 1 else 0) == 3
        assert sum(series.rows) == 3
        (score,) = series.scores
        assert score.name == "match"
        assert sum(score.count) == 2 and sum(score.error_count) == 1
        filled = [n for n, c in enumerate(score.count) if c or score.error_count[n]]
        assert len(filled) >= 1
        if len(filled) == 1:  # all stored within one bucket (the usual case)
            assert score.mean[filled[0]] == pytest.approx(0.5)
        empty = [n for n in range(len(starts)) if n not in filled]
        assert all(math.isnan(score.mean[n]) for n in empty)
    default = monitor_series.get_monitor_series(
        engine, pb.GetMonitorSeriesRequest(monitor="series")
    )
    assert default.window == "24h"
    job_leases.release_lease(
        engine,
        pb.ReleaseLeaseRequest(lease_id=claim.lease_id, worker_id="w", done=True),
        PriceTable.load(),
    )


def test_bad_window_and_unknown_monitor(engine: Engine) -> None:
    monitors.create_monitor(
        engine, pb.CreateMonitorRequest(name="m", scorers=[pb.ScorerRef(type="ExactMatch")])
    )
    with pytest.raises(InvalidArgumentError, match="window must be one of 1h, 24h, 7d"):
        monitor_series.get_monitor_series(
            engine, pb.GetMonitorSeriesRequest(monitor="m", window="2d")
        )
    with pytest.raises(NotFoundError, match="no monitor"):
        monitor_series.get_monitor_series(engine, pb.GetMonitorSeriesRequest(monitor="nope"))


def test_two_scorers_with_one_name_are_refused(engine: Engine) -> None:
    with pytest.raises(InvalidArgumentError, match="two scorers are named 'exact_match'"):
        monitors.create_monitor(
            engine,
            pb.CreateMonitorRequest(
                name="dup",
                scorers=[pb.ScorerRef(type="ExactMatch"), pb.ScorerRef(type="ExactMatch")],
            ),
        )
    assert monitors.list_monitors(engine, pb.ListMonitorsRequest()).monitors == []
