"""Scorers that hang or return NaN/infinity, against a real collector on SQLite and PostgreSQL.

- ``evaluate()``: a scorer that never returns on one row is that row's timeout error once
  ``scorer_time_limit`` has passed, the other rows and scorers are scored, the call returns
  promptly and the stored run holds the errors; NaN and infinity (a float, a numpy float, one
  Feedback of several) are stored errors and counted in ``error_count``.
- ``spyglass evaluator serve`` (a real child process, ``--scorers-module`` scorers): a scorer
  that sleeps for an hour on some rows does not hold the job RUNNING: with
  ``--code-scorer-time-limit 1`` those rows get the error, every chunk is released done and
  the job finishes; non-finite values are errors of their rows; SIGTERM still exits at once.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from processes import REPO_ROOT

from spyglass import session
from spyglass.collector.server import Collector
from spyglass.evaluator import evaluate, submit_job, wait_for_job
from spyglass.evaluator.datasets import create_dataset
from spyglass.evaluator.runs import get_evaluation_results, get_evaluation_run
from spyglass.evaluator.scorers import Feedback, scorer

sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))
from service_support import IMPORT_ROOTS, EvaluatorProcess

NOT_A_SCORE = ", which is not a score; return a finite number, or None when the row does not apply"


@pytest.fixture
def address(
    start_collector: Callable[..., Collector], store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A collector on each store kind, this process's session on it."""
    monkeypatch.delenv("SPYGLASS_COLLECTOR", raising=False)
    monkeypatch.delenv("SPYGLASS_API_KEY", raising=False)
    collector = start_collector(store_url)
    found = f"127.0.0.1:{collector.grpc_port}"
    session.configure(collector=found, experiment="limits")
    yield found
    session._shutdown()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown, so the test's hanging scorer returns and no thread outlives it."""
    event = threading.Event()
    yield event
    event.set()


def test_evaluate_times_out_a_hanging_scorer_and_flags_non_finite_values(
    address: str, release: threading.Event
) -> None:
    @scorer
    def stalls(inputs: dict) -> bool:  # type: ignore[type-arg]
        if inputs["i"] == 1:
            release.wait(3600)  # never, as far as this evaluation can tell
        return True

    @scorer
    def ratio(inputs: dict) -> Any:  # type: ignore[type-arg]
        return {0: 0.5, 1: 1.0, 2: math.nan, 3: np.float64("inf")}[inputs["i"]]

    @scorer
    def parts(inputs: dict) -> list[Feedback]:  # type: ignore[type-arg]
        return [
            Feedback(name="part_a", value=0.25),
            Feedback(name="part_b", value=-math.inf if inputs["i"] == 0 else 0.75),
        ]

    data = [{"inputs": {"i": i}, "outputs": f"answer {i}"} for i in range(4)]
    began = time.monotonic()
    result = evaluate(
        data, [stalls, ratio, parts], scorer_time_limit=0.5, aggregations=["count", "error_count"]
    )
    took = time.monotonic() - began

    assert took < 10, f"evaluate() took {took:.1f} s with a 0.5 s scorer time limit"
    table = result.tables["eval_results_table"]
    assert table["stalls/score"].tolist()[0::2] == [1.0, 1.0]
    assert table.loc[1, "stalls/error"] == (
        "scorer 'stalls' did not return within 0.5 s on this row; give it more time with "
        "time_limit= on the scorer (e.g. @scorer(time_limit=120), Guidelines(..., "
        "time_limit=600)) or evaluate(scorer_time_limit=...), or make it faster"
    )
    assert table.loc[2, "ratio/error"] == f"scorer 'ratio' returned nan{NOT_A_SCORE}"
    assert table.loc[3, "ratio/error"] == f"scorer 'ratio' returned numpy.float64(inf){NOT_A_SCORE}"
    assert (
        table.loc[0, "part_b/error"]
        == f"scorer 'parts' returned a Feedback named 'part_b' with value=-inf{NOT_A_SCORE}"
    )
    assert table["part_a/score"].tolist() == [0.25] * 4
    metrics = result.metrics
    assert (metrics["stalls/count"], metrics["stalls/error_count"]) == (3.0, 1.0)
    assert (metrics["ratio/count"], metrics["ratio/error_count"]) == (2.0, 2.0)
    assert metrics["ratio/score"] == pytest.approx(0.75)
    assert (metrics["part_b/count"], metrics["part_b/error_count"]) == (3.0, 1.0)

    run = get_evaluation_run(result.run_id)
    assert run.status == "FINISHED" and run.record_count == 4
    stored = {
        r.row_index: {s.name: s for s in r.scores} for r in get_evaluation_results(result.run_id)
    }
    assert sorted(stored) == [0, 1, 2, 3]
    timed_out = stored[1]["stalls"].error
    assert timed_out.error_code == "ScorerTimeoutError"
    assert "did not return within 0.5 s" in timed_out.error_message
    assert stored[1]["ratio"].error is None and stored[1]["ratio"].value == 1.0
    assert stored[2]["ratio"].error.error_code == "NonFiniteScoreError"
    assert stored[2]["ratio"].error.error_message == f"scorer 'ratio' returned nan{NOT_A_SCORE}"
    assert stored[2]["ratio"].value is None
    assert "value=-inf" in stored[0]["part_b"].error.error_message


