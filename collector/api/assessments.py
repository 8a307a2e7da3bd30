"""AssessmentService: create, read, update, delete and override expectations and feedback.

The servicer only translates between gRPC and the store functions of
``spyglass.collector.store.evaluation.assessments`` (where the checks and transactions
live), running each in a worker thread under time limits (``api/queries.py``) so the event
loop keeps serving OTLP; errors become statuses via ``collector/api/errors.py`` (bad
argument → INVALID_ARGUMENT, unknown id → NOT_FOUND, overriding an expectation or an
overridden feedback → FAILED_PRECONDITION, store down → UNAVAILABLE).
"""

from __future__ import annotations

import grpc

from spyglass.collector.api.queries import QueryRunner
from spyglass.collector.store.evaluation import assessments as store
from spyglass.v1 import assessments_pb2 as pb
from spyglass.v1 import assessments_pb2_grpc as pb_grpc


class AssessmentServicer(pb_grpc.AssessmentServiceServicer):
    """The spyglass.v1.AssessmentService methods over one store engine."""

    def __init__(self, queries: QueryRunner) -> None:
        self._engine = queries.engine
        self._queries = queries

    async def CreateAssessment(
        self, request: pb.CreateAssessmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Assessment:
        return await self._queries.call(
            context, store.create_assessment, self._engine, request.assessment
        )

    async def GetAssessment(
        self, request: pb.GetAssessmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Assessment:
        return await self._queries.call(
            context, store.get_assessment, self._engine, request.trace_id, request.assessment_id
        )

    async def UpdateAssessment(
        self, request: pb.UpdateAssessmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Assessment:
        return await self._queries.call(
            context,
            store.update_assessment,
            self._engine,
            request.assessment,
            list(request.update_mask.paths),
        )

    async def DeleteAssessment(
        self, request: pb.DeleteAssessmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteAssessmentResponse:
        await self._queries.call(
            context, store.delete_assessment, self._engine, request.trace_id, request.assessment_id
        )
        return pb.DeleteAssessmentResponse()

    async def OverrideFeedback(
        self, request: pb.OverrideFeedbackRequest, context: grpc.aio.ServicerContext
    ) -> pb.Assessment:
        return await self._queries.call(context, store.override_feedback, self._engine, request)


def add_to_server(server: grpc.aio.Server, queries: QueryRunner) -> None:
    """Serve AssessmentService on ``server`` (the collector's gRPC server)."""
    pb_grpc.add_AssessmentServiceServicer_to_server(AssessmentServicer(queries), server)
