"""Assessments (expectations and feedback) in the store: read as API messages, written and
edited for the AssessmentService.

Assessments are keyed by id and linked to a trace id without a foreign key: one logged
before its trace's spans arrive is kept, and shows up on the trace once the spans come.
Values are JSON text kept exactly as the client wrote it (checked to parse, never
re-serialized), so any JSON value reads back unchanged. Every write is one transaction
(``BEGIN IMMEDIATE`` on SQLite, so it queues behind the span writer instead of failing to
upgrade a read lock); a create is a single INSERT, as the evaluator writes one feedback per
scored row.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, select

from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.models import AssessmentRow
from spyglass.collector.store.text import check_length
from spyglass.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from spyglass.v1 import assessments_pb2 as pb

EXPECTATION, FEEDBACK = "expectation", "feedback"
SOURCE_TYPES = {
    name: value
    for name, value in pb.AssessmentSource.SourceType.items()
    if name != "SOURCE_TYPE_UNSPECIFIED"
}
SOURCE_NAMES = {value: name for name, value in SOURCE_TYPES.items()}


def assessment_to_proto(row: AssessmentRow | Any) -> pb.Assessment:
    """One ``assessments`` row (ORM object or Core row) as the API message."""
    message = pb.Assessment(
        assessment_id=row.assessment_id,
        trace_id=row.trace_id,
        name=row.name,
        source=pb.AssessmentSource(
            source_type=(
                row.source_type if row.source_type in SOURCE_TYPES else "SOURCE_TYPE_UNSPECIFIED"
            ),
            source_id=row.source_id or "",
        ),
        create_time_ms=row.created_time_ms,
        last_update_time_ms=row.last_update_time_ms,
        valid=bool(row.valid),
    )
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


def assessments_for_traces(
    connection: Connection, trace_ids: Iterable[str]
) -> dict[str, list[pb.Assessment]]:
    """Every assessment (valid or not) of each trace, oldest first, in one query per 500."""
    ids = sorted(set(trace_ids))
    out: dict[str, list[pb.Assessment]] = {trace_id: [] for trace_id in ids}
    for i in range(0, len(ids), 500):
        query = (
            select(AssessmentRow)
            .where(AssessmentRow.trace_id.in_(ids[i : i + 500]))
            .order_by(AssessmentRow.created_time_ms, AssessmentRow.assessment_id)
        )
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


# -- checking request values (pure: no database) ----------------------------------------

NAME_MAX = 256
SOURCE_ID_MAX = 256
RUN_ID_MAX = 64
DEFAULT_SOURCE = "CODE"  # AssessmentSource: "Not given; the server stores it as CODE."
# UpdateAssessment's mask paths: the proto's list plus the value sub-fields, so that a
# feedback's value and error can be changed one at a time
UPDATABLE_PATHS = (
    "name",
    "expectation",
    "expectation.value_json",
    "feedback",
    "feedback.value_json",
    "feedback.error",
    "rationale",
    "source",
    "metadata",
    "span_id",
    "run_id",
    "valid",
)
FIXED_PATHS = ("assessment_id", "trace_id", "create_time_ms", "last_update_time_ms", "overrides")
_TRACE_ID = re.compile(r"[0-9a-fA-F]{32}")
_SPAN_ID = re.compile(r"[0-9a-fA-F]{16}")


def check_trace_id(value: str, field: str = "trace_id") -> str:
    """``value`` as the store keeps trace ids (lower-case hex), or InvalidArgumentError."""
    if not _TRACE_ID.fullmatch(value):
        raise InvalidArgumentError(
            f"{field} {value!r} is not a trace id: expected 32 hex characters, e.g. "
            "'0af7651916cd43dd8448eb211c80319c'"
        )
    if value.strip("0") == "":
        raise InvalidArgumentError(
            f"{field} is all zeros, which OpenTelemetry reserves for "
            "'no trace'; give the id of a real trace"
        )
    return value.lower()


def check_span_id(value: str, field: str = "span_id") -> str | None:
    """A span id in lower-case hex; empty means none."""
    if value == "":
        return None
    if not _SPAN_ID.fullmatch(value) or value.strip("0") == "":
        raise InvalidArgumentError(
            f"{field} {value!r} is not a span id: expected 16 hex characters (not all zeros), "
            "e.g. 'b7ad6b7169203331'; leave it out for an assessment of the whole trace"
        )
    return value.lower()


def check_assessment_id(value: str, field: str = "assessment_id") -> str:
    """A non-empty assessment id."""
    if not value:
        raise InvalidArgumentError(f"{field} is empty; give the id CreateAssessment returned")
    return value


def check_name(value: str, field: str = "name") -> str:
    """An assessment name: 1 to 256 characters, not only blanks."""
    if not value.strip():
        raise InvalidArgumentError(
            f"{field} is empty; name what is assessed, e.g. 'factual_accuracy' or 'key_information'"
        )
    if len(value) > NAME_MAX:
        raise InvalidArgumentError(
            f"{field} has {len(value)} characters; at most {NAME_MAX} are allowed"
        )
    return value


def check_json(text: str, field: str) -> str:
    """``text`` unchanged if it is one JSON value (NaN and Infinity are not JSON)."""
    if not text.strip():
        raise InvalidArgumentError(
            f"{field} is empty; give a JSON value, e.g. '0.8', 'true', "
            "'\"helpful\"', '{\"k\": 1}' (and 'null' for no value)"
        )
    try:
        json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:  # JSONDecodeError is a ValueError, as is _reject_constant's
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise InvalidArgumentError(
            f"{field} is not valid JSON ({exc}): {shown!r}; strings need double quotes, "
            "e.g. '\"helpful\"'"
        ) from None
    return text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def source_columns(source: pb.AssessmentSource, field: str = "source") -> dict[str, Any]:
    """``source_type`` (a name; unspecified becomes CODE) and ``source_id`` columns."""
    if source.source_type == pb.AssessmentSource.SOURCE_TYPE_UNSPECIFIED:
        source_type = DEFAULT_SOURCE
    elif source.source_type in SOURCE_NAMES:
        source_type = SOURCE_NAMES[source.source_type]
    else:
        raise InvalidArgumentError(
            f"{field}.source_type {source.source_type} is not a known source type; use one "
            f"of {', '.join(SOURCE_TYPES)}"
        )
    return {
        "source_type": source_type,
        "source_id": check_length(source.source_id, SOURCE_ID_MAX, f"{field}.source_id"),
    }


def metadata_column(metadata: Any) -> str | None:
    """A string map as JSON object text (keys sorted); None when empty."""
    return json.dumps(dict(sorted(metadata.items())), ensure_ascii=False) if metadata else None


def error_column(error: pb.AssessmentError, field: str) -> str:
    """A feedback's error as the JSON text the store keeps: {code, message, stack}."""
    if not error.error_code and not error.error_message:
        raise InvalidArgumentError(
            f"{field} needs an error_code or an error_message saying why there is no value"
        )
    doc: dict[str, str] = {"code": error.error_code, "message": error.error_message}
    if error.HasField("stack_trace"):
        doc["stack"] = error.stack_trace
    return json.dumps(doc, ensure_ascii=False)


