"""Human review in Chromium against a real collector, on SQLite and PostgreSQL: a queue made
from a filter on the Review page, shared by two reviewers in two browser contexts (each
with their own session and name), who step through it with the keyboard (Ctrl+Enter
submit, s skip, k/j previous/next) and the buttons. No trace is handed to both, every trace
is reviewed once, and the values come back through ``spyglass.search_traces`` as
expectations and feedback with source HUMAN and the reviewers' names. A queue is also made
from the Traces page's selection (Actions → Add to review queue), and a bad filter or a
bad value is shown next to its field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from browser_support import PageLog, UiCollector
from playwright.sync_api import Browser, Page, expect

import spyglass

EXPERIMENT = "review queue"
QUESTIONS = [f"Question {n}: how do I get a refund?" for n in range(6)]
VIEWPORT = {"width": 1400, "height": 900}


@pytest.fixture(scope="module")
def ui_collector(ui_store_collector: UiCollector) -> UiCollector:
    """This module's tests run on each store (SQLite and PostgreSQL)."""
    return ui_store_collector


@pytest.fixture(scope="module")
def experiment_id(ui_collector: UiCollector) -> str:
    """The experiment with six ``support_app`` traces and one ``other`` trace."""
    with ui_collector.sdk(experiment=EXPERIMENT):

        @spyglass.trace
        def support_app(question: str) -> str:
            return f"Answer to {question!r}: within 30 days."

        @spyglass.trace
        def other(question: str) -> str:
            return "not for review"

        for question in QUESTIONS:
            support_app(question)
        other("x")
        experiment = spyglass.set_experiment(EXPERIMENT)
        found = spyglass.search_traces(return_type="list")
        assert len(found) == len(QUESTIONS) + 1
        return experiment.experiment_id


def set_name(page: Page, name: str) -> None:
    page.fill("#reviewer-name", name)
    page.click("#reviewer-save")
    expect(page.locator("#reviewer-name")).to_have_value(name)


def make_queue(page: Page, base: str, experiment_id: str, name: str) -> str:
    """Creates a queue over the support_app traces on the Review page; returns its id."""
    page.goto(f"{base}/experiments/{experiment_id}/review")
    page.click("#new-queue")
    page.fill("#queue-name", name)
    page.check("#source-filter")
    page.fill("#queue-filter", "trace.name = 'support_app'")
    # row 0 comes filled in: feedback "correct", yes / no
    page.fill("#field-1-name", "quality")
    page.select_option("#field-1-type", "CATEGORICAL")
    page.fill("#field-1-options", "good, bad")
    page.fill("#field-1-description", "Is the answer good?")
    page.fill("#field-2-name", "expected_answer")
    page.select_option("#field-2-kind", "EXPECTATION")
    page.select_option("#field-2-type", "TEXT")
    page.click("#create-queue")
    page.wait_for_url(f"{base}/experiments/{experiment_id}/review")
    row = page.locator("#review-queues tr", has_text=name)
    expect(row.locator(".queue-done")).to_have_text(f"0 / {len(QUESTIONS)}")
    queue_id = row.get_attribute("data-queue-id")
    assert queue_id
    return queue_id


def current_trace(page: Page) -> str | None:
    """The trace the page offers for review (None: nothing left), once its view loaded."""
    form = page.locator("#review-form")
    expect(page.locator("#review-form, #review-empty")).to_be_visible()
    if page.locator("#review-empty").count():
        return None
    trace_id = form.get_attribute("data-trace-id")
    expect(page.locator("#review-trace .trace-view")).to_have_attribute("data-trace-id", trace_id)
    return trace_id


def fill(page: Page, correct: bool, quality: str, expected: str) -> None:
    field = page.locator(".review-field[data-field=correct]")
    field.get_by_label("Yes" if correct else "No").check()
    page.locator(".review-field[data-field=quality]").get_by_label(quality).check()
    page.get_by_label("expected_answer").fill(expected)


