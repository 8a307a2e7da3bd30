"""Two versions of a dataset compared: the records one added, removed and changed.

A record keeps its id for its whole life (an update replaces its content, not its id), so
the versions are matched by record id, which is matching by inputs. Each version's states
come from the current rows and the history as in :mod:`.records` (version N is the current
rows written at or before N plus the history states with ``version <= N < superseded_in``).
The comparison reads only (id, content hash) pairs of both versions, then the full states
of the changes it returns (at most ``max_results``), so a diff of two large versions that
differ in a few records reads little JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, select, union_all

from spyglass import canonical_json
from spyglass.collector.store.datasets.catalog import check_version, load_dataset
from spyglass.collector.store.datasets.statements import HISTORY, RECORDS
from spyglass.errors import InvalidArgumentError
from spyglass.v1 import datasets_pb2 as pb

MAX_RESULTS = 1000
_STATE = ("inputs", "expectations", "outputs", "tags", "source_type", "source_id")
_BY_ENTRY = ("expectations", "tags")  # fields whose entries are compared one by one
_ID_CHUNK = 500


def diff_versions(
    engine: Engine,
    dataset_id: str,
    from_version: int,
    to_version: int | None,
    max_results: int,
) -> pb.DiffDatasetVersionsResponse:
    """What ``to_version`` (None: the latest) changed relative to ``from_version``."""
    if max_results < 0:
        raise InvalidArgumentError(f"max_results must not be negative, got {max_results}")
    limit = min(max_results or MAX_RESULTS, MAX_RESULTS)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # both versions from one snapshot
            connection.execution_options(isolation_level="REPEATABLE READ")
        dataset = load_dataset(connection, dataset_id)
        older = check_version(dataset, from_version)
        newer = check_version(dataset, to_version)
        before = _hashes(connection, dataset_id, older)
        after = _hashes(connection, dataset_id, newer) if newer != older else before
        added = [i for i in after if i not in before]
        removed = [i for i in before if i not in after]
        changed = [i for i, h in after.items() if i in before and before[i] != h]
        kinds = {
            **dict.fromkeys(added, pb.RecordChange.ADDED),
            **dict.fromkeys(removed, pb.RecordChange.REMOVED),
            **dict.fromkeys(changed, pb.RecordChange.CHANGED),
        }
        shown = sorted(kinds)[:limit]
        old_states = _states(connection, dataset_id, older, [i for i in shown if i in before])
        new_states = _states(connection, dataset_id, newer, [i for i in shown if i in after])
    changes = []
    for record_id in shown:
        old, new = old_states.get(record_id), new_states.get(record_id)
        changes.append(
            pb.RecordChange(
                dataset_record_id=record_id,
                kind=kinds[record_id],
                before=canonical_json.dumps_bytes(old) if old is not None else b"",
                after=canonical_json.dumps_bytes(new) if new is not None else b"",
                changed_fields=changed_fields(old, new) if old and new else [],
            )
        )
    return pb.DiffDatasetVersionsResponse(
        from_version=older,
        to_version=newer,
        added_count=len(added),
        removed_count=len(removed),
        changed_count=len(changed),
        changes=changes,
        truncated=len(kinds) > limit,
    )


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The fields of two states of a record that differ, and for expectations and tags the
    entries (``expectations.<name>``) that do."""
    fields = []
    for name in _STATE:
        if old.get(name) == new.get(name):
            continue
        fields.append(name)
        if name in _BY_ENTRY:
            a, b = old.get(name) or {}, new.get(name) or {}
            fields += [
                f"{name}.{key}" for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)
            ]
    return fields


def _version_rows(dataset_id: str, version: int, columns: Sequence[str], ids: Any = None) -> Any:
    """The states of ``version``'s records (``columns`` of them), optionally only ``ids``."""
    r, h = RECORDS.c, HISTORY.c
    current = select(*(r[name] for name in columns)).where(
        r.dataset_id == dataset_id, r.version <= version
    )
    past = select(*(h[name] for name in columns)).where(
        h.dataset_id == dataset_id, h.version <= version, h.superseded_in > version
    )
    if ids is not None:
        current = current.where(r.dataset_record_id.in_(ids))
        past = past.where(h.dataset_record_id.in_(ids))
    return union_all(current, past)


def _hashes(connection: Connection, dataset_id: str, version: int) -> dict[str, str]:
    """{record id: content hash} of ``version``."""
    rows = connection.execute(
        _version_rows(dataset_id, version, ("dataset_record_id", "content_hash"))
    )
    return {row[0]: row[1] for row in rows}


def _states(
    connection: Connection, dataset_id: str, version: int, ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The full states of these records in ``version``, as plain values."""
    found: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), _ID_CHUNK):
        rows = connection.execute(
            _version_rows(
                dataset_id, version, ("dataset_record_id", *_STATE), ids[i : i + _ID_CHUNK]
            )
        ).all()
        for record_id, inputs, expectations, outputs, tags, source_type, source_id in rows:
            found[record_id] = {
                "inputs": canonical_json.loads(inputs),
                "expectations": canonical_json.loads(expectations),
                "outputs": canonical_json.loads(outputs) if outputs is not None else None,
                "tags": canonical_json.loads(tags),
                "source_type": source_type,
                "source_id": source_id,
            }
    return found
