"""The jobs and monitors client against a real collector, on SQLite and PostgreSQL: the
Python API and the CLI submit, follow, list and cancel jobs and manage monitors, and bad
job specs are refused at submit with the messages a user sees. No worker runs here, so
jobs stay PENDING (the service's own tests score them)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from otlp_builders import hex_id, make_request, make_span, new_trace_id
from processes import GrpcSender

from spyglass import session
from spyglass.cli import cli
from spyglass.collector.server import Collector
from spyglass.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidFilterError,
    NotFoundError,
)
from spyglass.evaluator import (
    cancel_job,
    create_monitor,
    delete_monitor,
    get_job,
    get_monitor,
    list_jobs,
    list_monitors,
    submit_job,
    update_monitor,
    wait_for_job,
)
from spyglass.evaluator.datasets import create_dataset
from spyglass.evaluator.jobs.submit import JobTimeoutError
from spyglass.evaluator.runs import get_evaluation_run

FIXTURES = "scorer_fixtures.support_scorers"


@dataclass
class Support:
    address: str
    experiment_id: str
    prod_traces: list[str]
    other_traces: list[str]


@pytest.fixture
def support(collector: Collector, monkeypatch: pytest.MonkeyPatch) -> Iterator[Support]:
    """A session on the collector; experiment "support" with 3 traces tagged env=prod and
    2 others; dataset "qa" (3 records) linked to it."""
    monkeypatch.delenv("SPYGLASS_COLLECTOR", raising=False)
    monkeypatch.delenv("SPYGLASS_API_KEY", raising=False)
    address = f"127.0.0.1:{collector.grpc_port}"
    session.configure(collector=address)
    client = session.client()
    experiment = client.create_experiment("support")
    traces: list[str] = []
    with GrpcSender(address) as sender:
        for i in range(5):
            trace = new_trace_id()
            outcome = sender.send(
                make_request([make_span(f"answer-{i}", trace)]), experiment=experiment.experiment_id
            )
            assert outcome.ok, outcome.error
            traces.append(hex_id(trace))
    for trace_id in traces[:3]:
        client.set_trace_tag(trace_id, "env", "prod")
    create_dataset("qa", experiment_id=experiment.experiment_id).merge_records(
        [
            {"inputs": {"q": f"question {i}"}, "expectations": {"expected_response": f"a{i}"}}
            for i in range(3)
        ]
    )
    yield Support(address, experiment.experiment_id, traces[:3], traces[3:])
    session._shutdown()


def _cli(support: Support, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args[:2], "--collector", support.address, *args[2:]])


# -- jobs through the Python API ---------------------------------------------------------------


def test_dataset_job_submit_get_list_wait_cancel(support: Support) -> None:
    job = submit_job(
        dataset="qa",
        name="qa-job",
        chunk_size=2,
        scorers=["ExactMatch", {"type": f"{FIXTURES}:LengthAtMost", "max_chars": 40}],
    )
    assert (job.status, job.name, job.total_rows, job.chunks_total, job.chunk_size) == (
        "PENDING",
        "qa-job",
        3,
        2,
        2,
    )
    assert job.input == {"dataset": "qa", "version": 1}
    assert job.scorers == [
        {"type": "ExactMatch"},
        {"type": f"{FIXTURES}:LengthAtMost", "max_chars": 40},
    ]
    assert job.experiment_id == support.experiment_id and len(job.run_id) == 32
    assert (job.rows_done, job.eta_seconds, job.monitor_id) == (0, None, None)
    assert get_job(job.job_id) == job

    older = submit_job(dataset="qa", dataset_version=1, scorers=["ExactMatch"])
    newest_first = [j.job_id for j in list_jobs()]
    assert newest_first[:2] == [older.job_id, job.job_id]
    assert [j.job_id for j in list_jobs(max_results=1)] == [older.job_id]
    assert list_jobs(status="finished") == []

    with pytest.raises(JobTimeoutError) as waited:
        wait_for_job(job.job_id, timeout=0.3, poll=0.1)
    assert isinstance(waited.value, TimeoutError) and waited.value.job.job_id == job.job_id
    assert f"job {job.job_id} is still PENDING after 0.3 s: 0/3 rows (0.0%)" in str(waited.value)

    cancelled = cancel_job(job.job_id)
    assert cancelled.status == "CANCELLED" and cancelled.finished_time_ms is not None
    assert wait_for_job(job.job_id, timeout=5).status == "CANCELLED"
    assert get_evaluation_run(job.run_id).status == "FAILED"
    assert [j.job_id for j in list_jobs(status="CANCELLED")] == [job.job_id]


def test_trace_job_selects_the_matching_traces(support: Support) -> None:
    prod = submit_job(
        experiment="support",
        filter_string="tags.env = 'prod'",
        expectations_dataset="qa",
        scorers=[f"{FIXTURES}:contains_required_info"],
    )
    assert prod.total_rows == 3
    assert prod.input == {
        "experiment": support.experiment_id,
        "filter_string": "tags.env = 'prod'",
        "expectations_dataset": "qa",
    }
    assert (
        submit_job(
            experiment=support.experiment_id, max_traces=2, scorers=["ExactMatch"]
        ).total_rows
        == 2
    )
    tomorrow = int((time.time() + 86400) * 1000)
    future = submit_job(experiment="support", start_time=tomorrow, scorers=["ExactMatch"])
    assert (future.total_rows, future.status) == (0, "FINISHED")
    assert future.input["start_time_ms"] == tomorrow
    recent = submit_job(
        experiment="support", start_time="1h", end_time=tomorrow, scorers=["ExactMatch"]
    )
    assert recent.total_rows == 5


@pytest.mark.parametrize(
    "arguments, error, fragment",
    [
        (
            {"dataset": "qa", "scorers": ["Guidlines"]},
            InvalidArgumentError,
            "scorers[0]: unknown scorer 'Guidlines'",
        ),
        (
            {"experiment": "support", "filter_string": "tags.env = ", "scorers": ["ExactMatch"]},
            InvalidFilterError,
            "expected a value after = (a 'string', a number, TRUE or FALSE)",
        ),
        (
            {"dataset": "no_such_dataset", "scorers": ["ExactMatch"]},
            NotFoundError,
            "no_such_dataset",
        ),
        (
            {"experiment": "no_such_experiment", "scorers": ["ExactMatch"]},
            NotFoundError,
            "no_such_experiment",
        ),
        (
            {"dataset": "qa", "scorers": ["mypkg.scorers:quality"]},
            InvalidArgumentError,
            "cannot import 'mypkg.scorers' (No module named 'mypkg'); make it importable here and "
            "on every evaluator, or register it with --scorers-module",
        ),
    ],
)
def test_bad_job_specs_are_refused_at_submit(
    support: Support, arguments: dict, error: type, fragment: str
) -> None:
    with pytest.raises(error) as caught:
        submit_job(**arguments)
    assert fragment in str(caught.value)
    assert list_jobs() == []


# -- jobs through the CLI ----------------------------------------------------------------------


def test_cli_submit_status_jobs_cancel(support: Support, tmp_path: Path) -> None:
    spec = tmp_path / "job.toml"
    spec.write_text(
        'experiment = "support"\nfilter = "tags.env = \'prod\'"\nname = "nightly"\n'
        'scorers = [{ type = "ExactMatch", name = "exact" }]\n'
    )
    submitted = _cli(
        support, "eval", "submit", "--spec", str(spec), "--chunk-size", "2", "--format", "json"
    )
    assert submitted.exit_code == 0, submitted.output
    job = json.loads(submitted.stdout)
    assert (job["name"], job["total_rows"], job["chunks_total"], job["status"]) == (
        "nightly",
        3,
        2,
        "PENDING",
    )
    assert job["scorers"] == [{"type": "ExactMatch", "name": "exact"}]

    status = _cli(support, "eval", "status", job["job_id"])
    assert "status     PENDING" in status.output
    assert "rows       0/3 (0.0%), 0 with errors" in status.output
    assert "chunks     0 done, 0 leased, 0 failed, of 2 (2 rows each)" in status.output
    assert (
        "input      traces of experiment " + support.experiment_id + ", matching tags.env = 'prod'"
    ) in status.output

    listed = _cli(support, "eval", "jobs", "--format", "json")
    assert [j["job_id"] for j in json.loads(listed.output)] == [job["job_id"]]

    cancelled = _cli(support, "eval", "cancel", job["job_id"])
    assert cancelled.output.startswith(f"job {job['job_id']} is CANCELLED: 0/3 rows")
    watched = _cli(support, "eval", "status", job["job_id"], "--watch")
    assert watched.exit_code == 1  # it ended, but not FINISHED: as `eval submit --wait`
    assert f"error: job {job['job_id']} is CANCELLED" in watched.stderr


@pytest.mark.parametrize(
    "args, error, fragment",
    [
        (
            ["--dataset", "qa", "--scorer", "Guidlines"],
            InvalidArgumentError,
            "unknown scorer 'Guidlines' (did you mean 'Guidelines'?)",
        ),
        (
            ["--dataset", "qa", "--scorer", '{"type": "Guidelines", "guideline": "x"}'],
            InvalidArgumentError,
            "scorer 'Guidelines': unknown parameter(s) guideline; it takes guidelines",
        ),
        (["--dataset", "nope", "--scorer", "ExactMatch"], NotFoundError, "nope"),
        (
            ["-e", "support", "--filter", "tags.env = ", "--scorer", "ExactMatch"],
            InvalidFilterError,
            "invalid filter: expected a value after =",
        ),
        (
            ["--dataset", "qa", "--filter", "x = 1", "--scorer", "ExactMatch"],
            InvalidArgumentError,
            "--filter select traces and do not apply to a dataset job; give either --dataset",
        ),
        (
            ["--dataset", "qa", "--scorer", '{"type": "Guidelines"'],
            InvalidArgumentError,
            "is not valid JSON",
        ),
    ],
)
def test_cli_bad_specs_say_what_to_fix(
    support: Support, args: list[str], error: type, fragment: str
) -> None:
    result = _cli(support, "eval", "submit", *args)
    assert result.exit_code == 1 and "error: " in result.output
    assert fragment in result.output
    assert list_jobs() == []


def test_cli_submit_without_scorers_is_a_usage_error(support: Support) -> None:
    result = _cli(support, "eval", "submit", "--dataset", "qa")
    assert result.exit_code == 2
    assert 'give at least one --scorer (or "scorers" in --spec)' in result.output


# -- monitors ----------------------------------------------------------------------------------


def test_monitor_crud_through_the_api(support: Support) -> None:
    monitor = create_monitor(
        "prod-quality",
        experiment="support",
        sample_rate=0.5,
        filter_string="tags.env = 'prod'",
        quiet_period_seconds=5,
        scorers=["ExactMatch", f"{FIXTURES}:contains_required_info"],
    )
    assert (
        monitor.name,
        monitor.experiment_id,
        monitor.enabled,
        monitor.sample_rate,
        monitor.quiet_period_seconds,
    ) == ("prod-quality", support.experiment_id, True, 0.5, 5.0)
    assert monitor.scorers == [
        {"type": "ExactMatch"},
        {"type": f"{FIXTURES}:contains_required_info"},
    ]
    with pytest.raises(AlreadyExistsError, match="prod-quality"):
        create_monitor("prod-quality", experiment="support", scorers=["ExactMatch"])
    with pytest.raises(InvalidArgumentError, match="unknown scorer 'Safetey'"):
        create_monitor("other", experiment="support", scorers=["Safetey"])

    shown = get_monitor("prod-quality")
    assert shown.monitor_id == monitor.monitor_id and get_monitor(monitor.monitor_id) == shown
    assert [w.window for w in shown.windows] == ["1h", "24h", "7d"]
    assert [m.name for m in list_monitors()] == ["prod-quality"]
    assert [m.name for m in list_monitors("support")] == ["prod-quality"]
    assert list_monitors("0") == []

    job = get_job(monitor.job_id)
    assert job.monitor_id == monitor.monitor_id and job.run_id == monitor.run_id
    assert monitor.job_id not in [j.job_id for j in list_jobs()]
    assert monitor.job_id in [j.job_id for j in list_jobs(include_monitors=True)]
    with pytest.raises(InvalidArgumentError, match="it runs as long as the monitor exists"):
        wait_for_job(monitor.job_id, timeout=1)

    paused = update_monitor(
        "prod-quality", enabled=False, sample_rate=0.25, quiet_period_seconds=10, filter_string=""
    )
    assert (
        paused.enabled,
        paused.sample_rate,
        paused.quiet_period_seconds,
        paused.filter_string,
    ) == (False, 0.25, 10.0, None)
    delete_monitor(monitor.monitor_id)
    with pytest.raises(NotFoundError):
        get_monitor("prod-quality")


def test_monitor_commands(support: Support) -> None:
    created = _cli(
        support,
        "monitors",
        "create",
        "prod-quality",
        "-e",
        "support",
        "--sample-rate",
        "0.5",
        "--scorer",
        "ExactMatch",
        "--filter",
        "tags.env = 'prod'",
    )
    assert created.exit_code == 0, created.output
    assert created.output.startswith("created monitor 'prod-quality'")

    assert (
        _cli(support, "monitors", "pause", "prod-quality").output.strip()
        == "monitor 'prod-quality' is paused"
    )
    listed = json.loads(_cli(support, "monitors", "list", "--format", "json").output)
    assert [(m["name"], m["state"], m["sample_rate"]) for m in listed] == [
        ("prod-quality", "paused", 0.5)
    ]
    assert (
        _cli(support, "monitors", "resume", "prod-quality").output.strip()
        == "monitor 'prod-quality' is running"
    )

    shown = _cli(support, "monitors", "show", "prod-quality").output
    assert "state      running" in shown and "filter     tags.env = 'prod'" in shown
    assert "traces     0 seen, 0 sampled, 0 scored" in shown
    assert "metrics by window:" in shown and "7d" in shown
    as_json = json.loads(
        _cli(support, "monitors", "show", "prod-quality", "--format", "json").output
    )
    assert [w["window"] for w in as_json["windows"]] == ["1h", "24h", "7d"]

    bad = _cli(support, "monitors", "create", "bad", "--sample-rate", "2", "--scorer", "ExactMatch")
    assert "error: " in bad.output
    assert "sample_rate must be a number > 0 and <= 1" in bad.output

    deleted = _cli(support, "monitors", "delete", "prod-quality")
    assert deleted.output.startswith("deleted monitor 'prod-quality'")
    missing = _cli(support, "monitors", "show", "prod-quality")
    assert "error: " in missing.output
