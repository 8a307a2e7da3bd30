"""Background WAL checkpoints for SQLite, off the writer's critical path.

With SQLite's automatic checkpoints the committing connection copies the WAL into the
database file itself, so every few commits the writer stalls on that copy and its fsync.
The writer turns them off and this thread runs PASSIVE checkpoints (which never block
readers or the writer) on its own connection; SQLite releases the GIL while it works, so
the copy runs on another core.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` every ``interval_s`` until stopped."""

    def __init__(self, path: Path, interval_s: float = 0.5) -> None:
        self._path = path
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spyglass-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout=1000")
            while not self._stop.wait(self._interval):
                self.checkpoint(db)
            self.checkpoint(db)
        finally:
            db.close()

    @staticmethod
    def checkpoint(db: sqlite3.Connection) -> None:
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # a busy database just means: next time
            log.debug("checkpoint skipped: %s", exc)
