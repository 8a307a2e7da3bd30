"""What the ingest side stores of out-of-range, oversized and conflicting span and log values
(spyglass.collector.ingest.value_limits, spans, logs): column ranges, truncation of every stored
string, end before start, duplicate span ids, values JSON cannot hold."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status
from otlp_builders import any_value as value
from otlp_builders import key_values as kvs
from sqlalchemy import BigInteger, Column, Integer, SmallInteger, String

from spyglass.collector.genai.cost import ModelPrice, PriceTable
from spyglass.collector.ingest.logs import LogConverter
from spyglass.collector.ingest.redaction import RedactionRules
from spyglass.collector.ingest.spans import (
    ConvertResult,
    SpanConverter,
)
from spyglass.collector.ingest.value_limits import (
    TIME_MAX,
    TOKENS_MAX,
    int_range,
    time_problem,
    truncate_text,
    truncate_value,
    truncate_values,
)
from spyglass.collector.store.rows import (
    END,
    IN_TOK,
    NAME,
    OUT_TOK,
    SPAN_COLUMNS,
    START,
    STATUS,
    TOTAL_TOK,
)

TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
T0 = 1_700_000_000_000_000_000
PATH0 = "resourceSpans[0].scopeSpans[0].spans[0]"
PATH1 = "resourceSpans[0].scopeSpans[0].spans[1]"
KIND = SPAN_COLUMNS.index("kind")
ATTRS = SPAN_COLUMNS.index("attributes")
EVENTS = SPAN_COLUMNS.index("events")
LINKS = SPAN_COLUMNS.index("links")
RESOURCE = SPAN_COLUMNS.index("resource")
SCOPE = SPAN_COLUMNS.index("scope")
MESSAGE = SPAN_COLUMNS.index("status_message")
COST = SPAN_COLUMNS.index("cost")


def span(number: int = 1, *, start: int = T0, end: int | None = None, **fields: Any) -> Span:
    attributes = fields.pop("attributes", {})
    return Span(
        trace_id=TRACE,
        span_id=number.to_bytes(8, "big"),
        name=f"s{number}",
        start_time_unix_nano=start,
        end_time_unix_nano=start + 1000 if end is None else end,
        attributes=kvs(attributes),
        **fields,
    )


def convert(
    *spans: Span,
    limit: int = 1 << 20,
    resource: dict[str, Any] | None = None,
    scope: InstrumentationScope | None = None,
    rules: RedactionRules | None = None,
) -> ConvertResult:
    converter = SpanConverter(PriceTable.load(), rules or RedactionRules.none(), limit)
    request = ResourceSpans(
        resource=Resource(attributes=kvs(resource or {})),
        scope_spans=[ScopeSpans(scope=scope, spans=list(spans))],
    )
    return converter.convert([request], received_at_ns=T0)


def only_row(result: ConvertResult) -> tuple[Any, ...]:
    assert len(result.records) == 1, result
    return result.records[0].row


# --- column ranges ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, expected",
    [
        (BigInteger(), (-(2**63), 2**63 - 1)),
        (Integer(), (-(2**31), 2**31 - 1)),
        (SmallInteger(), (-(2**15), 2**15 - 1)),
    ],
)
def test_int_range_is_the_narrower_of_sqlite_and_postgresql(
    kind: Any, expected: tuple[int, int]
) -> None:
    assert int_range(Column("c", kind)) == expected


def test_int_range_refuses_a_column_that_holds_no_integers() -> None:
    with pytest.raises(TypeError, match="not an integer type"):
        int_range(Column("c", String(10)))


def test_limits_come_from_the_span_columns() -> None:
    assert TIME_MAX == 2**63 - 1
    assert TOKENS_MAX == 2**31 - 1


def test_time_problem_names_the_field_and_the_limit() -> None:
    assert time_problem("startTimeUnixNano", TIME_MAX) is None
    reason = time_problem("startTimeUnixNano", TIME_MAX + 1)
    assert reason is not None
    assert reason.startswith(f"startTimeUnixNano {TIME_MAX + 1} is later than")
    assert str(TIME_MAX) in reason and "nanoseconds since the Unix epoch" in reason


# --- times --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"start": 2**63}, "startTimeUnixNano 9223372036854775808"),
        ({"start": T0, "end": 2**64 - 1}, "endTimeUnixNano 18446744073709551615"),
        (
            {
                "events": [
                    Span.Event(name="e", time_unix_nano=T0),
                    Span.Event(name="late", time_unix_nano=2**63),
                ]
            },
            "events[1].timeUnixNano 9223372036854775808",
        ),
    ],
)
def test_a_time_past_the_store_range_rejects_only_its_span(bad: dict[str, Any], field: str) -> None:
    result = convert(span(1), span(2, **bad), span(3))

    assert [r.row[NAME] for r in result.records] == ["s1", "s3"]
    assert len(result.rejections) == 1
    assert result.rejections[0].path == PATH1
    assert result.rejections[0].reason.startswith(field)


def test_end_before_start_is_stored_with_duration_zero_and_a_warning() -> None:
    result = convert(span(start=T0, end=T0 - 5))

    row = only_row(result)
    assert (row[START], row[END]) == (T0, T0)
    assert result.warnings == [
        f"{PATH0}: endTimeUnixNano {T0 - 5} is before startTimeUnixNano {T0}; stored with "
        "duration 0 (check the clock of the app that ended this span)"
    ]


def test_end_zero_means_not_ended_and_is_not_a_warning() -> None:
    result = convert(span(start=T0, end=0))

    row = only_row(result)
    assert (row[START], row[END]) == (T0, T0)
    assert result.warnings == []


# --- enums --------------------------------------------------------------------------------


def test_unknown_kind_and_status_code_are_stored_as_zero_with_warnings() -> None:
    result = convert(span(kind=40000, status=Status(code=7, message="odd")))

    row = only_row(result)
    assert (row[KIND], row[STATUS], row[MESSAGE]) == (0, 0, "odd")
    assert result.warnings == [
        f"{PATH0}: kind 40000 is not an OTLP SpanKind (0-5); stored as 0 (SPAN_KIND_UNSPECIFIED)",
        f"{PATH0}: status.code 7 is not an OTLP status code (0 unset, 1 ok, 2 error); "
        "stored as 0 (unset)",
    ]


def test_known_kind_and_status_are_kept_without_warnings() -> None:
    result = convert(span(kind=Span.SPAN_KIND_CLIENT, status=Status(code=2)))
    assert (only_row(result)[KIND], only_row(result)[STATUS]) == (3, 2)
    assert result.warnings == []


# --- token counts and cost ----------------------------------------------------------------


@pytest.mark.parametrize(
    "sent, stored",
    [
        ("1e30", TOKENS_MAX),
        (3_000_000_000, TOKENS_MAX),
        (2**63 - 1, TOKENS_MAX),
        (1.5e300, TOKENS_MAX),
        (TOKENS_MAX, TOKENS_MAX),
        (12, 12),
    ],
)
def test_token_counts_over_the_column_are_clamped_with_a_warning(sent: Any, stored: int) -> None:
    result = convert(
        span(
            attributes={
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.usage.input_tokens": sent,
                "gen_ai.usage.output_tokens": 5,
            }
        )
    )

    row = only_row(result)
    assert row[IN_TOK] == stored
    assert row[TOTAL_TOK] == min(stored + 5, TOKENS_MAX)
    assert row[COST] is not None and math.isfinite(row[COST])
    clamped = [w for w in result.warnings if "input_tokens" in w]
    if stored == TOKENS_MAX and sent != TOKENS_MAX:
        shown = f"{float(sent):.3e}" if float(sent) >= 1e18 else str(sent)
        assert clamped == [
            f"{PATH0}: input_tokens {shown} is more than the store "
            f"holds; stored as {TOKENS_MAX} (check the token counts the app "
            "reports)"
        ]
    else:
        assert clamped == []


@pytest.mark.parametrize("sent", [-5, "-1", "NaN", float("nan"), float("inf"), "inf", "many"])
def test_token_counts_that_are_not_counts_are_ignored(sent: Any) -> None:
    result = convert(
        span(attributes={"gen_ai.usage.input_tokens": sent, "gen_ai.usage.output_tokens": 3})
    )

    row = only_row(result)
    assert (row[IN_TOK], row[OUT_TOK]) == (None, 3)
    assert result.warnings == []


def test_a_cost_that_is_not_finite_is_left_out_with_a_warning() -> None:
    table = PriceTable({"huge-model": ModelPrice(input=1e308, output=1e308)})
    converter = SpanConverter(table, RedactionRules.none(), 1 << 20)
    request = ResourceSpans(
        scope_spans=[
            ScopeSpans(
                spans=[
                    span(
                        attributes={
                            "gen_ai.request.model": "huge-model",
                            "gen_ai.usage.input_tokens": 10**9,
                        }
                    )
                ]
            )
        ]
    )

    result = converter.convert([request])

    assert only_row(result)[COST] is None
    assert len(result.warnings) == 1 and "is not a finite number" in result.warnings[0]


# --- strings in width-limited columns -----------------------------------------------------


def test_canonical_strings_are_cut_to_their_column_and_lose_nul() -> None:
    result = convert(
        span(
            attributes={
                "spyglass.span.type": "T" * 100,
                "gen_ai.request.model": "m\x00" + "o" * 300,
                "gen_ai.provider.name": "p" * 200,
                "session.id": "s" * 300,
                "user.id": "u-1",
                "spyglass.trace.tags": json.dumps({"k" * 300: "v\x00", "env": {"a": 1}}),
                "spyglass.trace.metadata": {"m": "x"},
            }
        )
    )

    record = result.records[0]
    row = record.row
    columns = {
        name: row[SPAN_COLUMNS.index(name)]
        for name in ("span_type", "model", "provider", "session_id", "user_id")
    }
    assert columns == {
        "span_type": "T" * 64,
        "model": ("m\ufffd" + "o" * 300)[:256],
        "provider": "p" * 128,
        "session_id": "s" * 256,
        "user_id": "u-1",
    }
    assert record.tags == {"k" * 250: "v\ufffd", "env": '{"a":1}'}
    assert record.metadata == {"m": "x"}
    assert [w.split(",")[0] for w in result.warnings] == [
        f"{PATH0}: span_type is 100 characters",
        f"{PATH0}: model is 302 characters",
        f"{PATH0}: provider is 200 characters",
        f"{PATH0}: session_id is 300 characters",
        f"{PATH0}: tag key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'... is 300 characters",
    ]


# --- values JSON cannot hold --------------------------------------------------------------


def test_non_finite_doubles_are_stored_as_their_protobuf_json_names() -> None:
    result = convert(
        span(attributes={"nan": float("nan"), "inf": float("inf"), "list": [float("-inf"), 1.5]})
    )

    stored = json.loads(only_row(result)[ATTRS], parse_constant=_no_constants)
    assert stored == {"nan": "NaN", "inf": "Infinity", "list": ["-Infinity", 1.5]}


def _no_constants(name: str) -> None:
    raise AssertionError(f"stored JSON holds {name}, which is not JSON")


def test_int64_extremes_survive_in_attributes() -> None:
    result = convert(span(attributes={"max": 2**63 - 1, "min": -(2**63)}))
    assert json.loads(only_row(result)[ATTRS]) == {"max": 2**63 - 1, "min": -(2**63)}


# --- duplicate span ids -------------------------------------------------------------------


def test_an_identical_copy_of_a_span_is_stored_once_without_a_message() -> None:
    result = convert(span(1), span(1), span(2))

    assert [r.row[NAME] for r in result.records] == ["s1", "s2"]
    assert (result.rejections, result.warnings) == ([], [])


def test_a_different_span_with_the_same_id_is_rejected_and_the_first_kept() -> None:
    later = span(1, attributes={"different": True})

    result = convert(span(1), later)

    assert [r.row[NAME] for r in result.records] == ["s1"]
    assert [r.path for r in result.rejections] == [PATH1]
    assert result.rejections[0].reason == (
        f"spanId {(1).to_bytes(8, 'big').hex()} of traceId {TRACE.hex()} is also the id of "
        f"{PATH0} in this request, with different content; only the first was stored "
        "(give every span its own id)"
    )


def test_a_rejected_span_does_not_block_a_later_span_with_its_id() -> None:
    result = convert(span(1, start=2**63), span(1))
    assert [r.row[NAME] for r in result.records] == ["s1"]
    assert [r.path for r in result.rejections] == [PATH0]


# --- string size --------------------------------------------------------------------------


def test_truncate_text_cuts_at_a_character_boundary() -> None:
    warnings: list[str] = []
    assert truncate_text("é" * 10, 5, "p", "name", warnings) == "éé"
    assert warnings == [
        "p: name is 20 bytes, truncated to 5 (raise --max-attribute-bytes to keep more)"
    ]
    text = "x" * 5
    assert truncate_text(text, 5, "p", "name", warnings) is text


def test_truncate_values_reaches_every_depth_bytes_and_keys() -> None:
    values: dict[str, Any] = {
        "a": ["ok", "x" * 9, {"k": "y" * 9}],
        "b": b"z" * 9,
        "k" * 9: 1,
        "n": 12345678901,
    }
    warnings: list[str] = []

    truncate_values(values, 4, "P", "attributes", warnings)

    assert values == {"a": ["ok", "xxxx", {"k": "yyyy"}], "b": b"zzzz", "kkkk": 1, "n": 12345678901}
    assert [w.split(" is ")[0] for w in warnings] == [
        "P: attributes['a'][1]",
        "P: attributes['a'][2]['k']",
        "P: attributes['b']",
        "P: a key of attributes",
    ]


def test_truncate_value_handles_any_decoded_value() -> None:
    warnings: list[str] = []
    assert truncate_value("abcdef", 3, "P", "body", warnings) == "abc"
    assert truncate_value(b"abcdef", 3, "P", "body", warnings) == b"abc"
    assert truncate_value(["abcdef"], 3, "P", "body", warnings) == ["abc"]
    assert truncate_value(7, 3, "P", "body", warnings) == 7
    assert [w.split(" is ")[0] for w in warnings] == ["P: body", "P: body", "P: body[0]"]


BIG = "0123456789" * 40  # 400 bytes
LIMIT = 64


def test_every_stored_string_of_a_span_is_cut_to_the_limit_with_a_warning() -> None:
    scope = InstrumentationScope(name="n" * 100, version="1", attributes=kvs({"s": BIG}))
    big_span = Span(
        trace_id=TRACE,
        span_id=(1).to_bytes(8, "big"),
        name=BIG,
        start_time_unix_nano=T0,
        end_time_unix_nano=T0 + 1,
        status=Status(code=2, message=BIG),
        attributes=kvs({"list": ["ok", BIG], "map": {"inner": BIG}, "raw": BIG.encode()}),
        events=[Span.Event(name=BIG, time_unix_nano=T0, attributes=kvs({"e": BIG}))],
        links=[
            Span.Link(trace_id=TRACE, span_id=(9).to_bytes(8, "big"), attributes=kvs({"l": [BIG]}))
        ],
    )

    result = convert(big_span, limit=LIMIT, resource={"r": {"deep": BIG}}, scope=scope)

    row = only_row(result)
    cut = BIG[:LIMIT]
    assert row[NAME] == cut and row[MESSAGE] == cut
    attributes = json.loads(row[ATTRS])
    assert attributes["list"] == ["ok", cut] and attributes["map"] == {"inner": cut}
    assert len(attributes["raw"]) == math.ceil(LIMIT / 3) * 4  # base64 of LIMIT bytes
    events = json.loads(row[EVENTS])
    assert events[0]["name"] == cut and events[0]["attributes"] == {"e": cut}
    assert json.loads(row[LINKS])[0]["attributes"] == {"l": [cut]}
    assert json.loads(row[RESOURCE]) == {"r": {"deep": cut}}
    assert json.loads(row[SCOPE]) == {"name": "n" * LIMIT, "version": "1", "attributes": {"s": cut}}
    named = {w.split(" is ")[0] for w in result.warnings}
    assert named == {
        "resourceSpans[0].resource: attributes['r']['deep']",
        "resourceSpans[0].scopeSpans[0].scope: scope['name']",
        "resourceSpans[0].scopeSpans[0].scope: scope['attributes']['s']",
        f"{PATH0}: attributes['list'][1]",
        f"{PATH0}: attributes['map']['inner']",
        f"{PATH0}: attributes['raw']",
        f"{PATH0}: name",
        f"{PATH0}: status.message",
        f"{PATH0}: events[0].name",
        f"{PATH0}: events[0].attributes['e']",
        f"{PATH0}: links[0].attributes['l'][0]",
    }
    assert all(
        w.endswith(f"truncated to {LIMIT} (raise --max-attribute-bytes to keep more)")
        for w in result.warnings
    )


def test_a_request_smaller_than_the_limit_skips_the_size_checks() -> None:
    converter = SpanConverter(PriceTable.load(), RedactionRules.none(), LIMIT)
    request = ResourceSpans(scope_spans=[ScopeSpans(spans=[span(attributes={"a": BIG})])])

    skipped = converter.convert([request], body_bytes=LIMIT)
    checked = converter.convert([request], body_bytes=LIMIT + 1)

    assert json.loads(only_row(skipped)[ATTRS]) == {"a": BIG}
    assert json.loads(only_row(checked)[ATTRS]) == {"a": BIG[:LIMIT]}


def test_small_spans_of_a_large_request_are_left_alone() -> None:
    small = span(1, attributes={"a": "x" * (LIMIT - 20)})
    large = span(2, attributes={"a": BIG})
    result = convert(small, large, limit=LIMIT)
    assert [w.split(" is ")[0] for w in result.warnings] == [f"{PATH1}: attributes['a']"]


# --- log records --------------------------------------------------------------------------


LOG_PATH = "resourceLogs[0].scopeLogs[0].logRecords"


def convert_logs(
    *records: LogRecord, limit: int = 1 << 20, rules: RedactionRules | None = None
) -> Any:
    converter = LogConverter(rules or RedactionRules.none(), limit)
    return converter.convert(
        [ResourceLogs(scope_logs=[ScopeLogs(log_records=list(records))])], received_at_ns=T0
    )


def log(time_ns: int = T0, observed: int = 0, **fields: Any) -> LogRecord:
    body = fields.pop("body", None)
    record = LogRecord(
        trace_id=TRACE,
        span_id=(1).to_bytes(8, "big"),
        time_unix_nano=time_ns,
        observed_time_unix_nano=observed,
        **fields,
    )
    if body is not None:
        record.body.CopyFrom(value(body))
    return record


@pytest.mark.parametrize(
    "record, field",
    [
        (log(time_ns=2**63), "timeUnixNano 9223372036854775808"),
        (log(time_ns=0, observed=2**64 - 1), "observedTimeUnixNano 18446744073709551615"),
    ],
)
def test_a_log_record_time_past_the_store_range_rejects_only_that_record(
    record: LogRecord, field: str
) -> None:
    result = convert_logs(log(), record, log())

    assert len(result.rows) == 2
    assert [r.path for r in result.rejections] == [f"{LOG_PATH}[1]"]
    assert result.rejections[0].reason.startswith(field)


def test_log_record_strings_are_cut_at_any_depth() -> None:
    record = log(
        body={"content": BIG, "parts": [BIG]}, severity_text=BIG, attributes=kvs({"a": {"b": BIG}})
    )

    result = convert_logs(record, limit=LIMIT)

    stored = json.loads(result.rows[0].content)["attributes"]
    assert stored == {
        "a": {"b": BIG[:LIMIT]},
        "log.severity_text": BIG[:LIMIT],
        "log.body": {"content": BIG[:LIMIT], "parts": [BIG[:LIMIT]]},
    }
    assert {w.split(" is ")[0] for w in result.warnings} == {
        f"{LOG_PATH}[0]: attributes['a']['b']",
        f"{LOG_PATH}[0]: body['content']",
        f"{LOG_PATH}[0]: body['parts'][0]",
        f"{LOG_PATH}[0]: severityText",
    }


def test_log_event_name_is_cut_to_its_column_with_a_warning() -> None:
    result = convert_logs(log(event_name="e" * 300))

    assert result.rows[0].event_name == "e" * 256
    assert result.warnings == [
        f"{LOG_PATH}[0]: event name is 300 characters, more than the store holds; cut to 256"
    ]


def test_log_record_event_name_and_severity_are_redacted() -> None:
    key = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
    result = convert_logs(
        log(event_name=f"audit {key}", severity_text=f"Bearer x{key}"),
        rules=RedactionRules.default(),
    )

    row = result.rows[0]
    assert row.event_name == "audit [REDACTED:openai_api_key]"
    assert json.loads(row.content)["attributes"]["log.severity_text"] == "[REDACTED:bearer_token]"
