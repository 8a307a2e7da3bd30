"""How durations, costs, token counts and a job's time left read for people, wherever they
are shown: the CLI's tables (``spyglass/cli/output.py``), job summaries, and the web UI's
pages (``collector/ui/templating.py``).

``850 ms``, ``1.25 s``, ``2 min 05 s``; ``$0.0000091`` (three significant digits below a
dollar, so a small cost never reads ``$0.00``), ``$1,234.57``; ``12,345``; ETA ``1m 35s``.
Each takes the text to show for an unknown value.
"""

from __future__ import annotations

import math


def duration(ms: float | None, missing: str = "-") -> str:
    """Milliseconds as ``850 ms``, ``1.25 s``, ``2 min 05 s`` or ``1 h 02 min``."""
    if ms is None:
        return missing
    if ms < 1000:
        return f"{ms:.0f} ms" if ms >= 1 or ms == 0 else f"{ms:.2f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def cost(usd: float | None, missing: str = "-") -> str:
    """US dollars: three significant digits below a dollar, cents above."""
    if usd is None or (isinstance(usd, float) and math.isnan(usd)):
        return missing
    if usd == 0:
        return "$0"
    if abs(usd) >= 1:
        return f"${usd:,.2f}"
    decimals = 2 - math.floor(math.log10(abs(usd)))
    text = f"{usd:.{decimals}f}".rstrip("0").rstrip(".")
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


def countdown(seconds: float | None, missing: str = "-") -> str:
    """A time left, as jobs show their ETA: ``95`` → ``1m 35s``; ``7300`` → ``2h 1m``."""
    if seconds is None:
        return missing
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def tokens(count: int | None, missing: str = "-") -> str:
    """A count with thousands separators."""
    return missing if count is None else f"{count:,}"
