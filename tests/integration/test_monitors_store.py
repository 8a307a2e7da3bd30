"""Monitors in the store, on SQLite and PostgreSQL: which traces a check takes, and when.

What it proves:

* with sample rate 0.5 about half of 400 complete traces are sampled, exactly those the
  deterministic draw picks, each becoming one row of the monitor's job however often the
  monitor checks;
* a trace whose last span arrived within the quiet period waits, and is taken once the
  quiet period has passed; a trace still IN_PROGRESS is not taken until it ends, and
  does not hold back the traces after it; one IN_PROGRESS for over an hour is given up on;
* the filter applies; ``include_existing`` decides whether stored traces count; a paused
  monitor takes nothing and catches up when resumed;
* window metrics count the rows and scores logged for the monitor's traces.

Checks run through ``check_due_monitors`` (ClaimWork's first step) with the check interval
set to 0, so a test need not wait a second between checks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from stored_traces import finish_traces, insert_traces

from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.store import migrate
from spyglass.collector.store.engine import create_store_engine
from spyglass.collector.store.jobs import leases as job_leases
from spyglass.collector.store.jobs import monitor_checks, monitors
from spyglass.collector.store.models import EvaluationJobItem
from spyglass.errors import AlreadyExistsError, InvalidFilterError
from spyglass.v1 import evaluation_pb2 as epb
from spyglass.v1 import jobs_pb2 as pb

OLD = 10**12  # ns before now: far beyond any quiet period
HOUR_NS = 3600 * 10**9
SCORER = pb.ScorerRef(type="ExactMatch")


@pytest.fixture
def engine(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr(monitor_checks, "MONITOR_CHECK_SECONDS", 0.0)
    monkeypatch.setattr(monitor_checks, "SETTLE_NS", 0)
    engine = create_store_engine(store_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def create(engine: Engine, name: str = "m", **fields: object) -> pb.Monitor:
    fields.setdefault("scorers", [SCORER])
    return monitors.create_monitor(engine, pb.CreateMonitorRequest(name=name, **fields))


def rows_of(engine: Engine, monitor: pb.Monitor) -> list[str]:
    """The trace ids of the monitor job's rows, in row order."""
    items = EvaluationJobItem.__table__.c
    with engine.connect() as connection:
        return list(
            connection.scalars(
                select(items.trace_id)
                .where(items.job_id == monitor.job_id)
                .order_by(items.row_index)
            )
        )


def old_traces(engine: Engine, n: int, **fields: object) -> list[str]:
    return insert_traces(engine, n, last_span_ns=time.time_ns() - OLD, **fields)


def test_half_are_sampled_once_each(engine: Engine) -> None:
    monitor = create(engine, sample_rate=0.5, quiet_period_seconds=0.5)
    ids = old_traces(engine, 400)
    for _ in range(3):  # repeated checks add nothing new
        monitor_checks.check_due_monitors(engine)
    taken = rows_of(engine, monitor)
    expected = [t for t in ids if monitor_checks.sampled(monitor.monitor_id, t, 0.5)]
    assert taken == expected  # the draw, in ingest order, each trace once
    assert 160 <= len(taken) <= 240
    again = monitors.get_monitor(engine, monitor.name)
    assert (again.traces_seen, again.traces_sampled) == (400, len(taken))
    assert again.last_check_time_ms > 0
    job = job_leases.claim_work(engine, pb.ClaimWorkRequest(worker_id="w")).job
    assert job.job_id == monitor.job_id and job.total_rows == len(taken)
    assert job.chunks_total == math.ceil(len(taken) / 100)


def test_quiet_period_and_in_progress_traces(engine: Engine) -> None:
    monitor = create(engine, quiet_period_seconds=0.5)
    now = time.time_ns()
    stuck = insert_traces(
        engine,
        1,
        status="IN_PROGRESS",
        created_ns=now - 2 * HOUR_NS,
        last_span_ns=now - 2 * HOUR_NS,
    )
    ready = old_traces(engine, 1)
    running = insert_traces(engine, 1, status="IN_PROGRESS")
    recent = insert_traces(engine, 1)  # its last span just arrived
    monitor_checks.check_due_monitors(engine)
    assert rows_of(engine, monitor) == ready
    time.sleep(0.6)
    monitor_checks.check_due_monitors(engine)
    assert rows_of(engine, monitor) == ready + recent  # quiet now; once each
    state = monitors.get_monitor(engine, monitor.monitor_id)
    assert (state.traces_seen, state.traces_sampled) == (2, 2)  # each counted once
    assert stuck[0] not in rows_of(engine, monitor) and running[0] not in rows_of(engine, monitor)
    # the running trace waits without holding back the traces after it
    later = old_traces(engine, 2)
    monitor_checks.check_due_monitors(engine)
    assert rows_of(engine, monitor) == ready + recent + later
    finish_traces(engine, running)  # its root span ends, no span since long ago
    monitor_checks.check_due_monitors(engine)
    assert rows_of(engine, monitor) == ready + recent + later + running
    state = monitors.get_monitor(engine, monitor.monitor_id)
    assert (state.traces_seen, state.traces_sampled) == (5, 5)


