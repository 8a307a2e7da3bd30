"""An experiment's **Monitors** (sidebar: Monitors) and one monitor's page.

* ``GET /experiments/{experiment_id}/monitors`` lists the experiment's monitors with their
  counters (seen, sampled, scored) and **Pause** / **Resume** / **Delete**, and the
  **New monitor** form; ``POST`` to the same URL creates one with ``CreateMonitor``, which
  makes every check the CLI's ``spyglass monitors create`` gets (name, filter, sample rate,
  quiet period, scorer references, distinct score names). A refused form is shown again
  with the collector's message next to the field it names.
* ``GET /monitors/{monitor_id}?window=1h|24h|7d`` is one monitor: settings, counters, the
  window's figures (mean with scored and error counts), and per score a chart of the mean
  over time with the rows scored and errors per bucket on hover (``GetMonitorSeries``,
  drawn by ``static/js/charts.js``).
* ``POST /monitors/{monitor_id}/pause|resume|delete`` (form field ``next``: where to go
  after; a deleted monitor's page goes to its experiment's list).

Scorers are given one per line, as the CLI's ``--scorer`` takes them: a built-in type, an
import path, a name registered by the evaluators, or a JSON object ``{"type": ...,
"name": ...}`` whose other keys are the scorer's parameters.
"""

from __future__ import annotations

import json
import math
from typing import Any

import grpc
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.collector.api.local_calls import ApiCallError
from spyglass.collector.ui.app import ui_of
from spyglass.collector.ui.pages.experiments import experiment_of
from spyglass.score_means import mean_text
from spyglass.v1 import experiments_pb2, jobs_pb2

WINDOWS = ("1h", "24h", "7d")
FORM_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)
FIELDS = ("name", "filter", "sample_rate", "quiet_period", "scorers")


def parse_scorers(text: str) -> list[jobs_pb2.ScorerRef]:
    """One scorer reference per non-empty line (module docstring). ValueError naming the
    line when a JSON object is malformed or has no "type"."""
    refs = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if not line.startswith("{"):
            refs.append(jobs_pb2.ScorerRef(type=line))
            continue
        try:
            spec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not a JSON object ({exc.msg})") from None
        kind = spec.pop("type", None) if isinstance(spec, dict) else None
        if not isinstance(kind, str) or not kind.strip():
            raise ValueError(
                f'line {number}: a JSON scorer needs a "type", e.g. {{"type": "Safety"}}'
            )
        refs.append(
            jobs_pb2.ScorerRef(type=kind.strip(), params_json=json.dumps(spec) if spec else "")
        )
    if not refs:
        raise ValueError('give at least one scorer, e.g. Safety or {"type": "Guidelines", ...}')
    return refs


def field_of(message: str) -> str:
    """Which form field a refusal's message is about ("" = the form as a whole)."""
    lowered = message.lower()
    for needle, field in (
        ("sample_rate", "sample_rate"),
        ("quiet_period", "quiet_period"),
        ("scorer", "scorers"),
        ("monitor named", "name"),
        ("name", "name"),
        ("filter", "filter"),
        ("experiment", ""),
    ):
        if needle in lowered:
            return field
    return "filter"  # the filter parser's messages name the filter text, not the field


