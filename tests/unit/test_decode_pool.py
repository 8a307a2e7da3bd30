"""How many decode workers a collector starts by default."""

from __future__ import annotations

import os

import pytest

from spyglass.collector.ingest import decode_pool


@pytest.mark.parametrize(("cores", "workers"), [(1, 0), (2, 2), (3, 3), (4, 4), (16, 4)])
def test_one_worker_per_core_up_to_four_and_none_on_one_core(
    monkeypatch: pytest.MonkeyPatch, cores: int, workers: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)), raising=False)
    assert decode_pool.auto_workers() == workers
