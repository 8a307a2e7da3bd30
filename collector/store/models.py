"""The store's schema as typed SQLAlchemy 2 ORM models: experiments, traces with their
spans, tags, metadata, assessments and span log events; datasets with their versions,
records and record history; evaluation runs with their records and results; evaluation
jobs with their items, chunks, workers and monitors; human-review queues with their items
and skips.

The models are the single source of truth for table and column names: migrations create
exactly these tables (a test compares them), and the write path builds its Core statements
from ``Model.__table__``. JSON-valued columns are TEXT holding JSON, so both SQLite and
PostgreSQL store them as written without a per-row parse on the hot path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
Id64 = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The models' declarative base: their shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING)

    if TYPE_CHECKING:
        # Every model names a ``__tablename__``, so each maps one ``Table`` (which has
        # insert/update/delete), not the wider ``FromClause`` that DeclarativeBase allows.
        __table__: ClassVar[Table]


class Experiment(Base):
    """A named group of traces (an app, a version, a team)."""

    __tablename__ = "experiments"

    experiment_id: Mapped[int] = mapped_column(Id64, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(256), unique=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="active")
    created_time_ms: Mapped[int] = mapped_column(BigInteger)
    last_update_time_ms: Mapped[int] = mapped_column(BigInteger)
    # traces that started more than this many days ago are deleted; None: the collector's
    # global --retention-days (or kept forever when that is unset too)
    retention_days: Mapped[int | None] = mapped_column(Integer)


class ExperimentTag(Base):
    """A free-form label on an experiment (team, app version, owner)."""

    __tablename__ = "experiment_tags"

    experiment_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class TraceRow(Base):
    """One row per trace, merged from its spans whatever order they arrive in.

    ``id`` is an ingest sequence: assigned when the trace's first span is stored and never
    changed, so it is a stable key for paging while traces keep arriving.
    """

    __tablename__ = "traces"

    id: Mapped[int] = mapped_column(Id64, primary_key=True, autoincrement=True)
    trace_id: Mapped[str] = mapped_column(String(32), unique=True)
    experiment_id: Mapped[int] = mapped_column(BigInteger, default=0)
    # how the experiment was chosen: 3 span attribute, 2 header, 1 service.name, 0 default
    experiment_rank: Mapped[int] = mapped_column(SmallInteger, default=0)
    name: Mapped[str | None] = mapped_column(Text)
    root_span_id: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="IN_PROGRESS")
    start_time_ns: Mapped[int | None] = mapped_column(BigInteger)
    end_time_ns: Mapped[int | None] = mapped_column(BigInteger)
    request_preview: Mapped[str | None] = mapped_column(Text)
    response_preview: Mapped[str | None] = mapped_column(Text)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    total_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    span_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    session_id: Mapped[str | None] = mapped_column(String(256))
    user_id: Mapped[str | None] = mapped_column(String(256))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    last_span_at_ns: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index(None, "experiment_id", "start_time_ns"),
        Index(None, "experiment_id", "id"),
        Index(None, "session_id"),
    )


class SpanRow(Base):
    """One OTel span with its canonical GenAI fields; raw attributes are always kept."""

    __tablename__ = "spans"

    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    span_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    parent_span_id: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[int] = mapped_column(SmallInteger)
    span_type: Mapped[str] = mapped_column(String(64))
    start_time_ns: Mapped[int] = mapped_column(BigInteger)
    end_time_ns: Mapped[int] = mapped_column(BigInteger)
    status_code: Mapped[int] = mapped_column(SmallInteger)
    status_message: Mapped[str | None] = mapped_column(Text)
    inputs: Mapped[str | None] = mapped_column(Text)
    outputs: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(256))
    provider: Mapped[str | None] = mapped_column(String(128))
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    total_tokens: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[float | None] = mapped_column(Float)
    session_id: Mapped[str | None] = mapped_column(String(256))
    user_id: Mapped[str | None] = mapped_column(String(256))
    attributes: Mapped[str] = mapped_column(Text)
    events: Mapped[str | None] = mapped_column(Text)
    links: Mapped[str | None] = mapped_column(Text)
    resource: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str | None] = mapped_column(Text)
    received_at_ns: Mapped[int] = mapped_column(BigInteger)


class SpanResource(Base):
    """A resource and instrumentation scope pair (their JSON), stored once for all the spans
    that name it by ``key`` (see ``store/traces/resources.py``)."""

    __tablename__ = "span_resources"

    key: Mapped[str] = mapped_column(String(22), primary_key=True)
    resource: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str | None] = mapped_column(Text)


class _TraceKeyValue:
    """Columns of a per-trace key/value table: one row per key, so filters use indexes."""

    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (Index(None, "key", "trace_id"),)


class TraceTag(_TraceKeyValue, Base):
    """A tag on a trace (mutable labels: environment, quality, review state)."""

    __tablename__ = "trace_tags"


class TraceMetadata(_TraceKeyValue, Base):
    """A metadata entry on a trace (write-once facts: versions, ids, environment)."""

    __tablename__ = "trace_metadata"


class AssessmentRow(Base):
    """An expectation (ground truth) or feedback (a score) on a trace or one of its spans.

    No foreign key to traces: an assessment may arrive before its trace's spans and is
    attached when they come.
    """

    __tablename__ = "assessments"

    assessment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(16))  # "expectation" | "feedback"
    value: Mapped[str | None] = mapped_column(Text)  # JSON
    error: Mapped[str | None] = mapped_column(Text)  # JSON {code, message, stack}
    rationale: Mapped[str | None] = mapped_column(Text)
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(256))
    metadata_json: Mapped[str | None] = mapped_column("metadata", Text)
    run_id: Mapped[str | None] = mapped_column(String(64))
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    overrides: Mapped[str | None] = mapped_column(String(64))
    created_time_ms: Mapped[int] = mapped_column(BigInteger)
    last_update_time_ms: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index(None, "trace_id"),
        Index(None, "name", "kind", "trace_id"),
        Index(None, "run_id"),
    )


class SpanLogEvent(Base):
    """An OTLP log record that belongs to a span: GenAI events and other logs.

    Kept while the span is missing (it may arrive later, at another collector) and after,
    so that events of one span delivered in several requests are merged whole: the span's
    canonical inputs/outputs and log-derived events are recomputed from all its rows. Rows
    are deleted a day after they came (see :mod:`spyglass.collector.store.traces.log_events`).
    """

    __tablename__ = "span_log_events"

    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    span_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    # hash of the record's protobuf bytes: a re-delivered record is the same row
    record_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # message | choice | details | event
    event_name: Mapped[str | None] = mapped_column(String(256))
    time_unix_nano: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(Integer)  # position in its request (ties in time)
    content: Mapped[str] = mapped_column(Text)  # JSON
    received_at_ns: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index(None, "received_at_ns"),)


# -- evaluation datasets (migration 0004) ------------------------------------------------


class DatasetRow(Base):
    """A named, versioned evaluation dataset; ``version``, ``digest`` and ``record_count``
    describe its current records.

    ``digest_sum`` is the running sum (mod 2**256, hex) of the current records' content
    hashes: a merge adds the new hashes and subtracts the replaced ones, so the digest
    follows the content without re-reading every record.
    """

    __tablename__ = "datasets"

    dataset_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), unique=True)
    version: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(16))
    digest_sum: Mapped[str] = mapped_column(String(64))
    record_count: Mapped[int] = mapped_column(BigInteger)
    created_time_ms: Mapped[int] = mapped_column(BigInteger)
    last_update_time_ms: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(256))
    last_updated_by: Mapped[str | None] = mapped_column(String(256))


class DatasetTag(Base):
    """A label on a dataset (not versioned)."""

    __tablename__ = "dataset_tags"

    dataset_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class DatasetExperiment(Base):
    """A link between a dataset and an experiment it belongs to."""

    __tablename__ = "dataset_experiments"

    dataset_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)

    __table_args__ = (Index(None, "experiment_id", "dataset_id"),)


class DatasetVersionRow(Base):
    """What one version of a dataset holds and which change made it."""

    __tablename__ = "dataset_versions"

    dataset_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    digest: Mapped[str] = mapped_column(String(16))
    record_count: Mapped[int] = mapped_column(BigInteger)
    inserted_count: Mapped[int] = mapped_column(BigInteger)
    updated_count: Mapped[int] = mapped_column(BigInteger)
    deleted_count: Mapped[int] = mapped_column(BigInteger)
    created_time_ms: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(256))


class _DatasetRecordState:
    """The columns of one state of a dataset record (JSON columns hold JSON text).

    Record ids sort in insertion order (they start with the insert time in hex), so
    ``(dataset_id, dataset_record_id)`` is both the key and the paging order.
    """

    dataset_id: Mapped[str] = mapped_column(String(40))
    dataset_record_id: Mapped[str] = mapped_column(String(40))
    input_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical inputs
    inputs: Mapped[str] = mapped_column(Text)
    expectations: Mapped[str] = mapped_column(Text)
    outputs: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text)
    source_type: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str | None] = mapped_column(String(256))
    content_hash: Mapped[str] = mapped_column(String(64))  # what the digest sums
    version: Mapped[int] = mapped_column(BigInteger)  # the version that wrote this state
    created_time_ms: Mapped[int] = mapped_column(BigInteger)
    last_update_time_ms: Mapped[int] = mapped_column(BigInteger)


class DatasetRecordRow(_DatasetRecordState, Base):
    """A dataset's current records: one per canonical inputs."""

    __tablename__ = "dataset_records"

    __table_args__ = (
        PrimaryKeyConstraint("dataset_id", "dataset_record_id"),
        UniqueConstraint("dataset_id", "input_hash"),
    )


