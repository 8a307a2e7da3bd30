"""Helpers for the evaluator service's end-to-end tests: ``spyglass evaluator serve`` child
processes, traces sent with the official OTel SDK, and read-backs through the public API.

* :class:`EvaluatorProcess` runs ``python -m spyglass.cli evaluator serve`` in a session
  of its own (its output in a log file, shown when something goes wrong), waits for its
  ``/readyz``, reads its ``/metrics``, and stops it with SIGTERM or SIGKILL.
* :func:`send_support_traces` sends finished traces (a root span with inputs and outputs and
  one child LLM span) through the OTel SDK's OTLP/gRPC exporter.
* :func:`assert_scored_once` reads the feedback of one evaluation run back from the
  experiment's traces (SearchTraces) and checks there is exactly one per (trace, score name).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
from otel_sdk import OtelSdk
from processes import REPO_ROOT, ChildProcess, free_port
from prometheus_client.parser import text_string_to_metric_families

from spyglass.client import SpyglassClient
from spyglass.entities import EvaluationJob, Feedback
from spyglass.evaluator.jobs.submit import JobTimeoutError, wait_for_job

TRACE_NAME = "support-chat"

IMPORT_ROOTS = (str(REPO_ROOT), str(REPO_ROOT / "tests"))
"""Where scorer import paths resolve: ``tests.e2e.service_scorers:slowly`` and
``scorer_fixtures.support_scorers:...``; submitters check them here, workers import them."""
for _root in reversed(IMPORT_ROOTS):
    if _root not in sys.path:
        sys.path.insert(0, _root)


# -- evaluator subprocesses ------------------------------------------------------------


class EvaluatorProcess(ChildProcess):
    """``spyglass evaluator serve`` in a child process, its HTTP port on a free loopback port.

    ``flags`` become command-line options (``lease_seconds=2`` → ``--lease-seconds 2``; a
    list gives the option once per item); ``env`` is added to an environment cleared of
    ``SPYGLASS_*`` variables, with :data:`IMPORT_ROOTS` on ``PYTHONPATH`` so that the tests'
    scorer import paths resolve in the worker too.
    """

    def __init__(
        self,
        collector: str,
        log_dir: Path,
        name: str,
        env: Mapping[str, str] | None = None,
        **flags: object,
    ) -> None:
        self.name = name
        self.http_port = free_port()
        self.log_path = log_dir / f"{name}-{self.http_port}.log"
        args = [
            sys.executable,
            "-m",
            "spyglass.cli",
            "evaluator",
            "serve",
            "--collector",
            collector,
            "--http-port",
            str(self.http_port),
        ]
        for key, value in flags.items():
            for one in value if isinstance(value, (list, tuple)) else [value]:
                args += ["--" + key.replace("_", "-"), str(one)]
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS_")}
        child_env["PYTHONPATH"] = os.pathsep.join(
            [*IMPORT_ROOTS, *filter(None, child_env.get("PYTHONPATH", "").split(os.pathsep))]
        )
        child_env.update(env or {})
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                env=child_env,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    output = log

    def get(self, path: str) -> httpx.Response:
        """``GET`` one of the worker's HTTP endpoints (``/healthz``, ``/readyz``, ...)."""
        return httpx.get(self.http_url + path, timeout=5.0)

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """Every sample of ``/metrics`` by (sample name, labels)."""
        reply = self.get("/metrics")
        assert reply.status_code == 200, f"{self.name} /metrics: {reply.status_code}"
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(reply.text)
            for sample in family.samples
        }

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples named ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(
            value
            for (sample, have), value in self.metrics().items()
            if sample == name and wanted <= have
        )


