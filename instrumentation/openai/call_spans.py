"""The span of one OpenAI call: started from the request, finished from the response (whole
or aggregated from a stream) or from the error the call raised.

Each function here is guarded: a failure inside the instrumentation is logged at debug level
and swallowed, so tracing can never change what the app's OpenAI call returns or raises.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import SpanKind

from spyglass.instrumentation.openai import conventions as gen
from spyglass.instrumentation.openai.deferral import deferred
from spyglass.instrumentation.openai.request import (
    given,
    materialized,
    recorded_inputs,
    request_attributes,
    span_name,
)
from spyglass.instrumentation.openai.response import response_attributes
from spyglass.instrumentation.spans import LiveSpan, begin_span

logger = logging.getLogger("spyglass.instrumentation.openai")


@dataclass(frozen=True)
class Endpoint:
    """What a patched method calls: its API shape, GenAI operation and Spyglass span type."""

    api: str  # request.CHAT_COMPLETIONS / RESPONSES / EMBEDDINGS
    operation: str  # conventions.CHAT / EMBEDDINGS
    span_type: str  # CHAT_MODEL / EMBEDDING


def start(
    endpoint: Endpoint, resource: Any, kwargs: dict[str, Any]
) -> tuple[LiveSpan | None, dict[str, Any]]:
    """Start the CLIENT span of a call (a child of the current span) and record its request.

    Returns the span (None when tracing failed, or when a framework's instrumentation
    records this call: see :mod:`~spyglass.instrumentation.openai.deferral`) and the kwargs
    to call with: ``kwargs`` itself, or a copy whose one-shot iterables (a generator of
    messages) became lists, so that recording them does not use up what the call must send."""
    if deferred():
        return None, kwargs
    call_kwargs = materialized(kwargs)
    try:
        recorded = given(call_kwargs)
        attributes = request_attributes(endpoint.api, endpoint.operation, recorded, resource)
        span = begin_span(
            span_name(endpoint.operation, recorded.get("model")),
            endpoint.span_type,
            attributes,
            kind=SpanKind.CLIENT,
        )
        span.set_inputs(recorded_inputs(recorded))
        return span, call_kwargs
    except Exception:
        logger.debug("Spyglass could not start the span of an OpenAI call", exc_info=True)
        return None, call_kwargs


def finish(
    endpoint: Endpoint,
    span: LiveSpan,
    response: Mapping[str, Any] | None,
    exc: BaseException | None = None,
) -> None:
    """Record ``response`` (a dict; None when there is none to read, e.g. a raw HTTP
    response, or the call failed before one), then ``exc`` if the call raised it: ERROR
    status, an exception event, ``error.type`` and the HTTP status. Then end the span."""
    try:
        if response is not None:
            span.set_attributes(response_attributes(endpoint.api, response))
            span.set_outputs(response)
        if exc is not None:
            span.set_attribute(gen.ERROR_TYPE, type(exc).__qualname__)
            status = getattr(exc, "status_code", None)
            if isinstance(status, int):
                span.set_attribute(gen.HTTP_STATUS_CODE, status)
            span.record_exception(exc)
    except Exception:
        logger.debug("Spyglass could not record the outcome of an OpenAI call", exc_info=True)
    finally:
        _end(span)


def _end(span: LiveSpan) -> None:
    try:
        span.end()
    except Exception:
        logger.debug("Spyglass could not end the span of an OpenAI call", exc_info=True)
