"""The query and write API (``spyglass.v1`` gRPC services), served on the collector's gRPC
port beside OTLP and protected by the same API keys.

Each module exposes ``add_to_server(server, engine)``; the services read and write the
store directly (never through the span writer's queue), running database calls in worker
threads so the event loop keeps serving OTLP.
"""

from __future__ import annotations

import grpc
from sqlalchemy import Engine


def add_to_server(server: grpc.aio.Server, engine: Engine,
                  price_file: str | None = None) -> None:
    """Register every spyglass.v1 service on ``server`` (``price_file``: the collector's
    ``--price-file``, for services that price tokens)."""
    from spyglass.collector.api import assessments, datasets, evaluation, jobs, traces

    traces.add_to_server(server, engine)
    assessments.add_to_server(server, engine)
    datasets.add_to_server(server, engine)
    evaluation.add_to_server(server, engine, price_file)
    jobs.add_to_server(server, engine, price_file)
