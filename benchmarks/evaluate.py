"""Evaluation throughput against the latency bound.

A local OpenAI-compatible server (``spyglass.local_llm.LocalLLM``) answers every request
after a fixed latency (100 ms). It runs in a child process by default, as a real model
endpoint runs outside the app (``--llm thread`` runs it inside the benchmark's process, where
its request handling competes for the same interpreter lock as the code measured).
``evaluate()`` runs 1,000 records with a ``predict_fn`` that makes one chat call through the
real ``openai`` client (autologged), scored by two LLM judges (Correctness, Guidelines) and one
code scorer, ``max_workers=32``, with batched write-back, against a collector over a temporary
SQLite file: by default a ``spyglass collector start`` child process, as in production
(``--collector embedded`` runs the embedded collector inside the benchmark's process, where its
ingest competes for the interpreter lock with the code measured).

A row's critical path is its predict call followed by its judges, which run in parallel:
2 × latency. With W rows in flight the best possible throughput (the latency bound) is
W ÷ (2 × latency) records/s; the benchmark prints the measured records/s and its ratio to
that bound. It also measures, in the same run, one bare chat call's round trip through the
client (the latency a row really waits for), and checks that the run and every row's
feedback were stored.

Run: ``python benchmarks/evaluate.py [--records 1000] [--workers 32] [--latency-ms 100]
[--llm process|thread] [--collector process|embedded] [--no-autolog]``.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

GUIDELINES = "The answer must be polite and must answer the question."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument(
        "--no-autolog",
        action="store_true",
        help="do not trace the app's OpenAI call (fewer spans per row)",
    )
    parser.add_argument(
        "--llm",
        choices=["process", "thread"],
        default="process",
        help="where the local LLM server runs (default: a child process)",
    )
    parser.add_argument(
        "--collector",
        choices=["process", "embedded"],
        default="process",
        help="where the collector runs (default: a `spyglass collector start` child process)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spyglass-bench-eval-") as tmp:
        store = f"sqlite:///{Path(tmp) / 'bench.db'}"
        os.environ.pop("SPYGLASS_COLLECTOR", None)
        if args.collector == "embedded":
            os.environ["SPYGLASS_STORE"] = store
            return run(args, None)
        with collector_process(store, Path(tmp) / "collector.log") as (address, pid):
            return run(args, address, pid)


def run(args: argparse.Namespace, collector: str | None, collector_pid: int | None = None) -> int:
    import openai

    import spyglass
    from spyglass.evaluator import evaluate, get_evaluation_run
    from spyglass.evaluator.scorers import Correctness, Guidelines, scorer

    latency = args.latency_ms / 1000
    with local_llm(latency, args.llm) as llm:
        os.environ["OPENAI_BASE_URL"] = llm.base_url
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        spyglass.configure(collector=collector)
        spyglass.set_experiment("evaluate benchmark")
        if not args.no_autolog:
            spyglass.openai.autolog()
        client = openai.OpenAI(max_retries=0)

        def answer(question: str) -> str:
            response = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[
                    {
                        "role": "user",
                        "content": f"Context: Refunds take 5 days.\n\nQuestion: {question}",
                    }
                ],
            )
            return response.choices[0].message.content

        @scorer
        def mentions_days(outputs: str) -> bool:
            return "days" in outputs

        data = [
            {
                "inputs": {"question": f"How long does refund {i} take?"},
                "expectations": {"expected_response": "Refunds take 5 days."},
            }
            for i in range(args.records)
        ]
        scorers = [Correctness(), Guidelines(guidelines=GUIDELINES), mentions_days]

        measured = _round_trip(client, answer)
        evaluate(data[: args.workers], scorers, predict_fn=answer, max_workers=args.workers)

        others = {"LLM server": llm.pid, "collector": collector_pid}
        others_started = {name: _cpu_seconds(pid) for name, pid in others.items()}
        started, cpu_started = time.perf_counter(), time.process_time()
        result = evaluate(
            data, scorers, predict_fn=answer, model_id="bench", max_workers=args.workers
        )
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        others_cpu = {
            name: _cpu_seconds(pid) - others_started[name]
            for name, pid in others.items()
            if others_started[name] and pid != os.getpid()
        }
        run_record = get_evaluation_run(result.run_id)
        fed_back = spyglass.search_traces(
            filter_string=f"feedback.mentions_days IS NOT NULL AND "
            f"metadata.`spyglass.evaluation_run_id` = '{result.run_id}'",
            return_type="list",
            max_results=args.records + 10,
        )
        requests = llm.request_count()

    rate = args.records / elapsed
    bound = args.workers / (2 * latency)
    measured_bound = args.workers / (2 * measured)
    print(
        f"evaluate(): {args.records} records, predict_fn (1 LLM call) + Correctness + "
        f"Guidelines + 1 code scorer, max_workers={args.workers}, latency "
        f"{args.latency_ms:.0f} ms (LLM server in a {args.llm}), collector "
        f"{'embedded' if collector is None else 'in a child process'} on SQLite, autolog "
        f"{'off' if args.no_autolog else 'on'}"
    )
    print(f"  time                {elapsed:8.2f} s   (goal <= 15 s for 1,000 records)")
    print(f"  throughput          {rate:8.1f} records/s")
    print(
        f"  latency bound       {bound:8.1f} records/s   ({args.workers} workers / "
        f"(2 x {args.latency_ms:.0f} ms))"
    )
    print(f"  ratio to the bound  {rate / bound:8.2f}   (goal >= 0.80)")
    sharing = ", ".join(
        ["app", "judges"]
        + ["collector"] * (collector is None)
        + ["LLM server"] * (args.llm == "thread")
    )
    print(
        f"  process CPU         {cpu:8.2f} s   ({cpu / elapsed:.2f} cores; {sharing} share "
        f"this process; {cpu / args.records * 1000:.1f} ms per record)"
    )
    if others_cpu:
        print(
            "  other processes     "
            + ", ".join(
                f"{name} {spent:.2f} s ({spent / elapsed:.2f} cores)"
                for name, spent in others_cpu.items()
            )
        )
    print(
        f"  one call round trip {measured * 1000:8.1f} ms  (bound with it: "
        f"{measured_bound:.1f} records/s, ratio {rate / measured_bound:.2f})"
    )
    print(
        f"  LLM requests        {requests:8d}   run {run_record.status}, "
        f"{run_record.record_count} records stored, {len(fed_back)} traces with feedback, "
        f"judge tokens {run_record.judge_input_tokens}+{run_record.judge_output_tokens}, "
        f"cost {run_record.judge_cost}"
    )
    scores = {k: round(v, 3) for k, v in result.metrics.items() if k.endswith("/score")}
    print(f"  metrics             {scores}")
    ok = run_record.record_count == args.records and len(fed_back) == args.records
    if not ok:
        print("  write-back incomplete!", file=sys.stderr)
    return 0 if ok else 1


@contextlib.contextmanager
def collector_process(store: str, log: Path) -> Iterator[tuple[str, int]]:
    """``spyglass collector start`` on ``store`` in a child process; yields its gRPC address
    and process id once it is ready (its log goes to ``log``)."""
    grpc_port, http_port = _free_port(), _free_port()
    with open(log, "wb") as out:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "spyglass.cli",
                "collector",
                "start",
                "--store",
                store,
                "--grpc-port",
                str(grpc_port),
                "--http-port",
                str(http_port),
                "--log-level",
                "info",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while b"collector ready" not in log.read_bytes():
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the collector did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield f"127.0.0.1:{grpc_port}", child.pid
    finally:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()


def _cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) a process has used so far; 0.0 where ``/proc`` cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (OSError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _LLMHandle:
    """The local LLM as the benchmark sees it, wherever it runs."""

    def __init__(self, base_url: str, count: Any, pid: int) -> None:
        self.base_url = base_url
        self.request_count = count
        self.pid = pid


@contextlib.contextmanager
def local_llm(latency_s: float, where: str) -> Iterator[_LLMHandle]:
    """``LocalLLM(latency_s=...)`` in this process's thread or in a child process."""
    from spyglass.local_llm import LocalLLM

    if where == "thread":
        with LocalLLM(latency_s=latency_s) as llm:
            yield _LLMHandle(llm.base_url, lambda: len(llm.requests), os.getpid())
        return
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=_serve_llm, args=(latency_s, theirs), daemon=True
    )
    child.start()
    base_url = ours.recv()

    def count() -> int:
        ours.send("count")
        return ours.recv()

    try:
        yield _LLMHandle(base_url, count, child.pid or 0)
    finally:
        ours.send("stop")
        child.join(timeout=10)


def _serve_llm(latency_s: float, conn: Any) -> None:
    """The child process: serve until told to stop, answering request counts."""
    from spyglass.local_llm import LocalLLM

    with LocalLLM(latency_s=latency_s) as llm:
        conn.send(llm.base_url)
        while conn.recv() == "count":
            conn.send(len(llm.requests))


def _round_trip(client: object, answer: object) -> float:
    """Median seconds of one chat call through the client (10 calls, after a warm-up)."""
    answer("warm up")  # type: ignore[operator]
    times = []
    for _ in range(10):
        started = time.perf_counter()
        answer("How long?")  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


if __name__ == "__main__":
    sys.exit(main())
