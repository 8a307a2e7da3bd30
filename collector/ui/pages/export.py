"""The dialog **Export traces to evaluation dataset** (Traces page: Actions → Add to
evaluation dataset): the experiment's datasets, each with **Export**, and **Create new
dataset** (the **Create Dataset** form).

* ``GET /experiments/{experiment_id}/export?trace_id=..`` lists the datasets linked to the
  experiment and says how many traces are selected;
* ``GET /experiments/{experiment_id}/export/create?trace_id=..`` is the Create Dataset form;
  ``POST`` to the same URL creates the dataset (linked to the experiment) and shows the
  list again, the new dataset in it;
* ``POST /datasets/{dataset_id}/export`` (form fields ``trace_id``, ``experiment_id``)
  merges the traces with ``DatasetService/MergeTraces``, the rule the SDK's
  ``dataset.merge_records(traces)`` follows, and shows the list with what happened:
  inserted, updated and unchanged counts, the new version and digest.

The selected trace ids travel with every step (query string or hidden fields), so each
step is a plain URL too: without htmx the same views render as a page in the experiment's
frame. With htmx they are fragments swapped into the Traces page's ``<dialog id="dialog">``
(``static/js/dialogs.js`` opens and closes it). A failed call the user can act on (a taken
name, a trace without root span inputs) shows the collector's message in the dialog.

There is no user identity in the open UI, so the UI records :data:`UI_USER` as the
creator and merger of what it changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import grpc
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from spyglass.collector.api.local_calls import ApiCallError
from spyglass.collector.ui.app import ui_of
from spyglass.collector.ui.pages.experiments import SEARCH_LIMIT, experiment_of
from spyglass.v1 import datasets_pb2, experiments_pb2

UI_USER = "web-ui"
MAX_SELECTED = 10_000  # MergeTraces' own limit; more is refused before any call
MAX_TAGS = 50
MAX_FIELDS = MAX_SELECTED + 10  # the selection's ids and the form's own fields
# errors the user can fix in the dialog; anything else is the app's error page
SHOWN_CODES = frozenset(
    {
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)
_STATUS = {
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.NOT_FOUND: 404,
}


def selected_ids(values: Sequence[str]) -> list[str]:
    """The selected trace ids: stripped, empty ones dropped, each once, in order."""
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def parse_tags(text: str) -> dict[str, str]:
    """Tags from ``key=value`` lines (blank lines ignored; the value may contain ``=``).
    ValueError saying which line is wrong."""
    tags: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(
                f"Tags, line {number}: {line.strip()!r} is not key=value "
                "(one tag per line, e.g. stage=validation)"
            )
        tags[key.strip()] = value.strip()
    if len(tags) > MAX_TAGS:
        raise ValueError(f"{len(tags)} tags; a dataset takes at most {MAX_TAGS} here")
    return tags


def _status(request: Request, error: ApiCallError | None = None) -> int:
    """The status of an answer that shows a problem in the dialog: 200 for htmx (which
    swaps only 2xx answers), else the error's HTTP status (400 for the UI's own checks)."""
    if request.headers.get("hx-request") == "true":
        return 200
    return _STATUS.get(error.code, 400) if error else 400


async def _datasets(request: Request, experiment_id: str) -> list[datasets_pb2.Dataset]:
    found = await ui_of(request).call(
        "DatasetService",
        "SearchDatasets",
        datasets_pb2.SearchDatasetsRequest(
            experiment_ids=[experiment_id], max_results=SEARCH_LIMIT
        ),
    )
    return list(found.datasets)


async def _render_list(
    request: Request,
    experiment: experiments_pb2.Experiment,
    trace_ids: list[str],
    status_code: int = 200,
    **extra: Any,
) -> Response:
    """The dataset list (the dialog's first view), with ``extra`` (result, error, created)."""
    context = {
        "experiment": experiment,
        "trace_ids": trace_ids,
        "selection_query": urlencode([("trace_id", t) for t in trace_ids]),
        "too_many": len(trace_ids) > MAX_SELECTED,
        "max_selected": MAX_SELECTED,
        "datasets": await _datasets(request, experiment.experiment_id),
        "view": "list",
        "tab": "traces",
        **extra,
    }
    return _render(request, context, status_code)


def _render(request: Request, context: dict[str, Any], status_code: int) -> Response:
    """The panel alone for htmx, else a page in the experiment's frame around it."""
    htmx = request.headers.get("hx-request") == "true"
    name = "_export_panel.html" if htmx else "_export_page.html"
    return ui_of(request).render(request, name, context, status_code)


async def export_dialog(request: Request) -> Response:
    experiment = await experiment_of(request)
    trace_ids = selected_ids(request.query_params.getlist("trace_id"))
    return await _render_list(request, experiment, trace_ids)


def _create_context(
    experiment: experiments_pb2.Experiment,
    trace_ids: list[str],
    name: str = "",
    tags_text: str = "",
    error: str = "",
) -> dict[str, Any]:
    return {
        "experiment": experiment,
        "trace_ids": trace_ids,
        "selection_query": urlencode([("trace_id", t) for t in trace_ids]),
        "name": name,
        "tags_text": tags_text,
        "error": error,
        "view": "create",
        "tab": "traces",
    }


async def create_form(request: Request) -> Response:
    experiment = await experiment_of(request)
    trace_ids = selected_ids(request.query_params.getlist("trace_id"))
    return _render(request, _create_context(experiment, trace_ids), 200)


async def create_dataset(request: Request) -> Response:
    experiment = await experiment_of(request)
    form = await request.form(max_fields=MAX_FIELDS)
    trace_ids = selected_ids(_strings(form, "trace_id"))
    name = _string(form, "name").strip()
    tags_text = _string(form, "tags")
    again = _create_context(experiment, trace_ids, name, tags_text)
    if not name:
        again["error"] = "Enter a name for the dataset."
        return _render(request, again, _status(request))
    try:
        tags = parse_tags(tags_text)
    except ValueError as problem:
        again["error"] = str(problem)
        return _render(request, again, _status(request))
    try:
        created = await ui_of(request).call(
            "DatasetService",
            "CreateDataset",
            datasets_pb2.CreateDatasetRequest(
                name=name,
                experiment_ids=[experiment.experiment_id],
                tags=tags,
                user=UI_USER,
            ),
        )
    except ApiCallError as error:
        if error.code not in SHOWN_CODES:
            raise
        again["error"] = error.message
        return _render(request, again, _status(request, error))
    return await _render_list(request, experiment, trace_ids, created=created)


async def export_traces(request: Request) -> Response:
    form = await request.form(max_fields=MAX_FIELDS)
    trace_ids = selected_ids(_strings(form, "trace_id"))
    experiment = await ui_of(request).call(
        "ExperimentService",
        "GetExperiment",
        experiments_pb2.GetExperimentRequest(experiment_id=_string(form, "experiment_id")),
    )
    dataset_id = request.path_params["dataset_id"]
    if not trace_ids:
        return await _render_list(
            request,
            experiment,
            trace_ids,
            _status(request),
            error="No traces are selected: tick the traces to export on the Traces page.",
        )
    if len(trace_ids) > MAX_SELECTED:
        return await _render_list(
            request,
            experiment,
            trace_ids,
            _status(request),
            error=f"{len(trace_ids):,} traces are selected; export at most "
            f"{MAX_SELECTED:,} at a time.",
        )
    try:
        merged = await ui_of(request).call(
            "DatasetService",
            "MergeTraces",
            datasets_pb2.MergeTracesRequest(
                dataset_id=dataset_id, trace_ids=trace_ids, user=UI_USER
            ),
        )
    except ApiCallError as error:
        if error.code not in SHOWN_CODES:
            raise
        return await _render_list(
            request,
            experiment,
            trace_ids,
            _status(request, error),
            error=error.message,
            error_dataset_id=dataset_id,
        )
    return await _render_list(request, experiment, trace_ids, result=merged)


def _strings(form: FormData, key: str) -> list[str]:
    return [v for v in form.getlist(key) if isinstance(v, str)]


def _string(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def routes() -> list[BaseRoute]:
    return [
        Route("/experiments/{experiment_id}/export", export_dialog, methods=["GET"]),
        Route("/experiments/{experiment_id}/export/create", create_form, methods=["GET"]),
        Route("/experiments/{experiment_id}/export/create", create_dataset, methods=["POST"]),
        Route("/datasets/{dataset_id}/export", export_traces, methods=["POST"]),
    ]
