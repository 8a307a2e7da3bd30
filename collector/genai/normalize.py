"""Map a span's attributes, whatever GenAI convention wrote them, to Spyglass's canonical fields.

Apps reach the collector instrumented by Spyglass/MLflow, OpenInference, the OpenTelemetry
GenAI semantic conventions or OpenLLMetry (Traceloop). Each names inputs, outputs, span type,
model, tokens, session and user differently; :func:`normalize` picks, field by field, the first
convention that has a usable value, in that order of priority (see design.md, "Canonical span
fields"). Raw attributes are stored separately, so nothing is lost when a value is ignored.

It runs for every ingested span, so it is written for the hot path: one pass over the span's
keys finds which fields it has sources for at all, then a fixed number of dict look-ups per
such field, JSON parsed only to validate or unwrap a value that is actually present, and it
never raises on odd input (a value of the wrong type is ignored and the next source is tried).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from math import isfinite
from typing import Any

import orjson

from spyglass.lenient_json import dumps
from spyglass.semconv import SPAN_INPUTS, SPAN_OUTPUTS, SPAN_TYPE, SPAN_TYPES, TOKEN_USAGE

__all__ = ["Canonical", "normalize"]

_Get = Callable[[str], Any]

# --- Attribute keys, per convention -----------------------------------------------------------

# MLflow (Spyglass's own keys mirror these and come first).
MLFLOW_INPUTS = "mlflow.spanInputs"
MLFLOW_OUTPUTS = "mlflow.spanOutputs"
MLFLOW_SPAN_TYPE = "mlflow.spanType"
MLFLOW_TOKEN_USAGE = "mlflow.chat.tokenUsage"
MLFLOW_MODEL = "mlflow.llm.model"
MLFLOW_PROVIDER = "mlflow.llm.provider"

# OpenInference.
OI_INPUT_VALUE = "input.value"
OI_INPUT_MIME = "input.mime_type"
OI_OUTPUT_VALUE = "output.value"
OI_OUTPUT_MIME = "output.mime_type"
OI_SPAN_KIND = "openinference.span.kind"

# OpenTelemetry GenAI (current and legacy).
GENAI_INPUT_MESSAGES = "gen_ai.input.messages"
GENAI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GENAI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
GENAI_TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
GENAI_TOOL_RESULT = "gen_ai.tool.call.result"
GENAI_OPERATION = "gen_ai.operation.name"
GENAI_PROMPT_EVENT = "gen_ai.content.prompt"
GENAI_PROMPT_EVENT_KEY = "gen_ai.prompt"
GENAI_COMPLETION_EVENT = "gen_ai.content.completion"
GENAI_COMPLETION_EVENT_KEY = "gen_ai.completion"

# OpenLLMetry (Traceloop).
TRACELOOP_INPUT = "traceloop.entity.input"
TRACELOOP_OUTPUT = "traceloop.entity.output"
TRACELOOP_SPAN_KIND = "traceloop.span.kind"
TRACELOOP_REQUEST_TYPE = "llm.request.type"

# Sources per scalar field, highest priority first.
_INPUT_TOKEN_KEYS = (
    "llm.token_count.prompt",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
)
_OUTPUT_TOKEN_KEYS = (
    "llm.token_count.completion",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
)
_TOTAL_TOKEN_KEYS = ("llm.token_count.total", "llm.usage.total_tokens")
_MODEL_KEYS = (
    MLFLOW_MODEL,
    "llm.model_name",
    "embedding.model_name",  # OpenInference
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.response.model",
    "llm.request.model",
)
_PROVIDER_KEYS = (
    MLFLOW_PROVIDER,
    "llm.provider",
    "llm.system",
    "gen_ai.provider.name",
    "gen_ai.system",
    "llm.vendor",
)
_SESSION_KEYS = (
    "session.id",
    "gen_ai.conversation.id",
    "traceloop.association.properties.session_id",
)
_USER_KEYS = ("user.id", "enduser.id", "traceloop.association.properties.user_id")

# --- Span-type vocabularies -------------------------------------------------------------------

_KNOWN_TYPES = frozenset(SPAN_TYPES)

# PROMPT (and anything unlisted) is deliberately absent: it falls through to other conventions.
_OPENINFERENCE_KINDS = {
    kind: kind
    for kind in (
        "LLM",
        "CHAIN",
        "TOOL",
        "RETRIEVER",
        "EMBEDDING",
        "AGENT",
        "RERANKER",
        "GUARDRAIL",
        "EVALUATOR",
    )
}
_GENAI_OPERATIONS = {
    "chat": "CHAT_MODEL",
    "text_completion": "LLM",
    "generate_content": "LLM",
    "embeddings": "EMBEDDING",
    "execute_tool": "TOOL",
    "invoke_agent": "AGENT",
    "create_agent": "AGENT",
    "retrieval": "RETRIEVER",
}
_TRACELOOP_REQUEST_TYPES = {
    "chat": "CHAT_MODEL",
    "completion": "LLM",
    "embedding": "EMBEDDING",
    "rerank": "RERANKER",
}
_TRACELOOP_SPAN_KINDS = {
    "workflow": "CHAIN",
    "task": "CHAIN",
    "agent": "AGENT",
    "tool": "TOOL",
}

# Span-type sources, highest priority first; None marks an explicit (Spyglass/MLflow) type.
_TYPE_SOURCES: tuple[tuple[str, dict[str, str] | None], ...] = (
    (SPAN_TYPE, None),
    (MLFLOW_SPAN_TYPE, None),
    (OI_SPAN_KIND, _OPENINFERENCE_KINDS),
    (GENAI_OPERATION, _GENAI_OPERATIONS),
    (TRACELOOP_REQUEST_TYPE, _TRACELOOP_REQUEST_TYPES),
    (TRACELOOP_SPAN_KIND, _TRACELOOP_SPAN_KINDS),
)

# --- OpenLLMetry indexed messages -------------------------------------------------------------

_PROMPT_FIELDS = ("role", "content")
_COMPLETION_FIELDS = ("role", "content", "finish_reason")
_PRECOMPUTED_INDEXES = 32
_MAX_INDEXED_MESSAGES = 10_000  # a bound on probing, far above any real conversation


def _indexed_keys(prefix: str, fields: tuple[str, ...], index: int) -> tuple[str, ...]:
    """Keys of one OpenLLMetry indexed message, e.g. ``gen_ai.prompt.3.role``."""
    return tuple(f"{prefix}{index}.{field}" for field in fields)


# Built once so that normalizing a usual conversation formats no key strings.
_PROMPT_KEYS = tuple(
    _indexed_keys("gen_ai.prompt.", _PROMPT_FIELDS, i) for i in range(_PRECOMPUTED_INDEXES)
)
_COMPLETION_KEYS = tuple(
    _indexed_keys("gen_ai.completion.", _COMPLETION_FIELDS, i) for i in range(_PRECOMPUTED_INDEXES)
)


# --- Public API -------------------------------------------------------------------------------


@dataclass(slots=True)
class Canonical:
    """The convention-independent view of a span that Spyglass stores, searches and shows."""

    inputs: str | None = None  # JSON text
    outputs: str | None = None  # JSON text
    span_type: str = "UNKNOWN"
    model: str | None = None
    provider: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    session_id: str | None = None
    user_id: str | None = None


def normalize(
    attributes: Mapping[str, Any], events: Sequence[tuple[str, Mapping[str, Any]]] = ()
) -> Canonical:
    """Canonical fields of a span from its decoded attributes and its ``(name, attributes)`` events.

    Pure and total: the same input always gives the same output, and odd values never raise.
    """
    result = Canonical()
    # Which fields' sources the span holds at all (one pass over its keys): the look-ups
    # of a field none of whose keys is present are skipped, as they would find nothing.
    present = _SOURCE_KEYS.intersection(attributes)
    if not present and not events:
        return result
    absent = present.isdisjoint
    get = attributes.get
    if events or not absent(_INPUT_SOURCE_KEYS):
        result.inputs = _content(get, events, _INPUT_KEYS)
    if events or not absent(_OUTPUT_SOURCE_KEYS):
        result.outputs = _content(get, events, _OUTPUT_KEYS)
    if not absent(_MODEL_KEYS):
        result.model = _first(get, _MODEL_KEYS, ints=False)
    if not absent(_PROVIDER_KEYS):
        result.provider = _first(get, _PROVIDER_KEYS, ints=False)
    if not absent(_SESSION_KEYS):
        result.session_id = _first(get, _SESSION_KEYS, ints=True)
    if not absent(_USER_KEYS):
        result.user_id = _first(get, _USER_KEYS, ints=True)
    if not absent(_TOKEN_SOURCE_KEYS):
        _fill_tokens(get, result)
    if not absent(_TYPE_KEYS):
        result.span_type = _span_type(get, result)
    else:
        result.span_type = _implied_type(result)
    if (
        result.span_type == "EMBEDDING"
        and result.total_tokens is None
        and result.output_tokens is None
    ):  # an embedding's input is all it uses
        result.total_tokens = result.input_tokens
    return result


# --- Inputs and outputs -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ContentKeys:
    """Where one side (inputs or outputs) of a span lives in each convention."""

    spyglass: str
    mlflow: str
    openinference_value: str
    openinference_mime: str
    genai_messages: str
    genai_instructions: str | None
    genai_tool: str
    traceloop: str
    indexed_prefix: str
    indexed_fields: tuple[str, ...]
    indexed_keys: tuple[tuple[str, ...], ...]
    event_name: str
    event_key: str


_INPUT_KEYS = _ContentKeys(
    SPAN_INPUTS,
    MLFLOW_INPUTS,
    OI_INPUT_VALUE,
    OI_INPUT_MIME,
    GENAI_INPUT_MESSAGES,
    GENAI_SYSTEM_INSTRUCTIONS,
    GENAI_TOOL_ARGUMENTS,
    TRACELOOP_INPUT,
    "gen_ai.prompt.",
    _PROMPT_FIELDS,
    _PROMPT_KEYS,
    GENAI_PROMPT_EVENT,
    GENAI_PROMPT_EVENT_KEY,
)
_OUTPUT_KEYS = _ContentKeys(
    SPAN_OUTPUTS,
    MLFLOW_OUTPUTS,
    OI_OUTPUT_VALUE,
    OI_OUTPUT_MIME,
    GENAI_OUTPUT_MESSAGES,
    None,
    GENAI_TOOL_RESULT,
    TRACELOOP_OUTPUT,
    "gen_ai.completion.",
    _COMPLETION_FIELDS,
    _COMPLETION_KEYS,
    GENAI_COMPLETION_EVENT,
    GENAI_COMPLETION_EVENT_KEY,
)


def _content(get: _Get, events: Sequence[Any], keys: _ContentKeys) -> str | None:
    """One side of the span as JSON text, from the highest-priority convention carrying it."""
    value = get(keys.spyglass)
    if value is None:
        value = get(keys.mlflow)
    if value is not None:
        return _json_text(value)
    value = get(keys.openinference_value)
    if value is not None:
        return _openinference_text(value, get(keys.openinference_mime))
    value = get(keys.genai_messages)
    if value is not None:
        text = _genai_messages(value, get, keys.genai_instructions)
        if text is not None:
            return text
    value = get(keys.genai_tool)
    if value is None:
        value = get(keys.traceloop)
    if value is not None:
        return _json_text(value)
    first = keys.indexed_keys[0]
    if get(first[0]) is not None or get(first[1]) is not None:
        return _indexed_messages(get, keys.indexed_prefix, keys.indexed_fields, keys.indexed_keys)
    if events:
        return _event_value(events, keys.event_name, keys.event_key)
    return None


def _openinference_text(value: Any, mime_type: Any) -> str | None:
    """``input.value``/``output.value`` as JSON text, honouring its mime type.

    OpenInference says an unspecified mime type means plain text, so only a string marked
    ``application/json`` is kept as JSON; any other string becomes a JSON string.
    """
    if type(value) is str and mime_type != "application/json":
        return dumps(value)
    return _json_text(value)


def _genai_messages(value: Any, get: _Get, instructions_key: str | None) -> str | None:
    """``{"messages": [...]}`` (plus ``system_instructions`` if given); None if not an array."""
    messages = _json_array_text(value)
    if messages is None:
        return None
    instructions = _json_text(get(instructions_key)) if instructions_key else None
    if instructions is None:
        return '{"messages":' + messages + "}"
    return '{"messages":' + messages + ',"system_instructions":' + instructions + "}"


def _indexed_messages(
    get: _Get, prefix: str, fields: tuple[str, ...], keys: tuple[tuple[str, ...], ...]
) -> str | None:
    """OpenLLMetry's flattened ``{prefix}{i}.{field}`` messages as ``{"messages": [...]}``.

    Called only when index 0 is present; indexes are probed from 0 until the first index with
    none of the fields, so no scan over all attribute keys is ever needed.
    """
    messages = []
    for index in range(_MAX_INDEXED_MESSAGES):
        index_keys = keys[index] if index < len(keys) else _indexed_keys(prefix, fields, index)
        message = {}
        for field, key in zip(fields, index_keys):
            value = get(key)
            if value is not None:
                message[field] = value
        if not message:
            break
        messages.append(message)
    return dumps({"messages": messages})


def _event_value(events: Sequence[Any], event_name: str, key: str) -> str | None:
    """JSON text of attribute ``key`` on the first event named ``event_name`` (legacy GenAI)."""
    for event in events:
        try:
            name, event_attributes = event
            if name != event_name:
                continue
            value = event_attributes.get(key)
        except (TypeError, ValueError, AttributeError):
            continue
        if value is not None:
            return _json_text(value)
    return None


# Every key a field's look-ups start from, per field and in all: a field none of whose keys a
# span holds keeps its default, so :func:`normalize` skips its look-ups.
_INPUT_SOURCE_KEYS = frozenset(
    (
        _INPUT_KEYS.spyglass,
        _INPUT_KEYS.mlflow,
        _INPUT_KEYS.openinference_value,
        _INPUT_KEYS.genai_messages,
        _INPUT_KEYS.genai_tool,
        _INPUT_KEYS.traceloop,
        *_INPUT_KEYS.indexed_keys[0][:2],
    )
)
_OUTPUT_SOURCE_KEYS = frozenset(
    (
        _OUTPUT_KEYS.spyglass,
        _OUTPUT_KEYS.mlflow,
        _OUTPUT_KEYS.openinference_value,
        _OUTPUT_KEYS.genai_messages,
        _OUTPUT_KEYS.genai_tool,
        _OUTPUT_KEYS.traceloop,
        *_OUTPUT_KEYS.indexed_keys[0][:2],
    )
)
_TOKEN_SOURCE_KEYS = frozenset(
    (
        TOKEN_USAGE,
        MLFLOW_TOKEN_USAGE,
        *_INPUT_TOKEN_KEYS,
        *_OUTPUT_TOKEN_KEYS,
        *_TOTAL_TOKEN_KEYS,
    )
)
_TYPE_KEYS = frozenset(key for key, _ in _TYPE_SOURCES)
_SOURCE_KEYS = frozenset().union(
    _INPUT_SOURCE_KEYS,
    _OUTPUT_SOURCE_KEYS,
    _TOKEN_SOURCE_KEYS,
    _TYPE_KEYS,
    _MODEL_KEYS,
    _PROVIDER_KEYS,
    _SESSION_KEYS,
    _USER_KEYS,
)


# --- JSON text --------------------------------------------------------------------------------


def _json_text(value: Any) -> str | None:
    """``value`` as JSON text: valid JSON strings verbatim, other strings quoted, rest dumped."""
    if value is None:
        return None
    if type(value) is str:
        try:
            orjson.loads(value)
        except (orjson.JSONDecodeError, TypeError, ValueError):
            return dumps(value)
        return value
    return dumps(value)


def _json_array_text(value: Any) -> str | None:
    """JSON text of a JSON array given as a list or as JSON text; None for anything else."""
    if type(value) is str:
        try:
            parsed = orjson.loads(value)
        except (orjson.JSONDecodeError, TypeError, ValueError):
            return None
        return value if type(parsed) is list else None
    if isinstance(value, (list, tuple)):
        return dumps(value)
    return None


# --- Span type --------------------------------------------------------------------------------


def _span_type(get: _Get, fields: Canonical) -> str:
    """The first convention's span type; "LLM" if only a model or tokens say so; else UNKNOWN."""
    for key, table in _TYPE_SOURCES:
        value = get(key)
        if value is not None:
            span_type = _explicit_type(value) if table is None else _lookup(table, value)
            if span_type:
                return span_type
    return _implied_type(fields)


