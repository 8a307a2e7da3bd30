"""Checks of the text requests ask the store to keep: keys and names that must be given,
optional fields with a length limit, and free text that PostgreSQL must be able to store.

Each failure is an :class:`~spyglass.errors.InvalidArgumentError` naming the field, the
length found and the limit.
"""

from __future__ import annotations

from spyglass.errors import InvalidArgumentError

MAX_KEY_LENGTH = 250


def check_key(key: str, what: str = "key", limit: int = MAX_KEY_LENGTH) -> str:
    """A tag or metadata key, or another required name: 1 to ``limit`` characters."""
    if not key:
        raise InvalidArgumentError(f"{what} must not be empty")
    if len(key) > limit:
        raise InvalidArgumentError(
            f"{what} {key[:40]!r}… is {len(key)} characters long; the limit is {limit}"
        )
    return key


def check_length(value: str | None, limit: int, field: str) -> str | None:
    """``value`` (None when empty), or an error when it is longer than ``limit``."""
    if value and len(value) > limit:
        raise InvalidArgumentError(
            f"{field} has {len(value)} characters; at most {limit} are allowed"
        )
    return value or None


def check_text(value: str, limit: int, field: str) -> str:
    """A text field that PostgreSQL can store: no NUL character, at most ``limit`` long."""
    if "\x00" in value:
        raise InvalidArgumentError(f"{field} contains a NUL character (\\x00); remove it")
    check_length(value, limit, field)
    return value
