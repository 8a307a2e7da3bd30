"""The dataset pages in Chromium on a real collector (SQLite and PostgreSQL), over a dataset
the Python SDK built: the global and experiment lists, then on the dataset page: edit a
record's expectations (invalid JSON refused with the message, in the browser and on the
server), a new version, the diff of the two versions showing the changed expectation; add a
record by hand; delete selected records; an earlier version read-only; the records filter;
downloads in JSONL, CSV and Parquet with the content the SDK's own export writes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq  # type: ignore[import-untyped]
from browser_support import PageLog, UiCollector
from playwright.sync_api import Page, expect

import spyglass
from spyglass.evaluator.datasets import create_dataset, get_dataset
from spyglass.evaluator.datasets.files import read_records, write_records

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def _build(collector: UiCollector, name: str) -> tuple[str, str]:
    """(dataset id, experiment id) of a new dataset with three records, version 1."""
    with collector.sdk():
        experiment_id = spyglass.set_experiment(f"exp-{name}").experiment_id
        dataset = create_dataset(name, experiment_id=experiment_id, tags={"stage": "dev"})
        dataset.merge_records(
            [
                {"inputs": {"q": "alpha"}, "expectations": {"answer": "A", "tone": "dry"}},
                {"inputs": {"q": "beta"}, "expectations": {"answer": "B"}, "outputs": "b!"},
                {
                    "inputs": {"q": "gamma"},
                    "outputs": {"text": "g"},
                    "source": {"source_type": "TRACE", "source_id": TRACE_ID},
                },
            ]
        )
        return dataset.dataset_id, experiment_id


def _row(page: Page, question: str):  # type: ignore[no-untyped-def]
    return page.locator("tr.record").filter(
        has=page.locator("td.inputs", has_text=f'"q": "{question}"')
    )


def test_dataset_pages_edit_diff_add_delete_download(
    page: Page,
    page_log: PageLog,
    ui_store_collector: UiCollector,
    screenshot: Callable[[Page, str], Path],
    tmp_path: Path,
) -> None:
    collector = ui_store_collector
    name = f"support-qa-{collector.kind}"
    dataset_id, experiment_id = _build(collector, name)
    shot = "" if collector.kind == "sqlite" else "-pg"

    # -- the lists -----------------------------------------------------------------------
    page.goto(f"{collector.base_url}/datasets")
    row = page.locator("#datasets tr", has=page.locator("td.dataset-name", has_text=name))
    expect(row).to_have_count(1)
    expect(row.locator(".source-mix")).to_contain_text("TRACE 1")
    expect(row.locator(".source-mix")).to_contain_text("HUMAN 2")
    expect(row).to_contain_text("stage: dev")
    page.goto(f"{collector.base_url}/experiments/{experiment_id}/datasets")
    expect(page.locator("#datasets td.dataset-name")).to_have_text([name])
    screenshot(page, f"datasets-list{shot}")
    page.locator("#datasets td.dataset-name a").click()

    # -- the dataset page ----------------------------------------------------------------
    expect(page.locator("#dataset-name")).to_have_text(name)
    page.wait_for_load_state("load")  # its deferred scripts have run: the buttons answer
    expect(page.locator("#dataset-version")).to_have_text("1")
    expect(page.locator("tr.record")).to_have_count(3)
    link = _row(page, "gamma").locator("a.source-link")
    assert link.get_attribute("href") == f"/traces/{TRACE_ID}"

    # edit alpha's expectations: invalid JSON first (the browser refuses it)
    alpha = _row(page, "alpha")
    alpha.get_by_role("button", name="Edit").click()
    record_id = alpha.get_attribute("data-record-id")
    editor = page.locator(f"#edit-{record_id}")
    expect(editor).to_be_visible()
    editor.locator("textarea").fill('{"answer": "A2",}')
    editor.get_by_role("button", name="Save").click()
    expect(editor.locator(".form-error")).to_contain_text("Expectations is not valid JSON")
    expect(page.locator("#dataset-version")).to_have_text("1")  # nothing was sent
    # ... and the server refuses it too (a request that skips the page's check)
    refused = page.evaluate(
        """async ([url, inputs]) => {
            const body = new URLSearchParams({inputs, original: "{}", expectations: "[1,"});
            const answer = await fetch(url, {method: "POST", body, headers: {
                "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content}});
            return [answer.status, await answer.text()];
        }""",
        [f"/datasets/{dataset_id}/records/{record_id}/expectations", '{"q": "alpha"}'],
    )
    assert refused[0] == 400 and "Expectations is not valid JSON" in refused[1]
    # removing a key is refused: a merge only adds and updates expectations
    editor.locator("textarea").fill('{"answer": "A2"}')
    editor.get_by_role("button", name="Save").click()
    expect(page.locator(f"#edit-{record_id} .form-error")).to_contain_text(
        "cannot be removed here (tone)"
    )
    editor = page.locator(f"#edit-{record_id}")
    editor.locator("textarea").fill('{"answer": "A2", "tone": "dry"}')
    editor.get_by_role("button", name="Save").click()
    expect(page.locator("#notice")).to_have_text("Saved as version 2.")
    expect(page.locator("#dataset-version")).to_have_text("2")
    expect(_row(page, "alpha").locator("td.expectations")).to_contain_text('"answer": "A2"')
    screenshot(page, f"dataset-page{shot}")

    # -- the diff of version 1 and 2 -------------------------------------------------------
    page.select_option("#diff-from", "1")
    page.select_option("#diff-to", "2")
    page.locator("#compare").click()
    expect(page.locator("#diff-summary .count-changed")).to_have_text("1")
    expect(page.locator("#diff-summary .count-added")).to_have_text("0")
    change = page.locator("tbody.change-changed")
    expect(change).to_have_count(1)
    expect(change.locator("tr.field-expectations")).to_have_class(
        "field field-expectations changed"
    )
    changed = change.locator("td.after .entry.changed")
    expect(changed).to_have_count(1)
    expect(changed).to_have_attribute("data-key", "answer")
    expect(changed).to_contain_text('"A2"')
    expect(change.locator("td.before .entry.changed")).to_contain_text('"A"')
    expect(change.locator("td.after .entry:not(.changed)")).to_contain_text("tone")
    screenshot(page, f"dataset-diff{shot}")

    # -- add a record by hand ----------------------------------------------------------------
    page.goto(f"{collector.base_url}/datasets/{dataset_id}")
    page.locator("#add-panel summary").click()
    page.locator("#add-inputs").fill("[1, 2]")
    page.locator("#add-record").click()
    expect(page.locator('#add-form [data-error-for="inputs"]')).to_have_text(
        "Inputs must be a JSON object ({...}), not list."
    )
    page.locator("#add-inputs").fill('{"q": "delta"}')
    page.locator("#add-expectations").fill('{"answer": "D"}')
    page.locator("#add-outputs").fill('"d"')
    page.locator("#add-record").click()
    expect(page.locator("#notice")).to_have_text("Record added as version 3.")
    expect(page.locator("tr.record")).to_have_count(4)
    expect(_row(page, "delta").locator(".source-type")).to_have_text("HUMAN")

    # -- delete selected records -----------------------------------------------------------
    expect(page.locator("#delete-selected")).to_be_disabled()
    _row(page, "beta").locator("input.select-record").check()
    expect(page.locator("#delete-selected")).to_have_text("Delete selected (1)")
    page.locator("#delete-selected").click()
    expect(page.locator("#notice")).to_have_text("Deleted 1 record as version 4.")
    expect(page.locator("tr.record")).to_have_count(3)
    expect(_row(page, "beta")).to_have_count(0)

    # -- tags ---------------------------------------------------------------------------------
    page.locator("#tags-panel summary").click()
    page.locator("#tags-text").fill("stage=validation\nowner=qa")
    page.locator("#tags-form").get_by_role("button", name="Save tags").click()
    expect(page.locator("#notice")).to_have_text("Tags saved.")
    expect(page.locator("#tags-panel summary")).to_contain_text("stage: validation")

    # -- filter and an earlier version read-only --------------------------------------------
    page.locator("#records-filter").fill("DELTA")
    page.locator("#records-filter").press("Enter")
    expect(page.locator("tr.record")).to_have_count(1)
    page.goto(f"{collector.base_url}/datasets/{dataset_id}?version=1")
    expect(page.locator("#read-only")).to_contain_text("Version 1 is read-only")
    expect(page.locator("tr.record")).to_have_count(3)
    expect(_row(page, "alpha").locator("td.expectations")).to_contain_text('"answer": "A"')
    expect(page.locator("#delete-selected")).to_have_count(0)
    expect(page.locator("button.edit-expectations")).to_have_count(0)
    expect(page.locator("#add-form")).to_have_count(0)

    # -- downloads: the SDK's export, byte for byte (JSONL, CSV) and by content (Parquet) --
    with collector.sdk():
        frame = get_dataset(name=name).to_df()
    for kind in ("jsonl", "csv"):
        write_records(frame, tmp_path / f"sdk.{kind}")
        answer = page.request.get(
            f"{collector.base_url}/datasets/{dataset_id}/download?format={kind}"
        )
        assert answer.ok, answer.text()
        assert f"{name}-v4.{kind}" in answer.headers["content-disposition"]
        assert answer.body() == (tmp_path / f"sdk.{kind}").read_bytes()
    lines = [json.loads(line) for line in (tmp_path / "sdk.jsonl").read_text().splitlines()]
    assert sorted(line["inputs"]["q"] for line in lines) == ["alpha", "delta", "gamma"]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "sdk.csv").read_text())))
    by_question = {json.loads(r["inputs"])["q"]: r for r in rows}
    assert json.loads(by_question["alpha"]["expectations"]) == {"answer": "A2", "tone": "dry"}
    assert by_question["alpha"]["outputs"] == ""  # no outputs: an empty cell
    answer = page.request.get(f"{collector.base_url}/datasets/{dataset_id}/download?format=parquet")
    assert answer.ok
    (tmp_path / "ui.parquet").write_bytes(answer.body())
    write_records(frame, tmp_path / "sdk.parquet")
    assert read_records(tmp_path / "ui.parquet") == read_records(tmp_path / "sdk.parquet")
    assert pq.read_table(tmp_path / "ui.parquet").column_names == list(frame.columns)
    # an earlier version downloads as it was
    old = page.request.get(
        f"{collector.base_url}/datasets/{dataset_id}/download?format=jsonl&version=1"
    )
    assert sorted(json.loads(line)["inputs"]["q"] for line in old.text().splitlines()) == [
        "alpha",
        "beta",
        "gamma",
    ]
    # the refused edits answered 400 (their pages show the message); nothing else failed
    assert all("status of 400" in error for error in page_log.errors), page_log.errors
    assert not page_log.dialogs
