"""The pieces of the OpenAI instrumentation that need no server: folding stream chunks and
events back into a response, reading requests and responses into GenAI attributes, and
keeping secrets out of the recorded inputs."""

from __future__ import annotations

import json

import openai
import pydantic
import pytest
from openai.types.chat import ChatCompletionChunk
from openai.types.responses import ResponseCreatedEvent, ResponseTextDeltaEvent
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from spyglass import semconv
from spyglass.instrumentation import spans
from spyglass.instrumentation.openai.chunks import ChatChunks, ResponseEvents
from spyglass.instrumentation.openai.patching import CHAT
from spyglass.instrumentation.openai.request import (
    CHAT_COMPLETIONS,
    EMBEDDINGS,
    RESPONSES,
    given,
    materialized,
    recorded_inputs,
    request_attributes,
    span_name,
)
from spyglass.instrumentation.openai.response import response_attributes
from spyglass.instrumentation.openai.streams import TracedStream
from spyglass.instrumentation.spans import LiveSpan


def chunk(choices: list[dict], **extra: object) -> ChatCompletionChunk:
    return ChatCompletionChunk.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": choices,
            **extra,
        }
    )


def test_chat_chunks_merge_content_tool_calls_and_usage_per_choice() -> None:
    chunks = ChatChunks()
    for item in [
        chunk(
            [
                {"index": 0, "delta": {"role": "assistant", "content": "Hel"}},
                {
                    "index": 1,
                    "delta": {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "get_", "arguments": '{"ci'},
                            }
                        ],
                    },
                },
            ]
        ),
        chunk(
            [
                {"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"},
                {
                    "index": 1,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "function": {"name": "weather", "arguments": 'ty": "Oslo"}'},
                            }
                        ]
                    },
                    "finish_reason": "tool_calls",
                },
            ]
        ),
        chunk([], usage={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}),
    ]:
        chunks.add(item)
    result = chunks.result()
    assert result["id"] == "chatcmpl-1" and result["model"] == "gpt-4o-mini"
    first, second = result["choices"]
    assert first["message"] == {"role": "assistant", "content": "Hello"}
    assert first["finish_reason"] == "stop"
    call = second["message"]["tool_calls"][0]
    assert call["id"] == "call_1" and call["function"] == {
        "name": "get_weather",
        "arguments": '{"city": "Oslo"}',
    }
    assert second["message"]["content"] is None
    assert result["usage"]["total_tokens"] == 7
    attributes = response_attributes(CHAT_COMPLETIONS, result)
    assert attributes["gen_ai.response.finish_reasons"] == ["stop", "tool_calls"]
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (
        3,
        4,
    )


def test_response_events_cut_off_before_completion_keep_the_text() -> None:
    events = ResponseEvents()
    created = ResponseCreatedEvent.model_validate(
        {
            "type": "response.created",
            "sequence_number": 0,
            "response": {
                "id": "resp_1",
                "object": "response",
                "created_at": 1.0,
                "model": "gpt-4o-mini",
                "output": [],
                "parallel_tool_calls": True,
                "tool_choice": "auto",
                "tools": [],
                "status": "in_progress",
            },
        }
    )
    events.add(created)
    for number, word in enumerate(["Hi", " there"], start=1):
        events.add(
            ResponseTextDeltaEvent.model_validate(
                {
                    "type": "response.output_text.delta",
                    "sequence_number": number,
                    "item_id": "m",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": word,
                    "logprobs": [],
                }
            )
        )
    result = events.result()
    assert result["id"] == "resp_1" and result["output_text"] == "Hi there"
    assert response_attributes(RESPONSES, result)["gen_ai.response.finish_reasons"] is None


def test_responses_status_becomes_a_finish_reason() -> None:
    incomplete = {
        "status": "incomplete",
        "incomplete_details": {"reason": "max_output_tokens"},
        "usage": {"input_tokens": 2, "output_tokens": 5, "total_tokens": 7},
    }
    attributes = response_attributes(RESPONSES, incomplete)
    assert attributes["gen_ai.response.finish_reasons"] == ["length"]
    assert json.loads(json.dumps(attributes[semconv.TOKEN_USAGE])) == {
        "input_tokens": 2,
        "output_tokens": 5,
        "total_tokens": 7,
    }
    assert response_attributes(RESPONSES, {"status": "completed"})[
        "gen_ai.response.finish_reasons"
    ] == ["stop"]


