"""The Experiments page (``/experiments``) and an experiment's own pages' frame: the left
sidebar (Traces, Datasets, Evaluation runs, ...); each tab's page has a module of its own."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.collector.ui.app import ui_of
from spyglass.v1 import experiments_pb2

SEARCH_LIMIT = 1000


def quoted(text: str) -> str:
    """``text`` as a quoted value of the filter language (a quote inside is doubled)."""
    return "'" + text.replace("'", "''") + "'"


def like_pattern(text: str) -> str:
    """A case-insensitive containment pattern for ILIKE (wildcards in ``text`` escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return quoted(f"%{escaped}%")


async def experiment_of(request: Request) -> experiments_pb2.Experiment:
    """The experiment named by the URL's ``experiment_id`` (a 404 page when unknown)."""
    return await ui_of(request).call(
        "ExperimentService",
        "GetExperiment",
        experiments_pb2.GetExperimentRequest(experiment_id=request.path_params["experiment_id"]),
    )


async def experiments_page(request: Request) -> Response:
    ui = ui_of(request)
    query = request.query_params.get("q", "").strip()
    found = await ui.call(
        "ExperimentService",
        "SearchExperiments",
        experiments_pb2.SearchExperimentsRequest(
            filter=f"name ILIKE {like_pattern(query)}" if query else "",
            order_by=["last_update_time_ms DESC"],
            max_results=SEARCH_LIMIT,
        ),
    )
    experiments = list(found.experiments)
    counted = await ui.call(
        "ExperimentService",
        "GetExperimentStats",
        experiments_pb2.GetExperimentStatsRequest(
            experiment_ids=[e.experiment_id for e in experiments]
        ),
    )
    stats = {
        experiment_id: {
            "traces": s.trace_count,
            "last": s.last_trace_time_ms if s.HasField("last_trace_time_ms") else None,
        }
        for experiment_id, s in counted.stats.items()
    }
    return ui.render(
        request,
        "experiments.html",
        {"experiments": experiments, "stats": stats, "query": query, "section": "experiments"},
    )


async def experiment_home(request: Request) -> Response:
    return RedirectResponse(
        f"/experiments/{request.path_params['experiment_id']}/traces", status_code=302
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/experiments", experiments_page, methods=["GET"]),
        Route("/experiments/{experiment_id}", experiment_home, methods=["GET"]),
    ]
