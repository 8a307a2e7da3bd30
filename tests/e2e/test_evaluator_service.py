"""The evaluator service end to end, with real processes: a collector on PostgreSQL (a
``spyglass collector start`` child process), ``spyglass evaluator serve`` child processes
taking its work by lease, traces sent with the official OTel SDK over OTLP/gRPC, and
everything read back through the public API (never the database).

- two workers share one 2,000-trace job and score every row exactly once;
- a worker killed with SIGKILL mid-job: its lease expires, the other finishes, no duplicate;
- a worker stopped with SIGTERM mid-job: exits 0 and gives its lease back at once;
- a monitor at sample rate 0.5 scores exactly the traces whose draw is under 0.5, once each;
- custom scorers by import path and by a name registered with ``--scorers-module``;
- bad job specs are refused by ``spyglass eval submit`` with the problem and the fix.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from processes import REPO_ROOT, CollectorProcess, CollectorProcesses, wait_until
from service_support import (
    TRACE_NAME,
    EvaluatorProcesses,
    assert_scored_once,
    sampled,
    send_support_traces,
    support_answer,
    wait_job,
)

import spyglass
from spyglass import session
from spyglass.client import SpyglassClient
from spyglass.evaluator import (
    create_monitor,
    get_evaluation_results,
    get_evaluation_run,
    get_job,
    get_monitor,
    list_jobs,
    submit_job,
)
from spyglass.evaluator.datasets import create_dataset
from spyglass.evaluator.jobs.submit import service
from spyglass.local_llm import LocalLLM
from spyglass.v1 import jobs_pb2

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]

SERVICE = "support-bot"  # the traces' service.name, hence their experiment
MATCHING = f"attributes.name = '{TRACE_NAME}'"
SAYS_DAYS = {"type": "Contains", "terms": ["days"], "name": "says_days"}
GIVES_DELAY = {"type": "RegexMatch", "pattern": r"\b\d+ days\b", "name": "gives_delay"}
MENTIONS_REFUND = "scorer_fixtures.support_scorers:mentions_refund"  # a plain function
JUDGE = {
    "type": "Guidelines",
    "name": "support_quality",
    "guidelines": "The answer must be polite and must answer the question.",
}
SLOW = {"type": "tests.e2e.service_scorers:slowly", "seconds": 0.1}  # "slow_days"
WORKER_FLAGS = {"poll_seconds": 0.2}


def says_days(i: int) -> float:
    """What Contains(terms=["days"]) gives trace ``i``'s answer."""
    return 1.0 if "days" in support_answer(i) else 0.0


@pytest.fixture
def pg_collector(collector_processes: CollectorProcesses, postgres_url: str) -> CollectorProcess:
    """A ``spyglass collector start`` child process on a fresh PostgreSQL database."""
    return collector_processes.start(postgres_url, decode_workers=0)


@pytest.fixture
def address(pg_collector: CollectorProcess) -> str:
    return f"127.0.0.1:{pg_collector.grpc_port}"


@pytest.fixture
def api(address: str) -> Iterator[SpyglassClient]:
    """The facade configured against the collector (for the Python API), and its client."""
    spyglass.configure(collector=address)
    yield session.client()
    session._shutdown()


