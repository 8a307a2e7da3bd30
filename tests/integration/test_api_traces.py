"""The trace query API (spyglass.v1.TraceService) on real collectors, SQLite and PostgreSQL.

What it proves, through gRPC stubs against spans sent as OTLP:

* SearchTraces scopes by experiment, filters (tags, feedback, time range), orders (default
  newest ingest first; user keys with ties, mixed directions, missing values) and pages: with
  two traces per page every match comes exactly once, in order, and page tokens resume a
  search across calls;
* paging is stable while other traces are being exported (every trace that existed when the
  search began is seen exactly once, none that arrived later) and while late root spans move
  traces' start times;
* a page costs the same number of SQL statements for 5 traces as for 50;
* TraceInfo carries timing, state, previews, tokens, cost, tags, metadata and assessments;
  spans come back in start order; a trace with assessments but no spans is not found until
  its spans arrive;
* tags and metadata are upserted and checked; DeleteTraces by ids and by experiment and time
  removes exactly those traces with their spans, tags, metadata and assessments;
* bad arguments are INVALID_ARGUMENT with a message; every method needs the API key.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import grpc
import pytest
from otlp_builders import STATUS_ERROR, make_request, make_span, new_span_id, new_trace_id
from processes import (
    GrpcSender,
    SpanSender,
    generated_traces,
    llm_attrs,
    trace_rows,
    wait_until,
)
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from spyglass.collector.server import Collector
from spyglass.collector.store.models import (
    AssessmentRow,
    SpanRow,
    TraceMetadata,
    TraceRow,
    TraceTag,
)
from spyglass.v1 import (
    experiments_pb2,
    experiments_pb2_grpc,
    traces_pb2,
    traces_pb2_grpc,
)

T0_MS = 1_700_000_000_000
NS_PER_MS = 1_000_000


# -- helpers shared with test_api_experiments.py ------------------------------------------


class Api:
    """Stubs of TraceService and ExperimentService on a collector's gRPC port."""

    def __init__(self, collector: Collector) -> None:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
        self.traces = traces_pb2_grpc.TraceServiceStub(self.channel)
        self.experiments = experiments_pb2_grpc.ExperimentServiceStub(self.channel)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.channel.close()

    def search(self, **fields: Any) -> list[traces_pb2.SearchTracesPage]:
        """Every page one SearchTraces call streams."""
        return list(self.traces.SearchTraces(traces_pb2.SearchTracesRequest(**fields), timeout=20))

    def experiment_id(self, name: str) -> str:
        return self.experiments.GetExperimentByName(
            experiments_pb2.GetExperimentByNameRequest(name=name)
        ).experiment_id


def ids_of(pages: Sequence[traces_pb2.SearchTracesPage]) -> list[str]:
    return [trace.info.trace_id for page in pages for trace in page.traces]


def rpc_error(call: Callable[..., Any], *args: Any, **kwargs: Any) -> grpc.RpcError:
    """The error ``call(*args, **kwargs)`` fails with (it must fail)."""
    with pytest.raises(grpc.RpcError) as failure:
        call(*args, **kwargs)
    return failure.value


def send_traces(
    collector: Collector, traces: Sequence[Sequence[Any]], experiment: str | None = None
) -> None:
    """Export each trace's spans in a request of its own, in order, so that ingest order
    (``traces.id``) follows the list; ``experiment`` goes in the routing header."""
    with GrpcSender(f"127.0.0.1:{collector.grpc_port}") as sender:
        for spans in traces:
            outcome = sender.send(make_request(spans), experiment=experiment)
            assert outcome.ok and not outcome.response.partial_success.rejected_spans, outcome


def simple_trace(name: str, start_ms: int, **attributes: Any) -> tuple[str, list[Any]]:
    """A root span and one child, the trace starting at ``start_ms``; (trace id, spans)."""
    trace_id = new_trace_id()
    root = make_span(
        name,
        trace_id,
        start_ns=start_ms * NS_PER_MS,
        duration_ns=5 * NS_PER_MS,
        attributes=attributes,
    )
    child = make_span("step", trace_id, parent=root, start_ns=start_ms * NS_PER_MS + 1)
    return trace_id.hex(), [root, child]


