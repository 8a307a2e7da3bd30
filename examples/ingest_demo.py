"""The trace path end to end on the embedded default: `make demo`.

`spyglass.configure()` starts the real collector in-process on ./spyglass.db (SQLite,
loopback ports the OS picks). A small customer-support "LLM app" is traced with the
standard OpenTelemetry SDK and the official OTLP exporters (gRPC and HTTP), and the traces
are read back through the query API: canonical GenAI fields, token totals and cost.

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

import spyglass
from spyglass import session

KNOWLEDGE = {
    "refund": "Full refunds within 30 days with receipt.",
    "shipping": "Standard: 5-7 days. Express available.",
    "warranty": "1-year manufacturer warranty included.",
}
QUESTIONS = [
    "How do I get a refund?",
    "How long does shipping take?",
    "Is there a warranty?",
    "Can I pay with crypto?",
]


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
            reply = (
                f"{context} Anything else I can help with?"
                if context
                else "Sorry, I don't know that one."
            )
            messages = [{"role": "user", "parts": [{"type": "text", "content": question}]}]
            llm.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.request.temperature": 0.3,
                    "gen_ai.usage.input_tokens": random.randint(40, 120),
                    "gen_ai.usage.output_tokens": random.randint(10, 60),
                    "gen_ai.input.messages": json.dumps(messages),
                    "gen_ai.output.messages": json.dumps(
                        [
                            {
                                "role": "assistant",
                                "parts": [{"type": "text", "content": reply}],
                                "finish_reason": "stop",
                            }
                        ]
                    ),
                }
            )
        if not context:
            root.set_status(Status(StatusCode.ERROR, "no context for this question"))
        root.set_attribute("output.value", reply)
        return reply


def main() -> None:
    spyglass.configure()  # embedded: the collector runs in this process over ./spyglass.db
    experiment = spyglass.set_experiment("support-bot-demo")
    collector = session.embedded_collector()
    print(
        f"collector: OTLP/gRPC 127.0.0.1:{collector.grpc_port}, "
        f"OTLP/HTTP 127.0.0.1:{collector.http_port}, store {collector.settings.store}"
    )
    exporters = {
        "grpc": GrpcExporter(endpoint=f"127.0.0.1:{collector.grpc_port}", insecure=True),
        "http": HttpExporter(endpoint=f"http://127.0.0.1:{collector.http_port}/v1/traces"),
    }
    for protocol, exporter in exporters.items():
        provider = TracerProvider(resource=Resource.create({"service.name": experiment.name}))
        provider.add_span_processor(BatchSpanProcessor(exporter))
        tracer = provider.get_tracer("spyglass.examples.demo")
        for question in QUESTIONS[:2] if protocol == "grpc" else QUESTIONS[2:]:
            answer(tracer, question)
        provider.shutdown()  # flushes: returns once the collector acknowledged (= committed)
        print(f"sent 2 traces over OTLP/{protocol}")

    frame = spyglass.search_traces(
        max_results=8,
        extract_fields=[
            "span.inputs.question",
            "span.`chat gpt-4o-mini`.attributes.gen_ai.usage.input_tokens",
        ],
    )
    print(f"\n{len(frame)} newest traces of experiment {experiment.name!r}:")
    print(
        frame[
            [
                "trace_id",
                "state",
                "execution_duration",
                "span.inputs.question",
                "span.`chat gpt-4o-mini`.attributes.gen_ai.usage.input_tokens",
            ]
        ].to_string(index=False)
    )
    refunds = spyglass.search_traces(filter_string="trace.text LIKE '%refund%'", return_type="list")
    for trace in refunds:
        spyglass.log_expectation(
            trace_id=trace.info.trace_id,
            name="key_information",
            value={"must_mention": ["30 days", "receipt"]},
        )
    errors = spyglass.search_traces(filter_string="attributes.status = 'ERROR'")
    print(
        f"\nlogged an expectation on {len(refunds)} refund trace(s); "
        f"{len(errors)} trace(s) in the experiment ended in ERROR"
    )
    print("\nThe traces are in ./spyglass.db; run `make demo` again to add more.")


if __name__ == "__main__":
    main()
