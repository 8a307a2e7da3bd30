"""`spyglass eval submit|status|jobs|cancel` and `spyglass monitors ...` at unit level: the
flags and spec files become the right API arguments, and jobs and monitors render as
documented. The API functions are replaced by recorders; no collector runs."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from spyglass.cli import cli
from spyglass.entities import EvaluationJob, Monitor, MonitorWindow, ScorerErrors, WindowScore
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.jobs import monitors
from spyglass.evaluator.jobs import submit as jobs
from spyglass.evaluator.jobs.submit import time_ms

JOB_ID = "ab" * 16


def _job(**overrides: Any) -> EvaluationJob:
    fields: dict[str, Any] = {
        "job_id": JOB_ID,
        "name": "nightly",
        "experiment_id": "3",
        "status": "RUNNING",
        "input": {"experiment": "3", "filter_string": "tags.env = 'prod'", "max_traces": 500},
        "scorers": [
            {"type": "Guidelines", "name": "polite", "guidelines": "Be polite"},
            {"type": "scorer_fixtures.support_scorers:contains_required_info"},
        ],
        "run_id": "r" * 32,
        "total_rows": 2000,
        "rows_done": 120,
        "rows_with_errors": 3,
        "chunk_size": 100,
        "chunks_total": 20,
        "chunks_done": 1,
        "chunks_leased": 2,
        "chunks_failed": 0,
        "errors": [ScorerErrors("polite", 3, "JudgeError: the judge timed out after 120 s")],
        "eta_seconds": 100.0,
        "created_time_ms": 1_714_521_600_000,
        "live_workers": 1,
    }
    fields.update(overrides)
    return EvaluationJob(**fields)


class Recorder:
    """Stands in for an API function: records its calls, answers from a list."""

    def __init__(self, *answers: Any) -> None:
        self.calls: list[tuple[tuple, dict]] = []
        self.answers = list(answers)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def connected(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The CLI's connection is recorded instead of made."""
    addresses: list[str | None] = []
    monkeypatch.setattr(
        "spyglass.cli.connection.connect", lambda address: addresses.append(address)
    )
    monkeypatch.setattr("spyglass.evaluator.jobs.submit.time.sleep", lambda seconds: None)
    return addresses


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


# -- eval submit -------------------------------------------------------------------------------


def test_submit_flags_become_api_arguments(
    monkeypatch: pytest.MonkeyPatch, connected: list
) -> None:
    submit = Recorder(_job(status="PENDING"))
    monkeypatch.setattr(jobs, "submit_job", submit)
    result = _run(
        "eval",
        "submit",
        "--collector",
        "h:1",
        "-e",
        "support",
        "--filter",
        "tags.env = 'prod'",
        "--since",
        "2024-05-01T00:00:00Z",
        "--until",
        "1714600000000",
        "--max-traces",
        "500",
        "--expectations-dataset",
        "qa",
        "--scorer",
        "Safety",
        "--scorer",
        '{"type": "Guidelines", "name": "polite", "guidelines": "x"}',
        "--name",
        "nightly",
        "--build-dataset",
        "prod_qa",
        "--chunk-size",
        "50",
    )
    assert result.exit_code == 0, result.output
    assert connected == ["h:1"]
    [(_, kwargs)] = submit.calls
    assert kwargs == {
        "experiment": "support",
        "filter_string": "tags.env = 'prod'",
        "start_time": 1_714_521_600_000,
        "end_time": 1_714_600_000_000,
        "max_traces": 500,
        "expectations_dataset": "qa",
        "scorers": ["Safety", '{"type": "Guidelines", "name": "polite", "guidelines": "x"}'],
        "name": "nightly",
        "build_dataset": "prod_qa",
        "chunk_size": 50,
    }
    assert f"job        {JOB_ID}  nightly" in result.output
    assert "status     PENDING" in result.output


def test_a_json_spec_is_merged_under_the_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, connected: list
) -> None:
    spec = tmp_path / "job.json"
    spec.write_text(
        json.dumps(
            {
                "name": "from-file",
                "dataset": "qa",
                "dataset_version": 2,
                "chunk_size": 10,
                "scorers": ["ExactMatch", {"type": "Guidelines", "guidelines": "Be brief"}],
            }
        )
    )
    submit = Recorder(_job())
    monkeypatch.setattr(jobs, "submit_job", submit)
    assert _run("eval", "submit", "--spec", str(spec)).exit_code == 0
    assert submit.calls[-1][1] == {
        "name": "from-file",
        "dataset": "qa",
        "dataset_version": 2,
        "chunk_size": 10,
        "scorers": ["ExactMatch", {"type": "Guidelines", "guidelines": "Be brief"}],
    }
    assert (
        _run(
            "eval",
            "submit",
            "--spec",
            str(spec),
            "--name",
            "flag",
            "--scorer",
            "Safety",
            "--dataset-version",
            "3",
        ).exit_code
        == 0
    )
    merged = submit.calls[-1][1]
    assert (merged["name"], merged["dataset_version"], merged["scorers"]) == ("flag", 3, ["Safety"])
    assert merged["chunk_size"] == 10 and merged["dataset"] == "qa"


