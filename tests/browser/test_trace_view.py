"""The trace view (``/traces/{id}``) in Chromium against a real collector: an OpenAI-autologged
trace shown as a conversation with its model and tokens, the waterfall (one row per span,
keyboard selection, collapse), the assessment and tag forms (an expectation added here reaches
a dataset after a re-merge; invalid JSON is refused in the browser), the side-panel fragment,
and a 2,000-span trace that opens with its first row, keeps keyboard selection and marks its
failed span (how fast it is usable is measured by ``benchmarks/ui_trace_view.py``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest
from browser_support import WIDE_FAILED_SPAN, WIDE_SPANS, PageLog, UiCollector, record_wide_trace
from playwright.sync_api import Page, expect

import spyglass
from spyglass.evaluator.datasets import create_dataset, get_dataset
from spyglass.local_llm import LocalLLM


@pytest.fixture(scope="module")
def ui_collector(ui_store_collector: UiCollector) -> UiCollector:
    """This module's tests run on each store (SQLite and PostgreSQL)."""
    return ui_store_collector


QUESTION = "How do I get a refund?"
CHAT_USAGE: dict[str, int] = {}  # what the OpenAI answer reported, filled by ``chat_trace``


@pytest.fixture(scope="module")
def chat_trace(ui_collector: UiCollector) -> Iterator[str]:
    """The id of a trace: an ``@spyglass.trace`` app whose OpenAI call autolog recorded."""
    with LocalLLM() as llm, ui_collector.sdk(experiment="trace view"):
        spyglass.openai.autolog()
        client = openai.OpenAI(base_url=llm.base_url, api_key="sk-trace-view", max_retries=0)
        usage: dict[str, int] = {}

        @spyglass.trace
        def support_app(question: str) -> tuple[str, str]:
            nonlocal usage
            answer = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[
                    {"role": "system", "content": "You are a support assistant."},
                    {"role": "user", "content": question},
                ],
            )
            span = spyglass.get_current_active_span()
            assert span is not None and answer.usage is not None
            usage = answer.usage.model_dump()
            return answer.choices[0].message.content or "", span.trace_id

        try:
            _, trace_id = support_app(QUESTION)
            spyglass.get_trace(trace_id)  # waits for the export
            CHAT_USAGE.update(usage)
        finally:
            spyglass.openai.autolog(disable=True)
        yield trace_id


@pytest.fixture(scope="module")
def wide_trace(ui_collector: UiCollector) -> str:
    """A trace of 2,000 spans: a root, 40 steps, and under them 1,959 tools and retrievers,
    one of which fails."""
    with ui_collector.sdk(experiment="trace view wide"):
        return record_wide_trace(WIDE_SPANS)


def open_trace(page: Page, collector: UiCollector, trace_id: str) -> None:
    response = page.goto(f"{collector.base_url}/traces/{trace_id}")
    assert response is not None and response.status == 200
    expect(page.locator(".wf-row").first).to_be_visible()


def test_openai_trace_shows_conversation_model_and_tokens(
    page: Page,
    page_log: PageLog,
    ui_collector: UiCollector,
    chat_trace: str,
    screenshot: Callable[[Page, str], Path],
) -> None:
    open_trace(page, ui_collector, chat_trace)
    rows = page.locator(".wf-row")
    expect(rows).to_have_count(2)  # the app span and the OpenAI call
    page.locator(".wf-row", has_text="chat").click()
    card = page.locator(".span-card")
    expect(card.locator(".badge").first).to_have_text("CHAT_MODEL")
    inputs = page.locator(".span-io[aria-label=Inputs]")
    expect(inputs.locator(".msg-role")).to_have_text(["system", "user"])
    expect(inputs.locator(".msg-user .msg-text")).to_have_text(QUESTION)
    outputs = page.locator(".span-io[aria-label=Outputs]")
    expect(outputs.locator(".msg-role")).to_have_text(["assistant"])
    expect(outputs.locator(".msg-text")).to_contain_text(QUESTION)
    expect(card.locator(".span-model")).to_have_text("gpt-4o-mini")
    tokens = card.locator(".span-tokens .metric")
    expect(tokens).to_have_text(
        [
            f"in {CHAT_USAGE['prompt_tokens']}",
            f"out {CHAT_USAGE['completion_tokens']}",
            f"total {CHAT_USAGE['total_tokens']}",
        ]
    )
    # other JSON is a tree with a raw view
    attributes = page.locator(".span-attributes .json-view")
    expect(attributes.locator(".jv-key", has_text="gen_ai.request.model")).to_be_visible()
    attributes.locator(".json-toggle").click()
    expect(attributes.locator(".jv-raw")).to_contain_text('"gen_ai.request.model": "gpt-4o-mini"')
    page_log.assert_clean()
    screenshot(page, "trace")


