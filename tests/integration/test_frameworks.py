"""``spyglass.autolog()`` traces each framework installed here through Spyglass's provider:
LangChain (``ChatOpenAI``), LiteLLM and the OpenAI Agents SDK (with a tool call), each
talking to the local OpenAI-compatible server, their spans exported to a real collector and
read back through ``spyglass.search_traces`` / ``spyglass.get_trace``.

Each trace must have the app's ``@spyglass.trace`` span as its root with the framework's
spans under it, the framework's span types, the messages sent and the answer received, and
the token counts the client saw, counted once (the OpenAI autolog leaves the framework's
own ``openai`` calls to the framework's instrumentation). The trace lands in the experiment
set with ``spyglass.set_experiment``.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

import spyglass
from spyglass import session
from spyglass.entities import Span, Trace
from spyglass.instrumentation import autolog as autolog_module
from spyglass.instrumentation.frameworks import FRAMEWORKS, Framework
from spyglass.local_llm import LocalLLM

# LiteLLM fetches its price map from the network on import unless told to use its own copy
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

EXPERIMENT = "frameworks"
SYSTEM = "You answer in one sentence."
QUESTION = "What is the capital of France?"
ANSWER = f'Here is a helpful answer to "{QUESTION}" from the local stand-in model.'
API_KEY = "sk-local-frameworks"
INSTALLED_HERE = ["openai", "langchain", "litellm", "openai_agents"]


@pytest.fixture
def traced(
    tmp_path: Path, start_collector: Callable[..., Any], llm: LocalLLM
) -> Iterator[list[str]]:
    """``spyglass.autolog()`` on, exporting to a real collector; what it returned."""
    collector = start_collector(f"sqlite:///{tmp_path / 'spyglass.db'}")
    session.configure(collector=f"127.0.0.1:{collector.grpc_port}")
    spyglass.set_experiment(EXPERIMENT)
    llm.requests.clear()
    llm.responder = None
    enabled = spyglass.autolog()
    yield enabled
    spyglass.autolog(disable=True)
    llm.responder = None
    session._shutdown()


def run_traced(call: Callable[[str], Any]) -> tuple[Any, Trace]:
    """``call(QUESTION)`` inside an ``@spyglass.trace`` function named ``app``; its result
    and the trace, found with ``search_traces`` and read with ``get_trace``."""

    @spyglass.trace
    def app(question: str) -> Any:
        return call(question)

    result = app(QUESTION)
    (experiment,) = spyglass.search_experiments(filter_string=f"name = '{EXPERIMENT}'")
    (info,) = spyglass.search_traces(experiment_ids=[experiment.experiment_id], return_type="list")
    trace = spyglass.get_trace(info.info.trace_id)
    assert trace.info.experiment_id == experiment.experiment_id
    return result, trace


def root_of(trace: Trace) -> Span:
    root = trace.data._get_root_span()
    assert root is not None and root.name == "app", [s.name for s in trace.data.spans]
    assert root.inputs == {"question": QUESTION}
    return root


def llm_spans(trace: Trace) -> list[Span]:
    """The model calls of ``trace``: exactly the framework's LLM spans (no second span per
    call from the OpenAI autolog)."""
    kinds = [(s.name, s.span_type) for s in trace.data.spans]
    assert not [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"], kinds
    return [s for s in trace.data.spans if s.span_type == "LLM"]


def check_token_totals(trace: Trace, calls: list[Span]) -> None:
    assert trace.info.input_tokens == sum(s.input_tokens or 0 for s in calls)
    assert trace.info.output_tokens == sum(s.output_tokens or 0 for s in calls)
    assert trace.info.total_tokens == trace.info.input_tokens + trace.info.output_tokens


def test_autolog_turns_on_what_is_installed_and_is_idempotent(traced: list[str]) -> None:
    assert traced == INSTALLED_HERE
    assert spyglass.autolog() == INSTALLED_HERE  # again: nothing changes
    assert autolog_module.enabled() == INSTALLED_HERE
    names = {f.name for f in FRAMEWORKS}
    assert names >= {
        "openai",
        "anthropic",
        "langchain",
        "llama_index",
        "litellm",
        "openai_agents",
        "bedrock",
        "google_genai",
        "dspy",
        "crewai",
        "haystack",
    }
    assert spyglass.autolog(disable=True) == []
    assert autolog_module.enabled() == []
    assert spyglass.autolog() == INSTALLED_HERE


class Refusing:
    """An instrumentor whose start fails."""

    is_instrumented_by_opentelemetry = False

    def instrument(self, **kwargs: Any) -> None:
        raise RuntimeError("cannot patch this version")


def test_missing_or_failing_instrumentors_are_skipped_without_raising(
    traced: list[str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    registry = (
        *FRAMEWORKS,
        # library installed (json), instrumentor not: reported with its extra, skipped
        Framework("uninstrumented", "json", "spyglass_no_such_instrumentor:X", "uninstrumented"),
        # library not installed: skipped silently
        Framework("absent", "spyglass_no_such_library", "json:JSONDecoder", "absent"),
        # instrumentor that raises: logged, skipped
        Framework("refusing", "json", "json:JSONDecoder", "refusing"),
    )
    monkeypatch.setattr(autolog_module, "FRAMEWORKS", registry)
    original = autolog_module._instrumentor
    monkeypatch.setattr(
        autolog_module,
        "_instrumentor",
        lambda f: Refusing() if f.name == "refusing" else original(f),
    )
    with caplog.at_level("INFO", logger="spyglass.instrumentation"):
        assert spyglass.autolog() == INSTALLED_HERE
    text = caplog.text
    assert "pip install 'spyglass[uninstrumented]'" in text
    assert "could not trace refusing (RuntimeError: cannot patch this version)" in text
    assert "absent" not in text


def test_langchain_chat_model(traced: list[str], llm: LocalLLM) -> None:
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(model="gpt-4o-mini", base_url=llm.base_url, api_key=API_KEY, max_retries=0)
    seen: dict[str, Any] = {}

    def call(question: str) -> str:
        message = model.invoke([("system", SYSTEM), ("user", question)])
        seen.update(message.usage_metadata or {})
        return str(message.content)

    answer, trace = run_traced(call)
    assert answer == ANSWER
    root = root_of(trace)
    (span,) = llm_spans(trace)
    assert [s.name for s in trace.data.spans] == ["app", "ChatOpenAI"]
    assert span.parent_id == root.span_id and span.model == "gpt-4o-mini"
    assert (span.input_tokens, span.output_tokens) == (
        seen["input_tokens"],
        seen["output_tokens"],
    )
    sent = json.dumps(span.inputs)
    assert SYSTEM in sent and QUESTION in sent
    assert span.outputs["generations"][0][0]["text"] == ANSWER
    assert root.outputs == ANSWER
    check_token_totals(trace, [span])


def test_litellm_completion(traced: list[str], llm: LocalLLM) -> None:
    import litellm

    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
    seen: dict[str, Any] = {}

    def call(question: str) -> str:
        response = litellm.completion(
            model="openai/gpt-4o-mini", api_base=llm.base_url, api_key=API_KEY, messages=messages
        )
        seen.update(response.usage.model_dump())
        return str(response.choices[0].message.content)

    answer, trace = run_traced(call)
    assert answer == ANSWER
    root = root_of(trace)
    (span,) = llm_spans(trace)
    assert [s.name for s in trace.data.spans] == ["app", "completion"]
    assert span.parent_id == root.span_id
    assert span.inputs == {"messages": messages}
    assert span.outputs == ANSWER
    assert (span.input_tokens, span.output_tokens) == (
        seen["prompt_tokens"],
        seen["completion_tokens"],
    )
    check_token_totals(trace, [span])


def weather_tool_call(path: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """The stand-in model calls the ``get_weather`` tool when offered it, then answers."""
    messages = body.get("messages") or []
    if not body.get("tools") or any(m.get("role") == "tool" for m in messages):
        return None
    return {
        "id": "chatcmpl-tool",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_weather",
                            "type": "function",
                            "function": {
                                "name": "get_weather",
                                "arguments": json.dumps({"city": "Paris"}),
                            },
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }


def test_openai_agents_with_a_tool_call(traced: list[str], llm: LocalLLM) -> None:
    from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool

    llm.responder = weather_tool_call
    client = openai.AsyncOpenAI(base_url=llm.base_url, api_key=API_KEY, max_retries=0)

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    agent = Agent(
        name="helper",
        instructions=SYSTEM,
        tools=[get_weather],
        model=OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client),
    )

    def call(question: str) -> str:
        return str(asyncio.run(Runner.run(agent, question)).final_output)

    answer, trace = run_traced(call)
    assert answer == ANSWER
    root = root_of(trace)
    by_id = {s.span_id: s for s in trace.data.spans}

    def ancestors(span: Span) -> list[str]:
        names = []
        while span.parent_id is not None:
            span = by_id[span.parent_id]
            names.append(span.name)
        return names

    (agent_span,) = [s for s in trace.data.spans if s.name == "helper"]
    assert agent_span.span_type == "AGENT" and ancestors(agent_span)[-1] == root.name
    (tool,) = [s for s in trace.data.spans if s.span_type == "TOOL"]
    assert tool.name == "get_weather" and "helper" in ancestors(tool)
    assert tool.inputs == {"city": "Paris"} and tool.outputs == "sunny in Paris"
    first, second = sorted(llm_spans(trace), key=lambda s: s.start_time_ns)
    assert "helper" in ancestors(first) and "helper" in ancestors(second)
    assert (first.input_tokens, first.output_tokens) == (12, 5)
    assert [m["content"] for m in first.inputs if m["role"] == "user"] == [QUESTION]
    assert first.outputs[0]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert second.outputs[0]["content"] == ANSWER
    assert second.output_tokens == len(ANSWER.split())
    check_token_totals(trace, [first, second])


def test_direct_openai_calls_are_still_traced(traced: list[str], llm: LocalLLM) -> None:
    client = openai.OpenAI(base_url=llm.base_url, api_key=API_KEY, max_retries=0)

    def call(question: str) -> str:
        response = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
        )
        return str(response.choices[0].message.content)

    answer, trace = run_traced(call)
    root = root_of(trace)
    (span,) = [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
    assert span.parent_id == root.span_id and span.outputs is not None
    assert answer == ANSWER
