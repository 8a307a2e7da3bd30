"""Folding a stream back into the response it spells out, so a streamed call records the
same outputs and attributes as a whole one.

Chat completion chunks are merged per choice (role, content, refusal, tool-call fragments by
index, finish reason; usage from the final chunk when ``stream_options.include_usage`` asked
for it). Responses API streams end with an event that carries the full response object; the
text deltas are kept as a fallback for streams cut off before it.
"""

from __future__ import annotations

from typing import Any

from spyglass.instrumentation.openai.response import as_dict

_FINAL_RESPONSE_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
_HEADER_FIELDS = ("id", "created", "model", "system_fingerprint", "service_tier")


class _Choice:
    __slots__ = ("content", "finish_reason", "refusal", "role", "tool_calls")

    def __init__(self) -> None:
        self.role = "assistant"
        self.content: list[str] = []
        self.refusal: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None

    def add(self, delta: Any, finish_reason: Any) -> None:
        if delta is not None:
            self.role = getattr(delta, "role", None) or self.role
            if getattr(delta, "content", None):
                self.content.append(delta.content)
            if getattr(delta, "refusal", None):
                self.refusal.append(delta.refusal)
            for call in getattr(delta, "tool_calls", None) or ():
                self._add_tool_call(call)
        if finish_reason:
            self.finish_reason = finish_reason

    def _add_tool_call(self, call: Any) -> None:
        merged = self.tool_calls.setdefault(
            getattr(call, "index", 0) or 0,
            {"id": None, "type": "function", "function": {"name": "", "arguments": ""}},
        )
        merged["id"] = getattr(call, "id", None) or merged["id"]
        merged["type"] = getattr(call, "type", None) or merged["type"]
        function = getattr(call, "function", None)
        if function is not None:
            merged["function"]["name"] += getattr(function, "name", None) or ""
            merged["function"]["arguments"] += getattr(function, "arguments", None) or ""

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": self.role,
            "content": "".join(self.content) if self.content else None,
        }
        if self.refusal:
            message["refusal"] = "".join(self.refusal)
        if self.tool_calls:
            message["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        return message


class ChatChunks:
    """Accumulates ``ChatCompletionChunk`` objects into a ``chat.completion`` dict."""

    def __init__(self) -> None:
        self._header: dict[str, Any] = {}
        self._choices: dict[int, _Choice] = {}
        self._usage: Any = None
        self.count = 0

    def add(self, chunk: Any) -> None:
        self.count += 1
        for field in _HEADER_FIELDS:
            value = getattr(chunk, field, None)
            if value is not None:
                self._header[field] = value
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self._usage = usage
        for choice in getattr(chunk, "choices", None) or ():
            index = getattr(choice, "index", 0) or 0
            state = self._choices.get(index)
            if state is None:
                state = self._choices[index] = _Choice()
            state.add(getattr(choice, "delta", None), getattr(choice, "finish_reason", None))

    def result(self) -> dict[str, Any]:
        response: dict[str, Any] = {
            **self._header,
            "object": "chat.completion",
            "choices": [
                {"index": i, "message": c.message(), "finish_reason": c.finish_reason}
                for i, c in sorted(self._choices.items())
            ],
        }
        if self._usage is not None:
            response["usage"] = as_dict(self._usage)
        return response


class ResponseEvents:
    """Accumulates Responses API stream events into the final ``response`` dict."""

    def __init__(self) -> None:
        self._latest: Any = None  # the newest event's `response` (created, in_progress, ...)
        self._final: Any = None
        self._text: list[str] = []
        self.count = 0

    def add(self, event: Any) -> None:
        self.count += 1
        kind = getattr(event, "type", None)
        if kind == "response.output_text.delta":
            self._text.append(getattr(event, "delta", "") or "")
            return
        response = getattr(event, "response", None)
        if response is not None:
            self._latest = response
            if kind in _FINAL_RESPONSE_EVENTS:
                self._final = response

    def result(self) -> dict[str, Any]:
        response = as_dict(self._final) if self._final is not None else None
        if response is None:  # cut off before the final event: what had arrived
            response = as_dict(self._latest) if self._latest is not None else {}
            response = dict(response or {})
            response["output_text"] = "".join(self._text)
        return response
