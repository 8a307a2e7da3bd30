"""Human review: an experiment's review queues (``/experiments/{id}/review``), making one
(from a filter, or from the traces selected on the Traces page), and the review mode
(``/review/{queue_id}``) that steps a reviewer through the queue's traces one at a time.

* ``GET /experiments/{id}/review``: the queues with their progress (done / total, in
  progress); ``GET|POST /experiments/{id}/review/new`` (``?trace_id=..`` the Traces page's
  selection, ``?filter=..`` its filter) the **New review queue** form: a page, or with htmx
  the Traces page's dialog; it posts as a plain form and lands on the queue list.
* ``GET /review/{queue_id}``: the reviewer's current trace (``ReviewService.NextReviewItem``
  claims one nobody else holds) with the trace view's fragment (``/traces/{id}?panel=1``,
  loaded by htmx) and the queue's fields as a form; ``?at=N`` shows the N-th trace the
  reviewer submitted, read-only (previous/next walk through them). ``POST .../submit`` and
  ``.../skip`` answer with a redirect to the next trace (post/redirect/get), or the page
  with the errors next to the fields (status 200, as the trace view's forms answer).
* ``POST /review/reviewer``: the reviewer's name, kept in the session. API keys carry no
  identity, so the name is what the reviewer says it is; it becomes the assessments'
  source id (source type HUMAN).

Keyboard shortcuts live in ``static/review.js``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import grpc
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.collector.api.local_calls import ApiCallError
from spyglass.collector.ui.app import ui_of
from spyglass.collector.ui.pages.experiments import experiment_of
from spyglass.v1 import experiments_pb2, review_pb2

F = review_pb2.ReviewField
FIELD_ROWS = 6  # field rows on the New review queue form
MAX_SELECTED = 10_000
NAME_MAX = 256
TYPES = [
    ("BOOL", "Yes / no"),
    ("NUMBER", "Number"),
    ("CATEGORICAL", "Categorical"),
    ("TEXT", "Text"),
    ("JSON", "JSON"),
]
KINDS = [("FEEDBACK", "Feedback"), ("EXPECTATION", "Expectation")]
SHOWN_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.NOT_FOUND,
    }
)
SESSION_KEY = "reviewer"


def reviewer_of(request: Request) -> str:
    """The reviewer's name kept in the session ("" when they have not given it)."""
    name = request.session.get(SESSION_KEY, "")
    return name if isinstance(name, str) else ""


# -- the queue list ------------------------------------------------------------------------


async def queues_page(request: Request) -> Response:
    ui = ui_of(request)
    experiment = await experiment_of(request)
    found = await ui.call(
        "ReviewService",
        "ListReviewQueues",
        review_pb2.ListReviewQueuesRequest(experiment_id=experiment.experiment_id),
    )
    return ui.render(
        request,
        "review_queues.html",
        {
            "experiment": experiment,
            "tab": "review",
            "queues": [_progress(q) for q in found.queues],
            "reviewer": reviewer_of(request),
        },
    )


def _progress(queue: review_pb2.ReviewQueue) -> dict[str, Any]:
    total = queue.item_count or 1
    return {
        "queue": queue,
        "done_pct": round(100 * queue.done_count / total, 1),
        "held_pct": round(100 * queue.in_progress_count / total, 1),
        "pending": queue.item_count - queue.done_count - queue.in_progress_count,
    }


# -- New review queue ----------------------------------------------------------------------


@dataclass
class QueueForm:
    """What the New review queue form shows (and what was typed, after an error)."""

    name: str = ""
    source: str = "filter"  # "filter" or "selection"
    filter: str = ""
    max_traces: str = "100"
    trace_ids: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


async def new_queue_page(request: Request) -> Response:
    params = request.query_params
    ids = _ids(params.getlist("trace_id"))
    form = QueueForm(
        source="selection" if ids else "filter",
        filter=params.get("filter", ""),
        trace_ids=ids,
        rows=[_blank_row() for _ in range(FIELD_ROWS)],
    )
    form.rows[0].update(name="correct", kind="FEEDBACK", type="BOOL")
    return await _queue_form(request, form)


async def create_queue(request: Request) -> Response:
    experiment = await experiment_of(request)
    data = await request.form(max_fields=MAX_SELECTED + 100)
    form, request_pb = _read_queue_form(data)
    if not form.errors:
        request_pb.experiment_id = experiment.experiment_id
        request_pb.created_by = reviewer_of(request)
        try:
            await ui_of(request).call("ReviewService", "CreateReviewQueue", request_pb)
        except ApiCallError as exc:
            if exc.code not in SHOWN_CODES:
                raise
            key = "filter" if "filter" in exc.message and form.source == "filter" else "form"
            if exc.code == grpc.StatusCode.ALREADY_EXISTS:
                key = "name"
            form.errors[key] = exc.message
    if form.errors:
        return await _queue_form(request, form, experiment)
    return RedirectResponse(f"/experiments/{experiment.experiment_id}/review", status_code=303)


