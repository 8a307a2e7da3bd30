"""GenAI events in log records: how one record is classified, and how all the records of a
span make its inputs, outputs and events (pure functions, no collector)."""

from __future__ import annotations

import json
from typing import Any

from spyglass.collector.genai.events import (
    KIND_CHOICE,
    KIND_DETAILS,
    KIND_EVENT,
    KIND_MESSAGE,
    LogRecordView,
    LogRow,
    classify,
    combine,
    merge,
)
from spyglass.collector.store.models import SpanLogEvent
from spyglass.collector.store.rows import LogEventRow


def view(
    name: str | None,
    body: Any = None,
    attributes: dict | None = None,
    time_ns: int = 1,
    **extra: Any,
) -> LogRecordView:
    return LogRecordView(name, body, attributes or {}, time_ns, **extra)


def row(record: LogRecordView, seq: int = 0, key: str = "k") -> LogRow:
    kind, content = classify(record)
    return LogRow(kind, record.time_unix_nano, seq, key, content)


def test_message_events_take_their_role_from_the_name_and_the_rest_from_the_body() -> None:
    assert classify(view("gen_ai.user.message", {"content": "hi"})) == (
        KIND_MESSAGE,
        '{"role":"user","content":"hi"}',
    )
    # a role in the body wins (sent when it differs from the event name)
    _kind, content = classify(view("gen_ai.system.message", {"role": "developer", "content": "x"}))
    assert json.loads(content) == {"role": "developer", "content": "x"}
    # a body that is JSON text, plain text, or missing (content capture off)
    assert json.loads(
        classify(view("gen_ai.tool.message", '{"content": "42", "id": "c1"}'))[1]
    ) == {"role": "tool", "content": "42", "id": "c1"}
    assert json.loads(classify(view("gen_ai.assistant.message", "plain"))[1]) == {
        "role": "assistant",
        "content": "plain",
    }
    assert json.loads(classify(view("gen_ai.user.message"))[1]) == {"role": "user"}


def test_choice_details_and_other_records() -> None:
    choice = {"index": 0, "finish_reason": "stop", "message": {"content": "ok"}}
    assert classify(view("gen_ai.choice", choice)) == (
        KIND_CHOICE,
        json.dumps(choice, separators=(",", ":")),
    )
    messages = [{"role": "user", "parts": [{"type": "text", "content": "q"}]}]
    kind, content = classify(
        view(
            "gen_ai.client.inference.operation.details",
            attributes={"gen_ai.input.messages": messages},
        )
    )
    assert kind == KIND_DETAILS
    assert json.loads(content) == {"inputs": {"messages": messages}, "outputs": None}
    # a details event without content is kept as an event, like any other record
    assert (
        classify(
            view(
                "gen_ai.client.inference.operation.details",
                attributes={"gen_ai.operation.name": "chat"},
            )
        )[0]
        == KIND_EVENT
    )
    kind, content = classify(
        view(
            None,
            "disk almost full",
            {"host": "a"},
            time_ns=9,
            severity_text="WARN",
            severity_number=13,
        )
    )
    assert kind == KIND_EVENT
    assert json.loads(content) == {
        "name": "log",
        "time_unix_nano": 9,
        "source": "log",
        "attributes": {
            "host": "a",
            "log.severity_text": "WARN",
            "log.severity_number": 13,
            "log.body": "disk almost full",
        },
    }


def test_merge_orders_messages_by_time_and_choices_by_index() -> None:
    rows = [
        row(view("gen_ai.choice", {"index": 1, "message": {"content": "b"}}, time_ns=5)),
        row(view("gen_ai.user.message", {"content": "q"}, time_ns=2), key="u"),
        row(view("gen_ai.choice", {"index": 0, "message": {"content": "a"}}, time_ns=6), key="c0"),
        row(view("gen_ai.system.message", {"content": "s"}, time_ns=1), key="s"),
        row(view(None, "note", time_ns=3), key="e"),
    ]
    merged = merge(rows)
    assert json.loads(merged.inputs) == {
        "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]
    }
    assert [c["index"] for c in json.loads(merged.outputs)["choices"]] == [0, 1]
    assert [e["attributes"]["log.body"] for e in merged.events] == ["note"]
    assert merge(list(reversed(rows))) == merged  # arrival order does not matter


def test_details_win_over_message_events() -> None:
    details = row(
        view(
            "gen_ai.client.inference.operation.details",
            attributes={"gen_ai.output.messages": [{"role": "assistant", "parts": []}]},
        ),
        key="d",
    )
    choice = row(view("gen_ai.choice", {"index": 0}), key="c")
    merged = merge([choice, details])
    assert json.loads(merged.outputs) == {"messages": [{"role": "assistant", "parts": []}]}


def test_combine_keeps_the_spans_own_values_and_replaces_earlier_log_events() -> None:
    merged = merge(
        [
            row(view("gen_ai.user.message", {"content": "q"})),
            row(view(None, "later", time_ns=50), key="e"),
        ]
    )
    own_events = json.dumps([{"name": "own", "time_unix_nano": 10, "attributes": {}}])
    inputs, outputs, events = combine('"own input"', None, own_events, merged)
    assert inputs == '"own input"' and outputs is None
    assert [e["name"] for e in json.loads(events)] == ["own", "log"]
    # applying the same records again to the stored result changes nothing
    assert combine('"own input"', None, events, merged) == (inputs, outputs, events)
    assert combine(None, None, None, merge([]))[2] is None


def test_log_event_rows_match_the_table_columns() -> None:
    assert LogEventRow._fields == tuple(c.name for c in SpanLogEvent.__table__.columns)