def _number(text: str, field: str, errors: dict[str, str], what: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        errors[field] = f"{what} must be a number, got {text.strip()!r}"
        return None
    if not math.isfinite(value):
        errors[field] = f"{what} must be a finite number"
        return None
    return value


async def monitors_page(request: Request) -> Response:
    experiment = await experiment_of(request)
    form: dict[str, str] = {"sample_rate": "1", "quiet_period": "30"}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        posted = await request.form()
        form = {k: str(posted.get(k) or "") for k in (*FIELDS, "include_existing")}
        errors = await _create(request, experiment.experiment_id, form)
        if not errors:
            return RedirectResponse(
                f"/experiments/{experiment.experiment_id}/monitors", status_code=303
            )
        status = 400
    listed = await ui_of(request).call(
        "EvaluationJobService",
        "ListMonitors",
        jobs_pb2.ListMonitorsRequest(experiment=experiment.experiment_id),
    )
    return ui_of(request).render(
        request,
        "monitors.html",
        {
            "experiment": experiment,
            "monitors": list(listed.monitors),
            "form": form,
            "errors": errors,
            "open_form": bool(errors),
            "self_url": f"/experiments/{experiment.experiment_id}/monitors",
            "tab": "monitors",
        },
        status,
    )


async def _create(request: Request, experiment_id: str, form: dict[str, str]) -> dict[str, str]:
    """Create the monitor the form describes; the errors by field (empty when created)."""
    errors: dict[str, str] = {}
    sample_rate = _number(form["sample_rate"], "sample_rate", errors, "Sample rate")
    quiet = _number(form["quiet_period"], "quiet_period", errors, "Quiet period")
    if sample_rate == 0:  # 0 would mean "the default" to the API; here it is a typo
        errors["sample_rate"] = "Sample rate must be above 0 and at most 1"
    try:
        scorers = parse_scorers(form["scorers"])
    except ValueError as exc:
        errors["scorers"] = str(exc)
    if errors:
        return errors
    create = jobs_pb2.CreateMonitorRequest(
        name=form["name"],
        experiment=experiment_id,
        filter_string=form["filter"].strip(),
        sample_rate=sample_rate if sample_rate is not None else 1.0,
        scorers=scorers,
        include_existing=form.get("include_existing") == "1",
    )
    if quiet is not None:
        create.quiet_period_seconds = quiet
    try:
        await ui_of(request).call("EvaluationJobService", "CreateMonitor", create)
    except ApiCallError as exc:
        if exc.code not in FORM_CODES:
            raise
        return {field_of(exc.message): exc.message}
    return {}


async def monitor_page(request: Request) -> Response:
    ui = ui_of(request)
    window = request.query_params.get("window", "24h")
    if window not in WINDOWS:
        window = "24h"
    monitor = await ui.call(
        "EvaluationJobService",
        "GetMonitor",
        jobs_pb2.GetMonitorRequest(monitor=request.path_params["monitor_id"]),
    )
    series = await ui.call(
        "EvaluationJobService",
        "GetMonitorSeries",
        jobs_pb2.GetMonitorSeriesRequest(monitor=monitor.monitor_id, window=window),
    )
    experiment = await ui.call(
        "ExperimentService",
        "GetExperiment",
        experiments_pb2.GetExperimentRequest(experiment_id=monitor.experiment_id),
    )
    shown = next((w for w in monitor.windows if w.window == window), None)
    figures = [
        (s.name, mean_text(s.mean, s.count, s.error_count)) for s in (shown.scores if shown else [])
    ]
    return ui.render(
        request,
        "monitor.html",
        {
            "monitor": monitor,
            "window": window,
            "windows": WINDOWS,
            "window_rows": shown.rows if shown else 0,
            "figures": figures,
            "charts": chart_specs(series),
            "self_url": f"/monitors/{monitor.monitor_id}?window={window}",
            "experiment": experiment,
            "tab": "monitors",
        },
    )


def chart_specs(series: jobs_pb2.MonitorSeries) -> list[dict[str, Any]]:
    """One chart per score name for ``Spyglass.charts.timeSeries``: the mean per bucket
    (gaps where nothing was scored) with the rows scored and the errors on hover."""
    xs = [start // 1000 for start in series.bucket_start_ms]
    charts = []
    for n, score in enumerate(series.scores):
        means = [None if math.isnan(m) else round(m, 6) for m in score.mean]
        charts.append(
            {
                "id": f"chart-{n}",
                "name": score.name,
                "scored": sum(score.count),
                "errors": sum(score.error_count),
                "spec": {
                    "series": [
                        {"label": f"{score.name} mean"},
                        {"label": "scored", "scale": "rows", "bars": True, "color": "#9aa5b8"},
                        {"label": "errors", "scale": "rows", "bars": True, "color": "#c62828"},
                    ],
                    "data": [xs, means, list(score.count), list(score.error_count)],
                    "options": {"height": 200, "bars": True, "digits": 3},
                },
            }
        )
    return charts


async def change_monitor(request: Request) -> Response:
    ui = ui_of(request)
    monitor_id = request.path_params["monitor_id"]
    action = request.path_params["action"]
    form = await request.form()
    target = str(form.get("next") or "")
    if action == "delete":
        found = await ui.call(
            "EvaluationJobService", "GetMonitor", jobs_pb2.GetMonitorRequest(monitor=monitor_id)
        )
        await ui.call(
            "EvaluationJobService",
            "DeleteMonitor",
            jobs_pb2.DeleteMonitorRequest(monitor=monitor_id),
        )
        target = f"/experiments/{found.experiment_id}/monitors"
    elif action in ("pause", "resume"):
        await ui.call(
            "EvaluationJobService",
            "UpdateMonitor",
            jobs_pb2.UpdateMonitorRequest(monitor=monitor_id, enabled=action == "resume"),
        )
    else:
        return Response("unknown action", status_code=404)
    if not target.startswith(("/experiments/", "/monitors/")):
        target = f"/monitors/{monitor_id}"
    return RedirectResponse(target, status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/experiments/{experiment_id}/monitors", monitors_page, methods=["GET", "POST"]),
        Route("/monitors/{monitor_id}", monitor_page, methods=["GET"]),
        Route("/monitors/{monitor_id}/{action}", change_monitor, methods=["POST"]),
    ]