class DatasetRecordHistory(_DatasetRecordState, Base):
    """Replaced and deleted record states, kept so that old versions stay readable: a
    state written in ``version`` and replaced in ``superseded_in`` belongs to the
    versions in between (``version <= v < superseded_in``)."""

    __tablename__ = "dataset_record_history"

    superseded_in: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (PrimaryKeyConstraint("dataset_id", "dataset_record_id", "version"),)


class EvaluationRunRow(Base):
    """One evaluation run: what was evaluated with which scorers, its status and metrics.

    JSON columns: ``scorers`` (list of {name, source_type, source_id, aggregations}),
    ``metrics`` ({key: number or null for NaN}), ``judge_usage`` (list of per-model usage).
    """

    __tablename__ = "evaluation_runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(256))
    model_id: Mapped[str | None] = mapped_column(String(256))
    dataset_id: Mapped[str | None] = mapped_column(String(64))
    dataset_name: Mapped[str | None] = mapped_column(String(256))
    dataset_digest: Mapped[str | None] = mapped_column(String(128))
    dataset_version: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    scorers: Mapped[str] = mapped_column(Text)
    metrics: Mapped[str | None] = mapped_column(Text)
    record_count: Mapped[int] = mapped_column(BigInteger, default=0)
    error_message: Mapped[str | None] = mapped_column(Text)
    start_time_ms: Mapped[int] = mapped_column(BigInteger)
    end_time_ms: Mapped[int | None] = mapped_column(BigInteger)
    judge_input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    judge_output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    judge_cost: Mapped[float | None] = mapped_column(Float)
    judge_usage: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(None, "experiment_id", "start_time_ms"),
        Index(None, "dataset_id"),
        Index(None, "model_id"),
    )


