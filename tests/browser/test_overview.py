"""The experiment Overview page in Chromium, on SQLite and PostgreSQL: the summary figures and
tables show the numbers of ``GetExperimentUsage`` for the chosen range (last 24 hours,
7 days, 30 days), the five charts render (a canvas each, numbers in the legend on hover), model
names from spans stay text, and the page logs no error.

Traces are written straight into the collector's store (exact durations, tokens and costs,
relative to now), as in ``tests/integration/test_api_usage.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from browser_support import PageLog, UiCollector
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, create_engine
from test_api_usage import store_trace

from spyglass.v1 import experiments_pb2, experiments_pb2_grpc

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
GPT = ("gpt-4o", 60, 6, 0.125)
HOSTILE = ("<img src=x onerror=alert(1)>", 40, 4, 0.25)


@pytest.fixture(scope="module")
def store(ui_store_collector: UiCollector) -> Iterator[Engine]:
    engine = create_engine(ui_store_collector.store)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def experiment(ui_store_collector: UiCollector, store: Engine) -> str:
    """Last 24 hours: traces of 10 ms (gpt-4o) and 30 ms (failed; a hostile model name);
    two days ago: 20 ms (gpt-4o twice); ten days ago: 50 ms (gpt-4o)."""
    with grpc.insecure_channel(ui_store_collector.grpc_address) as channel:
        stub = experiments_pb2_grpc.ExperimentServiceStub(channel)
        created = stub.CreateExperiment(
            experiments_pb2.CreateExperimentRequest(name="overview shop"), timeout=20
        )
    experiment_id = created.experiment_id
    now = int(time.time() * 1000)
    store_trace(store, experiment_id, now - 2 * HOUR_MS, 10, calls=(GPT,))
    store_trace(store, experiment_id, now - 3 * HOUR_MS, 30, status="ERROR", calls=(HOSTILE,))
    store_trace(store, experiment_id, now - 2 * DAY_MS, 20, calls=(GPT, GPT))
    store_trace(store, experiment_id, now - 10 * DAY_MS, 50, calls=(GPT,))
    return experiment_id


def figure(page: Page, name: str) -> str:
    return page.locator(f"#sum-{name}").inner_text().strip()


def test_overview_shows_the_usage_of_each_range(
    page: Page,
    page_log: PageLog,
    ui_store_collector: UiCollector,
    experiment: str,
    screenshot: Callable[[Page, str], Path],
) -> None:
    page.goto(f"{ui_store_collector.base_url}/experiments/{experiment}/overview")
    expect(page.locator("nav.range-picker a[aria-current=page]")).to_have_text("Last 7 days")
    # 7 days: 10, 20, 30 ms; one error of three
    assert figure(page, "traces") == "3"
    assert figure(page, "errors") == "1"
    assert page.locator("#sum-error-rate").inner_text() == "(33.3%)"
    assert (figure(page, "p50"), figure(page, "p95")) == ("20 ms", "29 ms")
    assert figure(page, "tokens") == "220 / 22"
    assert figure(page, "cost") == "$0.625"
    assert page.locator("#usage-buckets tbody tr").count() in (7, 8)
    models = page.locator("#usage-models tbody tr")
    expect(models).to_have_count(2)
    assert models.nth(0).locator("td").all_inner_texts() == ["gpt-4o", "3", "180", "18", "$0.375"]
    hostile = models.nth(1).locator("td").first
    assert hostile.inner_text() == HOSTILE[0]  # shown as text, never markup

    # five charts, each a canvas, legend numbers on hover
    charts = page.locator(".usage-charts .chart")
    expect(charts).to_have_count(5)
    expect(page.locator(".usage-charts .chart canvas")).to_have_count(5)
    traces_chart = page.locator("[data-chart=chart-traces]")
    box = traces_chart.locator(".u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    legend = traces_chart.locator(".u-legend .u-value")
    last_row = page.locator("#usage-buckets tbody tr").last.locator("td")
    expect(legend.nth(1)).to_have_text(last_row.nth(1).inner_text())  # the last bucket's traces
    model_legend = page.locator("[data-chart=chart-models] .u-legend .u-label")
    expect(model_legend.nth(2)).to_have_text(HOSTILE[0])
    screenshot(page, f"overview-{ui_store_collector.kind}")

    page.get_by_role("link", name="Last 30 days").click()
    expect(page.locator("#sum-traces")).to_have_text("4")
    assert (figure(page, "p50"), figure(page, "p95")) == ("25 ms", "47 ms")
    assert page.locator("#usage-buckets tbody tr").count() in (30, 31)

    page.get_by_role("link", name="Last 24 hours").click()
    expect(page.locator("#sum-traces")).to_have_text("2")
    assert page.locator("#usage-buckets thead th").first.inner_text() == "Hour (UTC)"
    assert page.locator("#usage-buckets tbody tr").count() in (24, 25)
    expect(page.locator(".usage-charts .chart canvas")).to_have_count(5)
    assert page_log.dialogs == []
    page_log.assert_clean()


def test_an_empty_experiment_says_so(
    page: Page, page_log: PageLog, ui_store_collector: UiCollector
) -> None:
    with grpc.insecure_channel(ui_store_collector.grpc_address) as channel:
        stub = experiments_pb2_grpc.ExperimentServiceStub(channel)
        created = stub.CreateExperiment(
            experiments_pb2.CreateExperimentRequest(name="overview empty"), timeout=20
        )
    page.goto(f"{ui_store_collector.base_url}/experiments/{created.experiment_id}/overview")
    expect(page.locator("#overview-empty")).to_be_visible()
    assert figure(page, "traces") == "0" and figure(page, "p50") == "—"
    expect(page.locator("#usage-models tbody td.empty")).to_be_visible()
    expect(page.locator(".usage-charts .chart canvas")).to_have_count(5)
    page_log.assert_clean()
