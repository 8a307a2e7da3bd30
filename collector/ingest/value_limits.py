"""What the trace store can hold, and how ingest keeps incoming values within it.

Every number that goes into a store column must fit the column on both stores: SQLite
holds any INTEGER as signed 64-bit, PostgreSQL has 16-, 32- and 64-bit types. The ranges
here are read from the column types in :mod:`spyglass.collector.store.models`, taking the
narrower of the two stores, so a schema change moves them with it. What happens to a value
outside its range depends on what it means (see :mod:`spyglass.collector.ingest.spans`):

* times (start, end, event and log record times) are OTLP ``fixed64``, up to 2**64-1; one
  past the signed 64-bit range makes its span or log record unstorable: it is rejected;
* token counts are clamped to the column's maximum, with a warning;
* span kind and status code outside the OTLP enums are stored as unspecified/unset, with
  a warning.

Strings in width-limited columns (model, provider, span type, session and user ids, tag
keys) are cut to the column's width, with a warning: PostgreSQL refuses longer ones. Every
plain text column gets NUL replaced (PostgreSQL text cannot hold it; JSON text escapes it).

Strings: ``--max-attribute-bytes`` caps every stored string (attribute values at any depth,
bytes values, keys, names, messages): :func:`truncate_text` and :func:`truncate_values` cut
longer ones (:func:`truncate_value` any decoded value) and add a warning naming where they
were.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from sqlalchemy import BigInteger, Integer, SmallInteger, String
from sqlalchemy.sql.schema import Column

from spyglass.collector.store.models import SpanLogEvent, SpanRow, TraceTag

__all__ = [
    "CANONICAL_WIDTHS",
    "SPAN_KINDS",
    "STATUS_CODES",
    "TAG_KEY_CHARS",
    "TIME_MAX",
    "TOKENS_MAX",
    "int_range",
    "text_width",
    "time_problem",
    "truncate_text",
    "truncate_value",
    "truncate_values",
]

# the narrower of SQLite (always signed 64-bit) and PostgreSQL, by SQLAlchemy type;
# subclasses first: BigInteger and SmallInteger are Integer subclasses
_INT_TYPES: tuple[tuple[type, tuple[int, int]], ...] = (
    (BigInteger, (-(1 << 63), (1 << 63) - 1)),
    (SmallInteger, (-(1 << 15), (1 << 15) - 1)),
    (Integer, (-(1 << 31), (1 << 31) - 1)),
)


def int_range(column: Column[Any]) -> tuple[int, int]:
    """The ``(min, max)`` integer both stores accept in ``column``.

    Raises:
        TypeError: the column is not an integer column.
    """
    for kind, bounds in _INT_TYPES:
        if isinstance(column.type, kind):
            return bounds
    raise TypeError(f"column {column.name} is {column.type}, not an integer type")


def text_width(column: Column[Any]) -> int:
    """The characters a ``VARCHAR(n)`` column holds (PostgreSQL enforces it; SQLite does
    not, but the stores keep the same data).

    Raises:
        TypeError: the column has no width.
    """
    if not isinstance(column.type, String) or column.type.length is None:
        raise TypeError(f"column {column.name} is {column.type}, not a string with a width")
    return column.type.length


_SPANS = SpanRow.__table__.c
_LOG_EVENTS = SpanLogEvent.__table__.c

TIME_MAX = min(
    int_range(_SPANS.start_time_ns)[1],
    int_range(_SPANS.end_time_ns)[1],
    int_range(_LOG_EVENTS.time_unix_nano)[1],
)
"""The latest time (ns since the Unix epoch) the store holds: 2**63-1, in the year 2262."""

TOKENS_MAX = min(
    int_range(_SPANS.input_tokens)[1],
    int_range(_SPANS.output_tokens)[1],
    int_range(_SPANS.total_tokens)[1],
)
"""The largest token count a span row holds (PostgreSQL INTEGER: 2**31-1)."""

CANONICAL_WIDTHS: tuple[tuple[str, int], ...] = tuple(
    (name, text_width(_SPANS[name]))
    for name in ("span_type", "model", "provider", "session_id", "user_id")
)
"""Canonical span fields stored in width-limited columns, with their widths in characters
(the traces table has the same widths for session and user ids)."""

TAG_KEY_CHARS = text_width(TraceTag.__table__.c.key)
"""Characters of a trace tag or metadata key (250)."""

SPAN_KINDS = frozenset(Span.SpanKind.values())
"""OTLP span kinds (0 unspecified .. 5 consumer); others are stored as 0. All fit the
``kind`` column (SMALLINT)."""

STATUS_CODES = frozenset(Status.StatusCode.values())
"""OTLP status codes (0 unset, 1 ok, 2 error); others are stored as 0. All fit the
``status_code`` column (SMALLINT)."""


def time_problem(field: str, value: int) -> str | None:
    """Why ``value`` (ns) of OTLP field ``field`` cannot be stored; None when it can."""
    if value <= TIME_MAX:
        return None
    return (
        f"{field} {value} is later than the latest time the store holds ({TIME_MAX} ns "
        "since the Unix epoch, in the year 2262); send times as nanoseconds since the "
        "Unix epoch"
    )


# --- strings ------------------------------------------------------------------------------


def truncate_text(text: str, limit: int, path: str, what: str, warnings: list[str]) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes (at a character boundary), with a warning
    naming ``what`` of item ``path``; ``text`` itself when it fits."""
    if len(text) <= limit // 4:  # a character is at most 4 bytes: fits, without encoding
        return text
    data = text.encode()
    if len(data) <= limit:
        return text
    warnings.append(_warning(path, what, len(data), limit))
    return data[:limit].decode(errors="ignore")


