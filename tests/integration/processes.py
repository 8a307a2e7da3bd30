"""Helpers for integration tests: collector subprocesses, a cuttable TCP proxy, OTLP clients.

* :class:`CollectorProcess` runs ``python -m spyglass.cli collector start`` as a real child
  process on free loopback ports, waits for ``/readyz``, keeps its stderr in a file for the
  failure message, and stops it with SIGTERM or SIGKILL (all but the start is
  :class:`ChildProcess`, which other servers' helpers share).
* :class:`TcpProxy` sits between a collector and PostgreSQL (127.0.0.1:5432) so a test can
  cut the database off (every connection closed, new ones refused) and restore it, without
  ever touching the real server.
* :class:`GrpcSender` / :class:`HttpSender` send ``ExportTraceServiceRequest`` protobufs
  (built with ``otlp_builders``) over a raw gRPC channel or OTLP/HTTP, without retries, so a
  test sees exactly what the collector answered; :class:`SpanSender` keeps sending from a
  thread and records every span the collector acknowledged.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from otlp_builders import make_request, make_span
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from typing_extensions import Self

from spyglass.collector.store.engine import create_store_engine
from spyglass.collector.store.models import SpanRow, TraceRow

REPO_ROOT = Path(__file__).resolve().parents[2]
EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
READY_TIMEOUT_S = 30.0


def free_port() -> int:
    """A loopback TCP port nobody listens on right now (bind port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.02
) -> Any:
    """Poll ``condition`` until it returns something truthy; at the deadline, fail naming
    ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# -- collector subprocesses ----------------------------------------------------------------


class ChildProcess:
    """A server in a child process of its own session (so that helpers it spawns stop with
    it) with an HTTP port serving ``/readyz``; what it wrote goes to a file that
    :meth:`output` reads for failure messages. Subclasses start ``self.process``."""

    name: str
    http_port: int
    process: subprocess.Popen  # type: ignore[type-arg]

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def output(self) -> str:
        raise NotImplementedError

    def is_ready(self) -> bool:
        try:
            return httpx.get(self.http_url + "/readyz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> Self:
        deadline = time.monotonic() + timeout
        while not self.is_ready():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.process.returncode} "
                    f"before it was ready; output:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(
                    f"{self.name} not ready within {timeout}s; output:\n{self.output()}"
                )
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL to the process and its helpers at once: no drain, no cleanup, as when
        the container or the machine goes down."""
        self._kill_group()
        self.process.wait(10)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait for the exit status (SIGKILL if it does not exit in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.name} ignored SIGTERM for {timeout}s; output:\n{self.output()}"
            ) from None
        finally:
            self._kill_group()  # anything it left behind

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


class CollectorProcess(ChildProcess):
    """``spyglass collector start`` in a child process on free loopback ports."""

    def __init__(
        self, store: str, log_dir: Path, name: str = "collector", **settings: object
    ) -> None:
        self.name = name
        self.store = store
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.stderr_path = log_dir / f"{name}-{self.grpc_port}.stderr"
        args = [
            sys.executable,
            "-m",
            "spyglass.cli",
            "collector",
            "start",
            "--store",
            store,
            "--grpc-port",
            str(self.grpc_port),
            "--http-port",
            str(self.http_port),
        ]
        for key, value in settings.items():
            args += ["--" + key.replace("_", "-"), str(value)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS_")}
        with open(self.stderr_path, "wb") as stderr:
            # a session of its own, so that helpers it spawns (decode workers) can be
            # stopped with it: a SIGKILLed parent cannot stop them itself
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                cwd=REPO_ROOT,
                env=env,
                start_new_session=True,
            )

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    output = stderr


