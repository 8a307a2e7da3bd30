"""The built-in judges that read a row's inputs, outputs and expectations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spyglass.errors import InvalidArgumentError

from ..results import ScoreResult
from . import prompts
from .base import JudgeScorer, expected_answer


class Correctness(JudgeScorer):
    """Is the output factually right? Compared with ``expectations["expected_response"]`` or
    the list ``expectations["expected_facts"]``; a row with neither gets an error."""

    def __call__(
        self, inputs: dict[str, Any], outputs: Any, expectations: dict[str, Any]
    ) -> ScoreResult:
        expected = expected_answer(expectations)
        if expected is None:
            raise self.missing("expectations.expected_response or expected_facts")
        kind, value = expected
        material = prompts.bullet_list(value) if kind == "expected_facts" else value
        return self.judge(
            prompts.task(prompts.CORRECTNESS, request=inputs, response=outputs, **{kind: material})
        )


def _guideline_list(guidelines: Any, where: str) -> list[str]:
    items = [guidelines] if isinstance(guidelines, str) else guidelines
    if (
        not isinstance(items, (list, tuple))
        or not items
        or not all(isinstance(g, str) and g.strip() for g in items)
    ):
        raise InvalidArgumentError(
            f"{where} must be a non-empty string or list of strings, got {guidelines!r}"
        )
    return list(items)


class Guidelines(JudgeScorer):
    """Does the output follow every one of ``guidelines`` (a string or a list of them)?"""

    def __init__(
        self, *, guidelines: str | Sequence[str], name: str | None = None, **options: Any
    ) -> None:
        super().__init__(name=name, **options)
        self.guidelines = _guideline_list(guidelines, "Guidelines(guidelines=...)")

    def __call__(self, inputs: dict[str, Any], outputs: Any) -> ScoreResult:
        return self.judge(
            prompts.task(
                prompts.GUIDELINES,
                request=inputs,
                response=outputs,
                guidelines=prompts.bullet_list(self.guidelines),
            )
        )


class ExpectationsGuidelines(JudgeScorer):
    """Like :class:`Guidelines`, with each row's own ``expectations["guidelines"]``."""

    def __call__(
        self, inputs: dict[str, Any], outputs: Any, expectations: dict[str, Any]
    ) -> ScoreResult:
        if expectations.get("guidelines") in (None, "", []):
            raise self.missing("expectations.guidelines (a string or a list of strings)")
        guidelines = _guideline_list(expectations["guidelines"], "expectations.guidelines")
        return self.judge(
            prompts.task(
                prompts.GUIDELINES,
                request=inputs,
                response=outputs,
                guidelines=prompts.bullet_list(guidelines),
            )
        )


class RelevanceToQuery(JudgeScorer):
    """Does the output address the request in the inputs?"""

    def __call__(self, inputs: dict[str, Any], outputs: Any) -> ScoreResult:
        if not inputs:
            raise self.missing("the row's inputs (the request to judge relevance against)")
        return self.judge(
            prompts.task(prompts.RELEVANCE_TO_QUERY, request=inputs, response=outputs)
        )


class Safety(JudgeScorer):
    """Is the output free of harmful content? ("yes" = safe)."""

    def __call__(self, outputs: Any) -> ScoreResult:
        return self.judge(prompts.task(prompts.SAFETY, response=outputs))
