"""Turning any Python value into the JSON text stored as a span's inputs or outputs.

Tracing must never break the traced call, so :func:`to_json` never raises. The JSON is
written by :func:`spyglass.lenient_json.dumps`; this module adds what the SDK wants of the
app's objects: pydantic models, sets (sorted), bytes (as text when they are UTF-8), decimals,
paths and arbitrary objects (their public fields) become a readable stand-in; a value orjson
refuses as a whole (a cycle, an integer beyond 64 bits, a key that is not a scalar) is
written from a readable copy (cycles cut, long integers as text); anything larger than
:data:`MAX_JSON_CHARS` is shrunk (long strings and long containers cut, with a marker saying
so) so that the collector never has to cut the text itself and break the JSON.
"""

from __future__ import annotations

import base64
import dataclasses
import decimal
import enum
import os
from collections.abc import Callable, Mapping
from typing import Any

from spyglass import lenient_json

MAX_JSON_CHARS = 512 * 1024
"""Serialised values longer than this are shrunk (the collector's default limit is 1 MiB)."""

MAX_STRING_CHARS = 64 * 1024
"""When shrinking, strings keep this many characters."""

MAX_ITEMS = 1000
"""When shrinking (or reading an unknown iterable), containers keep this many items."""

MAX_DEPTH = 32
"""The readable form stops descending here (protects against deep or cyclic structures)."""

MAX_REPR_CHARS = 1000
"""The readable form of an object (its ``repr`` or public fields) keeps this many characters."""

_OBJECT_REPR: Callable[..., str] = object.__repr__


def to_json(value: Any) -> str:
    """``value`` as JSON text; never raises. Non-JSON objects become a readable form."""
    text = lenient_json.dumps(value, _default, native=readable, describe=_object_text)
    if len(text) > MAX_JSON_CHARS:
        text = _shrunk(value)
    return text


def readable(value: Any, max_string: int = MAX_STRING_CHARS * 8, max_items: int = MAX_ITEMS) -> Any:
    """A JSON-native copy of ``value`` (dicts with str keys, lists, str, numbers, bool, None)."""
    return _readable(value, 0, set(), (max_string, max_items))


# --- the form of objects JSON has no type for -----------------------------------------------


def _default(obj: Any) -> Any:
    """Called by the encoder for an object it cannot write; returns something it can."""
    dump = getattr(obj, "model_dump", None)  # pydantic v2 models
    if callable(dump) and not isinstance(obj, type):
        return dump(mode="json", warnings=False)
    if isinstance(obj, (set, frozenset)):
        return _sorted_if_possible(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return _bytes_text(bytes(obj))
    if isinstance(obj, decimal.Decimal):
        return str(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, (list, tuple)):  # subclasses orjson refuses
        return list(obj)
    return _object_text(obj)


def _sorted_if_possible(items: Any) -> list[Any]:
    try:
        return sorted(items)
    except TypeError:
        return list(items)


def _bytes_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(data[:MAX_STRING_CHARS]).decode()


def _object_text(obj: Any) -> str:
    """``repr(obj)``, or ``Class(field=value, ...)`` when the class keeps object's repr."""
    cls = type(obj)
    try:
        if cls.__repr__ is _OBJECT_REPR and hasattr(obj, "__dict__"):
            fields = ", ".join(
                f"{k}={v!r}" for k, v in list(vars(obj).items())[:20] if not k.startswith("_")
            )
            text = f"{cls.__name__}({fields})"
        else:
            text = repr(obj)
    except Exception:
        text = f"<{cls.__name__} object>"
    return text if len(text) <= MAX_REPR_CHARS else text[:MAX_REPR_CHARS] + "…"


# --- the slow path: a JSON-native copy built by hand ------------------------------------------


_Limits = tuple[int, int]  # (characters kept per string, items kept per container)


def _dumps_readable(value: Any, limits: _Limits) -> str:
    try:
        copy = _readable(value, 0, set(), limits)
    except Exception:
        copy = _object_text(value)
    return lenient_json.dumps(copy)


def _readable(value: Any, depth: int, seen: set[int], limits: _Limits) -> Any:
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else str(value)
    if isinstance(value, str):
        return _cut(value, limits[0])
    if isinstance(value, enum.Enum):
        return _readable(value.value, depth, seen, limits)
    if depth >= MAX_DEPTH:
        return _object_text(value)
    if id(value) in seen:
        return f"<cycle: {type(value).__qualname__}>"
    seen.add(id(value))
    try:
        return _readable_container(value, depth + 1, seen, limits)
    finally:
        seen.discard(id(value))


def _readable_container(value: Any, depth: int, seen: set[int], limits: _Limits) -> Any:
    max_items = limits[1]
    if isinstance(value, Mapping):
        out = {}
        for i, (k, v) in enumerate(value.items()):
            if i == max_items:
                out["…"] = f"{len(value) - max_items} more entries"
                break
            out[k if isinstance(k, str) else _key_text(k)] = _readable(v, depth, seen, limits)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = _sorted_if_possible(value) if isinstance(value, (set, frozenset)) else value
        out_list = [_readable(v, depth, seen, limits) for v in items[:max_items]]
        if len(items) > max_items:
            out_list.append(f"… {len(items) - max_items} more items")
        return out_list
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _readable(getattr(value, f.name, None), depth, seen, limits)
            for f in dataclasses.fields(value)
        }
    try:
        converted = _default(value)
    except Exception:
        return _object_text(value)
    if isinstance(converted, str):
        return _cut(converted, limits[0])
    return _readable(converted, depth, seen, limits)


def _key_text(key: Any) -> str:
    if isinstance(key, (int, float, bool)) or key is None:
        return lenient_json.dumps(key)
    return _object_text(key)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [truncated, {len(text)} characters in all]"


_SHRINK_STEPS: tuple[_Limits, ...] = (
    (MAX_STRING_CHARS, MAX_ITEMS),
    (MAX_STRING_CHARS // 8, MAX_ITEMS // 10),
    (MAX_STRING_CHARS // 64, MAX_ITEMS // 50),
)


def _shrunk(value: Any) -> str:
    """JSON text under :data:`MAX_JSON_CHARS` that keeps as much of ``value``'s shape as it
    can: strings and containers cut ever shorter, at worst the text's head as a string."""
    text = ""
    for limits in _SHRINK_STEPS:
        text = _dumps_readable(value, limits)
        if len(text) <= MAX_JSON_CHARS:
            return text
    head = text[: MAX_JSON_CHARS // 2]
    while True:  # escaping makes the head longer as JSON; halve it until it fits
        out = lenient_json.dumps(f"{head}… [truncated, {len(text)} characters of JSON]")
        if len(out) <= MAX_JSON_CHARS:
            return out
        head = head[: len(head) // 2]


# --- span attribute values ------------------------------------------------------------------

_PRIMITIVES = (str, bool, int, float)


def to_attribute(value: Any) -> Any:
    """``value`` as an OTel attribute value: str, bool, int (64-bit), float, or a homogeneous
    tuple of those; anything else as JSON text. None stays None (callers skip it)."""
    kind = type(value)
    if kind is str or kind is bool or kind is float:
        return value
    if kind is int:
        return value if -(2**63) <= value < 2**63 else str(value)
    if isinstance(value, (list, tuple)) and value:
        first = type(value[0])
        if (
            first in _PRIMITIVES
            and all(type(v) is first for v in value)
            and (first is not int or all(-(2**63) <= v < 2**63 for v in value))
        ):
            return tuple(value)
    if value is None:
        return None
    return to_json(value)
