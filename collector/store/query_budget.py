"""Time limits for the statements one API call runs, enforced by the database itself.

A :class:`QueryBudget` is made per API call and made current for the worker thread that runs
the call's store function (:meth:`QueryBudget.run`). The engine hooks that :func:`install`
adds apply it to every statement that thread runs, and to nothing else (the span writer,
retention and readiness checks run in other threads, without a budget):

* each statement may run for ``timeout`` seconds (``--query-timeout``), and never past the
  caller's ``deadline``: on PostgreSQL through ``SET LOCAL statement_timeout`` at the start
  of each transaction, on SQLite through a progress handler that aborts the statement;
* :meth:`QueryBudget.cancel` (the client cancelled, or its deadline passed) stops the
  running statement at once (PostgreSQL: a cancel request; SQLite: the progress handler)
  and refuses any further one.

A statement stopped this way raises :class:`~spyglass.errors.QueryTimeoutError` naming the
limit, never a "store unavailable" error. Statements the store refuses as too large (too
many parameters, an expression too deep) raise InvalidArgumentError, for the same reason.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError

from spyglass.errors import InvalidArgumentError, QueryTimeoutError

T = TypeVar("T")

CANCEL_ATTEMPTS = 25  # PostgreSQL cancel requests per abandoned call, CANCEL_PAUSE_S apart
CANCEL_PAUSE_S = 0.2
SQLITE_CHECK_EVERY = 1000  # virtual machine instructions between two progress-handler calls
NARROW_HINT = (
    "narrow the search: a time range (attributes.timestamp_ms > …), fewer "
    "experiments, fewer or more selective conditions (LIKE/ILIKE patterns, and "
    "trace.text values that begin with no word, read every span of every trace "
    "they are tried on)"
)

_current = threading.local()

# what a store says when a statement exceeds one of its size limits
_TOO_LARGE = (
    "too many sql variables",
    "expression tree is too large",
    "parser stack overflow",
    "like or glob pattern too complex",
    "number of parameters must be between",
    "stack depth limit exceeded",
    "statement is too complex",
)


class QueryBudget:
    """The limits of one API call's statements (module docstring).

    ``timeout``: seconds per statement (the collector's ``--query-timeout``);
    ``remaining``: seconds until the caller's deadline (None: no deadline).
    """

    def __init__(self, timeout: float, remaining: float | None = None) -> None:
        self.timeout = timeout
        self.deadline = None if remaining is None else time.monotonic() + remaining
        self.cancelled = False
        self.stopped_by: str | None = None  # "timeout" | "deadline" | "cancel"
        self._statement_end = math.inf
        self._statement_limit = "timeout"
        self._connections: list[Any] = []
        self._lock = threading.Lock()

    # -- running a store function under this budget

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in this thread with every statement under this budget."""
        _current.budget = self
        try:
            return fn(*args)
        except DBAPIError as exc:
            raise self.translate(exc) from exc
        finally:
            _current.budget = None

    def translate(self, exc: DBAPIError) -> Exception:
        """The error to report for a statement that failed under this budget."""
        if _was_stopped(exc):
            return self.timeout_error(self.stopped_by or self._statement_limit)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if any(marker in reason.lower() for marker in _TOO_LARGE):
            return InvalidArgumentError(
                f"the request is too large for the store to run ({reason}); {NARROW_HINT}"
            )
        return exc

    def timeout_error(self, limit: str) -> QueryTimeoutError:
        if limit == "timeout":
            return QueryTimeoutError(
                f"a query of this request ran longer than {self.timeout:g} s, the collector's "
                f"--query-timeout (SPYGLASS_QUERY_TIMEOUT), and was stopped; {NARROW_HINT}; "
                "or raise --query-timeout"
            )
        return QueryTimeoutError(
            "a query of this request was stopped when the request's deadline passed (it was "
            f"cancelled or timed out); {NARROW_HINT}; or give the request a longer timeout"
        )

    # -- limits of the next statement

    def limit(self) -> tuple[float, str]:
        """Seconds the next statement may run, and which limit that is."""
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining < self.timeout:
                return max(remaining, 0.0), "deadline"
        return self.timeout, "timeout"

    def start_statement(self) -> None:
        """Called before each statement: refuse it when the budget is spent, else start its
        clock."""
        if self.cancelled:
            raise self.timeout_error("deadline")
        seconds, kind = self.limit()
        if seconds <= 0:
            self.stopped_by = kind
            raise self.timeout_error(kind)
        self._statement_end = time.monotonic() + seconds
        self._statement_limit = kind

    def should_stop(self) -> bool:
        """SQLite's progress handler: true aborts the running statement."""
        if self.cancelled:
            self.stopped_by = "cancel"
            return True
        if time.monotonic() > self._statement_end:
            self.stopped_by = self._statement_limit
            return True
        return False

    # -- cancellation from another thread

    def cancel(self) -> None:
        """Stop the running statement and refuse further ones (thread-safe, never blocks:
        PostgreSQL cancel requests are sent from a short-lived thread)."""
        self.cancelled = True
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            if not isinstance(connection, sqlite3.Connection):  # SQLite polls `cancelled`
                threading.Thread(
                    target=self._cancel_postgres,
                    args=(connection,),
                    name="spyglass-query-cancel",
                    daemon=True,
                ).start()

    def _cancel_postgres(self, connection: Any) -> None:
        """Send cancel requests until the call gives ``connection`` back. One is not
        enough: a request that reaches the server before the statement does (it was just
        sent) finds nothing to cancel, and the statement would then run to its timeout."""
        for _ in range(CANCEL_ATTEMPTS):
            try:
                connection.cancel_safe(timeout=5.0)
            except Exception:  # the connection is gone: nothing left to stop
                return
            time.sleep(CANCEL_PAUSE_S)
            with self._lock:
                if connection not in self._connections:
                    return

    def attach(self, connection: Any) -> None:
        with self._lock:
            self._connections.append(connection)
        if isinstance(connection, sqlite3.Connection):
            connection.set_progress_handler(lambda: int(self.should_stop()), SQLITE_CHECK_EVERY)

    def detach(self, connection: Any) -> None:
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)
        if isinstance(connection, sqlite3.Connection):
            connection.set_progress_handler(None, 0)


