"""The collector's ``grpc.health.v1.Health`` service: grpcio's asyncio servicer, which
answers Check and Watch but leaves List unimplemented (a call raises inside the servicer
and grpc logs a traceback per call), with List answered from the same statuses."""

from __future__ import annotations

from grpc_health.v1 import health, health_pb2


class HealthServicer(health.aio.HealthServicer):
    """Check, Watch and List of ``grpc.health.v1.Health``; open to every caller."""

    async def List(self, request: health_pb2.HealthListRequest,  # noqa: N802 - gRPC name
                   context: object) -> health_pb2.HealthListResponse:
        """Every service's serving status (``""`` is the collector as a whole)."""
        return health_pb2.HealthListResponse(statuses={
            name: health_pb2.HealthCheckResponse(status=status)
            for name, status in self._server_status.items()})
