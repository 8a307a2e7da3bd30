"""Arize Phoenix's side of the peers benchmark, run by the peers' virtual environment's python.

``python phoenix_driver.py WORKLOAD_JSON BASE_URL``: against a running ``phoenix serve``
(its default SQLite store), the three workloads of ``peers_common.py`` through Phoenix's public
API: OTLP/HTTP to ``/v1/traces`` (project ``default``), ``Client().traces.get_traces`` and
``Client().spans.get_spans``; an experiment (``AsyncClient().experiments.run_experiment``)
with ``phoenix.evals`` LLM judges (CorrectnessEvaluator and a guidelines classifier) on the
local OpenAI-compatible server. Prints its figures as JSON on the last line. Imports only
phoenix, openai, opentelemetry/openinference and the standard library.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from peers_common import (
    GUIDELINES,
    MODEL,
    WARMUP_RECORDS,
    Workload,
    dataset,
    ingest,
    median_seconds,
    prompt,
    run_workloads,
)

PROJECT = "default"  # where Phoenix files spans whose resource names no project
GUIDELINES_PROMPT = (
    "You judge whether a response follows these guidelines: {guidelines}\n\n"
    "Question: {{input}}\nResponse: {{output}}\n\n"
    "Does the response follow the guidelines? Answer pass or fail."
)


def main() -> None:
    workload = Workload.from_json(sys.argv[1])
    base_url = sys.argv[2]
    from phoenix.client import Client

    client = Client(base_url=base_url)

    def count_spans() -> int:
        everything = workload.warmup_spans + workload.spans + 1
        spans = client.spans.get_spans(project_identifier=PROJECT, limit=everything)
        return len(spans)

    def step_ingest() -> dict[str, Any]:
        return ingest(workload, f"{base_url}/v1/traces", {}, count_spans)

    def step_search() -> dict[str, Any]:
        def search() -> int:
            # get_traces' spans are summaries (no attributes, inputs or outputs): the full
            # spans of the newest traces come from get_spans by trace id
            found = client.traces.get_traces(
                project_identifier=PROJECT, limit=workload.search_traces
            )
            spans = client.spans.get_spans(
                project_identifier=PROJECT,
                trace_ids=[t["trace_id"] for t in found],
                limit=10 * len(found) + 1,
            )
            if len(spans) != 10 * len(found) or not all(s.get("attributes") for s in spans):
                raise RuntimeError("a searched trace came back without its 10 full spans")
            return len(found)

        seconds, _ = median_seconds(search, workload.search_runs, workload.search_traces)
        return {"search_s": seconds}

    def step_evaluate() -> dict[str, Any]:
        return asyncio.run(evaluate(workload, base_url))

    run_workloads(
        workload, {"ingest": step_ingest, "search": step_search, "evaluate": step_evaluate}
    )


async def evaluate(workload: Workload, base_url: str) -> dict[str, Any]:
    """A Phoenix experiment over the shared dataset (uploaded as a Phoenix dataset): the task
    makes one chat call (traced by the OpenInference OpenAI instrumentor into Phoenix), then
    a correctness judge, a guidelines judge and one code evaluator, ``workers`` at a time."""
    import openai
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from phoenix.client import AsyncClient
    from phoenix.evals import LLM, bind_evaluator, create_classifier
    from phoenix.evals.metrics import CorrectnessEvaluator
    from phoenix.otel import register

    os.environ["OPENAI_BASE_URL"] = workload.llm_base_url
    os.environ["OPENAI_API_KEY"] = "sk-bench"
    provider = register(
        project_name="peers-evaluate", endpoint=f"{base_url}/v1/traces", batch=True, verbose=False
    )
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    chat = openai.AsyncOpenAI(max_retries=0)
    phoenix = AsyncClient(base_url=base_url)
    rows = dataset(workload.records)
    data, warmup = [
        await phoenix.datasets.create_dataset(
            name=f"peers-{name}-{time.time_ns()}",
            inputs=[{"question": r["question"]} for r in part],
            outputs=[{"expected_response": r["expected_response"]} for r in part],
        )
        for name, part in (("timed", rows), ("warm-up", rows[:WARMUP_RECORDS]))
    ]

    async def answer(input: dict[str, Any]) -> str:
        response = await chat.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": prompt(input["question"])}]
        )
        return response.choices[0].message.content or ""

    def mentions_days(output: str) -> bool:
        return "days" in output

    pace = {"initial_per_second_request_rate": workload.phoenix_judge_rate}
    llm = LLM(provider="openai", model=MODEL, **(pace if workload.phoenix_judge_rate else {}))
    mapping = {"input": "input.question", "output": "output"}
    correctness = bind_evaluator(evaluator=CorrectnessEvaluator(llm=llm), input_mapping=mapping)
    guidelines = bind_evaluator(
        evaluator=create_classifier(
            name="guidelines",
            prompt_template=GUIDELINES_PROMPT.format(guidelines=GUIDELINES),
            llm=llm,
            choices={"pass": 1.0, "fail": 0.0},
        ),
        input_mapping=mapping,
    )

    async def run(data: Any) -> tuple[Any, float]:
        started = time.perf_counter()
        ran = await phoenix.experiments.run_experiment(
            dataset=data,
            task=answer,
            evaluators=[correctness, guidelines, mentions_days],
            concurrency=workload.workers,
            print_summary=False,
        )
        return ran, time.perf_counter() - started

    await run(warmup)  # first-call costs (imports, connections) off the clock
    ran, elapsed = await run(data)
    provider.force_flush()
    return {"evaluate_s": elapsed, "evaluate_metrics": _means(ran)}


def _means(ran: Any) -> dict[str, float]:
    """Each evaluator's mean score over the experiment's evaluation runs."""
    scores: dict[str, list[float]] = {}
    for run in ran["evaluation_runs"]:
        result = run.result or {}
        score = result.get("score") if isinstance(result, dict) else None
        if score is not None:
            scores.setdefault(run.name, []).append(float(score))
    return {f"{name}/mean": round(sum(v) / len(v), 3) for name, v in scores.items()}


if __name__ == "__main__":
    main()
