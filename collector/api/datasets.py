"""DatasetService: datasets and their records, over the store functions of
:mod:`spyglass.collector.store.datasets.catalog` (datasets) and
:mod:`spyglass.collector.store.datasets.records` (records).

The servicer only translates messages; every store call runs in a worker thread under time
limits (``api/queries.py``; searches, record lists and merges on the heavy pool), errors
become statuses in ``api/errors.py``. MergeRecords collects its
client stream first and hands every chunk to one store call, which checks them all and
commits once: a bad record in the last chunk leaves the dataset untouched. MergeTraces
reads the traces from the store and merges them through the same path
(``store/datasets/from_traces.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from spyglass.collector.api.queries import QueryRunner
from spyglass.collector.store.datasets import catalog as store
from spyglass.collector.store.datasets import diff, from_traces, records
from spyglass.v1 import datasets_pb2 as pb
from spyglass.v1 import datasets_pb2_grpc as pb_grpc


class DatasetServicer(pb_grpc.DatasetServiceServicer):
    """The spyglass.v1.DatasetService methods over one store engine."""

    def __init__(self, queries: QueryRunner) -> None:
        self._engine = queries.engine
        self._queries = queries

    async def CreateDataset(
        self, request: pb.CreateDatasetRequest, context: grpc.aio.ServicerContext
    ) -> pb.Dataset:
        return await self._queries.call(
            context,
            store.create_dataset,
            self._engine,
            request.name,
            list(request.experiment_ids),
            dict(request.tags),
            request.user,
        )

    async def GetDataset(
        self, request: pb.GetDatasetRequest, context: grpc.aio.ServicerContext
    ) -> pb.Dataset:
        version = request.version if request.HasField("version") else None
        return await self._queries.call(
            context, store.get_dataset, self._engine, request.dataset_id, request.name, version
        )

    async def SearchDatasets(
        self, request: pb.SearchDatasetsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchDatasetsResponse:
        found, token = await self._queries.search(
            context,
            store.search_datasets,
            self._engine,
            list(request.experiment_ids),
            request.filter,
            request.max_results,
            list(request.order_by),
            request.page_token,
            request.with_source_counts,
        )
        return pb.SearchDatasetsResponse(datasets=found, next_page_token=token)

    async def DeleteDataset(
        self, request: pb.DeleteDatasetRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteDatasetResponse:
        await self._queries.call(context, store.delete_dataset, self._engine, request.dataset_id)
        return pb.DeleteDatasetResponse()

    async def SetDatasetTags(
        self, request: pb.SetDatasetTagsRequest, context: grpc.aio.ServicerContext
    ) -> pb.Dataset:
        return await self._queries.call(
            context,
            store.set_tags,
            self._engine,
            request.dataset_id,
            dict(request.tags),
            list(request.delete_keys),
            request.user,
        )

    async def AddDatasetExperiments(
        self, request: pb.AddDatasetExperimentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.Dataset:
        return await self._queries.call(
            context,
            store.add_experiments,
            self._engine,
            request.dataset_id,
            list(request.experiment_ids),
            request.user,
        )

    async def RemoveDatasetExperiments(
        self, request: pb.RemoveDatasetExperimentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.Dataset:
        return await self._queries.call(
            context,
            store.remove_experiments,
            self._engine,
            request.dataset_id,
            list(request.experiment_ids),
            request.user,
        )

    async def MergeRecords(
        self,
        request_iterator: AsyncIterator[pb.MergeRecordsRequest],
        context: grpc.aio.ServicerContext,
    ) -> pb.MergeRecordsResponse:
        stream = records.MergeStream()
        async for chunk in request_iterator:  # each chunk checked while the next one comes
            await self._queries.search(context, stream.add, self._engine, chunk)
        return await self._queries.search(context, stream.merge, self._engine)

    async def MergeTraces(
        self, request: pb.MergeTracesRequest, context: grpc.aio.ServicerContext
    ) -> pb.MergeRecordsResponse:
        return await self._queries.search(
            context,
            from_traces.merge_traces,
            self._engine,
            request.dataset_id,
            list(request.trace_ids),
            request.user,
        )

    async def ListRecords(
        self, request: pb.ListRecordsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRecordsResponse:
        version = request.version if request.HasField("version") else None
        return await self._queries.search(
            context,
            records.list_records,
            self._engine,
            request.dataset_id,
            version,
            request.page_size,
            request.page_token,
            request.contains,
        )

    async def DeleteRecords(
        self, request: pb.DeleteRecordsRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteRecordsResponse:
        return await self._queries.call(
            context,
            records.delete_records,
            self._engine,
            request.dataset_id,
            list(request.dataset_record_ids),
            request.user,
        )

    async def ListDatasetVersions(
        self,
        request: pb.ListDatasetVersionsRequest,
        context: grpc.aio.ServicerContext,
    ) -> pb.ListDatasetVersionsResponse:
        versions = await self._queries.call(
            context, store.list_versions, self._engine, request.dataset_id
        )
        return pb.ListDatasetVersionsResponse(versions=versions)

    async def DiffDatasetVersions(
        self,
        request: pb.DiffDatasetVersionsRequest,
        context: grpc.aio.ServicerContext,
    ) -> pb.DiffDatasetVersionsResponse:
        to_version = request.to_version if request.HasField("to_version") else None
        return await self._queries.search(
            context,
            diff.diff_versions,
            self._engine,
            request.dataset_id,
            request.from_version,
            to_version,
            request.max_results,
        )


def add_to_server(server: grpc.aio.Server, queries: QueryRunner) -> None:
    """Serve DatasetService on ``server`` (the collector's gRPC server)."""
    pb_grpc.add_DatasetServiceServicer_to_server(DatasetServicer(queries), server)