def _implied_type(fields: Canonical) -> str:
    """The type of a span that states none: "LLM" if it has a model or token counts."""
    if (
        fields.model is not None
        or fields.input_tokens is not None
        or fields.output_tokens is not None
        or fields.total_tokens is not None
    ):
        return "LLM"
    return "UNKNOWN"


def _explicit_type(value: Any) -> str | None:
    """A Spyglass/MLflow span type, JSON-encoded or plain; custom types are kept verbatim.

    Known types written in another case (``llm``) are upper-cased to the canonical name; a
    JSON ``null`` (MLflow's encoding of "no type") is no type.
    """
    span_type = _unquoted(value)
    if span_type is None or span_type in _KNOWN_TYPES:
        return span_type
    if span_type == "null":
        return None
    upper = span_type.upper()
    return upper if upper in _KNOWN_TYPES else span_type


def _lookup(table: dict[str, str], value: Any) -> str | None:
    """``table[value]`` for a string value, tolerating letter case; None when unmapped."""
    if type(value) is not str:
        return None
    mapped = table.get(value)
    if mapped is None:
        mapped = table.get(value.lower()) or table.get(value.upper())
    return mapped


# --- Scalars ----------------------------------------------------------------------------------


def _unquoted(value: Any) -> str | None:
    """A non-empty string, unwrapping one that is JSON-encoded (``'"LLM"'`` -> ``LLM``)."""
    if type(value) is not str or not value:
        return None
    if value[0] == '"':
        try:
            decoded = orjson.loads(value)
        except (orjson.JSONDecodeError, ValueError):
            return value
        if type(decoded) is str:
            return decoded or None
    return value


