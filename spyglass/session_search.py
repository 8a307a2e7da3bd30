"""``search_sessions``: the sessions (multi-turn conversations) of an experiment, as
:class:`SessionInfo` objects or a DataFrame.

A session is the experiment's traces that share a session id, set with
``spyglass.update_current_trace(session_id=...)`` or the ``session.id`` span attribute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from spyglass import session
from spyglass.errors import InvalidArgumentError
from spyglass.extras import require_extra
from spyglass.score_means import ScoreMean
from spyglass.v1 import traces_pb2, traces_pb2_grpc

PAGE_SIZE = 500
COLUMNS = [
    "session_id",
    "user_id",
    "turns",
    "start_time",
    "end_time",
    "duration_ms",
    "first_trace_id",
    "first_request",
    "last_response",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "error_turns",
    "feedback",
]


@dataclass(frozen=True)
class SessionInfo:
    """One session's summary. Times are ms since the epoch; ``first_request`` and
    ``last_response`` are JSON text previews (possibly truncated) of the first trace's
    request and the latest trace's response; ``feedback`` has, per feedback name, the mean
    over the session's traces with its scored and error counts (str() gives
    ``0.750 (4 scored, 1 error)``)."""

    session_id: str
    experiment_id: str
    user_id: str | None
    turns: int
    start_time: int
    end_time: int | None
    duration_ms: int | None
    first_trace_id: str
    first_request: str | None
    last_response: str | None
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: float
    error_turns: int
    feedback: dict[str, ScoreMean] = field(default_factory=dict)

    @classmethod
    def from_proto(cls, m: traces_pb2.Session) -> SessionInfo:
        def opt(name: str) -> Any:
            return getattr(m, name) if m.HasField(name) else None

        return cls(
            session_id=m.session_id,
            experiment_id=m.experiment_id,
            user_id=opt("user_id"),
            turns=m.trace_count,
            start_time=m.start_time_ms,
            end_time=opt("end_time_ms"),
            duration_ms=opt("duration_ms"),
            first_trace_id=m.first_trace_id,
            first_request=opt("first_request_preview"),
            last_response=opt("last_response_preview"),
            input_tokens=m.token_usage.input_tokens,
            output_tokens=m.token_usage.output_tokens,
            total_tokens=m.token_usage.total_tokens,
            cost=m.cost,
            error_turns=m.error_trace_count,
            feedback={
                f.name: ScoreMean(
                    name=f.name,
                    mean=f.mean if f.HasField("mean") else math.nan,
                    scored=f.scored_count,
                    errors=f.error_count,
                )
                for f in m.feedback
            },
        )


def search_sessions(
    experiment_id: str | None = None,
    filter_string: str | None = None,
    max_results: int | None = None,
    page_token: str | None = None,
    return_type: Literal["pandas", "list"] = "pandas",
) -> Any:
    """Sessions of ``experiment_id`` (None: the active experiment), newest first.

    ``filter_string`` is a trace filter (``user.id = 'u-1'``, ``feedback.correct < 0.5``):
    a session is listed when at least one of its traces matches, and is summarised over all
    of them. ``max_results=None`` returns every session (paging under the hood).
    """
    if return_type not in ("pandas", "list"):
        raise InvalidArgumentError(f"return_type must be 'pandas' or 'list', not {return_type!r}")
    if max_results is not None and max_results < 1:
        raise InvalidArgumentError(
            f"max_results must be at least 1, got {max_results}; leave it unset for all"
        )
    if return_type == "pandas":
        require_extra(
            "evaluator", "search_sessions(return_type='pandas') (the default)", modules=("pandas",)
        )
    session.run_before_read()
    client = session.client()
    request = traces_pb2.SearchSessionsRequest(
        experiment_id=str(experiment_id) if experiment_id else session.active_experiment_id(),
        filter=filter_string or "",
        max_results=min(PAGE_SIZE, max_results or PAGE_SIZE),
        page_token=page_token or "",
    )
    stub = client.stub(traces_pb2_grpc.TraceServiceStub)
    found = client.collect(stub.SearchSessions, request, "sessions", max_results)
    sessions = [SessionInfo.from_proto(m) for m in found]
    if return_type == "list":
        return sessions
    import pandas as pd

    return pd.DataFrame([[getattr(s, c) for c in COLUMNS] for s in sessions], columns=COLUMNS)
