"""Ingest throughput: durable spans/s through a collector in its own process.

Pre-built OTLP requests (10-span GenAI traces, ~1.4 KB/span, 50 traces per request) are
sent by concurrent senders over gRPC and HTTP to a collector on SQLite and on PostgreSQL.
The clock stops when every request has been acknowledged, and the collector acknowledges
only after COMMIT, so the figure is committed spans per second. Refused requests
(backpressure) are retried after the server's delay, as OTLP exporters do.

Baseline, measured in the same run: the same span rows written straight into SQLite with
``executemany`` in one process (no network, no decoding). Run: ``python benchmarks/ingest.py``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import queue
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).parent))
from google.rpc.error_details_pb2 import RetryInfo
from harness import CollectorProcess, fresh_store
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from workload import SPANS_PER_TRACE, build_requests

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


class Sender(threading.Thread):
    """Sends requests from a shared queue until it is empty, retrying refusals."""

    def __init__(self, work: queue.Queue, protocol: str, collector: CollectorProcess) -> None:
        super().__init__(daemon=True)
        self.work, self.protocol, self.collector = work, protocol, collector
        self.refused = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            send = self._grpc_sender() if self.protocol == "grpc" else self._http_sender()
            while True:
                try:
                    body = self.work.get_nowait()
                except queue.Empty:
                    return
                while not send(body):
                    self.refused += 1
                    time.sleep(0.05)
        except BaseException as exc:  # reported by the main thread
            self.error = exc

    def _grpc_sender(self):  # type: ignore[no-untyped-def]
        channel = grpc.insecure_channel(
            f"127.0.0.1:{self.collector.grpc_port}",
            options=[("grpc.max_send_message_length", 64 << 20)],
        )
        call = channel.unary_unary(EXPORT)

        def send(body: bytes) -> bool:
            try:
                call(body, timeout=60)
                return True
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.UNAVAILABLE:
                    return False
                raise

        return send

    def _http_sender(self):  # type: ignore[no-untyped-def]
        conn = http.client.HTTPConnection("127.0.0.1", self.collector.http_port, timeout=60)

        def send(body: bytes) -> bool:
            conn.request(
                "POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"}
            )
            response = conn.getresponse()
            response.read()
            if response.status == 503:
                return False
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            return True

        return send


def run_senders(
    collector: CollectorProcess, protocol: str, requests: list[bytes], senders: int
) -> tuple[float, int]:
    """Seconds until every request is acknowledged, and how many sends were refused."""
    work: queue.Queue = queue.Queue()
    for body in requests:
        work.put(body)
    threads = [Sender(work, protocol, collector) for _ in range(senders)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    for t in threads:
        if t.error:
            raise t.error
    return elapsed, sum(t.refused for t in threads)


def stored_spans(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM spans")).scalar_one()
    engine.dispose()
    return int(n)


def measure(
    store_kind: str, protocol: str, requests: list[bytes], warmup: list[bytes], senders: int
) -> dict[str, float]:
    with fresh_store(store_kind) as url:
        collector = CollectorProcess(url)
        try:
            run_senders(collector, protocol, warmup, senders)
            cpu0 = collector.cpu_seconds()
            elapsed, refused = run_senders(collector, protocol, requests, senders)
            cpu = collector.cpu_seconds() - cpu0
            rss = collector.peak_rss_mib()
        finally:
            collector.stop()
        expected = (len(requests) + len(warmup)) * _spans_per_request(requests[0])
        got = stored_spans(url)
        if got != expected:
            raise AssertionError(
                f"{store_kind}/{protocol}: {got} spans stored, expected {expected}"
            )
    spans = len(requests) * _spans_per_request(requests[0])
    return {
        "spans_per_s": spans / elapsed,
        "seconds": elapsed,
        "refused": refused,
        "peak_rss_mib": rss,
        "collector_cpu_s": cpu,
    }


class Flooder(threading.Thread):
    """Sends requests round-robin without pause until ``deadline``; counts outcomes."""

    def __init__(
        self, collector: CollectorProcess, requests: list[bytes], offset: int, deadline: float
    ) -> None:
        super().__init__(daemon=True)
        self.collector, self.requests, self.offset, self.deadline = (
            collector,
            requests,
            offset,
            deadline,
        )
        self.accepted = self.refused = 0

    def run(self) -> None:
        channel = grpc.insecure_channel(
            f"127.0.0.1:{self.collector.grpc_port}",
            options=[("grpc.max_send_message_length", 64 << 20)],
        )
        call = channel.unary_unary(EXPORT)
        i = self.offset
        while time.monotonic() < self.deadline:
            try:
                call(self.requests[i % len(self.requests)], timeout=60)
                self.accepted += 1
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                self.refused += 1
                time.sleep(_retry_delay(exc))  # as OTLP exporters do
            i += 1


OVERLOAD_INFLIGHT_BYTES = 16 << 20


def _retry_delay(exc: grpc.RpcError) -> float:
    """The delay the collector's RetryInfo asks for (1 s if it sent none)."""
    for key, value in exc.trailing_metadata() or ():
        if key == "google.rpc.retryinfo-bin":
            info = RetryInfo.FromString(value)
            return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    return 1.0


