"""Dataset records in the store, on SQLite and PostgreSQL: what the tables hold after
merges, failed merges, deletes and concurrent merges.

What it proves:

* the migrations create the dataset tables exactly as the models say (checked with the
  whole schema in test_store.py) and a dataset's rows hold its invariants: one current
  record per input hash, the running digest equal to one recomputed from every record's
  content hash, every version readable with the count its version row states;
* a page whose rows reach the aggregates out of id order (never seen, but not promised by
  either database) is read again row by row and lists exactly as an ordered one;
* a merge that fails (a bad record in its last chunk, an unknown dataset) leaves every
  dataset table exactly as it was;
* two processes, each with its own collector over the same database, merging into one
  dataset at the same time lose nothing: every record and every expectation key arrives,
  each merge gets its own version, the digest matches the content;
* SearchDatasets filters in the trace filter language (LIKE, ILIKE, OR, NOT, IN, IS NULL,
  numbers, tags) and pages with tokens.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from spyglass import canonical_json
from spyglass.collector.store import migrate
from spyglass.collector.store.datasets import (
    catalog as datasets,
)
from spyglass.collector.store.datasets import (
    digest as dataset_digest,
)
from spyglass.collector.store.datasets import (
    records as dataset_records,
)
from spyglass.collector.store.engine import create_store_engine
from spyglass.collector.store.models import (
    DatasetExperiment,
    DatasetRecordHistory,
    DatasetRecordRow,
    DatasetRow,
    DatasetTag,
    DatasetVersionRow,
)
from spyglass.errors import InvalidArgumentError, InvalidFilterError, NotFoundError
from spyglass.evaluator.datasets.normalize import to_columns
from spyglass.v1 import datasets_pb2 as pb

MERGES, SIZE = 20, 150  # per process; as in CONCURRENT
TABLES = [
    DatasetRow,
    DatasetTag,
    DatasetExperiment,
    DatasetVersionRow,
    DatasetRecordRow,
    DatasetRecordHistory,
]


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = create_store_engine(store_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def merge(
    engine: Engine, dataset_id: str, records: list[dict], chunk: int = 5000
) -> pb.MergeRecordsResponse:
    chunks = list(to_columns(records).chunks(max_records=chunk))
    return dataset_records.merge_records(engine, dataset_id, chunks, "tester")


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            m.__tablename__: sorted(map(tuple, connection.execute(select(m.__table__))), key=repr)
            for m in TABLES
        }


def check_invariants(engine: Engine, dataset_id: str, page_size: int = 97) -> pb.Dataset:
    """The dataset row agrees with its records, and every version reads back whole."""
    with engine.connect() as connection:
        row = connection.execute(
            select(DatasetRow.__table__).where(DatasetRow.dataset_id == dataset_id)
        ).one()
        current = connection.execute(
            select(
                DatasetRecordRow.input_hash, DatasetRecordRow.content_hash, DatasetRecordRow.inputs
            ).where(DatasetRecordRow.dataset_id == dataset_id)
        ).all()
        versions = dict(
            connection.execute(
                select(DatasetVersionRow.version, DatasetVersionRow.record_count).where(
                    DatasetVersionRow.dataset_id == dataset_id
                )
            ).all()
        )
    assert len(current) == row.record_count
    assert all(h == canonical_json.sha256_hex(inputs) for h, _, inputs in current)
    recomputed = dataset_digest.updated_sum(
        dataset_digest.EMPTY_SUM, [c for _, c, _ in current], []
    )
    assert (row.digest_sum, row.digest) == (recomputed, dataset_digest.digest(recomputed))
    assert sorted(versions) == list(range(row.version + 1))
    for version, count in versions.items():
        listed, token = 0, ""
        while True:
            page = dataset_records.list_records(engine, dataset_id, version, page_size, token)
            ids = list(page.records.dataset_record_id)
            assert ids == sorted(ids)
            listed += len(ids)
            token = page.next_page_token
            if not token:
                break
        assert listed == count, f"version {version}"
    return datasets.get_dataset(engine, dataset_id, "", None)


def test_merges_keep_the_dataset_consistent(engine: Engine) -> None:
    d = datasets.create_dataset(engine, "store", ["0"], {"k": "v"}, "tester")
    merge(
        engine,
        d.dataset_id,
        [{"inputs": {"q": i}, "expectations": {"a": i}} for i in range(300)],
        chunk=64,
    )
    response = merge(
        engine,
        d.dataset_id,
        [{"inputs": {"q": i}, "expectations": {"b": i}} for i in range(150, 450)]
        + [{"inputs": {"q": 0}, "expectations": {"a": 0}}],
        chunk=64,
    )
    assert (response.inserted_count, response.updated_count, response.unchanged_count) == (
        150,
        150,
        1,
    )
    with engine.connect() as connection:
        history = connection.scalar(select(func.count()).select_from(DatasetRecordHistory))
    assert history == 150  # one replaced state per updated record
    ids = list(
        dataset_records.list_records(engine, d.dataset_id, None, 1000, "").records.dataset_record_id
    )[:10]
    dataset_records.delete_records(engine, d.dataset_id, ids, "tester")
    final = check_invariants(engine, d.dataset_id)
    assert (final.version, final.record_count) == (3, 440)


def test_a_page_the_database_aggregates_out_of_order_is_read_row_by_row(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The aggregates take the page's rows in the order the database hands them over; when
    that is not the ids' order, the page is read again row by row, with the same result."""
    d = datasets.create_dataset(engine, "order", ["0"], {}, "tester")
    merge(engine, d.dataset_id, [{"inputs": {"q": i}, "outputs": i} for i in range(30)])
    merge(engine, d.dataset_id, [{"inputs": {"q": i}, "outputs": -i} for i in range(10)])

    def pages(version: int) -> list[pb.ListRecordsResponse]:
        listed, token = [], ""
        while True:
            page = dataset_records.list_records(engine, d.dataset_id, version, 7, token)
            listed.append(page)
            token = page.next_page_token
            if not token:
                return listed

    expected = {version: pages(version) for version in (1, 2)}
    aggregates = dataset_records._aggregates

    def reversed_aggregates(page: Any, postgres: bool) -> Any:
        backwards = select(page).order_by(page.c.dataset_record_id.desc()).subquery()
        return aggregates(backwards, postgres)

    read_by_rows = []
    columns = dataset_records._columns

    def counted_columns(rows: Any) -> pb.DatasetRecordColumns:
        read_by_rows.append(len(rows))
        return columns(rows)

    monkeypatch.setattr(dataset_records, "_aggregates", reversed_aggregates)
    monkeypatch.setattr(dataset_records, "_columns", counted_columns)
    for version, listed in expected.items():
        read_by_rows.clear()
        again = pages(version)
        assert again == listed
        assert read_by_rows == [len(page.records.dataset_record_id) for page in listed]
        assert [len(page.records.dataset_record_id) for page in again][:4] == [7, 7, 7, 7]
        outputs = [v for page in again for v in canonical_json.loads(page.records.outputs)]
        assert outputs == (
            list(range(30)) if version == 1 else [-i for i in range(10)] + list(range(10, 30))
        )


