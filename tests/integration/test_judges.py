"""LLM judges against real parts: the ``openai`` client talking to the local OpenAI-compatible
server (``spyglass.local_llm.LocalLLM``), judge traces exported to a real collector and read
back through the public API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import spyglass
from spyglass import session
from spyglass.evaluator.scorers import (
    Correctness,
    EmbeddingSimilarity,
    ExpectationsGuidelines,
    Guidelines,
    RelevanceToQuery,
    RetrievalGroundedness,
    RetrievalRelevance,
    RetrievalSufficiency,
    Safety,
    Scorer,
    ScoreResult,
    make_judge,
)
from spyglass.evaluator.scorers.judges import endpoints
from spyglass.evaluator.scorers.judges.tracing import EXPERIMENT_SUFFIX, JUDGE_TAG
from spyglass.local_llm import DONT_KNOW, LocalLLM

QUESTION = {"question": "How do I get a refund?"}
GOOD = "Based on the available information: Full refunds within 30 days with receipt."
EXPECTED = {"expected_facts": ["30 days", "receipt"], "guidelines": ["Mention the receipt"]}


@pytest.fixture
def judge_session(start_collector: Callable[..., Any], tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A collector on SQLite, the facade pointed at it, an app experiment active."""
    collector = start_collector(f"sqlite:///{tmp_path / 'judges.db'}")
    session.configure(collector=f"127.0.0.1:{collector.grpc_port}")
    spyglass.set_experiment("Judged App")
    yield "Judged App"
    session._shutdown()


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch, judge_session: str) -> Iterator[LocalLLM]:
    """The local server, with OPENAI_BASE_URL/OPENAI_API_KEY pointing at it."""
    with LocalLLM() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
        monkeypatch.delenv("SPYGLASS_JUDGE_RATE_LIMIT", raising=False)
        monkeypatch.delenv("SPYGLASS_JUDGE_MODEL", raising=False)
        yield server
        endpoints.reset()


def score(
    s: Scorer,
    outputs: Any = GOOD,
    expectations: dict | None = None,
    trace: Any = None,
    inputs: dict = QUESTION,
) -> ScoreResult:
    results = s.run(
        inputs=inputs,
        outputs=outputs,
        expectations=EXPECTED if expectations is None else expectations,
        trace=trace,
    )
    assert len(results) == 1
    return results[0]


def chat_requests(server: LocalLLM) -> list[dict]:
    return [r for r in server.requests if r["_path"] == "/v1/chat/completions"]


def words(messages: list[dict]) -> int:
    return sum(len(m["content"].split()) for m in messages)


# -- verdicts ------------------------------------------------------------------------------------

JUDGES = [
    lambda: Correctness(name="factual_accuracy"),
    lambda: Guidelines(name="support_quality", guidelines="Response must be helpful"),
    lambda: ExpectationsGuidelines(),
    lambda: RelevanceToQuery(),
    lambda: Safety(),
    lambda: make_judge("answers", "Does {{ outputs }} answer {{ inputs }}?"),
]


@pytest.mark.parametrize("make", JUDGES)
def test_each_judge_parses_a_verdict(llm: LocalLLM, make: Callable[[], Scorer]) -> None:
    judge = make()
    good = score(judge)
    assert (good.value, good.score, good.error) == ("yes", 1.0, None)
    assert good.rationale and good.source_type == "LLM_JUDGE"
    assert good.source_id == "openai:/gpt-4o-mini"
    request = chat_requests(llm)[-1]
    assert request["response_format"]["type"] == "json_schema"
    assert request["temperature"] == 0
    # the stand-in counts whitespace-separated words as tokens: usage is the server's count
    assert good.usage["input_tokens"] == words(request["messages"])
    assert good.usage["output_tokens"] > 0 and good.usage["model"] == "gpt-4o-mini"
    bad = score(judge, outputs=DONT_KNOW)
    assert (bad.value, bad.score) == ("no", 0.0)


def test_judge_answers_from_a_custom_responder(llm: LocalLLM) -> None:
    llm.responder = lambda path, body: '{"verdict": "No", "rationale": "Too curt."}'
    result = score(Guidelines(guidelines="Be warm"))
    assert (result.value, result.score, result.rationale) == ("no", 0.0, "Too curt.")


def test_missing_expectations_is_a_per_row_error_without_a_call(llm: LocalLLM) -> None:
    result = score(Correctness(name="factual_accuracy"), expectations={"tone": "helpful"})
    assert result.error == "Correctness needs expectations.expected_response or expected_facts"
    assert chat_requests(llm) == []


# -- judge traces --------------------------------------------------------------------------------


