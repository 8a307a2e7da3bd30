"""spyglass.times: the one reading of typed times (ISO 8601, ms since the epoch, ages)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from spyglass.times import age_ms, parse_time_ms

NOW_S = 1_800_000_000.0


@pytest.mark.parametrize(
    "text, seconds",
    [("7d", 604800), ("-7d", 604800), (" 24 h ", 86400), ("90m", 5400), ("1.5w", 907200)],
)
def test_ages_are_that_long_before_now(text: str, seconds: int) -> None:
    assert age_ms(text, now_s=NOW_S) == int((NOW_S - seconds) * 1000)


@pytest.mark.parametrize("text", ["7", "7 days", "d", "+7d", "7y", ""])
def test_other_text_is_no_age(text: str) -> None:
    assert age_ms(text, now_s=NOW_S) is None


def test_dates_times_and_digits() -> None:
    utc = timezone.utc
    assert parse_time_ms("1767225600000") == 1_767_225_600_000
    assert parse_time_ms("2026-01-01T00:00:00Z") == 1_767_225_600_000
    assert parse_time_ms("2026-01-01T01:00:00+01:00") == 1_767_225_600_000
    assert parse_time_ms("2026-01-01", naive=utc) == 1_767_225_600_000
    local_midnight = datetime(2026, 1, 1).timestamp() * 1000  # naive: this machine's zone
    assert parse_time_ms("2026-01-01") == int(local_midnight)
    plus_two = timezone(timedelta(hours=2))
    assert parse_time_ms("2026-01-01T02:00", naive=plus_two) == 1_767_225_600_000


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "12:00", "-5"])
def test_what_is_no_time(text: str) -> None:
    assert parse_time_ms(text) is None
