"""What `make demo` leaves in ./spyglass.db, looked at the way a newcomer would: `make demo`,
then the web UI over the same file, clicking from the experiment list to a trace, its chat
span, the datasets, the evaluation runs and the export dialog.

The screenshots the docs and the README show come from this test (``docs/images/ui/``:
copy them from ``build/screenshots/demo-*.png``), so they show the demo's real data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser_support import PageLog, UiCollector
from playwright.sync_api import Page, expect
from processes import CollectorProcesses, run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiCollector]:
    """A collector over the database the demo script wrote in an empty folder."""
    folder = tmp_path_factory.mktemp("demo")
    done = run_demo(folder)
    assert "make ui" in done.stdout  # the demo ends by saying how to open the UI
    store = f"sqlite:///{folder / 'spyglass.db'}"
    processes = CollectorProcesses(folder)
    try:
        yield UiCollector(processes.start(store, decode_workers=0), store, "sqlite")
    finally:
        processes.kill_all()


def test_the_demo_seen_in_the_browser(
    page: Page,
    page_log: PageLog,
    demo: UiCollector,
    screenshot: Callable[[Page, str], Path],
) -> None:
    page.goto(demo.base_url + "/")
    expect(page).to_have_url(re.compile(r"/experiments$"))
    names = page.locator("#experiments tbody tr td:first-child")
    expect(names).to_contain_text(["Customer Support Bot (judge calls)", "Customer Support Bot"])
    row = page.locator("#experiments tbody tr").filter(
        has=page.get_by_role("link", name="Customer Support Bot", exact=True)
    )
    expect(row).to_have_count(1)
    traces = int(row.locator("td").nth(1).inner_text().replace(",", ""))
    assert traces >= 7, f"the demo's experiment lists {traces} traces"
    screenshot(page, "demo-experiments")

    row.get_by_role("link", name="Customer Support Bot", exact=True).click()
    expect(page).to_have_url(re.compile(r"/experiments/\d+/traces"))
    page.wait_for_load_state("load")  # traces.js has run: a row click opens the panel
    rows = page.locator("tr.trace-row")
    expect(rows.first).to_be_visible()
    assert rows.count() == min(traces, 50)
    # the demo's expectations are columns of the table
    expect(page.locator("table.traces thead")).to_contain_text("expectation: expected_facts")
    screenshot(page, "demo-traces")

    # a row opens the trace as a side panel
    rows.first.locator("td").nth(2).click()
    panel = page.locator("#trace-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-waterfall]")).to_be_visible()
    screenshot(page, "demo-trace-panel")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()

    # the full trace view of a question the bot answered, on its chat span
    question = page.locator("tr.trace-row", has_text="international").first
    trace_link = question.locator("a").first
    trace_link.click()
    expect(page).to_have_url(re.compile(r"/traces/[0-9a-f]{32}$"))
    page.wait_for_load_state("load")  # waterfall.js has run: a span click selects it
    page.get_by_text("chat gpt-4o-mini", exact=False).first.click()
    detail = page.locator("#span-detail")
    expect(detail).to_contain_text("gpt-4o-mini")
    expect(detail.locator(".msg-role")).to_contain_text(["system", "user"])
    expect(detail).to_contain_text("international")
    screenshot(page, "demo-trace")

    # the experiment's datasets and evaluation runs
    page.locator(".sidebar").get_by_role("link", name="Datasets").click()
    expect(page.locator("#datasets")).to_contain_text("customer_support_qa")
    screenshot(page, "demo-datasets")
    page.locator(".sidebar").get_by_role("link", name="Evaluation runs").click()
    runs = page.locator("#runs tbody tr")
    expect(runs.filter(has_text="customer-support-bot-v1").first).to_be_visible()
    expect(runs.filter(has_text="customer-support-bot-v2").first).to_be_visible()
    expect(page.locator("#runs")).to_contain_text("factual_accuracy")
    screenshot(page, "demo-runs")

    # Actions → Add to evaluation dataset on three traces lists the demo's dataset
    page.locator(".sidebar").get_by_role("link", name="Traces").click()
    page.locator(".row-select").nth(0).check()
    page.locator(".row-select").nth(1).check()
    page.locator(".row-select").nth(2).check()
    page.locator("#actions").click()
    page.locator("#add-to-dataset").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_contain_text("Export traces to evaluation dataset")
    expect(dialog).to_contain_text("3 traces selected")
    expect(dialog).to_contain_text("customer_support_qa")
    screenshot(page, "demo-export-dialog")

    # Create new dataset → Create → Export: the three traces become its records
    dialog.get_by_text("Create new dataset").click()
    dialog.get_by_label("Name").fill("shipping_questions")
    dialog.get_by_label("Tags").fill("source=demo traces")
    screenshot(page, "demo-create-dataset")
    dialog.get_by_role("button", name="Create", exact=True).click()
    expect(dialog.locator("#created-notice")).to_contain_text("shipping_questions")
    created = dialog.locator("tr", has_text="shipping_questions")
    created.get_by_role("button", name="Export").click()
    expect(dialog.locator("#export-result")).to_contain_text("3 inserted")
    screenshot(page, "demo-exported")
    page_log.assert_clean()
