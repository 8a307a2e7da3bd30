"""Sessions: the traces of one experiment grouped by their session id, summarised per session.

A session is every trace of the experiment with the same ``traces.session_id`` (filled from
the ``session.id`` / ``gen_ai.conversation.id`` span attributes). A search filter (the trace
filter language) picks sessions with at least one matching trace; each picked session is
then summarised over all its traces, so a filter on one turn does not hide the others.

Pages are newest session first: by the start of the session's first trace, ties broken by
session id, with keyset page tokens over those two values. A session's start only moves when
an older trace of it arrives late, so sessions rarely shift between pages. Each page costs
three statements whatever its size and however long its sessions: the grouped summaries, the
first and latest trace of each session (picked by window functions), and the feedback of the
page's traces.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, func, or_, select

from spyglass.collector.store.ids import parse_experiment_id, require_experiment
from spyglass.collector.store.models import AssessmentRow, TraceRow
from spyglass.collector.store.paging import decode_token, encode_token, fingerprint
from spyglass.collector.store.traces.filters import compile_filter
from spyglass.errors import InvalidArgumentError
from spyglass.v1 import common_pb2
from spyglass.v1 import traces_pb2 as pb

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 500
_NS_PER_MS = 1_000_000
_T = TraceRow.__table__.c
_A = AssessmentRow.__table__.c
_YES_NO = {"yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0}


@dataclass(frozen=True)
class SessionPage:
    """One page of sessions and the token resuming after it ("" when nothing follows)."""

    sessions: list[pb.Session]
    next_token: str


def search_sessions(
    engine: Engine, experiment_id: str, filter_text: str, max_results: int, page_token: str
) -> SessionPage:
    """The experiment's sessions matching ``filter_text``, newest first, one page.

    Raises InvalidArgumentError (bad id, size or token), InvalidFilterError (bad filter) and
    NotFoundError (no such experiment).
    """
    experiment = parse_experiment_id(experiment_id)
    if max_results < 0:
        raise InvalidArgumentError(f"max_results must not be negative, got {max_results}")
    limit = min(max_results or PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)
    condition = compile_filter(filter_text, engine.dialect.name)
    search = fingerprint("sessions", experiment, filter_text)
    in_experiment = and_(_T.experiment_id == experiment, _T.session_id.is_not(None))
    start = func.min(func.coalesce(_T.start_time_ns, 0))
    query = select(
        _T.session_id,
        start.label("start_ns"),
        func.max(_T.end_time_ns).label("end_ns"),
        func.count().label("turns"),
        func.sum(_T.input_tokens).label("input_tokens"),
        func.sum(_T.output_tokens).label("output_tokens"),
        func.sum(_T.total_tokens).label("total_tokens"),
        func.sum(_T.cost).label("cost"),
        func.sum(case((_T.status == "ERROR", 1), else_=0)).label("errors"),
    ).where(in_experiment)
    if condition is not None:
        matching = select(_T.session_id).where(in_experiment, condition)
        query = query.where(_T.session_id.in_(matching))
    query = query.group_by(_T.session_id)
    if page_token:
        after = decode_token(page_token, search).get("after")
        if not (isinstance(after, list) and len(after) == 2 and isinstance(after[0], int)):
            raise InvalidArgumentError(
                "page_token does not fit this search; start again without a page token"
            )
        query = query.having(
            or_(start < after[0], and_(start == after[0], _T.session_id < str(after[1])))
        )
    query = query.order_by(start.desc(), _T.session_id.desc()).limit(limit + 1)
    with engine.connect() as connection:
        require_experiment(connection, experiment)
        rows = connection.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        ids = [row.session_id for row in rows]
        ends = _first_and_last(connection, experiment, ids)
        feedback = _feedback(connection, experiment, ids)
    sessions = [_session(row, experiment, ends[row.session_id], feedback) for row in rows]
    token = ""
    if more and rows:
        token = encode_token({"q": search, "after": [rows[-1].start_ns, rows[-1].session_id]})
    return SessionPage(sessions, token)


def _session(
    row: Any,
    experiment: int,
    ends: dict[str, Any],
    feedback: dict[str, dict[str, list[Any]]],
) -> pb.Session:
    first, last = ends["first"], ends["last"]
    session = pb.Session(
        session_id=row.session_id,
        experiment_id=str(experiment),
        trace_count=row.turns,
        start_time_ms=int(row.start_ns) // _NS_PER_MS,
        first_trace_id=first.trace_id,
        token_usage=common_pb2.TokenUsage(
            input_tokens=int(row.input_tokens or 0),
            output_tokens=int(row.output_tokens or 0),
            total_tokens=int(row.total_tokens or 0),
        ),
        cost=float(row.cost or 0.0),
        error_trace_count=int(row.errors or 0),
    )
    if ends["user_id"] is not None:
        session.user_id = ends["user_id"]
    if row.end_ns is not None:
        session.end_time_ms = row.end_ns // _NS_PER_MS
        session.duration_ms = max(0, (row.end_ns - row.start_ns) // _NS_PER_MS)
    if first.request_preview is not None:
        session.first_request_preview = first.request_preview
    if last.response_preview is not None:
        session.last_response_preview = last.response_preview
    for name, (values, errors) in sorted(feedback.get(row.session_id, {}).items()):
        summary = pb.FeedbackSummary(name=name, scored_count=len(values), error_count=errors)
        if values:
            summary.mean = sum(values) / len(values)
        session.feedback.append(summary)
    return session


def _first_and_last(
    connection: Connection, experiment: int, session_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per session: its first and latest trace rows (by start, then ingest order) and the
    user id of its first trace that names one. Window functions pick at most three rows per
    session, however many turns it has."""
    out: dict[str, dict[str, Any]] = {}
    if not session_ids:
        return out
    started = func.coalesce(_T.start_time_ns, 0)

    def rank(*order: Any) -> Any:
        partition = (_T.experiment_id, _T.session_id)
        return func.row_number().over(partition_by=partition, order_by=order)

    ranked = (
        select(
            _T.experiment_id,
            _T.session_id,
            _T.trace_id,
            _T.user_id,
            _T.request_preview,
            _T.response_preview,
            rank(started, _T.id).label("first"),
            rank(started.desc(), _T.id.desc()).label("last"),
            rank(_T.user_id.is_(None), started, _T.id).label("user"),
        )
        .where(_T.session_id.in_(list(session_ids)))  # the session_id index finds them
        .subquery()
    )
    r = ranked.c
    query = select(ranked).where(
        r.experiment_id == experiment, or_(r.first == 1, r.last == 1, r.user == 1)
    )
    for row in connection.execute(query):
        entry = out.setdefault(row.session_id, {"first": row, "last": row, "user_id": None})
        if row.first == 1:
            entry["first"] = row
        if row.last == 1:
            entry["last"] = row
        if row.user == 1:
            entry["user_id"] = row.user_id
    return out


def _feedback(
    connection: Connection, experiment: int, session_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per session, per feedback name: ([numeric values], error count) over valid feedback."""
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    if not session_ids:
        return out
    query = (
        select(_T.session_id, _A.name, _A.value, _A.error)
        .select_from(AssessmentRow.__table__.join(TraceRow.__table__, _T.trace_id == _A.trace_id))
        .where(
            _T.experiment_id == experiment,
            _T.session_id.in_(list(session_ids)),
            _A.kind == "feedback",
            _A.valid.is_(True),
        )
    )
    for row in connection.execute(query):
        values, errors = out[row.session_id].get(row.name, ([], 0))
        if row.error is not None:
            errors += 1
        else:
            score = _score(row.value)
            if score is not None:
                values.append(score)
        out[row.session_id][row.name] = (values, errors)
    return out


def _score(text: str | None) -> float | None:
    """The number a stored feedback value stands for: numbers as themselves, booleans and
    yes/no as 1/0; None for anything else (text, lists, objects, missing)."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        return _YES_NO.get(value.strip().lower())
    return None