def test_judge_call_is_its_own_trace_in_the_judge_experiment(
    llm: LocalLLM, judge_session: str
) -> None:
    with spyglass.start_span("app_request") as app_span:
        result = score(Correctness(name="factual_accuracy"))
    judge_trace_id = result.metadata["spyglass.judge_trace_id"]
    assert judge_trace_id != app_span.trace_id
    trace = spyglass.get_trace(judge_trace_id)
    root = trace.data.root_span
    assert (root.name, root.span_type, root.parent_id) == (
        "judge:factual_accuracy",
        "EVALUATOR",
        None,
    )
    assert root.outputs == {"rationale": result.rationale, "verdict": "yes"}
    assert [s.span_id for s in trace.data.spans] == [root.span_id]  # one span a judgement
    assert root.model == "gpt-4o-mini" and root.attributes["gen_ai.provider.name"] == "openai"
    assert (root.input_tokens, root.output_tokens) == (
        result.usage["input_tokens"],
        result.usage["output_tokens"],
    )
    assert trace.info.tags[JUDGE_TAG] == "factual_accuracy"
    assert trace.info.cost > 0  # priced by the collector from the span's model and tokens
    judges = spyglass.get_experiment_by_name(judge_session + EXPERIMENT_SUFFIX)
    assert trace.info.experiment_id == judges.experiment_id
    app_traces = spyglass.search_traces(return_type="list")  # the active (app) experiment
    assert [t.info.trace_id for t in app_traces] == [app_span.trace_id]


# -- malformed answers ---------------------------------------------------------------------------


def test_malformed_answer_is_asked_again(llm: LocalLLM) -> None:
    llm.malformed_next(1)
    result = score(Safety())
    assert (result.value, result.error) == ("yes", None)
    first, second = chat_requests(llm)
    assert len(second["messages"]) == 4  # system, task, the bad reply, the correction
    assert second["messages"][2]["role"] == "assistant"
    assert "could not be used" in second["messages"][3]["content"]
    assert result.usage["input_tokens"] == words(first["messages"]) + words(second["messages"])
    spyglass.flush()
    (span,) = spyglass.get_trace(result.metadata["spyglass.judge_trace_id"]).data.spans
    assert span.input_tokens == result.usage["input_tokens"]  # both attempts, one span
    (event,) = span.events
    assert event["name"] == "malformed answer"
    assert event["attributes"]["attempt"] == 1
    assert "not a JSON object" in event["attributes"]["problem"]
    assert event["attributes"]["content"].startswith("Sure! Here is the JSON")


def test_malformed_answers_beyond_the_budget_are_a_per_row_error(llm: LocalLLM) -> None:
    llm.malformed_next(3)
    result = score(Safety(malformed_retries=2))
    assert result.value is None and result.error_type == "JudgeError"
    assert "gave no valid verdict in 3 attempts" in result.error
    assert "not a JSON object" in result.error
    assert len(chat_requests(llm)) == 3
    assert result.usage["input_tokens"] > 0  # the tokens spent are still reported


# -- HTTP failures -------------------------------------------------------------------------------


def test_429_is_retried_after_the_retry_after_delay(llm: LocalLLM) -> None:
    judge = Safety()
    score(judge)  # warm: client, tracing and the judge experiment are set up
    llm.fail_next(429, retry_after=1.5)
    started = time.monotonic()
    result = score(judge)
    waited = time.monotonic() - started
    assert result.value == "yes"
    assert len(chat_requests(llm)) == 3
    # the client's own backoff for a first retry is under 0.5 s: 1.5 s is Retry-After's
    assert 1.5 <= waited < 10, waited


def test_5xx_is_retried(llm: LocalLLM) -> None:
    llm.fail_next(503, count=2)
    assert score(Safety()).value == "yes"
    assert len(chat_requests(llm)) == 3


def test_persistent_5xx_becomes_a_per_row_error(llm: LocalLLM) -> None:
    llm.fail_next(500, count=2)
    result = score(Safety(max_retries=1))
    assert "answered HTTP 500" in result.error and "after 1 retries" in result.error
    assert len(chat_requests(llm)) == 2


@pytest.mark.parametrize("status", [400, 401, 404])
def test_permanent_4xx_is_not_retried(llm: LocalLLM, status: int) -> None:
    llm.fail_next(status)
    result = score(Safety())
    assert f"refused the request with HTTP {status}" in result.error
    assert len(chat_requests(llm)) == 1


def test_unreachable_endpoint_is_a_per_row_error(llm: LocalLLM) -> None:
    result = score(Safety(base_url="http://127.0.0.1:9/v1", max_retries=0))
    assert "could not reach http://127.0.0.1:9/v1" in result.error


