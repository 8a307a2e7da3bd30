"""Creating the store's SQLAlchemy engine with the settings each database needs.

SQLite gets WAL journaling (readers never block the writer, and a commit survives a crash of
the process with ``synchronous=NORMAL``; ``full`` adds power-loss durability) and a busy
timeout so that two processes can share one file. PostgreSQL goes through psycopg 3.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from spyglass.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Connections one engine may hold: the API's query threads (8 light, up to 8 heavy: see
# collector/api/queries.py), the span writer, retention and readiness checks, with room.
POOL_SIZE = 8
MAX_OVERFLOW = 16

# A PostgreSQL server that stops answering without closing connections (a network
# partition, a frozen host) must surface as an error within seconds, not hang exports until
# their deadline: bound the connect, probe idle connections, and give up on unacknowledged
# writes. Values a URL sets itself (``?connect_timeout=…``) win over these.
POSTGRES_CONNECT_ARGS = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}


def normalize_url(url: str) -> str:
    """Accept the URL spellings users paste (``postgres://``, ``postgresql://``)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_store_engine(url: str, sync: str = "normal") -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://…``)."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
        raise ConfigurationError(
            f"store URL {url!r} is not a database URL ({exc}); use sqlite:///./spyglass.db "
            "or postgresql+psycopg://user@host:5432/dbname"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, sync)
    if backend == "postgresql":
        defaults = {k: v for k, v in POSTGRES_CONNECT_ARGS.items() if k not in parsed.query}
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
            connect_args=defaults,
        )
    raise ConfigurationError(
        f"store URL {url!r} names database {backend!r}; Spyglass stores traces in SQLite "
        "(sqlite:///path.db) or PostgreSQL (postgresql+psycopg://…)"
    )


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction that does not deadlock with the span writer: BEGIN IMMEDIATE on
    SQLite (take the write lock up front instead of upgrading a read lock), plain on
    PostgreSQL. Committed on exit, rolled back on an exception."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin():
            yield connection


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for PostgreSQL or in-memory SQLite)."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    if engine.url.database == ":memory:":
        return None
    return Path(engine.url.database)


def _sqlite_engine(url: str, sync: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        folder = Path(database).parent
        if not folder.is_dir():
            raise ConfigurationError(
                f"store URL {url!r}: the folder {str(folder)!r} does not exist; create it "
                "first or give --store a path in an existing folder"
            )
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **(
            {}
            if database in (None, "", ":memory:")
            else {"pool_size": POOL_SIZE, "max_overflow": MAX_OVERFLOW}
        ),
    )
    synchronous = "FULL" if sync == "full" else "NORMAL"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun explicitly (see _on_begin), as SQLAlchemy's docs advise
        # for pysqlite, so that BEGIN IMMEDIATE can be used by the writer.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # page_size only takes effect on a new database (before its first table): 8 KiB
        # pages hold our ~2-3 KB span rows with less overflow, ~10% faster bulk inserts
        for pragma in (
            "page_size=8192",
            "journal_mode=WAL",
            f"synchronous={synchronous}",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "temp_store=MEMORY",
            "cache_size=-65536",
            "wal_autocheckpoint=4000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
