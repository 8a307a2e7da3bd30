"""Evaluator service scale-out: rows/s of one job scored by 1 worker, then by 2.

A collector runs in a child process (``spyglass collector start``, over a temporary SQLite
file by default, or ``--store postgresql`` for a fresh PostgreSQL database, or any store
URL), beside a local OpenAI-compatible server in another (``python -m spyglass.local_llm``)
that answers every request after ``--latency-ms`` (50 ms), as a hosted judge model would. A
dataset of ``--rows`` records with recorded outputs is scored by an LLM judge (Guidelines)
and a code scorer (Contains): first by one ``spyglass evaluator serve`` process, then the
same job again (a new job on the same dataset, same collector) by two. Each worker scores
``--concurrency`` rows at once, so one worker's latency bound is concurrency / latency rows/s.

The time of a job is the collector's: from submit to the last chunk released. The script
prints both rates and their ratio (2 workers / 1 worker; 2.00 when judge latency is what
limits a worker and nothing else is saturated), the cores each part kept busy meanwhile
(the collector with its decode workers, the workers, the LLM server: whether the machine
rather than the service capped the scale-out), and checks that both jobs FINISHED with
every row stored.

Run: ``python benchmarks/evaluator_service.py [--rows 3000] [--latency-ms 50]
[--concurrency 16] [--chunk-size 100] [--store sqlite|postgresql|URL]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness import CollectorProcess, _cpu_seconds, free_port, fresh_store

GUIDELINES = "The answer must be polite and must give a delay."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--chunk-size", type=int, default=100)
    parser.add_argument(
        "--store",
        default="sqlite",
        help="sqlite (a temporary file), postgresql (a fresh database on "
        "SPYGLASS_BENCH_POSTGRES's server) or a store URL",
    )
    args = parser.parse_args()
    with (
        _store(args.store) as store,
        tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp,
        local_llm(args.latency_ms, Path(tmp)) as llm,
    ):
        collector = CollectorProcess(store)
        try:
            return run(args, collector, llm, Path(tmp), store.split(":", 1)[0].split("+")[0])
        finally:
            collector.stop()


def run(
    args: argparse.Namespace, collector: CollectorProcess, llm: Child, tmp: Path, kind: str
) -> int:
    """Score the dataset with 1 worker, then 2; print the figures (0), or say what went
    wrong (1)."""
    import spyglass
    from spyglass.evaluator import get_evaluation_run
    from spyglass.evaluator.datasets import create_dataset

    address = f"127.0.0.1:{collector.grpc_port}"
    spyglass.configure(collector=address)
    dataset = create_dataset(f"bench-{uuid.uuid4().hex[:8]}")
    dataset.merge_records(
        [
            {
                "inputs": {"question": f"How long does refund {i} take?"},
                "outputs": f"Refunds take {i % 7 + 1} days; thank you.",
            }
            for i in range(args.rows)
        ]
    )
    env = {**os.environ, "OPENAI_BASE_URL": llm.url.rsplit("/", 1)[0], "OPENAI_API_KEY": "sk-bench"}
    measured = {}
    for workers in (1, 2):
        with evaluators(workers, address, args.concurrency, env, tmp) as children:

            def cpu() -> list[float]:  # CPU seconds of the collector, workers, LLM server
                return [
                    collector.cpu_seconds(),
                    sum(_cpu_seconds(c.process.pid) for c in children),
                    _cpu_seconds(llm.process.pid),
                ]

            cpu_started, wall_started = cpu(), time.monotonic()
            seconds, job = score(dataset.name, args.chunk_size, children)
            wall = time.monotonic() - wall_started
            cores = [(end - start) / wall for start, end in zip(cpu_started, cpu())]
        run_record = get_evaluation_run(job.run_id)
        if (job.status, job.rows_done, run_record.record_count) != (
            "FINISHED",
            args.rows,
            args.rows,
        ):
            print(
                f"{workers} worker(s): job {job.status}, {job.rows_done} rows done, "
                f"{run_record.record_count} stored: {job}",
                file=sys.stderr,
            )
            return 1
        measured[workers] = (seconds, args.rows / seconds, cores)

    bound = args.concurrency / (args.latency_ms / 1000)
    print(
        f"evaluator service: {args.rows} dataset rows x (Guidelines judge + Contains), judge "
        f"latency {args.latency_ms:.0f} ms, --concurrency {args.concurrency}, chunks of "
        f"{args.chunk_size}, collector in a child process on {kind}"
    )
    for workers, (seconds, rate, cores) in measured.items():
        print(
            f"  {workers} worker{'s' if workers > 1 else ' '}  {seconds:7.2f} s  {rate:7.1f} "
            f"rows/s   (latency bound {workers * bound:.0f} rows/s, ratio "
            f"{rate / (workers * bound):.2f}; cores busy: collector {cores[0]:.2f}, "
            f"worker{'s' * (workers > 1)} {cores[1]:.2f}, LLM server {cores[2]:.2f}, of "
            f"{os.cpu_count()})"
        )
    ratio = measured[2][1] / measured[1][1]
    print(f"  scale-out 2 / 1 workers  {ratio:.2f}   (ideal 2.00 while cores are free)")
    return 0


def score(dataset: str, chunk_size: int, children: list[Child]):  # type: ignore[no-untyped-def]
    """Submit the job, wait for it; (seconds from submit to finish, the job)."""
    from spyglass.evaluator import submit_job, wait_for_job

    job = submit_job(
        dataset=dataset,
        chunk_size=chunk_size,
        scorers=[
            {"type": "Guidelines", "name": "polite", "guidelines": GUIDELINES},
            {"type": "Contains", "terms": ["days"], "name": "says_days"},
        ],
    )
    try:
        job = wait_for_job(job.job_id, timeout=900, poll=0.2)
    except TimeoutError:
        print("\n".join(child.log.read_text() for child in children), file=sys.stderr)
        raise
    return (job.finished_time_ms - job.created_time_ms) / 1000, job


@dataclass
class Child:
    """A child process of the benchmark, with its log file and, when it serves HTTP, the
    URL that answers once it is ready."""

    process: subprocess.Popen  # type: ignore[type-arg]
    log: Path
    url: str

    @staticmethod
    def start(args: list[str], log: Path, url: str, env: dict[str, str] | None = None) -> Child:
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, *args], stdout=out, stderr=subprocess.STDOUT, env=env
            )
        return Child(process, log, url)

    def wait_answering(self, timeout: float = 60.0) -> None:
        """Until its URL answers 200; fails with its log if it exits or never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.process.args[1:4]} exited:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url, timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(
            f"{self.url} did not answer within {timeout:g} s:\n{self.log.read_text()}"
        )

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not exited 30 s later."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@contextlib.contextmanager
def evaluators(
    count: int, address: str, concurrency: int, env: dict[str, str], tmp: Path
) -> Iterator[list[Child]]:
    """``count`` ``spyglass evaluator serve`` processes, ready; stopped with SIGTERM after."""
    children: list[Child] = []
    try:
        for n in range(count):
            port = free_port()
            children.append(
                Child.start(
                    [
                        "-m",
                        "spyglass.cli",
                        "evaluator",
                        "serve",
                        "--collector",
                        address,
                        "--http-port",
                        str(port),
                        "--concurrency",
                        str(concurrency),
                        "--poll-seconds",
                        "0.2",
                        "--log-level",
                        "warning",
                    ],
                    tmp / f"evaluator-{n}-{port}.log",
                    f"http://127.0.0.1:{port}/readyz",
                    env,
                )
            )
        for child in children:
            child.wait_answering()
        yield children
    finally:
        for child in children:
            child.stop()


@contextlib.contextmanager
def local_llm(latency_ms: float, tmp: Path) -> Iterator[Child]:
    """``python -m spyglass.local_llm`` in a child process, answering."""
    port = free_port()
    child = Child.start(
        ["-m", "spyglass.local_llm", "--port", str(port), "--latency-ms", str(latency_ms)],
        tmp / "local-llm.log",
        f"http://127.0.0.1:{port}/v1/models",
    )
    try:
        child.wait_answering()
        yield child
    finally:
        child.stop()


@contextlib.contextmanager
def _store(store: str) -> Iterator[str]:
    if store in ("sqlite", "postgresql"):
        with fresh_store(store) as url:
            yield url
    else:
        yield store


if __name__ == "__main__":
    sys.exit(main())
