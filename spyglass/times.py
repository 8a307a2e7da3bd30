"""Points in time written as text: ISO 8601 dates and times, ms since the epoch, or ages.

One reading for every place a user types a time: ``eval submit --since 7d``, the
``since``/``until`` of jobs and monitors, and the time fields of search filters
(``attributes.timestamp_ms > -7d``). An age (``90m``, ``24h``, ``7d``, ``2w``; a leading
``-`` reads the same) is that long before now.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, tzinfo

AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
"""Seconds in one unit of an age: seconds, minutes, hours, days, weeks."""

AGE = re.compile(r"-?\s*(\d+(?:\.\d+)?)\s*([smhdw])")
"""An age as text (``7d``, ``-7d``, ``1.5h``)."""

TIME_FORMS = (
    "ISO 8601 ('2024-05-01T12:00:00Z' or '2024-05-01'), ms since the epoch, or an age "
    "before now such as '24h' or '7d'"
)
"""What :func:`parse_time_ms` reads, for error messages."""


def age_ms(text: str, now_s: float | None = None) -> int | None:
    """The time ``text`` (an age such as ``7d`` or ``-7d``) before now, in ms since the
    epoch; None when ``text`` is not an age."""
    age = AGE.fullmatch(text.strip())
    if age is None:
        return None
    ago = float(age.group(1)) * AGE_UNITS[age.group(2)]
    return int(((time.time() if now_s is None else now_s) - ago) * 1000)


def parse_time_ms(text: str, naive: tzinfo | None = None) -> int | None:
    """``text`` as ms since the epoch, or None when it is no time in any form of
    :data:`TIME_FORMS`.

    A date or time without a zone is in ``naive`` (None: this machine's local time); a
    date alone is its midnight.
    """
    given = text.strip()
    if given.isdigit():
        return int(given)
    ago = age_ms(given)
    if ago is not None:
        return ago
    iso = given[:-1] + "+00:00" if given.endswith(("Z", "z")) else given
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if moment.tzinfo is None and naive is not None:
        moment = moment.replace(tzinfo=naive)
    return int(moment.timestamp() * 1000)
