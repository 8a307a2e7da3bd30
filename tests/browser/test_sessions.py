"""Sessions in Chromium against a real collector, on SQLite and PostgreSQL: a three-turn chat
made with the Spyglass SDK (``update_current_trace(session_id=, user_id=)``) is listed on the
experiment's Sessions page with its first input, turns and feedback mean (scored and error
counts beside it), and opens as the conversation turn by turn (each turn's new user message and
the reply, not the resent history), each turn linked to its trace; a session made with the
official OTel SDK's ``session.id`` attribute (an id with a quote and a slash, a reply with
markup that must stay text) opens the same way; the ``user.id`` filter narrows the list and a
bad filter is shown under the box."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from browser_support import PageLog, UiCollector
from playwright.sync_api import Page, expect

import spyglass
from spyglass.entities import AssessmentError

SYSTEM = {"role": "system", "content": "You are the shop's support assistant."}
TURNS = [
    ("Hi, I need help with an order.", "Hello! What is the order number?"),
    ("It is order 1234.", "Thanks. Order 1234 shipped yesterday."),
    ("When will it arrive?", "It should arrive on Friday."),
]
SESSION = "support-42"
OTEL_SESSION = "o'hara/7"
OTEL_ANSWER = "Cold and sunny. <img src=x onerror=alert(1)><script>alert(2)</script>"


@pytest.fixture(scope="module")
def ui_collector(ui_store_collector: UiCollector) -> UiCollector:
    """This module's tests run on each store (SQLite and PostgreSQL)."""
    return ui_store_collector


@pytest.fixture(scope="module")
def chat(ui_collector: UiCollector) -> dict[str, Any]:
    """A three-turn session (and a one-turn one of another user) made with the SDK, with
    feedback on two turns (one of them an error); the experiment id and turn trace ids."""
    with ui_collector.sdk(experiment="support chat"):

        @spyglass.trace
        def support(messages: list[dict[str, str]], session_id: str, user: str) -> str:
            spyglass.update_current_trace(session_id=session_id, user_id=user)
            span = spyglass.get_current_active_span()
            assert span is not None
            traced.append(span.trace_id)
            return replies[len(traced) - 1]

        traced: list[str] = []
        replies = [answer for _, answer in TURNS] + ["Sure."]
        history: list[dict[str, str]] = [SYSTEM]
        for question, answer in TURNS:
            history.append({"role": "user", "content": question})
            support(messages=list(history), session_id=SESSION, user="ada")
            history.append({"role": "assistant", "content": answer})
        support(
            messages=[SYSTEM, {"role": "user", "content": "Hello"}], session_id="s-2", user="bo"
        )
        for trace_id in traced:
            spyglass.get_trace(trace_id)  # waits for the export
        spyglass.log_feedback(trace_id=traced[0], name="helpful", value=1.0)
        spyglass.log_feedback(
            trace_id=traced[2], name="helpful", error=AssessmentError("TIMEOUT", "judge timed out")
        )
        experiment = spyglass.get_experiment_by_name("support chat")
        assert experiment is not None
        return {"experiment_id": experiment.experiment_id, "traces": traced}


@pytest.fixture(scope="module")
def otel_session(ui_collector: UiCollector) -> str:
    """A one-turn session sent by the official OTel SDK (OpenInference input/output values,
    ``session.id``); its experiment's id."""
    with ui_collector.otel(resource={"service.name": "sessions otel"}) as sdk:
        with sdk.tracer.start_as_current_span(
            "weather",
            attributes={
                "session.id": OTEL_SESSION,
                "user.id": "otel-user",
                "input.value": "What's the weather in Oslo?",
                "output.value": OTEL_ANSWER,
            },
        ):
            pass
        sdk.flush_spans()
    with ui_collector.sdk():
        experiment = spyglass.get_experiment_by_name("sessions otel")
        assert experiment is not None
        return experiment.experiment_id


def sessions_url(collector: UiCollector, experiment_id: str) -> str:
    return f"{collector.base_url}/experiments/{experiment_id}/sessions"


