"""Checks of the jobs and monitors API's arguments, so a wrong type or range fails here
with a message naming the argument, before anything is sent to the collector."""

from __future__ import annotations

import math
from typing import Any

from spyglass.errors import InvalidArgumentError


def text(value: Any, what: str) -> str:
    """An optional string argument, stripped ("" for None; a number becomes its digits, as
    ids of experiments may be given)."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a string, got {value!r}")
    return value.strip()


def required_text(value: Any, what: str) -> str:
    """A string argument that must not be empty."""
    found = text(value, what)
    if not found:
        raise InvalidArgumentError(f"{what} must be a non-empty string, got {value!r}")
    return found


def whole(value: Any, what: str, low: int, high: int | None = None) -> int | None:
    """An optional whole-number argument within [low, high] (None stays None)."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidArgumentError(f"{what} must be a whole number {bound}, got {value!r}")
    return value


def number(
    value: Any,
    what: str,
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
    meaning: str = "",
) -> float:
    """A finite number argument in [low, high] (or (low, high] with ``low_open``);
    ``meaning`` explains it in the message."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
        and (value > low if low_open else value >= low)
        and value <= high
    )
    if not ok:
        bound = f"{'>' if low_open else '>='} {low:g}" + (
            f" and <= {high:g}" if math.isfinite(high) else ""
        )
        raise InvalidArgumentError(f"{what} must be a number {bound}{meaning}, got {value!r}")
    return float(value)
