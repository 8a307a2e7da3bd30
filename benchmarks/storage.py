"""Bytes on disk per stored span, and the read cost of what saves them.

The benchmark workload (10-span GenAI traces, OTel GenAI and OpenInference attributes) is
converted by the collector's own converter and written by its own writer into fresh stores,
twice in the same run:

* **stored**: the rows as the converter and the writer store them;
* **baseline** (the layout without sharing): the same rows with every attribute, resource
  and scope written out in full in the span row, without the references of
  :mod:`~spyglass.collector.store.attribute_refs` and the ``span_resources`` table.

``--stored-only`` measures the layout of the tree on the path alone, e.g. the last commit's
(``git archive HEAD`` unpacked and put first on ``PYTHONPATH``), to check the baseline.

Each is measured with the workload's small resource and with a realistic OTel SDK resource
(``telemetry.sdk.*``, ``service.*``, ``process.*``, ``host.*``, ``os.*``). SQLite: file size
after a checkpoint, and ``dbstat`` per table and index; PostgreSQL: the total relation size
(heap, TOAST and indexes) of each table. Also printed: the OTLP protobuf bytes per span, and
the CPU time GetTrace takes to read a 2,000-span trace from each layout.

Run: ``python benchmarks/storage.py [--traces 2000] [--stores sqlite,postgresql]``
(PostgreSQL at ``SPYGLASS_BENCH_POSTGRES``, see ``harness.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import random
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).parent))
from harness import fresh_store
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from workload import SPANS_PER_TRACE, build_requests, build_trace

from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.ingest.redaction import RedactionRules
from spyglass.collector.ingest.spans import SpanConverter
from spyglass.collector.metrics import CollectorMetrics
from spyglass.collector.store import migrate
from spyglass.collector.store import rows as r
from spyglass.collector.store.engine import create_store_engine, sqlite_path
from spyglass.collector.store.rows import SPAN_COLUMNS, SpanRecord
from spyglass.collector.store.traces import queries
from spyglass.collector.store.traces.writer import Writer

try:
    from spyglass.collector.store.attribute_refs import resolve
    from spyglass.collector.store.traces import resources
except ImportError:  # a tree without them (--stored-only measures its layout)
    resources = None  # type: ignore[assignment]

_ATTRIBUTES = SPAN_COLUMNS.index("attributes")
_RESOURCE = SPAN_COLUMNS.index("resource")
_SCOPE = SPAN_COLUMNS.index("scope")


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, list):
        items = [AnyValue(string_value=str(v)) for v in value]
        return KeyValue(key=key, value=AnyValue(array_value=ArrayValue(values=items)))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


OTEL_SDK_RESOURCE = [
    _kv("telemetry.sdk.language", "python"),
    _kv("telemetry.sdk.name", "opentelemetry"),
    _kv("telemetry.sdk.version", "1.29.0"),
    _kv("service.name", "support-assistant"),
    _kv("service.version", "2.14.1"),
    _kv("service.namespace", "customer-care"),
    _kv("service.instance.id", "627cc493-f310-47de-96bd-71410b7dec09"),
    _kv("deployment.environment.name", "production"),
    _kv("process.pid", 48213),
    _kv("process.executable.name", "python3.12"),
    _kv("process.executable.path", "/usr/local/bin/python3.12"),
    _kv("process.command", "/app/.venv/bin/gunicorn"),
    _kv("process.command_args", ["/app/.venv/bin/gunicorn", "app.main:app", "-w", "4"]),
    _kv("process.owner", "app"),
    _kv("process.runtime.name", "cpython"),
    _kv("process.runtime.version", "3.12.7"),
    _kv("process.runtime.description", "3.12.7 (main, Oct 19 2024, 04:14:06) [GCC 12.2.0]"),
    _kv("host.name", "support-assistant-7f9c8d6b5-x2vkq"),
    _kv("host.arch", "amd64"),
    _kv("os.type", "linux"),
    _kv("os.description", "Linux 6.1.0-26-cloud-amd64"),
]
"""What the OTel Python SDK and its resource detectors put on every span of a real app."""


def with_resource(body: bytes, resource: list[KeyValue]) -> bytes:
    """The request ``body`` with its resource attributes replaced by ``resource``."""
    request = ExportTraceServiceRequest.FromString(body)
    for rs in request.resource_spans:
        del rs.resource.attributes[:]
        rs.resource.attributes.extend(resource)
        for ss in rs.scope_spans:
            ss.scope.name = "openinference.instrumentation.langchain"
            ss.scope.version = "0.1.29"
    return request.SerializeToString()


def convert(bodies: list[bytes]) -> list[list[SpanRecord]]:
    converter = SpanConverter(PriceTable.load(), RedactionRules.none(), 1 << 20)
    return [
        converter.convert(ExportTraceServiceRequest.FromString(b).resource_spans).records
        for b in bodies
    ]


def written_out(record: SpanRecord) -> SpanRecord:
    """``record`` with its attributes in full (resources: see :func:`write`)."""
    row = list(record.row)
    row[_ATTRIBUTES] = resolve(row[_ATTRIBUTES], row[r.INPUTS], row[r.OUTPUTS])
    return dataclasses.replace(record, row=tuple(row))


def write(engine: Engine, batches: list[list[SpanRecord]], baseline: bool = False) -> None:
    """Store ``batches`` through the collector's writer; ``baseline``: resources in full."""
    if resources is None:
        _write(engine, batches)
        return
    share = resources.share
    if baseline:
        resources.share = lambda cursor, dialect, rows: list(rows)
    try:
        _write(engine, batches)
    finally:
        resources.share = share


