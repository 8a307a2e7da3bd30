"""Sign-in, sessions and CSRF as Chromium meets them: a collector started with ``--api-key``
sends pages to the sign-in page; a wrong key gets the one generic message; the right key
lands on the page asked for with a cookie scripts cannot read; sign-out ends it; and a form
on another site that posts to the collector changes nothing, with keys or without."""

from __future__ import annotations

import base64
import contextlib
import http.server
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from browser_support import PageLog, UiCollector
from playwright.sync_api import Page, expect
from processes import CollectorProcesses

from spyglass.collector.ui.security import SESSION_COOKIE, WRONG_SIGN_IN

KEY = "sg-browser-key-5f0c2a91d7"
SECRET = "browser-test-session-secret"


@pytest.fixture(scope="module")
def keyed_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiCollector]:
    """A collector child process started with ``--api-key`` over a temporary SQLite file."""
    directory = tmp_path_factory.mktemp("ui-keyed")
    processes = CollectorProcesses(directory)
    store = f"sqlite:///{directory / 'spyglass.db'}"
    try:
        process = processes.start(store, decode_workers=0, api_key=KEY, session_secret=SECRET)
        yield UiCollector(process, store, "sqlite")
    finally:
        processes.kill_all()


def api(collector: UiCollector, method: str, body: dict[str, Any], key: str | None) -> Any:
    """One JSON API call, as a script would make it."""
    headers = {"authorization": f"Bearer {key}"} if key else {}
    answer = httpx.post(
        f"{collector.base_url}/api/v1/{method}", json=body, headers=headers, timeout=30
    )
    answer.raise_for_status()
    return answer.json()


def sign_in(page: Page, key: str) -> None:
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def test_a_wrong_key_gets_the_generic_message(
    page: Page,
    page_log: PageLog,
    keyed_collector: UiCollector,
    screenshot: Callable[[Page, str], Path],
) -> None:
    page.goto(keyed_collector.base_url + "/experiments")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/experiments$"))
    expect(page.get_by_role("heading", name="Sign in to Spyglass")).to_be_visible()
    screenshot(page, "sign-in")
    for wrong in ("not-the-key", KEY[:-1], KEY + " x"):
        sign_in(page, wrong)
        expect(page.get_by_role("alert")).to_have_text(WRONG_SIGN_IN)
        expect(page).to_have_url(re.compile(r"/sign-in"))
    assert not [c for c in page.context.cookies() if _signed_in_cookie(c)]
    # the refused sign-in is a 401 the console mentions; nothing else went wrong
    assert all("401" in error for error in page_log.errors), page_log.errors
    assert not page_log.dialogs


def _signed_in_cookie(cookie: Any) -> bool:
    return cookie["name"] == SESSION_COOKIE and '"auth"' in _decoded(cookie["value"])


def _decoded(value: str) -> str:
    payload = value.split(".")[0]
    return base64.b64decode(payload + "=" * (-len(payload) % 4)).decode(errors="replace")


def test_the_right_key_lands_on_the_page_asked_for_with_an_httponly_cookie(
    page: Page, page_log: PageLog, keyed_collector: UiCollector
) -> None:
    target = "/experiments?q=" + quote("nothing-matches-this")
    page.goto(keyed_collector.base_url + target)
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    sign_in(page, KEY)
    expect(page).to_have_url(keyed_collector.base_url + target)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    (cookie,) = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    assert SESSION_COOKIE not in page.evaluate("document.cookie")
    assert KEY not in cookie["value"]
    page_log.assert_clean()


def test_sign_out_returns_to_sign_in_and_pages_redirect_again(
    page: Page, page_log: PageLog, keyed_collector: UiCollector
) -> None:
    page.goto(keyed_collector.base_url + "/sign-in?next=/experiments")
    sign_in(page, KEY)
    expect(page).to_have_url(keyed_collector.base_url + "/experiments")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(keyed_collector.base_url + "/sign-in")
    page.goto(keyed_collector.base_url + "/experiments")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/experiments$"))
    expect(page.get_by_label("API key")).to_be_visible()
    page_log.assert_clean()


# -- a forged form on another site -------------------------------------------------------------

ATTACKER_PAGE = """<!doctype html>
<html><body>
<form id="forged" method="post" action="{action}">
  <input name="name" value="{name}">
  <input name="csrf_token" value="guessed">
</form>
<script>document.getElementById("forged").submit();</script>
</body></html>
"""


@contextlib.contextmanager
def attacker_site(html: str) -> Iterator[str]:
    """``http://localhost:<port>/``: another site than the collector's 127.0.0.1, serving
    ``html`` to whoever visits."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def experiment_id(collector: UiCollector, name: str, key: str | None) -> str:
    made = api(collector, "ExperimentService/CreateExperiment", {"name": name}, key)
    return str(made["experimentId"])


def dataset_names(collector: UiCollector, key: str | None) -> list[str]:
    found = api(collector, "DatasetService/SearchDatasets", {}, key)
    return [d["name"] for d in found.get("datasets", [])]


@pytest.mark.parametrize("keys", ["with-keys", "open"])
def test_a_forged_cross_site_form_changes_nothing(
    keys: str,
    page: Page,
    page_log: PageLog,
    keyed_collector: UiCollector,
    ui_collector: UiCollector,
) -> None:
    collector, key = (keyed_collector, KEY) if keys == "with-keys" else (ui_collector, None)
    experiment = experiment_id(collector, f"forgery-target-{keys}", key)
    if key:  # the victim is signed in, in this very browser
        page.goto(collector.base_url + "/sign-in?next=/experiments")
        sign_in(page, KEY)
        expect(page).to_have_url(collector.base_url + "/experiments")
    # the dialog's own form creates datasets: that is what the forgery imitates
    action = f"{collector.base_url}/experiments/{experiment}/export/create"
    forged_name = f"forged-{keys}"
    with attacker_site(ATTACKER_PAGE.format(action=action, name=forged_name)) as evil:
        with page.expect_response(action) as answered:
            page.goto(evil)
        assert answered.value.status == 403
        expect(page.locator("body")).to_contain_text("cross-site request refused")
    assert forged_name not in dataset_names(collector, key)
    if key:  # still signed in: nothing was changed on the victim's behalf either
        page.goto(collector.base_url + "/experiments")
        expect(page).to_have_url(collector.base_url + "/experiments")
    assert not page_log.dialogs
