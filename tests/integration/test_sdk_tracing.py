"""The in-app SDK against a real collector: spans made by @spyglass.trace / start_span are
exported by the official OTLP exporter, stored, and read back through the public API.

In-process tests configure the facade against a collector on loopback ports. Whatever
depends on the process-wide OTel state (the app's own global TracerProvider, sampling by the
provider Spyglass creates, interpreter exit) runs as a child process, like a real app.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

import spyglass
from spyglass import session
from spyglass.collector.server import Collector
from spyglass.errors import ConfigurationError

CHILD_TIMEOUT_S = 120
WARNING_TEXT = "Spyglass could not export spans"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("SPYGLASS_", "OTEL_")):
            monkeypatch.delenv(name)
    yield
    session._shutdown()


def configure(collector: Collector, **options: object) -> str:
    address = f"127.0.0.1:{collector.grpc_port}"
    session.configure(collector=address, **options)
    return address


@pytest.fixture
def sqlite_collector(start_collector: Callable[..., Collector], tmp_path: Path) -> Collector:
    return start_collector(f"sqlite:///{tmp_path / 'spyglass.db'}")


def run_child(
    script: str, cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a fresh interpreter (no SPYGLASS_*/OTEL_* variables but ``env``)."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("SPYGLASS_", "OTEL_"))}
    child_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=cwd,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )


def last_json_line(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- an app traced in this process ----------------------------------------------------------


class SupportBot:
    knowledge: ClassVar[dict[str, str]] = {"refund": "Full refunds within 30 days with receipt."}

    @spyglass.trace
    def answer(self, question: str, tone: str = "helpful") -> str:
        spyglass.update_current_trace(tags={"environment": "test"}, metadata={"user": "u-1"})
        context = self.retrieve(question)
        words = list(self.tokens(context))
        return self.generate(question, " ".join(words))

    def retrieve(self, question: str) -> str:
        with spyglass.start_span("retrieve", span_type="RETRIEVER") as span:
            span.set_inputs({"query": question})
            found = self.knowledge["refund"]
            span.set_outputs([found])
            return found

    @spyglass.trace(name="split_words", span_type="PARSER")
    def tokens(self, text: str):
        yield from text.split()[:3]

    @spyglass.trace(span_type="CHAT_MODEL", attributes={"model_hint": "local"})
    def generate(self, question: str, context: str) -> str:
        return f"{context} ({question})"

    @spyglass.trace
    def escalate(self, ticket: int) -> None:
        raise PermissionError(f"ticket {ticket} needs a human")


def test_traced_app_reads_back_right_after_the_calls(
    start_collector: Callable[..., Collector], store_url: str
) -> None:
    configure(start_collector(store_url))
    experiment = spyglass.set_experiment("SDK tracing")
    bot = SupportBot()
    answer = bot.answer("Can I get a refund?")
    with pytest.raises(PermissionError):
        bot.escalate(7)

    traces = spyglass.search_traces(return_type="list")  # no explicit flush: search does it
    assert len(traces) == 2
    by_root = {t.data._get_root_span().name: t for t in traces}
    ok, failed = by_root["answer"], by_root["escalate"]
    assert ok.info.experiment_id == experiment.experiment_id
    assert failed.info.experiment_id == experiment.experiment_id
    assert ok.info.tags["environment"] == "test"
    assert ok.info.trace_metadata["user"] == "u-1"

    spans = {s.name: s for s in ok.data.spans}
    assert set(spans) == {"answer", "retrieve", "split_words", "generate"}
    root = spans["answer"]
    assert root.parent_id is None
    assert root.inputs == {"question": "Can I get a refund?", "tone": "helpful"}
    assert root.outputs == answer
    for child in ("retrieve", "split_words", "generate"):
        assert spans[child].parent_id == root.span_id
    assert spans["retrieve"].span_type == "RETRIEVER"
    assert spans["retrieve"].inputs == {"query": "Can I get a refund?"}
    assert spans["retrieve"].outputs == ["Full refunds within 30 days with receipt."]
    assert spans["split_words"].span_type == "PARSER"
    assert spans["split_words"].outputs == ["Full", "refunds", "within"]
    assert spans["generate"].span_type == "CHAT_MODEL"
    assert spans["generate"].attributes["model_hint"] == "local"
    assert spans["generate"].inputs == {
        "question": "Can I get a refund?",
        "context": "Full refunds within",
    }

    error_span = failed.data._get_root_span()
    assert error_span.status == "ERROR"
    assert error_span.inputs == {"ticket": 7}
    assert any(e["name"] == "exception" for e in error_span.events)
    same = spyglass.get_trace(failed.info.trace_id)
    assert same.data._get_root_span().status_message == "PermissionError: ticket 7 needs a human"


def test_capture_content_off_keeps_structure_only(sqlite_collector: Collector) -> None:
    configure(sqlite_collector, capture_content=False)
    spyglass.set_experiment("no content")
    SupportBot().answer("secret question")
    (trace,) = spyglass.search_traces(return_type="list")
    assert {s.name for s in trace.data.spans} == {"answer", "retrieve", "split_words", "generate"}
    for span in trace.data.spans:
        assert span.inputs is None and span.outputs is None
        assert "secret" not in json.dumps(span.attributes)
    assert {s.name: s.span_type for s in trace.data.spans}["retrieve"] == "RETRIEVER"


def test_configure_again_retargets_export(
    start_collector: Callable[..., Collector], tmp_path: Path
) -> None:
    first = start_collector(f"sqlite:///{tmp_path / 'a.db'}")
    second = start_collector(f"sqlite:///{tmp_path / 'b.db'}")

    @spyglass.trace
    def step(where: str) -> str:
        return where

    address = configure(first)
    spyglass.set_experiment("retarget")
    step("first")
    with pytest.raises(ConfigurationError, match="sampling_ratio=2"):
        session.configure(collector="127.0.0.1:1", sampling_ratio=2)
    assert session.client().address == address  # a rejected configure changes nothing
    configure(second)
    spyglass.set_experiment("retarget")
    step("second")
    assert [t.data._get_root_span().inputs for t in spyglass.search_traces(return_type="list")] == [
        {"where": "second"}
    ]
    configure(first)
    spyglass.set_experiment("retarget")
    assert [t.data._get_root_span().inputs for t in spyglass.search_traces(return_type="list")] == [
        {"where": "first"}
    ]


def test_standard_otel_exporter_variables_win(
    start_collector: Callable[..., Collector], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = start_collector(f"sqlite:///{tmp_path / 'configured.db'}")
    gateway = start_collector(f"sqlite:///{tmp_path / 'gateway.db'}", api_keys=("k1",))
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
    monkeypatch.setenv(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"http://127.0.0.1:{gateway.http_port}/v1/traces"
    )
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "authorization=Bearer k1")
    configure(configured)

    @spyglass.trace
    def via_gateway() -> int:
        return 1

    via_gateway()
    assert spyglass.flush(10)
    assert spyglass.search_traces(experiment_ids=["0"], return_type="list") == []
    session.configure(collector=f"127.0.0.1:{gateway.grpc_port}", api_key="k1")
    (trace,) = spyglass.search_traces(experiment_ids=["0"], return_type="list")
    assert trace.data._get_root_span().name == "via_gateway"


# --- apps in their own process ----------------------------------------------------------------


def test_app_with_its_own_provider_keeps_its_exporter(
    sqlite_collector: Collector, tmp_path: Path
) -> None:
    address = f"127.0.0.1:{sqlite_collector.grpc_port}"
    result = run_child(
        """
        import json, sys
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
            InMemorySpanExporter)

        mine = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(mine))
        trace.set_tracer_provider(provider)

        import spyglass
        spyglass.configure(collector=sys.argv[1])
        experiment = spyglass.set_experiment("own provider")
        app_tracer = trace.get_tracer("the.app")

        @spyglass.trace
        def handle(question):
            with app_tracer.start_as_current_span("db_query") as span:
                span.set_attribute("db.rows", 3)
            return question.upper()

        with app_tracer.start_as_current_span("request") as request:
            handle("hi")
        spyglass.flush()
        print(json.dumps({
            "mine": sorted(s.name for s in mine.get_finished_spans()),
            "provider_kept": trace.get_tracer_provider() is provider,
            "trace_id": format(request.get_span_context().trace_id, "032x"),
            "experiment_id": experiment.experiment_id}))
    """,
        tmp_path,
        address,
    )
    facts = last_json_line(result)
    assert facts["provider_kept"] is True
    assert facts["mine"] == ["db_query", "handle", "request"]  # its exporter got them all
    session.configure(collector=address)
    trace = spyglass.get_trace(facts["trace_id"])
    assert trace.info.experiment_id == facts["experiment_id"]
    spans = {s.name: s for s in trace.data.spans}
    assert set(spans) == {"request", "handle", "db_query"}
    assert spans["handle"].parent_id == spans["request"].span_id
    assert spans["db_query"].parent_id == spans["handle"].span_id
    assert spans["db_query"].attributes["db.rows"] == 3
    # a span of another instrumentation, started after Spyglass set up, is stamped too
    assert spans["db_query"].attributes["spyglass.experiment_id"] == facts["experiment_id"]
    assert spans["handle"].outputs == "HI"


def test_sampling_env_and_argument_and_service_name(
    sqlite_collector: Collector, tmp_path: Path
) -> None:
    address = f"127.0.0.1:{sqlite_collector.grpc_port}"
    result = run_child(
        """
        import json, sys
        import spyglass
        from spyglass.instrumentation import tracing

        @spyglass.trace
        def work(i):
            return i

        spyglass.configure(collector=sys.argv[1])
        work(-1)                  # OTEL_TRACES_SAMPLER=always_off: not recorded
        spyglass.configure(collector=sys.argv[1], sampling_ratio=1.0)
        work(-2)                  # the argument wins; no experiment: OTEL_SERVICE_NAME
        spyglass.configure(collector=sys.argv[1], sampling_ratio=0.0)
        spyglass.set_experiment("sampled")
        for i in range(20):
            work(i)               # none recorded
        spyglass.configure(collector=sys.argv[1], sampling_ratio=1.0)
        spyglass.set_experiment("sampled")
        work(99)
        spyglass.flush()
        print(json.dumps({"exported": tracing.stats().exported}))
    """,
        tmp_path,
        address,
        env={"OTEL_SERVICE_NAME": "billing-service", "OTEL_TRACES_SAMPLER": "always_off"},
    )
    assert last_json_line(result) == {"exported": 2}
    session.configure(collector=address)
    sampled = spyglass.get_experiment_by_name("sampled")
    traces = spyglass.search_traces(experiment_ids=[sampled.experiment_id], return_type="list")
    assert [t.data._get_root_span().inputs for t in traces] == [{"i": 99}]
    service = spyglass.get_experiment_by_name("billing-service")
    assert service is not None
    (routed,) = spyglass.search_traces(experiment_ids=[service.experiment_id], return_type="list")
    assert routed.data._get_root_span().inputs == {"i": -2}


def test_unreachable_collector_one_warning_app_unaffected_quick_exit(tmp_path: Path) -> None:
    from processes import free_port

    result = run_child(
        """
        import json, time
        import spyglass

        @spyglass.trace
        def inner(i):
            return i * 2

        @spyglass.trace
        def outer(i):
            return inner(i) + 1

        total = sum(outer(i) for i in range(3000))
        print(json.dumps({"total": total, "calls_done": time.time()}), flush=True)
    """,
        tmp_path,
        env={"SPYGLASS_COLLECTOR": f"127.0.0.1:{free_port()}"},
    )
    exited = time.time()
    facts = last_json_line(result)
    assert facts["total"] == sum(2 * i + 1 for i in range(3000))
    assert exited - facts["calls_done"] < 3.0, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]  # one warning
    assert line.startswith(WARNING_TEXT) and "UNAVAILABLE" in line


def test_spans_pending_at_exit_reach_the_embedded_collector(
    tmp_path: Path, start_collector
) -> None:
    store = f"sqlite:///{tmp_path / 'embedded.db'}"
    result = run_child(
        """
        import spyglass
        spyglass.set_experiment("exit flush")

        @spyglass.trace
        def step(i):
            return i

        for i in range(25):
            step(i)
    """,
        tmp_path,
        env={"SPYGLASS_STORE": store},
    )
    assert result.returncode == 0, result.stderr
    assert WARNING_TEXT not in result.stderr
    configure(start_collector(store))
    experiment = spyglass.get_experiment_by_name("exit flush")
    traces = spyglass.search_traces(experiment_ids=[experiment.experiment_id], return_type="list")
    assert sorted(t.data._get_root_span().inputs["i"] for t in traces) == list(range(25))
