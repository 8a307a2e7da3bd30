"""Sessions: multi-turn conversations, the traces of an experiment that share a session id.

* ``GET /experiments/{experiment_id}/sessions``: the experiment's sessions newest first (first
  input, turns, start, duration, tokens, cost, feedback means with their scored and error
  counts), narrowed by a trace filter (``user.id = 'u-1'``), one keyset page at a time
  (``TraceService/SearchSessions``).
* ``GET /sessions/{session_id}?experiment={experiment_id}``: one session as the conversation,
  turn by turn: each turn's request and response rendered as chat (the trace view's
  :mod:`span_content` shapes and ``_span_io.html`` macros), linked to its trace. The turns are
  the session's traces oldest first (``SearchTraces`` with ``session.id = '…'``), one page of
  :data:`TURNS_PER_PAGE` at a time.

Every view is a plain URL; the state (filter, page token) lives in the query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import grpc
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from spyglass.collector.api.local_calls import ApiCallError
from spyglass.collector.ui.app import ui_of
from spyglass.collector.ui.pages.experiments import experiment_of, quoted
from spyglass.collector.ui.pages.span_content import Message, Shaped, as_text, shape
from spyglass.collector.ui.pages.traces import preview
from spyglass.score_means import mean_text
from spyglass.v1 import experiments_pb2, traces_pb2

PAGE_SIZE = 50
TURNS_PER_PAGE = 100


@dataclass(frozen=True)
class SessionRow:
    """One session as the list shows it."""

    session: traces_pb2.Session
    href: str
    first_input: str
    feedback: list[tuple[str, str]]  # (name, "0.750 (4 scored, 1 error)")


@dataclass(frozen=True)
class Turn:
    """One trace of a session as the conversation shows it."""

    number: int
    info: traces_pb2.TraceInfo
    chat: Shaped  # the turn's new request messages, then the response's
    feedback: list[tuple[str, str]] = field(default_factory=list)  # (name, value text)


def session_href(session_id: str, experiment_id: str) -> str:
    """The session view's URL (the id may hold any character)."""
    return f"/sessions/{quote(session_id, safe='')}?{urlencode({'experiment': experiment_id})}"


def feedback_texts(session: traces_pb2.Session) -> list[tuple[str, str]]:
    return [
        (f.name, mean_text(f.mean if f.HasField("mean") else None, f.scored_count, f.error_count))
        for f in session.feedback
    ]


# -- the list --------------------------------------------------------------------------------


async def sessions_page(request: Request) -> Response:
    ui = ui_of(request)
    experiment = await experiment_of(request)
    text = request.query_params.get("filter", "").strip()
    token = request.query_params.get("page", "")
    error = ""
    found = traces_pb2.SearchSessionsResponse()
    try:
        found = await ui.call(
            "TraceService",
            "SearchSessions",
            traces_pb2.SearchSessionsRequest(
                experiment_id=experiment.experiment_id,
                filter=text,
                max_results=PAGE_SIZE,
                page_token=token,
            ),
        )
    except ApiCallError as failed:
        if failed.code != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        error = failed.message
    base = f"/experiments/{experiment.experiment_id}/sessions"
    rows = [
        SessionRow(
            session=s,
            href=session_href(s.session_id, experiment.experiment_id),
            first_input=(
                input_text(s.first_request_preview) if s.HasField("first_request_preview") else ""
            ),
            feedback=feedback_texts(s),
        )
        for s in found.sessions
    ]

    def query(**changes: str) -> str:
        values = {"filter": text, "page": token, **changes}
        kept = {k: v for k, v in values.items() if v}
        return "?" + urlencode(kept) if kept else ""

    context = {
        "experiment": experiment,
        "tab": "sessions",
        "rows": rows,
        "filter": text,
        "error": error,
        "page": token,
        "first_url": base + query(page=""),
        "next_url": base + query(page=found.next_page_token) if found.next_page_token else "",
        "base": base,
    }
    return ui.render(request, "sessions.html", context, 400 if error else 200)


# -- one session -----------------------------------------------------------------------------


