"""``extract_fields`` of ``search_traces``: a value out of a trace by a dotted path.

``span.<field>[.<path>]`` reads the root span; ``span.<name>.<field>[.<path>]`` the first
span called ``<name>``. Backticks quote names and keys that contain dots:
``span.`my.llm`.inputs.messages``. For ``attributes`` the longest dotted attribute key is
tried first (OTel keys contain dots), then a path inside a JSON-valued attribute. A path
that does not exist gives None, never an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from spyglass.entities import Span, Trace
from spyglass.errors import InvalidArgumentError

SPAN_FIELDS = {
    "inputs": lambda s: s.inputs,
    "outputs": lambda s: s.outputs,
    "attributes": lambda s: s.attributes,
    "events": lambda s: s.events,
    "name": lambda s: s.name,
    "span_type": lambda s: s.span_type,
    "status": lambda s: s.status,
    "start_time": lambda s: s.start_time_ns,
    "end_time": lambda s: s.end_time_ns,
    "duration_ms": lambda s: s.duration_ms,
    "model": lambda s: s.model,
    "span_id": lambda s: s.span_id,
    "parent_id": lambda s: s.parent_id,
}


@dataclass(frozen=True)
class FieldPath:
    """A parsed ``extract_fields`` entry."""

    text: str
    span_name: str | None  # None: the root span
    field: str
    path: tuple[str, ...]

    def value(self, trace: Trace) -> Any:
        span = _span(trace, self.span_name)
        if span is None:
            return None
        value = SPAN_FIELDS[self.field](span)
        if self.field == "attributes" and self.path:
            return _attribute(value, self.path)
        return _walk(value, self.path)


def parse_field(text: str) -> FieldPath:
    """Parse ``text``; a malformed entry raises :class:`InvalidArgumentError`."""
    parts = _split(text)
    if len(parts) < 2 or parts[0] != "span":
        raise InvalidArgumentError(
            f"extract_fields entry {text!r} must start with 'span.' — e.g. span.inputs.question, "
            "span.outputs, span.<span name>.outputs.choices, span.attributes.usage.total_tokens"
        )
    if parts[1] in SPAN_FIELDS:
        return FieldPath(text, None, parts[1], tuple(parts[2:]))
    if len(parts) >= 3 and parts[2] in SPAN_FIELDS:
        return FieldPath(text, parts[1], parts[2], tuple(parts[3:]))
    raise InvalidArgumentError(
        f"extract_fields entry {text!r}: expected a span field ({', '.join(SPAN_FIELDS)}) "
        "after 'span.' or after 'span.<span name>.'; quote names with dots in backticks"
    )


def _split(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == "`":
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if quoted:
        raise InvalidArgumentError(f"extract_fields entry {text!r} has an unclosed backtick")
    parts.append("".join(current))
    return parts


def _span(trace: Trace, name: str | None) -> Span | None:
    if name is None:
        return trace.data.root_span
    return next((s for s in trace.data.spans if s.name == name), None)


def _attribute(attributes: dict[str, Any], path: tuple[str, ...]) -> Any:
    for cut in range(len(path), 0, -1):
        key = ".".join(path[:cut])
        if key in attributes:
            return _walk(attributes[key], path[cut:])
    return None


def _walk(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.lstrip("-").isdigit():
            index = int(key)
            value = value[index] if -len(value) <= index < len(value) else None
        else:
            return None
        if value is None:
            return None
    return value
