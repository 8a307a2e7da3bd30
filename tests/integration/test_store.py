"""The store on SQLite and PostgreSQL: migrations match the models, and the writer merges
trace rows the same whatever order and grouping a trace's spans arrive in."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from sqlalchemy import Engine, text

from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.ingest.redaction import RedactionRules
from spyglass.collector.ingest.spans import SpanConverter
from spyglass.collector.metrics import CollectorMetrics
from spyglass.collector.store import migrate
from spyglass.collector.store.engine import create_store_engine
from spyglass.collector.store.models import Base
from spyglass.collector.store.rows import SpanRecord
from spyglass.collector.store.traces import text_index
from spyglass.collector.store.traces.statements import TRACE_COLUMNS
from spyglass.collector.store.traces.writer import Writer
from spyglass.errors import MigrationError, OverloadedError


@pytest.fixture
def engine(store_url: str) -> Engine:
    engine = create_store_engine(store_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    # the trace.text word index is no model (an FTS5 table and its own tables on SQLite)
    diff = [d for d in diff if not _text_index_object(d)]
    assert diff == []
    migrate.upgrade(engine)  # a second upgrade is a no-op
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as connection:
        default = connection.execute(text("SELECT name FROM experiments WHERE experiment_id = 0"))
        assert default.scalar_one() == "Default"


def _text_index_object(difference: object) -> bool:
    """A removed table or index of the trace.text word index."""
    if not isinstance(difference, tuple) or difference[0] not in ("remove_table", "remove_index"):
        return False
    table = getattr(difference[1], "table", difference[1])
    return text_index.owns(table.name)


def test_no_migrate_on_an_empty_database_says_what_to_run(store_url: str) -> None:
    with pytest.raises(MigrationError, match="spyglass db upgrade"):
        migrate.check_current(create_store_engine(store_url))


def test_replicas_migrating_at_once_are_safe(store_url: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "spyglass.cli", "db", "upgrade", "--store", store_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "is at revision" in out


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def _trace_spans(rng: random.Random, n: int) -> list[Span]:
    trace_id, ids = rng.randbytes(16), [rng.randbytes(8) for _ in range(n)]
    spans = []
    for i in range(n):
        attrs = (
            [
                _kv("gen_ai.request.model", "gpt-4o-mini"),
                _kv("gen_ai.usage.input_tokens", 10 * (i + 1)),
                _kv("gen_ai.usage.output_tokens", i + 1),
            ]
            if i
            else [
                _kv("input.value", '{"q": 1}'),
                _kv("input.mime_type", "application/json"),
                _kv("output.value", "done"),
                _kv("session.id", "s-1"),
            ]
        )
        spans.append(
            Span(
                trace_id=trace_id,
                span_id=ids[i],
                parent_span_id=ids[0] if i else b"",
                name=f"span-{i}",
                start_time_unix_nano=1_000 + i * 10,
                end_time_unix_nano=5_000 + i * 100,
                attributes=attrs,
                status=Status(code=Status.STATUS_CODE_ERROR if i == 2 else 0),
            )
        )
    return spans


def _records(spans: list[Span], service: str = "svc") -> list[SpanRecord]:
    converter = SpanConverter(PriceTable.load(), RedactionRules.none(), 1 << 20)
    rs = ResourceSpans(
        resource={"attributes": [_kv("service.name", service)]},
        scope_spans=[ScopeSpans(spans=spans)],
    )
    return converter.convert([rs], received_at_ns=1).records


def _trace_rows(engine: Engine) -> list[tuple]:
    cols = [c for c in TRACE_COLUMNS if c not in ("created_at_ns", "last_span_at_ns")]
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT {', '.join(cols)} FROM traces ORDER BY trace_id"))
        # cost is a float sum: its last bits depend on the order it was added in
        cost = cols.index("cost")
        return [tuple(round(v, 12) if i == cost else v for i, v in enumerate(row)) for row in rows]


def _write(engine: Engine, batches: list[list[SpanRecord]]) -> None:
    writer = Writer(
        engine, CollectorMetrics(), max_queue_spans=10_000, max_batch_spans=10_000, retry_after=1
    )
    writer.start()
    try:
        for batch in batches:  # one at a time, so each batch is its own transaction
            writer.submit(batch).result(timeout=30)
    finally:
        writer.close()


def test_trace_rows_do_not_depend_on_arrival_order(engine: Engine, store_url: str) -> None:
    rng = random.Random(1234)
    spans = [s for _ in range(5) for s in _trace_spans(rng, 6)]
    _write(engine, [_records(spans)])
    expected = _trace_rows(engine)
    assert len(expected) == 5
    row = dict(
        zip(
            [c for c in TRACE_COLUMNS if c not in ("created_at_ns", "last_span_at_ns")], expected[0]
        )
    )
    assert (row["name"], row["status"], row["span_count"], row["error_count"]) == (
        "span-0",
        "OK",
        6,
        1,
    )
    assert (row["start_time_ns"], row["end_time_ns"]) == (1_000, 5_500)
    assert (row["input_tokens"], row["output_tokens"], row["session_id"]) == (200, 20, "s-1")
    assert row["cost"] > 0 and row["request_preview"] == '{"q": 1}'

    for seed in range(3):
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM spans"))
            connection.execute(text("DELETE FROM traces"))
        shuffled = spans[:]
        random.Random(seed).shuffle(shuffled)
        cuts = sorted(random.Random(seed).sample(range(1, len(shuffled)), 4))
        batches = [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(shuffled)])]
        # every batch also re-delivers a few spans that are already stored
        batches = [b + shuffled[:3] for b in batches]
        _write(engine, [_records(b) for b in batches])
        assert _trace_rows(engine) == expected, f"seed {seed}"


def test_a_full_queue_refuses_at_once(engine: Engine) -> None:
    writer = Writer(
        engine, CollectorMetrics(), max_queue_spans=5, max_batch_spans=5, retry_after=2.5
    )  # not started: nothing drains the queue
    records = _records(_trace_spans(random.Random(1), 4))
    writer.submit(records)
    with pytest.raises(OverloadedError, match="write queue is full") as info:
        writer.submit(records)
    assert info.value.retry_after == 2.5
    writer.start()
    writer.close()  # drains what was accepted
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM spans")).scalar_one() == 4