class EvaluationRecordRow(Base):
    """One record of an evaluation run: what was scored, on which trace. Keyed by the
    record's position in the evaluated data, so a retried batch finds what it logged."""

    __tablename__ = "evaluation_records"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    row_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_record_id: Mapped[str | None] = mapped_column(String(64))
    input_hash: Mapped[str] = mapped_column(String(64))
    trace_id: Mapped[str | None] = mapped_column(String(32))
    inputs: Mapped[str] = mapped_column(Text)  # JSON object
    outputs: Mapped[str | None] = mapped_column(Text)  # JSON
    expectations: Mapped[str] = mapped_column(Text)  # JSON object
    error: Mapped[str | None] = mapped_column(Text)
    created_time_ms: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index(None, "trace_id"),)


class EvaluationResultRow(Base):
    """One score of one record of a run (per scorer, or per Feedback name a scorer gave);
    ``assessment_id`` is the feedback written on the record's trace for it."""

    __tablename__ = "evaluation_results"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    row_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)  # JSON
    score: Mapped[float | None] = mapped_column(Float)
    rationale: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)  # JSON {code, message, stack}
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(256))
    metadata_json: Mapped[str | None] = mapped_column("metadata", Text)
    assessment_id: Mapped[str | None] = mapped_column(String(64))


# -- evaluation jobs, leases, workers and monitors (migration 0006) ----------------------


class EvaluationJobRow(Base):
    """A job of the evaluator service: what it scores with which scorers, its run, its
    status. ``input`` is the JobInput message as JSON; ``scorers`` a JSON list of
    {type, params_json}. A monitor's job has ``monitor_id`` and grows as traces arrive."""

    __tablename__ = "evaluation_jobs"

    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    experiment_id: Mapped[int] = mapped_column(BigInteger)
    monitor_id: Mapped[str | None] = mapped_column(String(32))
    input: Mapped[str] = mapped_column(Text)
    scorers: Mapped[str] = mapped_column(Text)
    build_dataset: Mapped[str | None] = mapped_column(String(256))
    run_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # PENDING RUNNING FINISHED FAILED CANCELLED
    error_message: Mapped[str | None] = mapped_column(Text)
    total_rows: Mapped[int] = mapped_column(BigInteger)
    chunk_size: Mapped[int] = mapped_column(Integer)
    chunks_total: Mapped[int] = mapped_column(Integer)
    created_time_ms: Mapped[int] = mapped_column(BigInteger)
    started_time_ms: Mapped[int | None] = mapped_column(BigInteger)
    finished_time_ms: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index(None, "created_time_ms", "job_id"),
        Index(None, "status", "created_time_ms"),
        Index(None, "monitor_id"),
    )