def test_a_toml_spec_with_mixed_scorers_and_a_datetime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, connected: list
) -> None:
    spec = tmp_path / "job.toml"
    spec.write_text(
        'experiment = "support"\nfilter = "status = \'OK\'"\n'
        'since = 2024-05-01T00:00:00Z\nuntil = "1714600000000"\n'
        'scorers = ["Safety", { type = "ExactMatch", name = "exact" }]\n'
    )
    submit = Recorder(_job())
    monkeypatch.setattr(jobs, "submit_job", submit)
    assert _run("eval", "submit", "--spec", str(spec)).exit_code == 0
    assert submit.calls[0][1] == {
        "experiment": "support",
        "filter_string": "status = 'OK'",
        "start_time": 1_714_521_600_000,
        "end_time": 1_714_600_000_000,
        "scorers": ["Safety", {"type": "ExactMatch", "name": "exact"}],
    }


@pytest.mark.parametrize(
    "content, fragment",
    [
        (
            '{"dataset": "qa", "scorer": ["Safety"]}',
            "unknown key(s) scorer; the keys are name, dataset",
        ),
        ('["Safety"]', "must be an object/table of settings"),
        ('{"dataset": "qa",', "not valid JSON"),
    ],
)
def test_bad_spec_files_are_named_in_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, connected: list, content: str, fragment: str
) -> None:
    spec = tmp_path / "job.json"
    spec.write_text(content)
    monkeypatch.setattr(jobs, "submit_job", Recorder(_job()))
    result = _run("eval", "submit", "--spec", str(spec))
    assert result.exit_code == 1 and connected == []
    assert f"job spec {spec}" in result.output
    assert fragment in result.output


def test_a_bad_since_names_the_flag(monkeypatch: pytest.MonkeyPatch, connected: list) -> None:
    monkeypatch.setattr(jobs, "submit_job", Recorder(_job()))
    result = _run("eval", "submit", "-e", "x", "--since", "yesterday", "--scorer", "Safety")
    assert "error: " in result.output
    assert "since 'yesterday' is not a time; give ISO 8601" in result.output


def test_submit_wait_follows_the_job_and_fails_when_it_failed(
    monkeypatch: pytest.MonkeyPatch, connected: list
) -> None:
    monkeypatch.setattr(jobs, "submit_job", Recorder(_job(status="PENDING", rows_done=0)))
    failed = _job(
        status="FAILED",
        rows_done=1900,
        chunks_done=19,
        chunks_leased=0,
        chunks_failed=1,
        error_message="chunk 7 failed: lease lost 11 times",
        finished_time_ms=1_714_521_700_000,
    )
    monkeypatch.setattr(jobs, "get_job", Recorder(_job(), _job(), _job(rows_done=1500), failed))
    result = _run("eval", "submit", "--dataset", "qa", "--scorer", "Safety", "--wait")
    assert result.exit_code == 1
    assert f"submitted job {JOB_ID}: 2000 rows in 20 chunks" in result.stderr
    progress = [line for line in result.stderr.splitlines() if "RUNNING" in line]
    assert len(progress) == 2  # the repeated state is printed once
    assert "RUNNING 1500/2000 rows (75.0%), 3 with errors" in progress[1]
    assert "status     FAILED (chunk 7 failed: lease lost 11 times)" in result.stdout


