"""EvaluationService: evaluation runs, their batched results and the feedback they write.

Thin translation between gRPC and ``spyglass.collector.store.evaluation_runs`` (checks and
transactions live there), each store call in a worker thread via ``call_store``. Judge token
usage is priced here with the collector's own price table (the shipped one plus
``--price-file``), the same one that prices LLM spans.
"""

from __future__ import annotations

import grpc
from sqlalchemy import Engine

from spyglass.collector.api.errors import call_store
from spyglass.collector.cost import PriceTable
from spyglass.collector.store import evaluation_runs as store
from spyglass.v1 import evaluation_pb2 as pb
from spyglass.v1 import evaluation_pb2_grpc as pb_grpc


class EvaluationServicer(pb_grpc.EvaluationServiceServicer):
    """The spyglass.v1.EvaluationService methods over one store engine."""

    def __init__(self, engine: Engine, prices: PriceTable) -> None:
        self._engine = engine
        self._prices = prices

    async def CreateEvaluationRun(self, request: pb.CreateEvaluationRunRequest,
                                  context: grpc.aio.ServicerContext) -> pb.EvaluationRun:
        return await call_store(context, store.create_run, self._engine, request)

    async def LogEvaluationResults(self, request: pb.LogEvaluationResultsRequest,
                                   context: grpc.aio.ServicerContext
                                   ) -> pb.LogEvaluationResultsResponse:
        return await call_store(context, store.log_results, self._engine, request)

    async def FinishEvaluationRun(self, request: pb.FinishEvaluationRunRequest,
                                  context: grpc.aio.ServicerContext) -> pb.EvaluationRun:
        return await call_store(context, store.finish_run, self._engine, request, self._prices)

    async def GetEvaluationRun(self, request: pb.GetEvaluationRunRequest,
                               context: grpc.aio.ServicerContext) -> pb.EvaluationRun:
        return await call_store(context, store.get_run, self._engine, request.run_id)

    async def SearchEvaluationRuns(self, request: pb.SearchEvaluationRunsRequest,
                                   context: grpc.aio.ServicerContext
                                   ) -> pb.SearchEvaluationRunsResponse:
        return await call_store(context, store.search_runs, self._engine, request)

    async def ListEvaluationResults(self, request: pb.ListEvaluationResultsRequest,
                                    context: grpc.aio.ServicerContext
                                    ) -> pb.ListEvaluationResultsResponse:
        return await call_store(context, store.list_results, self._engine, request)


def add_to_server(server: grpc.aio.Server, engine: Engine,
                  price_file: str | None = None) -> None:
    """Serve EvaluationService on ``server``, pricing judge tokens with the shipped price
    table merged with ``price_file`` (the collector's ``--price-file``)."""
    servicer = EvaluationServicer(engine, PriceTable.load(price_file))
    pb_grpc.add_EvaluationServiceServicer_to_server(servicer, server)
