"""The query and write API (``spyglass.v1`` gRPC services), served on the collector's gRPC
port beside OTLP and protected by the same API keys, and as JSON on the HTTP port
(``http_json.py``, through the in-process calls of ``local_calls.py``).

Each module exposes ``add_to_server(server, queries, …)``; the services read and write the
store directly (never through the span writer's queue), running database calls in the
query runner's worker threads under its time limits (``queries.py``), so the event loop
keeps serving OTLP.
"""

from __future__ import annotations

import grpc
from sqlalchemy import Engine

from spyglass.collector.api.local_calls import LocalApi
from spyglass.collector.api.queries import DEFAULT_TIMEOUT, QueryRunner


def add_to_server(
    server: grpc.aio.Server,
    engine: Engine,
    price_file: str | None = None,
    query_timeout: float = DEFAULT_TIMEOUT,
    query_workers: int = 4,
    local: LocalApi | None = None,
) -> QueryRunner:
    """Register every spyglass.v1 service on ``server`` (``price_file``: the collector's
    ``--price-file``, for services that price tokens; ``query_timeout`` and
    ``query_workers``: its ``--query-timeout`` and ``--query-workers``). Returns the query
    runner, whose thread pools the caller closes once the server has stopped. With ``local``,
    the same handlers are also recorded there, to be called in-process (the JSON API and the
    web UI)."""
    from spyglass.collector.api import assessments, datasets, evaluation, jobs, review, traces

    if local is not None:
        server = local.recording(server)
    queries = QueryRunner(engine, query_timeout, query_workers)
    traces.add_to_server(server, queries)
    assessments.add_to_server(server, queries)
    datasets.add_to_server(server, queries)
    evaluation.add_to_server(server, queries, price_file)
    jobs.add_to_server(server, queries, price_file)
    review.add_to_server(server, queries)
    return queries
