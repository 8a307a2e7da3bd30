"""``@scorer``: turn a plain function into a :class:`Scorer`.

Both spellings work: ``@scorer`` and ``@scorer(name=..., aggregations=[...],
time_limit=...)``. The function's signature is checked right away (see :mod:`.arguments`), and
the result is still callable like the function, so it can be unit-tested directly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, overload

from spyglass.errors import InvalidArgumentError

from .arguments import declared_arguments
from .base import Scorer, check_aggregations, check_name, check_time_limit


class FunctionScorer(Scorer):
    """A scorer made from a function by :func:`scorer`."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        aggregations: Sequence[str] | None = None,
        time_limit: float | None = None,
    ) -> None:
        owner = name if name is not None else getattr(func, "__name__", repr(func))
        self.name = check_name(owner, "@scorer")
        self.aggregations = check_aggregations(aggregations, self.name)
        self.time_limit = check_time_limit(time_limit, "@scorer(time_limit=...)")
        self._declared = declared_arguments(func, self.name)
        self._func = func
        functools.update_wrapper(self, func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._func(*args, **kwargs)


@overload
def scorer(func: Callable[..., Any]) -> FunctionScorer: ...
@overload
def scorer(
    *,
    name: str | None = None,
    aggregations: Sequence[str] | None = None,
    time_limit: float | None = None,
) -> Callable[[Callable[..., Any]], FunctionScorer]: ...


def scorer(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    aggregations: Sequence[str] | None = None,
    time_limit: float | None = None,
) -> Any:
    """Make ``func`` a scorer that receives only the row arguments it declares.

    ``func`` may declare any of ``inputs``, ``outputs``, ``expectations``, ``trace`` and return
    a bool, int, float, str, :class:`Feedback`, a list of Feedback, or None (not applicable).
    ``time_limit``: seconds one call may take on one row before that row gets an error
    (None: the evaluation's default for code scorers, 60 s unless changed).
    """
    if func is not None:
        if not callable(func):
            raise InvalidArgumentError(
                f"@scorer decorates a function, got {func!r}; write "
                "@scorer or @scorer(name=..., aggregations=[...])"
            )
        return FunctionScorer(func, name=name, aggregations=aggregations, time_limit=time_limit)

    def decorate(f: Callable[..., Any]) -> FunctionScorer:
        return FunctionScorer(f, name=name, aggregations=aggregations, time_limit=time_limit)

    return decorate
