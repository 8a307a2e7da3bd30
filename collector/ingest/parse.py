"""Parsing of OTLP request bodies into export requests, item by item.

Both receivers (gRPC and HTTP) hand their bodies, already decompressed (see
:mod:`~spyglass.collector.ingest.bodies`), to :func:`parse_protobuf` or :func:`parse_json`,
which turn a body into an export request (``ExportTraceServiceRequest``,
``ExportLogsServiceRequest``, ...). One bad span or log record must not cost the exporter its
whole batch, so items that cannot be decoded are left out and reported as :class:`Rejection`
values (the receivers turn them into an OTLP ``partial_success``), while a body that is not the
claimed format at all is an :class:`~spyglass.errors.InvalidRequestError` (HTTP 400 / gRPC
``INVALID_ARGUMENT``).

Nesting: protobuf (upb) decodes at most :data:`MAX_NESTING` levels of nested messages; an
attribute value nests 3 levels per kvlist and 2 per array. An item nested deeper is
rejected alone, with the same reason for both encodings. Protobuf counts the levels from the
item (the request is decoded again item by item), JSON from the request (an item is
rejected when the request holding it would be too deep).

The parsers are generic over the export request type: every OTLP export request has the
same three-level shape, which this module reads from the message descriptors::

    request   field 1: repeated ResourceX   (resource_spans, resource_logs, ...)
    ResourceX field 2: repeated ScopeX      (scope_spans, scope_logs, ...)
    ScopeX    field 2: repeated item        (spans, log_records, ...)

All other fields of ResourceX and ScopeX (``resource``, ``scope``, ``schema_url``) are
kept as they are.
"""

from __future__ import annotations

import binascii
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from spyglass.errors import InvalidRequestError

__all__ = ["Rejection", "parse_json", "parse_protobuf"]

M = TypeVar("M", bound=Message)

MAX_NESTING = 100
"""Levels of nested messages protobuf decodes (upb's default depth limit)."""

