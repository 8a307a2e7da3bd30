"""SearchDatasets' filters and sort keys, in the trace filter language.

Same grammar, operators, literals and error carets as trace search
(:mod:`spyglass.collector.store.traces.filters`: ``AND``/``OR``/``NOT``, parentheses,
``LIKE``/``ILIKE``, ``IN``, ``IS NULL``), over the dataset fields::

    name, dataset_id, digest, created_by, last_updated_by     text
    create_time, last_update_time (ms; also created_time)     numbers
    record_count, version                                     numbers
    tags.<key> / tag.<key>                                    a tag's value

e.g. ``name LIKE 'qa%' AND tags.stage = 'validation' AND create_time > 1700000000000``.
A tag compares as in trace search: a number literal compares numerically, and
``tags.k IS NULL`` means the dataset has no tag ``k``. Sort keys are ``name``,
``create_time``, ``last_update_time`` and ``record_count``, each ``ASC`` or ``DESC``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_

from spyglass.collector.store.models import DatasetRow, DatasetTag
from spyglass.collector.store.paging import SortKey, parse_sort_keys
from spyglass.collector.store.traces.filters import (
    KEY_VALUE_KIND,
    NUMBER_KIND,
    TEXT_KIND,
    TIME_KIND,
    Comparison,
    Compiler,
    Field,
    FieldSet,
    Kind,
    parse_filter,
)
from spyglass.collector.store.traces.probes import Probe

_DATASETS = DatasetRow.__table__
_D = _DATASETS.c
_TAGS = DatasetTag.__table__

COLUMNS: dict[str, tuple[ColumnElement, Kind]] = {
    "name": (_D.name, TEXT_KIND),
    "dataset_id": (_D.dataset_id, TEXT_KIND),
    "digest": (_D.digest, TEXT_KIND),
    "created_by": (_D.created_by, TEXT_KIND),
    "last_updated_by": (_D.last_updated_by, TEXT_KIND),
    "create_time": (_D.created_time_ms, TIME_KIND),
    "last_update_time": (_D.last_update_time_ms, TIME_KIND),
    "record_count": (_D.record_count, NUMBER_KIND),
    "version": (_D.version, NUMBER_KIND),
}
_ALIASES = {"created_time": "create_time", "creation_time": "create_time"}
SORTABLE = ("name", "create_time", "last_update_time", "record_count")
_SORT_COLUMNS = {name: COLUMNS[name][0] for name in SORTABLE}
HELP = f"{', '.join(COLUMNS)} or tags.<key> (quote unusual keys in backticks: tags.`my key`)"


def _resolve(segments: tuple[tuple[str, bool], ...]) -> Field | None:
    (head, quoted), rest = segments[0], segments[1:]
    if quoted:
        return None
    name = _ALIASES.get(head.lower(), head.lower())
    if not rest:
        return Field("dataset", name) if name in COLUMNS else None
    if name in ("tags", "tag"):
        return Field("tag", ".".join(text for text, _ in rest))
    return None


def _kind_of(field: Field) -> Kind:
    return COLUMNS[field.name][1] if field.kind == "dataset" else KEY_VALUE_KIND


def _unknown(spelling: str) -> str:
    return f"unknown field '{spelling}'; dataset filters use {HELP}"


FIELDS = FieldSet(
    _resolve,
    _kind_of,
    _unknown,
    example="a field such as name or tags.stage",
)


class _DatasetCompiler(Compiler):
    """The shared compiler with the dataset fields' comparisons."""

    def comparison(self, c: Comparison) -> ColumnElement[bool] | Probe:
        if c.field.kind == "tag":

            def exists(condition: ColumnElement[bool]) -> Probe:
                return Probe(
                    "dataset_tag",
                    _TAGS.c.dataset_id,
                    _D.dataset_id,
                    (and_(_TAGS.c.key == c.field.name, condition),),
                )

            return self.presence(exists, _TAGS.c.value, c, self.value_condition)
        column, kind = COLUMNS[c.field.name]
        if c.op == "IS NULL":
            return column.is_(None)
        if c.op == "IS NOT NULL":
            return column.is_not(None)
        if kind.name == "number":  # NUMBER_KIND or TIME_KIND
            return self.number_condition(column, c.op, c.value)
        return column.is_not(None) & self.text_condition(column, c.op, c.value)


def compile_filter(text: str, dialect: str) -> ColumnElement[bool] | None:
    """The filter as one condition over ``datasets`` (None when empty); InvalidFilterError
    with a caret under the spot when it does not parse or names an unknown field."""
    node = parse_filter(text, FIELDS)
    return None if node is None else _DatasetCompiler(dialect).node(node)


def sort_keys(order_by: Sequence[str], dialect: str) -> list[SortKey]:
    """The ORDER BY keys, ending with dataset_id for a stable order; default
    last_update_time DESC."""
    return parse_sort_keys(
        order_by or ["last_update_time DESC"],
        _SORT_COLUMNS,
        _D.dataset_id,
        "datasets",
        dialect,
        aliases=_ALIASES,
    )
