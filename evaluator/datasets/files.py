"""Dataset records in files: ``.jsonl``, ``.csv`` and ``.parquet``, written and read back.
The writing is :mod:`spyglass.record_files` (shared with the web UI's downloads).

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

from spyglass import canonical_json, record_files
from spyglass.errors import InvalidArgumentError
from spyglass.record_files import COLUMNS, JSON_COLUMNS

FORMATS = (".jsonl", ".csv", ".parquet")
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
    """Write a ``Dataset.to_df()`` frame to ``path`` in the format its extension names;
    InvalidArgumentError when the file cannot be written (its folder is missing, no
    permission)."""
    suffix = file_format(path)
    check_writable(path)
    columns = {name: list(frame[name]) for name in COLUMNS}
    if suffix == ".parquet":
        content = record_files.parquet_bytes(columns)
    elif suffix == ".csv":
        content = record_files.csv_bytes(columns)
    else:
        content = record_files.jsonl_bytes(columns)
    try:
        Path(path).write_bytes(content)
    except OSError as exc:
        raise InvalidArgumentError(f"cannot write {str(path)!r}: {_reason(exc)}") from None


def check_writable(path: str | Path) -> None:
    """InvalidArgumentError unless a file can be created at ``path``: its folder exists and
    it is not a folder itself (checked before a long export, not after)."""
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise InvalidArgumentError(
            f"cannot write {str(path)!r}: the folder {str(folder)!r} does not exist"
        )
    if target.is_dir():
        raise InvalidArgumentError(f"cannot write {str(path)!r}: it is a folder")


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """The records of a file written by :func:`write_records` (or by hand with the same
    columns; only ``inputs`` is required), ready for ``merge_records`` (which refuses
    unknown columns, naming the record). A file that is missing, unreadable or not in the
    format its extension names raises InvalidArgumentError; records count from 1."""
    suffix = file_format(path)
    if not Path(path).exists():
        raise InvalidArgumentError(f"{str(path)!r} does not exist")
    if not Path(path).is_file():
        raise InvalidArgumentError(f"{str(path)!r} is not a file")
    try:
        if suffix == ".jsonl":
            return _read_jsonl(Path(path))
        frame = _read_frame(path, suffix)
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read {str(path)!r}: {_reason(exc)}") from None
    except UnicodeDecodeError:
        raise InvalidArgumentError(f"cannot read {str(path)!r}: it is not UTF-8 text") from None
    if "inputs" not in frame.columns:
        raise InvalidArgumentError(
            f"{str(path)!r} has no 'inputs' column; its columns are "
            f"{', '.join(map(str, frame.columns))}"
        )
    present = [name for name in frame.columns if name not in DROPPED]
    first_line = 2 if suffix == ".csv" else None  # the CSV header is line 1
    records = []
    for number, row in enumerate(frame[present].itertuples(index=False), start=1):
        where = f"record {number}" + (
            f" (line {number + first_line - 1})" if first_line is not None else ""
        )
        record = {}
        for name, value in zip(present, row):
            if value is None or value == "" or value != value:  # empty cell (or NaN)
                continue
            record[name] = _json_cell(value, path, where, name) if name in JSON_COLUMNS else value
        records.append(record)
    return records


def _read_frame(path: str | Path, suffix: str) -> Any:
    """A CSV or Parquet file as a frame; InvalidArgumentError when it is not one."""
    import pandas as pd

    kind = "CSV" if suffix == ".csv" else "Parquet"
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        return pd.read_parquet(path)
    except (OSError, UnicodeDecodeError):
        raise
    except Exception as exc:  # pandas and pyarrow raise their own parser errors
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidArgumentError(f"cannot read {str(path)!r} as {kind}: {detail}") from None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as source:
        for line, text in enumerate(source, start=1):
            if not text.strip():
                continue
            where = f"{path}: record {len(records) + 1} (line {line})"
            try:
                row = canonical_json.loads(text)
            except ValueError as exc:
                raise InvalidArgumentError(f"{where} is not a JSON object ({exc})") from None
            if not isinstance(row, dict):
                raise InvalidArgumentError(f"{where} is not a JSON object")
            records.append({k: v for k, v in row.items() if k not in DROPPED and v is not None})
    return records


def _json_cell(text: str, path: str | Path, where: str, column: str) -> Any:
    try:
        return canonical_json.loads(text)
    except ValueError as exc:
        raise InvalidArgumentError(
            f"{path}: {where}, column {column!r} is not JSON ({exc}): {text[:60]!r}"
        ) from None


def _reason(exc: OSError) -> str:
    """The system's reason for a failed file operation, as a clause."""
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]
