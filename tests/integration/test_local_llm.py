"""The local OpenAI-compatible server, driven by the real ``openai`` client (sync and async):
every endpoint and shape the SDK parses, streaming, JSON mode for judges, steering
(errors, malformed answers, responder), concurrency under latency, and the command line."""

from __future__ import annotations

import asyncio
import json
import math
import signal
import subprocess
import sys
import time

import httpx
import openai
import pytest
from local_openai import Verdict

from spyglass.local_llm import DONT_KNOW, EMBEDDING_DIM, LocalLLM

REFUND = "Context: Full refunds within 30 days with receipt.\n\nQuestion: How do I get a refund?"


@pytest.fixture
def client(llm: LocalLLM) -> openai.OpenAI:
    llm.requests.clear()
    return openai.OpenAI(base_url=llm.base_url, api_key="sk-test-local", max_retries=0)


def user(text: str) -> list[dict]:
    return [
        {"role": "system", "content": "You are a helpful support assistant."},
        {"role": "user", "content": text},
    ]


def test_chat_answers_from_the_context_with_word_count_usage(
    client: openai.OpenAI, llm: LocalLLM
) -> None:
    r = client.chat.completions.create(model="gpt-4o-mini", temperature=0.3, messages=user(REFUND))
    text = r.choices[0].message.content
    assert "Full refunds within 30 days with receipt." in text
    assert r.model == "gpt-4o-mini" and r.id.startswith("chatcmpl-")
    assert r.choices[0].finish_reason == "stop"
    prompt_words = len(["You", "are", "a", "helpful", "support", "assistant."]) + len(
        REFUND.split()
    )
    assert r.usage.prompt_tokens == prompt_words
    assert r.usage.completion_tokens == len(text.split())
    assert r.usage.total_tokens == prompt_words + len(text.split())
    assert llm.requests[-1]["_path"] == "/v1/chat/completions"
    assert llm.requests[-1]["temperature"] == 0.3


@pytest.mark.parametrize("context", ["", "No matching policy found.", "none"])
def test_chat_without_useful_context_does_not_know(client: openai.OpenAI, context: str) -> None:
    r = client.chat.completions.create(
        model="gpt-4o-mini", messages=user(f"Context: {context}\n\nQuestion: Gift cards?")
    )
    assert r.choices[0].message.content == DONT_KNOW


def test_chat_without_context_answers_from_the_prompt(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="m",
        messages=[
            {
                "role": "user",
                "content": [{"type": "text", "text": "What is the capital of France?"}],
            }
        ],
    )
    assert "What is the capital of France?" in r.choices[0].message.content


def test_max_tokens_truncates_with_finish_reason_length(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="m", messages=user(REFUND), max_tokens=3, n=2)
    assert [c.finish_reason for c in r.choices] == ["length", "length"]
    assert len(r.choices[0].message.content.split()) == 3
    assert r.usage.completion_tokens == 6


@pytest.mark.parametrize("include_usage", [True, False])
def test_streaming_chat(client: openai.OpenAI, include_usage: bool) -> None:
    kwargs = {"stream_options": {"include_usage": True}} if include_usage else {}
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini", messages=user(REFUND), stream=True, **kwargs
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.endswith("Full refunds within 30 days with receipt.")
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and finishes.count("stop") == 1
    if include_usage:
        assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == len(text.split())
        assert all(c.usage is None for c in chunks[:-1])
    else:
        assert all(c.usage is None for c in chunks)


def test_chat_stream_helper_of_the_sdk(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(model="m", messages=user(REFUND)) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    assert "30 days" in final.choices[0].message.content


def test_parse_gives_a_judge_verdict(client: openai.OpenAI, llm: LocalLLM) -> None:
    judged_yes = client.chat.completions.parse(
        model="gpt-4o-mini",
        response_format=Verdict,
        messages=user("Is this helpful? Response: Full refunds within 30 days."),
    )
    judged_no = client.chat.completions.parse(
        model="gpt-4o-mini",
        response_format=Verdict,
        messages=user(f"Is this helpful? Response: {DONT_KNOW.upper()}"),
    )
    assert judged_yes.choices[0].message.parsed.result == "yes"
    assert judged_no.choices[0].message.parsed.result == "no"
    assert judged_no.choices[0].message.parsed.rationale.endswith(".")
    assert llm.requests[-1]["response_format"]["type"] == "json_schema"


def test_json_schema_with_refs_booleans_and_numbers(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "$defs": {"Label": {"enum": ["pass", "fail"]}},
        "properties": {
            "label": {"$ref": "#/$defs/Label"},
            "passed": {"type": "boolean"},
            "score": {"type": "integer", "minimum": 1, "maximum": 5},
            "reasons": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "note": {"anyOf": [{"type": "null"}, {"type": "string"}]},
        },
        "required": ["label", "passed", "score", "reasons", "note"],
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "j", "schema": schema, "strict": True}}
    yes = json.loads(
        client.chat.completions.create(
            model="m", messages=user("The answer: 5-7 days."), response_format=fmt
        )
        .choices[0]
        .message.content
    )
    no = json.loads(
        client.chat.completions.create(
            model="m", messages=user("The answer: I don't know."), response_format=fmt
        )
        .choices[0]
        .message.content
    )
    assert yes == {
        "label": "pass",
        "passed": True,
        "score": 5,
        "note": "local",
        "reasons": ["The response addresses the request using the information it was given."],
    }
    assert (no["label"], no["passed"], no["score"]) == ("fail", False, 1)


