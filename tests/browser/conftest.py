"""Fixtures for the web UI's browser tests: Debian's Chromium driven by Playwright, and real
collectors (child processes) serving the UI over SQLite or PostgreSQL.

* ``chromium_path``: ``SPYGLASS_CHROMIUM`` or ``/usr/bin/chromium``. Playwright never
  downloads a browser here; ``make test`` installs Debian's ``chromium`` with apt when it is
  missing and it can (root with apt). Without it these tests skip, saying why; in CI
  (``CI=true``) they fail instead.
* ``browser`` (one per session) and ``page`` (a fresh context and page per test, 1400x900).
  ``page_log`` collects what the page reported: console errors, uncaught exceptions and the
  text of every ``alert()``/``confirm()``/``prompt()`` (dismissed), so a test can assert that
  no script of its own making ran. A failing test leaves a screenshot of its page.
* ``ui_collector``: one collector per module over a temporary SQLite file;
  ``ui_store_collector``: the same on each store (ids ``sqlite`` and ``postgresql``). Both
  are shared by the module's tests, so each test should use names (experiments, datasets) of
  its own. They give the UI's ``base_url``, the gRPC address, the official OTel SDK sending
  to them (:meth:`UiCollector.otel`) and the Spyglass SDK configured against them
  (:meth:`UiCollector.sdk`).
* ``screenshot(page, name)``: ``<dir>/<name>.png``, dir ``SPYGLASS_SCREENSHOTS`` or
  ``build/screenshots/``.

The classes these fixtures hand out (``PageLog``, ``UiCollector``) are in
``browser_support``, for tests to import.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    CHROMIUM_ARGS,
    DEFAULT_CHROMIUM,
    VIEWPORT,
    PageLog,
    UiCollector,
    take_screenshot,
)
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from processes import CollectorProcesses

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BROWSER_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test (``-m "not browser"`` leaves them out)."""
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so ``page`` can tell that its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """``screenshot(page, name)`` writes ``<dir>/<name>.png`` and returns its path."""
    return take_screenshot


# -- the browser -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium executable; skips (fails in CI) when there is none."""
    path = os.environ.get("SPYGLASS_CHROMIUM") or DEFAULT_CHROMIUM
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    message = (
        f"no Chromium at {path}: install Debian's package (`apt-get install -y "
        "--no-install-recommends chromium`, which `make test` does when run as root) or set "
        "SPYGLASS_CHROMIUM to a Chromium executable"
    )
    if IN_CI:
        pytest.fail(message + " — CI requires the browser tests", pytrace=False)
    pytest.skip(message)


# Module scope, not session: Playwright's sync API keeps an event loop running on the main
# thread while it is started, and every later asyncio.run() in the session (the CLI, async
# tests) would fail with "cannot be called from a running event loop". So each browser test
# module starts and stops its own (about a second each).
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright, chromium_path: str) -> Iterator[Browser]:
    """Headless Chromium for the browser tests (see ``playwright_driver``)."""
    launched = playwright_driver.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


@pytest.fixture
def page_log() -> PageLog:
    """Console errors, page errors and dialogs of this test's ``page``."""
    return PageLog()


@pytest.fixture
def page(browser: Browser, page_log: PageLog, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context and page (1400x900) for one test; a screenshot of it is left
    in the screenshot dir when the test fails."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    opened = context.new_page()
    opened.on("console", page_log.on_console)
    opened.on("pageerror", page_log.on_page_error)
    opened.on("dialog", page_log.on_dialog)
    try:
        yield opened
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            with contextlib.suppress(Exception):  # the page may be what broke
                take_screenshot(opened, f"FAILED-{request.node.name}")
    finally:
        context.close()


# -- collectors serving the UI -------------------------------------------------------------


@contextlib.contextmanager
def _serving(store: str, kind: str, log_dir: Path) -> Iterator[UiCollector]:
    processes = CollectorProcesses(log_dir)
    try:
        yield UiCollector(processes.start(store, decode_workers=0), store, kind)
    finally:
        processes.kill_all()


@pytest.fixture(scope="module")
def ui_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiCollector]:
    """A collector over a temporary SQLite file, shared by the module's tests."""
    directory = tmp_path_factory.mktemp("ui-sqlite")
    with _serving(f"sqlite:///{directory / 'spyglass.db'}", "sqlite", directory) as collector:
        yield collector


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def ui_store_collector(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UiCollector]:
    """A collector on each store (ids ``sqlite``, ``postgresql``: a fresh database), shared
    by the module's tests. PostgreSQL is required in CI and skipped elsewhere when absent."""
    directory = tmp_path_factory.mktemp(f"ui-{request.param}")
    if request.param == "sqlite":
        with _serving(f"sqlite:///{directory / 'spyglass.db'}", "sqlite", directory) as collector:
            yield collector
        return
    fresh_database = request.getfixturevalue("fresh_postgres_database")
    with fresh_database() as url, _serving(url, "postgresql", directory) as collector:
        yield collector
