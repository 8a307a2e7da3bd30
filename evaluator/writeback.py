"""Writing scored rows back through the collector API, in batches, while rows still run.

Rows are queued as they complete; a background thread sends them whenever ``batch_size``
rows are waiting or ``max_delay_s`` has passed, so write-back costs one round trip per batch
rather than one per score and overlaps with the evaluation. What sends a batch is given to
the writer: ``evaluate()`` uses ``LogEvaluationResults`` (:func:`run_sender`), the evaluator
service ``LogWorkResults`` with its lease. The collector stores each batch in one
transaction (records, scores, feedback and expectations on the traces) and skips rows it
already has, so a batch that is retried after a lost answer is not written twice. A batch
that cannot be written is kept as the writer's ``error``; the evaluation itself goes on.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from spyglass.evaluator.execution import RowOutcome
from spyglass.evaluator.scorers.results import ScoreResult
from spyglass.instrumentation.serialize import to_json
from spyglass.score_labels import LABEL_METADATA, stored_value
from spyglass.v1 import assessments_pb2 as apb
from spyglass.v1 import evaluation_pb2 as pb

if TYPE_CHECKING:
    from spyglass.client import SpyglassClient

logger = logging.getLogger("spyglass.evaluator")

BATCH_SIZE = 100
MAX_DELAY_S = 0.5
_STOP = object()


Sender = Callable[[list[RowOutcome]], int]
"""Sends one batch of rows; returns how many the collector has now (logged or skipped)."""


class ResultWriter:
    """Sends finished rows in batches with ``send`` (module docstring); ``what`` names
    where they go in log messages (e.g. ``"run <id>"``)."""

    def __init__(
        self,
        send: Sender,
        what: str,
        batch_size: int = BATCH_SIZE,
        max_delay_s: float = MAX_DELAY_S,
    ) -> None:
        self._send_batch = send
        self._what = what
        self._batch_size = batch_size
        self._max_delay_s = max_delay_s
        self._queue: queue.Queue[Any] = queue.Queue()
        self.error: Exception | None = None
        self.records_logged = 0
        self._thread = threading.Thread(
            target=self._loop, name="spyglass-eval-writeback", daemon=True
        )
        self._thread.start()

    def add(self, outcome: RowOutcome) -> None:
        self._queue.put(outcome)

    def close(self) -> None:
        """Send what is still queued and stop; ``error`` tells whether every batch went."""
        self._queue.put(_STOP)
        self._thread.join()

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            batch: list[RowOutcome] = []
            item = self._queue.get()
            due = time.monotonic() + self._max_delay_s  # the first row waits at most this
            while item is not _STOP:
                batch.append(item)
                if len(batch) >= self._batch_size:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, due - time.monotonic()))
                except queue.Empty:
                    break
            stopping = item is _STOP
            if batch:
                self._send(batch)

    def _send(self, batch: list[RowOutcome]) -> None:
        try:
            self.records_logged += self._send_batch(batch)
        except Exception as exc:  # kept for the caller to report; the rows go on
            logger.warning(
                "writing %d evaluated rows of %s failed: %s", len(batch), self._what, exc
            )
            self.error = self.error or exc


def run_sender(client: SpyglassClient, run_id: str) -> Sender:
    """Sends batches of an evaluation run with ``LogEvaluationResults``."""
    from spyglass.v1 import evaluation_pb2_grpc

    stub = client.stub(evaluation_pb2_grpc.EvaluationServiceStub)

    def send(batch: list[RowOutcome]) -> int:
        request = pb.LogEvaluationResultsRequest(
            run_id=run_id, records=[record_message(o) for o in batch]
        )
        response: pb.LogEvaluationResultsResponse = client.call(stub.LogEvaluationResults, request)
        return response.records_logged + response.records_skipped

    return send


def record_message(outcome: RowOutcome) -> pb.EvaluationRecord:
    """One evaluated row as the API message (scores, trace, what to log on it)."""
    record, prediction = outcome.record, outcome.prediction
    message = pb.EvaluationRecord(
        row_index=record.index,
        inputs_json=to_json(record.inputs),
        expectations_json=to_json(record.expectations),
        log_expectations=prediction.created_trace and bool(record.expectations),
        scores=[score_message(s) for s in outcome.scores],
    )
    if record.dataset_record_id:
        message.dataset_record_id = record.dataset_record_id
    if prediction.trace_id:
        message.trace_id = prediction.trace_id
    if prediction.outputs is not None:
        message.outputs_json = to_json(prediction.outputs)
    if prediction.error is not None:
        message.error = prediction.error
    return message


def score_message(result: ScoreResult) -> pb.EvaluationScore:
    """One score as the API message; its feedback on the trace is made from it. A label
    that stands for a number (a judge's "yes"/"no") is stored as that number, with the label
    in the metadata (:mod:`spyglass.score_labels`), so numeric filters and means see it."""
    value, label = stored_value(result.value, result.score)
    message = pb.EvaluationScore(
        name=result.name,
        metadata={str(k): str(v) for k, v in result.metadata.items()},
        source=apb.AssessmentSource(
            source_type=result.source_type.upper(),  # the enum's name
            source_id=result.source_id or "",
        ),
    )
    if value is not None and result.error is None:
        message.value_json = to_json(value)
        if label is not None:  # a judge's "yes"/"no": stored as its number, label kept
            message.metadata[LABEL_METADATA] = label
    if not math.isnan(result.score) and result.error is None:
        message.score = result.score
    if result.rationale is not None:
        message.rationale = result.rationale
    if result.error is not None:
        message.error.error_code = result.error_type or "ScorerError"
        message.error.error_message = result.error
        if result.stack_trace:
            message.error.stack_trace = result.stack_trace
    return message
