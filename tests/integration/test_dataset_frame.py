"""``Dataset.to_df()`` on a real collector, SQLite and PostgreSQL, against the SDK's record
objects and the file exports of the same records.

What it proves:

* the frame has the columns in order, object dtype for all but the two times (int64), and
  row for row the values of ``dataset.records`` (the ListRecords pages read one record at
  a time): nested and non-ASCII inputs, integers beyond 64 bits, outputs of every JSON
  kind and none, tags, every source type with and without an id; read in pages of 7 (many
  page boundaries) and in the default pages alike;
* an older version's frame (current rows and history merged) holds that version's
  records, and an empty version gives an empty frame with the same columns and dtypes;
* the frame written as JSON Lines, CSV and Parquet (the CLI's export) and the web UI's
  JSON Lines download of the same records read back to the frame's values;
* the garbage collector is left as it was found: enabled, and objects frozen by the
  application stay frozen.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from spyglass import canonical_json, record_files, session
from spyglass.collector.server import Collector
from spyglass.collector.store.datasets import records as store_records
from spyglass.evaluator.datasets import create_dataset, get_dataset
from spyglass.evaluator.datasets import dataset as dataset_module
from spyglass.evaluator.datasets.files import read_records, write_records
from spyglass.record_files import COLUMNS

DTYPES = dict.fromkeys(COLUMNS, "object") | {
    "created_time": "int64",
    "last_update_time": "int64",
}


@pytest.fixture
def sdk(collector: Collector) -> Iterator[Collector]:
    session.configure(collector=f"127.0.0.1:{collector.grpc_port}")
    yield collector
    session._shutdown()


def records(n: int, revision: int = 0) -> list[dict[str, Any]]:
    """n records with values of every JSON kind; ``revision`` changes expectations and
    outputs (the same inputs, so a merge updates them)."""
    sources: list[Any] = [
        None,
        "HUMAN",
        "CODE",
        {"source_type": "DOCUMENT", "source_id": "doc-7"},
        {"source_type": "TRACE", "source_id": "0af7651916cd43dd8448eb211c80319c"},
    ]
    outputs: list[Any] = [None, "text", {"answer": "a", "n": 2**70}, [1, 2.5, None], 3, True]
    made = []
    for i in range(n):
        record: dict[str, Any] = {
            "inputs": {"q": f"question {i} — Zoë 🚀", "nested": {"k": [i, {"deep": None}]}},
            "tags": {"split": "test" if i % 3 else "train"} if i % 4 else {},
        }
        if i % 5:
            record["expectations"] = {"expected": f"rev {revision}", "big": 2**65 + i}
        if outputs[(i + revision) % len(outputs)] is not None:
            record["outputs"] = outputs[(i + revision) % len(outputs)]
        if sources[i % len(sources)] is not None:
            record["source"] = sources[i % len(sources)]
        made.append(record)
    return made


def frame_of_records(dataset: Any) -> pd.DataFrame:
    """The frame the records read one at a time make."""
    rows = [[getattr(r, name) for name in COLUMNS] for r in dataset.records]
    columns = {name: [row[i] for row in rows] for i, name in enumerate(COLUMNS)}
    return pd.DataFrame(
        {name: pd.Series(values, dtype=DTYPES[name]) for name, values in columns.items()},
        columns=COLUMNS,
    )


def check_frame(frame: pd.DataFrame, dataset: Any) -> None:
    assert list(frame.columns) == COLUMNS
    assert {name: str(frame[name].dtype) for name in COLUMNS} == DTYPES
    assert len(frame) == len(dataset)
    pd.testing.assert_frame_equal(frame, frame_of_records(dataset), check_exact=True)
    assert list(frame["dataset_record_id"]) == sorted(frame["dataset_record_id"])


@pytest.mark.parametrize("page_size", [7, dataset_module.FRAME_PAGE_SIZE])
def test_the_frame_holds_the_records_values_and_types(
    sdk: Collector, monkeypatch: pytest.MonkeyPatch, page_size: int
) -> None:
    monkeypatch.setattr(dataset_module, "FRAME_PAGE_SIZE", page_size)
    dataset = create_dataset("frame", experiment_id="0")
    dataset.merge_records(records(60))
    dataset.merge_records(records(75, revision=1))  # 15 new, most of the 60 updated
    merged = dataset.last_merge
    assert merged is not None and merged.inserted == 15
    assert merged.updated + merged.unchanged == 60 and merged.updated > 40

    frame = dataset.to_df()
    check_frame(frame, dataset)
    by_question = {row["inputs"]["q"]: row for _, row in frame.iterrows()}
    first = by_question["question 1 — Zoë 🚀"]
    assert first["inputs"]["nested"] == {"k": [1, {"deep": None}]}
    assert first["expectations"] == {"expected": "rev 1", "big": 2**65 + 1}
    assert first["outputs"] == {"answer": "a", "n": 2**70}  # exact, not a float
    assert first["source_type"] == "HUMAN" and first["source_id"] is None
    assert by_question["question 3 — Zoë 🚀"]["source_id"] == "doc-7"
    assert by_question["question 4 — Zoë 🚀"]["source_type"] == "TRACE"
    assert by_question["question 0 — Zoë 🚀"]["expectations"] == {}
    assert by_question["question 0 — Zoë 🚀"]["tags"] == {}
    assert by_question["question 71 — Zoë 🚀"]["outputs"] is None  # new, without outputs
    assert by_question["question 5 — Zoë 🚀"]["outputs"] is not None  # kept from revision 0

    # version 1: the first merge's states, read from the current rows and the history
    old = get_dataset(dataset_id=dataset.dataset_id, version=1)
    old_frame = dataset.to_df(version=1)
    check_frame(old_frame, old)
    assert len(old_frame) == 60
    assert {r["expected"] for r in old_frame["expectations"] if r} == {"rev 0"}

    empty = dataset.to_df(version=0)
    assert list(empty.columns) == COLUMNS and len(empty) == 0
    assert {name: str(empty[name].dtype) for name in COLUMNS} == DTYPES


def text_or_none(value: Any) -> str | None:
    """A cell's text; None for an empty cell (CSV) or a null (Parquet)."""
    return value if isinstance(value, str) and value else None


