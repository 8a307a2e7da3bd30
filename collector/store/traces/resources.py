"""Resources and instrumentation scopes stored once, however many spans carry them.

Every span of an OTLP request repeats its resource (``service.*``, ``telemetry.sdk.*``,
``process.*``, ``host.*``: several hundred bytes from a real SDK) and its scope. The writer
passes the span rows through :func:`share` inside its transaction: each distinct (resource,
scope) pair is written once to ``span_resources`` under a key derived from its content,
and the span row keeps ``"@" + key`` in its ``resource`` column (``scope`` NULL). Readers
put the pair back with :func:`lookup` and :func:`expand`. A ``resource`` column holding JSON
(always an object, so never starting with ``@``) is read as is: rows stored in full read
unchanged, and so does a pair too small to be worth a key.

Rows of ``span_resources`` are immutable (the key is a hash of the content) and shared by
spans of any trace, so deleting traces leaves them; there is one per distinct pair (per
process start of an instrumented app, at most), a negligible amount.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, select

from spyglass.collector.store.models import SpanResource
from spyglass.collector.store.rows import SPAN_COLUMNS

__all__ = ["PREFIX", "expand", "lookup", "share"]

PREFIX = "@"
_RESOURCE = SPAN_COLUMNS.index("resource")
_SCOPE = SPAN_COLUMNS.index("scope")
assert _SCOPE == _RESOURCE + 1, "share() replaces the two columns as one slice"
_MIN_CHARS = 48
"""Pairs shorter than this stay in the span row (a key costs 23 characters)."""
_CACHE_PAIRS = 1024
_keys: dict[tuple[str | None, str | None], str] = {}
_pairs: dict[str, tuple[str | None, str | None]] = {}
_T = SpanResource.__table__


def _key_of(resource: str | None, scope: str | None) -> str:
    """The pair's key: 128 bits of BLAKE2b over both texts, URL-safe base64 (22 chars)."""
    found = _keys.get((resource, scope))
    if found is not None:
        return found
    digest = hashlib.blake2b(digest_size=16)
    for part in (resource, scope):
        if part is None:
            digest.update(b"\x00")
        else:
            digest.update(b"\x01" + len(part).to_bytes(8, "big") + part.encode())
    key = base64.urlsafe_b64encode(digest.digest()).decode()[:22]
    if len(_keys) >= _CACHE_PAIRS:
        _keys.clear()
    _keys[(resource, scope)] = key
    return key


def share(cursor: Any, dialect: str, rows: Sequence[tuple]) -> list[tuple]:
    """``rows`` (``spans`` rows) naming their resource and scope by key; the pairs not
    stored yet are inserted through ``cursor`` (the caller's transaction)."""
    out = []
    new: dict[str, tuple[str | None, str | None]] = {}
    for row in rows:
        resource, scope = row[_RESOURCE], row[_SCOPE]
        if len(resource or "") + len(scope or "") < _MIN_CHARS:
            out.append(row)
            continue
        key = _key_of(resource, scope)
        new[key] = (resource, scope)
        out.append((*row[:_RESOURCE], PREFIX + key, None, *row[_SCOPE + 1 :]))
    if new:
        mark = "%s" if dialect == "postgresql" else "?"
        cursor.executemany(
            f"INSERT INTO span_resources (key, resource, scope) VALUES ({mark}, {mark}, {mark}) "
            "ON CONFLICT (key) DO NOTHING",
            [(key, *pair) for key, pair in sorted(new.items())],
        )
    return out


def lookup(connection: Connection, resources: Iterable[str | None]) -> dict[str, tuple]:
    """The (resource, scope) pairs named by these ``resource`` column values, by key."""
    keys = {value[1:] for value in resources if value is not None and value.startswith(PREFIX)}
    found = {key: _pairs[key] for key in keys if key in _pairs}
    missing = sorted(keys - found.keys())
    for i in range(0, len(missing), 500):
        query = select(_T.c.key, _T.c.resource, _T.c.scope).where(
            _T.c.key.in_(missing[i : i + 500])
        )
        for key, resource, scope in connection.execute(query):
            found[key] = (resource, scope)
    if len(_pairs) + len(found) > _CACHE_PAIRS:
        _pairs.clear()
    _pairs.update(found)
    return found


def expand(
    resource: str | None, scope: str | None, pairs: dict[str, tuple]
) -> tuple[str | None, str | None]:
    """A span's (resource, scope) as sent, from its columns and the pairs :func:`lookup` found."""
    if resource is None or not resource.startswith(PREFIX):
        return resource, scope
    pair = pairs.get(resource[1:])
    return (None, None) if pair is None else pair
