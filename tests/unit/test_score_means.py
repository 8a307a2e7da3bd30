"""The one way a mean score is shown: beside the rows scored and the rows that failed."""

from __future__ import annotations

import math

from spyglass.score_means import ScoreMean, mean_text, score_means


def test_a_mean_is_shown_with_its_scored_and_error_counts() -> None:
    assert mean_text(1.0, 3, 4) == "1.000 (3 scored, 4 errors)"
    assert mean_text(0.5, 2, 1) == "0.500 (2 scored, 1 error)"
    assert mean_text(math.nan, 0, 7) == "n/a (0 scored, 7 errors)"
    assert mean_text(None, 0, 0) == "n/a (0 scored, 0 errors)"
    assert mean_text(0.25, None, None) == "0.250"  # a run that did not record its counts


def test_score_means_reads_a_runs_metrics_in_order() -> None:
    metrics = {
        "b/score": 0.75,
        "b/count": 4.0,
        "b/error_count": 0.0,
        "a/score": math.nan,
        "a/error_count": 3.0,
        "a/p90": 0.1,
    }
    found = score_means(metrics)
    assert [m.name for m in found] == ["b", "a"]
    assert found[0] == ScoreMean("b", 0.75, 4, 0)
    assert str(found[0]) == "0.750 (4 scored, 0 errors)"
    assert str(found[1]) == "n/a (3 errors)"
