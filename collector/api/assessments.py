"""AssessmentService: create, read, update, delete and override expectations and feedback.

The servicer only translates between gRPC and the store functions of
``spyglass.collector.store.assessments`` (where the checks and transactions live), running
each in a worker thread so the event loop keeps serving OTLP; errors become statuses via
``collector/api/errors.py`` (bad argument → INVALID_ARGUMENT, unknown id → NOT_FOUND,
overriding an expectation or an overridden feedback → FAILED_PRECONDITION, store down →
UNAVAILABLE).
"""

from __future__ import annotations

import grpc
from sqlalchemy import Engine

from spyglass.collector.api.errors import call_store
from spyglass.collector.store import assessments as store
from spyglass.v1 import assessments_pb2 as pb
from spyglass.v1 import assessments_pb2_grpc as pb_grpc


class AssessmentServicer(pb_grpc.AssessmentServiceServicer):
    """The spyglass.v1.AssessmentService methods over one store engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def CreateAssessment(self, request: pb.CreateAssessmentRequest,
                               context: grpc.aio.ServicerContext) -> pb.Assessment:
        return await call_store(context, store.create_assessment, self._engine,
                                request.assessment)

    async def GetAssessment(self, request: pb.GetAssessmentRequest,
                            context: grpc.aio.ServicerContext) -> pb.Assessment:
        return await call_store(context, store.get_assessment, self._engine,
                                request.trace_id, request.assessment_id)

    async def UpdateAssessment(self, request: pb.UpdateAssessmentRequest,
                               context: grpc.aio.ServicerContext) -> pb.Assessment:
        return await call_store(context, store.update_assessment, self._engine,
                                request.assessment, list(request.update_mask.paths))

    async def DeleteAssessment(self, request: pb.DeleteAssessmentRequest,
                               context: grpc.aio.ServicerContext
                               ) -> pb.DeleteAssessmentResponse:
        await call_store(context, store.delete_assessment, self._engine,
                         request.trace_id, request.assessment_id)
        return pb.DeleteAssessmentResponse()

    async def OverrideFeedback(self, request: pb.OverrideFeedbackRequest,
                               context: grpc.aio.ServicerContext) -> pb.Assessment:
        return await call_store(context, store.override_feedback, self._engine, request)


def add_to_server(server: grpc.aio.Server, engine: Engine) -> None:
    """Serve AssessmentService on ``server`` (the collector's gRPC server)."""
    pb_grpc.add_AssessmentServiceServicer_to_server(AssessmentServicer(engine), server)