def test_side_panel_fragment_is_the_trace_body(
    page: Page,
    page_log: PageLog,
    ui_collector: UiCollector,
    chat_trace: str,
    screenshot: Callable[[Page, str], Path],
) -> None:
    """``?panel=1`` is the body alone (no frame); loaded into a page it builds the waterfall."""
    response = page.request.get(f"{ui_collector.base_url}/traces/{chat_trace}?panel=1")
    assert response.status == 200
    body = response.text()
    assert "<html" not in body and 'class="trace-view trace-view-panel"' in body
    open_trace(page, ui_collector, chat_trace)
    # the Traces list loads the fragment with htmx into its side panel; do the same here
    page.evaluate(
        """(url) => {
          const aside = document.createElement('aside');
          aside.id = 'trace-panel';
          document.querySelector('main.page').replaceChildren(aside);
          return htmx.ajax('GET', url, {target: '#trace-panel', swap: 'innerHTML'});
        }""",
        f"/traces/{chat_trace}?panel=1",
    )
    panel = page.locator("#trace-panel")
    expect(panel.locator(".wf-row")).to_have_count(2)
    expect(panel.locator(".trace-open")).to_have_attribute("href", f"/traces/{chat_trace}")
    page_log.assert_clean()
    screenshot(page, "trace-panel")


def test_keyboard_moves_selection_and_collapse_hides_children(
    page: Page, page_log: PageLog, ui_collector: UiCollector, chat_trace: str
) -> None:
    open_trace(page, ui_collector, chat_trace)
    rows = page.locator(".wf-row")
    expect(rows.nth(0)).to_have_attribute("aria-selected", "true")
    page.locator(".wf-rows").focus()
    page.keyboard.press("ArrowDown")
    expect(rows.nth(1)).to_have_attribute("aria-selected", "true")
    expect(rows.nth(0)).to_have_attribute("aria-selected", "false")
    expect(page.locator(".span-card .span-model")).to_have_text("gpt-4o-mini")  # detail loaded
    page.keyboard.press("ArrowUp")
    expect(rows.nth(0)).to_have_attribute("aria-selected", "true")
    rows.nth(0).locator(".wf-toggle").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowRight")
    expect(rows).to_have_count(2)
    page_log.assert_clean()


def test_added_expectation_reaches_dataset_after_remerge(
    page: Page, page_log: PageLog, ui_collector: UiCollector, chat_trace: str
) -> None:
    with ui_collector.sdk(experiment="trace view"):
        dataset = create_dataset("trace-view-expectations")
        dataset.merge_records([spyglass.get_trace(chat_trace)])
    open_trace(page, ui_collector, chat_trace)
    form = page.locator("#expectation-form")
    form.locator("input[name=name]").fill("must_mention")
    form.locator("textarea[name=value]").fill('["30 days", "receipt"]')
    form.get_by_role("button", name="Add expectation").click()
    added = page.locator("#expectations-list .assessment[data-name=must_mention]")
    expect(added).to_be_visible()
    expect(added.locator(".assessment-value")).to_contain_text('"30 days"')
    expect(added.locator(".assessment-source")).to_contain_text("HUMAN")
    with ui_collector.sdk(experiment="trace view"):
        get_dataset(name="trace-view-expectations").merge_records([spyglass.get_trace(chat_trace)])
        frame = get_dataset(name="trace-view-expectations").to_df()
    assert len(frame) == 1
    assert frame.iloc[0]["expectations"]["must_mention"] == ["30 days", "receipt"]
    page_log.assert_clean()


