"""How the commands print: rows as a table (drawn by rich), JSON or CSV, and the readable
forms of times, durations, costs, token counts and long values that fit a table cell.

A listing describes its columns once (:class:`Column`); its rows hold plain values (times as
milliseconds since the epoch, costs in US dollars, tags as dicts). The table shows them for
people: local times with their age ("3 min ago"), ``850 ms`` / ``1.25 s``, ``$0.0000091``,
``12,345`` tokens, previews cut to one line. JSON and CSV keep them as data: numbers stay
numbers, tags stay objects, NaN becomes null, and times become ISO 8601 strings in UTC
(``2026-01-05T10:00:03.120Z``); durations are numbers of milliseconds under keys ending in
``_ms``.

On a terminal the table fits its width and may use colour; when the output is a pipe or a
file each row stays on one line, never wrapped or cut (only previews are shortened), so
``grep`` and ``awk`` see whole rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import shutil
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from spyglass.quantities import cost, duration, tokens

if TYPE_CHECKING:  # rich loads with the first table, so `spyglass --help` stays quick
    from rich.console import RenderableType
    from rich.text import Text

Kind = Literal[
    "text",
    "id",
    "status",
    "time",
    "duration",
    "cost",
    "tokens",
    "count",
    "number",
    "preview",
    "mapping",
]
"""How a column's values print: ``id`` never wraps; ``status`` is coloured; ``time`` is ms
since the epoch; ``duration`` is ms; ``cost`` is US dollars; ``tokens`` and ``count`` are counts;
``number`` is a score or metric; ``preview`` is a long value cut to one line; ``mapping`` is
a dict (tags) printed as ``k=v``."""

PREVIEW_CHARS = 60
"""Characters of a preview cell in a table (JSON and CSV keep the whole value)."""

PIPE_WIDTH = 10_000
"""The width rich lays out for when the output is not a terminal: wide enough that every row
is one line at its natural width."""

_NUMERIC = ("duration", "cost", "tokens", "count", "number")

_STATUS_STYLES = {
    "OK": "green",
    "FINISHED": "green",
    "running": "green",
    "ERROR": "red",
    "FAILED": "red",
    "CANCELLED": "yellow",
    "IN_PROGRESS": "yellow",
    "RUNNING": "yellow",
    "PENDING": "yellow",
    "paused": "yellow",
}


@dataclass(frozen=True)
class Column:
    """One column of a listing: ``key`` in the rows (and in JSON and CSV), ``kind`` (how it
    prints), ``title`` (the table header, default the key), and whether the table
    (``in_table``) and JSON/CSV (``in_data``) show it."""

    key: str
    kind: Kind = "text"
    title: str | None = None
    in_table: bool = True
    in_data: bool = True


def render(
    rows: Sequence[Mapping[str, Any]], fmt: str, columns: Sequence[Column] | None = None
) -> str:
    """``rows`` as ``table`` (``(none)`` when empty), ``json`` or ``csv`` (header from the
    columns), without a trailing newline. ``columns`` default to the first row's keys as
    text."""
    cols = list(columns) if columns is not None else [Column(k) for k in (rows[0] if rows else {})]
    if fmt == "json":
        return json.dumps(data_rows(rows, cols), indent=2, default=str)
    if fmt == "csv":
        return _csv(rows, cols)
    if not rows:
        return "(none)"
    from rich import box
    from rich.table import Table

    shown = [c for c in cols if c.in_table]
    table = Table(
        box=box.SIMPLE_HEAD if on_terminal() else None,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
    )
    for c in shown:
        table.add_column(
            c.title or c.key,
            no_wrap=c.kind != "preview",
            overflow="ellipsis" if c.kind == "preview" else "fold",
            justify="right" if c.kind in _NUMERIC else "left",
            max_width=PREVIEW_CHARS if c.kind == "preview" else None,
        )
    for row in rows:
        table.add_row(*(cell(row.get(c.key), c.kind) for c in shown))
    return to_text(table)


def data_rows(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column]) -> list[dict[str, Any]]:
    """The rows as JSON values: times as ISO 8601 strings in UTC, NaN as None, the rest as
    they are (numbers, dicts, strings)."""
    shown = [c for c in columns if c.in_data]
    return [{c.key: data_value(row.get(c.key), c.kind) for c in shown} for row in rows]


def data_value(value: Any, kind: Kind = "text") -> Any:
    """One value as JSON gives it (see :func:`data_rows`)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "time":
        return iso_time(value)
    if isinstance(value, dict):
        return {k: data_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [data_value(v) for v in value]
    return value


def to_text(renderable: RenderableType) -> str:
    """A rich table or tree as the text to print: fitted to the terminal (with colour) when
    standard output is one, else one unbroken line per row and no colour."""
    from rich.console import Console

    terminal = on_terminal()
    console = Console(
        file=io.StringIO(),
        width=shutil.get_terminal_size().columns if terminal else PIPE_WIDTH,
        force_terminal=terminal,
        no_color=not terminal,
        color_system="auto" if terminal else None,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    with console.capture() as captured:
        console.print(renderable)
    return "\n".join(line.rstrip() for line in captured.get().rstrip("\n").splitlines())


def on_terminal() -> bool:
    """Whether standard output is a terminal (else a pipe or a file)."""
    return sys.stdout.isatty()


def cell(value: Any, kind: Kind = "text") -> Text:
    """One table cell: the value in its readable form, styled by its kind."""
    from rich.text import Text

    if kind == "time":
        return Text(when(value))
    if kind == "duration":
        return Text(duration(value))
    if kind == "cost":
        return Text(cost(value))
    if kind in ("tokens", "count"):
        return Text(tokens(value))
    if kind == "number":
        return Text(num(value))
    if kind == "preview":
        return Text(short(value, PREVIEW_CHARS) if value not in (None, "") else "-", style="dim")
    if kind == "mapping":
        return Text(",".join(f"{k}={v}" for k, v in (value or {}).items()))
    text = "" if value is None else str(value)
    if kind == "status":
        return Text(text, style=_STATUS_STYLES.get(text, ""))
    return Text(text, style="cyan" if kind == "id" else "")


def when(ms: int | None, now_ms: float | None = None) -> str:
    """Milliseconds since the epoch as local ``YYYY-MM-DD HH:MM:SS (3 min ago)`` ("-" when
    unset)."""
    if not ms:
        return "-"
    local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))
    return f"{local} ({ago(ms, now_ms)})"


