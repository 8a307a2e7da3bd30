"""``make_judge``: a yes/no LLM judge from instructions with row placeholders.

The instructions name what the judge reads with ``{{ inputs }}``, ``{{ outputs }}`` and
``{{ expectations }}`` (spaces inside the braces optional). The judge receives exactly the
arguments its placeholders name. Instructions with no placeholder, or with any other
placeholder, are rejected when the judge is made, with the accepted names in the message.
"""

from __future__ import annotations

import re
from typing import Any

from spyglass.errors import InvalidArgumentError

from ..arguments import ROW_ARGUMENTS
from ..base import ScorerInputError, check_name
from ..results import ScoreResult
from . import prompts
from .base import JudgeScorer

PLACEHOLDERS = ("inputs", "outputs", "expectations")
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_CLOSING = (
    'Answer the instructions above with "yes" or "no" in the "verdict" field, as they '
    'ask, and explain why in the "rationale" field.'
)


def placeholders(instructions: str) -> tuple[str, ...]:
    """The row placeholders ``instructions`` uses (typed error on unknown ones or none)."""
    found = [m.group(1).strip() for m in _PLACEHOLDER.finditer(instructions)]
    unknown = sorted({f for f in found if f not in PLACEHOLDERS})
    if unknown:
        raise InvalidArgumentError(
            "make_judge: unknown placeholder(s) "
            f"{', '.join('{{ ' + u + ' }}' for u in unknown)} in instructions; use only "
            f"{', '.join('{{ ' + p + ' }}' for p in PLACEHOLDERS)}"
        )
    if not found:
        raise InvalidArgumentError(
            "make_judge: the instructions use no placeholder, so the judge would never see "
            "the row; refer to what it judges with "
            f"{', '.join('{{ ' + p + ' }}' for p in PLACEHOLDERS)}"
        )
    return tuple(a for a in ROW_ARGUMENTS if a in found)


class InstructionsJudge(JudgeScorer):
    """A judge made by :func:`make_judge`."""

    def __init__(
        self, *, name: str, instructions: str, model: str | None = None, **options: Any
    ) -> None:
        if not isinstance(instructions, str) or not instructions.strip():
            raise InvalidArgumentError(
                "make_judge: instructions must be a non-empty string "
                f"with placeholders, got {instructions!r}"
            )
        declared = placeholders(instructions)
        super().__init__(name=check_name(name, "make_judge"), model=model, **options)
        self.instructions = instructions
        self._declared = declared

    def __call__(self, **row: Any) -> ScoreResult:
        if "expectations" in row and not row["expectations"]:
            raise ScorerInputError(
                f"judge {self.name!r} needs expectations: its instructions "
                "use {{ expectations }} and the row has none"
            )
        text = _PLACEHOLDER.sub(
            lambda m: prompts.render(row[m.group(1).strip()]), self.instructions
        )
        return self.judge(f"{text}\n\n{_CLOSING}")


def make_judge(
    name: str, instructions: str, model: str | None = None, **options: Any
) -> InstructionsJudge:
    """A yes/no judge named ``name`` that follows ``instructions``.

    ``options`` are those of every judge (``base_url``, ``api_key``, ``rate_limit``,
    ``max_retries``, ``malformed_retries``, ``timeout``, ``time_limit``, ``aggregations``).
    """
    return InstructionsJudge(name=name, instructions=instructions, model=model, **options)
