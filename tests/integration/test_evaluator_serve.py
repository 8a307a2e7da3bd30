"""``spyglass evaluator serve`` as a real child process against a real collector (SQLite):
it scores a dataset job (built-in, import-path and registered scorers) and a trace job
(expectations joined from a dataset), builds a dataset, answers /healthz, /readyz and
/metrics, and on SIGTERM exits 0 giving its lease back, so another worker finishes the job
with every row stored once.

The worker processes come from the evaluator service's end-to-end helpers
(``tests/e2e/service_support.py``).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from processes import REPO_ROOT, wait_until

import spyglass
from spyglass import session
from spyglass.annotations import log_expectation
from spyglass.collector.server import Collector
from spyglass.evaluator import get_job, submit_job, wait_for_job
from spyglass.evaluator.datasets import create_dataset, get_dataset
from spyglass.evaluator.runs import get_evaluation_results, get_evaluation_run
from spyglass.local_llm import LocalLLM

sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))
from service_support import EvaluatorProcess

FIXTURES = "scorer_fixtures.support_scorers"
WORKER_ENV = {"PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "tests")])}
API_KEY = "worker-key"
FAST = {"lease_seconds": 3, "poll_seconds": 0.2, "concurrency": 4, "api_key": API_KEY}


@pytest.fixture
def address(
    start_collector: Callable[..., Collector], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A collector on SQLite that wants an API key, this process's session on it,
    experiment "svc" active."""
    monkeypatch.delenv("SPYGLASS_COLLECTOR", raising=False)
    monkeypatch.delenv("SPYGLASS_API_KEY", raising=False)
    collector = start_collector(f"sqlite:///{tmp_path / 'spyglass.db'}", api_keys=(API_KEY,))
    found = f"127.0.0.1:{collector.grpc_port}"
    session.configure(collector=found, experiment="svc", api_key=API_KEY)
    yield found
    session._shutdown()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[EvaluatorProcess]]:
    started: list[EvaluatorProcess] = []
    yield started
    for worker in started:
        worker.kill()


def start_worker(
    workers: list[EvaluatorProcess],
    address: str,
    log_dir: Path,
    env: dict[str, str] | None = None,
    **flags: Any,
) -> EvaluatorProcess:
    worker = EvaluatorProcess(
        address,
        log_dir,
        f"worker{len(workers)}",
        {**WORKER_ENV, **(env or {})},
        **{**FAST, **flags},
    )
    workers.append(worker)
    return worker.wait_ready()


def answer(i: int) -> str:
    return f"refund in {i} days" if i % 3 else "no idea"


def qa_dataset(rows: int) -> None:
    create_dataset("qa").merge_records(
        [
            {
                "inputs": {"q": f"question {i}"},
                "outputs": answer(i),
                "expectations": {"expected_response": f"refund in {i} days"},
            }
            for i in range(rows)
        ]
    )


