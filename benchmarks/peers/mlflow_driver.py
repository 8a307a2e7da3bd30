"""MLflow's side of the peers benchmark, run by the peers' virtual environment's python.

``python mlflow_driver.py WORKLOAD_JSON TRACKING_URI``: against a running ``mlflow server``
(SQLite backend store), the three workloads of ``peers_common.py`` through MLflow's public API:
OTLP/HTTP to the server's ``/v1/traces`` (experiment in the ``x-mlflow-experiment-id``
header) and ``mlflow.search_traces``; ``mlflow.genai.evaluate`` with the Correctness and
Guidelines LLM judges on the local OpenAI-compatible server. Prints its figures as JSON on
the last line. Imports only mlflow, openai and the standard library.
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


def main() -> None:
    workload = Workload.from_json(sys.argv[1])
    tracking_uri = sys.argv[2]
    os.environ["MLFLOW_GENAI_EVAL_MAX_WORKERS"] = str(workload.workers)
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    experiment = mlflow.set_experiment("peers-ingest").experiment_id

    def traces(max_results: int | None = None) -> list[Any]:
        return mlflow.search_traces(
            locations=[experiment], max_results=max_results, return_type="list"
        )

    def count_spans() -> int:
        return sum(len(t.data.spans) for t in traces())

    def step_ingest() -> dict[str, Any]:
        url = f"{tracking_uri}/v1/traces"
        return ingest(workload, url, {"x-mlflow-experiment-id": experiment}, count_spans)

    def step_search() -> dict[str, Any]:
        def search() -> int:
            found = traces(workload.search_traces)
            if sum(len(t.data.spans) for t in found) != 10 * len(found):
                raise RuntimeError("a searched trace came back without its 10 spans")
            return len(found)

        seconds, _ = median_seconds(search, workload.search_runs, workload.search_traces)
        return {"search_s": seconds}

    def step_evaluate() -> dict[str, Any]:
        return evaluate(workload)

    run_workloads(
        workload, {"ingest": step_ingest, "search": step_search, "evaluate": step_evaluate}
    )


def evaluate(workload: Workload) -> dict[str, Any]:
    """``mlflow.genai.evaluate`` of the shared dataset: predict (one chat call, autologged),
    Correctness and Guidelines judges on ``openai:/gpt-4o-mini``, one code scorer."""
    import mlflow
    import openai
    from mlflow.genai.scorers import Correctness, Guidelines, scorer

    os.environ["OPENAI_BASE_URL"] = workload.llm_base_url
    os.environ["OPENAI_API_KEY"] = "sk-bench"
    mlflow.set_experiment("peers-evaluate")
    mlflow.openai.autolog()
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
    judge = f"openai:/{MODEL}"
    scorers = [
        Correctness(model=judge),
        Guidelines(guidelines=GUIDELINES, model=judge),
        mentions_days,
    ]
    mlflow.genai.evaluate(data=data[:WARMUP_RECORDS], predict_fn=answer, scorers=scorers)
    started = time.perf_counter()
    result = mlflow.genai.evaluate(data=data, predict_fn=answer, scorers=scorers)
    elapsed = time.perf_counter() - started
    scores = {k: round(v, 3) for k, v in result.metrics.items() if k.endswith("/mean")}
    return {"evaluate_s": elapsed, "evaluate_metrics": scores}


if __name__ == "__main__":
    main()