def test_submit_wait_exits_zero_when_finished(
    monkeypatch: pytest.MonkeyPatch, connected: list
) -> None:
    monkeypatch.setattr(jobs, "submit_job", Recorder(_job(status="PENDING")))
    done = _job(
        status="FINISHED",
        rows_done=2000,
        chunks_done=20,
        chunks_leased=0,
        rows_with_errors=0,
        errors=[],
    )
    monkeypatch.setattr(jobs, "get_job", Recorder(done))
    result = _run(
        "eval", "submit", "--dataset", "qa", "--scorer", "Safety", "--wait", "--format", "json"
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "FINISHED"


def test_wait_and_watch_exit_1_when_rows_had_errors(
    monkeypatch: pytest.MonkeyPatch, connected: list
) -> None:
    monkeypatch.setattr(jobs, "submit_job", Recorder(_job(status="PENDING")))
    done = _job(status="FINISHED", rows_done=2000, chunks_done=20, chunks_leased=0)
    monkeypatch.setattr(jobs, "get_job", Recorder(done))
    result = _run("eval", "submit", "--dataset", "qa", "--scorer", "Safety", "--wait")
    assert result.exit_code == 1
    assert f"error: 3 of 2000 row(s) of job {JOB_ID} had score errors" in result.stderr
    assert _run("eval", "status", JOB_ID, "--watch").exit_code == 1
    assert _run("eval", "status", JOB_ID).exit_code == 0  # a look is not a wait
    clean = _job(status="FINISHED", rows_done=2000, rows_with_errors=0, errors=[])
    monkeypatch.setattr(jobs, "get_job", Recorder(clean))
    assert _run("eval", "status", JOB_ID, "--watch").exit_code == 0


# -- eval status / jobs / cancel ---------------------------------------------------------------


def test_status_shows_progress_errors_by_scorer_and_eta(
    monkeypatch: pytest.MonkeyPatch, connected: list
) -> None:
    monkeypatch.setattr(jobs, "get_job", Recorder(_job()))
    result = _run("eval", "status", JOB_ID)
    assert result.exit_code == 0
    out = result.output
    assert "rows       120/2000 (6.0%), 3 with errors" in out
    assert "chunks     1 done, 2 leased, 0 failed, of 20 (100 rows each)" in out
    assert "eta        1m 40s" in out
    assert f"run        {'r' * 32}" in out
    assert "input      traces of experiment 3, matching tags.env = 'prod', at most 500" in out
    assert (
        "scorers    Guidelines(name=polite, guidelines=Be polite), "
        "scorer_fixtures.support_scorers:contains_required_info"
    ) in out
    errors = out.split("errors by scorer:")[1]
    assert "polite" in errors and "3" in errors
    assert "JudgeError: the judge timed out after 120 s" in errors


def test_status_json_has_every_field(monkeypatch: pytest.MonkeyPatch, connected: list) -> None:
    monkeypatch.setattr(jobs, "get_job", Recorder(_job()))
    shown = json.loads(_run("eval", "status", JOB_ID, "--format", "json").output)
    assert shown["errors"] == [
        {"name": "polite", "count": 3, "last_error": "JudgeError: the judge timed out after 120 s"}
    ]
    assert (shown["rows_done"], shown["eta_seconds"], shown["input"]["max_traces"]) == (
        120,
        100.0,
        500,
    )


def test_status_watch_of_a_monitor_job_says_why_it_never_ends(
    monkeypatch: pytest.MonkeyPatch, connected: list
) -> None:
    monkeypatch.setattr(jobs, "get_job", Recorder(_job(monitor_id="m" * 32)))
    result = _run("eval", "status", JOB_ID, "--watch")
    assert "it runs as long as the monitor exists" in result.output


def test_jobs_lists_rows_and_passes_filters(
    monkeypatch: pytest.MonkeyPatch, connected: list
) -> None:
    listing = Recorder(
        [
            _job(),
            _job(
                job_id="cd" * 16,
                status="FINISHED",
                rows_done=2000,
                input={"dataset": "qa", "version": 2},
            ),
        ]
    )
    monkeypatch.setattr(jobs, "list_jobs", listing)
    result = _run("eval", "jobs", "--status", "running", "--all", "--limit", "5")
    assert listing.calls == [
        ((), {"status": "RUNNING", "include_monitors": True, "max_results": 5})
    ]
    lines = result.output.splitlines()
    assert lines[0].split()[:5] == ["job_id", "name", "status", "rows", "errors"]
    assert "120/2000" in lines[1] and "2000/2000" in lines[2]
    assert "dataset 'qa' version 2" in lines[2]


def test_cancel_reports_the_new_status(monkeypatch: pytest.MonkeyPatch, connected: list) -> None:
    cancel = Recorder(_job(status="CANCELLED", chunks_leased=0))
    monkeypatch.setattr(jobs, "cancel_job", cancel)
    result = _run("eval", "cancel", JOB_ID)
    assert cancel.calls == [((JOB_ID,), {})]
    assert result.output.startswith(f"job {JOB_ID} is CANCELLED: 120/2000 rows (6.0%)")


# -- monitors ----------------------------------------------------------------------------------


def _monitor(**overrides: Any) -> Monitor:
    fields: dict[str, Any] = {
        "monitor_id": "m" * 32,
        "name": "prod-quality",
        "experiment_id": "3",
        "sample_rate": 0.5,
        "enabled": True,
        "filter_string": "tags.env = 'prod'",
        "scorers": [{"type": "Safety"}],
        "quiet_period_seconds": 30.0,
        "job_id": "j" * 32,
        "run_id": "r" * 32,
        "traces_seen": 40,
        "traces_sampled": 21,
        "traces_scored": 20,
        "last_check_time_ms": 1_714_521_600_000,
        "windows": [
            MonitorWindow("1h", 20, [WindowScore("safety", 18, 0.75, 2)]),
            MonitorWindow("24h", 0, []),
        ],
    }
    fields.update(overrides)
    return Monitor(**fields)


def test_monitors_show_prints_counters_and_window_metrics(
    monkeypatch: pytest.MonkeyPatch, connected: list
) -> None:
    monkeypatch.setattr(monitors, "get_monitor", Recorder(_monitor()))
    out = _run("monitors", "show", "prod-quality").output
    assert "traces     40 seen, 21 sampled, 20 scored" in out
    assert "sampling   0.5 of matching traces, scored 30 s after their last span" in out
    windows = out.split("metrics by window:")[1]
    assert "0.750 (18 scored, 2 errors)" in windows
    rows = [line.split() for line in windows.strip().splitlines()]
    assert rows[0] == ["window", "rows", "score", "mean"]
    assert rows[1][:3] == ["1h", "20", "safety"]
    assert rows[2] == ["24h", "0", "-", "-"]


def test_monitors_show_json_turns_nan_into_null(
    monkeypatch: pytest.MonkeyPatch, connected: list
) -> None:
    nan_window = MonitorWindow("7d", 1, [WindowScore("safety", 0, math.nan, 1)])
    monkeypatch.setattr(monitors, "get_monitor", Recorder(_monitor(windows=[nan_window])))
    shown = json.loads(_run("monitors", "show", "prod-quality", "--format", "json").output)
    assert shown["windows"][0]["scores"][0] == {
        "name": "safety",
        "count": 0,
        "mean": None,
        "error_count": 1,
    }


def test_monitors_create_passes_flags_and_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, connected: list
) -> None:
    create = Recorder(_monitor())
    monkeypatch.setattr(monitors, "create_monitor", create)
    spec = tmp_path / "monitor.toml"
    spec.write_text(
        'experiment = "support"\nsample_rate = 0.2\ninclude_existing = true\nscorers = ["Safety"]\n'
    )
    result = _run(
        "monitors",
        "create",
        "prod-quality",
        "--spec",
        str(spec),
        "--sample-rate",
        "0.5",
        "--quiet-period",
        "10",
        "--filter",
        "tags.env = 'prod'",
    )
    assert result.exit_code == 0, result.output
    assert create.calls == [
        (
            ("prod-quality",),
            {
                "experiment": "support",
                "sample_rate": 0.5,
                "include_existing": True,
                "scorers": ["Safety"],
                "quiet_period_seconds": 10.0,
                "filter_string": "tags.env = 'prod'",
            },
        )
    ]
    assert "created monitor 'prod-quality'" in result.output
    missing = _run("monitors", "create", "--scorer", "Safety")
    assert missing.exit_code == 2 and "give the monitor a NAME" in missing.output
    no_scorer = _run("monitors", "create", "other")
    assert no_scorer.exit_code == 2 and "give at least one --scorer" in no_scorer.output
    assert len(create.calls) == 1


