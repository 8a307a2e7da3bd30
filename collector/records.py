"""Turning decoded OTLP spans into rows for the store.

One :class:`SpanRecord` per valid span: the ``spans`` row (a tuple in :data:`SPAN_COLUMNS`
order, ready for a bulk insert), plus what the writer needs to merge the trace row: how the
span routes its trace to an experiment, and trace tags/metadata the span carries. Spans
that cannot be stored are reported as :class:`~spyglass.collector.decode.Rejection` and
the rest of the request goes on.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from spyglass import semconv
from spyglass.collector.cost import PriceTable
from spyglass.collector.decode import Rejection
from spyglass.collector.normalize import normalize
from spyglass.collector.redaction import RedactionRules
from spyglass.collector.store.models import SpanRow

SPAN_COLUMNS: tuple[str, ...] = tuple(c.name for c in SpanRow.__table__.columns)
_I = {name: i for i, name in enumerate(SPAN_COLUMNS)}
TRACE_ID, SPAN_ID, PARENT = _I["trace_id"], _I["span_id"], _I["parent_span_id"]
NAME, START, END, STATUS = _I["name"], _I["start_time_ns"], _I["end_time_ns"], _I["status_code"]
INPUTS, OUTPUTS, COST, EVENTS = _I["inputs"], _I["outputs"], _I["cost"], _I["events"]
IN_TOK, OUT_TOK, TOTAL_TOK = _I["input_tokens"], _I["output_tokens"], _I["total_tokens"]
SESSION, USER, RECEIVED = _I["session_id"], _I["user_id"], _I["received_at_ns"]

STATUS_ERROR = 2  # opentelemetry.proto.trace.v1.Status.STATUS_CODE_ERROR

# experiment routing ranks: higher wins, whatever order a trace's spans arrive in
RANK_ATTRIBUTE, RANK_HEADER, RANK_SERVICE, RANK_DEFAULT = 3, 2, 1, 0


@dataclass(frozen=True, slots=True)
class ExperimentRef:
    """How a span asks for its trace's experiment: an id, a name, or either (header)."""

    rank: int
    kind: str  # "id" | "name" | "id_or_name"
    value: str


DEFAULT_EXPERIMENT = ExperimentRef(RANK_DEFAULT, "id", semconv.DEFAULT_EXPERIMENT_ID)


@dataclass(slots=True)
class SpanRecord:
    """A span ready to store, with the trace-level facts it contributes."""

    row: tuple[Any, ...]
    experiment: ExperimentRef
    tags: dict[str, str] | None = None
    metadata: dict[str, str] | None = None


