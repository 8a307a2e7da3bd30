"""Two collector processes sharing one PostgreSQL database build correct trace rows.

Both collectors start at the same moment on a fresh database (both run the migrations; the
lock must make that safe). Sender threads then deliver the spans of 200 six-span traces
interleaved across the two, each span to a random collector and some to both, over gRPC
and HTTP. Every trace row must come out exactly as if one process had seen the whole trace:
span_count 6, start/end the min/max over its spans, the root's name, token sums, and every
span stored once.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections import defaultdict
from typing import Any

import pytest
from otlp_builders import make_request, make_span
from processes import (
    CollectorProcess,
    CollectorProcesses,
    llm_attrs,
    sender_for,
    store_engine,
    stored_span_keys,
    trace_rows,
)
from sqlalchemy import func, select, text

from spyglass.collector.store.migrate import head_revision
from spyglass.collector.store.models import Experiment

TRACES, SPANS_PER_TRACE, SENDER_THREADS, SPANS_PER_REQUEST = 200, 6, 4, 10
SENT_TO_BOTH = 0.15
SERVICE = "two-collectors"
T0 = 1_700_000_000_000_000_000


def six_span_trace(number: int) -> list[Any]:
    """A root and 5 LLM children; child 5 starts before the root and child 4 ends after it."""
    trace_id = (number + 1).to_bytes(16, "big")
    start = T0 + number * 1_000_000
    root = make_span(
        f"root-{number}", trace_id, span_id=b"span-r00", start_ns=start, duration_ns=100_000
    )
    children = [
        make_span(
            f"llm-{i}",
            trace_id,
            span_id=f"span-c{i:02}".encode(),
            parent=root,
            start_ns=start + 10_000 * i - (60_000 if i == 5 else 0),
            duration_ns=70_000 if i == 4 else 5_000,
            attributes=llm_attrs(10 * i, i),
        )
        for i in range(1, SPANS_PER_TRACE)
    ]
    return [root, *children]


def expected_row(spans: list[Any]) -> dict[str, Any]:
    children = spans[1:]
    return {
        "name": spans[0].name,
        "status": "OK",
        "span_count": SPANS_PER_TRACE,
        "error_count": 0,
        "start_time_ns": min(s.start_time_unix_nano for s in spans),
        "end_time_ns": max(s.end_time_unix_nano for s in spans),
        "input_tokens": sum(10 * i for i in range(1, len(children) + 1)),
        "output_tokens": sum(range(1, len(children) + 1)),
    }


def plan_deliveries(
    traces: list[list[Any]], collectors: int, rng: random.Random
) -> list[list[tuple[int, list[Any]]]]:
    """Per sender thread: (collector index, spans) requests, spans of all traces shuffled
    together, each span to a random collector and some to both."""
    deliveries = []
    for span in (span for trace in traces for span in trace):
        targets = range(collectors) if rng.random() < SENT_TO_BOTH else [rng.randrange(collectors)]
        deliveries += [(target, span) for target in targets]
    rng.shuffle(deliveries)
    by_target: dict[int, list[Any]] = defaultdict(list)
    for target, span in deliveries:
        by_target[target].append(span)
    requests = [
        (target, spans[i : i + SPANS_PER_REQUEST])
        for target, spans in by_target.items()
        for i in range(0, len(spans), SPANS_PER_REQUEST)
    ]
    rng.shuffle(requests)
    return [requests[i::SENDER_THREADS] for i in range(SENDER_THREADS)]


def send_all(
    procs: list[CollectorProcess],
    plan: list[tuple[int, list[Any]]],
    protocol: str,
    failures: list[Any],
) -> None:
    with contextlib.ExitStack() as stack:
        senders = [
            stack.enter_context(sender_for(protocol, p.grpc_port, p.http_port)) for p in procs
        ]
        for target, spans in plan:
            outcome = senders[target].send(make_request(spans, resource={"service.name": SERVICE}))
            if not outcome.ok or outcome.response.partial_success.rejected_spans:
                failures.append(outcome)


@pytest.mark.postgres
def test_two_collectors_on_one_database(
    postgres_url: str, collector_processes: CollectorProcesses
) -> None:
    procs = [collector_processes.spawn(postgres_url) for _ in range(2)]  # migrate together
    for proc in procs:
        proc.wait_ready()
    traces = [six_span_trace(n) for n in range(TRACES)]
    plan = plan_deliveries(traces, len(procs), random.Random(20261122))
    failures: list[Any] = []
    threads = [
        threading.Thread(
            target=send_all, args=(procs, plan[i], "grpc" if i % 2 else "http", failures)
        )
        for i in range(SENDER_THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads), "senders did not finish in time"
    assert not failures, f"{len(failures)} request(s) failed, e.g. {failures[0]}\n" + "\n".join(
        p.stderr()[-3000:] for p in procs
    )

    with store_engine(postgres_url) as engine:
        stored = stored_span_keys(engine)
        assert len(stored) == len(set(stored)) == TRACES * SPANS_PER_TRACE
        rows = trace_rows(engine)
        with engine.connect() as connection:
            experiments = (
                connection.execute(
                    select(Experiment.experiment_id).where(Experiment.name == SERVICE)
                )
                .scalars()
                .all()
            )
            revisions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            experiment_count = connection.scalar(select(func.count()).select_from(Experiment))

    assert revisions == [(head_revision(),)]
    assert len(experiments) == 1 and experiment_count == 2  # Default + the service's
    wrong = {}
    for spans in traces:
        row = rows[spans[0].trace_id.hex()]
        actual = {k: getattr(row, k) for k in expected_row(spans)}
        if actual != expected_row(spans) or row.experiment_id != experiments[0]:
            wrong[row.trace_id] = (actual, expected_row(spans), row.experiment_id)
    assert not wrong, f"{len(wrong)} wrong trace row(s), e.g. {next(iter(wrong.items()))}"
    assert len(rows) == TRACES
