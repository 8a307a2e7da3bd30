"""When PostgreSQL goes away, the collector says "retry later" and stores nothing half-way.

The collector reaches PostgreSQL through a loopback TCP proxy that the test cuts (every
connection closed, new ones refused) and restores; the database server itself is never
touched. While cut, an Export is refused within a bounded time with gRPC UNAVAILABLE plus
RetryInfo trailers, or HTTP 503 plus Retry-After, and ``/readyz`` answers 503. Nothing from
a refused request is in the store afterwards. Once restored, the collector is ready again
without a restart and new exports are stored. A silent partition (packets dropped, nothing
refused) makes ``/readyz`` answer 503 once its ping times out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from otlp_builders import make_request, make_span, new_trace_id
from processes import (
    TcpProxy,
    assert_retryable,
    sender_for,
    span_keys,
    store_engine,
    stored_span_keys,
    trace_rows,
    wait_until,
)
from sqlalchemy.engine import make_url

from spyglass.collector.server import Collector

RETRY_AFTER_S = 1.5
READYZ_PING_S = 2.0  # how long /readyz waits for the store before calling it unreachable
REFUSAL_WITHIN_S = 10.0  # three write attempts with short pauses, then the answer


@pytest.fixture
def pg_proxy(postgres_url: str) -> Iterator[TcpProxy]:
    """A proxy in front of the test database's server."""
    server = make_url(postgres_url)
    with TcpProxy((server.host or "127.0.0.1", server.port or 5432)) as proxy:
        yield proxy


def one_trace_request(name: str) -> ExportTraceServiceRequest:
    trace_id = new_trace_id()
    root = make_span(name, trace_id)
    return make_request(
        [root, make_span("child", trace_id, parent=root)], resource={"service.name": "outage"}
    )


def readyz(collector: Collector) -> int:
    return httpx.get(f"http://127.0.0.1:{collector.http_port}/readyz", timeout=10).status_code


@pytest.mark.postgres
@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_cut_store_refuses_retryably_and_recovers(
    protocol: str, pg_proxy: TcpProxy, postgres_url: str, start_collector: Callable[..., Collector]
) -> None:
    collector = start_collector(pg_proxy.proxied_url(postgres_url), retry_after=RETRY_AFTER_S)
    before, during, after = (one_trace_request(n) for n in ("before", "during", "after"))
    with sender_for(protocol, collector.grpc_port, collector.http_port) as sender:
        assert sender.send(before).ok
        assert readyz(collector) == 200

        pg_proxy.cut()
        refused = sender.send(during, timeout=30)
        assert_retryable(refused, RETRY_AFTER_S)
        assert refused.seconds < REFUSAL_WITHIN_S, refused
        assert readyz(collector) == 503

        pg_proxy.restore()
        wait_until(lambda: readyz(collector) == 200, 15, "/readyz to recover")
        stored_after = sender.send(after)
        assert stored_after.ok, stored_after

    with store_engine(postgres_url) as engine:
        assert sorted(stored_span_keys(engine)) == sorted(span_keys(before) | span_keys(after))
        assert {row.name for row in trace_rows(engine).values()} == {"before", "after"}


@pytest.mark.postgres
def test_silent_store_makes_readyz_answer_not_ready(
    pg_proxy: TcpProxy, postgres_url: str, start_collector: Callable[..., Collector]
) -> None:
    """A partition that drops packets (no connection refused, no reset) times the ping out."""
    collector = start_collector(pg_proxy.proxied_url(postgres_url))
    assert readyz(collector) == 200

    pg_proxy.stall()
    reply = httpx.get(f"http://127.0.0.1:{collector.http_port}/readyz", timeout=10)
    assert reply.status_code == 503, reply.text
    assert reply.text.startswith("not ready: store unreachable"), reply.text
    assert reply.elapsed.total_seconds() < READYZ_PING_S + 2

    pg_proxy.restore()
    wait_until(lambda: readyz(collector) == 200, 15, "/readyz to recover")