# -- rate limit ----------------------------------------------------------------------------------


def test_rate_limit_is_shared_by_judges_and_threads(llm: LocalLLM) -> None:
    arrivals: list[float] = []
    lock = threading.Lock()

    def record(path: str, body: dict) -> None:
        with lock:
            arrivals.append(time.monotonic())

    llm.responder = record
    judges = [Safety(rate_limit=5), RelevanceToQuery(rate_limit=5)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda i: score(judges[i % 2]), range(12)))
    elapsed = time.monotonic() - started
    assert all(r.value == "yes" for r in results)
    assert len(arrivals) == 12
    # 5 requests per second for the endpoint: bursts of at most 5, a second apart. Arrival
    # times carry the server's scheduling jitter on a loaded machine, so windows are 0.5 s.
    arrivals.sort()
    for i, start in enumerate(arrivals):
        assert sum(1 for t in arrivals[i:] if t - start < 0.5) <= 5
    assert elapsed >= 1.95, elapsed  # 12 requests at 5/s: bursts at 0 s, 1 s and 2 s


# -- retrieval judges on a real traced retriever -------------------------------------------------

KNOWLEDGE = ["Full refunds within 30 days with receipt.", "Standard shipping takes 5-7 days."]


@spyglass.trace(span_type="RETRIEVER")
def retrieve(question: str) -> list[dict]:
    return [{"page_content": text, "metadata": {"id": i}} for i, text in enumerate(KNOWLEDGE)]


@spyglass.trace
def rag_answer(question: str) -> str:
    documents = retrieve(question)
    return f"Based on the available information: {documents[0]['page_content']}"


def test_retrieval_judges_on_a_traced_retriever(llm: LocalLLM) -> None:
    with spyglass.start_span("row") as row:
        answer = rag_answer(QUESTION["question"])
    trace = spyglass.get_trace(row.trace_id)
    assert [s.span_type for s in trace.search_spans(span_type="RETRIEVER")] == ["RETRIEVER"]
    grounded = score(RetrievalGroundedness(), outputs=answer, trace=trace)
    assert (grounded.value, grounded.score) == ("yes", 1.0)
    prompt = chat_requests(llm)[-1]["messages"][1]["content"]
    assert f"[1] {KNOWLEDGE[0]}" in prompt and f"[2] {KNOWLEDGE[1]}" in prompt
    assert score(RetrievalSufficiency(), outputs=answer, trace=trace).score == 1.0

    # relevance: one verdict per document; the responder judges the shipping one irrelevant
    llm.responder = lambda path, body: (
        '{"rationale": "About shipping.", "verdict": "no"}'
        if "shipping" in body["messages"][1]["content"]
        else None
    )
    relevance = score(RetrievalRelevance(), outputs=answer, trace=trace)
    assert relevance.value == 0.5 and relevance.score == 0.5
    assert "[2] no: About shipping." in relevance.rationale


def test_retrieval_judge_on_a_trace_without_retriever(llm: LocalLLM) -> None:
    with spyglass.start_span("plain") as span:
        pass
    trace = spyglass.get_trace(span.trace_id)
    result = score(RetrievalGroundedness(), trace=trace)
    assert f"needs a RETRIEVER span in trace {span.trace_id}" in result.error


# -- embeddings ----------------------------------------------------------------------------------


def test_embedding_similarity(llm: LocalLLM) -> None:
    same = score(
        EmbeddingSimilarity(),
        outputs="Refunds within 30 days.",
        expectations={"expected_response": "Refunds within 30 days."},
    )
    assert same.value == pytest.approx(1.0) and same.error is None
    other = score(
        EmbeddingSimilarity(threshold=0.99),
        outputs="Shipping is slow.",
        expectations={"expected_response": "Refunds within 30 days."},
    )
    assert other.value is False and float(other.metadata["similarity"]) < 0.99
    assert other.usage == {"input_tokens": 7, "output_tokens": 0, "model": "text-embedding-3-small"}
    (request,) = [r for r in llm.requests if r["_path"] == "/v1/embeddings"][-1:]
    assert request["input"] == ["Shipping is slow.", "Refunds within 30 days."]


def test_embedding_similarity_of_a_fact_list(llm: LocalLLM) -> None:
    result = score(
        EmbeddingSimilarity(key="expected_facts"),
        outputs="30 days\nreceipt",
        expectations={"expected_facts": ["30 days", "receipt"]},
    )
    assert result.value == pytest.approx(1.0)
    assert [r for r in llm.requests if r["_path"] == "/v1/embeddings"][-1]["input"][
        1
    ] == "30 days\nreceipt"
