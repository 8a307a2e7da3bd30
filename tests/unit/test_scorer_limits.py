"""Scorer limits without a collector: time limits of scorer calls and non-finite values.

A scorer call that overruns its time limit is that row's ``ScorerTimeoutError`` at the
deadline, the row's other scorers are scored, and the runner goes on (an async scorer is
cancelled; a sync one is abandoned in a daemon thread that never holds up the process's
exit). A scorer that returns NaN or an infinity — a float, a numpy float, a Feedback's value,
one Feedback of several — gets an error naming the scorer and the value, which the metrics
count as an error.
"""

from __future__ import annotations

import asyncio
import math
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from spyglass.config import EvaluatorSettings
from spyglass.errors import ConfigurationError, InvalidArgumentError
from spyglass.evaluator import deadlines
from spyglass.evaluator.data import normalize
from spyglass.evaluator.deadlines import TimeLimits
from spyglass.evaluator.execution import RowOutcome, ScoringPool, run_rows
from spyglass.evaluator.jobs import refs
from spyglass.evaluator.predict import Prediction
from spyglass.evaluator.results import compute_metrics
from spyglass.evaluator.scorers import (
    EmbeddingSimilarity,
    Feedback,
    Guidelines,
    Scorer,
    ScoreResult,
    scorer,
)
from spyglass.evaluator.worker.scoring import time_limits
from spyglass.evaluator.worker.serve import check_settings