class EvaluatorProcesses:
    """Starts evaluator subprocesses for one test; none outlives it."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[EvaluatorProcess] = []

    def spawn(
        self, collector: str, env: Mapping[str, str] | None = None, **flags: object
    ) -> EvaluatorProcess:
        """Start one without waiting for it (several then start at the same moment)."""
        proc = EvaluatorProcess(
            collector, self.log_dir, f"evaluator{len(self.started)}", env, **flags
        )
        self.started.append(proc)
        return proc

    def start(
        self, collector: str, count: int, env: Mapping[str, str] | None = None, **flags: object
    ) -> list[EvaluatorProcess]:
        """Start ``count`` alike and wait until every one is ready."""
        procs = [self.spawn(collector, env, **flags) for _ in range(count)]
        return [proc.wait_ready() for proc in procs]

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.log()}" for p in self.started)

    def kill_all(self) -> None:
        for proc in self.started:
            proc.kill()


# -- traces ------------------------------------------------------------------------------


def support_answer(i: int) -> str:
    """The recorded answer of trace ``i``: every third one a refusal, else a refund delay."""
    return (
        "Sorry, I cannot help with that."
        if i % 3 == 0
        else f"Refunds take {i % 7 + 1} days; thank you for waiting."
    )


def send_support_traces(
    collector: Any,
    count: int,
    service: str,
    name: str = TRACE_NAME,
    start: int = 0,
    flush_every: int = 250,
) -> list[str]:
    """Send ``count`` finished traces named ``name`` with the OTel SDK (OTLP/gRPC) to
    experiment ``service`` (its resource ``service.name``); returns their ids in order.

    The root span carries the question and the answer (``mlflow.spanInputs`` /
    ``mlflow.spanOutputs``, JSON) and has one child LLM span. Spans are flushed every
    ``flush_every`` traces, well within the SDK's queue, so none is dropped."""
    sdk = OtelSdk(collector, "grpc", {"service.name": service})
    ids: list[str] = []
    try:
        for i in range(start, start + count):
            with sdk.tracer.start_as_current_span(name) as root:
                root.set_attribute(
                    "mlflow.spanInputs", json.dumps({"question": f"How long does refund {i} take?"})
                )
                root.set_attribute("mlflow.spanOutputs", json.dumps(support_answer(i)))
                with sdk.tracer.start_as_current_span("chat gpt-4o-mini") as child:
                    child.set_attribute("gen_ai.operation.name", "chat")
                    child.set_attribute("gen_ai.request.model", "gpt-4o-mini")
            ids.append(format(root.get_span_context().trace_id, "032x"))
            if len(ids) % flush_every == 0:
                sdk.flush_spans()
        sdk.flush_spans()
    finally:
        sdk.shutdown()
    return ids


def sampled(monitor_id: str, trace_id: str, rate: float) -> bool:
    """A monitor's draw for a trace, as the collector makes it (see jobs.proto)."""
    digest = hashlib.sha256((monitor_id + trace_id).encode()).hexdigest()
    return int(digest[:8], 16) / 2**32 < rate


# -- reading results back through the API ----------------------------------------------


def run_feedback(
    client: SpyglassClient, experiment_id: str, run_id: str
) -> dict[tuple[str, str], list[Feedback]]:
    """The feedback of run ``run_id`` on the experiment's traces, by (trace id, name)."""
    found: dict[tuple[str, str], list[Feedback]] = {}
    for page, _token in client.search_trace_pages(
        [experiment_id], page_size=500, include_spans=False
    ):
        for trace in page:
            for assessment in trace.info.assessments:
                if isinstance(assessment, Feedback) and assessment.run_id == run_id:
                    found.setdefault((trace.info.trace_id, assessment.name), []).append(assessment)
    return found


def assert_scored_once(
    client: SpyglassClient,
    experiment_id: str,
    run_id: str,
    trace_ids: Iterable[str],
    names: Iterable[str],
) -> dict[tuple[str, str], Feedback]:
    """Every trace of ``trace_ids`` has exactly one feedback of the run per name, and no
    other trace has any; returns that feedback by (trace id, name)."""
    found = run_feedback(client, experiment_id, run_id)
    expected = {(t, n) for t in trace_ids for n in names}
    duplicated = {key: len(f) for key, f in found.items() if len(f) != 1}
    assert not duplicated, (
        f"{len(duplicated)} (trace, scorer) pairs have several feedback: "
        f"{list(duplicated.items())[:5]}"
    )
    missing, extra = expected - set(found), set(found) - expected
    assert not missing and not extra, (
        f"{len(missing)} missing, e.g. {sorted(missing)[:3]}; "
        f"{len(extra)} unexpected, e.g. {sorted(extra)[:3]}"
    )
    return {key: f[0] for key, f in found.items()}


def wait_job(job_id: str, timeout: float, processes: EvaluatorProcesses) -> EvaluationJob:
    """``wait_for_job`` (polling every 0.2 s), failing with the workers' logs on a timeout."""
    try:
        return wait_for_job(job_id, timeout=timeout, poll=0.2)
    except JobTimeoutError as exc:
        raise AssertionError(f"{exc}\n{processes.logs()}") from None
