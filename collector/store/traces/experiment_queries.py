"""Experiments for the query API: create, get by id or name, search, retention settings.

(The span writer resolves and creates experiments by name on its own hot path, in
:mod:`spyglass.collector.store.traces.experiments`; this module is the API's side.)

SearchExperiments filters in the trace filter language
(:mod:`spyglass.collector.store.traces.filters`: same literals, quoting and error carets),
restricted to conditions joined by ``AND`` over two fields::

    name = 'Customer Support Bot'        name != '…'
    name LIKE 'Customer%'                name ILIKE 'customer%'
    tags.team = 'support'                tags.`my key` LIKE 'a%'

Values are quoted with ``'`` or ``"`` (a quote inside is written twice). LIKE is
case-sensitive on SQLite and PostgreSQL alike, ILIKE is not; ``%`` and ``_`` are wildcards
and a backslash escapes them. A tag condition holds when the experiment has that tag with a
value that satisfies it. Sort keys are ``name``, ``creation_time_ms``,
``last_update_time_ms`` or ``experiment_id``, each ``ASC`` (default) or ``DESC``; ties and the
default order go by ``experiment_id``; names sort by code point on both stores. Pages are
keyset-paged, like trace search.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.ids import experiment_not_found, parse_experiment_id
from spyglass.collector.store.models import Experiment, ExperimentTag, TraceRow
from spyglass.collector.store.paging import SortKey, fingerprint, keyset_page, parse_sort_keys
from spyglass.collector.store.text import check_key
from spyglass.collector.store.traces.filters import (
    Comparison,
    Compiler,
    Field,
    FieldSet,
    Kind,
    parse_filter,
)
from spyglass.collector.store.traces.probes import Probe
from spyglass.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from spyglass.v1 import experiments_pb2 as pb

MAX_NAME_LENGTH = 256
SEARCH_DEFAULT = 1000
SEARCH_MAX = 1000
MAX_RETENTION_DAYS = 36_500  # 100 years; keeps the cutoff within 64-bit nanoseconds

_E = Experiment.__table__.c
_T = TraceRow.__table__.c
_TAGS = ExperimentTag.__table__
_ORDER_FIELDS: dict[str, ColumnElement] = {
    "name": _E.name,
    "creation_time_ms": _E.created_time_ms,
    "last_update_time_ms": _E.last_update_time_ms,
    "experiment_id": _E.experiment_id,
}


def experiment_message(row: Any, tags: dict[str, str]) -> pb.Experiment:
    """An ``experiments`` row and its tags as the API message."""
    message = pb.Experiment(
        experiment_id=str(row.experiment_id),
        name=row.name,
        lifecycle_stage=row.lifecycle_stage,
        creation_time_ms=row.created_time_ms,
        last_update_time_ms=row.last_update_time_ms,
        tags=tags,
    )
    if row.retention_days is not None:
        message.retention_days = row.retention_days
    return message


def create_experiment(engine: Engine, name: str, tags: dict[str, str]) -> pb.Experiment:
    """A new experiment; AlreadyExistsError when the name is taken."""
    _check_name(name)
    for key in tags:
        check_key(key, "experiment tag key")
    now = now_ms()
    try:
        with write_transaction(engine) as connection:
            experiment_id = connection.execute(
                insert(Experiment.__table__)
                .values(
                    name=name,
                    lifecycle_stage="active",
                    created_time_ms=now,
                    last_update_time_ms=now,
                )
                .returning(_E.experiment_id)
            ).scalar_one()
            if tags:
                connection.execute(
                    insert(_TAGS),
                    [
                        {"experiment_id": experiment_id, "key": k, "value": v}
                        for k, v in tags.items()
                    ],
                )
    except IntegrityError:
        with engine.connect() as connection:
            existing = connection.scalar(select(_E.experiment_id).where(_E.name == name))
        if existing is None:
            raise
        raise AlreadyExistsError(
            f"an experiment named {name!r} already exists (id "
            f"{existing}); fetch it with GetExperimentByName or choose "
            "another name"
        ) from None
    return get_experiment(engine, str(experiment_id))


def get_experiment(engine: Engine, experiment_id: str) -> pb.Experiment:
    """The experiment with this id; NotFoundError when there is none."""
    number = parse_experiment_id(experiment_id)
    with engine.connect() as connection:
        found = _experiments(
            connection, select(Experiment.__table__).where(_E.experiment_id == number)
        )
    if not found:
        raise experiment_not_found(experiment_id)
    return found[0]


MAX_STATS_IDS = 1000


def experiment_stats(
    engine: Engine, experiment_ids: Sequence[str]
) -> pb.GetExperimentStatsResponse:
    """Trace count and newest trace start of each experiment (both read from the traces
    table's ``(experiment_id, start_time_ns)`` index)."""
    if len(experiment_ids) > MAX_STATS_IDS:
        raise InvalidArgumentError(
            f"stats are given for at most {MAX_STATS_IDS:,} experiments at once, "
            f"got {len(experiment_ids):,}; ask in smaller groups"
        )
    numbers = {parse_experiment_id(text): text for text in experiment_ids}
    response = pb.GetExperimentStatsResponse()
    for text in experiment_ids:
        response.stats[text].trace_count = 0
    if not numbers:
        return response
    statement = (
        select(_T.experiment_id, func.count(), func.max(_T.start_time_ns))
        .where(_T.experiment_id.in_(list(numbers)))
        .group_by(_T.experiment_id)
    )
    with engine.connect() as connection:
        for number, traces, newest in connection.execute(statement):
            stats = response.stats[numbers[number]]
            stats.trace_count = traces
            if newest is not None:
                stats.last_trace_time_ms = newest // 1_000_000
    return response


def get_experiment_by_name(engine: Engine, name: str) -> pb.Experiment:
    """The experiment with exactly this name; NotFoundError when there is none."""
    with engine.connect() as connection:
        found = _experiments(connection, select(Experiment.__table__).where(_E.name == name))
    if not found:
        raise NotFoundError(
            f"no experiment is named {name!r} (names are case-sensitive); "
            "create it with CreateExperiment or spyglass.set_experiment"
        )
    return found[0]


def search_experiments(
    engine: Engine, filter_text: str, order_by: Sequence[str], max_results: int, page_token: str
) -> tuple[list[pb.Experiment], str]:
    """One page of experiments matching ``filter_text`` and the token for the next page."""
    if max_results < 0:
        raise InvalidArgumentError(f"max_results must not be negative, got {max_results}")
    limit = min(max_results or SEARCH_DEFAULT, SEARCH_MAX)
    dialect = engine.dialect.name
    condition = compile_filter(filter_text, dialect)
    keys = _sort_keys(order_by, dialect)
    search = fingerprint("experiments", filter_text, list(order_by))
    query = select(Experiment.__table__)
    if condition is not None:
        query = query.where(condition)
    return keyset_page(engine, query, keys, search, page_token, limit, _with_tags)


def set_retention(engine: Engine, experiment_id: str, days: int | None) -> pb.Experiment:
    """Keep the experiment's traces ``days`` days (None: use the collector's setting)."""
    number = parse_experiment_id(experiment_id)
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise InvalidArgumentError(
            f"retention_days must be between 1 and "
            f"{MAX_RETENTION_DAYS}, got {days}; leave it unset to keep "
            "traces forever"
        )
    with write_transaction(engine) as connection:
        changed = connection.execute(
            update(Experiment.__table__)
            .where(_E.experiment_id == number)
            .values(retention_days=days, last_update_time_ms=now_ms())
        ).rowcount
    if not changed:
        raise experiment_not_found(experiment_id)
    return get_experiment(engine, experiment_id)


def retention_policies(connection: Connection) -> list[tuple[int, int | None]]:
    """(experiment_id, retention_days or None) of every experiment."""
    query = select(_E.experiment_id, _E.retention_days).order_by(_E.experiment_id)
    return [(row.experiment_id, row.retention_days) for row in connection.execute(query)]


# -- helpers -----------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not name.strip():
        raise InvalidArgumentError("an experiment name must not be empty")
    check_key(name, "experiment name", MAX_NAME_LENGTH)


def _experiments(connection: Connection, query: Any) -> list[pb.Experiment]:
    return _with_tags(connection, connection.execute(query).all())


def _with_tags(connection: Connection, rows: Sequence[Any]) -> list[pb.Experiment]:
    """Messages for experiment rows, their tags read in one query."""
    if not rows:
        return []
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    query = select(_TAGS.c.experiment_id, _TAGS.c.key, _TAGS.c.value).where(
        _TAGS.c.experiment_id.in_([row.experiment_id for row in rows])
    )
    for experiment_id, key, value in connection.execute(query):
        if value is not None:
            tags[experiment_id][key] = value
    return [experiment_message(row, tags.get(row.experiment_id, {})) for row in rows]


def _sort_keys(order_by: Sequence[str], dialect: str) -> list[SortKey]:
    return parse_sort_keys(order_by, _ORDER_FIELDS, _E.experiment_id, "experiments", dialect)


# -- the filter ----------------------------------------------------------------------------

_NAME_KIND = Kind("text", ("=", "!=", "LIKE", "ILIKE"))
_FIELDS_HELP = "name or tags.<key> (quote unusual keys in backticks: tags.`my key`)"


def _resolve(segments: tuple[tuple[str, bool], ...]) -> Field | None:
    (head, quoted), rest = segments[0], segments[1:]
    if quoted:
        return None
    head = head.lower()
    if head == "name" and not rest:
        return Field("experiment", "name")
    if head in ("tags", "tag") and rest:
        return Field("tag", ".".join(text for text, _ in rest))
    return None


def _unknown(spelling: str) -> str:
    return f"unknown field '{spelling}'; experiment filters use {_FIELDS_HELP}"


FIELDS = FieldSet(
    _resolve,
    lambda field: _NAME_KIND,
    _unknown,
    label="experiment filter",
    example="a field such as name or tags.team",
    conjunctions_only=True,
)


class _ExperimentCompiler(Compiler):
    """The shared compiler with the experiment fields' comparisons: the name, or a tag the
    experiment has with a value that satisfies the condition."""

    def comparison(self, c: Comparison) -> ColumnElement[bool] | Probe:
        if c.field.kind == "tag":
            condition = self.text_condition(_TAGS.c.value, c.op, c.value)
            return Probe(
                "experiment_tag",
                _TAGS.c.experiment_id,
                _E.experiment_id,
                (and_(_TAGS.c.key == c.field.name, condition),),
            )
        return self.text_condition(_E.name, c.op, c.value)


def compile_filter(text: str, dialect: str) -> ColumnElement[bool] | None:
    """The filter as one condition over ``experiments`` (None when empty); InvalidFilterError
    with a caret under the spot when it does not parse or names an unknown field."""
    node = parse_filter(text, FIELDS)
    return None if node is None else _ExperimentCompiler(dialect).node(node)
