"""The objects users hold: traces, spans, assessments, experiments.

Plain dataclasses built from the API's messages (``from_proto``). JSON-valued fields
(span inputs/outputs/attributes, assessment values) arrive as JSON text and are decoded
here, so users see dicts, lists and strings, never JSON text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from spyglass.v1 import assessments_pb2, evaluation_pb2, experiments_pb2, jobs_pb2, traces_pb2


def json_or_text(text: str | None) -> Any:
    """A stored JSON text parsed; the text itself when it is not JSON; None when absent
    (how every reader of the API's ``*_json`` and span fields takes them)."""
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _opt(message: Any, name: str) -> Any:
    return getattr(message, name) if message.HasField(name) else None


@dataclass
class AssessmentSource:
    """Who made an assessment: a person (HUMAN), a judge model (LLM_JUDGE) or code (CODE)."""

    source_type: str = "CODE"
    source_id: str | None = None

    def to_proto(self) -> assessments_pb2.AssessmentSource:
        return assessments_pb2.AssessmentSource(
            source_type=self.source_type.upper(),  # the enum's name
            source_id=self.source_id or "",
        )


@dataclass
class AssessmentError:
    """Why a feedback has no value (a scorer raised, a judge could not answer)."""

    error_code: str
    error_message: str = ""
    stack_trace: str | None = None


@dataclass
class Assessment:
    """An expectation or a feedback on a trace (or one of its spans)."""

    name: str
    value: Any = None
    trace_id: str | None = None
    span_id: str | None = None
    source: AssessmentSource = field(default_factory=AssessmentSource)
    rationale: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    assessment_id: str | None = None
    create_time_ms: int | None = None
    last_update_time_ms: int | None = None
    valid: bool = True
    overrides: str | None = None

    @staticmethod
    def from_proto(message: assessments_pb2.Assessment) -> Assessment:
        common = {
            "name": message.name,
            "trace_id": message.trace_id,
            "span_id": _opt(message, "span_id"),
            "source": AssessmentSource(
                assessments_pb2.AssessmentSource.SourceType.Name(message.source.source_type),
                message.source.source_id or None,
            ),
            "rationale": _opt(message, "rationale"),
            "metadata": dict(message.metadata),
            "run_id": _opt(message, "run_id"),
            "assessment_id": message.assessment_id,
            "create_time_ms": message.create_time_ms,
            "last_update_time_ms": message.last_update_time_ms,
            "valid": message.valid,
            "overrides": _opt(message, "overrides"),
        }
        if message.WhichOneof("value") == "expectation":
            return Expectation(value=json_or_text(message.expectation.value_json), **common)
        fb = message.feedback
        error = None
        if fb.HasField("error"):
            error = AssessmentError(
                fb.error.error_code, fb.error.error_message, _opt(fb.error, "stack_trace")
            )
        return Feedback(value=json_or_text(_opt(fb, "value_json")), error=error, **common)


@dataclass
class Expectation(Assessment):
    """Ground truth for a trace: what it should have produced (any JSON value)."""


@dataclass
class Feedback(Assessment):
    """A judgement of a trace: a score, a label, a verdict — or the error that prevented one."""

    error: AssessmentError | None = None


@dataclass
class Span:
    """One step of a trace, with its canonical GenAI fields and raw OTel data."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    span_type: str
    start_time_ns: int
    end_time_ns: int
    status: str
    status_message: str = ""
    inputs: Any = None
    outputs: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    model: str | None = None
    provider: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cost: float | None = None

    @property
    def duration_ms(self) -> float:
        return (self.end_time_ns - self.start_time_ns) / 1e6

    @staticmethod
    def from_proto(m: traces_pb2.Span) -> Span:
        usage = m.token_usage
        return Span(
            trace_id=m.trace_id,
            span_id=m.span_id,
            parent_id=_opt(m, "parent_span_id"),
            name=m.name,
            span_type=m.span_type,
            start_time_ns=m.start_time_ns,
            end_time_ns=m.end_time_ns,
            status=traces_pb2.Span.StatusCode.Name(m.status_code).removeprefix("STATUS_CODE_"),
            status_message=m.status_message,
            inputs=json_or_text(_opt(m, "inputs")),
            outputs=json_or_text(_opt(m, "outputs")),
            attributes=json_or_text(m.attributes) or {},
            events=json_or_text(_opt(m, "events")) or [],
            model=_opt(m, "model"),
            provider=_opt(m, "provider"),
            input_tokens=_opt(usage, "input_tokens"),
            output_tokens=_opt(usage, "output_tokens"),
            total_tokens=_opt(usage, "total_tokens"),
            cost=_opt(m, "cost"),
        )


@dataclass
class TraceInfo:
    """What is known about a trace as a whole."""

    trace_id: str
    experiment_id: str
    request_time: int  # ms since the epoch, when the trace started
    execution_duration: int | None  # ms
    state: str  # OK | ERROR | IN_PROGRESS
    name: str | None = None
    request_preview: str | None = None
    response_preview: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    trace_metadata: dict[str, str] = field(default_factory=dict)
    assessments: list[Assessment] = field(default_factory=list)
    session_id: str | None = None
    user_id: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cost: float = 0.0
    span_count: int = 0

    @property
    def expectations(self) -> dict[str, Any]:
        """``{name: value}`` of the trace's valid expectations (the latest of each name)."""
        return {a.name: a.value for a in self.assessments if isinstance(a, Expectation) and a.valid}

    @staticmethod
    def from_proto(m: traces_pb2.TraceInfo) -> TraceInfo:
        usage = m.token_usage
        return TraceInfo(
            trace_id=m.trace_id,
            experiment_id=m.experiment_id,
            request_time=m.request_time,
            execution_duration=_opt(m, "execution_duration_ms"),
            state=traces_pb2.TraceInfo.State.Name(m.state),
            name=_opt(m, "name"),
            request_preview=_opt(m, "request_preview"),
            response_preview=_opt(m, "response_preview"),
            tags=dict(m.tags),
            trace_metadata=dict(m.trace_metadata),
            assessments=[Assessment.from_proto(a) for a in m.assessments],
            session_id=_opt(m, "session_id"),
            user_id=_opt(m, "user_id"),
            input_tokens=_opt(usage, "input_tokens"),
            output_tokens=_opt(usage, "output_tokens"),
            total_tokens=_opt(usage, "total_tokens"),
            cost=m.cost,
            span_count=m.span_count,
        )


@dataclass
class TraceData:
    """The spans of a trace, in start-time order."""

    spans: list[Span] = field(default_factory=list)

    @property
    def root_span(self) -> Span | None:
        """The span without a parent (the earliest, should a trace have several)."""
        roots = [s for s in self.spans if s.parent_id is None]
        return min(roots, key=lambda s: s.start_time_ns) if roots else None

    def _get_root_span(self) -> Span | None:
        """Same as :attr:`root_span` (published examples call it by this name)."""
        return self.root_span

    @property
    def request(self) -> Any:
        root = self.root_span
        return root.inputs if root else None

    @property
    def response(self) -> Any:
        root = self.root_span
        return root.outputs if root else None


@dataclass
class Trace:
    """A trace: its info and its spans."""

    info: TraceInfo
    data: TraceData

    def search_spans(
        self, name: str | None = None, span_type: str | None = None, span_id: str | None = None
    ) -> list[Span]:
        """The spans matching every criterion given (all spans when none is)."""
        return [
            s
            for s in self.data.spans
            if (name is None or s.name == name)
            and (span_type is None or s.span_type == str(span_type).upper())
            and (span_id is None or s.span_id == span_id)
        ]

    @staticmethod
    def from_proto(m: traces_pb2.Trace) -> Trace:
        spans = sorted((Span.from_proto(s) for s in m.spans), key=lambda s: s.start_time_ns)
        return Trace(TraceInfo.from_proto(m.info), TraceData(spans))


@dataclass
class Experiment:
    """A named group of traces (an app, a version, a team's work)."""

    experiment_id: str
    name: str
    lifecycle_stage: str = "active"
    creation_time: int | None = None  # ms
    last_update_time: int | None = None  # ms
    tags: dict[str, str] = field(default_factory=dict)
    retention_days: int | None = None

    @staticmethod
    def from_proto(m: experiments_pb2.Experiment) -> Experiment:
        return Experiment(
            m.experiment_id,
            m.name,
            m.lifecycle_stage,
            m.creation_time_ms,
            m.last_update_time_ms,
            dict(m.tags),
            _opt(m, "retention_days"),
        )


@dataclass
class EvaluationRun:
    """One ``evaluate()`` run as stored: what was evaluated with which scorers, its status,
    metrics (``"<scorer>/score"`` …, NaN where nothing was scored) and judge usage."""

    run_id: str
    experiment_id: str
    name: str
    status: str  # RUNNING | FINISHED | FAILED
    model_id: str | None = None
    dataset_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None
    dataset_version: int | None = None
    scorers: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    record_count: int = 0
    start_time_ms: int | None = None
    end_time_ms: int | None = None
    error_message: str | None = None
    judge_input_tokens: int = 0
    judge_output_tokens: int = 0
    judge_cost: float | None = None  # USD, from the collector's price table
    judge_usage: list[dict[str, Any]] = field(default_factory=list)  # per judge model

    @staticmethod
    def from_proto(m: evaluation_pb2.EvaluationRun) -> EvaluationRun:
        usage = m.judge_usage
        return EvaluationRun(
            run_id=m.run_id,
            experiment_id=m.experiment_id,
            name=m.name,
            status=evaluation_pb2.EvaluationRun.Status.Name(m.status),
            model_id=_opt(m, "model_id"),
            dataset_id=_opt(m, "dataset_id"),
            dataset_name=_opt(m, "dataset_name"),
            dataset_digest=_opt(m, "dataset_digest"),
            dataset_version=_opt(m, "dataset_version"),
            scorers=[
                {
                    "name": s.name,
                    "source_type": s.source_type,
                    "source_id": s.source_id,
                    "aggregations": list(s.aggregations),
                }
                for s in m.scorers
            ],
            metrics=dict(sorted(m.metrics.items())),
            record_count=m.record_count,
            start_time_ms=m.start_time_ms,
            end_time_ms=_opt(m, "end_time_ms"),
            error_message=_opt(m, "error_message"),
            judge_input_tokens=usage.input_tokens,
            judge_output_tokens=usage.output_tokens,
            judge_cost=_opt(usage, "cost"),
            judge_usage=[
                {
                    "model": u.model,
                    "input_tokens": u.input_tokens,
                    "output_tokens": u.output_tokens,
                    "cost": _opt(u, "cost"),
                }
                for u in usage.models
            ],
        )


@dataclass
class EvaluationScore:
    """One score of one record of an evaluation run (and the feedback it wrote)."""

    name: str
    value: Any = None
    score: float | None = None
    rationale: str | None = None
    error: AssessmentError | None = None
    source: AssessmentSource = field(default_factory=AssessmentSource)
    metadata: dict[str, str] = field(default_factory=dict)
    assessment_id: str | None = None


@dataclass
class EvaluationRecord:
    """One evaluated record of a run: its inputs, outputs, expectations, trace and scores."""

    row_index: int
    input_hash: str
    inputs: dict[str, Any]
    expectations: dict[str, Any]
    outputs: Any = None
    trace_id: str | None = None
    dataset_record_id: str | None = None
    error: str | None = None
    scores: list[EvaluationScore] = field(default_factory=list)

    @staticmethod
    def from_proto(m: evaluation_pb2.EvaluationRecord) -> EvaluationRecord:
        return EvaluationRecord(
            row_index=m.row_index,
            input_hash=m.input_hash,
            inputs=json_or_text(m.inputs_json) or {},
            expectations=json_or_text(m.expectations_json) or {},
            outputs=json_or_text(_opt(m, "outputs_json")),
            trace_id=_opt(m, "trace_id"),
            dataset_record_id=_opt(m, "dataset_record_id"),
            error=_opt(m, "error"),
            scores=[_evaluation_score(s) for s in m.scores],
        )


def _evaluation_score(m: evaluation_pb2.EvaluationScore) -> EvaluationScore:
    error = None
    if m.HasField("error"):
        error = AssessmentError(
            m.error.error_code, m.error.error_message, _opt(m.error, "stack_trace")
        )
    return EvaluationScore(
        name=m.name,
        value=json_or_text(_opt(m, "value_json")),
        score=_opt(m, "score"),
        rationale=_opt(m, "rationale"),
        error=error,
        source=AssessmentSource(
            assessments_pb2.AssessmentSource.SourceType.Name(m.source.source_type),
            m.source.source_id or None,
        ),
        metadata=dict(m.metadata),
        assessment_id=_opt(m, "assessment_id"),
    )


def _scorer_refs(refs: Any) -> list[dict[str, Any]]:
    """Scorer references as users write them: ``{"type": ..., **params}``."""
    specs = []
    for ref in refs:
        params = json_or_text(ref.params_json)
        params = (
            params if isinstance(params, dict) else ({} if params is None else {"params": params})
        )
        specs.append({"type": ref.type, **{k: v for k, v in params.items() if k != "type"}})
    return specs


@dataclass
class ScorerErrors:
    """Rows where one scorer (score name) failed in a job, with the latest message."""

    name: str
    count: int
    last_error: str


@dataclass
class EvaluationJob:
    """A job of the evaluator service: what it scores, with which scorers, and how far it
    got. ``input`` is ``{"dataset": ..., "version": ...}`` for a dataset, or
    ``{"experiment": ..., "filter_string": ..., "start_time_ms": ..., "end_time_ms": ...,
    "max_traces": ..., "expectations_dataset": ...}`` for traces (absent keys: not given)."""

    job_id: str
    name: str
    experiment_id: str
    status: str  # PENDING | RUNNING | FINISHED | FAILED | CANCELLED
    input: dict[str, Any] = field(default_factory=dict)
    scorers: list[dict[str, Any]] = field(default_factory=list)
    build_dataset: str | None = None
    run_id: str = ""
    monitor_id: str | None = None
    error_message: str | None = None
    total_rows: int = 0
    rows_done: int = 0
    rows_with_errors: int = 0
    chunk_size: int = 0
    chunks_total: int = 0
    chunks_done: int = 0
    chunks_leased: int = 0
    chunks_failed: int = 0
    errors: list[ScorerErrors] = field(default_factory=list)
    eta_seconds: float | None = None
    created_time_ms: int = 0
    started_time_ms: int | None = None
    finished_time_ms: int | None = None
    live_workers: int = 0  # evaluator workers alive when the job was read

    @property
    def is_done(self) -> bool:
        """True once the job finished, failed or was cancelled (it changes no more)."""
        return self.status in ("FINISHED", "FAILED", "CANCELLED")

    @property
    def fraction_done(self) -> float:
        """Rows stored / rows to score (1.0 for a job with no rows)."""
        return self.rows_done / self.total_rows if self.total_rows else 1.0

    @staticmethod
    def from_proto(m: jobs_pb2.EvaluationJob) -> EvaluationJob:
        source = m.input.WhichOneof("source")
        if source == "dataset":
            job_input: dict[str, Any] = {"dataset": m.input.dataset.dataset}
            if m.input.dataset.HasField("version"):
                job_input["version"] = m.input.dataset.version
        elif source == "traces":
            t = m.input.traces
            job_input = {"experiment": t.experiment or "0"}
            job_input.update(
                {
                    k: v
                    for k, v in (
                        ("filter_string", t.filter_string),
                        ("start_time_ms", _opt(t, "start_time_ms")),
                        ("end_time_ms", _opt(t, "end_time_ms")),
                        ("max_traces", t.max_traces),
                        ("expectations_dataset", t.expectations_dataset),
                    )
                    if v
                }
            )
        else:
            job_input = {}
        return EvaluationJob(
            job_id=m.job_id,
            name=m.name,
            experiment_id=m.experiment_id,
            status=jobs_pb2.JobStatus.Name(m.status),
            input=job_input,
            scorers=_scorer_refs(m.scorers),
            build_dataset=m.build_dataset or None,
            run_id=m.run_id,
            monitor_id=m.monitor_id or None,
            error_message=_opt(m, "error_message"),
            total_rows=m.total_rows,
            rows_done=m.rows_done,
            rows_with_errors=m.rows_with_errors,
            chunk_size=m.chunk_size,
            chunks_total=m.chunks_total,
            chunks_done=m.chunks_done,
            chunks_leased=m.chunks_leased,
            chunks_failed=m.chunks_failed,
            errors=[ScorerErrors(e.name, e.count, e.last_error) for e in m.errors],
            eta_seconds=_opt(m, "eta_seconds"),
            created_time_ms=m.created_time_ms,
            started_time_ms=_opt(m, "started_time_ms"),
            finished_time_ms=_opt(m, "finished_time_ms"),
            live_workers=m.live_workers,
        )


@dataclass
class WindowScore:
    """One score name's figures in a monitor's time window (``mean`` NaN when none)."""

    name: str
    count: int
    mean: float
    error_count: int


@dataclass
class MonitorWindow:
    """A monitor's results over one time window ending now (``"1h"``, ``"24h"``, ``"7d"``)."""

    window: str
    rows: int
    scores: list[WindowScore] = field(default_factory=list)

    @staticmethod
    def from_proto(m: jobs_pb2.MonitorWindow) -> MonitorWindow:
        return MonitorWindow(
            m.window,
            m.rows,
            [WindowScore(s.name, s.count, s.mean, s.error_count) for s in m.scores],
        )


@dataclass
class Monitor:
    """Continuous evaluation of an experiment's new traces: filter, sample rate, scorers,
    counters, and (from ``get_monitor``) metrics per time window."""

    monitor_id: str
    name: str
    experiment_id: str
    sample_rate: float
    enabled: bool
    filter_string: str | None = None
    scorers: list[dict[str, Any]] = field(default_factory=list)
    quiet_period_seconds: float = 30.0
    job_id: str = ""
    run_id: str = ""
    created_time_ms: int = 0
    traces_seen: int = 0
    traces_sampled: int = 0
    traces_scored: int = 0
    last_check_time_ms: int | None = None
    windows: list[MonitorWindow] = field(default_factory=list)

    @staticmethod
    def from_proto(m: jobs_pb2.Monitor) -> Monitor:
        return Monitor(
            monitor_id=m.monitor_id,
            name=m.name,
            experiment_id=m.experiment_id,
            sample_rate=m.sample_rate,
            enabled=m.enabled,
            filter_string=m.filter_string or None,
            scorers=_scorer_refs(m.scorers),
            quiet_period_seconds=m.quiet_period_seconds,
            job_id=m.job_id,
            run_id=m.run_id,
            created_time_ms=m.created_time_ms,
            traces_seen=m.traces_seen,
            traces_sampled=m.traces_sampled,
            traces_scored=m.traces_scored,
            last_check_time_ms=_opt(m, "last_check_time_ms"),
            windows=[MonitorWindow.from_proto(w) for w in m.windows],
        )
