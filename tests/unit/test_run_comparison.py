"""spyglass.run_comparison: what counts as changed, a regression and an improvement, and
the UI's word diff of two outputs."""

from __future__ import annotations

import math

from spyglass.collector.ui.pages.runs import text_diff
from spyglass.entities import AssessmentError, EvaluationRecord, EvaluationScore
from spyglass.run_comparison import match_records, metric_deltas, score_changes
from spyglass.score_labels import LABEL_METADATA, score_text, stored_value


def record(i: int, *scores: EvaluationScore, input_hash: str = "", rid: str | None = None):  # type: ignore[no-untyped-def]
    return EvaluationRecord(
        row_index=i,
        input_hash=input_hash or f"h{i}",
        inputs={"q": i},
        expectations={},
        dataset_record_id=rid,
        scores=list(scores),
    )


def score(name: str, value: object, number: float | None) -> EvaluationScore:
    return EvaluationScore(name=name, value=value, score=number)


def failed(name: str, message: str) -> EvaluationScore:
    return EvaluationScore(name=name, error=AssessmentError("ScorerError", message))


def test_changes_regressions_and_improvements() -> None:
    a = record(
        0,
        score("same", 1, 1.0),
        score("down", 1, 1.0),
        score("up", 0, 0.0),
        score("broke", 1, 1.0),
        failed("fixed", "boom"),
        score("relabel", "x", None),
    )
    b = record(
        0,
        score("same", 1, 1.0),
        score("down", 0, 0.0),
        score("up", 1, 1.0),
        failed("broke", "timeout"),
        score("fixed", 1, 1.0),
        score("relabel", "y", None),
    )
    changes = {c.name: c for c in score_changes(a, b)}
    assert not changes["same"].changed
    assert changes["down"].regression and changes["down"].delta == -1.0
    assert changes["up"].improvement and not changes["up"].regression
    assert changes["broke"].regression and changes["broke"].value_b == "error: timeout"
    assert math.isnan(changes["broke"].delta)
    assert changes["fixed"].improvement and not changes["fixed"].regression
    relabel = changes["relabel"]
    assert relabel.changed and not relabel.regression and not relabel.improvement


def test_a_verdict_compares_by_its_word() -> None:
    yes = EvaluationScore(name="j", value=1.0, score=1.0, metadata={LABEL_METADATA: "yes"})
    no = EvaluationScore(name="j", value=0.0, score=0.0, metadata={LABEL_METADATA: "no"})
    (change,) = score_changes(record(0, yes), record(0, no))
    assert (change.value_a, change.value_b, change.regression) == ("yes", "no", True)


def test_records_match_by_dataset_id_then_inputs() -> None:
    a = [record(0, rid="r1"), record(1, input_hash="x"), record(2, input_hash="lonely")]
    b = [record(5, input_hash="x"), record(6, rid="r1"), record(7, input_hash="other")]
    pairs, only_a, only_b = match_records(a, b)
    assert [(x.row_index, y.row_index) for x, y in pairs] == [(0, 6), (1, 5)]
    assert [r.row_index for r in only_a] == [2] and [r.row_index for r in only_b] == [7]


def test_metric_deltas_cover_both_runs() -> None:
    deltas = metric_deltas({"m/score": 0.5, "only_a": 1.0}, {"m/score": 0.75, "only_b": 2.0})
    assert deltas["m/score"] == 0.25
    assert math.isnan(deltas["only_a"]) and math.isnan(deltas["only_b"])


def test_a_verdict_is_stored_as_its_number_with_its_label() -> None:
    assert stored_value("no", 0.0) == (0.0, "no")
    assert stored_value(0.75, 0.75) == (0.75, None)
    assert stored_value("fine", math.nan) == ("fine", None)
    assert score_text(0.0, {LABEL_METADATA: "no"}) == "0.000 (no)"
    assert score_text(0.5, {}) == "0.500"


def test_the_diff_marks_the_changed_words_on_each_side() -> None:
    side_a, side_b = text_diff("Refunds take 5 days.", "Refunds take 3 days, sorry.")
    assert [t for k, t in side_a if k == "del"] == ["5", "days."]
    assert [t for k, t in side_b if k == "ins"] == ["3", "days, sorry."]
    assert "".join(t for _, t in side_a) == "Refunds take 5 days."
    assert "".join(t for _, t in side_b) == "Refunds take 3 days, sorry."