SCORERS_MODULE = """
    import math
    import time

    import numpy as np

    from spyglass.evaluator.scorers import Feedback, scorer


    @scorer
    def sleeps_on_odd(inputs):
        if inputs["i"] % 2:
            time.sleep(3600)
        return True


    @scorer
    def not_finite(inputs):
        return {1: math.nan, 2: np.float32("inf")}.get(inputs["i"], 0.5)


    @scorer
    def parts(inputs):
        return [Feedback(name="part_a", value=1.0),
                Feedback(name="part_b", value=math.nan if inputs["i"] == 0 else 0.0)]
"""


def test_serve_finishes_a_job_whose_scorer_never_returns(address: str, tmp_path: Path) -> None:
    (tmp_path / "limit_scorers.py").write_text(textwrap.dedent(SCORERS_MODULE))
    create_dataset("rows").merge_records(
        [{"inputs": {"i": i}, "outputs": f"answer {i}"} for i in range(6)]
    )
    worker = EvaluatorProcess(
        address,
        tmp_path,
        "worker",
        {"PYTHONPATH": os.pathsep.join([*IMPORT_ROOTS, str(tmp_path)])},
        scorers_module="limit_scorers",
        code_scorer_time_limit=1,
        lease_seconds=3,
        poll_seconds=0.2,
        concurrency=4,
    )
    try:
        worker.wait_ready()
        job = submit_job(
            dataset="rows", chunk_size=3, scorers=["sleeps_on_odd", "not_finite", "parts"]
        )
        done = wait_for_job(job.job_id, timeout=30, poll=0.2)

        assert (done.status, done.rows_done, done.chunks_done, done.chunks_failed) == (
            "FINISHED",
            6,
            2,
            0,
        ), worker.log()
        errors = {e.name: e for e in done.errors}
        assert errors["sleeps_on_odd"].count == 3
        assert errors["sleeps_on_odd"].last_error == (
            "scorer 'sleeps_on_odd' did not return within 1 s on this row; give it more time "
            "with \"time_limit\" in the job's scorer params or the evaluator's "
            "--code-scorer-time-limit, or make it faster"
        )
        assert errors["not_finite"].count == 2 and errors["part_b"].count == 1
        assert "part_a" not in errors

        stored = {
            r.row_index: {s.name: s for s in r.scores} for r in get_evaluation_results(done.run_id)
        }
        assert sorted(stored) == list(range(6))
        for i, scores in stored.items():
            assert (scores["sleeps_on_odd"].error is None) is (i % 2 == 0)
            assert scores["part_a"].value == 1.0
        assert stored[1]["sleeps_on_odd"].error.error_code == "ScorerTimeoutError"
        assert (
            stored[1]["not_finite"].error.error_message
            == f"scorer 'not_finite' returned nan{NOT_A_SCORE}"
        )
        assert (
            stored[2]["not_finite"].error.error_message
            == f"scorer 'not_finite' returned numpy.float32(inf){NOT_A_SCORE}"
        )
        assert stored[0]["part_b"].error.error_message == (
            f"scorer 'parts' returned a Feedback named 'part_b' with value=nan{NOT_A_SCORE}"
        )
        assert stored[4]["not_finite"].value == 0.5
        assert worker.metric("spyglass_evaluator_overrunning_scorer_calls") == 3
        assert worker.metric("spyglass_evaluator_chunks_total", outcome="done") == 2
        assert worker.metric("spyglass_evaluator_leases_held") == 0

        # the abandoned calls hold threads, not the shutdown
        started = time.monotonic()
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(15) == 0, worker.log()
        assert time.monotonic() - started < 10
    finally:
        worker.kill()
