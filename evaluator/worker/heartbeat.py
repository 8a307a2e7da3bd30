"""The worker's heartbeat: who it is, that it is alive, and its share of the judge rate.

Every ``HEARTBEAT_SECONDS`` the worker tells the collector its id, how many rows it scores at
once and the scorer names its ``--scorers-module`` registered (submitters may then name
them); the answer says how many workers are alive. A service-wide judge rate limit (requests
per second per judge endpoint) is shared among them: this worker paces its judges at
``rate / live_workers``, updated whenever that number changes. On shutdown a last heartbeat
says ``stopping``, so the collector forgets the worker at once.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Sequence

from spyglass.evaluator.scorers.judges import endpoints
from spyglass.evaluator.worker.connection import HEARTBEAT, Connection
from spyglass.v1 import jobs_pb2 as pb

logger = logging.getLogger("spyglass.evaluator.worker")

HEARTBEAT_SECONDS = 5.0
FAREWELL_TIMEOUT_S = 5.0


def new_worker_id() -> str:
    """``host:pid:random``: unique per process, readable in logs."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def judge_rate_share(rate: float | None, live_workers: int) -> float | None:
    """This worker's judge requests per second: the service's ``rate`` split evenly among
    the live workers (None: no limit)."""
    return None if rate is None else rate / max(1, live_workers)


class Heartbeat:
    """Sends heartbeats from a thread of its own and applies the judge rate share."""

    def __init__(
        self,
        connection: Connection,
        worker_id: str,
        concurrency: int,
        scorer_names: Sequence[str],
        judge_rate_limit: float | None,
        interval: float = HEARTBEAT_SECONDS,
    ) -> None:
        self._connection = connection
        self._request = pb.HeartbeatRequest(
            worker_id=worker_id, concurrency=concurrency, scorer_names=sorted(scorer_names)
        )
        self._rate = judge_rate_limit
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.live_workers = 0
        self._share(1)  # alone until the collector says otherwise

    def beat(self, stopping: bool = False) -> int | None:
        """Send one heartbeat; the live workers it reported (None when it failed)."""
        request = pb.HeartbeatRequest()
        request.CopyFrom(self._request)
        request.stopping = stopping
        try:  # the last one may not hold up the shutdown
            live: int = self._connection.jobs(
                HEARTBEAT, request, timeout=FAREWELL_TIMEOUT_S if stopping else None
            ).live_workers
        except Exception as exc:  # the collector is down or refuses us: not ready, go on
            logger.warning("heartbeat to the collector failed: %s", exc)
            return None
        if not stopping:
            self._connection.metrics.live_workers.set(live)
            self._share(live)
        return live

    def start(self) -> Heartbeat:
        """The first heartbeat now, then one every interval in a thread."""
        self.beat()
        self._thread = threading.Thread(
            target=self._loop, name="spyglass-evaluator-heartbeat", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating and say goodbye (``stopping=true``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 5)
        self.beat(stopping=True)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.beat()

    def _share(self, live: int) -> None:
        live = max(1, live)
        if live == self.live_workers:
            return
        self.live_workers = live
        share = judge_rate_share(self._rate, live)
        if share is not None:
            endpoints.set_service_rate(share)
            logger.info(
                "%d live evaluator worker(s): judges paced at %.3g requests/s per "
                "endpoint (of %.3g for the service)",
                live,
                share,
                self._rate,
            )
