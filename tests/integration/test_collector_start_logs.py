"""What a collector's start writes to stderr: no Alembic step lines unless asked for.

A collector process starts on a fresh store (so every migration runs); at the default log
level its stderr says once that the schema was upgraded, at ``--log-level debug`` it also
shows Alembic's own lines.
"""

from __future__ import annotations

from pathlib import Path

from processes import CollectorProcesses


def test_a_fresh_store_migrates_without_alembic_lines(
    collector_processes: CollectorProcesses, tmp_path: Path
) -> None:
    proc = collector_processes.start(f"sqlite:///{tmp_path / 'fresh.db'}", decode_workers=0)
    proc.terminate()
    stderr = proc.stderr()
    assert "store schema upgraded from revision (empty) to" in stderr
    assert "alembic" not in stderr.lower(), stderr


def test_debug_logging_shows_alembic_lines(
    collector_processes: CollectorProcesses, tmp_path: Path
) -> None:
    proc = collector_processes.start(
        f"sqlite:///{tmp_path / 'fresh.db'}", decode_workers=0, log_level="debug"
    )
    proc.terminate()
    assert "INFO alembic.runtime.migration: Running upgrade" in proc.stderr()
