"""``spyglass.openai.autolog()`` with the real ``openai`` client against the local
OpenAI-compatible server, spans exported to a real collector (SQLite and PostgreSQL) and read
back through ``spyglass.get_trace``: every call kind makes the right CLIENT span, nested under
the ``@spyglass.trace`` span that made it, with canonical inputs, outputs, model and tokens."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from local_openai import Verdict
from openai.resources.chat.completions import AsyncCompletions, Completions
from openai.resources.embeddings import Embeddings

import spyglass
from spyglass import session
from spyglass.entities import Span, Trace
from spyglass.instrumentation import openai as openai_instrumentation
from spyglass.instrumentation.openai import call_spans
from spyglass.local_llm import LocalLLM
from spyglass.v1 import traces_pb2, traces_pb2_grpc

API_KEY = "sk-test-autolog-SECRET-4242"
SYSTEM = "You are a helpful support assistant."
QUESTION = "Context: Full refunds within 30 days with receipt.\n\nQuestion: How do I get a refund?"
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
PROMPT_TOKENS = len(SYSTEM.split()) + len(QUESTION.split())
ANSWER = "Based on the available information: Full refunds within 30 days with receipt."


@pytest.fixture
def traced(store_url: str, start_collector: Callable[..., Any], llm: LocalLLM) -> Iterator[None]:
    """autolog on, spans exported to a real collector over ``store_url``."""
    collector = start_collector(store_url)
    session.configure(collector=f"127.0.0.1:{collector.grpc_port}")
    spyglass.set_experiment("openai autolog")
    spyglass.openai.autolog()
    llm.requests.clear()
    yield
    spyglass.openai.autolog(disable=True)
    session._shutdown()


@pytest.fixture
def client(llm: LocalLLM) -> openai.OpenAI:
    return openai.OpenAI(base_url=llm.base_url, api_key=API_KEY, max_retries=0)


@pytest.fixture
def async_client(llm: LocalLLM) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=llm.base_url, api_key=API_KEY, max_retries=0)


def in_trace(call: Callable[[], Any]) -> tuple[Any, Trace]:
    """Run ``call`` inside an ``@spyglass.trace`` function; returns its result and the trace
    read back from the collector."""

    @spyglass.trace
    def app() -> Any:
        return call(), spyglass.get_current_active_span().trace_id

    result, trace_id = app()
    return result, spyglass.get_trace(trace_id)


def llm_span(trace: Trace, span_type: str = "CHAT_MODEL") -> Span:
    """The single OpenAI span of ``trace``, checked to be a child of the app's root span."""
    root = trace.data._get_root_span()
    spans = [s for s in trace.data.spans if s.span_type == span_type]
    assert len(spans) == 1, [(s.name, s.span_type) for s in trace.data.spans]
    assert root is not None and root.name == "app" and spans[0].parent_id == root.span_id
    return spans[0]


def span_kind(trace_id: str, span_id: str) -> int:
    client = session.client()
    proto = client.call(
        client.stub(traces_pb2_grpc.TraceServiceStub).GetTrace,
        traces_pb2.GetTraceRequest(trace_id=trace_id),
    )
    return next(s.kind for s in proto.spans if s.span_id == span_id)


def check_chat(
    span: Span,
    answer: str,
    input_tokens: int | None = PROMPT_TOKENS,
    output_tokens: int | None = None,
) -> None:
    output_tokens = len(answer.split()) if output_tokens is None else output_tokens
    assert span.name == "chat gpt-4o-mini" and span.status != "ERROR"
    assert (span.model, span.provider) == ("gpt-4o-mini", "openai")
    assert span.attributes["gen_ai.operation.name"] == "chat"
    assert span.attributes["gen_ai.provider.name"] == "openai"
    assert span.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert span.attributes["gen_ai.response.model"] == "gpt-4o-mini"
    assert span.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    if input_tokens is not None:
        assert (span.input_tokens, span.output_tokens) == (input_tokens, output_tokens)
        assert span.total_tokens == input_tokens + output_tokens
        assert span.attributes["gen_ai.usage.input_tokens"] == input_tokens
        assert (
            json.loads(span.attributes["spyglass.span.token_usage"])["total_tokens"]
            == span.total_tokens
        )
    else:
        assert span.input_tokens is None and span.output_tokens is None


def chat_text(outputs: dict) -> str:
    return outputs["choices"][0]["message"]["content"]