def file_rows(path: Path) -> list[dict[str, Any]]:
    """Every column of every record of an exported file, JSON columns decoded."""
    if path.suffix == ".jsonl":
        return [canonical_json.loads(line) for line in path.read_text().splitlines()]
    if path.suffix == ".csv":
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        table = pd.read_parquet(path)
    rows = []
    for row in table.to_dict("records"):
        for name in record_files.JSON_COLUMNS:
            text = text_or_none(row[name])
            row[name] = None if text is None else canonical_json.loads(text)
        row["source_id"] = text_or_none(row["source_id"])
        row["created_time"], row["last_update_time"] = (
            int(row["created_time"]),
            int(row["last_update_time"]),
        )
        rows.append(row)
    return rows


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_exports_hold_the_frames_rows(sdk: Collector, tmp_path: Path, suffix: str) -> None:
    dataset = create_dataset("exported", experiment_id="0")
    dataset.merge_records(records(40))
    frame = dataset.to_df()
    path = tmp_path / f"records{suffix}"
    write_records(frame, path)
    assert file_rows(path) == frame.to_dict("records")
    assert [r["inputs"] for r in read_records(path)] == list(frame["inputs"])


def test_the_web_download_holds_the_frames_rows(sdk: Collector) -> None:
    dataset = create_dataset("downloaded", experiment_id="0")
    dataset.merge_records(records(30))
    frame = dataset.to_df()
    assert sdk.engine is not None
    page = store_records.list_records(sdk.engine, dataset.dataset_id, None, 1000, "")
    lines = record_files.jsonl_bytes(record_files.decode_columns(page.records)).splitlines()
    assert [canonical_json.loads(line) for line in lines] == [
        dict(zip(COLUMNS, row)) for row in frame.itertuples(index=False)
    ]


def test_the_garbage_collector_is_left_as_it_was(sdk: Collector) -> None:
    dataset = create_dataset("gc", experiment_id="0")
    dataset.merge_records(records(20))
    assert gc.isenabled()
    assert len(dataset.to_df()) == 20
    assert gc.isenabled()
    gc.disable()
    try:
        assert len(dataset.to_df()) == 20
        assert not gc.isenabled()
    finally:
        gc.enable()
    kept = [{"held": i} for i in range(10)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert len(dataset.to_df()) == 20
        # the application's objects stay frozen (some may die meanwhile), no others join
        assert 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
    assert kept