def current() -> QueryBudget | None:
    """The budget of the API call this thread is running, if any."""
    return getattr(_current, "budget", None)


def install(engine: Engine) -> None:
    """Apply the budget of the calling thread's API call (if any) to ``engine``'s
    statements; once per engine."""
    if event.contains(engine, "before_cursor_execute", _before_statement):
        return
    event.listen(engine, "checkout", _on_checkout)
    event.listen(engine, "checkin", _on_checkin)
    event.listen(engine, "before_cursor_execute", _before_statement)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _on_begin_postgres)


def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    budget = current()
    if budget is not None:
        budget.attach(dbapi_connection)
        record.info["spyglass_budget"] = budget


def _on_checkin(dbapi_connection: Any, record: Any) -> None:
    budget = record.info.pop("spyglass_budget", None)
    if budget is not None and dbapi_connection is not None:
        budget.detach(dbapi_connection)


def _before_statement(
    _conn: Any, _cursor: Any, _statement: str, _parameters: Any, _context: Any, _executemany: bool
) -> None:
    budget = current()
    if budget is not None:
        budget.start_statement()


def _on_begin_postgres(connection: Any) -> None:
    budget = current()
    if budget is None:
        return
    seconds, _kind = budget.limit()
    milliseconds = max(1, math.ceil(seconds * 1000))
    # statement_timeout applies to each statement of the transaction on its own
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")


def _was_stopped(exc: DBAPIError) -> bool:
    """The statement was stopped by a time limit or a cancel (either store)."""
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        return str(orig).strip() == "interrupted"
    return getattr(orig, "sqlstate", None) == "57014"  # PostgreSQL query_canceled
