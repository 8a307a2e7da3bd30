"""Where the spyglass.v1 servicers run their blocking store calls, and under which limits.

Two thread pools of their own, separate from asyncio's default executor (which readiness
checks and startup use) and from the ingest path (decode processes, the span writer's
thread):

* ``heavy`` (``--query-workers`` threads): searches and bulk calls, whose cost depends on
  the request (trace, experiment and dataset searches, batch reads, deletes, record lists);
* ``light`` (:data:`LIGHT_WORKERS` threads): every other call, each a few small statements
  (jobs, leases, heartbeats, single reads and writes), so that evaluator workers and UI
  reads are answered promptly however many searches are running.

Every call runs under a :class:`~spyglass.collector.store.query_budget.QueryBudget`: each
statement may take ``--query-timeout`` seconds and never outlives the client's deadline;
when the client cancels, or its deadline passes, the running statement is stopped. Errors
become gRPC statuses as ``api/errors.py`` maps them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
from sqlalchemy import Engine

from spyglass.collector.api.errors import abort_for
from spyglass.collector.store import query_budget
from spyglass.collector.store.query_budget import QueryBudget
from spyglass.errors import ConfigurationError

T = TypeVar("T")

LIGHT_WORKERS = 8
MAX_QUERY_WORKERS = 8  # with LIGHT_WORKERS, the writer and readiness: within the store pool
DEFAULT_TIMEOUT = 30.0


class QueryRunner:
    """Runs store functions for the servicers of one collector (module docstring)."""

    def __init__(self, engine: Engine, timeout: float = DEFAULT_TIMEOUT, workers: int = 4) -> None:
        if not timeout > 0:
            raise ConfigurationError(
                f"--query-timeout must be a positive number of seconds, got {timeout}"
            )
        if not 1 <= workers <= MAX_QUERY_WORKERS:
            raise ConfigurationError(
                f"--query-workers must be 1 to {MAX_QUERY_WORKERS}, got {workers}: each "
                "running search holds one of the store's connections, which it shares with "
                "the span writer and the other API calls"
            )
        self.engine = engine
        self.timeout = timeout
        query_budget.install(engine)
        self._light = ThreadPoolExecutor(LIGHT_WORKERS, thread_name_prefix="spyglass-api")
        self._heavy = ThreadPoolExecutor(workers, thread_name_prefix="spyglass-query")

    async def call(self, context: grpc.aio.ServicerContext, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the light pool; a known error aborts the RPC with its status."""
        return await self._run(self._light, context, fn, args)

    async def search(
        self, context: grpc.aio.ServicerContext, fn: Callable[..., T], *args: Any
    ) -> T:
        """``fn(*args)`` on the heavy pool (searches and bulk calls), as :meth:`call`."""
        return await self._run(self._heavy, context, fn, args)

    def close(self) -> None:
        """Stop the pools: queued calls are dropped, running ones finish on their own."""
        self._light.shutdown(wait=False, cancel_futures=True)
        self._heavy.shutdown(wait=False, cancel_futures=True)

    async def _run(
        self,
        pool: ThreadPoolExecutor,
        context: grpc.aio.ServicerContext,
        fn: Callable[..., T],
        args: tuple[Any, ...],
    ) -> T:
        remaining = context.time_remaining()
        budget = QueryBudget(self.timeout, remaining)
        loop = asyncio.get_running_loop()
        watchdog = None if remaining is None else loop.call_later(remaining, budget.cancel)
        try:
            return await loop.run_in_executor(pool, budget.run, fn, *args)
        except asyncio.CancelledError:  # the client cancelled or its deadline passed
            budget.cancel()
            raise
        except Exception as exc:
            await abort_for(context, exc)
            raise  # abort_for returns only for an unexpected error: gRPC reports UNKNOWN
        finally:
            if watchdog is not None:
                watchdog.cancel()
