"""Span attributes stored with references to the span's inputs/outputs columns: every
convention's content is stored once and read back exactly as sent; what differs is kept."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from spyglass.collector.genai.normalize import normalize
from spyglass.collector.store import attribute_refs as refs
from spyglass.lenient_json import dumps

QUESTION = json.dumps({"question": "Where is my order 1234?", "options": {"top_k": 5}})
ANSWER = json.dumps({"answer": 'It ships tomorrow \u2014 \u00e9t\u00e9 "quoted" \\ slash'})
MESSAGES = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Hello there!"}]}])
REPLY = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Hi, how?"}]}])

CONVENTIONS: dict[str, dict[str, Any]] = {
    "openinference-json": {
        "openinference.span.kind": "CHAIN",
        "input.value": QUESTION,
        "input.mime_type": "application/json",
        "output.value": ANSWER,
        "output.mime_type": "application/json",
    },
    "openinference-text": {
        "input.value": "What is the capital of France, please?",
        "output.value": 'Paris, "of course" \u2014 it has been for a while.\n',
    },
    "genai-messages": {
        "gen_ai.operation.name": "chat",
        "gen_ai.input.messages": MESSAGES,
        "gen_ai.output.messages": REPLY,
    },
    "genai-instructions": {
        "gen_ai.operation.name": "chat",
        "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief."}]),
        "gen_ai.input.messages": MESSAGES,
        "gen_ai.output.messages": REPLY,
    },
    "genai-tool": {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.call.arguments": json.dumps({"city": "Paris", "unit": "celsius"}),
        "gen_ai.tool.call.result": "sunny and twenty-one degrees all afternoon",
    },
    "openllmetry-entity": {
        "traceloop.span.kind": "workflow",
        "traceloop.entity.input": json.dumps({"args": ["a long enough argument"], "kwargs": {}}),
        "traceloop.entity.output": "a plain string result that is not JSON",
    },
    "openllmetry-indexed": {
        "llm.request.type": "chat",
        "gen_ai.prompt.0.role": "system",
        "gen_ai.prompt.0.content": "You are a helpful assistant for shipping.",
        "gen_ai.prompt.1.role": "user",
        "gen_ai.prompt.1.content": "Where is my order 1234, and when will it ship?",
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.content": "Your order ships tomorrow morning from Lyon.",
        "gen_ai.completion.0.finish_reason": "stop",
    },
    "mlflow": {
        "mlflow.spanType": '"CHAIN"',
        "mlflow.spanInputs": json.dumps({"query": "refund policy for damaged goods"}),
        "mlflow.spanOutputs": json.dumps("Refunds within 30 days of delivery."),
    },
}


def _stored(attrs: dict[str, Any]) -> tuple[str, str | None, str | None]:
    canonical = normalize(attrs)
    return (
        refs.encode(attrs, canonical.inputs, canonical.outputs),
        canonical.inputs,
        canonical.outputs,
    )


@pytest.mark.parametrize("name", CONVENTIONS)
def test_each_convention_is_stored_once_and_read_back_byte_for_byte(name: str) -> None:
    attrs = CONVENTIONS[name]
    stored, inputs, outputs = _stored(attrs)
    assert refs.resolve(stored, inputs, outputs) == dumps(attrs)
    assert len(stored) < len(dumps(attrs)) - 40
    kept = orjson.loads(stored)
    assert list(kept) == list(attrs)  # same keys, same order
    assert any(type(v) is int and v >= 2**63 for v in kept.values())


def test_a_value_that_differs_from_the_column_is_kept_as_sent() -> None:
    # the column is cut (or otherwise differs): the attribute stays in full
    attrs = {"input.value": QUESTION, "input.mime_type": "application/json"}
    stored = refs.encode(attrs, QUESTION[:-5], None)
    assert stored == dumps(attrs)
    assert refs.resolve(stored, QUESTION[:-5], None) == stored


def test_values_with_nul_and_short_values_are_kept() -> None:
    attrs = {"input.value": "plain text with a \x00 NUL in the middle", "output.value": "short"}
    canonical = normalize(attrs)
    stored = refs.encode(attrs, canonical.inputs, canonical.outputs)
    assert stored == dumps(attrs)


def test_text_without_references_reads_unchanged() -> None:
    old_row = dumps({"input.value": QUESTION, "n": 10**18, "s": "0" * 40})
    assert refs.resolve(old_row, QUESTION, None) is old_row


def test_marker_lookalikes_that_are_not_references_are_left_alone() -> None:
    # a string holding the digits, and a marker at a key that is never a reference
    attrs = {"note": '","input.value":10000000000000000000}', "x": "10000000000000000000"}
    text = dumps(attrs)
    assert refs.resolve(text, "IN", "OUT") == text
    foreign = '{"custom.key":10000000000000000000}'
    assert refs.resolve(foreign, "IN", "OUT") == foreign


def test_a_reference_after_a_string_ending_in_a_backslash_is_found() -> None:
    attrs = {"path": "C:\\temp\\", "input.value": QUESTION, "input.mime_type": "application/json"}
    stored = refs.encode(attrs, QUESTION, None)
    assert "10000000000000000000" in stored
    assert refs.resolve(stored, QUESTION, None) == dumps(attrs)


def test_openllmetry_content_refers_to_its_own_message() -> None:
    kept = orjson.loads(_stored(CONVENTIONS["openllmetry-indexed"])[0])
    assert kept["gen_ai.prompt.1.content"] == refs.CONTENT
    assert kept["gen_ai.prompt.1.role"] == "user"
    assert refs.column_of("gen_ai.prompt.1.content") == ("inputs", 1)
    assert refs.column_of("gen_ai.completion.0.content") == ("outputs", 0)
    assert refs.column_of("gen_ai.prompt.1.role") is None


def test_messages_holding_the_instructions_separator_are_kept_in_full() -> None:
    # the reader cuts the column at the first ',"system_instructions":'; here that is
    # inside the messages, so a reference would rebuild them short: none is made
    messages = json.dumps([{"role": "user", "x": 1, "system_instructions": "inside"}])
    messages = messages.replace(", ", ",").replace(": ", ":")
    attrs = {
        "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief."}]),
        "gen_ai.input.messages": messages,
    }
    stored, inputs, outputs = _stored(attrs)
    assert ',"system_instructions":' in messages and inputs is not None
    assert orjson.loads(stored)["gen_ai.input.messages"] == messages
    assert refs.resolve(stored, inputs, outputs) == dumps(attrs)
