"""A scorer with latency for the evaluator service's end-to-end tests, named by import path
with params (``{"type": "tests.e2e.service_scorers:slowly", "seconds": 0.05}``: a factory).

A job that uses it lasts long enough for a test to stop a worker in the middle of it. The
other custom scorers the tests name live in ``tests/scorer_fixtures/support_scorers.py``.
"""

from __future__ import annotations

import time
from typing import Any

from spyglass.evaluator.scorers import Scorer, scorer


def slowly(seconds: float) -> Scorer:
    """``slow_days``: does the answer give a delay in days? Answered after ``seconds``."""

    @scorer(name="slow_days")
    def slow_days(outputs: Any) -> bool:
        time.sleep(seconds)
        return "days" in str(outputs)

    return slow_days
