"""The web UI's evaluation run pages over two runs of 5,000 records each: Compare two runs
(all records, only changed, only regressions) and one run's results table, each timed beside
the bare ListEvaluationResults calls that read the same records in the same run.

Two runs over the same 5,000 questions are logged through EvaluationService (three scorers: a
code score, a judge verdict stored as 1/0 with its label, and a scorer that fails on every
50th record; outputs of ~40 words, a fifth of them reworded in run B so that the diff and the
changed filters have work to do). A collector runs in this process and every request is made
on its own event loop, so the figures are server time (see ``benchmarks/ui_traces.py``):

* page: ``GET /runs/compare?a=&b=[&show=...]`` or ``GET /runs/{b}`` through the collector's
  ASGI app, with a session as a browser has;
* calls: the ListEvaluationResults calls in-process (pages of 1,000) that read both runs'
  records (one run's for the run page), i.e. the data the page needs;
* CPU: the process CPU time of the same requests, a figure that holds on a busy machine
  (wall-clock figures there include waiting for the CPU).

Each figure is the median of ``--runs`` requests after one warm-up; the goal is at most 1 s
for the comparison. Run: ``python benchmarks/ui_runs.py [--records 5000] [--stores
sqlite,postgresql]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from harness import fresh_store
from ui_traces import OnLoop, http_client, median_ms

from spyglass.collector.server import Collector
from spyglass.config import CollectorSettings
from spyglass.v1 import evaluation_pb2 as pb

GOAL_MS = 1000.0
BATCH = 1000
WORDS = [
    "refund",
    "order",
    "receipt",
    "days",
    "shipping",
    "warranty",
    "support",
    "account",
    "invoice",
    "return",
    "policy",
    "customer",
    "service",
    "store",
    "online",
    "delivery",
    "package",
    "tracking",
    "number",
    "email",
    "phone",
]
SCORERS = [
    pb.EvaluationScorer(name="correct", source_type="CODE", source_id="correct"),
    pb.EvaluationScorer(name="safety", source_type="LLM_JUDGE", source_id="openai:/gpt-4o-mini"),
    pb.EvaluationScorer(name="fluent", source_type="CODE", source_id="fluent"),
]


def _answer(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(40)) + "."


def _record(i: int, output: str, correct: float, verdict: str) -> pb.EvaluationRecord:
    safety = pb.EvaluationScore(
        name="safety",
        value_json="1.0" if verdict == "yes" else "0.0",
        score=1.0 if verdict == "yes" else 0.0,
        rationale="The reply is polite and gives no harmful advice.",
        metadata={"spyglass.label": verdict},
    )
    fluent = pb.EvaluationScore(name="fluent")
    if i % 50 == 0:
        fluent.error.error_code = "ScorerError"
        fluent.error.error_message = "the language model was unreachable"
    else:
        fluent.value_json, fluent.score = "0.9", 0.9
    return pb.EvaluationRecord(
        row_index=i,
        inputs_json=json.dumps({"question": f"Question number {i} about my order?"}),
        outputs_json=json.dumps(output),
        expectations_json=json.dumps({"expected_response": "Refunds take 5 days."}),
        scores=[
            pb.EvaluationScore(name="correct", value_json=str(correct), score=correct),
            safety,
            fluent,
        ],
    )


def _log(on: OnLoop, local: Any, name: str, records: list[pb.EvaluationRecord]) -> str:
    run = on.run(
        local.unary(
            "EvaluationService",
            "CreateEvaluationRun",
            pb.CreateEvaluationRunRequest(experiment_id="0", name=name, scorers=SCORERS),
            60,
        )
    )
    for start in range(0, len(records), BATCH):
        on.run(
            local.unary(
                "EvaluationService",
                "LogEvaluationResults",
                pb.LogEvaluationResultsRequest(
                    run_id=run.run_id, records=records[start : start + BATCH]
                ),
                120,
            )
        )
    on.run(
        local.unary(
            "EvaluationService",
            "FinishEvaluationRun",
            pb.FinishEvaluationRunRequest(run_id=run.run_id, status="FINISHED"),
            60,
        )
    )
    return str(run.run_id)


def load(on: OnLoop, local: Any, n: int) -> tuple[str, str]:
    rng = random.Random(7)
    a, b = [], []
    for i in range(n):
        output = _answer(rng)
        reworded = i % 5 == 0
        a.append(_record(i, output, 1.0, "yes"))
        b.append(
            _record(
                i,
                _answer(rng) if reworded else output,
                0.0 if reworded else 1.0,
                "no" if i % 10 == 0 else "yes",
            )
        )
    return _log(on, local, "A", a), _log(on, local, "B", b)


def cpu_ms(on: OnLoop, fn: Any, runs: int) -> float:
    """Median CPU milliseconds this process spends on ``fn`` (what the request costs
    whatever else the machine runs; PostgreSQL's own work is not in it)."""

    async def timed() -> float:
        started = time.process_time()
        await fn()
        return (time.process_time() - started) * 1000

    return statistics.median(on.run(timed()) for _ in range(runs))


def run(store: str, n: int, runs: int) -> None:
    with fresh_store(store) as url:
        settings = CollectorSettings.load(store=url, grpc_port=0, http_port=0, decode_workers=0)
        collector = Collector(settings).start_background()
        try:
            _measure(collector, store, n, runs)
        finally:
            collector.stop_background()


def _measure(collector: Collector, store: str, n: int, runs: int) -> None:
    on = OnLoop(collector)
    assert collector._http is not None
    local = collector._local
    browser = on.run(http_client(collector._http.config.app))
    try:
        a, b = load(on, local, n)

        async def read(run_ids: tuple[str, ...]) -> int:
            count = 0
            for run_id in run_ids:
                token = ""
                while True:
                    page = await local.unary(
                        "EvaluationService",
                        "ListEvaluationResults",
                        pb.ListEvaluationResultsRequest(
                            run_id=run_id, page_size=BATCH, page_token=token
                        ),
                        120,
                    )
                    count += len(page.records)
                    token = page.next_page_token
                    if not token:
                        break
            return count

        cases = [
            ("compare: all records", f"/runs/compare?a={a}&b={b}", (a, b)),
            ("compare: only changed", f"/runs/compare?a={a}&b={b}&show=changed", (a, b)),
            ("compare: only regressions", f"/runs/compare?a={a}&b={b}&show=regressions", (a, b)),
            ("run B: all records", f"/runs/{b}", (b,)),
            ("run B: failures of safety", f"/runs/{b}?scorer=safety&show=failed", (b,)),
            ("run B: sorted by correct", f"/runs/{b}?sort=correct&order=desc", (b,)),
        ]
        print(
            f"\nEvaluation run pages, two runs of {n:,} records ({store}); server ms, median of "
            f"{runs}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
            f"{'case':<30}{'page':>8}{'records':>9}{'calls':>8}{'page/calls':>12}"
            f"{'goal':>7}{'page CPU':>10}{'calls CPU':>11}"
        )
        for label, url, run_ids in cases:

            async def page(url: str = url) -> int:
                answer = await browser.get(url)
                assert answer.status_code == 200, answer.text[:500]
                return answer.text.count("<tr class=")

            async def calls(run_ids: tuple[str, ...] = run_ids) -> int:
                return await read(run_ids)

            page_ms, _ = median_ms(on, page, runs)
            calls_ms, records = median_ms(on, calls, runs)
            page_cpu, calls_cpu = cpu_ms(on, page, runs), cpu_ms(on, calls, runs)
            verdict = "ok" if page_ms <= GOAL_MS else "SLOW"
            print(
                f"{label:<30}{page_ms:>8.1f}{records:>9}{calls_ms:>8.1f}"
                f"{page_ms / calls_ms:>12.2f}{verdict:>7}{page_cpu:>10.1f}{calls_cpu:>11.1f}"
            )
    finally:
        on.run(browser.aclose())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    for store in args.stores.split(","):
        run(store, args.records, args.runs)


if __name__ == "__main__":
    main()