class CollectorProcesses:
    """Starts collector subprocesses for one test and makes sure none outlives it."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[CollectorProcess] = []

    def spawn(self, store: str, **settings: object) -> CollectorProcess:
        """Start one without waiting (to start several at the same moment)."""
        proc = CollectorProcess(
            store, self.log_dir, name=f"collector{len(self.started)}", **settings
        )
        self.started.append(proc)
        return proc

    def start(self, store: str, **settings: object) -> CollectorProcess:
        return self.spawn(store, **settings).wait_ready()

    def kill_all(self) -> None:
        for proc in self.started:
            proc.kill()


# -- `make demo`'s script -------------------------------------------------------------------


def run_demo(folder: Path) -> subprocess.CompletedProcess[str]:
    """``examples/customer_support_bot.py`` run in ``folder`` as `make demo` runs it: over
    ``folder/spyglass.db``, with the stand-in LLM (no OPENAI_*, SPYGLASS_* or OTEL_* variable
    of this environment); it must exit 0."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SPYGLASS_", "OTEL_"))
    }
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples/customer_support_bot.py")],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


# -- a loopback TCP proxy that can be cut ----------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``upstream``; :meth:`cut` drops every connection.

    While cut, the listening socket is closed, so new connections are refused just as if the
    database host were down. :meth:`stall` is a silent partition instead: connections are
    accepted but no byte passes either way. :meth:`restore` closes what a stall left hanging
    and forwards again on the same port. Only the proxy's own sockets are closed: the server
    behind it is never touched.
    """

    def __init__(self, upstream: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.upstream = upstream
        self.port = 0
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._stalled = False
        self.restore()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def proxied_url(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's."""
        parsed = make_url(url).set(host="127.0.0.1", port=self.port)
        return parsed.render_as_string(hide_password=False)

    def stall(self) -> None:
        """From now on pass nothing, in either direction, on old and new connections."""
        self._stalled = True

    def restore(self) -> None:
        if self._stalled:
            self.cut()  # the stalled connections' streams are broken; their peers must see it
            self._stalled = False
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(128)
            self.port = listener.getsockname()[1]
            self._listener = listener
        self._spawn(self._accept_loop, listener)

    def cut(self) -> None:
        """Close the listener and every proxied connection (both sides)."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        for sock in ([listener] if listener else []) + list(sockets):
            _close_hard(sock)

    def close(self) -> None:
        self.cut()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(5)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="tcp-proxy")
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed by cut()
                return
            if self._stalled:  # hold the connection open and silent
                with self._lock:
                    self._sockets.add(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close_hard(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut while connecting
                    _close_hard(client)
                    _close_hard(server)
                    return
                self._sockets.update((client, server))
            self._spawn(self._pump, client, server)
            self._spawn(self._pump, server, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy one direction until either side closes, then close both."""
        try:
            while data := source.recv(65536):
                if not self._stalled:
                    sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._sockets.difference_update((source, sink))
        _close_hard(source)
        _close_hard(sink)


