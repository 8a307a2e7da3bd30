"""Keyset pagination for every search the store serves (traces, experiments, datasets and
their records, evaluation runs and results, jobs).

A page token is opaque to clients: URL-safe base64 of compact JSON holding the sort-key
values of the page's last row (``after``) and the :func:`fingerprint` of the search it
belongs to (``q``), so a token is refused by any other search. A search may add its own
entries (trace search keeps a snapshot bound, dataset records a version). Each page is one
statement: rows strictly after the token's values in the order of the sort keys, the last
of which is unique so that the order is total.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, false, or_
from sqlalchemy.sql import operators

from spyglass.errors import InvalidArgumentError


def fingerprint(*parts: object) -> str:
    """A short hash of a search's parameters, so a token is only used with its own search."""
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def encode_token(payload: dict[str, Any]) -> str:
    """An opaque page token: URL-safe base64 of compact JSON."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, fingerprint: str) -> dict[str, Any]:
    """The payload of a token made by :func:`encode_token` for the search ``fingerprint``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("after"), list):
        raise InvalidArgumentError(
            "page_token is not a token this server issued; pass the "
            "next_page_token of a previous page, or none to start"
        )
    if payload.get("q") != fingerprint:
        raise InvalidArgumentError(
            "page_token belongs to another search (its filter, "
            "order_by or experiment ids differ); repeat the search "
            "exactly, or start again without a page token"
        )
    return payload


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ORDER BY key: the expression, its direction; missing values sort last."""

    expr: ColumnElement
    descending: bool

    @classmethod
    def of(cls, clause: ColumnElement) -> SortKey:
        """Unwrap ``expr [ASC|DESC] [NULLS LAST]`` as built by ``compile_order_by``."""
        element: Any = clause  # a unary expression when it carries a modifier
        if getattr(element, "modifier", None) is operators.nulls_last_op:
            element = element.element
        modifier = getattr(element, "modifier", None)
        if modifier in (operators.desc_op, operators.asc_op):
            return cls(element.element, modifier is operators.desc_op)
        return cls(element, False)


def parse_sort_keys(
    order_by: Sequence[str],
    fields: Mapping[str, ColumnElement],
    tiebreak: ColumnElement,
    what: str,
    dialect: str,
    *,
    aliases: Mapping[str, str] | None = None,
    text_fields: Iterable[str] = ("name",),
) -> list[SortKey]:
    """ORDER BY keys for ``order_by`` items ``field [ASC|DESC]`` over ``fields`` (``aliases``
    maps other spellings onto them), ending with ``tiebreak`` so the order is total. Text
    fields sort by code point on PostgreSQL too, as on SQLite."""
    aliases = aliases or {}
    text_fields = set(text_fields)
    keys = []
    for item in order_by:
        match = re.fullmatch(r"\s*(\w+)(?:\s+(ASC|DESC))?\s*", item, re.IGNORECASE)
        word = match.group(1).lower() if match else ""
        field = aliases.get(word, word)
        if match is None or field not in fields:
            raise InvalidArgumentError(
                f"cannot sort {what} by {item!r}; use "
                f"{', '.join(fields)}, each optionally followed by "
                "ASC or DESC"
            )
        expr = fields[field]
        if field in text_fields and dialect == "postgresql":
            expr = expr.collate("C")
        keys.append(SortKey(expr, (match.group(2) or "ASC").upper() == "DESC"))
    return [*keys, SortKey(tiebreak, False)]


def keyset_after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after the row whose sort-key values are ``values`` (NULLS LAST order).

    ``(k0 after v0) OR (k0 = v0 AND k1 after v1) OR …``; the last key must be unique.
    """
    branches: list[ColumnElement[bool]] = []
    equal_so_far: list[ColumnElement[bool]] = []
    for key, value in zip(keys, values, strict=True):
        if value is None:  # only NULLs tie with NULL, and nothing sorts after it
            after: ColumnElement[bool] = false()
            equal = key.expr.is_(None)
        else:
            beyond = key.expr < value if key.descending else key.expr > value
            after = or_(beyond, key.expr.is_(None))
            equal = key.expr == value
        branches.append(and_(*equal_so_far, after))
        equal_so_far.append(equal)
    return or_(*branches)


def keyset_page(
    engine: Engine,
    query: Any,
    keys: Sequence[SortKey],
    search: str,
    page_token: str,
    limit: int,
    messages: Callable[[Connection, Sequence[Any]], list[Any]],
) -> tuple[list[Any], str]:
    """One page (at most ``limit`` rows) of ``query`` in the order of ``keys`` (the last one
    unique), resuming after ``page_token``, as ``messages(connection, rows)``; and the token
    of the next page ("" when none follows). ``search`` is the search's fingerprint."""
    query = query.add_columns(*(k.expr.label(f"sort_{i}") for i, k in enumerate(keys)))
    if page_token:
        after = decode_token(page_token, search)["after"]
        if len(after) != len(keys):
            raise InvalidArgumentError(
                "page_token does not fit this search; start again without a page token"
            )
        query = query.where(keyset_after(keys, after))
    query = query.order_by(*(k.expr.desc() if k.descending else k.expr.asc() for k in keys))
    with engine.connect() as connection:
        rows = connection.execute(query.limit(limit + 1)).all()
        page = messages(connection, rows[:limit])
    if len(rows) <= limit:
        return page, ""
    last = rows[limit - 1]._mapping
    return page, encode_token({"q": search, "after": [last[f"sort_{i}"] for i in range(len(keys))]})
