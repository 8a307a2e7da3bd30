"""Judge calls as traces of their own, in an experiment of their own.

A judge scores a row of the app, but its own model call is not part of the app's behaviour:
each judgement is a separate trace of one ``EVALUATOR`` span, started outside whatever trace
is current on the calling thread. The span carries the model call's GenAI attributes too
(operation, provider, model, and the tokens of every attempt), so the collector prices it,
and one span per judgement keeps the cost of tracing judges low when many run at once; an
answer that was not a valid verdict is an event on it.

Those traces go to the experiment ``"<active experiment> (judge calls)"`` (or the one named by
``SPYGLASS_JUDGE_EXPERIMENT``), created on first use, so that searching the app's experiment —
e.g. to build a dataset from its traces — never picks up judge calls. Each judge trace is
tagged ``spyglass.judge = <scorer name>``. The evaluator service scores jobs of many
experiments in one process, so it names the app's experiment per scoring call instead
(:func:`scoring_experiment`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context

from spyglass import semconv

if TYPE_CHECKING:
    from spyglass.client import SpyglassClient
    from spyglass.instrumentation.spans import LiveSpan

logger = logging.getLogger("spyglass.evaluator")

JUDGE_TAG = "spyglass.judge"
"""Trace tag naming the judge (scorer) that made a judge trace."""
EXPERIMENT_SUFFIX = " (judge calls)"

_scored_experiment: ContextVar[str | None] = ContextVar(
    "spyglass_judge_scored_experiment", default=None
)
_lock = threading.Lock()
# per configured client (a new configure() starts afresh): (active id, configured name) → id
_experiments: weakref.WeakKeyDictionary[
    SpyglassClient, dict[tuple[str | None, str | None], str | None]
] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def scoring_experiment(experiment_id: str | None) -> Iterator[None]:
    """Judge calls made inside score rows of ``experiment_id`` (rather than of the active
    experiment): their traces go to ``"<that experiment> (judge calls)"``."""
    token = _scored_experiment.set(experiment_id)
    try:
        yield
    finally:
        _scored_experiment.reset(token)


@contextlib.contextmanager
def judge_trace(
    judge: str, model_id: str, model: str, provider: str, inputs: Any
) -> Iterator[LiveSpan]:
    """The one span of a judgement, in a new trace detached from the current context."""
    from spyglass.instrumentation.spans import start_span, update_current_trace

    experiment_id = judge_experiment_id()
    token = otel_context.attach(otel_context.Context())
    try:
        with start_span(
            f"judge:{judge}",
            span_type="EVALUATOR",
            attributes={
                "spyglass.judge.name": judge,
                "spyglass.judge.model": model_id,
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": provider,
                "gen_ai.request.model": model,
            },
        ) as span:
            _route(span, experiment_id)
            update_current_trace(tags={JUDGE_TAG: judge})
            span.set_inputs(inputs)
            yield span
    finally:
        otel_context.detach(token)


def record_usage(span: LiveSpan, model: str, input_tokens: int, output_tokens: int) -> None:
    """The model that answered and the tokens of every attempt, on the judgement's span."""
    span.set_attributes(
        {
            "gen_ai.response.model": model,
            "gen_ai.usage.input_tokens": input_tokens,
            "gen_ai.usage.output_tokens": output_tokens,
        }
    )


def record_malformed(span: LiveSpan, attempt: int, content: str | None, problem: str) -> None:
    """An answer that was not a valid verdict (asked again, or the judgement's error)."""
    span.add_event(
        "malformed answer",
        {"attempt": attempt, "content": content or "", "problem": problem},
    )


def _route(span: LiveSpan, experiment_id: str | None) -> None:
    """Every span of a judge trace names the judge experiment (set after the SDK stamped
    the active one at span start, so this value is the one exported)."""
    if experiment_id is not None:
        span.set_attribute(semconv.EXPERIMENT_ID, experiment_id)


def judge_experiment_id() -> str | None:
    """The id of the experiment judge traces go to (got or created once per configured
    client and active experiment); None — the active experiment — when that cannot be done."""
    from spyglass import session

    client = session.client()
    scored = _scored_experiment.get() or session.current_experiment_id()
    key = (scored, os.environ.get("SPYGLASS_JUDGE_EXPERIMENT"))
    known = _experiments.get(client)
    if known is not None and key in known:
        return known[key]
    with _lock:
        known = _experiments.setdefault(client, {})
        if key not in known:
            known[key] = _get_or_create(client, *key)
        return known[key]


def _get_or_create(
    client: SpyglassClient, active_id: str | None, configured: str | None
) -> str | None:
    from spyglass.errors import AlreadyExistsError, SpyglassError

    try:
        name = configured
        if not name:
            active = client.get_experiment(active_id) if active_id else None
            name = (active.name if active else semconv.DEFAULT_EXPERIMENT_NAME) + EXPERIMENT_SUFFIX
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            try:
                experiment = client.create_experiment(name, tags={JUDGE_TAG: "true"})
            except AlreadyExistsError:  # another process made it just now
                experiment = client.get_experiment_by_name(name)
        return experiment.experiment_id if experiment else None
    except SpyglassError as exc:
        logger.warning(
            "judge traces stay in the active experiment: could not get or create "
            "their own experiment (%s)",
            exc,
        )
        return None
