"""The request side of an OpenAI call: span name, GenAI request attributes, and the inputs
recorded on the span (the call's keyword arguments, minus anything secret)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import openai

from spyglass.instrumentation.openai import conventions as gen

CHAT_COMPLETIONS = "chat.completions"
RESPONSES = "responses"
EMBEDDINGS = "embeddings"

_NOT_RECORDED = frozenset({"extra_headers", "extra_query", "timeout"})
"""Arguments never recorded: headers and query parameters are where credentials travel."""

_SECRET_KEY = re.compile(
    r"^(x-)?(api[-_]?key|authorization|proxy-authorization|password|secret|client[-_]secret|"
    r"access[-_]token|refresh[-_]token|bearer|token|cookie)$",
    re.IGNORECASE,
)
_REDACTED = "[REDACTED]"
_SENTINELS = tuple(
    c
    for c in (getattr(openai, "NotGiven", None), getattr(openai, "Omit", None))
    if isinstance(c, type)
)
_ONE_SHOT = ("messages", "input", "tools", "functions")


def given(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments the caller actually gave (openai's ``omit``/``NOT_GIVEN`` dropped)."""
    return {k: v for k, v in kwargs.items() if not isinstance(v, _SENTINELS)}


def materialized(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with one-shot iterables (generators of messages, ...) turned into lists, so
    recording them does not consume what the real call must send."""
    out = kwargs
    for key in _ONE_SHOT:
        value = kwargs.get(key)
        if isinstance(value, Iterable) and not isinstance(value, (str, bytes, list, tuple, dict)):
            if out is kwargs:
                out = dict(kwargs)
            out[key] = list(value)
    return out


def span_name(operation: str, model: Any) -> str:
    """``"chat gpt-4o-mini"``: the operation, then the requested model (GenAI convention)."""
    return f"{operation} {model}" if isinstance(model, str) and model else operation


def request_attributes(
    api: str, operation: str, kwargs: Mapping[str, Any], resource: Any
) -> dict[str, Any]:
    """GenAI request attributes of a call with (given) ``kwargs`` on ``resource``."""
    attributes: dict[str, Any] = {
        gen.OPERATION_NAME: operation,
        gen.PROVIDER_NAME: gen.PROVIDER,
        gen.REQUEST_MODEL: kwargs.get("model"),
    }
    attributes.update(_server(resource))
    if api == EMBEDDINGS:
        fmt = kwargs.get("encoding_format")
        attributes[gen.REQUEST_ENCODING_FORMATS] = [fmt] if isinstance(fmt, str) else None
        attributes[gen.EMBEDDINGS_DIMENSION_COUNT] = kwargs.get("dimensions")
        return attributes
    attributes.update(
        {
            gen.REQUEST_TEMPERATURE: kwargs.get("temperature"),
            gen.REQUEST_TOP_P: kwargs.get("top_p"),
            gen.REQUEST_MAX_TOKENS: _first(
                kwargs, "max_completion_tokens", "max_tokens", "max_output_tokens"
            ),
            gen.REQUEST_FREQUENCY_PENALTY: kwargs.get("frequency_penalty"),
            gen.REQUEST_PRESENCE_PENALTY: kwargs.get("presence_penalty"),
            gen.REQUEST_SEED: kwargs.get("seed"),
            gen.REQUEST_STOP_SEQUENCES: _stop_sequences(kwargs.get("stop")),
            gen.OPENAI_REQUEST_SERVICE_TIER: kwargs.get("service_tier"),
            gen.OUTPUT_TYPE: _output_type(api, kwargs),
        }
    )
    n = kwargs.get("n")
    if isinstance(n, int) and n != 1:
        attributes[gen.REQUEST_CHOICE_COUNT] = n
    return attributes


def recorded_inputs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The call's arguments as recorded: no headers/query/timeout, secrets redacted, pydantic
    classes (``response_format``, ``text_format``) as their JSON schema."""
    return {
        key: _recordable(key, value) for key, value in kwargs.items() if key not in _NOT_RECORDED
    }


def _recordable(key: str, value: Any) -> Any:
    if isinstance(key, str) and _SECRET_KEY.match(key):
        return _REDACTED
    if isinstance(value, Mapping):
        return {k: _recordable(k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_recordable("", v) for v in value]
    if isinstance(value, type):
        return _schema_of(value)
    return value


def _schema_of(cls: type) -> Any:
    schema = getattr(cls, "model_json_schema", None)
    try:
        return {"name": cls.__name__, "schema": schema()} if callable(schema) else cls.__name__
    except Exception:  # a model whose schema pydantic cannot build: its name is enough
        return cls.__name__


def _server(resource: Any) -> dict[str, Any]:
    """``server.address``/``server.port`` of the client's base URL (never its credentials)."""
    url = getattr(getattr(resource, "_client", None), "base_url", None)
    host = getattr(url, "host", None)
    if not isinstance(host, str) or not host:
        return {}
    port = getattr(url, "port", None)
    if port is None:
        port = {"https": 443, "http": 80}.get(getattr(url, "scheme", ""))
    return {gen.SERVER_ADDRESS: host, gen.SERVER_PORT: port}


def _first(kwargs: Mapping[str, Any], *keys: str) -> Any:
    return next((kwargs[k] for k in keys if kwargs.get(k) is not None), None)


def _stop_sequences(stop: Any) -> list[str] | None:
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop) and stop:
        return list(stop)
    return None


def _output_type(api: str, kwargs: Mapping[str, Any]) -> str | None:
    """``json`` when structured output was asked for, ``text`` when text was, else None."""
    if api == RESPONSES:
        if isinstance(kwargs.get("text_format"), type):
            return "json"
        text = kwargs.get("text")
        fmt = text.get("format") if isinstance(text, Mapping) else None
    else:
        fmt = kwargs.get("response_format")
    if isinstance(fmt, type):
        return "json"
    kind = fmt.get("type") if isinstance(fmt, Mapping) else None
    if kind in ("json_schema", "json_object"):
        return "json"
    return "text" if kind == "text" else None
