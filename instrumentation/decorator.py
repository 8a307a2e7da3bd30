"""``@spyglass.trace``: one span per call of a function, method, coroutine or generator.

Inputs are the bound arguments by parameter name (without self/cls, defaults applied),
outputs the return value — for generators the list of yielded items, or
``output_reducer(items)``. An exception marks the span ERROR, adds an exception event and
propagates unchanged. Everything that does not depend on the call (span name, static
attributes, how to bind arguments) is worked out at decoration time, so a call costs little
more than the raw OTel span it makes.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from opentelemetry.context import attach, detach
from opentelemetry.trace import Status, StatusCode, set_span_in_context

from spyglass import semconv
from spyglass.errors import InvalidArgumentError
from spyglass.instrumentation.binding import make_binder
from spyglass.instrumentation.serialize import to_json
from spyglass.instrumentation.spans import span_attributes
from spyglass.instrumentation.tracing import capture_content, get_tracer

__all__ = ["trace"]

F = TypeVar("F", bound=Callable[..., Any])

_INPUTS = semconv.SPAN_INPUTS
_OUTPUTS = semconv.SPAN_OUTPUTS
_ERROR = StatusCode.ERROR


@overload
def trace(func: F) -> F: ...
@overload
def trace(
    func: None = None,
    *,
    name: str | None = None,
    span_type: str = "UNKNOWN",
    attributes: Mapping[str, Any] | None = None,
    output_reducer: Callable[[list], Any] | None = None,
) -> Callable[[F], F]: ...


def trace(
    func: Any = None,
    *,
    name: str | None = None,
    span_type: str = "UNKNOWN",
    attributes: Mapping[str, Any] | None = None,
    output_reducer: Callable[[list], Any] | None = None,
) -> Any:
    """Trace every call of ``func``: ``@trace`` or ``@trace(name=, span_type=, attributes=,
    output_reducer=)``. Works on functions, async functions, generators, async generators,
    methods, static and class methods (above or below ``@staticmethod``/``@classmethod``)."""
    static = span_attributes(span_type, attributes)  # validates at decoration time
    if output_reducer is not None and not callable(output_reducer):
        raise InvalidArgumentError(f"output_reducer must be callable, got {output_reducer!r}")
    if name is not None and (not isinstance(name, str) or not name):
        raise InvalidArgumentError(f"trace(name=...) must be a non-empty string, got {name!r}")

    def decorate(target: Any) -> Any:
        if isinstance(target, (staticmethod, classmethod)):
            return type(target)(decorate(target.__func__))
        if not callable(target):
            raise InvalidArgumentError(
                f"@spyglass.trace decorates functions and methods, not {type(target).__name__}"
            )
        span_name = name or getattr(target, "__name__", None) or type(target).__name__
        plan = _Plan(span_name, static, make_binder(target), output_reducer)
        for test, wrap in _WRAPPERS:
            if test(target):
                return functools.wraps(target)(wrap(target, plan))
        raise AssertionError("unreachable: the last wrapper accepts any callable")

    return decorate if func is None else decorate(func)


class _Plan:
    """What every call of one decorated function shares."""

    __slots__ = ("bind", "name", "reducer", "static")

    def __init__(
        self,
        name: str,
        static: dict[str, Any] | None,
        bind: Callable[[tuple, dict], dict],
        reducer: Callable[[list], Any] | None,
    ) -> None:
        self.name = name
        self.static = static
        self.bind = bind
        self.reducer = reducer

    def start(self, args: tuple, kwargs: dict) -> tuple[Any, bool]:
        """Start the call's span (not yet current); also says whether content is captured."""
        capture = capture_content()
        static = self.static
        attributes: dict[str, Any] | None
        if capture:
            attributes = dict(static) if static else {}
            attributes[_INPUTS] = to_json(self.bind(args, kwargs))
        else:
            attributes = static
        return get_tracer().start_span(self.name, attributes=attributes), capture

    def outputs(self, items: list) -> Any:
        return self.reducer(items) if self.reducer is not None else items


def _fail(span: Any, exc: BaseException) -> None:
    span.record_exception(exc)
    span.set_status(Status(_ERROR, f"{type(exc).__name__}: {exc}"))
    span.end()


def _finish(span: Any, capture: bool, outputs: Any) -> None:
    if capture:
        span.set_attribute(_OUTPUTS, to_json(outputs))
    span.end()


def _wrap_function(func: Callable[..., Any], plan: _Plan) -> Callable[..., Any]:
    def traced(*args: Any, **kwargs: Any) -> Any:
        span, capture = plan.start(args, kwargs)
        token = attach(set_span_in_context(span))
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            detach(token)
            _fail(span, exc)
            raise
        detach(token)
        if capture:
            span.set_attribute(_OUTPUTS, to_json(result))
        span.end()
        return result

    return traced


def _wrap_coroutine(func: Callable[..., Any], plan: _Plan) -> Callable[..., Any]:
    async def traced(*args: Any, **kwargs: Any) -> Any:
        span, capture = plan.start(args, kwargs)
        token = attach(set_span_in_context(span))
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            detach(token)
            _fail(span, exc)
            raise
        detach(token)
        _finish(span, capture, result)
        return result

    return traced


def _wrap_generator(func: Callable[..., Any], plan: _Plan) -> Callable[..., Any]:
    def traced(*args: Any, **kwargs: Any) -> Any:
        span, capture = plan.start(args, kwargs)
        context = set_span_in_context(span)
        items: list[Any] = []
        try:
            inner = func(*args, **kwargs)  # runs none of its code yet (may raise TypeError)
            step, value = inner.send, None
            while True:
                token = attach(context)
                try:
                    item = step(value)
                except StopIteration:
                    break
                finally:
                    detach(token)
                if capture:
                    items.append(item)
                try:
                    value, step = (yield item), inner.send
                except GeneratorExit:  # the consumer stopped early: a normal end
                    inner.close()
                    _finish(span, capture, plan.outputs(items))
                    raise
                except BaseException as exc:  # thrown in by the consumer: pass it on
                    value, step = exc, inner.throw
        except GeneratorExit:
            raise
        except BaseException as exc:
            _fail(span, exc)
            raise
        _finish(span, capture, plan.outputs(items))

    return traced


def _wrap_async_generator(func: Callable[..., Any], plan: _Plan) -> Callable[..., Any]:
    async def traced(*args: Any, **kwargs: Any) -> Any:
        span, capture = plan.start(args, kwargs)
        context = set_span_in_context(span)
        items: list[Any] = []
        try:
            inner = func(*args, **kwargs)
            step, value = inner.asend, None
            while True:
                token = attach(context)
                try:
                    item = await step(value)
                except StopAsyncIteration:
                    break
                finally:
                    detach(token)
                if capture:
                    items.append(item)
                try:
                    value, step = (yield item), inner.asend
                except GeneratorExit:
                    await inner.aclose()
                    _finish(span, capture, plan.outputs(items))
                    raise
                except BaseException as exc:
                    value, step = exc, inner.athrow
        except GeneratorExit:
            raise
        except BaseException as exc:
            _fail(span, exc)
            raise
        _finish(span, capture, plan.outputs(items))

    return traced


_WRAPPERS: tuple[tuple[Callable[[Any], bool], Callable[..., Callable[..., Any]]], ...] = (
    (inspect.isasyncgenfunction, _wrap_async_generator),
    (inspect.isgeneratorfunction, _wrap_generator),
    (inspect.iscoroutinefunction, _wrap_coroutine),
    (callable, _wrap_function),
)
