"""Shared by the tests that drive the real ``openai`` client against ``LocalLLM``: one
server per test module, and the judge-verdict model ``parse`` is asked for."""

from __future__ import annotations

from typing import Iterator, Literal

import pydantic
import pytest

from spyglass.local_llm import LocalLLM


class Verdict(pydantic.BaseModel):
    rationale: str
    result: Literal["yes", "no"]


@pytest.fixture(scope="module")
def llm() -> Iterator[LocalLLM]:
    """A LocalLLM (no latency) for the whole test module."""
    with LocalLLM() as server:
        yield server
