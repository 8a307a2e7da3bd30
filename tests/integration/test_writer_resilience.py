"""The span writer keeps writing whatever happens to the requests it serves.

A client that gives up (deadline, cancel) while its spans wait for COMMIT, a value the
database refuses, an unexpected exception inside a write: each costs at most the requests
concerned, never the writer thread. A writer that truly cannot go on makes the collector
report not-alive (``/healthz``, gRPC health) so an orchestrator restarts it, and
``spyglass collector start`` exits non-zero.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from otlp_builders import make_request, make_span, new_trace_id
from processes import GrpcSender, HttpSender, span_keys, wait_until
from sqlalchemy import func, select

from spyglass.collector.server import Collector
from spyglass.collector.store.models import SpanRow, TraceRow
from spyglass.collector.store.traces.writer import Writer


def stored_keys(collector: Collector) -> set[tuple[str, str]]:
    assert collector.engine is not None
    with collector.engine.connect() as connection:
        return {tuple(row) for row in connection.execute(select(SpanRow.trace_id, SpanRow.span_id))}


def span_count(collector: Collector) -> int:
    assert collector.engine is not None
    with collector.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(SpanRow)).scalar_one()


def one_span_request() -> Any:
    return make_request([make_span("tiny", new_trace_id())])


def big_request(n: int) -> Any:
    spans = []
    for _ in range(n // 10):
        trace_id = new_trace_id()
        root = make_span("root", trace_id)
        spans.append(root)
        spans.extend(make_span(f"child {i}", trace_id, parent=root) for i in range(9))
    return make_request(spans)


def internal_faults(collector: Collector) -> float:
    """Groups the writer failed on an unexpected exception (its last line of defence)."""
    value = collector.metrics.registry.get_sample_value(
        "spyglass_store_errors_total", {"kind": "internal"}
    )
    return value or 0.0


def assert_still_ingesting(collector: Collector, faults: float = 0.0) -> None:
    """The writer is alive, met no unexpected exception beyond ``faults`` (so its own
    handling, not the fallback, dealt with what the test did), and a fresh export is stored
    and acknowledged."""
    assert internal_faults(collector) == faults
    assert collector.writer is not None and collector.writer.alive
    request = one_span_request()
    with GrpcSender(f"127.0.0.1:{collector.grpc_port}") as sender:
        outcome = sender.send(request, timeout=30)
    assert outcome.ok, outcome.error
    assert span_keys(request) <= stored_keys(collector)


# -- 1. clients that give up while their spans wait for COMMIT --------------------------------


def test_exports_whose_deadline_passes_while_queued_leave_the_writer_running(
    start_collector: Callable[..., Collector], store_url: str
) -> None:
    """One 60,000-span export keeps the writer busy while 1-span exports with a 0.3 s
    deadline expire in the queue: their spans are still committed, the writer goes on."""
    collector = start_collector(store_url, queue_max_spans=200_000, batch_max_spans=10_000)
    big = big_request(60_000)
    small = [one_span_request() for _ in range(60)]
    outcomes: list[Any] = []

    def send_big() -> None:
        with GrpcSender(f"127.0.0.1:{collector.grpc_port}") as sender:
            outcomes.append(sender.send(big, timeout=120))

    sender_thread = threading.Thread(target=send_big)
    sender_thread.start()
    expired = 0
    with GrpcSender(f"127.0.0.1:{collector.grpc_port}") as sender:
        for request in small:
            outcome = sender.send(request, timeout=0.3)
            expired += outcome.grpc_code == grpc.StatusCode.DEADLINE_EXCEEDED
    sender_thread.join(120)
    assert outcomes and outcomes[0].ok, outcomes
    assert span_keys(big) <= stored_keys(collector)
    # an export that expired while its spans waited in the queue is still committed (the
    # exporter's re-send then finds it stored); one that expired before reaching the queue
    # is not: either way nothing acknowledged is lost and the writer goes on
    assert expired > 0, "no export expired: the test proved nothing"
    committed_after_expiry = wait_until(
        lambda: sum(span_keys(r) <= stored_keys(collector) for r in small) - (60 - expired),
        30,
        "an expired export's spans committed",
    )
    assert committed_after_expiry > 0
    assert_still_ingesting(collector)


def test_steady_load_with_a_15ms_deadline_leaves_the_writer_running(
    start_collector: Callable[..., Collector], store_url: str
) -> None:
    """Four senders keep exporting with a 15 ms deadline while a large export keeps the
    writer busy, so that requests time out at every stage: decoding, queued, committing."""
    collector = start_collector(store_url, queue_max_spans=200_000)
    address = f"127.0.0.1:{collector.grpc_port}"
    big = big_request(30_000)
    codes: list[Any] = []

    def steady() -> None:
        with GrpcSender(address) as sender:
            for _ in range(15):
                codes.append(sender.send(big_request(200), timeout=0.015).grpc_code)

    senders = [threading.Thread(target=steady) for _ in range(4)]
    with GrpcSender(address) as sender:
        for thread in senders:
            thread.start()
        assert sender.send(big, timeout=120).ok
    for thread in senders:
        thread.join(60)
    assert grpc.StatusCode.DEADLINE_EXCEEDED in codes, set(codes)
    assert span_keys(big) <= stored_keys(collector)
    assert_still_ingesting(collector)


def test_an_http_client_that_disconnects_while_queued_leaves_the_writer_running(
    start_collector: Callable[..., Collector], store_url: str
) -> None:
    collector = start_collector(store_url, queue_max_spans=200_000)
    big = big_request(30_000)
    small = [one_span_request() for _ in range(20)]
    with HttpSender(f"http://127.0.0.1:{collector.http_port}") as sender:
        thread = threading.Thread(target=lambda: sender.send(big, timeout=120))
        thread.start()
        for request in small:
            sender.send(request, timeout=0.05)
        thread.join(120)
    assert span_keys(big) <= stored_keys(collector)
    assert_still_ingesting(collector)


# -- 3. defence in depth ----------------------------------------------------------------------


def test_an_unexpected_exception_fails_only_the_batch_in_flight(
    start_collector: Callable[..., Collector], store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug that raises inside a write answers that batch's requests with a retryable
    error (UNAVAILABLE, 503); the writer takes the next batch as usual."""
    collector = start_collector(store_url)
    original = Writer._write_spans
    calls = {"n": 0}

    def failing_once(self: Writer, cursor: Any, recs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("injected fault")
        return original(self, cursor, recs)

    monkeypatch.setattr(Writer, "_write_spans", failing_once)
    first = one_span_request()
    with GrpcSender(f"127.0.0.1:{collector.grpc_port}") as sender:
        outcome = sender.send(first)
    assert outcome.grpc_code == grpc.StatusCode.UNAVAILABLE, outcome
    assert "retry" in outcome.error and "internal error" in outcome.error, outcome.error
    assert "google.rpc.retryinfo-bin" in outcome.trailers
    assert not span_keys(first) & stored_keys(collector)  # rolled back, nothing half-written
    with HttpSender(f"http://127.0.0.1:{collector.http_port}") as sender:
        calls["n"] = 0
        outcome = sender.send(one_span_request())
    assert outcome.http_status == 503 and outcome.headers.get("retry-after"), outcome
    # the exporter's retry of the first request is stored
    with GrpcSender(f"127.0.0.1:{collector.grpc_port}") as sender:
        assert sender.send(first).ok
    assert span_keys(first) <= stored_keys(collector)
    assert_still_ingesting(collector, faults=2)


def test_a_writer_that_cannot_go_on_reports_not_alive(
    start_collector: Callable[..., Collector], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Writer) -> None:
        raise RuntimeError("injected: the writer's queue is corrupt")

    monkeypatch.setattr(Writer, "_take_group", broken)
    collector = start_collector(f"sqlite:///{tmp_path / 'x.db'}")
    base = f"http://127.0.0.1:{collector.http_port}"
    wait_until(lambda: httpx.get(f"{base}/healthz").status_code == 503, 10, "healthz 503")
    reply = httpx.get(f"{base}/healthz")
    assert "writer" in reply.text and "injected" in reply.text, reply.text
    assert httpx.get(f"{base}/readyz").status_code == 503
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
        check = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
    assert check.status == health_pb2.HealthCheckResponse.NOT_SERVING
    # exports are refused at once with a retryable error instead of hanging until deadline
    with GrpcSender(f"127.0.0.1:{collector.grpc_port}") as sender:
        outcome = sender.send(one_span_request(), timeout=10)
    assert outcome.grpc_code == grpc.StatusCode.UNAVAILABLE and outcome.seconds < 5, outcome


_DYING_COLLECTOR = textwrap.dedent("""
    import sys
    from spyglass.collector.store.traces.writer import Writer

    def broken(self):
        raise RuntimeError("injected: the writer's queue is corrupt")

    Writer._take_group = broken
    from spyglass.cli import main
    sys.argv = ["spyglass", "collector", "start", "--store", sys.argv[1], "--grpc-port", "0",
                "--http-port", "0", "--decode-workers", "0"]
    main()
""")


def test_collector_start_exits_non_zero_when_its_writer_dies(tmp_path: Any) -> None:
    script = tmp_path / "dying_collector.py"
    script.write_text(_DYING_COLLECTOR)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(script), f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0, result
    assert time.monotonic() - started < 45
    assert "writer" in result.stderr and "injected" in result.stderr, result.stderr
    assert result.stderr.count("Traceback") <= 1, result.stderr


# -- values the database refuses cost only their own span -------------------------------------


def _records(request: Any) -> list[Any]:
    from spyglass.collector.genai.cost import PriceTable
    from spyglass.collector.ingest.redaction import RedactionRules
    from spyglass.collector.ingest.spans import SpanConverter

    converter = SpanConverter(PriceTable.load(None), RedactionRules.none(), 1 << 20)
    return converter.convert(request.resource_spans).records


@pytest.mark.parametrize("bad_value", [2**63, 2**64 + 5], ids=["int64+1", "beyond-uint64"])
def test_a_value_the_store_refuses_costs_only_its_span(
    start_collector: Callable[..., Collector], store_url: str, bad_value: int
) -> None:
    """Defence behind the decoder's range checks: should a value the database cannot hold
    ever reach the writer, its span is refused by name and the request's others are stored
    (on SQLite the driver raises OverflowError, on PostgreSQL the server a data error)."""
    from spyglass.collector.store import rows as r

    collector = start_collector(store_url)
    assert collector.writer is not None
    trace_id = new_trace_id()
    root = make_span("root", trace_id)
    request = make_request(
        [root] + [make_span(f"child {i}", trace_id, parent=root) for i in range(6)]
    )
    records = _records(request)
    bad = records[3]
    bad.row = (*bad.row[: r.START], bad_value, *bad.row[r.START + 1 :])
    refused = collector.writer.submit(records).result(30)
    bad_key = (bad.row[r.TRACE_ID], bad.row[r.SPAN_ID])
    assert [item for item, _ in refused] == [f"span {bad_key[0]}/{bad_key[1]}"], refused
    assert refused[0].reason  # the database's own words
    stored = stored_keys(collector)
    assert span_keys(request) - {bad_key} <= stored and bad_key not in stored
    assert collector.engine is not None
    with collector.engine.connect() as connection:
        count = connection.execute(
            select(TraceRow.span_count).where(TraceRow.trace_id == trace_id.hex())
        ).scalar_one()
    assert count == 6  # the trace row counts exactly the spans stored
    assert_still_ingesting(collector)


@pytest.mark.postgres
def test_exports_that_expire_during_a_database_outage_leave_the_writer_running(
    postgres_url: str, start_collector: Callable[..., Collector]
) -> None:
    """The OTel SDK's export timeout running out while the database does not answer: the
    writer, stuck on the silent database, later finds every one of those requests given up."""
    from processes import TcpProxy
    from sqlalchemy.engine import make_url

    server = make_url(postgres_url)
    with TcpProxy((server.host or "127.0.0.1", server.port or 5432)) as proxy:
        collector = start_collector(proxy.proxied_url(postgres_url), retry_after=0.5)
        assert_still_ingesting(collector)
        proxy.stall()
        with GrpcSender(f"127.0.0.1:{collector.grpc_port}") as sender:
            codes = {sender.send(one_span_request(), timeout=1.0).grpc_code for _ in range(5)}
        assert grpc.StatusCode.DEADLINE_EXCEEDED in codes, codes
        proxy.restore()
        wait_until(
            lambda: (
                httpx.get(f"http://127.0.0.1:{collector.http_port}/readyz", timeout=10).status_code
                == 200
            ),
            60,
            "/readyz to recover",
        )
        assert_still_ingesting(collector)
