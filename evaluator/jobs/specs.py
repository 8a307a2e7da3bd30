"""Job and monitor specs: a JSON or TOML file with the same keys as the CLI flags, merged
under the flags given, becoming the keyword arguments of ``submit_job``/``create_monitor``.

A job spec (``spyglass eval submit --spec job.toml``)::

    name = "nightly-support"
    experiment = "support-bot"
    filter = "tags.env = 'prod'"
    since = "24h"
    scorers = [
        "mypkg.scorers:contains_required_info",
        { type = "Guidelines", name = "polite", guidelines = "Be polite" },
    ]

Keys use the flags' spelling (``filter``, ``since``,
``until``); a flag given on the command line wins over the file, and ``--scorer`` flags
replace the file's ``scorers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spyglass.config_files import read_config_file
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.jobs.submit import time_ms

JOB_KEYS = (
    "name",
    "dataset",
    "dataset_version",
    "experiment",
    "filter",
    "since",
    "until",
    "max_traces",
    "expectations_dataset",
    "scorers",
    "build_dataset",
    "chunk_size",
)
"""Keys of a job spec (the ``eval submit`` flags, ``scorers`` for ``--scorer``)."""

MONITOR_KEYS = (
    "name",
    "experiment",
    "filter",
    "sample_rate",
    "quiet_period_seconds",
    "include_existing",
    "scorers",
)
"""Keys of a monitor spec (the ``monitors create`` flags)."""

_ARGUMENT = {"filter": "filter_string", "since": "start_time", "until": "end_time"}


def read_spec(path: str, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    """The spec in ``path`` (TOML when it ends in .toml, else JSON), keys checked against
    ``keys``; ``what`` ("job spec") names it in messages."""
    data = read_config_file(path, what)
    if not isinstance(data, dict):
        raise InvalidArgumentError(
            f"{what} {path}: must be an object/table of settings "
            f"({', '.join(keys)}), not {type(data).__name__}"
        )
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise InvalidArgumentError(
            f"{what} {path}: unknown key(s) {', '.join(unknown)}; the keys are {', '.join(keys)}"
        )
    scorers = data.get("scorers")
    if scorers is not None and not isinstance(scorers, list):
        data["scorers"] = [scorers]  # one scorer, given without a list
    return data


def merge(spec: Mapping[str, Any], flags: Mapping[str, Any]) -> dict[str, Any]:
    """``submit_job``/``create_monitor`` keyword arguments: ``spec`` with every flag that was
    given (not None, not an empty tuple) on top; ``since``/``until`` become times in ms."""
    given = {k: v for k, v in flags.items() if v is not None and v != ()}
    merged = {**spec, **given}
    if "scorers" in merged:
        merged["scorers"] = list(merged["scorers"])
    for key in ("since", "until"):
        if key in merged:
            merged[key] = time_ms(merged[key], key)
    return {_ARGUMENT.get(k, k): v for k, v in merged.items()}