NESTING_REASON = (
    f"values are nested deeper than {MAX_NESTING} levels of OTLP messages (each kvlist "
    "level counts 3, each array level 2); flatten deeply nested attribute or body values, "
    "e.g. send them as a JSON string"
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """One item (span, log record, ...) that was left out of a decoded request.

    ``path`` names the item in OTLP/JSON field names whatever the body's encoding, e.g.
    ``"resourceSpans[0].scopeSpans[1].spans[3]"``; ``reason`` says what is wrong with it
    and how to fix it, e.g. ``"traceId 'zz12' is not hex; ..."``.
    """

    path: str
    reason: str


# ---------------------------------------------------------------------------------------
# The shape shared by all export requests
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Level:
    """One repeated message field of the request → ResourceX → ScopeX → item chain."""

    number: int
    attr: str  # Python attribute and proto field name, e.g. "scope_spans"
    json_name: str  # lowerCamelCase name, used in paths and JSON keys, e.g. "scopeSpans"
    cls: type[Message]

    @property
    def json_keys(self) -> tuple[str, ...]:
        """The JSON object keys this field may appear under (ParseDict accepts both)."""
        return _keys(self.json_name, self.attr)


def _keys(json_name: str, name: str) -> tuple[str, ...]:
    """The JSON keys a field may appear under: lowerCamelCase, and snake_case if different."""
    return (json_name,) if json_name == name else (json_name, name)


@dataclass(frozen=True, slots=True)
class _Schema:
    """Where the resources, scopes and items of one export request type live."""

    type_name: str  # e.g. "ExportTraceServiceRequest"
    resource: _Level
    scope: _Level
    item: _Level


_SCHEMAS: dict[type[Message], _Schema] = {}


def _schema(message_type: type[Message]) -> _Schema:
    """The :class:`_Schema` of ``message_type``, read from its descriptor once per type.

    Raises:
        TypeError: ``message_type`` does not have the export request shape.
    """
    schema = _SCHEMAS.get(message_type)
    if schema is None:
        schema = _SCHEMAS[message_type] = _read_schema(message_type)
    return schema


def _read_schema(message_type: type[Message]) -> _Schema:
    """Read the three nested repeated fields from the descriptor of ``message_type``.

    Raises:
        TypeError: ``message_type`` does not have the export request shape.
    """
    resource = _level(message_type, message_type, 1)
    scope = _level(message_type, resource.cls, 2)
    item = _level(message_type, scope.cls, 2)
    return _Schema(message_type.DESCRIPTOR.name, resource, scope, item)


def _level(message_type: type[Message], parent: type[Message], number: int) -> _Level:
    """The repeated message field ``number`` of ``parent``, or TypeError naming it."""
    descriptor = parent.DESCRIPTOR
    field = descriptor.fields_by_number.get(number)
    if field is None or field.message_type is None or not field.is_repeated:
        raise TypeError(
            f"{message_type.__name__} is not an OTLP export request: field {number} of "
            f"{descriptor.full_name} is not a repeated message field"
        )
    # types-protobuf declares only the pure-Python Descriptor here; the upb Descriptor that
    # message classes carry at run time is what protobuf itself passes
    cls = message_factory.GetMessageClass(field.message_type)  # type: ignore[arg-type]
    return _Level(number, field.name, field.json_name, cls)


# ---------------------------------------------------------------------------------------
# Protobuf
# ---------------------------------------------------------------------------------------


def parse_protobuf(data: bytes, message_type: type[M]) -> tuple[M, list[Rejection]]:
    """Decode a binary protobuf export request, leaving out the items that cannot be decoded.

    The whole body is first decoded in one ``FromString`` call; only if that fails is the
    wire format walked by hand down to each ResourceX, ScopeX and item, which are then
    decoded one by one. An item that fails (for instance a string field with invalid
    UTF-8) is left out and reported as a :class:`Rejection`; so is every item under a
    resource or scope whose own fields (``resource``, ``scope``, ``schema_url``) fail,
    because it cannot be attributed correctly without them. A resource or scope that fails
    and holds no items is reported under its own path.

    Raises:
        InvalidRequestError: the framing of the request, a ResourceX or a ScopeX is broken
            (garbage bytes, a wrong Content-Type, a body cut short): a length prefix runs
            past its enclosing message, a varint never ends, or a field uses a wire type
            OTLP never uses (groups).
        TypeError: ``message_type`` is not an OTLP export request type.
    """
    try:
        return message_type.FromString(data), []
    except DecodeError as exc:
        return _salvage(data, message_type, exc)


_MAX_FIELD_NUMBER = (1 << 29) - 1


class _FramingError(Exception):
    """The wire format of a walked message is broken; carries where and what."""


@dataclass(frozen=True, slots=True)
class _Field:
    """One field of a message on the wire: ``data[tag_start:end]`` is the whole field."""

    number: int
    wire_type: int
    tag_start: int
    value_start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Split:
    """A ResourceX or ScopeX cut into its own fields and the byte ranges of its children."""

    path: str
    shell: bytes  # every field except the child list, as it was on the wire
    children: list[tuple[int, int]]  # (start, end) of each child message's bytes


def _salvage(data: bytes, message_type: type[M], error: DecodeError) -> tuple[M, list[Rejection]]:
    """Rebuild the request from the parts of ``data`` that decode on their own."""
    schema = _schema(message_type)
    try:
        framed = _frame(data, schema)
    except _FramingError as exc:
        raise InvalidRequestError(
            f"request body is not a valid {schema.type_name} protobuf: {exc} (protobuf said: "
            f"{_decode_error_text(error)}); check that the Content-Type header (application/"
            "x-protobuf for binary protobuf, application/json for JSON) and the "
            "Content-Encoding header match the body, and that the body was not cut short"
        ) from exc
    request = message_type()
    resources = getattr(request, schema.resource.attr)
    rejections: list[Rejection] = []
    for resource, scopes in framed:
        built = _build_resource(data, resource, scopes, schema, rejections)
        if built is not None:
            resources.append(built)
    return request, rejections


def _frame(data: bytes, schema: _Schema) -> list[tuple[_Split, list[_Split]]]:
    """Find every ResourceX and, in each, every ScopeX and item, without decoding them.

    Raises:
        _FramingError: the wire format is broken at one of these three levels.
    """
    framed = []
    for r_index, (start, end) in enumerate(_children(data, schema.resource.number)):
        resource = _split(
            data, start, end, f"{schema.resource.json_name}[{r_index}]", schema.scope.number
        )
        scopes = [
            _split(data, s, e, f"{resource.path}.{schema.scope.json_name}[{i}]", schema.item.number)
            for i, (s, e) in enumerate(resource.children)
        ]
        framed.append((resource, scopes))
    return framed


def _children(data: bytes, number: int) -> list[tuple[int, int]]:
    """Byte ranges of the length-delimited fields ``number`` of the request in ``data``."""
    return [
        (f.value_start, f.end)
        for f in _fields(data, 0, len(data), "")
        if f.number == number and f.wire_type == 2
    ]


def _split(data: bytes, start: int, end: int, path: str, child: int) -> _Split:
    """Cut the message in ``data[start:end]`` into its ``child`` list field and the rest."""
    shell = bytearray()
    children = []
    for field in _fields(data, start, end, path):
        if field.number == child and field.wire_type == 2:
            children.append((field.value_start, field.end))
        else:
            shell += data[field.tag_start : field.end]
    return _Split(path, bytes(shell), children)


def _fields(data: bytes, start: int, end: int, path: str) -> Iterator[_Field]:
    """Walk the fields of the message in ``data[start:end]`` without decoding values.

    Raises:
        _FramingError: a tag or value runs past ``end``, or a wire type is not 0, 1, 2, 5.
    """
    where = path or "the request"
    pos = start
    while pos < end:
        tag_start = pos
        tag, pos = _varint(data, pos, end, where)
        number, wire_type = tag >> 3, tag & 7
        if not 0 < number <= _MAX_FIELD_NUMBER:
            raise _FramingError(
                f"field number {number} (at byte {tag_start}) of {where} is invalid"
            )
        value_start = pos
        if wire_type == 0:
            _, pos = _varint(data, pos, end, where)
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        elif wire_type == 2:
            length, value_start = _varint(data, pos, end, where)
            pos = value_start + length
        else:
            raise _FramingError(
                f"field {number} (at byte {tag_start}) of {where} has wire type {wire_type}, "
                "which OTLP never uses"
            )
        if pos > end:
            raise _FramingError(
                f"field {number} (at byte {tag_start}) runs {pos - end} bytes past the end of "
                f"{where} at byte {end}"
            )
        yield _Field(number, wire_type, tag_start, value_start, pos)


def _varint(data: bytes, pos: int, end: int, where: str) -> tuple[int, int]:
    """Read a base-128 varint at ``pos``; return its value and the position after it."""
    start = pos
    value = shift = 0
    while pos < end and shift < 70:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    if pos >= end:
        raise _FramingError(
            f"the varint at byte {start} runs past the end of {where} at byte {end}"
        )
    raise _FramingError(f"the varint at byte {start} of {where} is longer than 10 bytes")


def _build_resource(
    data: bytes,
    resource: _Split,
    scopes: list[_Split],
    schema: _Schema,
    rejections: list[Rejection],
) -> Message | None:
    """Decode a framed ResourceX with the items that decode; ``None`` if its shell fails."""
    built, problem = _decode(schema.resource.cls, resource.shell)
    if built is None:
        _reject_all(resource, scopes, schema, problem, rejections)
        return None
    built_scopes = getattr(built, schema.scope.attr)
    for scope in scopes:
        built_scope = _build_scope(data, scope, schema, rejections)
        if built_scope is not None:
            built_scopes.append(built_scope)
    return built


def _build_scope(
    data: bytes, scope: _Split, schema: _Schema, rejections: list[Rejection]
) -> Message | None:
    """Decode a framed ScopeX with the items that decode; ``None`` if its shell fails."""
    built, problem = _decode(schema.scope.cls, scope.shell)
    if built is None:
        _reject_all(scope, [scope], schema, problem, rejections)
        return None
    items = []
    for index, (start, end) in enumerate(scope.children):
        item, problem = _decode(schema.item.cls, data[start:end])
        if item is None:
            rejections.append(Rejection(f"{scope.path}.{schema.item.json_name}[{index}]", problem))
        else:
            items.append(item)
    getattr(built, schema.item.attr).extend(items)
    return built


def _reject_all(
    container: _Split,
    scopes: list[_Split],
    schema: _Schema,
    problem: str,
    rejections: list[Rejection],
) -> None:
    """Reject every item of ``scopes`` because ``container`` failed to decode.

    ``container`` itself is rejected when ``scopes`` hold no items, so that its failure
    is still reported.
    """
    reason = f"the enclosing {container.path} cannot be decoded: {problem}"
    before = len(rejections)
    for scope in scopes:
        rejections.extend(
            Rejection(f"{scope.path}.{schema.item.json_name}[{i}]", reason)
            for i in range(len(scope.children))
        )
    if len(rejections) == before:
        rejections.append(Rejection(container.path, problem))


def _decode(cls: type[Message], data: bytes) -> tuple[Message | None, str]:
    """``cls.FromString(data)``, or ``None`` and a reason a person can act on."""
    try:
        return cls.FromString(data), ""
    except DecodeError as exc:
        text = _decode_error_text(exc)
        if "MaxDepth" in text:  # upb: "Exceeded upb_DecodeOptions_MaxDepth"
            return None, NESTING_REASON
        if "utf-8" in text.lower():
            return None, (
                f"invalid UTF-8 in a string field ({text}); string values must "
                "be valid UTF-8, send binary data as a bytes value instead"
            )
        return None, f"cannot be decoded as {cls.DESCRIPTOR.name}: {text}"


def _decode_error_text(exc: DecodeError) -> str:
    """The protobuf error text without its "Error parsing message with type 'X': " prefix."""
    text = str(exc)
    prefix, sep, rest = text.partition("': ")
    return rest if sep and prefix.startswith("Error parsing message") else text


# ---------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------

# OTLP/JSON writes these bytes fields as case-insensitive hex, not base64; size in bytes.
_ID_SIZES = {"trace_id": 16, "span_id": 8, "parent_span_id": 8}
# Ids that must be present: a span or link without them identifies nothing. Log records
# may carry no trace context, and a root span has no parent.
_REQUIRED_IDS = frozenset(
    {
        ("opentelemetry.proto.trace.v1.Span", "trace_id"),
        ("opentelemetry.proto.trace.v1.Span", "span_id"),
        ("opentelemetry.proto.trace.v1.Span.Link", "trace_id"),
        ("opentelemetry.proto.trace.v1.Span.Link", "span_id"),
    }
)
_PREVIEW_CHARS = 40


@dataclass(frozen=True, slots=True)
class _IdField:
    """A hex id field of a message."""

    keys: tuple[str, ...]  # JSON keys it may appear under: lowerCamelCase, snake_case
    label: str
    size: int
    required: bool


@dataclass(frozen=True, slots=True)
class _Nested:
    """A message field (singular or repeated) whose type holds hex ids somewhere below."""

    keys: tuple[str, ...]
    label: str
    plan: _IdPlan


@dataclass(frozen=True, slots=True)
class _IdPlan:
    """The hex id fields of a message type, and the message fields that lead to more."""

    ids: tuple[_IdField, ...]
    nested: tuple[_Nested, ...]


def parse_json(data: bytes, message_type: type[M]) -> tuple[M, list[Rejection]]:
    """Decode an OTLP/JSON export request, leaving out items whose ids are not valid.

    Follows the OTLP/JSON rules: ``traceId``, ``spanId`` and ``parentSpanId`` (in items
    and in nested messages such as span links) are hex strings and are converted here;
    the rest is the protobuf JSON mapping (lowerCamelCase or snake_case keys, enums as
    integers or names, 64-bit integers as strings or numbers, other bytes as base64),
    and unknown keys are ignored.

    An item whose id is not hex, or decodes to the wrong size (trace ids 16 bytes, span
    ids 8), is removed and reported as a :class:`Rejection`. Spans and links must carry
    both ids; ``parentSpanId`` and log record ids may be empty. So is an item nested too
    deeply to decode (looked for only when the request fails to decode).

    Raises:
        InvalidRequestError: the body is not JSON (including invalid UTF-8), not an
            object, or what remains after the rejections does not fit ``message_type``.
        TypeError: ``message_type`` is not an OTLP export request type.
    """
    schema = _schema(message_type)
    plan = _id_plan(schema.item.cls.DESCRIPTOR)
    doc = _load_json(data, schema)
    rejections = _remove_bad_items(doc, schema, plan, check_depth=False)
    try:
        return _parse_dict(doc, message_type), rejections
    except (json_format.ParseError, RecursionError) as exc:
        # once more from the body, now also leaving out items nested too deeply, so that
        # every rejection keeps the item's index in the body
        doc = _load_json(data, schema)
        rejections = _remove_bad_items(doc, schema, plan, check_depth=True)
        if not any(r.reason == NESTING_REASON for r in rejections):
            raise _misfit(schema, exc) from exc
    try:
        return _parse_dict(doc, message_type), rejections
    except (json_format.ParseError, RecursionError) as exc:
        raise _misfit(schema, exc) from exc


def _parse_dict(doc: dict[str, Any], message_type: type[M]) -> M:
    message = message_type()
    json_format.ParseDict(doc, message, ignore_unknown_fields=True)
    return message


def _misfit(schema: _Schema, exc: Exception) -> InvalidRequestError:
    """The error for a JSON body that does not fit the export request."""
    if isinstance(exc, RecursionError):
        return InvalidRequestError(
            f"request body is not a valid {schema.type_name} in OTLP/JSON: it is nested "
            "too deeply to decode; flatten deeply nested attribute values"
        )
    return InvalidRequestError(
        f"request body is not a valid {schema.type_name} in OTLP/JSON: "
        f"{str(exc).rstrip('. ')}; fix the named field (OTLP/JSON uses lowerCamelCase "
        "keys, hex trace and span ids, integer enums, and 64-bit integers as strings "
        "or numbers)"
    )


# request, ResourceX, ScopeX: the levels above an item, each a JSON object
_LEVELS_ABOVE_ITEMS = 3
_MAX_ITEM_NESTING = MAX_NESTING - _LEVELS_ABOVE_ITEMS


def _nests_deeper(value: Any, limit: int) -> bool:
    """Whether JSON objects nest more than ``limit`` levels in ``value`` (itself level 1
    if an object); walks without recursion, so any depth orjson parses is safe."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if type(node) is dict:
            if depth > limit:
                return True
            children: Any = node.values()
            depth += 1
        else:
            children = node
        for child in children:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth))
    return False


def _load_json(data: bytes, schema: _Schema) -> dict[str, Any]:
    """Parse ``data`` as a JSON object, or raise InvalidRequestError saying where it fails."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(
            f"request body is not valid JSON: {exc}; check that the Content-Type header "
            "(application/json) matches the body and that the body is UTF-8"
        ) from exc
    if not isinstance(doc, dict):
        raise InvalidRequestError(
            f"request body is a JSON {_json_type(doc)}, not an object; an OTLP/JSON "
            f"{schema.type_name} is an object such as "
            f'{{"{schema.resource.json_name}": [...]}}'
        )
    return doc


