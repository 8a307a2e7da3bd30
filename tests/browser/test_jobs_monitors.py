"""Jobs and monitors in Chromium on a real collector (SQLite and PostgreSQL).

Scores reach the collector as an evaluator worker sends them (Heartbeat, ClaimWork,
LogWorkResults, ReleaseLease over the JSON API), so the test controls every value:

* Jobs: a job submitted while no evaluator is alive shows the "No evaluator is running"
  notice; once a worker is alive and has stored 2 of 3 rows the page shows the progress
  (rows, chunks), the errors by scorer with the latest message and the live workers;
  **Cancel** (htmx, with the CSRF header) cancels it;
* Monitors: a refused form shows the collector's message next to the field; a monitor
  created in the form takes the traces, and after they are scored its page shows the
  counters and a chart of the score whose hover legend shows the bucket's mean; Pause and
  Resume change its state. No console error (a CSP violation would be one).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from browser_support import PageLog, UiCollector
from playwright.sync_api import Page, expect

WORKER = "browser-test-worker"


def _api(collector: UiCollector, method: str, body: dict[str, object]) -> dict:
    answer = httpx.post(f"{collector.base_url}/api/v1/{method}", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    found: dict = answer.json()
    return found


def _send(collector: UiCollector, service: str, n: int) -> str:
    """``n`` finished traces in experiment ``service``; returns the experiment id."""
    with collector.otel(resource={"service.name": service}) as otel:
        for k in range(n):
            with otel.tracer.start_as_current_span(
                "answer",
                attributes={
                    "input.value": json.dumps({"question": f"q{k}"}),
                    "output.value": json.dumps(f"a{k}"),
                },
            ):
                pass
        otel.flush_spans()
    found = _api(collector, "ExperimentService/GetExperimentByName", {"name": service})
    return str(found["experimentId"])


def _heartbeat(collector: UiCollector, stopping: bool = False) -> None:
    _api(
        collector,
        "EvaluationJobService/Heartbeat",
        {"workerId": WORKER, "concurrency": 1, "stopping": stopping},
    )


def _claim(collector: UiCollector, job_id: str, timeout: float = 40.0) -> dict:
    """A chunk of ``job_id`` (monitors' checks run on claims; PostgreSQL lets traces settle
    for 10 s before a monitor passes them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _heartbeat(collector)
        claim = _api(collector, "EvaluationJobService/ClaimWork", {"workerId": WORKER})
        if claim.get("leaseId"):
            if claim["job"]["jobId"] == job_id:
                return claim
            _api(  # another test's work: give it back
                collector,
                "EvaluationJobService/ReleaseLease",
                {"leaseId": claim["leaseId"], "workerId": WORKER, "done": False},
            )
        time.sleep(0.5)
    raise AssertionError(f"no chunk of job {job_id} within {timeout} s")


def _log(collector: UiCollector, claim: dict, values: list[float | None], done: bool) -> None:
    records = []
    for item, value in zip(claim["items"], values):
        score: dict[str, object] = {"name": "exact_match"}
        if value is None:
            score["error"] = {"errorCode": "ScorerError", "errorMessage": "judge timed out"}
        else:
            score.update(valueJson=json.dumps(value), score=value)
        records.append(
            {"rowIndex": item.get("rowIndex", 0), "traceId": item["traceId"], "scores": [score]}
        )
    _api(
        collector,
        "EvaluationJobService/LogWorkResults",
        {"leaseId": claim["leaseId"], "workerId": WORKER, "records": records},
    )
    if done:
        _api(
            collector,
            "EvaluationJobService/ReleaseLease",
            {"leaseId": claim["leaseId"], "workerId": WORKER, "done": True},
        )


def test_jobs_progress_notice_and_cancel(
    ui_store_collector: UiCollector,
    page: Page,
    page_log: PageLog,
    screenshot: Callable[[Page, str], Path],
) -> None:
    collector = ui_store_collector
    _heartbeat(collector, stopping=True)
    experiment_id = _send(collector, "jobs-browser", 3)
    job = _api(
        collector,
        "EvaluationJobService/SubmitJob",
        {
            "name": "nightly quality",
            "input": {"traces": {"experiment": experiment_id}},
            "scorers": [{"type": "ExactMatch"}],
            "chunkSize": 2,
        },
    )
    page.goto(f"{collector.base_url}/jobs")
    expect(page.locator("#no-evaluator")).to_contain_text("No evaluator is running")
    expect(page.locator("#no-evaluator")).to_contain_text("spyglass evaluator serve")
    row = page.locator(f"#jobs tr[data-job-id='{job['jobId']}']")
    expect(row.locator(".status")).to_have_text("PENDING")
    expect(row).to_contain_text("0 / 3 rows")

    claim = _claim(collector, job["jobId"])
    _log(collector, claim, [1.0, None], done=True)
    _heartbeat(collector)
    page.goto(f"{collector.base_url}/jobs")
    expect(page.locator("#no-evaluator")).to_have_count(0)
    expect(page.locator("#live-workers")).to_have_text("1")
    expect(row.locator(".status")).to_have_text("RUNNING")
    expect(row).to_contain_text("2 / 3 rows")
    expect(row).to_contain_text("1 with errors")
    expect(row).to_contain_text("chunks 1 done of 2")
    expect(row.locator(".scorer-errors")).to_contain_text("exact_match")
    expect(row.locator(".last-error")).to_contain_text("judge timed out")
    bar = row.locator(".progress-bar")
    assert (
        0.6
        < bar.evaluate(
            "e => e.getBoundingClientRect().width / e.parentElement.getBoundingClientRect().width"
        )
        < 0.72
    )
    screenshot(page, "jobs-list")

    page.goto(f"{collector.base_url}/jobs/{job['jobId']}")
    expect(page.locator("#job-status")).to_have_text("RUNNING")
    expect(page.locator("#job-errors")).to_contain_text("judge timed out")
    screenshot(page, "jobs-detail")
    page.locator("#job-live button.cancel").click()
    expect(page.locator("#job-status")).to_have_text("CANCELLED")
    expect(page.locator("#job-live button.cancel")).to_have_count(0)
    got = _api(collector, "EvaluationJobService/GetJob", {"jobId": job["jobId"]})
    assert got["status"] == "CANCELLED"
    _heartbeat(collector, stopping=True)
    page_log.assert_clean()


def test_monitor_form_charts_and_pause(
    ui_store_collector: UiCollector,
    page: Page,
    page_log: PageLog,
    screenshot: Callable[[Page, str], Path],
) -> None:
    collector = ui_store_collector
    experiment_id = _send(collector, "monitors-browser", 3)
    page.goto(f"{collector.base_url}/experiments/{experiment_id}/monitors")
    page.locator("#new-monitor summary").click()
    page.locator("#m-name").fill("quality")
    page.locator("#m-rate").fill("2")
    page.locator("#m-quiet").fill("0")
    page.locator("#m-scorers").fill("ExactMatch")
    page.locator("#monitor-form button[type=submit]").click()
    expect(page.locator("#error-sample_rate")).to_contain_text("sample_rate must be above 0")
    page.locator("#m-rate").fill("1")
    page.locator("#m-scorers").fill("ExactMatch\nExactMatch")
    page.locator("#monitor-form button[type=submit]").click()
    expect(page.locator("#error-scorers")).to_contain_text("two scorers are named 'exact_match'")
    page.locator("#m-scorers").fill("ExactMatch")
    page.locator("input[name=include_existing]").check()
    page.locator("#monitor-form button[type=submit]").click()
    row = page.locator("#monitors tr[data-monitor='quality']")
    expect(row.locator(".monitor-state")).to_have_text("running")

    monitor = _api(collector, "EvaluationJobService/GetMonitor", {"monitor": "quality"})
    claim = _claim(collector, monitor["jobId"])
    assert len(claim["items"]) == 3
    _log(collector, claim, [1.0, 0.0, None], done=True)
    _heartbeat(collector, stopping=True)

    page.goto(f"{collector.base_url}/monitors/{monitor['monitorId']}?window=1h")
    expect(page.locator("#count-seen")).to_have_text("3")
    expect(page.locator("#count-sampled")).to_have_text("3")
    expect(page.locator("#count-scored")).to_have_text("3")
    expect(page.locator(".window-figures")).to_contain_text("0.500 (2 scored, 1 error)")
    block = page.locator("section.chart-block[data-score='exact_match']")
    expect(block.locator("canvas")).to_have_count(1)
    over = block.locator(".u-over")
    box = over.bounding_box()
    assert box is not None and box["width"] > 300
    legend = block.locator(".u-legend")
    shown = []
    for dx in (2, 6, 12, 20, 30, 45):  # the newest buckets are at the right edge
        page.mouse.move(box["x"] + box["width"] - dx, box["y"] + box["height"] / 2)
        shown.append(legend.inner_text())
        if "0.500" in shown[-1]:
            break
    assert "0.500" in shown[-1], shown
    assert "exact_match mean" in shown[-1]
    screenshot(page, "monitors-chart")

    page.locator("button.pause").click()
    expect(page.locator(".toolbar .monitor-state")).to_have_text("paused")
    page.locator("button.resume").click()
    expect(page.locator(".toolbar .monitor-state")).to_have_text("running")
    page.goto(f"{collector.base_url}/experiments/{experiment_id}/monitors")
    expect(row.locator(".scored")).to_have_text("3")
    screenshot(page, "monitors-list")
    # the two refused forms answer 400, which Chromium logs; nothing else may be reported
    others = [e for e in page_log.errors if not ("400 (Bad Request)" in e and "/monitors" in e)]
    assert len(page_log.errors) - len(others) == 2 and not others, page_log.errors
    assert not page_log.dialogs