def _write(engine: Engine, batches: list[list[SpanRecord]]) -> None:
    writer = Writer(
        engine, CollectorMetrics(), max_queue_spans=10**7, max_batch_spans=5000, retry_after=1
    )
    writer.start()
    futures = [writer.submit(batch) for batch in batches]
    for future in futures:
        refused = future.result()
        if refused:
            raise RuntimeError(f"the writer refused {len(refused)} spans: {refused[0]}")
    writer.close()


def sizes(engine: Engine) -> tuple[int, dict[str, int]]:
    """Total bytes of the store and bytes per table (indexes included)."""
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            path = sqlite_path(engine)
            assert path is not None
            per: dict[str, int] = {}
            rows = c.exec_driver_sql(
                "SELECT s.name, m.tbl_name, SUM(s.pgsize) FROM dbstat s "
                "JOIN sqlite_master m ON m.name = s.name GROUP BY s.name"
            ).all()
            for _, table, size in rows:
                per[table] = per.get(table, 0) + size
            return path.stat().st_size, per
        c.exec_driver_sql("CHECKPOINT")
        rows = c.execute(
            text(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
            )
        ).all()
        per = {name: size for name, size in rows if size}
        return sum(per.values()), per


def measure(
    store: str, batches: list[list[SpanRecord]], baseline: bool
) -> tuple[int, dict[str, int]]:
    with fresh_store(store) as url:
        engine = create_store_engine(url)
        try:
            migrate.upgrade(engine)
            empty, empty_per = sizes(engine)
            write(engine, batches, baseline)
            total, per = sizes(engine)
        finally:
            engine.dispose()
    return total - empty, {k: v - empty_per.get(k, 0) for k, v in per.items()}


