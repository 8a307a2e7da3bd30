"""A trace (``/traces/{trace_id}``): the span tree with its timeline waterfall, the selected
span's detail, and the trace's assessments and tags with the forms that add to them.

* ``GET /traces/{trace_id}``: the full page, in its experiment's frame; with ``?panel=1`` the
  same body alone, for the Traces list's side panel.
* ``GET /traces/{trace_id}/spans/{span_id}``: one span's detail (a fragment the waterfall
  loads with htmx when a row is selected).
* ``POST /traces/{trace_id}/expectations`` | ``/feedback`` | ``/tags`` | ``/tags/delete``:
  write through AssessmentService / TraceService and answer the re-rendered assessments
  section (with the error next to the field when the input was refused).

The span tree is shipped as one JSON block of compact rows and built in the browser by
``static/js/waterfall.js`` (only the rows of expanded subtrees exist in the DOM), so a trace
of thousands of spans opens quickly.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from spyglass.collector.ui.app import ui_of
from spyglass.collector.ui.pages.span_content import as_text, shape
from spyglass.entities import AssessmentSource, json_or_text
from spyglass.v1 import assessments_pb2, experiments_pb2, traces_pb2

UI_SOURCE_ID = "spyglass-ui"  # the source_id of assessments people add in the UI
MAX_NAME = 256


async def trace_page(request: Request) -> Response:
    ui = ui_of(request)
    trace = await _trace(request)
    context: dict[str, Any] = _trace_context(trace)
    context["panel"] = request.query_params.get("panel") == "1"
    if context["panel"]:
        return ui.render(request, "_trace_body.html", context)
    context["experiment"] = await ui.call(
        "ExperimentService",
        "GetExperiment",
        experiments_pb2.GetExperimentRequest(experiment_id=trace.info.experiment_id),
    )
    context["tab"] = "traces"
    return ui.render(request, "trace.html", context)


async def span_detail(request: Request) -> Response:
    trace = await _trace(request)
    span_id = request.path_params["span_id"]
    span = next((s for s in trace.spans if s.span_id == span_id), None)
    if span is None:
        raise HTTPException(404, f"Trace {trace.info.trace_id} has no span {span_id}.")
    return ui_of(request).render(
        request, "_span_detail.html", {"trace": trace, "d": span_context(span)}
    )


async def add_expectation(request: Request) -> Response:
    trace_id = request.path_params["trace_id"]
    form = await request.form()
    name, errors = _name(form, "expectation")
    raw = _field(form, "value")
    try:
        value_json = json.dumps(json.loads(raw, parse_constant=_not_json))
    except ValueError as exc:
        value_json = ""
        errors["value"] = f"The value is not valid JSON: {exc}."
    if errors:
        return await _assessments(request, trace_id, {"expectation": errors}, form)
    message = _assessment(trace_id, name)
    message.expectation.value_json = value_json
    await _create(request, message)
    return await _assessments(request, trace_id)


async def add_feedback(request: Request) -> Response:
    trace_id = request.path_params["trace_id"]
    form = await request.form()
    name, errors = _name(form, "feedback")
    raw = _field(form, "value").strip()
    if not raw:
        errors["value"] = "Give a value: a number, true/false, a label or JSON."
    if errors:
        return await _assessments(request, trace_id, {"feedback": errors}, form)
    parsed = json_or_text(raw)  # a number, bool or JSON as such; any other text as a string label
    message = _assessment(trace_id, name)
    message.feedback.value_json = json.dumps(parsed)
    rationale = _field(form, "rationale").strip()
    if rationale:
        message.rationale = rationale
    await _create(request, message)
    return await _assessments(request, trace_id)


async def set_tag(request: Request) -> Response:
    trace_id = request.path_params["trace_id"]
    form = await request.form()
    key, value = _field(form, "key").strip(), _field(form, "value")
    if not key and "=" in value:
        key, value = (part.strip() for part in value.split("=", 1))
    if not key:
        return await _assessments(request, trace_id, {"tag": {"key": "Give the tag a key."}}, form)
    await ui_of(request).call(
        "TraceService",
        "SetTraceTag",
        traces_pb2.SetTraceTagRequest(trace_id=trace_id, key=key, value=value),
    )
    return await _assessments(request, trace_id)


async def delete_tag(request: Request) -> Response:
    trace_id = request.path_params["trace_id"]
    form = await request.form()
    await ui_of(request).call(
        "TraceService",
        "DeleteTraceTag",
        traces_pb2.DeleteTraceTagRequest(trace_id=trace_id, key=_field(form, "key")),
    )
    return await _assessments(request, trace_id)


# --- what the templates receive --------------------------------------------------------------


def waterfall_rows(spans: list[traces_pb2.Span]) -> tuple[list[list[Any]], float]:
    """The spans as compact rows ``[id, parent, name, type, start_ms, duration_ms, error]``
    (times relative to the trace's first start, sorted by start) and the trace's span in ms.
    A parent that is not in the trace counts as none (the span shows as a root)."""
    if not spans:
        return [], 0.0
    ids = {s.span_id for s in spans}
    start = min(s.start_time_ns for s in spans)
    end = max(max(s.end_time_ns, s.start_time_ns) for s in spans)
    rows = []
    for s in sorted(spans, key=lambda s: (s.start_time_ns, s.span_id)):
        parent = s.parent_span_id if s.HasField("parent_span_id") else ""
        rows.append(
            [
                s.span_id,
                parent if parent in ids and parent != s.span_id else "",
                s.name,
                s.span_type or "UNKNOWN",
                round((s.start_time_ns - start) / 1e6, 3),
                round(max(s.end_time_ns - s.start_time_ns, 0) / 1e6, 3),
                1 if s.status_code == traces_pb2.Span.STATUS_CODE_ERROR else 0,
            ]
        )
    return rows, round((end - start) / 1e6, 3)


def root_span(spans: list[traces_pb2.Span]) -> traces_pb2.Span | None:
    """The span shown first: the earliest one without a parent in the trace."""
    ids = {s.span_id for s in spans}
    roots = [s for s in spans if not s.parent_span_id or s.parent_span_id not in ids]
    return min(roots or spans, key=lambda s: s.start_time_ns, default=None)


def span_context(span: traces_pb2.Span) -> dict[str, Any]:
    """What ``_span_detail.html`` shows of one span."""
    events = json_or_text(span.events) if span.HasField("events") else None
    events = events if isinstance(events, list) else []
    exceptions, other_events = [], []
    for event in events:
        if not isinstance(event, dict):
            continue
        found = event.get("attributes")
        attrs: dict[str, Any] = found if isinstance(found, dict) else {}
        if event.get("name") == "exception":
            exceptions.append(
                {
                    "type": as_text(attrs.get("exception.type", "")),
                    "message": as_text(attrs.get("exception.message", "")),
                    "stacktrace": as_text(attrs.get("exception.stacktrace", "")),
                }
            )
        else:
            other_events.append(
                {
                    "name": as_text(event.get("name", "")),
                    "time_ms": int(event.get("time_unix_nano") or 0) // 1_000_000,
                    "attributes": attrs,
                }
            )
    usage = span.token_usage
    return {
        "span": span,
        "span_type": span.span_type or "UNKNOWN",
        "is_error": span.status_code == traces_pb2.Span.STATUS_CODE_ERROR,
        "status": traces_pb2.Span.StatusCode.Name(span.status_code).removeprefix("STATUS_CODE_"),
        "duration_ms": max(span.end_time_ns - span.start_time_ns, 0) / 1e6,
        "inputs": shape(span.inputs if span.HasField("inputs") else None, span.span_type),
        "outputs": shape(span.outputs if span.HasField("outputs") else None, span.span_type),
        "attributes": json_or_text(span.attributes) or {},
        "events": other_events,
        "exceptions": exceptions,
        "tokens": {
            "input": usage.input_tokens if usage.HasField("input_tokens") else None,
            "output": usage.output_tokens if usage.HasField("output_tokens") else None,
            "total": usage.total_tokens if usage.HasField("total_tokens") else None,
        },
    }


def assessment_rows(info: traces_pb2.TraceInfo) -> dict[str, list[dict[str, Any]]]:
    """The trace's expectations and feedback, newest first, ready for the template."""
    found: dict[str, list[dict[str, Any]]] = {"expectations": [], "feedback": []}
    for a in sorted(info.assessments, key=lambda a: a.create_time_ms, reverse=True):
        kind = a.WhichOneof("value")
        error = ""
        if kind == "expectation":
            value = as_text(json_or_text(a.expectation.value_json))
        else:
            value = (
                as_text(json_or_text(a.feedback.value_json))
                if a.feedback.HasField("value_json")
                else ""
            )
            if a.feedback.error.error_code or a.feedback.error.error_message:
                error = f"{a.feedback.error.error_code}: {a.feedback.error.error_message}"
        found["expectations" if kind == "expectation" else "feedback"].append(
            {
                "assessment": a,
                "value": value,
                "error": error,
                "source_type": assessments_pb2.AssessmentSource.SourceType.Name(
                    a.source.source_type
                ),
                "rationale": a.rationale if a.HasField("rationale") else "",
                "overrides": a.overrides if a.HasField("overrides") else "",
            }
        )
    return found


def _trace_context(trace: traces_pb2.Trace) -> dict[str, Any]:
    spans = list(trace.spans)
    rows, total_ms = waterfall_rows(spans)
    root = root_span(spans)
    return {
        "trace": trace,
        "info": trace.info,
        "spans_data": {"trace_id": trace.info.trace_id, "total_ms": total_ms, "rows": rows},
        "selected": span_context(root) if root is not None else None,
        "assessments": assessment_rows(trace.info),
        "errors": {},
        "values": {},
    }


# --- helpers -----------------------------------------------------------------------------------


async def _trace(request: Request) -> traces_pb2.Trace:
    found: traces_pb2.Trace = await ui_of(request).call(
        "TraceService",
        "GetTrace",
        traces_pb2.GetTraceRequest(trace_id=request.path_params["trace_id"]),
    )
    return found


async def _assessments(
    request: Request,
    trace_id: str,
    errors: dict[str, dict[str, str]] | None = None,
    form: FormData | None = None,
) -> Response:
    """The assessments section again (after a write, or with the refused input's errors)."""
    trace = await ui_of(request).call(
        "TraceService", "GetTrace", traces_pb2.GetTraceRequest(trace_id=trace_id)
    )
    values = {}
    if errors and form is not None:
        kind = next(iter(errors))
        values = {kind: {k: v for k, v in form.items() if isinstance(v, str)}}
    return ui_of(request).render(
        request,
        "_trace_assessments.html",
        {
            "info": trace.info,
            "assessments": assessment_rows(trace.info),
            "errors": errors or {},
            "values": values,
        },
    )


def _assessment(trace_id: str, name: str) -> assessments_pb2.Assessment:
    return assessments_pb2.Assessment(
        trace_id=trace_id,
        name=name,
        source=AssessmentSource("HUMAN", UI_SOURCE_ID).to_proto(),
    )


async def _create(request: Request, message: assessments_pb2.Assessment) -> None:
    await ui_of(request).call(
        "AssessmentService",
        "CreateAssessment",
        assessments_pb2.CreateAssessmentRequest(assessment=message),
    )


def _not_json(constant: str) -> Any:
    """NaN and Infinity: Python's json reads them, JSON (and the browser's check) does not."""
    raise ValueError(f"{constant} is not a JSON value")


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _name(form: FormData, what: str) -> tuple[str, dict[str, str]]:
    name = _field(form, "name").strip()
    if not name:
        return name, {"name": f"Give the {what} a name."}
    if len(name) > MAX_NAME:
        return name, {"name": f"The name is longer than {MAX_NAME} characters."}
    return name, {}


def routes() -> list[BaseRoute]:
    return [
        Route("/traces/{trace_id}", trace_page, methods=["GET"]),
        Route("/traces/{trace_id}/spans/{span_id}", span_detail, methods=["GET"]),
        Route("/traces/{trace_id}/expectations", add_expectation, methods=["POST"]),
        Route("/traces/{trace_id}/feedback", add_feedback, methods=["POST"]),
        Route("/traces/{trace_id}/tags", set_tag, methods=["POST"]),
        Route("/traces/{trace_id}/tags/delete", delete_tag, methods=["POST"]),
    ]
