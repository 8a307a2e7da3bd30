"""How the CLI prints values and listings: readable cells for people, real JSON and CSV for
programs, and one unbroken line per row when the output is not a terminal."""

from __future__ import annotations

import csv
import io
import json
import math
import time

import pytest

from spyglass.cli.output import Column, ago, iso_time, render, short, when
from spyglass.quantities import cost, countdown, duration, tokens

NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("usd", "shown"),
    [
        (0.0000091, "$0.0000091"),
        (0.00000912345, "$0.00000912"),
        (0.0123456, "$0.0123"),
        (0.35, "$0.35"),
        (0.0002004, "$0.0002"),
        (1234.567, "$1,234.57"),
        (0.0, "$0"),
        (None, "-"),
        (math.nan, "-"),
    ],
)
def test_costs_keep_their_significant_digits(usd: float | None, shown: str) -> None:
    assert cost(usd) == shown


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (0, "0 ms"),
        (0.25, "0.25 ms"),
        (850, "850 ms"),
        (1250, "1.25 s"),
        (65_000, "1 min 05 s"),
        (3_725_000, "1 h 02 min"),
        (None, "-"),
    ],
)
def test_durations_read_in_their_unit(ms: float | None, shown: str) -> None:
    assert duration(ms) == shown


def test_token_counts_have_thousands_separators() -> None:
    assert (tokens(1234567), tokens(12), tokens(None)) == ("1,234,567", "12", "-")


@pytest.mark.parametrize(
    ("seconds_before", "shown"),
    [
        (0.2, "just now"),
        (42, "42 s ago"),
        (180, "3 min ago"),
        (5 * 3600 + 59, "5 h ago"),
        (12 * 86400, "12 d ago"),
        (-120, "in 2 min"),
    ],
)
def test_ages_are_relative_to_now(seconds_before: float, shown: str) -> None:
    assert ago(int(NOW_MS - seconds_before * 1000), now_ms=NOW_MS) == shown


def test_times_are_local_with_their_age_and_iso_in_utc_for_data() -> None:
    local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(NOW_MS / 1000))
    assert when(NOW_MS - 180_000 + 180_000, now_ms=NOW_MS + 180_000) == f"{local} (3 min ago)"
    assert when(None) == "-" and when(0) == "-"
    assert iso_time(NOW_MS + 120) == "2026-01-01T00:00:00.120Z"


def test_short_is_one_line_with_an_ellipsis() -> None:
    assert short("a\n  b\tc") == "a b c"
    assert short({"q": "x" * 100}, 20) == '{"q": "xxxxxxxxxxxx…'
    assert len(short("y" * 100, 20)) == 20 and short(None) == "-"


COLUMNS = (
    Column("trace_id", "id"),
    Column("started", "time"),
    Column("duration_ms", "duration", "duration"),
    Column("tokens", "tokens"),
    Column("cost", "cost"),
    Column("score", "number"),
    Column("request", "preview"),
    Column("tags", "mapping"),
    Column("hidden", in_table=False),
)
ROWS = [
    {
        "trace_id": "a" * 32,
        "started": NOW_MS,
        "duration_ms": 1250,
        "tokens": 12345,
        "cost": 0.0000091,
        "score": math.nan,
        "request": "line one\nline two " + "x" * 200,
        "tags": {"env": "prod", "v": "2"},
        "hidden": "only in data",
    },
    {
        "trace_id": "b" * 32,
        "started": None,
        "duration_ms": None,
        "tokens": None,
        "cost": None,
        "score": 0.5,
        "request": None,
        "tags": {},
        "hidden": "",
    },
]


def test_json_keeps_numbers_objects_and_iso_times() -> None:
    first, second = json.loads(render(ROWS, "json", COLUMNS))
    assert first == {
        "trace_id": "a" * 32,
        "started": "2026-01-01T00:00:00.000Z",
        "duration_ms": 1250,
        "tokens": 12345,
        "cost": 0.0000091,
        "score": None,
        "request": ROWS[0]["request"],
        "tags": {"env": "prod", "v": "2"},
        "hidden": "only in data",
    }
    assert second["started"] is None and second["score"] == 0.5


def test_csv_has_data_values_and_objects_as_json() -> None:
    rows = list(csv.DictReader(io.StringIO(render(ROWS, "csv", COLUMNS))))
    assert rows[0]["cost"] == "9.1e-06" and rows[0]["tokens"] == "12345"
    assert json.loads(rows[0]["tags"]) == {"env": "prod", "v": "2"}
    assert rows[0]["request"] == ROWS[0]["request"]  # whole, newline and all
    assert rows[1]["score"] == "0.5" and rows[1]["cost"] == ""


def test_table_off_a_terminal_is_one_plain_line_per_row() -> None:
    header, *lines = render(ROWS, "table", COLUMNS).splitlines()
    assert header.split() == [
        "trace_id",
        "started",
        "duration",
        "tokens",
        "cost",
        "score",
        "request",
        "tags",
    ]
    assert len(lines) == 2 and "\x1b" not in "".join(lines)
    first = lines[0]
    assert first.startswith("a" * 32) and "1.25 s" in first and "12,345" in first
    assert "$0.0000091" in first and "nan" in first and "env=prod,v=2" in first
    assert "line one line two xxx" in first and "…" in first and "x" * 60 not in first
    assert lines[1].split()[:6] == ["b" * 32, "-", "-", "-", "-", "0.500"]


def test_table_of_nothing_says_none() -> None:
    assert render([], "table", COLUMNS) == "(none)"
    assert json.loads(render([], "json", COLUMNS)) == []
    assert render([], "csv", COLUMNS).splitlines() == [
        "trace_id,started,duration_ms,tokens,cost,score,request,tags,hidden"
    ]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "-"), (0, "0s"), (42.4, "42s"), (95, "1m 35s"), (7300, "2h 1m"), (-3, "0s")],
)
def test_a_time_left_reads_in_hours_minutes_and_seconds(seconds: float | None, shown: str) -> None:
    assert countdown(seconds) == shown
    assert countdown(None, missing="—") == "—"
