"""The Traces page in Chromium, on each store: rows newest first with their columns, the
filter box (and its caret error under the box, the table untouched), sorting, the time range,
keyset paging with Back, row selection for "Add to evaluation dataset", and the side panel.

The traces are sent by the official OTel SDK, one experiment for the module (its
``service.name``), with start times spread over ten days so that every time range keeps a
different number of them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from browser_support import PageLog, UiCollector
from opentelemetry.trace import Status, StatusCode
from playwright.sync_api import Page, expect

SERVICE = "traces-page-app"
MINUTE_NS = 60 * 1_000_000_000


@dataclass(frozen=True)
class Sent:
    """One trace sent to the collector."""

    trace_id: str
    question: str
    age_minutes: int
    duration_ms: int
    error: bool = False


# newest first; ages fall into: last hour (2), last day (3), last week (4), all (5)
PLAN = [
    ("What is the refund policy?", 2, 300, False),
    ("How long is shipping?", 30, 100, True),
    ("Where is my invoice?", 3 * 60, 500, False),
    ("Can I change my password?", 2 * 24 * 60, 200, False),
    ("Do you ship abroad?", 10 * 24 * 60, 400, False),
]


@dataclass(frozen=True)
class Experiment:
    collector: UiCollector
    experiment_id: str
    sent: list[Sent]  # newest first

    @property
    def url(self) -> str:
        return f"{self.collector.base_url}/experiments/{self.experiment_id}/traces"

    def ids(self, *indexes: int) -> list[str]:
        return [self.sent[i].trace_id for i in indexes]


def _api(collector: UiCollector, method: str, body: dict[str, object]) -> dict[str, object]:
    answer = httpx.post(f"{collector.base_url}/api/v1/{method}", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    found: dict[str, object] = answer.json()
    return found


@pytest.fixture(scope="module")
def experiment(ui_store_collector: UiCollector) -> Experiment:
    now = time.time_ns()
    sent = []
    with ui_store_collector.otel(resource={"service.name": SERVICE}) as otel:
        for question, age, duration, error in PLAN:
            start = now - age * MINUTE_NS
            span = otel.tracer.start_span(
                "answer",
                start_time=start,
                attributes={
                    "input.value": json.dumps({"question": question}),
                    "output.value": json.dumps(f"Answer to: {question}"),
                },
            )
            if error:
                span.set_status(Status(StatusCode.ERROR, "upstream failed"))
            span.end(end_time=start + duration * 1_000_000)
            trace_id = f"{span.get_span_context().trace_id:032x}"
            sent.append(Sent(trace_id, question, age, duration, error))
        otel.flush_spans()
    found = _api(ui_store_collector, "ExperimentService/GetExperimentByName", {"name": SERVICE})
    _api(
        ui_store_collector,
        "AssessmentService/CreateAssessment",
        {
            "assessment": {
                "traceId": sent[0].trace_id,
                "name": "correctness",
                "feedback": {"valueJson": "0.75"},
            }
        },
    )
    _api(
        ui_store_collector,
        "AssessmentService/CreateAssessment",
        {
            "assessment": {
                "traceId": sent[0].trace_id,
                "name": "expected_response",
                "expectation": {"valueJson": json.dumps("30 days")},
            }
        },
    )
    return Experiment(ui_store_collector, str(found["experimentId"]), sent)


def row_ids(page: Page) -> list[str]:
    return page.locator("#traces tbody tr.trace-row").evaluate_all(
        "rows => rows.map(r => r.dataset.traceId)"
    )


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def search(page: Page, text: str) -> None:
    box = page.locator("input[name=filter]")
    box.fill(text)
    box.press("Enter")


def test_rows_are_newest_first_with_every_column(
    page: Page,
    page_log: PageLog,
    experiment: Experiment,
    screenshot: Callable[[Page, str], Path],
) -> None:
    response = page.goto(experiment.url)
    assert response is not None and response.status == 200
    assert row_ids(page) == experiment.ids(0, 1, 2, 3, 4)
    headers = page.locator("#traces thead th").all_inner_texts()
    assert [h.strip(" ▲▼") for h in headers[1:10]] == [
        "Trace ID",
        "Request",
        "Response",
        "Time",
        "Execution time",
        "Status",
        "Tokens",
        "Cost",
        "Tags",
    ]
    assert headers[10:] == ["expectation: expected_response", "feedback: correctness"]

    newest = page.locator(f"tr[data-trace-id='{experiment.sent[0].trace_id}']")
    cells = newest.locator("td")
    expect(cells.nth(1).locator("a")).to_have_attribute(
        "href", f"/traces/{experiment.sent[0].trace_id}"
    )
    expect(cells.nth(2)).to_have_text("What is the refund policy?")
    expect(cells.nth(3)).to_have_text("Answer to: What is the refund policy?")
    expect(cells.nth(5)).to_have_text("300 ms")
    expect(cells.nth(6)).to_have_text("OK")
    expect(cells.nth(10)).to_have_text("30 days")
    expect(cells.nth(11)).to_have_text("0.75")
    time_cell = cells.nth(4).locator("time")
    expect(time_cell).to_have_attribute("title", re.compile(r"ago|now"))
    assert "UTC" not in time_cell.inner_text()  # app.js rewrote it in local time
    error_row = page.locator(f"tr[data-trace-id='{experiment.sent[1].trace_id}']")
    expect(error_row.locator(".status")).to_have_text("ERROR")
    page_log.assert_clean()
    screenshot(page, "traces" if experiment.collector.kind == "sqlite" else "traces-postgresql")


def test_filter_narrows_the_table_and_goes_into_the_url(
    page: Page, page_log: PageLog, experiment: Experiment
) -> None:
    page.goto(experiment.url)
    search(page, "attributes.status = 'ERROR'")
    expect(page.locator("#traces tbody tr.trace-row")).to_have_count(1)
    assert row_ids(page) == experiment.ids(1)
    assert query_of(page)["filter"] == ["attributes.status = 'ERROR'"]
    search(page, "attributes.name = 'no-such-name'")
    expect(page.locator("#traces td.empty")).to_contain_text("No traces match")
    page.reload()  # the URL alone gives the same view
    expect(page.locator("input[name=filter]")).to_have_value("attributes.name = 'no-such-name'")
    expect(page.locator("#traces td.empty")).to_be_visible()
    page_log.assert_clean()


def test_bad_filter_shows_the_caret_error_under_the_box_and_keeps_the_table(
    page: Page,
    page_log: PageLog,
    experiment: Experiment,
    screenshot: Callable[[Page, str], Path],
) -> None:
    page.goto(experiment.url)
    search(page, "attributes.execution_time_ms > 250")
    expect(page.locator("#traces tbody tr.trace-row")).to_have_count(3)
    before_rows, before_url = row_ids(page), page.url

    def refuse_bad_filter() -> str:
        search(page, "attributes.status = ")
        error = page.locator("pre.filter-error")
        expect(error).to_be_visible()
        text = error.inner_text()
        assert "attributes.status =" in text and text.rstrip().endswith("^"), text
        box = page.locator("input[name=filter]").bounding_box()
        shown = error.bounding_box()
        assert box is not None and shown is not None
        assert shown["y"] >= box["y"] + box["height"]  # under the box
        assert row_ids(page) == before_rows
        assert page.url == before_url
        return text

    refuse_bad_filter()
    search(page, "attributes.status = 'OK'")  # a good filter clears the message
    expect(page.locator("pre.filter-error")).to_have_count(0)
    expect(page.locator("#traces tbody tr.trace-row")).to_have_count(4)
    before_rows, before_url = row_ids(page), page.url
    refuse_bad_filter()
    if experiment.collector.kind == "sqlite":
        screenshot(page, "traces-filter-error")  # last: screenshots leave style="" on inputs
    page_log.assert_clean()


def test_bad_filter_in_the_url_renders_the_error_under_the_box(
    page: Page, experiment: Experiment
) -> None:
    response = page.goto(experiment.url + "?filter=tags.%3D%3D&range=1d")
    assert response is not None and response.status == 400
    text = page.locator("pre.filter-error").inner_text()
    assert "tags.==" in text and "^" in text and "timestamp_ms" not in text, text
    expect(page.locator("#traces td.empty")).to_be_visible()


def test_headers_sort_and_toggle(page: Page, page_log: PageLog, experiment: Experiment) -> None:
    page.goto(experiment.url)
    by_duration = sorted(experiment.sent, key=lambda s: s.duration_ms)
    header = page.locator("#traces thead a.sort", has_text="Execution time")
    header.click()
    expect(page).to_have_url(re.compile("order=execution_time_ms.desc"))
    assert row_ids(page) == [s.trace_id for s in reversed(by_duration)]
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Execution time")

    page.locator("#traces thead a.sort", has_text="Execution time").click()
    expect(page).to_have_url(re.compile("order=execution_time_ms.asc"))
    assert row_ids(page) == [s.trace_id for s in by_duration]

    search(page, "attributes.execution_time_ms >= 200")  # the sort survives a filter
    expect(page.locator("#traces tbody tr.trace-row")).to_have_count(4)
    assert row_ids(page) == [s.trace_id for s in by_duration if s.duration_ms >= 200]
    page.go_back()
    expect(page.locator("#traces tbody tr.trace-row")).to_have_count(5)
    page_log.assert_clean()


def test_select_all_checks_every_row_and_counts(
    page: Page, page_log: PageLog, experiment: Experiment
) -> None:
    page.goto(experiment.url)
    add = page.locator("#add-to-dataset")
    expect(page.locator("#selection-count")).to_have_text("0 selected")
    page.locator("#actions").click()
    expect(add).to_be_visible()
    expect(add).to_be_disabled()
    expect(add).to_have_text("Add to evaluation dataset")
    expect(add).to_have_attribute("hx-get", f"/experiments/{experiment.experiment_id}/export")
    expect(add).to_have_attribute("hx-include", "#trace-selection")
    expect(add).to_have_attribute("hx-target", "#dialog")
    assert page.locator("dialog#dialog").count() == 1
    page.keyboard.press("Escape")
    expect(add).to_be_hidden()

    page.locator("#select-all").check()
    boxes = page.locator("#trace-selection input.row-select")
    assert boxes.evaluate_all("bs => bs.map(b => b.checked)") == [True] * 5
    expect(page.locator("#selection-count")).to_have_text("5 selected")
    expect(add).to_be_enabled()
    assert boxes.evaluate_all("bs => bs.map(b => b.value)") == experiment.ids(0, 1, 2, 3, 4)

    boxes.nth(2).uncheck()
    expect(page.locator("#selection-count")).to_have_text("4 selected")
    assert page.locator("#select-all").is_checked() is False
    page.locator("#select-all").check()
    page.locator("#select-all").uncheck()
    expect(page.locator("#selection-count")).to_have_text("0 selected")
    expect(add).to_be_disabled()
    page_log.assert_clean()


def test_paging_older_and_newest_with_back(
    page: Page, page_log: PageLog, experiment: Experiment
) -> None:
    page.goto(experiment.url + "?size=2")
    assert row_ids(page) == experiment.ids(0, 1)
    expect(page.locator("#newest")).to_have_count(0)
    page.locator("#older").click()
    expect(page.locator("#newest")).to_be_visible()
    assert row_ids(page) == experiment.ids(2, 3)
    assert query_of(page)["size"] == ["2"] and query_of(page)["page"]
    page.locator("#older").click()
    expect(page.locator("#traces tbody tr.trace-row")).to_have_count(1)
    assert row_ids(page) == experiment.ids(4)
    expect(page.locator("#older")).to_have_count(0)

    page.go_back()
    expect(page.locator("#traces tbody tr.trace-row")).to_have_count(2)
    assert row_ids(page) == experiment.ids(2, 3)
    page.locator("#newest").click()
    expect(page.locator("#newest")).to_have_count(0)
    assert row_ids(page) == experiment.ids(0, 1)
    page_log.assert_clean()


@pytest.mark.parametrize(("choice", "count"), [("1h", 2), ("1d", 3), ("1w", 4), ("all", 5)])
def test_time_range_narrows(
    page: Page, page_log: PageLog, experiment: Experiment, choice: str, count: int
) -> None:
    page.goto(experiment.url)
    page.locator("#time-range").select_option(choice)
    if choice != "all":
        expect(page).to_have_url(re.compile(f"range={choice}"))
    expect(page.locator("#traces tbody tr.trace-row")).to_have_count(count)
    assert row_ids(page) == experiment.ids(*range(count))
    page_log.assert_clean()


def test_custom_time_range_and_filter_combine(
    page: Page, page_log: PageLog, experiment: Experiment
) -> None:
    page.goto(experiment.url)
    page.locator("#time-range").select_option("custom")
    expect(page.locator("#custom-range")).to_be_visible()
    # from 4 days ago to 1 hour ago, in the browser's local time
    page.evaluate(
        """() => {
          const local = (ms) => {
            const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
            return d.toISOString().slice(0, 16);
          };
          document.querySelector('#range-from').value = local(Date.now() - 4 * 86400e3);
          document.querySelector('#range-to').value = local(Date.now() - 3600e3);
        }"""
    )
    page.locator("input[name=filter]").fill("attributes.execution_time_ms > 150")
    page.locator("#trace-search button[type=submit]").click()
    expect(page).to_have_url(re.compile("range=custom"))
    expect(page.locator("#traces tbody tr.trace-row")).to_have_count(2)
    assert row_ids(page) == experiment.ids(2, 3)
    page.reload()
    assert row_ids(page) == experiment.ids(2, 3)
    page_log.assert_clean()


def test_row_click_opens_the_side_panel_and_escape_closes_it(
    page: Page, page_log: PageLog, experiment: Experiment
) -> None:
    page.goto(experiment.url)
    panel = page.locator("#trace-panel")
    expect(panel).to_be_hidden()
    with page.expect_request(lambda r: "/traces/" in r.url and "panel=1" in r.url) as asked:
        page.locator("tr.trace-row").nth(1).locator("td").nth(2).click()
    assert asked.value.url.endswith(f"/traces/{experiment.sent[1].trace_id}?panel=1")
    expect(panel).to_be_visible()
    page.locator("tr.trace-row").nth(0).locator("input.row-select").check()
    expect(page.locator("#selection-count")).to_have_text("1 selected")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    page_log.assert_clean()
