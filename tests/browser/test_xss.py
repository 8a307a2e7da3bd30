"""Nothing a span, a trace or a dataset carries ever runs as script in the UI.

A corpus of script-injection payloads is stored in every field the UI renders that a sender
controls: experiment names and tags, trace tags and metadata, span names, inputs and
outputs (chat messages, tool-call arguments, retrieved documents, nested JSON), attributes,
events, exception messages and stacks, assessments (names, values, rationales), datasets
(names, tags) and evaluation runs (names, metrics), sent through the official OTel SDK, the
Spyglass SDK and the JSON API. Then Chromium visits every page that shows them and the test
asserts that no dialog opened, no page error happened, ``window.__xss`` was never set, no
element of the corpus exists in the DOM, and the payloads show as literal text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from browser_support import PageLog, UiCollector
from playwright.sync_api import Page, expect

import spyglass


@pytest.fixture(scope="module")
def ui_collector(ui_store_collector: UiCollector) -> UiCollector:
    """This module's tests run on each store (SQLite and PostgreSQL)."""
    return ui_store_collector


PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "javascript:alert(3)",
    "</script><script>alert(4)</script>",
    '"><svg onload=alert(5)>',
    '<img src=x onerror="window.__xss=1">',
    "'><img src=x onerror=window.__xss=7>",
)
LINK = "javascript:alert(3)"
SCRIPT_END = "</script><script>alert(4)</script>"
# what the DOM would hold had any payload been parsed as HTML
INJECTED = (
    "img[src='x'], svg[onload], [onerror], [onload], "
    "script:not([src]):not([type='application/json'])"
)


def evil(label: str) -> str:
    """``label`` followed by the whole corpus (under the 256-character limit of names)."""
    return f"{label} " + " ".join(PAYLOADS)


EVIL = evil("value")
SESSION = evil("session")
UNQUOTED = tuple(p for p in PAYLOADS if '"' not in p)
"""The payloads a JSON view shows unchanged (it writes a double quote as \\")."""


@dataclass(frozen=True)
class Stored:
    """Where the corpus went: ids and names the pages are reached by."""

    experiment_id: str
    experiment_name: str
    trace_id: str
    span_names: tuple[str, ...]
    otel_experiment_id: str
    otel_trace_id: str
    dataset_name: str
    run_name: str
    dataset_id: str
    run_id: str
    session_id: str
    queue_id: str


