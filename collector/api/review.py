"""ReviewService: human-review queues, and the claims by which reviewers share them.

Thin translation between gRPC and ``spyglass.collector.store.review`` (checks and
transactions live there), each store call in a worker thread under time limits
(``api/queries.py``; CreateReviewQueue, which runs the trace filter, on the heavy pool).
"""

from __future__ import annotations

import grpc

from spyglass.collector.api.queries import QueryRunner
from spyglass.collector.store.review import claims, queues
from spyglass.v1 import review_pb2 as pb
from spyglass.v1 import review_pb2_grpc as pb_grpc

Context = grpc.aio.ServicerContext


class ReviewServicer(pb_grpc.ReviewServiceServicer):
    """The spyglass.v1.ReviewService methods over one store engine."""

    def __init__(self, queries: QueryRunner) -> None:
        self._engine = queries.engine
        self._queries = queries

    async def CreateReviewQueue(
        self, request: pb.CreateReviewQueueRequest, context: Context
    ) -> pb.ReviewQueue:
        return await self._queries.search(context, queues.create_queue, self._engine, request)

    async def ListReviewQueues(
        self, request: pb.ListReviewQueuesRequest, context: Context
    ) -> pb.ListReviewQueuesResponse:
        return await self._queries.call(context, queues.list_queues, self._engine, request)

    async def GetReviewQueue(
        self, request: pb.GetReviewQueueRequest, context: Context
    ) -> pb.ReviewQueue:
        return await self._queries.call(context, queues.get_queue, self._engine, request.queue_id)

    async def DeleteReviewQueue(
        self, request: pb.DeleteReviewQueueRequest, context: Context
    ) -> pb.DeleteReviewQueueResponse:
        await self._queries.call(context, queues.delete_queue, self._engine, request.queue_id)
        return pb.DeleteReviewQueueResponse()

    async def NextReviewItem(
        self, request: pb.NextReviewItemRequest, context: Context
    ) -> pb.NextReviewItemResponse:
        return await self._queries.call(context, claims.next_item, self._engine, request)

    async def SubmitReviewItem(
        self, request: pb.SubmitReviewItemRequest, context: Context
    ) -> pb.ReviewItem:
        return await self._queries.call(context, claims.submit_item, self._engine, request)

    async def SkipReviewItem(
        self, request: pb.SkipReviewItemRequest, context: Context
    ) -> pb.ReviewItem:
        return await self._queries.call(context, claims.skip_item, self._engine, request)

    async def ListReviewItems(
        self, request: pb.ListReviewItemsRequest, context: Context
    ) -> pb.ListReviewItemsResponse:
        return await self._queries.call(context, claims.list_items, self._engine, request)


def add_to_server(server: grpc.aio.Server, queries: QueryRunner) -> None:
    """Serve ReviewService on ``server`` (the collector's gRPC server)."""
    pb_grpc.add_ReviewServiceServicer_to_server(ReviewServicer(queries), server)
