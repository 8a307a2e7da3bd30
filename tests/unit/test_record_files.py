"""spyglass/record_files.py: the dataset file writer the SDK's export and the web UI's
downloads share. Parquet without pyarrow names the extra to install; CSV pages written one
after the other (header once) equal the file written at once."""

from __future__ import annotations

import csv
import io

import pytest

from spyglass import extras, record_files
from spyglass.extras import MissingExtraError

COLUMNS = {
    "dataset_record_id": ["dr-1", "dr-2"],
    "inputs": [{"q": 'a, "quoted"'}, {"q": "b\nline"}],
    "expectations": [{"n": 10**30}, {}],
    "outputs": [None, {"x": [1, 2]}],
    "tags": [{}, {"k": "v"}],
    "source_type": ["HUMAN", "TRACE"],
    "source_id": [None, "0af7651916cd43dd8448eb211c80319c"],
    "created_time": [1, 2],
    "last_update_time": [3, 4],
}


def _half(which: int) -> dict[str, list[object]]:
    return {name: values[which : which + 1] for name, values in COLUMNS.items()}


def test_parquet_without_pyarrow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extras, "_findable", lambda name: name != "pyarrow")
    with pytest.raises(MissingExtraError) as failure:
        record_files.parquet_bytes(COLUMNS)
    assert "pip install 'spyglass[evaluator]'" in str(failure.value)
    assert "pyarrow" in str(failure.value)


def test_csv_pages_join_into_one_file() -> None:
    whole = record_files.csv_bytes(COLUMNS)
    pages = record_files.csv_bytes(_half(0)) + record_files.csv_bytes(_half(1), header=False)
    assert pages == whole
    rows = list(csv.DictReader(io.StringIO(whole.decode())))
    assert rows[0]["outputs"] == "" and rows[1]["outputs"] == '{"x":[1,2]}'
    assert rows[0]["expectations"] == '{"n":' + str(10**30) + "}"
    assert rows[1]["inputs"] == '{"q":"b\\nline"}'


def test_jsonl_is_one_object_per_record() -> None:
    lines = record_files.jsonl_bytes(COLUMNS).decode().splitlines()
    assert len(lines) == 2 and lines[1].startswith('{"dataset_record_id":"dr-2"')
