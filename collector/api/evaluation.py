"""EvaluationService: evaluation runs, their batched results and the feedback they write.

Thin translation between gRPC and ``spyglass.collector.store.evaluation.runs`` (checks and
transactions live there), each store call in a worker thread under time limits
(``api/queries.py``; searches and result lists on the heavy pool). Judge token usage is
priced here with the collector's own price table (the shipped one plus ``--price-file``),
the same one that prices LLM spans.
"""

from __future__ import annotations

import grpc

from spyglass.collector.api.queries import QueryRunner
from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.store.evaluation import runs as store
from spyglass.v1 import evaluation_pb2 as pb
from spyglass.v1 import evaluation_pb2_grpc as pb_grpc


class EvaluationServicer(pb_grpc.EvaluationServiceServicer):
    """The spyglass.v1.EvaluationService methods over one store engine."""

    def __init__(self, queries: QueryRunner, prices: PriceTable) -> None:
        self._engine = queries.engine
        self._queries = queries
        self._prices = prices

    async def CreateEvaluationRun(
        self, request: pb.CreateEvaluationRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.EvaluationRun:
        return await self._queries.call(context, store.create_run, self._engine, request)

    async def LogEvaluationResults(
        self, request: pb.LogEvaluationResultsRequest, context: grpc.aio.ServicerContext
    ) -> pb.LogEvaluationResultsResponse:
        return await self._queries.call(context, store.log_results, self._engine, request)

    async def FinishEvaluationRun(
        self, request: pb.FinishEvaluationRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.EvaluationRun:
        return await self._queries.call(
            context, store.finish_run, self._engine, request, self._prices
        )

    async def GetEvaluationRun(
        self, request: pb.GetEvaluationRunRequest, context: grpc.aio.ServicerContext
    ) -> pb.EvaluationRun:
        return await self._queries.call(context, store.get_run, self._engine, request.run_id)

    async def SearchEvaluationRuns(
        self, request: pb.SearchEvaluationRunsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchEvaluationRunsResponse:
        return await self._queries.search(context, store.search_runs, self._engine, request)

    async def ListEvaluationResults(
        self, request: pb.ListEvaluationResultsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListEvaluationResultsResponse:
        return await self._queries.search(context, store.list_results, self._engine, request)


def add_to_server(
    server: grpc.aio.Server, queries: QueryRunner, price_file: str | None = None
) -> None:
    """Serve EvaluationService on ``server``, pricing judge tokens with the shipped price
    table merged with ``price_file`` (the collector's ``--price-file``)."""
    servicer = EvaluationServicer(queries, PriceTable.load(price_file))
    pb_grpc.add_EvaluationServiceServicer_to_server(servicer, server)
