"""Conditions on related rows ("the trace has a tag env = 'prod'", "some span is an LLM
span"), kept symbolic until a whole filter is compiled so that they cost one subquery per
related table rather than one per condition.

A filter compiler returns :class:`Probe` objects for such conditions and joins them with
:func:`combine`; :func:`render` turns the result into SQL. Two rewrites keep a filter's
cost close to linear in its size:

* Probes over the same rows are merged: ``EXISTS(a) OR EXISTS(b)`` is ``EXISTS(a OR b)``
  and ``NOT EXISTS(a) AND NOT EXISTS(b)`` is ``NOT EXISTS(a OR b)``. An OR of 256 tag
  conditions becomes one subquery.
* A statement with more than :data:`MAX_CORRELATED` subqueries gets a form each store runs
  in linear time. SQLite runs each as an uncorrelated ``key IN (SELECT …)``: it opens a
  cursor each time it evaluates a correlated subquery, and opening one walks every cursor
  already open on the file, so each evaluation costs time in proportion to the number of
  subqueries in the statement (256 of them on 3,000 traces took 12 s where 32 took 0.3 s),
  while an uncorrelated subquery is evaluated once per statement. PostgreSQL keeps them
  correlated but written ``EXISTS (…) IS TRUE``, which its planner does not turn into a
  join: planning a join of hundreds of semi-joins took longer than running the query
  (0.5 s at 32 conditions, 2.3 s at 64, over 20 s at 256). With few subqueries both stores
  get plain correlated ``EXISTS``, the form that stops scanning related rows as soon as a
  page of results is full and that PostgreSQL may turn into a semi-join.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, literal_column, not_, or_, select, true

MAX_CORRELATED = 8
FORMS = ("exists", "exists_unjoined", "in")  # see render()


@dataclass(frozen=True, slots=True)
class Probe:
    """True when some row of a related table satisfies one of ``conditions``
    (``negated``: when none does).

    ``link`` is the related table's column holding the searched row's key ``outer`` (e.g.
    ``trace_tags.trace_id`` and ``traces.trace_id``); ``source`` is what to select from when
    that is more than ``link``'s table (a join); ``group`` names the rows probed, and only
    probes of one group are merged, so it must identify ``link`` and ``source`` together.
    """

    group: str
    link: ColumnElement
    outer: ColumnElement
    conditions: tuple[ColumnElement[bool], ...]
    source: Any = None
    negated: bool = False

    def negate(self) -> Probe:
        return dataclasses.replace(self, negated=not self.negated)

    def merge(self, other: Probe) -> Probe:
        """The probe true when either is, for two probes of one group and polarity."""
        return dataclasses.replace(self, conditions=self.conditions + other.conditions)

    def render(self, form: str) -> ColumnElement[bool]:
        """SQL in one of :data:`FORMS`."""
        condition = or_(*self.conditions) if len(self.conditions) > 1 else self.conditions[0]
        if form == "in":
            query = select(self.link).where(condition)
        else:
            query = select(literal_column("1")).where(self.link == self.outer, condition)
        if self.source is not None:
            query = query.select_from(self.source)
        found: ColumnElement[bool]
        if form == "in":
            found = self.outer.in_(query)
        else:
            found = query.correlate(self.outer.table).exists()
            if form == "exists_unjoined":
                found = found.is_(true())
        return not_(found) if self.negated else found


@dataclass(frozen=True, slots=True)
class Group:
    """Parts joined by AND (``conjunction``) or OR, not yet rendered. ``negation``, when
    given, is an equivalent of the group's NOT that is cheaper than De Morgan's."""

    conjunction: bool
    parts: tuple[Part, ...]
    negation: Part | None = None


Part = ColumnElement[bool] | Probe | Group


def negate(part: Part) -> Part:
    """NOT of a comparison's compiled form (a group by De Morgan's laws)."""
    if isinstance(part, Group):
        if part.negation is not None:
            return part.negation
        return Group(not part.conjunction, tuple(negate(p) for p in part.parts))
    return part.negate() if isinstance(part, Probe) else not_(part)


def combine(conjunction: bool, parts: Sequence[Part]) -> Part:
    """``parts`` joined by AND (``conjunction``) or OR, merging what can be merged: under
    OR the probes that look for a row, under AND those that look for its absence."""
    out: list[Part] = []
    merged_at: dict[str, tuple[int, Probe]] = {}  # group -> where its probe is, the probe
    for part in parts:
        if isinstance(part, Probe) and part.negated == conjunction:
            found = merged_at.get(part.group)
            if found is not None:
                at, probe = found
                merged = probe.merge(part)
                out[at], merged_at[part.group] = merged, (at, merged)
                continue
            merged_at[part.group] = (len(out), part)
        out.append(part)
    return out[0] if len(out) == 1 else Group(conjunction, tuple(out))


def count(part: Part) -> int:
    """How many subqueries ``part`` renders to."""
    if isinstance(part, Probe):
        return 1
    if isinstance(part, Group):
        return sum(count(p) for p in part.parts)
    return 0


def render(part: Part, postgres: bool) -> ColumnElement[bool]:
    """SQL for ``part``, its subqueries in the form that suits their number and the store
    (module docstring)."""
    if count(part) > MAX_CORRELATED:
        return _render(part, "exists_unjoined" if postgres else "in")
    return _render(part, "exists")


def _render(part: Part, form: str) -> ColumnElement[bool]:
    if isinstance(part, Probe):
        return part.render(form)
    if isinstance(part, Group):
        rendered = [_render(p, form) for p in part.parts]
        return and_(*rendered) if part.conjunction else or_(*rendered)
    return part
