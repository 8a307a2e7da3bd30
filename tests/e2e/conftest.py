"""Fixtures for the facade workflows: a configured ``spyglass`` session on each store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from spyglass import session  # noqa: E402


@pytest.fixture(params=["embedded", pytest.param("postgresql", marks=pytest.mark.postgres)])
def spyglass_session(request: pytest.FixtureRequest, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
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
