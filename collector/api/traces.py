"""The TraceService and ExperimentService of spyglass.v1: search, read, tag and delete traces;
create, find and configure experiments.

The servicers only translate messages: the queries live in
:mod:`spyglass.collector.store.traces.queries` and
:mod:`spyglass.collector.store.traces.experiment_queries` and run in worker threads under
time limits (``api/queries.py``: searches, batch reads and deletes on the heavy pool), so the
event loop keeps serving OTLP while a search runs. Errors become statuses in ``api/errors.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from spyglass.collector.api.queries import QueryRunner
from spyglass.collector.store.traces import experiment_queries as experiments
from spyglass.collector.store.traces import queries as store
from spyglass.collector.store.traces import sessions, usage
from spyglass.errors import InvalidArgumentError
from spyglass.v1 import experiments_pb2, experiments_pb2_grpc, traces_pb2, traces_pb2_grpc


class TraceService(traces_pb2_grpc.TraceServiceServicer):
    """spyglass.v1.TraceService over the collector's store."""

    def __init__(self, queries: QueryRunner) -> None:
        self.engine = queries.engine
        self._queries = queries

    async def SearchTraces(
        self,
        request: traces_pb2.SearchTracesRequest,
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[traces_pb2.SearchTracesPage]:
        """Stream pages until no match follows or ``max_results`` traces were sent; always
        at least one page (an empty one when nothing matches)."""
        page_size, remaining = await self._queries.call(context, _limits, request)
        search = await self._queries.search(
            context,
            store.compile_search,
            self.engine.dialect.name,
            list(request.experiment_ids),
            request.filter,
            list(request.order_by),
            request.include_spans,
        )
        token = request.page_token
        while True:
            limit = page_size if remaining is None else min(page_size, remaining)
            page = await self._queries.search(
                context, store.search_page, self.engine, search, token, limit
            )
            yield traces_pb2.SearchTracesPage(traces=page.traces, next_page_token=page.next_token)
            if remaining is not None:
                remaining -= len(page.traces)
            if not page.next_token or remaining == 0:
                return
            token = page.next_token

    async def GetTrace(
        self, request: traces_pb2.GetTraceRequest, context: grpc.aio.ServicerContext
    ) -> traces_pb2.Trace:
        return await self._queries.call(context, store.get_trace, self.engine, request.trace_id)

    async def BatchGetTraces(
        self,
        request: traces_pb2.BatchGetTracesRequest,
        context: grpc.aio.ServicerContext,
    ) -> traces_pb2.BatchGetTracesResponse:
        found = await self._queries.search(
            context, store.batch_get_traces, self.engine, list(request.trace_ids)
        )
        return traces_pb2.BatchGetTracesResponse(traces=found)

    async def SetTraceTag(
        self, request: traces_pb2.SetTraceTagRequest, context: grpc.aio.ServicerContext
    ) -> traces_pb2.SetTraceTagResponse:
        await self._queries.call(
            context, store.set_tag, self.engine, request.trace_id, request.key, request.value
        )
        return traces_pb2.SetTraceTagResponse()

    async def DeleteTraceTag(
        self,
        request: traces_pb2.DeleteTraceTagRequest,
        context: grpc.aio.ServicerContext,
    ) -> traces_pb2.DeleteTraceTagResponse:
        await self._queries.call(
            context, store.delete_tag, self.engine, request.trace_id, request.key
        )
        return traces_pb2.DeleteTraceTagResponse()

    async def SetTraceMetadata(
        self,
        request: traces_pb2.SetTraceMetadataRequest,
        context: grpc.aio.ServicerContext,
    ) -> traces_pb2.SetTraceMetadataResponse:
        await self._queries.call(
            context, store.set_metadata, self.engine, request.trace_id, dict(request.metadata)
        )
        return traces_pb2.SetTraceMetadataResponse()

    async def DeleteTraces(
        self,
        request: traces_pb2.DeleteTracesRequest,
        context: grpc.aio.ServicerContext,
    ) -> traces_pb2.DeleteTracesResponse:
        def present(field: str) -> object:
            return getattr(request, field) if request.HasField(field) else None

        deleted = await self._queries.search(
            context,
            store.delete_traces,
            self.engine,
            list(request.trace_ids),
            present("experiment_id"),
            present("max_timestamp_ms"),
            present("max_traces"),
        )
        return traces_pb2.DeleteTracesResponse(deleted_count=deleted)

    async def SearchSessions(
        self,
        request: traces_pb2.SearchSessionsRequest,
        context: grpc.aio.ServicerContext,
    ) -> traces_pb2.SearchSessionsResponse:
        page = await self._queries.search(
            context,
            sessions.search_sessions,
            self.engine,
            request.experiment_id,
            request.filter,
            request.max_results,
            request.page_token,
        )
        return traces_pb2.SearchSessionsResponse(
            sessions=page.sessions, next_page_token=page.next_token
        )


class ExperimentService(experiments_pb2_grpc.ExperimentServiceServicer):
    """spyglass.v1.ExperimentService over the collector's store."""

    def __init__(self, queries: QueryRunner) -> None:
        self.engine = queries.engine
        self._queries = queries

    async def CreateExperiment(
        self, request: experiments_pb2.CreateExperimentRequest, context: grpc.aio.ServicerContext
    ) -> experiments_pb2.Experiment:
        return await self._queries.call(
            context, experiments.create_experiment, self.engine, request.name, dict(request.tags)
        )

    async def GetExperiment(
        self, request: experiments_pb2.GetExperimentRequest, context: grpc.aio.ServicerContext
    ) -> experiments_pb2.Experiment:
        return await self._queries.call(
            context, experiments.get_experiment, self.engine, request.experiment_id
        )

    async def GetExperimentByName(
        self,
        request: experiments_pb2.GetExperimentByNameRequest,
        context: grpc.aio.ServicerContext,
    ) -> experiments_pb2.Experiment:
        return await self._queries.call(
            context, experiments.get_experiment_by_name, self.engine, request.name
        )

    async def SearchExperiments(
        self,
        request: experiments_pb2.SearchExperimentsRequest,
        context: grpc.aio.ServicerContext,
    ) -> experiments_pb2.SearchExperimentsResponse:
        found, token = await self._queries.search(
            context,
            experiments.search_experiments,
            self.engine,
            request.filter,
            list(request.order_by),
            request.max_results,
            request.page_token,
        )
        return experiments_pb2.SearchExperimentsResponse(experiments=found, next_page_token=token)

    async def SetExperimentRetention(
        self,
        request: experiments_pb2.SetExperimentRetentionRequest,
        context: grpc.aio.ServicerContext,
    ) -> experiments_pb2.Experiment:
        days = request.retention_days if request.HasField("retention_days") else None
        return await self._queries.call(
            context, experiments.set_retention, self.engine, request.experiment_id, days
        )

    async def GetExperimentStats(
        self,
        request: experiments_pb2.GetExperimentStatsRequest,
        context: grpc.aio.ServicerContext,
    ) -> experiments_pb2.GetExperimentStatsResponse:
        return await self._queries.search(
            context, experiments.experiment_stats, self.engine, list(request.experiment_ids)
        )

    async def GetExperimentUsage(
        self,
        request: experiments_pb2.GetExperimentUsageRequest,
        context: grpc.aio.ServicerContext,
    ) -> experiments_pb2.GetExperimentUsageResponse:
        def present(field: str) -> int | None:
            return getattr(request, field) if request.HasField(field) else None

        return await self._queries.search(
            context,
            usage.experiment_usage,
            self.engine,
            request.experiment_id,
            present("start_time_ms"),
            present("end_time_ms"),
            request.bucket,
        )


def add_to_server(server: grpc.aio.Server, queries: QueryRunner) -> None:
    """Register TraceService and ExperimentService on ``server``."""
    traces_pb2_grpc.add_TraceServiceServicer_to_server(TraceService(queries), server)
    experiments_pb2_grpc.add_ExperimentServiceServicer_to_server(ExperimentService(queries), server)


def _limits(request: traces_pb2.SearchTracesRequest) -> tuple[int, int | None]:
    """(page size, total cap or None) of a search, checked."""
    if request.page_size < 0:
        raise InvalidArgumentError(f"page_size must not be negative, got {request.page_size}")
    page_size = min(request.page_size or store.PAGE_SIZE_DEFAULT, store.PAGE_SIZE_MAX)
    if not request.HasField("max_results"):
        return page_size, None
    if request.max_results < 1:
        raise InvalidArgumentError(
            f"max_results must be at least 1, got "
            f"{request.max_results}; leave it unset for every match"
        )
    return page_size, request.max_results
