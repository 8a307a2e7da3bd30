"""The trace of each evaluated row: its root span, and ``predict_fn`` called inside it.

With ``predict_fn``, every row opens a root span (type CHAIN, named after the function, with
the row's inputs) and calls ``predict_fn(**inputs)`` inside it, so spans the function makes
(a ``@spyglass.trace`` decorator, autologged LLM calls) become its children and the row has
exactly one trace. A coroutine function is awaited on one event loop shared by the whole
evaluation (async clients keep their connection pools on that one loop), with the row's span
as the current context. Without ``predict_fn``, a row that has neither a trace nor a trace id
still gets a trace of its own, holding its inputs and outputs, so its feedback has
somewhere to go.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context

from spyglass.evaluator.data import Record

RUN_ID_METADATA = "spyglass.evaluation_run_id"
RECORD_METADATA = "spyglass.dataset_record_id"
STAND_IN_NAME = "evaluation_record"


@dataclass
class Prediction:
    """What a row's predict step produced: outputs, the trace, or why there are none."""

    outputs: Any
    trace_id: str | None
    created_trace: bool
    error: str | None = None


class AsyncRunner:
    """One event loop on a background thread; :meth:`run` awaits a coroutine there from any
    thread, carrying the caller's OpenTelemetry context into it."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="spyglass-eval-async", daemon=True
        )
        self._thread.start()

    def run(self, awaitable: Awaitable[Any]) -> Any:
        parent = otel_context.get_current()

        async def in_context() -> Any:
            token = otel_context.attach(parent)
            try:
                return await awaitable
            finally:
                otel_context.detach(token)

        return asyncio.run_coroutine_threadsafe(in_context(), self._loop).result()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


class Predictor:
    """Produces each row's outputs and trace (see the module docstring)."""

    def __init__(self, predict_fn: Callable[..., Any] | None, run_id: str) -> None:
        self._fn = predict_fn
        self._name = getattr(predict_fn, "__name__", None) or "predict"
        self._run_id = run_id
        self._async: AsyncRunner | None = None
        self._lock = threading.Lock()

    def __call__(self, record: Record) -> Prediction:
        if self._fn is not None:
            return self._predict(record)
        if record.trace_id is None:
            return self._stand_in(record)
        return Prediction(record.outputs, record.trace_id, created_trace=False)

    def close(self) -> None:
        if self._async is not None:
            self._async.close()

    def _predict(self, record: Record) -> Prediction:
        from spyglass.instrumentation.spans import start_span

        assert self._fn is not None
        with start_span(self._name, span_type="CHAIN") as span:
            self._label(span, record)
            try:
                outputs = self._fn(**record.inputs)
                if inspect.isawaitable(outputs):
                    outputs = self._runner().run(outputs)
            except Exception as exc:  # the row fails, the evaluation goes on
                span.record_exception(exc)
                return Prediction(
                    None,
                    span.trace_id,
                    created_trace=True,
                    error=f"predict_fn raised {type(exc).__name__}: {exc}",
                )
            span.set_outputs(outputs)
        return Prediction(outputs, span.trace_id, created_trace=True)

    def _stand_in(self, record: Record) -> Prediction:
        from spyglass.instrumentation.spans import start_span

        with start_span(STAND_IN_NAME, span_type="CHAIN") as span:
            self._label(span, record)
            span.set_outputs(record.outputs)
        return Prediction(record.outputs, span.trace_id, created_trace=True)

    def _label(self, span: Any, record: Record) -> None:
        """The row's inputs on its root span, and the run (and record) in trace metadata."""
        from spyglass.instrumentation.spans import update_current_trace

        span.set_inputs(record.inputs)
        metadata = {RUN_ID_METADATA: self._run_id}
        if record.dataset_record_id:
            metadata[RECORD_METADATA] = record.dataset_record_id
        update_current_trace(metadata=metadata)

    def _runner(self) -> AsyncRunner:
        with self._lock:
            if self._async is None:
                self._async = AsyncRunner()
            return self._async
