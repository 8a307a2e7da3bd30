"""What the local stand-in model says: plain answers built from the prompt, and JSON answers
that fill a requested schema (judge verdicts included).

Deterministic on purpose, so tests and the demo can predict every answer: a prompt with a
``Context: ...`` line is answered from that context, and with "I don't know based on the
available information" when the context is empty or says nothing was found ("No matching
policy found.").
A judge schema's yes/no verdict is "no" exactly when the judged text contains "I don't know".
"""

from __future__ import annotations

import re
from typing import Any

DONT_KNOW = "I don't know based on the available information."
_CONTEXT = re.compile(r"context\s*:\s*(.*?)(?=\n\s*\n|question\s*:|$)", re.IGNORECASE | re.DOTALL)
_QUESTION = re.compile(r"question\s*:\s*(.*)", re.IGNORECASE | re.DOTALL)
_NOTHING_FOUND = re.compile(
    r"^(none|n/a|null|-*|no\b.*\b(found|match\w*|relevant|information|"
    r"context|results?|policy|documents?)\b.*)$",
    re.IGNORECASE,
)
_VERDICT_NAMES = frozenset(
    {
        "result",
        "verdict",
        "value",
        "answer",
        "label",
        "rating",
        "assessment",
        "decision",
        "outcome",
        "judgement",
        "judgment",
        "passed",
        "pass",
        "correct",
        "score",
    }
)
_RATIONALE_NAMES = ("rationale", "reason", "explanation", "justification", "reasoning")
_POSITIVE = ("yes", "pass", "passed", "true", "correct", "good", "safe")
_NEGATIVE = ("no", "fail", "failed", "false", "incorrect", "bad", "unsafe")
RATIONALE_YES = "The response addresses the request using the information it was given."
RATIONALE_NO = "The response says it does not know, so it does not answer the request."


def message_text(content: Any) -> str:
    """The text of an OpenAI message ``content``: a string, or a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "\n".join(parts)
    return str(content)


def word_count(*texts: str) -> int:
    """Token counts of the stand-in model: whitespace-separated words."""
    return sum(len(text.split()) for text in texts)


def plain_answer(user_text: str) -> str:
    """The answer to a user message: its ``Context:`` unless that is empty or says nothing
    was found (then "I don't know ..."); without a context, a reply naming the question."""
    context_match = _CONTEXT.search(user_text)
    question_match = _QUESTION.search(user_text)
    question = (question_match.group(1) if question_match else user_text).strip()
    if context_match is None:
        short = " ".join(question.split())[:200]
        return f'Here is a helpful answer to "{short}" from the local stand-in model.'
    context = " ".join(context_match.group(1).split())
    if _NOTHING_FOUND.match(context.strip(" .")):
        return DONT_KNOW
    return f"Based on the available information: {context}"


def says_dont_know(text: str) -> bool:
    """Whether ``text`` contains "I don't know" (any case, straight or curly apostrophe)."""
    return "i don't know" in text.lower().replace("\u2019", "'")


def json_answer(schema: dict[str, Any] | None, judged_text: str) -> Any:
    """A value matching ``schema`` (None: the json_object mode), with verdict-like fields
    answering "no" when ``judged_text`` says "I don't know" and "yes" otherwise."""
    positive = not says_dont_know(judged_text)
    if not schema:
        return {
            "result": "yes" if positive else "no",
            "rationale": RATIONALE_YES if positive else RATIONALE_NO,
        }
    return _fill(schema, schema, positive, None, 0)


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    while isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for key in ref[2:].split("/"):
            target = target.get(key, {}) if isinstance(target, dict) else {}
        schema = target if isinstance(target, dict) else {}
        ref = schema.get("$ref")
    return schema


def _fill(schema: Any, root: dict[str, Any], positive: bool, name: str | None, depth: int) -> Any:
    if not isinstance(schema, dict) or depth > 20:
        return None
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key, []) if _resolve(o, root).get("type") != "null"]
        if options:
            return _fill(options[0], root, positive, name, depth + 1)
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return _pick(schema["enum"], positive)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        return {
            key: _fill(sub, root, positive, key, depth + 1)
            for key, sub in schema.get("properties", {}).items()
        }
    if kind == "array":
        count = int(schema.get("minItems", 0))
        return [
            _fill(schema.get("items", {}), root, positive, name, depth + 1) for _ in range(count)
        ]
    return _scalar(kind, schema, positive, (name or "").lower())


def _scalar(kind: str | None, schema: dict[str, Any], positive: bool, name: str) -> Any:
    verdict = name in _VERDICT_NAMES
    if kind == "boolean":
        return positive if verdict else True
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 1)
        value = (high if positive else low) if verdict else low
        return int(value) if kind == "integer" else float(value)
    if any(word in name for word in _RATIONALE_NAMES):
        return RATIONALE_YES if positive else RATIONALE_NO
    if verdict or kind is None:
        return "yes" if positive else "no"
    return "local"


def _pick(options: list[Any], positive: bool) -> Any:
    """The yes-like (or no-like) member of an enum; when there is none, the first member for
    a positive verdict and the last for a negative one (e.g. a 1–5 scale of labels)."""
    wanted = _POSITIVE if positive else _NEGATIVE
    for option in options:
        if isinstance(option, str) and option.strip().lower() in wanted:
            return option
    return options[0] if positive or len(options) < 2 else options[-1]
