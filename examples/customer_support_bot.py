"""Evaluation-driven development end to end: `make demo`.

The six steps of the workflow users run (trace → search → expectations → dataset → evaluate →
iterate), on the embedded default: ``./spyglass.db`` (SQLite) and a collector started in this
process. With ``OPENAI_API_KEY`` set, the bot and the judges call OpenAI (or whatever
``OPENAI_BASE_URL`` names); without it, a small local OpenAI-compatible stand-in that ships
with Spyglass answers instead, and the output says so.

Runs again and again on the same database: the dataset is fetched when it exists, merges
update records instead of duplicating them, and every evaluation is a new run.
"""

from __future__ import annotations

import os
from typing import ClassVar

import openai
import pandas as pd

import spyglass
from spyglass.errors import AlreadyExistsError
from spyglass.evaluator import compare_runs, evaluate
from spyglass.evaluator.datasets import create_dataset, get_dataset, set_dataset_tags
from spyglass.evaluator.scorers import Correctness, Guidelines, scorer
from spyglass.score_means import score_means

QUESTIONS = [
    "How do I get a refund?",
    "Can I get a refund without a receipt?",
    "How long does shipping take?",
    "Is there a warranty on laptops?",
    "Do you sell gift cards?",
]
DATASET = "customer_support_qa_v1"
FACTS = {  # what a correct answer states: the ground truth the Correctness judge checks
    "How do I get a refund?": ["Full refunds within 30 days", "with receipt"],
    "Can I get a refund without a receipt?": ["Refunds need a receipt"],
    "How long does shipping take?": ["5-7 days", "Express"],
    "Is there a warranty on laptops?": ["1-year manufacturer warranty"],
    "Do you sell gift cards?": ["No policy covers gift cards"],
    "Can I return an item after 45 days?": ["Refunds only within 30 days"],
    "Do you ship internationally?": ["Standard shipping takes 5-7 days", "Express"],
}


# -- 1. Build and trace the app ----------------------------------------------------------------


class CustomerSupportBot:
    """The app under evaluation: answers support questions from a small knowledge base."""

    system_prompt = "You are a helpful support assistant."

    def __init__(self) -> None:
        self.client = openai.OpenAI()
        self.knowledge_base = {
            "refund": "Full refunds within 30 days with receipt.",
            "shipping": "Standard: 5-7 days. Express available.",
            "warranty": "1-year manufacturer warranty included.",
        }

    @spyglass.trace
    def answer(self, question: str) -> str:
        context = self._get_context(question)
        r = self.client.chat.completions.create(
            model="gpt-4o-mini",
            temperature=0.3,
            messages=[
                {"role": "system", "content": self.system_prompt},
                {"role": "user", "content": f"Context: {context}\n\nQuestion: {question}"},
            ],
        )
        return r.choices[0].message.content

    @spyglass.trace(span_type="RETRIEVER")
    def _get_context(self, question: str) -> str:
        topics = [text for key, text in self.knowledge_base.items() if key in question.lower()]
        return " ".join(topics) or "No matching policy found."


class CustomerSupportBotV2(CustomerSupportBot):
    """The iteration: retrieval that also understands how customers phrase things, so
    "return an item" finds the refund policy and "ship internationally" the shipping one."""

    system_prompt = (
        "You are a helpful, professional support assistant. Answer only from the "
        "context and quote the policy's numbers exactly."
    )
    synonyms: ClassVar[dict[str, tuple[str, ...]]] = {
        "refund": ("return", "money back"),
        "shipping": ("ship", "deliver"),
        "warranty": ("broken", "repair"),
    }

    @spyglass.trace(span_type="RETRIEVER")
    def _get_context(self, question: str) -> str:
        q = question.lower()
        topics = [
            text
            for key, text in self.knowledge_base.items()
            if key in q or any(word in q for word in self.synonyms.get(key, ()))
        ]
        return " ".join(topics) or "No matching policy found."


# -- the workflow ------------------------------------------------------------------------------


def capture_traces(bot: CustomerSupportBot) -> None:
    """2. Each call is one trace in the active experiment."""
    for question in QUESTIONS:
        print(f"  Q: {question}\n  A: {bot.answer(question)}")


def add_expectations() -> int:
    """3. Ground truth on the traces (the facts a correct answer states, and what the refund
    answers must mention); searchable right after the calls returned."""
    traces = spyglass.search_traces(max_results=10, return_type="list")
    labelled = 0
    for trace in traces:
        root = trace.data._get_root_span()
        question = root.inputs.get("question", "") if root and root.inputs else ""
        if question not in FACTS:
            continue
        spyglass.log_expectation(
            trace_id=trace.info.trace_id, name="expected_facts", value=FACTS[question]
        )
        if "refund" in question.lower():
            spyglass.log_expectation(
                trace_id=trace.info.trace_id,
                name="key_information",
                value={"must_mention": ["30 days", "receipt"], "tone": "helpful"},
            )
        labelled += 1
    return labelled


