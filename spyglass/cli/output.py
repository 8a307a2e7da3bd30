"""How the commands print: rows as an aligned table, JSON or CSV, and the short forms of
times, numbers and long values that fit a table cell."""

from __future__ import annotations

import csv
import io
import json
import math
import time
from typing import Any


def render(rows: list[dict[str, Any]], fmt: str) -> str:
    """``rows`` (dicts with the same keys) as ``table`` (``(none)`` when empty), ``json`` or
    ``csv`` (header from the first row's keys), without a trailing newline."""
    if fmt == "json":
        return json.dumps(rows, indent=2, default=str)
    if fmt == "csv":
        out = io.StringIO()
        if rows:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    if not rows:
        return "(none)"
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def when(ms: int | None) -> str:
    """Milliseconds since the epoch as local ``YYYY-MM-DD HH:MM:SS`` ("-" when unset)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000)) if ms else "-"


def num(value: Any) -> str:
    """A score or metric: floats with three decimals, NaN and None as ``nan``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def short(value: Any, limit: int = 60) -> str:
    """``value`` as one line of at most ``limit`` characters, as evaluation comparisons
    print it."""
    from spyglass.evaluator.compare import short as one_line

    return one_line(value, limit)
