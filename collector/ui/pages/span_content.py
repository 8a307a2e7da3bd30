"""What a span's inputs and outputs look like to people: a conversation, a list of retrieved
documents, or plain JSON.

The collector stores inputs and outputs as JSON text in whatever shape the app or the
instrumentation wrote: an OpenAI request (``{"messages": [...]}``), an OpenAI chat completion
(``{"choices": [{"message": ...}]}``), the GenAI conventions' messages (``{"messages": [...]}``
whose items carry ``parts``), a bare list of messages, or a retriever's list of documents.
:func:`shape` recognises these and returns a plain structure the templates render through
autoescaping; anything else stays JSON, shown by ``static/js/json_view.js``. Nothing here
trusts the content: it only picks fields and turns non-text values into JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spyglass.entities import json_or_text

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function", "human", "ai"})
DOCUMENT_TEXT_KEYS = ("page_content", "content", "text", "document")


@dataclass(frozen=True)
class ToolCall:
    """One call a model asked for: the tool's name and its arguments as text."""

    name: str
    arguments: str
    call_id: str = ""


@dataclass(frozen=True)
class Message:
    """One turn of a conversation."""

    role: str
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    name: str = ""  # a tool message's tool, or a participant's name
    tool_call_id: str = ""


@dataclass(frozen=True)
class Document:
    """One retrieved document."""

    text: str
    doc_id: str = ""
    score: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Shaped:
    """A value ready for the page: ``kind`` is "chat", "documents", "json" or "none"."""

    kind: str
    messages: list[Message] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    value: Any = None  # the parsed JSON (for the JSON tree and the raw view)
    extra: dict[str, Any] = field(default_factory=dict)  # request fields beside the messages


def shape(text: str | None, span_type: str = "") -> Shaped:
    """``text`` (a span's inputs or outputs) in the form people read best."""
    value = json_or_text(text)
    if value is None:
        return Shaped("none")
    documents = _documents(value) if span_type in ("RETRIEVER", "RERANKER", "") else None
    if documents:
        return Shaped("documents", documents=documents, value=value)
    messages, extra = _conversation(value)
    if messages:
        return Shaped("chat", messages=messages, value=value, extra=extra)
    return Shaped("json", value=value)


def as_text(value: Any) -> str:
    """A value as text: strings as they are, anything else as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


# --- conversations ---------------------------------------------------------------------------


def _conversation(value: Any) -> tuple[list[Message], dict[str, Any]]:
    """Messages found in ``value`` and the fields beside them (model, tools, ...)."""
    if isinstance(value, list):
        return _messages(value), {}
    if not isinstance(value, Mapping):
        return [], {}
    for key in ("messages", "input_messages", "output_messages"):
        found = value.get(key)
        if isinstance(found, list):
            messages = _messages(found)
            if messages:
                instructions = value.get("system_instructions")
                if instructions is not None:
                    messages.insert(0, Message("system", _parts_text(instructions)))
                extra = {k: v for k, v in value.items() if k not in (key, "system_instructions")}
                return messages, extra
    choices = value.get("choices")
    if isinstance(choices, list):
        found = [c.get("message") or c.get("delta") for c in choices if isinstance(c, Mapping)]
        messages = _messages([m for m in found if m is not None])
        if messages:
            return messages, {k: v for k, v in value.items() if k != "choices"}
    if _is_message(value):
        return _messages([value]), {}
    return [], {}


def _is_message(item: Any) -> bool:
    return (
        isinstance(item, Mapping)
        and isinstance(item.get("role"), str)
        and str(item["role"]).lower() in ROLES
        and any(k in item for k in ("content", "parts", "tool_calls", "function_call"))
    )


def _messages(items: Sequence[Any]) -> list[Message]:
    """``items`` as messages, or none at all when any item is not a message."""
    if not items or not all(_is_message(item) for item in items):
        return []
    return [_message(item) for item in items]


def _message(item: Mapping[str, Any]) -> Message:
    calls = [_tool_call(c) for c in item.get("tool_calls") or [] if isinstance(c, Mapping)]
    if isinstance(item.get("function_call"), Mapping):
        calls.append(_tool_call({"function": item["function_call"]}))
    parts = item.get("parts")
    text = _parts_text(item.get("content")) if "content" in item else ""
    if isinstance(parts, list):
        texts = []
        for part in parts:
            if isinstance(part, Mapping) and part.get("type") == "tool_call":
                calls.append(_tool_call(part))
            elif isinstance(part, Mapping) and part.get("type") == "tool_call_response":
                texts.append(as_text(part.get("response", part.get("result", ""))))
            else:
                texts.append(_parts_text(part))
        text = "\n".join(t for t in [text, *texts] if t)
    return Message(
        role=str(item["role"]).lower(),
        text=text,
        tool_calls=calls,
        name=str(item.get("name") or ""),
        tool_call_id=str(item.get("tool_call_id") or ""),
    )


def _parts_text(content: Any) -> str:
    """Message content as text: a string, a list of content parts, or JSON."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(t for t in (_parts_text(part) for part in content) if t)
    if isinstance(content, Mapping):
        for key in ("text", "content"):
            if isinstance(content.get(key), str):
                return str(content[key])
        if content.get("type") == "image_url":
            return "[image]"
    return as_text(content)


def _tool_call(call: Mapping[str, Any]) -> ToolCall:
    function = call.get("function")
    source = function if isinstance(function, Mapping) else call
    arguments = source.get("arguments")
    if isinstance(arguments, str):
        parsed = json_or_text(arguments)
        arguments = parsed if not isinstance(parsed, str) else arguments
    return ToolCall(
        name=str(source.get("name") or "?"),
        arguments=as_text(arguments if arguments is not None else {}),
        call_id=str(call.get("id") or ""),
    )


# --- documents -------------------------------------------------------------------------------


def _documents(value: Any) -> list[Document]:
    """A retriever's documents (a list of objects with text), or none."""
    if isinstance(value, Mapping):
        value = value.get("documents")
    if not isinstance(value, list) or not value:
        return []
    documents = []
    for item in value:
        if not isinstance(item, Mapping):
            return []
        text = next((item[k] for k in DOCUMENT_TEXT_KEYS if isinstance(item.get(k), str)), None)
        if text is None:
            return []
        metadata = item.get("metadata")
        score = item.get("score", item.get("relevance_score"))
        documents.append(
            Document(
                text=text,
                doc_id=str(item.get("id") or item.get("doc_id") or ""),
                score="" if score is None else str(score),
                metadata={str(k): as_text(v) for k, v in metadata.items()}
                if isinstance(metadata, Mapping)
                else {},
            )
        )
    return documents
