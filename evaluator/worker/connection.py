"""The worker's calls to the collector, and whether the collector is answering them.

Every call goes through :class:`Connection`: a failure is counted by method
(``spyglass_evaluator_collector_errors_total``) and raised as its :mod:`spyglass.errors`
class. The connection also keeps the worker's readiness: it is not ready while the collector
cannot be reached (or refuses the API key), or while its last heartbeat went unanswered, and
never once shutdown has begun; ``/readyz`` answers 503 with that reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from spyglass.client import SpyglassClient
from spyglass.entities import Trace
from spyglass.errors import CollectorUnavailableError, ConfigurationError
from spyglass.evaluator.worker.metrics import WorkerMetrics
from spyglass.v1 import datasets_pb2_grpc, jobs_pb2_grpc

HEARTBEAT = "Heartbeat"
_UNREACHABLE = (CollectorUnavailableError, ConfigurationError)
T = TypeVar("T")


class Readiness:
    """Why the worker is not ready, or None when it is (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._problem: str | None = "the collector has not answered a heartbeat yet"
        self._stopping = False

    def reason(self) -> str | None:
        with self._lock:
            return "shutting down" if self._stopping else self._problem

    def answered(self) -> None:
        with self._lock:
            self._problem = None

    def failed(self, problem: str) -> None:
        with self._lock:
            self._problem = problem

    def stopping(self) -> None:
        with self._lock:
            self._stopping = True


class Connection:
    """The collector's services as the worker uses them (module docstring)."""

    def __init__(
        self, client: SpyglassClient, metrics: WorkerMetrics, readiness: Readiness | None = None
    ) -> None:
        self.client = client
        self.metrics = metrics
        self.readiness = readiness or Readiness()
        self._jobs = client.stub(jobs_pb2_grpc.EvaluationJobServiceStub)
        self._datasets = client.stub(datasets_pb2_grpc.DatasetServiceStub)

    def jobs(self, method: str, request: Any, timeout: float | None = None) -> Any:
        """``EvaluationJobService.<method>(request)``."""
        return self._counted(
            method, lambda: self.client.call(getattr(self._jobs, method), request, timeout=timeout)
        )

    def datasets(self, method: str, request: Any, timeout: float | None = None) -> Any:
        """``DatasetService.<method>(request)`` (a request iterator for MergeRecords)."""
        return self._counted(
            method,
            lambda: self.client.call(getattr(self._datasets, method), request, timeout=timeout),
        )

    def batch_get_traces(self, trace_ids: list[str]) -> list[Trace]:
        """The traces of ``trace_ids`` the collector has (unknown ids are left out)."""
        return self._counted("BatchGetTraces", lambda: self.client.batch_get_traces(trace_ids))

    def _counted(self, method: str, call: Callable[[], T]) -> T:
        try:
            response = call()
        except Exception as exc:
            self.metrics.collector_errors.labels(method).inc()
            if method == HEARTBEAT or isinstance(exc, _UNREACHABLE):
                self.readiness.failed(
                    f"{method} to the collector at {self.client.address} failed: {exc}"
                )
            raise
        self.readiness.answered()
        return response