def feedback_columns(feedback: pb.Feedback, field: str) -> dict[str, Any]:
    """``value`` and ``error`` of a feedback, at least one of them set."""
    value = (
        check_json(feedback.value_json, f"{field}.value_json")
        if feedback.HasField("value_json")
        else None
    )
    error = error_column(feedback.error, f"{field}.error") if feedback.HasField("error") else None
    if value is None and error is None:
        raise InvalidArgumentError(f"{field} needs a value_json or an error (or both)")
    return {"value": value, "error": error}


def new_assessment_values(message: pb.Assessment, now_ms: int) -> dict[str, Any]:
    """The ``assessments`` row for CreateAssessment's ``message`` (by column name): checked,
    with a new id, the timestamps, valid = true and no ``overrides``."""
    field = "assessment"
    values: dict[str, Any] = {
        "assessment_id": new_assessment_id(),
        "trace_id": check_trace_id(message.trace_id, f"{field}.trace_id"),
        "span_id": (
            check_span_id(message.span_id, f"{field}.span_id")
            if message.HasField("span_id")
            else None
        ),
        **_common_columns(message, field),
        "run_id": (
            check_length(message.run_id, RUN_ID_MAX, f"{field}.run_id")
            if message.HasField("run_id")
            else None
        ),
        "valid": True,
        "overrides": None,
        "created_time_ms": now_ms,
        "last_update_time_ms": now_ms,
    }
    kind = message.WhichOneof("value")
    if kind == EXPECTATION:
        values.update(
            value=check_json(message.expectation.value_json, f"{field}.expectation.value_json"),
            error=None,
        )
    elif kind == FEEDBACK:
        values.update(feedback_columns(message.feedback, f"{field}.feedback"))
    else:
        raise InvalidArgumentError(
            f"{field} has neither expectation nor feedback; set exactly one of them"
        )
    values["kind"] = kind
    return values


def _common_columns(message: pb.Assessment, field: str) -> dict[str, Any]:
    return {
        "name": check_name(message.name, f"{field}.name"),
        "rationale": message.rationale if message.HasField("rationale") else None,
        "metadata": metadata_column(message.metadata),
        **source_columns(message.source, f"{field}.source"),
    }


def new_assessment_id() -> str:
    """A fresh, store-wide unique assessment id."""
    return "a-" + uuid.uuid4().hex


