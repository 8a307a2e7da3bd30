"""Lenient JSON text: any Python value written as valid JSON, never raising.

:mod:`spyglass.canonical_json` refuses what is not JSON, because what it writes is data a
caller chose to store. This module is for values that must be kept whatever they hold: span
attributes, events and GenAI messages in the collector, a traced function's inputs and
outputs in the SDK (:mod:`spyglass.instrumentation.serialize` builds on it). Every value
goes through one chain, each step taken only when the one before refuses the value:

1. orjson, the fast path: non-string keys (int, float, bool, None) written as text, NumPy
   arrays, dataclasses, datetimes, UUIDs and enums written natively, and any other object
   handed to ``default`` for a form orjson can write (:func:`stand_in` unless the caller
   has richer rules);
2. when the caller gives ``native``, orjson again on ``native(value)``: a JSON-native copy
   the caller builds (cycles cut, odd keys named, ...), which the next step writes if
   orjson refuses it too;
3. the standard library, compact and ASCII-escaped, with the same ``default``: it writes
   what orjson refuses as a whole, integers beyond 64 bits (exactly), nesting deeper than
   orjson's 254 levels and lone surrogates (as ``\\udxxx`` escapes);
4. a JSON string holding ``describe(value)`` (:func:`safe_repr` unless the caller says).

Floats JSON cannot hold (NaN, infinities) are written as ``null`` at every step, as orjson
does. The collector spells an OTLP double that is not finite as protobuf's JSON mapping does
(``"NaN"``, ``"Infinity"``, ``"-Infinity"``) before its values reach this module.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def stand_in(value: Any) -> Any:
    """A form JSON can hold of what it has no type for: bytes as base64 text, sets as lists,
    anything else as its ``str``."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (set, frozenset)):
        return list(value)
    return str(value)


def safe_repr(value: Any) -> str:
    """``repr(value)``, or ``<Class object>`` when its ``repr`` fails."""
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__} object>"


def dumps(
    value: Any,
    default: Callable[[Any], Any] = stand_in,
    *,
    native: Callable[[Any], Any] | None = None,
    describe: Callable[[Any], str] = safe_repr,
) -> str:
    """Compact JSON text of ``value``, whatever it holds; never raises (module docstring).

    Args:
        default: the form of an object orjson or the standard library cannot write.
        native: builds a JSON-native copy of a value orjson refuses as a whole.
        describe: the text of the last resort, a JSON string.
    """
    try:
        return orjson.dumps(value, default=default, option=_OPTIONS).decode()
    except Exception:  # orjson's refusal, or one raised by default
        pass
    written = value
    if native is not None:
        try:
            written = native(value)
            return orjson.dumps(written, default=default, option=_OPTIONS).decode()
        except Exception:
            pass
    try:
        return _stdlib_dumps(written, default)
    except Exception:  # a cycle, keys neither text nor numbers, a failing default
        return _string(describe, value)


def _stdlib_dumps(value: Any, default: Callable[[Any], Any]) -> str:
    try:
        return json.dumps(
            value, default=default, ensure_ascii=True, separators=(",", ":"), allow_nan=False
        )
    except ValueError:  # NaN or an infinity (or a cycle: _finite then recurses and gives up)
        return json.dumps(
            _finite(value),
            default=default,
            ensure_ascii=True,
            separators=(",", ":"),
            allow_nan=False,
        )


def _finite(value: Any) -> Any:
    """``value`` with every float JSON cannot hold replaced by None (as orjson writes it)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _string(describe: Callable[[Any], str], value: Any) -> str:
    """The JSON string of ``describe(value)`` (``<Class object>`` when that fails)."""
    try:
        text = describe(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    try:
        return orjson.dumps(text).decode()
    except Exception:  # a lone surrogate: the standard library escapes it
        return json.dumps(text)
