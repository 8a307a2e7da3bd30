"""A review queue's fields: their definitions (checked when the queue is made, stored as
JSON) and the checks of the values a reviewer submits for them.

A field is an expectation or a feedback with a value type: BOOL (``true``/``false``),
NUMBER (a finite JSON number), CATEGORICAL (a JSON string among the field's options), TEXT
(a JSON string) or JSON (any JSON value). Values travel as JSON text, as assessments do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from spyglass.collector.store.evaluation.assessments import check_json, check_name
from spyglass.errors import InvalidArgumentError
from spyglass.v1 import review_pb2 as pb

MAX_FIELDS = 50
MAX_OPTIONS = 100
MAX_OPTION = 256
MAX_DESCRIPTION = 2000
KINDS = {pb.ReviewField.EXPECTATION: "expectation", pb.ReviewField.FEEDBACK: "feedback"}
TYPES = {
    value: name
    for name, value in pb.ReviewField.ValueType.items()
    if name != "VALUE_TYPE_UNSPECIFIED"
}


def check_fields(fields: Sequence[pb.ReviewField]) -> list[dict[str, Any]]:
    """The fields as stored (JSON-ready dicts), or InvalidArgumentError saying which is
    wrong: names unique and non-empty, kind and type given, categorical options (two or
    more, distinct) only on CATEGORICAL fields."""
    if not fields:
        raise InvalidArgumentError(
            "the queue has no fields; give at least one, e.g. an expectation "
            "'expected_answer' of type TEXT or a feedback 'helpful' of type BOOL"
        )
    if len(fields) > MAX_FIELDS:
        raise InvalidArgumentError(f"{len(fields)} fields; a queue has at most {MAX_FIELDS}")
    stored: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, field in enumerate(fields):
        where = f"fields[{n}]"
        name = check_name(field.name.strip(), f"{where}.name")
        if name in seen:
            raise InvalidArgumentError(f"{where}.name {name!r} is used twice; names are unique")
        seen.add(name)
        if field.kind not in KINDS:
            raise InvalidArgumentError(f"{where} ({name}): choose expectation or feedback")
        if field.type not in TYPES:
            raise InvalidArgumentError(
                f"{where} ({name}): choose a type: bool, number, categorical, text or JSON"
            )
        stored.append(
            {
                "name": name,
                "kind": KINDS[field.kind],
                "type": TYPES[field.type],
                "options": _options(field, where, name),
                "description": field.description.strip()[:MAX_DESCRIPTION],
            }
        )
    return stored


def _options(field: pb.ReviewField, where: str, name: str) -> list[str]:
    options = [option.strip() for option in field.options if option.strip()]
    if field.type != pb.ReviewField.CATEGORICAL:
        if options:
            raise InvalidArgumentError(f"{where} ({name}): only a categorical field has options")
        return []
    if len(options) < 2 or len(set(options)) != len(options):
        raise InvalidArgumentError(
            f"{where} ({name}): a categorical field needs two or more distinct options, "
            "e.g. good, bad"
        )
    if len(options) > MAX_OPTIONS or any(len(o) > MAX_OPTION for o in options):
        raise InvalidArgumentError(
            f"{where} ({name}): at most {MAX_OPTIONS} options of at most "
            f"{MAX_OPTION} characters each"
        )
    return options


def field_messages(stored: str) -> list[pb.ReviewField]:
    """The stored JSON list of fields as messages."""
    return [
        pb.ReviewField(
            name=f["name"],
            kind=f["kind"].upper(),  # the enum value's name
            type=f["type"],
            options=f["options"],
            description=f["description"],
        )
        for f in json.loads(stored)
    ]


def check_values(
    fields: list[dict[str, Any]], values: Sequence[pb.ReviewValue]
) -> list[tuple[dict[str, Any], str]]:
    """Each submitted value with its field, in the queue's field order; InvalidArgumentError
    naming the field for an unknown name, a repeat, or a value not of the field's type."""
    by_name = {f["name"]: f for f in fields}
    given: dict[str, str] = {}
    for n, value in enumerate(values):
        if value.name not in by_name:
            raise InvalidArgumentError(
                f"values[{n}].name {value.name!r} is not a field of this queue; its fields "
                f"are {', '.join(repr(name) for name in by_name)}"
            )
        if value.name in given:
            raise InvalidArgumentError(f"values[{n}]: field {value.name!r} is given twice")
        given[value.name] = value.value_json
    if not given:
        raise InvalidArgumentError("no values: fill in at least one field, or skip the trace")
    return [(f, _check_value(f, given[f["name"]])) for f in fields if f["name"] in given]


def _check_value(field: dict[str, Any], text: str) -> str:
    name, kind = field["name"], field["type"]
    value = json.loads(check_json(text, f"the value of {name!r}"))
    if kind == "BOOL" and not isinstance(value, bool):
        raise InvalidArgumentError(f"{name!r} takes true or false, not {text}")
    if kind == "NUMBER" and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise InvalidArgumentError(f"{name!r} takes a number, not {text}")
    if kind in ("TEXT", "CATEGORICAL") and not isinstance(value, str):
        raise InvalidArgumentError(f"{name!r} takes text (a JSON string), not {text}")
    if kind == "CATEGORICAL" and value not in field["options"]:
        raise InvalidArgumentError(
            f"{name!r} takes one of {', '.join(field['options'])}, not {value!r}"
        )
    return text
