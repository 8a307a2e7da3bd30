"""The seed workflow (shared/seed-workflow.md, steps 1–6) exactly as users write it, on the
embedded collector and on a collector over PostgreSQL, with the real ``openai`` client talking
to the local OpenAI-compatible server."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import openai
import pandas as pd
import pytest
from processes import run_demo

import spyglass
from spyglass.local_llm import LocalLLM


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalLLM]:
    with LocalLLM() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-seed-workflow")
        yield server
    spyglass.openai.autolog(disable=True)


# -- step 1, verbatim ---------------------------------------------------------------------------


class CustomerSupportBot:
    def __init__(self):
        self.client = openai.OpenAI()
        self.knowledge_base = {
            "refund": "Full refunds within 30 days with receipt.",
            "shipping": "Standard: 5-7 days. Express available.",
            "warranty": "1-year manufacturer warranty included.",
        }

    @spyglass.trace
    def answer(self, question: str) -> str:  # inputs {"question": ...}, output the str
        context = self._get_context(question)
        r = self.client.chat.completions.create(
            model="gpt-4o-mini",
            temperature=0.3,
            messages=[
                {"role": "system", "content": "You are a helpful support assistant."},
                {"role": "user", "content": f"Context: {context}\n\nQuestion: {question}"},
            ],
        )
        return r.choices[0].message.content

    def _get_context(self, question: str) -> str:
        return " ".join(v for k, v in self.knowledge_base.items() if k in question.lower())


class CustomerSupportBotV2(CustomerSupportBot):
    @spyglass.trace
    def answer(self, question: str) -> str:
        context = self._get_context(question)
        r = self.client.chat.completions.create(
            model="gpt-4o-mini",
            temperature=0.0,
            messages=[
                {"role": "system", "content": "Quote the policy exactly."},
                {"role": "user", "content": f"Context: {context}\n\nQuestion: {question}"},
            ],
        )
        return r.choices[0].message.content


QUESTIONS = [
    "How do I get a refund?",
    "Can I get a refund without a receipt?",
    "How long does shipping take?",
    "Is there a warranty?",
    "Do you sell gift cards?",
]


def test_seed_workflow_runs_as_written(spyglass_session: str, llm: LocalLLM) -> None:
    from spyglass.evaluator import compare_runs, get_evaluation_run
    from spyglass.evaluator.datasets import create_dataset, get_dataset, set_dataset_tags
    from spyglass.evaluator.scorers import Correctness, Guidelines, scorer

    # 1. build and trace the app
    spyglass.set_experiment("Customer Support Bot")
    spyglass.openai.autolog()
    bot = CustomerSupportBot()

    # 2. capture traces
    answers = [bot.answer(q) for q in QUESTIONS]
    assert all(isinstance(a, str) and a for a in answers)

    # 3. expectations, searchable right after the calls returned
    traces = spyglass.search_traces(max_results=10, return_type="list")
    assert len(traces) == len(QUESTIONS)
    for trace in traces:
        root = trace.data._get_root_span()
        question = root.inputs.get("question", "") if root and root.inputs else ""
        if "refund" in question.lower():
            spyglass.log_expectation(
                trace_id=trace.info.trace_id,
                name="key_information",
                value={"must_mention": ["30 days", "receipt"], "tone": "helpful"},
            )
    chat_spans = [s for t in traces for s in t.data.spans if s.span_type == "CHAT_MODEL"]
    assert len(chat_spans) == len(QUESTIONS)
    assert all(s.parent_id for s in chat_spans)

    # 4. dataset from traces, dicts and a DataFrame
    exp = spyglass.get_experiment_by_name("Customer Support Bot")
    dataset = create_dataset(
        name="customer_support_qa_v1",
        experiment_id=exp.experiment_id,
        tags={"stage": "validation", "domain": "customer_support"},
    )
    dataset.merge_records(spyglass.search_traces(max_results=100, return_type="list"))
    dataset.merge_records(
        [
            {
                "inputs": {"question": "Can I return an item after 45 days?"},
                "expectations": {"should_clarify": "30-day policy", "tone": "apologetic"},
            },
            {
                "inputs": {"question": "Do you ship internationally?"},
                "expectations": {"provides_alternatives": True},
            },
        ]
    )
    frame = pd.DataFrame(
        {
            "inputs": [{"question": "How long does shipping take?"}],
            "expectations": [{"expected_facts": ["5-7 days"]}],
        }
    )
    dataset.merge_records(frame)
    set_dataset_tags(dataset_id=dataset.dataset_id, tags={"environment": "dev"})
    df = dataset.to_df()
    same = get_dataset(name="customer_support_qa_v1")
    assert len(df) == len(QUESTIONS) + 2  # the shipping row was updated, not duplicated
    assert same.tags == {"stage": "validation", "domain": "customer_support", "environment": "dev"}
    assert same.digest == dataset.digest  # merge_records returned the updated dataset
    by_question = {r["question"]: row for r, row in zip(df["inputs"], df.itertuples())}
    shipping = by_question["How long does shipping take?"]
    assert shipping.source_type == "TRACE" and shipping.expectations == {
        "expected_facts": ["5-7 days"]
    }
    refund = by_question["How do I get a refund?"]
    assert refund.expectations == {
        "key_information": {"must_mention": ["30 days", "receipt"], "tone": "helpful"}
    }
    assert by_question["Do you ship internationally?"].source_type == "HUMAN"

    # 5. evaluate
    @scorer
    def contains_required_info(outputs: str, expectations: dict) -> float:
        if "must_mention" not in expectations:
            return 1.0
        found = [t for t in expectations["must_mention"] if t in outputs.lower()]
        return len(found) / len(expectations["must_mention"])

    results = evaluate_v(
        dataset,
        bot.answer,
        "customer-support-bot-v1",
        Correctness,
        Guidelines,
        contains_required_info,
    )
    table = results.tables["eval_results_table"]
    assert len(table) == len(df)
    assert table["factual_accuracy/score"].dtype == float
    weak = table[table["factual_accuracy/score"] < 0.8]["inputs.question"]
    assert set(weak) <= set(table["inputs.question"])
    scored = table["factual_accuracy/score"].notna()
    assert scored.sum() == 1  # only the shipping record has expected facts
    errors = table.loc[~scored, "factual_accuracy/error"]
    assert all("expected_response or expected_facts" in e for e in errors)
    assert results.metrics["contains_required_info/score"] == 1.0
    assert not math.isnan(results.metrics["support_quality/score"])

    # the scores are on the rows' traces and the run is stored
    fed_back = spyglass.search_traces(
        filter_string="feedback.support_quality IS NOT NULL", return_type="list"
    )
    assert {t.info.trace_id for t in fed_back} == set(table["trace_id"])
    run = get_evaluation_run(results.run_id)
    assert run.model_id == "customer-support-bot-v1" and run.dataset_digest == dataset.digest

    # 6. iterate and compare
    v2 = evaluate_v(
        dataset,
        CustomerSupportBotV2().answer,
        "customer-support-bot-v2",
        Correctness,
        Guidelines,
        contains_required_info,
    )
    comparison = compare_runs(results.run_id, v2.run_id)
    assert "support_quality/score" in comparison.metric_deltas


def evaluate_v(dataset, predict_fn, model_id, Correctness, Guidelines, contains_required_info):  # type: ignore[no-untyped-def]
    """Step 5's call, verbatim."""
    from spyglass.evaluator import evaluate

    results = evaluate(
        data=dataset,
        predict_fn=predict_fn,
        model_id=model_id,
        scorers=[
            Correctness(name="factual_accuracy"),
            Guidelines(
                name="support_quality",
                guidelines="Response must be helpful, accurate, and professional",
            ),
            contains_required_info,
        ],
    )
    results.metrics["factual_accuracy/score"]
    return results


