"""Spyglass side by side with MLflow and Arize Phoenix: the same workloads, one run.

Each tool runs as its users start it, on SQLite, on free loopback ports: Spyglass's
``spyglass collector start``, MLflow's ``mlflow server --backend-store-uri sqlite:///…``,
Phoenix's ``phoenix serve`` (its default SQLite under a temporary PHOENIX_WORKING_DIR). The
peers run from their own virtual environment (build/peers-venv, made on first use at the
versions pinned in peers_venv.py), never the project's. The tools run one after another,
each alone with the local OpenAI-compatible server, and each through its public client:

1. ingest: the same OTLP/HTTP protobuf requests (benchmarks/workload.py's 10-span GenAI
   traces, built once, the same bytes for every tool) from 4 senders, after one untimed
   warm-up request; the clock stops when a listing through the tool's API that returns
   every span was asked for (the acknowledgement time is printed too: a tool that writes
   after acknowledging takes longer to make spans queryable);
2. search: the newest 100 traces with their full spans from that store (median of 5);
3. evaluate(): the same dataset, predict function (one chat call, traced), two LLM judges
   (correctness, guidelines) and one code scorer, 16 at a time, against the local
   OpenAI-compatible server answering after 100 ms, after an untimed 4-record warm-up.

The table prints each figure in seconds and each peer's ratio to Spyglass's. A peer that
cannot be installed or started is reported with the reason; the others' figures stand.

Run: ``make bench-peers`` or ``python benchmarks/peers/run.py [--traces 500]
[--records 200] [--tools spyglass,mlflow,phoenix] [--skip evaluate]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
import peers_venv  # noqa: E402
from harness import CollectorProcess, free_port, stop_process  # noqa: E402
from peers_common import Workload, write_requests  # noqa: E402
from peers_table import format_table  # noqa: E402
from workload import SPANS_PER_TRACE, build_requests  # noqa: E402

TRACES_PER_REQUEST = 50
DRIVER_TIMEOUT_S = 1800


class ToolFailed(RuntimeError):
    """A tool could not be started or its workloads could not run; says which and why."""


class Server:
    """A peer's server in a child process, its output in ``log``; ready when ``health``
    answers 200."""

    def __init__(
        self, name: str, args: list[str], health: str, log: Path, env: dict[str, str], cwd: Path
    ) -> None:
        self.name, self.log = name, log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env}, cwd=cwd
            )
        self._wait(health)

    def _wait(self, health: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ToolFailed(f"{self.name} exited while starting:\n{_tail(self.log)}")
            try:
                with urllib.request.urlopen(health, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise ToolFailed(f"{self.name} did not answer {health} within {timeout:.0f} s")

    def stop(self) -> None:
        stop_process(self.proc)


def _tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.strip().splitlines()[-lines:])


def run_driver(args: list[str], log: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one side's script; its figures are the JSON on its stdout's last line."""
    with open(log, "wb") as err:
        try:
            done = subprocess.run(
                args,
                stdout=subprocess.PIPE,
                stderr=err,
                env={**os.environ, **(env or {})},
                timeout=DRIVER_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise ToolFailed(f"gave no answer within {DRIVER_TIMEOUT_S} s") from None
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise ToolFailed(f"exited with code {done.returncode}:\n{_tail(log)}") from None


@contextlib.contextmanager
def local_llm(latency_ms: float, log: Path) -> Iterator[str]:
    """``python -m spyglass.local_llm`` in a child process (as a model endpoint runs outside
    the app); yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1"
    server = Server(
        "the local LLM",
        [
            sys.executable,
            "-m",
            "spyglass.local_llm",
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
        ],
        f"{base}/models",
        log,
        {},
        HERE,
    )
    try:
        yield base
    finally:
        server.stop()


def run_spyglass(workload: Workload, tmp: Path) -> dict[str, Any]:
    collector = CollectorProcess(f"sqlite:///{tmp / 'spyglass.db'}")
    try:
        return run_driver(
            [
                sys.executable,
                str(HERE / "spyglass_side.py"),
                workload.to_json(),
                f"127.0.0.1:{collector.grpc_port}",
                str(collector.http_port),
            ],
            tmp / "spyglass-side.log",
        )
    finally:
        collector.stop()


def run_mlflow(workload: Workload, tmp: Path, python: Path) -> dict[str, Any]:
    port = free_port()
    home = tmp / "mlflow"
    home.mkdir()
    server = Server(
        "mlflow server",
        [
            str(python.parent / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{home / 'mlflow.db'}",
            "--default-artifact-root",
            str(home / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        f"http://127.0.0.1:{port}/health",
        tmp / "mlflow-server.log",
        {},
        home,
    )
    try:
        return run_driver(
            [
                str(python),
                str(HERE / "mlflow_driver.py"),
                workload.to_json(),
                f"http://127.0.0.1:{port}",
            ],
            tmp / "mlflow-driver.log",
        )
    finally:
        server.stop()


def run_phoenix(workload: Workload, tmp: Path, python: Path) -> dict[str, Any]:
    port, grpc_port = free_port(), free_port()
    home = tmp / "phoenix"
    home.mkdir()
    env = {
        "PHOENIX_WORKING_DIR": str(home),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(grpc_port),
    }
    server = Server(
        "phoenix serve",
        [str(python.parent / "phoenix"), "serve"],
        f"http://127.0.0.1:{port}/healthz",
        tmp / "phoenix-server.log",
        env,
        home,
    )
    try:
        return run_driver(
            [
                str(python),
                str(HERE / "phoenix_driver.py"),
                workload.to_json(),
                f"http://127.0.0.1:{port}",
            ],
            tmp / "phoenix-driver.log",
        )
    finally:
        server.stop()


def versions(python: Path | None) -> str:
    """The measured versions: Spyglass's, and the peers' as their environment has them."""
    from importlib.metadata import version

    found = [f"spyglass {version('spyglass')}"]
    if python is not None:
        for pin in peers_venv.PINS[:2]:
            found.append(pin.replace("==", " "))
    return ", ".join(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=int, default=500, help="traces ingested (10 spans each)")
    parser.add_argument("--records", type=int, default=200, help="evaluate() dataset size")
    parser.add_argument("--workers", type=int, default=16, help="evaluation concurrency")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="stand-in LLM latency")
    parser.add_argument(
        "--phoenix-judge-rate",
        type=float,
        default=0.0,
        help="Phoenix judges' initial requests/s (0: phoenix.evals' default pacing)",
    )
    parser.add_argument("--tools", default="spyglass,mlflow,phoenix")
    parser.add_argument("--skip", default="", help="workloads to leave out: ingest,search,evaluate")
    parser.add_argument("--venv", type=Path, default=peers_venv.DEFAULT_DIR)
    args = parser.parse_args()
    if args.traces < 100 or args.traces % TRACES_PER_REQUEST:
        parser.error(f"--traces must be a multiple of {TRACES_PER_REQUEST}, at least 100")
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(tools) - {"spyglass", "mlflow", "phoenix"}
    if unknown:
        parser.error(f"unknown tools {sorted(unknown)}; choose from spyglass, mlflow, phoenix")

    results: dict[str, dict[str, Any]] = {}
    python: Path | None = None
    if {"mlflow", "phoenix"} & set(tools):
        try:
            python = peers_venv.ensure(args.venv)
        except peers_venv.PeersVenvError as exc:
            for tool in ("MLflow", "Phoenix"):
                results[tool] = {"errors": {"install": str(exc)}}
            print(f"the peers could not be installed: {exc}", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="spyglass-peers-") as name:
        tmp = Path(name)
        # one more request than timed: the warm-up, sent first (distinct trace ids)
        requests = build_requests(args.traces // TRACES_PER_REQUEST + 1, TRACES_PER_REQUEST)
        write_requests(tmp / "requests.bin", requests)
        with local_llm(args.latency_ms, tmp / "local-llm.log") as llm_url:
            workload = Workload(
                requests_file=str(tmp / "requests.bin"),
                spans=args.traces * SPANS_PER_TRACE,
                traces=args.traces,
                warmup_spans=TRACES_PER_REQUEST * SPANS_PER_TRACE,
                records=args.records,
                workers=args.workers,
                llm_base_url=llm_url,
                latency_ms=args.latency_ms,
                phoenix_judge_rate=args.phoenix_judge_rate,
                skip=[s.strip() for s in args.skip.split(",") if s.strip()],
            )
            runners = {
                "spyglass": ("Spyglass", lambda w, t: run_spyglass(w, t)),
                "mlflow": ("MLflow", lambda w, t: run_mlflow(w, t, python)),
                "phoenix": ("Phoenix", lambda w, t: run_phoenix(w, t, python)),
            }
            for tool in tools:
                label, runner = runners[tool]
                if label in results:  # not installed
                    continue
                print(f"running {label} ...", flush=True)
                started = time.perf_counter()
                tool_tmp = tmp / tool
                tool_tmp.mkdir()
                try:
                    results[label] = runner(replace(workload, skip=list(workload.skip)), tool_tmp)
                except (ToolFailed, OSError, RuntimeError) as exc:
                    results[label] = {"errors": {"start": str(exc)}}
                print(f"  {label} done in {time.perf_counter() - started:.0f} s", flush=True)

    load = os.getloadavg()
    print(
        f"\n{args.traces:,} traces / {args.traces * SPANS_PER_TRACE:,} spans over OTLP/HTTP; "
        f"search of the newest 100 traces; evaluate() of {args.records} records, "
        f"{args.workers} at a time, {args.latency_ms:.0f} ms LLM latency; all on SQLite"
    )
    print(f"versions: {versions(python)}; load average {load[0]:.1f} on {os.cpu_count()} cores\n")
    print(format_table(results))
    print("x: the peer's figure / Spyglass's (above 1: the peer took longer)")
    for label, figures in results.items():
        rates = []
        if figures.get("ingest_queryable_s"):
            rates.append(f"{workload.spans / figures['ingest_queryable_s']:,.0f} spans/s queryable")
        if figures.get("evaluate_s"):
            rates.append(f"{workload.records / figures['evaluate_s']:.1f} records/s evaluated")
        if figures.get("evaluate_metrics"):
            rates.append(f"scores {figures['evaluate_metrics']}")
        if rates:
            print(f"{label}: {'; '.join(rates)}")
    return 0 if all(not r.get("errors") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
