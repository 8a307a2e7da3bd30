"""An acknowledged span is a stored span, however the collector process ends.

Real collector subprocesses on SQLite and PostgreSQL take a steady stream of OTLP requests
(gRPC and HTTP senders in threads). Killed with SIGKILL mid-stream (the collector and its
helper processes at once, as when its container dies), a collector restarted on the same
store holds every span whose Export returned OK, and each trace row's span_count equals its
stored spans; a request left in doubt by the kill can be re-delivered without being counted
twice. Stopped with SIGTERM, the collector finishes the requests in flight,
exits 0, and again every acknowledged span is stored.
"""

from __future__ import annotations

import itertools
import threading
import time

from processes import (
    CollectorProcess,
    CollectorProcesses,
    SpanSender,
    assert_trace_counts_match_spans,
    generated_traces,
    sender_for,
    span_keys,
    store_engine,
    stored_span_keys,
    wait_until,
)

SENDER_PROTOCOLS = ("grpc", "http", "grpc")
ACKS_BEFORE_STOPPING = 30


def start_senders(
    proc: CollectorProcess, stop: threading.Event, spans_per_trace: int = 5
) -> list[SpanSender]:
    senders = [
        SpanSender(
            lambda p=protocol: sender_for(p, proc.grpc_port, proc.http_port),
            generated_traces(seed, spans_per_trace),
            stop,
        )
        for seed, protocol in enumerate(SENDER_PROTOCOLS, start=1)
    ]
    for sender in senders:
        sender.start()
    try:
        wait_until(
            lambda: sum(s.acked_requests for s in senders) >= ACKS_BEFORE_STOPPING,
            30,
            f"{ACKS_BEFORE_STOPPING} acknowledged requests",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}; collector stderr:\n{proc.stderr()}") from None
    return senders


def stop_senders(senders: list[SpanSender], stop: threading.Event) -> set[tuple[str, str]]:
    """Stop and join the senders; returns every span they saw acknowledged."""
    stop.set()
    for sender in senders:
        sender.join(15)
        assert not sender.is_alive(), "a sender thread did not stop"
    return set(itertools.chain.from_iterable(s.acked for s in senders))


def assert_stored_exactly(store_url: str, expected: set[tuple[str, str]]) -> None:
    """The store holds exactly ``expected`` spans, once each, with consistent trace rows."""
    with store_engine(store_url) as engine:
        stored = stored_span_keys(engine)
        assert len(stored) == len(set(stored)), "duplicate spans"
        missing = expected - set(stored)
        assert not missing, f"{len(missing)} acknowledged span(s) lost, e.g. {sorted(missing)[:3]}"
        assert set(stored) == expected
        assert assert_trace_counts_match_spans(engine) == len(expected)


def test_sigkill_loses_no_acknowledged_span(
    store_url: str, collector_processes: CollectorProcesses
) -> None:
    first = collector_processes.start(store_url)
    stop = threading.Event()
    senders = start_senders(first, stop)

    assert not any(s.failures for s in senders), senders[0].failures[:1]
    first.kill()
    # every sender now holds a request that got no OK (perhaps committed, perhaps not)
    wait_until(lambda: all(s.failures for s in senders), 15, "each sender to see the kill")
    acked = stop_senders(senders, stop)
    in_doubt = [s.pending for s in senders if s.pending is not None]
    assert len(in_doubt) == len(senders)

    second = collector_processes.start(store_url)
    with store_engine(store_url) as engine:
        assert set(stored_span_keys(engine)) >= acked, "acknowledged spans lost by SIGKILL"
        assert_trace_counts_match_spans(engine)

    # re-delivery of the in-doubt requests, as an OTLP exporter retries them
    redelivered: set[tuple[str, str]] = set()
    with sender_for("grpc", second.grpc_port, second.http_port) as resend:
        for request in in_doubt:
            outcome = resend.send(request)
            assert outcome.ok, outcome
            redelivered |= span_keys(request)
    assert_stored_exactly(store_url, acked | redelivered)


def test_sigterm_drains_requests_in_flight(
    store_url: str, collector_processes: CollectorProcesses
) -> None:
    proc = collector_processes.start(store_url)
    stop = threading.Event()
    senders = start_senders(proc, stop, spans_per_trace=25)  # 100-span requests

    signalled_at = time.monotonic()
    exit_code = proc.terminate(timeout=30)
    acked = stop_senders(senders, stop)

    assert exit_code == 0, proc.stderr()
    drained = [
        (sent, done) for s in senders for sent, done in s.timeline if sent < signalled_at < done
    ]
    assert drained, "no request was in flight at SIGTERM; the test proved nothing"
    assert_stored_exactly(store_url, acked)
