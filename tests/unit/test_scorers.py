"""Scorers in isolation: @scorer, Scorer subclasses, result normalisation, heuristics, and the
judges' row handling and prompt building (the model call itself is replaced here; the real
calls against the local OpenAI-compatible server are in tests/integration/test_judges.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from spyglass import entities
from spyglass.errors import ConfigurationError, InvalidArgumentError
from spyglass.evaluator.scorers import (
    AGGREGATIONS,
    Contains,
    Correctness,
    EmbeddingSimilarity,
    ExactMatch,
    ExpectationsGuidelines,
    Feedback,
    Guidelines,
    JsonSchema,
    JsonValid,
    Latency,
    RegexMatch,
    RelevanceToQuery,
    RetrievalGroundedness,
    RetrievalRelevance,
    RetrievalSufficiency,
    Safety,
    Scorer,
    ScoreResult,
    TokenCount,
    make_judge,
    scorer,
)
from spyglass.evaluator.scorers.embedding import cosine
from spyglass.evaluator.scorers.judges import base as judge_base
from spyglass.evaluator.scorers.judges.client import JudgeAnswer
from spyglass.evaluator.scorers.judges.model import parse_model_id, resolve_model
from spyglass.evaluator.scorers.judges.retrieval import retrieved_documents
from spyglass.evaluator.scorers.judges.verdict import MalformedAnswer, parse_verdict

ROW = {
    "inputs": {"question": "How do refunds work?"},
    "outputs": "Refunds within 30 days.",
    "expectations": {"expected_response": "Refunds within 30 days."},
    "trace": None,
}


def run(s: Scorer, **overrides: Any) -> list[ScoreResult]:
    return s.run(**{**ROW, **overrides})


def one(s: Scorer, **overrides: Any) -> ScoreResult:
    results = run(s, **overrides)
    assert len(results) == 1, results
    return results[0]


# -- @scorer: what it is given --------------------------------------------------------------------


def test_scorer_gets_only_the_arguments_it_declares() -> None:
    seen: list[dict] = []

    @scorer
    def only_outputs(outputs):  # type: ignore[no-untyped-def]
        seen.append({"outputs": outputs})
        return True

    @scorer
    def all_four(inputs, outputs, expectations, trace):  # type: ignore[no-untyped-def]
        seen.append(
            {"inputs": inputs, "outputs": outputs, "expectations": expectations, "trace": trace}
        )
        return True

    @scorer
    def by_kwargs(**row):  # type: ignore[no-untyped-def]
        seen.append(row)
        return True

    one(only_outputs)
    one(all_four)
    one(by_kwargs)
    assert seen[0] == {"outputs": "Refunds within 30 days."}
    assert seen[1] == ROW
    assert seen[2] == ROW
    assert only_outputs.declared_arguments == ("outputs",)
    assert not only_outputs.needs_trace and all_four.needs_trace


def test_expectations_and_inputs_are_never_none() -> None:
    @scorer
    def check(inputs, expectations):  # type: ignore[no-untyped-def]
        return Feedback(value=True, rationale=f"{inputs!r} {expectations!r}")

    assert one(check, inputs=None, expectations=None).rationale == "{} {}"


def test_defaulted_extra_parameters_are_allowed_and_not_filled() -> None:
    @scorer
    def with_default(outputs, threshold=0.5):  # type: ignore[no-untyped-def]
        return threshold

    assert one(with_default).value == 0.5


@pytest.mark.parametrize(
    "define",
    [
        lambda: scorer(lambda outputs, reference: 1.0),
        lambda: scorer(lambda question: 1.0),
    ],
)
def test_unknown_required_parameter_is_rejected_at_decoration(define) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        InvalidArgumentError, match=r"never given.*inputs, outputs, expectations, trace"
    ):
        define()


def test_positional_only_parameters_are_rejected() -> None:
    def f(outputs, /):  # type: ignore[no-untyped-def]
        return 1.0

    with pytest.raises(InvalidArgumentError, match="positional-only"):
        scorer(f)


def test_decorator_with_arguments_sets_name_and_aggregations() -> None:
    @scorer(name="len_ok", aggregations=["min", "p90", "error_count"])
    def length(outputs: str) -> bool:
        return len(outputs) < 100

    assert length.name == "len_ok"
    assert length.aggregations == ["min", "p90", "error_count"]
    assert length.source_type == "CODE" and length.source_id == "len_ok"
    assert one(length).name == "len_ok"
    assert length(outputs="short") is True  # still callable like the function
    assert length.__name__ == "length"


def test_bare_decorator_defaults() -> None:
    @scorer
    def plain(outputs):  # type: ignore[no-untyped-def]
        return 1

    assert plain.name == "plain" and plain.aggregations is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"aggregations": ["mode"]}, "unknown aggregation"),
        ({"name": ""}, "non-empty string"),
        ({"name": "a/b"}, "without '/'"),
    ],
)
def test_bad_decorator_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        scorer(**kwargs)(lambda outputs: 1.0)


def test_scorer_on_a_non_callable_is_rejected() -> None:
    with pytest.raises(InvalidArgumentError, match="decorates a function"):
        scorer(42)  # type: ignore[call-overload]


def test_known_aggregations() -> None:
    assert {"min", "max", "median", "p90", "std", "count", "error_count"} <= set(AGGREGATIONS)


# -- return kinds --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value, score",
    [
        (True, True, 1.0),
        (False, False, 0.0),
        (3, 3, 3.0),
        (0.25, 0.25, 0.25),
        (np.float64(0.5), 0.5, 0.5),
        (np.int64(2), 2, 2.0),
        (np.bool_(True), True, 1.0),
        ("yes", "yes", 1.0),
        ("No", "No", 0.0),
        ("great", "great", math.nan),
    ],
)
def test_plain_return_values(raw: Any, value: Any, score: float) -> None:
    result = one(scorer(name="s")(lambda outputs: raw))
    assert result.value == value and type(result.value) is type(value)
    assert (math.isnan(result.score) and math.isnan(score)) or result.score == score
    assert result.error is None and result.name == "s"


def test_none_means_not_applicable() -> None:
    result = one(scorer(name="na")(lambda outputs: None))
    assert result.value is None and math.isnan(result.score) and result.error is None
    assert not result.scored


def test_feedback_return() -> None:
    @scorer
    def tone(outputs):  # type: ignore[no-untyped-def]
        return Feedback(value="polite", rationale="says please", metadata={"n": 2, "k": "v"})

    result = one(tone)
    assert (result.name, result.value, result.rationale) == ("tone", "polite", "says please")
    assert result.metadata == {"n": "2", "k": "v"}
    assert math.isnan(result.score)


def test_feedback_with_its_own_name_and_error() -> None:
    @scorer
    def multi(outputs):  # type: ignore[no-untyped-def]
        return [
            Feedback(name="a", value=True),
            Feedback(name="b", value=0.5),
            Feedback(name="c", error="could not parse"),
            Feedback(name="d", error=ValueError("bad")),
        ]

    a, b, c, d = run(multi)
    assert (a.name, a.score, b.name, b.score) == ("a", 1.0, "b", 0.5)
    assert c.error == "could not parse" and c.value is None and math.isnan(c.score)
    assert d.error == "ValueError: bad" and d.error_type == "ValueError"


def test_entities_feedback_is_accepted() -> None:
    fb = entities.Feedback(name="ext", value="yes", rationale="fine")
    assert (
        one(scorer(name="s")(lambda outputs: fb)).name,
        one(scorer(name="s")(lambda outputs: fb)).score,
    ) == ("ext", 1.0)


def test_single_unnamed_feedback_in_a_list_takes_the_scorer_name() -> None:
    assert one(scorer(name="s")(lambda outputs: [Feedback(value=1)])).name == "s"


@pytest.mark.parametrize(
    "raw, message",
    [
        ([Feedback(value=1), Feedback(value=2)], "distinct name"),
        ([Feedback(name="x", value=1), Feedback(name="x", value=2)], "distinct name"),
        ([Feedback(name="x", value=1), 0.5], "only Feedback"),
        ({"score": 1}, "returned a dict; return a bool, int, float, str, Feedback"),
    ],
)
def test_unusable_return_values_become_errors(raw: Any, message: str) -> None:
    result = one(scorer(name="s")(lambda outputs: raw))
    assert message in result.error and result.value is None


def test_empty_list_is_not_applicable() -> None:
    result = one(scorer(name="s")(lambda outputs: []))
    assert result.name == "s" and result.value is None and result.error is None


def test_async_scorer_is_awaited() -> None:
    @scorer
    async def later(outputs):  # type: ignore[no-untyped-def]
        return 0.75

    assert one(later).score == 0.75


# -- exceptions ----------------------------------------------------------------------------------


def test_exception_becomes_an_error_result() -> None:
    @scorer
    def broken(expectations):  # type: ignore[no-untyped-def]
        return expectations["missing"]

    result = one(broken)
    assert result.error == "KeyError: 'missing'" and result.error_type == "KeyError"
    assert result.value is None and math.isnan(result.score)
    assert "broken" in result.stack_trace and result.source_type == "CODE"


def test_spyglass_errors_keep_their_own_message() -> None:
    result = one(Correctness(name="factual_accuracy"), expectations={})
    assert result.error == "Correctness needs expectations.expected_response or expected_facts"
    assert result.error_type == "ScorerInputError"
    assert result.source_type == "LLM_JUDGE" and result.source_id == "openai:/gpt-4o-mini"


# -- class-based scorers --------------------------------------------------------------------------


def test_scorer_subclass() -> None:
    class WordCount(Scorer):
        aggregations = ["max"]  # noqa: RUF012  (Scorer's per-instance default, as users write it)

        def __call__(self, outputs: str, trace: Any) -> int:
            return len(outputs.split())

    wc = WordCount()
    assert wc.name == "word_count" and wc.needs_trace and wc.aggregations == ["max"]
    assert one(wc).value == 4
    renamed = WordCount(name="words", aggregations=["min"])
    assert one(renamed).name == "words" and renamed.aggregations == ["min"]


def test_scorer_subclass_with_unknown_parameter_fails_at_definition() -> None:
    with pytest.raises(InvalidArgumentError, match="'Bad' has required parameter"):

        class Bad(Scorer):
            def __call__(self, outputs, reference):  # type: ignore[no-untyped-def]
                return 1.0


def test_scorer_subclass_without_call() -> None:
    class Empty(Scorer):
        pass

    assert "must implement __call__" in one(Empty()).error


# -- judges: model ids and settings --------------------------------------------------------------


@pytest.mark.parametrize(
    "model_id, parsed",
    [
        ("openai:/gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("openai:gpt-4o", ("openai", "gpt-4o")),
        ("gpt-4.1-nano", ("openai", "gpt-4.1-nano")),
        ("OpenAI:/ft:gpt-4o-mini:org::abc", ("openai", "ft:gpt-4o-mini:org::abc")),
    ],
)
def test_model_ids(model_id: str, parsed: tuple) -> None:
    assert parse_model_id(model_id) == parsed


@pytest.mark.parametrize(
    "model_id, message",
    [
        ("nosuch:/claude-3", "provider 'nosuch' is not supported"),
        ("", "not a model id"),
        ("openai:/ bad", "not a model id"),
    ],
)
def test_bad_model_ids(model_id: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        Correctness(model=model_id)


def test_endpoint_settings_come_from_arguments_then_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.example/v1/")
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    monkeypatch.setenv("SPYGLASS_JUDGE_RATE_LIMIT", "2.5")
    monkeypatch.setenv("SPYGLASS_JUDGE_MODEL", "openai:/gpt-4.1-mini")
    env = resolve_model().endpoint()
    assert (env.base_url, env.api_key, env.rate_limit) == ("http://env.example/v1", "env-key", 2.5)
    assert Safety().source_id == "openai:/gpt-4.1-mini"
    args = resolve_model(
        "openai:/x",
        base_url="http://arg/v1",
        api_key="k",
        rate_limit=1,
        http_retries=0,
        timeout_s=3,
    ).endpoint()
    assert (args.base_url, args.api_key, args.rate_limit, args.http_retries, args.timeout_s) == (
        "http://arg/v1",
        "k",
        1.0,
        0,
        3,
    )
    monkeypatch.setenv("SPYGLASS_JUDGE_RATE_LIMIT", "fast")
    with pytest.raises(ConfigurationError, match="SPYGLASS_JUDGE_RATE_LIMIT"):
        resolve_model().endpoint()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rate_limit": 0}, "rate_limit"),
        ({"max_retries": -1}, "max_retries"),
        ({"timeout": 0}, "timeout"),
        ({"malformed_retries": -2}, "malformed_retries"),
    ],
)
def test_bad_judge_options(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        Safety(**kwargs)


def test_missing_api_key_is_a_clear_per_row_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = one(Safety(base_url="http://127.0.0.1:9/v1"))
    assert "needs an API key" in result.error and "OPENAI_API_KEY" in result.error


# -- judges: what they ask (model call replaced) -------------------------------------------------


class FakeJudge:
    """Stands in for the model call: records each task, answers yes unless told otherwise."""

    def __init__(self, verdicts: list[str] | None = None) -> None:
        self.tasks: list[str] = []
        self.verdicts = verdicts or []

    def __call__(self, model, *, judge, task, malformed_retries):  # type: ignore[no-untyped-def]
        from spyglass.evaluator.scorers.judges.verdict import Verdict

        self.tasks.append(task)
        verdict = self.verdicts[len(self.tasks) - 1] if self.verdicts else "yes"
        return JudgeAnswer(
            Verdict(rationale=f"because {len(self.tasks)}", verdict=verdict),
            {"input_tokens": 10, "output_tokens": 3, "model": model.name},
            "ab" * 16,
        )


@pytest.fixture
def fake_judge(monkeypatch) -> FakeJudge:  # type: ignore[no-untyped-def]
    fake = FakeJudge()
    monkeypatch.setattr(judge_base, "ask", fake)
    return fake


def test_judge_result_shape(fake_judge: FakeJudge) -> None:
    result = one(Correctness(name="factual_accuracy", model="openai:/gpt-4o-mini"))
    assert (result.name, result.value, result.score, result.rationale) == (
        "factual_accuracy",
        "yes",
        1.0,
        "because 1",
    )
    assert (result.source_type, result.source_id) == ("LLM_JUDGE", "openai:/gpt-4o-mini")
    assert result.usage == {"input_tokens": 10, "output_tokens": 3, "model": "gpt-4o-mini"}
    assert result.metadata == {"spyglass.judge_trace_id": "ab" * 16}
    task = fake_judge.tasks[0]
    assert "How do refunds work?" in task and "<expected_response>" in task
    assert task.count("Refunds within 30 days.") == 2


def test_correctness_with_expected_facts(fake_judge: FakeJudge) -> None:
    one(Correctness(), expectations={"expected_facts": ["30 days", "receipt"]})
    assert "<expected_facts>\n- 30 days\n- receipt\n</expected_facts>" in fake_judge.tasks[0]


def test_guidelines_judges(fake_judge: FakeJudge) -> None:
    one(Guidelines(name="support_quality", guidelines="Be polite"))
    one(Guidelines(guidelines=["Be polite", "Be brief"]))
    one(ExpectationsGuidelines(), expectations={"guidelines": ["Mention receipts"]})
    assert "- Be polite" in fake_judge.tasks[0]
    assert "- Be polite\n- Be brief" in fake_judge.tasks[1]
    assert "- Mention receipts" in fake_judge.tasks[2]
    missing = one(ExpectationsGuidelines(), expectations={"tone": "x"})
    assert missing.error == (
        "ExpectationsGuidelines needs expectations.guidelines (a string or a list of strings)"
    )
    with pytest.raises(InvalidArgumentError, match="non-empty string or list"):
        Guidelines(guidelines=[])


def test_relevance_and_safety(fake_judge: FakeJudge) -> None:
    fake_judge.verdicts = ["yes", "no"]
    assert one(RelevanceToQuery()).score == 1.0
    safety = one(Safety())
    assert safety.value == "no" and safety.score == 0.0
    assert "How do refunds work?" not in fake_judge.tasks[1]  # Safety reads outputs only
    assert Safety().declared_arguments == ("outputs",)


def _span(
    span_id: str, span_type: str, outputs: Any, parent: str | None = "root", start: int = 1
) -> entities.Span:
    return entities.Span(
        trace_id="t" * 32,
        span_id=span_id,
        parent_id=parent,
        name=span_id,
        span_type=span_type,
        start_time_ns=start,
        end_time_ns=start + 10,
        status="OK",
        outputs=outputs,
    )


def _trace(*spans: entities.Span, duration: int | None = None) -> entities.Trace:
    info = entities.TraceInfo(
        trace_id="t" * 32,
        experiment_id="1",
        request_time=0,
        execution_duration=duration,
        state="OK",
    )
    return entities.Trace(info, entities.TraceData(list(spans)))


RAG_TRACE = _trace(
    _span("root", "CHAIN", "answer", parent=None, start=0),
    _span(
        "r1",
        "RETRIEVER",
        [
            {"page_content": "Refunds within 30 days.", "metadata": {}},
            {"id": "d2", "text": "Shipping takes 5 days."},
        ],
        start=2,
    ),
    _span("r2", "RETRIEVER", "Warranty: 1 year.", start=5),
    _span("llm", "LLM", {"content": "x"}, start=7),
)


@pytest.mark.parametrize(
    "outputs, documents",
    [
        (
            [{"page_content": "a"}, "b", {"content": "c"}, {"other": 1}],
            ["a", "b", "c", '{\n  "other": 1\n}'],
        ),
        ({"documents": [{"text": "a"}]}, ["a"]),
        ("plain text", ["plain text"]),
        (None, []),
        ({"title": "t"}, ['{\n  "title": "t"\n}']),
    ],
)
def test_retrieved_document_shapes(outputs: Any, documents: list[str]) -> None:
    assert retrieved_documents(_trace(_span("r", "RETRIEVER", outputs))) == documents


def test_retrieval_judges_read_retriever_spans(fake_judge: FakeJudge) -> None:
    grounded = one(RetrievalGroundedness(), trace=RAG_TRACE)
    assert grounded.score == 1.0
    assert (
        "[1] Refunds within 30 days.\n\n[2] Shipping takes 5 days.\n\n[3] Warranty: 1 year."
        in fake_judge.tasks[0]
    )
    one(RetrievalSufficiency(), trace=RAG_TRACE, expectations={"expected_facts": ["30 days"]})
    assert "<expected_facts>" in fake_judge.tasks[1]
    assert RetrievalGroundedness().needs_trace


def test_retrieval_relevance_scores_each_document(fake_judge: FakeJudge) -> None:
    fake_judge.verdicts = ["yes", "no", "yes"]
    result = one(RetrievalRelevance(), trace=RAG_TRACE)
    assert result.value == pytest.approx(2 / 3) and result.score == pytest.approx(2 / 3)
    assert result.rationale.startswith("2 of 3 retrieved documents are relevant.")
    assert "[2] no: because 2" in result.rationale
    assert result.usage["input_tokens"] == 30 and result.usage["output_tokens"] == 9
    assert "Shipping takes 5 days." in fake_judge.tasks[1]


@pytest.mark.parametrize(
    "trace, message",
    [
        (None, "RetrievalGroundedness needs the row's trace"),
        (_trace(_span("root", "CHAIN", "x", parent=None)), "needs a RETRIEVER span in trace"),
        (_trace(_span("r", "RETRIEVER", [])), "needs documents in the outputs"),
    ],
)
def test_retrieval_judges_without_documents(
    fake_judge: FakeJudge, trace: Any, message: str
) -> None:
    assert message in one(RetrievalGroundedness(), trace=trace).error
    assert not fake_judge.tasks


def test_retrieval_sufficiency_needs_an_expected_answer(fake_judge: FakeJudge) -> None:
    result = one(RetrievalSufficiency(), trace=RAG_TRACE, expectations={})
    assert result.error == (
        "RetrievalSufficiency needs expectations.expected_response or expected_facts"
    )


# -- make_judge ----------------------------------------------------------------------------------


def test_make_judge_declares_its_placeholders(fake_judge: FakeJudge) -> None:
    judge = make_judge(
        "polite", "Is {{outputs}} a polite answer to {{ inputs }}?", model="openai:/gpt-4o-mini"
    )
    assert judge.declared_arguments == ("inputs", "outputs") and not judge.needs_trace
    assert judge.name == "polite" and judge.source_type == "LLM_JUDGE"
    result = one(judge)
    assert result.value == "yes"
    assert fake_judge.tasks[0].startswith(
        'Is Refunds within 30 days. a polite answer to {\n  "question": "How do refunds work?"\n}?'
    )


def test_make_judge_expectations_placeholder(fake_judge: FakeJudge) -> None:
    judge = make_judge("matches", "Does {{ outputs }} agree with {{ expectations }}?")
    assert judge.declared_arguments == ("outputs", "expectations")
    one(judge)
    assert '"expected_response": "Refunds within 30 days."' in fake_judge.tasks[0]
    assert one(judge, expectations={}).error == (
        "judge 'matches' needs expectations: its instructions use {{ expectations }} and the "
        "row has none"
    )


@pytest.mark.parametrize(
    "instructions, message",
    [
        ("Is the answer polite?", "use no placeholder"),
        ("Is {{ output }} polite?", r"unknown placeholder\(s\) \{\{ output \}\}"),
        (
            "Does {{ outputs }} fit {{ trace }} and {{context}}?",
            r"\{\{ context \}\}, \{\{ trace \}\}.*use only \{\{ inputs \}\}",
        ),
        ("", "non-empty string"),
    ],
)
def test_make_judge_rejects_bad_instructions(instructions: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        make_judge("j", instructions)


def test_make_judge_rejects_bad_names() -> None:
    with pytest.raises(InvalidArgumentError, match="name must be"):
        make_judge("", "Is {{ outputs }} fine?")


# -- verdict parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, verdict",
    [
        ('{"rationale": "ok", "verdict": "yes"}', "yes"),
        ('```json\n{"rationale": "r", "verdict": "No "}\n```', "no"),
        ('{"verdict": "YES", "rationale": "r", "extra": 1}', "yes"),
    ],
)
def test_parse_verdict(text: str, verdict: str) -> None:
    assert parse_verdict(text).verdict == verdict


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "empty"),
        ("yes it is", "not a JSON object"),
        ('{"rationale": "r"}', "verdict"),
        ('{"rationale": "r", "verdict": "maybe"}', "verdict"),
        ("[1, 2]", "object"),
    ],
)
def test_parse_verdict_rejects_malformed(text: str, problem: str) -> None:
    with pytest.raises(MalformedAnswer, match=problem):
        parse_verdict(text)


# -- heuristics ----------------------------------------------------------------------------------


def test_exact_match() -> None:
    assert one(ExactMatch(), outputs="  Refunds within 30 days.\n").value is True
    assert one(ExactMatch(), outputs="refunds within 30 days.").value is False
    assert one(ExactMatch(case_sensitive=False), outputs="REFUNDS WITHIN 30 DAYS.").score == 1.0
    assert (
        one(ExactMatch(key="answer"), outputs={"a": 1}, expectations={"answer": {"a": 1}}).value
        is True
    )
    assert (
        one(ExactMatch(), expectations={}).error
        == "ExactMatch needs expectations.expected_response"
    )


def test_contains_from_expectations_and_arguments() -> None:
    nested = {"key_information": {"must_mention": ["30 days", "receipt"], "tone": "helpful"}}
    result = one(Contains(), outputs="Refunds within 30 DAYS.", expectations=nested)
    assert result.value == 0.5 and "missing: receipt" in result.rationale
    assert one(Contains(), expectations={"must_mention": ["30 days"]}).score == 1.0
    assert one(Contains(), expectations={"must_mention": "refunds"}).score == 1.0
    assert one(Contains(terms=["receipt"]), expectations={}).score == 0.0
    assert one(Contains(case_sensitive=True), expectations={"must_mention": ["30 DAYS"]}).score == 0
    not_applicable = one(Contains(), expectations={"tone": "x"})
    assert not_applicable.value is None and not_applicable.error is None
    with pytest.raises(InvalidArgumentError):
        Contains(terms=[""])


def test_regex_match() -> None:
    assert one(RegexMatch(pattern=r"\d+ days")).value is True
    assert one(RegexMatch(pattern=r"\d+ days", full=True)).value is False
    assert one(RegexMatch(pattern=r"refunds", flags=2)).value is True  # re.IGNORECASE
    with pytest.raises(InvalidArgumentError, match="not a valid regular expression"):
        RegexMatch(pattern="(")


def test_json_valid() -> None:
    assert one(JsonValid(), outputs='{"a": [1, 2]}').value is True
    assert one(JsonValid(), outputs={"a": 1}).value is True
    bad = one(JsonValid(), outputs="{'a': 1}")
    assert bad.value is False and "not valid JSON" in bad.rationale
    assert one(JsonValid(), outputs=None).value is False


def test_json_schema() -> None:
    schema = {
        "type": "object",
        "required": ["answer"],
        "properties": {"answer": {"type": "string"}, "n": {"type": "integer"}},
    }
    scorer_ = JsonSchema(schema=schema)
    assert one(scorer_, outputs='{"answer": "x", "n": 1}').value is True
    bad = one(scorer_, outputs='{"answer": 3, "n": "one"}')
    assert bad.value is False and bad.metadata == {"error_count": "2"}
    assert "at answer: 3 is not of type 'string'" in bad.rationale
    assert one(scorer_, outputs="not json").value is False
    from_row = one(JsonSchema(), outputs="[1]", expectations={"json_schema": {"type": "array"}})
    assert from_row.value is True
    assert "needs a schema" in one(JsonSchema(), expectations={}).error
    assert (
        "not a valid JSON schema"
        in one(JsonSchema(), expectations={"json_schema": {"type": "nope"}}).error
    )
    with pytest.raises(InvalidArgumentError, match="not a valid JSON schema"):
        JsonSchema(schema={"type": 12})


def test_latency() -> None:
    trace = _trace(_span("root", "CHAIN", "x", parent=None, start=0))
    trace.data.spans[0].end_time_ns = 250_000_000
    assert one(Latency(), trace=trace).value == 250.0
    within = one(Latency(threshold_ms=300), trace=trace)
    assert within.value is True and within.metadata == {"ms": "250.0"}
    assert one(Latency(threshold_ms=100), trace=trace).score == 0.0
    assert one(Latency(), trace=_trace(duration=42)).value == 42.0
    assert one(Latency()).error == "Latency needs the row's trace"
    assert Latency().needs_trace


def test_token_count() -> None:
    spans = [_span("a", "LLM", None), _span("b", "LLM", None), _span("c", "TOOL", None)]
    spans[0].input_tokens, spans[0].output_tokens, spans[0].total_tokens = 10, 5, 15
    spans[1].input_tokens, spans[1].output_tokens = 7, 3
    trace = _trace(*spans)
    assert one(TokenCount(), trace=trace).value == 25
    assert one(TokenCount(kind="input"), trace=trace).value == 17
    assert one(TokenCount(max_tokens=20), trace=trace).value is False
    assert one(TokenCount(), trace=_trace(_span("c", "TOOL", None))).value is None
    with pytest.raises(InvalidArgumentError, match="choose one of"):
        TokenCount(kind="cached")


def test_cosine() -> None:
    assert cosine([1, 0], [1, 0]) == pytest.approx(1.0)
    assert cosine([1, 0], [0, 2]) == pytest.approx(0.0)
    assert cosine([0, 0], [1, 1]) == 0.0


def test_embedding_similarity_needs_an_expected_response() -> None:
    result = one(EmbeddingSimilarity(), expectations={})
    assert result.error == "EmbeddingSimilarity needs expectations.expected_response"
    with pytest.raises(InvalidArgumentError, match="between -1 and 1"):
        EmbeddingSimilarity(threshold=2)


def test_endpoint_limiter_keeps_the_strictest_rate() -> None:
    from spyglass.evaluator.scorers.judges import endpoints

    endpoints.reset()
    try:
        first = endpoints._limiter("http://a/v1", 10)
        assert endpoints._limiter("http://a/v1", 2.5) is first and first.rate == 2.5
        assert endpoints._limiter("http://a/v1", 50).rate == 2.5  # a looser ask keeps 2.5/s
        assert endpoints._limiter("http://b/v1", 50).rate == 50  # per endpoint
        assert all(first.try_acquire("t", blocking=False) for _ in range(5))  # 5 per 2 s
        assert first.try_acquire("t", blocking=False) is False
    finally:
        endpoints.reset()
