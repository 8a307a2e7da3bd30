"""evaluate()'s pieces that need no collector: input normalisation, metrics, the results
table, the write-back messages, record matching for compare_runs, and scorers run in
parallel per row (with plain code scorers)."""

from __future__ import annotations

import json
import math
import threading
import time

import pandas as pd
import pytest

from spyglass.entities import (
    EvaluationRecord,
    EvaluationScore,
    Expectation,
    Span,
    Trace,
    TraceData,
    TraceInfo,
)
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.compare import match_records
from spyglass.evaluator.data import normalize
from spyglass.evaluator.execution import RowOutcome, ScoringPool
from spyglass.evaluator.harness import _check_scorers, _max_workers, judge_usage
from spyglass.evaluator.predict import Prediction
from spyglass.evaluator.results import (
    EvaluationResult,
    build_table,
    check_aggregations,
    compute_metrics,
    scorer_error_messages,
)
from spyglass.evaluator.scorers import Feedback, ScoreResult, scorer
from spyglass.evaluator.writeback import record_message
from spyglass.v1 import assessments_pb2 as apb

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


@scorer
def exact(outputs, expectations):  # type: ignore[no-untyped-def]
    return outputs == expectations.get("answer")


@scorer(aggregations=["min", "max", "median", "p90", "std", "count", "error_count"])
def length(outputs):  # type: ignore[no-untyped-def]
    return len(outputs)


@scorer
def two(outputs):  # type: ignore[no-untyped-def]
    return [
        Feedback(name="polite", value="yes", rationale="says please"),
        Feedback(name="short", value=len(outputs) < 5),
    ]


@scorer
def picky(inputs):  # type: ignore[no-untyped-def]
    if inputs["q"] == "boom":
        raise ValueError("cannot score boom")
    return None if inputs["q"] == "skip" else 0.5


def outcomes_for(rows: list[tuple[dict, str, dict]], scorers: list) -> list[RowOutcome]:  # type: ignore[type-arg]
    """RowOutcomes as the harness builds them, scoring with the real ScoringPool."""
    records, _ = normalize([{"inputs": i, "expectations": e} for i, _, e in rows])
    pool = ScoringPool(scorers)
    try:
        out = []
        for record, (_, outputs, _) in zip(records, rows):
            prediction = Prediction(outputs, f"{record.index + 1:032x}", created_trace=True)
            out.append(RowOutcome(record, prediction, pool.score(record, prediction, None)))
        return out
    finally:
        pool.close()


ROWS = [
    ({"q": "a"}, "abc", {"answer": "abc"}),
    ({"q": "boom"}, "xyzzy", {"answer": "no"}),
    ({"q": "skip"}, "hello world", {}),
]


# -- metrics --------------------------------------------------------------------------------


def test_metrics_mean_over_scored_rows_and_requested_aggregations() -> None:
    scorers = [exact, length, two, picky]
    outcomes = outcomes_for(ROWS, scorers)
    metrics = compute_metrics(scorers, outcomes, aggregations=["count"])
    assert metrics["exact/score"] == pytest.approx(1 / 3)
    assert metrics["length/score"] == pytest.approx((3 + 5 + 11) / 3)
    assert (metrics["length/min"], metrics["length/max"], metrics["length/median"]) == (3, 11, 5)
    assert metrics["length/p90"] == pytest.approx(9.8)
    assert metrics["length/std"] == pytest.approx(pd.Series([3, 5, 11]).std(ddof=0))
    assert metrics["length/count"] == 3 and metrics["length/error_count"] == 0
    # several Feedback: one metric per feedback name, none under the scorer's own name
    assert metrics["polite/score"] == 1.0 and metrics["short/score"] == pytest.approx(1 / 3)
    assert "two/score" not in metrics
    # the failing row and the not-applicable row are not scored
    assert metrics["picky/score"] == 0.5 and metrics["picky/count"] == 1
    assert metrics["exact/count"] == 3  # evaluate(aggregations=...) applies to every scorer


def test_every_scorer_has_a_score_metric_even_when_nothing_was_scored() -> None:
    @scorer(aggregations=["error_count", "min"])
    def always_fails(outputs):  # type: ignore[no-untyped-def]
        raise RuntimeError("judge down")

    outcomes = outcomes_for(ROWS, [always_fails])
    metrics = compute_metrics([always_fails], outcomes)
    assert math.isnan(metrics["always_fails/score"]) and math.isnan(metrics["always_fails/min"])
    assert metrics["always_fails/error_count"] == 3


