"""Finding a named expectation in a row's expectations dict.

Hand-written records hold expectations at the top level (``{"must_mention": [...]}``); records
made from traces hold them under the expectation's name (``{"key_information": {"must_mention":
[...]}}``). Heuristic scorers look in both places, top level first.
"""

from __future__ import annotations

from typing import Any

MISSING: Any = object()


def find_expectation(expectations: dict[str, Any], key: str) -> Any:
    """The value under ``key`` at the top level, else inside one nested dict; else MISSING."""
    if key in expectations:
        return expectations[key]
    for value in expectations.values():
        if isinstance(value, dict) and key in value:
            return value[key]
    return MISSING
