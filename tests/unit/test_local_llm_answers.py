"""What the local stand-in model answers, without a server: context answers, "I don't know",
and JSON values filling a judge's schema."""

from __future__ import annotations

import pytest

from spyglass.local_llm.answers import (
    DONT_KNOW,
    RATIONALE_NO,
    RATIONALE_YES,
    json_answer,
    plain_answer,
    says_dont_know,
)


@pytest.mark.parametrize(
    "context, answered",
    [
        ("Standard: 5-7 days. Express available.", True),
        ("Full refunds within 30 days with receipt.", True),
        ("", False),
        ("No matching policy found.", False),
        ("No relevant information", False),
        ("none", False),
        ("N/A", False),
    ],
)
def test_context_is_answered_unless_empty_or_nothing_found(context: str, answered: bool) -> None:
    answer = plain_answer(f"Context: {context}\n\nQuestion: How long does shipping take?")
    assert (answer == f"Based on the available information: {context}") is answered
    assert (answer == DONT_KNOW) is not answered


def test_no_context_names_the_question() -> None:
    assert '"Tell me a joke"' in plain_answer("Tell me a joke")


def test_dont_know_detection_ignores_case_and_curly_apostrophes() -> None:
    assert says_dont_know("well, I DON\u2019T KNOW that")
    assert not says_dont_know("I do know")


def test_json_object_mode_gives_result_and_rationale() -> None:
    assert json_answer(None, "fine") == {"result": "yes", "rationale": RATIONALE_YES}
    assert json_answer(None, "I don't know") == {"result": "no", "rationale": RATIONALE_NO}


def test_schema_filling_follows_types_and_names() -> None:
    schema = {
        "type": "object",
        "properties": {
            "verdict": {"type": "string"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "tone": {"enum": ["calm", "angry"]},
            "details": {
                "type": "object",
                "properties": {"reasoning": {"type": "string"}, "flags": {"type": "array"}},
            },
            "maybe": {"type": ["null", "integer"]},
        },
    }
    assert json_answer(schema, "ok") == {
        "verdict": "yes",
        "confidence": 0.0,
        "tone": "calm",
        "details": {"reasoning": RATIONALE_YES, "flags": []},
        "maybe": 0,
    }
    assert json_answer(schema, "I don't know")["tone"] == "angry"  # no yes/no: the last one
