"""Reading assessments (expectations and feedback) as API messages.

Assessments are keyed by id and linked to a trace id without a foreign key: one logged
before its trace's spans arrive is kept, and shows up on the trace once the spans come.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from spyglass.collector.store.models import AssessmentRow
from spyglass.v1 import assessments_pb2 as pb

EXPECTATION, FEEDBACK = "expectation", "feedback"
SOURCE_TYPES = {name: value for name, value in pb.AssessmentSource.SourceType.items()
                if name != "SOURCE_TYPE_UNSPECIFIED"}
SOURCE_NAMES = {value: name for name, value in SOURCE_TYPES.items()}


def assessment_to_proto(row: AssessmentRow | Any) -> pb.Assessment:
    """One ``assessments`` row (ORM object or Core row) as the API message."""
    message = pb.Assessment(
        assessment_id=row.assessment_id, trace_id=row.trace_id, name=row.name,
        source=pb.AssessmentSource(source_type=SOURCE_TYPES.get(row.source_type, 0),
                                   source_id=row.source_id or ""),
        create_time_ms=row.created_time_ms, last_update_time_ms=row.last_update_time_ms,
        valid=bool(row.valid))
    for field in ("span_id", "rationale", "run_id", "overrides"):
        value = getattr(row, field)
        if value is not None:
            setattr(message, field, value)
    metadata = _metadata(row)
    if metadata:
        message.metadata.update(metadata)
    if row.kind == EXPECTATION:
        message.expectation.value_json = row.value if row.value is not None else "null"
    else:
        _fill_feedback(message.feedback, row)
    return message


def assessments_for_traces(connection: Connection,
                           trace_ids: Iterable[str]) -> dict[str, list[pb.Assessment]]:
    """Every assessment (valid or not) of each trace, oldest first, in one query per 500."""
    ids = sorted(set(trace_ids))
    out: dict[str, list[pb.Assessment]] = {trace_id: [] for trace_id in ids}
    for i in range(0, len(ids), 500):
        query = (select(AssessmentRow)
                 .where(AssessmentRow.trace_id.in_(ids[i:i + 500]))
                 .order_by(AssessmentRow.created_time_ms, AssessmentRow.assessment_id))
        for row in connection.execute(query):
            out[row.trace_id].append(assessment_to_proto(row))
    return out


def _fill_feedback(feedback: pb.Feedback, row: Any) -> None:
    if row.value is not None:
        feedback.value_json = row.value
    if row.error:
        error = json.loads(row.error)
        feedback.error.error_code = error.get("code", "") or ""
        feedback.error.error_message = error.get("message", "") or ""
        if error.get("stack"):
            feedback.error.stack_trace = error["stack"]


def _metadata(row: Any) -> dict[str, str]:
    # an ORM object names the column metadata_json (``metadata`` is SQLAlchemy's); a Core
    # row keeps the column's own name
    raw = row.metadata_json if isinstance(row, AssessmentRow) else row._mapping["metadata"]
    if not raw:
        return {}
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(raw).items()}