async def _queue_form(
    request: Request,
    form: QueueForm,
    experiment: experiments_pb2.Experiment | None = None,
    status: int = 200,
) -> Response:
    experiment = experiment or await experiment_of(request)
    htmx = request.headers.get("hx-request") == "true"
    return ui_of(request).render(
        request,
        "_review_new_form.html" if htmx else "review_new.html",
        {
            "experiment": experiment,
            "tab": "review",
            "form": form,
            "types": TYPES,
            "kinds": KINDS,
        },
        status,
    )


def _blank_row() -> dict[str, str]:
    return {"name": "", "kind": "FEEDBACK", "type": "BOOL", "options": "", "description": ""}


def _read_queue_form(data: FormData) -> tuple[QueueForm, review_pb2.CreateReviewQueueRequest]:
    """The typed form and the request it makes; errors keyed by field (``name``,
    ``filter``, ``max_traces``, ``field-N``, ``fields``)."""
    form = QueueForm(
        name=_text(data, "name").strip(),
        source=_text(data, "source") or "filter",
        filter=_text(data, "filter"),
        max_traces=_text(data, "max_traces").strip() or "100",
        trace_ids=_ids([v for v in data.getlist("trace_id") if isinstance(v, str)]),
    )
    request = review_pb2.CreateReviewQueueRequest(name=form.name)
    if not form.name:
        form.errors["name"] = "Give the queue a name."
    elif len(form.name) > NAME_MAX:
        form.errors["name"] = f"The name is longer than {NAME_MAX} characters."
    if form.source == "selection":
        if not form.trace_ids:
            form.errors["source"] = (
                "No traces are selected: select traces on the Traces page, or use a filter."
            )
        request.trace_ids.trace_ids.extend(form.trace_ids)
    else:
        request.filter_string = form.filter.strip()
        try:
            request.max_traces = int(form.max_traces)
            if not 1 <= request.max_traces <= MAX_SELECTED:
                raise ValueError
        except ValueError:
            form.errors["max_traces"] = f"Give a whole number from 1 to {MAX_SELECTED:,}."
    for n in range(FIELD_ROWS):
        row = {
            key: _text(data, f"field-{n}-{key}").strip()
            for key in ("name", "kind", "type", "options", "description")
        }
        form.rows.append(row)
        if not row["name"]:
            continue
        options = [o.strip() for o in row["options"].split(",") if o.strip()]
        if row["type"] == "CATEGORICAL" and len(options) < 2:
            form.errors[f"field-{n}"] = (
                "A categorical field needs two or more options, e.g. good, bad."
            )
            continue
        if row["type"] not in dict(TYPES) or row["kind"] not in dict(KINDS):
            form.errors[f"field-{n}"] = "Choose a kind and a type."
            continue
        request.fields.add(
            name=row["name"],
            kind=F.Kind.Value(row["kind"]),
            type=F.ValueType.Value(row["type"]),
            options=options if row["type"] == "CATEGORICAL" else [],
            description=row["description"],
        )
    if not request.fields and not any(k.startswith("field-") for k in form.errors):
        form.errors["fields"] = "Name at least one field."
    return form, request


# -- the reviewer's name -------------------------------------------------------------------


async def set_reviewer(request: Request) -> Response:
    data = await request.form()
    name = _text(data, "reviewer").strip()[:NAME_MAX]
    target = _text(data, "next")
    if not target.startswith("/") or target.startswith("//"):
        target = "/experiments"
    if name:
        request.session[SESSION_KEY] = name
    else:
        request.session.pop(SESSION_KEY, None)
    return RedirectResponse(target, status_code=303)


# -- the review mode -----------------------------------------------------------------------


async def review_page(request: Request) -> Response:
    return await _review(request)


