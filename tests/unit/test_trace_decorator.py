"""@spyglass.trace on every callable kind, and the span API, recorded by an in-memory exporter.

The spans go through Spyglass's own export queue on a private TracerProvider (installed with
``tracing.install``), so what is checked is exactly what would be sent to a collector.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import spyglass
from spyglass import semconv
from spyglass.config import TracingSettings
from spyglass.errors import InvalidArgumentError
from spyglass.instrumentation import experiment, tracing
from spyglass.instrumentation.spans import begin_span

INPUTS, OUTPUTS, TYPE = semconv.SPAN_INPUTS, semconv.SPAN_OUTPUTS, semconv.SPAN_TYPE


@pytest.fixture
def provider() -> TracerProvider:
    return TracerProvider(shutdown_on_exit=False)


@pytest.fixture
def exporter(provider: TracerProvider) -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    tracing.install(memory, provider, schedule_delay_s=0.05)
    yield memory
    tracing.reset()


def finished(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    assert tracing.flush(5)
    return list(exporter.get_finished_spans())


def only(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    matches = [s for s in finished(exporter) if s.name == name]
    assert len(matches) == 1, [s.name for s in finished(exporter)]
    return matches[0]


def io(span: ReadableSpan) -> tuple[Any, Any]:
    attrs = span.attributes or {}
    return (
        json.loads(attrs[INPUTS]) if INPUTS in attrs else None,
        json.loads(attrs[OUTPUTS]) if OUTPUTS in attrs else None,
    )


# --- callable kinds -------------------------------------------------------------------------


def test_function_inputs_by_name_with_defaults_and_output(exporter: InMemorySpanExporter) -> None:
    @spyglass.trace
    def answer(question: str, style: str = "short", *, lang: str = "en") -> str:
        """Answer a question."""
        return f"{question}/{style}/{lang}"

    assert answer("why", lang="fr") == "why/short/fr"
    assert answer.__name__ == "answer" and answer.__doc__ == "Answer a question."
    assert list(inspect.signature(answer).parameters) == ["question", "style", "lang"]
    span = only(exporter, "answer")
    assert io(span) == ({"question": "why", "style": "short", "lang": "fr"}, "why/short/fr")
    assert span.status.status_code is StatusCode.UNSET
    assert TYPE not in span.attributes  # UNKNOWN is left for the collector to infer


def test_var_args_and_kwargs_are_kept_under_their_names(exporter: InMemorySpanExporter) -> None:
    @spyglass.trace
    def gather(first, *rest, **options):
        return len(rest) + len(options)

    assert gather(1, 2, 3, flag=True) == 3
    assert io(only(exporter, "gather"))[0] == {
        "first": 1,
        "rest": [2, 3],
        "options": {"flag": True},
    }


class Bot:
    greeting = "hi"

    @spyglass.trace
    def method(self, question: str) -> str:
        return f"{self.greeting} {question}"

    @spyglass.trace
    @staticmethod
    def static_above(x: int) -> int:
        return x + 1

    @staticmethod
    @spyglass.trace
    def static_below(x: int) -> int:
        return x + 2

    @spyglass.trace(name="class_above")
    @classmethod
    def class_above(cls, x: int) -> str:
        return f"{cls.greeting}{x}"

    @classmethod
    @spyglass.trace
    def class_below(cls, x: int) -> str:
        return f"{cls.greeting}{x}"


def test_methods_static_and_class_methods_in_either_order(exporter: InMemorySpanExporter) -> None:
    bot = Bot()
    assert bot.method("there") == "hi there"
    assert Bot.static_above(1) == 2 and bot.static_above(1) == 2
    assert Bot.static_below(1) == 3
    assert Bot.class_above(4) == "hi4" and bot.class_below(5) == "hi5"
    spans = {s.name: io(s) for s in finished(exporter)}
    assert spans == {
        "method": ({"question": "there"}, "hi there"),
        "static_above": ({"x": 1}, 2),
        "static_below": ({"x": 1}, 3),
        "class_above": ({"x": 4}, "hi4"),
        "class_below": ({"x": 5}, "hi5"),
    }
    assert isinstance(inspect.getattr_static(Bot, "static_above"), staticmethod)
    assert isinstance(inspect.getattr_static(Bot, "class_above"), classmethod)


def test_async_function_and_nesting(exporter: InMemorySpanExporter) -> None:
    @spyglass.trace(span_type="tool")
    async def lookup(key: str) -> str:
        await asyncio.sleep(0)
        return key.upper()

    @spyglass.trace(span_type="AGENT", attributes={"team": "support", "limits": [1, 2]})
    async def agent(question: str) -> list[str]:
        return list(await asyncio.gather(lookup("a"), lookup("b")))

    assert inspect.iscoroutinefunction(agent)
    assert asyncio.run(agent("q")) == ["A", "B"]
    spans = finished(exporter)
    root = next(s for s in spans if s.name == "agent")
    children = [s for s in spans if s.name == "lookup"]
    assert root.attributes[TYPE] == "AGENT" and root.attributes["team"] == "support"
    assert tuple(root.attributes["limits"]) == (1, 2)
    assert root.parent is None and len(children) == 2
    for child in children:
        assert child.parent.span_id == root.context.span_id
        assert child.context.trace_id == root.context.trace_id
        assert child.attributes[TYPE] == "TOOL"
    assert sorted(io(c)[1] for c in children) == ["A", "B"]


def test_generator_outputs_items_and_children_nest(exporter: InMemorySpanExporter) -> None:
    @spyglass.trace
    def leaf(i: int) -> int:
        return i * 10

    @spyglass.trace
    def numbers(n: int) -> Iterator[int]:
        for i in range(n):
            yield leaf(i)

    assert inspect.isgeneratorfunction(numbers)
    outside = otel_trace.get_current_span()
    gen = numbers(3)
    assert next(gen) == 0
    assert otel_trace.get_current_span() is outside  # not current between items
    assert list(gen) == [10, 20]
    spans = finished(exporter)
    root = next(s for s in spans if s.name == "numbers")
    assert io(root) == ({"n": 3}, [0, 10, 20])
    assert all(s.parent.span_id == root.context.span_id for s in spans if s.name == "leaf")


def test_generator_reducer_send_throw_and_early_close(exporter: InMemorySpanExporter) -> None:
    @spyglass.trace(output_reducer="".join)
    def letters():
        yield "a"
        yield "b"

    @spyglass.trace
    def echo():
        received = yield "ready"
        while True:
            try:
                received = yield f"got {received}"
            except KeyError:
                received = "recovered"

    assert list(letters()) == ["a", "b"]
    gen = echo()
    assert next(gen) == "ready"
    assert gen.send(1) == "got 1"
    assert gen.throw(KeyError("k")) == "got recovered"
    gen.close()
    spans = {s.name: s for s in finished(exporter)}
    assert io(spans["letters"])[1] == "ab"
    assert io(spans["echo"])[1] == ["ready", "got 1", "got recovered"]
    assert spans["echo"].status.status_code is StatusCode.UNSET


def test_async_generator_with_reducer_and_error(exporter: InMemorySpanExporter) -> None:
    @spyglass.trace(output_reducer=lambda chunks: "".join(chunks))
    async def stream(text: str):
        for word in text.split():
            await asyncio.sleep(0)
            yield word

    @spyglass.trace
    async def broken():
        yield 1
        raise RuntimeError("stream broke")

    async def main() -> tuple[list[str], list[int]]:
        words = [w async for w in stream("a b c")]
        got: list[int] = []
        with pytest.raises(RuntimeError, match="stream broke"):
            async for item in broken():
                got.append(item)
        return words, got

    assert asyncio.run(main()) == (["a", "b", "c"], [1])
    spans = {s.name: s for s in finished(exporter)}
    assert io(spans["stream"]) == ({"text": "a b c"}, "abc")
    assert spans["broken"].status.status_code is StatusCode.ERROR
    assert io(spans["broken"])[1] is None


def test_exception_marks_error_and_is_reraised_unchanged(exporter: InMemorySpanExporter) -> None:
    problem = ValueError("bad question")

    @spyglass.trace
    def fails(question: str) -> None:
        raise problem

    with pytest.raises(ValueError) as caught:
        fails("q")
    assert caught.value is problem
    assert caught.traceback[-1].name == "fails"  # the original frames are kept
    span = only(exporter, "fails")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError: bad question"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "bad question"
    assert io(span) == ({"question": "q"}, None)


def test_non_serialisable_arguments_become_readable(exporter: InMemorySpanExporter) -> None:
    class Session:
        def __init__(self) -> None:
            self.user = "ada"

    cyclic: list[Any] = []
    cyclic.append(cyclic)

    @spyglass.trace
    def handle(session: Session, tags: set, blob: bytes, loop: list) -> object:
        return object()

    handle(Session(), {"x"}, b"\x00\xff", cyclic)
    inputs, outputs = io(only(exporter, "handle"))
    assert inputs == {
        "session": "Session(user='ada')",
        "tags": ["x"],
        "blob": "base64:AP8=",
        "loop": ["<cycle: list>"],
    }
    assert outputs.startswith("<object object at")


def test_capture_content_off_records_structure_only(provider: TracerProvider) -> None:
    memory = InMemorySpanExporter()
    tracing.install(memory, provider, settings=TracingSettings.load(env={}, capture_content=False))
    try:

        @spyglass.trace(span_type="CHAIN")
        def secret(password: str) -> str:
            with spyglass.start_span("inner") as span:
                span.set_inputs({"password": password})
                span.set_outputs("hunter2")
            return password

        assert secret("hunter2") == "hunter2"
        assert tracing.capture_content() is False
        spans = finished(memory)
        assert {s.name for s in spans} == {"secret", "inner"}
        for span in spans:
            assert INPUTS not in span.attributes and OUTPUTS not in span.attributes
            assert "hunter2" not in json.dumps(dict(span.attributes))
        assert next(s for s in spans if s.name == "secret").attributes[TYPE] == "CHAIN"
    finally:
        tracing.reset()


def test_bad_decorator_arguments_are_typed_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="span_type"):
        spyglass.trace(span_type=3)
    with pytest.raises(InvalidArgumentError, match="output_reducer"):
        spyglass.trace(output_reducer="not callable")
    with pytest.raises(InvalidArgumentError, match="name"):
        spyglass.trace(name="")
    with pytest.raises(InvalidArgumentError, match="attributes"):
        spyglass.trace(attributes=["a"])
    with pytest.raises(InvalidArgumentError, match="not int"):
        spyglass.trace(42)


# --- the span API ---------------------------------------------------------------------------


def test_start_span_records_everything_and_is_current(exporter: InMemorySpanExporter) -> None:
    assert spyglass.get_current_active_span() is None
    with spyglass.start_span("retrieve", span_type="retriever", attributes={"k": 3}) as span:
        current = spyglass.get_current_active_span()
        assert current is not None and current.span_id == span.span_id
        assert len(span.trace_id) == 32 and len(span.span_id) == 16
        span.set_inputs({"query": "refund"})
        span.set_outputs([{"doc": "Full refunds within 30 days."}])
        span.set_attribute("score", 0.9)
        span.set_attribute("ignored", None)
        span.set_attributes({"source": "kb", "meta": {"a": 1}})
        span.add_event("cache_miss", {"key": "refund", "detail": {"n": 1}})
        span.set_span_type("reranker")
    assert spyglass.get_current_active_span() is None
    recorded = only(exporter, "retrieve")
    assert io(recorded) == ({"query": "refund"}, [{"doc": "Full refunds within 30 days."}])
    attrs = recorded.attributes
    assert attrs["k"] == 3 and attrs["score"] == 0.9 and attrs["source"] == "kb"
    assert attrs["meta"] == '{"a":1}' and "ignored" not in attrs
    assert attrs[TYPE] == "RERANKER"
    (event,) = recorded.events
    assert event.name == "cache_miss" and dict(event.attributes) == {
        "key": "refund",
        "detail": '{"n":1}',
    }
    assert format(recorded.context.span_id, "016x") == span.span_id


def test_start_span_error_and_async_with(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(KeyError), spyglass.start_span("failing"):
        raise KeyError("missing")

    async def use() -> None:
        async with spyglass.start_span("async_block") as span:
            span.set_outputs(1)

    asyncio.run(use())
    spans = {s.name: s for s in finished(exporter)}
    assert spans["failing"].status.status_code is StatusCode.ERROR
    assert spans["failing"].events[0].attributes["exception.type"] == "KeyError"
    assert io(spans["async_block"])[1] == 1


def test_begin_span_is_not_current_and_takes_a_parent(exporter: InMemorySpanExporter) -> None:
    with spyglass.start_span("request") as request:
        stream = begin_span("stream", span_type="CHAT_MODEL")
        assert spyglass.get_current_active_span().span_id == request.span_id
        orphan_child = begin_span("late", parent=stream)
    orphan_child.end()
    stream.set_outputs("done")
    stream.end(RuntimeError("cut off"))
    with pytest.raises(InvalidArgumentError, match="parent"):
        begin_span("x", parent="not a span")
    spans = {s.name: s for s in finished(exporter)}
    assert spans["stream"].parent.span_id == spans["request"].context.span_id
    assert spans["late"].parent.span_id == spans["stream"].context.span_id
    assert spans["stream"].status.status_code is StatusCode.ERROR
    assert spans["stream"].attributes[TYPE] == "CHAT_MODEL"


def test_update_current_trace_merges_tags_and_metadata(
    exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    @spyglass.trace
    def handler() -> None:
        spyglass.update_current_trace(tags={"env": "dev"}, metadata={"user": "u1"})
        spyglass.update_current_trace(tags={"quality": 0.5})
        with pytest.raises(InvalidArgumentError, match="tags"):
            spyglass.update_current_trace(tags=["env"])

    handler()
    attrs = only(exporter, "handler").attributes
    assert json.loads(attrs[semconv.TRACE_TAGS]) == {"env": "dev", "quality": 0.5}
    assert json.loads(attrs[semconv.TRACE_METADATA]) == {"user": "u1"}
    with caplog.at_level(logging.WARNING, logger="spyglass.instrumentation"):
        spyglass.update_current_trace(tags={"x": "y"})  # outside any span: no exception
    assert "outside any span" in caplog.text


def test_update_current_trace_sets_the_session_and_user_the_collector_reads(
    exporter: InMemorySpanExporter,
) -> None:
    from spyglass.collector.genai.normalize import normalize

    @spyglass.trace
    def turn() -> None:
        with spyglass.start_span("retrieve"):
            spyglass.update_current_trace(session_id="chat-7", user_id="u-1")
        spyglass.update_current_trace(session_id="chat-7", tags={"env": "dev"})
        for bad in ("", "  ", 7, "x" * 257):
            with pytest.raises(InvalidArgumentError, match="session_id"):
                spyglass.update_current_trace(session_id=bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="user_id"):
            spyglass.update_current_trace(user_id=["u"])  # type: ignore[arg-type]

    turn()
    inner, outer = only(exporter, "retrieve").attributes, only(exporter, "turn").attributes
    assert inner[semconv.SESSION_ID] == "chat-7" and inner[semconv.USER_ID] == "u-1"
    assert outer[semconv.SESSION_ID] == "chat-7" and semconv.USER_ID not in outer
    assert json.loads(outer[semconv.TRACE_TAGS]) == {"env": "dev"}
    canonical = normalize(dict(inner))
    assert (canonical.session_id, canonical.user_id) == ("chat-7", "u-1")


def test_every_span_of_the_provider_carries_the_experiment(
    exporter: InMemorySpanExporter, provider: TracerProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = provider.get_tracer("another.instrumentation")
    other.start_span("before").end()
    monkeypatch.setattr(experiment, "_current_experiment_id", lambda: "42")

    @spyglass.trace
    def traced() -> None:
        other.start_span("foreign").end()

    traced()
    spans = {s.name: s.attributes.get(semconv.EXPERIMENT_ID) for s in finished(exporter)}
    assert spans == {"before": None, "traced": "42", "foreign": "42"}


def test_generator_called_with_wrong_arguments_ends_its_span(
    exporter: InMemorySpanExporter,
) -> None:
    @spyglass.trace
    def numbers(n):
        yield n

    @spyglass.trace
    async def async_numbers(n):
        yield n

    with pytest.raises(TypeError):
        list(numbers(1, 2))

    async def consume() -> None:
        async for _ in async_numbers():
            pass

    with pytest.raises(TypeError):
        asyncio.run(consume())
    spans = {s.name: s for s in finished(exporter)}
    assert spans["numbers"].status.status_code is StatusCode.ERROR
    assert io(spans["numbers"])[0] == {"args": [1, 2]}
    assert spans["async_numbers"].status.status_code is StatusCode.ERROR
