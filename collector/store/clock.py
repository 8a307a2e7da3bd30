"""The store's clock: the wall-clock time its rows record, in milliseconds since the epoch."""

from __future__ import annotations

import time


def now_ms() -> int:
    """The current time in whole milliseconds since the epoch (UTC)."""
    return time.time_ns() // 1_000_000
