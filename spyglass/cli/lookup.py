"""What a command argument names: a dataset or an evaluation run given the way people type
it. Both are found by name or by id; runs also by the short id the tables print (the first
:data:`SHORT_ID` characters of the id, or any longer unique start of it)."""

from __future__ import annotations

import re
from typing import Any

import click

from spyglass.errors import InvalidArgumentError, NotFoundError

SHORT_ID = 8
"""Characters of a run id the tables show."""

MIN_PREFIX = 4
"""The shortest start of a run id accepted in place of the whole id."""

_FULL_ID = re.compile(r"[0-9a-f]{32}")
_PREFIX = re.compile(r"[0-9a-f]+")


def short_id(run_id: str | None) -> str:
    """A run id as the tables print it ("" for none)."""
    return (run_id or "")[:SHORT_ID]


def find_dataset(name_or_id: str, version: int | None = None) -> Any:
    """The dataset with this name, else with this id (``d-…``), at ``version`` (None: the
    latest); NotFoundError when neither names one."""
    from spyglass.evaluator.datasets import get_dataset

    try:
        return get_dataset(name=name_or_id, version=version)
    except NotFoundError:
        if not name_or_id.startswith("d-"):
            raise
    return get_dataset(dataset_id=name_or_id, version=version)


def find_run(ref: str) -> Any:
    """The evaluation run ``ref`` names: its full id, its name (the newest run of that name
    when several share it, with a note on stderr), or a unique start of its id of at least
    :data:`MIN_PREFIX` characters (as ``eval list`` prints it). NotFoundError when none
    matches; InvalidArgumentError when a short id matches several runs."""
    from spyglass.evaluator.runs import get_evaluation_run, search_evaluation_runs

    text = ref.strip()
    if _FULL_ID.fullmatch(text.lower()):
        return get_evaluation_run(text.lower())
    named = search_evaluation_runs(name=text, max_results=2)
    if named:
        if len(named) > 1:
            click.echo(
                f"note: several runs are named {text!r}; using the newest, "
                f"{short_id(named[0].run_id)} (give its id to pick another)",
                err=True,
            )
        return named[0]
    prefix = text.lower()
    if len(prefix) >= MIN_PREFIX and _PREFIX.fullmatch(prefix):
        matches = [r for r in search_evaluation_runs() if r.run_id.startswith(prefix)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(f"{r.run_id} ({r.name})" for r in matches[:5])
            raise InvalidArgumentError(
                f"{ref!r} starts the ids of {len(matches)} runs ({shown}); give more of the id"
            )
    raise NotFoundError(
        f"no evaluation run has the id or name {ref!r}; `spyglass eval list` shows the runs "
        "with their ids and names"
    )
