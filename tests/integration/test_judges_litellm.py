"""Judges on providers other than OpenAI-compatible endpoints, through LiteLLM, against local
stand-ins: LiteLLM's OpenAI route pointed at the local OpenAI-compatible server
(``spyglass.local_llm.LocalLLM``), and its Anthropic route pointed at a small Anthropic
Messages API stand-in (``POST /v1/messages`` answering Anthropic's JSON). Verdicts, re-asked
malformed answers, HTTP retries honouring ``Retry-After``, the endpoint's rate limit and the
judge's traces (read back from a real collector) behave as on the OpenAI-compatible route."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import spyglass
from spyglass import session
from spyglass.evaluator.scorers import Correctness, Safety, Scorer, ScoreResult, make_judge
from spyglass.evaluator.scorers.judges import endpoints
from spyglass.local_llm import DONT_KNOW, LocalLLM

QUESTION = {"question": "How do I get a refund?"}
GOOD = "Based on the available information: Full refunds within 30 days with receipt."
EXPECTED = {"expected_facts": ["30 days", "receipt"]}
VIA_LITELLM = "litellm:/openai/gpt-4o-mini"
CLAUDE = "anthropic:/claude-stand-in"


@pytest.fixture
def judge_session(start_collector: Callable[..., Any], tmp_path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """A collector on SQLite, the facade pointed at it, an app experiment active."""
    collector = start_collector(f"sqlite:///{tmp_path / 'judges.db'}")
    session.configure(collector=f"127.0.0.1:{collector.grpc_port}")
    spyglass.set_experiment("Judged App")
    yield
    session._shutdown()


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch, judge_session: None) -> Iterator[LocalLLM]:
    """The local OpenAI-compatible server; no OPENAI_* settings (LiteLLM gets base_url=)."""
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "SPYGLASS_JUDGE_RATE_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    with LocalLLM() as server:
        yield server
        endpoints.reset()


def via_litellm(llm: LocalLLM, **options: Any) -> dict[str, Any]:
    return {"model": VIA_LITELLM, "base_url": llm.base_url, "api_key": "sk-local", **options}


def score(judge: Scorer, outputs: Any = GOOD) -> ScoreResult:
    (result,) = judge.run(inputs=QUESTION, outputs=outputs, expectations=EXPECTED, trace=None)
    return result


def chat_requests(server: LocalLLM) -> list[dict]:
    return [r for r in server.requests if r["_path"] == "/v1/chat/completions"]


def words(messages: list[dict]) -> int:
    return sum(len(m["content"].split()) for m in messages)


# -- LiteLLM's OpenAI route to the local server -------------------------------------------------


def test_a_judge_through_litellm_gives_the_verdict_and_its_tokens(llm: LocalLLM) -> None:
    judge = Correctness(**via_litellm(llm))
    good = score(judge)
    assert (good.value, good.score, good.error) == ("yes", 1.0, None)
    assert good.source_id == VIA_LITELLM
    (request,) = chat_requests(llm)
    assert request["model"] == "gpt-4o-mini" and request["temperature"] == 0
    assert request["response_format"]["json_schema"]["schema"]["required"] == [
        "rationale",
        "verdict",
    ]
    assert good.usage["input_tokens"] == words(request["messages"])
    assert good.usage["output_tokens"] > 0 and good.usage["model"] == "gpt-4o-mini"
    assert score(judge, outputs=DONT_KNOW).value == "no"
    made = make_judge("answers", "Does {{ outputs }} answer {{ inputs }}?", **via_litellm(llm))
    assert score(made).value == "yes"


def test_malformed_answer_through_litellm_is_asked_again(llm: LocalLLM) -> None:
    llm.malformed_next(1)
    result = score(Safety(**via_litellm(llm)))
    assert (result.value, result.error) == ("yes", None)
    first, second = chat_requests(llm)
    assert len(second["messages"]) == 4  # system, task, the bad reply, the correction
    assert "could not be used" in second["messages"][3]["content"]
    assert result.usage["input_tokens"] == words(first["messages"]) + words(second["messages"])


def test_malformed_answers_through_litellm_beyond_the_budget(llm: LocalLLM) -> None:
    llm.malformed_next(2)
    result = score(Safety(malformed_retries=1, **via_litellm(llm)))
    assert result.error_type == "JudgeError" and "gave no valid verdict in 2 attempts" in (
        result.error or ""
    )
    assert len(chat_requests(llm)) == 2


def test_429_through_litellm_is_retried_after_the_retry_after_delay(llm: LocalLLM) -> None:
    judge = Safety(**via_litellm(llm))
    score(judge)  # warm: LiteLLM, tracing and the judge experiment are set up
    llm.fail_next(429, retry_after=1.5)
    started = time.monotonic()
    result = score(judge)
    waited = time.monotonic() - started
    assert result.value == "yes"
    assert len(chat_requests(llm)) == 3
    assert 1.5 <= waited < 10, waited  # a first backoff is under 0.5 s: this is Retry-After


def test_5xx_through_litellm_is_retried_then_a_per_row_error(llm: LocalLLM) -> None:
    llm.fail_next(503, count=3)
    result = score(Safety(max_retries=1, **via_litellm(llm)))
    assert "answered HTTP 503" in (result.error or "") and "after 1 retries" in result.error
    assert len(chat_requests(llm)) == 2
    assert score(Safety(max_retries=1, **via_litellm(llm))).value == "yes"  # 1 failure left


def test_permanent_4xx_through_litellm_is_not_retried(llm: LocalLLM) -> None:
    llm.fail_next(401)
    result = score(Safety(**via_litellm(llm)))
    assert "refused the request with HTTP 401" in (result.error or "")
    assert len(chat_requests(llm)) == 1


def test_unreachable_endpoint_through_litellm_is_a_per_row_error(llm: LocalLLM) -> None:
    judge = Safety(model=VIA_LITELLM, base_url="http://127.0.0.1:9/v1", api_key="k", max_retries=0)
    result = score(judge)
    assert "could not reach http://127.0.0.1:9/v1" in (result.error or ""), result.error


def test_rate_limit_through_litellm_is_shared_by_judges_and_threads(llm: LocalLLM) -> None:
    arrivals: list[float] = []
    lock = threading.Lock()

    def record(path: str, body: dict) -> None:
        with lock:
            arrivals.append(time.monotonic())

    llm.responder = record
    judges = [Safety(rate_limit=3, **via_litellm(llm)), Safety(rate_limit=3, **via_litellm(llm))]
    score(judges[0])  # warm LiteLLM up outside the timing
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: score(judges[i % 2]), range(6)))
    elapsed = time.monotonic() - started
    assert all(r.value == "yes" for r in results) and len(arrivals) == 7
    arrivals.sort()
    for i, start in enumerate(arrivals):  # at most 3 in any half second
        assert sum(1 for t in arrivals[i:] if t - start < 0.5) <= 3
    # 7 requests at 3/s, the first of them before the timing: bursts at 0 s, 1 s and 2 s
    assert elapsed >= 0.95, elapsed


def test_the_apps_litellm_tracing_does_not_record_judge_calls_twice(llm: LocalLLM) -> None:
    traced = spyglass.autolog()  # the app traces LiteLLM (and OpenAI) itself
    try:
        assert "litellm" in traced
        result = score(Safety(**via_litellm(llm)))
    finally:
        spyglass.autolog(disable=True)
    trace = spyglass.get_trace(result.metadata["spyglass.judge_trace_id"])
    (call,) = trace.data.spans  # the judge's own span, and no other
    assert call.attributes["gen_ai.provider.name"] == "openai"
    assert (call.input_tokens, call.output_tokens) == (
        result.usage["input_tokens"],
        result.usage["output_tokens"],
    )


# -- LiteLLM's Anthropic route to an Anthropic Messages API stand-in ----------------------------


class AnthropicStandIn:
    """``POST /v1/messages`` answering as Anthropic does: a forced tool call when the request
    forces one (how LiteLLM asks for structured output), else a text block."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.failures: list[tuple[int, str | None]] = []
        self.verdicts: list[dict[str, Any]] = []  # answered first, before the default one
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                stand_in.requests.append(body)
                stand_in.headers.append({k.lower(): v for k, v in self.headers.items()})
                if self.path != "/v1/messages":
                    return self._send(404, {"type": "error", "error": {"message": "no route"}})
                if stand_in.failures:
                    status, retry_after = stand_in.failures.pop(0)
                    error = {"type": "rate_limit_error", "message": "slow down"}
                    return self._send(status, {"type": "error", "error": error}, retry_after)
                verdict = (
                    stand_in.verdicts.pop(0)
                    if stand_in.verdicts
                    else {"rationale": "The reply is safe.", "verdict": "yes"}
                )
                tool = (body.get("tool_choice") or {}).get("name")
                content = (
                    [{"type": "tool_use", "id": "toolu_1", "name": tool, "input": verdict}]
                    if tool
                    else [{"type": "text", "text": json.dumps(verdict)}]
                )
                prompt = json.dumps([body.get("system"), body["messages"]])
                self._send(
                    200,
                    {
                        "id": f"msg_{len(stand_in.requests)}",
                        "type": "message",
                        "role": "assistant",
                        "model": body["model"],
                        "content": content,
                        "stop_reason": "tool_use" if tool else "end_turn",
                        "stop_sequence": None,
                        "usage": {"input_tokens": len(prompt.split()), "output_tokens": 9},
                    },
                )

            def _send(self, status: int, body: dict, retry_after: str | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                if retry_after is not None:
                    self.send_header("retry-after", retry_after)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def claude(monkeypatch: pytest.MonkeyPatch, judge_session: None) -> Iterator[AnthropicStandIn]:
    monkeypatch.delenv("SPYGLASS_JUDGE_RATE_LIMIT", raising=False)
    stand_in = AnthropicStandIn()
    yield stand_in
    stand_in.close()
    endpoints.reset()


def claude_judge(stand_in: AnthropicStandIn, **options: Any) -> Safety:
    return Safety(model=CLAUDE, base_url=stand_in.base_url, api_key="sk-ant-local", **options)


def test_an_anthropic_judge_gives_its_verdict_and_traces_provider_and_model(
    claude: AnthropicStandIn,
) -> None:
    result = score(claude_judge(claude))
    assert (result.value, result.score, result.rationale) == ("yes", 1.0, "The reply is safe.")
    assert result.source_id == CLAUDE
    (request,) = claude.requests
    # Anthropic's shape: the system prompt apart, max_tokens, the key in x-api-key
    assert request["model"] == "claude-stand-in" and request["system"] and request["max_tokens"]
    assert [m["role"] for m in request["messages"]] == ["user"]
    assert claude.headers[0]["x-api-key"] == "sk-ant-local"
    assert result.usage["input_tokens"] > 0 and result.usage["output_tokens"] == 9
    assert result.usage["model"] == "claude-stand-in"

    trace = spyglass.get_trace(result.metadata["spyglass.judge_trace_id"])
    assert trace.data.root_span.attributes["spyglass.judge.model"] == CLAUDE
    (call,) = trace.data.spans
    assert call.attributes["gen_ai.provider.name"] == "anthropic"
    assert call.model == "claude-stand-in"
    assert (call.input_tokens, call.output_tokens) == (result.usage["input_tokens"], 9)


def test_an_anthropic_judge_retries_a_429_after_its_retry_after(claude: AnthropicStandIn) -> None:
    judge = claude_judge(claude)
    score(judge)  # warm
    claude.failures.append((429, "1"))
    started = time.monotonic()
    result = score(judge)
    waited = time.monotonic() - started
    assert (result.value, result.error) == ("yes", None)
    assert len(claude.requests) == 3
    assert 1.0 <= waited < 10, waited


def test_an_anthropic_judge_asks_again_after_a_malformed_verdict(
    claude: AnthropicStandIn,
) -> None:
    claude.verdicts.append({"rationale": "Unsure.", "verdict": "maybe"})
    result = score(claude_judge(claude))
    assert (result.value, result.error) == ("yes", None)
    assert len(claude.requests) == 2
    second = claude.requests[1]
    assert len(second["messages"]) == 3  # task, the bad reply, the correction
    assert second["messages"][1]["role"] == "assistant"
    assert "could not be used" in json.dumps(second["messages"][2])
    assert "maybe" in json.dumps(second["messages"][1])


def test_an_anthropic_judge_with_a_persistent_429_is_a_per_row_error(
    claude: AnthropicStandIn,
) -> None:
    claude.failures.extend([(429, "0"), (429, "0")])
    result = score(claude_judge(claude, max_retries=1))
    assert result.error_type == "JudgeError"
    assert f"{claude.base_url} answered HTTP 429 (" in (result.error or "")
    assert "slow down" in result.error and "rate_limit=" in result.error
    assert len(claude.requests) == 2
