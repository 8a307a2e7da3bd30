"""The web UI's dataset page over a dataset of 100,000 records: the first page, the next
page, filters and an earlier version, each timed beside the bare ListRecords call of the
same page in the same run.

The dataset is merged in chunks of 20,000 records through MergeRecords (every 10th record's
question mentions "refund"; every record has expectations and outputs), then 100 records
get new expectations (version 2 is the latest, version 1 the earlier one). A collector runs
in this process and every request is made on its own event loop, so the figures are server
time (as ``benchmarks/ui_traces.py`` measures them):

* page: ``GET /datasets/{id}[?...]`` through the collector's ASGI app with a browser's
  session: the dataset, its versions and 50 records rendered;
* call: the same ListRecords page (50 records, same filter, version and token) called
  in-process, i.e. the store's part alone.

Each figure is the median of ``--runs`` requests after one warm-up; the goal is at most
300 ms per page. Run: ``python benchmarks/ui_datasets.py [--records 100000] [--stores
sqlite,postgresql]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from html import unescape
from pathlib import Path
from urllib.parse import unquote

sys.path.insert(0, str(Path(__file__).parent))
from harness import fresh_store
from ui_traces import GOAL_MS, OnLoop, http_client, median_ms

from spyglass.collector.server import Collector
from spyglass.config import CollectorSettings
from spyglass.v1 import datasets_pb2 as pb

PAGE_SIZE = 50
CHUNK = 20_000
ANALYZE = False


def _chunk(start: int, end: int, answer: str) -> pb.DatasetRecordColumns:
    questions = [
        f"{'How do I get a refund' if n % 10 == 0 else 'Where is my order'} #{n}?"
        for n in range(start, end)
    ]
    return pb.DatasetRecordColumns(
        inputs=json.dumps(
            [{"question": q, "customer": n % 977} for n, q in zip(range(start, end), questions)]
        ).encode(),
        expectations=json.dumps(
            [{"expected_response": answer, "n": n} for n in range(start, end)]
        ).encode(),
        outputs=json.dumps([f"reply {n}" for n in range(start, end)]).encode(),
    )


def _load(on: OnLoop, collector: Collector, n_records: int) -> str:
    local = collector._local
    dataset = on.run(
        local.unary("DatasetService", "CreateDataset", pb.CreateDatasetRequest(name="bench"), 60)
    )
    started = time.perf_counter()
    chunks = [
        pb.MergeRecordsRequest(
            dataset_id=dataset.dataset_id if start == 0 else "",
            user="bench",
            records=_chunk(start, min(start + CHUNK, n_records), "first"),
        )
        for start in range(0, n_records, CHUNK)
    ]
    on.run(local.unary("DatasetService", "MergeRecords", chunks, 600))  # type: ignore[arg-type]
    edit = pb.MergeRecordsRequest(
        dataset_id=dataset.dataset_id, user="bench", records=_chunk(0, 100, "second")
    )
    on.run(local.unary("DatasetService", "MergeRecords", [edit], 600))  # type: ignore[arg-type]
    print(f"loaded {n_records:,} records in {time.perf_counter() - started:.1f} s")
    if ANALYZE and collector.settings.store.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        engine = create_engine(
            collector.settings.store.replace("postgresql://", "postgresql+psycopg://", 1)
        )
        with engine.connect() as connection:  # what autovacuum does soon after a large load
            connection.execute(text("ANALYZE dataset_records; ANALYZE dataset_record_history"))
            connection.commit()
        engine.dispose()
    return str(dataset.dataset_id)


def _rows_in(html: str) -> int:
    return html.count('class="record"')


def _next_token(html: str) -> str:
    found = re.search(r'href="[^"]*?[?&;]page_token=([^"&]+)" id="next-page"', html)
    assert found, "the first page has no Next page link"
    return unescape(found.group(1))


def run(store: str, n_records: int, runs: int) -> None:
    with fresh_store(store) as url:
        settings = CollectorSettings.load(store=url, grpc_port=0, http_port=0, decode_workers=0)
        collector = Collector(settings).start_background()
        try:
            on = OnLoop(collector)
            dataset_id = _load(on, collector, n_records)
            _measure(on, collector, store, dataset_id, n_records, runs)
        finally:
            collector.stop_background()


def _measure(
    on: OnLoop, collector: Collector, store: str, dataset_id: str, n_records: int, runs: int
) -> None:
    assert collector._http is not None
    browser = on.run(http_client(collector._http.config.app))
    local = collector._local
    page_url = f"/datasets/{dataset_id}"
    try:
        first = on.run(browser.get(page_url))
        assert first.status_code == 200, first.text[:500]
        assert _rows_in(first.text) == PAGE_SIZE, _rows_in(first.text)
        token = _next_token(first.text)
        token = unquote(token)
        cases: list[tuple[str, dict[str, str], pb.ListRecordsRequest]] = [
            ("first page", {}, pb.ListRecordsRequest()),
            ("next page", {"page_token": token}, pb.ListRecordsRequest(page_token=token)),
            (
                "filter 'refund' (1 in 10)",
                {"q": "refund"},
                pb.ListRecordsRequest(contains="refund"),
            ),
            (
                f"filter '#{n_records - 7}?' (1 record)",
                {"q": f"#{n_records - 7}?"},
                pb.ListRecordsRequest(contains=f"#{n_records - 7}?"),
            ),
            ("version 1 (earlier)", {"version": "1"}, pb.ListRecordsRequest(version=1)),
        ]
        print(
            f"\nDataset page, {n_records:,} records ({store}); server ms, median of {runs}"
            f"\n{'case':<34}{'page':>8}{'rows':>6}{'ListRecords':>13}{'page/call':>11}{'goal':>7}"
        )
        for label, params, request in cases:
            request.dataset_id = dataset_id
            request.page_size = PAGE_SIZE

            async def page(params: dict[str, str] = params) -> int:
                answer = await browser.get(page_url, params=params)
                assert answer.status_code == 200, answer.text[:500]
                return _rows_in(answer.text)

            async def call(request: pb.ListRecordsRequest = request) -> int:
                answer = await local.unary("DatasetService", "ListRecords", request, 60)
                return len(answer.records.dataset_record_id)

            page_ms, rows = median_ms(on, page, runs)
            call_ms, call_rows = median_ms(on, call, runs)
            assert rows == call_rows, (rows, call_rows)
            verdict = "ok" if page_ms <= GOAL_MS else "SLOW"
            print(
                f"{label:<34}{page_ms:>8.1f}{rows:>6}{call_ms:>13.1f}"
                f"{page_ms / call_ms:>11.2f}{verdict:>7}"
            )
    finally:
        on.run(browser.aclose())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument(
        "--analyze", action="store_true", help="ANALYZE the tables after loading (PostgreSQL)"
    )
    args = parser.parse_args()
    global ANALYZE
    ANALYZE = args.analyze
    for store in args.stores.split(","):
        run(store, args.records, args.runs)


if __name__ == "__main__":
    main()