def test_invalid_json_shows_error_and_creates_nothing(
    page: Page, page_log: PageLog, ui_collector: UiCollector, chat_trace: str
) -> None:
    open_trace(page, ui_collector, chat_trace)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    form = page.locator("#expectation-form")
    form.locator("input[name=name]").fill("broken_value")
    form.locator("textarea[name=value]").fill("{not json")
    form.get_by_role("button", name="Add expectation").click()
    error = form.locator("[data-error-for=value]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("not valid JSON")
    assert posted == []
    with ui_collector.sdk():
        names = [a.name for a in spyglass.get_trace(chat_trace).info.assessments]
    assert "broken_value" not in names
    # the server refuses it too (a script, or a browser without the check)
    token = page.locator("meta[name=csrf-token]").get_attribute("content") or ""
    answer = page.request.post(
        f"{ui_collector.base_url}/traces/{chat_trace}/expectations",
        form={"name": "broken_value", "value": "{not json"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert "not valid JSON" in answer.text()
    with ui_collector.sdk():
        names = [a.name for a in spyglass.get_trace(chat_trace).info.assessments]
    assert "broken_value" not in names
    page_log.assert_clean()


def test_add_feedback_and_edit_tags(
    page: Page, page_log: PageLog, ui_collector: UiCollector, chat_trace: str
) -> None:
    open_trace(page, ui_collector, chat_trace)
    form = page.locator("#feedback-form")
    form.locator("input[name=name]").fill("helpfulness")
    form.locator("input[name=value]").fill("0.75")
    form.locator("textarea[name=rationale]").fill("Answers the question <b>directly</b>.")
    form.get_by_role("button", name="Add feedback").click()
    added = page.locator("#feedback-list .assessment[data-name=helpfulness]")
    expect(added.locator(".assessment-value")).to_have_text("0.75")
    expect(added.locator(".assessment-rationale")).to_have_text(
        "Answers the question <b>directly</b>."
    )
    tags = page.locator("#tag-form")
    tags.locator("input[name=key]").fill("reviewed")
    tags.locator("input[name=value]").fill("yes")
    tags.get_by_role("button", name="Add tag").click()
    tag = page.locator("#trace-tags .tag[data-key=reviewed]")
    expect(tag).to_contain_text("reviewed: yes")
    with ui_collector.sdk():
        info = spyglass.get_trace(chat_trace).info
        assert info.tags.get("reviewed") == "yes"
        feedback = [a for a in info.assessments if a.name == "helpfulness"]
        assert [a.value for a in feedback] == [0.75]
        assert feedback[0].source.source_type == "HUMAN"
    tag.get_by_role("button", name="Remove tag reviewed").click()
    expect(tag).to_have_count(0)
    with ui_collector.sdk():
        assert "reviewed" not in spyglass.get_trace(chat_trace).info.tags
    page_log.assert_clean()


def test_wide_trace_opens_with_selection_keyboard_and_error_mark(
    page: Page, page_log: PageLog, ui_collector: UiCollector, wide_trace: str
) -> None:
    response = page.goto(f"{ui_collector.base_url}/traces/{wide_trace}")
    assert response is not None and response.status == 200
    page.wait_for_selector(".wf-row[aria-selected=true]")
    # the page says when its tree is built and a row selected (the benchmark times this)
    marks = "() => performance.getEntriesByName('spyglass:waterfall-ready').length"
    assert page.evaluate(marks) == 1
    rows = page.locator(".wf-row")
    expect(rows.first).to_be_visible()
    assert rows.count() < 200, "only the rows near the scrolled window are built"
    page.locator(".wf-rows").focus()
    page.keyboard.press("ArrowDown")
    expect(rows.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("End")  # the last of the 2,000 rows: scrolled to and built
    last = page.locator(".wf-row[aria-selected=true]")
    expect(last).to_contain_text("item 39.")
    expect(last).to_be_in_viewport()
    data = json.loads(
        page.locator("template[id^=trace-spans-]").evaluate("t => t.content.textContent")
    )
    assert len(data["rows"]) == WIDE_SPANS
    assert [row[2] for row in data["rows"] if row[6]] == [WIDE_FAILED_SPAN]
    # scrolled to it, the failed span's row is marked
    page.locator(".wf-rows").evaluate("el => { el.scrollTop = 0; }")
    page.locator(".wf-rows").evaluate("el => { el.scrollTop = 150 * 26; }")
    failed = page.locator(".wf-row.wf-error")
    expect(failed).to_have_count(1)
    expect(failed.locator(".wf-label")).to_have_text(WIDE_FAILED_SPAN)
    expect(failed.locator(".wf-error-mark")).to_be_visible()
    page_log.assert_clean()
