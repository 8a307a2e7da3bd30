"""The evaluator service's rate for judge endpoints (``endpoints.set_service_rate``): it
paces every endpoint, those used before and those first used later, may go up as well as
down as workers come and go, and never loosens a judge's own stricter ``rate_limit``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from spyglass.errors import ConfigurationError
from spyglass.evaluator.scorers.judges import endpoints
from spyglass.evaluator.scorers.judges.model import Endpoint


@pytest.fixture(autouse=True)
def fresh_endpoints() -> Iterator[None]:
    endpoints.reset()
    yield
    endpoints.reset()


def endpoint(base_url: str, rate_limit: float | None = None) -> Endpoint:
    return Endpoint(
        base_url=base_url, api_key="k", http_retries=0, timeout_s=5.0, rate_limit=rate_limit
    )


def permits(limiter: Any, tries: int = 50) -> int:
    """Permits granted at once (without waiting) out of ``tries``."""
    return sum(1 for _ in range(tries) if limiter.try_acquire("t", blocking=False))


def test_the_service_rate_paces_endpoints_first_used_later() -> None:
    endpoints.set_service_rate(2.0)
    poster = endpoints.json_endpoint(endpoint("http://judge-a/v1"), owner="judge 'a'")
    limiter = endpoints._limiters["http://judge-a/v1"]

    assert limiter.rate == 2.0
    poster.client._permit()  # what every request of the judge's connections pays first
    assert permits(limiter) == 1  # 2 per second: the third waits


def test_the_service_rate_goes_up_and_down_for_endpoints_in_use() -> None:
    endpoints.set_service_rate(8.0)
    endpoints.json_endpoint(endpoint("http://judge-a/v1"), owner="judge 'a'")
    limiter = endpoints._limiters["http://judge-a/v1"]

    endpoints.set_service_rate(2.0)  # two more workers came
    assert limiter.rate == 2.0 and permits(limiter) == 2
    endpoints.set_service_rate(5.0)  # one left: the share grows again
    assert limiter.rate == 5.0 and permits(limiter) == 5
    endpoints.set_service_rate(None)  # no service limit: unpaced
    assert limiter.rate == float("inf") and permits(limiter) == 50


def test_a_judge_stricter_own_rate_still_wins() -> None:
    endpoints.json_endpoint(endpoint("http://judge-a/v1", rate_limit=1.0), owner="judge 'a'")
    limiter = endpoints._limiters["http://judge-a/v1"]

    endpoints.set_service_rate(4.0)
    assert limiter.rate == 1.0
    endpoints.set_service_rate(0.5)
    assert limiter.rate == 0.5
    endpoints.set_service_rate(None)
    assert limiter.rate == 1.0 and permits(limiter) == 1


def test_every_endpoint_gets_the_service_rate_and_reset_forgets_it() -> None:
    endpoints.json_endpoint(endpoint("http://judge-a/v1", rate_limit=50.0), owner="judge 'a'")
    endpoints.set_service_rate(3.0)
    endpoints.openai_client(endpoint("http://judge-b/v1"), owner="embedding")

    assert endpoints._limiters["http://judge-a/v1"].rate == 3.0
    assert endpoints._limiters["http://judge-b/v1"].rate == 3.0
    endpoints.reset()
    endpoints.json_endpoint(endpoint("http://judge-c/v1"), owner="judge 'c'")
    assert "http://judge-c/v1" not in endpoints._limiters


@pytest.mark.parametrize("rate", [0, -1.0, float("nan"), float("inf")])
def test_a_rate_that_cannot_pace_is_refused(rate: float) -> None:
    with pytest.raises(ConfigurationError, match="requests per second > 0"):
        endpoints.set_service_rate(rate)


def test_a_share_below_one_request_a_second_is_one_request_per_interval() -> None:
    endpoints.set_service_rate(0.0004)  # e.g. 0.004 req/s shared by 10 live workers
    endpoints.json_endpoint(endpoint("http://judge-a/v1"), owner="judge 'a'")
    limiter = endpoints._limiters["http://judge-a/v1"]
    assert limiter.rate == 0.0004
    assert permits(limiter) == 1  # one now, the next in 2,500 s
    assert endpoints._pyrate(lambda n, ms: (n, ms), 0.0004) == (1, 2_500_000)
    assert endpoints._pyrate(lambda n, ms: (n, ms), 2.5) == (5, 2000)