def read_costs(
    store: str, layouts: list[tuple[list[SpanRecord], bool]], trace_id: str, runs: int
) -> list[float]:
    """Median CPU ms of this process for GetTrace of ``trace_id`` from each layout
    (``(records, baseline)``), each stored in its own store. CPU time rather than wall time,
    and runs alternating between the stores, so that other load on the machine weighs
    little and on both alike; PostgreSQL's own work is not in it."""
    with contextlib.ExitStack() as stack:
        engines = []
        for records, baseline in layouts:
            url = stack.enter_context(fresh_store(store))
            engine = create_store_engine(url)
            stack.callback(engine.dispose)
            migrate.upgrade(engine)
            batches = [records[i : i + 5000] for i in range(0, len(records), 5000)]
            write(engine, batches, baseline)
            queries.get_trace(engine, trace_id)  # warm caches
            engines.append(engine)
        times: list[list[float]] = [[] for _ in engines]
        for _ in range(runs):
            for engine, spent in zip(engines, times):
                started = time.process_time()
                queries.get_trace(engine, trace_id)
                spent.append((time.process_time() - started) * 1000)
    return [statistics.median(spent) for spent in times]


def big_trace(spans: int) -> tuple[bytes, str]:
    """One request holding a single trace of ``spans`` spans (workload spans, one trace id)."""
    rng = random.Random(11)
    template = ExportTraceServiceRequest.FromString(build_requests(1, 1)[0])
    scope = template.resource_spans[0].scope_spans[0]
    del scope.spans[:]
    trace_id = rng.randbytes(16)
    for _ in range(spans // SPANS_PER_TRACE):
        for span in build_trace(rng, time.time_ns()):
            span.trace_id = trace_id
            if span.parent_span_id:
                span.parent_span_id = b""
            scope.spans.append(span)
    return template.SerializeToString(), trace_id.hex()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=int, default=2000, help="traces per layout")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--read-spans", type=int, default=2000, help="spans of the read trace")
    parser.add_argument("--runs", type=int, default=9, help="GetTrace runs per layout")
    parser.add_argument(
        "--stored-only", action="store_true", help="measure this tree's layout alone"
    )
    args = parser.parse_args()

    bodies = build_requests(max(1, args.traces // 50), 50)
    n_spans = sum(len(batch) for batch in convert(bodies[:1])) * len(bodies)
    variants = {
        "workload resource": bodies,
        "OTel SDK resource": [with_resource(b, OTEL_SDK_RESOURCE) for b in bodies],
    }
    only = args.stored_only or resources is None
    for store in args.stores.split(","):
        print(f"\n== {store}: {n_spans:,} spans per layout")
        for variant, variant_bodies in variants.items():
            otlp = sum(map(len, variant_bodies)) / n_spans
            stored = convert(variant_bodies)
            new_total, new_per = measure(store, stored, False)
            if only:
                print(
                    f"{variant}: OTLP protobuf {otlp:,.0f} B/span; "
                    f"stored {new_total / n_spans:,.0f} B/span"
                )
                _breakdown({}, new_per, n_spans)
                continue
            baseline = [[written_out(rec) for rec in batch] for batch in stored]
            base_total, base_per = measure(store, baseline, True)
            print(
                f"{variant}: OTLP protobuf {otlp:,.0f} B/span; baseline layout "
                f"{base_total / n_spans:,.0f} B/span; stored {new_total / n_spans:,.0f} B/span; "
                f"ratio {new_total / base_total:.2f}"
            )
            _breakdown(base_per, new_per, n_spans)
        if only:
            continue
        body, trace_id = big_trace(args.read_spans)
        records = convert([body])[0]
        full = [written_out(rec) for rec in records]
        baseline_ms, stored_ms = read_costs(
            store, [(full, True), (records, False)], trace_id, args.runs
        )
        print(
            f"GetTrace of a {len(records):,}-span trace (CPU ms of the reader): baseline layout "
            f"{baseline_ms:.1f} ms, stored {stored_ms:.1f} ms ({stored_ms / baseline_ms:.2f}x)"
        )


def _breakdown(before: dict[str, int], after: dict[str, int], n_spans: int) -> None:
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, 0), after.get(table, 0)
        if old or new:
            print(f"    {table:<22}{old / n_spans:>8,.0f} -> {new / n_spans:>6,.0f} B/span")


if __name__ == "__main__":
    main()
