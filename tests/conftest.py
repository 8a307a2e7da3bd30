"""Shared fixtures: stores on SQLite and PostgreSQL, real collectors on loopback ports (in
this process or as child processes), and a local OpenAI-compatible server.

PostgreSQL tests use the server at ``SPYGLASS_TEST_POSTGRES`` (default the machine's
127.0.0.1:5432, database ``test``), each in a fresh database of its own. In CI
(``CI=true``) a missing server fails the run; elsewhere those tests skip, saying why.

The helper modules in ``tests/integration/`` (``processes``, ``otlp_builders``, ...) are
importable by name from every test directory.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from spyglass.collector.server import Collector
from spyglass.config import CollectorSettings
from spyglass.local_llm import LocalLLM

sys.path.insert(0, str(Path(__file__).resolve().parent / "integration"))
from processes import CollectorProcesses

PG_ADMIN_URL = os.environ.get(
    "SPYGLASS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means: no server to test against
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    message = (
        f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({problem}); set "
        "SPYGLASS_TEST_POSTGRES to a server's URL to run these tests"
    )
    if IN_CI:
        pytest.fail(message + " — CI requires them", pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def _fresh_postgres_database() -> Iterator[str]:
    name = f"spyglass_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def fresh_postgres_database(
    postgres_available: None,
) -> Callable[[], contextlib.AbstractContextManager[str]]:
    """``with fresh_postgres_database() as url:`` a new, empty PostgreSQL database, dropped
    on exit; for fixtures that outlive one test (module-scoped servers)."""
    return _fresh_postgres_database


@pytest.fixture
def postgres_url(postgres_available: None) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with _fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """Each test using this runs twice: on a SQLite file and on a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'spyglass.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def start_collector() -> Iterator[Callable[..., Collector]]:
    """Start real collectors (in-process, ephemeral loopback ports); stopped at teardown."""
    started: list[Collector] = []

    def start(store: str, **settings: object) -> Collector:
        settings.setdefault("grpc_port", 0)
        settings.setdefault("http_port", 0)
        settings.setdefault("decode_workers", 0)
        config = CollectorSettings.load(env={}, store=store, **settings)
        collector = Collector(config).start_background()
        started.append(collector)
        return collector

    yield start
    for collector in started:
        collector.stop_background()


@pytest.fixture
def collector(start_collector: Callable[..., Collector], store_url: str) -> Collector:
    """A collector on each store kind."""
    return start_collector(store_url)


@pytest.fixture
def collector_processes(tmp_path: Path) -> Iterator[CollectorProcesses]:
    """Collector child processes for one test; all killed at teardown."""
    processes = CollectorProcesses(tmp_path)
    yield processes
    processes.kill_all()


@pytest.fixture(scope="module")
def llm() -> Iterator[LocalLLM]:
    """A LocalLLM (no latency) for the whole test module."""
    with LocalLLM() as server:
        yield server
