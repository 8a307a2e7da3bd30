"""Attribute names Spyglass itself writes and reads (shared by SDK and collector).

Spyglass's own span attributes mirror MLflow's (``mlflow.spanInputs`` and friends are read
with the same priority), so MLflow-instrumented apps and Spyglass-instrumented apps look the
same once normalised.
"""

from __future__ import annotations

SPAN_INPUTS = "spyglass.span.inputs"
SPAN_OUTPUTS = "spyglass.span.outputs"
SPAN_TYPE = "spyglass.span.type"
TOKEN_USAGE = "spyglass.span.token_usage"

EXPERIMENT_ID = "spyglass.experiment_id"
"""Span attribute that routes a span's trace to an experiment (the SDK stamps every span)."""

TRACE_TAGS = "spyglass.trace.tags"
"""Span attribute holding a JSON object of tags to set on the span's trace."""

TRACE_METADATA = "spyglass.trace.metadata"
"""Span attribute holding a JSON object of metadata to set on the span's trace."""

SESSION_ID = "session.id"
"""Span attribute naming the conversation a trace belongs to (the OTel/OpenInference name);
the collector stores it as the trace's session id."""

USER_ID = "user.id"
"""Span attribute naming the end user a trace served; stored as the trace's user id."""

MAX_ID_LENGTH = 256
"""Longest session or user id the store keeps."""

EXPERIMENT_HEADER = "x-spyglass-experiment"
"""Request header (HTTP) / metadata key (gRPC) naming the experiment of a request's spans."""

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"

SPAN_TYPES = (
    "LLM",
    "CHAT_MODEL",
    "CHAIN",
    "AGENT",
    "TOOL",
    "RETRIEVER",
    "EMBEDDING",
    "RERANKER",
    "PARSER",
    "MEMORY",
    "GUARDRAIL",
    "EVALUATOR",
    "UNKNOWN",
)
