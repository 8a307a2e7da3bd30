"""The peers benchmark's table: each workload's figure per tool, and each peer's ratio to
Spyglass's figure (peer / Spyglass: above 1 means the peer took longer)."""

from __future__ import annotations

import math
from typing import Any

# (result key, row label, unit); every figure is seconds, lower is better
ROWS = (
    ("ingest_acked_s", "ingest: all requests acknowledged", "s"),
    ("ingest_queryable_s", "ingest: every span queryable", "s"),
    ("search_s", "search: newest 100 traces (median)", "s"),
    ("evaluate_s", "evaluate(): whole run", "s"),
)
BASELINE = "Spyglass"


def _cell(value: Any) -> str:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return "-"


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """``results``: tool name -> its figures (keys of ROWS) and ``errors`` (workload ->
    message). Spyglass first, then each peer's figure with its ratio to Spyglass's."""
    tools = [BASELINE, *(t for t in results if t != BASELINE)]
    width = max(len(label) for _, label, _ in ROWS) + 2
    head = f"{'seconds (lower is better)':<{width}}" + "".join(
        f"{t:>12}" + ("" if t == BASELINE else f"{'x':>7}") for t in tools
    )
    lines = [head, "-" * len(head)]
    for key, label, _unit in ROWS:
        base = results.get(BASELINE, {}).get(key)
        row = f"{label:<{width}}"
        for tool in tools:
            value = results.get(tool, {}).get(key)
            row += f"{_cell(value):>12}"
            if tool != BASELINE:
                row += f"{ratio(value, base):>7}"
        lines.append(row)
    for tool in tools:
        for workload, message in (results.get(tool, {}).get("errors") or {}).items():
            lines.append(f"{tool} {workload}: {message}")
    return "\n".join(lines)


def ratio(value: Any, base: Any) -> str:
    """``value / base`` as ``"12.3"``, or ``"-"`` when either figure is missing."""
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (value, base)):
        return "-"
    if base <= 0:
        return "-"
    return f"{value / base:.1f}"