@pytest.mark.usefixtures("traced")
def test_chat_completion(client: openai.OpenAI) -> None:
    response, trace = in_trace(
        lambda: client.chat.completions.create(
            model="gpt-4o-mini",
            temperature=0.3,
            max_tokens=50,
            top_p=0.9,
            seed=7,
            stop=["\n\n"],
            messages=MESSAGES,
        )
    )
    span = llm_span(trace)
    check_chat(span, ANSWER)
    assert response.choices[0].message.content == ANSWER
    assert span.inputs == {
        "model": "gpt-4o-mini",
        "temperature": 0.3,
        "max_tokens": 50,
        "top_p": 0.9,
        "seed": 7,
        "stop": ["\n\n"],
        "messages": MESSAGES,
    }
    assert chat_text(span.outputs) == ANSWER and span.outputs["id"] == response.id
    assert span.attributes["gen_ai.response.id"] == response.id
    assert span.attributes["gen_ai.request.temperature"] == 0.3
    assert span.attributes["gen_ai.request.max_tokens"] == 50
    assert span.attributes["gen_ai.request.top_p"] == 0.9
    assert span.attributes["gen_ai.request.seed"] == 7
    assert span.attributes["gen_ai.request.stop_sequences"] == ["\n\n"]
    assert span.attributes["server.address"] == "127.0.0.1"
    assert span_kind(span.trace_id, span.span_id) == traces_pb2.Span.SPAN_KIND_CLIENT
    # the collector prices the call from the canonical model and tokens ($ per 1M tokens)
    assert span.cost == pytest.approx((PROMPT_TOKENS * 0.15 + len(ANSWER.split()) * 0.6) / 1e6)
    root = trace.data._get_root_span()
    assert root.start_time_ns <= span.start_time_ns <= span.end_time_ns <= root.end_time_ns


@pytest.mark.usefixtures("traced")
@pytest.mark.parametrize("include_usage", [True, False])
def test_streaming_chat(client: openai.OpenAI, include_usage: bool) -> None:
    extra = {"stream_options": {"include_usage": True}} if include_usage else {}

    def call() -> str:
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, **extra
        )
        assert isinstance(stream, openai.Stream)  # still the SDK's type
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    text, trace = in_trace(call)
    assert text == ANSWER
    span = llm_span(trace)
    check_chat(span, ANSWER, input_tokens=PROMPT_TOKENS if include_usage else None)
    assert chat_text(span.outputs) == ANSWER
    assert span.outputs["choices"][0]["message"]["role"] == "assistant"
    assert span.outputs["choices"][0]["finish_reason"] == "stop"
    assert span.inputs["stream"] is True


@pytest.mark.usefixtures("traced")
def test_stream_closed_early_ends_its_span_with_what_arrived(client: openai.OpenAI) -> None:
    def call() -> str:
        with client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        ) as stream:
            first = [next(stream) for _ in range(3)]
        return "".join(c.choices[0].delta.content or "" for c in first)

    text, trace = in_trace(call)
    span = llm_span(trace)
    assert chat_text(span.outputs) == text and text and text != ANSWER
    assert span.end_time_ns <= trace.data._get_root_span().end_time_ns


@pytest.mark.usefixtures("traced")
def test_sdk_stream_helper_makes_one_span(client: openai.OpenAI) -> None:
    def call() -> str:
        with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
            for _ in stream:
                pass
            return stream.get_final_completion().choices[0].message.content

    text, trace = in_trace(call)
    assert text == ANSWER
    assert chat_text(llm_span(trace).outputs) == ANSWER