def updated_columns(
    current: dict[str, Any], message: pb.Assessment, paths: Sequence[str], now_ms: int
) -> dict[str, Any]:
    """The columns UpdateAssessment changes: those named by ``paths``, taken from
    ``message`` (a field in the mask but absent from the message is cleared), plus
    ``last_update_time_ms``. ``current`` is the stored row by column name."""
    _check_paths(paths)
    kind, aid = current["kind"], current["assessment_id"]
    field = "assessment"
    changes: dict[str, Any] = {}
    for path in dict.fromkeys(paths):
        if path.partition(".")[0] in (EXPECTATION, FEEDBACK):
            _check_same_kind(current, path, message.WhichOneof("value"))
        if path == "name":
            changes["name"] = check_name(message.name, f"{field}.name")
        elif path in ("expectation", "expectation.value_json"):
            changes["value"] = check_json(
                message.expectation.value_json, f"{field}.expectation.value_json"
            )
        elif path == "feedback":
            changes.update(feedback_columns(message.feedback, f"{field}.feedback"))
        elif path == "feedback.value_json":
            changes["value"] = (
                check_json(message.feedback.value_json, f"{field}.feedback.value_json")
                if message.feedback.HasField("value_json")
                else None
            )
        elif path == "feedback.error":
            changes["error"] = (
                error_column(message.feedback.error, f"{field}.feedback.error")
                if message.feedback.HasField("error")
                else None
            )
        elif path == "rationale":
            changes["rationale"] = message.rationale if message.HasField("rationale") else None
        elif path == "source":
            changes.update(source_columns(message.source, f"{field}.source"))
        elif path == "metadata":
            changes["metadata"] = metadata_column(message.metadata)
        elif path == "span_id":
            changes["span_id"] = (
                check_span_id(message.span_id, f"{field}.span_id")
                if message.HasField("span_id")
                else None
            )
        elif path == "run_id":
            changes["run_id"] = (
                check_length(message.run_id, RUN_ID_MAX, f"{field}.run_id")
                if message.HasField("run_id")
                else None
            )
        elif path == "valid":
            changes["valid"] = message.valid
    after = {**current, **changes}
    if kind == FEEDBACK and after["value"] is None and after["error"] is None:
        raise InvalidArgumentError(
            f"this update would leave feedback {aid} with neither a "
            "value_json nor an error; a feedback needs one of them"
        )
    changes["last_update_time_ms"] = now_ms
    return changes


def _check_paths(paths: Sequence[str]) -> None:
    updatable = ", ".join(UPDATABLE_PATHS)
    if not paths:
        raise InvalidArgumentError(
            f"update_mask is empty; list the fields to change, from: {updatable}"
        )
    for path in paths:
        if path in FIXED_PATHS:
            raise InvalidArgumentError(
                f"update_mask path {path!r} cannot be changed (ids and "
                f"timestamps are fixed); updatable paths: {updatable}"
            )
        if path not in UPDATABLE_PATHS:
            raise InvalidArgumentError(
                f"update_mask path {path!r} is not an assessment field "
                f"that can be updated; updatable paths: {updatable}"
            )


def _check_same_kind(current: dict[str, Any], path: str, sent: str | None) -> None:
    kind, wanted = current["kind"], path.partition(".")[0]
    if wanted != kind:
        problem = f"update_mask path {path!r} names {_a(wanted)}"
    elif sent not in (None, kind):
        problem = f"the request carries {_a(sent)}"
    else:
        return
    raise InvalidArgumentError(
        f"assessment {current['assessment_id']} is {_a(kind)} and its kind cannot change, but "
        f"{problem}; delete it and create {_a(_other(kind))} instead"
    )


def _a(kind: str) -> str:
    return f"an {kind}" if kind == EXPECTATION else f"a {kind}"


def _other(kind: str) -> str:
    return FEEDBACK if kind == EXPECTATION else EXPECTATION


# -- writing and reading single assessments -----------------------------------------------

_TABLE = AssessmentRow.__table__
_INSERT = _TABLE.insert()


def create_assessment(engine: Engine, message: pb.Assessment) -> pb.Assessment:
    """Store a new assessment (one INSERT) and return it as stored. The trace need not
    exist yet."""
    values = new_assessment_values(message, now_ms())
    with write_transaction(engine) as connection:
        connection.execute(_INSERT, values)
    return _as_proto(values)


def get_assessment(engine: Engine, trace_id: str, assessment_id: str) -> pb.Assessment:
    """One assessment of one trace, or NotFoundError."""
    trace_id, assessment_id = _check_ids(trace_id, assessment_id)
    with engine.connect() as connection:
        return assessment_to_proto(_fetch(connection, trace_id, assessment_id))


