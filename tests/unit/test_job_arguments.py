"""The jobs and monitors API rejects bad arguments itself, naming the argument and the fix,
before any call to a collector (none is configured here: reaching one would fail)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from spyglass import session
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator import (
    cancel_job,
    create_monitor,
    get_job,
    list_jobs,
    submit_job,
    update_monitor,
    wait_for_job,
)


@pytest.fixture(autouse=True)
def no_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("the arguments should have been rejected before any call")

    monkeypatch.setattr(session, "client", refuse)


@pytest.mark.parametrize(
    "call, fragment",
    [
        (
            lambda: submit_job(dataset="qa", filter_string="x", max_traces=3, scorers=["Safety"]),
            "filter_string, max_traces select traces and do not apply to a dataset job",
        ),
        (lambda: submit_job(scorers=["Safety"]), "say what to score: dataset=..."),
        (
            lambda: submit_job(experiment="e", dataset_version=2, scorers=["Safety"]),
            "dataset_version needs dataset=...",
        ),
        (
            lambda: submit_job(dataset="qa", chunk_size=0, scorers=["Safety"]),
            "chunk_size must be a whole number between 1 and 1000, got 0",
        ),
        (
            lambda: submit_job(dataset="qa", chunk_size=True, scorers=["Safety"]),
            "chunk_size must be a whole number",
        ),
        (
            lambda: submit_job(experiment="e", max_traces=0, scorers=["Safety"]),
            "max_traces must be a whole number between 1",
        ),
        (
            lambda: submit_job(
                experiment="e", start_time="2024-05-02", end_time="2024-05-01", scorers=["Safety"]
            ),
            "start_time (2024-05-02T00:00:00) must be before end_time (2024-05-01T00:00:00)",
        ),
        (
            lambda: submit_job(experiment="e", start_time="last tuesday", scorers=["Safety"]),
            "start_time 'last tuesday' is not a time",
        ),
        (lambda: submit_job(dataset="", scorers=["Safety"]), "dataset must be a non-empty string"),
        (lambda: submit_job(dataset="qa", scorers=[]), "give at least one scorer"),
        (
            lambda: submit_job(dataset="qa", scorers=[{"type": "Guidelines"}]),
            "scorer 'Guidelines': missing 1 required keyword-only argument: 'guidelines'",
        ),
        (
            lambda: submit_job(dataset="qa", scorers="nowhere.scorers:fn"),
            "cannot import 'nowhere.scorers' (No module named 'nowhere'); make it importable here",
        ),
        (lambda: get_job(""), "job_id must be a non-empty string"),
        (lambda: cancel_job(None), "job_id must be a non-empty string"),  # type: ignore[arg-type]
        (
            lambda: list_jobs(status="DONE"),
            "status must be one of PENDING, RUNNING, FINISHED, FAILED, CANCELLED, not 'DONE'",
        ),
        (lambda: list_jobs(max_results=0), "max_results must be a whole number at least 1"),
        (lambda: wait_for_job("j", poll=0), "poll must be a number > 0 (seconds between checks)"),
        (lambda: wait_for_job("j", timeout=-1), "timeout must be a number >= 0 (seconds)"),
    ],
)
def test_job_arguments(call: Callable[[], Any], fragment: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        call()
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    "call, fragment",
    [
        (
            lambda: create_monitor("m", scorers=["Safety"], sample_rate=0),
            "sample_rate must be a number > 0 and <= 1 (the share of matching traces to score",
        ),
        (lambda: create_monitor("m", scorers=["Safety"], sample_rate=1.5), "got 1.5"),
        (
            lambda: create_monitor("m", scorers=["Safety"], sample_rate=True),
            "sample_rate must be a number",
        ),
        (
            lambda: create_monitor("m", scorers=["Safety"], quiet_period_seconds=-1),
            "quiet_period_seconds must be a number >= 0 (seconds without a new span",
        ),
        (lambda: create_monitor("", scorers=["Safety"]), "a monitor's name must be a non-empty"),
        (lambda: create_monitor("x" * 257, scorers=["Safety"]), "at most 256 characters"),
        (
            lambda: create_monitor("m", scorers=["Safety"], include_existing="yes"),
            "include_existing must be True or False",
        ),
        (lambda: create_monitor("m", scorers=[]), "give at least one scorer"),
        (lambda: update_monitor("m"), "nothing to update: give enabled, sample_rate"),
        (lambda: update_monitor("m", enabled=1), "enabled must be True or False"),
        (lambda: update_monitor(" ", enabled=True), "monitor (its name or id) must be a non-empty"),
        (lambda: update_monitor("m", sample_rate=float("nan")), "sample_rate must be a number"),
    ],
)
def test_monitor_arguments(call: Callable[[], Any], fragment: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        call()
    assert fragment in str(caught.value)