def test_a_failed_merge_leaves_every_table_as_it_was(engine: Engine) -> None:
    d = datasets.create_dataset(engine, "atomic", [], {}, "tester")
    merge(engine, d.dataset_id, [{"inputs": {"q": i}} for i in range(20)])
    before = snapshot(engine)
    good = [{"inputs": {"q": i}, "expectations": {"new": True}} for i in range(10, 5000)]
    chunks = list(to_columns(good).chunks(max_records=1000))
    chunks.append(pb.DatasetRecordColumns(inputs=b'[{"q": 1}, {"q": "x"}]', tags=b'[{}, {"n": 2}]'))
    with pytest.raises(InvalidArgumentError, match=r"record 4992: tag 'n'"):
        dataset_records.merge_records(engine, d.dataset_id, chunks, "tester")
    with pytest.raises(NotFoundError, match="'d-nope' not found"):
        merge(engine, "d-nope", good)
    stream = dataset_records.MergeStream()
    stream.add(engine, pb.MergeRecordsRequest(dataset_id=d.dataset_id, records=chunks[0]))
    with pytest.raises(InvalidArgumentError, match="chunk 1 names dataset"):
        stream.add(engine, pb.MergeRecordsRequest(dataset_id="d-other", records=chunks[1]))
    with pytest.raises(InvalidArgumentError, match="no chunk"):
        dataset_records.MergeStream().merge(engine)
    assert snapshot(engine) == before