def judge_env(server) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What a worker needs to reach the local judge model."""
    return {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-local"}


def assert_finished(job, total: int) -> None:  # type: ignore[no-untyped-def]
    assert job.status == "FINISHED", job
    assert (job.total_rows, job.rows_done, job.rows_with_errors) == (total, total, 0), job
    assert job.chunks_done == job.chunks_total and job.chunks_failed == 0, job
    run = get_evaluation_run(job.run_id)
    assert (run.status, run.record_count) == ("FINISHED", total), run


def rows_scored(worker) -> float:  # type: ignore[no-untyped-def]
    return worker.metric("spyglass_evaluator_rows_scored_total", kind="job")


def leases_held(worker) -> float:  # type: ignore[no-untyped-def]
    return worker.metric("spyglass_evaluator_leases_held")


# -- two workers, one big job ------------------------------------------------------------


def test_two_workers_score_a_2000_trace_job_exactly_once(
    pg_collector: CollectorProcess,
    address: str,
    api: SpyglassClient,
    evaluator_processes: EvaluatorProcesses,
    llm: LocalLLM,
) -> None:
    ids = send_support_traces(pg_collector, 2000, SERVICE)
    send_support_traces(pg_collector, 20, SERVICE, name="health-check", start=9000)  # no match
    experiment = api.get_experiment_by_name(SERVICE)
    workers = evaluator_processes.start(
        address, 2, env=judge_env(llm), concurrency=16, **WORKER_FLAGS
    )

    job = submit_job(
        experiment=SERVICE,
        filter_string=MATCHING,
        chunk_size=50,
        scorers=[SAYS_DAYS, GIVES_DELAY, MENTIONS_REFUND, JUDGE],
    )
    assert (job.status, job.total_rows, job.chunks_total) == ("PENDING", 2000, 40), job
    job = wait_job(job.job_id, 150, evaluator_processes)
    assert_finished(job, 2000)
    assert get_evaluation_run(job.run_id).judge_input_tokens > 0  # usage came with releases

    index = {trace_id: i for i, trace_id in enumerate(ids)}
    records = get_evaluation_results(job.run_id)
    assert sorted(r.row_index for r in records) == list(range(2000))
    assert sorted(r.trace_id for r in records) == sorted(ids)
    assert get_evaluation_run(job.run_id).metrics["says_days/score"] == pytest.approx(
        sum(says_days(i) for i in range(2000)) / 2000
    )

    names = ["says_days", "gives_delay", "mentions_refund", "support_quality"]
    feedback = assert_scored_once(api, experiment.experiment_id, job.run_id, ids, names)
    for trace_id, i in index.items():
        assert feedback[(trace_id, "says_days")].value == says_days(i)
        assert feedback[(trace_id, "gives_delay")].value is bool(says_days(i))
        assert feedback[(trace_id, "mentions_refund")].value is (i % 3 != 0)
        judged = feedback[(trace_id, "support_quality")]
        assert judged.error is None and judged.value in (1.0, 0.0), judged  # yes/no as a number
        assert judged.metadata["spyglass.label"] == ("yes" if judged.value else "no"), judged
        assert judged.source.source_type == "LLM_JUDGE", judged

    shares = [rows_scored(w) for w in workers]
    assert all(share > 0 for share in shares), (shares, evaluator_processes.logs())
    assert sum(shares) == 2000, shares
    judged_rows = [w.metric("spyglass_evaluator_judge_latency_seconds_count") for w in workers]
    assert sum(judged_rows) == 2000, judged_rows


# -- a worker killed, a worker stopped -------------------------------------------------------


def _stop_mid_job(
    collector: CollectorProcess,
    address: str,
    evaluator_processes: EvaluatorProcesses,
    traces: int,
    chunk_size: int,
    stop: str,
    stored: int = 0,
    **flags: object,
) -> tuple:  # type: ignore[type-arg]
    """Two workers (4 rows at once) on a job of ``traces`` rows taking 0.1 s each, in chunks
    of ``chunk_size``. Once the first has finished a chunk, holds the lease of its second
    and stored ``stored`` of that chunk's rows, ``stop`` it ("kill": SIGKILL, "term":
    SIGTERM, which must exit 0). Returns (the trace ids, the job just after, the stopped
    worker, the other one, when it stopped)."""
    ids = send_support_traces(collector, traces, SERVICE)
    first, other = evaluator_processes.start(address, 2, concurrency=4, **flags, **WORKER_FLAGS)
    job = submit_job(
        experiment=SERVICE, filter_string=MATCHING, chunk_size=chunk_size, scorers=[SLOW, SAYS_DAYS]
    )

    def in_second_chunk() -> bool:
        return (
            first.metric("spyglass_evaluator_chunks_total", outcome="done") == 1
            and leases_held(first) == 1
            and rows_scored(first) >= chunk_size + stored
        )

    wait_until(in_second_chunk, 60, "the worker to be in its second chunk", interval=0.02)
    done_by_first = rows_scored(first)
    stopped = time.monotonic()
    if stop == "kill":
        first.kill()
    else:
        assert first.terminate(timeout=20) == 0, first.log()
    at_stop = get_job(job.job_id)
    assert done_by_first >= chunk_size and at_stop.rows_done < traces, (done_by_first, at_stop)
    return ids, at_stop, first, other, stopped


CLAIMED = re.compile(r"claimed job (\w+) chunk (\d+): (\d+) row\(s\), attempt (\d+)")
ENDED = re.compile(r"job (\w+) chunk (\d+): (\w+); (\d+) of (\d+) row\(s\) stored")


def test_a_worker_killed_mid_job_leaves_no_duplicate_and_the_job_completes(
    pg_collector: CollectorProcess,
    address: str,
    api: SpyglassClient,
    evaluator_processes: EvaluatorProcesses,
) -> None:
    # chunks of 2 s, results sent every 0.5 s: killed once some rows of its chunk are stored
    ids, job, victim, survivor, _ = _stop_mid_job(
        pg_collector, address, evaluator_processes, 400, 80, "kill", stored=1, lease_seconds=2
    )
    job = wait_job(job.job_id, 120, evaluator_processes)
    assert_finished(job, 400)
    experiment = api.get_experiment_by_name(SERVICE)
    assert_scored_once(api, experiment.experiment_id, job.run_id, ids, ["slow_days", "says_days"])
    # the chunk it held when it died went to the survivor once its lease expired, without
    # the rows already stored
    claimed = [m.group(2) for m in CLAIMED.finditer(victim.log())]
    ended = {m.group(2) for m in ENDED.finditer(victim.log())}
    [held] = [chunk for chunk in claimed if chunk not in ended]
    retaken = [m for m in CLAIMED.finditer(survivor.log()) if m.group(1, 2) == (job.job_id, held)]
    assert retaken and int(retaken[0].group(4)) >= 2, survivor.log()
    assert 0 < int(retaken[0].group(3)) < 80, retaken[0].group(0)


def test_sigterm_exits_0_and_gives_the_lease_back_at_once(
    pg_collector: CollectorProcess,
    address: str,
    api: SpyglassClient,
    evaluator_processes: EvaluatorProcesses,
) -> None:
    lease = 60.0  # were the lease not given back, the job would wait this long for it
    ids, job, leaving, staying, stopped = _stop_mid_job(
        pg_collector,
        address,
        evaluator_processes,
        240,
        40,
        "term",
        lease_seconds=lease,
        shutdown_grace=10,
    )
    assert "Traceback" not in leaving.log(), leaving.log()
    job = wait_job(job.job_id, lease / 2, evaluator_processes)
    assert time.monotonic() - stopped < lease / 2
    assert_finished(job, 240)
    experiment = api.get_experiment_by_name(SERVICE)
    assert_scored_once(api, experiment.experiment_id, job.run_id, ids, ["slow_days", "says_days"])
    # it stored the rows in flight and gave the rest back; the other worker got just those
    [given_back] = [m for m in ENDED.finditer(leaving.log()) if m.group(3) == "given_back"]
    chunk, stored, rows = given_back.group(2), int(given_back.group(4)), int(given_back.group(5))
    assert 0 < stored < rows == 40, given_back.group(0)
    assert any(
        m.group(1, 2, 3) == (job.job_id, chunk, str(rows - stored))
        for m in CLAIMED.finditer(staying.log())
    ), staying.log()
    # its last heartbeat said "stopping": the collector forgot it at once, not 15 s after its
    # last claim (the remaining worker hears the count in its heartbeats, every 5 s)
    wait_until(
        lambda: staying.metric("spyglass_evaluator_live_workers") == 1,
        stopped + 13 - time.monotonic(),
        "the remaining worker to count one live worker",
        interval=0.2,
    )


# -- a monitor ---------------------------------------------------------------------------


def test_a_monitor_samples_half_of_the_new_traces_and_scores_each_once(
    pg_collector: CollectorProcess,
    address: str,
    api: SpyglassClient,
    evaluator_processes: EvaluatorProcesses,
) -> None:
    experiment = api.create_experiment(SERVICE)
    send_support_traces(pg_collector, 30, SERVICE, start=5000)  # before: not to be scored
    evaluator_processes.start(address, 2, concurrency=8, **WORKER_FLAGS)
    monitor = create_monitor(
        "support-quality",
        experiment=SERVICE,
        filter_string=MATCHING,
        sample_rate=0.5,
        quiet_period_seconds=1.0,
        scorers=[SAYS_DAYS, MENTIONS_REFUND],
    )
    ids = send_support_traces(pg_collector, 1000, SERVICE)
    send_support_traces(pg_collector, 30, SERVICE, name="health-check", start=8000)
    chosen = [i for i, trace_id in enumerate(ids) if sampled(monitor.monitor_id, trace_id, 0.5)]
    assert 400 <= len(chosen) <= 600, len(chosen)  # 4.5 sigma of Binomial(1000, 0.5)

    def caught_up():  # type: ignore[no-untyped-def]
        found = get_monitor(monitor.monitor_id)
        return found.traces_seen == 1000 and found.traces_scored == len(chosen) and found

    try:
        found = wait_until(caught_up, 90, "the monitor to score the sampled traces", interval=0.25)
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}: {get_monitor(monitor.monitor_id)}\n{evaluator_processes.logs()}"
        ) from None
    assert found.traces_sampled == len(chosen), found
    # and no other trace: neither those not drawn nor those stored before the monitor
    assert_scored_once(
        api,
        experiment.experiment_id,
        monitor.run_id,
        [ids[i] for i in chosen],
        ["says_days", "mentions_refund"],
    )

    mean = sum(says_days(i) for i in chosen) / len(chosen)
    windows = {w.window: w for w in found.windows}
    assert sorted(windows) == ["1h", "24h", "7d"], found.windows
    for window in windows.values():
        assert window.rows == len(chosen), window
        score = next(s for s in window.scores if s.name == "says_days")
        assert (score.count, score.error_count) == (len(chosen), 0), score
        assert score.mean == pytest.approx(mean), score

    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "spyglass.cli",
            "monitors",
            "show",
            "support-quality",
            "--collector",
            address,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert (doc["traces_seen"], doc["traces_sampled"], doc["traces_scored"]) == (
        1000,
        len(chosen),
        len(chosen),
    ), doc
    assert {w["window"]: w["rows"] for w in doc["windows"]} == {
        "1h": len(chosen),
        "24h": len(chosen),
        "7d": len(chosen),
    }, doc["windows"]


# -- custom scorers ------------------------------------------------------------------------


def test_custom_scorers_by_import_path_and_by_registered_name(
    address: str, api: SpyglassClient, evaluator_processes: EvaluatorProcesses
) -> None:
    answers = [support_answer(i) for i in range(60)]
    dataset = create_dataset("support-answers")
    dataset.merge_records(
        [
            {
                "inputs": {"question": f"How long does refund {i} take?"},
                "outputs": answer,
                "expectations": {"required_info": ["days"]},
            }
            for i, answer in enumerate(answers)
        ]
    )
    evaluator_processes.start(
        address, 1, concurrency=4, scorers_module="scorer_fixtures.support_scorers", **WORKER_FLAGS
    )
    scorers = [
        "scorer_fixtures.support_scorers:contains_required_info",  # a @scorer function
        MENTIONS_REFUND,  # a plain function
        {
            "type": "scorer_fixtures.support_scorers:LengthAtMost",
            "max_chars": 40,
            "name": "short",
        },  # a Scorer class with params
        {
            "type": "scorer_fixtures.support_scorers:make_keyword_scorer",
            "keyword": "sorry",
        },  # a factory
        "concise",  # registered by the worker's --scorers-module
    ]
    job = submit_job(dataset="support-answers", scorers=scorers, chunk_size=25)
    job = wait_job(job.job_id, 60, evaluator_processes)
    assert_finished(job, 60)

    expected = {
        answer: {
            "contains_required_info": "days" in answer,
            "mentions_refund": "refund" in answer.lower(),
            "short": len(answer) <= 40,
            "mentions_sorry": "sorry" in answer.lower(),
            "concise": len(answer) <= 80,
        }
        for answer in answers
    }
    records = get_evaluation_results(job.run_id)
    assert len(records) == 60
    for record in records:
        got = {s.name: s.value for s in record.scores}
        assert all(s.error is None for s in record.scores), record.scores
        assert got == expected[record.outputs], (record.outputs, got)

    # an import path no worker can import (sent past the client's own check): every row gets
    # an error for that scorer, and the job still ends
    client = session.client()
    raw = client.call(
        service(client).SubmitJob,
        jobs_pb2.SubmitJobRequest(
            input=jobs_pb2.JobInput(dataset=jobs_pb2.DatasetInput(dataset="support-answers")),
            scorers=[
                jobs_pb2.ScorerRef(type="scorer_fixtures.no_such_module:scorer"),
                jobs_pb2.ScorerRef(type="concise"),
            ],
        ),
    )
    broken = wait_job(raw.job_id, 60, evaluator_processes)
    assert (broken.status, broken.rows_done, broken.rows_with_errors) == ("FINISHED", 60, 60), (
        broken
    )
    [errors] = broken.errors
    assert errors.count == 60 and "could not load scorer" in errors.last_error, errors
    assert "no_such_module" in errors.last_error, errors


# -- bad specs refused at submit -------------------------------------------------------------


BAD_SPECS = [  # (arguments, what the message must name, the fix it must suggest)
    (
        ["--experiment", SERVICE, "--scorer", "Guidlines"],
        "unknown scorer 'Guidlines'",
        "Use a built-in scorer (Correctness, Guidelines,",
    ),
    (
        ["--experiment", SERVICE, "--scorer", "guidelines"],
        "unknown scorer 'guidelines'",
        "did you mean 'Guidelines'",
    ),
    (
        ["--experiment", SERVICE, "--scorer", "mypkg.scorers:polite"],
        "cannot import 'mypkg.scorers'",
        "--scorers-module",
    ),
    (
        ["--experiment", SERVICE, "--filter", "attributes.name = ", "--scorer", "JsonValid"],
        "invalid filter: expected a value after =",
        "^",
    ),
    (
        ["--experiment", SERVICE, "--filter", "attributes.colour = 'red'", "--scorer", "JsonValid"],
        "unknown field 'attributes.colour'",
        "tags.<key>",
    ),
    (
        ["--dataset", "no-such-dataset", "--scorer", "JsonValid"],
        "no dataset has the id or name 'no-such-dataset'",
        "spyglass datasets list",
    ),
    (
        ["--experiment", "no-such-experiment", "--scorer", "JsonValid"],
        "no experiment has the id or name 'no-such-experiment'",
        "spyglass experiments list",
    ),
]


def test_bad_job_specs_are_refused_at_submit_with_the_problem_and_the_fix(
    pg_collector: CollectorProcess, address: str, api: SpyglassClient
) -> None:
    send_support_traces(pg_collector, 3, SERVICE)
    for args, problem, fix in BAD_SPECS:
        refused = subprocess.run(
            [sys.executable, "-m", "spyglass.cli", "eval", "submit", "--collector", address, *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO_ROOT,
        )
        message = refused.stderr
        assert refused.returncode != 0, (args, refused.stdout)
        assert "Traceback" not in message, (args, message)
        assert problem in message and fix in message, (args, message)
    assert list_jobs(include_monitors=True) == []