def update_assessment(
    engine: Engine, message: pb.Assessment, paths: Sequence[str]
) -> pb.Assessment:
    """Change the fields of ``message``'s assessment named by ``paths`` (see
    :func:`updated_columns`); return the assessment as stored afterwards."""
    trace_id, assessment_id = _check_ids(message.trace_id, message.assessment_id, "assessment.")
    with write_transaction(engine) as connection:
        current = dict(_fetch(connection, trace_id, assessment_id, lock=True)._mapping)
        changes = updated_columns(current, message, paths, now_ms())
        connection.execute(
            _TABLE.update().where(_TABLE.c.assessment_id == assessment_id).values(changes)
        )
    return _as_proto({**current, **changes})


def delete_assessment(engine: Engine, trace_id: str, assessment_id: str) -> None:
    """Delete one assessment of one trace, or NotFoundError."""
    trace_id, assessment_id = _check_ids(trace_id, assessment_id)
    with write_transaction(engine) as connection:
        deleted = connection.execute(
            _TABLE.delete().where(
                _TABLE.c.assessment_id == assessment_id, _TABLE.c.trace_id == trace_id
            )
        )
        if deleted.rowcount == 0:
            raise _not_found(connection, trace_id, assessment_id)


def override_feedback(engine: Engine, request: pb.OverrideFeedbackRequest) -> pb.Assessment:
    """Replace a valid feedback by a corrected one, in one transaction: the new feedback
    (same trace, span, name and run; ``overrides`` = the old id) is inserted and the old
    one marked invalid. Expectations and already-invalid feedback are FailedPrecondition."""
    trace_id, old_id = _check_ids(
        request.trace_id, request.old_assessment_id, id_field="old_assessment_id"
    )
    value = check_json(request.value_json, "value_json")
    source = source_columns(request.source)
    now = now_ms()
    with write_transaction(engine) as connection:
        old = _fetch(connection, trace_id, old_id, lock=True)
        if old.kind != FEEDBACK:
            raise FailedPreconditionError(
                f"assessment {old_id} is an expectation; only feedback can be overridden "
                "(change an expectation with UpdateAssessment)"
            )
        if not old.valid:
            raise _already_invalid(connection, trace_id, old_id)
        values = {
            "assessment_id": new_assessment_id(),
            "trace_id": trace_id,
            "span_id": old.span_id,
            "name": old.name,
            "kind": FEEDBACK,
            "value": value,
            "error": None,
            "rationale": request.rationale if request.HasField("rationale") else None,
            **source,
            "metadata": metadata_column(request.metadata),
            "run_id": old.run_id,
            "valid": True,
            "overrides": old_id,
            "created_time_ms": now,
            "last_update_time_ms": now,
        }
        connection.execute(_INSERT, values)
        connection.execute(
            _TABLE.update()
            .where(_TABLE.c.assessment_id == old_id)
            .values(valid=False, last_update_time_ms=now)
        )
    return _as_proto(values)


def _check_ids(
    trace_id: str, assessment_id: str, prefix: str = "", id_field: str = "assessment_id"
) -> tuple[str, str]:
    return (
        check_trace_id(trace_id, prefix + "trace_id"),
        check_assessment_id(assessment_id, prefix + id_field),
    )


def _fetch(connection: Connection, trace_id: str, assessment_id: str, lock: bool = False) -> Any:
    query = select(_TABLE).where(
        _TABLE.c.assessment_id == assessment_id, _TABLE.c.trace_id == trace_id
    )
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise _not_found(connection, trace_id, assessment_id)
    return row


def _not_found(connection: Connection, trace_id: str, assessment_id: str) -> NotFoundError:
    owner = connection.execute(
        select(_TABLE.c.trace_id).where(_TABLE.c.assessment_id == assessment_id)
    ).scalar()
    if owner is None:
        return NotFoundError(
            f"assessment {assessment_id!r} not found on trace {trace_id}; "
            "check the id (it may have been deleted)"
        )
    return NotFoundError(
        f"assessment {assessment_id!r} is not on trace {trace_id} (it "
        f"belongs to trace {owner}); check the trace id"
    )


def _already_invalid(connection: Connection, trace_id: str, old_id: str) -> FailedPreconditionError:
    newer = connection.execute(
        select(_TABLE.c.assessment_id)
        .where(_TABLE.c.trace_id == trace_id, _TABLE.c.overrides == old_id)
        .order_by(_TABLE.c.created_time_ms.desc())
        .limit(1)
    ).scalar()
    if newer is not None:
        return FailedPreconditionError(
            f"feedback {old_id} was already overridden by {newer}; override {newer} instead"
        )
    return FailedPreconditionError(
        f"feedback {old_id} is marked invalid (valid = false) and nothing replaces it; set "
        "it valid again with UpdateAssessment before overriding it"
    )


def _as_proto(values: dict[str, Any]) -> pb.Assessment:
    columns = {
        ("metadata_json" if key == "metadata" else key): value for key, value in values.items()
    }
    return assessment_to_proto(AssessmentRow(**columns))
