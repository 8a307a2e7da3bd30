"""Spans by hand: ``start_span`` (the current span inside a ``with`` block), ``begin_span``
(not current; its owner ends it, e.g. when a stream is consumed), the current span, and
tags/metadata on the current trace.

A :class:`LiveSpan` wraps an OTel span and writes the attributes the collector reads
(:mod:`spyglass.semconv`): inputs and outputs as JSON text (skipped when content capture is
off), the span type, and trace tags/metadata as JSON objects.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Status, StatusCode

from spyglass import semconv
from spyglass.errors import InvalidArgumentError
from spyglass.instrumentation.serialize import to_attribute, to_json
from spyglass.instrumentation.tracing import capture_content, get_tracer

__all__ = [
    "LiveSpan",
    "begin_span",
    "get_current_active_span",
    "span_attributes",
    "start_span",
    "update_current_trace",
]

logger = logging.getLogger("spyglass.instrumentation")

_SPAN_INPUTS = semconv.SPAN_INPUTS
_SPAN_OUTPUTS = semconv.SPAN_OUTPUTS
_SPAN_TYPE = semconv.SPAN_TYPE
_ERROR = StatusCode.ERROR


class LiveSpan:
    """A span being recorded. Every method is safe on a span that is not being recorded
    (sampled out): it does nothing."""

    __slots__ = ("otel_span",)

    def __init__(self, otel_span: otel_trace.Span) -> None:
        self.otel_span = otel_span

    @property
    def trace_id(self) -> str:
        """32 lowercase hex digits, as the collector and ``spyglass.get_trace`` use them."""
        return format(self.otel_span.get_span_context().trace_id, "032x")

    @property
    def span_id(self) -> str:
        """16 lowercase hex digits."""
        return format(self.otel_span.get_span_context().span_id, "016x")

    def is_recording(self) -> bool:
        return self.otel_span.is_recording()

    def set_inputs(self, value: Any) -> None:
        """Record ``value`` (any object; serialised safely) as the span's inputs."""
        if capture_content():
            self.otel_span.set_attribute(_SPAN_INPUTS, to_json(value))

    def set_outputs(self, value: Any) -> None:
        """Record ``value`` (any object; serialised safely) as the span's outputs."""
        if capture_content():
            self.otel_span.set_attribute(_SPAN_OUTPUTS, to_json(value))

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute; non-primitive values are stored as JSON text, None is skipped."""
        value = to_attribute(value)
        if value is not None:
            self.otel_span.set_attribute(_key(key), value)

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        converted = _converted(attributes, "attributes")
        if converted:
            self.otel_span.set_attributes(converted)

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None) -> None:
        self.otel_span.add_event(_key(name), _converted(attributes, "event attributes"))

    def set_span_type(self, span_type: str) -> None:
        """One of :data:`spyglass.semconv.SPAN_TYPES` (LLM, CHAIN, TOOL, ...) or your own."""
        self.otel_span.set_attribute(_SPAN_TYPE, _span_type(span_type))

    def record_exception(self, exc: BaseException) -> None:
        """Mark the span ERROR and add an ``exception`` event (type, message, stack)."""
        self.otel_span.record_exception(exc)
        self.otel_span.set_status(Status(_ERROR, f"{type(exc).__name__}: {exc}"))

    def end(self, exc: BaseException | None = None) -> None:
        """Finish the span (recording ``exc`` first, when given)."""
        if exc is not None:
            self.record_exception(exc)
        self.otel_span.end()

    def __repr__(self) -> str:
        name = getattr(self.otel_span, "name", "?")
        return f"LiveSpan(name={name!r}, trace_id={self.trace_id}, span_id={self.span_id})"


class _CurrentSpan:
    """``with start_span(...) as span``: the span is current inside the block; an exception
    leaving the block marks it ERROR and propagates unchanged."""

    __slots__ = ("_attributes", "_name", "_span", "_token")

    def __init__(self, name: str, attributes: dict[str, Any] | None) -> None:
        self._name = name
        self._attributes = attributes

    def __enter__(self) -> LiveSpan:
        span = get_tracer().start_span(self._name, attributes=self._attributes)
        self._token = otel_context.attach(otel_trace.set_span_in_context(span))
        self._span = span
        return LiveSpan(span)

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        otel_context.detach(self._token)
        span = self._span
        if exc is not None and not isinstance(exc, GeneratorExit):
            span.record_exception(exc)
            span.set_status(Status(_ERROR, f"{type(exc).__name__}: {exc}"))
        span.end()

    async def __aenter__(self) -> LiveSpan:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)


def start_span(
    name: str, span_type: str = "UNKNOWN", attributes: Mapping[str, Any] | None = None
) -> _CurrentSpan:
    """A context manager yielding a :class:`LiveSpan` that is the current span (the parent
    of spans started inside the block)."""
    return _CurrentSpan(_key(name), span_attributes(span_type, attributes))


def begin_span(
    name: str,
    span_type: str = "UNKNOWN",
    attributes: Mapping[str, Any] | None = None,
    parent: LiveSpan | otel_trace.Span | otel_context.Context | None = None,
    kind: otel_trace.SpanKind = otel_trace.SpanKind.INTERNAL,
) -> LiveSpan:
    """Start a span that is not made current; the caller ends it with ``.end()``.

    ``parent``: a span or context to nest under (default: the current span); ``kind``: the
    OTel span kind (CLIENT for a call to a model provider)."""
    if parent is None or isinstance(parent, otel_context.Context):
        context = parent
    elif isinstance(parent, LiveSpan):
        context = otel_trace.set_span_in_context(parent.otel_span)
    elif isinstance(parent, otel_trace.Span):
        context = otel_trace.set_span_in_context(parent)
    else:
        raise InvalidArgumentError(
            f"begin_span(parent=...) takes a LiveSpan, an OTel span or an OTel context, "
            f"not {type(parent).__name__}"
        )
    otel_span = get_tracer().start_span(
        _key(name), context=context, kind=kind, attributes=span_attributes(span_type, attributes)
    )
    return LiveSpan(otel_span)


def get_current_active_span() -> LiveSpan | None:
    """The current span (from Spyglass or any OTel instrumentation), None outside spans."""
    span = otel_trace.get_current_span()
    if not span.get_span_context().is_valid:
        return None
    return LiveSpan(span)


def update_current_trace(
    tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
) -> None:
    """Add ``tags`` and ``metadata`` (key → value; non-strings stored as JSON) to the trace
    of the current span, and say which conversation (``session_id``) and end user
    (``user_id``) it belongs to. Traces with the same session id form a session (the Sessions
    page, ``spyglass.search_sessions``); ``session.id`` and ``user.id`` filter on them. Outside
    any span it does nothing but log a warning."""
    for what, value in (("tags", tags), ("metadata", metadata)):
        if value is not None and not isinstance(value, Mapping):
            raise InvalidArgumentError(
                f"update_current_trace({what}=...) takes a dict of key → value, not "
                f"{type(value).__name__}"
            )
    ids = {
        key: _id_value(what, value)
        for what, key, value in (
            ("session_id", semconv.SESSION_ID, session_id),
            ("user_id", semconv.USER_ID, user_id),
        )
        if value is not None
    }
    span = otel_trace.get_current_span()
    if not span.get_span_context().is_valid:
        logger.warning(
            "spyglass.update_current_trace() was called outside any span; call it "
            "inside a function decorated with @spyglass.trace or a "
            "`with spyglass.start_span(...)` block"
        )
        return
    if not span.is_recording():
        return
    for key, value in ((semconv.TRACE_TAGS, tags), (semconv.TRACE_METADATA, metadata)):
        if value:
            merged = _json_object(getattr(span, "attributes", None), key)
            merged.update({str(k): v for k, v in value.items()})
            span.set_attribute(key, to_json(merged))
    for key, text in ids.items():
        span.set_attribute(key, text)


def _id_value(what: str, value: Any) -> str:
    """A session or user id, checked: a non-empty string the store can keep whole."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(
            f"update_current_trace({what}=...) takes a non-empty string, got {value!r}"
        )
    if len(value) > semconv.MAX_ID_LENGTH:
        raise InvalidArgumentError(
            f"update_current_trace({what}=...) is {len(value)} characters long; ids of at "
            f"most {semconv.MAX_ID_LENGTH} characters are kept"
        )
    return value


