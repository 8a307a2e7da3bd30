"""Hostile load on the collector's two ports: memory and connections stay bounded, honest
senders are still served, and nothing floods the log.

* Memory: 16 concurrent 58 MiB unauthenticated gRPC exports are refused from their
  metadata, before their bodies are read; 16 never-finished 59 MiB HTTP bodies count
  against ``--max-inflight-bytes`` from their Content-Length, so only what fits is read and
  the rest are refused at once. The collector subprocess's peak RSS (``VmHWM``) grows by
  less than the in-flight budget plus a margin (reading the attacks' bodies whole would
  cost about 1.5 GiB for gRPC and 0.9 GiB for HTTP). These run on SQLite only: the bound is about
  request bodies held by the receivers, before any store is involved.
* Connections: half-open connections that never send a request are closed after
  ``--http-read-timeout``, connections beyond ``--max-connections`` at once, while gRPC and
  HTTP answer honest exports; a repeated error (a refused connection, asyncio's
  ``socket.accept() out of system resource`` when file descriptors do run out) is logged
  once, not once per connection.
* Quiet answers: ``grpc.health.v1.Health/List`` (with and without API keys) and HTTP
  senders that disconnect mid-body leave no traceback in the collector's output.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from otlp_builders import make_request, make_span, new_trace_id
from processes import (
    EXPORT_METHOD,
    CollectorProcess,
    CollectorProcesses,
    store_engine,
    stored_span_keys,
    wait_until,
)

MiB = 1024 * 1024
KEY = "k1"
AUTH = f"Bearer {KEY}"
ATTACKERS = 16
INFLIGHT_BUDGET = 128 * MiB  # the default --max-inflight-bytes
RSS_MARGIN = 48 * MiB  # interpreter, buffers of honest requests, allocator slack
HONEST_EXPORTS = 8
HTTP_READ_TIMEOUT_S = 4.0


# -- helpers ---------------------------------------------------------------------------


def rss(pid: int, field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of a process, in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def span_body(name: str) -> bytes:
    return make_request([make_span(name, new_trace_id())]).SerializeToString()


def honest_grpc_export(port: int, name: str, key: str | None = KEY) -> ExportTraceServiceResponse:
    metadata = (("authorization", f"Bearer {key}"),) if key else ()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        export = channel.unary_unary(
            EXPORT_METHOD,
            request_serializer=None,
            response_deserializer=ExportTraceServiceResponse.FromString,
        )
        return export(span_body(name), metadata=metadata, timeout=10)


def honest_http_export(port: int, name: str, key: str | None = KEY) -> httpx.Response:
    headers = {"content-type": "application/x-protobuf"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    return httpx.post(
        f"http://127.0.0.1:{port}/v1/traces", content=span_body(name), headers=headers, timeout=10
    )


def answers(http_port: int) -> bool:
    """True when an honest export over HTTP is stored."""
    try:
        return honest_http_export(http_port, "probe").status_code == 200
    except httpx.HTTPError:
        return False


def raise_own_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"the test needs {needed} open files; ulimit -n allows {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


@contextlib.contextmanager
def half_open(port: int, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections that never send a byte; closed at the end."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def closed_by_peer(sock: socket.socket) -> bool:
    """True when the collector closed (or reset) this connection; what it sent before
    (gRPC's SETTINGS and GOAWAY frames) is skipped."""
    sock.setblocking(False)
    for _ in range(100):
        try:
            if not sock.recv(65536):
                return True
        except BlockingIOError:
            return False
        except ConnectionError:
            return True
    return False


def repeats(output: str, text: str) -> int:
    return output.count(text)


# -- memory ----------------------------------------------------------------------------


def grpc_attack(port: int, body: bytes, outcomes: list[object], key: str | None) -> None:
    """One export of ``body`` without a key, or with a key that is not accepted."""
    options = [("grpc.max_send_message_length", 128 * MiB)]
    metadata = (("authorization", f"Bearer {key}"),) if key else ()
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
        export = channel.unary_unary(
            EXPORT_METHOD, request_serializer=None, response_deserializer=None
        )
        try:
            export(body, metadata=metadata, timeout=30)
            outcomes.append("accepted")
        except grpc.RpcError as exc:
            outcomes.append(exc.code())


def http_attack(port: int, body: bytes, outcomes: list[object]) -> None:
    """An authenticated POST declaring ``len(body) + 1`` bytes and sending ``len(body)``:
    never finished. Records how many seconds the collector kept the connection."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(
            b"POST /v1/traces HTTP/1.1\r\nhost: collector\r\nauthorization: "
            + AUTH.encode()
            + b"\r\ncontent-type: application/x-protobuf\r\n"
            b"content-length: %d\r\n\r\n" % (len(body) + 1)
        )
        with contextlib.suppress(OSError):  # refused: 503 and closed, or reset mid-send
            sock.sendall(body)
            while sock.recv(65536):
                pass
    outcomes.append(time.monotonic() - started)


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_memory_stays_bounded_under_hostile_exports(
    collector_processes: CollectorProcesses, tmp_path: Path, protocol: str
) -> None:
    collector = collector_processes.start(
        f"sqlite:///{tmp_path / 'memory.db'}",
        api_key=KEY,
        decode_workers=0,
        http_read_timeout=HTTP_READ_TIMEOUT_S,
    )
    pid = collector.process.pid
    size = (58 if protocol == "grpc" else 59) * MiB
    body = b"\x0a" * size
    outcomes: list[object] = []
    before = rss(pid, "VmRSS")
    if protocol == "grpc":
        attackers = [
            threading.Thread(
                target=grpc_attack,
                args=(collector.grpc_port, body, outcomes, None if i % 2 else "wrong"),
            )
            for i in range(ATTACKERS)
        ]
    else:
        attackers = [
            threading.Thread(target=http_attack, args=(collector.http_port, body, outcomes))
            for _ in range(ATTACKERS)
        ]
    for thread in attackers:
        thread.start()
    honest = []
    try:
        for i in range(HONEST_EXPORTS):
            time.sleep(0.2)
            honest.append(honest_grpc_export(collector.grpc_port, f"honest-grpc-{i}"))
            honest.append(honest_http_export(collector.http_port, f"honest-http-{i}"))
        wait_until(lambda: len(outcomes) == ATTACKERS, 30, "every attacker's answer")
    finally:
        for thread in attackers:
            thread.join(30)
    peak = rss(pid, "VmHWM")

    growth = peak - before
    print(
        f"{protocol}: RSS before {before / MiB:.0f} MiB, peak {peak / MiB:.0f} MiB, "
        f"growth {growth / MiB:.0f} MiB under {ATTACKERS} x {size / MiB:.0f} MiB"
    )
    assert growth < INFLIGHT_BUDGET + RSS_MARGIN, (
        f"peak RSS grew by {growth / MiB:.0f} MiB under {ATTACKERS} x {size / MiB:.0f} MiB "
        f"(outcomes {outcomes})"
    )
    if protocol == "grpc":
        assert outcomes == [grpc.StatusCode.UNAUTHENTICATED] * ATTACKERS
    else:
        # what fits in the budget is read (and never finished) until the read timeout
        # closes it; the rest are refused at once, before their bodies are read
        held = [seconds for seconds in outcomes if seconds >= HTTP_READ_TIMEOUT_S - 0.5]
        assert 1 <= len(held) <= INFLIGHT_BUDGET // size, outcomes
        assert max(outcomes) < HTTP_READ_TIMEOUT_S + 5, outcomes
    assert all(isinstance(r, ExportTraceServiceResponse) for r in honest[::2])
    assert [r.status_code for r in honest[1::2]] == [200] * HONEST_EXPORTS
    with store_engine(collector.store) as engine:
        assert len(stored_span_keys(engine)) == 2 * HONEST_EXPORTS
    assert "Traceback" not in collector.stderr()


# -- connections -----------------------------------------------------------------------

READ_TIMEOUT_S = 2.0
CAP = 200
BELOW_CAP = 150
ABOVE_CAP = 1350


def test_half_open_connections_are_capped_and_timed_out(
    collector_processes: CollectorProcesses, store_url: str
) -> None:
    raise_own_fd_limit(BELOW_CAP + ABOVE_CAP + 256)
    collector = collector_processes.start(
        store_url, decode_workers=0, max_connections=CAP, http_read_timeout=READ_TIMEOUT_S
    )
    port = collector.http_port
    with half_open(collector.grpc_port, 20) as grpc_silent, half_open(port, BELOW_CAP) as early:
        opened = time.monotonic()
        # below the cap: honest senders on both ports are served meanwhile
        assert honest_http_export(port, "during-http").status_code == 200
        assert (
            honest_grpc_export(collector.grpc_port, "during-grpc", key=None)
            == ExportTraceServiceResponse()
        )
        with half_open(port, ABOVE_CAP) as late:
            time.sleep(0.5)
            refused = sum(closed_by_peer(sock) for sock in late)
            # everything beyond the cap was closed at once, long before the read timeout
            assert refused >= ABOVE_CAP - (CAP - BELOW_CAP), refused
            assert time.monotonic() - opened < READ_TIMEOUT_S
            assert not any(closed_by_peer(sock) for sock in early)
            # gRPC keeps answering while the HTTP port is full
            assert (
                honest_grpc_export(collector.grpc_port, "full-grpc", key=None)
                == ExportTraceServiceResponse()
            )
            # the connections that were let in are closed when their time is up
            # (gRPC: those that never complete the HTTP/2 handshake)
            wait_until(
                lambda: all(closed_by_peer(sock) for sock in early + late + grpc_silent),
                READ_TIMEOUT_S + 3,
                "the half-open connections to be closed",
            )
            assert time.monotonic() - opened >= READ_TIMEOUT_S - 0.1
    # slots are free again
    assert honest_http_export(port, "after-http").status_code == 200
    with store_engine(store_url) as engine:
        assert len(stored_span_keys(engine)) == 4

    output = collector.stderr()
    assert repeats(output, "OTLP/HTTP connection refused") == 1, output[-3000:]
    assert "Traceback" not in output


def test_descriptor_exhaustion_is_logged_once_per_interval(
    collector_processes: CollectorProcesses, tmp_path: Path
) -> None:
    """With fewer file descriptors than --max-connections allows (the limit lowered behind
    the collector's back), accepting fails with EMFILE again and again; asyncio reports it
    on every attempt, the collector's log says it once."""
    connections = 700
    raise_own_fd_limit(connections + 256)
    collector = collector_processes.start(
        f"sqlite:///{tmp_path / 'fds.db'}", decode_workers=0, http_read_timeout=1
    )
    resource.prlimit(collector.process.pid, resource.RLIMIT_NOFILE, (400, 400))
    with half_open(collector.http_port, connections):
        time.sleep(1.5)
    wait_until(lambda: answers(collector.http_port), 10, "the HTTP port to answer again")

    output = collector.stderr()
    assert repeats(output, "socket.accept() out of system resource") == 1, output[-3000:]
    assert len(output) < 20_000, f"{len(output)} bytes of log output"


# -- quiet answers ---------------------------------------------------------------------


@pytest.mark.parametrize("keys", [{}, {"api_key": KEY}], ids=["no-keys", "keys"])
def test_health_list_and_disconnects_are_answered_quietly(
    collector_processes: CollectorProcesses, tmp_path: Path, keys: dict[str, str]
) -> None:
    """The store plays no part here (nothing reaches it): SQLite only."""
    collector: CollectorProcess = collector_processes.start(
        f"sqlite:///{tmp_path / 'quiet.db'}", decode_workers=0, **keys
    )

    for _ in range(3):
        with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
            listed = health_pb2_grpc.HealthStub(channel).List(
                health_pb2.HealthListRequest(), timeout=10
            )
        assert listed.statuses[""].status == health_pb2.HealthCheckResponse.SERVING
    for _ in range(3):  # half a body, then gone
        with socket.create_connection(("127.0.0.1", collector.http_port), timeout=5) as sock:
            sock.sendall(
                b"POST /v1/traces HTTP/1.1\r\nhost: collector\r\nauthorization: "
                + AUTH.encode()
                + b"\r\ncontent-type: application/x-protobuf\r\n"
                b"content-length: 100000\r\n\r\n" + b"\x0a" * 50_000
            )
            time.sleep(0.2)
    # the collector is still fine, and answered each of those without a traceback
    assert honest_http_export(collector.http_port, "after").status_code == 200
    time.sleep(0.3)
    output = collector.stderr()
    assert "Traceback" not in output, output[-3000:]
    assert "ClientDisconnect" not in output and "NotImplementedError" not in output
