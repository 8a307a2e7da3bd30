"""Dataset merge and read throughput: 100,000 records through the public client.

A collector runs in its own process over a fresh store. The dataset is first filled with
50,000 records; the measured merge then sends 100,000 records, half of them updates of
those (new expectations and outputs) and half new, through ``Dataset.merge_records`` (one
client stream, one transaction). Then ``Dataset.to_df()`` reads the resulting 100,000
records back. The baseline, measured in the same run on the same records, is pandas
writing them as JSON Lines (``DataFrame.to_json``) and reading that back (``read_json``):
no network, no database, no history.

Run: ``python benchmarks/datasets.py [--records 100000] [--stores sqlite,postgresql]``.
Goals: merge >= 20,000 records/s on SQLite, to_df >= 150,000 rows/s. ``to_df`` is timed
right after the merge (on SQLite the collector is still checkpointing the merge's ~150 MB
of WAL into the database file, on the other core) and then three times once it has
settled (the range is printed; to_df/read_json compares the best of them). pandas is
imported before any clock starts, as for the baseline. The CPU time of the settled reads
(this process, the collector) is printed per row: on a machine shared with other work it
says more than the wall clock.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from harness import CollectorProcess, fresh_store

from spyglass import session

SETTLE_S = 5.0
REREADS = 3
TOPICS = ["refund", "shipping", "warranty", "invoice", "password", "delivery", "exchange"]


def record(i: int, revision: int) -> dict[str, Any]:
    """Record ``i``; a higher ``revision`` changes its expectations and outputs."""
    topic = TOPICS[i % len(TOPICS)]
    return {
        "inputs": {
            "question": f"How does {topic} work for order {i}?",
            "customer": {"id": f"c-{i % 5000}", "tier": "gold" if i % 3 else "basic"},
        },
        "expectations": {
            "expected_response": f"Our {topic} policy, revision {revision}.",
            "must_mention": [topic, "30 days"],
            "revision": revision,
        },
        "outputs": f"The {topic} policy for order {i} is described in section {i % 97}.",
        "tags": {"split": "test" if i % 5 == 0 else "train"},
    }


def measure(store_kind: str, total: int) -> dict[str, float]:
    import pandas  # noqa: F401  (imported before any clock starts, as for the baseline)

    from spyglass.evaluator.datasets import create_dataset

    half = total // 2
    initial = [record(i, 0) for i in range(half)]
    merged = [record(i, 1) for i in range(total)]  # 0..half-1 update, half.. are new
    with fresh_store(store_kind) as url:
        collector = CollectorProcess(url)
        try:
            session.configure(collector=f"127.0.0.1:{collector.grpc_port}")
            dataset = create_dataset(f"bench-{store_kind}", experiment_id="0")
            start = time.perf_counter()
            dataset.merge_records(initial)
            fill_s = time.perf_counter() - start
            start = time.perf_counter()
            dataset.merge_records(merged)
            merge_s = time.perf_counter() - start
            result = dataset.last_merge
            assert result and (result.inserted, result.updated) == (total - half, half), result
            start = time.perf_counter()
            frame = dataset.to_df()  # right after the merge (its WAL is being checkpointed)
            read_s = time.perf_counter() - start
            assert len(frame) == total
            del frame
            time.sleep(SETTLE_S)  # the collector has checkpointed the merge's WAL by now
            rereads = [_timed_read(dataset, collector, total) for _ in range(REREADS)]
            peak = collector.peak_rss_mib()
        finally:
            session._shutdown()
            collector.stop()
    to_json_s, read_json_s = _pandas_baseline(merged)
    return {
        "fill_s": fill_s,
        "merge_s": merge_s,
        "read_s": read_s,
        "reread_s": min(r[0] for r in rereads),
        "reread_max_s": max(r[0] for r in rereads),
        "client_cpu_s": min(r[1] for r in rereads),
        "collector_cpu_s": min(r[2] for r in rereads),
        "to_json_s": to_json_s,
        "read_json_s": read_json_s,
        "peak_mib": peak,
    }


def _timed_read(dataset: Any, collector: CollectorProcess, total: int) -> tuple[float, ...]:
    """One settled ``to_df``: wall seconds, this process's CPU seconds, the collector's."""
    collector_cpu, cpu, start = collector.cpu_seconds(), time.process_time(), time.perf_counter()
    assert len(dataset.to_df()) == total
    wall = time.perf_counter() - start
    return wall, time.process_time() - cpu, collector.cpu_seconds() - collector_cpu


def _pandas_baseline(records: list[dict[str, Any]]) -> tuple[float, float]:
    import pandas as pd

    frame = pd.DataFrame(records)
    start = time.perf_counter()
    text = frame.to_json(orient="records", lines=True)
    to_json_s = time.perf_counter() - start
    start = time.perf_counter()
    back = pd.read_json(io.StringIO(text), orient="records", lines=True)
    read_json_s = time.perf_counter() - start
    assert len(back) == len(records)
    return to_json_s, read_json_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--stores", default="sqlite")
    args = parser.parse_args()
    total = args.records
    print(
        f"dataset merge ({total:,} records: {total // 2:,} updates + {total - total // 2:,} "
        f"new, onto {total // 2:,}) and to_df ({total:,} rows)"
    )
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start)")
    print(
        f"{'store':<11} {'merge rec/s':>12} {'to_df rows/s':>13} {'settled':>16} "
        f"{'merge/to_json':>14} {'to_df/read_json':>16} {'fill rec/s':>11} {'peak MiB':>9}"
    )
    for kind in args.stores.split(","):
        m = measure(kind, total)
        settled = f"{total / m['reread_max_s']:,.0f}-{total / m['reread_s']:,.0f}"
        print(
            f"{kind:<11} {total / m['merge_s']:>12,.0f} {total / m['read_s']:>13,.0f} "
            f"{settled:>16} "
            f"{m['merge_s'] / m['to_json_s']:>14.1f} {m['reread_s'] / m['read_json_s']:>16.2f} "
            f"{total // 2 / m['fill_s']:>11,.0f} {m['peak_mib']:>9.0f}"
        )
        print(
            f"{'':<11} baseline: to_json {total / m['to_json_s']:,.0f} rec/s, read_json "
            f"{total / m['read_json_s']:,.0f} rows/s (pandas, same records, no store)"
        )
        print(
            f"{'':<11} settled to_df CPU: client {m['client_cpu_s'] * 1e6 / total:.1f} µs/row, "
            f"collector {m['collector_cpu_s'] * 1e6 / total:.1f} µs/row"
            + (" (PostgreSQL's own not counted)" if kind == "postgresql" else "")
        )


if __name__ == "__main__":
    main()
