"""The UI's pages and dialogs, one module each; :func:`all_routes` collects their routes."""

from __future__ import annotations

from starlette.routing import BaseRoute


def all_routes() -> list[BaseRoute]:
    """Every page's routes."""
    from spyglass.collector.ui.pages import (
        datasets,
        experiments,
        export,
        jobs,
        monitors,
        overview,
        review,
        runs,
        sessions,
        sign_in,
        trace,
        traces,
    )

    modules = (
        experiments,
        overview,
        traces,
        trace,
        export,
        sessions,
        datasets,
        runs,
        jobs,
        monitors,
        review,
        sign_in,
    )
    routes: list[BaseRoute] = []
    for module in modules:
        routes += module.routes()
    return routes
