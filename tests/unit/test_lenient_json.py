"""spyglass.lenient_json: any value becomes valid JSON text, through one fallback chain."""

from __future__ import annotations

import json
from typing import Any

import pytest

from spyglass.lenient_json import dumps, safe_repr, stand_in


def _no_constants(name: str) -> None:
    raise AssertionError(f"the JSON holds {name}, which is not JSON")


def loads(text: str) -> Any:
    return json.loads(text, parse_constant=_no_constants)


def test_json_values_are_written_compactly_by_the_fast_path() -> None:
    assert dumps({"a": [1, 2.5, None, True], "ü": "✓"}) == '{"a":[1,2.5,null,true],"ü":"✓"}'


def test_scalar_keys_are_written_as_text() -> None:
    assert loads(dumps({2: "a", None: "b", True: "c", 1.5: "d"})) == {
        "2": "a",
        "null": "b",
        "true": "c",
        "1.5": "d",
    }


def test_what_json_has_no_type_for_becomes_its_stand_in() -> None:
    class Thing:
        def __str__(self) -> str:
            return "a thing"

    assert loads(dumps({"raw": b"\xff\x00", "tags": {"x"}, "thing": Thing()})) == {
        "raw": "/wA=",
        "tags": ["x"],
        "thing": "a thing",
    }
    assert stand_in(memoryview(b"hi")) == "aGk="


def test_never_raises_on_what_orjson_refuses() -> None:
    assert loads(dumps({"big": 2**70, "small": -(2**70)})) == {"big": 2**70, "small": -(2**70)}
    deep: Any = "leaf"
    for _ in range(300):
        deep = [deep]
    assert loads(dumps(deep)) == deep


def test_lone_surrogates_are_escaped() -> None:
    assert dumps({"s": "a\ud800b"}) == '{"s":"a\\ud800b"}'


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_floats_json_cannot_hold_are_null_on_every_path(value: float) -> None:
    assert dumps([value, 1]) == "[null,1]"
    assert loads(dumps([value, 2**70])) == [None, 2**70]  # the standard library's path


def test_the_last_resort_is_a_string_describing_the_value() -> None:
    cycle: list[Any] = [1]
    cycle.append(cycle)
    assert loads(dumps(cycle)) == "[1, [...]]"
    assert loads(dumps({(1, 2): 3})) == "{(1, 2): 3}"
    assert loads(dumps(cycle, describe=lambda v: "described")) == "described"


def test_a_failing_default_or_description_does_not_raise() -> None:
    def broken(_: Any) -> Any:
        raise RuntimeError("no")

    class BadRepr:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    assert loads(dumps(BadRepr(), default=broken)) == "<BadRepr object>"
    assert safe_repr(BadRepr()) == "<BadRepr object>"
    assert loads(dumps(object(), default=broken, describe=broken)) == "<object object>"


def test_native_copies_what_orjson_refuses_as_a_whole() -> None:
    cycle: list[Any] = [1]
    cycle.append(cycle)
    assert loads(dumps(cycle, native=lambda v: [1, "cycle"])) == [1, "cycle"]
    # a copy orjson refuses too goes on to the standard library
    assert loads(dumps(cycle, native=lambda v: [2**70])) == [2**70]
    assert dumps({"a": 1}, native=lambda v: "unused") == '{"a":1}'
