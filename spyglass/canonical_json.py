"""Strict JSON text for stored values, and the canonical form that identifies them.

Dataset records are unique per *canonical* inputs: the same dict written with its keys in
another order must land on the same record. The canonical text of a value is its compact
JSON (no spaces) with every object's keys sorted by code point, non-ASCII characters kept
as they are, as orjson writes it; values orjson cannot write (integers beyond 64 bits) are
written by the standard library with the same separators and key order. The choice depends
on the value only, so a value always has one canonical text, on the client and on the
collector alike.

:func:`dumps` refuses what is not JSON instead of guessing a conversion: NaN and
infinities, non-string keys, sets, datetimes and other objects raise
:class:`~spyglass.errors.InvalidArgumentError` naming the path of the offending part
(``['tags'][2]``). NumPy scalars (as found in DataFrame cells) are written as the Python
number or bool they hold. :func:`loads` keeps integers exactly (orjson would turn integers
beyond 64 bits into floats) and rejects ``NaN``/``Infinity`` literals.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from spyglass.errors import InvalidArgumentError

_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_SORTED = _STRICT | orjson.OPT_SORT_KEYS
# orjson.loads rounds integers beyond 64 bits to floats; those have 20+ digits in a row.
# Text holding such a run is parsed by the standard library instead. The run is found by
# mapping digits to "0" and everything else to " " (bytes.translate: ~10x faster than a
# regular expression on a page of records).
_DIGIT_MAP = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_RUN = b"0" * 20


def dumps(value: Any, *, sort_keys: bool = False, what: str = "value") -> str:
    """Compact JSON text of ``value``; InvalidArgumentError, naming ``what`` and the path
    inside it, when it is not a JSON value."""
    return dumps_bytes(value, sort_keys=sort_keys, what=what).decode()


def dumps_bytes(value: Any, *, sort_keys: bool = False, what: str = "value") -> bytes:
    """:func:`dumps` as UTF-8 bytes (what orjson makes: no decode when bytes will do)."""
    try:
        data = orjson.dumps(value, default=_default, option=_SORTED if sort_keys else _STRICT)
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise _not_json(value, str(exc), what) from None
        text = _stdlib_dumps(value, sort_keys, what)
        try:
            return text.encode()
        except UnicodeEncodeError as exc:
            raise InvalidArgumentError(
                f"{what} holds an unpaired surrogate ({exc.reason}); it cannot be stored as UTF-8"
            ) from None
    if b"null" in data:  # orjson writes NaN and infinities as null: look closer
        where = _find(value, _is_non_finite)
        if where is not None:
            raise _not_json(value, "not finite", what)
    return data


def canonical(value: Any, what: str = "value") -> str:
    """The canonical JSON text of ``value`` (module docstring)."""
    return dumps(value, sort_keys=True, what=what)


def canonical_parsed(value: Any) -> str:
    """:func:`canonical` for a value :func:`loads` returned (no NaN or foreign objects can
    be in it), without the checks those need."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:  # integers beyond 64 bits, an unpaired surrogate
        return canonical(value)


def sha256_hex(text: str) -> str:
    """The SHA-256 of ``text`` (UTF-8) as 64 hex characters."""
    try:
        return hashlib.sha256(text.encode()).hexdigest()
    except UnicodeEncodeError as exc:
        raise InvalidArgumentError(
            f"text holds an unpaired surrogate ({exc.reason} at "
            f"position {exc.start}); it cannot be stored as UTF-8"
        ) from None


def canonical_hash(value: Any) -> str:
    """SHA-256 of the canonical text: equal for equal values whatever their key order."""
    return sha256_hex(canonical(value))


def loads(text: str | bytes) -> Any:
    """The value of JSON ``text``, integers exact; ValueError when it is not JSON."""
    if _long_integer_possible(text):
        return json.loads(text, parse_constant=_reject_constant)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(str(exc)) from None


def loads_many(texts: Sequence[str]) -> list[Any]:
    """The values of many JSON texts (each non-empty), as :func:`loads` gives them, parsed
    in one call: a page of stored values costs one parse, not one per value."""
    if not texts:
        return []
    joined = "[" + ",".join(texts) + "]"
    if _long_integer_possible(joined):
        return [loads(text) for text in texts]
    try:
        values: list[Any] = orjson.loads(joined)
    except orjson.JSONDecodeError:  # one of them is not JSON: find it
        return [loads(text) for text in texts]
    if len(values) != len(texts):  # a text held several values ("1,2"): not one JSON value
        return [loads(text) for text in texts]
    return values


def _long_integer_possible(text: str | bytes) -> bool:
    data = text.encode(errors="surrogatepass") if isinstance(text, str) else text
    return _LONG_RUN in data.translate(_DIGIT_MAP)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _default(value: Any) -> Any:
    """NumPy scalars become Python numbers; anything else orjson does not know is refused."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        item = value.item()
        if isinstance(item, (bool, int, float, str)):
            return item
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def _stdlib_dumps(value: Any, sort_keys: bool, what: str) -> str:
    if _find(value, _is_foreign) is not None:  # json.dumps would turn int keys into text
        raise _not_json(value, "not JSON", what)
    try:
        return json.dumps(
            value,
            sort_keys=sort_keys,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_default,
        )
    except (TypeError, ValueError) as exc:
        raise _not_json(value, str(exc), what) from None


def _not_json(value: Any, reason: str, what: str) -> InvalidArgumentError:
    """An error naming the first part of ``value`` that is not JSON."""
    where = _find(value, _is_foreign)
    if where is None:
        return InvalidArgumentError(f"{what} is not JSON ({reason})")
    path, bad = where
    if isinstance(bad, Mapping):
        key = next(k for k in bad if not isinstance(k, str))
        return InvalidArgumentError(
            f"{what}{path} has the key {key!r} ({type(key).__name__}); JSON object keys are "
            "strings: convert the keys with str()"
        )
    if isinstance(bad, float):
        return InvalidArgumentError(
            f"{what}{path} is {bad!r}, which JSON cannot hold; use None or a finite number"
        )
    return InvalidArgumentError(
        f"{what}{path} is a {type(bad).__name__} ({_short(bad)}), which is not a JSON value; "
        "use a dict, list, str, int, float, bool or None (convert it first, e.g. with str() "
        "or .isoformat())"
    )


def _is_non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _is_foreign(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(not isinstance(k, str) for k in value)
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, (str, int, bool, list, tuple)) or value is None:
        return False
    try:
        _default(value)
    except TypeError:
        return True
    return False


def _find(value: Any, bad: Any, path: str = "") -> tuple[str, Any] | None:
    """(path, part) of the first part of ``value`` for which ``bad`` is true."""
    if bad(value):
        return path, value
    if isinstance(value, Mapping):
        children = ((f"[{k!r}]", v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        children = ((f"[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for step, child in children:
        found = _find(child, bad, path + step)
        if found is not None:
            return found
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