def test_demo_runs_twice_on_the_same_database(tmp_path: Path) -> None:
    """`make demo`'s script, twice in a row over one ./spyglass.db, with the stand-in LLM."""
    for _ in range(2):
        done = run_demo(tmp_path)
        assert "local OpenAI-compatible stand-in" in done.stdout
        assert "factual_accuracy/score = " in done.stdout
        assert "(7 scored, 0 errors)" in done.stdout
        assert "could not be judged" not in done.stdout
        assert "ScorerErrorsWarning" not in done.stderr
    assert (tmp_path / "spyglass.db").exists()
    # every row of every run the demo stored was scored by every scorer: none errored
    from spyglass import session
    from spyglass.evaluator import search_evaluation_runs

    session.configure(store=f"sqlite:///{tmp_path / 'spyglass.db'}")
    try:
        runs = search_evaluation_runs()
        assert len(runs) == 4
        for run in runs:
            assert run.status == "FINISHED" and run.record_count == 7, run
            names = [k.removesuffix("/score") for k in run.metrics if k.endswith("/score")]
            assert sorted(names) == [
                "contains_required_info",
                "factual_accuracy",
                "support_quality",
            ]
            for name in names:
                assert run.metrics[f"{name}/error_count"] == 0, (name, run.metrics)
                assert run.metrics[f"{name}/count"] == 7, (name, run.metrics)
    finally:
        session._shutdown()
