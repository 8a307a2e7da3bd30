"""Property: whatever valid-protobuf OTLP request arrives, the collector stores its
well-formed spans, accounts for every other one in ``partial_success``, and keeps its writer.

Hypothesis builds export requests with extreme numbers (times up to 2**64-1, token counts
as huge integers, doubles and numeric strings, NaN and infinities), enum values no SDK sends,
huge and empty strings, bytes, nested arrays and kvlists, events and links, ids of the wrong
size or all zeros, and short deadlines, and sends each to one running collector over gRPC or
OTLP/HTTP. After every request: the answer is a success (possibly partial) unless its
deadline passed, the spans it did not reject are stored, a span whose every value is
ordinary is never rejected, and the collector is alive.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from otlp_builders import make_request
from processes import GrpcSender, HttpSender, span_keys
from sqlalchemy import select

from spyglass.collector.server import Collector
from spyglass.collector.store.models import SpanRow

INT64_MAX = 2**63 - 1
ORDINARY_TIME = st.integers(1_600_000_000_000_000_000, 1_900_000_000_000_000_000)
EXTREME_UINT64 = st.sampled_from([0, 1, INT64_MAX, 2**63, 2**64 - 1])
EXTREME_INT64 = st.sampled_from([-(2**63), -1, 0, 2**31, 2**32, INT64_MAX])
EXTREME_DOUBLE = st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0, 5e-324])
HUGE_TEXT = st.sampled_from(["", "x" * 70_000, "é" * 40_000, "\x00nul\x00", "\ud7ff\U0010ffff"])
TOKEN_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "llm.token_count.prompt",
    "llm.token_count.total",
)


def any_values(depth: int = 3) -> st.SearchStrategy[AnyValue]:
    scalars = st.one_of(
        st.text(max_size=30).map(lambda v: AnyValue(string_value=v)),
        HUGE_TEXT.map(lambda v: AnyValue(string_value=v)),
        st.one_of(st.integers(-(2**63), INT64_MAX), EXTREME_INT64).map(
            lambda v: AnyValue(int_value=v)
        ),
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), EXTREME_DOUBLE).map(
            lambda v: AnyValue(double_value=v)
        ),
        st.booleans().map(lambda v: AnyValue(bool_value=v)),
        st.binary(max_size=64).map(lambda v: AnyValue(bytes_value=v)),
        st.just(AnyValue()),
    )
    if depth == 0:
        return scalars
    inner = any_values(depth - 1)
    return st.one_of(
        scalars,
        st.lists(inner, max_size=4).map(lambda vs: AnyValue(array_value=ArrayValue(values=vs))),
        st.lists(st.tuples(st.text(max_size=10), inner), max_size=4).map(
            lambda kvs: AnyValue(
                kvlist_value=KeyValueList(values=[KeyValue(key=k, value=v) for k, v in kvs])
            )
        ),
    )


def token_values() -> st.SearchStrategy[AnyValue]:
    return st.one_of(
        st.integers(-(2**63), INT64_MAX).map(lambda v: AnyValue(int_value=v)),
        st.sampled_from(["1e30", "-5", "12", "nan", "3000000000", "9" * 40]).map(
            lambda v: AnyValue(string_value=v)
        ),
        EXTREME_DOUBLE.map(lambda v: AnyValue(double_value=v)),
    )


def attributes() -> st.SearchStrategy[list[KeyValue]]:
    plain = st.tuples(st.text(max_size=20), any_values())
    tokens = st.tuples(st.sampled_from(TOKEN_KEYS), token_values())
    return st.lists(st.one_of(plain, tokens), max_size=6).map(
        lambda kvs: [KeyValue(key=k, value=v) for k, v in kvs]
    )


@dataclass
class SpanPlan:
    """What the strategy chose for one span; ids are drawn when the request is built, so
    that no two examples (nor a shrinking replay) ever share a stored span."""

    ids: str  # "ok", "zero", "short"
    start: int
    end: int
    kind: int
    status_code: int
    name: str
    status_message: str
    attributes: list[KeyValue]
    events: list[tuple[str, int, list[KeyValue]]]
    links: int
    ordinary: bool  # every value is one an SDK sends: must be stored


@st.composite
def span_plans(draw: Any) -> SpanPlan:
    ordinary = draw(st.booleans())
    if ordinary:
        start = draw(ORDINARY_TIME)
        return SpanPlan(
            "ok",
            start,
            start + draw(st.integers(0, 10**10)),
            draw(st.integers(0, 5)),
            draw(st.integers(0, 2)),
            draw(st.text(max_size=30)),
            draw(st.text(max_size=30)),
            draw(
                st.lists(
                    st.tuples(st.text(min_size=1, max_size=10), st.text(max_size=20)), max_size=4
                ).map(lambda kvs: [KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in kvs])
            ),
            [],
            0,
            True,
        )
    return SpanPlan(
        ids=draw(st.sampled_from(["ok", "ok", "ok", "zero", "short"])),
        start=draw(st.one_of(ORDINARY_TIME, EXTREME_UINT64)),
        end=draw(st.one_of(ORDINARY_TIME, EXTREME_UINT64)),
        kind=draw(st.one_of(st.integers(0, 5), st.integers(-(2**31), 2**31 - 1))),
        status_code=draw(st.one_of(st.integers(0, 2), st.integers(-(2**31), 2**31 - 1))),
        name=draw(st.one_of(st.text(max_size=30), HUGE_TEXT)),
        status_message=draw(st.one_of(st.text(max_size=30), HUGE_TEXT)),
        attributes=draw(attributes()),
        events=draw(
            st.lists(
                st.tuples(
                    st.one_of(st.text(max_size=20), HUGE_TEXT),
                    st.one_of(ORDINARY_TIME, EXTREME_UINT64),
                    attributes(),
                ),
                max_size=3,
            )
        ),
        links=draw(st.integers(0, 2)),
        ordinary=False,
    )


def build_span(plan: SpanPlan, trace_id: bytes) -> Span:
    ids = {
        "ok": (trace_id, os.urandom(8)),
        "zero": (bytes(16), bytes(8)),
        "short": (trace_id[:15], os.urandom(7)),
    }[plan.ids]
    return Span(
        trace_id=ids[0],
        span_id=ids[1],
        name=plan.name,
        kind=plan.kind,
        start_time_unix_nano=plan.start,
        end_time_unix_nano=plan.end,
        attributes=plan.attributes,
        events=[Span.Event(name=n, time_unix_nano=t, attributes=a) for n, t, a in plan.events],
        links=[
            Span.Link(
                trace_id=os.urandom(16), span_id=os.urandom(8), attributes=plan.attributes[:2]
            )
            for _ in range(plan.links)
        ],
        status=Status(code=plan.status_code, message=plan.status_message),
    )


def stored_of(collector: Collector, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    assert collector.engine is not None
    trace_ids = sorted({t for t, _ in keys})
    with collector.engine.connect() as connection:
        rows = connection.execute(
            select(SpanRow.trace_id, SpanRow.span_id).where(SpanRow.trace_id.in_(trace_ids))
        ).all()
    return {tuple(row) for row in rows} & keys


def test_random_requests_never_stop_the_collector(
    start_collector: Callable[..., Collector], store_url: str
) -> None:
    collector = start_collector(store_url, max_attribute_bytes=4096)
    grpc_sender = GrpcSender(f"127.0.0.1:{collector.grpc_port}")
    http_sender = HttpSender(f"http://127.0.0.1:{collector.http_port}")
    seen = {"rejected": 0, "warned": 0, "stored": 0}

    @settings(
        max_examples=int(os.environ.get("SPYGLASS_HYPOTHESIS_EXAMPLES", "60")),
        deadline=None,
        derandomize=False,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(
        plans=st.lists(span_plans(), min_size=1, max_size=8),
        protocol=st.sampled_from(["grpc", "http"]),
        deadline=st.sampled_from([30.0, 30.0, 30.0, 0.002]),
    )
    def check(plans: list[SpanPlan], protocol: str, deadline: float) -> None:
        trace_id = os.urandom(16)
        spans = [build_span(plan, trace_id) for plan in plans]
        request = make_request(spans)
        sender = grpc_sender if protocol == "grpc" else http_sender
        outcome = sender.send(request, timeout=deadline)
        if deadline < 1 and not outcome.ok:
            assert outcome.grpc_code in (grpc.StatusCode.DEADLINE_EXCEEDED, None), outcome
        else:
            assert outcome.ok, (outcome.grpc_code, outcome.http_status, outcome.error)
            assert outcome.response is not None
            rejected = outcome.response.partial_success.rejected_spans
            keys = span_keys(request)
            stored = stored_of(collector, keys)
            # every span is either stored or counted as rejected, never silently lost
            assert len(stored) + rejected == len(spans), (
                len(stored),
                rejected,
                outcome.response.partial_success.error_message,
            )
            seen["rejected"] += rejected
            seen["stored"] += len(stored)
            seen["warned"] += bool(outcome.response.partial_success.error_message)
            for plan, span in zip(plans, spans):
                if plan.ordinary:
                    assert (span.trace_id.hex(), span.span_id.hex()) in stored
        assert collector.alive() is None
        assert collector.writer is not None and collector.writer.alive

    try:
        check()
    finally:
        grpc_sender.close()
        http_sender.close()
    # the strategies reached the paths under test: spans refused, warned about and stored
    assert seen["rejected"] and seen["warned"] and seen["stored"], seen
