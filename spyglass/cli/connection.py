"""How a command reaches Spyglass: the session pointed at ``--collector`` (or the store given
by ``--store``, embedded, when no collector is given), and experiment names resolved to ids
through it.

With no collector, a command works on the store in this folder (``./spyglass.db``, or
``--store`` / ``SPYGLASS_STORE``). A command that finds no store there says so instead of
creating an empty one: only a command that adds data (``datasets import``) starts a store.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

import click

from spyglass.cli.options import CONNECTION_META
from spyglass.errors import ConfigurationError


class NoStoreError(ConfigurationError):
    """The command needs an existing store and there is none where it looked."""


def connect(collector_address: str | None, *, creates_store: bool = False) -> ModuleType:
    """Point the process's session at ``collector_address`` (None: ``SPYGLASS_COLLECTOR``,
    else the embedded store) with the connection flags of the current command, and return
    the session module. Without ``creates_store`` an embedded SQLite store must exist."""
    from spyglass import session

    flags = _connection_flags()
    store = flags.get("store")
    remote = collector_address or os.environ.get("SPYGLASS_COLLECTOR")
    if remote and store:
        raise click.UsageError("give --collector or --store, not both")
    if not remote and not creates_store:
        require_store(store)
    session.configure(
        collector=collector_address,
        store=store,
        api_key=flags.get("api_key"),
        tls=flags.get("tls"),
        tls_ca=flags.get("tls_ca"),
    )
    return session


_POINTERS = "Give --store URL of an existing store or --collector HOST:PORT of a running collector"


def require_store(store: str | None, pointers: str = _POINTERS) -> None:
    """NoStoreError when the store ``store`` (None: ``SPYGLASS_STORE``, the config file, else
    ``./spyglass.db``) is a SQLite file that does not exist; ``pointers`` say how to name
    another."""
    from spyglass.config import CollectorSettings

    url = CollectorSettings.load(store=store).store
    path = sqlite_file(url)
    if path is not None and not os.path.exists(path):
        raise NoStoreError(
            f"no Spyglass store here: {path} does not exist. {pointers} (`spyglass "
            "collector start` creates its store)"
        )


def sqlite_file(url: str) -> str | None:
    """The file of a ``sqlite:///`` store URL (None for other databases and in-memory)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    path = url[len(prefix) :].split("?", 1)[0]
    return path if path and path != ":memory:" else None


def experiment_ids(session: ModuleType, names: tuple[str, ...]) -> list[str] | None:
    """The ids of the experiments ``names`` (names or numeric ids), or None for none given.
    An unknown name is a usage error of ``--experiment``."""
    ids = []
    for name in names:
        experiment = session.get_experiment_by_name(name)
        if experiment is None and not name.isdigit():
            raise click.BadParameter(f"no experiment named {name!r}", param_hint="--experiment")
        ids.append(experiment.experiment_id if experiment else name)
    return ids or None


def _connection_flags() -> dict[str, Any]:
    """The connection flags :func:`spyglass.cli.options.collector_option` kept (none outside
    a command)."""
    ctx = click.get_current_context(silent=True)
    kept: dict[str, Any] = ctx.meta.get(CONNECTION_META, {}) if ctx is not None else {}
    return {key: value for key, value in kept.items() if value is not None}
