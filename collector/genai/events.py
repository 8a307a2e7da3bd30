"""GenAI events carried by OTLP log records, and what they make of their span.

The OTel GenAI instrumentations (``opentelemetry-instrumentation-openai-v2`` and others)
can put prompts and completions in log records instead of span attributes. Their event
name is ``LogRecord.event_name`` (older SDKs: the ``event.name`` attribute):

* ``gen_ai.system.message``, ``gen_ai.user.message``, ``gen_ai.assistant.message``,
  ``gen_ai.tool.message``: one input message each; the role is in the name, the body holds
  the rest (``content``, ``tool_calls``, the tool message's ``id``);
* ``gen_ai.choice``: one output choice; the body holds ``index``, ``finish_reason`` and
  ``message``;
* ``gen_ai.client.inference.operation.details`` (newer conventions): the whole call, with
  ``gen_ai.input.messages``, ``gen_ai.output.messages`` and ``gen_ai.system_instructions``
  as attributes, read exactly like the same attributes on a span.

Any other log record of a span becomes one of the span's events (marked ``"source":
"log"``). :func:`classify` turns one record into a stored row's ``kind`` and ``content``
(runs in the decode workers); :func:`merge` turns all rows of one span into the span's
canonical inputs, outputs and events, so the result never depends on how the records were
split into requests or in which order the span and its records arrived.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from spyglass.collector.genai.normalize import normalize
from spyglass.lenient_json import dumps

__all__ = [
    "KIND_CHOICE",
    "KIND_DETAILS",
    "KIND_EVENT",
    "KIND_MESSAGE",
    "LOG_SOURCE",
    "LogContent",
    "LogRecordView",
    "LogRow",
    "classify",
    "combine",
    "event_name_of",
    "merge",
    "own_events",
]

MESSAGE_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
CHOICE_EVENT = "gen_ai.choice"
DETAILS_EVENT = "gen_ai.client.inference.operation.details"
EVENT_NAME_ATTRIBUTE = "event.name"  # where SDKs before LogRecord.event_name put it

KIND_MESSAGE, KIND_CHOICE, KIND_DETAILS, KIND_EVENT = "message", "choice", "details", "event"
LOG_SOURCE = "log"  # value of "source" on span events that came from log records
DEFAULT_EVENT_NAME = "log"


@dataclass(frozen=True, slots=True)
class LogRecordView:
    """What :func:`classify` needs of one decoded log record."""

    event_name: str | None
    body: Any
    attributes: Mapping[str, Any]
    time_unix_nano: int
    severity_text: str = ""
    severity_number: int = 0


def event_name_of(record_event_name: str, attributes: Mapping[str, Any]) -> str | None:
    """The record's event name: ``LogRecord.event_name``, else the ``event.name`` attribute."""
    if record_event_name:
        return record_event_name
    value = attributes.get(EVENT_NAME_ATTRIBUTE)
    return value if isinstance(value, str) and value else None


def classify(record: LogRecordView) -> tuple[str, str]:
    """The stored ``(kind, content JSON)`` of one log record of a span."""
    name = record.event_name
    role = MESSAGE_ROLES.get(name or "")
    if role is not None:
        return KIND_MESSAGE, dumps(_message(role, record.body))
    if name == CHOICE_EVENT:
        return KIND_CHOICE, dumps(_choice(record.body))
    if name == DETAILS_EVENT:
        details = normalize(record.attributes)
        if details.inputs is not None or details.outputs is not None:
            return KIND_DETAILS, (
                '{"inputs":'
                + (details.inputs or "null")
                + ',"outputs":'
                + (details.outputs or "null")
                + "}"
            )
    return KIND_EVENT, dumps(_span_event(record))


def _object(body: Any) -> dict[str, Any] | None:
    """``body`` as a JSON object: a kvlist body, or a string holding a JSON object."""
    if isinstance(body, dict):
        return body
    if isinstance(body, str) and body[:1] == "{":
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _message(role: str, body: Any) -> dict[str, Any]:
    """An input message: the role from the event name, then the body's fields (a ``role``
    in the body wins: the conventions send it when it differs from the event name)."""
    message: dict[str, Any] = {"role": role}
    fields = _object(body)
    if fields is not None:
        message.update(fields)
    elif body is not None:
        message["content"] = body
    return message


