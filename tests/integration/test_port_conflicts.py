"""A second collector on a port the first one listens on refuses to start, naming the flag.

gRPC lets servers share a port by default (SO_REUSEPORT); two collectors on one port would
then each take part of the traffic into their own store. The collector turns that off, so
the second one fails with the OS's reason and the flag to change.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from spyglass.collector.server import Collector
from spyglass.errors import ConfigurationError

StartCollector = Callable[..., Collector]


@pytest.mark.parametrize("port", ["grpc_port", "http_port"])
def test_second_collector_on_a_taken_port_fails(
    start_collector: StartCollector, tmp_path: Path, port: str
) -> None:
    first = start_collector(f"sqlite:///{tmp_path / 'a.db'}", host="127.0.0.1")
    taken = getattr(first, port)
    with pytest.raises(ConfigurationError) as caught:
        start_collector(f"sqlite:///{tmp_path / 'b.db'}", host="127.0.0.1", **{port: taken})
    message = str(caught.value)
    assert f"127.0.0.1:{taken}" in message
    assert "address already in use" in message
    assert "--" + port.replace("_", "-") in message


def test_the_cli_prints_one_error_line_for_a_taken_port(
    start_collector: StartCollector, tmp_path: Path
) -> None:
    first = start_collector(f"sqlite:///{tmp_path / 'a.db'}", host="127.0.0.1")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "spyglass.cli",
            "collector",
            "start",
            "--store",
            f"sqlite:///{tmp_path / 'b.db'}",
            "--host",
            "127.0.0.1",
            "--grpc-port",
            str(first.grpc_port),
            "--http-port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert re.search(
        rf"error: .*127\.0\.0\.1:{first.grpc_port}.*address already in use", done.stderr
    )
    assert "--grpc-port" in done.stderr
