"""The trace row is the same whatever order, grouping or repetition its spans arrive in.

On a real collector (SQLite and PostgreSQL): re-delivered spans are stored once and never
counted twice; a trace split over requests in reverse order ends with the very row that one
request holding all its spans produces (start/end, root name and status, counts, tokens,
cost); the status is IN_PROGRESS until the root arrives; experiment routing follows
attribute > header > service.name > default whatever order spans arrive in; trace tags and
metadata carried as JSON span attributes land in their tables.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from otlp_builders import (
    STATUS_ERROR,
    STATUS_OK,
    make_request,
    make_span,
    new_trace_id,
)
from processes import llm_attrs, sender_for, stored_span_keys
from sqlalchemy import select

from spyglass import semconv
from spyglass.collector.server import Collector
from spyglass.collector.store.models import Experiment, SpanRow, TraceMetadata, TraceRow, TraceTag

T0 = 1_700_000_000_000_000_000
# the trace row's own bookkeeping; every other column must not depend on arrival order
BOOKKEEPING = {"id", "trace_id", "created_at_ns", "last_span_at_ns"}
ROOT_SPAN_ID = b"root--id"
PROMPT_PRICE, COMPLETION_PRICE = 0.15e-6, 0.6e-6  # gpt-4o-mini in the shipped prices


# -- helpers -------------------------------------------------------------------------------


def send(
    collector: Collector, *requests, experiment: str | None = None, protocol: str = "grpc"
) -> None:
    """Send each request in turn; each must be fully accepted."""
    with sender_for(protocol, collector.grpc_port, collector.http_port) as sender:
        for request in requests:
            outcome = sender.send(request, experiment=experiment)
            assert outcome.ok, outcome
            assert outcome.response.partial_success.rejected_spans == 0, outcome.response


def one_request_each(spans: Sequence[Any], service: str = "agent-app") -> list[Any]:
    return [make_request([span], resource={"service.name": service}) for span in spans]


def trace_row(collector: Collector, trace_id: bytes) -> dict[str, Any]:
    with collector.engine.connect() as connection:
        row = (
            connection.execute(select(TraceRow).where(TraceRow.trace_id == trace_id.hex()))
            .mappings()
            .one()
        )
    return dict(row)


def span_costs(collector: Collector, trace_id: bytes) -> list[float | None]:
    with collector.engine.connect() as connection:
        return list(
            connection.scalars(select(SpanRow.cost).where(SpanRow.trace_id == trace_id.hex()))
        )


def experiment_name(collector: Collector, trace_id: bytes) -> str:
    with collector.engine.connect() as connection:
        return connection.scalar(
            select(Experiment.name)
            .join(TraceRow, TraceRow.experiment_id == Experiment.experiment_id)
            .where(TraceRow.trace_id == trace_id.hex())
        )


def experiment_id(collector: Collector, name: str) -> int:
    with collector.engine.connect() as connection:
        return connection.scalar(select(Experiment.experiment_id).where(Experiment.name == name))


def create_experiment(collector: Collector, name: str) -> int:
    """Create an experiment the way a client can: a header naming it on some trace."""
    send(collector, make_request([make_span("setup", new_trace_id())]), experiment=name)
    return experiment_id(collector, name)


def agent_trace(
    trace_id: bytes, root_status: int = STATUS_OK, child_status: int = STATUS_OK
) -> list[Any]:
    """Root + 2 LLM children. One child starts before the root (clock skew) and one ends
    after it, so start/end must be min/max over all spans, not the root's. Span ids are the
    same in every such trace, so two of them differ only in their trace id."""
    root = make_span(
        "agent",
        trace_id,
        span_id=ROOT_SPAN_ID,
        start_ns=T0,
        duration_ns=10_000,
        status_code=root_status,
        attributes={"input.value": "what is 2+2?", "output.value": "4"},
    )
    early = make_span(
        "llm-early",
        trace_id,
        span_id=b"early-id",
        parent=root,
        start_ns=T0 - 500,
        duration_ns=3_000,
        attributes=llm_attrs(100, 20),
        status_code=child_status,
    )
    late = make_span(
        "llm-late",
        trace_id,
        span_id=b"late--id",
        parent=root,
        start_ns=T0 + 5_000,
        duration_ns=9_000,
        attributes=llm_attrs(50, 10),
    )
    return [root, early, late]


EXPECTED_AGENT_ROW = {
    "name": "agent",
    "status": "OK",
    "span_count": 3,
    "error_count": 0,
    "start_time_ns": T0 - 500,
    "end_time_ns": T0 + 14_000,
    "input_tokens": 150,
    "output_tokens": 30,
    "total_tokens": 180,
}


def without_bookkeeping(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in BOOKKEEPING}


# -- idempotency and merging ---------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_same_request_twice_is_stored_once(collector: Collector, protocol: str) -> None:
    trace_id = new_trace_id()
    request = make_request(agent_trace(trace_id), resource={"service.name": "agent-app"})
    send(collector, request, protocol=protocol)
    first = trace_row(collector, trace_id)

    send(collector, request, protocol=protocol)

    assert len(stored_span_keys(collector.engine, [trace_id.hex()])) == 3
    again = trace_row(collector, trace_id)
    assert without_bookkeeping(again) == without_bookkeeping(first)
    assert again["span_count"] == 3 and again["total_tokens"] == 180


def test_split_reverse_order_trace_equals_single_request_trace(collector: Collector) -> None:
    whole_id, split_id = new_trace_id(), new_trace_id()
    send(collector, make_request(agent_trace(whole_id), resource={"service.name": "agent-app"}))
    root, early, late = agent_trace(split_id)

    send(collector, *one_request_each([late, early]))
    in_progress = trace_row(collector, split_id)
    assert (in_progress["status"], in_progress["name"], in_progress["span_count"]) == (
        "IN_PROGRESS",
        None,
        2,
    )

    send(collector, *one_request_each([root]))
    whole, split = trace_row(collector, whole_id), trace_row(collector, split_id)
    assert without_bookkeeping(split) == without_bookkeeping(whole)
    assert {k: split[k] for k in EXPECTED_AGENT_ROW} == EXPECTED_AGENT_ROW
    assert split["end_time_ns"] - split["start_time_ns"] == 14_500  # the trace's duration
    assert split["root_span_id"] == ROOT_SPAN_ID.hex()
    expected_cost = 150 * PROMPT_PRICE + 30 * COMPLETION_PRICE
    assert split["cost"] == pytest.approx(expected_cost)
    assert split["cost"] == pytest.approx(sum(c or 0 for c in span_costs(collector, split_id)))


def test_error_root_makes_error_trace_and_errors_are_counted(collector: Collector) -> None:
    trace_id = new_trace_id()
    root, early, late = agent_trace(trace_id, root_status=STATUS_ERROR, child_status=STATUS_ERROR)
    send(collector, *one_request_each([early, late]))
    assert trace_row(collector, trace_id)["status"] == "IN_PROGRESS"
    assert trace_row(collector, trace_id)["error_count"] == 1

    send(collector, *one_request_each([root]))
    row = trace_row(collector, trace_id)
    assert (row["status"], row["error_count"], row["span_count"]) == ("ERROR", 2, 3)


def test_redelivered_mixed_batch_counts_only_new_spans(collector: Collector) -> None:
    trace_id = new_trace_id()
    root = make_span("agent", trace_id, start_ns=T0, duration_ns=100_000)
    children = [
        make_span(
            f"llm-{i}",
            trace_id,
            parent=root,
            start_ns=T0 + i,
            duration_ns=10,
            attributes=llm_attrs(10 * i, i),
        )
        for i in range(1, 4)
    ]
    send(collector, make_request([root, children[0]]))

    send(collector, make_request([children[1], root, children[2], children[0]]))

    assert len(stored_span_keys(collector.engine, [trace_id.hex()])) == 4
    row = trace_row(collector, trace_id)
    assert (row["span_count"], row["input_tokens"], row["output_tokens"]) == (4, 60, 6)


def test_trace_tags_and_metadata_from_span_attributes(collector: Collector) -> None:
    trace_id = new_trace_id()
    root = make_span(
        "agent",
        trace_id,
        attributes={semconv.TRACE_TAGS: json.dumps({"env": "prod", "team": "search"})},
    )
    child = make_span(
        "tool",
        trace_id,
        parent=root,
        attributes={
            semconv.TRACE_METADATA: json.dumps({"app_version": "1.2.3", "attempt": 3}),
            semconv.TRACE_TAGS: json.dumps({"env": "prod"}),
        },
    )
    send(collector, *one_request_each([child, root]))

    with collector.engine.connect() as connection:
        tags = dict(
            connection.execute(
                select(TraceTag.key, TraceTag.value).where(TraceTag.trace_id == trace_id.hex())
            ).all()
        )
        metadata = dict(
            connection.execute(
                select(TraceMetadata.key, TraceMetadata.value).where(
                    TraceMetadata.trace_id == trace_id.hex()
                )
            ).all()
        )
    assert tags == {"env": "prod", "team": "search"}
    assert metadata == {"app_version": "1.2.3", "attempt": "3"}


# -- experiment routing --------------------------------------------------------------------

TARGET = "target-experiment"
TARGET_ID = object()  # stands for the id of the TARGET experiment, known only at run time


ROUTES = [  # (case, service.name, header, span attribute, experiment the trace lands in)
    ("nothing: default", None, None, None, semconv.DEFAULT_EXPERIMENT_NAME),
    (
        "SDK placeholder service: default",
        "unknown_service:python",
        None,
        None,
        semconv.DEFAULT_EXPERIMENT_NAME,
    ),
    ("service.name creates its experiment", "shop", None, None, "shop"),
    ("header name beats service.name", "shop", "from-header", None, "from-header"),
    ("header id beats service.name", "shop", TARGET_ID, None, TARGET),
    ("attribute beats header", "shop", "from-header", TARGET_ID, TARGET),
]


def test_experiment_routing(collector: Collector) -> None:
    target_id = str(create_experiment(collector, TARGET))
    landed = {}
    for case, service, header, attribute, _ in ROUTES:
        trace_id = new_trace_id()
        attrs = {semconv.EXPERIMENT_ID: target_id} if attribute is TARGET_ID else {}
        send(
            collector,
            make_request(
                [make_span("root", trace_id, attributes=attrs)],
                resource={"service.name": service} if service else {},
            ),
            experiment=target_id if header is TARGET_ID else header,
        )
        landed[case] = experiment_name(collector, trace_id)
    assert landed == {case: expected for case, *_, expected in ROUTES}


@pytest.mark.parametrize("attribute_span", ["first", "last"])
def test_experiment_does_not_depend_on_arrival_order(
    collector: Collector, attribute_span: str
) -> None:
    """One trace, four spans each routed differently, in separate requests."""
    target_id = str(create_experiment(collector, TARGET))
    trace_id = new_trace_id()
    root = make_span("root", trace_id, attributes={semconv.EXPERIMENT_ID: target_id})
    by_header, by_service, by_default = (
        make_span(f"child-{i}", trace_id, parent=root) for i in range(3)
    )
    requests = [  # (request, header)
        (make_request([root], resource={"service.name": "shop"}), None),
        (make_request([by_header]), "from-header"),
        (make_request([by_service], resource={"service.name": "shop"}), None),
        (make_request([by_default], resource={"service.name": "unknown_service:python"}), None),
    ]
    for request, header in requests if attribute_span == "first" else requests[::-1]:
        send(collector, request, experiment=header)
    assert experiment_name(collector, trace_id) == TARGET
    assert trace_row(collector, trace_id)["span_count"] == 4


def test_service_name_beats_placeholder_in_any_order(collector: Collector) -> None:
    landed = []
    for service_first in (True, False):
        trace_id = new_trace_id()
        root = make_span("root", trace_id)
        child = make_span("child", trace_id, parent=root)
        requests = [
            make_request([root], resource={"service.name": "shop"}),
            make_request([child], resource={"service.name": "unknown_service:python"}),
        ]
        send(collector, *(requests if service_first else requests[::-1]))
        landed.append(experiment_name(collector, trace_id))
    assert landed == ["shop", "shop"]