def _choice(body: Any) -> dict[str, Any]:
    fields = _object(body)
    if fields is not None:
        return fields
    if body is None:
        return {}
    return {"message": {"role": "assistant", "content": body}}


def _span_event(record: LogRecordView) -> dict[str, Any]:
    attributes = dict(record.attributes)
    if record.severity_text:
        attributes["log.severity_text"] = record.severity_text
    if record.severity_number:
        attributes["log.severity_number"] = record.severity_number
    if record.body is not None:
        attributes["log.body"] = record.body
    return {
        "name": record.event_name or DEFAULT_EVENT_NAME,
        "time_unix_nano": record.time_unix_nano,
        "attributes": attributes,
        "source": LOG_SOURCE,
    }


# --- merging the rows of one span -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogRow:
    """A stored row of one span, as :func:`merge` reads it."""

    kind: str
    time_unix_nano: int
    seq: int
    record_key: str
    content: str  # JSON

    @property
    def order(self) -> tuple[int, int, str]:
        return self.time_unix_nano, self.seq, self.record_key


@dataclass(slots=True)
class LogContent:
    """What a span's log records give it: inputs and outputs (JSON text) and span events."""

    inputs: str | None = None
    outputs: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


def merge(rows: Iterable[LogRow]) -> LogContent:
    """The inputs, outputs and events that all of a span's log records make together.

    Inputs: the latest ``operation.details`` event that has them, else the message events
    in time order as ``{"messages": [...]}``. Outputs: likewise, else the choices ordered by
    ``index`` as ``{"choices": [...]}``. Other records: span events in time order.
    """
    result = LogContent()
    messages: list[Any] = []
    choices: list[tuple[Any, tuple[int, int, str], Any]] = []
    for row in sorted(rows, key=lambda r: r.order):
        value = orjson.loads(row.content)
        if row.kind == KIND_MESSAGE:
            messages.append(value)
        elif row.kind == KIND_CHOICE:
            choices.append((_choice_index(value), row.order, value))
        elif row.kind == KIND_DETAILS:
            if value.get("inputs") is not None:
                result.inputs = dumps(value["inputs"])
            if value.get("outputs") is not None:
                result.outputs = dumps(value["outputs"])
        else:
            result.events.append(value)
    if result.inputs is None and messages:
        result.inputs = dumps({"messages": messages})
    if result.outputs is None and choices:
        choices.sort(key=lambda c: (c[0], c[1]))
        result.outputs = dumps({"choices": [value for _, _, value in choices]})
    return result


def _choice_index(choice: Any) -> Any:
    index = choice.get("index") if isinstance(choice, dict) else None
    return index if isinstance(index, int) else 1 << 31  # choices without one go last


def combine(
    own_inputs: str | None, own_outputs: str | None, stored_events: str | None, content: LogContent
) -> tuple[str | None, str | None, str | None]:
    """A span's ``(inputs, outputs, events)`` columns once its log records are applied.

    The span's own values (from its attributes) win; log records only fill what is
    missing. ``stored_events`` may already hold log-derived events from an earlier pass:
    they are replaced, so applying the same records again changes nothing.
    """
    events = own_events(stored_events) + content.events
    events.sort(key=_event_time)
    return (
        own_inputs if own_inputs is not None else content.inputs,
        own_outputs if own_outputs is not None else content.outputs,
        dumps(events) if events else None,
    )


def own_events(stored_events: str | None) -> list[dict[str, Any]]:
    """The span's events that came with the span itself (not from log records)."""
    return [e for e in _events(stored_events) if e.get("source") != LOG_SOURCE]


def _events(text: str | None) -> Sequence[dict[str, Any]]:
    if not text:
        return ()
    try:
        events = orjson.loads(text)
    except orjson.JSONDecodeError:
        return ()
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else ()


def _event_time(event: dict[str, Any]) -> int:
    value = event.get("time_unix_nano")
    return value if isinstance(value, int) else 0
