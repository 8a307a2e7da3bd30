"""The peers benchmark's own parts that run without MLflow or Phoenix: the table, the peers'
environment stamp, and the OTLP/HTTP sender and ingest clock against a local HTTP server."""

from __future__ import annotations

import http.server
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "peers"))
import peers_common as common
import peers_table as table
import peers_venv


def test_table_prints_each_peer_ratio_to_spyglass_and_the_errors() -> None:
    text = table.format_table(
        {
            "MLflow": {"ingest_queryable_s": 20.0, "search_s": 1.5, "errors": {}},
            "Spyglass": {"ingest_queryable_s": 2.0, "search_s": 0.1, "evaluate_s": 3.0},
            "Phoenix": {"errors": {"start": "phoenix serve exited while starting"}},
        }
    )
    head, _rule, *rows = text.splitlines()
    assert head.split()[-5:] == ["Spyglass", "MLflow", "x", "Phoenix", "x"]
    queryable = next(r for r in rows if r.startswith("ingest: every span queryable"))
    assert queryable.split()[-5:] == ["2.000", "20.0", "10.0", "-", "-"]
    search = next(r for r in rows if r.startswith("search:"))
    assert search.split()[-5:] == ["0.100", "1.500", "15.0", "-", "-"]
    assert "Phoenix start: phoenix serve exited while starting" in rows


def test_ratio_is_missing_without_both_figures() -> None:
    assert table.ratio(3.0, 1.5) == "2.0"
    assert table.ratio(None, 1.5) == "-"
    assert table.ratio(3.0, 0.0) == "-"
    assert table.ratio(float("nan"), 1.0) == "-"


def test_peers_venv_is_reused_only_while_its_stamp_names_the_same_pins(tmp_path: Path) -> None:
    pins = ("mlflow==1.0", "arize-phoenix==2.0")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("")
    assert not peers_venv.is_current(tmp_path, pins)  # no stamp: never finished installing
    (tmp_path / peers_venv.STAMP).write_text(peers_venv.stamp_text(pins))
    assert peers_venv.is_current(tmp_path, pins)
    assert peers_venv.ensure(tmp_path, pins) == tmp_path / "bin" / "python"  # no install
    assert not peers_venv.is_current(tmp_path, ("mlflow==1.1", "arize-phoenix==2.0"))


def test_requests_file_round_trips_the_same_bytes(tmp_path: Path) -> None:
    bodies = [b"", b"\x00\x01otlp", bytes(range(256)) * 40]
    common.write_requests(tmp_path / "r.bin", bodies)
    assert common.read_requests(str(tmp_path / "r.bin")) == bodies


class _Receiver(http.server.BaseHTTPRequestHandler):
    bodies: list[bytes]
    refuse_first: list[bool]
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            refuse = self.refuse_first.pop() if self.refuse_first else False
            if not refuse:
                self.bodies.append(body)
        assert self.headers["x-experiment"] == "7"
        self.send_response(503 if refuse else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []
    handler = type("Handler", (_Receiver,), {"bodies": bodies, "refuse_first": [True]})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", bodies
    server.shutdown()
    server.server_close()


def test_ingest_sends_every_request_retries_refusals_and_waits_until_all_spans_are_seen(
    tmp_path: Path, receiver: tuple[str, list[bytes]]
) -> None:
    url, bodies = receiver
    requests = [f"request {i}".encode() for i in range(12)]
    common.write_requests(tmp_path / "r.bin", requests)
    workload = common.Workload(requests_file=str(tmp_path / "r.bin"), spans=120, traces=12)
    answers = iter([40, 119, 120])  # spans the tool lists: the third listing sees them all
    figures = common.ingest(workload, url, {"x-experiment": "7"}, lambda: next(answers))
    assert sorted(bodies) == sorted(requests)  # each once, the refused one sent again
    assert figures["ingest_polls"] == 3
    assert figures["ingest_spans_seen"] == 120
    assert 0 < figures["ingest_acked_s"] <= figures["ingest_queryable_s"]


def test_ingest_stops_with_a_clear_error_when_spans_never_appear(
    tmp_path: Path, receiver: tuple[str, list[bytes]]
) -> None:
    url, _ = receiver
    common.write_requests(tmp_path / "r.bin", [b"x"])
    workload = common.Workload(requests_file=str(tmp_path / "r.bin"), spans=10, traces=1)
    with pytest.raises(RuntimeError, match="only 3 of 10 spans queryable"):
        common.ingest(workload, url, {"x-experiment": "7"}, lambda: 3, timeout_s=0.3)