def _remove_bad_items(
    doc: dict[str, Any], schema: _Schema, plan: _IdPlan | None, check_depth: bool
) -> list[Rejection]:
    """Convert hex ids of every item to base64 in place; remove and report bad items:
    those with bad ids, and with ``check_depth`` those nested too deeply to decode."""
    rejections: list[Rejection] = []
    if plan is None and not check_depth:
        return rejections
    for r_index, resource in _entries(doc, schema.resource):
        r_path = f"{schema.resource.json_name}[{r_index}]"
        for s_index, scope in _entries(resource, schema.scope):
            s_path = f"{r_path}.{schema.scope.json_name}[{s_index}]"
            for key in schema.item.json_keys:
                items = scope.get(key)
                if isinstance(items, list):
                    prefix = f"{s_path}.{schema.item.json_name}"
                    scope[key] = _keep_valid(items, plan, prefix, rejections, check_depth)
    return rejections


def _entries(parent: dict[str, Any], level: _Level) -> Iterator[tuple[int, dict[str, Any]]]:
    """The object elements of ``level``'s list in ``parent``, with their indices.

    Other shapes (a value that is not a list, an element that is not an object) are left
    alone for ParseDict to report.
    """
    for key in level.json_keys:
        value = parent.get(key)
        if isinstance(value, list):
            for index, entry in enumerate(value):
                if isinstance(entry, dict):
                    yield index, entry


