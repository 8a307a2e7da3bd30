"""What keeps a UI that shows untrusted content safe: headers, sessions, sign-in, CSRF.

* Every answer carries a Content-Security-Policy without inline script or style (scripts
  and styles come only from ``/static``), and forbids framing.
* Sessions are Starlette's signed cookies (``itsdangerous``): HttpOnly, SameSite=Strict,
  signed with ``--session-secret``, and Secure whenever the request came over HTTPS: the
  collector serves TLS, or a TLS-terminating proxy it trusts says so with
  ``X-Forwarded-Proto: https`` (:class:`SecureOverHttps`).
* With API keys configured, every page and API call needs a signed-in session (or, for the
  API, ``Authorization: Bearer <key>``). Sign-in takes a key; the session keeps a digest of
  it (an HMAC under the session secret), so removing the key from the collector signs its
  sessions out, and a readable cookie says nothing about the key; a sign-in lasts
  ``--session-hours``. Without keys (the local default, on loopback) the UI is open.
* State-changing requests (any method but GET/HEAD/OPTIONS) from a browser must carry the
  session's CSRF token, in the ``X-CSRF-Token`` header (htmx sends it: ``static/js/app.js``)
  or a ``csrf_token`` form field; and every state-changing request that a browser marks as
  cross-site (``Sec-Fetch-Site``, or an ``Origin`` other than the collector's) is refused,
  which also protects the open UI, whose requests carry no session to forge. A plain API
  client (a script) sends neither header and is judged by its key alone.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import quote

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spyglass.collector.auth import MISSING_KEY, ApiKeys, key_digest

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_PREFIXES = ("/static/", "/sign-in")
API_PREFIX = "/api/"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "spyglass_session"
WRONG_SIGN_IN = "That API key is not accepted."


@dataclass(frozen=True)
class Access:
    """Who may use the UI: the collector's keys and how long a sign-in lasts."""

    keys: ApiKeys
    session_seconds: float
    secret: bytes  # the session cookies' signing key, also keying the key digests


def access(request: Request) -> Access:
    found: Access = request.app.state.access
    return found


def auth_enabled(request: Request) -> bool:
    return access(request).keys.enabled


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def signed_in(request: Request) -> bool:
    """True when sign-in is off, or this session signed in with a key still accepted and
    within its lifetime."""
    rules = access(request)
    if not rules.keys.enabled:
        return True
    auth = request.session.get("auth")
    if not isinstance(auth, dict):
        return False
    at, digest = auth.get("at"), auth.get("key")
    if not isinstance(at, (int, float)) or not isinstance(digest, str):
        return False
    if time.time() - at > rules.session_seconds:
        return False
    return rules.keys.accepts_digest(digest, rules.secret)


def sign_in(request: Request, key: str) -> bool:
    """Start a session for ``key`` when it is accepted (a fresh CSRF token either way)."""
    accepted = access(request).keys.problem(f"Bearer {key}") is None
    request.session.clear()
    if accepted:
        digest = key_digest(key.encode(), access(request).secret)
        request.session["auth"] = {"key": digest, "at": time.time()}
    csrf_token(request)
    return accepted


def sign_out(request: Request) -> None:
    request.session.clear()


async def authorize_api(request: Request) -> str | None:
    """For the JSON API: a bearer key is judged by itself; otherwise the session."""
    header = request.headers.get("authorization")
    keys = access(request).keys
    if header:
        return keys.problem(header)
    if signed_in(request):
        return None
    return MISSING_KEY


def safe_next(target: str | None) -> str:
    """A path on this site to go to after sign-in (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class GateMiddleware(BaseHTTPMiddleware):
    """Security headers on every answer; cross-site refusal, CSRF and sign-in checks."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await self._check(request)
        if response is None:
            response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _check(self, request: Request) -> Response | None:
        path = request.url.path
        unsafe = request.method not in SAFE_METHODS
        api = path.startswith(API_PREFIX)
        if unsafe and _cross_site(request):
            return _refuse(
                api,
                403,
                "cross-site request refused: the Spyglass UI accepts changes only from its "
                "own pages",
            )
        if api and request.headers.get("authorization"):
            return None  # the API judges the key
        if unsafe and _from_browser(request) and not await _csrf_ok(request):
            return _refuse(
                api,
                403,
                "missing or stale CSRF token: reload the page and try again",
            )
        if path.startswith(OPEN_PREFIXES):
            return None
        if not signed_in(request):
            if api:
                return _refuse(True, 401, MISSING_KEY)
            target = quote(path + (f"?{request.url.query}" if request.url.query else ""))
            if request.headers.get("hx-request") == "true":
                return Response(status_code=401, headers={"hx-redirect": "/sign-in"})
            return RedirectResponse(f"/sign-in?next={target}", status_code=303)
        return None


def _cross_site(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site in ("cross-site", "same-site"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin != f"{request.url.scheme}://{request.url.netloc}"


def _from_browser(request: Request) -> bool:
    """A browser's request: it carries our session cookie or says where it came from."""
    return (
        SESSION_COOKIE in request.cookies
        or "origin" in request.headers
        or "sec-fetch-site" in request.headers
    )


async def _csrf_ok(request: Request) -> bool:
    expected = request.session.get("csrf")
    if not isinstance(expected, str):
        return False
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        # read the body through ``body()``: Starlette then hands the same bytes on to the
        # page, which would otherwise receive an empty form
        await request.body()
        form = await request.form()
        field = form.get(CSRF_FIELD)
        supplied = field if isinstance(field, str) else None
    return supplied is not None and hmac.compare_digest(supplied, expected)


def _refuse(api: bool, status: int, message: str) -> Response:
    if api:
        code = {401: "unauthenticated", 403: "permission_denied"}[status]
        return JSONResponse({"code": code, "message": message}, status_code=status)
    return PlainTextResponse(message + "\n", status_code=status)


class SecureOverHttps:
    """Marks the cookies this app sets ``Secure`` when the request came over HTTPS.

    Starlette's session middleware decides ``Secure`` once, at start; behind a proxy that
    terminates TLS the collector itself speaks plain HTTP, yet the browser's page is HTTPS.
    uvicorn rewrites the scope's scheme from ``X-Forwarded-Proto`` for the proxies it trusts
    (``FORWARDED_ALLOW_IPS``), so the scheme seen here is the browser's.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, _secure(value) if name.lower() == b"set-cookie" else value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, send_secure)


def _secure(cookie: bytes) -> bytes:
    attributes = [part.strip().lower() for part in cookie.split(b";")[1:]]
    return cookie if b"secure" in attributes else cookie + b"; Secure"