def test_unknown_aggregation_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="p99"):
        check_aggregations(["p90", "p99"])
    assert check_aggregations("p90") == ["p90"] and check_aggregations(None) == []


# -- the table --------------------------------------------------------------------------------


def test_table_has_one_row_per_record_in_input_order_with_flat_columns() -> None:
    scorers = [exact, two, picky]
    outcomes = outcomes_for(ROWS, scorers)
    table = build_table(scorers, list(reversed(outcomes)))  # completion order does not matter
    assert list(table.columns[:4]) == ["inputs.q", "outputs", "expectations.answer", "trace_id"]
    assert list(table["inputs.q"]) == ["a", "boom", "skip"]
    assert table["expectations.answer"].tolist()[:2] == ["abc", "no"]
    assert table["expectations.answer"].isna().tolist() == [False, False, True]
    for name in ("exact", "polite", "short", "picky"):
        assert table[f"{name}/score"].dtype == float
        assert {f"{name}/value", f"{name}/rationale", f"{name}/error"} <= set(table.columns)
    assert table["exact/score"].tolist() == [1.0, 0.0, 0.0]
    assert table["exact/value"].tolist() == [True, False, False]
    assert table["polite/value"].tolist() == ["yes"] * 3
    assert table["polite/rationale"].tolist() == ["says please"] * 3
    assert table["picky/score"].isna().tolist() == [False, True, True]
    assert "cannot score boom" in table.loc[1, "picky/error"]
    assert table.loc[2, "picky/error"] is None and table.loc[2, "picky/value"] is None
    weak = table[table["exact/score"] < 0.8]["inputs.q"]  # the workflow's comparison
    assert list(weak) == ["boom", "skip"]


def test_result_repr_and_str_show_each_mean_with_its_counts() -> None:
    result = EvaluationResult(
        "r1",
        {"exact/score": 0.5, "exact/min": 0.0, "exact/count": 2.0, "exact/error_count": 5.0},
        {"eval_results_table": pd.DataFrame({"a": range(7)})},
    )
    assert repr(result) == (
        "EvaluationResult(run_id='r1', rows=7, exact=0.500 (2 scored, 5 errors))"
    )
    assert str(result).splitlines()[1].split(None, 1) == [
        "exact/score",
        "0.500 (2 scored, 5 errors)",
    ]


def test_every_scorer_gets_its_counts_and_one_warning_names_its_first_error() -> None:
    scorers = [exact, picky]
    outcomes = outcomes_for(ROWS, scorers)
    metrics = compute_metrics(scorers, outcomes)
    assert (metrics["picky/count"], metrics["picky/error_count"]) == (1, 1)
    assert (metrics["exact/count"], metrics["exact/error_count"]) == (3, 0)
    [message] = scorer_error_messages(scorers, list(reversed(outcomes)))
    assert message.startswith("scorer 'picky' failed on 1 of 3 row(s)")
    assert "first error (row 2): ValueError: cannot score boom" in message


# -- scorers of one row run at the same time ---------------------------------------------------


def test_scorers_of_one_row_run_in_parallel_and_keep_their_order() -> None:
    started = []
    barrier = threading.Barrier(3, timeout=5)

    def slow(name: str):  # type: ignore[no-untyped-def]
        def score(outputs):  # type: ignore[no-untyped-def]
            started.append(name)
            barrier.wait()  # only passes when all three run at once
            return name

        return scorer(name=name)(score)

    scorers = [slow("s1"), slow("s2"), slow("s3")]
    began = time.perf_counter()
    (outcome,) = outcomes_for([({"q": "x"}, "out", {})], scorers)
    assert time.perf_counter() - began < 5
    assert [r.value for r in outcome.scores] == ["s1", "s2", "s3"]
    assert sorted(started) == ["s1", "s2", "s3"]


def test_a_failed_prediction_is_an_error_for_every_scorer() -> None:
    records, _ = normalize([{"inputs": {"q": "a"}}])
    pool = ScoringPool([exact, length])
    failed = Prediction(None, TRACE_ID, True, error="predict_fn raised KeyError: 'x'")
    results = pool.score(records[0], failed, None)
    pool.close()
    assert [[r.name for r in rs] for rs in results] == [["exact"], ["length"]]
    assert all("predict_fn raised KeyError" in rs[0].error for rs in results)