def add_feedback(
    collector: Collector, trace_id: str, name: str, value: Any, created_ms: int = T0_MS
) -> None:
    """Store a feedback row as the assessment service does (no trace needed)."""
    with Session(collector.engine) as session, session.begin():
        session.add(
            AssessmentRow(
                assessment_id=uuid.uuid4().hex,
                trace_id=trace_id,
                name=name,
                kind="feedback",
                value=json.dumps(value),
                source_type="CODE",
                valid=True,
                created_time_ms=created_ms,
                last_update_time_ms=created_ms,
            )
        )


def assert_every_method_needs_a_key(
    start_collector: Callable[..., Collector],
    store: str,
    stub_class: type,
    module: Any,
    service: str,
) -> None:
    """Each method of ``service`` refuses a call without the key (UNAUTHENTICATED) and
    serves one with it (any other outcome: empty requests may be INVALID_ARGUMENT)."""
    collector = start_collector(store, api_keys=("k",))
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
        stub = stub_class(channel)
        methods = module.DESCRIPTOR.services_by_name[service].methods
        assert methods
        for method in methods:
            request = getattr(module, method.input_type.name)()
            assert _status(stub, method, request, None) == grpc.StatusCode.UNAUTHENTICATED, (
                method.name
            )
            with_key = _status(stub, method, request, (("authorization", "Bearer k"),))
            assert with_key != grpc.StatusCode.UNAUTHENTICATED, method.name


def _status(stub: Any, method: Any, request: Any, metadata: Any) -> grpc.StatusCode:
    """The status one call of ``method`` ends with (a stream is read to its end)."""
    try:
        reply = getattr(stub, method.name)(request, metadata=metadata, timeout=10)
        if method.server_streaming:
            list(reply)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def api(collector: Collector) -> Iterator[Api]:
    with Api(collector) as client:
        yield client


# (key, experiment, root name, start offset in ms, tags, feedback "quality")
SEED = [
    ("a1", "alpha", "chat", 10, {"env": "prod"}, 0.9),
    ("a2", "alpha", "chat", 20, {"env": "dev"}, 0.2),
    ("a3", "alpha", "tool", 30, {"env": "prod"}, None),
    ("a4", "alpha", "chat", 40, {}, 0.7),
    ("b1", "beta", "chat", 15, {"env": "prod"}, 0.95),
    ("b2", "beta", "tool", 25, {}, None),
    ("b3", "beta", "agent", 35, {"env": "prod"}, 0.1),
]


@pytest.fixture
def seeded(collector: Collector, api: Api) -> dict[str, str]:
    """The SEED traces, ingested in list order; key → trace id (plus experiment ids)."""
    ids: dict[str, str] = {}
    for key, experiment, name, offset, tags, quality in SEED:
        trace_id, spans = simple_trace(name, T0_MS + offset)
        send_traces(collector, [spans], experiment=experiment)
        ids[key] = trace_id
        for tag, value in tags.items():
            api.traces.SetTraceTag(
                traces_pb2.SetTraceTagRequest(trace_id=trace_id, key=tag, value=value)
            )
        if quality is not None:
            add_feedback(collector, trace_id, "quality", quality)
    ids["alpha"], ids["beta"] = api.experiment_id("alpha"), api.experiment_id("beta")
    return ids


# -- search: scoping, filters, order, pages --------------------------------------------------

