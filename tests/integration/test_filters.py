"""Search filters and sort keys compiled by spyglass.collector.store.traces.filters, executed on a
small SQLite store and a small PostgreSQL store holding the same six traces.

Proves, on both stores alike: every operator on every kind of field selects exactly the
expected traces; numeric comparisons of tag, metadata, feedback, expectation and span
attribute values skip values that are not numbers (no error, no false match — 'abc' never
equals 0); booleans, JSON strings and invalid assessments behave as documented; time ranges
work in milliseconds; trace.text searches span inputs and outputs; sort keys order traces
with missing values last and ties broken by ingest order; injection attempts either fail to
parse or compare a harmless literal, and leave every table as it was; the largest filters
the limits allow still run; conditions combined with OR, AND and NOT select what their
parts do, whatever form their subqueries take.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from spyglass.collector.store import migrate
from spyglass.collector.store.engine import create_store_engine
from spyglass.collector.store.models import (
    AssessmentRow,
    Base,
    SpanRow,
    TraceMetadata,
    TraceRow,
    TraceTag,
)
from spyglass.collector.store.traces import text_index
from spyglass.collector.store.traces.filters import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_IN_VALUES,
    MAX_PATTERN_LENGTH,
    MAX_VALUES,
    compile_filter,
    compile_order_by,
)
from spyglass.collector.store.traces.probes import MAX_CORRELATED
from spyglass.errors import InvalidFilterError

MS = 1_000_000  # nanoseconds per millisecond
BASE_MS = 1_700_000_000_000
ALL = {"t1", "t2", "t3", "t4", "t5", "t6"}


def trace_id(label: str) -> str:
    return label.rjust(32, "0")


# --- the data: six traces with known fields, tags, metadata, assessments and spans ---------


@dataclass(frozen=True)
class T:
    name: str | None
    status: str
    start_ms: int
    duration_ms: int | None
    experiment_id: int = 0
    session_id: str | None = None
    user_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    span_count: int = 0
    error_count: int = 0


TRACES = {  # inserted in this order, so traces.id follows t1..t6
    "t1": T(
        "chat_completion",
        "OK",
        BASE_MS,
        1500,
        session_id="s1",
        user_id="alice",
        input_tokens=10,
        output_tokens=20,
        cost=0.01,
        span_count=2,
    ),
    "t2": T(
        "chat_completion",
        "ERROR",
        BASE_MS + 1000,
        4000,
        session_id="s1",
        user_id="bob",
        input_tokens=100,
        output_tokens=200,
        cost=0.2,
        span_count=2,
        error_count=2,
    ),
    "t3": T("retrieval", "IN_PROGRESS", BASE_MS + 2000, None, span_count=1),
    "t4": T(None, "IN_PROGRESS", BASE_MS + 3000, 100),
    "t5": T(
        "chat_completion",
        "OK",
        BASE_MS + 4000,
        250,
        experiment_id=7,
        user_id="carol",
        input_tokens=5,
        output_tokens=10,
        cost=0.03,
        span_count=1,
    ),
    "t6": T("Chat_Completion", "OK", BASE_MS + 5000, 50, experiment_id=7, span_count=1),
}
TAGS = {
    "t1": {
        "environment": "production",
        "quality_score": "0.9",
        "env": "prod",
        "my.key": "dotted",
        "flag": "true",
        "count": "10",
        "discount": "100 percent",
    },
    "t2": {
        "environment": "staging",
        "quality_score": "0.5",
        "env": "dev",
        "flag": "False",
        "count": "9",
    },
    "t3": {"environment": "production", "quality_score": "abc", "env": "PROD", "flag": "yes"},
    "t4": {"quality_score": "1e999", "spaced": " 0.7 ", "empty": ""},
    "t5": {"quality_score": "0.69", "note": "it's", "discount": "100%", "count": "-2.5e1"},
    "t6": {"nulltag": None},
}
METADATA = {
    "t1": {"version": "1.2", "region": "eu"},
    "t2": {"version": "2.0"},
    "t3": {"region": "us"},
}
ASSESSMENTS = [  # (trace, kind, name, JSON value, valid)
    ("t1", "feedback", "correctness", "yes", True),
    ("t1", "feedback", "score", 0.95, True),
    ("t1", "feedback", "passed", True, True),
    ("t1", "expectation", "key_information", {"must_mention": ["30 days", "receipt"]}, True),
    ("t1", "expectation", "expected_count", 3, True),
    ("t2", "feedback", "correctness", "no", True),
    ("t2", "feedback", "correctness", "yes", False),
    ("t2", "feedback", "score", 0.4, True),
    ("t2", "feedback", "score", 0.99, False),
    ("t2", "feedback", "passed", False, True),
    ("t3", "feedback", "score", "high", True),
    ("t3", "feedback", "passed", None, True),
    ("t3", "expectation", "expected_count", "three", True),
    ("t5", "feedback", "score", "0.85", True),
]
SPANS = [  # (trace, span, parent, name, type, status code, model, inputs, outputs, attributes)
    (
        "t1",
        "r1",
        None,
        "answer",
        "CHAIN",
        1,
        None,
        {"question": "How do I get a refund?"},
        "Full refunds within 30 days with receipt.",
        {},
    ),
    (
        "t1",
        "c1",
        "r1",
        "chat",
        "LLM",
        0,
        "gpt-4o-mini",
        None,
        {"choices": ["ok"]},
        {
            "gen_ai.request.model": "gpt-4o-mini",
            "temperature": 0.3,
            "gen_ai.usage.input_tokens": 10,
            "stream": False,
            'we"ird\\key': "odd",
        },
    ),
    ("t2", "r2", None, "answer", "CHAIN", 2, None, {"question": "Where is my SHIPPING?"}, None, {}),
    (
        "t2",
        "c2",
        "r2",
        "chat",
        "LLM",
        2,
        "gpt-4o",
        None,
        None,
        {"gen_ai.request.model": "gpt-4o", "temperature": 1, "stream": True},
    ),
    (
        "t3",
        "r3",
        None,
        "retrieve",
        "RETRIEVER",
        1,
        None,
        {"query": "50% off_sale"},
        ["doc1"],
        {"temperature": "warm", "gen_ai.request.model": None},
    ),
    (
        "t5",
        "r5",
        None,
        "chat",
        "LLM",
        1,
        "GPT-4O-MINI",
        "Ünïcode café",
        None,
        {"gen_ai.request.model": "GPT-4O-MINI", "temperature": "0.7"},
    ),
    ("t6", "r6", None, "Chat", "CHAT_MODEL", 0, None, "off-sale", None, {}),
]


def trace_rows() -> list[dict[str, object]]:
    rows = []
    for label, t in TRACES.items():
        start = t.start_ms * MS
        rows.append(
            {
                "trace_id": trace_id(label),
                "experiment_id": t.experiment_id,
                "experiment_rank": 0,
                "name": t.name,
                "status": t.status,
                "start_time_ns": start,
                "end_time_ns": None if t.duration_ms is None else start + t.duration_ms * MS,
                "input_tokens": t.input_tokens,
                "output_tokens": t.output_tokens,
                "total_tokens": t.input_tokens + t.output_tokens,
                "cost": t.cost,
                "span_count": t.span_count,
                "error_count": t.error_count,
                "session_id": t.session_id,
                "user_id": t.user_id,
                "created_at_ns": start,
                "last_span_at_ns": start,
            }
        )
    return rows


def key_value_rows(entries: dict[str, dict[str, str | None]]) -> list[dict[str, object]]:
    return [
        {"trace_id": trace_id(label), "key": key, "value": value}
        for label, pairs in entries.items()
        for key, value in pairs.items()
    ]


def assessment_rows() -> list[dict[str, object]]:
    return [
        {
            "assessment_id": f"a{i}",
            "trace_id": trace_id(label),
            "kind": kind,
            "name": name,
            "value": json.dumps(value),
            "source_type": "HUMAN",
            "valid": valid,
            "created_time_ms": BASE_MS,
            "last_update_time_ms": BASE_MS,
        }
        for i, (label, kind, name, value, valid) in enumerate(ASSESSMENTS)
    ]


def json_text(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def span_rows() -> list[dict[str, object]]:
    rows = []
    for label, span, parent, name, span_type, code, model, inputs, outputs, attrs in SPANS:
        start = TRACES[label].start_ms * MS
        rows.append(
            {
                "trace_id": trace_id(label),
                "span_id": span,
                "parent_span_id": parent,
                "name": name,
                "kind": 1,
                "span_type": span_type,
                "start_time_ns": start,
                "end_time_ns": start + MS,
                "status_code": code,
                "model": model,
                "inputs": json_text(inputs),
                "outputs": json_text(outputs),
                "attributes": json.dumps(attrs, ensure_ascii=False),
                "received_at_ns": start,
            }
        )
    return rows


@dataclass
class Store:
    engine: Engine
    dialect: str

    def matching(self, filter_string: str | None) -> set[str]:
        """Labels of the traces the filter selects."""
        query = select(TraceRow.trace_id)
        where = compile_filter(filter_string, self.dialect)
        if where is not None:
            query = query.where(where)
        with self.engine.connect() as connection:
            return {tid.lstrip("0") for tid in connection.execute(query).scalars()}

    def ordered(self, order_by: list[str] | None) -> list[str]:
        query = select(TraceRow.trace_id).order_by(*compile_order_by(order_by, self.dialect))
        with self.engine.connect() as connection:
            return [tid.lstrip("0") for tid in connection.execute(query).scalars()]

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of every table, to prove that a query changed nothing."""
        with self.engine.connect() as connection:
            return {
                table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
                for table in Base.metadata.sorted_tables
            }


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    engine = create_store_engine(store_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        for model, rows in (
            (TraceRow, trace_rows()),
            (TraceTag, key_value_rows(TAGS)),
            (TraceMetadata, key_value_rows(METADATA)),
            (AssessmentRow, assessment_rows()),
            (SpanRow, span_rows()),
        ):
            connection.execute(insert(model), rows)
        text_index.rebuild(connection)  # the writer indexes what it stores; these rows skip it
    yield Store(engine, engine.dialect.name)
    engine.dispose()


def check_cases(store: Store, cases: list[tuple[str, set[str]]]) -> None:
    """Run every case and report all mismatches at once."""
    failures = []
    for filter_string, expected in cases:
        got = store.matching(filter_string)
        if got != expected:
            failures.append(f"{filter_string!r}: got {sorted(got)}, expected {sorted(expected)}")
    assert not failures, f"on {store.dialect}:\n" + "\n".join(failures)


# --- traces columns ------------------------------------------------------------------------

TRACE_CASES = [
    ("attributes.name = 'chat_completion'", {"t1", "t2", "t5"}),
    ("trace.name == 'chat_completion'", {"t1", "t2", "t5"}),
    ("attributes.name != 'chat_completion'", {"t3", "t6"}),
    ("NOT attributes.name = 'chat_completion'", {"t3", "t4", "t6"}),
    ("attributes.name LIKE 'chat%'", {"t1", "t2", "t5"}),
    ("attributes.name LIKE 'chat_completion'", {"t1", "t2", "t5"}),
    ("attributes.name ILIKE 'CHAT%'", {"t1", "t2", "t5", "t6"}),
    ("attributes.name IN ('retrieval', 'Chat_Completion')", {"t3", "t6"}),
    ("attributes.name NOT IN ('chat_completion')", {"t3", "t6"}),
    ("attributes.name IS NULL", {"t4"}),
    ("attributes.name IS NOT NULL", ALL - {"t4"}),
    ("attributes.status = 'ERROR'", {"t2"}),
    ("attributes.status = 'in_progress'", {"t3", "t4"}),
    ("attributes.status <> 'OK'", {"t2", "t3", "t4"}),
    ("attributes.status IN ('OK', 'ERROR')", {"t1", "t2", "t5", "t6"}),
    ("attributes.status NOT IN ('OK', 'ERROR')", {"t3", "t4"}),
    (f"attributes.timestamp_ms = {BASE_MS}", {"t1"}),
    (f"attributes.timestamp_ms > {BASE_MS + 2000}", {"t4", "t5", "t6"}),
    (f"attributes.timestamp_ms >= {BASE_MS + 2000}", {"t3", "t4", "t5", "t6"}),
    (f"attributes.timestamp_ms < {BASE_MS}.5", {"t1"}),
    (f"attributes.timestamp_ms > {BASE_MS}.5", ALL - {"t1"}),
    (
        f"attributes.timestamp_ms >= {BASE_MS + 1000} AND attributes.timestamp_ms < "
        f"{BASE_MS + 3000}",
        {"t2", "t3"},
    ),
    (f"attributes.timestamp_ms IN ({BASE_MS}, {BASE_MS + 5000})", {"t1", "t6"}),
    (f"attributes.end_time_ms > {BASE_MS + 3000}", {"t2", "t4", "t5", "t6"}),
    (f"attributes.end_time_ms <= {BASE_MS + 1500}", {"t1"}),
    ("attributes.end_time_ms IS NULL", {"t3"}),
    ("attributes.execution_time_ms > 1000", {"t1", "t2"}),
    ("attributes.execution_time_ms <= 100", {"t4", "t6"}),
    ("attributes.execution_time_ms = 1500.0", {"t1"}),
    ("attributes.execution_time_ms > 99.9999", {"t1", "t2", "t4", "t5"}),
    ("attributes.execution_time_ms IS NULL", {"t3"}),
    ("NOT attributes.execution_time_ms > 1000", {"t3", "t4", "t5", "t6"}),
    ("attributes.experiment_id = 7", {"t5", "t6"}),
    ("attributes.experiment_id = '7'", {"t5", "t6"}),
    ("attributes.experiment_id != '0'", {"t5", "t6"}),
    ("attributes.experiment_id IN (0)", {"t1", "t2", "t3", "t4"}),
    ("attributes.session_id = 's1'", {"t1", "t2"}),
    ("attributes.user_id IN ('alice', 'carol')", {"t1", "t5"}),
    ("attributes.user_id IS NULL", {"t3", "t4", "t6"}),
    (f"attributes.trace_id = '{trace_id('t3')}'", {"t3"}),
    ("attributes.total_tokens >= 300", {"t2"}),
    ("attributes.total_tokens > 2.5", {"t1", "t2", "t5"}),
    ("attributes.total_tokens < 15.5", {"t3", "t4", "t5", "t6"}),
    ("attributes.total_tokens > 14.6", {"t1", "t2", "t5"}),  # 14.6 is not rounded to 15
    ("attributes.total_tokens IN (15.4, 30)", {"t1"}),
    ("attributes.input_tokens = 5", {"t5"}),
    ("attributes.output_tokens NOT IN (0, 20)", {"t2", "t5"}),
    ("attributes.cost > 0.02", {"t2", "t5"}),
    ("attributes.span_count = 2", {"t1", "t2"}),
    ("attributes.error_count > 0", {"t2"}),
    ("attributes.total_tokens > 99999999999999999999999", set()),
    ("attributes.timestamp_ms < 99999999999999999999", ALL),
    ("attributes.model = 'gpt-4o'", {"t2"}),
    ("trace.model LIKE 'gpt-4o%'", {"t1", "t2"}),
    ("trace.model ILIKE 'gpt-4o-mini'", {"t1", "t5"}),
    ("trace.model IS NULL", {"t3", "t4", "t6"}),
    # precedence: AND binds tighter than OR; parentheses and NOT; keywords in any case
    (
        "attributes.status = 'ERROR' OR attributes.name = 'retrieval' AND "
        "attributes.experiment_id = 7",
        {"t2"},
    ),
    (
        "(attributes.status = 'ERROR' OR attributes.name = 'retrieval') AND "
        "attributes.experiment_id = 0",
        {"t2", "t3"},
    ),
    ("attributes.name = 'retrieval' or attributes.status = 'error'", {"t2", "t3"}),
    ("not (attributes.experiment_id = 7 or attributes.status = 'ERROR')", {"t1", "t3", "t4"}),
    ("NOT NOT attributes.experiment_id = 7", {"t5", "t6"}),
    ("   ", ALL),
]


def test_trace_fields(store: Store) -> None:
    check_cases(store, TRACE_CASES)


# --- tags and metadata ---------------------------------------------------------------------

KEY_VALUE_CASES = [
    ("tags.environment = 'production'", {"t1", "t3"}),
    ("tag.environment = 'production'", {"t1", "t3"}),
    ("tags.env != 'prod'", {"t2", "t3"}),
    ("NOT tags.env = 'prod'", ALL - {"t1"}),
    ("tags.env IS NULL", {"t4", "t5", "t6"}),
    ("tags.env IS NOT NULL", {"t1", "t2", "t3"}),
    ("tags.env IN ('prod', 'dev')", {"t1", "t2"}),
    ("tags.env NOT IN ('prod')", {"t2", "t3"}),
    ("tags.env LIKE 'pro%'", {"t1"}),
    ("tags.env ILIKE 'PRO%'", {"t1", "t3"}),
    ("tags.`my.key` = 'dotted'", {"t1"}),
    ("tags.my.key = 'dotted'", {"t1"}),
    ("tags.`my key` = 'dotted'", set()),
    # numeric comparisons: 'abc', '1e999' and '' are not numbers and never match
    ("tag.quality_score < 0.7", {"t2", "t5"}),
    ("tags.quality_score >= 0.7", {"t1"}),
    ("tags.quality_score != 0.5", {"t1", "t5"}),
    ("tags.quality_score = 0", set()),
    ("tags.quality_score <= 0", set()),
    ("tags.quality_score = 'abc'", {"t3"}),
    ("tags.quality_score > -1000000", {"t1", "t2", "t5"}),
    ("tags.empty = 0", set()),
    ("tags.empty = ''", {"t4"}),
    ("tags.spaced = 0.7", {"t4"}),
    ("tags.count > 9.5", {"t1"}),
    ("tags.count < 0", {"t5"}),
    ("tags.count = -25", {"t5"}),
    ("tags.count IN (9, 10)", {"t1", "t2"}),
    ("tags.count NOT IN (10)", {"t2", "t5"}),
    ("tags.count = '10'", {"t1"}),
    ("tags.count = 10", {"t1"}),
    ("tags.count > 1E0", {"t1", "t2"}),
    # booleans: only true/false (any case) take part
    ("tags.flag = TRUE", {"t1"}),
    ("tags.flag = false", {"t2"}),
    ("tags.flag != TRUE", {"t2"}),
    ("tags.flag IN (TRUE, FALSE)", {"t1", "t2"}),
    ("tags.flag NOT IN (TRUE)", {"t2"}),
    ("tags.flag = 'yes'", {"t3"}),
    # quoting and LIKE escapes
    ("tags.note = 'it''s'", {"t5"}),
    ('tags.note = "it\'s"', {"t5"}),
    ("tags.discount LIKE '100%'", {"t1", "t5"}),
    ("tags.discount LIKE '100\\%'", {"t5"}),
    ("tags.discount LIKE '100_percent'", {"t1"}),
    ("tags.discount ILIKE '100 PERCENT'", {"t1"}),
    ("tags.nulltag IS NULL", ALL),
    ("tags.nulltag IS NOT NULL", set()),
    ("tags.absent = 'x' OR tags.absent != 'x'", set()),
    ("metadata.version = '1.2'", {"t1"}),
    ("metadata.version > 1.5", {"t2"}),
    ("metadata.region IN ('eu', 'us')", {"t1", "t3"}),
    ("metadata.region IS NULL", {"t2", "t4", "t5", "t6"}),
    ("metadata.environment = 'production'", set()),
    ("tags.environment = 'production' AND metadata.region = 'us'", {"t3"}),
]


def test_tags_and_metadata(store: Store) -> None:
    check_cases(store, KEY_VALUE_CASES)


# --- feedback and expectations -------------------------------------------------------------

ASSESSMENT_CASES = [
    ("feedback.correctness = 'yes'", {"t1"}),  # t2's 'yes' is not valid
    ("feedback.correctness != 'yes'", {"t2"}),
    ("feedback.correctness IN ('yes', 'no')", {"t1", "t2"}),
    ("feedback.correctness LIKE 'y%'", {"t1"}),
    ("feedback.score >= 0.8", {"t1", "t5"}),  # t2's invalid 0.99 is ignored; "0.85" counts
    ("feedback.score < 0.5", {"t2"}),  # 'high' is not a number
    ("feedback.score = 0.95", {"t1"}),
    ("feedback.score = 'high'", {"t3"}),
    ("NOT feedback.score >= 0.8", {"t2", "t3", "t4", "t6"}),
    ("feedback.passed = TRUE", {"t1"}),
    ("feedback.passed = FALSE", {"t2"}),
    ("feedback.passed != TRUE", {"t2"}),
    ("feedback.passed = 'true'", {"t1"}),
    ("feedback.passed IS NULL", {"t3", "t4", "t5", "t6"}),  # t3's value is JSON null
    ("feedback.passed IS NOT NULL", {"t1", "t2"}),
    ("expectation.expected_count = 3", {"t1"}),
    ("expectation.expected_count > 2", {"t1"}),
    ("expectation.expected_count = 'three'", {"t3"}),
    ("expectation.key_information LIKE '%30 days%'", {"t1"}),
    ("expectation.key_information IS NOT NULL", {"t1"}),
    ("feedback.expected_count = 3", set()),  # kinds do not mix
    ("feedback.score > 0.3 AND expectation.expected_count = 3", {"t1"}),
]


def test_feedback_and_expectations(store: Store) -> None:
    check_cases(store, ASSESSMENT_CASES)


# --- spans and full text -------------------------------------------------------------------

SPAN_CASES = [
    ("span.name = 'chat'", {"t1", "t2", "t5"}),
    ("span.name != 'answer'", {"t1", "t2", "t3", "t5", "t6"}),
    ("span.name ILIKE 'chat'", {"t1", "t2", "t5", "t6"}),
    ("span.name IS NULL", {"t4"}),
    ("span.type = 'LLM'", {"t1", "t2", "t5"}),
    ("span.type IN ('RETRIEVER', 'CHAT_MODEL')", {"t3", "t6"}),
    ("span.status = 'ERROR'", {"t2"}),
    ("span.status = 'ok'", {"t1", "t3", "t5", "t6"}),  # UNSET counts as OK
    ("span.status != 'ERROR'", {"t1", "t3", "t5", "t6"}),
    ("span.status NOT IN ('OK')", {"t2"}),
    ("span.status IN ('OK', 'ERROR')", {"t1", "t2", "t3", "t5", "t6"}),
    ("span.inputs LIKE '%refund%'", {"t1"}),
    ("span.outputs LIKE '%choices%'", {"t1"}),
    ("span.outputs IS NULL", {"t2", "t4", "t5", "t6"}),
    ("span.name = 'chat' AND span.type = 'CHAIN'", {"t1", "t2"}),  # two different spans
    ("span.attributes.`gen_ai.request.model` = 'gpt-4o-mini'", {"t1"}),
    ("span.attributes.gen_ai.request.model LIKE 'gpt%'", {"t1", "t2"}),
    ("span.attributes.gen_ai.request.model ILIKE 'gpt-4o-mini'", {"t1", "t5"}),
    ("span.attributes.gen_ai.request.model IS NULL", {"t3", "t4", "t6"}),
    ("span.attributes.temperature > 0.5", {"t2", "t5"}),  # 'warm' is not a number
    ("span.attributes.temperature = 0.3", {"t1"}),
    ("span.attributes.temperature = '1'", {"t2"}),
    ("span.attributes.temperature = 'warm'", {"t3"}),
    ("span.attributes.temperature IS NULL", {"t4", "t6"}),
    ("span.attributes.stream = TRUE", {"t2"}),
    ("span.attributes.stream = FALSE", {"t1"}),
    ("span.attributes.stream = 'true'", {"t2"}),
    ("span.attributes.gen_ai.usage.input_tokens = 10", {"t1"}),
    ("span.attributes.`we\"ird\\key` = 'odd'", {"t1"}),
    ("trace.text = 'refund'", {"t1"}),
    ("trace.text = 'REFUND'", {"t1"}),
    ("trace.text LIKE 'shipping'", {"t2"}),
    ("trace.text ILIKE 'receipt'", {"t1"}),
    ("attributes.text = 'café'", {"t5"}),
    ("trace.text = '50%'", {"t3"}),
    ("trace.text = 'off_sale'", {"t3"}),
    ("trace.text LIKE 'off_sale'", {"t3", "t6"}),
    ("trace.text LIKE '%'", {"t1", "t2", "t3", "t5", "t6"}),
    ("trace.text = 'nowhere to be found'", set()),
]


def test_spans_and_text(store: Store) -> None:
    check_cases(store, SPAN_CASES)


# --- order_by ------------------------------------------------------------------------------

ORDER_CASES = [
    (None, ["t6", "t5", "t4", "t3", "t2", "t1"]),
    (["attributes.timestamp_ms DESC"], ["t6", "t5", "t4", "t3", "t2", "t1"]),
    (["trace.timestamp_ms"], ["t1", "t2", "t3", "t4", "t5", "t6"]),
    (["attributes.execution_time_ms DESC"], ["t2", "t1", "t5", "t4", "t6", "t3"]),
    (["attributes.execution_time_ms asc"], ["t6", "t4", "t5", "t1", "t2", "t3"]),
    (["attributes.name", "attributes.timestamp_ms DESC"], ["t6", "t5", "t2", "t1", "t3", "t4"]),
    (["attributes.status DESC"], ["t6", "t5", "t1", "t4", "t3", "t2"]),
    (["attributes.total_tokens DESC"], ["t2", "t1", "t5", "t6", "t4", "t3"]),
    (["attributes.experiment_id"], ["t4", "t3", "t2", "t1", "t6", "t5"]),
    (["tags.quality_score"], ["t2", "t5", "t1", "t4", "t3", "t6"]),
    (["tags.env DESC"], ["t1", "t2", "t3", "t6", "t5", "t4"]),
    (["metadata.version DESC", "attributes.timestamp_ms"], ["t2", "t1", "t3", "t4", "t5", "t6"]),
]


def test_order_by(store: Store) -> None:
    failures = [
        f"{order_by}: got {got}, expected {expected}"
        for order_by, expected in ORDER_CASES
        if (got := store.ordered(order_by)) != expected
    ]
    assert not failures, f"on {store.dialect}:\n" + "\n".join(failures)


def test_order_by_combines_with_a_filter(store: Store) -> None:
    query = (
        select(TraceRow.trace_id)
        .where(compile_filter("tags.environment = 'production'", store.dialect))
        .order_by(*compile_order_by(["attributes.timestamp_ms DESC"], store.dialect))
    )
    with store.engine.connect() as connection:
        assert list(connection.execute(query).scalars()) == [trace_id("t3"), trace_id("t1")]


# --- hostile input -------------------------------------------------------------------------

REJECTED = [  # each must fail to parse
    "attributes.name = 'x' OR 1=1 --",
    "attributes.name = 'x'; DROP TABLE traces",
    "attributes.name = 'x' UNION SELECT trace_id FROM traces",
    'attributes.name = "x\\" OR 1=1 --"',
    "attributes.name = ‘x’ OR ‘1’=‘1’",
    "attributes.name = 'x\x00'; DROP TABLE traces",
    "tags.env = 'prod' /* comment */",
    "attributes.experiment_id = '0 OR 1=1'",
    "attributes.timestamp_ms > 1e400",
    "attributes.name IN (" + ", ".join(["'a'"] * 1001) + ")",
    "(" * (MAX_DEPTH + 50) + "tags.a = 'b'" + ")" * (MAX_DEPTH + 50),
    "NOT " * (MAX_DEPTH + 50) + "tags.a = 'b'",
    "tags.a = '" + "x" * 200_000 + "'",
]
HARMLESS = [  # each parses into a comparison with an odd literal, which matches nothing
    "attributes.name = 'x''; DROP TABLE traces; --'",
    "attributes.name = 'x'' OR ''1''=''1'",
    "tags.`a'); DROP TABLE traces; --` = 'b'",
    "tags.`a\"; DROP TABLE traces; --` = 'b'",
    "span.attributes.`') OR 1=1; DROP TABLE spans; --` = 'x'",
    "span.attributes.`$.x' || (SELECT 1)` = 1",
    "trace.text LIKE '%''; DROP TABLE spans; --%'",
    "feedback.`x' OR '1'='1` = 'yes'",
    "tags.`ключ` = 'значение'",
]


def test_injection_attempts_fail_or_compare_harmless_literals(store: Store) -> None:
    before = store.snapshot()
    for attempt in REJECTED:
        with pytest.raises(InvalidFilterError, match=r"\^"):
            store.matching(attempt)
    for attempt in HARMLESS:
        assert store.matching(attempt) == set(), attempt
    assert store.snapshot() == before
    assert store.matching(None) == ALL  # the traces table is still there, whole


def test_largest_filters_within_the_limits_run(store: Store) -> None:
    """MAX_CONDITIONS conditions and MAX_DEPTH levels of alternating AND/OR, on each
    store: no RecursionError, no 'expression tree is too large'."""
    wide = " OR ".join(f"tags.k{i} = 'v'" for i in range(MAX_CONDITIONS - 1))
    assert store.matching(wide + " OR tags.env = 'dev'") == {"t2"}
    deep = "tags.env = 'prod'"
    for level in range(MAX_DEPTH):  # true AND …, false OR …: only the innermost decides
        filler = "attributes.span_count < 0 OR" if level % 2 else "attributes.span_count >= 0 AND"
        deep = f"({filler} {deep})"
    assert store.matching(deep) == {"t1"}
    assert store.matching("NOT " * MAX_DEPTH + "tags.env = 'prod'") == {"t1"}


def _single_conditions() -> list[tuple[str, set[str]]]:
    """Every one-condition case of the tables above (no AND, OR, NOT or parentheses)."""
    cases = KEY_VALUE_CASES + ASSESSMENT_CASES + SPAN_CASES + TRACE_CASES
    words = (" AND ", " OR ", "NOT ", "(", " and ", " or ", "not ")
    return [
        (text, expected)
        for text, expected in cases
        if text.strip()
        and not any(
            word in text.replace(" NOT IN", " IN").replace("IS NOT NULL", "IS NULL")
            for word in words
        )
    ]


@pytest.mark.parametrize("size", [3, MAX_CORRELATED + 4])
def test_combined_conditions_select_what_their_parts_do(store: Store, size: int) -> None:
    """OR, AND and AND NOT of conditions of every kind select the union / intersection of
    what each selects alone: with few conditions (correlated subqueries, merged per table)
    and with more than MAX_CORRELATED (the store's other subquery form)."""
    singles = _single_conditions()
    for start in range(0, len(singles) - size + 1, size):
        group = singles[start : start + size]
        texts, sets = [t for t, _ in group], [e for _, e in group]
        assert store.matching(" OR ".join(texts)) == set().union(*sets), texts
        assert store.matching(" AND ".join(texts)) == set.intersection(*sets), texts
        assert store.matching(" AND ".join(f"NOT {t}" for t in texts)) == ALL - set().union(
            *sets
        ), texts


def test_largest_values_and_patterns_within_the_limits_run(store: Store) -> None:
    """MAX_VALUES values and MAX_PATTERN_LENGTH-character patterns, written to need the most
    parameters and pattern bytes each store sees: no "too many SQL variables", no "LIKE or
    GLOB pattern too complex"."""
    in_list = ", ".join(str(i) for i in range(MAX_IN_VALUES))
    lists = [
        f"tags.count IN ({in_list})",
        f"metadata.m IN ({in_list})",
        f"feedback.score IN ({in_list})",
        f"span.attributes.n IN ({in_list})",
        f"tags.quality_score IN ({in_list})",
    ]
    assert len(lists) * MAX_IN_VALUES == MAX_VALUES
    assert store.matching(" OR ".join(lists)) == {"t1", "t2"}  # tags.count 9 and 10
    glob_heavy = "*😀" * (MAX_PATTERN_LENGTH // 2)  # 3 + 4 bytes per pair once made a GLOB
    assert store.matching(f"tags.env LIKE '{glob_heavy}'") == set()
    assert store.matching(f"trace.text = '{'%' * MAX_PATTERN_LENGTH}'") == set()
    assert store.matching(f"trace.text ILIKE '{'é' * MAX_PATTERN_LENGTH}'") == set()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_user_text_is_bound_never_inlined(dialect: str) -> None:
    key = "zq`` ') OR 1=1; --"  # the key zq` ') OR 1=1; -- in backticks
    value = "zq'' OR ''1''=''1"  # the string zq' OR '1'='1
    expr = compile_filter(
        f"tags.`{key}` = '{value}' OR span.attributes.`{key}` LIKE "
        f"'{value}' OR trace.text = 'zq' OR feedback.zq >= 0.5",
        dialect,
    )
    engine_dialect = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    sql = str(select(func.count()).where(expr).compile(dialect=engine_dialect))
    assert "zq" not in sql and "1=1" not in sql


# --- dates and ages in time fields -----------------------------------------------------------

# BASE_MS is 2023-11-14T22:13:20Z: t1 starts then, t2..t6 one second apart after it
DATE_CASES = [
    ("attributes.timestamp_ms >= '2023-11-14T22:13:22Z'", {"t3", "t4", "t5", "t6"}),
    ("attributes.timestamp_ms >= '2023-11-14T22:13:22'", {"t3", "t4", "t5", "t6"}),  # UTC
    ("attributes.timestamp_ms >= '2023-11-14T23:13:22+01:00'", {"t3", "t4", "t5", "t6"}),
    ("attributes.timestamp_ms > '2023-11-14'", ALL),
    ("attributes.timestamp_ms < '2023-11-15'", ALL),
    ("attributes.timestamp_ms >= '2023-11-15'", set()),
    ("trace.end_time_ms > '2023-11-14T22:13:23.000Z'", {"t2", "t4", "t5", "t6"}),
    ("attributes.timestamp_ms IN ('2023-11-14T22:13:20Z', 1700000005000)", {"t1", "t6"}),
    # every trace is years old
    ("attributes.timestamp_ms > -7d", set()),
    ("attributes.timestamp_ms < -7d", ALL),
    ("attributes.timestamp_ms < '7d'", ALL),
    ("attributes.end_time_ms < -1w", ALL - {"t3"}),
]


def test_time_fields_take_dates_and_ages(store: Store) -> None:
    check_cases(store, DATE_CASES)


def test_ages_count_back_from_now(store: Store) -> None:
    hour_ago_ms = int(time.time() * 1000) - 3_600_000
    fresh = {**trace_rows()[0], "trace_id": trace_id("fresh")}
    fresh.update(start_time_ns=hour_ago_ms * MS, end_time_ns=(hour_ago_ms + 10) * MS)
    with store.engine.begin() as connection:
        connection.execute(insert(TraceRow), [fresh])
    check_cases(
        store,
        [
            ("attributes.timestamp_ms > -1d", {"fresh"}),
            ("attributes.timestamp_ms > '90m'", {"fresh"}),
            ("attributes.timestamp_ms > -30m", set()),
            ("attributes.timestamp_ms < -2h", ALL),
            ("attributes.timestamp_ms > -1.5h AND attributes.end_time_ms < -0.5h", {"fresh"}),
        ],
    )
