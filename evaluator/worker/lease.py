"""A leased chunk while the worker holds it, and the thread that keeps its lease alive.

The renewer extends the lease every third of its duration. When the collector says the lease
was lost (``FAILED_PRECONDITION``: it expired and another worker took the chunk) or that the
job was cancelled, the lease is marked stopped: the worker starts no more rows of it, sends
nothing more with it, and does not release it as done. A renewal that fails for another
reason (the collector is briefly away) is tried again at the next tick; the lease is only
given up when the collector says so.

A lease is ended (released, given back or abandoned as lost) exactly once, by whichever of
the worker thread and the shutdown path gets there first (:meth:`Lease.end`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from spyglass.errors import FailedPreconditionError
from spyglass.evaluator.worker.connection import Connection
from spyglass.v1 import jobs_pb2 as pb

logger = logging.getLogger("spyglass.evaluator.worker")

LOST = "lost"
CANCELLED = "cancelled"
SHUTDOWN = "shutdown"


class Lease:
    """One claimed chunk: its lease, its job and items, and whether to stop working on it."""

    def __init__(self, claim: pb.ClaimWorkResponse, worker_id: str) -> None:
        self.lease_id = claim.lease_id
        self.worker_id = worker_id
        self.job = claim.job
        self.chunk_index = claim.chunk_index
        self.items = list(claim.items)
        self.previous_attempts = claim.previous_attempts
        self._lock = threading.Lock()
        self._stop_reason: str | None = None
        self._ended = False

    @property
    def label(self) -> str:
        """How logs name the chunk."""
        return f"job {self.job.job_id} chunk {self.chunk_index}"

    @property
    def kind(self) -> str:
        """``monitor`` for a monitor's chunk, else ``job`` (the rows-scored metric label)."""
        return "monitor" if self.job.monitor_id else "job"

    @property
    def stop_reason(self) -> str | None:
        """Why the worker must stop on this chunk (LOST, CANCELLED, SHUTDOWN), or None."""
        return self._stop_reason

    def stop(self, reason: str) -> None:
        """Stop working on the chunk; the first reason given is kept."""
        with self._lock:
            if self._stop_reason is None:
                self._stop_reason = reason

    @property
    def ended(self) -> bool:
        """True once the lease was released (or found lost)."""
        return self._ended

    def end(self) -> bool:
        """True the first time: the caller may release the lease (nobody else will)."""
        with self._lock:
            ended, self._ended = self._ended, True
            return not ended


class LeaseRenewer:
    """Renews a lease every ``lease_seconds / 3`` from a thread, while used as a context."""

    def __init__(self, connection: Connection, lease: Lease, lease_seconds: float) -> None:
        self._connection = connection
        self._lease = lease
        self._lease_seconds = lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, daemon=True, name=f"spyglass-evaluator-lease-{lease.chunk_index}"
        )

    def __enter__(self) -> LeaseRenewer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def renew(self) -> None:
        """One renewal, marking the lease stopped when the collector says to."""
        lease = self._lease
        if lease.ended:  # released meanwhile: nothing left to renew
            return
        request = pb.RenewLeaseRequest(
            lease_id=lease.lease_id, worker_id=lease.worker_id, lease_seconds=self._lease_seconds
        )
        try:
            response = self._connection.jobs("RenewLease", request)
        except FailedPreconditionError as exc:
            if lease.ended:  # the release overtook this renewal
                return
            logger.warning("%s: lease lost (%s); dropping its unsent rows", lease.label, exc)
            lease.stop(LOST)
            return
        except Exception as exc:  # try again at the next tick, while the lease may last
            logger.warning("%s: renewing the lease failed (%s); retrying", lease.label, exc)
            return
        if response.cancelled:
            logger.info("%s: the job was cancelled; stopping", lease.label)
            lease.stop(CANCELLED)

    def _loop(self) -> None:
        while not self._stop.wait(self._lease_seconds / 3):
            self.renew()
            if self._lease.stop_reason in (LOST, CANCELLED):
                return
