"""Patching the ``openai`` client classes so every call makes a span.

The methods are replaced on the resource classes (``Completions.create``, ``AsyncResponses
.create``, ...), so clients created before or after ``autolog()`` are traced alike. Each
replacement keeps the original on ``__spyglass_original__``: patching twice never wraps twice,
and ``disable`` puts the originals back.
"""

from __future__ import annotations

import functools
import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace as otel_trace

from spyglass.instrumentation.openai import call_spans
from spyglass.instrumentation.openai import conventions as gen
from spyglass.instrumentation.openai.call_spans import Endpoint
from spyglass.instrumentation.openai.request import CHAT_COMPLETIONS, EMBEDDINGS, RESPONSES
from spyglass.instrumentation.openai.response import as_dict
from spyglass.instrumentation.openai.streams import traced

logger = logging.getLogger("spyglass.instrumentation.openai")

_ORIGINAL = "__spyglass_original__"

CHAT = Endpoint(CHAT_COMPLETIONS, gen.CHAT, "CHAT_MODEL")
RESPONSE = Endpoint(RESPONSES, gen.CHAT, "CHAT_MODEL")
EMBEDDING = Endpoint(EMBEDDINGS, gen.EMBEDDINGS, "EMBEDDING")


@dataclass(frozen=True)
class Target:
    """One method to patch: ``module.cls.method``, async or not, calling ``endpoint``."""

    module: str
    cls: str
    method: str
    endpoint: Endpoint
    is_async: bool


def _targets() -> tuple[Target, ...]:
    chat, responses = "openai.resources.chat.completions", "openai.resources.responses"
    embeddings = "openai.resources.embeddings"
    out = []
    for module, sync_cls, methods, endpoint in (
        (chat, "Completions", ("create", "parse"), CHAT),
        (responses, "Responses", ("create", "parse"), RESPONSE),
        (embeddings, "Embeddings", ("create",), EMBEDDING),
    ):
        for method in methods:
            out.append(Target(module, sync_cls, method, endpoint, False))
            out.append(Target(module, "Async" + sync_cls, method, endpoint, True))
    return tuple(out)


TARGETS = _targets()
_lock = threading.Lock()


def patch() -> list[str]:
    """Wrap every target this ``openai`` version has; returns the ones now wrapped."""
    done = []
    with _lock:
        for target in TARGETS:
            owner, current = _lookup(target)
            if current is None:
                continue  # an older openai without this API (e.g. no Responses)
            if not hasattr(current, _ORIGINAL):
                setattr(owner, target.method, _wrapper(current, target))
            done.append(f"{target.cls}.{target.method}")
    return done


def unpatch() -> None:
    """Put every original method back."""
    with _lock:
        for target in TARGETS:
            owner, current = _lookup(target)
            original = getattr(current, _ORIGINAL, None)
            if original is not None:
                setattr(owner, target.method, original)


def is_patched() -> bool:
    """Whether any OpenAI method is currently wrapped."""
    return any(hasattr(_lookup(target)[1], _ORIGINAL) for target in TARGETS)


def _lookup(target: Target) -> tuple[type | None, Any]:
    """The class ``target`` names and its method as it is now (None, None if missing)."""
    try:
        owner = getattr(importlib.import_module(target.module), target.cls, None)
    except ImportError:
        return None, None
    return owner, getattr(owner, target.method, None) if owner is not None else None


def _wrapper(original: Callable[..., Any], target: Target) -> Callable[..., Any]:
    endpoint = target.endpoint
    if target.is_async:

        @functools.wraps(original)
        async def traced_async(resource: Any, *args: Any, **kwargs: Any) -> Any:
            span, kwargs = call_spans.start(endpoint, resource, kwargs)
            if span is None:
                return await original(resource, *args, **kwargs)
            try:
                with otel_trace.use_span(
                    span.otel_span,
                    end_on_exit=False,
                    record_exception=False,
                    set_status_on_exception=False,
                ):
                    result = await original(resource, *args, **kwargs)
            except BaseException as exc:
                call_spans.finish(endpoint, span, None, exc)
                raise
            return _finished(endpoint, span, result)

        wrapper = traced_async
    else:

        @functools.wraps(original)
        def traced_sync(resource: Any, *args: Any, **kwargs: Any) -> Any:
            span, kwargs = call_spans.start(endpoint, resource, kwargs)
            if span is None:
                return original(resource, *args, **kwargs)
            try:
                with otel_trace.use_span(
                    span.otel_span,
                    end_on_exit=False,
                    record_exception=False,
                    set_status_on_exception=False,
                ):
                    result = original(resource, *args, **kwargs)
            except BaseException as exc:
                call_spans.finish(endpoint, span, None, exc)
                raise
            return _finished(endpoint, span, result)

        wrapper = traced_sync
    setattr(wrapper, _ORIGINAL, original)
    return wrapper


def _finished(endpoint: Endpoint, span: Any, result: Any) -> Any:
    """A stream comes back wrapped (its span ends with it); anything else ends the span now."""
    try:
        stream = traced(result, span, endpoint)
        if stream is not None:
            return stream
        response = as_dict(result)
    except Exception:
        logger.debug("Spyglass could not read the result of an OpenAI call", exc_info=True)
        response = None
    call_spans.finish(endpoint, span, response)
    return result
