"""The :class:`Scorer` base class: one named way of scoring a row, run safely.

Subclasses implement ``__call__`` declaring any of ``inputs``, ``outputs``, ``expectations``
and ``trace``; :meth:`Scorer.run` passes exactly those, turns the return value into
:class:`~spyglass.evaluator.scorers.results.ScoreResult` rows and never raises: an exception
becomes a result carrying the error, so one bad row or scorer never stops an evaluation.

``time_limit`` bounds one call of a scorer on one row, in seconds (None: the default of the
evaluation, see :mod:`spyglass.evaluator.deadlines`); the runner records a call that overruns
it as that row's :class:`ScorerTimeoutError` and goes on.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from spyglass.errors import InvalidArgumentError, SpyglassError
from spyglass.scorer_refs import snake_case

from .arguments import declared_arguments, select
from .results import ScoreResult, checked_result, error_result, to_results

if TYPE_CHECKING:
    from spyglass.entities import Trace

AGGREGATIONS = ("min", "max", "mean", "median", "p90", "std", "count", "error_count")
"""Aggregations ``evaluate()`` computes over a scorer's per-row scores, besides the mean."""


class ScorerInputError(InvalidArgumentError):
    """A row lacks what a scorer needs (e.g. Correctness without an expected answer); it is
    recorded as that row's error for the scorer."""


class ScorerTimeoutError(SpyglassError):
    """A scorer did not return within its time limit on a row; recorded as that row's error
    for the scorer (the call is abandoned, or cancelled when it is a coroutine)."""


def check_time_limit(time_limit: Any, what: str) -> float | None:
    """``time_limit`` as seconds (None stays None), or an InvalidArgumentError naming ``what``
    (the argument as the user wrote it)."""
    if time_limit is None:
        return None
    if (
        isinstance(time_limit, bool)
        or not isinstance(time_limit, (int, float))
        or not math.isfinite(time_limit)
        or time_limit <= 0
    ):
        raise InvalidArgumentError(
            f"{what} must be a number of seconds > 0 (how long one "
            f"scorer call may take on one row), got {time_limit!r}"
        )
    return float(time_limit)


def check_aggregations(aggregations: Sequence[str] | None, owner: str) -> list[str] | None:
    """The aggregations as a list, or an InvalidArgumentError naming the unknown ones."""
    if aggregations is None:
        return None
    if isinstance(aggregations, str):
        aggregations = [aggregations]
    unknown = [a for a in aggregations if a not in AGGREGATIONS]
    if unknown:
        raise InvalidArgumentError(
            f"scorer {owner!r}: unknown aggregation(s) {unknown}; "
            f"choose from {', '.join(AGGREGATIONS)}"
        )
    return list(aggregations)


def check_name(name: Any, owner: str) -> str:
    if not isinstance(name, str) or not name.strip() or "/" in name:
        raise InvalidArgumentError(
            f"{owner}: name must be a non-empty string without '/' "
            f"(it becomes the '<name>/score' column), got {name!r}"
        )
    return name


class Scorer:
    """Base class of every scorer; subclass it and implement ``__call__``.

    ``name`` defaults to the class name in snake_case; ``aggregations`` lists the extra
    aggregations ``evaluate()`` reports for it. Code scorers have source type ``CODE`` and
    their name as source id; LLM judges override both. ``time_limit`` (seconds) bounds one
    call on one row (None: the evaluation's default for its kind, longer for scorers that
    call a model, ``calls_model``).
    """

    name: str = "scorer"
    aggregations: list[str] | None = None
    time_limit: float | None = None
    source_type: ClassVar[str] = "CODE"
    calls_model: ClassVar[bool] = False
    _declared: tuple[str, ...] = ()  # set per class from __call__, per instance by wrappers

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = snake_case(cls.__name__)
        if "__call__" in cls.__dict__:
            cls._declared = declared_arguments(cls.__dict__["__call__"], cls.__name__)

    def __init__(
        self,
        *,
        name: str | None = None,
        aggregations: Sequence[str] | None = None,
        time_limit: float | None = None,
    ) -> None:
        if name is not None:
            self.name = check_name(name, type(self).__name__)
        if aggregations is not None:
            self.aggregations = check_aggregations(aggregations, self.name)
        if time_limit is not None:
            self.time_limit = check_time_limit(time_limit, f"{type(self).__name__}(time_limit=...)")

    @property
    def source_id(self) -> str:
        return self.name

    @property
    def needs_trace(self) -> bool:
        """True when the scorer reads the row's trace (``evaluate()`` then fetches it)."""
        return "trace" in self._declared

    @property
    def declared_arguments(self) -> tuple[str, ...]:
        return self._declared

    def missing(self, what: str) -> ScorerInputError:
        """The per-row error for a row lacking ``what`` ("Correctness needs ...")."""
        return ScorerInputError(f"{type(self).__name__} needs {what}")

    # (*args, **kwargs) lets each subclass declare the subset of arguments it reads
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} must implement __call__ declaring "
            "any of inputs, outputs, expectations, trace"
        )

    def run(
        self,
        *,
        inputs: dict[str, Any] | None,
        outputs: Any,
        expectations: dict[str, Any] | None,
        trace: Trace | None = None,
        time_limit: float | None = None,
    ) -> list[ScoreResult]:
        """Score one row; never raises (an exception becomes a result with ``error`` set).

        ``time_limit``: seconds after which a coroutine scorer is cancelled (a sync one cannot
        be stopped; the runner abandons it instead, see :mod:`spyglass.evaluator.deadlines`).
        """
        row = {
            "inputs": inputs if inputs is not None else {},
            "outputs": outputs,
            "expectations": expectations if expectations is not None else {},
            "trace": trace,
        }
        try:
            raw = self(**select(self._declared, row))
            if inspect.isawaitable(raw):
                raw = asyncio.run(_awaited(raw, self.name, time_limit))
            if isinstance(raw, ScoreResult):
                return [checked_result(raw)]
            return to_results(
                raw, name=self.name, source_type=self.source_type, source_id=self.source_id
            )
        except Exception as exc:  # a scorer's failure is a per-row result, never a crash
            return [
                error_result(
                    self.name,
                    exc,
                    source_type=self.source_type,
                    source_id=self.source_id,
                    usage=getattr(exc, "usage", None),
                )
            ]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


async def _awaited(awaitable: Any, name: str, time_limit: float | None) -> Any:
    if time_limit is None:
        return await awaitable
    try:
        return await asyncio.wait_for(awaitable, time_limit)
    except asyncio.TimeoutError:
        raise ScorerTimeoutError(
            f"scorer {name!r} did not return within {time_limit:g} s on "
            "this row and was cancelled; give it more time with "
            "time_limit=..., or make it faster"
        ) from None
