"""Spyglass: OpenTelemetry-native tracing and evaluation for LLM applications.

The public API, re-exported lazily: importing ``spyglass`` loads nothing heavy (no gRPC
channel, no collector, no pandas) until a function is used.
"""

from __future__ import annotations

from spyglass.lazy_exports import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "configure": "spyglass.session",
    "set_experiment": "spyglass.session",
    "get_experiment_by_name": "spyglass.session",
    "search_experiments": "spyglass.session",
    "search_traces": "spyglass.search",
    "search_sessions": "spyglass.session_search",
    "get_experiment_usage": "spyglass.usage",
    "SessionInfo": "spyglass.session_search",
    "get_trace": "spyglass.annotations",
    "set_trace_tag": "spyglass.annotations",
    "delete_trace_tag": "spyglass.annotations",
    "delete_traces": "spyglass.annotations",
    "log_expectation": "spyglass.annotations",
    "log_feedback": "spyglass.annotations",
    "get_assessment": "spyglass.annotations",
    "update_assessment": "spyglass.annotations",
    "delete_assessment": "spyglass.annotations",
    "override_feedback": "spyglass.annotations",
    "Trace": "spyglass.entities",
    "TraceInfo": "spyglass.entities",
    "TraceData": "spyglass.entities",
    "Span": "spyglass.entities",
    "Assessment": "spyglass.entities",
    "Expectation": "spyglass.entities",
    "Feedback": "spyglass.entities",
    "AssessmentSource": "spyglass.entities",
    "AssessmentError": "spyglass.entities",
    "Experiment": "spyglass.entities",
    "trace": "spyglass.instrumentation.decorator",
    "start_span": "spyglass.instrumentation.spans",
    "get_current_active_span": "spyglass.instrumentation.spans",
    "update_current_trace": "spyglass.instrumentation.spans",
    "flush": "spyglass.instrumentation.tracing",
    "autolog": "spyglass.instrumentation.autolog",
}

_SUBMODULES = ("openai",)  # `spyglass.openai.autolog()` works after a bare `import spyglass`

__all__ = ["__version__", *_EXPORTS, *_SUBMODULES]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, _SUBMODULES)