def scores_by_row(run_id: str) -> dict[int, dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for record in get_evaluation_results(run_id):
        assert record.row_index not in rows, f"row {record.row_index} stored twice"
        rows[record.row_index] = {s.name: s for s in record.scores}
    return rows


def test_serve_scores_jobs_builds_a_dataset_and_reports_health(
    address: str, workers: list[EvaluatorProcess], tmp_path: Path
) -> None:
    qa_dataset(12)
    worker = start_worker(workers, address, tmp_path, scorers_module=FIXTURES)
    assert worker.get("/healthz").status_code == 200
    assert worker.get("/readyz").text == "ready\n"

    job = submit_job(
        dataset="qa",
        chunk_size=5,
        build_dataset="qa-built",
        scorers=["ExactMatch", f"{FIXTURES}:mentions_refund", "concise"],
    )
    done = wait_for_job(job.job_id, timeout=60, poll=0.2)

    assert (done.status, done.rows_done, done.chunks_done) == ("FINISHED", 12, 3), worker.log()
    rows = scores_by_row(done.run_id)
    assert sorted(rows) == list(range(12))
    for i, scores in rows.items():
        assert scores["exact_match"].value is (i % 3 != 0)
        assert scores["mentions_refund"].value is (i % 3 != 0)
        assert scores["concise"].value is True
    built = get_dataset(name="qa-built")
    assert built.record_count == 12
    assert sorted(r.inputs["q"] for r in built.records) == sorted(
        f"question {i}" for i in range(12)
    )
    assert worker.metric("spyglass_evaluator_rows_scored_total", kind="job") == 12
    assert worker.metric("spyglass_evaluator_chunks_total", outcome="done") == 3
    assert worker.metric("spyglass_evaluator_leases_held") == 0
    assert worker.metric("spyglass_evaluator_live_workers") == 1
    assert "claimed job " + job.job_id in worker.log()

    # a trace job: root spans' inputs and outputs, expectations joined from "qa" by inputs,
    # a trace's own expectation winning, a deleted trace an error of its row
    trace_ids = []
    for i in range(4):
        with spyglass.start_span("support") as span:
            span.set_inputs({"q": f"question {i}"})
            span.set_outputs(answer(i))
        trace_ids.append(span.trace_id)
    spyglass.flush()
    log_expectation(trace_id=trace_ids[1], name="expected_response", value="something else")
    traced = submit_job(
        experiment="svc",
        filter_string="attributes.name = 'support'",
        expectations_dataset="qa",
        scorers=["ExactMatch"],
    )
    session.client().delete_traces(trace_ids=[trace_ids[3]])
    done = wait_for_job(traced.job_id, timeout=60, poll=0.2)

    assert done.status == "FINISHED", (done, worker.log())
    results = {r.trace_id: r for r in get_evaluation_results(done.run_id)}
    exact = {t: r.scores[0] for t, r in results.items() if t}
    assert exact[trace_ids[0]].value is False  # "no idea" vs the dataset's answer
    assert exact[trace_ids[1]].value is False  # its own expectation won
    assert exact[trace_ids[2]].value is True
    gone = [r for r in results.values() if r.error and trace_ids[3] in r.error]
    assert len(gone) == 1 and "not found" in gone[0].error


def test_sigterm_gives_the_lease_back_and_another_worker_finishes(
    address: str, workers: list[EvaluatorProcess], tmp_path: Path
) -> None:
    qa_dataset(40)
    first = start_worker(workers, address, tmp_path, shutdown_grace=5)
    job = submit_job(
        dataset="qa",
        scorers=[  # one chunk of 40 rows, 4 at a time: 2.5 s
            {"type": "tests.e2e.service_scorers:slowly", "seconds": 0.25},
            "ExactMatch",
        ],
    )
    wait_until(lambda: get_job(job.job_id).chunks_leased == 1, 30, "the chunk claimed")
    time.sleep(0.5)  # rows are being scored

    started = time.monotonic()
    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(20) == 0, first.log()
    assert time.monotonic() - started < 10
    log = first.log()
    assert "shutting down" in log and f"job {job.job_id} chunk 0: given_back;" in log, log
    stopped = get_job(job.job_id)  # rows in flight were stored, the chunk is free again
    assert stopped.chunks_leased == 0 and stopped.status == "RUNNING", stopped
    assert 0 < stopped.rows_done < 40 and stopped.chunks_failed == 0

    second = start_worker(workers, address, tmp_path)
    done = wait_for_job(job.job_id, timeout=60, poll=0.2)
    assert (done.status, done.rows_done, done.rows_with_errors) == ("FINISHED", 40, 0), second.log()
    rows = scores_by_row(done.run_id)
    assert sorted(rows) == list(range(40))
    assert Counter(name for scores in rows.values() for name in scores) == {
        "slow_days": 40,
        "exact_match": 40,
    }


def test_judges_run_in_the_worker_and_their_tokens_reach_the_run(
    address: str, workers: list[EvaluatorProcess], tmp_path: Path, llm: LocalLLM
) -> None:
    qa_dataset(6)
    worker = start_worker(
        workers,
        address,
        tmp_path,
        judge_rate_limit=100,
        env={"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "sk-local"},
    )
    job = submit_job(
        dataset="qa",
        chunk_size=4,
        scorers=[{"type": "Guidelines", "name": "polite", "guidelines": "The answer is polite."}],
    )
    done = wait_for_job(job.job_id, timeout=60, poll=0.2)

    assert (done.status, done.rows_done, done.rows_with_errors) == ("FINISHED", 6, 0), worker.log()
    rows = scores_by_row(done.run_id)
    assert sorted(rows) == list(range(6))
    assert all(scores["polite"].value == 1.0 for scores in rows.values())  # "yes", stored as 1
    assert all(scores["polite"].metadata["spyglass.label"] == "yes" for scores in rows.values())
    run = get_evaluation_run(done.run_id)
    assert run.judge_input_tokens > 0 and run.judge_output_tokens > 0  # from ReleaseLease
    assert worker.metric("spyglass_evaluator_judge_latency_seconds_count") == 6
    assert "judges paced at 100 requests/s per endpoint" in worker.log()
    # the judge calls are traces of their own, beside the job's experiment, not in it
    scored_in = spyglass.get_experiment_by_name("svc").experiment_id
    assert run.experiment_id == scored_in
    wait_until(
        lambda: spyglass.get_experiment_by_name("svc (judge calls)") is not None,
        30,
        "the judge experiment",
    )
    judges = spyglass.get_experiment_by_name("svc (judge calls)").experiment_id

    def judge_traces() -> int:
        return len(spyglass.search_traces(experiment_ids=[judges], return_type="list"))

    wait_until(lambda: judge_traces() == 6, 30, "six judge traces")
    assert (
        spyglass.search_traces(
            experiment_ids=[scored_in],
            return_type="list",
            filter_string="tags.`spyglass.judge` = 'polite'",
        )
        == []
    )