SEARCHES = [  # (request fields, expected keys in order)
    ({}, "b3 b2 b1 a4 a3 a2 a1"),  # newest ingest first
    ({"experiment_ids": ["alpha"]}, "a4 a3 a2 a1"),
    ({"experiment_ids": ["alpha", "beta", "0"]}, "b3 b2 b1 a4 a3 a2 a1"),
    ({"filter": "tags.env = 'prod'"}, "b3 b1 a3 a1"),
    ({"filter": "feedback.quality >= 0.5"}, "b1 a4 a1"),
    (
        {
            "filter": f"attributes.timestamp_ms >= {T0_MS + 15} AND "
            f"attributes.timestamp_ms < {T0_MS + 35}"
        },
        "b2 b1 a3 a2",
    ),
    ({"order_by": ["attributes.timestamp_ms ASC"]}, "a1 b1 a2 b2 a3 b3 a4"),
    ({"order_by": ["attributes.name"]}, "b3 b1 a4 a2 a1 b2 a3"),  # ties: newest ingest first
    ({"order_by": ["tags.env DESC", "attributes.timestamp_ms"]}, "a1 b1 a3 b3 a2 b2 a4"),
    (
        {
            "experiment_ids": ["alpha"],
            "filter": "attributes.name = 'chat'",
            "order_by": ["attributes.timestamp_ms DESC"],
        },
        "a4 a2 a1",
    ),
    ({"filter": "tags.env = 'staging'"}, ""),
]


def _resolve(fields: dict[str, Any], seeded: dict[str, str]) -> dict[str, Any]:
    if "experiment_ids" in fields:
        fields = {**fields, "experiment_ids": [seeded.get(e, e) for e in fields["experiment_ids"]]}
    return fields


def test_search_scopes_filters_orders_and_pages(api: Api, seeded: dict[str, str]) -> None:
    key_of = {trace_id: key for key, trace_id in seeded.items()}

    def keys(pages: Sequence[traces_pb2.SearchTracesPage]) -> str:
        return " ".join(key_of.get(trace_id, trace_id) for trace_id in ids_of(pages))

    for fields, expected in SEARCHES:
        request = _resolve(fields, seeded)
        pages = api.search(page_size=2, **request)
        assert keys(pages) == expected, fields
        assert all(len(page.traces) <= 2 for page in pages), fields
        assert [bool(p.next_page_token) for p in pages] == [True] * (len(pages) - 1) + [False]
        assert keys(api.search(**request)) == expected, fields  # default page size: 1 page


def test_max_results_caps_a_call_and_tokens_resume_it(api: Api, seeded: dict[str, str]) -> None:
    order = ["attributes.timestamp_ms ASC"]
    expected = [seeded[key] for key in ["a1", "b1", "a2", "b2", "a3", "b3", "a4"]]
    seen, token, calls = [], "", 0
    while True:
        pages = api.search(order_by=order, page_size=2, max_results=3, page_token=token)
        assert sum(len(page.traces) for page in pages) <= 3
        seen += ids_of(pages)
        calls += 1
        token = pages[-1].next_page_token
        if not token:
            break
    assert seen == expected and calls == 3

    first = api.search(order_by=order, max_results=2)[-1].next_page_token
    for fields in (
        {"order_by": ["attributes.name"]},
        {"filter": "tags.env = 'prod'"},
        {"order_by": order, "experiment_ids": [seeded["alpha"]]},
    ):
        error = rpc_error(api.search, page_token=first, **fields)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "another search" in error.details()
    error = rpc_error(api.search, page_token="not-a-token!")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()


BAD_SEARCHES = [  # (request fields, a fragment of the message)
    ({"filter": "attributes.name = "}, "^"),
    ({"filter": "tags.env = prod"}, "quoted"),
    ({"order_by": ["attributes.text"]}, "cannot sort"),
    ({"experiment_ids": ["alpha"]}, "not an experiment id"),
    ({"page_size": -1}, "page_size"),
    ({"max_results": 0}, "max_results"),
]


def test_bad_search_arguments_are_invalid_argument(api: Api) -> None:
    for fields, fragment in BAD_SEARCHES:
        error = rpc_error(api.search, **fields)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, fields
        assert fragment in error.details(), (fields, error.details())


# -- paging while the store changes -----------------------------------------------------------


def stored_trace_ids(collector: Collector) -> set[str]:
    return set(trace_rows(collector.engine))


