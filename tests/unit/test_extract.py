"""extract_fields paths: root span or a named span, fields, JSON paths, dotted attribute
keys, backticks; missing paths give None; malformed entries say what is expected."""

from __future__ import annotations

import pytest

from spyglass.entities import Span, Trace, TraceData, TraceInfo
from spyglass.errors import InvalidArgumentError
from spyglass.extract import parse_field


def _span(name: str, span_id: str, parent: str | None, **fields: object) -> Span:
    return Span(
        trace_id="t" * 32,
        span_id=span_id,
        parent_id=parent,
        name=name,
        span_type="LLM",
        start_time_ns=10,
        end_time_ns=2_000_010,
        status="OK",
        **fields,
    )  # type: ignore[arg-type]


TRACE = Trace(
    TraceInfo(
        trace_id="t" * 32, experiment_id="0", request_time=1, execution_duration=2, state="OK"
    ),
    TraceData(
        [
            _span(
                "answer",
                "r" * 16,
                None,
                inputs={"question": "refund?"},
                outputs="30 days",
                attributes={"usage": '{"total_tokens": 42}', "gen_ai.request.model": "gpt-4o"},
            ),
            _span(
                "my.llm",
                "c" * 16,
                "r" * 16,
                inputs={"messages": [{"role": "user", "content": "hi"}]},
                outputs={"choices": [{"message": {"content": "hello"}}]},
                attributes={"usage.total_tokens": 7},
            ),
        ]
    ),
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("span.inputs.question", "refund?"),
        ("span.outputs", "30 days"),
        ("span.inputs", {"question": "refund?"}),
        ("span.end_time", 2_000_010),
        ("span.duration_ms", 2.0),
        ("span.attributes.usage.total_tokens", 42),  # JSON-valued attribute
        ("span.attributes.gen_ai.request.model", "gpt-4o"),  # dotted key, longest first
        ("span.`my.llm`.inputs.messages", [{"role": "user", "content": "hi"}]),
        ("span.`my.llm`.outputs.choices.0.message.content", "hello"),
        ("span.`my.llm`.attributes.usage.total_tokens", 7),
        ("span.inputs.missing", None),
        ("span.nosuchspan.outputs", None),
        ("span.`my.llm`.outputs.choices.5", None),
    ],
)
def test_paths(text: str, expected: object) -> None:
    assert parse_field(text).value(TRACE) == expected


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("inputs.question", "must start with 'span.'"),
        ("span", "must start with 'span.'"),
        ("span.answer.bogus", "expected a span field"),
        ("span.`unclosed.inputs", "unclosed backtick"),
    ],
)
def test_malformed_entries(text: str, fragment: str) -> None:
    with pytest.raises(InvalidArgumentError, match=fragment):
        parse_field(text)


def test_trace_without_spans_gives_none() -> None:
    empty = Trace(TRACE.info, TraceData([]))
    assert parse_field("span.inputs.question").value(empty) is None
