"""How a command reaches Spyglass: the session pointed at ``--collector`` (or the embedded
store when no collector is given), and experiment names resolved to ids through it."""

from __future__ import annotations

from types import ModuleType

import click


def connect(collector_address: str | None) -> ModuleType:
    """Point the process's session at ``collector_address`` (None: ``SPYGLASS_COLLECTOR``,
    else embedded) and return the session module."""
    from spyglass import session

    session.configure(collector=collector_address)
    return session


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
