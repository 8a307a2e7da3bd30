"""The UI's pages and dialogs, one module each; :func:`all_routes` collects their routes."""

from __future__ import annotations

from starlette.routing import BaseRoute


def all_routes() -> list[BaseRoute]:
    """Every page's routes (one line per page module)."""
    from spyglass.collector.ui.pages import experiments, export, sign_in, trace, traces

    routes: list[BaseRoute] = []
    routes += experiments.routes()
    routes += export.routes()
    routes += sign_in.routes()
    routes += trace.routes()
    routes += traces.routes()
    return routes
