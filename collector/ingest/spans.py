"""Turning decoded OTLP spans into rows for the store.

One :class:`~spyglass.collector.store.rows.SpanRecord` per valid span: the ``spans`` row (a
tuple in :data:`~spyglass.collector.store.rows.SPAN_COLUMNS` order, ready for a bulk insert),
plus what the writer needs to merge the trace row: how the span routes its trace to an
experiment, and trace tags/metadata the span carries. Spans that cannot be stored are
reported as :class:`~spyglass.collector.ingest.parse.Rejection` and the rest of the request
goes on; values stored other than as sent get a warning. Both end up in the answer's
``partial_success``:

* rejected: malformed ids, a time past the store's range (see
  :mod:`~spyglass.collector.ingest.value_limits`), and a second span with the id of an earlier one
  of the same request but different content (the first is stored; an identical copy is
  stored once, silently);
* warned: strings over ``--max-attribute-bytes`` (cut), token counts over the column
  (clamped), an unknown span kind or status code (stored as 0), an end before the start
  (stored as the start: duration 0), a cost that is not finite (left out).

Every stored string goes through the redaction rules first: attributes of the span, its
events, links, resource and scope, and the span name, status message, event names and
scope name. An attribute value that the span's ``inputs``/``outputs`` column already holds
is stored as a reference to it (:mod:`~spyglass.collector.store.attribute_refs`), which every
reader resolves. Doubles that JSON cannot hold are stored as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"``, as the protobuf JSON mapping writes them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from spyglass import semconv
from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.genai.normalize import Canonical, normalize
from spyglass.collector.ingest.parse import Rejection
from spyglass.collector.ingest.redaction import RedactionRules
from spyglass.collector.ingest.value_limits import (
    CANONICAL_WIDTHS,
    SPAN_KINDS,
    STATUS_CODES,
    TAG_KEY_CHARS,
    TIME_MAX,
    TOKENS_MAX,
    time_problem,
    truncate_text,
    truncate_values,
)
from spyglass.collector.store.attribute_refs import encode as encode_attributes
from spyglass.collector.store.rows import (
    RANK_ATTRIBUTE,
    RANK_DEFAULT,
    RANK_HEADER,
    RANK_SERVICE,
    ExperimentRef,
    SpanRecord,
)
from spyglass.lenient_json import dumps

DEFAULT_EXPERIMENT = ExperimentRef(RANK_DEFAULT, "id", semconv.DEFAULT_EXPERIMENT_ID)
_ZERO_TRACE_ID, _ZERO_SPAN_ID = bytes(16), bytes(8)


@dataclass(slots=True)
class ConvertResult:
    """What one request's spans became: records to store, rejected spans, warnings."""

    records: list[SpanRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unpriced_models: list[str] = field(default_factory=list)
    """Model of each LLM span stored without a cost because no price is known for it."""


def any_value(value: AnyValue) -> Any:
    """An OTLP ``AnyValue`` as a plain Python value (kvlist → dict, array → list).

    A double that JSON cannot hold becomes ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``.
    """
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
    if kind == "double_value":
        number = value.double_value
        if number - number == 0.0:  # finite
            return number
        return "NaN" if number != number else ("Infinity" if number > 0 else "-Infinity")
    return getattr(value, kind)


def key_values(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    """OTLP attributes as a dict (a repeated key keeps its last value, as the SDKs do)."""
    out = {}
    for kv in pairs:
        value = kv.value
        text = value.string_value  # most values are strings: no call for them
        out[kv.key] = text if text else any_value(value)
    return out


def clean_text(text: str) -> str:
    # PostgreSQL TEXT cannot hold NUL; JSON columns escape it, plain columns need this.
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


class SpanConverter:
    """Converts OTLP ``ResourceSpans`` into :class:`SpanRecord` rows (pure CPU, no I/O)."""

    def __init__(
        self, prices: PriceTable, redaction: RedactionRules, max_attribute_bytes: int
    ) -> None:
        self.prices = prices
        self.redaction = redaction
        self.max_attribute_bytes = max_attribute_bytes

    def convert(
        self,
        resource_spans: Iterable[Any],
        header_experiment: str | None = None,
        received_at_ns: int | None = None,
        body_bytes: int | None = None,
    ) -> ConvertResult:
        """All spans of a request; ``header_experiment`` is the request's experiment header.

        ``body_bytes``, the decoded body's size, lets a request too small to hold an
        oversized string skip the size checks (so does each resource, scope and span whose
        own encoded size is within the limit).
        """
        result = ConvertResult()
        received = received_at_ns or time.time_ns()
        limit = self.max_attribute_bytes
        check_sizes = body_bytes is None or body_bytes > limit
        first_of: dict[tuple[bytes, bytes], tuple[str, Any]] = {}  # span key → path, span
        for r, rs in enumerate(resource_spans):
            r_path = f"resourceSpans[{r}]"
            resource = key_values(rs.resource.attributes)
            if self.redaction.enabled and resource:
                self.redaction.apply(resource)
            if check_sizes and resource and rs.resource.ByteSize() > limit:
                truncate_values(
                    resource, limit, f"{r_path}.resource", "attributes", result.warnings
                )
            resource_json = dumps(resource) if resource else None
            route = _route_for_resource(resource, header_experiment)
            for s, ss in enumerate(rs.scope_spans):
                s_path = f"{r_path}.scopeSpans[{s}]"
                scope_json = self._scope_json(
                    ss.scope,
                    f"{s_path}.scope",
                    check_sizes and ss.scope.ByteSize() > limit,
                    result.warnings,
                )
                for i, span in enumerate(ss.spans):
                    path = f"{s_path}.spans[{i}]"
                    key = (span.trace_id, span.span_id)
                    first = first_of.get(key)
                    if first is not None:
                        if first[1] != span:
                            result.rejections.append(Rejection(path, _duplicate(span, first[0])))
                        continue
                    record = self._record(
                        span,
                        key,
                        path,
                        route,
                        resource_json,
                        scope_json,
                        received,
                        result,
                        check_sizes and span.ByteSize() > limit,
                    )
                    if record is not None:
                        result.records.append(record)
                        first_of[key] = (path, span)
        return result

    def _record(
        self,
        span: Any,
        ids: tuple[bytes, bytes],
        path: str,
        route: ExperimentRef,
        resource_json: str | None,
        scope_json: str | None,
        received: int,
        result: ConvertResult,
        check_sizes: bool,
    ) -> SpanRecord | None:
        """The record of ``span`` (its ``ids``: trace id, span id), or None when it is
        rejected (the rejection goes into ``result``)."""
        start, end = span.start_time_unix_nano, span.end_time_unix_nano
        span_events = span.events
        (trace_id, span_id), parent_id = ids, span.parent_span_id
        problem = _id_problem(trace_id, span_id, parent_id)
        if not problem and (start > TIME_MAX or end > TIME_MAX or span_events):
            problem = _time_problem(start, end, span_events)
        if problem:
            result.rejections.append(Rejection(path, problem))
            return None
        warnings = result.warnings
        redaction = self.redaction
        attrs = key_values(span.attributes)
        status = span.status
        name, message = span.name, status.message
        if redaction.enabled:
            if attrs:
                redaction.apply(attrs)
            name = redaction.redact_text(name)
            if message:
                message = redaction.redact_text(message)
        events = _events(span_events, redaction) if span_events else []
        span_links = span.links
        links = _links(span_links, redaction) if span_links else []
        if check_sizes:
            limit = self.max_attribute_bytes
            truncate_values(attrs, limit, path, "attributes", warnings)
            name = truncate_text(name, limit, path, "name", warnings)
            message = truncate_text(message, limit, path, "status.message", warnings)
            _truncate_items(events, "events", limit, path, warnings)
            _truncate_items(links, "links", limit, path, warnings)
        c = normalize(attrs, [(e["name"], e["attributes"]) for e in events] if events else ())
        if (
            (c.input_tokens or 0) > TOKENS_MAX
            or (c.output_tokens or 0) > TOKENS_MAX
            or (c.total_tokens or 0) > TOKENS_MAX
        ):
            _clamp_tokens(c, path, warnings)
        _fit_columns(c, path, warnings)
        cost = None
        if c.model:
            cost = self.prices.cost(c.model, c.input_tokens, c.output_tokens, c.provider)
            if cost is None and self.prices.price(c.model, c.provider) is None:
                result.unpriced_models.append(c.model)
        if cost is not None and not math.isfinite(cost):
            warnings.append(
                f"{path}: the cost of {c.input_tokens} input and {c.output_tokens} "
                f"output tokens of model {c.model!r} is not a finite number; "
                "stored without a cost (check the model's prices in --price-file)"
            )
            cost = None
        end = end or start  # 0: not ended
        if end < start:
            warnings.append(
                f"{path}: endTimeUnixNano {end} is before startTimeUnixNano "
                f"{start}; stored with duration 0 (check the clock of the app "
                "that ended this span)"
            )
            end = start
        kind = span.kind
        if kind not in SPAN_KINDS:
            warnings.append(
                f"{path}: kind {kind} is not an OTLP SpanKind (0-5); stored as "
                "0 (SPAN_KIND_UNSPECIFIED)"
            )
            kind = 0
        code = status.code
        if code not in STATUS_CODES:
            warnings.append(
                f"{path}: status.code {code} is not an OTLP status code (0 unset, "
                "1 ok, 2 error); stored as 0 (unset)"
            )
            code = 0
        row = (
            trace_id.hex(),
            span_id.hex(),
            parent_id.hex() or None,
            clean_text(name),
            kind,
            c.span_type,
            start,
            end,
            code,
            clean_text(message) or None,
            c.inputs,
            c.outputs,
            c.model,
            c.provider,
            c.input_tokens,
            c.output_tokens,
            c.total_tokens,
            cost,
            c.session_id,
            c.user_id,
            encode_attributes(attrs, c.inputs, c.outputs),
            dumps(events) if events else None,
            dumps(links) if links else None,
            resource_json,
            scope_json,
            received,
        )
        tags = attrs.get(semconv.TRACE_TAGS)
        metadata = attrs.get(semconv.TRACE_METADATA)
        return SpanRecord(
            row=row,
            experiment=_route_for_span(attrs, route),
            tags=None if tags is None else _string_map(tags, path, "tag", warnings),
            metadata=None
            if metadata is None
            else _string_map(metadata, path, "metadata", warnings),
        )

    def _scope_json(
        self, scope: Any, path: str, check_sizes: bool, warnings: list[str]
    ) -> str | None:
        """The scope column: name, version and attributes, redacted and size-limited."""
        if not scope.name and not scope.version and not scope.attributes:
            return None
        redaction = self.redaction
        out: dict[str, Any] = {"name": redaction.redact_text(scope.name)}
        if scope.version:
            out["version"] = redaction.redact_text(scope.version)
        if scope.attributes:
            attributes = key_values(scope.attributes)
            if redaction.enabled:
                redaction.apply(attributes)
            out["attributes"] = attributes
        if check_sizes:
            truncate_values(out, self.max_attribute_bytes, path, "scope", warnings)
        return dumps(out)


def _truncate_items(
    items: list[dict[str, Any]], what: str, limit: int, path: str, warnings: list[str]
) -> None:
    """Cut oversized strings of events or links (their names and attributes)."""
    for index, item in enumerate(items):
        where = f"{what}[{index}]"
        if "name" in item:
            item["name"] = truncate_text(item["name"], limit, path, f"{where}.name", warnings)
        truncate_values(item["attributes"], limit, path, f"{where}.attributes", warnings)


def _fit_columns(c: Canonical, path: str, warnings: list[str]) -> None:
    """Cut canonical strings to their columns' widths (with a warning) and replace NUL."""
    for name, width in CANONICAL_WIDTHS:
        value = getattr(c, name)
        if value is None:
            continue
        if "\x00" in value:
            value = clean_text(value)
            setattr(c, name, value)
        if len(value) > width:
            warnings.append(
                f"{path}: {name} is {len(value)} characters, more than the store "
                f"holds; cut to {width}"
            )
            setattr(c, name, value[:width])


def _clamp_tokens(c: Canonical, path: str, warnings: list[str]) -> None:
    """Clamp token counts the store cannot hold to the largest it can, with a warning."""
    for name in ("input_tokens", "output_tokens", "total_tokens"):
        value = getattr(c, name)
        if value is not None and value > TOKENS_MAX:
            shown = f"{value:.3e}" if value >= 10**18 else str(value)
            warnings.append(
                f"{path}: {name} {shown} is more than the store holds; stored as "
                f"{TOKENS_MAX} (check the token counts the app reports)"
            )
            setattr(c, name, TOKENS_MAX)


def _id_problem(trace_id: bytes, span_id: bytes, parent_id: bytes) -> str | None:
    """Why a span's ids cannot be stored; None if they can."""
    if len(trace_id) != 16:
        return f"traceId is {len(trace_id)} bytes, expected 16"
    if len(span_id) != 8:
        return f"spanId is {len(span_id)} bytes, expected 8"
    if parent_id and len(parent_id) != 8:
        return f"parentSpanId is {len(parent_id)} bytes, expected 8 or empty"
    if trace_id == _ZERO_TRACE_ID or span_id == _ZERO_SPAN_ID:
        return "traceId and spanId must not be all zeros"
    return None


def _time_problem(start: int, end: int, events: Any) -> str | None:
    """Why a time of a span (start, end, an event's) cannot be stored; None if all can."""
    problem = time_problem("startTimeUnixNano", start) or time_problem("endTimeUnixNano", end)
    if problem:
        return problem
    for index, event in enumerate(events):
        problem = time_problem(f"events[{index}].timeUnixNano", event.time_unix_nano)
        if problem:
            return problem
    return None


def _duplicate(span: Any, first_path: str) -> str:
    return (
        f"spanId {span.span_id.hex()} of traceId {span.trace_id.hex()} is also the id of "
        f"{first_path} in this request, with different content; only the first was "
        "stored (give every span its own id)"
    )


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


def _string_map(value: Any, path: str, what: str, warnings: list[str]) -> dict[str, str] | None:
    """A tags/metadata attribute (JSON object text or kvlist) as ``{str: str}``, ready for
    the store: NUL replaced, keys cut to the key column's width (with a warning)."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    if not isinstance(value, dict) or not value:
        return None
    out = {}
    for key, item in value.items():
        key = clean_text(str(key))
        if len(key) > TAG_KEY_CHARS:
            warnings.append(
                f"{path}: {what} key {key[:40]!r}... is {len(key)} characters, more "
                f"than the store holds; cut to {TAG_KEY_CHARS}"
            )
            key = key[:TAG_KEY_CHARS]
        out[key] = clean_text(item) if isinstance(item, str) else dumps(item)
    return out


def _events(events: Any, redaction: RedactionRules) -> list[dict[str, Any]]:
    out = []
    for event in events:
        attrs = key_values(event.attributes)
        name = event.name
        if redaction.enabled:
            if attrs:
                redaction.apply(attrs)
            name = redaction.redact_text(name)
        out.append(
            {"name": clean_text(name), "time_unix_nano": event.time_unix_nano, "attributes": attrs}
        )
    return out


def _links(links: Any, redaction: RedactionRules) -> list[dict[str, Any]]:
    out = []
    for link in links:
        attrs = key_values(link.attributes)
        if redaction.enabled and attrs:
            redaction.apply(attrs)
        out.append(
            {"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex(), "attributes": attrs}
        )
    return out
