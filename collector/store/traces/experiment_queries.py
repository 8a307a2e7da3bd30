"""Experiments for the query API: create, get by id or name, search, retention settings.

(The span writer resolves and creates experiments by name on its own hot path, in
``experiments.py``; this module is the API's side.)

SearchExperiments takes a deliberately small filter language, conditions joined by ``AND``::

    name = 'Customer Support Bot'        name != '…'
    name LIKE 'Customer%'                name ILIKE 'customer%'
    tags.team = 'support'                tags.`my key` LIKE 'a%'

Values are quoted with ``'`` or ``"`` (a quote inside is written twice). LIKE is
case-sensitive on SQLite and PostgreSQL alike, ILIKE is not; ``%`` and ``_`` are wildcards
and a backslash escapes them. Sort keys are ``name``, ``creation_time_ms``,
``last_update_time_ms`` or ``experiment_id``, each ``ASC`` (default) or ``DESC``; ties and the
default order go by ``experiment_id``; names sort by code point on both stores. Pages are
keyset-paged, like trace search.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement, Connection, Engine, exists, insert, select, update,
)
from sqlalchemy.exc import IntegrityError

from spyglass.collector.store.traces.filters import (
    MAX_CONDITIONS,
    MAX_FILTER_LENGTH,
    MAX_PATTERN_LENGTH,
    SURROGATE,
    not_unicode,
    snippet,
)
from spyglass.collector.store.models import Experiment, ExperimentTag
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.traces.queries import (
    SortKey,
    check_key,
    fingerprint,
    keyset_page,
    parse_experiment_id,
    parse_sort_keys,
)
from spyglass.errors import (
    AlreadyExistsError, InvalidArgumentError, InvalidFilterError, NotFoundError,
)
from spyglass.v1 import experiments_pb2 as pb

MAX_NAME_LENGTH = 256
SEARCH_DEFAULT = 1000
SEARCH_MAX = 1000
MAX_RETENTION_DAYS = 36_500  # 100 years; keeps the cutoff within 64-bit nanoseconds

_E = Experiment.__table__.c
_TAGS = ExperimentTag.__table__
_ORDER_FIELDS: dict[str, ColumnElement] = {
    "name": _E.name, "creation_time_ms": _E.created_time_ms,
    "last_update_time_ms": _E.last_update_time_ms, "experiment_id": _E.experiment_id,
}


def experiment_message(row: Any, tags: dict[str, str]) -> pb.Experiment:
    """An ``experiments`` row and its tags as the API message."""
    message = pb.Experiment(experiment_id=str(row.experiment_id), name=row.name,
                            lifecycle_stage=row.lifecycle_stage,
                            creation_time_ms=row.created_time_ms,
                            last_update_time_ms=row.last_update_time_ms, tags=tags)
    if row.retention_days is not None:
        message.retention_days = row.retention_days
    return message


def create_experiment(engine: Engine, name: str, tags: dict[str, str]) -> pb.Experiment:
    """A new experiment; AlreadyExistsError when the name is taken."""
    _check_name(name)
    for key in tags:
        check_key(key, "experiment tag key")
    now = int(time.time() * 1000)
    try:
        with write_transaction(engine) as connection:
            experiment_id = connection.execute(
                insert(Experiment.__table__)
                .values(name=name, lifecycle_stage="active", created_time_ms=now,
                        last_update_time_ms=now)
                .returning(_E.experiment_id)).scalar_one()
            if tags:
                connection.execute(insert(_TAGS), [
                    {"experiment_id": experiment_id, "key": k, "value": v}
                    for k, v in tags.items()])
    except IntegrityError:
        with engine.connect() as connection:
            existing = connection.scalar(select(_E.experiment_id).where(_E.name == name))
        if existing is None:
            raise
        raise AlreadyExistsError(f"an experiment named {name!r} already exists (id "
                                 f"{existing}); fetch it with GetExperimentByName or choose "
                                 "another name") from None
    return get_experiment(engine, str(experiment_id))


def get_experiment(engine: Engine, experiment_id: str) -> pb.Experiment:
    """The experiment with this id; NotFoundError when there is none."""
    number = parse_experiment_id(experiment_id)
    with engine.connect() as connection:
        found = _experiments(connection, select(Experiment.__table__)
                             .where(_E.experiment_id == number))
    if not found:
        raise NotFoundError(f"experiment {experiment_id} not found; list experiments with "
                            "SearchExperiments (`spyglass experiments list`)")
    return found[0]


def get_experiment_by_name(engine: Engine, name: str) -> pb.Experiment:
    """The experiment with exactly this name; NotFoundError when there is none."""
    with engine.connect() as connection:
        found = _experiments(connection, select(Experiment.__table__).where(_E.name == name))
    if not found:
        raise NotFoundError(f"no experiment is named {name!r} (names are case-sensitive); "
                            "create it with CreateExperiment or spyglass.set_experiment")
    return found[0]


def search_experiments(engine: Engine, filter_text: str, order_by: Sequence[str],
                       max_results: int, page_token: str) -> tuple[list[pb.Experiment], str]:
    """One page of experiments matching ``filter_text`` and the token for the next page."""
    if max_results < 0:
        raise InvalidArgumentError(f"max_results must not be negative, got {max_results}")
    limit = min(max_results or SEARCH_DEFAULT, SEARCH_MAX)
    dialect = engine.dialect.name
    conditions = parse_filter(filter_text, dialect)
    keys = _sort_keys(order_by, dialect)
    search = fingerprint("experiments", filter_text, list(order_by))
    query = select(Experiment.__table__).where(*conditions)
    return keyset_page(engine, query, keys, search, page_token, limit, _with_tags)


def set_retention(engine: Engine, experiment_id: str, days: int | None) -> pb.Experiment:
    """Keep the experiment's traces ``days`` days (None: use the collector's setting)."""
    number = parse_experiment_id(experiment_id)
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise InvalidArgumentError(f"retention_days must be between 1 and "
                                   f"{MAX_RETENTION_DAYS}, got {days}; leave it unset to keep "
                                   "traces forever")
    with write_transaction(engine) as connection:
        changed = connection.execute(
            update(Experiment.__table__).where(_E.experiment_id == number)
            .values(retention_days=days, last_update_time_ms=int(time.time() * 1000))).rowcount
    if not changed:
        raise NotFoundError(f"experiment {experiment_id} not found; list experiments with "
                            "SearchExperiments (`spyglass experiments list`)")
    return get_experiment(engine, experiment_id)


def retention_policies(connection: Connection) -> list[tuple[int, int | None]]:
    """(experiment_id, retention_days or None) of every experiment."""
    query = select(_E.experiment_id, _E.retention_days).order_by(_E.experiment_id)
    return [(row.experiment_id, row.retention_days) for row in connection.execute(query)]


# -- helpers -----------------------------------------------------------------------------

def _check_name(name: str) -> None:
    if not name.strip():
        raise InvalidArgumentError("an experiment name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidArgumentError(f"experiment name {name[:40]!r}… is {len(name)} characters "
                                   f"long; the limit is {MAX_NAME_LENGTH}")


def _experiments(connection: Connection, query: Any) -> list[pb.Experiment]:
    return _with_tags(connection, connection.execute(query).all())


def _with_tags(connection: Connection, rows: Sequence[Any]) -> list[pb.Experiment]:
    """Messages for experiment rows, their tags read in one query."""
    if not rows:
        return []
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    query = (select(_TAGS.c.experiment_id, _TAGS.c.key, _TAGS.c.value)
             .where(_TAGS.c.experiment_id.in_([row.experiment_id for row in rows])))
    for experiment_id, key, value in connection.execute(query):
        if value is not None:
            tags[experiment_id][key] = value
    return [experiment_message(row, tags.get(row.experiment_id, {})) for row in rows]


def _sort_keys(order_by: Sequence[str], dialect: str) -> list[SortKey]:
    return parse_sort_keys(order_by, _ORDER_FIELDS, _E.experiment_id, "experiments", dialect)


# -- the filter ----------------------------------------------------------------------------

_CONDITION = re.compile(
    r"""\s*(?P<field>name|tags?\.(?:`(?:[^`]|``)+`|[A-Za-z0-9_][A-Za-z0-9_.\-]*))
        \s*(?P<op>!=|<>|=|ILIKE\b|LIKE\b)
        \s*(?P<value>'(?:[^']|'')*'|"(?:[^"]|"")*")\s*""", re.IGNORECASE | re.VERBOSE)
_AND = re.compile(r"AND\b", re.IGNORECASE)


def parse_filter(text: str, dialect: str) -> list[ColumnElement[bool]]:
    """The conditions of an experiment filter (module docstring); InvalidFilterError with a
    caret under the spot otherwise."""
    conditions: list[ColumnElement[bool]] = []
    pos = 0
    _check_size(text)
    if not text.strip():
        return conditions
    while True:
        match = _CONDITION.match(text, pos)
        if match is None:
            raise _filter_error(text, pos, "expected a condition: name or tags.<key>, then =, "
                                           "!=, LIKE or ILIKE, then a quoted value")
        if len(conditions) == MAX_CONDITIONS:
            raise _filter_error(text, pos, f"more than {MAX_CONDITIONS} conditions")
        value = match.group("value")
        if len(value) - 2 > MAX_PATTERN_LENGTH:
            raise _filter_error(text, match.start("value"),
                                f"the value is {len(value) - 2:,} characters long; the limit "
                                f"is {MAX_PATTERN_LENGTH:,}")
        conditions.append(_condition(match, dialect))
        pos = match.end()
        if pos == len(text):
            break
        and_match = _AND.match(text, pos)
        if and_match is None:
            raise _filter_error(text, pos, "expected AND or the end of the filter")
        pos = and_match.end()
    return conditions


def _check_size(text: str) -> None:
    """The limits trace filters have (filters.py): length and Unicode text only."""
    if len(text) > MAX_FILTER_LENGTH:
        raise _filter_error(text, MAX_FILTER_LENGTH, f"the filter is {len(text):,} characters "
                                                     f"long; the limit is {MAX_FILTER_LENGTH:,}")
    surrogate = SURROGATE.search(text)
    if surrogate:
        raise _filter_error(text, surrogate.start(), not_unicode(surrogate.group()))


def _condition(match: re.Match[str], dialect: str) -> ColumnElement[bool]:
    field, op = match.group("field"), match.group("op").upper()
    quoted = match.group("value")
    value = quoted[1:-1].replace(quoted[0] * 2, quoted[0])
    if field.lower() == "name":
        return _compare(_E.name, op, value, dialect)
    key = field.split(".", 1)[1]
    if key.startswith("`"):
        key = key[1:-1].replace("``", "`")
    tag = _TAGS.c
    return exists().where(tag.experiment_id == _E.experiment_id, tag.key == key,
                          _compare(tag.value, op, value, dialect))


def _compare(expr: ColumnElement, op: str, value: str, dialect: str) -> ColumnElement[bool]:
    if op == "=":
        return expr == value
    if op in ("!=", "<>"):
        return expr != value
    if dialect == "postgresql":
        return expr.like(value) if op == "LIKE" else expr.ilike(value)
    if op == "ILIKE":  # SQLite's LIKE ignores ASCII case
        return expr.like(value, escape="\\")
    return expr.op("GLOB")(_like_to_glob(value))


def _like_to_glob(pattern: str) -> str:
    """A LIKE pattern (backslash escapes) as SQLite's case-sensitive GLOB."""
    def literal(char: str) -> str:
        return f"[{char}]" if char in "*?[" else char

    out, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(literal(next(chars, "\\")))
        else:
            out.append({"%": "*", "_": "?"}.get(char) or literal(char))
    return "".join(out)


def _filter_error(text: str, pos: int, reason: str) -> InvalidFilterError:
    rest = text[pos:].strip()
    found = repr(rest[:30]) if rest else "the end of the filter"
    line, column = snippet(text, pos)
    message = f"invalid experiment filter: {reason}, found {found}\n  {line}\n  {' ' * column}^"
    return InvalidFilterError(message, text=text, position=pos, reason=reason)
