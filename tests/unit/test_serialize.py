"""spyglass.instrumentation.serialize: any value becomes valid, readable JSON; never raises."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import pathlib
import uuid

import numpy
import pydantic
import pytest

from spyglass.instrumentation.serialize import (
    MAX_JSON_CHARS,
    MAX_STRING_CHARS,
    to_attribute,
    to_json,
)


@dataclasses.dataclass
class Order:
    order_id: int
    items: list[str]


class Customer(pydantic.BaseModel):
    name: str
    since: datetime.date


class Color(enum.Enum):
    RED = "red"


class Plain:
    def __init__(self) -> None:
        self.name = "plain"
        self.size = 3
        self._hidden = "x"


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


class BadDump:
    def model_dump(self, **_: object) -> dict:
        raise RuntimeError("broken model")

    def __repr__(self) -> str:
        return "BadDump()"


def loads(value: object) -> object:
    return json.loads(to_json(value))


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -3,
        1.5,
        "text",
        "ünïcødé ✓",
        [],
        {},
        [1, "a", None],
        {"question": "Where is my order?", "n": 2, "nested": {"list": [1, 2, {"x": None}]}},
    ],
)
def test_json_values_round_trip(value: object) -> None:
    assert loads(value) == value


def test_common_python_types_become_readable_json() -> None:
    when = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    value = {
        "order": Order(7, ["book"]),
        "customer": Customer(name="Ada", since=datetime.date(2020, 1, 2)),
        "tags": {"b", "a"},
        "frozen": frozenset({3, 1}),
        "tuple": (1, 2),
        "raw": b"hello",
        "binary": b"\xff\x00",
        "when": when,
        "id": ident,
        "price": decimal.Decimal("19.99"),
        "path": pathlib.PurePosixPath("/tmp/x.txt"),
        "color": Color.RED,
        "vector": numpy.array([1.0, 2.0]),
        5: "int key",
    }
    assert loads(value) == {
        "order": {"order_id": 7, "items": ["book"]},
        "customer": {"name": "Ada", "since": "2020-01-02"},
        "tags": ["a", "b"],
        "frozen": [1, 3],
        "tuple": [1, 2],
        "raw": "hello",
        "binary": "base64:/wA=",
        "when": "2024-05-01T12:30:00+00:00",
        "id": str(ident),
        "price": "19.99",
        "path": "/tmp/x.txt",
        "color": "red",
        "vector": [1.0, 2.0],
        "5": "int key",
    }


def test_plain_objects_show_their_public_fields() -> None:
    assert loads(Plain()) == "Plain(name='plain', size=3)"
    assert loads(object()).startswith("<object object at 0x")


def test_objects_that_fail_to_describe_themselves_do_not_raise() -> None:
    assert loads(BadRepr()) == "<BadRepr object>"
    assert loads({"m": BadDump()}) == {"m": "BadDump()"}


def test_cycles_huge_ints_and_odd_keys_take_the_readable_path() -> None:
    cycle: list = [1]
    cycle.append(cycle)
    assert loads(cycle) == [1, "<cycle: list>"]
    mapping: dict = {"a": 1}
    mapping["self"] = mapping
    assert loads(mapping) == {"a": 1, "self": "<cycle: dict>"}
    assert loads(2**80) == str(2**80)
    assert loads({(1, 2): "tuple key", None: 1}) == {"(1, 2)": "tuple key", "null": 1}


def test_generators_are_not_consumed() -> None:
    consumed = []

    def gen():
        consumed.append(True)
        yield 1

    text = loads({"g": gen()})
    assert text["g"].startswith("<generator object")
    assert consumed == []


def test_huge_strings_are_cut_keeping_the_structure() -> None:
    value = {"prompt": "x" * (MAX_JSON_CHARS * 2), "model": "gpt"}
    text = to_json(value)
    assert len(text) <= MAX_JSON_CHARS
    parsed = json.loads(text)
    assert parsed["model"] == "gpt"
    assert parsed["prompt"].startswith("x" * MAX_STRING_CHARS)
    assert parsed["prompt"].endswith(f"[truncated, {MAX_JSON_CHARS * 2} characters in all]")


def test_huge_containers_are_cut_with_a_marker() -> None:
    value = [{"i": i, "text": "y" * 600} for i in range(5000)]
    text = to_json(value)
    assert len(text) <= MAX_JSON_CHARS
    parsed = json.loads(text)
    assert parsed[0] == {"i": 0, "text": "y" * 600}
    kept = len(parsed) - 1
    assert 0 < kept < 5000
    assert parsed[-1] == f"… {5000 - kept} more items"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("s", "s"),
        (True, True),
        (3, 3),
        (2.5, 2.5),
        (["a", "b"], ("a", "b")),
        ((1, 2), (1, 2)),
        ([1, "a"], '[1,"a"]'),
        ({"k": 1}, '{"k":1}'),
        ([], "[]"),
        (2**70, str(2**70)),
        (None, None),
        (Order(1, []), '{"order_id":1,"items":[]}'),
    ],
)
def test_attribute_values(value: object, expected: object) -> None:
    assert to_attribute(value) == expected
