"""Keeps a repeated log record from flooding the log: the first of a kind passes, the
repeats within an interval are counted instead, and the next one let through says how
many there were.

Under hostile load some errors happen once per connection or per accept attempt (asyncio's
``socket.accept() out of system resource``, uvicorn's ``Invalid HTTP request received.``);
written out each time they fill the disk and hide everything else.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

DEFAULT_INTERVAL_S = 10.0
MAX_KINDS = 1000  # distinct kinds remembered; older ones are forgotten past this

_VARIABLE = re.compile(r"0x[0-9a-fA-F]+|\d+")

Kind = tuple[str, int, str, str]


@dataclass
class _Seen:
    since: float
    repeats: int = 0


class RepeatFilter(logging.Filter):
    """A :class:`logging.Filter` letting one record of a kind through per ``interval``.

    Records are of one kind when they come from the same logger at the same level with the
    same first message line (numbers and addresses aside) and the same exception type.
    """

    def __init__(
        self, interval: float = DEFAULT_INTERVAL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._seen: dict[Kind, _Seen] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        kind = _kind(record)
        now = self._clock()
        with self._lock:
            seen = self._seen.get(kind)
            if seen is not None and now - seen.since < self.interval:
                seen.repeats += 1
                return False
            repeats = seen.repeats if seen is not None else 0
            self._remember(kind, now)
        if repeats:
            record.msg = (
                f"{record.getMessage()}\n(the same happened {repeats} more "
                f"time(s) in the {self.interval:g}s before; repeats are logged "
                f"once per {self.interval:g}s)"
            )
            record.args = ()
        return True

    def _remember(self, kind: Kind, now: float) -> None:
        if len(self._seen) >= MAX_KINDS and kind not in self._seen:
            expired = [k for k, s in self._seen.items() if now - s.since >= self.interval]
            for k in expired or list(self._seen)[: MAX_KINDS // 2]:
                del self._seen[k]
        self._seen[kind] = _Seen(now)


def _kind(record: logging.LogRecord) -> Kind:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: group by the template itself
        message = str(record.msg)
    first_line = _VARIABLE.sub("#", message.partition("\n")[0])
    exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
    return record.name, record.levelno, first_line, exc_type


def throttle(logger_names: Iterable[str], interval: float = DEFAULT_INTERVAL_S) -> None:
    """Put a :class:`RepeatFilter` on each named logger that has none yet (so calling this
    again, e.g. for a second embedded collector, changes nothing)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RepeatFilter) for f in logger.filters):
            logger.addFilter(RepeatFilter(interval))
