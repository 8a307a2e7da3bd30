"""A small LLM app instrumented by a third-party OpenAI instrumentation (run as a process).

Usage: ``python interop_app.py openinference|openai-v2`` with the standard variables:
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_PROTOCOL`` (``grpc`` or
``http/protobuf``) for the official exporters, ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` for
the real ``openai`` client, and the instrumentation's own (``OTEL_SEMCONV_STABILITY_OPT_IN``,
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``). Each run is a fresh process because
the instrumentations read those settings once per process.

Under one ``app`` root span it makes a chat call, a streaming chat call (with usage), an
async chat call and an embeddings call, exports spans and log records, and prints what the
client saw as one JSON line: the trace id and, per call, the answer and token usage.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import openai
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

SYSTEM = "You answer in one sentence."
QUESTION = "What is the capital of France?"
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"


def exporters() -> tuple[Any, Any]:
    """The official OTLP span and log exporters for ``OTEL_EXPORTER_OTLP_PROTOCOL``; both
    read their endpoint from ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
    if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc") == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(insecure=True), OTLPLogExporter(insecure=True)
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpSpans,
    )

    return HttpSpans(), HttpLogs()


def instrument(
    library: str, tracer_provider: TracerProvider, logger_provider: LoggerProvider
) -> None:
    if library == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=tracer_provider)
    elif library == "openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor as V2

        V2().instrument(tracer_provider=tracer_provider, logger_provider=logger_provider)
    else:
        raise SystemExit(f"unknown library {library!r}; use openinference or openai-v2")


def calls() -> dict[str, Any]:
    client = openai.OpenAI()
    seen: dict[str, Any] = {}
    chat = client.chat.completions.create(model=MODEL, messages=MESSAGES)
    seen["chat"] = {
        "answer": chat.choices[0].message.content,
        "usage": [chat.usage.prompt_tokens, chat.usage.completion_tokens],
    }
    parts, usage = [], None
    for chunk in client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
        if chunk.usage:
            usage = [chunk.usage.prompt_tokens, chunk.usage.completion_tokens]
    seen["stream"] = {"answer": "".join(parts), "usage": usage}

    async def async_chat() -> Any:
        async with openai.AsyncOpenAI() as async_client:
            return await async_client.chat.completions.create(model=MODEL, messages=MESSAGES)

    answer = asyncio.run(async_chat())
    seen["async"] = {
        "answer": answer.choices[0].message.content,
        "usage": [answer.usage.prompt_tokens, answer.usage.completion_tokens],
    }
    embedding = client.embeddings.create(model=EMBEDDING_MODEL, input=QUESTION)
    seen["embedding"] = {"usage": [embedding.usage.prompt_tokens, None]}
    return seen


def main(library: str) -> None:
    resource = Resource.create({"service.name": f"interop-{library}"})
    span_exporter, log_exporter = exporters()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(log_exporter))
    instrument(library, tracer_provider, logger_provider)
    with tracer_provider.get_tracer("interop-app").start_as_current_span("app") as root:
        seen = calls()
        seen["trace_id"] = format(root.get_span_context().trace_id, "032x")
    # logs first, as their shorter default schedule usually makes them arrive first
    logger_provider.shutdown()
    tracer_provider.shutdown()
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
