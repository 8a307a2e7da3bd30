"""Sign-in with an API key (``/sign-in``) and sign-out (``/sign-out``); the rules are in
``ui/security.py``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.collector.ui import security
from spyglass.collector.ui.app import ui_of


async def sign_in_page(request: Request) -> Response:
    if not security.auth_enabled(request) or security.signed_in(request):
        return RedirectResponse(security.safe_next(request.query_params.get("next")), 303)
    return ui_of(request).render(
        request,
        "sign_in.html",
        {"next": security.safe_next(request.query_params.get("next")), "error": None},
    )


async def sign_in(request: Request) -> Response:
    form = await request.form()
    key, target = form.get("api_key"), form.get("next")
    target_path = security.safe_next(target if isinstance(target, str) else None)
    if isinstance(key, str) and security.sign_in(request, key.strip()):
        return RedirectResponse(target_path, status_code=303)
    return ui_of(request).render(
        request,
        "sign_in.html",
        {"next": target_path, "error": security.WRONG_SIGN_IN},
        status_code=401,
    )


async def sign_out(request: Request) -> Response:
    security.sign_out(request)
    return RedirectResponse("/sign-in", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/sign-in", sign_in_page, methods=["GET"]),
        Route("/sign-in", sign_in, methods=["POST"]),
        Route("/sign-out", sign_out, methods=["POST"]),
    ]
