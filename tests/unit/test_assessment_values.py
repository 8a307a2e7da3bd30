"""The checks and column values behind AssessmentService, without a database.

Proves that ids are checked and normalized (lower-case hex, the all-zero ids refused), that
JSON values are accepted as written and only when they are real JSON (no NaN, no trailing
text), that a new row gets the defaults the proto promises (source CODE, valid, no
overrides), that what the write side stores reads back through ``assessment_to_proto``, and
that an update's mask changes, clears or refuses exactly what it should.
"""

from __future__ import annotations

import json

import pytest

from spyglass.collector.store.evaluation.assessments import (
    assessment_to_proto,
    check_json,
    check_span_id,
    check_trace_id,
    new_assessment_values,
    updated_columns,
)
from spyglass.collector.store.models import AssessmentRow
from spyglass.errors import InvalidArgumentError
from spyglass.v1 import assessments_pb2 as pb

TRACE = "0AF7651916CD43DD8448EB211C80319C"


def as_proto(values: dict) -> pb.Assessment:
    """A row's column values as the read side returns them."""
    return assessment_to_proto(
        AssessmentRow(**{("metadata_json" if k == "metadata" else k): v for k, v in values.items()})
    )


def test_ids_are_lowercased_and_all_zero_ids_refused() -> None:
    assert check_trace_id(TRACE) == TRACE.lower()
    assert check_span_id("B7AD6B7169203331") == "b7ad6b7169203331"
    assert check_span_id("") is None
    for bad in ("0" * 32, TRACE[:-1], TRACE + "0", " " + TRACE[1:]):
        with pytest.raises(InvalidArgumentError, match="trace_id"):
            check_trace_id(bad)
    with pytest.raises(InvalidArgumentError, match=r"span.span_id"):
        check_span_id("0" * 16, "span.span_id")


@pytest.mark.parametrize(
    "text", ['{"a": [1, 2.50]}', " [ ] ", '"x"', "-1e400", "false", "null", '"\\u00e9"']
)
def test_json_is_kept_exactly_as_written(text: str) -> None:
    assert check_json(text, "v") == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("NaN", "not valid JSON"),
        ("-Infinity", "not valid JSON"),
        ("1 2", "Extra data"),
        ("", "is empty"),
        ("  ", "is empty"),
        ("{" * 100, "..."),
        ("'x'", "double quotes"),
    ],
)
def test_json_that_is_not_json_is_refused(text: str, says: str) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^field ") as caught:
        check_json(text, "field")
    assert says in str(caught.value)


def test_new_row_defaults_and_what_it_reads_back_as() -> None:
    message = pb.Assessment(
        trace_id=TRACE,
        name="judge",
        metadata={"z": "1", "é": "ü"},
        feedback=pb.Feedback(error=pb.AssessmentError(error_code="E", error_message="m")),
    )
    values = new_assessment_values(message, now_ms=5)
    assert values["source_type"] == "CODE" and values["source_id"] is None
    assert (values["kind"], values["value"], values["valid"], values["overrides"]) == (
        "feedback",
        None,
        True,
        None,
    )
    assert values["metadata"] == '{"z": "1", "é": "ü"}'
    assert json.loads(values["error"]) == {"code": "E", "message": "m"}
    assert new_assessment_values(message, 5)["assessment_id"] != values["assessment_id"]
    back = as_proto(values)
    assert (back.trace_id, back.create_time_ms, dict(back.metadata)) == (
        TRACE.lower(),
        5,
        {"z": "1", "é": "ü"},
    )
    assert back.feedback == pb.Feedback(error=pb.AssessmentError(error_code="E", error_message="m"))
    assert back.source.source_type == pb.AssessmentSource.CODE


def stored(**overrides: object) -> dict:
    values = new_assessment_values(
        pb.Assessment(
            trace_id=TRACE,
            name="n",
            rationale="r",
            run_id="run",
            span_id="1" * 16,
            source=pb.AssessmentSource(source_type=pb.AssessmentSource.HUMAN, source_id="me"),
            feedback=pb.Feedback(value_json="1", error=pb.AssessmentError(error_code="E")),
        ),
        1,
    )
    return {**values, **overrides}


@pytest.mark.parametrize(
    ("paths", "message", "expected"),
    [
        (
            ["rationale", "run_id", "span_id", "metadata"],
            pb.Assessment(name="not masked"),
            {"rationale": None, "run_id": None, "span_id": None, "metadata": None},
        ),
        (["source"], pb.Assessment(), {"source_type": "CODE", "source_id": None}),
        (["valid", "valid"], pb.Assessment(valid=True), {"valid": True}),
        (["feedback.value_json"], pb.Assessment(), {"value": None}),
        (
            ["feedback.error"],
            pb.Assessment(
                feedback=pb.Feedback(error=pb.AssessmentError(error_message="m", stack_trace="s"))
            ),
            {"error": '{"code": "", "message": "m", "stack": "s"}'},
        ),
    ],
)
def test_update_changes_and_clears_what_the_mask_names(
    paths: list[str], message: pb.Assessment, expected: dict
) -> None:
    assert updated_columns(stored(), message, paths, now_ms=9) == {
        **expected,
        "last_update_time_ms": 9,
    }


@pytest.mark.parametrize(
    ("row", "paths", "message", "says"),
    [
        (stored(), ["feedback.value_json", "feedback.error"], pb.Assessment(), "neither"),
        (stored(), ["feedback"], pb.Assessment(feedback=pb.Feedback()), "needs a value_json"),
        (stored(), ["expectation"], pb.Assessment(), "names an expectation"),
        (
            stored(kind="expectation"),
            ["expectation.value_json"],
            pb.Assessment(feedback=pb.Feedback(value_json="1")),
            "carries a feedback",
        ),
        (stored(), ["assessment_id"], pb.Assessment(), "cannot be changed"),
        (stored(), ["metadata.key"], pb.Assessment(), "updatable paths"),
        (stored(), ["run_id"], pb.Assessment(run_id="r" * 65), "at most 64"),
    ],
)
def test_update_refuses(row: dict, paths: list[str], message: pb.Assessment, says: str) -> None:
    with pytest.raises(InvalidArgumentError, match=says):
        updated_columns(row, message, paths, now_ms=9)
