"""The per-trace aggregate of a write batch (what the writer merges into ``traces``)."""

from __future__ import annotations

from typing import Any

from spyglass.collector.store.rows import (
    RANK_ATTRIBUTE,
    RANK_DEFAULT,
    RANK_SERVICE,
    SPAN_COLUMNS,
    STATUS_ERROR,
    ExperimentRef,
    SpanRecord,
)
from spyglass.collector.store.traces.aggregate import PREVIEW_CHARS, trace_rows
from spyglass.collector.store.traces.statements import TRACE_COLUMNS


def _record(rank: int = RANK_SERVICE, **fields: Any) -> SpanRecord:
    values = {
        "trace_id": "t1",
        "span_id": "s",
        "parent_span_id": "root",
        "name": "child",
        "start_time_ns": 100,
        "end_time_ns": 200,
        "status_code": 0,
        "received_at_ns": 1000,
        **fields,
    }
    row = tuple(values.get(column) for column in SPAN_COLUMNS)
    return SpanRecord(row, ExperimentRef(rank, "name", "x"))


def _by_column(row: tuple) -> dict[str, Any]:
    return dict(zip(TRACE_COLUMNS, row, strict=True))


def test_one_row_per_trace_with_sums_extremes_and_the_earliest_root() -> None:
    long_input = "i" * (PREVIEW_CHARS + 5)
    batch = [
        (
            _record(
                span_id="c1",
                start_time_ns=150,
                end_time_ns=900,
                input_tokens=5,
                cost=0.5,
                received_at_ns=1003,
                session_id="sess-child",
            ),
            7,
        ),
        (
            _record(
                span_id="r2",
                parent_span_id=None,
                name="late-root",
                start_time_ns=120,
                output_tokens=2,
                status_code=STATUS_ERROR,
                received_at_ns=999,
            ),
            7,
        ),
        (
            _record(
                span_id="r1",
                parent_span_id=None,
                name="root",
                start_time_ns=110,
                inputs=long_input,
                outputs="o",
                total_tokens=9,
                user_id="u",
            ),
            7,
        ),
        (_record(trace_id="t0", span_id="a"), 3),
    ]
    rows = trace_rows(batch)
    assert [row[0] for row in rows] == ["t0", "t1"], "one row per trace, in trace order"
    t1 = _by_column(rows[1])
    assert t1["name"] == "root" and t1["root_span_id"] == "r1", "the earliest root span"
    assert t1["status"] == "OK"
    assert t1["request_preview"] == long_input[:PREVIEW_CHARS]
    assert t1["response_preview"] == "o"
    assert (t1["start_time_ns"], t1["end_time_ns"]) == (110, 900)
    assert (t1["input_tokens"], t1["output_tokens"], t1["total_tokens"]) == (5, 2, 9)
    assert t1["cost"] == 0.5
    assert (t1["span_count"], t1["error_count"]) == (3, 1)
    assert t1["session_id"] == "sess-child", "the root has none: the first span's that has one"
    assert t1["user_id"] == "u"
    assert (t1["created_at_ns"], t1["last_span_at_ns"]) == (999, 1003)


def test_without_a_root_the_trace_is_in_progress() -> None:
    row = _by_column(trace_rows([(_record(), 1)])[0])
    assert (row["name"], row["root_span_id"], row["status"]) == (None, None, "IN_PROGRESS")


def test_the_highest_ranked_experiment_wins_and_the_lowest_id_on_a_tie() -> None:
    batch = [
        (_record(RANK_DEFAULT, span_id="a"), 1),
        (_record(RANK_ATTRIBUTE, span_id="b"), 9),
        (_record(RANK_ATTRIBUTE, span_id="c"), 4),
        (_record(RANK_SERVICE, span_id="d"), 2),
    ]
    for order in (batch, batch[::-1]):
        row = _by_column(trace_rows(order)[0])
        assert (row["experiment_id"], row["experiment_rank"]) == (4, RANK_ATTRIBUTE)