CONCURRENT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import spyglass
    from spyglass.evaluator.datasets import get_dataset

    name, start = sys.argv[1], Path(sys.argv[2])
    MERGES, SIZE = 20, 150
    spyglass.configure(store=sys.argv[3])  # this process's own embedded collector
    dataset = get_dataset(name="shared")
    while not start.exists():
        time.sleep(0.01)
    for k in range(MERGES):
        dataset.merge_records(
            [{"inputs": {"q": f"shared-{j}"}, "expectations": {f"{name}-{k}": k}}
             for j in range(SIZE)]
            + [{"inputs": {"q": f"{name}-{k}-{j}"}, "tags": {"by": name}} for j in range(SIZE)])
        assert dataset.last_merge.inserted >= SIZE, dataset.last_merge
    print("done", dataset.version)
""")


def test_two_processes_merging_into_one_dataset_lose_nothing(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    d = datasets.create_dataset(engine, "shared", [], {}, "tester")
    start = tmp_path / "start"
    env = {k: v for k, v in os.environ.items() if k not in ("SPYGLASS_COLLECTOR", "SPYGLASS_STORE")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, name, str(start), store_url],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    time.sleep(1.0)  # both embedded collectors are up (they wait for the start file)
    start.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        assert out.startswith("done"), (out, err)

    final = check_invariants(engine, d.dataset_id, page_size=2000)
    assert final.version == 2 * MERGES  # every merge changed something: one version each
    assert final.record_count == SIZE + 2 * MERGES * SIZE
    rows = dataset_records.list_records(engine, d.dataset_id, None, 50_000, "").records
    shared = [
        e
        for i, e in zip(canonical_json.loads(rows.inputs), canonical_json.loads(rows.expectations))
        if i["q"].startswith("shared-")
    ]
    assert len(shared) == SIZE
    expected_keys = {f"{name}-{k}" for name in "ab" for k in range(MERGES)}
    assert all(set(e) == expected_keys for e in shared)  # no merge overwrote another's keys
    with engine.connect() as connection:
        counts = connection.execute(
            select(
                func.sum(DatasetVersionRow.inserted_count),
                func.sum(DatasetVersionRow.updated_count),
            ).where(DatasetVersionRow.dataset_id == d.dataset_id)
        ).one()
    assert tuple(counts) == (SIZE + 2 * MERGES * SIZE, (2 * MERGES - 1) * SIZE)


def test_dataset_filters_use_the_trace_filter_language(engine: Engine) -> None:
    for name, tags, user, size in (
        ("qa_small", {"stage": "dev", "rank": "2"}, "ana", 1),
        ("QA_big", {"stage": "prod", "rank": "10"}, "bo", 3),
        ("other", {}, "", 2),
    ):
        d = datasets.create_dataset(engine, name, [], tags, user)
        merge(engine, d.dataset_id, [{"inputs": {"i": i}} for i in range(size)])

    def names(text: str, order: list[str] | None = None) -> list[str]:
        found, _ = datasets.search_datasets(engine, [], text, 0, order or ["name ASC"], "")
        return [d.name for d in found]

    assert names("name LIKE 'qa%'") == ["qa_small"]  # LIKE is case-sensitive
    assert names("name ILIKE 'qa%'") == ["QA_big", "qa_small"]
    assert names("record_count >= 2 AND NOT name = 'other'") == ["QA_big"]
    assert names("tags.rank > 5 OR created_by = 'ana'") == ["QA_big", "qa_small"]
    assert names("tags.stage IN ('dev', 'prod')", ["record_count DESC"]) == ["QA_big", "qa_small"]
    assert names("created_by IS NULL") == ["other"]
    assert names("version = 1 AND last_update_time > 0") == ["QA_big", "other", "qa_small"]
    with pytest.raises(InvalidFilterError, match=r"(?s)needs a number.*\^"):
        names("record_count > 'many'")
    with pytest.raises(InvalidArgumentError, match="cannot sort datasets by 'digest'"):
        names("", ["digest"])
    page, token = datasets.search_datasets(engine, [], "", 2, ["name"], "")
    rest, end = datasets.search_datasets(engine, [], "", 2, ["name"], token)
    assert [d.name for d in page + rest] == ["QA_big", "other", "qa_small"] and end == ""
