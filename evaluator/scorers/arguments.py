"""Which row arguments a scorer declares, checked when the scorer is defined.

A scorer receives only the arguments it names among ``inputs``, ``outputs``, ``expectations``
and ``trace``. Any other parameter without a default could never be filled, so it is rejected
at decoration (or class definition) time with a message naming it, not on the first row.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from spyglass.errors import InvalidArgumentError

ROW_ARGUMENTS = ("inputs", "outputs", "expectations", "trace")


def declared_arguments(func: Callable[..., Any], owner: str) -> tuple[str, ...]:
    """The row arguments ``func`` declares, in :data:`ROW_ARGUMENTS` order.

    ``owner`` names the scorer in error messages. A ``**kwargs`` parameter receives all four.
    """
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"scorer {owner!r}: cannot read the signature of {func!r} "
            f"({exc}); define it with a Python def"
        ) from exc
    params = [p for p in signature.parameters.values() if p.name != "self"]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return ROW_ARGUMENTS
    unknown = [
        p.name
        for p in params
        if p.name not in ROW_ARGUMENTS and p.default is p.empty and p.kind is not p.VAR_POSITIONAL
    ]
    if unknown:
        raise InvalidArgumentError(
            f"scorer {owner!r} has required parameter(s) {', '.join(unknown)} that a scorer is "
            f"never given; declare only {', '.join(ROW_ARGUMENTS)} (or give the others "
            "defaults)"
        )
    positional_only = [p.name for p in params if p.kind is p.POSITIONAL_ONLY]
    if positional_only:
        raise InvalidArgumentError(
            f"scorer {owner!r} declares {', '.join(positional_only)} as positional-only; "
            "scorers are called with keyword arguments, so remove the '/'"
        )
    names = {p.name for p in params}
    return tuple(a for a in ROW_ARGUMENTS if a in names)


def select(declared: tuple[str, ...], row: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of one call: the row's values for the declared names."""
    return {name: row[name] for name in declared}