def test_json_object_mode_and_malformed_answers(client: openai.OpenAI, llm: LocalLLM) -> None:
    fmt = {"type": "json_object"}
    llm.malformed_next(1)
    plain = client.chat.completions.create(model="m", messages=user(REFUND))  # not JSON mode
    broken = client.chat.completions.create(model="m", messages=user("x"), response_format=fmt)
    fixed = client.chat.completions.create(model="m", messages=user("x"), response_format=fmt)
    assert "30 days" in plain.choices[0].message.content
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.choices[0].message.content)
    assert json.loads(fixed.choices[0].message.content)["result"] == "yes"


def test_system_prompt_mentioning_dont_know_does_not_flip_the_verdict(
    client: openai.OpenAI,
) -> None:
    r = client.chat.completions.parse(
        model="m",
        response_format=Verdict,
        messages=[
            {"role": "system", "content": "Answer no if the response says I don't know."},
            {"role": "user", "content": "Response: Full refunds within 30 days."},
        ],
    )
    assert r.choices[0].message.parsed.result == "yes"


def test_responses_plain_streaming_and_parse(client: openai.OpenAI) -> None:
    r = client.responses.create(model="gpt-4o-mini", instructions="Be brief.", input=REFUND)
    assert "30 days" in r.output_text and r.status == "completed"
    assert r.usage.input_tokens == 2 + len(REFUND.split())
    assert r.usage.output_tokens == len(r.output_text.split())
    events = list(
        client.responses.create(
            model="gpt-4o-mini",
            stream=True,
            input=[{"role": "user", "content": [{"type": "input_text", "text": REFUND}]}],
        )
    )
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed" and "response.output_text.done" in types
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == events[-1].response.output_text == r.output_text
    assert [e.sequence_number for e in events] == list(range(len(events)))
    short = client.responses.create(model="m", input=REFUND, max_output_tokens=2)
    assert (short.status, short.incomplete_details.reason) == ("incomplete", "max_output_tokens")
    assert short.output_text == " ".join(r.output_text.split()[:2])
    cut = list(client.responses.create(model="m", input=REFUND, max_output_tokens=2, stream=True))
    assert cut[-1].type == "response.incomplete" and cut[-1].response.usage.output_tokens == 2
    parsed = client.responses.parse(model="m", input="Response: fine", text_format=Verdict)
    assert parsed.output_parsed.result == "yes"


def test_responses_stream_helper_of_the_sdk(client: openai.OpenAI) -> None:
    with client.responses.stream(model="m", input=REFUND) as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    assert "30 days" in final.output_text


def test_embeddings_are_deterministic_unit_vectors(client: openai.OpenAI) -> None:
    texts = ["full refunds within 30 days", "full refunds within 30 days", "express shipping"]
    base64_default = client.embeddings.create(model="text-embedding-3-small", input=texts)
    floats = client.embeddings.create(
        model="text-embedding-3-small", input=texts, encoding_format="float"
    )
    a, b, c = (d.embedding for d in floats.data)
    assert len(a) == EMBEDDING_DIM and a == b and a != c
    assert math.isclose(sum(x * x for x in a), 1.0, rel_tol=1e-6)
    assert all(
        math.isclose(x, y, abs_tol=1e-6) for x, y in zip(base64_default.data[0].embedding, a)
    )
    assert floats.usage.prompt_tokens == 5 + 5 + 2
    near = (
        client.embeddings.create(model="e", input="refunds within 30 days", encoding_format="float")
        .data[0]
        .embedding
    )
    assert sum(x * y for x, y in zip(a, near)) > sum(x * y for x, y in zip(a, c))
    assert (
        len(
            client.embeddings.create(model="e", input="x", dimensions=8, encoding_format="float")
            .data[0]
            .embedding
        )
        == 8
    )


def test_models_list(client: openai.OpenAI) -> None:
    assert "gpt-4o-mini" in [m.id for m in client.models.list()]