def test_two_reviewers_share_a_queue(
    ui_collector: UiCollector,
    experiment_id: str,
    browser: Browser,
    page: Page,
    page_log: PageLog,
    screenshot: Callable[[Page, str], Path],
) -> None:
    base = ui_collector.base_url
    queue_id = make_queue(page, base, experiment_id, "shared queue")

    alice = page
    bob_context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    bob = bob_context.new_page()
    bob.on("pageerror", page_log.on_page_error)
    bob.on("console", page_log.on_console)
    try:
        for reviewer, name in ((alice, "alice"), (bob, "bob")):
            reviewer.goto(f"{base}/review/{queue_id}")
            expect(reviewer.locator("#review-form")).to_have_count(0)  # a name comes first
            set_name(reviewer, name)
        reviewed: dict[str, list[str]] = {"alice": [], "bob": []}
        skipped_by_bob: list[str] = []

        a, b = current_trace(alice), current_trace(bob)
        assert a and b and a != b  # both hold a trace at once, never the same
        expect(alice.locator("#progress-text")).to_contain_text("in progress")
        screenshot(alice, f"review-mode-{ui_collector.kind}")

        # bob skips his first trace with "s": he does not get it again, alice will
        with bob.expect_navigation():
            bob.locator("body").press("s")
        skipped_by_bob.append(b)
        b = current_trace(bob)
        assert b not in (a, skipped_by_bob[0])

        turn = 0
        while a or b:
            if a:  # alice submits with the keyboard
                fill(alice, correct=True, quality="good", expected=f"alice on {a[:8]}")
                with alice.expect_navigation():
                    alice.get_by_label("expected_answer").press("Control+Enter")
                reviewed["alice"].append(a)
                a = current_trace(alice)
            if b and turn % 2 == 0:  # bob clicks Submit
                fill(bob, correct=False, quality="bad", expected=f"bob on {b[:8]}")
                with bob.expect_navigation():
                    bob.click("#review-submit")
                reviewed["bob"].append(b)
                b = current_trace(bob)
            turn += 1
        assert not set(reviewed["alice"]) & set(reviewed["bob"])
        everything = reviewed["alice"] + reviewed["bob"]
        assert len(everything) == len(set(everything)) == len(QUESTIONS)
        assert skipped_by_bob[0] in reviewed["alice"]
        expect(bob.locator("#review-empty")).to_contain_text("Nothing left for you")

        # previous (k) shows alice's last review read-only; next (j) comes back
        with alice.expect_navigation():
            alice.locator("body").press("k")
        expect(alice.locator(".review-done-note")).to_be_visible()
        expect(alice.get_by_label("expected_answer")).to_have_value(
            f"alice on {reviewed['alice'][-1][:8]}"
        )
        expect(alice.get_by_label("expected_answer")).to_be_disabled()
        with alice.expect_navigation():
            alice.locator("body").press("j")
        expect(alice.locator("#review-empty")).to_be_visible()

        alice.goto(f"{base}/experiments/{experiment_id}/review")
        row = alice.locator("#review-queues tr", has_text="shared queue")
        expect(row.locator(".queue-done")).to_have_text(f"{len(QUESTIONS)} / {len(QUESTIONS)}")
        expect(row.locator(".queue-held")).to_have_text("0")
        screenshot(alice, f"review-queues-{ui_collector.kind}")
    finally:
        bob_context.close()
    page_log.assert_clean()

    with ui_collector.sdk(experiment=EXPERIMENT):
        frame = spyglass.search_traces(filter_string="trace.name = 'support_app'")
    assert len(frame) == len(QUESTIONS)
    for _, row in frame.iterrows():
        who = "alice" if row["trace_id"] in reviewed["alice"] else "bob"
        assert row["expectations"]["expected_answer"] == f"{who} on {row['trace_id'][:8]}"
        human = {a.name: a for a in row["assessments"] if a.source.source_type == "HUMAN"}
        assert set(human) == {"correct", "quality", "expected_answer"}
        assert {a.source.source_id for a in human.values()} == {who}
        assert human["correct"].value is (who == "alice")
        assert human["quality"].value == ("good" if who == "alice" else "bad")


def test_queue_from_the_traces_selection_and_errors_beside_fields(
    ui_collector: UiCollector, experiment_id: str, page: Page, page_log: PageLog
) -> None:
    base = ui_collector.base_url
    page.goto(f"{base}/experiments/{experiment_id}/traces")
    boxes = page.locator("#trace-selection input.row-select")
    expect(boxes).to_have_count(len(QUESTIONS) + 1)
    boxes.nth(0).check()
    boxes.nth(1).check()
    picked = [boxes.nth(n).get_attribute("value") for n in range(2)]
    page.click("#actions")
    page.click("#add-to-review")
    dialog = page.locator("#dialog")
    expect(dialog.locator("#source-selection")).to_be_checked()
    expect(dialog).to_contain_text("The 2 traces selected")
    dialog.locator("#queue-name").fill("picked by hand")
    dialog.locator("#field-0-name").fill("score")
    dialog.locator("#field-0-type").select_option("NUMBER")
    dialog.locator("#create-queue").click()
    page.wait_for_url(f"{base}/experiments/{experiment_id}/review")
    row = page.locator("#review-queues tr", has_text="picked by hand")
    expect(row.locator(".queue-done")).to_have_text("0 / 2")
    queue_id = row.get_attribute("data-queue-id")

    # a bad filter is shown beside the filter, with what was typed kept
    page.click("#new-queue")
    page.fill("#queue-name", "bad filter")
    page.fill("#queue-filter", "trace.name = ")
    page.click("#create-queue")
    expect(page.locator("#filter-error")).to_contain_text("trace.name")
    expect(page.locator("#queue-name")).to_have_value("bad filter")

    # a value not of the field's type is refused beside the field; skip takes the next one
    page.goto(f"{base}/review/{queue_id}")
    set_name(page, "carol")
    first = current_trace(page)
    assert first in picked
    page.get_by_label("score").fill("a lot")
    with page.expect_navigation():
        page.click("#review-submit")
    expect(page.locator(".review-field[data-field=score] .field-error")).to_contain_text(
        "not a number"
    )
    assert current_trace(page) == first  # still held by carol
    page.get_by_label("score").fill("4.5")
    with page.expect_navigation():
        page.get_by_label("score").press("Control+Enter")
    second = current_trace(page)
    assert second in picked and second != first
    with page.expect_navigation():
        page.click("#review-skip")
    expect(page.locator("#review-empty")).to_be_visible()
    page_log.assert_clean()
    with ui_collector.sdk(experiment=EXPERIMENT):
        trace = spyglass.get_trace(first)
    scores = [a for a in trace.info.assessments if a.name == "score"]
    assert [(s.value, s.source.source_type, s.source.source_id) for s in scores] == [
        (4.5, "HUMAN", "carol")
    ]