def test_monitors_pause_resume_and_delete(monkeypatch: pytest.MonkeyPatch, connected: list) -> None:
    update = Recorder(_monitor(enabled=False), _monitor(enabled=True))
    monkeypatch.setattr(monitors, "update_monitor", update)
    assert (
        _run("monitors", "pause", "prod-quality").output.strip()
        == "monitor 'prod-quality' is paused"
    )
    assert (
        _run("monitors", "resume", "prod-quality").output.strip()
        == "monitor 'prod-quality' is running"
    )
    assert update.calls == [
        (("prod-quality",), {"enabled": False}),
        (("prod-quality",), {"enabled": True}),
    ]
    delete = Recorder(None)
    monkeypatch.setattr(monitors, "get_monitor", Recorder(_monitor()))
    monkeypatch.setattr(monitors, "delete_monitor", delete)
    out = _run("monitors", "delete", "prod-quality").output
    assert delete.calls == [(("m" * 32,), {})]
    assert "deleted monitor 'prod-quality'" in out


def test_time_forms() -> None:
    assert time_ms("2024-05-01T00:00:00Z", "since") == 1_714_521_600_000
    assert time_ms("2024-05-01T02:00:00+02:00", "since") == 1_714_521_600_000
    assert time_ms(1_714_521_600_000, "since") == 1_714_521_600_000
    assert abs(time_ms("2h", "since") - (time.time() - 7200) * 1000) < 5_000
    assert abs(time_ms("7d", "since") - (time.time() - 7 * 86400) * 1000) < 5_000
    with pytest.raises(InvalidArgumentError, match="until must be a number >= 0"):
        time_ms(-1, "until")