@pytest.mark.parametrize(
    "order_by", [[], ["attributes.timestamp_ms DESC"]], ids=["ingest-order", "start-time"]
)
def test_paging_is_stable_while_traces_arrive(
    collector: Collector, api: Api, order_by: list[str]
) -> None:
    send_traces(collector, [simple_trace(f"t{i}", T0_MS + i)[1] for i in range(12)])
    stop = threading.Event()
    sender = SpanSender(
        lambda: GrpcSender(f"127.0.0.1:{collector.grpc_port}"),
        generated_traces(seed=3, spans_per_trace=2, traces_per_request=2),
        stop,
    )
    sender.start()
    try:
        wait_until(lambda: sender.acked_requests, 10, "a first concurrent export")
        before = stored_trace_ids(collector)
        seen: list[str] = []
        token, existing_at_start = "", None
        while True:
            acked = sender.acked_requests
            pages = api.search(order_by=order_by, page_size=3, max_results=3, page_token=token)
            existing_at_start = existing_at_start or stored_trace_ids(collector)
            seen += ids_of(pages)
            token = pages[-1].next_page_token
            if not token:
                break
            wait_until(
                lambda acked=acked: sender.acked_requests > acked, 10, "an export between pages"
            )
    finally:
        stop.set()
        sender.join(10)
    assert not sender.failures
    assert len(seen) == len(set(seen)), "a trace was repeated"
    assert before <= set(seen), "a trace that existed before the search was skipped"
    assert set(seen) <= existing_at_start, "a trace that arrived during paging was returned"
    assert len(stored_trace_ids(collector)) > len(existing_at_start) + 3


def test_a_late_root_span_does_not_make_its_trace_repeat(collector: Collector, api: Api) -> None:
    traces = []  # (trace id, root span id): only a child is sent at first
    for i in range(6):
        trace_id, root_id = new_trace_id(), new_span_id()
        send_traces(
            collector,
            [[make_span("step", trace_id, parent=root_id, start_ns=(T0_MS + 100 + i) * NS_PER_MS)]],
        )
        traces.append((trace_id, root_id))
    pages = api.search(page_size=2, max_results=2)
    seen = ids_of(pages)
    send_traces(
        collector,
        [
            [make_span("root", trace_id, span_id=root_id, start_ns=(T0_MS - i) * NS_PER_MS)]
            for i, (trace_id, root_id) in enumerate(traces)
        ],
    )
    seen += ids_of(api.search(page_size=2, page_token=pages[-1].next_page_token))
    assert sorted(seen) == sorted(t.hex() for t, _ in traces)
    moved = api.search()[0].traces
    assert {t.info.request_time for t in moved} == {T0_MS - i for i in range(6)}
    assert {t.info.state for t in moved} == {traces_pb2.TraceInfo.OK}


def test_statements_per_page_do_not_grow_with_the_page(collector: Collector, api: Api) -> None:
    traces = [simple_trace(f"t{i}", T0_MS + i) for i in range(50)]
    send_traces(collector, [[span for _, spans in traces for span in spans]])
    with Session(collector.engine) as session, session.begin():
        for trace_id, _ in traces:
            session.add(TraceTag(trace_id=trace_id, key="env", value="prod"))
            session.add(TraceMetadata(trace_id=trace_id, key="version", value="1"))
    for trace_id, _ in traces:
        add_feedback(collector, trace_id, "quality", 1)

    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not threading.current_thread().name.startswith("spyglass-"):  # writer, retention
            statements.append(statement)

    event.listen(collector.engine, "before_cursor_execute", count)
    try:
        per_page = {}
        for size in (5, 50):
            statements.clear()
            pages = api.search(
                page_size=size, max_results=size, include_spans=True, filter="tags.env = 'prod'"
            )
            assert len(ids_of(pages)) == size
            assert all(len(t.spans) == 2 and t.info.assessments for t in pages[0].traces)
            per_page[size] = len(statements)
    finally:
        event.remove(collector.engine, "before_cursor_execute", count)
    assert per_page[5] == per_page[50] <= 6, per_page  # (BEGIN,) rows, tags, metadata, …


# -- reading traces ---------------------------------------------------------------------------