# -- data normalisation ----------------------------------------------------------------------


def make_trace(
    trace_id: str, inputs: object, outputs: object, expectations: dict | None = None
) -> Trace:  # type: ignore[type-arg]
    root = Span(
        trace_id=trace_id,
        span_id="b7ad6b7169203331",
        parent_id=None,
        name="answer",
        span_type="CHAIN",
        start_time_ns=1,
        end_time_ns=2,
        status="OK",
        inputs=inputs,
        outputs=outputs,
    )
    info = TraceInfo(
        trace_id=trace_id,
        experiment_id="0",
        request_time=1,
        execution_duration=1,
        state="OK",
        assessments=[Expectation(name=k, value=v) for k, v in (expectations or {}).items()],
    )
    return Trace(info, TraceData([root]))


def test_dicts_traces_and_dataframes_become_records() -> None:
    trace = make_trace(
        TRACE_ID,
        {"question": "refund?"},
        "30 days",
        {"key_information": {"must_mention": ["30 days"]}},
    )
    records, dataset = normalize(
        [
            {
                "inputs": {"question": "a"},
                "outputs": "x",
                "expectations": {"k": 1},
                "trace_id": TRACE_ID,
            },
            trace,
        ]
    )
    assert dataset is None
    first, second = records
    assert (first.inputs, first.outputs, first.has_outputs, first.expectations, first.trace_id) == (
        {"question": "a"},
        "x",
        True,
        {"k": 1},
        TRACE_ID,
    )
    assert (second.inputs, second.outputs, second.trace_id, second.trace) == (
        {"question": "refund?"},
        "30 days",
        TRACE_ID,
        trace,
    )
    assert second.expectations == {"key_information": {"must_mention": ["30 days"]}}

    frame = pd.DataFrame(
        {
            "inputs": [{"q": 1}, {"q": 2}],
            "expectations": [{"e": 1}, None],
            "outputs": [None, "y"],
            "source_type": ["TRACE", "HUMAN"],
            "source_id": [TRACE_ID, None],
            "tags": [{}, {}],
        }
    )
    a, b = normalize(frame)[0]
    assert (a.expectations, a.has_outputs, a.trace_id) == ({"e": 1}, False, TRACE_ID)
    assert (b.expectations, b.outputs, b.trace_id) == ({}, "y", None)


def test_search_traces_frame_rows_carry_their_trace() -> None:
    trace = make_trace(TRACE_ID, {"question": "q"}, "answer")
    frame = pd.DataFrame(
        {"trace_id": [TRACE_ID], "trace": [trace], "outputs": ["answer"], "request_time": [1]}
    )
    (record,) = normalize(frame)[0]
    assert (record.inputs, record.trace, record.trace_id) == ({"question": "q"}, trace, TRACE_ID)


class FakeRecord:
    def __init__(
        self,
        rid: str,
        inputs: dict,
        source_type: str = "HUMAN",  # type: ignore[type-arg]
        source_id: str | None = None,
    ) -> None:
        self.dataset_record_id, self.inputs, self.expectations = rid, inputs, {"e": rid}
        self.outputs, self.source_type, self.source_id = None, source_type, source_id


class FakeDataset:
    dataset_id, name, digest, version = "d-1", "qa", "abc123", 3

    def __init__(self, records: list) -> None:  # type: ignore[type-arg]
        self.records = records


