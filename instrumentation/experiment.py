"""Stamping every span with the active experiment, so the collector routes its trace there.

Every span started after ``spyglass.set_experiment(name)`` carries
:data:`spyglass.semconv.EXPERIMENT_ID` — also spans of other instrumentations on the same
provider — so a trace's experiment never depends on which of its spans arrives first.
"""

from __future__ import annotations

from typing import Any

from spyglass import semconv, session

EXPERIMENT_ID = semconv.EXPERIMENT_ID
_current_experiment_id = session.current_experiment_id


def stamp_experiment(span: Any, parent_context: Any = None) -> None:
    """``SpanProcessor.on_start``: set the experiment id attribute on ``span``."""
    experiment_id = _current_experiment_id()
    if experiment_id is not None:
        span.set_attribute(EXPERIMENT_ID, experiment_id)
