"""Fixtures for the end-to-end workflows: a configured ``spyglass`` session on each store,
and ``spyglass evaluator serve`` child processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_support import EvaluatorProcesses

from spyglass import session


@pytest.fixture(params=["embedded", pytest.param("postgresql", marks=pytest.mark.postgres)])
def spyglass_session(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The facade configured embedded over a temp SQLite file, or against a collector on
    PostgreSQL; yields the collector's gRPC address."""
    monkeypatch.delenv("SPYGLASS_COLLECTOR", raising=False)
    monkeypatch.delenv("SPYGLASS_API_KEY", raising=False)
    if request.param == "embedded":
        monkeypatch.setenv("SPYGLASS_STORE", f"sqlite:///{tmp_path / 'spyglass.db'}")
        session.configure()
        address = f"127.0.0.1:{session.embedded_collector().grpc_port}"
    else:
        start = request.getfixturevalue("start_collector")
        collector = start(request.getfixturevalue("postgres_url"))
        address = f"127.0.0.1:{collector.grpc_port}"
        session.configure(collector=address)
    yield address
    session._shutdown()


@pytest.fixture
def evaluator_processes(tmp_path: Path) -> Iterator[EvaluatorProcesses]:
    """Evaluator child processes for one test; all killed at teardown."""
    processes = EvaluatorProcesses(tmp_path)
    yield processes
    processes.kill_all()