def test_trace_info_spans_tags_metadata_and_assessments(collector: Collector, api: Api) -> None:
    trace_id = new_trace_id()
    root = make_span(
        "answer",
        trace_id,
        start_ns=T0_MS * NS_PER_MS,
        duration_ns=250 * NS_PER_MS,
        attributes={
            "input.value": '{"question": "refund?"}',
            "output.value": "Within 30 days",
            "session.id": "s-1",
            "user.id": "u-1",
        },
        status_code=STATUS_ERROR,
        status_message="boom",
    )
    child = make_span(
        "chat",
        trace_id,
        parent=root,
        start_ns=(T0_MS + 10) * NS_PER_MS,
        duration_ns=100 * NS_PER_MS,
        attributes=llm_attrs(10, 20),
    )
    send_traces(collector, [[child], [root]])  # the root arrives last
    hex_id = trace_id.hex()
    api.traces.SetTraceTag(traces_pb2.SetTraceTagRequest(trace_id=hex_id, key="env", value="prod"))
    api.traces.SetTraceMetadata(
        traces_pb2.SetTraceMetadataRequest(
            trace_id=hex_id, metadata={"version": "2", "commit": "abc"}
        )
    )
    add_feedback(collector, hex_id, "later", 1, created_ms=T0_MS + 2)
    add_feedback(collector, hex_id, "earlier", {"ok": True}, created_ms=T0_MS + 1)

    trace = api.traces.GetTrace(traces_pb2.GetTraceRequest(trace_id=hex_id.upper()))
    info = trace.info
    assert (info.trace_id, info.experiment_id, info.request_time) == (hex_id, "0", T0_MS)
    assert info.execution_duration_ms == 250 and info.state == traces_pb2.TraceInfo.ERROR
    assert info.name == "answer" and "refund?" in info.request_preview
    assert "Within 30 days" in info.response_preview
    assert (info.session_id, info.user_id) == ("s-1", "u-1")
    usage = info.token_usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (10, 20, 30)
    assert info.cost > 0 and (info.span_count, info.error_count) == (2, 1)
    assert info.ingest_sequence == trace_rows(collector.engine)[hex_id].id
    assert dict(info.tags) == {"env": "prod"}
    assert dict(info.trace_metadata) == {"version": "2", "commit": "abc"}
    assert [a.name for a in info.assessments] == ["earlier", "later"]
    assert info.assessments[0].feedback.value_json == '{"ok": true}'

    assert [s.name for s in trace.spans] == ["answer", "chat"]  # start-time order
    root_span, child_span = trace.spans
    assert not root_span.HasField("parent_span_id")
    assert child_span.parent_span_id == root_span.span_id == root.span_id.hex()
    assert root_span.status_code == traces_pb2.Span.STATUS_CODE_ERROR
    assert root_span.status_message == "boom"
    assert json.loads(root_span.attributes)["session.id"] == "s-1"
    assert child_span.model == "gpt-4o-mini" and child_span.token_usage.total_tokens == 30
    assert not root_span.token_usage.HasField("total_tokens")

    [light] = api.search()[0].traces
    assert light.info == info and not light.spans
    [full] = api.search(include_spans=True)[0].traces
    assert full == trace


