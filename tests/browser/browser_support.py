"""What the browser tests share besides fixtures: the page's error log, a collector serving
the UI (a child process), screenshots, and the 2,000-span trace that the trace view's test
and ``benchmarks/ui_trace_view.py`` both open. The fixtures in ``conftest.py`` hand these out."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from otel_sdk import OtelSdk, otel_sdk
from playwright.sync_api import ConsoleMessage, Dialog, Page
from processes import REPO_ROOT, CollectorProcess, GrpcSender

import spyglass
from spyglass import session

# how every test and benchmark starts Debian's chromium
DEFAULT_CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 900}
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers' small /dev/shm crashes renderers otherwise
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# -- screenshots -------------------------------------------------------------------------


def screenshot_dir() -> Path:
    """``SPYGLASS_SCREENSHOTS``, else ``build/screenshots/`` in the repository."""
    configured = os.environ.get("SPYGLASS_SCREENSHOTS")
    return Path(configured) if configured else REPO_ROOT / "build" / "screenshots"


def take_screenshot(page: Page, name: str) -> Path:
    """The whole page as ``<screenshot dir>/<name>.png`` (characters unsafe in file names
    become ``_``); returns the file."""
    directory = screenshot_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (re.sub(r"[^A-Za-z0-9._-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class PageLog:
    """What a page reported while a test drove it."""

    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    dialogs: list[str] = field(default_factory=list)  # "alert: <message>", "confirm: ..."

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if url.endswith("/favicon.ico"):  # Chromium asks for it on its own; not the page's
            return
        self.errors.append(
            f"console: {message.text} ({url})" if url else f"console: {message.text}"
        )

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"pageerror: {error}")

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def assert_clean(self) -> None:
        """No console error, no uncaught exception, no dialog."""
        assert not self.errors, "the page reported errors:\n" + "\n".join(self.errors)
        assert not self.dialogs, f"the page opened dialogs (a script ran): {self.dialogs}"


@dataclass
class UiCollector:
    """A ``spyglass collector start`` child process serving the UI."""

    process: CollectorProcess
    store: str  # its store URL
    kind: str  # "sqlite" or "postgresql"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<http port>``: the UI, OTLP/HTTP and the health checks."""
        return self.process.http_url

    @property
    def grpc_address(self) -> str:
        """``127.0.0.1:<grpc port>``: OTLP/gRPC and the query API."""
        return f"127.0.0.1:{self.process.grpc_port}"

    @property
    def grpc_port(self) -> int:
        return self.process.grpc_port

    @property
    def http_port(self) -> int:
        return self.process.http_port

    def otel(
        self, protocol: str = "grpc", resource: dict[str, Any] | None = None
    ) -> contextlib.AbstractContextManager[OtelSdk]:
        """``with collector.otel() as sdk:`` the official OTel SDK exporting to this collector
        over ``protocol`` ("grpc" or "http"); spans travel on ``sdk.flush_spans()``."""
        return otel_sdk(self, protocol, resource)  # type: ignore[arg-type]

    def sender(self) -> GrpcSender:
        """A raw OTLP/gRPC sender (``otlp_builders`` requests, no retries)."""
        return GrpcSender(self.grpc_address)

    @contextlib.contextmanager
    def sdk(self, **options: Any) -> Iterator[None]:
        """``with collector.sdk(experiment="x"):`` the ``spyglass`` facade (tracing and the
        API) configured against this collector, without any SPYGLASS_*/OTEL_* variable of
        the environment; shut down on exit (pending spans exported)."""
        with pytest.MonkeyPatch.context() as patch:
            for name in list(os.environ):
                if name.startswith(("SPYGLASS_", "OTEL_")):
                    patch.delenv(name)
            session.configure(collector=self.grpc_address, **options)
            try:
                yield
            finally:
                session._shutdown()


# -- traces shared by the tests and benchmarks/ui_trace_view.py ------------------------------

WIDE_SPANS = 2000
WIDE_FAILED_SPAN = "item 3.7"


def record_wide_trace(spans: int = WIDE_SPANS) -> str:
    """Records, with the ``spyglass`` SDK as configured, a trace of ``spans`` spans (at most
    2,001): a root "batch", up to 40 CHAIN steps, and under each step up to 49 alternating
    RETRIEVER and TOOL items, of which "item 3.7" fails. Returns its id once it is stored.
    ``spans=2`` gives the same shape's smallest trace (the root and "step 0")."""
    assert 1 <= spans <= 2001, spans

    @spyglass.trace(name="batch")
    def batch() -> str:
        made = 1
        for step in range(40):
            if made == spans:
                break
            with spyglass.start_span(f"step {step}", span_type="CHAIN"):
                made += 1
                for item in range(49):
                    if made == spans:
                        break
                    kind = "TOOL" if item % 2 else "RETRIEVER"
                    name = f"item {step}.{item}"
                    with (
                        contextlib.suppress(ValueError),
                        spyglass.start_span(name, span_type=kind),
                    ):
                        made += 1
                        if name == WIDE_FAILED_SPAN:
                            raise ValueError("lookup failed")
        span = spyglass.get_current_active_span()
        assert span is not None
        return span.trace_id

    trace_id = batch()
    stored = len(spyglass.get_trace(trace_id).data.spans)  # waits for the export
    assert stored == spans, f"{stored} of {spans} spans stored"
    return trace_id