def truncate_value(value: Any, limit: int, path: str, what: str, warnings: list[str]) -> Any:
    """``value`` (any decoded OTLP value) with every string, bytes value and key over
    ``limit`` bytes cut, lists and dicts in place; one warning per value cut."""
    kind = type(value)
    if kind is str:
        return truncate_text(value, limit, path, what, warnings)
    if kind is dict:
        _walk_dict(value, limit, path, what, warnings)
    elif kind is list:
        _walk_list(value, limit, path, what, warnings)
    elif kind is bytes and len(value) > limit:
        return _truncate_bytes(value, limit, path, what, warnings)
    return value


def truncate_values(
    values: dict[str, Any], limit: int, path: str, what: str, warnings: list[str]
) -> None:
    """Cut every string, bytes value and key over ``limit`` bytes in ``values``, at any
    depth of its lists and dicts, in place; one warning per value cut.

    ``what`` names the mapping in warnings, e.g. ``"attributes"`` gives
    ``attributes['tool.args'][2]['content']``.
    """
    _walk_dict(values, limit, path, what, warnings)


def _walk_dict(
    mapping: dict[Any, Any], limit: int, path: str, where: str, warnings: list[str]
) -> None:
    long_keys = []
    quarter = limit // 4
    for key, value in mapping.items():  # assigning existing keys while iterating is safe
        _fit_slot(mapping, key, value, limit, path, where, warnings)
        if type(key) is str and len(key) > quarter:
            long_keys.append(key)
    for key in long_keys:
        short = truncate_text(key, limit, path, f"a key of {where}", warnings)
        if short != key:
            mapping[short] = mapping.pop(key)


def _walk_list(items: list[Any], limit: int, path: str, where: str, warnings: list[str]) -> None:
    for index, value in enumerate(items):
        _fit_slot(items, index, value, limit, path, where, warnings)


def _fit_slot(
    container: Any, slot: Any, value: Any, limit: int, path: str, where: str, warnings: list[str]
) -> None:
    """Cut ``value``, stored at ``container[slot]`` (a dict key or a list index), to
    ``limit`` bytes at any depth; warnings name it ``where[slot]``."""
    kind = type(value)
    if kind is str:
        if len(value) > limit // 4:
            container[slot] = truncate_text(value, limit, path, f"{where}[{slot!r}]", warnings)
    elif kind is dict:
        _walk_dict(value, limit, path, f"{where}[{slot!r}]", warnings)
    elif kind is list:
        _walk_list(value, limit, path, f"{where}[{slot!r}]", warnings)
    elif kind is bytes and len(value) > limit:
        container[slot] = _truncate_bytes(value, limit, path, f"{where}[{slot!r}]", warnings)


def _truncate_bytes(value: bytes, limit: int, path: str, what: str, warnings: list[str]) -> bytes:
    warnings.append(_warning(path, what, len(value), limit))
    return value[:limit]


def _warning(path: str, what: str, size: int, limit: int) -> str:
    return (
        f"{path}: {what} is {size} bytes, truncated to {limit} "
        "(raise --max-attribute-bytes to keep more)"
    )