def test_postgresql_cursor_waits_for_ids_still_being_committed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a lower trace id can become visible after a higher one (two collectors
    committing at once): the cursor never passes traces stored in the last few seconds."""
    monitor = create(engine, quiet_period_seconds=0)
    monkeypatch.setattr(monitor_checks, "SETTLE_NS", 3600 * 10**9)
    young = old_traces(engine, 2)  # stored just now, their last span long ago
    monitor_checks.check_due_monitors(engine)
    taken = rows_of(engine, monitor)
    if engine.dialect.name == "postgresql":
        assert taken == []  # not passed yet: a lower id may still appear
    else:
        assert taken == young  # SQLite commits in id order
    monkeypatch.setattr(monitor_checks, "SETTLE_NS", 0)
    monitor_checks.check_due_monitors(engine)
    assert rows_of(engine, monitor) == young


def test_filter_and_include_existing(engine: Engine) -> None:
    before = old_traces(engine, 3, name="good")
    new_only = create(engine, "new", filter_string="trace.name = 'good'")
    everything = create(engine, "all", filter_string="trace.name = 'good'", include_existing=True)
    good = old_traces(engine, 2, name="good")
    old_traces(engine, 2, name="bad")
    monitor_checks.check_due_monitors(engine)
    assert rows_of(engine, new_only) == good
    assert rows_of(engine, everything) == before + good
    assert monitors.get_monitor(engine, "all").traces_seen == 5


def test_pause_and_resume(engine: Engine) -> None:
    monitor = create(engine, quiet_period_seconds=0)
    monitors.update_monitor(engine, pb.UpdateMonitorRequest(monitor="m", enabled=False))
    waiting = old_traces(engine, 4)
    monitor_checks.check_due_monitors(engine)
    assert rows_of(engine, monitor) == []
    resumed = monitors.update_monitor(engine, pb.UpdateMonitorRequest(monitor="m", enabled=True))
    assert resumed.enabled
    monitor_checks.check_due_monitors(engine)
    assert rows_of(engine, monitor) == waiting


def test_window_metrics_after_results(engine: Engine) -> None:
    monitor = create(engine, quiet_period_seconds=0)
    ids = old_traces(engine, 3)
    claim = job_leases.claim_work(engine, pb.ClaimWorkRequest(worker_id="w"))
    assert [i.trace_id for i in claim.items] == ids
    assert claim.job.monitor_id == monitor.monitor_id
    values = [1.0, 0.0, None]
    records = [
        epb.EvaluationRecord(row_index=item.row_index, trace_id=item.trace_id, scores=[_score(v)])
        for item, v in zip(claim.items, values)
    ]
    job_leases.log_work_results(
        engine, pb.LogWorkResultsRequest(lease_id=claim.lease_id, worker_id="w", records=records)
    )
    release = job_leases.release_lease(
        engine,
        pb.ReleaseLeaseRequest(lease_id=claim.lease_id, worker_id="w", done=True),
        PriceTable.load(),
    )
    assert release.job_status == pb.RUNNING  # a monitor's job never finishes by itself
    shown = monitors.get_monitor(engine, "m")
    assert shown.traces_scored == 3
    assert [w.window for w in shown.windows] == ["1h", "24h", "7d"]
    for window in shown.windows:
        (score,) = window.scores
        assert window.rows == 3
        assert (score.name, score.count, score.mean, score.error_count) == ("match", 2, 0.5, 1)


def test_create_checks_and_delete(engine: Engine) -> None:
    create(engine)
    with pytest.raises(AlreadyExistsError, match="'m' exists already"):
        create(engine)
    with pytest.raises(InvalidFilterError, match="unknown field"):
        create(engine, "other", filter_string="nonsense = 1")
    old_traces(engine, 2)
    monitor_checks.check_due_monitors(engine)
    listed = monitors.list_monitors(engine, pb.ListMonitorsRequest())
    assert [m.name for m in listed.monitors] == ["m"] and not listed.monitors[0].windows
    monitors.delete_monitor(engine, "m")
    assert monitors.list_monitors(engine, pb.ListMonitorsRequest()).monitors == []
    # its chunk is cancelled: nothing left to claim
    assert not job_leases.claim_work(engine, pb.ClaimWorkRequest(worker_id="w")).lease_id


def _score(value: float | None) -> epb.EvaluationScore:
    score = epb.EvaluationScore(name="match")
    if value is None:
        score.error.error_code, score.error.error_message = "ScorerError", "boom"
    else:
        score.value_json, score.score = str(value), value
    return score


def test_a_paused_monitors_chunks_wait(engine: Engine) -> None:
    create(engine, quiet_period_seconds=0)
    old_traces(engine, 3)
    monitor_checks.check_due_monitors(engine)  # the traces are chunked
    monitors.update_monitor(engine, pb.UpdateMonitorRequest(monitor=" m ", enabled=False))
    assert not job_leases.claim_work(engine, pb.ClaimWorkRequest(worker_id="w")).lease_id
    monitors.update_monitor(engine, pb.UpdateMonitorRequest(monitor="m", enabled=True))
    assert len(job_leases.claim_work(engine, pb.ClaimWorkRequest(worker_id="w")).items) == 3
