"""Streams whose span ends when the stream does.

``create(stream=True)`` returns an ``openai.Stream`` (or ``AsyncStream``); the patched method
hands back a subclass wrapping it, so ``isinstance`` checks and the SDK's own stream helpers
keep working. Every item passes through unchanged and is folded into the aggregate response;
the span ends when the stream is exhausted, closed (directly or by leaving a ``with`` block),
fails, or is garbage-collected unfinished.
"""

from __future__ import annotations

import logging
from typing import Any

import openai

from spyglass.instrumentation.openai import call_spans
from spyglass.instrumentation.openai.call_spans import Endpoint
from spyglass.instrumentation.openai.chunks import ChatChunks, ResponseEvents
from spyglass.instrumentation.openai.request import RESPONSES
from spyglass.instrumentation.spans import LiveSpan

logger = logging.getLogger("spyglass.instrumentation.openai")


class _Recorder:
    """Aggregates a stream's items and finishes its span exactly once. Used as ``with
    recorder: item = next(stream)``, it ends the span when the stream stops or fails."""

    __slots__ = ("aggregate", "ended", "endpoint", "span")

    def __init__(self, span: LiveSpan, endpoint: Endpoint) -> None:
        self.span = span
        self.endpoint = endpoint
        self.aggregate: Any = ResponseEvents() if endpoint.api == RESPONSES else ChatChunks()
        self.ended = False

    def add(self, item: Any) -> None:
        if self.aggregate is None:
            return
        try:
            self.aggregate.add(item)
        except Exception:  # an item shaped unexpectedly: stop aggregating, keep streaming
            logger.debug("Spyglass could not aggregate an OpenAI stream item", exc_info=True)
            self.aggregate = None

    def end(self, exc: BaseException | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        response = None
        if self.aggregate is not None:
            try:
                response = self.aggregate.result()
            except Exception:
                logger.debug("Spyglass could not aggregate an OpenAI stream", exc_info=True)
        call_spans.finish(self.endpoint, self.span, response, exc)

    def __enter__(self) -> _Recorder:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            self.end(None if isinstance(exc, (StopIteration, StopAsyncIteration)) else exc)


class _Wrapper:
    """What both stream kinds share: the wrapped stream's attributes, and ending the span
    when an unfinished stream is garbage-collected."""

    _spyglass_stream: Any
    _spyglass_recorder: _Recorder

    def _spyglass_wrap(self, stream: Any, span: LiveSpan, endpoint: Endpoint) -> None:
        # no super().__init__: every stream attribute is the wrapped stream's
        self._spyglass_stream = stream
        self._spyglass_recorder = _Recorder(span, endpoint)

    @property
    def response(self) -> Any:
        return self._spyglass_stream.response

    @response.setter
    def response(self, value: Any) -> None:
        self._spyglass_stream.response = value

    @property
    def _options(self) -> Any:
        return self._spyglass_stream._options

    @_options.setter
    def _options(self, value: Any) -> None:
        self._spyglass_stream._options = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_spyglass_"):
            raise AttributeError(name)
        return getattr(self._spyglass_stream, name)

    def __del__(self) -> None:
        recorder = self.__dict__.get("_spyglass_recorder")
        if recorder is not None:
            recorder.end()


class TracedStream(_Wrapper, openai.Stream):
    """An ``openai.Stream`` that records what passes through it on its call's span."""

    def __init__(self, stream: openai.Stream, span: LiveSpan, endpoint: Endpoint) -> None:
        self._spyglass_wrap(stream, span, endpoint)

    def __iter__(self) -> TracedStream:
        return self

    def __next__(self) -> Any:
        with self._spyglass_recorder:
            item = self._spyglass_stream.__next__()
        self._spyglass_recorder.add(item)
        return item

    def __enter__(self) -> TracedStream:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._spyglass_stream.close()
        finally:
            self._spyglass_recorder.end()


class TracedAsyncStream(_Wrapper, openai.AsyncStream):
    """An ``openai.AsyncStream`` that records what passes through it on its call's span."""

    def __init__(self, stream: openai.AsyncStream, span: LiveSpan, endpoint: Endpoint) -> None:
        self._spyglass_wrap(stream, span, endpoint)

    def __aiter__(self) -> TracedAsyncStream:
        return self

    async def __anext__(self) -> Any:
        with self._spyglass_recorder:
            item = await self._spyglass_stream.__anext__()
        self._spyglass_recorder.add(item)
        return item

    async def __aenter__(self) -> TracedAsyncStream:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        try:
            await self._spyglass_stream.close()
        finally:
            self._spyglass_recorder.end()


def traced(result: Any, span: LiveSpan, endpoint: Endpoint) -> Any:
    """``result`` wrapped if it is a stream (its span ends later); None if it is not one."""
    if isinstance(result, openai.Stream):
        return TracedStream(result, span, endpoint)
    if isinstance(result, openai.AsyncStream):
        return TracedAsyncStream(result, span, endpoint)
    return None
