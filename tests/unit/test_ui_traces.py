"""The Traces page's reading of its URL (filter, time range, sort, paging) and what its cells
show (previews, assessment values); the page itself is tested in Chromium
(tests/browser/test_traces_page.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest
from starlette.requests import Request

from spyglass.collector.ui.pages.traces import (
    PAGE_SIZE_MAX,
    View,
    assessment_columns,
    assessment_values,
    preview,
)
from spyglass.v1 import assessments_pb2, traces_pb2


def view_of(query: str) -> View:
    return View.of(Request({"type": "http", "query_string": query.encode(), "headers": []}))


def test_defaults_are_every_trace_newest_first() -> None:
    view = view_of("")
    assert view.search_filter() == ""
    assert view.order_by() == "attributes.timestamp_ms DESC"
    assert view.size == 50 and view.page == ""
    assert view.query() == ""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("range=1h", "attributes.timestamp_ms >= -1h"),
        (
            "range=1w&filter=tags.env+%3D+%27prod%27",
            "(tags.env = 'prod') AND attributes.timestamp_ms >= -1w",
        ),
        ("filter=a+OR+b&range=1d", "(a OR b) AND attributes.timestamp_ms >= -1d"),
        ("range=bogus&filter=x", "x"),
        ("range=custom", ""),
    ],
)
def test_time_range_is_anded_with_the_filter(query: str, expected: str) -> None:
    assert view_of(query).search_filter() == expected


def test_custom_range_reads_the_browsers_local_time() -> None:
    view = view_of("range=custom&from=2026-12-07T10:00&to=2026-12-07T11:30&tz=60")
    start = int(datetime(2026, 12, 7, 9, 0, tzinfo=UTC).timestamp() * 1000)
    end = int(datetime(2026, 12, 7, 10, 30, tzinfo=UTC).timestamp() * 1000)
    assert view.search_filter() == (
        f"attributes.timestamp_ms >= {start} AND attributes.timestamp_ms <= {end}"
    )
    assert view_of("range=custom&from=not-a-time").search_filter() == ""


def test_sort_reads_known_columns_only_and_toggles() -> None:
    assert view_of("order=execution_time_ms.asc").order_by() == "attributes.execution_time_ms ASC"
    assert view_of("order=request_preview.asc").order == ("timestamp_ms", True)
    assert view_of("order=cost.sideways").order == ("timestamp_ms", True)
    view = view_of("order=cost.desc&page=abc&filter=x")
    toggled = parse_qs(view.sort_query("cost")[1:])
    assert toggled == {"order": ["cost.asc"], "filter": ["x"]}  # back to the first page
    assert parse_qs(view.sort_query("total_tokens")[1:])["order"] == ["total_tokens.desc"]
    assert view_of("").sort_query("timestamp_ms") == "?order=timestamp_ms.asc"
    assert view_of("order=timestamp_ms.asc").sort_query("timestamp_ms") == ""


@pytest.mark.parametrize(
    ("size", "expected"), [("2", 2), ("0", 1), ("100000", PAGE_SIZE_MAX), ("x", 50)]
)
def test_page_size_is_bounded(size: str, expected: int) -> None:
    assert view_of(f"size={size}").size == expected


def test_next_page_query_keeps_the_view() -> None:
    view = view_of("filter=x&range=1h&size=2&order=cost.asc")
    assert parse_qs(view.query(page="tok")[1:]) == {
        "filter": ["x"],
        "range": ["1h"],
        "size": ["2"],
        "order": ["cost.asc"],
        "page": ["tok"],
    }


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (json.dumps({"question": "How long?"}), "How long?"),
        (json.dumps(json.dumps({"question": "How long?"})), "How long?"),  # input.value
        (json.dumps("plain"), "plain"),
        (json.dumps(json.dumps("twice")), "twice"),
        ('{"a": 1, "b": 2}', '{"a": 1, "b": 2}'),
        ('{"cut off', '{"cut off'),
        ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),  # escaped by Jinja
        (None, ""),
    ],
)
def test_previews_are_text_for_people(text: str | None, shown: str) -> None:
    assert preview(text) == shown


def _feedback(name: str, value: str | None = None, valid: bool = True, error: str = "") -> object:
    feedback = assessments_pb2.Feedback(
        error=assessments_pb2.AssessmentError(error_code=error) if error else None
    )
    if value is not None:
        feedback.value_json = value
    return assessments_pb2.Assessment(name=name, feedback=feedback, valid=valid)


def test_assessment_columns_and_values() -> None:
    info = traces_pb2.TraceInfo(
        assessments=[
            _feedback("correctness", "0.2", valid=False),
            _feedback("correctness", "0.9"),
            _feedback("correctness", "0.1", valid=False),  # overridden later: not shown
            _feedback("safety", error="JUDGE_TIMEOUT"),
            assessments_pb2.Assessment(
                name="expected_response",
                expectation=assessments_pb2.Expectation(value_json=json.dumps("30 days")),
                valid=True,
            ),
        ]
    )
    other = traces_pb2.TraceInfo(assessments=[_feedback("tone", "true")])
    assert assessment_columns([info, other]) == [
        ("expectation:expected_response", "expectation: expected_response"),
        ("feedback:correctness", "feedback: correctness"),
        ("feedback:safety", "feedback: safety"),
        ("feedback:tone", "feedback: tone"),
    ]
    assert assessment_values(info) == {
        "feedback:correctness": "0.9",
        "feedback:safety": "error: JUDGE_TIMEOUT",
        "expectation:expected_response": "30 days",
    }