@pytest.mark.usefixtures("traced")
def test_async_chat_and_async_streaming(async_client: openai.AsyncOpenAI) -> None:
    @spyglass.trace
    async def app() -> tuple[str, str, str]:
        plain, streamed = await asyncio.gather(
            async_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES),
            async_client.chat.completions.create(
                model="gpt-4o-mini",
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            ),
        )
        assert isinstance(streamed, openai.AsyncStream)
        text = "".join([c.choices[0].delta.content or "" async for c in streamed if c.choices])
        return plain.choices[0].message.content, text, spyglass.get_current_active_span().trace_id

    plain, streamed, trace_id = asyncio.run(app())
    assert plain == streamed == ANSWER
    trace = spyglass.get_trace(trace_id)
    root = trace.data._get_root_span()
    spans = [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
    assert len(spans) == 2 and all(s.parent_id == root.span_id for s in spans)
    for span in spans:
        check_chat(span, ANSWER)
        assert chat_text(span.outputs) == ANSWER
    assert sorted(bool(s.inputs.get("stream")) for s in spans) == [False, True]


@pytest.mark.usefixtures("traced")
def test_parse(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Judge this response: 30 days with receipt."}]
    parsed, trace = in_trace(
        lambda: client.chat.completions.parse(
            model="gpt-4o-mini", messages=messages, response_format=Verdict
        )
    )
    assert parsed.choices[0].message.parsed.result == "yes"
    span = llm_span(trace)
    content = parsed.choices[0].message.content
    check_chat(span, content, input_tokens=len(messages[0]["content"].split()))
    assert span.outputs["choices"][0]["message"]["parsed"]["result"] == "yes"
    assert span.inputs["response_format"]["name"] == "Verdict"
    assert "result" in span.inputs["response_format"]["schema"]["properties"]
    assert span.attributes["gen_ai.output.type"] == "json"


@pytest.mark.usefixtures("traced")
def test_responses_plain_and_streaming(client: openai.OpenAI) -> None:
    response, trace = in_trace(
        lambda: client.responses.create(
            model="gpt-4o-mini", instructions=SYSTEM, input=QUESTION, max_output_tokens=100
        )
    )
    span = llm_span(trace)
    check_chat(span, ANSWER)
    assert response.output_text == ANSWER
    assert span.outputs["output"][0]["content"][0]["text"] == ANSWER
    assert span.inputs == {
        "model": "gpt-4o-mini",
        "instructions": SYSTEM,
        "input": QUESTION,
        "max_output_tokens": 100,
    }
    assert span.attributes["gen_ai.response.id"] == response.id
    assert span.attributes["gen_ai.request.max_tokens"] == 100

    def stream() -> list:
        return list(
            client.responses.create(
                model="gpt-4o-mini", instructions=SYSTEM, input=QUESTION, stream=True
            )
        )

    events, trace = in_trace(stream)
    span = llm_span(trace)
    check_chat(span, ANSWER)
    assert events[-1].type == "response.completed"
    assert span.outputs["output"][0]["content"][0]["text"] == ANSWER
    assert span.attributes["gen_ai.response.id"] == events[-1].response.id


@pytest.mark.usefixtures("traced")
def test_stream_dropped_unfinished_ends_its_span_when_collected(client: openai.OpenAI) -> None:
    def call() -> str:
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        first = next(stream).choices[0].delta.content or ""
        first += next(stream).choices[0].delta.content or ""
        del stream
        gc.collect()
        return first

    text, trace = in_trace(call)
    assert chat_text(llm_span(trace).outputs) == text and text


@pytest.mark.usefixtures("traced")
def test_responses_parse_and_raw_responses(client: openai.OpenAI) -> None:
    parsed, trace = in_trace(
        lambda: client.responses.parse(
            model="gpt-4o-mini", input="Response: 30 days.", text_format=Verdict
        )
    )
    assert parsed.output_parsed.result == "yes"
    span = llm_span(trace)
    assert span.inputs["text_format"]["name"] == "Verdict"
    assert span.attributes["gen_ai.output.type"] == "json" and span.input_tokens == 3

    raw, trace = in_trace(
        lambda: client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    )
    assert raw.parse().choices[0].message.content == ANSWER  # the raw API still works
    span = llm_span(trace)  # the call is traced; its raw HTTP result is not read
    assert span.inputs["messages"] == MESSAGES and span.status != "ERROR"


@pytest.mark.usefixtures("traced")
def test_embeddings(client: openai.OpenAI) -> None:
    texts = ["full refunds within 30 days", "express shipping"]
    response, trace = in_trace(
        lambda: client.embeddings.create(model="text-embedding-3-small", input=texts)
    )
    span = llm_span(trace, "EMBEDDING")
    assert span.name == "embeddings text-embedding-3-small"
    assert (span.model, span.provider) == ("text-embedding-3-small", "openai")
    assert span.attributes["gen_ai.operation.name"] == "embeddings"
    assert span.input_tokens == 7 and span.output_tokens is None and span.total_tokens == 7
    assert span.attributes["gen_ai.embeddings.dimension.count"] == 64
    assert span.inputs == {"model": "text-embedding-3-small", "input": texts}
    assert [d["embedding"] for d in span.outputs["data"]] == [d.embedding for d in response.data]


@pytest.mark.usefixtures("traced")
def test_error_is_recorded_and_reraised_unchanged(client: openai.OpenAI, llm: LocalLLM) -> None:
    llm.fail_next(400, body={"error": {"message": "bad temperature", "type": "invalid"}})
    raised: list[BaseException] = []

    def call() -> None:
        try:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        except openai.BadRequestError as exc:
            raised.append(exc)
            raise

    with pytest.raises(openai.BadRequestError) as caught:
        in_trace(call)
    assert caught.value is raised[0] and caught.value.status_code == 400
    assert "bad temperature" in str(caught.value)
    traces = spyglass.search_traces(filter_string="attributes.status = 'ERROR'", return_type="list")
    assert len(traces) == 1
    span = llm_span(spyglass.get_trace(traces[0].info.trace_id))
    assert span.status == "ERROR" and "bad temperature" in span.status_message
    assert span.attributes["error.type"] == "BadRequestError"
    assert span.attributes["http.response.status_code"] == 400
    assert [e["name"] for e in span.events] == ["exception"]
    assert span.inputs["messages"] == MESSAGES and span.outputs is None


@pytest.mark.usefixtures("traced")
def test_api_key_and_headers_are_never_recorded(client: openai.OpenAI, llm: LocalLLM) -> None:
    _, trace = in_trace(
        lambda: client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            extra_headers={"Authorization": f"Bearer {API_KEY}", "X-Api-Key": API_KEY},
            extra_query={"api-key": API_KEY},
            extra_body={"api_key": API_KEY, "user_tag": "t"},
        )
    )
    assert llm.requests[-1]["api_key"] == API_KEY  # the call itself was sent unchanged
    span = llm_span(trace)
    stored = json.dumps([(s.attributes, s.inputs, s.outputs, s.events) for s in trace.data.spans])
    assert API_KEY not in stored and "SECRET" not in stored
    assert span.inputs["extra_body"] == {"api_key": "[REDACTED]", "user_tag": "t"}
    assert "extra_headers" not in span.inputs and "extra_query" not in span.inputs


@pytest.mark.usefixtures("traced")
def test_generator_of_messages_is_sent_and_recorded(client: openai.OpenAI, llm: LocalLLM) -> None:
    response, trace = in_trace(
        lambda: client.chat.completions.create(model="gpt-4o-mini", messages=(m for m in MESSAGES))
    )
    assert response.choices[0].message.content == ANSWER
    assert llm.requests[-1]["messages"] == MESSAGES
    assert llm_span(trace).inputs["messages"] == MESSAGES


@pytest.mark.usefixtures("traced")
def test_autolog_twice_wraps_once_and_disable_restores(client: openai.OpenAI) -> None:
    wrapped = Completions.create
    original = wrapped.__spyglass_original__
    spyglass.openai.autolog()
    assert Completions.create is wrapped  # not wrapped again
    _, trace = in_trace(
        lambda: client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    )
    llm_span(trace)  # exactly one chat span

    assert openai_instrumentation.is_patched()
    spyglass.openai.autolog(disable=True)
    assert not openai_instrumentation.is_patched()
    assert Completions.create is original
    assert not hasattr(AsyncCompletions.create, "__spyglass_original__")
    assert not hasattr(Embeddings.create, "__spyglass_original__")
    _, trace = in_trace(
        lambda: client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    )
    assert [s.name for s in trace.data.spans] == ["app"]


def test_no_content_captured_still_records_tokens(
    store_url: str, start_collector: Callable[..., Any], client: openai.OpenAI
) -> None:
    address = f"127.0.0.1:{start_collector(store_url).grpc_port}"
    session.configure(collector=address, capture_content=False)
    spyglass.openai.autolog()
    try:
        _, trace = in_trace(
            lambda: client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        )
    finally:
        spyglass.openai.autolog(disable=True)
        session.configure(collector=address)  # capture back on for the tests that follow
        session._shutdown()
    span = llm_span(trace)
    check_chat(span, ANSWER)
    assert span.inputs is None and span.outputs is None
    stored = json.dumps([s.attributes for s in trace.data.spans])
    assert "Full refunds" not in stored and "helpful support" not in stored


def test_calls_work_when_tracing_itself_fails(
    client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("tracer unavailable")

    monkeypatch.setattr(call_spans, "begin_span", broken)
    spyglass.openai.autolog()
    try:
        response = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        streamed = "".join(c.choices[0].delta.content or "" for c in stream)
    finally:
        spyglass.openai.autolog(disable=True)
    assert response.choices[0].message.content == streamed == ANSWER