async def session_page(request: Request) -> Response:
    ui = ui_of(request)
    session_id = request.path_params["session_id"]
    experiment_id = request.query_params.get("experiment", "").strip()
    if not experiment_id:
        raise HTTPException(
            400,
            "Say which experiment the session belongs to: open it from an experiment's "
            "Sessions page (the URL needs ?experiment=<experiment id>).",
        )
    experiment = await ui.call(
        "ExperimentService",
        "GetExperiment",
        experiments_pb2.GetExperimentRequest(experiment_id=experiment_id),
    )
    condition = f"session.id = {quoted(session_id)}"
    summary = await ui.call(
        "TraceService",
        "SearchSessions",
        traces_pb2.SearchSessionsRequest(
            experiment_id=experiment.experiment_id, filter=condition, max_results=1
        ),
    )
    if not summary.sessions:
        raise HTTPException(404, f"Experiment {experiment.name} has no session {session_id!r}.")
    token = request.query_params.get("page", "")
    pages = await ui.call(
        "TraceService",
        "SearchTraces",
        traces_pb2.SearchTracesRequest(
            experiment_ids=[experiment.experiment_id],
            filter=condition,
            order_by=["attributes.timestamp_ms ASC"],
            page_size=TURNS_PER_PAGE,
            max_results=TURNS_PER_PAGE,
            page_token=token,
            include_spans=True,
        ),
    )
    first = _int(request.query_params.get("from"), 1)
    traces = [t for page in pages for t in page.traces]
    turns = [to_turn(first + i, trace) for i, trace in enumerate(traces)]
    next_token = pages[-1].next_page_token if pages else ""
    href = session_href(session_id, experiment.experiment_id)
    context = {
        "experiment": experiment,
        "tab": "sessions",
        "session": summary.sessions[0],
        "feedback": feedback_texts(summary.sessions[0]),
        "turns": turns,
        "first_url": href if token else "",
        "next_url": (
            f"{href}&{urlencode({'page': next_token, 'from': first + len(turns)})}"
            if next_token
            else ""
        ),
    }
    return ui.render(request, "session.html", context)


def to_turn(number: int, trace: traces_pb2.Trace) -> Turn:
    """A trace as one turn: its root span's request and response as chat messages."""
    info = trace.info
    root = next((s for s in trace.spans if not s.HasField("parent_span_id")), None)
    request_text = root.inputs if root is not None and root.HasField("inputs") else None
    response_text = root.outputs if root is not None and root.HasField("outputs") else None
    if request_text is None and info.HasField("request_preview"):
        request_text = info.request_preview
    if response_text is None and info.HasField("response_preview"):
        response_text = info.response_preview
    messages = _request_messages(request_text) + _response_messages(response_text)
    raw = {"request": _json(request_text), "response": _json(response_text)}
    return Turn(
        number=number,
        info=info,
        chat=Shaped("chat", messages=messages, value=raw),
        feedback=_feedback(info),
    )


def _request_messages(text: str | None) -> list[Message]:
    """What the user said in this turn: a chat request's messages after the last assistant
    reply (earlier ones are the history the app resent), or the request as one user
    message."""
    shaped = shape(text)
    if shaped.kind == "none":
        return []
    if shaped.kind == "chat":
        messages = shaped.messages
        last_reply = max(
            (i for i, m in enumerate(messages) if m.role in ("assistant", "ai")), default=-1
        )
        new = messages[last_reply + 1 :]
        return [m for m in new if m.role not in ("system", "developer")] or new
    return [Message(role="user", text=_readable(text))]


def input_text(text: str) -> str:
    """A request as one line for a list: what the user said in it (the text of its new user
    messages) when it is a chat request, else its preview."""
    said = [m.text for m in _request_messages(text) if m.text]
    return " / ".join(said) if said else _readable(text)


def _response_messages(text: str | None) -> list[Message]:
    shaped = shape(text)
    if shaped.kind == "none":
        return []
    if shaped.kind == "chat":
        return shaped.messages
    return [Message(role="assistant", text=_readable(text))]


def _readable(text: str | None) -> str:
    shown = preview(text)
    return shown if isinstance(shown, str) else as_text(shown)


def _feedback(info: traces_pb2.TraceInfo) -> list[tuple[str, str]]:
    """The turn's valid feedback: name and value (or the error)."""
    out = []
    for a in info.assessments:
        if not a.valid or a.WhichOneof("value") != "feedback":
            continue
        if a.feedback.HasField("value_json"):
            out.append((a.name, _readable(a.feedback.value_json)))
        else:
            error = a.feedback.error
            out.append((a.name, f"error: {error.error_message or error.error_code}"))
    return out


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _int(text: str | None, default: int) -> int:
    try:
        return max(1, int(text)) if text else default
    except ValueError:
        return default


def routes() -> list[BaseRoute]:
    return [
        Route("/experiments/{experiment_id}/sessions", sessions_page, methods=["GET"]),
        Route("/sessions/{session_id:path}", session_page, methods=["GET"]),
    ]
