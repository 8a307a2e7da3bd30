"""Custom scorers of every shape a scorer reference can point at, for tests.

Import paths ``scorer_fixtures.support_scorers:<attribute>`` (with ``tests/`` on sys.path);
as a ``--scorers-module`` it registers ``contains_required_info`` and ``short_answer``
(``concise`` too: that scorer's name). All are code scorers: no model needed.
"""

from __future__ import annotations

from typing import Any

from spyglass.evaluator.scorers import Feedback, Scorer, scorer


@scorer
def contains_required_info(outputs: Any, expectations: dict) -> Feedback | None:
    """Does the output mention every term of ``expectations["required_info"]`` (case
    ignored)? Not applicable (None) when the row lists none."""
    required = expectations.get("required_info")
    if not required:
        return None
    terms = [required] if isinstance(required, str) else list(required)
    text = str(outputs).lower()
    missing = [t for t in terms if str(t).lower() not in text]
    return Feedback(
        value=not missing, rationale=f"missing: {', '.join(missing)}" if missing else "all present"
    )


def mentions_refund(outputs: Any) -> bool:
    """A plain function (no decorator): a reference with no params wraps it with @scorer."""
    return "refund" in str(outputs).lower()


class LengthAtMost(Scorer):
    """A Scorer class: a reference instantiates it with its params (``max_chars``, ``name``)."""

    def __init__(self, *, max_chars: int = 200, name: str | None = None) -> None:
        super().__init__(name=name)
        if not isinstance(max_chars, int) or max_chars < 1:
            raise ValueError(f"max_chars must be a whole number >= 1, got {max_chars!r}")
        self.max_chars = max_chars

    def __call__(self, outputs: Any) -> bool:
        return len(str(outputs)) <= self.max_chars


short_answer = LengthAtMost(max_chars=80, name="concise")
"""A Scorer instance: referenced as is (params may only rename it)."""


def make_keyword_scorer(keyword: str, name: str | None = None) -> Scorer:
    """A factory: a reference calls it with its params and gets a Scorer."""

    def has_keyword(outputs: Any) -> bool:
        return keyword.lower() in str(outputs).lower()

    return scorer(has_keyword, name=name or f"mentions_{keyword}")


def not_a_factory(keyword: str) -> str:
    """Returns no scorer: a reference to it is an error."""
    return keyword


class NotAScorer:
    """A class that is not a Scorer: a reference to it is an error."""


ANSWER_LIMIT = 80
"""Not callable: a reference to it is an error."""