def test_get_and_batch_get(collector: Collector, api: Api) -> None:
    stored = [simple_trace("t", T0_MS)[1] for _ in range(2)]
    send_traces(collector, stored)
    first, second = (spans[0].trace_id.hex() for spans in stored)
    unknown = new_trace_id().hex()

    error = rpc_error(api.traces.GetTrace, traces_pb2.GetTraceRequest(trace_id=unknown))
    assert error.code() == grpc.StatusCode.NOT_FOUND and unknown in error.details()
    error = rpc_error(api.traces.GetTrace, traces_pb2.GetTraceRequest(trace_id="xyz"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "32 hex" in error.details()

    reply = api.traces.BatchGetTraces(
        traces_pb2.BatchGetTracesRequest(trace_ids=[second, unknown, first])
    )
    assert [t.info.trace_id for t in reply.traces] == [second, first]
    assert all(len(t.spans) == 2 for t in reply.traces)


def test_assessments_logged_before_spans_appear_once_the_spans_do(
    collector: Collector, api: Api
) -> None:
    trace_id, spans = simple_trace("late", T0_MS)
    add_feedback(collector, trace_id, "quality", 0.8)
    error = rpc_error(api.traces.GetTrace, traces_pb2.GetTraceRequest(trace_id=trace_id))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert ids_of(api.search(filter="feedback.quality > 0")) == []
    assert not api.traces.BatchGetTraces(
        traces_pb2.BatchGetTracesRequest(trace_ids=[trace_id])
    ).traces

    send_traces(collector, [spans])
    trace = api.traces.GetTrace(traces_pb2.GetTraceRequest(trace_id=trace_id))
    assert [a.feedback.value_json for a in trace.info.assessments] == ["0.8"]
    assert ids_of(api.search(filter="feedback.quality > 0")) == [trace_id]


# -- tags and metadata ------------------------------------------------------------------------


def test_tags_and_metadata_are_upserted_and_checked(collector: Collector, api: Api) -> None:
    trace_id, spans = simple_trace("t", T0_MS)
    send_traces(collector, [spans])
    t = api.traces

    def tags() -> dict[str, str]:
        return dict(t.GetTrace(traces_pb2.GetTraceRequest(trace_id=trace_id)).info.tags)

    t.SetTraceTag(traces_pb2.SetTraceTagRequest(trace_id=trace_id, key="env", value="dev"))
    t.SetTraceTag(traces_pb2.SetTraceTagRequest(trace_id=trace_id, key="env", value="prod"))
    t.SetTraceTag(traces_pb2.SetTraceTagRequest(trace_id=trace_id, key="a.b c", value=""))
    assert tags() == {"env": "prod", "a.b c": ""}
    t.DeleteTraceTag(traces_pb2.DeleteTraceTagRequest(trace_id=trace_id, key="env"))
    assert tags() == {"a.b c": ""}

    t.SetTraceMetadata(
        traces_pb2.SetTraceMetadataRequest(trace_id=trace_id, metadata={"v": "1", "w": "1"})
    )
    t.SetTraceMetadata(traces_pb2.SetTraceMetadataRequest(trace_id=trace_id, metadata={"v": "2"}))
    info = t.GetTrace(traces_pb2.GetTraceRequest(trace_id=trace_id)).info
    assert dict(info.trace_metadata) == {"v": "2", "w": "1"}

    unknown = new_trace_id().hex()
    failures = {
        "no such tag": (
            t.DeleteTraceTag,
            traces_pb2.DeleteTraceTagRequest(trace_id=trace_id, key="env"),
            grpc.StatusCode.NOT_FOUND,
            "no tag 'env'",
        ),
        "unknown trace": (
            t.SetTraceTag,
            traces_pb2.SetTraceTagRequest(trace_id=unknown, key="k", value="v"),
            grpc.StatusCode.NOT_FOUND,
            unknown,
        ),
        "unknown trace metadata": (
            t.SetTraceMetadata,
            traces_pb2.SetTraceMetadataRequest(trace_id=unknown, metadata={"k": "v"}),
            grpc.StatusCode.NOT_FOUND,
            unknown,
        ),
        "empty key": (
            t.SetTraceTag,
            traces_pb2.SetTraceTagRequest(trace_id=trace_id, key="", value="v"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "must not be empty",
        ),
        "long key": (
            t.SetTraceMetadata,
            traces_pb2.SetTraceMetadataRequest(trace_id=trace_id, metadata={"k" * 251: "v"}),
            grpc.StatusCode.INVALID_ARGUMENT,
            "the limit is 250",
        ),
    }
    for case, (method, request, code, fragment) in failures.items():
        error = rpc_error(method, request)
        assert (error.code(), fragment in error.details()) == (code, True), (case, error)
    t.SetTraceTag(traces_pb2.SetTraceTagRequest(trace_id=trace_id, key="k" * 250, value="v"))


# -- deleting ---------------------------------------------------------------------------------


def rows_per_table(collector: Collector, trace_ids: Sequence[str]) -> dict[str, int]:
    """How many rows each table holds for these traces."""
    counts = {}
    with collector.engine.connect() as connection:
        for model in (TraceRow, SpanRow, TraceTag, TraceMetadata, AssessmentRow):
            counts[model.__tablename__] = connection.scalar(
                select(func.count()).select_from(model).where(model.trace_id.in_(trace_ids))
            )
    return counts


def annotated_traces(
    collector: Collector, api: Api, starts_ms: Sequence[int], experiment: str | None = None
) -> list[str]:
    """Traces starting at ``starts_ms``, each with a tag, a metadata entry and a feedback."""
    traces = [simple_trace("t", start) for start in starts_ms]
    send_traces(collector, [spans for _, spans in traces], experiment=experiment)
    for trace_id, _ in traces:
        api.traces.SetTraceTag(traces_pb2.SetTraceTagRequest(trace_id=trace_id, key="k", value="v"))
        api.traces.SetTraceMetadata(
            traces_pb2.SetTraceMetadataRequest(trace_id=trace_id, metadata={"m": "1"})
        )
        add_feedback(collector, trace_id, "quality", 1)
    return [trace_id for trace_id, _ in traces]


def test_delete_by_ids_takes_everything_of_those_traces(collector: Collector, api: Api) -> None:
    gone_a, gone_b, kept = annotated_traces(collector, api, [T0_MS] * 3)
    reply = api.traces.DeleteTraces(
        traces_pb2.DeleteTracesRequest(trace_ids=[gone_a, gone_b, new_trace_id().hex()])
    )
    assert reply.deleted_count == 2
    assert set(rows_per_table(collector, [gone_a, gone_b]).values()) == {0}
    assert rows_per_table(collector, [kept]) == {
        "traces": 1,
        "spans": 2,
        "trace_tags": 1,
        "trace_metadata": 1,
        "assessments": 1,
    }


def test_delete_by_experiment_and_time(collector: Collector, api: Api) -> None:
    old = annotated_traces(collector, api, [T0_MS + 2, T0_MS, T0_MS + 1], experiment="alpha")
    new = annotated_traces(collector, api, [T0_MS + 100, T0_MS + 101], experiment="alpha")
    other = annotated_traces(collector, api, [T0_MS], experiment="beta")
    alpha = api.experiment_id("alpha")

    def delete(**fields: Any) -> int:
        return api.traces.DeleteTraces(traces_pb2.DeleteTracesRequest(**fields)).deleted_count

    assert delete(experiment_id=alpha, max_timestamp_ms=T0_MS + 50, max_traces=1) == 1
    assert rows_per_table(collector, [old[1]])["traces"] == 0  # the oldest went first
    assert delete(experiment_id=alpha, max_timestamp_ms=T0_MS + 50) == 2
    assert set(rows_per_table(collector, old).values()) == {0}
    assert rows_per_table(collector, new + other)["assessments"] == 3
    assert set(trace_rows(collector.engine)) == set(new + other)

    invalid = [
        {},
        {"trace_ids": [other[0]], "experiment_id": alpha},
        {"experiment_id": alpha},
        {"max_timestamp_ms": T0_MS},
        {"experiment_id": alpha, "max_timestamp_ms": T0_MS, "max_traces": 0},
        {"trace_ids": ["nope"]},
    ]
    for fields in invalid:
        error = rpc_error(delete, **fields)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, fields
    error = rpc_error(delete, experiment_id="999", max_timestamp_ms=T0_MS)
    assert error.code() == grpc.StatusCode.NOT_FOUND and "999" in error.details()


# -- auth -------------------------------------------------------------------------------------


def test_every_trace_method_needs_the_api_key(
    start_collector: Callable[..., Collector], store_url: str
) -> None:
    assert_every_method_needs_a_key(
        start_collector, store_url, traces_pb2_grpc.TraceServiceStub, traces_pb2, "TraceService"
    )
