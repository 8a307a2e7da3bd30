"""SpyglassClient.collect: every item of every page, following page tokens, up to a limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc

from spyglass.client import SpyglassClient
from spyglass.v1 import jobs_pb2 as pb

PAGES = {"": (["a", "b"], "t1"), "t1": (["c", "d"], "t2"), "t2": (["e"], "")}


def fake_list_jobs(seen: list[str]):  # type: ignore[no-untyped-def]
    def method(
        request: pb.ListJobsRequest, timeout: float, metadata: object
    ) -> pb.ListJobsResponse:
        seen.append(request.page_token)
        ids, token = PAGES[request.page_token]
        return pb.ListJobsResponse(
            jobs=[pb.EvaluationJob(job_id=i) for i in ids], next_page_token=token
        )

    return method


def test_collect_follows_tokens_to_the_last_page_or_the_limit() -> None:
    # a gRPC server with no services: the client's first call finds a peer that answers, and
    # the paging runs on the fake methods below
    server = grpc.server(ThreadPoolExecutor(max_workers=1))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    client = SpyglassClient(f"127.0.0.1:{port}")
    try:
        seen: list[str] = []
        every = client.collect(fake_list_jobs(seen), pb.ListJobsRequest(), "jobs")
        assert [j.job_id for j in every] == ["a", "b", "c", "d", "e"]
        assert seen == ["", "t1", "t2"]
        seen.clear()
        three = client.collect(fake_list_jobs(seen), pb.ListJobsRequest(), "jobs", limit=3)
        assert [j.job_id for j in three] == ["a", "b", "c"]
        assert seen == ["", "t1"]  # stops asking once it has enough
    finally:
        client.close()
        server.stop(None)
