"""Tests for spyglass.collector.genai.normalize: one table per GenAI convention, then priorities
between conventions, odd input and token totals.

Each case is ``(attributes, events, expected)``; ``expected`` lists the canonical fields the case
is about. ``inputs``/``outputs`` are JSON text, so they are parsed before comparing.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from spyglass.collector.genai.normalize import Canonical, normalize
from spyglass.semconv import SPAN_INPUTS, SPAN_OUTPUTS, SPAN_TYPE, TOKEN_USAGE

JSON_FIELDS = ("inputs", "outputs")


def assert_fields(result: Canonical, expected: dict[str, Any]) -> None:
    """Compare the listed fields; JSON-text fields are compared as parsed values."""
    for field, want in expected.items():
        got = getattr(result, field)
        if field in JSON_FIELDS and want is not None:
            assert got is not None, f"{field} is None, expected {want!r}"
            assert json.loads(got) == want, f"{field}: {got!r}"
        else:
            assert got == want, f"{field}: {got!r} != {want!r}"


def case(
    case_id: str, attributes: dict[str, Any], expected: dict[str, Any], events: tuple = ()
) -> Any:
    """One table row with a readable id."""
    return pytest.param(attributes, events, expected, id=case_id)


def run_table(attributes: dict[str, Any], events: tuple, expected: dict[str, Any]) -> None:
    assert_fields(normalize(attributes, events), expected)


# --- Spyglass / MLflow ------------------------------------------------------------------------

SPYGLASS_MLFLOW = [
    case(
        "spyglass-keys",
        {
            SPAN_INPUTS: '{"question": "hi"}',
            SPAN_OUTPUTS: '"hello"',
            SPAN_TYPE: "CHAT_MODEL",
            TOKEN_USAGE: '{"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}',
        },
        {
            "inputs": {"question": "hi"},
            "outputs": "hello",
            "span_type": "CHAT_MODEL",
            "input_tokens": 10,
            "output_tokens": 5,
            "total_tokens": 15,
        },
    ),
    case(
        "mlflow-keys-json-encoded",
        {
            "mlflow.spanInputs": '{"question": "hi"}',
            "mlflow.spanOutputs": '"answer"',
            "mlflow.spanType": '"LLM"',
            "mlflow.chat.tokenUsage": '{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}',
        },
        {
            "inputs": {"question": "hi"},
            "outputs": "answer",
            "span_type": "LLM",
            "input_tokens": 3,
            "output_tokens": 4,
            "total_tokens": 7,
        },
    ),
    case("mlflow-type-plain", {"mlflow.spanType": "RETRIEVER"}, {"span_type": "RETRIEVER"}),
    case("mlflow-type-lowercase-known", {"mlflow.spanType": '"llm"'}, {"span_type": "LLM"}),
    case(
        "custom-type-json-kept-verbatim", {"mlflow.spanType": '"MY_STEP"'}, {"span_type": "MY_STEP"}
    ),
    case(
        "custom-type-plain-kept-verbatim",
        {SPAN_TYPE: "post_process"},
        {"span_type": "post_process"},
    ),
    case(
        "mlflow-type-null-falls-through",
        {"mlflow.spanType": "null", "openinference.span.kind": "TOOL"},
        {"span_type": "TOOL"},
    ),
    case(
        "token-usage-kvlist-with-strings",
        {
            "mlflow.chat.tokenUsage": {"input_tokens": "11", "output_tokens": "2"},
        },
        {"input_tokens": 11, "output_tokens": 2, "total_tokens": 13, "span_type": "LLM"},
    ),
    case(
        "structured-inputs-kvlist",
        {
            "mlflow.spanInputs": {"query": "q", "k": 3, "filters": ["a", "b"]},
            "mlflow.spanOutputs": [1, 2, 3],
        },
        {"inputs": {"query": "q", "k": 3, "filters": ["a", "b"]}, "outputs": [1, 2, 3]},
    ),
    case(
        "non-json-string-becomes-json-string",
        {"mlflow.spanInputs": "plain words", "mlflow.spanOutputs": "{not json"},
        {"inputs": "plain words", "outputs": "{not json"},
    ),
    case(
        "model-and-provider-json-encoded",
        {"mlflow.llm.model": '"gpt-4o"', "mlflow.llm.provider": '"openai"'},
        {"model": "gpt-4o", "provider": "openai", "span_type": "LLM"},
    ),
    case(
        "session-and-user-on-root-span",
        {"session.id": "sess-1", "user.id": "alice"},
        {"session_id": "sess-1", "user_id": "alice"},
    ),
    case(
        "spyglass-beats-mlflow",
        {
            SPAN_INPUTS: '{"from": "spyglass"}',
            "mlflow.spanInputs": '{"from": "mlflow"}',
            SPAN_TYPE: "TOOL",
            "mlflow.spanType": '"AGENT"',
            TOKEN_USAGE: '{"input_tokens": 1}',
            "mlflow.chat.tokenUsage": '{"input_tokens": 9}',
        },
        {"inputs": {"from": "spyglass"}, "span_type": "TOOL", "input_tokens": 1},
    ),
    case(
        "invalid-spyglass-usage-falls-to-mlflow",
        {
            TOKEN_USAGE: "not json",
            "mlflow.chat.tokenUsage": '{"input_tokens": 9}',
        },
        {"input_tokens": 9},
    ),
    case(
        "partial-usage-completed-by-other-conventions",
        {
            "mlflow.chat.tokenUsage": '{"input_tokens": 5}',
            "llm.token_count.completion": 6,
        },
        {"input_tokens": 5, "output_tokens": 6, "total_tokens": 11},
    ),
]


@pytest.mark.parametrize(("attributes", "events", "expected"), SPYGLASS_MLFLOW)
def test_spyglass_and_mlflow(attributes: dict, events: tuple, expected: dict) -> None:
    run_table(attributes, events, expected)


def test_valid_json_text_is_kept_verbatim() -> None:
    text = '{ "question" :  "hi",\n "n": 1.50 }'
    result = normalize({"mlflow.spanInputs": text, "mlflow.spanOutputs": '"LLM"'})
    assert result.inputs == text
    assert result.outputs == '"LLM"'


# --- OpenInference ----------------------------------------------------------------------------

OPENINFERENCE_KINDS = [
    case(f"kind-{kind.lower()}", {"openinference.span.kind": kind}, {"span_type": kind})
    for kind in (
        "LLM",
        "CHAIN",
        "TOOL",
        "RETRIEVER",
        "EMBEDDING",
        "AGENT",
        "RERANKER",
        "GUARDRAIL",
        "EVALUATOR",
    )
]

OPENINFERENCE = [
    *OPENINFERENCE_KINDS,
    case(
        "json-mime-kept-as-json",
        {
            "input.value": '{"query": "weather?"}',
            "input.mime_type": "application/json",
            "output.value": '["sunny"]',
            "output.mime_type": "application/json",
        },
        {"inputs": {"query": "weather?"}, "outputs": ["sunny"]},
    ),
    case(
        "text-mime-becomes-json-string",
        {
            "input.value": '{"looks": "like json"}',
            "input.mime_type": "text/plain",
            "output.value": "42",
            "output.mime_type": "text/plain",
        },
        {"inputs": '{"looks": "like json"}', "outputs": "42"},
    ),
    case(
        "no-mime-means-plain-text",
        {"input.value": "hello", "output.value": "true"},
        {"inputs": "hello", "outputs": "true"},
    ),
    case(
        "json-mime-but-invalid-json",
        {"input.value": "{broken", "input.mime_type": "application/json"},
        {"inputs": "{broken"},
    ),
    case(
        "structured-value-dumped",
        {"input.value": {"a": [1, 2]}, "output.value": [{"b": 1}]},
        {"inputs": {"a": [1, 2]}, "outputs": [{"b": 1}]},
    ),
    case("kind-lowercase", {"openinference.span.kind": "chain"}, {"span_type": "CHAIN"}),
    case("kind-prompt-is-unknown", {"openinference.span.kind": "PROMPT"}, {"span_type": "UNKNOWN"}),
    case(
        "kind-unknown-value-is-unknown",
        {"openinference.span.kind": "DECISION"},
        {"span_type": "UNKNOWN"},
    ),
    case(
        "kind-prompt-yields-to-genai-operation",
        {"openinference.span.kind": "PROMPT", "gen_ai.operation.name": "chat"},
        {"span_type": "CHAT_MODEL"},
    ),
    case(
        "token-counts-as-strings",
        {
            "llm.token_count.prompt": "12",
            "llm.token_count.completion": "8",
            "llm.token_count.total": "20",
        },
        {"input_tokens": 12, "output_tokens": 8, "total_tokens": 20},
    ),
    case(
        "token-counts-as-floats",
        {"llm.token_count.prompt": 12.0, "llm.token_count.completion": 8.0},
        {"input_tokens": 12, "output_tokens": 8, "total_tokens": 20},
    ),
    case(
        "model-and-provider",
        {"llm.model_name": "gpt-4o-mini", "llm.provider": "openai"},
        {"model": "gpt-4o-mini", "provider": "openai", "span_type": "LLM"},
    ),
    case(
        "embedding-model-name",
        {"embedding.model_name": "text-embedding-3-small", "openinference.span.kind": "EMBEDDING"},
        {"model": "text-embedding-3-small", "span_type": "EMBEDDING"},
    ),
    case(
        "embedding-total-is-its-input",
        {"gen_ai.operation.name": "embeddings", "gen_ai.usage.input_tokens": 6},
        {"span_type": "EMBEDDING", "input_tokens": 6, "total_tokens": 6},
    ),
    case("llm-system-as-provider", {"llm.system": "anthropic"}, {"provider": "anthropic"}),
    case(
        "llm-provider-beats-llm-system",
        {"llm.provider": "azure", "llm.system": "openai"},
        {"provider": "azure"},
    ),
    case(
        "session-and-user",
        {"session.id": "s-9", "user.id": "u-9"},
        {"session_id": "s-9", "user_id": "u-9"},
    ),
    case(
        "input-value-beats-genai-messages",
        {
            "input.value": "from openinference",
            "gen_ai.input.messages": '[{"role": "user", "parts": []}]',
        },
        {"inputs": "from openinference"},
    ),
    case(
        "model-name-beats-genai-model",
        {"llm.model_name": "oi-model", "gen_ai.response.model": "genai-model"},
        {"model": "oi-model"},
    ),
    case(
        "token-count-beats-genai-usage",
        {"llm.token_count.prompt": 1, "gen_ai.usage.input_tokens": 100},
        {"input_tokens": 1},
    ),
    case(
        "kind-beats-genai-operation",
        {"openinference.span.kind": "AGENT", "gen_ai.operation.name": "chat"},
        {"span_type": "AGENT"},
    ),
]


@pytest.mark.parametrize(("attributes", "events", "expected"), OPENINFERENCE)
def test_openinference(attributes: dict, events: tuple, expected: dict) -> None:
    run_table(attributes, events, expected)


# --- OpenTelemetry GenAI ----------------------------------------------------------------------

USER_MESSAGE = {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}
ASSISTANT_MESSAGE = {
    "role": "assistant",
    "parts": [{"type": "text", "content": "Rainy."}],
    "finish_reason": "stop",
}

GENAI_OPERATIONS = [
    case(f"operation-{operation}", {"gen_ai.operation.name": operation}, {"span_type": span_type})
    for operation, span_type in (
        ("chat", "CHAT_MODEL"),
        ("text_completion", "LLM"),
        ("generate_content", "LLM"),
        ("embeddings", "EMBEDDING"),
        ("execute_tool", "TOOL"),
        ("invoke_agent", "AGENT"),
        ("create_agent", "AGENT"),
        ("retrieval", "RETRIEVER"),
    )
]

GENAI = [
    *GENAI_OPERATIONS,
    case(
        "messages-as-json-strings",
        {
            "gen_ai.input.messages": json.dumps([USER_MESSAGE]),
            "gen_ai.output.messages": json.dumps([ASSISTANT_MESSAGE]),
        },
        {"inputs": {"messages": [USER_MESSAGE]}, "outputs": {"messages": [ASSISTANT_MESSAGE]}},
    ),
    case(
        "messages-structured",
        {"gen_ai.input.messages": [USER_MESSAGE], "gen_ai.output.messages": [ASSISTANT_MESSAGE]},
        {"inputs": {"messages": [USER_MESSAGE]}, "outputs": {"messages": [ASSISTANT_MESSAGE]}},
    ),
    case(
        "system-instructions-added",
        {
            "gen_ai.input.messages": json.dumps([USER_MESSAGE]),
            "gen_ai.system_instructions": '[{"type": "text", "content": "Be brief."}]',
        },
        {
            "inputs": {
                "messages": [USER_MESSAGE],
                "system_instructions": [{"type": "text", "content": "Be brief."}],
            }
        },
    ),
    case(
        "system-instructions-plain-string",
        {"gen_ai.input.messages": [USER_MESSAGE], "gen_ai.system_instructions": "Be brief."},
        {"inputs": {"messages": [USER_MESSAGE], "system_instructions": "Be brief."}},
    ),
    case(
        "unknown-operation", {"gen_ai.operation.name": "fetch_response"}, {"span_type": "UNKNOWN"}
    ),
    case(
        "usage-derives-total",
        {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 3},
        {"input_tokens": 10, "output_tokens": 3, "total_tokens": 13, "span_type": "LLM"},
    ),
    case(
        "legacy-usage-as-strings",
        {"gen_ai.usage.prompt_tokens": "7", "gen_ai.usage.completion_tokens": "2"},
        {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9},
    ),
    case(
        "current-usage-beats-legacy",
        {"gen_ai.usage.input_tokens": 4, "gen_ai.usage.prompt_tokens": 40},
        {"input_tokens": 4},
    ),
    case(
        "response-model-beats-request-model",
        {"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06"},
        {"model": "gpt-4o-2024-08-06"},
    ),
    case(
        "request-model-alone",
        {"gen_ai.request.model": "gpt-4o"},
        {"model": "gpt-4o", "span_type": "LLM"},
    ),
    case(
        "provider-name-beats-legacy-system",
        {"gen_ai.provider.name": "aws.bedrock", "gen_ai.system": "openai"},
        {"provider": "aws.bedrock"},
    ),
    case("legacy-system-alone", {"gen_ai.system": "openai"}, {"provider": "openai"}),
    case(
        "conversation-id-is-session",
        {"gen_ai.conversation.id": "conv_5j66"},
        {"session_id": "conv_5j66"},
    ),
    case(
        "tool-call-arguments-and-result",
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.call.arguments": '{"city": "Paris"}',
            "gen_ai.tool.call.result": "rainy",
        },
        {"inputs": {"city": "Paris"}, "outputs": "rainy", "span_type": "TOOL"},
    ),
    case(
        "legacy-events",
        {"gen_ai.system": "openai"},
        {
            "inputs": [{"role": "user", "content": "hi"}],
            "outputs": {"role": "assistant", "content": "hello"},
        },
        events=(
            ("gen_ai.content.prompt", {"gen_ai.prompt": '[{"role": "user", "content": "hi"}]'}),
            (
                "gen_ai.content.completion",
                {"gen_ai.completion": '{"role": "assistant", "content": "hello"}'},
            ),
        ),
    ),
    case(
        "legacy-event-plain-text",
        {},
        {"inputs": "just text", "outputs": None},
        events=(("gen_ai.content.prompt", {"gen_ai.prompt": "just text"}),),
    ),
    case(
        "messages-beat-legacy-events",
        {"gen_ai.input.messages": [USER_MESSAGE]},
        {"inputs": {"messages": [USER_MESSAGE]}},
        events=(("gen_ai.content.prompt", {"gen_ai.prompt": "old"}),),
    ),
    case(
        "messages-not-an-array-fall-through",
        {"gen_ai.input.messages": '{"role": "user"}', "traceloop.entity.input": '{"x": 1}'},
        {"inputs": {"x": 1}},
    ),
    case(
        "genai-beats-openllmetry",
        {
            "gen_ai.input.messages": [USER_MESSAGE],
            "traceloop.entity.input": '{"x": 1}',
            "gen_ai.request.model": "genai",
            "llm.request.model": "openllmetry",
            "gen_ai.operation.name": "embeddings",
            "llm.request.type": "chat",
        },
        {"inputs": {"messages": [USER_MESSAGE]}, "model": "genai", "span_type": "EMBEDDING"},
    ),
]


@pytest.mark.parametrize(("attributes", "events", "expected"), GENAI)
def test_otel_genai(attributes: dict, events: tuple, expected: dict) -> None:
    run_table(attributes, events, expected)


# --- OpenLLMetry (Traceloop) ------------------------------------------------------------------

MANY_PROMPTS = {
    key: value
    for i in range(40)
    for key, value in ((f"gen_ai.prompt.{i}.role", "user"), (f"gen_ai.prompt.{i}.content", f"m{i}"))
}

OPENLLMETRY_REQUEST_TYPES = [
    case(
        f"request-type-{request_type}", {"llm.request.type": request_type}, {"span_type": span_type}
    )
    for request_type, span_type in (
        ("chat", "CHAT_MODEL"),
        ("completion", "LLM"),
        ("embedding", "EMBEDDING"),
        ("rerank", "RERANKER"),
    )
]
OPENLLMETRY_SPAN_KINDS = [
    case(f"span-kind-{kind}", {"traceloop.span.kind": kind}, {"span_type": span_type})
    for kind, span_type in (
        ("workflow", "CHAIN"),
        ("task", "CHAIN"),
        ("agent", "AGENT"),
        ("tool", "TOOL"),
    )
]

OPENLLMETRY = (
    OPENLLMETRY_REQUEST_TYPES
    + OPENLLMETRY_SPAN_KINDS
    + [
        case(
            "entity-input-output",
            {
                "traceloop.span.kind": "task",
                "traceloop.entity.input": '{"args": [1], "kwargs": {"q": "x"}}',
                "traceloop.entity.output": '"done"',
            },
            {
                "inputs": {"args": [1], "kwargs": {"q": "x"}},
                "outputs": "done",
                "span_type": "CHAIN",
            },
        ),
        case(
            "indexed-prompts-and-completions",
            {
                "llm.request.type": "chat",
                "gen_ai.prompt.0.role": "system",
                "gen_ai.prompt.0.content": "Be nice.",
                "gen_ai.prompt.1.role": "user",
                "gen_ai.prompt.1.content": "Hi",
                "gen_ai.completion.0.role": "assistant",
                "gen_ai.completion.0.content": "Hello!",
                "gen_ai.completion.0.finish_reason": "stop",
            },
            {
                "inputs": {
                    "messages": [
                        {"role": "system", "content": "Be nice."},
                        {"role": "user", "content": "Hi"},
                    ]
                },
                "outputs": {
                    "messages": [
                        {"role": "assistant", "content": "Hello!", "finish_reason": "stop"}
                    ]
                },
                "span_type": "CHAT_MODEL",
            },
        ),
        case(
            "indexed-content-without-role",
            {"gen_ai.prompt.0.content": "Hi"},
            {"inputs": {"messages": [{"content": "Hi"}]}},
        ),
        case(
            "indexed-beyond-precomputed-keys",
            MANY_PROMPTS,
            {"inputs": {"messages": [{"role": "user", "content": f"m{i}"} for i in range(40)]}},
        ),
        case(
            "indexed-stops-at-first-gap",
            {
                "gen_ai.prompt.0.content": "a",
                "gen_ai.prompt.2.content": "c",
            },
            {"inputs": {"messages": [{"content": "a"}]}},
        ),
        case(
            "entity-input-beats-indexed-prompts",
            {
                "traceloop.entity.input": '{"from": "entity"}',
                "gen_ai.prompt.0.content": "Hi",
            },
            {"inputs": {"from": "entity"}},
        ),
        case(
            "usage-total-tokens",
            {
                "gen_ai.usage.prompt_tokens": 5,
                "gen_ai.usage.completion_tokens": 2,
                "llm.usage.total_tokens": 8,
            },
            {"input_tokens": 5, "output_tokens": 2, "total_tokens": 8},
        ),
        case(
            "usage-total-tokens-string",
            {"llm.usage.total_tokens": "30"},
            {"total_tokens": 30, "input_tokens": None, "span_type": "LLM"},
        ),
        case(
            "older-model-keys-response-first",
            {"llm.request.model": "gpt-3.5-turbo", "llm.response.model": "gpt-3.5-turbo-0125"},
            {"model": "gpt-3.5-turbo-0125"},
        ),
        case(
            "older-request-model-alone",
            {"llm.request.model": "gpt-3.5-turbo"},
            {"model": "gpt-3.5-turbo"},
        ),
        case(
            "association-properties",
            {
                "traceloop.association.properties.session_id": "chat-1",
                "traceloop.association.properties.user_id": "user-1",
            },
            {"session_id": "chat-1", "user_id": "user-1"},
        ),
        case("request-type-unknown", {"llm.request.type": "unknown"}, {"span_type": "UNKNOWN"}),
        case(
            "request-type-beats-span-kind",
            {"llm.request.type": "embedding", "traceloop.span.kind": "task"},
            {"span_type": "EMBEDDING"},
        ),
    ]
)


@pytest.mark.parametrize(("attributes", "events", "expected"), OPENLLMETRY)
def test_openllmetry(attributes: dict, events: tuple, expected: dict) -> None:
    run_table(attributes, events, expected)


# --- Cross-convention priorities --------------------------------------------------------------

PRIORITIES = [
    case(
        "mlflow-inputs-beat-input-value",
        {
            "mlflow.spanInputs": '{"from": "mlflow"}',
            "input.value": "from openinference",
            "mlflow.spanOutputs": '"m"',
            "output.value": "o",
        },
        {"inputs": {"from": "mlflow"}, "outputs": "m"},
    ),
    case(
        "every-convention-present",
        {
            SPAN_INPUTS: '{"level": 1}',
            "input.value": "2",
            "gen_ai.input.messages": [USER_MESSAGE],
            "traceloop.entity.input": '"4"',
            "gen_ai.prompt.0.content": "5",
            "mlflow.spanType": '"AGENT"',
            "openinference.span.kind": "LLM",
            "gen_ai.operation.name": "chat",
            "llm.request.type": "completion",
            "mlflow.llm.model": '"m1"',
            "llm.model_name": "m2",
            "gen_ai.response.model": "m3",
            "llm.request.model": "m4",
            "llm.provider": "p1",
            "gen_ai.provider.name": "p2",
            "session.id": "s1",
            "gen_ai.conversation.id": "s2",
            "traceloop.association.properties.session_id": "s3",
            "user.id": "u1",
            "enduser.id": "u2",
        },
        {
            "inputs": {"level": 1},
            "span_type": "AGENT",
            "model": "m1",
            "provider": "p1",
            "session_id": "s1",
            "user_id": "u1",
        },
        events=(("gen_ai.content.prompt", {"gen_ai.prompt": "6"}),),
    ),
    case("enduser-id-when-no-user-id", {"enduser.id": "bob"}, {"user_id": "bob"}),
    case(
        "conversation-id-beats-association-property",
        {
            "gen_ai.conversation.id": "c1",
            "traceloop.association.properties.session_id": "c2",
        },
        {"session_id": "c1"},
    ),
]


@pytest.mark.parametrize(("attributes", "events", "expected"), PRIORITIES)
def test_priority_between_conventions(attributes: dict, events: tuple, expected: dict) -> None:
    run_table(attributes, events, expected)


# --- Odd input never raises -------------------------------------------------------------------

CIRCULAR: dict[str, Any] = {"name": "loop"}
CIRCULAR["self"] = CIRCULAR

ODD = [
    case(
        "empty",
        {},
        {
            "inputs": None,
            "outputs": None,
            "span_type": "UNKNOWN",
            "model": None,
            "provider": None,
            "input_tokens": None,
            "output_tokens": None,
            "total_tokens": None,
            "session_id": None,
            "user_id": None,
        },
    ),
    case(
        "all-none",
        {
            "mlflow.spanInputs": None,
            "input.value": None,
            "mlflow.spanType": None,
            "llm.model_name": None,
            "llm.token_count.prompt": None,
            "session.id": None,
        },
        {
            "inputs": None,
            "span_type": "UNKNOWN",
            "model": None,
            "input_tokens": None,
            "session_id": None,
        },
    ),
    case(
        "wrong-types-fall-through",
        {
            "mlflow.spanType": ["LLM"],
            "openinference.span.kind": 7,
            "gen_ai.operation.name": {"op": "chat"},
            "llm.request.type": "embedding",
            "llm.model_name": 42,
            "gen_ai.request.model": "real-model",
            "llm.provider": False,
            "gen_ai.system": "openai",
            "session.id": ["s"],
            "gen_ai.conversation.id": "conv",
            "user.id": b"bytes",
            "enduser.id": "eve",
        },
        {
            "span_type": "EMBEDDING",
            "model": "real-model",
            "provider": "openai",
            "session_id": "conv",
            "user_id": "eve",
        },
    ),
    case(
        "integer-ids-become-strings",
        {"session.id": 123, "user.id": 7},
        {"session_id": "123", "user_id": "7"},
    ),
    case(
        "empty-strings-are-not-values",
        {
            "llm.model_name": "",
            "gen_ai.request.model": "m",
            "session.id": "",
            "mlflow.spanType": "",
            "openinference.span.kind": "TOOL",
        },
        {"model": "m", "session_id": None, "span_type": "TOOL"},
    ),
    case(
        "unparseable-token-counts-ignored",
        {
            "llm.token_count.prompt": "abc",
            "gen_ai.usage.input_tokens": "12",
            "llm.token_count.completion": True,
            "gen_ai.usage.output_tokens": -3,
            "llm.token_count.total": "nan",
        },
        {"input_tokens": 12, "output_tokens": None, "total_tokens": None},
    ),
    case(
        "odd-float-token-counts",
        {
            "llm.token_count.prompt": "42.0",
            "llm.token_count.completion": 7.9,
            "llm.token_count.total": float("inf"),
        },
        {"input_tokens": 42, "output_tokens": 7, "total_tokens": 49},
    ),
    case(
        "token-usage-not-an-object",
        {"mlflow.chat.tokenUsage": "[1, 2]"},
        {"input_tokens": None, "span_type": "UNKNOWN"},
    ),
    case("token-usage-invalid-json", {"mlflow.chat.tokenUsage": "{oops"}, {"input_tokens": None}),
    case(
        "bytes-value-as-base64",
        {"input.value": b"\x00\xffbin"},
        {"inputs": base64.b64encode(b"\x00\xffbin").decode()},
    ),
    case(
        "nested-bytes-as-base64",
        {"mlflow.spanInputs": {"blob": b"hi", "n": None}},
        {"inputs": {"blob": base64.b64encode(b"hi").decode(), "n": None}},
    ),
    case(
        "non-string-dict-keys",
        {"mlflow.spanInputs": {1: "one", None: "none"}},
        {"inputs": {"1": "one", "null": "none"}},
    ),
    case("huge-integer", {"mlflow.spanOutputs": [2**80]}, {"outputs": [2**80]}),
    case("lone-surrogate", {"input.value": "bad \ud800 text"}, {"inputs": "bad \ud800 text"}),
    case(
        "bool-and-number-inputs",
        {"mlflow.spanInputs": True, "output.value": 3.5},
        {"inputs": True, "outputs": 3.5},
    ),
    case(
        "malformed-events-skipped",
        {},
        {"inputs": "ok", "outputs": None},
        events=(
            None,
            ("only-name",),
            ("gen_ai.content.prompt", None),
            ("gen_ai.content.prompt", {"gen_ai.prompt": None}),
            ("gen_ai.content.prompt", {"gen_ai.prompt": "ok"}),
        ),
    ),
    case(
        "events-of-other-names-ignored",
        {},
        {"inputs": None},
        events=(("exception", {"exception.message": "boom"}),),
    ),
]


@pytest.mark.parametrize(("attributes", "events", "expected"), ODD)
def test_odd_input_never_raises(attributes: dict, events: tuple, expected: dict) -> None:
    run_table(attributes, events, expected)


def test_circular_structure_does_not_raise() -> None:
    result = normalize({"mlflow.spanInputs": CIRCULAR})
    assert isinstance(result.inputs, str)
    assert "loop" in json.loads(result.inputs)


# --- total_tokens -----------------------------------------------------------------------------

TOTALS = [
    case(
        "derived-from-input-and-output",
        {"llm.token_count.prompt": 100, "llm.token_count.completion": 20},
        {"total_tokens": 120},
    ),
    case(
        "derived-across-conventions",
        {"gen_ai.usage.input_tokens": 9, "llm.token_count.completion": "1"},
        {"total_tokens": 10},
    ),
    case(
        "explicit-total-kept",
        {"llm.token_count.prompt": 1, "llm.token_count.completion": 1, "llm.token_count.total": 5},
        {"total_tokens": 5},
    ),
    case(
        "not-derived-from-input-only",
        {"gen_ai.usage.input_tokens": 9},
        {"input_tokens": 9, "output_tokens": None, "total_tokens": None},
    ),
    case(
        "mlflow-usage-without-total",
        {"mlflow.chat.tokenUsage": '{"input_tokens": 2, "output_tokens": 3}'},
        {"total_tokens": 5},
    ),
    case(
        "zero-counts-are-counts",
        {"gen_ai.usage.input_tokens": 0, "gen_ai.usage.output_tokens": 0},
        {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0, "span_type": "LLM"},
    ),
]


@pytest.mark.parametrize(("attributes", "events", "expected"), TOTALS)
def test_total_tokens(attributes: dict, events: tuple, expected: dict) -> None:
    run_table(attributes, events, expected)


def test_normalize_is_pure() -> None:
    attributes = {"gen_ai.input.messages": [USER_MESSAGE], "llm.token_count.prompt": "3"}
    snapshot = json.dumps(attributes, sort_keys=True)
    first = normalize(attributes)
    assert normalize(attributes) == first
    assert json.dumps(attributes, sort_keys=True) == snapshot


# Each field found from any single one of its sources, alone among keys of no convention:
# normalize skips the look-ups of fields whose sources a span does not hold, and must not
# skip one it does hold.
SINGLE_SOURCES = [
    ({"gen_ai.prompt.0.role": "user"}, {"inputs": {"messages": [{"role": "user"}]}}),
    ({"gen_ai.completion.0.content": "hi"}, {"outputs": {"messages": [{"content": "hi"}]}}),
    ({"gen_ai.tool.call.result": "[1]"}, {"outputs": [1]}),
    ({"llm.usage.total_tokens": 7}, {"total_tokens": 7, "span_type": "LLM"}),
    ({"mlflow.chat.tokenUsage": '{"input_tokens": 2}'}, {"input_tokens": 2, "span_type": "LLM"}),
    ({"llm.vendor": "acme"}, {"provider": "acme"}),
    ({"traceloop.association.properties.user_id": 5}, {"user_id": "5"}),
    ({"traceloop.span.kind": "task"}, {"span_type": "CHAIN"}),
    ({"embedding.model_name": "e5"}, {"model": "e5", "span_type": "LLM"}),
]


@pytest.mark.parametrize(("attributes", "expected"), SINGLE_SOURCES)
def test_a_single_source_is_found_among_other_keys(attributes: dict, expected: dict) -> None:
    run_table({"http.method": "GET", "app.version": 3, **attributes}, (), expected)


def test_a_span_without_sources_keeps_the_defaults() -> None:
    assert normalize({"http.method": "GET", "http.status_code": 200}) == Canonical()
    assert normalize({}, [("gen_ai.content.prompt", {"gen_ai.prompt": "hi"})]) == Canonical(
        inputs='"hi"'
    )