def test_embeddings_usage_has_input_tokens_only() -> None:
    attributes = response_attributes(
        EMBEDDINGS,
        {
            "model": "e",
            "data": [{"embedding": [0.1, 0.2, 0.3]}],
            "usage": {"prompt_tokens": 4, "total_tokens": 4},
        },
    )
    assert attributes["gen_ai.usage.input_tokens"] == 4
    assert attributes["gen_ai.usage.output_tokens"] is None
    assert attributes[semconv.TOKEN_USAGE] == {"input_tokens": 4, "total_tokens": 4}
    assert attributes["gen_ai.embeddings.dimension.count"] == 3


class Answer(pydantic.BaseModel):
    text: str


def test_request_attributes_and_recorded_inputs() -> None:
    client = openai.OpenAI(base_url="https://user:pw@llm.example.com/v1", api_key="sk-x")
    kwargs = given(
        {
            "model": "gpt-4o-mini",
            "messages": [],
            "stop": "END",
            "n": 3,
            "max_completion_tokens": 9,
            "response_format": Answer,
            "temperature": openai.NOT_GIVEN,
            "top_p": openai.omit,
            "extra_headers": {"Authorization": "Bearer sk-x"},
            "extra_body": {"nested": {"API-KEY": "sk-x", "keep": 1}},
            "timeout": 3,
        }
    )
    attributes = request_attributes(CHAT_COMPLETIONS, "chat", kwargs, client.chat.completions)
    assert attributes["gen_ai.request.stop_sequences"] == ["END"]
    assert attributes["gen_ai.request.choice.count"] == 3
    assert attributes["gen_ai.request.max_tokens"] == 9
    assert attributes["gen_ai.output.type"] == "json"
    assert attributes["gen_ai.request.temperature"] is None  # NOT_GIVEN is not a value
    assert (attributes["server.address"], attributes["server.port"]) == ("llm.example.com", 443)
    inputs = recorded_inputs(kwargs)
    assert set(inputs) == {
        "model",
        "messages",
        "stop",
        "n",
        "max_completion_tokens",
        "response_format",
        "extra_body",
    }
    assert inputs["extra_body"] == {"nested": {"API-KEY": "[REDACTED]", "keep": 1}}
    assert inputs["response_format"]["name"] == "Answer"
    assert "sk-x" not in json.dumps(inputs) and "pw" not in json.dumps(attributes)


def test_generators_become_lists_and_names_follow_the_convention() -> None:
    kwargs = {"model": "m", "messages": (m for m in [{"role": "user", "content": "hi"}])}
    out = materialized(kwargs)
    assert out is not kwargs and out["messages"] == [{"role": "user", "content": "hi"}]
    plain = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert materialized(plain) is plain
    assert span_name("chat", "gpt-4o-mini") == "chat gpt-4o-mini"
    assert span_name("embeddings", None) == "embeddings"


class _BrokenStream(openai.Stream):
    """Two chunks, then the connection drops (no HTTP needed)."""

    def __init__(self) -> None:
        self._items = iter(
            [
                chunk([{"index": 0, "delta": {"content": "Hel"}}]),
                chunk([{"index": 0, "delta": {"content": "lo"}}]),
            ]
        )

    def __next__(self) -> ChatCompletionChunk:
        for item in self._items:
            return item
        # a real request object of the HTTP library this openai is built on (httpx or httpx2)
        request = openai.DefaultHttpxClient().build_request("POST", "http://127.0.0.1:9/v1")
        raise openai.APIConnectionError(request=request)

    def close(self) -> None:
        pass


def test_stream_failing_midway_records_what_arrived_and_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spans, "capture_content", lambda: True)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    span = LiveSpan(provider.get_tracer("t").start_span("chat m"))
    stream = TracedStream(_BrokenStream(), span, CHAT)
    assert isinstance(stream, openai.Stream)
    received = []
    with pytest.raises(openai.APIConnectionError):
        for item in stream:
            received.append(item.choices[0].delta.content)
    assert received == ["Hel", "lo"]
    (finished,) = exporter.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    assert finished.attributes["error.type"] == "APIConnectionError"
    assert (
        json.loads(finished.attributes[semconv.SPAN_OUTPUTS])["choices"][0]["message"]["content"]
        == "Hello"
    )
    assert [e.name for e in finished.events] == ["exception"]
    stream.close()  # closing afterwards does not end the span twice
    assert len(exporter.get_finished_spans()) == 1