async def _review(
    request: Request,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    ui = ui_of(request)
    queue_id = request.path_params["queue_id"]
    reviewer = reviewer_of(request)
    queue = await ui.call(
        "ReviewService", "GetReviewQueue", review_pb2.GetReviewQueueRequest(queue_id=queue_id)
    )
    experiment = await ui.call(
        "ExperimentService",
        "GetExperiment",
        experiments_pb2.GetExperimentRequest(experiment_id=queue.experiment_id),
    )
    context: dict[str, Any] = {
        "experiment": experiment,
        "tab": "review",
        "queue": queue,
        "reviewer": reviewer,
        "errors": errors or {},
        "typed": typed or {},
        "item": None,
        "history": [],
        "at": None,
    }
    if not reviewer:
        return ui.render(request, "review.html", context, status)
    history = list(
        (
            await ui.call(
                "ReviewService",
                "ListReviewItems",
                review_pb2.ListReviewItemsRequest(queue_id=queue_id, reviewer=reviewer),
            )
        ).items
    )
    context["history"] = history
    at = _int(request.query_params.get("at"))
    if at is not None and 0 <= at < len(history):
        context["at"] = at
        context["item"] = history[at]
        context["typed"] = {v.name: _shown(v.value_json) for v in history[at].values}
    else:
        found = await ui.call(
            "ReviewService",
            "NextReviewItem",
            review_pb2.NextReviewItemRequest(queue_id=queue_id, reviewer=reviewer),
        )
        context["queue"] = found.queue
        context["item"] = found.item if found.HasField("item") else None
    context["progress"] = _progress(context["queue"])
    return ui.render(request, "review.html", context, status)


async def submit_item(request: Request) -> Response:
    queue_id = request.path_params["queue_id"]
    reviewer = reviewer_of(request)
    data = await request.form()
    trace_id = _text(data, "trace_id")
    queue = await ui_of(request).call(
        "ReviewService", "GetReviewQueue", review_pb2.GetReviewQueueRequest(queue_id=queue_id)
    )
    typed = {f.name: _text(data, f"value-{f.name}") for f in queue.fields}
    values, errors = field_values(list(queue.fields), typed)
    if not values and not errors:
        errors["form"] = "Fill in at least one field, or skip this trace (s)."
    if not errors:
        try:
            await ui_of(request).call(
                "ReviewService",
                "SubmitReviewItem",
                review_pb2.SubmitReviewItemRequest(
                    queue_id=queue_id,
                    trace_id=trace_id,
                    reviewer=reviewer,
                    values=values,
                    rationale=_text(data, "rationale"),
                ),
            )
        except ApiCallError as exc:
            if exc.code not in SHOWN_CODES:
                raise
            errors["form"] = exc.message
    if errors:
        return await _review(request, errors, typed)
    return RedirectResponse(f"/review/{queue_id}", status_code=303)


async def skip_item(request: Request) -> Response:
    queue_id = request.path_params["queue_id"]
    data = await request.form()
    try:
        await ui_of(request).call(
            "ReviewService",
            "SkipReviewItem",
            review_pb2.SkipReviewItemRequest(
                queue_id=queue_id, trace_id=_text(data, "trace_id"), reviewer=reviewer_of(request)
            ),
        )
    except ApiCallError as exc:
        if exc.code not in SHOWN_CODES:
            raise
        return await _review(request, {"form": exc.message})
    return RedirectResponse(f"/review/{queue_id}", status_code=303)


async def delete_queue(request: Request) -> Response:
    ui = ui_of(request)
    queue_id = request.path_params["queue_id"]
    queue = await ui.call(
        "ReviewService", "GetReviewQueue", review_pb2.GetReviewQueueRequest(queue_id=queue_id)
    )
    await ui.call(
        "ReviewService", "DeleteReviewQueue", review_pb2.DeleteReviewQueueRequest(queue_id=queue_id)
    )
    return RedirectResponse(f"/experiments/{queue.experiment_id}/review", status_code=303)


def field_values(
    fields: list[review_pb2.ReviewField], typed: dict[str, str]
) -> tuple[list[review_pb2.ReviewValue], dict[str, str]]:
    """The form's values as JSON text by field type (an empty input is no value), and an
    error per field whose input does not fit its type."""
    values: list[review_pb2.ReviewValue] = []
    errors: dict[str, str] = {}
    for f in fields:
        raw = typed.get(f.name, "")
        if not raw.strip():
            continue
        kind = F.ValueType.Name(f.type)
        try:
            value_json = _value_json(kind, raw, list(f.options))
        except ValueError as exc:
            errors[f.name] = str(exc)
            continue
        values.append(review_pb2.ReviewValue(name=f.name, value_json=value_json))
    return values, errors


def _value_json(kind: str, raw: str, options: list[str]) -> str:
    if kind == "BOOL":
        if raw not in ("true", "false"):
            raise ValueError("Choose yes or no.")
        return raw
    if kind == "NUMBER":
        try:
            number = float(raw.strip())
        except ValueError:
            raise ValueError(f"{raw.strip()!r} is not a number.") from None
        if not math.isfinite(number):
            raise ValueError("Give a finite number.")
        return json.dumps(int(number) if number.is_integer() and "." not in raw else number)
    if kind == "CATEGORICAL":
        if raw not in options:
            raise ValueError(f"Choose one of {', '.join(options)}.")
        return json.dumps(raw)
    if kind == "TEXT":
        return json.dumps(raw)
    try:
        json.loads(raw, parse_constant=_not_json)
    except ValueError as exc:
        raise ValueError(f"Not valid JSON: {exc}.") from None
    return raw


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def _shown(value_json: str) -> str:
    """A submitted value as the form shows it (strings without quotes)."""
    try:
        value = json.loads(value_json)
    except ValueError:
        return value_json
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value_json


# -- helpers -------------------------------------------------------------------------------


def _ids(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))[:MAX_SELECTED]


def _text(data: FormData, name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def routes() -> list[BaseRoute]:
    return [
        Route("/experiments/{experiment_id}/review", queues_page, methods=["GET"]),
        Route("/experiments/{experiment_id}/review/new", new_queue_page, methods=["GET"]),
        Route("/experiments/{experiment_id}/review/new", create_queue, methods=["POST"]),
        Route("/review/reviewer", set_reviewer, methods=["POST"]),
        Route("/review/{queue_id}", review_page, methods=["GET"]),
        Route("/review/{queue_id}/submit", submit_item, methods=["POST"]),
        Route("/review/{queue_id}/skip", skip_item, methods=["POST"]),
        Route("/review/{queue_id}/delete", delete_queue, methods=["POST"]),
    ]
