"""The trace path end to end on the embedded default: `make demo`.

Starts the real collector in-process on ./spyglass.db (SQLite, loopback ports the OS
picks), traces a small customer-support "LLM app" with the standard OpenTelemetry SDK and
the official OTLP exporters (gRPC and HTTP), and reads the stored traces back: canonical
GenAI fields, token totals and cost per trace.

No OpenAI key is needed: the app's model calls are simulated spans that carry the OTel
GenAI attributes a real instrumented call would.
"""

from __future__ import annotations

import json
import random

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

from spyglass.collector.server import Collector
from spyglass.collector.store.queries import recent_traces
from spyglass.config import CollectorSettings

KNOWLEDGE = {"refund": "Full refunds within 30 days with receipt.",
             "shipping": "Standard: 5-7 days. Express available.",
             "warranty": "1-year manufacturer warranty included."}
QUESTIONS = ["How do I get a refund?", "How long does shipping take?",
             "Is there a warranty?", "Can I pay with crypto?"]


def answer(tracer, question: str) -> str:  # type: ignore[no-untyped-def]
    """One traced request: retrieve context, call the (simulated) model, return the answer."""
    with tracer.start_as_current_span("answer") as root:
        root.set_attribute("openinference.span.kind", "CHAIN")
        root.set_attribute("input.value", json.dumps({"question": question}))
        root.set_attribute("input.mime_type", "application/json")
        with tracer.start_as_current_span("get_context") as span:
            span.set_attribute("openinference.span.kind", "RETRIEVER")
            topic = next((k for k in KNOWLEDGE if k in question.lower()), None)
            context = KNOWLEDGE.get(topic or "", "")
            span.set_attribute("output.value", context or "(nothing found)")
        with tracer.start_as_current_span("chat gpt-4o-mini") as llm:
            reply = f"{context} Anything else I can help with?" if context else \
                "Sorry, I don't know that one."
            messages = [{"role": "user", "parts": [{"type": "text", "content": question}]}]
            llm.set_attributes({
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini", "gen_ai.request.temperature": 0.3,
                "gen_ai.usage.input_tokens": random.randint(40, 120),
                "gen_ai.usage.output_tokens": random.randint(10, 60),
                "gen_ai.input.messages": json.dumps(messages),
                "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [
                    {"type": "text", "content": reply}], "finish_reason": "stop"}]),
            })
        if not context:
            root.set_status(Status(StatusCode.ERROR, "no context for this question"))
        root.set_attribute("output.value", reply)
        return reply


def main() -> None:
    settings = CollectorSettings.load(grpc_port=0, http_port=0, decode_workers=0)
    collector = Collector(settings).start_background()
    print(f"collector: store {settings.store}, OTLP/gRPC 127.0.0.1:{collector.grpc_port}, "
          f"OTLP/HTTP 127.0.0.1:{collector.http_port}")
    exporters = {
        "grpc": GrpcExporter(endpoint=f"127.0.0.1:{collector.grpc_port}", insecure=True),
        "http": HttpExporter(endpoint=f"http://127.0.0.1:{collector.http_port}/v1/traces"),
    }
    for protocol, exporter in exporters.items():
        provider = TracerProvider(resource=Resource.create({"service.name": "support-bot-demo"}))
        provider.add_span_processor(BatchSpanProcessor(exporter))
        tracer = provider.get_tracer("spyglass.examples.demo")
        for question in QUESTIONS[:2] if protocol == "grpc" else QUESTIONS[2:]:
            answer(tracer, question)
        provider.shutdown()  # flushes: returns once the collector acknowledged (= committed)
        print(f"sent 2 traces over OTLP/{protocol}")

    print(f"\n{'trace id':<34}{'experiment':<18}{'root':<9}{'status':<8}{'spans':>6}"
          f"{'tokens':>8}{'cost $':>11}{'ms':>8}")
    for t in recent_traces(collector.engine, limit=8):  # type: ignore[arg-type]
        print(f"{t.trace_id:<34}{t.experiment:<18}{t.name or '-':<9}{t.status:<8}"
              f"{t.span_count:>6}{t.total_tokens:>8}{t.cost:>11.6f}{t.duration_ms or 0:>8.1f}")
    collector.stop_background()
    print("\nThe traces are in ./spyglass.db; run `make demo` again to add more.")


if __name__ == "__main__":
    main()