TRACE_ID = "1" * 32


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown: lets the "hanging" scorers of a test return, so no thread outlives
    it (and the next test starts with no call overrunning)."""
    event = threading.Event()
    yield event
    event.set()
    wait_for_no_overrun()


def wait_for_no_overrun() -> None:
    deadline = time.monotonic() + 5
    while deadlines.overrunning_calls() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert deadlines.overrunning_calls() == 0


def score_rows(
    scorers: list[Scorer],
    rows: list[dict[str, Any]],
    limits: TimeLimits = TimeLimits(),
    workers: int = 4,
) -> list[RowOutcome]:
    """Rows with recorded outputs scored by the real row runner, in input order."""
    records, _ = normalize([{"inputs": r["inputs"], "outputs": r["outputs"]} for r in rows])

    def predict(record: Any) -> Prediction:
        return Prediction(record.outputs, TRACE_ID, created_trace=False)

    return run_rows(records, scorers, predict, workers, lambda ids: {}, lambda o: None, limits)


def by_name(outcome: RowOutcome) -> dict[str, ScoreResult]:
    return {r.name: r for r in outcome.scores}


@scorer
def length(outputs: Any) -> int:
    return len(str(outputs))


# -- time limits -------------------------------------------------------------------------------


def test_a_hanging_scorer_is_an_error_of_its_row_and_the_rest_is_scored(
    release: threading.Event,
) -> None:
    @scorer
    def stuck(inputs: dict) -> bool:  # type: ignore[type-arg]
        if inputs["q"] == "hang":
            release.wait(3600)  # as good as never, for this test
        return True

    rows = [{"inputs": {"q": q}, "outputs": q * 2} for q in ("a", "hang", "b")]
    began = time.monotonic()
    outcomes = score_rows([stuck, length], rows, TimeLimits(code=0.3))
    took = time.monotonic() - began

    assert took < 3, f"the runner waited {took:.1f} s for a scorer limited to 0.3 s"
    scores = [by_name(o) for o in outcomes]
    assert [s["length"].value for s in scores] == [2, 8, 2]
    assert scores[0]["stuck"].value is True and scores[2]["stuck"].value is True
    timed_out = scores[1]["stuck"]
    assert timed_out.error_type == "ScorerTimeoutError"
    assert timed_out.error == (
        "scorer 'stuck' did not return within 0.3 s on this row; give it more time with "
        "time_limit= on the scorer (e.g. @scorer(time_limit=120), Guidelines(..., "
        "time_limit=600)) or evaluate(scorer_time_limit=...), or make it faster"
    )
    metrics = compute_metrics([stuck, length], outcomes, ["count", "error_count"])
    assert (metrics["stuck/count"], metrics["stuck/error_count"]) == (2.0, 1.0)
    assert deadlines.overrunning_calls() == 1  # its thread is still busy...
    release.set()
    wait_for_no_overrun()  # ...until it returns


def test_a_scorers_own_time_limit_wins_and_the_message_says_so(release: threading.Event) -> None:
    @scorer(time_limit=0.2)
    def quick_or_nothing(outputs: Any) -> bool:
        release.wait(3600)
        return True

    @scorer
    def patient(outputs: Any) -> bool:
        time.sleep(0.5)  # longer than the other's limit, within the default one
        return True

    (outcome,) = score_rows(
        [quick_or_nothing, patient], [{"inputs": {}, "outputs": "x"}], TimeLimits(code=2.0)
    )
    scores = by_name(outcome)
    assert scores["patient"].value is True
    assert scores["quick_or_nothing"].error.startswith(
        "scorer 'quick_or_nothing' did not return within 0.2 s on this row; give it more "
        "time with a larger time_limit"
    )


def test_an_async_scorer_is_cancelled_at_its_limit() -> None:
    cancelled = threading.Event()

    @scorer(time_limit=0.2)
    async def dawdles(outputs: Any) -> bool:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return True

    (outcome,) = score_rows([dawdles], [{"inputs": {}, "outputs": "x"}])
    assert outcome.scores[0].error_type == "ScorerTimeoutError"
    assert cancelled.wait(5), "the coroutine was not cancelled"
    wait_for_no_overrun()  # cancelled, not abandoned: its thread is free again


def test_a_scorer_hanging_on_every_row_is_refused_once_enough_calls_overrun(
    release: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadlines, "MAX_OVERRUNNING", 2)

    @scorer
    def hangs(outputs: Any) -> bool:
        release.wait(3600)
        return True

    rows = [{"inputs": {"i": i}, "outputs": "x"} for i in range(10)]
    began = time.monotonic()
    outcomes = score_rows([hangs, length], rows, TimeLimits(code=0.3), workers=2)
    took = time.monotonic() - began

    errors = [o.scores[0].error for o in outcomes]
    waited = [e for e in errors if "did not return within 0.3 s" in e]
    refused = [e for e in errors if "was not run on this row" in e]
    # 2 overrun, plus at most one per other row in flight when they were counted
    assert 2 <= len(waited) <= 3 and len(waited) + len(refused) == 10, errors
    assert refused[0].startswith(
        "scorer 'hangs' was not run on this row: 2 of its calls on "
        "other rows are still running past its time limit of 0.3 s, "
        "so it seems to hang;"
    )
    assert all(o.scores[1].value == 1 for o in outcomes)
    assert took < 2.5, f"10 rows took {took:.1f} s: refused rows should not wait"
    assert deadlines.overrunning_calls() == len(waited)  # threads held stay bounded


def test_an_abandoned_scorer_does_not_hold_up_the_process_exit() -> None:
    program = textwrap.dedent("""
        import time
        from spyglass.evaluator.data import normalize
        from spyglass.evaluator.deadlines import TimeLimits
        from spyglass.evaluator.execution import ScoringPool
        from spyglass.evaluator.predict import Prediction
        from spyglass.evaluator.scorers import scorer

        @scorer
        def sleeper(outputs):
            time.sleep(3600)

        (record,), _ = normalize([{"inputs": {"q": 1}, "outputs": "x"}])
        pool = ScoringPool([sleeper], TimeLimits(code=0.2))
        (results,) = pool.score(record, Prediction("x", None, False), None)
        pool.close()
        print(results[0].error_type)
    """)
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ScorerTimeoutError"
    assert time.monotonic() - began < 15  # the sleeping thread did not keep it alive


def test_judges_and_model_scorers_get_the_judge_limit_others_the_code_limit() -> None:
    limits = TimeLimits(code=5, judge=50)
    judge = Guidelines(guidelines="Be polite.")
    assert limits.of(judge) == 50 and limits.of(EmbeddingSimilarity()) == 50
    assert limits.of(length) == 5
    assert limits.of(Guidelines(guidelines="Be polite.", time_limit=7, timeout=3)) == 7
    assert Guidelines(guidelines="x", timeout=3).model.timeout_s == 3  # per request, apart
    assert TimeLimits().of(judge) == 300 and TimeLimits().of(length) == 60
    # by reference, as jobs name them: "time_limit" is a parameter like the others
    made = refs.resolve({"type": "Guidelines", "guidelines": "Be polite.", "time_limit": 9})
    assert made.time_limit == 9.0
    service = time_limits(code=1, judge=2)
    assert "--judge-time-limit" in service.hint(judge)
    assert "--code-scorer-time-limit" in service.hint(length)


@pytest.mark.parametrize(
    "make, where",
    [
        (lambda: scorer(time_limit=0)(lambda outputs: 1), "@scorer(time_limit=...)"),
        (lambda: Guidelines(guidelines="x", time_limit=-1), "Guidelines(time_limit=...)"),
        (lambda: scorer(time_limit=math.inf)(lambda outputs: 1), "@scorer(time_limit=...)"),
        (lambda: scorer(time_limit="60")(lambda outputs: 1), "@scorer(time_limit=...)"),
    ],
)
def test_a_bad_time_limit_is_refused_when_the_scorer_is_made(make: Any, where: str) -> None:
    with pytest.raises(
        InvalidArgumentError, match=rf"^{re.escape(where)} must be a number of seconds > 0"
    ):
        make()


def test_evaluate_refuses_a_bad_scorer_time_limit_before_anything_runs() -> None:
    from spyglass.evaluator import evaluate

    with pytest.raises(
        InvalidArgumentError,
        match=r"evaluate\(scorer_time_limit=\.\.\.\) must be a number of "
        r"seconds > 0 .*got 0",
    ):
        evaluate([{"inputs": {"q": 1}, "outputs": "x"}], [length], scorer_time_limit=0)


def test_the_service_settings_have_flags_env_vars_and_checked_values() -> None:
    defaults = EvaluatorSettings.load(env={})
    assert defaults.code_scorer_time_limit == deadlines.DEFAULT_CODE_TIME_LIMIT == 60.0
    assert defaults.judge_time_limit == deadlines.DEFAULT_JUDGE_TIME_LIMIT == 300.0
    from_env = EvaluatorSettings.load(
        env={
            "SPYGLASS_EVALUATOR_CODE_SCORER_TIME_LIMIT": "2.5",
            "SPYGLASS_EVALUATOR_JUDGE_TIME_LIMIT": "30",
        }
    )
    assert (from_env.code_scorer_time_limit, from_env.judge_time_limit) == (2.5, 30.0)
    with pytest.raises(
        ConfigurationError, match="--judge-time-limit must be a number of seconds more than 0"
    ):
        check_settings(EvaluatorSettings.load(env={}, judge_time_limit=-1.0))
    with pytest.raises(ConfigurationError, match="--code-scorer-time-limit must be"):
        check_settings(EvaluatorSettings.load(env={}, code_scorer_time_limit=math.nan))

    from spyglass.cli import cli

    shown = CliRunner().invoke(cli, ["evaluator", "serve", "--help"]).output
    assert "--code-scorer-time-limit" in shown and "--judge-time-limit" in shown


# -- NaN and infinity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "returned, shown",
    [
        (math.nan, "returned nan"),
        (math.inf, "returned inf"),
        (-math.inf, "returned -inf"),
        (np.float64("nan"), "returned numpy.float64(nan)"),
        (np.float32("inf"), "returned numpy.float32(inf)"),
        (Feedback(value=math.nan, rationale="?"), "returned a Feedback with value=nan"),
        (Feedback(value=np.float64("-inf")), "returned a Feedback with value=numpy.float64(-inf)"),
        ([Feedback(value=math.nan)], "returned a Feedback with value=nan"),
        (
            ScoreResult(name="odd", value=math.inf, score=math.inf),
            "returned a ScoreResult with value=inf",
        ),
    ],
)
def test_a_non_finite_value_is_an_error_naming_the_scorer_and_the_value(
    returned: Any, shown: str
) -> None:
    @scorer(name="odd")
    def odd(outputs: Any) -> Any:
        return returned

    (result,) = odd.run(inputs={}, outputs="x", expectations={})
    assert result.error == (
        f"scorer 'odd' {shown}, which is not a score; return a finite "
        "number, or None when the row does not apply"
    )
    assert result.error_type == "NonFiniteScoreError"
    assert result.value is None and not result.scored


def test_one_non_finite_feedback_of_several_errs_alone() -> None:
    @scorer
    def several(outputs: Any) -> list[Feedback]:
        return [
            Feedback(name="fine", value=0.5),
            Feedback(name="broken", value=math.nan),
            Feedback(name="flag", value=True),
        ]

    fine, broken, flag = several.run(inputs={}, outputs="x", expectations={})
    assert (fine.score, flag.score) == (0.5, 1.0)
    assert broken.name == "broken" and broken.error.startswith(
        "scorer 'several' returned a Feedback named 'broken' with value=nan, which is not a score"
    )


def test_finite_values_and_not_applicable_are_unchanged() -> None:
    @scorer
    def fine(outputs: Any) -> Any:
        return outputs

    for value, score in [(np.float64(0.25), 0.25), (3, 3.0), (True, 1.0), ("yes", 1.0)]:
        (result,) = fine.run(inputs={}, outputs=value, expectations={})
        assert result.error is None and result.score == score
    (skipped,) = fine.run(inputs={}, outputs=None, expectations={})
    assert skipped.error is None and math.isnan(skipped.score)  # not applicable, no error


def test_metrics_count_a_non_finite_row_as_an_error() -> None:
    @scorer
    def ratio(inputs: dict) -> float:  # type: ignore[type-arg]
        return inputs["hits"] / inputs["total"] if inputs["total"] else math.nan

    rows = [
        {"inputs": {"hits": 1, "total": 2}, "outputs": "a"},
        {"inputs": {"hits": 0, "total": 0}, "outputs": "b"},
        {"inputs": {"hits": 3, "total": 4}, "outputs": "c"},
    ]
    outcomes = score_rows([ratio], rows)
    metrics = compute_metrics([ratio], outcomes, ["count", "error_count"])
    assert metrics["ratio/score"] == pytest.approx(0.625)
    assert (metrics["ratio/count"], metrics["ratio/error_count"]) == (2.0, 1.0)
    assert outcomes[1].scores[0].error_type == "NonFiniteScoreError"


def test_scoring_pool_still_scores_a_row_without_time_limits_in_the_way() -> None:
    (record,), _ = normalize([{"inputs": {"q": 1}, "outputs": "abc"}])
    pool = ScoringPool([length])
    (results,) = pool.score(record, Prediction("abc", None, False), None)
    pool.close()
    assert results[0].value == 3
