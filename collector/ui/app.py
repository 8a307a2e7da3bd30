"""The web UI as one Starlette app, mounted by the collector at ``/`` on its HTTP port
beside the OTLP paths and the health endpoints (``collector/server.py``); the JSON API
(``/api/v1/...``) is part of it, so that the same sessions, CSRF checks and headers apply.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from spyglass.collector.api import http_json
from spyglass.collector.api.local_calls import ApiCallError, LocalApi
from spyglass.collector.auth import ApiKeys
from spyglass.collector.ui import security
from spyglass.collector.ui.templating import Templates
from spyglass.errors import NotFoundError

log = logging.getLogger("spyglass.collector.ui")

STATIC_DIR = Path(__file__).parent / "static"
CALL_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class UiSettings:
    """What the UI takes from the collector's settings."""

    keys: ApiKeys
    session_secret: str | None = None
    session_hours: float = 12.0
    https: bool = False
    max_request_bytes: int = 64 * 1024 * 1024
    pages: bool = True  # False: only the JSON API (``--no-ui``)


class Ui:
    """What every page handler uses: the in-process API and the templates."""

    def __init__(self, local: LocalApi, templates: Templates) -> None:
        self.local = local
        self.templates = templates

    async def call(self, service: str, method: str, request: Message) -> Any:
        """One spyglass.v1 call (a list of messages for a streamed answer)."""
        return await self.local.unary(service, method, request, CALL_TIMEOUT_S)

    def render(
        self, request: Request, name: str, context: dict[str, Any], status_code: int = 200
    ) -> Response:
        return self.templates.render(request, name, context, status_code)


def ui_of(request: Request) -> Ui:
    found: Ui = request.app.state.ui
    return found


def create_app(local: LocalApi, settings: UiSettings) -> Starlette:
    """The UI and JSON API app."""
    from spyglass.collector.ui.pages import all_routes

    routes: list[BaseRoute] = list(
        http_json.routes(local, security.authorize_api, settings.max_request_bytes)
    )
    if settings.pages:
        routes += [
            Route("/", _home, methods=["GET"]),
            Mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static"),
            *all_routes(),
        ]
    secret = settings.session_secret or secrets.token_urlsafe(32)
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(security.SecureOverHttps),
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie=security.SESSION_COOKIE,
                max_age=int(settings.session_hours * 3600),
                same_site="strict",
                https_only=settings.https,
            ),
            Middleware(security.GateMiddleware),
        ],
        exception_handlers={
            ApiCallError: _api_error,
            NotFoundError: _not_found,
            HTTPException: _http_error,
        },
    )
    app.state.ui = Ui(local, Templates())
    app.state.access = security.Access(
        settings.keys, settings.session_hours * 3600, secret.encode()
    )
    return app


async def _home(_request: Request) -> Response:
    return RedirectResponse("/experiments", status_code=302)


async def _api_error(request: Request, exc: Exception) -> Response:
    """A page whose API call failed: the message, in the page's frame (or alone for htmx)."""
    assert isinstance(exc, ApiCallError)
    status = http_json.HTTP_STATUS.get(exc.code, 500)  # as the JSON API answers it
    return ui_of(request).render(
        request, "error.html", {"title": _title(status), "message": exc.message}, status
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    """A page naming something this collector does not have."""
    return ui_of(request).render(
        request, "error.html", {"title": _title(404), "message": str(exc)}, 404
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith(("/static/", "/api/")):
        return Response(exc.detail, status_code=exc.status_code, media_type="text/plain")
    return ui_of(request).render(
        request,
        "error.html",
        {"title": _title(exc.status_code), "message": exc.detail},
        exc.status_code,
    )


def _title(status: int) -> str:
    return {404: "Not found", 400: "Cannot show this", 409: "Already exists"}.get(
        status, "Something went wrong"
    )