@dataclass(slots=True)
class ConvertResult:
    records: list[SpanRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def any_value(value: AnyValue) -> Any:
    """An OTLP ``AnyValue`` as a plain Python value (kvlist → dict, array → list)."""
    text = value.string_value
    if text:  # the common case, without asking which member of the oneof is set
        return text
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return key_values(value.kvlist_value.values)
    return getattr(value, kind)


def key_values(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    """OTLP attributes as a dict (a repeated key keeps its last value, as the SDKs do)."""
    return {kv.key: any_value(kv.value) for kv in pairs}


def _json_default(obj: Any) -> Any:
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode()
    return repr(obj)


def to_json(value: Any) -> str:
    """Compact JSON text; values JSON cannot hold become readable strings, never an error."""
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()


def clean_text(text: str) -> str:
    # PostgreSQL TEXT cannot hold NUL; JSON columns escape it, plain columns need this.
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


class SpanConverter:
    """Converts OTLP ``ResourceSpans`` into :class:`SpanRecord` rows (pure CPU, no I/O)."""

    def __init__(self, prices: PriceTable, redaction: RedactionRules,
                 max_attribute_bytes: int) -> None:
        self.prices = prices
        self.redaction = redaction
        self.max_attribute_bytes = max_attribute_bytes

    def convert(self, resource_spans: Iterable[Any], header_experiment: str | None = None,
                received_at_ns: int | None = None, body_bytes: int | None = None) -> ConvertResult:
        """All spans of a request; ``header_experiment`` is the request's experiment header.

        ``body_bytes``, the decoded body's size, lets a request too small to hold an
        oversized attribute skip the per-attribute size check.
        """
        result = ConvertResult()
        received = received_at_ns or time.time_ns()
        check_sizes = body_bytes is None or body_bytes > self.max_attribute_bytes
        for r, rs in enumerate(resource_spans):
            resource = key_values(rs.resource.attributes)
            if self.redaction.enabled and resource:
                self.redaction.apply(resource)
            resource_json = to_json(resource) if resource else None
            route = _route_for_resource(resource, header_experiment)
            for s, ss in enumerate(rs.scope_spans):
                scope_json = _scope_json(ss.scope)
                for i, span in enumerate(ss.spans):
                    path = f"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]"
                    record = self._record(span, path, route, resource_json, scope_json,
                                          received, result, check_sizes)
                    if record is not None:
                        result.records.append(record)
        return result

    def _record(self, span: Any, path: str, route: ExperimentRef, resource_json: str | None,
                scope_json: str | None, received: int, result: ConvertResult,
                check_sizes: bool) -> SpanRecord | None:
        problem = _id_problem(span)
        if problem:
            result.rejections.append(Rejection(path, problem))
            return None
        attrs = key_values(span.attributes)
        if self.redaction.enabled:
            self.redaction.apply(attrs)
        if check_sizes:
            truncate_large(attrs, self.max_attribute_bytes, path, result.warnings)
        events = _events(span.events, self.redaction)
        c = normalize(attrs, [(e["name"], e["attributes"]) for e in events] if events else ())
        cost = self.prices.cost(c.model, c.input_tokens, c.output_tokens) if c.model else None
        row = (
            span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex() or None,
            clean_text(span.name), span.kind, c.span_type,
            span.start_time_unix_nano, span.end_time_unix_nano or span.start_time_unix_nano,
            span.status.code, clean_text(span.status.message) or None,
            c.inputs, c.outputs, c.model, c.provider,
            c.input_tokens, c.output_tokens, c.total_tokens, cost, c.session_id, c.user_id,
            to_json(attrs), to_json(events) if events else None, _links_json(span.links),
            resource_json, scope_json, received,
        )
        return SpanRecord(
            row=row,
            experiment=_route_for_span(attrs, route),
            tags=_string_map(attrs.get(semconv.TRACE_TAGS)),
            metadata=_string_map(attrs.get(semconv.TRACE_METADATA)),
        )


def truncate_large(attrs: dict[str, Any], limit: int, path: str, warnings: list[str]) -> None:
    """Cut string values over ``limit`` bytes down to it, with a warning naming each."""
    for key, value in attrs.items():
        if isinstance(value, str) and len(value) > limit // 4 and len(value.encode()) > limit:
            attrs[key] = value.encode()[:limit].decode(errors="ignore")
            warnings.append(
                f"{path}: attribute {key!r} is {len(value.encode())} bytes, truncated to "
                f"{limit} (raise --max-attribute-bytes to keep more)"
            )


def _id_problem(span: Any) -> str | None:
    if len(span.trace_id) != 16:
        return f"traceId is {len(span.trace_id)} bytes, expected 16"
    if len(span.span_id) != 8:
        return f"spanId is {len(span.span_id)} bytes, expected 8"
    if span.parent_span_id and len(span.parent_span_id) != 8:
        return f"parentSpanId is {len(span.parent_span_id)} bytes, expected 8 or empty"
    if span.trace_id == bytes(16) or span.span_id == bytes(8):
        return "traceId and spanId must not be all zeros"
    return None


def _route_for_resource(resource: dict[str, Any], header: str | None) -> ExperimentRef:
    if header:
        return ExperimentRef(RANK_HEADER, "id_or_name", header)
    service = resource.get("service.name")
    if isinstance(service, str) and service and not service.startswith("unknown_service"):
        return ExperimentRef(RANK_SERVICE, "name", service)
    return DEFAULT_EXPERIMENT


def _route_for_span(attrs: dict[str, Any], fallback: ExperimentRef) -> ExperimentRef:
    value = attrs.get(semconv.EXPERIMENT_ID)
    if value is None or value == "":
        return fallback
    return ExperimentRef(RANK_ATTRIBUTE, "id", str(value))


def _string_map(value: Any) -> dict[str, str] | None:
    """A tags/metadata attribute (JSON object text or kvlist) as ``{str: str}``."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    if not isinstance(value, dict) or not value:
        return None
    return {str(k): v if isinstance(v, str) else to_json(v) for k, v in value.items()}


def _scope_json(scope: Any) -> str | None:
    if not scope.name and not scope.version and not scope.attributes:
        return None
    out: dict[str, Any] = {"name": scope.name}
    if scope.version:
        out["version"] = scope.version
    if scope.attributes:
        out["attributes"] = key_values(scope.attributes)
    return to_json(out)


def _events(events: Any, redaction: RedactionRules) -> list[dict[str, Any]]:
    out = []
    for event in events:
        attrs = key_values(event.attributes)
        if redaction.enabled and attrs:
            redaction.apply(attrs)
        out.append({"name": clean_text(event.name), "time_unix_nano": event.time_unix_nano,
                    "attributes": attrs})
    return out


def _links_json(links: Any) -> str | None:
    if not links:
        return None
    return to_json([{"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex(),
                     "attributes": key_values(link.attributes)} for link in links])