def call(collector: UiCollector, method: str, body: dict[str, Any]) -> Any:
    answer = httpx.post(f"{collector.base_url}/api/v1/{method}", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def send_spyglass_trace(collector: UiCollector, experiment: str) -> tuple[str, tuple[str, ...]]:
    """A trace from the Spyglass SDK with the corpus in every span field; its id and span
    names."""
    names = (
        evil("root span"),
        evil("chat span"),
        evil("retriever span"),
        evil("tool span"),
    )
    with collector.sdk(experiment=experiment):
        with spyglass.start_span(names[0], span_type="CHAIN") as root:
            root.set_inputs({"question": EVIL, "link": LINK, "nested": {"deep": [SCRIPT_END]}})
            root.set_attributes({"evil.attribute": EVIL, "link": LINK})
            root.add_event(evil("event"), {"detail": EVIL})
            spyglass.update_current_trace(
                tags={"evil_tag": EVIL, "link": LINK},
                metadata={"evil_meta": EVIL},
                session_id=SESSION,
                user_id=evil("user"),
            )
            with spyglass.start_span(names[1], span_type="CHAT_MODEL") as chat:
                chat.set_inputs(
                    {
                        "messages": [
                            {"role": "system", "content": evil("system says")},
                            {"role": "user", "content": evil("user asks")},
                        ]
                    }
                )
                chat.set_outputs(
                    {
                        "choices": [
                            {
                                "message": {
                                    "role": "assistant",
                                    "content": evil("assistant answers"),
                                    "tool_calls": [
                                        {
                                            "id": "call_1",
                                            "type": "function",
                                            "function": {
                                                "name": "lookup",
                                                "arguments": json.dumps({"query": EVIL}),
                                            },
                                        }
                                    ],
                                }
                            }
                        ]
                    }
                )
            with spyglass.start_span(names[2], span_type="RETRIEVER") as retriever:
                retriever.set_inputs({"query": EVIL})
                retriever.set_outputs(
                    [
                        {"page_content": evil("document"), "metadata": {"source": LINK}},
                        {"page_content": SCRIPT_END, "metadata": {"title": EVIL}},
                    ]
                )
            with spyglass.start_span(names[3], span_type="TOOL") as tool:
                tool.set_inputs({"arguments": EVIL})
                try:
                    raise ValueError(evil("exception message"))
                except ValueError as exc:
                    tool.record_exception(exc)
            root.set_outputs({"answer": evil("final answer"), "link": LINK})
            trace_id = root.trace_id
        spyglass.flush()
        spyglass.log_feedback(
            trace_id, name=evil("feedback")[:200], value=EVIL, rationale=evil("rationale")
        )
        spyglass.log_expectation(trace_id, name=evil("expected")[:200], value={"answer": EVIL})
        spyglass.set_trace_tag(trace_id, "set_later", EVIL)
    return trace_id, names


def send_otel_trace(collector: UiCollector) -> tuple[str, str]:
    """A trace from the official OTel SDK, its service (so its experiment) named by the
    corpus; its experiment id and trace id."""
    service = evil("service")
    with collector.otel(resource={"service.name": service}) as otel:
        with otel.tracer.start_as_current_span(evil("otel span")) as span:
            span.set_attribute("evil.attribute", EVIL)
            span.set_attribute("link", LINK)
            span.add_event(evil("otel event"), {"detail": EVIL})
            span.record_exception(RuntimeError(evil("otel exception")))
            trace_id = format(span.get_span_context().trace_id, "032x")
        otel.flush_spans()
    with collector.sdk():
        routed = spyglass.get_experiment_by_name(service)
        assert routed is not None, "the OTel trace did not reach its experiment"
        return routed.experiment_id, trace_id


@pytest.fixture(scope="module")
def stored(ui_collector: UiCollector) -> Stored:
    collector = ui_collector
    experiment_name = evil("experiment")
    made = call(
        collector,
        "ExperimentService/CreateExperiment",
        {"name": experiment_name, "tags": {"evil_tag": EVIL, "link": LINK}},
    )
    experiment_id = made["experimentId"]
    trace_id, span_names = send_spyglass_trace(collector, experiment_name)
    otel_experiment_id, otel_trace_id = send_otel_trace(collector)
    dataset_name = evil("dataset")
    dataset = call(
        collector,
        "DatasetService/CreateDataset",
        {"name": dataset_name, "experimentIds": [experiment_id], "tags": {"evil": EVIL}},
    )
    record = {
        "inputs": {"question": EVIL, "link": LINK},
        "expectations": {"evil_expectation": EVIL},
        "outputs": {"answer": SCRIPT_END},
        "tags": {"evil": EVIL},
    }
    with collector.sdk():
        from spyglass.evaluator.datasets import get_dataset

        records = get_dataset(dataset_id=dataset["datasetId"])
        records.merge_records([record])  # version 1
        changed = {**record, "expectations": {"evil_expectation": evil("changed")}}
        records.merge_records([changed])  # version 2: the diff shows the change
    queue = call(
        collector,
        "ReviewService/CreateReviewQueue",
        {
            "experimentId": experiment_id,
            "name": evil("queue"),
            "fields": [
                {
                    "name": "evil_field",
                    "kind": "FEEDBACK",
                    "type": "CATEGORICAL",
                    "options": [evil("option"), "fine"],
                    "description": EVIL,
                }
            ],
            "traceIds": {"traceIds": [trace_id]},
            "createdBy": evil("reviewer"),
        },
    )
    run_name = evil("run")
    run = call(
        collector,
        "EvaluationService/CreateEvaluationRun",
        {"experimentId": experiment_id, "name": run_name, "datasetName": EVIL},
    )
    call(
        collector,
        "EvaluationService/FinishEvaluationRun",
        {"runId": run["runId"], "status": "FINISHED", "metrics": {evil("metric")[:200]: 0.5}},
    )
    return Stored(
        experiment_id,
        experiment_name,
        trace_id,
        span_names,
        otel_experiment_id,
        otel_trace_id,
        dataset_name,
        run_name,
        dataset["datasetId"],
        run["runId"],
        SESSION,
        queue["queueId"],
    )


def assert_inert(page: Page, page_log: PageLog) -> None:
    """No script of the corpus ran and none of its markup became elements."""
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__xss") is None, "an injected handler set window.__xss"
    injected = page.locator(INJECTED)
    assert injected.count() == 0, [
        injected.nth(i).evaluate("e => e.outerHTML") for i in range(injected.count())
    ]
    javascript_links = page.locator("a[href^='javascript:' i]")
    assert javascript_links.count() == 0
    page_log.assert_clean()


def assert_literal(page: Page, *texts: str) -> None:
    """Each of ``texts`` shows on the page as the characters it is."""
    for text in texts:
        expect(page.locator("body")).to_contain_text(text, use_inner_text=True)


@pytest.fixture
def visit(page: Page, page_log: PageLog, ui_collector: UiCollector) -> Iterator[Any]:
    def go(path: str, status: int = 200) -> Page:
        response = page.goto(ui_collector.base_url + path)
        assert response is not None and response.status == status, (
            f"GET {path} answered {response and response.status}"
        )
        return page

    yield go


def test_experiments_page(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit("/experiments")
    assert_literal(page, stored.experiment_name, evil("service"), *PAYLOADS)
    assert_inert(page, page_log)


def test_experiments_search_echoes_the_query_as_text(
    visit: Any, page: Page, page_log: PageLog, stored: Stored
) -> None:
    visit("/experiments?" + str(httpx.QueryParams({"q": PAYLOADS[1]})))
    expect(page.locator("input[name='q']")).to_have_value(PAYLOADS[1])
    assert_inert(page, page_log)


def test_traces_page(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit(f"/experiments/{stored.experiment_id}/traces")
    expect(page.locator("tr.trace-row")).to_have_count(1)
    assert_literal(page, SCRIPT_END, LINK, PAYLOADS[0])
    assert_inert(page, page_log)


def test_traces_page_filter_with_the_corpus(
    visit: Any, page: Page, page_log: PageLog, stored: Stored
) -> None:
    """A filter that quotes the corpus: shown back in the box and in any error, as text."""
    query = httpx.QueryParams({"filter": f"tags.evil_tag = '{PAYLOADS[1]}' AND {PAYLOADS[0]}"})
    visit(f"/experiments/{stored.experiment_id}/traces?{query}", status=400)
    expect(page.locator("input[name='filter']")).to_have_value(query["filter"])
    # the refused filter's own 400, which Chromium reports on the console, is expected
    page_log.errors[:] = [e for e in page_log.errors if "status of 400" not in e]
    assert_inert(page, page_log)


def test_trace_panel_from_the_list(
    visit: Any, page: Page, page_log: PageLog, stored: Stored
) -> None:
    visit(f"/experiments/{stored.experiment_id}/traces")
    page.locator("tr.trace-row td").nth(2).click()
    panel = page.locator("#trace-panel")
    expect(panel).to_contain_text(stored.span_names[0], use_inner_text=True)
    assert_inert(page, page_log)


def test_trace_view_and_every_span(
    visit: Any, page: Page, page_log: PageLog, stored: Stored
) -> None:
    visit(f"/traces/{stored.trace_id}")
    for name in stored.span_names:
        expect(page.locator(".wf-row").filter(has_text=name)).to_have_count(1)
    assert_literal(page, "evil_tag", evil("rationale"), *UNQUOTED)
    assert_inert(page, page_log)
    for name in stored.span_names:
        page.locator(".wf-row").filter(has_text=name).click()
        detail = page.locator(".span-detail")
        expect(detail).to_contain_text(name, use_inner_text=True)
        assert_inert(page, page_log)
    # the last one selected is the tool span: its exception shows
    expect(page.locator(".span-detail")).to_contain_text(evil("exception message"))


def test_span_content_as_people_read_it(
    visit: Any, page: Page, page_log: PageLog, stored: Stored
) -> None:
    visit(f"/traces/{stored.trace_id}")
    page.locator(".wf-row").filter(has_text=stored.span_names[1]).click()
    detail = page.locator(".span-detail")
    for said in ("system says", "user asks", "assistant answers"):
        expect(detail).to_contain_text(evil(said), use_inner_text=True)
    expect(detail).to_contain_text("lookup")
    page.locator(".wf-row").filter(has_text=stored.span_names[2]).click()
    expect(detail).to_contain_text(evil("document"), use_inner_text=True)
    expect(detail).to_contain_text(SCRIPT_END, use_inner_text=True)
    assert_inert(page, page_log)


def test_span_detail_fragment_alone(
    visit: Any, page: Page, page_log: PageLog, stored: Stored, ui_collector: UiCollector
) -> None:
    """The fragment URL opened on its own (the CSP still applies)."""
    with ui_collector.sdk():
        trace = spyglass.get_trace(stored.trace_id)
    for span in trace.data.spans:
        visit(f"/traces/{stored.trace_id}/spans/{span.span_id}")
        assert_literal(page, span.name)
        assert_inert(page, page_log)


def test_otel_trace_view(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit(f"/traces/{stored.otel_trace_id}")
    assert_literal(page, evil("otel span"))
    expect(page.locator("body")).to_contain_text(evil("otel exception"))
    assert_inert(page, page_log)


def test_otel_experiment_traces_page(
    visit: Any, page: Page, page_log: PageLog, stored: Stored
) -> None:
    visit(f"/experiments/{stored.otel_experiment_id}/traces")
    assert_literal(page, evil("service"))
    assert_inert(page, page_log)


def test_datasets_page(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit(f"/experiments/{stored.experiment_id}/datasets")
    assert_literal(page, stored.dataset_name, EVIL)
    assert_inert(page, page_log)


def test_evaluation_runs_page(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit(f"/experiments/{stored.experiment_id}/runs")
    assert_literal(page, stored.run_name, evil("metric")[:200])
    assert_inert(page, page_log)


def test_export_dialog(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit(f"/experiments/{stored.experiment_id}/export?trace_id={stored.trace_id}")
    assert_literal(page, stored.dataset_name)
    assert_inert(page, page_log)


def test_export_dialog_from_the_traces_page(
    visit: Any, page: Page, page_log: PageLog, stored: Stored
) -> None:
    visit(f"/experiments/{stored.experiment_id}/traces")
    page.locator("tr.trace-row input[type=checkbox]").first.check()
    page.get_by_role("button", name="Actions").click()
    page.get_by_text("Add to evaluation dataset").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Export traces to evaluation dataset")
    expect(dialog).to_contain_text(stored.dataset_name, use_inner_text=True)
    assert_inert(page, page_log)


# -- the pages of datasets, runs, sessions, review and the overview ---------------------------


def test_all_datasets_page(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit("/datasets")
    assert_literal(page, stored.dataset_name)
    assert_inert(page, page_log)


def test_dataset_records_page(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit(f"/datasets/{stored.dataset_id}")
    expect(page.locator("body")).to_contain_text("evil_expectation")
    assert_literal(page, *UNQUOTED)
    assert_inert(page, page_log)


def test_dataset_diff_page(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit(f"/datasets/{stored.dataset_id}/diff?from=1&to=2")
    expect(page.locator("body")).to_contain_text("evil_expectation")
    assert_inert(page, page_log)


def test_run_page(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit(f"/runs/{stored.run_id}")
    assert_literal(page, stored.run_name)
    assert_inert(page, page_log)


def test_sessions_pages(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit(f"/experiments/{stored.experiment_id}/sessions")
    assert_literal(page, SESSION[:20], evil("user"))  # the list shows ids shortened
    assert_inert(page, page_log)
    page.locator("a[href*='/sessions/']").first.click()
    expect(page).to_have_url(re.compile(r"/sessions/"))
    assert_literal(page, SESSION)
    assert_inert(page, page_log)


def test_review_pages(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit(f"/experiments/{stored.experiment_id}/review")
    assert_literal(page, evil("queue"))
    assert_inert(page, page_log)
    visit(f"/review/{stored.queue_id}")
    page.locator("#reviewer-name").fill(evil("reviewer"))
    page.locator("#reviewer-save").click()
    expect(page.locator("body")).to_contain_text("evil_field")
    expect(page.locator("#reviewer-name")).to_have_value(evil("reviewer"))
    assert_literal(page, evil("option"))
    assert_inert(page, page_log)


def test_overview_page(visit: Any, page: Page, page_log: PageLog, stored: Stored) -> None:
    visit(f"/experiments/{stored.experiment_id}/overview?range=30d")
    assert_literal(page, stored.experiment_name)
    assert_inert(page, page_log)
