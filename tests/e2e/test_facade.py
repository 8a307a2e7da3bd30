"""The public API end to end: spans sent with the official OTLP exporter reach the
collector, come back through search_traces / get_trace, and get annotated."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import spyglass
from spyglass.errors import InvalidFilterError, NotFoundError
from spyglass.search import COLUMNS

QUESTIONS = ["How do I get a refund?", "How long is shipping?", "Is there a warranty?"]


def _send_traces(address: str, experiment_id: str) -> list[str]:
    """Three traces of a support bot (root + LLM child), exported over OTLP/gRPC."""
    provider = TracerProvider(resource=Resource.create({"service.name": "unknown_service"}))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=address, insecure=True))
    )
    tracer = provider.get_tracer("tests")
    ids = []
    for question in QUESTIONS:
        with tracer.start_as_current_span("answer") as root:
            root.set_attribute("spyglass.experiment_id", experiment_id)
            root.set_attribute("spyglass.span.inputs", json.dumps({"question": question}))
            root.set_attribute("spyglass.span.outputs", json.dumps(f"re: {question}"))
            with tracer.start_as_current_span("chat") as llm:
                llm.set_attribute("spyglass.experiment_id", experiment_id)
                llm.set_attribute("gen_ai.operation.name", "chat")
                llm.set_attribute("gen_ai.request.model", "gpt-4o-mini")
                llm.set_attribute("gen_ai.usage.input_tokens", 30)
                llm.set_attribute(
                    "spyglass.span.inputs",
                    json.dumps({"messages": [{"role": "user", "content": question}]}),
                )
                llm.set_attribute(
                    "spyglass.span.outputs",
                    json.dumps({"choices": [{"message": {"content": "ok"}}]}),
                )
            ids.append(format(root.get_span_context().trace_id, "032x"))
    provider.shutdown()
    return ids


def test_experiments_and_search(spyglass_session: str) -> None:
    experiment = spyglass.set_experiment("Customer Support Bot")
    assert spyglass.set_experiment("Customer Support Bot").experiment_id == experiment.experiment_id
    assert spyglass.get_experiment_by_name("Customer Support Bot") == experiment
    assert spyglass.get_experiment_by_name("no such experiment") is None
    ids = _send_traces(spyglass_session, experiment.experiment_id)

    traces = spyglass.search_traces(max_results=10, return_type="list")
    assert [t.info.trace_id for t in traces] == ids[::-1]  # newest first
    root = traces[0].data._get_root_span()
    assert root is not None and root.inputs == {"question": QUESTIONS[-1]}
    assert traces[0].info.experiment_id == experiment.experiment_id
    assert traces[0].search_spans(span_type="CHAT_MODEL")[0].name == "chat"

    frame = spyglass.search_traces(
        extract_fields=[
            "span.inputs.question",
            "span.chat.inputs.messages",
            "span.chat.outputs.choices",
            "span.end_time",
            "span.attributes.nothing.here",
        ]
    )
    assert list(frame.columns) == [
        *COLUMNS,
        "span.inputs.question",
        "span.chat.inputs.messages",
        "span.chat.outputs.choices",
        "span.end_time",
        "span.attributes.nothing.here",
    ]
    assert list(frame["span.inputs.question"]) == QUESTIONS[::-1]
    assert frame["span.chat.outputs.choices"].iloc[0] == [{"message": {"content": "ok"}}]
    assert frame["span.attributes.nothing.here"].isna().all()
    assert frame["inputs"].iloc[0] == {"question": QUESTIONS[-1]}

    empty = spyglass.search_traces(
        filter_string="attributes.name = 'nope'", extract_fields=["span.inputs.question"]
    )
    assert isinstance(empty, pd.DataFrame) and len(empty) == 0
    assert list(empty.columns) == [*COLUMNS, "span.inputs.question"]

    with pytest.raises(InvalidFilterError, match=r"\^"):
        spyglass.search_traces(filter_string="tags.env = ")


def test_assessments_and_tags(spyglass_session: str) -> None:
    experiment = spyglass.set_experiment("annotations")
    ids = _send_traces(spyglass_session, experiment.experiment_id)
    values = [{"must_mention": ["30 days", "receipt"], "tone": "helpful"}, ["a", 1], "text"]
    for trace_id, value in zip(ids, values):
        spyglass.log_expectation(trace_id=trace_id, name="key_information", value=value)
    frame = spyglass.search_traces()
    by_id = dict(zip(frame["trace_id"], frame["expectations"]))
    assert [by_id[i] for i in ids] == [{"key_information": v} for v in values]

    good = spyglass.log_feedback(trace_id=ids[0], name="quality", value=0.9, rationale="fine")
    spyglass.log_feedback(trace_id=ids[1], name="quality", value=0.4)
    failed = spyglass.log_feedback(
        trace_id=ids[2], name="quality", error=ValueError("judge timed out")
    )
    assert failed.error is not None and failed.error.error_code == "ValueError"
    low = spyglass.search_traces(filter_string="feedback.quality < 0.7", return_type="list")
    assert [t.info.trace_id for t in low] == [ids[1]]

    new = spyglass.override_feedback(ids[0], good.assessment_id, 0.2, rationale="no")
    assert new.overrides == good.assessment_id
    assert spyglass.get_assessment(ids[0], good.assessment_id).valid is False
    low = spyglass.search_traces(filter_string="feedback.quality < 0.7", return_type="list")
    assert sorted(t.info.trace_id for t in low) == sorted([ids[0], ids[1]])

    updated = spyglass.update_assessment(
        ids[1],
        spyglass.search_traces(filter_string=f"trace.trace_id = '{ids[1]}'", return_type="list")[0]
        .info.assessments[-1]
        .assessment_id,
        value=0.95,
    )
    assert updated.value == 0.95

    spyglass.set_trace_tag(ids[2], "environment", "production")
    tagged = spyglass.search_traces(
        filter_string="tags.environment = 'production'", return_type="list"
    )
    assert [t.info.trace_id for t in tagged] == [ids[2]]
    spyglass.delete_trace_tag(ids[2], "environment")
    assert spyglass.get_trace(ids[2]).info.tags == {}

    assert spyglass.delete_traces(trace_ids=[ids[2]]) == 1
    with pytest.raises(NotFoundError):
        spyglass.get_trace(ids[2])
