"""The write path's SQL, built once per dialect from the models' tables.

The hot path runs these through the raw DBAPI cursor (SQLAlchemy's Core compiler would cost
more per batch than the insert itself). Column lists come from the models, so the schema
still has one source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from spyglass.collector.store.models import SpanRow

TRACE_COLUMNS: tuple[str, ...] = (
    "trace_id", "experiment_id", "experiment_rank", "name", "root_span_id", "status",
    "start_time_ns", "end_time_ns", "request_preview", "response_preview", "input_tokens",
    "output_tokens", "total_tokens", "cost", "span_count", "error_count", "session_id",
    "user_id", "created_at_ns", "last_span_at_ns",
)

def _trace_merge(least: str, greatest: str) -> str:
    """The ON CONFLICT clause that merges a batch's aggregate into the stored trace row.

    Every rule is commutative, so the row ends the same whatever order spans arrive in and
    however writers interleave: MIN/MAX for times, sums for counts (the batch counts only
    spans it newly inserted), the first root span for root fields, the highest-ranked
    experiment (lowest id on a tie).
    """
    t, x = "traces", "excluded"
    root_pick = f"CASE WHEN {t}.root_span_id IS NULL THEN {x}.%s ELSE {t}.%s END"
    return ", ".join([
        f"experiment_id = CASE WHEN {x}.experiment_rank > {t}.experiment_rank OR "
        f"({x}.experiment_rank = {t}.experiment_rank AND {x}.experiment_id < {t}.experiment_id)"
        f" THEN {x}.experiment_id ELSE {t}.experiment_id END",
        f"experiment_rank = {greatest}({t}.experiment_rank, {x}.experiment_rank)",
        *(f"{c} = " + root_pick % (c, c)
          for c in ("name", "status", "request_preview", "response_preview")),
        f"root_span_id = COALESCE({t}.root_span_id, {x}.root_span_id)",
        f"start_time_ns = {least}(COALESCE({t}.start_time_ns, {x}.start_time_ns), "
        f"COALESCE({x}.start_time_ns, {t}.start_time_ns))",
        f"end_time_ns = {greatest}(COALESCE({t}.end_time_ns, {x}.end_time_ns), "
        f"COALESCE({x}.end_time_ns, {t}.end_time_ns))",
        *(f"{c} = {t}.{c} + {x}.{c}" for c in ("input_tokens", "output_tokens", "total_tokens",
                                               "cost", "span_count", "error_count")),
        f"session_id = COALESCE({t}.session_id, {x}.session_id)",
        f"user_id = COALESCE({t}.user_id, {x}.user_id)",
        f"last_span_at_ns = {greatest}({t}.last_span_at_ns, {x}.last_span_at_ns)",
    ])


@dataclass(frozen=True)
class Statements:
    """SQL text for one dialect (``param`` is the DBAPI placeholder), each built once: the
    writer asks for them on every batch."""

    dialect: str
    param: str

    @cached_property
    def _names(self) -> str:
        return ", ".join(c.name for c in SpanRow.__table__.columns)

    # PostgreSQL bulk path: COPY into a staging table, then INSERT … SELECT from it
    create_staging = ("CREATE TEMP TABLE IF NOT EXISTS spans_staging "
                      "(LIKE spans INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")

    @cached_property
    def copy_into_staging(self) -> str:
        return f"COPY spans_staging ({self._names}) FROM STDIN"

    @cached_property
    def insert_from_staging(self) -> str:
        """Move staged spans into ``spans``, skipping stored ones; returns the new keys."""
        return (f"INSERT INTO spans ({self._names}) SELECT {self._names} FROM spans_staging "
                "ON CONFLICT (trace_id, span_id) DO NOTHING RETURNING trace_id, span_id")

    @cached_property
    def insert_spans_each(self) -> str:
        """One span per execution (for executemany); spans already stored are skipped."""
        names = self._names
        values = ", ".join([self.param] * len(SpanRow.__table__.columns))
        return (f"INSERT INTO spans ({names}) VALUES ({values}) "
                "ON CONFLICT (trace_id, span_id) DO NOTHING")

    def span_keys_of_traces(self, n_traces: int) -> str:
        """(trace_id, span_id) of the stored spans of ``n_traces`` traces."""
        marks = ", ".join([self.param] * n_traces)
        return f"SELECT trace_id, span_id FROM spans WHERE trace_id IN ({marks})"

    @cached_property
    def upsert_trace(self) -> str:
        least, greatest = ("min", "max") if self.dialect == "sqlite" else ("LEAST", "GREATEST")
        values = ", ".join([self.param] * len(TRACE_COLUMNS))
        return (f"INSERT INTO traces ({', '.join(TRACE_COLUMNS)}) VALUES ({values}) "
                f"ON CONFLICT (trace_id) DO UPDATE SET {_trace_merge(least, greatest)}")

    def upsert_key_value(self, table: str) -> str:
        p = self.param
        return (f"INSERT INTO {table} (trace_id, key, value) VALUES ({p}, {p}, {p}) "
                "ON CONFLICT (trace_id, key) DO UPDATE SET value = excluded.value")

    @cached_property
    def create_experiment(self) -> str:
        p = self.param
        return ("INSERT INTO experiments (name, lifecycle_stage, created_time_ms, "
                f"last_update_time_ms) VALUES ({p}, 'active', {p}, {p}) "
                "ON CONFLICT (name) DO NOTHING")

    @cached_property
    def experiment_by_name(self) -> str:
        return f"SELECT experiment_id FROM experiments WHERE name = {self.param}"

    @cached_property
    def experiment_by_id(self) -> str:
        return f"SELECT experiment_id FROM experiments WHERE experiment_id = {self.param}"


SQLITE = Statements("sqlite", "?")
POSTGRES = Statements("postgresql", "%s")


def for_dialect(name: str) -> Statements:
    return SQLITE if name == "sqlite" else POSTGRES
