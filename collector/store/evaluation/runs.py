"""Evaluation runs in the store: create, log results in batches, finish, get, search, list.

A batch of results is one transaction that writes the records, their scores, a feedback
assessment per score on the record's trace and (when asked) the record's expectations as
expectations on that trace. The assessments are built and checked by
:func:`spyglass.collector.store.evaluation.assessments.new_assessment_values`, exactly as
CreateAssessment builds them, so they are found by ``feedback.<name>`` filters and returned
in ``TraceInfo.assessments`` like any other. A batch sent again is harmless: records whose
(run, row_index) is stored already are skipped whole, with their scores and assessments
(a concurrent duplicate loses on the primary key and its transaction is rolled back).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, select, update

from spyglass import canonical_json
from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.evaluation.assessments import (
    check_json,
    check_name,
    check_trace_id,
    error_column,
    metadata_column,
    new_assessment_values,
    source_columns,
)
from spyglass.collector.store.ids import check_hex_id, parse_experiment_id, require_experiment
from spyglass.collector.store.models import (
    AssessmentRow,
    EvaluationJobRow,
    EvaluationRecordRow,
    EvaluationResultRow,
    EvaluationRunRow,
)
from spyglass.collector.store.paging import (
    SortKey,
    decode_token,
    encode_token,
    fingerprint,
    keyset_after,
    parse_sort_keys,
)
from spyglass.collector.store.text import check_length
from spyglass.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from spyglass.gc_pause import gc_paused
from spyglass.v1 import assessments_pb2 as apb
from spyglass.v1 import evaluation_pb2 as pb

MAX_RECORDS_PER_BATCH = 1000
SEARCH_DEFAULT, SEARCH_MAX = 100, 1000
RESULTS_DEFAULT, RESULTS_MAX = 500, 1000
NAME_MAX = 256
METRIC_KEY_MAX = NAME_MAX + 32  # "<score name>/<aggregation>"
ID_MAX = 64

_RUNS = EvaluationRunRow.__table__
_RECORDS = EvaluationRecordRow.__table__
_RESULTS = EvaluationResultRow.__table__
_ASSESSMENTS = AssessmentRow.__table__
_R = _RUNS.c
_ORDER_FIELDS: dict[str, ColumnElement] = {
    "start_time": _R.start_time_ms,
    "end_time": _R.end_time_ms,
    "name": _R.name,
    "model_id": _R.model_id,
    "status": _R.status,
}
_ORDER_ALIASES = {"start_time_ms": "start_time", "end_time_ms": "end_time"}
# columns a score's result row shares with the feedback written for it
_SHARED_WITH_FEEDBACK = (
    "name",
    "value",
    "rationale",
    "error",
    "source_type",
    "source_id",
    "metadata",
)


# -- create, finish, get ---------------------------------------------------------------------


def create_run(engine: Engine, request: pb.CreateEvaluationRunRequest) -> pb.EvaluationRun:
    """A new RUNNING run (id and start time assigned here) in an existing experiment."""
    with write_transaction(engine) as connection:
        return create_run_in(connection, request)


def create_run_in(
    connection: Connection, request: pb.CreateEvaluationRunRequest
) -> pb.EvaluationRun:
    """:func:`create_run` inside a transaction the caller holds (an evaluation job's)."""
    experiment_id = parse_experiment_id(request.experiment_id or "0")
    now = now_ms()
    values = {
        "run_id": uuid.uuid4().hex,
        "experiment_id": experiment_id,
        "name": check_length(request.name, NAME_MAX, "name") or _default_name(now),
        "model_id": _optional(request, "model_id", NAME_MAX),
        "dataset_id": _optional(request, "dataset_id", ID_MAX),
        "dataset_name": _optional(request, "dataset_name", NAME_MAX),
        "dataset_digest": _optional(request, "dataset_digest", 128),
        "dataset_version": (
            request.dataset_version if request.HasField("dataset_version") else None
        ),
        "status": "RUNNING",
        "scorers": json.dumps(_scorers(request.scorers)),
        "metrics": None,
        "record_count": 0,
        "error_message": None,
        "start_time_ms": now,
        "end_time_ms": None,
        "judge_input_tokens": 0,
        "judge_output_tokens": 0,
        "judge_cost": None,
        "judge_usage": None,
    }
    require_experiment(connection, experiment_id)
    connection.execute(_RUNS.insert(), values)
    return run_to_proto(values)


def finish_run(
    engine: Engine, request: pb.FinishEvaluationRunRequest, prices: PriceTable
) -> pb.EvaluationRun:
    """Set the final status, metrics, end time and judge usage (priced with ``prices``)."""
    run_id = check_run_id(request.run_id)
    status = pb.EvaluationRun.Status.Name(request.status)
    if status not in ("FINISHED", "FAILED"):
        raise InvalidArgumentError(
            f"status must be FINISHED or FAILED to finish run {run_id}, not {status}"
        )
    usage = judge_usage_columns(request.judge_usage, prices)
    error = request.error_message if request.HasField("error_message") else None
    with write_transaction(engine) as connection:
        _refuse_job_run(connection, run_id)
        finish_run_in(connection, run_id, status, request.metrics, error, usage)
    return get_run(engine, run_id)


def _refuse_job_run(connection: Connection, run_id: str) -> None:
    """A job's (or monitor's) run ends with its job: finishing it by hand would leave the
    job's workers unable to store their rows."""
    jobs = EvaluationJobRow.__table__.c
    owner = connection.execute(
        select(jobs.job_id, jobs.monitor_id).where(jobs.run_id == run_id)
    ).first()
    if owner is None:
        return
    how = (
        f"pause or delete its monitor {owner.monitor_id}"
        if owner.monitor_id
        else f"cancel the job instead (spyglass eval cancel {owner.job_id})"
    )
    raise FailedPreconditionError(
        f"evaluation run {run_id} belongs to evaluation job {owner.job_id} and ends with it; {how}"
    )


def finish_run_in(
    connection: Connection,
    run_id: str,
    status: str,
    metrics: Any,
    error_message: str | None,
    usage: dict[str, Any] | None = None,
) -> None:
    """Finish a run inside a transaction the caller holds: ``status`` (FINISHED or FAILED),
    ``metrics`` ({key: number}, NaN kept), and the judge usage columns when given."""
    changes = {
        "status": status,
        "end_time_ms": now_ms(),
        "metrics": json.dumps(_metrics(metrics)),
        "error_message": error_message,
        **(usage or {}),
    }
    if not connection.execute(update(_RUNS).where(_R.run_id == run_id).values(changes)).rowcount:
        raise _run_not_found(run_id)


def get_run(engine: Engine, run_id: str) -> pb.EvaluationRun:
    """One run, or NotFoundError."""
    run_id = check_run_id(run_id)
    with engine.connect() as connection:
        row = connection.execute(select(_RUNS).where(_R.run_id == run_id)).first()
    if row is None:
        raise _run_not_found(run_id)
    return run_to_proto(row._mapping)


def run_to_proto(row: Any) -> pb.EvaluationRun:
    """An ``evaluation_runs`` row (a mapping by column name) as the API message."""
    message = pb.EvaluationRun(
        run_id=row["run_id"],
        experiment_id=str(row["experiment_id"]),
        name=row["name"],
        status=row["status"],
        record_count=row["record_count"],
        start_time_ms=row["start_time_ms"],
        scorers=[pb.EvaluationScorer(**s) for s in json.loads(row["scorers"])],
    )
    for name in (
        "model_id",
        "dataset_id",
        "dataset_name",
        "dataset_digest",
        "dataset_version",
        "error_message",
        "end_time_ms",
    ):
        if row[name] is not None:
            setattr(message, name, row[name])
    for key, value in json.loads(row["metrics"] or "{}").items():
        message.metrics[key] = math.nan if value is None else value
    usage = message.judge_usage
    usage.input_tokens, usage.output_tokens = row["judge_input_tokens"], row["judge_output_tokens"]
    if row["judge_cost"] is not None:
        usage.cost = row["judge_cost"]
    usage.models.extend(pb.ModelUsage(**m) for m in json.loads(row["judge_usage"] or "[]"))
    return message


def check_run_id(value: str, field: str = "run_id") -> str:
    """A run id as the server made it (32 lower-case hex characters)."""
    return check_hex_id(
        value, field, "an evaluation run id", "as CreateEvaluationRun returned them"
    )


# -- log results -------------------------------------------------------------------------------


@dataclass
class ResultsBatch:
    """The rows one LogEvaluationResults request writes, by record (checked, not yet
    written): made by :func:`results_batch`, written by :func:`log_results_in`."""

    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    results: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    assessments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


def log_results(
    engine: Engine, request: pb.LogEvaluationResultsRequest
) -> pb.LogEvaluationResultsResponse:
    """Store a batch of scored records of a RUNNING run (module docstring)."""
    run_id = check_run_id(request.run_id)
    if len(request.records) > MAX_RECORDS_PER_BATCH:
        raise InvalidArgumentError(
            f"{len(request.records)} records in one request; send at "
            f"most {MAX_RECORDS_PER_BATCH} per LogEvaluationResults"
        )
    batch = results_batch(run_id, request.records, now_ms())
    with write_transaction(engine) as connection:
        return log_results_in(connection, run_id, batch)


def log_results_in(
    connection: Connection, run_id: str, batch: ResultsBatch
) -> pb.LogEvaluationResultsResponse:
    """Write a checked batch inside a transaction the caller holds (an evaluation job's
    lease check shares it): rows the run already has are skipped whole."""
    _require_running(connection, run_id)
    done = _logged_rows(connection, run_id, batch.records)
    fresh = [i for i in batch.records if i not in done]
    _insert(connection, _RECORDS, [batch.records[i] for i in fresh])
    _insert(connection, _RESULTS, [r for i in fresh for r in batch.results[i]])
    assessments = [a for i in fresh for a in batch.assessments[i]]
    _insert(connection, _ASSESSMENTS, assessments)
    if fresh:
        connection.execute(
            update(_RUNS)
            .where(_R.run_id == run_id)
            .values(record_count=_R.record_count + len(fresh))
        )
    return pb.LogEvaluationResultsResponse(
        records_logged=len(fresh), records_skipped=len(done), assessments_logged=len(assessments)
    )


def results_batch(run_id: str, records: Iterable[pb.EvaluationRecord], now: int) -> ResultsBatch:
    """Every row of the batch, checked before the transaction starts (pure)."""
    batch = ResultsBatch()
    for position, record in enumerate(records):
        where = f"records[{position}]"
        if record.row_index < 0:
            raise InvalidArgumentError(
                f"{where}.row_index is {record.row_index}; row indexes start at 0"
            )
        if record.row_index in batch.records:
            raise InvalidArgumentError(
                f"{where}.row_index {record.row_index} appears twice in "
                "this request; each record of a run has its own index"
            )
        row, expectations = _record_row(run_id, record, where, now)
        trace_id = row["trace_id"]
        results, assessments = [], []
        seen: set[str] = set()
        for n, score in enumerate(record.scores):
            with _located(f"{where}.scores[{n}]"):
                feedback = _feedback(run_id, trace_id, score, now)
            if feedback is None:
                result = _result_row(run_id, record.row_index, score, f"{where}.scores[{n}]")
            else:  # checked as the feedback was built: take its columns
                result = _result_from_feedback(record.row_index, score, feedback)
                assessments.append(feedback)
            if result["name"] in seen:
                raise InvalidArgumentError(
                    f"{where} has two scores named {result['name']!r}; "
                    "give each Feedback of a scorer its own name"
                )
            seen.add(result["name"])
            results.append(result)
        if record.log_expectations and trace_id is not None:
            with _located(f"{where}.expectations_json"):
                assessments.extend(_expectations(run_id, trace_id, expectations, now))
        batch.records[record.row_index] = row
        batch.results[record.row_index] = results
        batch.assessments[record.row_index] = assessments
    return batch


def _record_row(
    run_id: str, record: pb.EvaluationRecord, where: str, now: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``evaluation_records`` row of ``record``, and its expectations parsed."""
    inputs = _json_object(record.inputs_json or "{}", f"{where}.inputs_json")
    expectations_json = record.expectations_json or "{}"
    expectations = _json_object(expectations_json, f"{where}.expectations_json")
    return {
        "run_id": run_id,
        "row_index": record.row_index,
        "dataset_record_id": _optional(record, "dataset_record_id", ID_MAX, where),
        "input_hash": canonical_json.canonical_hash(inputs),
        "trace_id": (
            check_trace_id(record.trace_id, f"{where}.trace_id")
            if record.HasField("trace_id")
            else None
        ),
        "inputs": record.inputs_json or "{}",
        "outputs": (
            check_json(record.outputs_json, f"{where}.outputs_json")
            if record.HasField("outputs_json")
            else None
        ),
        "expectations": expectations_json,
        "error": record.error if record.HasField("error") else None,
        "created_time_ms": now,
    }, expectations


def _result_row(
    run_id: str, row_index: int, score: pb.EvaluationScore, where: str
) -> dict[str, Any]:
    value = (
        check_json(score.value_json, f"{where}.value_json")
        if score.HasField("value_json")
        else None
    )
    number = score.score if score.HasField("score") and math.isfinite(score.score) else None
    return {
        "run_id": run_id,
        "row_index": row_index,
        "name": check_name(score.name, f"{where}.name"),
        "value": value,
        "score": number,
        "rationale": score.rationale if score.HasField("rationale") else None,
        "error": error_column(score.error, f"{where}.error") if score.HasField("error") else None,
        **source_columns(score.source, f"{where}.source"),
        "metadata": metadata_column(score.metadata),
        "assessment_id": None,
    }


def _result_from_feedback(
    row_index: int, score: pb.EvaluationScore, feedback: dict[str, Any]
) -> dict[str, Any]:
    number = score.score if score.HasField("score") and math.isfinite(score.score) else None
    return {
        "run_id": feedback["run_id"],
        "row_index": row_index,
        "score": number,
        "assessment_id": feedback["assessment_id"],
        **{k: feedback[k] for k in _SHARED_WITH_FEEDBACK},
    }


def _feedback(
    run_id: str, trace_id: str | None, score: pb.EvaluationScore, now: int
) -> dict[str, Any] | None:
    """The feedback row for a score on its trace; None without a trace or anything to say."""
    if trace_id is None or not (score.HasField("value_json") or score.HasField("error")):
        return None
    message = apb.Assessment(
        trace_id=trace_id,
        name=score.name,
        source=score.source,
        metadata=score.metadata,
        run_id=run_id,
    )
    if score.HasField("rationale"):
        message.rationale = score.rationale
    if score.HasField("value_json"):
        message.feedback.value_json = score.value_json
    if score.HasField("error"):
        message.feedback.error.CopyFrom(score.error)
    return new_assessment_values(message, now)


def _expectations(
    run_id: str, trace_id: str, expectations: dict[str, Any], now: int
) -> list[dict[str, Any]]:
    """An expectation row per key of the record's expectations, on its trace."""
    source = apb.AssessmentSource(source_type=apb.AssessmentSource.HUMAN)
    rows = []
    for name, value in expectations.items():
        message = apb.Assessment(
            trace_id=trace_id,
            name=name,
            source=source,
            run_id=run_id,
            expectation=apb.Expectation(value_json=canonical_json.dumps(value)),
        )
        rows.append(new_assessment_values(message, now))
    return rows


@contextlib.contextmanager
def _located(where: str) -> Iterator[None]:
    """Prefix the message of an InvalidArgumentError raised inside with ``where``."""
    try:
        yield
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{where}: {exc}") from None


def _require_running(connection: Connection, run_id: str) -> None:
    query = select(_R.status).where(_R.run_id == run_id).with_for_update()
    status = connection.execute(query).scalar()
    if status is None:
        raise _run_not_found(run_id)
    if status != "RUNNING":
        raise FailedPreconditionError(
            f"evaluation run {run_id} is {status}; results can only "
            "be logged while a run is RUNNING"
        )


def _logged_rows(connection: Connection, run_id: str, records: dict[int, Any]) -> set[int]:
    if not records:
        return set()
    query = select(_RECORDS.c.row_index).where(
        _RECORDS.c.run_id == run_id, _RECORDS.c.row_index.in_(list(records))
    )
    return set(connection.execute(query).scalars())


def _insert(connection: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(table.insert(), rows)


# -- search and list ---------------------------------------------------------------------------


def search_runs(
    engine: Engine, request: pb.SearchEvaluationRunsRequest
) -> pb.SearchEvaluationRunsResponse:
    """One page of runs matching every given criterion, in the requested order."""
    if request.max_results < 0:
        raise InvalidArgumentError(f"max_results must not be negative, got {request.max_results}")
    limit = min(request.max_results or SEARCH_DEFAULT, SEARCH_MAX)
    keys = _sort_keys(request.order_by, engine.dialect.name)
    conditions = _conditions(request)
    search = fingerprint(
        "evaluation_runs",
        sorted(request.experiment_ids),
        request.name,
        request.model_id,
        request.dataset_id,
        request.status,
        list(request.order_by),
    )
    labels = [key.expr.label(f"sort_{i}") for i, key in enumerate(keys)]
    query = select(_RUNS, *labels).where(*conditions)
    if request.page_token:
        after = decode_token(request.page_token, search)["after"]
        if len(after) != len(keys):
            raise InvalidArgumentError(
                "page_token does not fit this search; start again without a page token"
            )
        query = query.where(keyset_after(keys, after))
    query = query.order_by(
        *((k.expr.desc() if k.descending else k.expr.asc()).nulls_last() for k in keys)
    )
    with engine.connect() as connection:
        rows = connection.execute(query.limit(limit + 1)).all()
    response = pb.SearchEvaluationRunsResponse(
        runs=[run_to_proto(row._mapping) for row in rows[:limit]]
    )
    if len(rows) > limit:
        last = rows[limit - 1]._mapping
        response.next_page_token = encode_token(
            {"q": search, "after": [last[f"sort_{i}"] for i in range(len(keys))]}
        )
    return response


def _conditions(request: pb.SearchEvaluationRunsRequest) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if request.experiment_ids:
        conditions.append(
            _R.experiment_id.in_([parse_experiment_id(e) for e in request.experiment_ids])
        )
    for column, value in (
        (_R.name, request.name),
        (_R.model_id, request.model_id),
        (_R.dataset_id, request.dataset_id),
    ):
        if value:
            conditions.append(column == value)
    if request.status:
        conditions.append(_R.status == pb.EvaluationRun.Status.Name(request.status))
    return conditions


def _sort_keys(order_by: Sequence[str], dialect: str) -> list[SortKey]:
    """The requested keys (default newest first), then run_id so the order is total."""
    return parse_sort_keys(
        order_by or ["start_time DESC"],
        _ORDER_FIELDS,
        _R.run_id,
        "evaluation runs",
        dialect,
        aliases=_ORDER_ALIASES,
        text_fields=("name", "model_id"),
    )


def list_results(
    engine: Engine, request: pb.ListEvaluationResultsRequest
) -> pb.ListEvaluationResultsResponse:
    """One page of a run's records with their scores, by row_index."""
    run_id = check_run_id(request.run_id)
    if request.page_size < 0:
        raise InvalidArgumentError(f"page_size must not be negative, got {request.page_size}")
    limit = min(request.page_size or RESULTS_DEFAULT, RESULTS_MAX)
    search = fingerprint("evaluation_results", run_id)
    query = select(_RECORDS).where(_RECORDS.c.run_id == run_id)
    if request.page_token:
        after = decode_token(request.page_token, search)["after"]
        query = query.where(_RECORDS.c.row_index > int(after[0]))
    with engine.connect() as connection:
        if connection.execute(select(_R.run_id).where(_R.run_id == run_id)).first() is None:
            raise _run_not_found(run_id)
        rows = connection.execute(query.order_by(_RECORDS.c.row_index).limit(limit + 1)).all()
        page = rows[:limit]
        with gc_paused():  # a few objects per score, no cycles (see gc_pause.py)
            scores = _scores(connection, run_id, [r.row_index for r in page])
    with gc_paused():
        response = pb.ListEvaluationResultsResponse(
            records=[_record_to_proto(r, scores.get(r.row_index, [])) for r in page]
        )
    if len(rows) > limit:
        response.next_page_token = encode_token({"q": search, "after": [page[-1].row_index]})
    return response


def _scores(
    connection: Connection, run_id: str, row_indexes: list[int]
) -> dict[int, list[pb.EvaluationScore]]:
    out: dict[int, list[pb.EvaluationScore]] = {}
    if not row_indexes:
        return out
    query = (
        select(_RESULTS)
        .where(
            _RESULTS.c.run_id == run_id,
            _RESULTS.c.row_index.between(min(row_indexes), max(row_indexes)),
        )
        .order_by(_RESULTS.c.row_index, _RESULTS.c.name)
    )
    for row in connection.execute(query):
        out.setdefault(row.row_index, []).append(_score_to_proto(row))
    return out


def _record_to_proto(row: Any, scores: list[pb.EvaluationScore]) -> pb.EvaluationRecord:
    message = pb.EvaluationRecord(
        row_index=row.row_index,
        input_hash=row.input_hash,
        inputs_json=row.inputs,
        expectations_json=row.expectations,
        scores=scores,
    )
    for name, value in (
        ("dataset_record_id", row.dataset_record_id),
        ("trace_id", row.trace_id),
        ("outputs_json", row.outputs),
        ("error", row.error),
    ):
        if value is not None:
            setattr(message, name, value)
    return message


def _score_to_proto(row: Any) -> pb.EvaluationScore:
    mapping = row._mapping
    message = pb.EvaluationScore(
        name=row.name,
        source=apb.AssessmentSource(
            source_type=row.source_type,
            source_id=row.source_id or "",
        ),
    )
    for name, value in (
        ("value_json", row.value),
        ("score", row.score),
        ("rationale", row.rationale),
        ("assessment_id", row.assessment_id),
    ):
        if value is not None:
            setattr(message, name, value)
    if row.error:
        error = json.loads(row.error)
        message.error.error_code = error.get("code") or ""
        message.error.error_message = error.get("message") or ""
        if error.get("stack"):
            message.error.stack_trace = error["stack"]
    if mapping["metadata"]:
        message.metadata.update(json.loads(mapping["metadata"]))
    return message


# -- small checks ------------------------------------------------------------------------------


def _scorers(scorers: Iterable[pb.EvaluationScorer]) -> list[dict[str, Any]]:
    out = []
    for n, s in enumerate(scorers):
        name = check_name(s.name, f"scorers[{n}].name")
        out.append(
            {
                "name": name,
                "source_type": s.source_type.upper() or "CODE",
                "source_id": check_length(s.source_id, NAME_MAX, f"scorers[{n}].source_id"),
                "aggregations": list(s.aggregations),
            }
        )
    return out


def judge_usage_columns(models: Iterable[pb.ModelUsage], prices: PriceTable) -> dict[str, Any]:
    """Run columns for the judge usage: totals, the cost of the priced models, per model."""
    per_model, costs = [], []
    for n, usage in enumerate(models):
        if usage.input_tokens < 0 or usage.output_tokens < 0:
            raise InvalidArgumentError(f"judge_usage[{n}] has negative token counts")
        entry: dict[str, Any] = {
            "model": usage.model,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
        }
        cost = prices.cost(usage.model, usage.input_tokens, usage.output_tokens)
        if cost is not None:
            entry["cost"] = cost
            costs.append(cost)
        per_model.append(entry)
    return {
        "judge_input_tokens": sum(m["input_tokens"] for m in per_model),
        "judge_output_tokens": sum(m["output_tokens"] for m in per_model),
        "judge_cost": sum(costs) if costs else None,
        "judge_usage": json.dumps(per_model) if per_model else None,
    }


def _json_object(text: str, where: str) -> dict[str, Any]:
    try:
        value = canonical_json.loads(text)
    except ValueError:
        check_json(text, where)  # raises with the full explanation
        raise
    if not isinstance(value, dict):
        raise InvalidArgumentError(
            f'{where} must be a JSON object, e.g. \'{{"question": "..."}}\', not {{text[:60]!r}}'
        )
    return value


def _optional(message: Any, name: str, limit: int, where: str = "") -> str | None:
    if not message.HasField(name):
        return None
    return check_length(getattr(message, name), limit, f"{where}.{name}" if where else name)


def _metrics(metrics: Any) -> dict[str, float | None]:
    """Metrics as stored: NaN and infinities (not JSON) as null."""
    out: dict[str, float | None] = {}
    for key, value in sorted(metrics.items()):
        if not key.strip() or len(key) > METRIC_KEY_MAX:
            raise InvalidArgumentError(
                f"metric key {key[:60]!r} must have 1 to "
                f"{METRIC_KEY_MAX} characters, e.g. "
                "'factual_accuracy/score'"
            )
        out[key] = value if math.isfinite(value) else None
    return out


def _default_name(now_ms: int) -> str:
    return "eval-" + time.strftime("%Y%m%d-%H%M%S", time.gmtime(now_ms / 1000))


def _run_not_found(run_id: str) -> NotFoundError:
    return NotFoundError(
        f"evaluation run {run_id} not found; list runs with "
        "SearchEvaluationRuns (`spyglass eval list`)"
    )
