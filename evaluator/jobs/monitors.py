"""Monitors through the collector API: continuous evaluation of an experiment's new traces.

A monitor scores each new trace of its experiment that matches its filter, sampled at its
rate, once the trace is complete (root span ended, no new span for the quiet period), with
scorers named by reference (see :mod:`.refs`), code scorers as well as LLM judges. Workers
(``spyglass evaluator serve``) do the scoring; the monitor keeps counters and per-window
metrics (1h, 24h, 7d)::

    create_monitor("prod-quality", experiment="support-bot", filter_string="tags.env = 'prod'",
                   sample_rate=0.1, scorers=[{"type": "Safety"}, "mypkg.scorers:polite"])
    get_monitor("prod-quality").windows
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spyglass import session
from spyglass.entities import Monitor
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.jobs.arguments import number, required_text, text
from spyglass.evaluator.jobs.refs import ScorerSpec, check_locally
from spyglass.evaluator.jobs.submit import service
from spyglass.v1 import jobs_pb2

MAX_NAME_LENGTH = 256


def create_monitor(
    name: str,
    *,
    scorers: ScorerSpec | Sequence[ScorerSpec],
    experiment: str | None = None,
    filter_string: str | None = None,
    sample_rate: float = 1.0,
    quiet_period_seconds: float | None = None,
    include_existing: bool = False,
) -> Monitor:
    """Start scoring new traces of ``experiment`` (name or id; default: the active
    experiment, else "0") that match ``filter_string``, a share ``sample_rate`` (0 < rate
    <= 1) of them, each once no span has arrived for ``quiet_period_seconds`` (default 30).
    ``include_existing`` also scores the traces already stored. AlreadyExistsError when the
    name is taken."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME_LENGTH:
        raise InvalidArgumentError(
            f"a monitor's name must be a non-empty string of at most "
            f"{MAX_NAME_LENGTH} characters, got {name!r}"
        )
    if not isinstance(include_existing, bool):
        raise InvalidArgumentError(
            f"include_existing must be True or False, got {include_existing!r}"
        )
    request = jobs_pb2.CreateMonitorRequest(
        name=name.strip(),
        sample_rate=_sample_rate(sample_rate),
        filter_string=text(filter_string, "filter_string"),
        include_existing=include_existing,
    )
    request.experiment = (
        text(experiment, "experiment")
        if experiment is not None
        else session.current_experiment_id() or ""
    )
    if quiet_period_seconds is not None:
        request.quiet_period_seconds = _quiet_period(quiet_period_seconds)
    request.scorers.extend(check_locally(scorers))
    client = session.client()
    if include_existing:
        session.run_before_read()  # spans this process still holds reach the collector first
    return Monitor.from_proto(client.call(service(client).CreateMonitor, request))


def get_monitor(name_or_id: str) -> Monitor:
    """One monitor by name or id, with its counters and metrics per time window."""
    request = jobs_pb2.GetMonitorRequest(monitor=_key(name_or_id))
    client = session.client()
    return Monitor.from_proto(client.call(service(client).GetMonitor, request))


def list_monitors(experiment: str | None = None) -> list[Monitor]:
    """Every monitor (of ``experiment``, name or id, when given), by name, without window
    metrics."""
    request = jobs_pb2.ListMonitorsRequest(experiment=text(experiment, "experiment"))
    client = session.client()
    return [
        Monitor.from_proto(m) for m in client.call(service(client).ListMonitors, request).monitors
    ]


def update_monitor(
    name_or_id: str,
    *,
    enabled: bool | None = None,
    sample_rate: float | None = None,
    filter_string: str | None = None,
    quiet_period_seconds: float | None = None,
) -> Monitor:
    """Pause (``enabled=False``) or resume a monitor, or change its sample rate, filter
    (for traces not yet looked at) or quiet period; arguments left None stay as they are."""
    if all(v is None for v in (enabled, sample_rate, filter_string, quiet_period_seconds)):
        raise InvalidArgumentError(
            "nothing to update: give enabled, sample_rate, filter_string or quiet_period_seconds"
        )
    request = jobs_pb2.UpdateMonitorRequest(monitor=_key(name_or_id))
    if enabled is not None:
        if not isinstance(enabled, bool):
            raise InvalidArgumentError(f"enabled must be True or False, got {enabled!r}")
        request.enabled = enabled
    if sample_rate is not None:
        request.sample_rate = _sample_rate(sample_rate)
    if filter_string is not None:
        request.filter_string = text(filter_string, "filter_string")
    if quiet_period_seconds is not None:
        request.quiet_period_seconds = _quiet_period(quiet_period_seconds)
    client = session.client()
    return Monitor.from_proto(client.call(service(client).UpdateMonitor, request))


def delete_monitor(name_or_id: str) -> None:
    """Delete a monitor; the feedback it wrote on traces and its evaluation run stay."""
    request = jobs_pb2.DeleteMonitorRequest(monitor=_key(name_or_id))
    client = session.client()
    client.call(service(client).DeleteMonitor, request)


def _sample_rate(value: Any) -> float:
    return number(
        value,
        "sample_rate",
        0,
        1,
        low_open=True,
        meaning=" (the share of matching traces to score, e.g. 0.1)",
    )


def _quiet_period(value: Any) -> float:
    return number(
        value,
        "quiet_period_seconds",
        0,
        meaning=" (seconds without a new span before a trace counts as complete)",
    )


def _key(name_or_id: Any) -> str:
    return required_text(name_or_id, "monitor (its name or id)")