def test_a_three_turn_session_lists_and_opens_as_a_conversation(
    page: Page,
    page_log: PageLog,
    ui_collector: UiCollector,
    chat: dict[str, Any],
    screenshot: Callable[[Page, str], Path],
) -> None:
    response = page.goto(sessions_url(ui_collector, chat["experiment_id"]))
    assert response is not None and response.status == 200
    rows = page.locator("tr.session-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-session-id", "s-2")  # newest first
    row = page.locator(f'tr.session-row[data-session-id="{SESSION}"]')
    expect(row.locator("td.turns")).to_have_text("3")
    expect(row).to_contain_text("ada")
    expect(row.locator("td.first-input")).to_have_text(TURNS[0][0])  # what the user said
    expect(row.locator("td.feedback")).to_contain_text("helpful 1.000 (1 scored, 1 error)")
    if ui_collector.kind == "sqlite":
        screenshot(page, "sessions-list")

    row.locator("a.session-link").click()
    expect(page).to_have_url(
        f"{ui_collector.base_url}/sessions/{SESSION}?experiment={chat['experiment_id']}"
    )
    turns = page.locator("li.turn")
    expect(turns).to_have_count(3)
    for number, (question, answer) in enumerate(TURNS):
        turn = turns.nth(number)
        expect(turn.locator(".turn-number")).to_have_text(f"Turn {number + 1}")
        expect(turn.locator(".msg-user .msg-text")).to_have_text([question])  # history not resent
        expect(turn.locator(".msg-assistant .msg-text")).to_have_text([answer])
        expect(turn.locator("a.turn-trace")).to_have_attribute(
            "href", f"/traces/{chat['traces'][number]}"
        )
    expect(turns.nth(0)).to_contain_text("helpful: 1")
    expect(turns.nth(2)).to_contain_text("helpful: error: judge timed out")
    expect(page.locator("#session-turns")).to_have_text("3")
    if ui_collector.kind == "sqlite":
        screenshot(page, "sessions-view")

    turns.nth(2).locator("a.turn-trace").click()
    expect(page).to_have_url(f"{ui_collector.base_url}/traces/{chat['traces'][2]}")
    expect(page.locator(".wf-row").first).to_be_visible()
    page_log.assert_clean()


def test_a_session_from_the_otel_sdk_opens_the_same_way(
    page: Page, page_log: PageLog, ui_collector: UiCollector, otel_session: str
) -> None:
    page.goto(sessions_url(ui_collector, otel_session))
    row = page.locator("tr.session-row")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-session-id", OTEL_SESSION)
    expect(row).to_contain_text("otel-user")
    row.locator("a.session-link").click()
    expect(page).to_have_url(
        f"{ui_collector.base_url}/sessions/{quote(OTEL_SESSION, safe='')}?experiment={otel_session}"
    )
    turn = page.locator("li.turn")
    expect(turn).to_have_count(1)
    expect(turn.locator(".msg-user .msg-text")).to_have_text("What's the weather in Oslo?")
    expect(turn.locator(".msg-assistant .msg-text")).to_have_text(OTEL_ANSWER)  # text, not HTML
    expect(page.locator("li.turn img, li.turn .msg-text script")).to_have_count(0)
    page_log.assert_clean()


def test_filters_narrow_the_list_and_bad_ones_say_why(
    page: Page, page_log: PageLog, ui_collector: UiCollector, chat: dict[str, Any]
) -> None:
    base = sessions_url(ui_collector, chat["experiment_id"])
    page.goto(base)
    page.locator("#session-filter").fill("user.id = 'ada'")
    page.locator("#session-filter").press("Enter")
    expect(page.locator("tr.session-row")).to_have_count(1)
    expect(page.locator("tr.session-row")).to_have_attribute("data-session-id", SESSION)
    response = page.goto(base + "?filter=" + quote("session.idd = 'x'"))
    assert response is not None and response.status == 400
    expect(page.locator("#filter-error .filter-error")).to_contain_text("unknown field")
    expect(page.locator("#session-filter")).to_have_value("session.idd = 'x'")
    missing = page.goto(f"{ui_collector.base_url}/sessions/nope?experiment={chat['experiment_id']}")
    assert missing is not None and missing.status == 404
    page_log.errors.clear()  # the 400 and 404 responses are logged by Chromium as console errors
    page_log.assert_clean()
