"""Shared by the tests that drive the real ``openai`` client against ``LocalLLM`` (the
server itself is the ``llm`` fixture in ``tests/conftest.py``): the judge-verdict model
``parse`` is asked for."""

from __future__ import annotations

from typing import Literal

import pydantic


class Verdict(pydantic.BaseModel):
    rationale: str
    result: Literal["yes", "no"]
