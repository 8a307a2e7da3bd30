"""The write path's SQL, built once per dialect from the models' tables.

The hot path runs these through the raw DBAPI cursor (SQLAlchemy's Core compiler would cost
more per batch than the insert itself). Column lists come from the models, so the schema
still has one source of truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import BigInteger, Float, Integer, SmallInteger, String
from sqlalchemy.types import TypeEngine

from spyglass.collector.store.models import SpanLogEvent, SpanRow

TRACE_COLUMNS: tuple[str, ...] = (
    "trace_id",
    "experiment_id",
    "experiment_rank",
    "name",
    "root_span_id",
    "status",
    "start_time_ns",
    "end_time_ns",
    "request_preview",
    "response_preview",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "span_count",
    "error_count",
    "session_id",
    "user_id",
    "created_at_ns",
    "last_span_at_ns",
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
    return ", ".join(
        [
            f"experiment_id = CASE WHEN {x}.experiment_rank > {t}.experiment_rank OR "
            f"({x}.experiment_rank = {t}.experiment_rank AND {x}.experiment_id < {t}.experiment_id)"
            f" THEN {x}.experiment_id ELSE {t}.experiment_id END",
            f"experiment_rank = {greatest}({t}.experiment_rank, {x}.experiment_rank)",
            *(
                f"{c} = " + root_pick % (c, c)
                for c in ("name", "status", "request_preview", "response_preview")
            ),
            f"root_span_id = COALESCE({t}.root_span_id, {x}.root_span_id)",
            f"start_time_ns = {least}(COALESCE({t}.start_time_ns, {x}.start_time_ns), "
            f"COALESCE({x}.start_time_ns, {t}.start_time_ns))",
            f"end_time_ns = {greatest}(COALESCE({t}.end_time_ns, {x}.end_time_ns), "
            f"COALESCE({x}.end_time_ns, {t}.end_time_ns))",
            *(
                f"{c} = {t}.{c} + {x}.{c}"
                for c in (
                    "input_tokens",
                    "output_tokens",
                    "total_tokens",
                    "cost",
                    "span_count",
                    "error_count",
                )
            ),
            f"session_id = COALESCE({t}.session_id, {x}.session_id)",
            f"user_id = COALESCE({t}.user_id, {x}.user_id)",
            f"last_span_at_ns = {greatest}({t}.last_span_at_ns, {x}.last_span_at_ns)",
        ]
    )


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
    create_staging = (
        "CREATE TEMP TABLE IF NOT EXISTS spans_staging "
        "(LIKE spans INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )

    @cached_property
    def copy_into_staging(self) -> str:
        """Binary COPY: PostgreSQL takes each value as sent, without parsing text (the
        span rows are mostly long JSON strings) and the driver need not escape them."""
        return f"COPY spans_staging ({self._names}) FROM STDIN (FORMAT BINARY)"

    @cached_property
    def staging_types(self) -> list[str]:
        """The PostgreSQL type of each span column, in order: a binary COPY sends every
        value in its column's own encoding."""
        return [_binary_type(c.type) for c in SpanRow.__table__.columns]

    @cached_property
    def insert_from_staging(self) -> str:
        """Move staged spans into ``spans``, skipping stored ones; returns the new keys."""
        return (
            f"INSERT INTO spans ({self._names}) SELECT {self._names} FROM spans_staging "
            "ON CONFLICT (trace_id, span_id) DO NOTHING RETURNING trace_id, span_id"
        )

    @cached_property
    def insert_spans_each(self) -> str:
        """One span per execution (for executemany); spans already stored are skipped."""
        names = self._names
        values = ", ".join([self.param] * len(SpanRow.__table__.columns))
        return (
            f"INSERT INTO spans ({names}) VALUES ({values}) "
            "ON CONFLICT (trace_id, span_id) DO NOTHING"
        )

    def span_keys_of_traces(self, n_traces: int) -> str:
        """(trace_id, span_id) of the stored spans of ``n_traces`` traces."""
        marks = ", ".join([self.param] * n_traces)
        return f"SELECT trace_id, span_id FROM spans WHERE trace_id IN ({marks})"

    @cached_property
    def upsert_trace(self) -> str:
        least, greatest = ("min", "max") if self.dialect == "sqlite" else ("LEAST", "GREATEST")
        values = ", ".join([self.param] * len(TRACE_COLUMNS))
        return (
            f"INSERT INTO traces ({', '.join(TRACE_COLUMNS)}) VALUES ({values}) "
            f"ON CONFLICT (trace_id) DO UPDATE SET {_trace_merge(least, greatest)}"
        )

    def upsert_key_value(self, table: str) -> str:
        p = self.param
        return (
            f"INSERT INTO {table} (trace_id, key, value) VALUES ({p}, {p}, {p}) "
            "ON CONFLICT (trace_id, key) DO UPDATE SET value = excluded.value"
        )

    @cached_property
    def create_experiment(self) -> str:
        p = self.param
        return (
            "INSERT INTO experiments (name, lifecycle_stage, created_time_ms, "
            f"last_update_time_ms) VALUES ({p}, 'active', {p}, {p}) "
            "ON CONFLICT (name) DO NOTHING"
        )

    @cached_property
    def experiment_by_name(self) -> str:
        return f"SELECT experiment_id FROM experiments WHERE name = {self.param}"

    @cached_property
    def experiment_by_id(self) -> str:
        return f"SELECT experiment_id FROM experiments WHERE experiment_id = {self.param}"

    # --- log records of spans (traces/log_events.py) --------------------------------------

    any_log_event = "SELECT 1 FROM span_log_events LIMIT 1"

    @cached_property
    def insert_log_event(self) -> str:
        columns = [c.name for c in SpanLogEvent.__table__.columns]
        values = ", ".join([self.param] * len(columns))
        return (
            f"INSERT INTO span_log_events ({', '.join(columns)}) VALUES ({values}) "
            "ON CONFLICT (trace_id, span_id, record_key) DO NOTHING"
        )

    _LOG_COLUMNS = ("trace_id", "span_id", "kind", "time_unix_nano", "seq", "record_key", "content")
    _SPAN_COLUMNS = (
        "trace_id",
        "span_id",
        "parent_span_id",
        "inputs",
        "outputs",
        "attributes",
        "events",
    )

    def _lookup(
        self, columns: tuple[str, ...], table: str, keys: tuple[str, ...], n_keys: int
    ) -> str:
        """``columns`` of the rows of ``table`` matching any of ``n_keys`` key tuples (values
        of ``keys``), one index probe per tuple; parameters from :meth:`key_params`.

        On PostgreSQL the probe is a LATERAL subquery behind ``OFFSET 0``, so the primary
        key index is used even before the table has statistics (right after a bulk load
        the planner would otherwise scan the whole table).
        """
        names = ", ".join(f"x.{c}" for c in columns)
        if self.dialect == "postgresql":
            arrays = ", ".join(["%s::text[]"] * len(keys))
            where = " AND ".join(f"y.{k} = p.{k}" for k in keys)
            return (
                f"SELECT {names} FROM unnest({arrays}) AS p({', '.join(keys)}) "
                f"JOIN LATERAL (SELECT {', '.join(columns)} FROM {table} y "
                f"WHERE {where} OFFSET 0) x ON true"
            )
        row = "(" + ", ".join(["?"] * len(keys)) + ")"
        on = " AND ".join(f"x.{k} = p.{k}" for k in keys)
        return (
            f"WITH p({', '.join(keys)}) AS (VALUES {', '.join([row] * n_keys)}) "
            f"SELECT {names} FROM p JOIN {table} x ON {on}"
        )

    def key_params(self, key_tuples: Sequence[tuple[str, ...]]) -> list:
        """Parameters of a :meth:`_lookup` statement for these key tuples."""
        if self.dialect == "postgresql":
            return [list(column) for column in zip(*key_tuples)]
        return [value for key in key_tuples for value in key]

    def log_events_of(self, n_pairs: int) -> str:
        """Rows of (trace_id, span_id) pairs."""
        return self._lookup(self._LOG_COLUMNS, "span_log_events", ("trace_id", "span_id"), n_pairs)

    def log_events_of_traces(self, n_traces: int) -> str:
        """Rows of whole traces, one probe per trace (callers filter the spans they want);
        key tuples ``(trace_id,)``."""
        return self._lookup(self._LOG_COLUMNS, "span_log_events", ("trace_id",), n_traces)

    def spans_of(self, n_pairs: int) -> str:
        return self._lookup(self._SPAN_COLUMNS, "spans", ("trace_id", "span_id"), n_pairs)

    @cached_property
    def update_span_content(self) -> str:
        p = self.param
        return (
            f"UPDATE spans SET inputs = {p}, outputs = {p}, events = {p} "
            f"WHERE trace_id = {p} AND span_id = {p}"
        )

    @cached_property
    def update_root_previews(self) -> str:
        p = self.param
        return (
            f"UPDATE traces SET request_preview = {p}, response_preview = {p} "
            f"WHERE trace_id = {p} AND root_span_id = {p}"
        )

    # PostgreSQL: a log writer takes each trace's row lock (inserting a row without spans
    # where none exists yet, deleted again before COMMIT), so that it and a span writer of
    # the same trace run one after the other, never both unaware of each other.
    lock_traces = (
        "INSERT INTO traces (trace_id, experiment_id, experiment_rank, status, input_tokens, "
        "output_tokens, total_tokens, cost, span_count, error_count, created_at_ns, "
        "last_span_at_ns) SELECT t, 0, 0, 'IN_PROGRESS', 0, 0, 0, 0, 0, 0, %s, %s "
        "FROM unnest(%s::text[]) AS t ORDER BY t "
        "ON CONFLICT (trace_id) DO UPDATE SET last_span_at_ns = traces.last_span_at_ns "
        "RETURNING trace_id, span_count"
    )
    drop_trace_placeholders = "DELETE FROM traces WHERE trace_id = ANY(%s) AND span_count = 0"

    @cached_property
    def purge_log_events(self) -> str:
        """Delete up to a number of rows received before a time (parameters: time, limit)."""
        p = self.param
        return (
            "DELETE FROM span_log_events WHERE (trace_id, span_id, record_key) IN "
            "(SELECT trace_id, span_id, record_key FROM span_log_events "
            f"WHERE received_at_ns < {p} LIMIT {p})"
        )


def _binary_type(column_type: TypeEngine) -> str:
    for kind, name in _BINARY_TYPES:
        if isinstance(column_type, kind):
            return name
    raise TypeError(f"no binary COPY type for column type {column_type!r}")


# SmallInteger and BigInteger subclass Integer: the narrower types come first
_BINARY_TYPES: tuple[tuple[type, str], ...] = (
    (SmallInteger, "int2"),
    (BigInteger, "int8"),
    (Integer, "int4"),
    (Float, "float8"),
    (String, "text"),  # Text too; text and varchar share their binary encoding
)

SQLITE = Statements("sqlite", "?")
POSTGRES = Statements("postgresql", "%s")


def for_dialect(name: str) -> Statements:
    return SQLITE if name == "sqlite" else POSTGRES
