"""Evaluation runs through the collector API: create, finish, get, search, read results.

The evaluator never touches the database; these calls go to the configured collector's
EvaluationService (``spyglass.session.client()``), and a failed call raises the matching
:mod:`spyglass.errors` class.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from spyglass import session
from spyglass.client import SpyglassClient
from spyglass.entities import EvaluationRecord, EvaluationRun
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.data import DatasetInfo
from spyglass.v1 import evaluation_pb2 as pb
from spyglass.v1 import evaluation_pb2_grpc as pb_grpc

STATUSES = ("RUNNING", "FINISHED", "FAILED")
PAGE_SIZE = 500


def _stub(client: SpyglassClient) -> pb_grpc.EvaluationServiceStub:
    return client.stub(pb_grpc.EvaluationServiceStub)


def create_run(
    client: SpyglassClient,
    *,
    experiment_id: str,
    name: str,
    model_id: str | None,
    dataset: DatasetInfo | None,
    scorers: Sequence[Any],
) -> EvaluationRun:
    """A new RUNNING run for ``scorers`` (Scorer objects)."""
    request = pb.CreateEvaluationRunRequest(
        experiment_id=experiment_id,
        name=name,
        scorers=[
            pb.EvaluationScorer(
                name=s.name,
                source_type=s.source_type,
                source_id=s.source_id,
                aggregations=list(s.aggregations or ()),
            )
            for s in scorers
        ],
    )
    if model_id is not None:
        request.model_id = model_id
    if dataset is not None:
        request.dataset_id = dataset.dataset_id
        for field in ("name", "digest", "version"):
            value = getattr(dataset, field)
            if value is not None:
                setattr(request, f"dataset_{field}", value)
    return EvaluationRun.from_proto(client.call(_stub(client).CreateEvaluationRun, request))


def finish_run(
    client: SpyglassClient,
    run_id: str,
    *,
    status: str,
    metrics: Mapping[str, float],
    judge_usage: Mapping[str, tuple[int, int]],
    error_message: str | None = None,
) -> EvaluationRun:
    """Set the run's final status and metrics; the collector prices ``judge_usage``
    (model → (input tokens, output tokens))."""
    request = pb.FinishEvaluationRunRequest(
        run_id=run_id,
        status=status,  # the enum's name; an unknown one raises ValueError
        metrics={k: float(v) for k, v in metrics.items()},
        judge_usage=[
            pb.ModelUsage(model=m, input_tokens=i, output_tokens=o)
            for m, (i, o) in sorted(judge_usage.items())
        ],
    )
    if error_message is not None:
        request.error_message = error_message
    return EvaluationRun.from_proto(client.call(_stub(client).FinishEvaluationRun, request))


def get_evaluation_run(run_id: str) -> EvaluationRun:
    """One evaluation run by id (NotFoundError when there is none)."""
    client = session.client()
    return EvaluationRun.from_proto(
        client.call(_stub(client).GetEvaluationRun, pb.GetEvaluationRunRequest(run_id=run_id))
    )


def search_evaluation_runs(
    experiment_ids: Sequence[str] | None = None,
    name: str | None = None,
    model_id: str | None = None,
    dataset_id: str | None = None,
    status: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
) -> list[EvaluationRun]:
    """Runs matching every criterion given, newest first unless ``order_by`` says otherwise
    (``"start_time"``, ``"end_time"``, ``"name"``, ``"model_id"``, ``"status"``, each with
    ``ASC``/``DESC``). ``experiment_ids=None`` searches every experiment; ``max_results=None``
    returns every match."""
    if status is not None and status.upper() not in STATUSES:
        raise InvalidArgumentError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if max_results is not None and max_results < 1:
        raise InvalidArgumentError(f"max_results must be at least 1, got {max_results}")
    client = session.client()
    request = pb.SearchEvaluationRunsRequest(
        experiment_ids=[str(e) for e in experiment_ids or ()],
        name=name or "",
        model_id=model_id or "",
        dataset_id=dataset_id or "",
        status=status.upper() if status else None,
        order_by=list(order_by or ()),
        max_results=min(max_results or 1000, 1000),
    )
    return [
        EvaluationRun.from_proto(r)
        for r in client.collect(_stub(client).SearchEvaluationRuns, request, "runs", max_results)
    ]


def get_evaluation_results(run_id: str) -> list[EvaluationRecord]:
    """Every record of a run with its scores, in the order they were evaluated."""
    return list(iter_evaluation_results(run_id))


def iter_evaluation_results(run_id: str, page_size: int = PAGE_SIZE) -> Iterator[EvaluationRecord]:
    """The records of a run, fetched a page at a time."""
    client = session.client()
    request = pb.ListEvaluationResultsRequest(run_id=run_id, page_size=page_size)
    while True:
        response = client.call(_stub(client).ListEvaluationResults, request)
        yield from (EvaluationRecord.from_proto(r) for r in response.records)
        if not response.next_page_token:
            return
        request.page_token = response.next_page_token