class EvaluationJobItem(Base):
    """One row of a job, snapshotted at submit (or when a monitor takes a trace): a trace
    to score, or a dataset record with its inputs, expectations and outputs (JSON)."""

    __tablename__ = "evaluation_job_items"

    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    row_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    trace_id: Mapped[str | None] = mapped_column(String(32))
    dataset_record_id: Mapped[str | None] = mapped_column(String(64))
    inputs: Mapped[str | None] = mapped_column(Text)
    expectations: Mapped[str | None] = mapped_column(Text)
    outputs: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index(None, "job_id", "trace_id"),)


class EvaluationJobChunk(Base):
    """The rows ``first_row`` .. ``first_row + row_count - 1`` of a job, leased to one
    worker at a time. ``state``: PENDING, LEASED (``lease_*`` say to whom and until when),
    DONE, FAILED (``last_error`` says why) or CANCELLED. ``priority`` 0 (monitors) is
    claimed before 1 (jobs)."""

    __tablename__ = "evaluation_job_chunks"

    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    chunk_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_row: Mapped[int] = mapped_column(Integer)
    row_count: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(SmallInteger)
    state: Mapped[str] = mapped_column(String(16))
    created_time_ms: Mapped[int] = mapped_column(BigInteger)
    lease_id: Mapped[str | None] = mapped_column(String(32))
    lease_owner: Mapped[str | None] = mapped_column(String(256))
    lease_expires_ms: Mapped[int | None] = mapped_column(BigInteger)
    lease_seconds: Mapped[float | None] = mapped_column(Float)
    claims: Mapped[int] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_time_ms: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        Index(None, "state", "priority", "created_time_ms"),
        Index(None, "state", "lease_expires_ms"),
        Index(None, "lease_id"),
    )


class EvaluationWorker(Base):
    """An evaluator worker as its heartbeats describe it (``scorer_names``: JSON list of
    the names its --scorers-module registered)."""

    __tablename__ = "evaluation_workers"

    worker_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    concurrency: Mapped[int] = mapped_column(Integer)
    scorer_names: Mapped[str] = mapped_column(Text)
    stopping: Mapped[bool] = mapped_column(Boolean)
    first_seen_ms: Mapped[int] = mapped_column(BigInteger)
    last_seen_ms: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index(None, "last_seen_ms"),)


class MonitorRow(Base):
    """Continuous evaluation of an experiment's new traces. ``cursor`` is the ingest
    sequence (``traces.id``) up to which every trace has been looked at; ``waiting`` (a
    JSON list of ``traces.id``) holds those looked at but not decided yet; ``traces_seen``
    and ``traces_sampled`` count the complete matching traces decided and the sampled ones."""

    __tablename__ = "evaluation_monitors"

    monitor_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), unique=True)
    experiment_id: Mapped[int] = mapped_column(BigInteger)
    filter_string: Mapped[str] = mapped_column(Text)
    sample_rate: Mapped[float] = mapped_column(Float)
    scorers: Mapped[str] = mapped_column(Text)
    quiet_period_seconds: Mapped[float] = mapped_column(Float)
    enabled: Mapped[bool] = mapped_column(Boolean)
    job_id: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[str] = mapped_column(String(64))
    cursor: Mapped[int] = mapped_column(BigInteger)
    waiting: Mapped[str] = mapped_column(Text)
    traces_seen: Mapped[int] = mapped_column(BigInteger)
    traces_sampled: Mapped[int] = mapped_column(BigInteger)
    last_check_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_time_ms: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index(None, "enabled", "last_check_ms"),
        Index(None, "experiment_id"),
    )


class ReviewQueueRow(Base):
    """A human-review queue of an experiment: the traces to review (``review_items``) and the
    values asked for each (``fields``: a JSON list of {name, kind, type, options,
    description}). ``filter_string`` is the filter the traces were chosen by (NULL when
    they were given as ids)."""

    __tablename__ = "review_queues"

    queue_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(256))
    fields: Mapped[str] = mapped_column(Text)
    filter_string: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(256))
    created_time_ms: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("experiment_id", "name"),
        Index(None, "experiment_id", "created_time_ms"),
    )


class ReviewItemRow(Base):
    """One trace of a review queue. ``state``: PENDING, CLAIMED (held by ``reviewer`` until
    ``claim_expires_ms``; an expired claim is claimable again) or DONE (``reviewer`` submitted
    ``review_values``, a JSON list of {name, value_json})."""

    __tablename__ = "review_items"

    queue_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    reviewer: Mapped[str | None] = mapped_column(String(256))
    claim_expires_ms: Mapped[int | None] = mapped_column(BigInteger)
    done_time_ms: Mapped[int | None] = mapped_column(BigInteger)
    review_values: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(None, "queue_id", "state", "position"),  # the claim
        Index(None, "queue_id", "trace_id"),  # submit and skip name the trace
    )


class ReviewSkip(Base):
    """A trace of a queue that one reviewer skipped: they are not handed it again."""

    __tablename__ = "review_skips"

    queue_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(256), primary_key=True)
