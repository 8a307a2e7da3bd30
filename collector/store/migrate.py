"""Bringing a database to the schema this code needs (Alembic, configured in code).

Replicas that start together are safe: on PostgreSQL the upgrade runs under an advisory
lock, on SQLite under an exclusive lock on a file beside the database.

Alembic reports each step at INFO; a collector's start shows them only at ``--log-level
debug`` and otherwise logs one line naming the revisions it moved between.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import logging
from collections.abc import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from spyglass.collector.store.engine import sqlite_path
from spyglass.errors import MigrationError

log = logging.getLogger(__name__)

# pg_advisory_lock key: any constant shared by every Spyglass process
_PG_LOCK_KEY = 0x5B79_61A5


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    location = importlib.resources.files("spyglass.collector.store") / "migrations"
    cfg.set_main_option("script_location", str(location))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Apply every pending migration, holding a lock so concurrent starts are safe."""
    try:
        with _migration_lock(engine), engine.connect() as connection, _quiet_alembic():
            before = MigrationContext.configure(connection).get_current_revision()
            command.upgrade(_config(connection), "head")
            connection.commit()
            after = MigrationContext.configure(connection).get_current_revision()
    except MigrationError:
        raise
    except Exception as exc:
        raise MigrationError(
            f"migrating {engine.url.render_as_string(hide_password=True)} to revision "
            f"{head_revision()} failed: {exc}"
        ) from exc
    if after != before:
        log.info("store schema upgraded from revision %s to %s", before or "(empty)", after)


@contextlib.contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Alembic's per-step INFO lines, unless this process logs at DEBUG or the ``alembic``
    logger was given a level of its own."""
    alembic_log = logging.getLogger("alembic")
    if alembic_log.level != logging.NOTSET or log.isEnabledFor(logging.DEBUG):
        yield
        return
    alembic_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        alembic_log.setLevel(logging.NOTSET)


def check_current(engine: Engine) -> None:
    """Raise :class:`MigrationError` unless the database is at this code's head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise MigrationError(
            f"database {engine.url.render_as_string(hide_password=True)} is at schema revision "
            f"{current or '(empty)'}, this collector needs {head}; run `spyglass db upgrade` "
            "or start the collector without --no-migrate"
        )


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                connection.commit()
        return
    path = sqlite_path(engine)
    if path is None:
        yield
        return
    import fcntl  # POSIX; SQLite itself serialises the DDL elsewhere

    with open(f"{path}.migrate.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