def test_a_dataset_gives_its_records_and_identity() -> None:
    records, dataset = normalize(
        FakeDataset([FakeRecord("r1", {"q": 1}), FakeRecord("r2", {"q": 2}, "TRACE", TRACE_ID)])
    )
    assert (dataset.dataset_id, dataset.name, dataset.digest, dataset.version) == (
        "d-1",
        "qa",
        "abc123",
        3,
    )
    assert [(r.dataset_record_id, r.trace_id, r.expectations) for r in records] == [
        ("r1", None, {"e": "r1"}),
        ("r2", TRACE_ID, {"e": "r2"}),
    ]
    with pytest.raises(InvalidArgumentError, match="has no records"):
        normalize(FakeDataset([]))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "no records"),
        ({"inputs": {}}, "evaluate\\(\\) takes a Dataset"),
        ([{"input": {"q": 1}}], "unknown key\\(s\\) input"),
        ([{"expectations": {}}], "has no 'inputs'"),
        ([{"inputs": "what?"}], "inputs must be a dict"),
        ([{"inputs": {"q": 1}, "expectations": ["a"]}], "expectations must be a dict"),
        ([{"inputs": {"q": 1}, "trace_id": 7}], "trace_id'\\] must be a trace id string"),
        ([42], "data\\[0\\] is a int"),
    ],
)
def test_bad_data_is_refused_with_what_to_fix(data: object, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        normalize(data)


def test_bad_scorers_and_worker_counts_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def plain(outputs):  # type: ignore[no-untyped-def]
        return True

    with pytest.raises(InvalidArgumentError, match="decorate the function with @scorer"):
        _check_scorers([plain])
    with pytest.raises(InvalidArgumentError, match="non-empty list"):
        _check_scorers([])
    with pytest.raises(InvalidArgumentError, match="two scorers are named 'exact'"):
        _check_scorers([exact, exact])
    assert _check_scorers(exact) == [exact]
    monkeypatch.delenv("SPYGLASS_EVAL_MAX_WORKERS", raising=False)
    assert _max_workers(None) == 16 and _max_workers(3) == 3
    monkeypatch.setenv("SPYGLASS_EVAL_MAX_WORKERS", "5")
    assert _max_workers(None) == 5
    monkeypatch.setenv("SPYGLASS_EVAL_MAX_WORKERS", "many")
    with pytest.raises(InvalidArgumentError, match="SPYGLASS_EVAL_MAX_WORKERS='many'"):
        _max_workers(None)
    with pytest.raises(InvalidArgumentError, match="at least 1"):
        _max_workers(0)


# -- write-back messages -----------------------------------------------------------------------


def test_a_row_becomes_one_record_message_with_its_scores() -> None:
    (outcome,) = outcomes_for([({"q": "boom"}, "out", {"answer": "out"})], [exact, picky])
    message = record_message(outcome)
    assert message.row_index == 0 and message.trace_id == f"{1:032x}"
    assert json.loads(message.inputs_json) == {"q": "boom"}
    assert json.loads(message.outputs_json) == "out"
    assert message.log_expectations  # the harness made this trace: expectations go on it
    ok, failed = message.scores
    assert (ok.name, json.loads(ok.value_json), ok.score) == ("exact", True, 1.0)
    assert ok.source.source_type == apb.AssessmentSource.CODE and ok.source.source_id == "exact"
    assert not failed.HasField("value_json") and not failed.HasField("score")
    assert failed.error.error_code == "ValueError"
    assert "cannot score boom" in failed.error.error_message
    assert "Traceback" in failed.error.stack_trace


def test_judge_usage_is_summed_per_model() -> None:
    records, _ = normalize([{"inputs": {"q": 1}}, {"inputs": {"q": 2}}])
    usage = {"model": "gpt-4o-mini", "input_tokens": 100, "output_tokens": 7}
    outcomes = [
        RowOutcome(
            r,
            Prediction("x", None, False),
            [
                [
                    ScoreResult(
                        name="j",
                        value="yes",
                        score=1.0,
                        source_type="LLM_JUDGE",
                        source_id="openai:/gpt-4o-mini",
                        usage=usage,
                    )
                ],
                [ScoreResult(name="c", value=1)],
            ],
        )
        for r in records
    ]
    assert judge_usage(outcomes) == {"gpt-4o-mini": (200, 14)}


# -- compare_runs' record matching ---------------------------------------------------------------


def record(i: int, rid: str | None, h: str, score: float) -> EvaluationRecord:
    return EvaluationRecord(
        row_index=i,
        input_hash=h,
        inputs={"i": i},
        expectations={},
        dataset_record_id=rid,
        scores=[EvaluationScore(name="s", value=score, score=score)],
    )


def test_records_match_by_dataset_record_id_then_by_inputs_hash() -> None:
    a = [record(0, "r1", "h1", 1.0), record(1, None, "h2", 1.0), record(2, None, "h3", 1.0)]
    b = [record(0, None, "h2", 0.0), record(1, "r1", "other", 1.0), record(2, None, "h4", 1.0)]
    pairs, only_a, only_b = match_records(a, b)
    assert [(x.row_index, y.row_index) for x, y in pairs] == [(0, 1), (1, 0)]
    assert [r.input_hash for r in only_a] == ["h3"] and [r.input_hash for r in only_b] == ["h4"]
