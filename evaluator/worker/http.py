"""The worker's HTTP port: ``/healthz``, ``/readyz`` and ``/metrics``.

- ``/healthz``: 200 while the worker loop runs (a liveness probe restarts a worker whose
  loop died), else 503;
- ``/readyz``: 200 when the collector answered the last heartbeat (and claims) and the worker
  is not shutting down, else 503 with the reason as text;
- ``/metrics``: Prometheus text (:mod:`.metrics`).

It is a small Starlette app served by uvicorn on a thread of its own, so it answers whatever
the worker is doing; signals are left to the service (:mod:`.serve`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from spyglass.errors import ConfigurationError
from spyglass.evaluator.worker.connection import Readiness
from spyglass.evaluator.worker.metrics import CONTENT_TYPE_LATEST, WorkerMetrics

logger = logging.getLogger("spyglass.evaluator.worker")

STOP_TIMEOUT_S = 5.0


def health_app(
    readiness: Readiness, metrics: WorkerMetrics, alive: Callable[[], bool]
) -> Starlette:
    """The three endpoints (module docstring)."""

    async def healthz(_request: Request) -> Response:
        if alive():
            return PlainTextResponse("ok\n")
        return PlainTextResponse("the worker loop is not running\n", status_code=503)

    async def readyz(_request: Request) -> Response:
        reason = readiness.reason()
        if reason is None:
            return PlainTextResponse("ready\n")
        return PlainTextResponse(f"not ready: {reason}\n", status_code=503)

    async def metrics_endpoint(_request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
        ]
    )


class HealthServer:
    """Serves an ASGI app on ``host:port`` (0: any free port) from a thread."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self._socket = socket.create_server((host, port), family=family, backlog=128)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot listen for /healthz, /readyz and /metrics on {host}:{port} "
                f"({exc.strerror}); choose another port with --http-port / "
                "SPYGLASS_EVALUATOR_HTTP_PORT (0 picks a free one)"
            ) from exc
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = _QuietServer(config)
        self._thread = threading.Thread(
            target=self._run, name="spyglass-evaluator-http", daemon=True
        )

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=STOP_TIMEOUT_S)
        self._socket.close()

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the service owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