def _first(get: _Get, keys: tuple[str, ...], ints: bool) -> str | None:
    """The first non-empty string among ``keys`` (MLflow's JSON-encoded strings unwrapped),
    or with ``ints`` the first such string or integer id, as a string."""
    for key in keys:
        value = get(key)
        if ints and type(value) is int:
            return str(value)
        if type(value) is str and value:
            if value[0] == '"':
                value = _unquoted(value)
                if not value:
                    continue
            return value
    return None


def _fill_tokens(get: _Get, fields: Canonical) -> None:
    """Token counts per field from the first source that has them; total derived if missing."""
    usage = get(TOKEN_USAGE)
    if usage is not None:
        usage = _usage_mapping(usage)
    if usage is None and (usage := get(MLFLOW_TOKEN_USAGE)) is not None:
        usage = _usage_mapping(usage)
    if usage is not None:
        fields.input_tokens = _to_int(usage.get("input_tokens"))
        fields.output_tokens = _to_int(usage.get("output_tokens"))
        fields.total_tokens = _to_int(usage.get("total_tokens"))
    if fields.input_tokens is None:
        fields.input_tokens = _first_int(get, _INPUT_TOKEN_KEYS)
    if fields.output_tokens is None:
        fields.output_tokens = _first_int(get, _OUTPUT_TOKEN_KEYS)
    if fields.total_tokens is None:
        fields.total_tokens = _first_int(get, _TOTAL_TOKEN_KEYS)
        if (
            fields.total_tokens is None
            and fields.input_tokens is not None
            and fields.output_tokens is not None
        ):
            fields.total_tokens = fields.input_tokens + fields.output_tokens


def _usage_mapping(value: Any) -> Mapping[str, Any] | None:
    """A token-usage object given as a mapping (OTLP kvlist) or as JSON text; else None."""
    if type(value) is str:
        try:
            value = orjson.loads(value)
        except (orjson.JSONDecodeError, ValueError):
            return None
    return value if isinstance(value, Mapping) and value else None


def _first_int(get: _Get, keys: tuple[str, ...]) -> int | None:
    """The first usable token count among ``keys``."""
    for key in keys:
        value = get(key)
        if value is not None:
            count = _to_int(value)
            if count is not None:
                return count
    return None


def _to_int(value: Any) -> int | None:
    """A non-negative count from an int, a finite float or a numeric string; else None."""
    if type(value) is int:
        return value if value >= 0 else None
    if type(value) is float:
        return int(value) if isfinite(value) and value >= 0 else None
    if type(value) is str:
        try:
            return _to_int(int(value))
        except ValueError:
            pass
        try:
            return _to_int(float(value))
        except ValueError:
            return None
    return None
