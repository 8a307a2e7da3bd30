"""Traces → Actions → Add to evaluation dataset, in Chromium on a real collector (SQLite and
PostgreSQL), on traces sent by the official OTel SDK: select some rows, create a dataset in
the dialog, export, select all and export again; then the records, version and digest as the
Python API reads them (``get_dataset(...).to_df()``), and the same digest from
``merge_records(traces)`` in the SDK."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from browser_support import PageLog, UiCollector
from playwright.sync_api import Locator, Page, expect

import spyglass
from spyglass.evaluator.datasets import create_dataset, get_dataset

QUESTIONS = [f"How do I reset password #{n}?" for n in range(5)]
EXPECTED = "Use the reset link on the sign-in page."


def _send_traces(collector: UiCollector, service: str) -> None:
    """One trace per question: a root span whose inputs/outputs the collector recognises
    (OpenInference ``input.value`` JSON, ``output.value``), with an LLM child span."""
    with collector.otel(resource={"service.name": service}) as otel:
        for question in QUESTIONS:
            with (
                otel.tracer.start_as_current_span(
                    "answer",
                    attributes={
                        "input.value": json.dumps({"question": question}),
                        "input.mime_type": "application/json",
                        "output.value": f"answer to {question}",
                    },
                ),
                otel.tracer.start_as_current_span(
                    "chat", attributes={"openinference.span.kind": "LLM"}
                ),
            ):
                pass
        otel.flush_spans()


def _open_export_dialog(page: Page) -> Locator:
    page.locator("#actions").click()
    page.locator("#add-to-dataset").click()
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Export traces to evaluation dataset")
    return dialog


def _dataset_row(dialog: Locator, name: str) -> Locator:
    return dialog.locator("#export-datasets tbody tr").filter(
        has=dialog.page.locator("td.dataset-name", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def _shown_result(dialog: Locator) -> dict[str, str]:
    result = dialog.locator("#export-result")
    expect(result).to_be_visible()
    return {
        key: result.locator(selector).inner_text().strip()
        for key, selector in {
            "inserted": ".count-inserted",
            "updated": ".count-updated",
            "unchanged": ".count-unchanged",
            "version": ".result-version",
            "digest": ".result-digest",
        }.items()
    }


def test_add_to_evaluation_dataset_from_traces_page(
    page: Page,
    page_log: PageLog,
    ui_store_collector: UiCollector,
    screenshot: Callable[[Page, str], Path],
) -> None:
    collector = ui_store_collector
    service = f"export-flow-{collector.kind}"
    dataset_name = f"support-questions-{collector.kind}"
    _send_traces(collector, service)
    with collector.sdk():
        experiment = spyglass.get_experiment_by_name(service)
        assert experiment is not None
        traces = spyglass.search_traces([experiment.experiment_id], return_type="list")
        assert len(traces) == len(QUESTIONS)
        # one trace carries an expectation, which its record must carry too
        marked = next(
            t for t in traces if t.data._get_root_span().inputs["question"] == QUESTIONS[0]
        )
        spyglass.log_expectation(marked.info.trace_id, "expected_answer", EXPECTED)

    page.goto(f"{collector.base_url}/experiments/{experiment.experiment_id}/traces")
    rows = page.locator("input.row-select")
    expect(rows).to_have_count(len(QUESTIONS))

    # -- some rows: create a dataset in the dialog and export them into it ------------------
    rows.nth(0).check()
    rows.nth(1).check()
    first_two = {rows.nth(0).get_attribute("value"), rows.nth(1).get_attribute("value")}
    dialog = _open_export_dialog(page)
    expect(dialog.locator("#export-selection-count")).to_have_text("2 traces selected")

    dialog.get_by_text("Create new dataset").click()
    expect(dialog.get_by_role("heading")).to_have_text("Create Dataset")
    expect(dialog.get_by_label("Name")).to_be_focused()
    dialog.get_by_label("Name").fill(dataset_name)
    dialog.get_by_label("Tags").fill("stage=validation")
    screenshot(page, "create-dataset" if collector.kind == "sqlite" else "create-dataset-pg")
    dialog.get_by_role("button", name="Create", exact=True).click()

    expect(dialog.get_by_role("heading")).to_have_text("Export traces to evaluation dataset")
    expect(dialog.locator("#created-notice")).to_contain_text(dataset_name)
    row = _dataset_row(dialog, dataset_name)
    expect(row).to_have_count(1)
    expect(row.locator(".dataset-records")).to_have_text("0")
    expect(row.locator(".dataset-version")).to_have_text("0")

    row.get_by_role("button", name="Export").click()
    first = _shown_result(dialog)
    assert (first["inserted"], first["updated"], first["unchanged"]) == ("2", "0", "0"), first
    assert first["version"] == "1", first
    row = _dataset_row(dialog, dataset_name)
    expect(row.locator(".dataset-records")).to_have_text("2")
    expect(row.locator(".dataset-version")).to_have_text("1")
    expect(dialog.get_by_role("link", name="Back to Traces")).to_be_hidden()  # page only
    screenshot(page, "export-dialog" if collector.kind == "sqlite" else "export-dialog-pg")

    # a taken name: the collector's message in the form, nothing else changes
    dialog.get_by_text("Create new dataset").click()
    expect(dialog.get_by_label("Name")).to_be_focused()  # the form has settled
    dialog.get_by_label("Name").fill(dataset_name)
    dialog.get_by_label("Tags").fill("stage")
    dialog.get_by_role("button", name="Create", exact=True).click()
    expect(dialog.locator("#create-error")).to_contain_text("'stage' is not key=value")
    # the form was swapped in: let htmx finish settling it before typing into it
    expect(page.locator(".htmx-settling, .htmx-swapping, .htmx-request")).to_have_count(0)
    dialog.get_by_label("Tags").fill("")
    expect(dialog.get_by_label("Tags")).to_have_value("")
    dialog.get_by_role("button", name="Create", exact=True).click()
    expect(dialog.locator("#create-error")).to_contain_text("already exists")
    expect(dialog.get_by_label("Name")).to_have_value(dataset_name)

    # Close, then Escape, close the dialog
    dialog.locator("footer, .dialog-foot").get_by_role("link", name="Back").click()
    dialog.locator(".dialog-foot").get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    _open_export_dialog(page)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # -- every row (the header checkbox): 3 new records, the 2 exported before unchanged ---
    page.locator("#select-all").check()
    expect(page.locator("input.row-select:checked")).to_have_count(len(QUESTIONS))
    all_ids = {rows.nth(n).get_attribute("value") for n in range(len(QUESTIONS))}
    dialog = _open_export_dialog(page)
    expect(dialog.locator("#export-selection-count")).to_have_text("5 traces selected")
    _dataset_row(dialog, dataset_name).get_by_role("button", name="Export").click()
    second = _shown_result(dialog)
    assert (second["inserted"], second["updated"], second["unchanged"]) == ("3", "0", "2"), second
    assert second["version"] == "2", second
    expect(_dataset_row(dialog, dataset_name).locator(".dataset-records")).to_have_text("5")
    page_log.assert_clean()

    # -- what the Python API reads ----------------------------------------------------------
    with collector.sdk():
        dataset = get_dataset(name=dataset_name)
        assert dataset.version == 2
        assert len(dataset) == len(QUESTIONS)
        assert dataset.tags == {"stage": "validation"}
        assert experiment.experiment_id in dataset.experiment_ids
        assert dataset.digest.startswith(second["digest"]), (dataset.digest, second)
        assert get_dataset(name=dataset_name, version=1).digest.startswith(first["digest"])
        versions = dataset.versions()
        assert [v.version for v in versions][:2] == [2, 1]
        # the open UI has no user identity: what it changes is recorded as the web UI's
        assert dataset.created_by == "web-ui"
        assert versions[0].created_by == "web-ui"

        frame = dataset.to_df()
        assert sorted(q["question"] for q in frame["inputs"]) == sorted(QUESTIONS)
        assert set(frame["source_id"]) == all_ids
        assert set(frame["source_type"]) == {"TRACE"}
        by_question = {q["question"]: n for n, q in enumerate(frame["inputs"])}
        marked_row = by_question[QUESTIONS[0]]
        assert frame["expectations"][marked_row] == {"expected_answer": EXPECTED}
        assert frame["outputs"][marked_row] == f"answer to {QUESTIONS[0]}"
        # the first export's records were the first two rows' traces
        assert set(list(frame["source_id"])[:2]) == first_two

        # the same traces merged by the SDK give the same content, hence the same digest
        traces = spyglass.search_traces([experiment.experiment_id], return_type="list")
        twin = create_dataset(f"{dataset_name}-sdk", experiment_id=experiment.experiment_id)
        twin.merge_records(traces)
        assert twin.last_merge is not None and twin.last_merge.inserted == len(QUESTIONS)
        assert twin.digest == dataset.digest

    # the dialog's first view is a plain URL too: a page in the experiment's frame
    query = "&".join(f"trace_id={t}" for t in sorted(all_ids))
    page.goto(f"{collector.base_url}/experiments/{experiment.experiment_id}/export?{query}")
    expect(page.get_by_role("heading", name="Export traces to evaluation dataset")).to_be_visible()
    expect(page.locator("#export-selection-count")).to_have_text("5 traces selected")
    expect(_dataset_row(page.locator("#export-panel"), dataset_name)).to_have_count(1)
    expect(page.get_by_role("link", name="Back to Traces")).to_be_visible()
    page_log.assert_clean()


def test_export_of_a_trace_without_inputs_shows_why_and_changes_nothing(
    page: Page, page_log: PageLog, ui_collector: UiCollector
) -> None:
    service = "export-no-inputs"
    with ui_collector.otel(resource={"service.name": service}) as otel:
        with otel.tracer.start_as_current_span(
            "answer", attributes={"input.value": json.dumps({"question": "kept?"})}
        ):
            pass
        with otel.tracer.start_as_current_span("cron-job"):  # no inputs at all
            pass
        otel.flush_spans()
    with ui_collector.sdk():
        experiment = spyglass.get_experiment_by_name(service)
        assert experiment is not None
        dataset = create_dataset("no-inputs", experiment_id=experiment.experiment_id)

    page.goto(f"{ui_collector.base_url}/experiments/{experiment.experiment_id}/traces")
    expect(page.locator("input.row-select")).to_have_count(2)
    page.locator("#select-all").check()
    dialog = _open_export_dialog(page)
    _dataset_row(dialog, "no-inputs").get_by_role("button", name="Export").click()
    error = dialog.locator("#export-error")
    expect(error).to_contain_text("Nothing was exported.")
    expect(error).to_contain_text("the root span's inputs are missing")
    expect(dialog.locator("#export-result")).to_have_count(0)
    expect(_dataset_row(dialog, "no-inputs").locator(".dataset-version")).to_have_text("0")
    page_log.assert_clean()
    with ui_collector.sdk():
        assert get_dataset(dataset.dataset_id).version == 0