def build_dataset():  # type: ignore[no-untyped-def]
    """4. Records from traces, from dicts and from a DataFrame, merged by their inputs."""
    exp = spyglass.get_experiment_by_name("Customer Support Bot")
    try:
        dataset = create_dataset(
            name=DATASET,
            experiment_id=exp.experiment_id,
            tags={"stage": "validation", "domain": "customer_support"},
        )
    except AlreadyExistsError:  # an earlier `make demo` made it: keep growing the same one
        dataset = get_dataset(name=DATASET)
    dataset.merge_records(spyglass.search_traces(max_results=100, return_type="list"))
    dataset.merge_records(
        [
            {
                "inputs": {"question": "Can I return an item after 45 days?"},
                "expectations": {
                    "expected_facts": FACTS["Can I return an item after 45 days?"],
                    "tone": "apologetic",
                },
            },
            {
                "inputs": {"question": "Do you ship internationally?"},
                "expectations": {"expected_facts": FACTS["Do you ship internationally?"]},
            },
        ]
    )
    dataset.merge_records(
        pd.DataFrame(
            {
                "inputs": [
                    {"question": "How long does shipping take?"},
                    {"question": "Is there a warranty on laptops?"},
                ],
                "expectations": [
                    {"expected_facts": FACTS["How long does shipping take?"]},
                    {"expected_facts": FACTS["Is there a warranty on laptops?"]},
                ],
            }
        )
    )
    set_dataset_tags(dataset_id=dataset.dataset_id, tags={"environment": "dev"})
    df = dataset.to_df()
    same = get_dataset(name=DATASET)
    print(
        f"  dataset {same.name}: {len(df)} records, digest {same.digest[:12]}, "
        f"sources {df['source_type'].value_counts().to_dict()}"
    )
    return same


@scorer
def contains_required_info(outputs: str, expectations: dict) -> float:
    """Share of the must-mention terms the answer contains (step 3's expectation)."""
    info = expectations.get("key_information", expectations)
    if "must_mention" not in info:
        return 1.0
    found = [t for t in info["must_mention"] if t in outputs.lower()]
    return len(found) / len(info["must_mention"])


def run_evaluation(dataset, bot: CustomerSupportBot, model_id: str):  # type: ignore[no-untyped-def]
    """5. Predict, score with two judges and a code scorer, write the scores back."""
    results = evaluate(
        data=dataset,
        predict_fn=bot.answer,
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
    for mean in score_means(results.metrics):
        print(f"  {mean.name}/score = {mean}")
    table = results.tables["eval_results_table"]
    scored = table[table["factual_accuracy/score"].notna()]
    weak = scored[scored["factual_accuracy/score"] < 0.8]["inputs.question"]
    failed = len(table) - len(scored)
    print(
        f"  {len(weak)} of {len(scored)} scored answers are below 0.8 on factual accuracy"
        + (f" ({failed} could not be judged: see factual_accuracy/error)" if failed else "")
        + (f": {list(weak)}" if len(weak) else "")
    )
    return results


def main() -> None:
    stand_in = _stand_in_llm()
    try:
        spyglass.set_experiment("Customer Support Bot")
        spyglass.openai.autolog()
        bot = CustomerSupportBot()
        print("\n2. Capture traces")
        capture_traces(bot)
        print(f"\n3. Expectations logged on {add_expectations()} traces")
        print("\n4. Build the evaluation dataset")
        dataset = build_dataset()
        print("\n5. Evaluate customer-support-bot-v1")
        v1 = run_evaluation(dataset, bot, "customer-support-bot-v1")
        print("\n6. Iterate: evaluate customer-support-bot-v2 on the same dataset and compare")
        v2 = run_evaluation(dataset, CustomerSupportBotV2(), "customer-support-bot-v2")
        comparison = compare_runs(v1.run_id, v2.run_id)
        print(comparison)
        print(
            f"\nDone. Runs {v1.run_id} and {v2.run_id} are stored in ./spyglass.db; "
            f"list them with `spyglass eval list`.\n"
            "Look at the traces, build datasets from them and see the runs in the browser:\n"
            "    make ui   (or `spyglass ui` in the virtual environment), then open "
            "http://127.0.0.1:4318/"
        )
    finally:
        spyglass.flush()
        if stand_in is not None:
            stand_in.stop()


def _stand_in_llm():  # type: ignore[no-untyped-def]
    """No OPENAI_API_KEY: start the local OpenAI-compatible stand-in and point openai at it."""
    if os.environ.get("OPENAI_API_KEY"):
        print("Using OpenAI (OPENAI_API_KEY is set).")
        return None
    from spyglass.local_llm import LocalLLM

    server = LocalLLM().start()
    os.environ["OPENAI_BASE_URL"] = server.base_url
    os.environ["OPENAI_API_KEY"] = "sk-local-stand-in"
    print(
        f"OPENAI_API_KEY is not set: using Spyglass's local OpenAI-compatible stand-in at "
        f"{server.base_url}.\nIts answers come from the given context and its judges follow "
        f"a simple rule; set OPENAI_API_KEY to use a real model."
    )
    return server


if __name__ == "__main__":
    main()
