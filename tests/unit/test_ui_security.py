"""The web UI's defences (``collector/ui/security.py``): Content-Security-Policy, sign-in with
an API key, sessions (cookie flags, expiry, sign-out, removed keys), CSRF, cross-site
refusal and the sign-in redirect target.

Most checks drive the Starlette app directly (no services are needed to be refused or
redirected); what must really work once signed in (pages, the JSON API) runs against real
in-process collectors.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from spyglass.collector.api.local_calls import LocalApi
from spyglass.collector.auth import WRONG_KEY, ApiKeys
from spyglass.collector.server import Collector
from spyglass.collector.ui import security
from spyglass.collector.ui.app import STATIC_DIR, UiSettings, create_app
from spyglass.collector.ui.templating import TEMPLATES_DIR

KEY = "sg-test-key-0123456789abcdef"
OTHER_KEY = "sg-other-key-9876543210fedcba"
SECRET = "unit-test-session-secret"
CSRF_MESSAGE = "missing or stale CSRF token"
CROSS_SITE_MESSAGE = "cross-site request refused"


def ui_app(keys: tuple[str, ...] = (KEY,), hours: float = 12.0, https: bool = False) -> Starlette:
    """The UI app without services: enough for everything that is refused or redirected."""
    return create_app(
        LocalApi(),
        UiSettings(ApiKeys(keys), session_secret=SECRET, session_hours=hours, https=https),
    )


def client(app: Starlette, base_url: str = "http://testserver") -> TestClient:
    return TestClient(app, base_url=base_url, follow_redirects=False)


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


def signed_in(browser: TestClient | httpx.Client, key: str = KEY, target: str = "/") -> str:
    """Sign ``browser`` in as a person would (the form, its token); returns the new token."""
    page = browser.get("/sign-in", params={"next": target})
    assert page.status_code == 200, page.text
    answer = browser.post(
        "/sign-in", data={"api_key": key, "next": target, "csrf_token": form_token(page.text)}
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == target
    return _meta_token(browser)


def _meta_token(browser: TestClient | httpx.Client) -> str:
    """The CSRF token of ``browser``'s session (signed in, or the open UI), from the
    ``<meta>`` every page carries for htmx (the 404 page needs no service)."""
    page = browser.get("/no-such-page")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


# -- Content-Security-Policy ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "path"),
    [
        ((KEY,), "/sign-in"),
        ((), "/no-such-page"),
        ((), "/static/spyglass.css"),
        ((), "/static/js/app.js"),
        ((), "/static/vendor/htmx/htmx.min.js"),
    ],
)
def test_every_answer_carries_a_csp_without_inline_script_or_style(
    keys: tuple[str, ...], path: str
) -> None:
    answer = client(ui_app(keys=keys)).get(path)
    assert answer.status_code in (200, 404), answer.status_code
    csp = answer.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"


def test_refusals_and_redirects_carry_the_csp_too() -> None:
    browser = client(ui_app())
    for answer in (
        browser.get("/experiments"),
        browser.post("/sign-out", headers={"origin": "https://evil.example"}),
        browser.post("/api/v1/ExperimentService/SearchExperiments"),
    ):
        assert answer.status_code in (303, 401, 403)
        assert "script-src 'self'" in answer.headers["content-security-policy"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HTML_SINK = re.compile(
    r"\.(?:inner|outer)HTML\s*\+?=|insertAdjacentHTML|document\.write|\beval\(|new Function"
)
HANDLER_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize("template", sorted(TEMPLATES_DIR.glob("*.html")), ids=lambda p: p.name)
def test_templates_hold_nothing_the_csp_would_block(template: Path) -> None:
    """Inline code, inline styles and handler attributes would not run under the CSP (and
    would tempt someone to loosen it): the templates hold none."""
    text = template.read_text()
    assert not INLINE_SCRIPT.findall(text), "inline <script> (use a file under static/js/)"
    assert not re.findall(r"\sstyle\s*=", text, re.I), "style= attribute (use data-width or CSS)"
    assert not re.findall(r"<style", text, re.I), "<style> block (use a CSS file)"
    assert not HANDLER_ATTRIBUTE.findall(text), "on*= handler attribute"
    assert "hx-on" not in text, "hx-on attribute"
    assert "| safe" not in text and "|safe" not in text, "a value marked safe"


def test_scripts_never_build_html_from_strings() -> None:
    for script in sorted((STATIC_DIR / "js").glob("*.js")):
        text = script.read_text()
        sinks = HTML_SINK.findall(text)
        assert not sinks, f"{script.name} builds HTML or code from strings: {sinks}"


# -- sign-in ----------------------------------------------------------------------------------


def test_pages_send_a_signed_out_browser_to_sign_in_with_the_page_asked_for() -> None:
    browser = client(ui_app())
    answer = browser.get("/experiments", params={"q": "a b"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/experiments%3Fq%3Da%2Bb"
    # an htmx partial request cannot follow a redirect into its target: it is told to go
    partial = browser.get("/experiments", headers={"hx-request": "true"})
    assert partial.status_code == 401 and partial.headers["hx-redirect"] == "/sign-in"
    api = browser.post("/api/v1/ExperimentService/SearchExperiments", json={})
    assert api.status_code == 401 and api.json()["code"] == "unauthenticated"


def test_sign_in_and_static_files_are_open() -> None:
    browser = client(ui_app())
    assert browser.get("/sign-in").status_code == 200
    assert browser.get("/static/js/app.js").status_code == 200


@pytest.mark.parametrize(
    "key",
    [None, "", "   ", KEY[:-1], KEY + "x", KEY.upper(), f"Bearer {KEY}", "wrong"],
    ids=["missing", "empty", "blank", "prefix", "longer", "case", "scheme", "wrong"],
)
def test_a_refused_key_gets_one_message_whatever_was_wrong(key: str | None) -> None:
    browser = client(ui_app(keys=(KEY, OTHER_KEY)))
    token = form_token(browser.get("/sign-in").text)
    data = {"next": "/experiments", "csrf_token": token}
    if key is not None:
        data["api_key"] = key
    answer = browser.post("/sign-in", data=data)
    assert answer.status_code == 401
    errors = re.findall(r'<p class="form-error" role="alert">([^<]*)</p>', answer.text)
    assert errors == [security.WRONG_SIGN_IN]
    # no hint beyond it: the answer is the same page as for any other wrong key
    baseline = browser.post(
        "/sign-in",
        data={"api_key": "x", "next": "/experiments", "csrf_token": form_token(answer.text)},
    )
    token_like = re.compile(r"[A-Za-z0-9_-]{43}")  # this session's CSRF token
    assert token_like.sub("", answer.text) == token_like.sub("", baseline.text)
    assert browser.get("/experiments").status_code == 303


def test_the_right_key_sets_an_httponly_strict_cookie_and_lands_on_the_page_asked_for() -> None:
    browser = client(ui_app())
    token = form_token(browser.get("/sign-in", params={"next": "/experiments?q=x"}).text)
    answer = browser.post(
        "/sign-in",
        data={"api_key": f"  {KEY} ", "next": "/experiments?q=x", "csrf_token": token},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/experiments?q=x"
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith(security.SESSION_COOKIE + "=")
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain http: a Secure cookie would never come back
    assert KEY not in answer.headers["set-cookie"]  # the session keeps a digest, not the key
    # the cookie is signed, not encrypted: its payload is readable, and must not help guess
    # the key (a plain SHA-256 of it would allow offline guessing)
    value = answer.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    payload = base64.b64decode(value.split(".")[0] + "==").decode()
    assert hashlib.sha256(KEY.encode()).hexdigest() not in payload
    assert '"key"' in payload  # the digest it does keep (an HMAC under the session secret)
    home = browser.get("/")
    assert home.status_code == 302 and home.headers["location"] == "/experiments"
    # signed in, the sign-in page goes straight on
    again = browser.get("/sign-in", params={"next": "/experiments/1/traces"})
    assert again.status_code == 303 and again.headers["location"] == "/experiments/1/traces"


def test_the_cookie_is_secure_when_the_collector_serves_https() -> None:
    browser = client(ui_app(https=True), base_url="https://testserver")
    token = form_token(browser.get("/sign-in").text)
    answer = browser.post("/sign-in", data={"api_key": KEY, "next": "/", "csrf_token": token})
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "; secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_the_cookie_is_secure_over_https_through_a_proxy() -> None:
    """A TLS-terminating proxy: the collector speaks HTTP, the scheme it is told is https
    (uvicorn sets it from X-Forwarded-Proto for trusted proxies); every cookie is Secure."""
    browser = client(ui_app(https=False), base_url="https://testserver")
    token = form_token(browser.get("/sign-in").text)
    answer = browser.post("/sign-in", data={"api_key": KEY, "next": "/", "csrf_token": token})
    assert answer.status_code == 303
    cookies = answer.headers.get_list("set-cookie")
    assert cookies and all("; secure" in c.lower() for c in cookies), cookies
    assert all(c.lower().count("secure") == 1 for c in cookies), cookies
    plain = client(ui_app(https=False))
    token = form_token(plain.get("/sign-in").text)
    answer = plain.post("/sign-in", data={"api_key": KEY, "next": "/", "csrf_token": token})
    assert "secure" not in answer.headers["set-cookie"].lower()


def test_sign_out_ends_the_session() -> None:
    browser = client(ui_app())
    token = signed_in(browser)
    assert browser.get("/").status_code == 302
    answer = browser.post("/sign-out", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in"
    assert browser.get("/experiments").status_code == 303
    # a copy of the old cookie kept by someone is no better: sign-out emptied the session
    assert browser.get("/").headers["location"].startswith("/sign-in")


def test_a_sign_in_expires_after_session_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    browser = client(ui_app(hours=1.0))
    signed_in(browser)
    assert browser.get("/").status_code == 302
    later = time.time() + 3600 + 5
    monkeypatch.setattr(security, "time", SimpleNamespace(time=lambda: later))
    answer = browser.get("/experiments")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    api = browser.post("/api/v1/ExperimentService/SearchExperiments", json={})
    assert api.status_code in (401, 403)


def test_removing_a_key_from_the_collector_signs_its_sessions_out() -> None:
    before = client(ui_app(keys=(KEY, OTHER_KEY)))
    signed_in(before, KEY)
    kept = client(ui_app(keys=(KEY, OTHER_KEY)))
    signed_in(kept, OTHER_KEY)
    # the collector restarted with the same --session-secret, without KEY
    after = ui_app(keys=(OTHER_KEY,))
    for browser, expected in ((before, 303), (kept, 302)):
        moved = client(after)
        moved.cookies.update(browser.cookies)
        assert moved.get("/").status_code == expected


def test_a_cookie_signed_with_another_secret_is_not_a_session() -> None:
    elsewhere = create_app(LocalApi(), UiSettings(ApiKeys((KEY,)), session_secret="other"))
    browser = client(elsewhere)
    signed_in(browser)
    forged = client(ui_app())
    forged.cookies.update(browser.cookies)
    assert forged.get("/").status_code == 303


# -- CSRF and cross-site requests -------------------------------------------------------------


def test_a_state_changing_request_without_the_csrf_token_is_refused() -> None:
    browser = client(ui_app())
    token = signed_in(browser)
    for data, headers in (
        ({}, {}),
        ({"csrf_token": "forged"}, {}),
        ({}, {"x-csrf-token": token[:-1]}),
    ):
        answer = browser.post("/sign-out", data=data, headers=headers)
        assert answer.status_code == 403, (data, headers)
        assert CSRF_MESSAGE in answer.text
    assert browser.get("/").status_code == 302  # still signed in: nothing happened
    assert browser.post("/sign-out", headers={"x-csrf-token": token}).status_code == 303
    assert browser.get("/").status_code == 303


def test_the_token_of_another_session_is_refused() -> None:
    mine, theirs = client(ui_app()), client(ui_app())
    signed_in(mine)
    their_token = signed_in(theirs)
    answer = mine.post("/sign-out", data={"csrf_token": their_token})
    assert answer.status_code == 403 and CSRF_MESSAGE in answer.text


def test_sign_in_itself_needs_the_token() -> None:
    browser = client(ui_app())
    browser.get("/sign-in")
    answer = browser.post("/sign-in", data={"api_key": KEY, "next": "/"})
    assert answer.status_code == 403 and CSRF_MESSAGE in answer.text
    assert browser.get("/").status_code == 303


@pytest.mark.parametrize("keys", [(KEY,), ()], ids=["with-keys", "open"])
@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://testserver.evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"sec-fetch-site": "cross-site", "origin": "http://testserver"},
    ],
    ids=["origin", "origin-suffix", "origin-null", "fetch-cross", "fetch-same-site", "both"],
)
def test_cross_site_state_changing_requests_are_refused(
    keys: tuple[str, ...], headers: dict[str, str]
) -> None:
    browser = client(ui_app(keys=keys))
    token = signed_in(browser) if keys else _meta_token(browser)
    answer = browser.post("/sign-out", data={"csrf_token": token}, headers=headers)
    assert answer.status_code == 403 and CROSS_SITE_MESSAGE in answer.text
    api = browser.post(
        "/api/v1/ExperimentService/CreateExperiment",
        json={"name": "forged"},
        headers={**headers, "authorization": f"Bearer {KEY}", "x-csrf-token": token},
    )
    assert api.status_code == 403 and api.json()["code"] == "permission_denied"
    if keys:
        assert browser.get("/").status_code == 302  # the sign-out did not happen


def test_same_origin_requests_with_the_token_pass() -> None:
    browser = client(ui_app())
    token = signed_in(browser)
    answer = browser.post(
        "/sign-out",
        data={"csrf_token": token},
        headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"},
    )
    assert answer.status_code == 303


def test_cross_site_links_still_open_pages() -> None:
    """Reading is not changing: a link from elsewhere (a GET) is answered as usual."""
    answer = client(ui_app(keys=())).get(
        "/sign-in", headers={"sec-fetch-site": "cross-site", "origin": "https://evil.example"}
    )
    assert answer.status_code == 303  # open UI: sign-in goes straight on


# -- where sign-in may send the browser -------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "https://evil.com",
        "http://evil.com/experiments",
        "/\\evil.com",
        "\\\\evil.com",
        "javascript:alert(1)",
        "evil.com",
        "",
        None,
    ],
)
def test_safe_next_refuses_other_sites(target: str | None) -> None:
    assert security.safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/", "/experiments", "/experiments/3/traces?page=2#t"])
def test_safe_next_keeps_paths_of_this_site(target: str) -> None:
    assert security.safe_next(target) == target


@pytest.mark.parametrize("target", ["//evil.com", "/\t/evil.com", "/\n/evil.com", "/\\evil.com"])
def test_sign_in_never_redirects_to_another_host(target: str) -> None:
    browser = client(ui_app())
    token = form_token(browser.get("/sign-in").text)
    answer = browser.post("/sign-in", data={"api_key": KEY, "next": target, "csrf_token": token})
    assert answer.status_code == 303
    location = answer.headers["location"]
    # browsers drop tabs and newlines from URLs and read a backslash as a slash
    cleaned = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    assert cleaned.startswith("/") and not cleaned.startswith("//"), location


# -- the JSON API and pages against a real collector ------------------------------------------


@pytest.fixture
def keyed(start_collector: Callable[..., Collector], tmp_path: Path) -> Iterator[Any]:
    """``keyed(keys)``: a real collector over one SQLite file with those API keys and a fixed
    session secret, and an httpx client on its HTTP port."""
    clients: list[httpx.Client] = []

    def start(keys: tuple[str, ...] = (KEY,)) -> httpx.Client:
        collector = start_collector(
            f"sqlite:///{tmp_path / 'spyglass.db'}", api_keys=keys, session_secret=SECRET
        )
        opened = httpx.Client(base_url=f"http://127.0.0.1:{collector.http_port}", timeout=30)
        clients.append(opened)
        return opened

    yield start
    for opened in clients:
        opened.close()


def test_signed_in_pages_load_and_the_api_needs_the_csrf_header(keyed: Any) -> None:
    browser = keyed()
    assert browser.get("/experiments").status_code == 303
    token = signed_in(browser, target="/experiments")
    page = browser.get("/experiments")
    assert page.status_code == 200 and "Experiments" in page.text
    assert "Sign out" in page.text
    search = "/api/v1/ExperimentService/SearchExperiments"
    refused = browser.post(search, json={})
    assert refused.status_code == 403 and CSRF_MESSAGE in refused.json()["message"]
    allowed = browser.post(search, json={}, headers={"x-csrf-token": token})
    assert allowed.status_code == 200, allowed.text
    assert "experiments" in allowed.json()


def test_behind_a_trusted_tls_proxy_the_cookie_is_secure(keyed: Any) -> None:
    """The real collector (uvicorn trusts X-Forwarded-Proto from 127.0.0.1): a page the
    browser loaded over https gets a Secure session cookie, and its own form posts (Origin
    https://...) pass the cross-site check."""
    browser = keyed()
    proxied = {"x-forwarded-proto": "https"}
    page = browser.get("/sign-in", headers=proxied)
    # already Secure: a client on plain http would never send it back, the browser (on
    # https) does; hand it over as the browser would
    assert "; secure" in page.headers["set-cookie"].lower()
    session = page.headers["set-cookie"].split(";")[0]
    origin = "https://" + browser.base_url.netloc.decode()
    answer = browser.post(
        "/sign-in",
        data={"api_key": KEY, "next": "/", "csrf_token": form_token(page.text)},
        headers={**proxied, "origin": origin, "cookie": session},
    )
    assert answer.status_code == 303, answer.text
    assert "; secure" in answer.headers["set-cookie"].lower()


def test_the_api_takes_a_bearer_key_without_session_or_csrf(keyed: Any) -> None:
    script = keyed()
    create = "/api/v1/ExperimentService/CreateExperiment"
    made = script.post(create, json={"name": "by-key"}, headers={"authorization": f"Bearer {KEY}"})
    assert made.status_code == 200, made.text
    assert made.json()["experimentId"]
    assert "set-cookie" not in made.headers
    wrong = script.post(create, json={"name": "x"}, headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["message"] == WRONG_KEY
    missing = script.post(create, json={"name": "x"})
    assert missing.status_code == 401 and missing.json()["code"] == "unauthenticated"


def test_a_restarted_collector_without_the_key_refuses_its_sessions(keyed: Any) -> None:
    first = keyed((KEY, OTHER_KEY))
    signed_in(first, KEY)
    assert first.get("/experiments").status_code == 200
    second = keyed((OTHER_KEY,))  # the same store and secret; KEY removed
    second.cookies.update(first.cookies)
    assert second.get("/experiments").status_code == 303
    signed_in(second, OTHER_KEY)
    assert second.get("/experiments").status_code == 200
