"""How a command argument names an evaluation run: the full id, the short id the tables print
(any unique start of at least four characters), or the name (the newest run of that name)."""

from __future__ import annotations

from typing import Any

import pytest

from spyglass.cli import lookup
from spyglass.entities import EvaluationRun
from spyglass.errors import InvalidArgumentError, NotFoundError
from spyglass.evaluator import runs

RUNS = [
    EvaluationRun(run_id="abcd1111" + "0" * 24, experiment_id="0", name="nightly", status="X"),
    EvaluationRun(run_id="abcd2222" + "0" * 24, experiment_id="0", name="nightly", status="X"),
    EvaluationRun(run_id="ef012345" + "0" * 24, experiment_id="0", name="weekly", status="X"),
]


@pytest.fixture(autouse=True)
def stored_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    def search(name: str | None = None, max_results: int | None = None, **_: Any) -> list:  # type: ignore[type-arg]
        found = [r for r in RUNS if name is None or r.name == name]
        return found[:max_results] if max_results else found

    def get(run_id: str) -> EvaluationRun:
        for run in RUNS:
            if run.run_id == run_id:
                return run
        raise NotFoundError(f"evaluation run {run_id} not found")

    monkeypatch.setattr(runs, "search_evaluation_runs", search)
    monkeypatch.setattr(runs, "get_evaluation_run", get)


def test_full_id_short_id_and_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert lookup.find_run(RUNS[2].run_id.upper()) is RUNS[2]
    assert lookup.find_run(lookup.short_id(RUNS[2].run_id)) is RUNS[2]
    assert lookup.find_run("abcd2") is RUNS[1]
    assert lookup.find_run("weekly") is RUNS[2]
    assert lookup.find_run("nightly") is RUNS[0]  # the newest of that name
    assert "several runs are named 'nightly'; using the newest, abcd1111" in capsys.readouterr().err


def test_a_shared_start_is_refused_and_an_unknown_name_says_where_to_look() -> None:
    with pytest.raises(InvalidArgumentError, match=r"starts the ids of 2 runs.*give more"):
        lookup.find_run("abcd")
    with pytest.raises(NotFoundError, match="`spyglass eval list`"):
        lookup.find_run("abc")  # too short to stand for an id, and no run has that name
    with pytest.raises(NotFoundError, match="'monthly'"):
        lookup.find_run("monthly")