def span_attributes(span_type: str, attributes: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The attributes a new span starts with: its type (unless UNKNOWN) and ``attributes``."""
    out = _converted(attributes, "attributes")
    span_type = _span_type(span_type)
    if span_type != "UNKNOWN":
        out[_SPAN_TYPE] = span_type
    return out or None


def _converted(attributes: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise InvalidArgumentError(
            f"{what} must be a dict of name → value, not {type(attributes).__name__}"
        )
    out = {}
    for key, value in attributes.items():
        value = to_attribute(value)
        if value is not None:
            out[_key(key)] = value
    return out


def _key(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(
            f"span and attribute names must be non-empty strings, got {name!r}"
        )
    return name


def _span_type(span_type: Any) -> str:
    if not isinstance(span_type, str) or not span_type:
        raise InvalidArgumentError(
            f"span_type must be a non-empty string such as {', '.join(semconv.SPAN_TYPES)}; "
            f"got {span_type!r}"
        )
    upper = span_type.upper()
    return upper if upper in semconv.SPAN_TYPES else span_type


def _json_object(attributes: Mapping[str, Any] | None, key: str) -> dict[str, Any]:
    """The JSON object already stored under ``key`` (so repeated calls merge)."""
    text = attributes.get(key) if attributes else None
    if not isinstance(text, str):
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
