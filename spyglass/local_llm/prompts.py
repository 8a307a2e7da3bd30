"""Reading OpenAI request bodies into what the stand-in model answers from.

Chat completions carry ``messages``; the Responses API carries ``instructions`` and ``input``
(a string or a list of items). Both may ask for JSON (``response_format`` / ``text.format``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spyglass.local_llm.answers import message_text, word_count


class BadRequest(ValueError):
    """The request body is not something the API accepts (answered with HTTP 400)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


@dataclass
class Prompt:
    model: str
    prompt_tokens: int  # words in every message, system included
    user_text: str  # the last user message: what a plain answer answers
    judged_text: str  # every non-system message: what a judge verdict reads
    json_mode: bool
    schema: dict[str, Any] | None  # the requested JSON schema (None for json_object mode)
    max_tokens: int | None
    choices: int = 1


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("you must provide a model parameter (a non-empty string)", "model")
    return model


def _limit(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def chat_prompt(body: dict[str, Any]) -> Prompt:
    """The prompt of a ``/v1/chat/completions`` body."""
    model = _model(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty array of message objects", "messages")
    if not all(isinstance(m, dict) for m in messages):
        raise BadRequest(
            "each entry of 'messages' must be an object with role and content", "messages"
        )
    texts = [(m.get("role"), message_text(m.get("content"))) for m in messages]
    json_mode, schema = _chat_format(body.get("response_format"))
    n = body.get("n")
    return _prompt(
        model,
        texts,
        "",
        json_mode,
        schema,
        _limit(body.get("max_completion_tokens")) or _limit(body.get("max_tokens")),
        n if isinstance(n, int) and n > 0 else 1,
    )


def _prompt(
    model: str,
    texts: list[tuple[Any, str]],
    instructions: str,
    json_mode: bool,
    schema: dict[str, Any] | None,
    max_tokens: int | None,
    choices: int = 1,
) -> Prompt:
    """A Prompt from (role, text) pairs: the last user text is answered, non-system texts
    are what a judge reads, every text counts towards the prompt's tokens."""
    return Prompt(
        model=model,
        prompt_tokens=word_count(instructions, *(t for _, t in texts)),
        user_text=next((t for r, t in reversed(texts) if r == "user"), ""),
        judged_text="\n".join(t for r, t in texts if r not in ("system", "developer")),
        json_mode=json_mode,
        schema=schema,
        max_tokens=max_tokens,
        choices=choices,
    )


def _chat_format(response_format: Any) -> tuple[bool, dict[str, Any] | None]:
    if not isinstance(response_format, dict):
        return False, None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        return True, spec.get("schema") if isinstance(spec, dict) else None
    return kind == "json_object", None


def responses_prompt(body: dict[str, Any]) -> Prompt:
    """The prompt of a ``/v1/responses`` body."""
    model = _model(body)
    raw = body.get("input")
    if raw is None and not body.get("instructions"):
        raise BadRequest("provide 'input' (a string or a list of input items)", "input")
    items = [{"role": "user", "content": raw}] if isinstance(raw, str) else raw or []
    if not isinstance(items, list):
        raise BadRequest("'input' must be a string or a list of input items", "input")
    texts = [
        (item.get("role", "user"), message_text(item.get("content", item.get("output"))))
        for item in items
        if isinstance(item, dict)
    ]
    instructions = body["instructions"] if isinstance(body.get("instructions"), str) else ""
    options = body.get("text")
    fmt = options.get("format") if isinstance(options, dict) else None
    if not isinstance(fmt, dict):
        fmt = {}
    kind = fmt.get("type")
    return _prompt(
        model,
        texts,
        instructions,
        kind in ("json_schema", "json_object"),
        fmt.get("schema") if kind == "json_schema" else None,
        _limit(body.get("max_output_tokens")),
    )


def embedding_inputs(body: dict[str, Any]) -> tuple[str, list[str]]:
    """The model and the texts of a ``/v1/embeddings`` body (token arrays become text)."""
    model = _model(body)
    raw = body.get("input")
    if isinstance(raw, str):
        return model, [raw]
    if isinstance(raw, list) and raw:
        if all(isinstance(x, int) for x in raw):
            return model, [" ".join(map(str, raw))]
        if all(isinstance(x, str) for x in raw):
            return model, list(raw)
        if all(isinstance(x, list) for x in raw):
            return model, [" ".join(map(str, x)) for x in raw]
    raise BadRequest("'input' must be a string, a list of strings, or token arrays", "input")