def overload(requests: list[bytes], senders: int, seconds: float) -> dict[str, float]:
    """``senders`` clients with no pause between requests, against a SQLite collector whose
    in-flight limit is lowered so that this many senders exceed it."""
    with fresh_store("sqlite") as url:
        collector = CollectorProcess(url, "--max-inflight-bytes", str(OVERLOAD_INFLIGHT_BYTES))
        try:
            deadline = time.monotonic() + seconds
            threads = [Flooder(collector, requests, i * 7, deadline) for i in range(senders)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            rss = collector.peak_rss_mib()
        finally:
            collector.stop()
    return {
        "accepted": sum(t.accepted for t in threads),
        "refused": sum(t.refused for t in threads),
        "peak_rss_mib": rss,
    }


def _spans_per_request(body: bytes) -> int:
    request = ExportTraceServiceRequest.FromString(body)
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


def baseline_rows_per_s(requests: list[bytes]) -> float:
    """The same span rows, pre-converted, written to SQLite with executemany (one process)."""
    from spyglass.collector.genai.cost import PriceTable
    from spyglass.collector.ingest.redaction import RedactionRules
    from spyglass.collector.ingest.spans import SpanConverter
    from spyglass.collector.store import migrate
    from spyglass.collector.store.engine import create_store_engine
    from spyglass.collector.store.rows import SPAN_COLUMNS

    converter = SpanConverter(PriceTable.load(), RedactionRules.none(), 1 << 20)
    rows = [
        rec.row
        for body in requests
        for rec in converter.convert(
            ExportTraceServiceRequest.FromString(body).resource_spans
        ).records
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "baseline.db"
        migrate.upgrade(create_store_engine(f"sqlite:///{path}"))
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        sql = (
            f"INSERT INTO spans ({', '.join(SPAN_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(SPAN_COLUMNS))})"
        )
        started = time.perf_counter()
        for i in range(0, len(rows), 5000):
            db.execute("BEGIN")
            db.executemany(sql, rows[i : i + 5000])
            db.execute("COMMIT")
        elapsed = time.perf_counter() - started
        db.close()
    return len(rows) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=100_000, help="spans per measurement")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--traces-per-request", type=int, default=50)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--protocols", default="grpc,http")
    parser.add_argument("--overload-senders", type=int, default=48)
    parser.add_argument(
        "--overload-seconds", type=float, default=15.0, help="0 skips the overload phase"
    )
    args = parser.parse_args()

    per_request = args.traces_per_request * SPANS_PER_TRACE
    n_requests = max(1, args.spans // per_request)
    print(f"building {n_requests} requests x {per_request} spans ...", flush=True)
    requests = build_requests(n_requests, args.traces_per_request)
    warmup = build_requests(4, args.traces_per_request, seed=99)
    span_bytes = sum(map(len, requests)) / (n_requests * per_request)
    print(f"{span_bytes:.0f} bytes per span serialised; {args.senders} senders\n", flush=True)

    baseline = baseline_rows_per_s(requests)
    print(f"baseline: SQLite executemany, one process   {baseline:>9,.0f} rows/s\n")
    print(
        f"{'store':<11}{'protocol':<9}{'spans/s':>10}{'ratio':>8}{'seconds':>9}"
        f"{'refused':>9}{'peak RSS':>10}{'cpu s':>7}{'cpu us/span':>12}"
    )
    for store in args.stores.split(","):
        for protocol in args.protocols.split(","):
            r = measure(store, protocol, requests, warmup, args.senders)
            print(
                f"{store:<11}{protocol:<9}{r['spans_per_s']:>10,.0f}"
                f"{r['spans_per_s'] / baseline:>8.2f}{r['seconds']:>9.2f}"
                f"{r['refused']:>9}{r['peak_rss_mib']:>8.0f}Mi{r['collector_cpu_s']:>7.1f}"
                f"{r['collector_cpu_s'] / len(requests) / per_request * 1e6:>12.0f}",
                flush=True,
            )
    print(
        "\nratio = spans/s / baseline rows/s (same run). Acks follow COMMIT: figures are "
        "durable spans/s. cpu = the collector's CPU time (main process and decode workers; "
        "not PostgreSQL's) per span: on a busy machine it moves less than spans/s."
    )
    if args.overload_seconds > 0:
        o = overload(requests, args.overload_senders, args.overload_seconds)
        print(
            f"\noverload: {args.overload_senders} gRPC senders without pause for "
            f"{args.overload_seconds:g}s (in-flight limit {OVERLOAD_INFLIGHT_BYTES >> 20} "
            f"MiB): {o['accepted']} requests accepted, "
            f"{o['refused']} refused with retry-after, collector peak RSS "
            f"{o['peak_rss_mib']:.0f} MiB"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
