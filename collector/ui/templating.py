"""The UI's Jinja2 environment: autoescaping on for every template, and the filters pages
share (times, durations, token counts, costs, JSON for people).

Nothing a span carries is ever marked safe: values reach the page only through Jinja's
escaping (HTML text and attributes) or as JSON data blocks through :func:`json_for_script`,
which escapes ``<``, ``>`` and ``&`` so that the JSON holds no markup at all: neither a
``</script>`` nor a tag or entity. Data blocks are ``<template class="json-data">`` elements
(inert; htmx keeps them in swapped fragments, where it drops every ``<script>``), read by
``Spyglass.data`` in ``static/js/app.js``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from spyglass import quantities
from spyglass.collector.ui import security
from spyglass.v1 import evaluation_pb2, traces_pb2

TEMPLATES_DIR = Path(__file__).parent / "templates"


def iso_time(ms: int | None) -> str:
    """``ms`` since the epoch as ISO 8601 UTC (the ``datetime`` of a ``<time>``)."""
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def utc_text(ms: int | None) -> str:
    """A readable UTC time; the browser rewrites it in local time (``static/js/app.js``)."""
    if not ms:
        return "—"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(ms: float | None) -> str:
    return quantities.duration(ms, missing="—")


def count(value: int | None) -> str:
    return quantities.tokens(value, missing="—")


def cost(value: float | None) -> str:
    """A dash for no cost: zero is what a trace without model calls records."""
    return "—" if not value else quantities.cost(value)


def json_for_script(value: Any) -> Markup:
    """``value`` as JSON that is safe inside ``<script type="application/json">``."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)  # every markup character is escaped above


def short_id(value: str, length: int = 12) -> str:
    return value[:length]


class Templates:
    """The templates and the render call every page uses."""

    def __init__(self) -> None:
        self._jinja = Jinja2Templates(directory=str(TEMPLATES_DIR))
        env = self._jinja.env
        env.autoescape = True
        env.filters.update(
            iso_time=iso_time,
            utc_text=utc_text,
            duration=duration,
            count=count,
            cost=cost,
            json_for_script=json_for_script,
            short_id=short_id,
        )
        env.globals.update(
            run_status=evaluation_pb2.EvaluationRun.Status.Name,
            trace_state=traces_pb2.TraceInfo.State.Name,
        )

    def render(
        self, request: Request, name: str, context: dict[str, Any], status_code: int = 200
    ) -> Response:
        """``name`` rendered with ``context`` plus what every page shows: the CSRF token,
        whether sign-in is on, and whether this is an htmx partial request."""
        context = {
            **context,
            "csrf_token": security.csrf_token(request),
            "auth_enabled": security.auth_enabled(request),
            "htmx": request.headers.get("hx-request") == "true",
        }
        return self._jinja.TemplateResponse(request, name, context, status_code=status_code)
