"""EvaluationJobService: evaluation jobs, monitors, and the leases workers take them by.

Thin translation between gRPC and the store modules (``jobs``, ``monitors``, ``workers``,
``job_leases``: checks and transactions live there), each store call in a worker thread
under time limits (``api/queries.py``; SubmitJob, which runs the job's trace filter, on the
heavy pool, so that claims, leases and heartbeats stay prompt). Judge usage a worker
reports on release is priced with the collector's price table, as EvaluationService
prices it.
"""

from __future__ import annotations

import grpc

from spyglass.collector.api.queries import QueryRunner
from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.store.jobs import leases as job_leases
from spyglass.collector.store.jobs import monitor_series, monitors, workers
from spyglass.collector.store.jobs import submit as jobs
from spyglass.v1 import jobs_pb2 as pb
from spyglass.v1 import jobs_pb2_grpc as pb_grpc

Context = grpc.aio.ServicerContext


class EvaluationJobServicer(pb_grpc.EvaluationJobServiceServicer):
    """The spyglass.v1.EvaluationJobService methods over one store engine."""

    def __init__(self, queries: QueryRunner, prices: PriceTable) -> None:
        self._engine = queries.engine
        self._queries = queries
        self._prices = prices

    # -- jobs

    async def SubmitJob(self, request: pb.SubmitJobRequest, context: Context) -> pb.EvaluationJob:
        return await self._queries.search(context, jobs.submit_job, self._engine, request)

    async def GetJob(self, request: pb.GetJobRequest, context: Context) -> pb.EvaluationJob:
        return await self._queries.call(context, jobs.get_job, self._engine, request.job_id)

    async def ListJobs(self, request: pb.ListJobsRequest, context: Context) -> pb.ListJobsResponse:
        return await self._queries.call(context, jobs.list_jobs, self._engine, request)

    async def CancelJob(self, request: pb.CancelJobRequest, context: Context) -> pb.EvaluationJob:
        return await self._queries.call(context, jobs.cancel_job, self._engine, request.job_id)

    # -- monitors

    async def CreateMonitor(self, request: pb.CreateMonitorRequest, context: Context) -> pb.Monitor:
        return await self._queries.call(context, monitors.create_monitor, self._engine, request)

    async def GetMonitor(self, request: pb.GetMonitorRequest, context: Context) -> pb.Monitor:
        return await self._queries.call(
            context, monitors.get_monitor, self._engine, request.monitor
        )

    async def ListMonitors(
        self, request: pb.ListMonitorsRequest, context: Context
    ) -> pb.ListMonitorsResponse:
        return await self._queries.call(context, monitors.list_monitors, self._engine, request)

    async def UpdateMonitor(self, request: pb.UpdateMonitorRequest, context: Context) -> pb.Monitor:
        return await self._queries.call(context, monitors.update_monitor, self._engine, request)

    async def DeleteMonitor(
        self, request: pb.DeleteMonitorRequest, context: Context
    ) -> pb.DeleteMonitorResponse:
        await self._queries.call(context, monitors.delete_monitor, self._engine, request.monitor)
        return pb.DeleteMonitorResponse()

    async def GetMonitorSeries(
        self, request: pb.GetMonitorSeriesRequest, context: Context
    ) -> pb.MonitorSeries:
        return await self._queries.call(
            context, monitor_series.get_monitor_series, self._engine, request
        )

    # -- workers and leases

    async def Heartbeat(
        self, request: pb.HeartbeatRequest, context: Context
    ) -> pb.HeartbeatResponse:
        return await self._queries.call(context, workers.heartbeat, self._engine, request)

    async def ClaimWork(
        self, request: pb.ClaimWorkRequest, context: Context
    ) -> pb.ClaimWorkResponse:
        return await self._queries.call(context, job_leases.claim_work, self._engine, request)

    async def RenewLease(
        self, request: pb.RenewLeaseRequest, context: Context
    ) -> pb.RenewLeaseResponse:
        return await self._queries.call(context, job_leases.renew_lease, self._engine, request)

    async def LogWorkResults(
        self, request: pb.LogWorkResultsRequest, context: Context
    ) -> pb.LogWorkResultsResponse:
        return await self._queries.call(context, job_leases.log_work_results, self._engine, request)

    async def ReleaseLease(
        self, request: pb.ReleaseLeaseRequest, context: Context
    ) -> pb.ReleaseLeaseResponse:
        return await self._queries.call(
            context, job_leases.release_lease, self._engine, request, self._prices
        )


def add_to_server(
    server: grpc.aio.Server, queries: QueryRunner, price_file: str | None = None
) -> None:
    """Serve EvaluationJobService on ``server``, pricing judge tokens with the shipped
    price table merged with ``price_file`` (the collector's ``--price-file``)."""
    servicer = EvaluationJobServicer(queries, PriceTable.load(price_file))
    pb_grpc.add_EvaluationJobServiceServicer_to_server(servicer, server)
