"""Sessions through the query API (TraceService.SearchSessions) and the SDK, on real
collectors, SQLite and PostgreSQL.

What it proves, with spans sent as OTLP carrying ``session.id`` / ``user.id``:

* a session is every trace of the experiment with the same session id (traces of other
  experiments and traces without one are not part of it): turns, start/end/duration,
  tokens, cost, error turns, first request and last response;
* the feedback summary per name gives the mean over numeric values (booleans and yes/no as
  1/0) with the scored count and the error count beside it; invalid feedback is skipped;
* newest session first, keyset pages that give every session exactly once;
* a trace filter picks sessions with at least one matching trace and summarises them over
  all their traces; ``session.id`` and ``user.id`` work in SearchTraces' filters too;
* bad filters, tokens and experiments are errors with a message;
* ``spyglass.search_sessions`` returns the same as a list and as a DataFrame, and
  ``update_current_trace(session_id=, user_id=)`` makes a session the API lists.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from otlp_builders import STATUS_ERROR, make_span, new_trace_id
from sqlalchemy.orm import Session
from test_api_traces import NS_PER_MS, T0_MS, Api, rpc_error, send_traces

import spyglass
from spyglass import session as sdk_session
from spyglass.collector.server import Collector
from spyglass.collector.store.models import AssessmentRow
from spyglass.v1 import traces_pb2


def turn(
    start_ms: int,
    session_id: str | None,
    question: str,
    answer: str,
    *,
    user_id: str | None = None,
    error: bool = False,
    tokens: int = 10,
) -> tuple[str, list[Any]]:
    """One trace (root + LLM child) of a conversation; (trace id, spans)."""
    trace_id = new_trace_id()
    attributes: dict[str, Any] = {
        "spyglass.span.inputs": json.dumps({"question": question}),
        "spyglass.span.outputs": json.dumps(answer),
    }
    if session_id is not None:
        attributes["session.id"] = session_id
    if user_id is not None:
        attributes["user.id"] = user_id
    root = make_span(
        "chat",
        trace_id,
        start_ns=start_ms * NS_PER_MS,
        duration_ns=100 * NS_PER_MS,
        attributes=attributes,
        status_code=STATUS_ERROR if error else 0,
    )
    llm = make_span(
        "llm",
        trace_id,
        parent=root,
        start_ns=start_ms * NS_PER_MS + 1,
        duration_ns=50 * NS_PER_MS,
        attributes={
            "gen_ai.usage.input_tokens": tokens,
            "gen_ai.usage.output_tokens": tokens // 2,
        },
    )
    return trace_id.hex(), [root, llm]


def feedback(
    collector: Collector,
    trace_id: str,
    name: str,
    value: Any = None,
    *,
    error: str | None = None,
    valid: bool = True,
) -> None:
    """A feedback row as the assessment service stores it (a value, or an error)."""
    with Session(collector.engine) as db, db.begin():
        db.add(
            AssessmentRow(
                assessment_id=uuid.uuid4().hex,
                trace_id=trace_id,
                name=name,
                kind="feedback",
                value=None if error else json.dumps(value),
                error=json.dumps({"code": "SCORER_ERROR", "message": error}) if error else None,
                source_type="CODE",
                valid=valid,
                created_time_ms=T0_MS,
                last_update_time_ms=T0_MS,
            )
        )


@pytest.fixture
def api(collector: Collector) -> Iterator[Api]:
    with Api(collector) as client:
        yield client


@pytest.fixture
def conversations(collector: Collector, api: Api) -> dict[str, Any]:
    """Three sessions in experiment "conv", one trace without a session, and a session with
    the same id in another experiment. key → trace id, plus the experiment id."""
    ids: dict[str, Any] = {}
    plan = [  # key, start offset, session, user, error
        ("c1", 5, "s-c", None, False),
        ("a1", 10, "s-a", "u1", False),
        ("a2", 20, "s-a", None, False),
        ("a3", 30, "s-a", None, True),
        ("b1", 40, "s-b", "u2", False),
        ("c2", 50, "s-c", "u3", False),
        ("none", 60, None, "u1", False),
    ]
    for key, offset, session_id, user_id, error in plan:
        trace_id, spans = turn(
            T0_MS + offset, session_id, f"q-{key}", f"r-{key}", user_id=user_id, error=error
        )
        send_traces(collector, [spans], experiment="conv")
        ids[key] = trace_id
    other_id, spans = turn(T0_MS + 1, "s-a", "elsewhere", "elsewhere")
    send_traces(collector, [spans], experiment="other")
    feedback(collector, other_id, "helpful", 1.0)
    feedback(collector, ids["a1"], "helpful", 1.0)
    feedback(collector, ids["a2"], "helpful", 0)
    feedback(collector, ids["a3"], "helpful", error="judge timed out")
    feedback(collector, ids["a3"], "helpful", 1.0, valid=False)  # overridden: not counted
    feedback(collector, ids["a1"], "tone", "yes")
    feedback(collector, ids["a3"], "tone", False)
    feedback(collector, ids["a2"], "tone", "friendly")  # not a number: neither scored nor error
    ids["conv"] = api.experiment_id("conv")
    return ids


def search(api: Api, experiment: str, **fields: Any) -> traces_pb2.SearchSessionsResponse:
    return api.traces.SearchSessions(
        traces_pb2.SearchSessionsRequest(experiment_id=experiment, **fields), timeout=20
    )


def test_a_session_summarises_its_traces(api: Api, conversations: dict[str, Any]) -> None:
    found = search(api, conversations["conv"])
    assert [s.session_id for s in found.sessions] == ["s-b", "s-a", "s-c"]  # newest first
    assert found.next_page_token == ""
    s_a = found.sessions[1]
    assert s_a.experiment_id == conversations["conv"]
    assert s_a.trace_count == 3
    assert s_a.user_id == "u1"
    assert s_a.start_time_ms == T0_MS + 10
    assert s_a.end_time_ms == T0_MS + 130
    assert s_a.duration_ms == 120
    assert s_a.first_trace_id == conversations["a1"]
    assert json.loads(s_a.first_request_preview) == {"question": "q-a1"}
    assert json.loads(s_a.last_response_preview) == "r-a3"
    assert s_a.error_trace_count == 1
    assert (s_a.token_usage.input_tokens, s_a.token_usage.output_tokens) == (30, 15)
    summary = {f.name: f for f in s_a.feedback}
    assert list(summary) == ["helpful", "tone"]
    helpful = summary["helpful"]
    assert (helpful.mean, helpful.scored_count, helpful.error_count) == (0.5, 2, 1)
    tone = summary["tone"]
    assert (tone.mean, tone.scored_count, tone.error_count) == (0.5, 2, 0)
    s_c = found.sessions[2]
    assert (s_c.trace_count, s_c.user_id, s_c.duration_ms) == (2, "u3", 145)
    assert not s_c.feedback
    assert not s_c.HasField("last_response_preview") or s_c.last_response_preview
    assert found.sessions[0].user_id == "u2"


def test_pages_give_every_session_once(api: Api, conversations: dict[str, Any]) -> None:
    seen: list[str] = []
    token = ""
    for _ in range(5):
        page = search(api, conversations["conv"], max_results=1, page_token=token)
        assert len(page.sessions) <= 1
        seen += [s.session_id for s in page.sessions]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["s-b", "s-a", "s-c"]
    two = search(api, conversations["conv"], max_results=2)
    rest = search(api, conversations["conv"], max_results=2, page_token=two.next_page_token)
    assert [s.session_id for s in two.sessions] == ["s-b", "s-a"]
    assert [s.session_id for s in rest.sessions] == ["s-c"] and rest.next_page_token == ""
    error = rpc_error(
        search, api, conversations["conv"], filter="user.id = 'u1'", page_token=token or "x"
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


FILTERS = [
    ("session.id = 's-a'", ["s-a"]),
    ("user.id = 'u2'", ["s-b"]),
    ("user.id = 'u1'", ["s-a"]),  # the trace of u1 without a session is not a session
    ("user.id IN ('u2', 'u3')", ["s-b", "s-c"]),
    ("attributes.status = 'ERROR'", ["s-a"]),
    ("feedback.helpful < 0.5", ["s-a"]),
    ("session.id = 'nope'", []),
]


@pytest.mark.parametrize(("text", "expected"), FILTERS)
def test_filters_pick_sessions(
    api: Api, conversations: dict[str, Any], text: str, expected: list[str]
) -> None:
    found = search(api, conversations["conv"], filter=text)
    assert [s.session_id for s in found.sessions] == expected
    for session in found.sessions:  # summarised over all the session's traces
        assert session.trace_count == {"s-a": 3, "s-b": 1, "s-c": 2}[session.session_id]


def test_session_and_user_filter_traces(api: Api, conversations: dict[str, Any]) -> None:
    def keys(text: str) -> set[str]:
        pages = api.search(experiment_ids=[conversations["conv"]], filter=text)
        by_id = {v: k for k, v in conversations.items() if isinstance(v, str)}
        return {by_id[t.info.trace_id] for p in pages for t in p.traces}

    assert keys("session.id = 's-a'") == {"a1", "a2", "a3"}
    assert keys("user.id = 'u1'") == {"a1", "none"}
    assert keys("session.id IS NULL") == {"none"}
    assert keys("attributes.session_id = 's-b'") == {"b1"}


def test_bad_requests_say_what_is_wrong(api: Api, conversations: dict[str, Any]) -> None:
    bad_filter = rpc_error(search, api, conversations["conv"], filter="session.idd = 'x'")
    assert bad_filter.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "session.id" in (bad_filter.details() or "")
    missing = rpc_error(search, api, "987654")
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    negative = rpc_error(search, api, conversations["conv"], max_results=-1)
    assert negative.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture
def sdk(collector: Collector, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("SPYGLASS_", "OTEL_")):
            monkeypatch.delenv(name)
    sdk_session.configure(collector=f"127.0.0.1:{collector.grpc_port}")
    yield
    sdk_session._shutdown()


def test_the_sdk_makes_and_lists_sessions(sdk: None) -> None:
    spyglass.set_experiment("sdk-sessions")

    @spyglass.trace
    def chat(question: str, session_id: str) -> str:
        spyglass.update_current_trace(session_id=session_id, user_id="ada")
        return f"answer to {question}"

    for question in ("hi", "how are you", "bye"):
        chat(question, "conv-1")
    chat("alone", "conv-2")
    listed = spyglass.search_sessions(return_type="list")
    assert [(s.session_id, s.turns, s.user_id) for s in listed] == [
        ("conv-2", 1, "ada"),
        ("conv-1", 3, "ada"),
    ]
    assert json.loads(listed[1].first_request or "{}")["question"] == "hi"
    frame = spyglass.search_sessions(filter_string="session.id = 'conv-1'")
    assert list(frame["session_id"]) == ["conv-1"] and list(frame["turns"]) == [3]
    assert len(spyglass.search_sessions(max_results=1, return_type="list")) == 1


def test_the_json_api_serves_sessions(collector: Collector, conversations: dict[str, Any]) -> None:
    response = httpx.post(
        f"http://127.0.0.1:{collector.http_port}/api/v1/TraceService/SearchSessions",
        json={"experimentId": conversations["conv"], "filter": "user.id = 'u2'"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    (only,) = response.json()["sessions"]
    assert (only["sessionId"], only["traceCount"], only["userId"]) == ("s-b", 1, "u2")
