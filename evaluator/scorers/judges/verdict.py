"""The structured answer a judge asks for, and its validation.

Judges request JSON through ``response_format`` (a strict JSON schema: ``rationale`` and a
``verdict`` of "yes" or "no") and validate what comes back with pydantic. Anything else — not
JSON, missing fields, a verdict outside yes/no — is a :class:`MalformedAnswer`, which the judge
client answers by asking again, up to its retry budget.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

VERDICT_SCHEMA = {
    "type": "object",
    "properties": {
        "rationale": {"type": "string", "description": "Why, in two or three sentences."},
        "verdict": {"type": "string", "enum": ["yes", "no"]},
    },
    "required": ["rationale", "verdict"],
    "additionalProperties": False,
}

RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "judgement", "strict": True, "schema": VERDICT_SCHEMA},
}

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL | re.IGNORECASE)


class MalformedAnswer(ValueError):
    """The judge model's reply is not a valid verdict object."""


class Verdict(BaseModel):
    """A judge's answer: "yes" (the good outcome) or "no", and why."""

    model_config = ConfigDict(extra="ignore")

    rationale: str
    verdict: Literal["yes", "no"]

    @field_validator("verdict", mode="before")
    @classmethod
    def _normalise(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def score(self) -> float:
        return 1.0 if self.verdict == "yes" else 0.0


def parse_verdict(text: str | None) -> Verdict:
    """The verdict in ``text`` (a JSON object, optionally in a Markdown code fence)."""
    if not text or not text.strip():
        raise MalformedAnswer("the reply was empty")
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text
    try:
        return Verdict.model_validate_json(body)
    except ValidationError as exc:
        raise MalformedAnswer(_describe(exc, body)) from None


def _describe(exc: ValidationError, body: str) -> str:
    error = exc.errors()[0]
    if error["type"] in ("json_invalid", "json_type"):
        return f"it is not a JSON object ({body[:80]!r})"
    where = ".".join(str(p) for p in error["loc"]) or "the object"
    return f"{where}: {error['msg']}"
