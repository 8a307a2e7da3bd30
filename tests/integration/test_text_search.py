"""``trace.text`` through the word index (store/traces/text_index.py), on SQLite and on
PostgreSQL, with spans written by the collector's writer.

Proves, on both stores alike: every value and pattern of a generated corpus selects exactly
the traces that an independent statement of the documented rule selects (a Python regular
expression), so the index never loses a match and the two stores agree; spans of one trace
written in separate transactions are all found; a span whose text changes is found by its
new words; deleting a trace takes its words out of the index; upgrading a database that
holds spans indexes them, and the downgrade removes the index.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text

from spyglass.collector.metrics import CollectorMetrics
from spyglass.collector.store import migrate
from spyglass.collector.store.engine import create_store_engine
from spyglass.collector.store.models import TraceRow
from spyglass.collector.store.rows import SPAN_COLUMNS, ExperimentRef, SpanRecord
from spyglass.collector.store.traces.filters import compile_filter
from spyglass.collector.store.traces.queries import delete_traces_by_id
from spyglass.collector.store.traces.writer import Writer

EXPERIMENT = ExperimentRef(1, "name", "text-search")


def trace_id(label: str) -> str:
    return label.encode().hex().rjust(32, "0")[-32:]


def span_row(label: str, span: int, inputs: str | None, outputs: str | None) -> tuple:
    values = {
        "trace_id": trace_id(label),
        "span_id": f"{span:016x}",
        "parent_span_id": None if span == 0 else f"{0:016x}",
        "name": f"step-{span}",
        "kind": 1,
        "span_type": "CHAIN",
        "start_time_ns": 1_700_000_000_000_000_000 + span,
        "end_time_ns": 1_700_000_000_000_000_000 + span + 1000,
        "status_code": 0,
        "inputs": inputs,
        "outputs": outputs,
        "attributes": "{}",
        "received_at_ns": 1,
    }
    return tuple(values.get(column) for column in SPAN_COLUMNS)


def write(engine: Engine, batches: list[list[tuple]]) -> None:
    """Each batch through the writer, in a transaction of its own."""
    writer = Writer(
        engine, CollectorMetrics(), max_queue_spans=10_000, max_batch_spans=10_000, retry_after=1
    )
    writer.start()
    try:
        for batch in batches:
            writer.submit([SpanRecord(row, EXPERIMENT) for row in batch]).result(timeout=30)
    finally:
        writer.close()


def matching(engine: Engine, filter_string: str) -> set[str]:
    where = compile_filter(filter_string, engine.dialect.name)
    with engine.connect() as connection:
        ids = connection.execute(select(TraceRow.trace_id).where(where)).scalars()
        return set(ids)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = create_store_engine(store_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


# --- the rule, stated independently -------------------------------------------------------

_SEPARATOR = r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]"


def rule(value: str, op: str) -> re.Pattern[str]:
    """The documented rule as a Python regular expression: the value (a LIKE pattern for
    LIKE/ILIKE) anywhere, ASCII letters in either case, other characters as written; when it
    begins with an ASCII letter or digit, only where a word begins."""
    out = []
    chars = iter(value)
    first_literal: str | None = None
    for i, char in enumerate(chars):
        wildcard = op != "=" and char in "%_"
        if op != "=" and char == "\\":
            char, wildcard = next(chars), False
        if i == 0 and not wildcard:
            first_literal = char
        if wildcard:
            out.append(".*" if char == "%" else ".")
        elif char.isascii() and char.isalpha():
            out.append(f"[{char.lower()}{char.upper()}]")
        else:
            out.append(re.escape(char))
    anchor = ""
    if first_literal is not None and first_literal.isascii() and first_literal.isalnum():
        anchor = f"(?:^|(?<={_SEPARATOR}))"
    return re.compile(anchor + "".join(out), re.DOTALL)


WORDS = [
    "refund", "Refund", "REFUNDS", "prerefund", "re-fund", "re_fund", "fund", "funding",
    "café", "Café", "CAFÉ", "écafé", "naïve", "日本語テキスト", "テキスト", "50%", "100\\%",
    "it's", "x_y", "order", "4242", "42420", "policy:", '"quoted"', "{json}", "tab\there",
    "new\nline", "w" * 300 + "tail", "w" * 300, "Ünïcode", "ÜNÏCODE", "a", "ab", "abc",
]  # fmt: skip
SEPARATORS = [" ", ", ", "\n", "-", "_", '"', ": ", "/", "é", "日"]
VALUES = [
    ("=", "refund"), ("=", "REFUND"), ("=", "fund"), ("=", "re-fund"), ("=", "-fund"),
    ("=", "refund polic"), ("=", "Refund policy"), ("=", "café"), ("=", "CAFÉ"), ("=", "afé"),
    ("=", "écafé"), ("=", "日本"), ("=", "テキスト"), ("=", "50%"), ("=", "100\\%"),
    ("=", "x_y"), ("=", "it's"), ("=", "order 4242"), ("=", "4242"), ("=", "424"),
    ("=", "42"), ("=", "w" * 300), ("=", "w" * 300 + "tail"), ("=", "w" * 260),
    ("=", "naïve café"), ("=", "ünïcode"), ("=", "Ünïcode"), ("=", "tab\there"),
    ("=", '"quoted"'), ("=", "quoted"), ("=", "{json"), ("=", "ab"), ("=", "a"), ("=", ""),
    ("LIKE", "ref%d"), ("LIKE", "%fund"), ("LIKE", "_efund"), ("LIKE", "re_fund"),
    ("LIKE", "re\\_fund"), ("ILIKE", "REFUND%POLICY"), ("LIKE", "caf_"), ("LIKE", "order 42%0"),
    ("ILIKE", "fund%"), ("LIKE", "%"), ("LIKE", "100\\%"), ("ILIKE", "naïve%"),
]  # fmt: skip


def corpus(rng: random.Random, n_traces: int) -> dict[str, list[tuple[str | None, str | None]]]:
    """Traces of one to three spans whose inputs/outputs are JSON text of random words."""

    def sentence() -> str:
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 6))]
        return "".join(w + rng.choice(SEPARATORS) for w in words).strip()

    traces: dict[str, list[tuple[str | None, str | None]]] = {}
    for i in range(n_traces):
        spans = []
        for _ in range(rng.randint(1, 3)):
            inputs = json.dumps({"question": sentence()}, ensure_ascii=False)
            outputs = None if rng.random() < 0.2 else json.dumps(sentence(), ensure_ascii=False)
            spans.append((inputs, outputs))
        traces[f"t{i}"] = spans
    return traces


def quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def test_results_follow_the_rule_on_both_stores(engine: Engine) -> None:
    traces = corpus(random.Random(18), 120)
    rows = [
        span_row(label, i, inputs, outputs)
        for label, spans in traces.items()
        for i, (inputs, outputs) in enumerate(spans)
    ]
    write(engine, [rows[: len(rows) // 2], rows[len(rows) // 2 :]])
    failures = []
    for op, value in VALUES:
        pattern = rule(value, op)
        expected = {
            trace_id(label)
            for label, spans in traces.items()
            if any(t is not None and pattern.search(t) for span in spans for t in span)
        }
        got = matching(engine, f"trace.text {op} {quoted(value)}")
        if got != expected:
            failures.append(f"{op} {value!r}: {len(got)} traces, expected {len(expected)}")
    assert not failures, f"on {engine.dialect.name}:\n" + "\n".join(failures)
    # the corpus exercises both sides of the rule
    assert matching(engine, "trace.text = 'refund'") - matching(engine, "trace.text = 'fund'")
    assert matching(engine, "trace.text LIKE '%fund'") - matching(engine, "trace.text = 'refund'")


def test_the_index_answers_word_values_and_patterns_without_one_scan(engine: Engine) -> None:
    dialect = engine.dialect.name

    def sql(filter_string: str) -> str:
        return str(compile_filter(filter_string, dialect))

    assert "span_text" in sql("trace.text = 'refund polic'")
    assert "span_text" in sql("trace.text ILIKE 'order 42%0'")
    assert "span_text" in sql("trace.text = '(refund) policy'")  # "policy" begins a word
    for scanned in ("'%fund'", "'fund'", "'ab'", "'日本'", "'_efund'"):
        op = "LIKE" if "%" in scanned or "_" in scanned else "="
        compiled = sql(f"trace.text {op} {scanned}")
        assert ("span_text" in compiled) == (scanned in ("'fund'",)), scanned
    assert "span_text" not in sql("NOT trace.text = 'refund'")


def test_spans_of_a_trace_written_apart_and_changed_later_are_found(engine: Engine) -> None:
    write(
        engine,
        [
            [span_row("a", 0, '"alpha first"', None), span_row("b", 0, '"beta"', None)],
            [span_row("a", 1, '"omega second"', '"shared"'), span_row("c", 0, None, '"shared"')],
        ],
    )
    assert matching(engine, "trace.text = 'alpha'") == {trace_id("a")}
    assert matching(engine, "trace.text = 'omega'") == {trace_id("a")}
    assert matching(engine, "trace.text = 'shared'") == {trace_id("a"), trace_id("c")}
    with engine.begin() as connection:  # as the log records of a span rewrite its text
        connection.execute(
            text("UPDATE spans SET inputs = :t WHERE trace_id = :id"),
            {"t": '"gamma replaced"', "id": trace_id("b")},
        )
    assert matching(engine, "trace.text = 'gamma'") == {trace_id("b")}
    assert matching(engine, "trace.text = 'beta'") == set()


def test_spans_with_very_many_distinct_words_are_found(engine: Engine) -> None:
    many = " ".join(f"w{i:06d}x" for i in range(80_000))  # ~800 KB of distinct words
    write(engine, [[span_row("big", 0, json.dumps(many), None), span_row("n", 0, '"x"', None)]])
    assert matching(engine, "trace.text = 'w079999x'") == {trace_id("big")}
    with engine.begin() as connection:  # a changed text goes through the store's own words
        connection.execute(
            text("UPDATE spans SET outputs = :t WHERE trace_id = :id"),
            {"t": json.dumps(many.replace("x", "y")), "id": trace_id("n")},
        )
    assert matching(engine, "trace.text = 'w079998y'") == {trace_id("n")}
    assert matching(engine, "trace.text = 'w079998'") == {trace_id("big"), trace_id("n")}


def _index_entries(engine: Engine, label: str) -> int:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            found = connection.execute(
                text("SELECT count(*) FROM span_text WHERE span_text MATCH 'doomed'")
            )
        else:
            found = connection.execute(
                text("SELECT count(*) FROM span_text WHERE trace_id = :id"), {"id": trace_id(label)}
            )
        return int(found.scalar_one())


def test_deleting_a_trace_takes_its_words_out(engine: Engine) -> None:
    write(engine, [[span_row("d", 0, '"doomed words"', None), span_row("k", 0, '"kept"', None)]])
    assert _index_entries(engine, "d") == 1
    assert delete_traces_by_id(engine, [trace_id("d")]) == 1
    assert _index_entries(engine, "d") == 0
    assert matching(engine, "trace.text = 'doomed'") == set()
    assert matching(engine, "trace.text = 'kept'") == {trace_id("k")}


def test_upgrade_indexes_stored_spans_and_downgrade_removes_the_index(engine: Engine) -> None:
    write(engine, [[span_row("old", 0, '"stored before the index"', '"Refund policy"')]])
    with engine.connect() as connection:
        command.downgrade(migrate._config(connection), "0007")
        connection.commit()
    assert migrate.current_revision(engine) == "0007"
    assert "span_text" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert matching(engine, "trace.text = 'refund polic'") == {trace_id("old")}
    assert matching(engine, "trace.text = 'index'") == {trace_id("old")}
