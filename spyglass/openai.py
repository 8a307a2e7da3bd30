"""``spyglass.openai.autolog()``: trace every OpenAI call as a child span.

A thin facade; the instrumentation lives in :mod:`spyglass.instrumentation.openai` and is
imported (with ``openai`` itself) only when ``autolog`` is called.
"""

from __future__ import annotations

__all__ = ["autolog"]


def autolog(disable: bool = False) -> None:
    """Patch the ``openai`` client classes (sync and async) so that ``chat.completions.create``
    (also with ``stream=True``), ``chat.completions.parse``, ``responses.create`` (also
    streamed) and ``embeddings.create`` each record a span with the request, the response,
    the model and the token usage. API keys and headers are never recorded. An OpenAI error
    is recorded on the span and re-raised unchanged. ``disable=True`` restores the originals;
    calling it twice does not wrap twice."""
    from spyglass.instrumentation.openai import autolog as _autolog

    _autolog(disable=disable)
