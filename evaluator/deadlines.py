"""Time limits of scorer calls: each call runs in a daemon thread and is given up at its limit.

Every scorer call of a row runs in a thread of :class:`DaemonThreads`; the row waits for each
call until its deadline (its start plus the scorer's time limit, :class:`TimeLimits`). A call
still running then becomes that row's :class:`ScorerTimeoutError` and the row goes on, so a
scorer that never returns cannot hold its evaluation, or its job's chunk and lease, forever.

Python cannot kill a thread: the overrunning call is abandoned, not stopped. Its thread stays
busy (with whatever the scorer holds: a socket, memory) until the scorer returns, if ever,
and then serves other calls again. The threads are daemons, so an abandoned call never holds
up the exit of the process. A coroutine scorer is cancelled at its limit instead
(:meth:`Scorer.run`), which frees its thread.

So that a scorer that hangs on every row neither piles up threads nor makes every row wait
out its whole limit: while :data:`MAX_OVERRUNNING` calls of one scorer overrun at once in a
process, its rows that start get the error at once, without a call (rows already waiting on
it may add a few more overrunning calls, at most one per row in flight).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from spyglass.evaluator.scorers.base import ScorerTimeoutError
from spyglass.evaluator.scorers.results import ScoreResult

if TYPE_CHECKING:
    from spyglass.entities import Trace

logger = logging.getLogger("spyglass.evaluator")

DEFAULT_CODE_TIME_LIMIT = 60.0
"""Seconds a code scorer may take on one row unless told otherwise."""
DEFAULT_JUDGE_TIME_LIMIT = 300.0
"""Seconds a scorer that calls a model (LLM judges, EmbeddingSimilarity) may take on one row
unless told otherwise: its requests, retries and waits for the rate limit together."""
MAX_OVERRUNNING = 16
"""Calls of one scorer that may overrun their limit at once before its rows are refused."""
IDLE_SECONDS = 30.0
"""A scorer thread with nothing to do for this long ends."""
TIMED_OUT = ScorerTimeoutError.__name__


class RowScorer(Protocol):
    """What running a scorer on rows asks of it: a :class:`~.scorers.base.Scorer`, or a
    wrapper that runs one (the evaluator worker's per-chunk scorer)."""

    @property
    def name(self) -> str: ...

    @property
    def source_type(self) -> str: ...

    @property
    def source_id(self) -> str: ...

    @property
    def needs_trace(self) -> bool: ...

    def run(
        self,
        *,
        inputs: dict[str, Any] | None,
        outputs: Any,
        expectations: dict[str, Any] | None,
        trace: Trace | None = None,
        time_limit: float | None = None,
    ) -> list[ScoreResult]: ...


LIBRARY_HINT = (
    "give it more time with time_limit= on the scorer (e.g. @scorer(time_limit="
    "120), Guidelines(..., time_limit=600)) or evaluate(scorer_time_limit=...)"
)


@dataclass(frozen=True)
class TimeLimits:
    """The time limit of scorers that set none (``code`` for code scorers, ``judge`` for
    scorers that call a model), and how the error message says to raise each: ``own_hint``
    for a scorer's own ``time_limit``, ``code_hint`` and ``judge_hint`` for the defaults."""

    code: float = DEFAULT_CODE_TIME_LIMIT
    judge: float = DEFAULT_JUDGE_TIME_LIMIT
    code_hint: str = LIBRARY_HINT
    judge_hint: str = LIBRARY_HINT
    own_hint: str = "give it more time with a larger time_limit"

    def of(self, scorer: RowScorer) -> float:
        """The seconds ``scorer`` may take on one row."""
        own: float | None = getattr(scorer, "time_limit", None)
        if own is not None:
            return own
        return self.judge if getattr(scorer, "calls_model", False) else self.code

    def hint(self, scorer: RowScorer) -> str:
        """How to give ``scorer`` more time, in the terms of where its limit came from."""
        if getattr(scorer, "time_limit", None) is not None:
            return self.own_hint
        return self.judge_hint if getattr(scorer, "calls_model", False) else self.code_hint


T = TypeVar("T")


class DaemonThreads:
    """Runs calls in daemon threads, starting one whenever none is free, so a call never
    waits for a thread and an abandoned one never blocks the process's exit (the standard
    executors join their threads at exit). Threads idle for :data:`IDLE_SECONDS` end."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._free = 0  # idle threads not yet promised a task
        self._started = 0

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """``fn(*args)`` in a thread; its Future."""
        future: Future[T] = Future()
        with self._lock:
            start = self._free == 0
            if start:
                self._started += 1
            else:
                self._free -= 1
            number = self._started
        self._tasks.put((future, fn, args))
        if start:
            threading.Thread(target=self._work, name=f"{self._name}-{number}", daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            try:
                future, fn, args = self._tasks.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._free > 0:  # no task is promised to this thread: end it
                        self._free -= 1
                        return
                continue
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # handed to whoever waits on the future
                    future.set_exception(exc)
            del future, fn, args  # an abandoned call's row data is not kept alive by us
            with self._lock:
                self._free += 1


class Overruns:
    """Calls that overran their limit and are still running, per scorer (module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[int, tuple[Any, int]] = {}  # id(scorer) -> (scorer, count)

    def count(self, scorer: Any) -> int:
        with self._lock:
            return self._running.get(id(scorer), (None, 0))[1]

    def total(self) -> int:
        """Every overrunning call in the process (each holds a thread)."""
        with self._lock:
            return sum(count for _, count in self._running.values())

    def add(self, scorer: Any, future: Future[Any]) -> int:
        """Count ``future`` as overrunning until it finishes; the scorer's count now."""
        with self._lock:
            _, count = self._running.get(id(scorer), (scorer, 0))
            self._running[id(scorer)] = (scorer, count + 1)
        future.add_done_callback(lambda _f: self._finished(scorer))
        return count + 1

    def _finished(self, scorer: Any) -> None:
        with self._lock:
            _, count = self._running.get(id(scorer), (scorer, 1))
            if count <= 1:
                self._running.pop(id(scorer), None)
            else:
                self._running[id(scorer)] = (scorer, count - 1)


THREADS = DaemonThreads("spyglass-eval-scorer")
OVERRUNS = Overruns()


def overrunning_calls() -> int:
    """Scorer calls of this process running past their time limit (each holds a thread)."""
    return OVERRUNS.total()


class TimedCall:
    """One scorer's call on one row, started at once, awaited until its deadline."""

    def __init__(
        self,
        scorer: RowScorer,
        row: dict[str, Any],
        limits: TimeLimits,
        run: Callable[[RowScorer, dict[str, Any], float], list[ScoreResult]],
        started: float,
    ) -> None:
        self.scorer = scorer
        self.limit = limits.of(scorer)
        self.hint = limits.hint(scorer)
        self.deadline = started + self.limit
        self._running = OVERRUNS.count(_identity(scorer))
        self.future = (
            None
            if self._running >= MAX_OVERRUNNING
            else THREADS.submit(run, scorer, row, self.limit)
        )

    def result(self, now: Callable[[], float]) -> list[ScoreResult]:
        """The call's results, or its timeout error once the deadline has passed."""
        if self.future is None:
            return [
                self._error(
                    f"scorer {self.scorer.name!r} was not run on this row: {self._running} of its "
                    f"calls on other rows are still running past its time limit of "
                    f"{self.limit:g} s, so it seems to hang; {self.hint}, or make it faster"
                )
            ]
        try:
            return self.future.result(timeout=max(0.0, self.deadline - now()))
        except FutureTimeout:
            pass
        overrunning = OVERRUNS.add(_identity(self.scorer), self.future)
        logger.warning(
            "scorer %r did not return within %g s; its call is abandoned and keeps "
            "a thread busy until it returns (%d call(s) of it overrunning now)",
            self.scorer.name,
            self.limit,
            overrunning,
        )
        return [
            self._error(
                f"scorer {self.scorer.name!r} did not return within "
                f"{self.limit:g} s on this row; {self.hint}, or make it faster"
            )
        ]

    def _error(self, message: str) -> ScoreResult:
        return ScoreResult(
            name=self.scorer.name,
            error=message,
            error_type=TIMED_OUT,
            source_type=self.scorer.source_type,
            source_id=self.scorer.source_id,
        )


def _identity(scorer: Any) -> Any:
    """The object whose calls are counted: a wrapper's (``wrapped``) scorer, else itself."""
    return getattr(scorer, "wrapped", scorer)