def _close_hard(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# -- building OTLP requests ------------------------------------------------------------

PRICED_MODEL = "gpt-4o-mini"  # priced by genai-prices


def llm_attrs(input_tokens: int, output_tokens: int, model: str = PRICED_MODEL) -> dict:
    """Attributes of an LLM call with token counts and a model the price table knows."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
    }


def span_keys(request: ExportTraceServiceRequest) -> set[tuple[str, str]]:
    """(trace_id hex, span_id hex) of every span in ``request``."""
    return {
        (span.trace_id.hex(), span.span_id.hex())
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    }


# -- sending OTLP ----------------------------------------------------------------------


@dataclass
class ExportOutcome:
    """What one Export call got back, whichever protocol carried it."""

    ok: bool
    grpc_code: grpc.StatusCode | None = None
    http_status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    trailers: Mapping[str, bytes] = field(default_factory=dict)
    response: ExportTraceServiceResponse | None = None
    error: str = ""
    seconds: float = 0.0


class _Closing:
    """``with sender: ...`` closes the sender."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError


class GrpcSender(_Closing):
    """TraceService/Export over a raw gRPC channel (no retries: every answer is seen)."""

    def __init__(self, target: str) -> None:
        self.channel = grpc.insecure_channel(target)
        self._export = self.channel.unary_unary(
            EXPORT_METHOD,
            request_serializer=ExportTraceServiceRequest.SerializeToString,
            response_deserializer=ExportTraceServiceResponse.FromString,
        )

    def send(
        self,
        request: ExportTraceServiceRequest,
        experiment: str | None = None,
        timeout: float = 20.0,
    ) -> ExportOutcome:
        metadata = (("x-spyglass-experiment", experiment),) if experiment else None
        started = time.monotonic()
        try:
            response, call = self._export.with_call(request, timeout=timeout, metadata=metadata)
        except grpc.RpcError as exc:
            return ExportOutcome(
                False,
                grpc_code=exc.code(),
                error=exc.details() or "",
                trailers=dict(exc.trailing_metadata() or ()),
                seconds=time.monotonic() - started,
            )
        return ExportOutcome(
            True, grpc_code=call.code(), response=response, seconds=time.monotonic() - started
        )

    def close(self) -> None:
        self.channel.close()


class HttpSender(_Closing):
    """POST /v1/traces with a protobuf body."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url)

    def send(
        self,
        request: ExportTraceServiceRequest,
        experiment: str | None = None,
        timeout: float = 20.0,
    ) -> ExportOutcome:
        headers = {"content-type": "application/x-protobuf"}
        if experiment:
            headers["x-spyglass-experiment"] = experiment
        started = time.monotonic()
        try:
            reply = self.client.post(
                "/v1/traces", content=request.SerializeToString(), headers=headers, timeout=timeout
            )
        except httpx.HTTPError as exc:
            return ExportOutcome(
                False, error=f"{type(exc).__name__}: {exc}", seconds=time.monotonic() - started
            )
        seconds = time.monotonic() - started
        if reply.status_code != 200:
            return ExportOutcome(
                False,
                http_status=reply.status_code,
                headers=dict(reply.headers),
                error=reply.text[:500],
                seconds=seconds,
            )
        return ExportOutcome(
            True,
            http_status=200,
            headers=dict(reply.headers),
            response=ExportTraceServiceResponse.FromString(reply.content),
            seconds=seconds,
        )

    def close(self) -> None:
        self.client.close()


Sender = GrpcSender | HttpSender


def sender_for(protocol: str, grpc_port: int, http_port: int) -> Sender:
    if protocol == "grpc":
        return GrpcSender(f"127.0.0.1:{grpc_port}")
    return HttpSender(f"http://127.0.0.1:{http_port}")


def retry_delays(outcome: ExportOutcome) -> tuple[float | None, float | None]:
    """The RetryInfo delays of a refused gRPC call: (``google.rpc.retryinfo-bin``,
    the RetryInfo detail inside ``grpc-status-details-bin``); None where absent."""
    direct = detailed = None
    raw = outcome.trailers.get("google.rpc.retryinfo-bin")
    if raw is not None:
        direct = _seconds(error_details_pb2.RetryInfo.FromString(raw))
    raw = outcome.trailers.get("grpc-status-details-bin")
    if raw is not None:
        for detail in status_pb2.Status.FromString(raw).details:
            info = error_details_pb2.RetryInfo()
            if detail.Unpack(info):
                detailed = _seconds(info)
    return direct, detailed


def _seconds(info: error_details_pb2.RetryInfo) -> float:
    return info.retry_delay.seconds + info.retry_delay.nanos / 1e9


def assert_retryable(outcome: ExportOutcome, retry_after: float) -> None:
    """The collector refused with 'retry later': gRPC UNAVAILABLE + RetryInfo, or HTTP 503 +
    Retry-After (whole seconds, never shorter than asked)."""
    assert not outcome.ok, "the request was accepted; expected a retryable refusal"
    if outcome.grpc_code is not None:
        assert outcome.grpc_code == grpc.StatusCode.UNAVAILABLE, outcome
        assert retry_delays(outcome) == (retry_after, retry_after), outcome.trailers
    else:
        assert outcome.http_status == 503, outcome
        assert int(outcome.headers["retry-after"]) >= retry_after, outcome.headers


class SpanSender(threading.Thread):
    """Sends generated traces until stopped, retrying a failed request until it is acked.

    ``acked`` holds the keys of every span whose request returned OK; ``pending`` is the
    request in doubt when the thread stopped (sent, no OK seen), to re-deliver later.
    """

    def __init__(
        self,
        make_sender: Callable[[], Sender],
        requests: Iterator[ExportTraceServiceRequest],
        stop: threading.Event,
    ) -> None:
        super().__init__(daemon=True, name="span-sender")
        self.make_sender, self.requests, self.stop = make_sender, requests, stop
        self.acked: set[tuple[str, str]] = set()
        self.acked_requests = 0
        self.timeline: list[tuple[float, float]] = []  # (sent, acked) of each acked request
        self.failures: list[ExportOutcome] = []
        self.pending: ExportTraceServiceRequest | None = None

    def run(self) -> None:
        with self.make_sender() as sender:
            while not self.stop.is_set():
                request = self.pending or next(self.requests)
                self.pending = request
                sent = time.monotonic()
                outcome = sender.send(request, timeout=10.0)
                if outcome.ok:
                    self.timeline.append((sent, time.monotonic()))
                    self.acked |= span_keys(request)
                    self.acked_requests += 1
                    self.pending = None
                else:
                    self.failures.append(outcome)
                    self.stop.wait(0.02)


def generated_traces(
    seed: int, spans_per_trace: int = 5, traces_per_request: int = 4
) -> Iterator[ExportTraceServiceRequest]:
    """An endless stream of requests, each with the spans of a few new traces (a root and
    children with tokens); ids are derived from ``seed`` so that streams never collide."""
    number = 0
    while True:
        spans = []
        for t in range(traces_per_request):
            trace_id = (1 << 127 | seed << 96 | number << 8 | t).to_bytes(16, "big")
            root = make_span(
                "root",
                trace_id,
                span_id=_span_id(seed, number, t, 0),
                start_ns=1_000,
                duration_ns=8_000,
            )
            spans.append(root)
            spans += [
                make_span(
                    f"child{i}",
                    trace_id,
                    span_id=_span_id(seed, number, t, i),
                    parent=root,
                    start_ns=1_000 + i,
                    duration_ns=1_000,
                    attributes=llm_attrs(i, 2 * i),
                )
                for i in range(1, spans_per_trace)
            ]
        number += 1
        yield make_request(spans, resource={"service.name": "durability"})


def _span_id(seed: int, number: int, trace: int, index: int) -> bytes:
    return (1 << 63 | seed << 48 | number << 16 | trace << 8 | index).to_bytes(8, "big")


# -- reading the store -----------------------------------------------------------------


@contextlib.contextmanager
def store_engine(url: str) -> Iterator[Engine]:
    """A fresh engine on a store, to read back what a collector wrote; disposed after."""
    engine = create_store_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def stored_span_keys(
    engine: Engine, trace_ids: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """Every stored (trace_id, span_id), duplicates kept (there must be none)."""
    query = select(SpanRow.trace_id, SpanRow.span_id)
    if trace_ids is not None:
        query = query.where(SpanRow.trace_id.in_(list(trace_ids)))
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def trace_rows(engine: Engine) -> dict[str, Any]:
    """Every ``traces`` row, by trace id."""
    with engine.connect() as connection:
        return {row.trace_id: row for row in connection.execute(select(TraceRow))}


def assert_trace_counts_match_spans(engine: Engine) -> int:
    """Each trace row's span_count equals its stored spans, and every span has a trace row.

    Returns the number of spans stored."""
    with engine.connect() as connection:
        counted = dict(
            connection.execute(
                select(SpanRow.trace_id, func.count()).group_by(SpanRow.trace_id)
            ).all()
        )
        rows = dict(connection.execute(select(TraceRow.trace_id, TraceRow.span_count)).all())
    assert rows == counted, {
        t: (rows.get(t), counted.get(t))
        for t in set(rows) | set(counted)
        if rows.get(t) != counted.get(t)
    }
    return sum(counted.values())
