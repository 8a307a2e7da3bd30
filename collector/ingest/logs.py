"""Turning decoded OTLP log records into ``span_log_events`` rows.

Spyglass keeps the log records that belong to a span (they carry its trace and span id), one
:class:`~spyglass.collector.store.rows.LogEventRow` each: GenAI events become the span's
inputs and outputs, other records its events (see :mod:`spyglass.collector.genai.events`). A
record without a span context has nowhere to go and is dropped; the answer's
``partial_success`` says how many and why. A record whose ids are malformed, or whose time is
past the store's range, is rejected on its own, like a bad span; the rest of the request goes
on. Redaction and ``--max-attribute-bytes`` apply to the record's attributes and body at any
depth, its event name and severity text, as to spans.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from spyglass.collector.genai.events import LogRecordView, classify, event_name_of
from spyglass.collector.ingest.parse import Rejection
from spyglass.collector.ingest.redaction import RedactionRules
from spyglass.collector.ingest.spans import any_value, clean_text, key_values
from spyglass.collector.ingest.value_limits import (
    text_width,
    time_problem,
    truncate_text,
    truncate_value,
    truncate_values,
)
from spyglass.collector.store.models import SpanLogEvent
from spyglass.collector.store.rows import LogEventRow

EVENT_NAME_CHARS = text_width(SpanLogEvent.__table__.c.event_name)


@dataclass(slots=True)
class LogConvertResult:
    """What one request's log records became: rows to store, rejected records, warnings,
    and the records dropped for want of a span context."""

    rows: list[LogEventRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    without_span: list[str] = field(default_factory=list)  # paths of records dropped

    @property
    def refused(self) -> int:
        """Records not stored: rejected ones and those without a span context."""
        return len(self.rejections) + len(self.without_span)


class LogConverter:
    """Converts OTLP ``ResourceLogs`` into :class:`LogEventRow` rows (pure CPU, no I/O)."""

    def __init__(self, redaction: RedactionRules, max_attribute_bytes: int) -> None:
        self.redaction = redaction
        self.max_attribute_bytes = max_attribute_bytes

    def convert(
        self,
        resource_logs: Iterable[Any],
        received_at_ns: int | None = None,
        body_bytes: int | None = None,
    ) -> LogConvertResult:
        """All log records of a request."""
        result = LogConvertResult()
        received = received_at_ns or time.time_ns()
        check_sizes = body_bytes is None or body_bytes > self.max_attribute_bytes
        seq = 0
        for r, rl in enumerate(resource_logs):
            for s, sl in enumerate(rl.scope_logs):
                for i, record in enumerate(sl.log_records):
                    path = f"resourceLogs[{r}].scopeLogs[{s}].logRecords[{i}]"
                    row = self._row(
                        record,
                        path,
                        seq,
                        received,
                        result,
                        check_sizes and record.ByteSize() > self.max_attribute_bytes,
                    )
                    if row is not None:
                        result.rows.append(row)
                    seq += 1
        return result

    def _row(
        self,
        record: Any,
        path: str,
        seq: int,
        received: int,
        result: LogConvertResult,
        check_sizes: bool,
    ) -> LogEventRow | None:
        if not record.trace_id or not record.span_id:
            result.without_span.append(path)
            return None
        when = record.time_unix_nano or record.observed_time_unix_nano or received
        problem = _id_problem(record) or time_problem(
            "timeUnixNano" if record.time_unix_nano else "observedTimeUnixNano", when
        )
        if problem:
            result.rejections.append(Rejection(path, problem))
            return None
        redaction = self.redaction
        attrs = key_values(record.attributes)
        holder = {"body": any_value(record.body)} if record.HasField("body") else {}
        severity = record.severity_text
        if redaction.enabled:
            redaction.apply(attrs)
            redaction.apply(holder)
            severity = redaction.redact_text(severity)
        if check_sizes:
            limit = self.max_attribute_bytes
            truncate_values(attrs, limit, path, "attributes", result.warnings)
            if holder:
                holder["body"] = truncate_value(
                    holder["body"], limit, path, "body", result.warnings
                )
            severity = truncate_text(severity, limit, path, "severityText", result.warnings)
        name = event_name_of(record.event_name, attrs)
        if name:
            name = clean_text(redaction.redact_text(name))
            if len(name) > EVENT_NAME_CHARS:
                result.warnings.append(
                    f"{path}: event name is {len(name)} characters, more than the store "
                    f"holds; cut to {EVENT_NAME_CHARS}"
                )
                name = name[:EVENT_NAME_CHARS]
        kind, content = classify(
            LogRecordView(
                name or None,
                holder.get("body"),
                attrs,
                when,
                clean_text(severity),
                record.severity_number,
            )
        )
        key = hashlib.blake2b(
            record.SerializeToString(deterministic=True), digest_size=16
        ).hexdigest()
        return LogEventRow(
            record.trace_id.hex(),
            record.span_id.hex(),
            key,
            kind,
            name,
            when,
            seq,
            content,
            received,
        )


def _id_problem(record: Any) -> str | None:
    if len(record.trace_id) != 16:
        return f"traceId is {len(record.trace_id)} bytes, expected 16"
    if len(record.span_id) != 8:
        return f"spanId is {len(record.span_id)} bytes, expected 8"
    if record.trace_id == bytes(16) or record.span_id == bytes(8):
        return "traceId and spanId must not be all zeros"
    return None
