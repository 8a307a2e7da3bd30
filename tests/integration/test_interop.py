"""Third-party OpenAI instrumentations, exported by the official OTLP exporters to a real
collector, come out with the right canonical fields.

An app process (``interop_app.py``) drives the real ``openai`` client against the local
OpenAI-compatible server (``spyglass.local_llm``): a chat call, a streaming chat call with
usage, an async chat call and an embeddings call under one ``app`` span. It is instrumented
by ``openinference-instrumentation-openai`` or by ``opentelemetry-instrumentation-openai-v2``
in each of its content modes:

* the default conventions, content in log events (``gen_ai.*.message``, ``gen_ai.choice``)
  with ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``, and the same events
  without bodies when content capture is off;
* ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` with content on the span
  (``span_only``), in a ``gen_ai.client.inference.operation.details`` event (``event_only``),
  or not captured (``no_content``).

Each span read back through the public client must have the span type, model, provider,
token counts (those the client saw in ``usage``) and inputs/outputs (the messages sent and
the answer received) of its call, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from spyglass.client import SpyglassClient
from spyglass.collector.server import Collector
from spyglass.entities import Span, Trace
from spyglass.local_llm import LocalLLM

APP = Path(__file__).with_name("interop_app.py")
APP_TIMEOUT_S = 120
SYSTEM = "You answer in one sentence."
QUESTION = "What is the capital of France?"
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
MODEL, EMBEDDING_MODEL = "gpt-4o-mini", "text-embedding-3-small"
CHAT_CALLS = ("chat", "stream", "async")  # in the order the app makes them

LATEST = {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental"}
CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def _parts_message(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"content": text, "type": "text"}]}


LATEST_INPUTS = {"messages": [_parts_message(m["role"], m["content"]) for m in MESSAGES]}


def _latest_outputs(answer: str) -> dict[str, Any]:
    return {"messages": [{**_parts_message("assistant", answer), "finish_reason": "stop"}]}


def _choice(message: dict[str, Any]) -> dict[str, Any]:
    return {"choices": [{"index": 0, "finish_reason": "stop", "message": message}]}


def _whole(span: Span) -> Any:
    return span.inputs, span.outputs


def _openinference_view(span: Span) -> Any:
    """OpenInference keeps the request and response bodies: compare their essence."""
    assert span.inputs is not None and span.outputs is not None, span
    return span.inputs["messages"], span.outputs["choices"][0]["message"]["content"]


@dataclass(frozen=True)
class Mode:
    """An instrumentation and its settings, and what its chat spans must hold."""

    id: str
    library: str
    chat_type: str
    content: Callable[[Span], Any]  # the part of a chat span compared ...
    expected: Callable[[str], Any]  # ... with this, built from the answer the client saw
    env: Mapping[str, str] = field(default_factory=dict)
    protocol: str = "grpc"


MODES = [
    Mode(
        "openinference",
        "openinference",
        "LLM",
        _openinference_view,
        lambda answer: (MESSAGES, answer),
    ),
    Mode(
        "openinference-http",
        "openinference",
        "LLM",
        _openinference_view,
        lambda answer: (MESSAGES, answer),
        protocol="http",
    ),
    Mode(
        "openai-v2-events",
        "openai-v2",
        "CHAT_MODEL",
        _whole,
        lambda answer: ({"messages": MESSAGES}, _choice({"role": "assistant", "content": answer})),
        env={CAPTURE: "true"},
    ),
    Mode(
        "openai-v2-events-http",
        "openai-v2",
        "CHAT_MODEL",
        _whole,
        lambda answer: ({"messages": MESSAGES}, _choice({"role": "assistant", "content": answer})),
        env={CAPTURE: "true"},
        protocol="http",
    ),
    Mode(
        "openai-v2-events-no-content",
        "openai-v2",
        "CHAT_MODEL",
        _whole,
        lambda answer: (
            {"messages": [{"role": "system"}, {"role": "user"}]},
            _choice({"role": "assistant"}),
        ),
    ),
    Mode(
        "openai-v2-latest-span",
        "openai-v2",
        "CHAT_MODEL",
        _whole,
        lambda answer: (LATEST_INPUTS, _latest_outputs(answer)),
        env={**LATEST, CAPTURE: "span_only"},
    ),
    Mode(
        "openai-v2-latest-event",
        "openai-v2",
        "CHAT_MODEL",
        _whole,
        lambda answer: (LATEST_INPUTS, _latest_outputs(answer)),
        env={**LATEST, CAPTURE: "event_only"},
    ),
    Mode(
        "openai-v2-latest-no-content",
        "openai-v2",
        "CHAT_MODEL",
        _whole,
        lambda answer: (None, None),
        env={**LATEST, CAPTURE: "no_content"},
    ),
]


@pytest.fixture(scope="module")
def llm() -> Iterator[LocalLLM]:
    with LocalLLM() as server:
        yield server


def run_app(mode: Mode, collector: Collector, llm: LocalLLM) -> dict[str, Any]:
    """Run the instrumented app in its own process; what its client saw."""
    port = collector.grpc_port if mode.protocol == "grpc" else collector.http_port
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "OPENAI_"))
    }
    env.update(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc" if mode.protocol == "grpc" else "http/protobuf",
            "OPENAI_BASE_URL": llm.base_url,
            "OPENAI_API_KEY": "sk-local-test",
            **mode.env,
        }
    )
    done = subprocess.run(
        [sys.executable, str(APP), mode.library],
        env=env,
        capture_output=True,
        text=True,
        timeout=APP_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr
    assert "Failed to export" not in done.stderr, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def read_back(collector: Collector, trace_id: str) -> Trace:
    client = SpyglassClient(f"127.0.0.1:{collector.grpc_port}")
    try:
        return client.get_trace(trace_id)
    finally:
        client.close()


@pytest.mark.parametrize("mode", MODES, ids=[m.id for m in MODES])
def test_instrumented_openai_calls_have_canonical_fields(
    collector: Collector, llm: LocalLLM, mode: Mode
) -> None:
    seen = run_app(mode, collector, llm)
    trace = read_back(collector, seen["trace_id"])
    root = trace.data.root_span
    assert root is not None and root.name == "app"
    chats = sorted(
        (s for s in trace.data.spans if s.span_type == mode.chat_type),
        key=lambda s: s.start_time_ns,
    )
    assert len(chats) == len(CHAT_CALLS), [(s.name, s.span_type) for s in trace.data.spans]
    for call, span in zip(CHAT_CALLS, chats):
        client_saw = seen[call]
        assert span.parent_id == root.span_id
        assert (span.model, span.provider) == (MODEL, "openai"), (call, span)
        assert [span.input_tokens, span.output_tokens] == client_saw["usage"], call
        assert span.total_tokens == sum(client_saw["usage"]), call
        assert mode.content(span) == mode.expected(client_saw["answer"]), call
    [embedding] = [s for s in trace.data.spans if s.span_type == "EMBEDDING"]
    assert (embedding.model, embedding.provider) == (EMBEDDING_MODEL, "openai")
    assert embedding.input_tokens == seen["embedding"]["usage"][0]
    assert embedding.total_tokens == seen["embedding"]["usage"][0]
    expected_total = (
        sum(sum(seen[call]["usage"]) for call in CHAT_CALLS) + seen["embedding"]["usage"][0]
    )
    assert trace.info.total_tokens == expected_total
    assert trace.info.span_count == len(CHAT_CALLS) + 2