def ago(ms: int, now_ms: float | None = None) -> str:
    """How long before now ``ms`` was: ``just now``, ``42 s ago``, ``3 min ago``, ``5 h
    ago``, ``12 d ago`` (``in 3 min`` for a time still to come)."""
    now = time.time() * 1000 if now_ms is None else now_ms
    seconds = (now - ms) / 1000
    span = abs(seconds)
    if span < 1:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if span >= size:
            amount = f"{int(span // size)} {unit}"
            return f"{amount} ago" if seconds > 0 else f"in {amount}"
    return "just now"  # unreachable: span >= 1 matched "s"


def iso_time(ms: int | float) -> str:
    """Milliseconds since the epoch as ISO 8601 in UTC with milliseconds."""
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def num(value: Any) -> str:
    """A score or metric: floats with three decimals, NaN and None as ``nan``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def short(value: Any, limit: int = 60) -> str:
    """``value`` as one line of at most ``limit`` characters ("-" for None): text as it is,
    anything else as compact JSON, runs of whitespace (newlines too) as one space, and an
    ellipsis where it was cut."""
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> str:
    """CSV with the JSON values; dicts and lists as JSON text, None as an empty cell."""
    out = io.StringIO()
    data = data_rows(rows, columns)
    fields = [c.key for c in columns if c.in_data]
    if fields:
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in data:
            writer.writerow(
                {
                    k: json.dumps(v, default=str) if isinstance(v, (dict, list)) else v
                    for k, v in row.items()
                }
            )
    return out.getvalue().rstrip("\n")
