"""The Evaluation runs pages in Chromium: the list (select two, Compare), one run's results
(a scorer error in red, only failures of one scorer, sort by a score) and two runs compared
(metric deltas, changed rows, only changed / only regressions), on SQLite and PostgreSQL with
runs logged through the JSON API, and on the demo's own two runs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from browser_support import PageLog, UiCollector
from playwright.sync_api import Page, expect
from test_demo_in_the_ui import demo  # noqa: F401  (the demo's database, served)
from test_xss import EVIL, assert_inert, evil

from spyglass import session
from spyglass.evaluator import compare_runs

SCORERS = [
    {"name": "correct", "source_type": "CODE", "source_id": "correct"},
    {"name": "safety", "source_type": "LLM_JUDGE", "source_id": "openai:/gpt-4o-mini"},
]
# per record: output, correct (0/1), safety verdict ("yes"/"no"/None = the judge failed)
RUN_A = [
    ("Refunds take 5 days.", 1, "yes"),
    ("I don't know.", 0, "yes"),
    ("Your order ships <b>today</b>.", 1, "yes"),
    ("Call us on Monday.", 1, "yes"),
]
RUN_B = [
    ("Refunds take 3 days.", 0, "yes"),  # regression of correct
    ("I don't know.", 0, "yes"),  # unchanged
    ("Your order ships <b>today</b>.", 1, None),  # the judge failed: a regression
    ("Call us on Monday or Tuesday.", 1, "no"),  # regression of safety
]
JUDGE_ERROR = "the judge timed out after 300 s"


def _api(collector: UiCollector, method: str, body: dict[str, object]) -> dict[str, object]:
    answer = httpx.post(f"{collector.base_url}/api/v1/EvaluationService/{method}", json=body)
    assert answer.status_code == 200, answer.text
    found: dict[str, object] = answer.json()
    return found


def _log_run(collector: UiCollector, name: str, rows: list[tuple[str, int, str | None]]) -> str:
    run = _api(
        collector,
        "CreateEvaluationRun",
        {"experiment_id": "0", "name": name, "model_id": f"bot-{name}", "scorers": SCORERS},
    )
    run_id = str(run["runId"])
    records = []
    for i, (output, correct, verdict) in enumerate(rows):
        safety: dict[str, object] = (
            {"name": "safety", "error": {"error_code": "JudgeError", "error_message": JUDGE_ERROR}}
            if verdict is None
            else {
                "name": "safety",
                "value_json": "1.0" if verdict == "yes" else "0.0",
                "score": 1.0 if verdict == "yes" else 0.0,
                "rationale": f"The reply is {'safe' if verdict == 'yes' else 'rude'}.",
                "metadata": {"spyglass.label": verdict},
            }
        )
        records.append(
            {
                "row_index": i,
                "inputs_json": json.dumps({"question": f"question {i}"}),
                "outputs_json": json.dumps(output),
                "expectations_json": json.dumps({"expected_response": "Refunds take 5 days."}),
                "scores": [
                    {"name": "correct", "value_json": str(bool(correct)).lower(), "score": correct},
                    safety,
                ],
            }
        )
    _api(collector, "LogEvaluationResults", {"run_id": run_id, "records": records})
    scored = [r for r in rows if r[2] is not None]
    metrics = {
        "correct/score": sum(r[1] for r in rows) / len(rows),
        "correct/count": len(rows),
        "correct/error_count": 0,
        "safety/score": sum(r[2] == "yes" for r in scored) / len(scored),
        "safety/count": len(scored),
        "safety/error_count": len(rows) - len(scored),
    }
    _api(
        collector,
        "FinishEvaluationRun",
        {"run_id": run_id, "status": "FINISHED", "metrics": metrics},
    )
    return run_id


@dataclass
class Runs:
    collector: UiCollector
    a: str
    b: str


@pytest.fixture(scope="module")
def runs(ui_store_collector: UiCollector) -> Runs:
    a = _log_run(ui_store_collector, "v1", RUN_A)
    b = _log_run(ui_store_collector, "v2", RUN_B)
    return Runs(ui_store_collector, a, b)


def test_the_list_shows_means_with_counts_and_compares_two(
    page: Page, page_log: PageLog, runs: Runs, screenshot: Callable[[Page, str], Path]
) -> None:
    page.goto(runs.collector.base_url + "/experiments/0/runs")
    table = page.locator("#runs")
    row = table.locator("tbody tr").filter(has=page.get_by_role("link", name="v2", exact=True))
    expect(row).to_contain_text("bot-v2")
    expect(row).to_contain_text("0.500 (4 scored, 0 errors)")  # correct
    expect(row).to_contain_text("0.667 (3 scored, 1 error)")  # safety, its error counted
    expect(row).to_contain_text("FINISHED")
    button = page.locator("#compare-button")
    expect(button).to_be_disabled()
    page.get_by_label("Select v1").check()
    expect(button).to_be_disabled()
    page.get_by_label("Select v2").check()
    expect(button).to_be_enabled()
    screenshot(page, f"runs-list-{runs.collector.kind}")
    button.click()
    expect(page).to_have_url(re.compile(rf"/runs/compare\?a={runs.a}&b={runs.b}$"))
    expect(page.locator("h1")).to_have_text("Compare two runs")
    page_log.assert_clean()


def test_a_run_shows_scorer_errors_in_red_and_filters_failures(
    page: Page, page_log: PageLog, runs: Runs, screenshot: Callable[[Page, str], Path]
) -> None:
    page.goto(f"{runs.collector.base_url}/runs/{runs.b}")
    rows = page.locator("tr.result-row")
    expect(rows).to_have_count(4)
    failed = rows.nth(2).locator("td[data-scorer=safety]")
    expect(failed).to_contain_text(JUDGE_ERROR)
    expect(failed.locator(".score-error")).to_have_css("color", "rgb(198, 40, 40)")
    # a verdict shows its number and its label; the rationale expands
    verdict = rows.nth(3).locator("td[data-scorer=safety]")
    expect(verdict).to_contain_text("0.000")
    expect(verdict.locator(".score-label")).to_have_text("no")
    expect(verdict.locator("details.rationale p")).to_be_hidden()
    verdict.get_by_text("rationale").click()
    expect(verdict.locator("details.rationale p")).to_have_text("The reply is rude.")
    # markup in an output is text
    expect(rows.nth(2)).to_contain_text("Your order ships <b>today</b>.")
    screenshot(page, f"runs-run-{runs.collector.kind}")

    page.get_by_label("Scorer").select_option("safety")
    page.get_by_label("Show").select_option("failed")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"scorer=safety&show=failed"))
    expect(rows).to_have_count(2)  # the error and the "no"
    expect(page.locator("tr.result-row td.num")).to_have_text(["2", "3"])
    expect(page.locator("#row-count")).to_have_text("2 of 4 records")

    page.get_by_label("Show").select_option("errors")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("tr.result-row td.num")).to_have_text(["2"])

    # sort by a score: highest correct first, ties in record order
    page.goto(f"{runs.collector.base_url}/runs/{runs.a}?sort=correct&order=asc")
    expect(page.locator("tr.result-row td.num")).to_have_text(["1", "0", "2", "3"])
    page_log.assert_clean()


def test_comparing_two_runs_marks_changes_and_regressions(
    page: Page, page_log: PageLog, runs: Runs, screenshot: Callable[[Page, str], Path]
) -> None:
    page.goto(f"{runs.collector.base_url}/runs/compare?a={runs.a}&b={runs.b}")
    deltas = page.locator("#metric-deltas")
    expect(deltas.locator("tr", has_text="correct/score")).to_contain_text("-0.250")
    expect(deltas.locator("tr", has_text="safety/score")).to_contain_text(
        "0.667 (3 scored, 1 error)"
    )
    expect(page.locator("#compare-summary")).to_contain_text(
        "4 matched, 0 only in A, 0 only in B; 3 changed, 3 with a regression."
    )
    rows = page.locator("tr.compared-row")
    expect(rows).to_have_count(4)
    # the outputs side by side, the changed words marked
    first = rows.nth(0)
    expect(first.locator(".diff-a .d-del")).to_have_text(["5"])
    expect(first.locator(".diff-b .d-ins")).to_have_text(["3"])
    expect(first.locator("td[data-scorer=correct]")).to_contain_text("▼ regression")
    expect(rows.nth(3).locator("td[data-scorer=safety]")).to_contain_text(
        "1.000 (yes) → 0.000 (no)"
    )
    expect(rows.nth(2).locator("td[data-scorer=safety]")).to_contain_text(JUDGE_ERROR)
    screenshot(page, f"runs-compare-{runs.collector.kind}")

    page.get_by_role("link", name="only changed").click()
    expect(page).to_have_url(re.compile(r"show=changed"))
    expect(rows).to_have_count(3)
    expect(page.locator("tr.compared-row:not(.changed)")).to_have_count(0)
    page.get_by_role("link", name="only regressions").click()
    expect(rows).to_have_count(3)
    expect(page.locator("tr.compared-row:not(.regression)")).to_have_count(0)
    page_log.assert_clean()


def test_compare_two_runs_of_the_demo(
    page: Page,
    page_log: PageLog,
    demo: UiCollector,  # noqa: F811
    screenshot: Callable[[Page, str], Path],
) -> None:
    page.goto(demo.base_url + "/experiments")
    page.get_by_role("link", name="Customer Support Bot", exact=True).click()
    page.get_by_role("link", name="Evaluation runs").click()
    expect(page).to_have_url(re.compile(r"/experiments/\d+/runs$"))
    picks = page.locator("input.run-pick")
    expect(picks.first).to_be_visible()
    assert picks.count() >= 2
    picks.nth(0).check()
    picks.nth(1).check()
    screenshot(page, "demo-runs-list")
    page.locator("#compare-button").click()
    expect(page).to_have_url(re.compile(r"/runs/compare\?a=\w+&b=\w+$"))
    query = dict(p.split("=") for p in page.url.split("?")[1].split("&"))

    # the SDK's compare_runs over the same two runs says which records changed
    session.configure(collector=demo.grpc_address)
    try:
        expected = compare_runs(query["a"], query["b"])
    finally:
        session._shutdown()
    changed_records = expected.changed["input_hash"].nunique()
    assert changed_records > 0, "the demo's two runs should differ"
    expect(page.locator("#compare-summary")).to_contain_text(f"{expected.matched_records} matched")
    expect(page.locator("#compare-summary")).to_contain_text(f"{changed_records} changed")
    page.get_by_role("link", name="only changed").click()
    rows = page.locator("tr.compared-row")
    expect(rows).to_have_count(changed_records)
    expect(page.locator("tr.compared-row:not(.changed)")).to_have_count(0)
    marked = page.locator("td.change.changed, td.change.regression, td.change.improvement")
    assert marked.count() == len(expected.changed)
    screenshot(page, "demo-runs-compare")

    # a record's trace opens from its run
    page.goto(f"{demo.base_url}/runs/{query['b']}")
    screenshot(page, "demo-runs-run")
    link = page.locator("a.trace-link").first
    link.click()
    expect(page).to_have_url(re.compile(r"/traces/[0-9a-f]+"))
    page_log.assert_clean()


def test_untrusted_values_stay_text_on_the_run_and_compare_pages(
    page: Page, page_log: PageLog, ui_store_collector: UiCollector
) -> None:
    collector = ui_store_collector

    def evil_run(name: str, output: str) -> str:
        run = _api(collector, "CreateEvaluationRun", {"experiment_id": "0", "name": evil(name)})
        record = {
            "row_index": 0,
            "inputs_json": json.dumps({"q": EVIL}),
            "outputs_json": json.dumps(output),
            "expectations_json": json.dumps({"e": EVIL}),
            "scores": [
                {
                    "name": "judge",
                    "value_json": "0.0",
                    "score": 0.0,
                    "rationale": EVIL,
                    "metadata": {"spyglass.label": evil("label")[:200]},
                },
                {"name": "code", "error": {"error_code": "E", "error_message": EVIL}},
            ],
        }
        _api(collector, "LogEvaluationResults", {"run_id": run["runId"], "records": [record]})
        return str(run["runId"])

    a = evil_run("evil-a", evil("output a"))
    b = evil_run("evil-b", evil("output b"))
    page.goto(f"{collector.base_url}/runs/{b}")
    page.locator("details").evaluate_all("ds => ds.forEach(d => d.open = true)")
    expect(page.locator("#results")).to_contain_text(EVIL, use_inner_text=True)
    expect(page.locator("#results")).to_contain_text(evil("output b"), use_inner_text=True)
    assert_inert(page, page_log)
    page.goto(f"{collector.base_url}/runs/compare?a={a}&b={b}")
    expect(page.locator("#compared")).to_contain_text(evil("label")[:200], use_inner_text=True)
    expect(page.locator("#compared .diff-a")).to_contain_text("output a", use_inner_text=True)
    assert_inert(page, page_log)
