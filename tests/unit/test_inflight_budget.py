"""The in-flight byte budget receivers reserve from while a body arrives."""

from __future__ import annotations

import pytest

from spyglass.collector.ingest.pipeline import InflightBudget
from spyglass.errors import OverloadedError


def test_reservations_grow_until_the_budget_is_spent_and_give_back_on_exit() -> None:
    budget = InflightBudget(limit=100, retry_after=2.0)
    with budget.reservation() as first:
        first.grow_to(40)
        first.grow_to(30)  # never shrinks while held
        with budget.reservation() as second:
            second.grow_to(60)
            assert budget.used == 100
            with pytest.raises(OverloadedError, match="--max-inflight-bytes") as refused:
                second.grow_to(61)
            assert refused.value.retry_after == 2.0
            assert (second.size, budget.used) == (60, 100)
        assert budget.used == 40
    assert budget.used == 0


def test_a_request_alone_in_flight_may_exceed_the_budget() -> None:
    budget = InflightBudget(limit=10, retry_after=1.0)
    with budget.reservation() as alone:
        alone.grow_to(5)
        alone.grow_to(50)
        with pytest.raises(OverloadedError, match="50 bytes of requests are in flight"):
            budget.reservation().grow_to(1)
    assert budget.used == 0


def test_release_is_idempotent() -> None:
    budget = InflightBudget(limit=10, retry_after=1.0)
    reservation = budget.reservation()
    reservation.grow_to(7)
    reservation.release()
    reservation.release()
    assert budget.used == 0