def _keep_valid(
    items: list[Any],
    plan: _IdPlan | None,
    prefix: str,
    rejections: list[Rejection],
    check_depth: bool,
) -> list[Any]:
    """The items whose ids convert (and, with ``check_depth``, that are not nested too
    deeply); a Rejection for each of the others."""
    kept = []
    for index, item in enumerate(items):
        reason = None
        if check_depth and _nests_deeper(item, _MAX_ITEM_NESTING):
            reason = NESTING_REASON
        elif plan is not None and isinstance(item, dict):
            reason = _convert_ids(item, plan, "")
        if reason is None:
            kept.append(item)
        else:
            rejections.append(Rejection(f"{prefix}[{index}]", reason))
    return kept


def _convert_ids(obj: dict[str, Any], plan: _IdPlan, where: str) -> str | None:
    """Rewrite the hex ids of ``obj`` (and nested messages) as base64; the first problem."""
    for field in plan.ids:
        reason = _convert_id(obj, field, where)
        if reason is not None:
            return reason
    for nested in plan.nested:
        for label, entry in _nested_objects(obj, nested, where):
            reason = _convert_ids(entry, nested.plan, label + ".")
            if reason is not None:
                return reason
    return None


def _nested_objects(
    obj: dict[str, Any], nested: _Nested, where: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The JSON objects under ``nested`` in ``obj``, each with its path label."""
    for key in nested.keys:
        value = obj.get(key)
        if isinstance(value, dict):
            yield f"{where}{nested.label}", value
        elif isinstance(value, list):
            for index, entry in enumerate(value):
                if isinstance(entry, dict):
                    yield f"{where}{nested.label}[{index}]", entry


def _convert_id(obj: dict[str, Any], field: _IdField, where: str) -> str | None:
    """Rewrite one hex id of ``obj`` as base64 in place; a reason if it is not valid."""
    present = False
    for key in field.keys:
        value = obj.get(key)
        if value is None or value == "":
            continue
        label = f"{where}{field.label}"
        if not isinstance(value, str):
            return (
                f"{label} is a JSON {_json_type(value)}; OTLP/JSON ids are hex "
                f"strings ({field.size * 2} hex digits)"
            )
        try:
            raw = binascii.a2b_hex(value)
        except ValueError:
            return (
                f"{label} {_preview(value)} is not hex; OTLP/JSON ids are hex strings "
                f"({field.size * 2} hex digits), not base64"
            )
        if len(raw) != field.size:
            return (
                f"{label} {_preview(value)} is {len(raw)} bytes, expected {field.size} "
                f"({field.size * 2} hex digits)"
            )
        obj[key] = binascii.b2a_base64(raw, newline=False).decode("ascii")
        present = True
    if field.required and not present:
        return (
            f"{where}{field.label} is missing or empty; it must be {field.size} bytes "
            f"({field.size * 2} hex digits)"
        )
    return None


_JSON_TYPE_NAMES: dict[type, str] = {str: "string", list: "array", dict: "object"}


def _json_type(value: object) -> str:
    """The JSON name of the type of a value ``orjson.loads`` returned."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _preview(value: str) -> str:
    """``value`` quoted for a message, shortened if long (bodies are attacker-sized)."""
    if len(value) > _PREVIEW_CHARS:
        return repr(value[:_PREVIEW_CHARS]) + "..."
    return repr(value)


@functools.cache
def _id_plan(descriptor: Descriptor) -> _IdPlan | None:
    """Where hex ids sit in ``descriptor`` and below; ``None`` if nowhere."""
    return _id_plan_walk(descriptor, frozenset())


def _id_plan_walk(descriptor: Descriptor, visiting: frozenset[str]) -> _IdPlan | None:
    """:func:`_id_plan` below ``visiting``: the message types on the current descriptor path,
    skipped so that recursive types (AnyValue, KeyValueList) end the walk."""
    visiting = visiting | {descriptor.full_name}
    ids = tuple(
        _IdField(
            _keys(f.json_name, f.name),
            f.json_name,
            _ID_SIZES[f.name],
            (descriptor.full_name, f.name) in _REQUIRED_IDS,
        )
        for f in descriptor.fields
        if f.name in _ID_SIZES and f.type == FieldDescriptor.TYPE_BYTES
    )
    nested = []
    for f in descriptor.fields:
        sub = f.message_type
        if sub is None or sub.full_name in visiting or sub.GetOptions().map_entry:
            continue
        sub_plan = _id_plan_walk(sub, visiting)
        if sub_plan is not None:
            nested.append(_Nested(_keys(f.json_name, f.name), f.json_name, sub_plan))
    if not ids and not nested:
        return None
    return _IdPlan(ids, tuple(nested))
