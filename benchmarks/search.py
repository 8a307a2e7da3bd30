"""Search latency over a large store: 100,000 traces / 1,000,000 spans.

The store is filled through the collector's own bulk write path (the group-commit writer),
then searched through the public client over gRPC, as users do: the newest 100 full traces
(with spans and assessments), and id searches by tag, feedback, time range and full text.
Each figure is the median of repeated runs, printed beside a baseline measured in the same
run: the bare indexed SQL query for the same ids, straight on the database. The full-text
searches' baseline is the scan that ``trace.text`` runs without its word index (every span's
inputs and outputs matched with LIKE, ILIKE on PostgreSQL), with the rows it finds: a common
word (a seventh of the traces), a rare phrase (11 traces) and a word no span holds.

Run: ``python benchmarks/search.py [--traces 100000] [--stores sqlite,postgresql]``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from harness import fresh_store

from spyglass.client import SpyglassClient
from spyglass.collector.metrics import CollectorMetrics
from spyglass.collector.server import Collector
from spyglass.collector.store.rows import ExperimentRef, SpanRecord
from spyglass.collector.store.traces.writer import Writer
from spyglass.config import CollectorSettings

SPANS_PER_TRACE = 10
TOPICS = ["refund", "shipping", "warranty", "invoice", "password", "delivery", "exchange"]
BASE_NS = 1_700_000_000_000 * 1_000_000


def _rows(i: int, rng: random.Random, experiment: ExperimentRef) -> list[SpanRecord]:
    trace_id = uuid.UUID(int=rng.getrandbits(128)).hex
    topic = TOPICS[i % len(TOPICS)]
    start = BASE_NS + i * 1_000_000_000
    question = json.dumps({"question": f"How does {topic} work for order {i}?"})
    answer = json.dumps(f"Our {topic} policy: see section {i % 97}.")
    attrs = json.dumps({"app.version": "1.4.2", "session.id": f"s-{i % 5000}"})
    records = []
    for j in range(SPANS_PER_TRACE):
        span_id = f"{i:08x}{j:08x}"
        llm = j % 3 == 1
        row = (
            trace_id,
            span_id,
            None if j == 0 else f"{i:08x}{0:08x}",
            "answer" if j == 0 else f"step-{j}",
            1,
            "LLM" if llm else "CHAIN",
            start + j * 1000,
            start + 900_000_000 - j * 1000,
            2 if i % 50 == 0 and j == 0 else 0,
            None,
            question,
            answer,
            "gpt-4o-mini" if llm else None,
            "openai" if llm else None,
            120 if llm else None,
            40 if llm else None,
            160 if llm else None,
            0.00004 if llm else None,
            f"s-{i % 5000}",
            None,
            attrs,
            None,
            None,
            None,
            None,
            start,
        )
        tags = {"env": "prod" if i % 10 == 0 else "dev", "quality_score": str(i % 100 / 100)}
        records.append(SpanRecord(row, experiment, tags if j == 0 else None, None))
    return records


def load(collector: Collector, n_traces: int) -> None:
    """Write ``n_traces`` traces through the writer, then feedback on every 5th trace."""
    writer = Writer(
        collector.engine,
        CollectorMetrics(),
        max_queue_spans=10**7,
        max_batch_spans=20_000,
        retry_after=1,
    )
    writer.start()
    rng = random.Random(42)
    experiment = ExperimentRef(1, "name", "bench")
    started = time.perf_counter()
    futures, batch = [], []
    for i in range(n_traces):
        batch.extend(_rows(i, rng, experiment))
        if len(batch) >= 20_000:
            futures.append(writer.submit(batch))
            batch = []
    futures.append(writer.submit(batch))
    for f in futures:
        f.result()
    writer.close()
    elapsed = time.perf_counter() - started
    print(
        f"loaded {n_traces:,} traces / {n_traces * SPANS_PER_TRACE:,} spans in "
        f"{elapsed:.1f}s ({n_traces * SPANS_PER_TRACE / elapsed:,.0f} spans/s)"
    )
    with collector.engine.begin() as c:
        ids = [r[0] for r in c.execute(text("SELECT trace_id FROM traces WHERE id % 5 = 0"))]
        c.execute(
            text(
                "INSERT INTO assessments (assessment_id, trace_id, name, kind, value, source_type, "
                "valid, created_time_ms, last_update_time_ms) VALUES (:a, :t, 'quality', "
                "'feedback', :v, 'CODE', true, 0, 0)"
            ),
            [{"a": f"a-{k}", "t": t, "v": str(k % 10 / 10)} for k, t in enumerate(ids)],
        )
    if collector.engine.dialect.name == "postgresql":  # planner statistics after a bulk load
        with collector.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE"))


def median_ms(fn: Callable[[], int], runs: int) -> tuple[float, int]:
    fn()  # warm caches
    times, n = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        n = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), n


def _text_scan(store: str, value: str) -> str:
    """The newest 100 traces with a span whose inputs or outputs hold ``value`` (any ASCII
    case), found by scanning spans: ``trace.text`` without its word index."""
    like = "ILIKE" if store == "postgresql" else "LIKE"
    pattern = f"'%{value}%'"
    return (
        "AND EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = traces.trace_id AND "
        f"(s.inputs {like} {pattern} OR s.outputs {like} {pattern})) ORDER BY id DESC LIMIT 100"
    )


def run(store: str, n_traces: int, runs: int) -> None:
    with fresh_store(store) as url:
        settings = CollectorSettings.load(store=url, grpc_port=0, http_port=0, decode_workers=0)
        collector = Collector(settings).start_background()
        try:
            load(collector, n_traces)
            client = SpyglassClient(f"127.0.0.1:{collector.grpc_port}")
            exp = client.get_experiment_by_name("bench").experiment_id
            mid = BASE_NS // 1_000_000 + n_traces // 2 * 1000
            cases = [
                ("100 full traces, newest first", "", True, "ORDER BY id DESC LIMIT 100"),
                (
                    "tag filter tags.env = 'prod'",
                    "tags.env = 'prod'",
                    False,
                    "AND EXISTS (SELECT 1 FROM trace_tags g WHERE g.trace_id = traces.trace_id "
                    "AND g.key = 'env' AND g.value = 'prod') ORDER BY id DESC LIMIT 100",
                ),
                (
                    "feedback filter feedback.quality < 0.3",
                    "feedback.quality < 0.3",
                    False,
                    "AND EXISTS (SELECT 1 FROM assessments a WHERE a.trace_id = traces.trace_id "
                    "AND a.name = 'quality' AND a.value < '0.3') ORDER BY id DESC LIMIT 100",
                ),
                (
                    "time range (1 hour)",
                    f"attributes.timestamp_ms >= {mid} AND "
                    f"attributes.timestamp_ms < {mid + 3_600_000}",
                    False,
                    f"AND start_time_ns >= {mid * 10**6} AND start_time_ns < "
                    f"{(mid + 3_600_000) * 10**6} ORDER BY id DESC LIMIT 100",
                ),
                *(
                    (label, flt, False, _text_scan(store, value))
                    for label, flt, value in (
                        ("text, common word = 'warranty'", "trace.text = 'warranty'", "warranty"),
                        (
                            "text, rare phrase = 'order 4242'",
                            "trace.text = 'order 4242'",
                            "order 4242",
                        ),
                        (
                            "text, no match = 'nonexistent'",
                            "trace.text = 'nonexistent'",
                            "nonexistent",
                        ),
                        (
                            "text, substring LIKE '%warranty%'",
                            "trace.text LIKE '%warranty%'",
                            "warranty",
                        ),
                    )
                ),
            ]
            print(
                f"\n{'search (' + store + ')':<42}{'median ms':>10}{'rows':>6}"
                f"{'baseline ms':>13}{'rows':>6}{'ratio':>8}"
            )
            for label, flt, spans, sql_tail in cases:

                def search(flt: str = flt, spans: bool = spans) -> int:
                    pages = client.search_trace_pages(
                        [exp], flt, max_results=100, page_size=100, include_spans=spans
                    )
                    return sum(len(p) for p, _ in pages)

                def baseline(sql_tail: str = sql_tail) -> int:
                    with collector.engine.connect() as c:
                        rows = c.execute(
                            text(
                                f"SELECT trace_id FROM traces WHERE "
                                f"experiment_id = {exp} {sql_tail}"
                            )
                        ).all()
                    return len(rows)

                ms, n = median_ms(search, runs)
                base, base_n = median_ms(baseline, runs)
                print(f"{label:<42}{ms:>10.1f}{n:>6}{base:>13.2f}{base_n:>6}{ms / base:>8.2f}")
            client.close()
        finally:
            collector.stop_background()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    for store in args.stores.split(","):
        run(store, args.traces, args.runs)


if __name__ == "__main__":
    main()
