"""The benchmarks' synthetic GenAI workload: OTLP requests of realistic LLM-app traces.

Each trace has 10 spans (an agent root, retrieval, tool and chat-model spans) whose
attributes follow the OTel GenAI and OpenInference conventions, with JSON inputs/outputs,
about 1.4 KB per span serialised.
"""

from __future__ import annotations

import json
import os
import random
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

SPANS_PER_TRACE = 10
_WORDS = [
    "refund",
    "shipping",
    "warranty",
    "order",
    "invoice",
    "account",
    "password",
    "delivery",
    "tracking",
    "return",
    "exchange",
    "policy",
    "receipt",
    "support",
    "customer",
    "premium",
    "express",
]


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def _llm_attributes(rng: random.Random) -> list[KeyValue]:
    messages = [
        {"role": "system", "parts": [{"type": "text", "content": _text(rng, 12)}]},
        {"role": "user", "parts": [{"type": "text", "content": _text(rng, 40)}]},
    ]
    output = [
        {
            "role": "assistant",
            "finish_reason": "stop",
            "parts": [{"type": "text", "content": _text(rng, 60)}],
        }
    ]
    return [
        _kv("gen_ai.operation.name", "chat"),
        _kv("gen_ai.provider.name", "openai"),
        _kv("gen_ai.request.model", "gpt-4o-mini"),
        _kv("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
        _kv("gen_ai.request.temperature", 0.3),
        _kv("gen_ai.request.max_tokens", 512),
        _kv("gen_ai.usage.input_tokens", rng.randint(50, 900)),
        _kv("gen_ai.usage.output_tokens", rng.randint(20, 400)),
        _kv("gen_ai.response.id", f"chatcmpl-{rng.getrandbits(64):x}"),
        _kv("gen_ai.response.finish_reasons", "stop"),
        _kv("gen_ai.input.messages", json.dumps(messages)),
        _kv("gen_ai.output.messages", json.dumps(output)),
        _kv("server.address", "api.openai.com"),
    ]


def _chain_attributes(rng: random.Random, kind: str) -> list[KeyValue]:
    inputs = {
        "question": _text(rng, 25),
        "session": f"s-{rng.randint(1, 500)}",
        "options": {"top_k": 5, "rerank": True},
    }
    outputs = {"answer": _text(rng, 45), "sources": [_text(rng, 4) for _ in range(3)]}
    return [
        _kv("openinference.span.kind", kind),
        _kv("input.value", json.dumps(inputs)),
        _kv("input.mime_type", "application/json"),
        _kv("output.value", json.dumps(outputs)),
        _kv("output.mime_type", "application/json"),
        _kv("session.id", inputs["session"]),
        _kv("user.id", f"u-{rng.randint(1, 200)}"),
        _kv("app.version", "1.4.2"),
        _kv("deployment.region", "eu-west-1"),
    ]


_KINDS = ("AGENT", "RETRIEVER", "TOOL", "LLM", "CHAIN", "LLM", "TOOL", "LLM", "RETRIEVER", "LLM")


def build_trace(rng: random.Random, start_ns: int) -> list[Span]:
    trace_id = rng.randbytes(16)
    ids = [rng.randbytes(8) for _ in range(SPANS_PER_TRACE)]
    spans = []
    for i, kind in enumerate(_KINDS):
        attrs = _llm_attributes(rng) if kind == "LLM" else _chain_attributes(rng, kind)
        begin = start_ns + i * 1_000_000
        spans.append(
            Span(
                trace_id=trace_id,
                span_id=ids[i],
                parent_span_id=b"" if i == 0 else ids[0],
                name=f"{kind.lower()}-{i}",
                kind=Span.SPAN_KIND_INTERNAL if i else Span.SPAN_KIND_SERVER,
                start_time_unix_nano=begin,
                end_time_unix_nano=begin + rng.randint(1, 900) * 1_000_000,
                attributes=attrs,
            )
        )
    return spans


def build_requests(n_requests: int, traces_per_request: int = 50, seed: int = 7) -> list[bytes]:
    """``n_requests`` serialised ExportTraceServiceRequests of ``traces_per_request`` traces."""
    rng = random.Random(seed ^ os.getpid())
    start = time.time_ns()
    out = []
    for _ in range(n_requests):
        spans = [s for _ in range(traces_per_request) for s in build_trace(rng, start)]
        request = ExportTraceServiceRequest(
            resource_spans=[
                ResourceSpans(
                    resource={
                        "attributes": [
                            _kv("service.name", "bench-app"),
                            _kv("telemetry.sdk.language", "python"),
                        ]
                    },
                    scope_spans=[
                        ScopeSpans(scope={"name": "bench", "version": "1.0"}, spans=spans)
                    ],
                )
            ]
        )
        out.append(request.SerializeToString())
    return out