def test_fail_next_returns_the_error_then_recovers(client: openai.OpenAI, llm: LocalLLM) -> None:
    llm.fail_next(429, count=2, retry_after=0.25)
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as raised:
            client.chat.completions.create(model="m", messages=user("hi"))
        assert raised.value.response.headers["retry-after"] == "0.25"
        assert raised.value.body["type"] == "rate_limit_error"
    assert client.chat.completions.create(model="m", messages=user("hi")).choices
    llm.fail_next(500, body={"error": {"message": "custom boom", "type": "server_error"}})
    with pytest.raises(openai.InternalServerError, match="custom boom"):
        client.embeddings.create(model="e", input="x")
    with pytest.raises(ValueError, match="400-599"):
        llm.fail_next(200)


def test_openai_retries_honour_retry_after(llm: LocalLLM) -> None:
    retrying = openai.OpenAI(base_url=llm.base_url, api_key="sk-test", max_retries=2)
    llm.fail_next(429, count=2, retry_after=0.2)
    started = time.monotonic()
    assert retrying.chat.completions.create(model="m", messages=user("hi")).choices
    assert time.monotonic() - started >= 0.4


def test_bad_requests_get_typed_400s(client: openai.OpenAI, llm: LocalLLM) -> None:
    with pytest.raises(openai.BadRequestError, match="messages"):
        client.chat.completions.create(model="m", messages=[])
    with pytest.raises(openai.BadRequestError, match="model"):
        client.embeddings.create(model="", input="x")
    response = httpx.post(f"{llm.base_url}/chat/completions", content=b"{not json")
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]["message"]


def test_responder_overrides_the_answer(llm: LocalLLM, client: openai.OpenAI) -> None:
    seen: list[str] = []

    def responder(path: str, body: dict) -> dict | str | None:
        seen.append(path)
        if path.endswith("/embeddings"):
            return None
        if body.get("stream"):
            return "streamed custom words"
        return {
            "id": "chatcmpl-x",
            "object": "chat.completion",
            "created": 1,
            "model": "fixed",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "custom"},
                }
            ],
        }

    llm.responder = responder
    try:
        assert (
            client.chat.completions.create(model="m", messages=user("hi"))
            .choices[0]
            .message.content
            == "custom"
        )
        streamed = client.chat.completions.create(model="m", messages=user("hi"), stream=True)
        assert (
            "".join(c.choices[0].delta.content or "" for c in streamed) == "streamed custom words"
        )
        assert client.embeddings.create(model="e", input="x").data
    finally:
        llm.responder = None
    assert seen == ["/v1/chat/completions"] * 2 + ["/v1/embeddings"]


def test_latency_overlaps_across_concurrent_async_requests() -> None:
    with LocalLLM(latency_s=0.3) as slow:
        async_client = openai.AsyncOpenAI(base_url=slow.base_url, api_key="sk-test")

        async def burst() -> float:
            started = time.monotonic()
            await asyncio.gather(
                *[
                    async_client.chat.completions.create(model="m", messages=user(f"q{i}"))
                    for i in range(32)
                ]
            )
            return time.monotonic() - started

        elapsed = asyncio.run(burst())
    # serialised they would take 32 × 0.3 s; overlapping, one latency plus client overhead
    assert 0.3 <= elapsed < 2.0, elapsed


def test_async_streaming_chat_and_responses(llm: LocalLLM) -> None:
    async_client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="sk-test")

    async def run() -> tuple[str, str]:
        stream = await async_client.chat.completions.create(
            model="m", messages=user(REFUND), stream=True, stream_options={"include_usage": True}
        )
        chat = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        events = await async_client.responses.create(model="m", input=REFUND, stream=True)
        final = [e async for e in events][-1]
        return chat, final.response.output_text

    chat, responses = asyncio.run(run())
    assert "30 days" in chat and chat == responses


def test_stop_frees_the_port_and_start_is_idempotent() -> None:
    server = LocalLLM()
    assert server.start() is server.start()
    port = server.port
    server.stop()
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)
    again = LocalLLM(port=port).start()  # the port can be bound again right away
    try:
        assert httpx.get(f"{again.base_url}/models").status_code == 200
    finally:
        again.stop()


def test_command_line_serves_until_terminated() -> None:
    with LocalLLM() as probe:  # find a free port, then release it for the child
        port = probe.port
    process = subprocess.Popen(
        [sys.executable, "-m", "spyglass.local_llm", "--port", str(port), "--latency-ms", "50"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/v1" in banner and "50 ms" in banner
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test")
        started = time.monotonic()
        assert (
            "30 days"
            in client.chat.completions.create(model="m", messages=user(REFUND))
            .choices[0]
            .message.content
        )
        assert time.monotonic() - started >= 0.05
    finally:
        process.terminate()
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert process.wait(timeout=10) in (0, -signal.SIGTERM)


def test_command_line_rejects_a_busy_port(llm: LocalLLM) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "spyglass.local_llm", "--port", str(llm.port)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1 and "choose another --port" in done.stderr
