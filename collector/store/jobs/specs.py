"""Checks that jobs and monitors share when they are submitted: scorer references (with the
names live workers registered), experiments and datasets named by id or name, and the
plain fields (names, chunk sizes, sample rates). Trace filters are checked by compiling
them (``filters.compile_filter``), which raises InvalidFilterError with the parser's message.

Every check raises a typed error whose message names the request field and how to fix it,
so a bad spec is refused at submit time rather than failing later on a worker.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, or_, select

from spyglass.collector.store.datasets.catalog import DATASETS
from spyglass.collector.store.ids import parse_experiment_id, require_experiment
from spyglass.collector.store.jobs.workers import registered_names
from spyglass.collector.store.models import Experiment
from spyglass.errors import InvalidArgumentError, NotFoundError
from spyglass.scorer_refs import check_ref, duplicate_name_problems, score_name
from spyglass.v1 import evaluation_pb2 as epb
from spyglass.v1 import jobs_pb2 as pb

NAME_MAX = 256
CHUNK_SIZE_DEFAULT, CHUNK_SIZE_MAX = 100, 1000


def new_id() -> str:
    """A job or monitor id: 32 lower-case hex characters."""
    return uuid.uuid4().hex


def check_chunk_size(value: int) -> int:
    """Rows per chunk: 0 means the default (100); at most 1000."""
    if value == 0:
        return CHUNK_SIZE_DEFAULT
    if not 1 <= value <= CHUNK_SIZE_MAX:
        raise InvalidArgumentError(
            f"chunk_size must be between 1 and {CHUNK_SIZE_MAX} rows "
            f"(0 = {CHUNK_SIZE_DEFAULT}), got {value}"
        )
    return value


def check_scorers(
    connection: Connection, refs: Sequence[pb.ScorerRef], now: int
) -> list[dict[str, str]]:
    """The references as stored ({type, params_json}), each checked against the built-in
    scorers, import-path syntax and the names live workers registered."""
    if not refs:
        raise InvalidArgumentError(
            "no scorers: give at least one scorer reference, e.g. "
            'type \'Guidelines\' with params {"name": "polite", '
            '"guidelines": "The answer is polite."}'
        )
    registered = registered_names(connection, now)
    stored, names = [], []
    for n, ref in enumerate(refs):
        params = check_ref(ref.type, ref.params_json, registered, f"scorers[{n}]")
        stored.append({"type": ref.type.strip(), "params_json": ref.params_json})
        names.append(score_name(ref.type, params))
    problems = duplicate_name_problems(names)
    if problems:
        raise InvalidArgumentError("; ".join(problems))
    return stored


def scorer_refs(stored: str) -> list[pb.ScorerRef]:
    """The stored JSON list of references as messages."""
    return [pb.ScorerRef(**ref) for ref in json.loads(stored)]


def run_scorers(stored: list[dict[str, str]]) -> list[epb.EvaluationScorer]:
    """How the job's run describes its scorers: by the names their scores get
    (:func:`spyglass.scorer_refs.score_name`, as the workers name them); the reference itself
    as the source id."""
    scorers = []
    for ref in stored:
        name = score_name(ref["type"], json.loads(ref["params_json"] or "{}"))
        scorers.append(
            epb.EvaluationScorer(
                name=name[:NAME_MAX], source_type="CODE", source_id=ref["type"][:NAME_MAX]
            )
        )
    return scorers


def resolve_experiment(connection: Connection, text: str, field: str) -> int:
    """The id of the experiment named by ``text`` (a decimal id or a name; empty = "0")."""
    value = text.strip() or "0"
    if value.isdigit():
        number = parse_experiment_id(value)
        require_experiment(connection, number)
        return number
    found = connection.scalar(select(Experiment.experiment_id).where(Experiment.name == value))
    if found is None:
        raise NotFoundError(
            f"{field}: no experiment has the id or name {value!r} (names are "
            "case-sensitive); list experiments with `spyglass experiments "
            "list`"
        )
    return int(found)


def find_dataset(connection: Connection, text: str, field: str) -> Any:
    """The ``datasets`` row whose id or name is ``text`` (an id match wins)."""
    if not text.strip():
        raise InvalidArgumentError(f"{field} is empty; name a dataset by its name or id")
    rows = connection.execute(
        select(DATASETS).where(or_(DATASETS.c.dataset_id == text, DATASETS.c.name == text))
    ).all()
    if not rows:
        raise NotFoundError(
            f"{field}: no dataset has the id or name {text!r} (names are "
            "case-sensitive); list datasets with `spyglass datasets list`"
        )
    return next((r for r in rows if r.dataset_id == text), rows[0])


def check_sample_rate(value: float, field: str = "sample_rate") -> float:
    if not 0 < value <= 1:
        raise InvalidArgumentError(
            f"{field} must be above 0 and at most 1 (the share of "
            f"matching traces to score), got {value}"
        )
    return value


def check_quiet_period(value: float) -> float:
    if not 0 <= value <= 86_400:
        raise InvalidArgumentError(
            f"quiet_period_seconds must be between 0 and 86400 (a day), got {value}"
        )
    return value
