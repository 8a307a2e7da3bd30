"""Wiring one collector: store, writer, pipeline, gRPC and HTTP servers (OTLP, the JSON
API and the web UI on the HTTP port), health, shutdown.

The same :class:`Collector` runs as a service (``spyglass collector start``, on the main
thread until SIGTERM/SIGINT) and embedded (``start_background``: its own event loop in a
daemon thread, on loopback ports the OS picks). Shutdown stops accepting, lets in-flight
requests finish, commits what is queued, then closes the store.

Alive and ready are told apart: :meth:`Collector.alive` is false only when the process can
no longer store anything and must be restarted (its span writer stopped or is stuck), which
``/healthz`` and gRPC health report for liveness probes; :meth:`Collector.ready` is also
false while the store is unreachable or during shutdown (``/readyz``). A service whose
writer stops shuts down and :meth:`Collector.serve` raises, so the process exits non-zero
instead of lingering half-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import threading
from collections.abc import Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor

import grpc
import uvicorn
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from sqlalchemy import Engine, text

from spyglass.collector import api
from spyglass.collector.api.local_calls import LocalApi
from spyglass.collector.api.queries import QueryRunner
from spyglass.collector.auth import ApiKeys, GrpcAuthInterceptor
from spyglass.collector.ingest.decode_pool import ConverterConfig, Decoder, auto_workers
from spyglass.collector.ingest.pipeline import IngestPipeline
from spyglass.collector.ingest.receivers import http_connections, otlp_grpc, otlp_http
from spyglass.collector.log_throttle import throttle
from spyglass.collector.metrics import CollectorMetrics
from spyglass.collector.store import migrate
from spyglass.collector.store.engine import create_store_engine
from spyglass.collector.store.traces.retention import RetentionTask
from spyglass.collector.store.traces.writer import Writer
from spyglass.collector.ui.app import UiSettings
from spyglass.collector.ui.app import create_app as create_ui_app
from spyglass.config import CollectorSettings
from spyglass.errors import CollectorFailedError, ConfigurationError

log = logging.getLogger("spyglass.collector")

SHUTDOWN_GRACE_S = 10.0
READY_PING_TIMEOUT_S = 2.0


class Collector:
    """One collector process's servers and write path."""

    def __init__(self, settings: CollectorSettings | None = None) -> None:
        self.settings = settings or CollectorSettings.load()
        self.metrics = CollectorMetrics()
        self.engine: Engine | None = None
        self.writer: Writer | None = None
        self.retention: RetentionTask | None = None
        self.grpc_port: int | None = None
        self.http_port: int | None = None
        self._grpc: grpc.aio.Server | None = None
        self._http: _QuietServer | None = None
        self._http_task: asyncio.Task | None = None
        self._health = _HealthServicer()
        self._decoder: Decoder | None = None
        self.queries: QueryRunner | None = None  # the spyglass.v1 services' thread pools
        self._local = LocalApi()  # the same services in-process: JSON API and web UI
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: str | None = None  # why this collector must be restarted
        self._health_updates: set[asyncio.Task[None]] = set()  # kept until they are done
        # readiness pings run on threads of their own, so a busy query or ingest pool
        # cannot make a healthy collector look unready (nor a hung ping starve them)
        self._probes = ThreadPoolExecutor(2, thread_name_prefix="spyglass-probe")

    # -- lifecycle on the caller's event loop --------------------------------------------

    async def start(self) -> None:
        """Open the store (migrating unless told not to), then start both servers."""
        try:
            await self._start()
        except BaseException:
            await self.stop(grace=0)  # release whatever did start (ports, writer, store)
            raise
        assert self._http_task is not None
        self._http_task.add_done_callback(self._http_ended)

    def _http_ended(self, task: asyncio.Task) -> None:
        """The HTTP server's task ended: expected during shutdown, a failure otherwise."""
        if self._stopping is None or self._stopping.is_set():
            return
        error = None if task.cancelled() else task.exception()
        self._part_failed(
            f"the OTLP/HTTP server stopped ({error!r})"
            if error is not None
            else "the OTLP/HTTP server stopped"
        )

    async def _start(self) -> None:
        s = self.settings
        _check_tls(s)
        self._stopping = asyncio.Event()
        self.engine = create_store_engine(s.store, s.sync)
        await asyncio.to_thread(self._prepare_schema)
        loop = asyncio.get_running_loop()

        def on_failure(why: str) -> None:  # on the writer's thread
            loop.call_soon_threadsafe(self._part_failed, why)

        self.writer = Writer(
            self.engine,
            self.metrics,
            max_queue_spans=s.queue_max_spans,
            max_batch_spans=s.batch_max_spans,
            retry_after=s.retry_after,
            on_failure=on_failure,
        )
        self.writer.start()
        self.retention = RetentionTask(self.engine, s.retention_days)
        self.retention.start()
        workers = auto_workers() if s.decode_workers < 0 else s.decode_workers
        self._decoder = Decoder(
            ConverterConfig(s.price_file, s.redaction_file, s.redact, s.max_attribute_bytes),
            workers,
        )
        pipeline = IngestPipeline(
            self._decoder, self.writer, self.metrics, s.max_inflight_bytes, s.retry_after
        )
        keys = ApiKeys(s.api_keys)
        await self._start_grpc(pipeline, keys)
        await self._start_http(pipeline, keys)
        await self._health.set(
            "",
            health_pb2.HealthCheckResponse.SERVING
            if self._failure is None
            else health_pb2.HealthCheckResponse.NOT_SERVING,
        )
        log.info(
            "collector ready: OTLP/gRPC on %s:%s, OTLP/HTTP on %s:%s, store %s",
            s.host,
            self.grpc_port,
            s.host,
            self.http_port,
            self.engine.url.render_as_string(hide_password=True),
        )

    async def stop(self, grace: float = SHUTDOWN_GRACE_S) -> None:
        """Stop accepting, finish in-flight requests, commit the queue, close the store."""
        if self._stopping is not None:
            self._stopping.set()
        await self._health.enter_graceful_shutdown()
        if self._http is not None:
            self._http.should_exit = True
        if self._grpc is not None:
            await self._grpc.stop(grace)
        if self._http_task is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._http_task, grace)
        if self.queries is not None:
            self.queries.close()
        # Both servers have stopped and in-flight requests are answered, so nothing needs
        # the event loop any more: close the rest directly. (Not through asyncio.to_thread:
        # at interpreter exit, when the embedded collector stops, the thread pools that
        # to_thread uses are already shut down.)
        if self.retention is not None:
            self.retention.stop()
        if self.writer is not None:
            self.writer.close(grace)
        if self._decoder is not None:
            self._decoder.close()
        if self.engine is not None:
            self.engine.dispose()
        self._probes.shutdown(wait=False)
        log.info("collector stopped")

    async def serve(self) -> None:
        """Run until SIGTERM or SIGINT (main thread), then shut down gracefully.

        Raises:
            CollectorFailedError: a part that cannot be restarted in place stopped (the
                span writer); the collector has shut down and its process should exit
                non-zero so that its supervisor starts a fresh one.
        """
        await self.start()
        # a service owns its process: what start-up built lives as long as the process, so
        # the garbage collector need not walk it again (each full collection would scan the
        # ~10^5 objects of the imported modules while spans are being written)
        gc.freeze()
        loop = asyncio.get_running_loop()
        assert self._stopping is not None
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        await self._stopping.wait()
        if self._failure is not None:
            log.critical("shutting down: %s", self._failure)
            await self.stop(grace=1.0)
            raise CollectorFailedError(
                f"the collector stopped because {self._failure}; restart it (under "
                "Kubernetes, compose or systemd this happens by itself)"
            )
        log.info("shutting down: draining the write queue")
        await self.stop()

    def alive(self) -> str | None:
        """None while the collector can store what it receives, else why it cannot (it
        must then be restarted: liveness probes read this through ``/healthz``)."""
        if self._failure is not None:
            return self._failure
        if self.writer is not None:
            return self.writer.problem
        return None

    async def ready(self) -> str | None:
        """None when the collector can take traffic, else the reason it cannot."""
        if self._stopping is None or self._stopping.is_set():
            return "shutting down"
        if self.writer is None or not self.writer.alive:
            return self.alive() or "writer is not running"
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.run_in_executor(self._probes, self._ping), READY_PING_TIMEOUT_S
            )
        except Exception as exc:
            # a timed-out ping raises TimeoutError, whose message is empty
            return f"store unreachable: {(str(exc).splitlines() or [type(exc).__name__])[0]}"
        return None

    def _part_failed(self, why: str) -> None:
        """On the event loop: a part stopped for good. Report not-alive on gRPC health at
        once; a service also shuts down (:meth:`serve` then raises)."""
        self._failure = why
        update = asyncio.ensure_future(
            self._health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        )
        self._health_updates.add(update)
        update.add_done_callback(self._health_updates.discard)
        if self._thread is None and self._stopping is not None:  # a service, not embedded
            self._stopping.set()

    # -- embedded use: a background thread with its own loop -----------------------------

    def start_background(self, timeout: float = 30.0) -> Collector:
        """Start in a daemon thread; returns once both ports accept connections."""
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self.start())
            except BaseException as exc:  # reported to the caller below
                failure.append(exc)
                started.set()
                return
            started.set()
            assert self._stopping is not None  # start() made it
            self._loop.run_until_complete(self._stopping.wait())
            self._loop.run_until_complete(self.stop())

        self._thread = threading.Thread(target=run, name="spyglass-collector", daemon=True)
        self._thread.start()
        if not started.wait(timeout):
            raise TimeoutError(f"collector did not start within {timeout}s")
        if failure:
            raise failure[0]
        return self

    def stop_background(self, timeout: float = 30.0) -> None:
        if self._loop is None or self._thread is None or self._stopping is None:
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout)

    # -- internals -------------------------------------------------------------------------

    def _prepare_schema(self) -> None:
        assert self.engine is not None
        if self.settings.migrate:
            migrate.upgrade(self.engine)
        else:
            migrate.check_current(self.engine)

    def _ping(self) -> None:
        assert self.engine is not None
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    async def _start_grpc(self, pipeline: IngestPipeline, keys: ApiKeys) -> None:
        assert self.engine is not None
        s = self.settings
        limit = s.max_request_bytes
        self._grpc = grpc.aio.server(
            interceptors=[GrpcAuthInterceptor(keys)] if keys.enabled else None,
            options=[
                ("grpc.max_receive_message_length", limit),
                ("grpc.max_send_message_length", limit),
                # connections that never complete the HTTP/2 handshake are closed
                ("grpc.server_handshake_timeout_ms", int(s.http_read_timeout * 1000)),
                # gRPC shares a port between servers by default: a second collector on the
                # same port would silently take half the traffic instead of failing to start
                ("grpc.so_reuseport", 0),
            ],
        )
        self._grpc.add_generic_rpc_handlers(
            (otlp_grpc.trace_service(pipeline), otlp_grpc.logs_service(pipeline))
        )
        self.queries = api.add_to_server(
            self._grpc, self.engine, s.price_file, s.query_timeout, s.query_workers, self._local
        )
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._grpc)
        address = f"{s.host}:{s.grpc_port}"
        try:
            if s.tls_cert:
                creds = grpc.ssl_server_credentials([(_read(s.tls_key), _read(s.tls_cert))])
                self.grpc_port = self._grpc.add_secure_port(address, creds)
            else:
                self.grpc_port = self._grpc.add_insecure_port(address)
        except RuntimeError as exc:  # grpc reports a failed bind this way, without the cause
            raise ConfigurationError(
                f"cannot listen for OTLP/gRPC on {address} ({_bind_problem(s.host, s.grpc_port)})"
                "; choose another port with --grpc-port / SPYGLASS_GRPC_PORT (0 picks a free one)"
            ) from exc
        await self._grpc.start()

    async def _start_http(self, pipeline: IngestPipeline, keys: ApiKeys) -> None:
        s = self.settings
        web = create_ui_app(
            self._local,
            UiSettings(
                keys,
                s.session_secret,
                s.session_hours,
                https=bool(s.tls_cert),
                max_request_bytes=s.max_request_bytes,
                pages=s.ui,
            ),
        )
        app = otlp_http.create_app(pipeline, keys, s.max_request_bytes, self.ready, self.alive, web)
        http_connections.ensure_descriptors_for(s.max_connections)
        # errors that hostile load repeats per connection or accept are logged once per
        # interval, with a count
        throttle(("asyncio", "uvicorn.error", "grpc._cython.cygrpc", http_connections.log.name))
        sock = _bind(s.host, s.http_port)
        self.http_port = sock.getsockname()[1]
        protocol = http_connections.guarded_protocol(s.http_read_timeout, s.max_connections)
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ssl_certfile=s.tls_cert,
            ssl_keyfile=s.tls_key,
            http=protocol,
            timeout_graceful_shutdown=int(SHUTDOWN_GRACE_S),
        )
        self._http = _QuietServer(config)
        self._http_task = asyncio.create_task(self._http.serve(sockets=[sock]))
        while not self._http.started:
            if self._http_task.done():
                self._http_task.result()  # raises the startup error
            await asyncio.sleep(0.01)


