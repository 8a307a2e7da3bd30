"""A newcomer's first job, with every default: in a fresh folder and no ``SPYGLASS_*``
variable set, ``spyglass datasets import`` starts ``./spyglass.db``, ``spyglass evaluator
serve`` (no ``--collector``) and ``spyglass eval submit --wait`` both find that store on their
own, the job is scored by that worker, ``spyglass eval show`` reads the scores back from the
same store, and SIGTERM stops the worker with exit status 0.

Every step is the real command line in a child process whose working directory is the
folder, as a person typing the commands in a terminal would run them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import ChildProcess, free_port

pytestmark = pytest.mark.timeout(300)

COMMAND_TIMEOUT_S = 180.0  # generous: two cores shared by many processes
READY_TIMEOUT_S = 90.0
DATASET = "refund-answers"
MENTIONS = {"type": "Contains", "terms": ["refund", "5 days"], "name": "mentions"}


def answer(i: int) -> str:
    """The recorded answer of record ``i``: every third one a refusal, else a delay."""
    return "Sorry, I cannot help with that." if i % 3 == 0 else f"Refunds take {i % 7 + 1} days."


def expected(i: int) -> str:
    """The answer record ``i`` should have given."""
    return f"Refunds take {i % 5 + 1} days."


ROWS = 12
RECORDS = [
    {
        "inputs": {"question": f"How long does refund {i} take?"},
        "outputs": answer(i),
        "expectations": {"expected_response": expected(i)},
    }
    for i in range(ROWS)
]
EXACT = {i: answer(i) == expected(i) for i in range(ROWS)}
MENTIONED = {
    i: (("refund" in answer(i).lower()) + ("5 days" in answer(i).lower())) / 2 for i in range(ROWS)
}


def newcomer_env(folder: Path) -> dict[str, str]:
    """This environment without any ``SPYGLASS_*`` variable that could point elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS_")}
    env["HOME"] = str(folder)
    return env


def spyglass(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``spyglass ARGS`` run in ``folder``."""
    return subprocess.run(
        [sys.executable, "-m", "spyglass.cli", *args],
        cwd=folder,
        env=newcomer_env(folder),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
    )


class DefaultEvaluator(ChildProcess):
    """``spyglass evaluator serve`` started in ``folder`` with no ``--collector``."""

    def __init__(self, folder: Path) -> None:
        self.name = "evaluator serve"
        self.http_port = free_port()
        self.log_path = folder / "evaluator.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "spyglass.cli",
                    "evaluator",
                    "serve",
                    "--http-port",
                    str(self.http_port),
                    "--poll-seconds",
                    "0.2",
                ],
                cwd=folder,
                env=newcomer_env(folder),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A fresh, empty working folder."""
    path = tmp_path / "newcomer"
    path.mkdir()
    return path


@pytest.fixture
def evaluator(folder: Path) -> Iterator[list[DefaultEvaluator]]:
    """Holds the worker the test starts; killed at teardown if still running."""
    started: list[DefaultEvaluator] = []
    yield started
    for proc in started:
        proc.kill()


def test_a_job_submitted_in_a_folder_is_scored_by_the_evaluator_started_there(
    folder: Path, evaluator: list[DefaultEvaluator]
) -> None:
    # 1. a dataset, imported the way the getting-started page shows: it creates the store
    data = folder / "answers.jsonl"
    data.write_text("".join(json.dumps(record) + "\n" for record in RECORDS))
    imported = spyglass(folder, "datasets", "import", data.name, "--dataset", DATASET)
    assert imported.returncode == 0, imported.stderr
    assert f"created {DATASET!r}: {ROWS} inserted" in imported.stdout, imported.stdout
    assert (folder / "spyglass.db").is_file()

    # 2. the worker, with no flag saying where: it serves the store in this folder
    worker = DefaultEvaluator(folder)
    evaluator.append(worker)
    worker.wait_ready(READY_TIMEOUT_S)
    assert "no --collector given" in worker.output(), worker.output()
    # its built-in collector migrates the store without Alembic's lines at the default level
    assert "alembic" not in worker.output().lower(), worker.output()

    # 3. the job, with no flag saying where either: it reaches that worker and finishes
    submitted = spyglass(
        folder,
        "eval",
        "submit",
        "--dataset",
        DATASET,
        "--scorer",
        "ExactMatch",
        "--scorer",
        json.dumps(MENTIONS),
        "--wait",
        "--format",
        "json",
    )
    assert submitted.returncode == 0, (submitted.stdout, submitted.stderr, worker.output())
    job = json.loads(submitted.stdout)
    assert job["status"] == "FINISHED", job
    assert (job["total_rows"], job["rows_done"], job["rows_with_errors"]) == (ROWS, ROWS, 0), job
    assert job["live_workers"] == 1, job
    assert f"claimed job {job['job_id']} chunk 0" in worker.output(), worker.output()

    shown = spyglass(folder, "eval", "show", job["run_id"], "--format", "json")
    assert shown.returncode == 0, shown.stderr
    result = json.loads(shown.stdout)
    run = result["run"]
    assert (run["status"], run["record_count"], run["dataset_name"]) == ("FINISHED", ROWS, DATASET)
    metrics = run["metrics"]
    assert metrics["exact_match/score"] == pytest.approx(sum(EXACT.values()) / ROWS), metrics
    assert metrics["mentions/score"] == pytest.approx(sum(MENTIONED.values()) / ROWS), metrics
    for name in ("exact_match", "mentions"):
        assert (metrics[f"{name}/count"], metrics[f"{name}/error_count"]) == (ROWS, 0), metrics
    assert 0 < sum(EXACT.values()) < ROWS  # the data tells matches from misses

    records = result["records"]
    assert sorted(r["row_index"] for r in records) == list(range(ROWS))
    for record in records:
        i = int(record["inputs"]["question"].split()[4])  # "How long does refund {i} take?"
        assert record["outputs"] == answer(i) and record["error"] is None, record
        scores = {s["name"]: s for s in record["scores"]}
        assert scores["exact_match"]["value"] is EXACT[i], record
        assert scores["mentions"]["score"] == pytest.approx(MENTIONED[i]), record

    # 4. Ctrl-C's equivalent: a clean stop
    assert worker.terminate(timeout=60) == 0, worker.output()
    assert "Traceback" not in worker.output(), worker.output()
    assert sorted(p.name for p in folder.glob("*.db")) == ["spyglass.db"]
