"""Chromium reaches a real collector: its health check, and the UI's front page on each store."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from browser_support import PageLog, UiCollector
from playwright.sync_api import Page, expect

import spyglass


def test_health_check_reads_ok_in_chromium(
    page: Page, page_log: PageLog, ui_collector: UiCollector
) -> None:
    response = page.goto(ui_collector.base_url + "/healthz")
    assert response is not None and response.status == 200
    assert page.locator("body").inner_text().strip() == "ok"
    page_log.assert_clean()


def test_front_page_is_spyglass(
    page: Page,
    page_log: PageLog,
    ui_store_collector: UiCollector,
    screenshot: Callable[[Page, str], Path],
) -> None:
    response = page.goto(ui_store_collector.base_url + "/")
    assert response is not None and response.status == 200, (
        f"GET / answered {response and response.status}"
    )
    expect(page).to_have_title(re.compile("Spyglass"))
    page_log.assert_clean()
    assert screenshot(page, f"front-page-{ui_store_collector.kind}").stat().st_size > 0


def test_page_log_sees_scripts_that_ran(page: Page, page_log: PageLog) -> None:
    """What the XSS tests rely on: an alert() and an uncaught exception are recorded."""
    page.set_content("<p>x</p><script>alert('ran'); throw new Error('boom')</script>")
    assert page_log.dialogs == ["alert: ran"]
    assert any("boom" in error for error in page_log.errors), page_log.errors
    with pytest.raises(AssertionError, match="dialogs"):
        PageLog(dialogs=page_log.dialogs).assert_clean()


def test_spans_from_both_sdks_reach_the_collector(ui_collector: UiCollector) -> None:
    """The helpers tests use to fill the UI: the OTel SDK and the Spyglass SDK."""
    with ui_collector.otel(resource={"service.name": "smoke-otel-app"}) as otel:
        with otel.tracer.start_as_current_span("smoke-otel"):
            pass
        otel.flush_spans()

    @spyglass.trace
    def smoke_spyglass(question: str) -> str:
        return question.upper()

    with ui_collector.sdk(experiment="smoke"):
        assert smoke_spyglass("hi") == "HI"
        (traced,) = spyglass.search_traces(return_type="list")
        assert traced.data._get_root_span().name == "smoke_spyglass"
        routed = spyglass.get_experiment_by_name("smoke-otel-app")  # by its service.name
        assert routed is not None
        otel_names = [
            t.data._get_root_span().name
            for t in spyglass.search_traces([routed.experiment_id], return_type="list")
        ]
        assert otel_names == ["smoke-otel"]