class _QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the collector owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _HealthServicer(health.aio.HealthServicer):
    """Check, Watch and List of ``grpc.health.v1.Health``; open to every caller.

    grpcio's asyncio servicer answers Check and Watch but leaves List unimplemented (a call
    raises inside the servicer and grpc logs a traceback per call): List is answered here
    from the same statuses.
    """

    # set by grpcio's servicer, which its stubs leave out: service name -> serving status
    _server_status: MutableMapping[str, int]

    # types-grpcio-health-checking lacks the List messages that grpcio-health-checking ships
    async def List(
        self,
        request: health_pb2.HealthListRequest,  # type: ignore[name-defined]
        context: object,
    ) -> health_pb2.HealthListResponse:  # type: ignore[name-defined]
        """Every service's serving status (``""`` is the collector as a whole)."""
        statuses = {
            name: health_pb2.HealthCheckResponse(status=status)
            for name, status in self._server_status.items()
        }
        return health_pb2.HealthListResponse(statuses=statuses)  # type: ignore[attr-defined]


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"cannot listen for OTLP/HTTP on {host}:{port} ({_reason(exc)}); choose another "
            "port with --http-port / SPYGLASS_HTTP_PORT (0 picks a free one)"
        ) from exc
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _bind_problem(host: str, port: int) -> str:
    """Why ``host:port`` cannot be listened on, as the OS tells it (gRPC's error omits it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        return _reason(exc)
    return "the address cannot be bound"


def _reason(exc: OSError) -> str:
    """The OS's reason, in the sentence's case (``address already in use``)."""
    return (exc.strerror or str(exc)).lower()


def _check_tls(s: CollectorSettings) -> None:
    if bool(s.tls_cert) != bool(s.tls_key):
        raise ConfigurationError("TLS needs both --tls-cert and --tls-key (PEM files)")


def _read(path: str | None) -> bytes:
    assert path is not None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise ConfigurationError(f"cannot read TLS file {path}: {exc.strerror}") from exc
