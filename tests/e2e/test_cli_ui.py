"""``spyglass ui`` as users run it: a child process in an empty folder, and against a running
collector.

What it proves:

* with no flags but free ports, the command starts a collector over ``./spyglass.db`` in
  the folder it runs in, prints ``Spyglass UI: http://127.0.0.1:PORT/`` once the port
  answers, serves the web UI there (HTML at ``/``) and takes traces on the ports it prints;
  Ctrl-C stops it with exit status 0 and no traceback;
* a port already in use is one ``error:`` line naming the flag to change;
* with ``--collector`` it starts nothing: it checks the collector's HTTP port and prints
  that collector's UI address; a port where nothing answers, or flags that only make sense
  for a collector started here, are errors that say what to do.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from otlp_builders import make_request, make_span, new_trace_id
from processes import free_port, wait_until

from spyglass.cli import cli
from spyglass.collector.server import Collector

URL_LINE = re.compile(r"^Spyglass UI: (http://127\.0\.0\.1:(\d+)/)$")
START_TIMEOUT_S = 60.0


class UiProcess:
    """``spyglass ui`` in a child process, its stdout read line by line on a thread."""

    def __init__(self, folder: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS_")}
        self.stderr_path = folder / "ui.stderr"
        self._stderr = self.stderr_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "spyglass.cli", "ui", *args],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_for_line(self, pattern: re.Pattern[str]) -> re.Match[str]:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            self.seen.append(line)
            if (found := pattern.match(line)) is not None:
                return found
        raise AssertionError(
            f"no line matching {pattern.pattern!r}; stdout: {self.seen}; stderr:\n" + self.stderr()
        )

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._stderr.close()


@pytest.fixture
def start_ui(tmp_path: Path) -> Iterator[Callable[..., UiProcess]]:
    started: list[UiProcess] = []

    def start(*args: str) -> UiProcess:
        ui = UiProcess(tmp_path, *args)
        started.append(ui)
        return ui

    yield start
    for ui in started:
        ui.stop(signal.SIGKILL, timeout=10)


def test_ui_starts_a_collector_over_the_store_in_this_folder(
    tmp_path: Path, start_ui: Callable[..., UiProcess]
) -> None:
    grpc_port = free_port()
    ui = start_ui("--port", "0", "--grpc-port", str(grpc_port))
    url, http_port = ui.wait_for_line(URL_LINE).groups()
    assert (tmp_path / "spyglass.db").is_file()

    page = httpx.get(url, follow_redirects=True, timeout=10)
    assert page.status_code == 200, page.text[:500]
    assert page.headers["content-type"].startswith("text/html")
    assert "Experiments" in page.text

    # the same collector takes traces on the ports it printed
    ui.wait_for_line(re.compile(rf"^Send traces over OTLP to 127\.0\.0\.1:{grpc_port} \(gRPC\)"))
    sent = make_request([make_span("from the ui test", new_trace_id())])
    answer = httpx.post(
        f"http://127.0.0.1:{http_port}/v1/traces",
        content=sent.SerializeToString(),
        headers={"content-type": "application/x-protobuf"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text

    def stored() -> bool:
        found = httpx.post(
            f"{url}api/v1/TraceService/SearchTraces", json={"filter": ""}, timeout=10
        )
        return found.status_code == 200 and "from the ui test" in found.text

    wait_until(stored, 10, "the trace sent to the printed port")

    assert ui.stop(signal.SIGINT) == 0, ui.stderr()
    assert "Traceback" not in ui.stderr()


def test_ui_on_a_port_in_use_is_one_error_line(
    start_collector: Callable[..., Collector], tmp_path: Path, start_ui: Callable[..., UiProcess]
) -> None:
    running = start_collector(f"sqlite:///{tmp_path / 'other.db'}")
    ui = start_ui("--port", str(running.http_port), "--grpc-port", "0")
    assert ui.process.wait(START_TIMEOUT_S) == 1
    errors = [line for line in ui.stderr().splitlines() if line.startswith("error:")]
    assert len(errors) == 1, ui.stderr()
    assert f"127.0.0.1:{running.http_port}" in errors[0] and "--http-port" in errors[0]
    assert "Traceback" not in ui.stderr()


def test_ui_with_collector_prints_that_collectors_address(
    start_collector: Callable[..., Collector], tmp_path: Path
) -> None:
    running = start_collector(f"sqlite:///{tmp_path / 'running.db'}")
    runner = CliRunner()

    shown = runner.invoke(cli, ["ui", "--collector", f"127.0.0.1:{running.http_port}"])
    assert shown.exit_code == 0, shown.output
    assert shown.output == f"Spyglass UI: http://127.0.0.1:{running.http_port}/\n"
    as_url = runner.invoke(cli, ["ui", "--collector", f"http://127.0.0.1:{running.http_port}/"])
    assert as_url.output == shown.output

    nobody = free_port()
    missing = runner.invoke(cli, ["ui", "--collector", f"127.0.0.1:{nobody}"])
    assert missing.exit_code == 1
    assert missing.output.startswith(f"error: no collector answers at http://127.0.0.1:{nobody}/")
    assert "--collector HOST:PORT of its HTTP port" in missing.output

    mixed = runner.invoke(cli, ["ui", "--collector", "127.0.0.1:4318", "--port", "5000"])
    assert mixed.exit_code == 2
    assert "--port set up the collector this command starts" in mixed.output

    bad = runner.invoke(cli, ["ui", "--collector", "ftp://example.com"])
    assert bad.exit_code == 1 and "http:// or https:// URL" in bad.output
