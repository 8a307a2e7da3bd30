"""The :class:`JudgeScorer` base: a scorer whose verdict comes from an LLM.

Subclasses build the task text for a row (raising :class:`ScorerInputError` when the row
lacks what they need) and call :meth:`JudgeScorer.judge`; the verdict becomes a result with
value "yes"/"no", score 1.0/0.0, the model's rationale, source ``LLM_JUDGE`` with the model id,
and the tokens spent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from spyglass.errors import InvalidArgumentError

from ..base import Scorer
from ..results import ScoreResult
from .client import DEFAULT_MALFORMED_RETRIES, ask
from .model import resolve_model

JUDGE_TRACE_METADATA = "spyglass.judge_trace_id"
"""Result metadata key holding the id of the trace of the judge's own model call."""


class JudgeScorer(Scorer):
    """Base class of the LLM judges.

    ``model`` is a model id like ``"openai:/gpt-4o-mini"`` (default: ``SPYGLASS_JUDGE_MODEL``
    or that); ``base_url``/``api_key`` default to ``OPENAI_BASE_URL``/``OPENAI_API_KEY``;
    ``rate_limit`` caps requests per second to the endpoint (shared by every judge and thread
    using it); ``max_retries`` bounds HTTP retries (429/5xx/connection), ``malformed_retries``
    the re-asks after an invalid answer; ``timeout`` is per request, in seconds, while
    ``time_limit`` bounds the whole judgement of one row (requests, retries and waits for the
    rate limit; None: the evaluation's default for judges, 300 s unless changed).
    """

    source_type: ClassVar[str] = "LLM_JUDGE"
    calls_model: ClassVar[bool] = True

    def __init__(
        self,
        *,
        name: str | None = None,
        model: str | None = None,
        aggregations: Sequence[str] | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        rate_limit: float | None = None,
        max_retries: int | None = None,
        malformed_retries: int = DEFAULT_MALFORMED_RETRIES,
        timeout: float | None = None,
        time_limit: float | None = None,
    ) -> None:
        super().__init__(name=name, aggregations=aggregations, time_limit=time_limit)
        self.model = resolve_model(
            model,
            base_url=base_url,
            api_key=api_key,
            rate_limit=rate_limit,
            http_retries=max_retries,
            timeout_s=timeout,
        )
        if not isinstance(malformed_retries, int) or malformed_retries < 0:
            raise InvalidArgumentError(
                f"{type(self).__name__}: malformed_retries must be an "
                f"integer >= 0, got {malformed_retries!r}"
            )
        self.malformed_retries = malformed_retries

    @property
    def source_id(self) -> str:
        return self.model.model_id

    def judge(self, task: str) -> ScoreResult:
        """Ask the model about ``task`` and turn its verdict into this scorer's result."""
        answer = ask(
            self.model, judge=self.name, task=task, malformed_retries=self.malformed_retries
        )
        metadata = {JUDGE_TRACE_METADATA: answer.trace_id} if answer.trace_id else {}
        return ScoreResult(
            name=self.name,
            value=answer.verdict.verdict,
            score=answer.verdict.score,
            rationale=answer.verdict.rationale,
            metadata=metadata,
            source_type=self.source_type,
            source_id=self.source_id,
            usage=answer.usage,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, model={self.model.model_id!r})"


def expected_answer(expectations: dict[str, Any]) -> tuple[str, Any] | None:
    """``("expected_response", text)`` or ``("expected_facts", [facts])``, when present."""
    if expectations.get("expected_response") not in (None, ""):
        return "expected_response", expectations["expected_response"]
    facts = expectations.get("expected_facts")
    if facts not in (None, "", []):
        return "expected_facts", [facts] if isinstance(facts, str) else list(facts)
    return None
