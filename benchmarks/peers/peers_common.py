"""What every side of the peers benchmark shares: the workload's sizes, the evaluation's
dataset and judge instructions, the OTLP/HTTP sender, and how a side hands back its figures.

Standard library only: the MLflow and Phoenix drivers import it in the peers' virtual
environment, the Spyglass side in the project's.
"""

from __future__ import annotations

import http.client
import json
import queue
import statistics
import struct
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GUIDELINES = "The answer must be polite and must answer the question."
CONTEXT = "Refunds take 5 days."
EXPECTED = "Refunds take 5 days."
MODEL = "gpt-4o-mini"
WARMUP_RECORDS = 4  # an untimed evaluation of this many records first: first-call costs


@dataclass
class Workload:
    """One run's sizes and settings, the same for every tool."""

    requests_file: str  # OTLP ExportTraceServiceRequests, length-prefixed (write_requests)
    spans: int  # spans timed: in requests_file after the warm-up requests
    traces: int  # traces timed
    warmup_requests: int = 1  # requests_file's first requests, sent before the clock starts
    warmup_spans: int = 0
    senders: int = 4  # concurrent OTLP/HTTP senders
    search_runs: int = 5  # timed repetitions of the search (median)
    search_traces: int = 100
    records: int = 200  # evaluate() dataset size
    workers: int = 16  # evaluation concurrency
    llm_base_url: str = ""  # the local OpenAI-compatible server (…/v1)
    latency_ms: float = 100.0
    # Phoenix's judges pace themselves (phoenix.evals.LLM's initial_per_second_request_rate,
    # 5 requests/s by default, raised while no call fails); 0 keeps that default
    phoenix_judge_rate: float = 0.0
    skip: list[str] = field(default_factory=list)  # workloads not to run: ingest/search/evaluate

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Workload:
        return cls(**json.loads(text))


def dataset(records: int) -> list[dict[str, Any]]:
    """The evaluation dataset: ``records`` refund questions with the expected answer."""
    return [
        {"question": f"How long does refund {i} take?", "expected_response": EXPECTED}
        for i in range(records)
    ]


def prompt(question: str) -> str:
    """The user message the predict function sends: the context, then the question."""
    return f"Context: {CONTEXT}\n\nQuestion: {question}"


def write_requests(path: Path, requests: list[bytes]) -> None:
    """Store serialised OTLP requests so that every side sends the same bytes."""
    with open(path, "wb") as out:
        for body in requests:
            out.write(struct.pack(">I", len(body)))
            out.write(body)


def read_requests(path: str) -> list[bytes]:
    data = Path(path).read_bytes()
    out, at = [], 0
    while at < len(data):
        (size,) = struct.unpack_from(">I", data, at)
        out.append(data[at + 4 : at + 4 + size])
        at += 4 + size
    return out


def send_otlp_http(
    url: str, requests: list[bytes], senders: int, headers: dict[str, str] | None = None
) -> float:
    """POST every request to ``url`` (OTLP/HTTP protobuf) from ``senders`` threads; seconds
    until the last one was acknowledged. Refusals (429/503) are retried after 50 ms."""
    target = urllib.parse.urlsplit(url)
    work: queue.Queue[bytes] = queue.Queue()
    for body in requests:
        work.put(body)
    errors: list[BaseException] = []
    head = {"Content-Type": "application/x-protobuf", **(headers or {})}

    def sender() -> None:
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
        try:
            while True:
                try:
                    body = work.get_nowait()
                except queue.Empty:
                    return
                while True:
                    conn.request("POST", target.path, body=body, headers=head)
                    response = conn.getresponse()
                    text = response.read()
                    if response.status in (429, 503):
                        time.sleep(0.05)
                        continue
                    if response.status != 200:
                        raise RuntimeError(f"{url} answered HTTP {response.status}: {text[:300]!r}")
                    break
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def ingest(
    workload: Workload,
    url: str,
    headers: dict[str, str],
    count_spans: Callable[[], int],
    timeout_s: float = 900.0,
) -> dict[str, float]:
    """Send the workload's requests, then ask the tool (``count_spans``, through its own API)
    until it returns every span. The clock stops when the first listing that returns every
    span was asked for (so a slow listing, which the search workload measures, does not count).
    After an incomplete listing it waits three times as long as the listing took (at least
    0.2 s), so that the listings take at most a quarter of the tool's time while it writes."""
    requests = read_requests(workload.requests_file)
    warmup, timed = requests[: workload.warmup_requests], requests[workload.warmup_requests :]
    send_otlp_http(url, warmup, 1, headers)  # the tool's first-request costs, off the clock
    expected = workload.warmup_spans + workload.spans
    started = time.perf_counter()
    acked = send_otlp_http(url, timed, workload.senders, headers)
    polls = 0
    while True:
        polls += 1
        elapsed = time.perf_counter() - started
        seen = count_spans()
        listing = time.perf_counter() - started - elapsed
        if seen >= expected:
            break
        if elapsed > timeout_s:
            raise RuntimeError(f"only {seen} of {expected} spans queryable after {elapsed:.0f} s")
        time.sleep(max(0.2, 3 * listing))  # the tool spends at most a quarter on listings
    return {
        "ingest_acked_s": acked,
        "ingest_queryable_s": elapsed,
        "ingest_spans_per_s": workload.spans / elapsed,
        "ingest_polls": polls,
        "ingest_listing_s": listing,
        "ingest_spans_seen": seen,
    }


def median_seconds(fn: Callable[[], int], runs: int, expected: int) -> tuple[float, int]:
    """Median wall time of ``fn`` over ``runs`` runs after one warm-up; ``fn`` returns how
    many items it got, which must be ``expected``."""
    got = fn()
    if got != expected:
        raise RuntimeError(f"the search returned {got} items, expected {expected}")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), got


def run_workloads(workload: Workload, steps: dict[str, Callable[[], dict[str, Any]]]) -> None:
    """Run each workload step not skipped; print one JSON object of figures and errors on
    stdout's last line (the orchestrator reads it). A failing step does not stop the others."""
    results: dict[str, Any] = {"errors": {}}
    for name, step in steps.items():
        if name in workload.skip:
            continue
        try:
            results.update(step())
        except Exception as exc:  # reported in the table, the other steps still run
            results["errors"][name] = f"{type(exc).__name__}: {exc}"[:500]
            print(f"{name} failed: {exc!r}", file=sys.stderr)
            if name == "ingest":  # search needs the ingested store
                results["errors"].setdefault("search", "skipped: ingest failed")
                workload.skip.append("search")
    sys.stdout.flush()
    print("\n" + json.dumps(results), flush=True)
