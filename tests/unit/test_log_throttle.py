"""RepeatFilter: one record of a kind per interval, the repeats counted into the next."""

from __future__ import annotations

import logging

import pytest

from spyglass.collector.log_throttle import RepeatFilter, throttle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def record(
    message: str,
    *args: object,
    name: str = "asyncio",
    level: int = logging.ERROR,
    exc: BaseException | None = None,
) -> logging.LogRecord:
    exc_info = (type(exc), exc, None) if exc else None
    return logging.LogRecord(name, level, __file__, 1, message, args, exc_info)


def test_repeats_within_the_interval_are_dropped_and_counted_into_the_next() -> None:
    clock = Clock()
    repeat = RepeatFilter(interval=10.0, clock=clock)
    accept_error = "socket.accept() out of system resource\nsocket: <fd=%d>"
    first = record(accept_error, 17, exc=OSError(24, "Too many open files"))

    assert repeat.filter(first)
    assert first.getMessage().startswith("socket.accept() out of system resource")
    clock.now += 1
    assert [repeat.filter(record(accept_error, 17, exc=OSError(24, "x"))) for _ in range(500)] == [
        False
    ] * 500
    clock.now += 9.5
    later = record(accept_error, 17, exc=OSError(24, "Too many open files"))
    assert repeat.filter(later)
    assert "the same happened 500 more time(s)" in later.getMessage()
    # the count starts again after each record let through
    clock.now += 10
    again = record(accept_error, 17, exc=OSError(24, "Too many open files"))
    assert repeat.filter(again)
    assert "more time(s)" not in again.getMessage()


def test_numbers_and_addresses_do_not_make_a_new_kind() -> None:
    repeat = RepeatFilter(interval=10.0, clock=Clock())
    assert repeat.filter(record("connection from 127.0.0.1:%d lost at 0x%x", 40001, 0xDEAD))
    assert not repeat.filter(record("connection from 127.0.0.1:%d lost at 0x%x", 52312, 0xBEEF))


@pytest.mark.parametrize(
    "other",
    [
        record("another message"),
        record("socket.accept() out of system resource", name="uvicorn.error"),
        record("socket.accept() out of system resource", level=logging.WARNING),
        record("socket.accept() out of system resource", exc=ValueError("x")),
    ],
    ids=["message", "logger", "level", "exception"],
)
def test_other_kinds_pass(other: logging.LogRecord) -> None:
    repeat = RepeatFilter(interval=10.0, clock=Clock())
    assert repeat.filter(record("socket.accept() out of system resource", exc=OSError(24, "x")))
    assert repeat.filter(other)


def test_throttle_puts_one_filter_on_each_logger() -> None:
    name = "spyglass.tests.log_throttle"
    throttle([name])
    throttle([name])
    logger = logging.getLogger(name)
    try:
        assert sum(isinstance(f, RepeatFilter) for f in logger.filters) == 1
    finally:
        for f in list(logger.filters):
            logger.removeFilter(f)
