"""The ids requests name, checked and turned into what the store keeps: experiment ids
(decimal strings on the wire, integers in the tables, and whether one names a stored
experiment), trace ids and the other ids of 32 hex characters (evaluation runs, jobs,
monitors)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Connection, select

from spyglass.collector.store.models import Experiment
from spyglass.errors import InvalidArgumentError, NotFoundError

MAX_EXPERIMENT_IDS = 1000  # per request: each is a statement parameter, and stores cap those

_HEX_ID = re.compile(r"[0-9a-f]{32}")


def parse_experiment_id(text: str) -> int:
    """An experiment id as sent on the wire (a decimal string) as the stored integer."""
    value = text.strip()
    if not re.fullmatch(r"[0-9]{1,18}", value):
        raise InvalidArgumentError(
            f"experiment id {text!r} is not an experiment id: expected "
            "a decimal number such as '0' (the default experiment)"
        )
    return int(value)


def parse_experiment_ids(texts: Sequence[str]) -> list[int]:
    """The distinct experiment ids a request (a search, a dataset's links) names, sorted;
    at most MAX_EXPERIMENT_IDS."""
    ids = sorted({parse_experiment_id(str(text)) for text in texts})
    if len(ids) > MAX_EXPERIMENT_IDS:
        raise InvalidArgumentError(
            f"the request names {len(ids):,} experiments; the limit is "
            f"{MAX_EXPERIMENT_IDS:,} per request: pass them in groups of at most that many"
        )
    return ids


def require_experiment(connection: Connection, experiment_id: int) -> None:
    """NotFoundError unless the experiment exists (checked inside the caller's transaction)."""
    found = connection.execute(
        select(Experiment.experiment_id).where(Experiment.experiment_id == experiment_id)
    ).first()
    if found is None:
        raise experiment_not_found(experiment_id)


def experiment_not_found(experiment_id: int | str) -> NotFoundError:
    """The error for an experiment id that names no experiment."""
    return NotFoundError(
        f"experiment {experiment_id} not found; list experiments with "
        "SearchExperiments (`spyglass experiments list`)"
    )


def parse_trace_id(text: str) -> str:
    """A trace id as stored: 32 lower-case hex characters."""
    return check_hex_id(text, "trace id", "a trace id", "as OTel prints them")


def check_hex_id(text: str, field: str, kind: str, origin: str) -> str:
    """An id of 32 hex characters (trace, evaluation run, job, monitor), lower-cased; else an
    error naming the ``field``, the ``kind`` of id and where such ids come from."""
    value = text.strip().lower()
    if not _HEX_ID.fullmatch(value):
        raise InvalidArgumentError(
            f"{field} {text[:80]!r} is not {kind}: expected 32 hex characters, {origin}"
        )
    return value
