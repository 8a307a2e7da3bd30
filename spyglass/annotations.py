"""Reading one trace and annotating traces: tags, expectations, feedback, deletion."""

from __future__ import annotations

import json
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from spyglass import session
from spyglass.entities import Assessment, AssessmentError, AssessmentSource, Trace
from spyglass.errors import InvalidArgumentError
from spyglass.v1 import assessments_pb2 as apb


def get_trace(trace_id: str) -> Trace:
    """One trace with its spans and assessments (raises NotFoundError when unknown)."""
    session.run_before_read()
    return session.client().get_trace(trace_id)


def set_trace_tag(trace_id: str, key: str, value: str) -> None:
    session.client().set_trace_tag(trace_id, key, value)


def delete_trace_tag(trace_id: str, key: str) -> None:
    session.client().delete_trace_tag(trace_id, key)


def delete_traces(
    experiment_id: str | None = None,
    max_timestamp_millis: int | None = None,
    max_traces: int | None = None,
    trace_ids: Sequence[str] | None = None,
) -> int:
    """Delete the given traces, or those of ``experiment_id`` older than the timestamp."""
    session.run_before_read()  # spans still pending would bring a deleted trace back
    return session.client().delete_traces(
        trace_ids, experiment_id, max_timestamp_millis, max_traces
    )


def log_expectation(
    trace_id: str,
    name: str,
    value: Any,
    source: AssessmentSource | str | None = None,
    metadata: Mapping[str, Any] | None = None,
    span_id: str | None = None,
) -> Assessment:
    """Record the ground truth ``value`` (any JSON value) for ``name`` on a trace."""
    message = _base(trace_id, name, source, metadata, span_id, run_id=None, rationale=None)
    message.expectation.value_json = _to_json(value, "value")
    return session.client().create_assessment(message)


def log_feedback(
    trace_id: str,
    name: str,
    value: Any = None,
    rationale: str | None = None,
    source: AssessmentSource | str | None = None,
    error: BaseException | AssessmentError | None = None,
    metadata: Mapping[str, Any] | None = None,
    span_id: str | None = None,
    run_id: str | None = None,
) -> Assessment:
    """Record a judgement of a trace: a value, or the error that prevented one."""
    if value is None and error is None:
        raise InvalidArgumentError(f"feedback {name!r} needs a value or an error")
    message = _base(trace_id, name, source, metadata, span_id, run_id, rationale)
    if value is not None:
        message.feedback.value_json = _to_json(value, "value")
    if error is not None:
        _set_error(message.feedback.error, error)
    return session.client().create_assessment(message)


def get_assessment(trace_id: str, assessment_id: str) -> Assessment:
    return session.client().get_assessment(trace_id, assessment_id)


def update_assessment(
    trace_id: str,
    assessment_id: str,
    *,
    value: Any = ...,
    rationale: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> Assessment:
    """Change the given fields of an assessment; the others stay as they are."""
    current = session.client().get_assessment(trace_id, assessment_id)
    message = apb.Assessment(assessment_id=assessment_id, trace_id=trace_id)
    paths = []
    if value is not ...:
        kind = "expectation" if type(current).__name__ == "Expectation" else "feedback"
        getattr(message, kind).value_json = _to_json(value, "value")
        paths.append(f"{kind}.value_json")
    if rationale is not None:
        message.rationale = rationale
        paths.append("rationale")
    if metadata is not None:
        message.metadata.update(_string_map(metadata))
        paths.append("metadata")
    if name is not None:
        message.name = name
        paths.append("name")
    if not paths:
        raise InvalidArgumentError(
            "update_assessment needs at least one of value, rationale, metadata, name"
        )
    return session.client().update_assessment(message, paths)


def delete_assessment(trace_id: str, assessment_id: str) -> None:
    session.client().delete_assessment(trace_id, assessment_id)


def override_feedback(
    trace_id: str,
    assessment_id: str,
    value: Any,
    rationale: str | None = None,
    source: AssessmentSource | str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Assessment:
    """Replace a feedback with a corrected one; the old one stays, marked invalid."""
    return session.client().override_feedback(
        trace_id, assessment_id, value, rationale, _source(source), _string_map(metadata)
    )


def _base(
    trace_id: str,
    name: str,
    source: AssessmentSource | str | None,
    metadata: Mapping[str, Any] | None,
    span_id: str | None,
    run_id: str | None,
    rationale: str | None,
) -> apb.Assessment:
    message = apb.Assessment(
        trace_id=trace_id,
        name=name,
        source=_source(source).to_proto(),
        metadata=_string_map(metadata),
    )
    for field, value in (("span_id", span_id), ("run_id", run_id), ("rationale", rationale)):
        if value is not None:
            setattr(message, field, value)
    return message


def _source(source: AssessmentSource | str | None) -> AssessmentSource:
    if source is None:
        return AssessmentSource("HUMAN")
    if isinstance(source, str):
        return AssessmentSource(source.upper())
    return source


def _to_json(value: Any, what: str) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"{what} must be a JSON value (dict, list, str, number, bool, None): {exc}"
        ) from exc


def _string_map(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}


def _set_error(target: apb.AssessmentError, error: BaseException | AssessmentError) -> None:
    if isinstance(error, AssessmentError):
        target.error_code, target.error_message = error.error_code, error.error_message
        if error.stack_trace:
            target.stack_trace = error.stack_trace
        return
    target.error_code = type(error).__name__
    target.error_message = str(error)
    target.stack_trace = "".join(traceback.format_exception(error))
