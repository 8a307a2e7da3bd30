"""Spyglass's side of the peers benchmark, run in the project's virtual environment.

``python spyglass_side.py WORKLOAD_JSON GRPC_ADDRESS HTTP_PORT``: against a running
``spyglass collector start``, the three workloads of ``peers_common.py`` through Spyglass's public
API (OTLP/HTTP ingest then ``spyglass.search_traces``; ``spyglass.evaluate`` with its LLM
judges); prints its figures as JSON on the last line.
"""

from __future__ import annotations

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

INGEST_EXPERIMENT = "peers-ingest"
EVAL_EXPERIMENT = "peers-evaluate"


def main() -> None:
    workload = Workload.from_json(sys.argv[1])
    address, http_port = sys.argv[2], int(sys.argv[3])
    os.environ.pop("SPYGLASS_COLLECTOR", None)
    import spyglass

    spyglass.configure(collector=address)
    experiment = spyglass.set_experiment(INGEST_EXPERIMENT).experiment_id

    def all_traces(max_results: int | None = None) -> list[Any]:
        return spyglass.search_traces(
            experiment_ids=[experiment], max_results=max_results, return_type="list"
        )

    def count_spans() -> int:
        return sum(len(t.data.spans) for t in all_traces())

    def step_ingest() -> dict[str, Any]:
        url = f"http://127.0.0.1:{http_port}/v1/traces"
        return ingest(workload, url, {"x-spyglass-experiment": INGEST_EXPERIMENT}, count_spans)

    def step_search() -> dict[str, Any]:
        def search() -> int:
            traces = all_traces(workload.search_traces)
            if sum(len(t.data.spans) for t in traces) != 10 * len(traces):
                raise RuntimeError("a searched trace came back without its 10 spans")
            return len(traces)

        seconds, _ = median_seconds(search, workload.search_runs, workload.search_traces)
        return {"search_s": seconds}

    def step_evaluate() -> dict[str, Any]:
        return evaluate(workload)

    run_workloads(
        workload, {"ingest": step_ingest, "search": step_search, "evaluate": step_evaluate}
    )


def evaluate(workload: Workload) -> dict[str, Any]:
    """``spyglass.evaluate`` of the shared dataset: predict (one chat call, autologged),
    Correctness and Guidelines judges, one code scorer."""
    import openai

    import spyglass
    from spyglass.evaluator import evaluate as run_evaluation
    from spyglass.evaluator.scorers import Correctness, Guidelines, scorer

    os.environ["OPENAI_BASE_URL"] = workload.llm_base_url
    os.environ["OPENAI_API_KEY"] = "sk-bench"
    spyglass.set_experiment(EVAL_EXPERIMENT)
    spyglass.openai.autolog()
    client = openai.OpenAI(max_retries=0)

    def answer(question: str) -> str:
        response = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": prompt(question)}]
        )
        return response.choices[0].message.content or ""

    @scorer
    def mentions_days(outputs: str) -> bool:
        return "days" in outputs

    data = [
        {
            "inputs": {"question": row["question"]},
            "expectations": {"expected_response": row["expected_response"]},
        }
        for row in dataset(workload.records)
    ]
    scorers = [Correctness(), Guidelines(guidelines=GUIDELINES), mentions_days]
    run_evaluation(data[:WARMUP_RECORDS], scorers, predict_fn=answer, max_workers=workload.workers)
    started = time.perf_counter()
    result = run_evaluation(data, scorers, predict_fn=answer, max_workers=workload.workers)
    elapsed = time.perf_counter() - started
    scores = {k: round(v, 3) for k, v in result.metrics.items() if k.endswith("/score")}
    return {"evaluate_s": elapsed, "evaluate_metrics": scores}


if __name__ == "__main__":
    main()
