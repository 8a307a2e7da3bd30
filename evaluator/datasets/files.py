"""Dataset records in files: ``.jsonl``, ``.csv`` and ``.parquet``, written and read back.

JSON Lines holds one record per line as a JSON object with the columns of ``to_df()``
(values as they are). CSV and Parquet hold the same columns, with ``inputs``,
``expectations``, ``outputs`` and ``tags`` as JSON text (so nested values and integers of
any size survive); an empty ``outputs`` cell means "no outputs". Reading any of them gives
records ready for ``merge_records`` (ids and times are dropped: the target dataset assigns
its own), so export → import reproduces the content and therefore the digest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spyglass import canonical_json
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.datasets.records import COLUMNS

FORMATS = (".jsonl", ".csv", ".parquet")
JSON_COLUMNS = ("inputs", "expectations", "outputs", "tags")
DROPPED = ("dataset_record_id", "created_time", "last_update_time")  # the target assigns them


def file_format(path: str | Path) -> str:
    """The format a file's extension names; InvalidArgumentError for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidArgumentError(
            f"cannot tell the format of {str(path)!r}: use a file ending in {', '.join(FORMATS)}"
        )
    return suffix


def write_records(frame: Any, path: str | Path) -> None:
    """Write a ``Dataset.to_df()`` frame to ``path`` in the format its extension names."""
    suffix = file_format(path)
    if suffix == ".jsonl":
        with open(path, "w", encoding="utf-8") as out:
            for row in frame[COLUMNS].itertuples(index=False):
                out.write(canonical_json.dumps(dict(zip(COLUMNS, row))) + "\n")
        return
    flat = frame[COLUMNS].copy()
    for name in JSON_COLUMNS:
        flat[name] = [
            None if name == "outputs" and value is None else canonical_json.dumps(value)
            for value in flat[name]
        ]
    if suffix == ".csv":
        flat.to_csv(path, index=False)
    else:
        flat.to_parquet(path, index=False)


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """The records of a file written by :func:`write_records` (or by hand with the same
    columns; only ``inputs`` is required), ready for ``merge_records`` (which refuses
    unknown columns, naming the record)."""
    suffix = file_format(path)
    if not Path(path).is_file():
        raise InvalidArgumentError(f"{str(path)!r} is not a file")
    if suffix == ".jsonl":
        return _read_jsonl(Path(path))
    import pandas as pd

    if suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        frame = pd.read_parquet(path)
    if "inputs" not in frame.columns:
        raise InvalidArgumentError(
            f"{str(path)!r} has no 'inputs' column; its columns are "
            f"{', '.join(map(str, frame.columns))}"
        )
    present = [name for name in frame.columns if name not in DROPPED]
    records = []
    for line, row in enumerate(frame[present].itertuples(index=False), start=2):
        record = {}
        for name, value in zip(present, row):
            if value is None or value == "" or value != value:  # empty cell (or NaN)
                continue
            record[name] = _json_cell(value, path, line, name) if name in JSON_COLUMNS else value
        records.append(record)
    return records


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    with open(path, encoding="utf-8") as source:
        for line, text in enumerate(source, start=1):
            if not text.strip():
                continue
            try:
                row = canonical_json.loads(text)
            except ValueError as exc:
                raise InvalidArgumentError(f"{path}:{line} is not a JSON object ({exc})") from None
            if not isinstance(row, dict):
                raise InvalidArgumentError(f"{path}:{line} is not a JSON object")
            records.append({k: v for k, v in row.items() if k not in DROPPED and v is not None})
    return records


def _json_cell(text: str, path: str | Path, line: int, column: str) -> Any:
    try:
        return canonical_json.loads(text)
    except ValueError as exc:
        raise InvalidArgumentError(
            f"{path}, row {line}, column {column!r} is not JSON ({exc}): {text[:60]!r}"
        ) from None
