"""AssessmentService on a real collector, on SQLite and PostgreSQL, through the generated stubs.

Proves that expectations and feedback of every JSON value type read back as the exact text
written; that bad requests fail with INVALID_ARGUMENT messages naming the field; that an
assessment logged before its trace's spans is kept and shows on the trace once they arrive;
that UpdateAssessment changes exactly the fields of its mask (and refuses unknown paths and a
change of kind); that delete and the NOT_FOUND cases behave; that OverrideFeedback replaces a
feedback in one transaction (old one invalid, new one pointing to it, a second override of
the same feedback refused, even when racing); and that every method needs the API key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from otlp_builders import hex_id, make_request, make_span, new_trace_id
from processes import GrpcSender

from spyglass.collector.server import Collector
from spyglass.collector.store.evaluation.assessments import UPDATABLE_PATHS, assessments_for_traces
from spyglass.v1 import assessments_pb2 as pb
from spyglass.v1 import assessments_pb2_grpc as pb_grpc
from spyglass.v1 import traces_pb2, traces_pb2_grpc

Source = pb.AssessmentSource
# one of each JSON value type, written with unusual spacing and a number no double holds,
# so that "reads back identical" means the text, not just an equal value
JSON_VALUES = {
    "dict": '{"must_mention": ["30 days", "receipt"],  "tone": "helpful"}',
    "list": '[1, "two", null, {"three": 3.0}]',
    "str": '"helpful"',
    "number": "12345678901234567890.50",
    "bool": "true",
    "null": "null",
}
TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"


@pytest.fixture
def stub(collector: Collector) -> Iterator[pb_grpc.AssessmentServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
        yield pb_grpc.AssessmentServiceStub(channel)


def create(stub: pb_grpc.AssessmentServiceStub, **fields: Any) -> pb.Assessment:
    """CreateAssessment with defaults (trace TRACE, name "quality") for what is not given."""
    fields.setdefault("trace_id", TRACE)
    fields.setdefault("name", "quality")
    return stub.CreateAssessment(pb.CreateAssessmentRequest(assessment=pb.Assessment(**fields)))


def feedback(value_json: str | None = None, **error: str) -> pb.Feedback:
    """A Feedback with a value, an error (error_code=..., error_message=...), or both."""
    message = pb.Feedback(error=pb.AssessmentError(**error)) if error else pb.Feedback()
    if value_json is not None:
        message.value_json = value_json
    return message


def get(stub: pb_grpc.AssessmentServiceStub, created: pb.Assessment) -> pb.Assessment:
    return stub.GetAssessment(
        pb.GetAssessmentRequest(trace_id=created.trace_id, assessment_id=created.assessment_id)
    )


def update(
    stub: pb_grpc.AssessmentServiceStub, created: pb.Assessment, paths: list[str], **fields: Any
) -> pb.Assessment:
    message = pb.Assessment(
        trace_id=created.trace_id, assessment_id=created.assessment_id, **fields
    )
    return stub.UpdateAssessment(
        pb.UpdateAssessmentRequest(assessment=message, update_mask=FieldMask(paths=paths))
    )


def override(
    stub: pb_grpc.AssessmentServiceStub, old: pb.Assessment, value_json: str = "1", **fields: Any
) -> pb.Assessment:
    return stub.OverrideFeedback(
        pb.OverrideFeedbackRequest(
            trace_id=old.trace_id,
            old_assessment_id=old.assessment_id,
            value_json=value_json,
            **fields,
        )
    )


def rpc_error(call: Callable[[], Any], code: grpc.StatusCode, *fragments: str) -> str:
    """Run ``call``, expecting it to fail with ``code`` and a message holding ``fragments``."""
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error = caught.value
    assert error.code() == code, f"{error.code()}: {error.details()}"
    for fragment in fragments:
        assert fragment in error.details(), f"{fragment!r} not in {error.details()!r}"
    return error.details()


# -- create and read back -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["expectation", "feedback"])
def test_every_json_value_type_reads_back_unchanged(
    stub: pb_grpc.AssessmentServiceStub, kind: str
) -> None:
    before_ms = int(time.time() * 1000)
    for type_name, text in JSON_VALUES.items():
        value = pb.Expectation(value_json=text) if kind == "expectation" else feedback(text)
        created = create(stub, name=f"{kind}_{type_name}", **{kind: value})
        stored = get(stub, created)
        assert stored == created, type_name
        assert getattr(stored, kind).value_json == text, type_name
        assert stored.WhichOneof("value") == kind
        assert stored.assessment_id.startswith("a-") and stored.valid
        assert stored.source.source_type == Source.CODE  # unspecified is stored as CODE
        assert before_ms <= stored.create_time_ms == stored.last_update_time_ms
        assert not stored.HasField("span_id") and not stored.HasField("overrides")
        json.loads(getattr(stored, kind).value_json)


def test_optional_fields_and_feedback_errors_read_back(stub: pb_grpc.AssessmentServiceStub) -> None:
    full = create(
        stub,
        span_id=SPAN.upper(),
        rationale="cites the policy",
        run_id="run-7",
        source=Source(source_type=Source.LLM_JUDGE, source_id="openai:/gpt-4o-mini"),
        metadata={"prompt_version": "3", "judge": "v1"},
        feedback=feedback("0.5"),
    )
    error_only = create(
        stub,
        feedback=feedback(
            error_code="MISSING_EXPECTATIONS",
            error_message="no expected_facts",
            stack_trace="Traceback ...",
        ),
    )
    both = create(
        stub,
        feedback=feedback("false", error_code="PARTIAL", error_message="one judge call failed"),
    )
    stored = get(stub, full)
    assert stored == full
    assert (stored.span_id, stored.rationale, stored.run_id) == (SPAN, "cites the policy", "run-7")
    assert (stored.source.source_type, stored.source.source_id) == (
        Source.LLM_JUDGE,
        "openai:/gpt-4o-mini",
    )
    assert dict(stored.metadata) == {"prompt_version": "3", "judge": "v1"}
    stored = get(stub, error_only)
    assert not stored.feedback.HasField("value_json")
    assert stored.feedback.error == pb.AssessmentError(
        error_code="MISSING_EXPECTATIONS",
        error_message="no expected_facts",
        stack_trace="Traceback ...",
    )
    stored = get(stub, both)
    assert stored.feedback.value_json == "false"
    assert stored.feedback.error.error_code == "PARTIAL"
    assert not stored.feedback.error.HasField("stack_trace")


def test_bad_creates_are_invalid_argument(stub: pb_grpc.AssessmentServiceStub) -> None:
    good = {"expectation": pb.Expectation(value_json="1")}
    cases: list[tuple[dict[str, Any], tuple[str, ...]]] = [
        ({"trace_id": "abc", **good}, ("assessment.trace_id", "'abc'", "32 hex")),
        ({"trace_id": "z" * 32, **good}, ("assessment.trace_id", "32 hex")),
        ({"trace_id": "", **good}, ("assessment.trace_id",)),
        ({"span_id": "123", **good}, ("assessment.span_id", "16 hex")),
        ({"name": "", **good}, ("assessment.name is empty",)),
        ({"name": "x" * 257, **good}, ("assessment.name", "257", "at most 256")),
        (
            {"expectation": pb.Expectation(value_json="{'single': 'quotes'}")},
            ("assessment.expectation.value_json is not valid JSON", "{'single': 'quotes'}"),
        ),
        (
            {"expectation": pb.Expectation(value_json="")},
            ("assessment.expectation.value_json is empty", "'null'"),
        ),
        ({"feedback": feedback("NaN")}, ("assessment.feedback.value_json", "not valid JSON")),
        ({"feedback": feedback("helpful")}, ("assessment.feedback.value_json", "double quotes")),
        ({"feedback": feedback()}, ("assessment.feedback needs a value_json or an error",)),
        (
            {"feedback": pb.Feedback(error=pb.AssessmentError(stack_trace="..."))},
            ("assessment.feedback.error needs an error_code or an error_message",),
        ),
        ({}, ("neither expectation nor feedback", "exactly one")),
        ({"source": Source(source_type=7), **good}, ("source_type 7", "HUMAN")),
    ]
    for fields, fragments in cases:
        rpc_error(partial(create, stub, **fields), grpc.StatusCode.INVALID_ARGUMENT, *fragments)
    # "both kinds" cannot reach the server: the proto's oneof keeps only the last one set,
    # in the message and when parsing bytes that carry both
    both = pb.Assessment(expectation=pb.Expectation(value_json="1"))
    both.feedback.value_json = "2"
    assert both.WhichOneof("value") == "feedback" and not both.HasField("expectation")


# -- assessments before spans ---------------------------------------------------------------


def test_assessment_logged_before_its_spans_shows_on_the_trace(
    collector: Collector, stub: pb_grpc.AssessmentServiceStub
) -> None:
    raw_trace_id = new_trace_id()
    trace_id = hex_id(raw_trace_id)
    target = f"127.0.0.1:{collector.grpc_port}"
    early = [
        create(
            stub,
            trace_id=trace_id,
            name="key_information",
            expectation=pb.Expectation(value_json='{"must_mention": ["30 days"]}'),
        ),
        create(stub, trace_id=trace_id, feedback=feedback("0.9")),
    ]
    assert get(stub, early[0]) == early[0]  # kept although the trace does not exist
    with grpc.insecure_channel(target) as channel:
        traces = traces_pb2_grpc.TraceServiceStub(channel)
        rpc_error(
            lambda: traces.GetTrace(traces_pb2.GetTraceRequest(trace_id=trace_id)),
            grpc.StatusCode.NOT_FOUND,
        )

        with GrpcSender(target) as sender:  # acknowledged only after the spans commit
            outcome = sender.send(make_request([make_span("answer", raw_trace_id)]))
        assert outcome.ok, outcome.error

        trace = traces.GetTrace(traces_pb2.GetTraceRequest(trace_id=trace_id))
    assert [span.name for span in trace.spans] == ["answer"]
    assert list(trace.info.assessments) == early  # oldest first, exactly as created
    with collector.engine.connect() as connection:  # the read side the search pages use
        assert assessments_for_traces(connection, [trace_id])[trace_id] == early


# -- get, delete, not found ----------------------------------------------------------------


def test_get_and_delete_report_missing_assessments(stub: pb_grpc.AssessmentServiceStub) -> None:
    created = create(stub, expectation=pb.Expectation(value_json="1"))
    other_trace = "1" * 32
    not_found = grpc.StatusCode.NOT_FOUND
    rpc_error(
        lambda: stub.GetAssessment(
            pb.GetAssessmentRequest(trace_id=TRACE, assessment_id="a-missing")
        ),
        not_found,
        "'a-missing' not found",
        TRACE,
    )
    rpc_error(
        lambda: stub.GetAssessment(
            pb.GetAssessmentRequest(trace_id=other_trace, assessment_id=created.assessment_id)
        ),
        not_found,
        f"is not on trace {other_trace}",
        f"belongs to trace {TRACE}",
    )
    rpc_error(
        lambda: stub.DeleteAssessment(
            pb.DeleteAssessmentRequest(trace_id=other_trace, assessment_id=created.assessment_id)
        ),
        not_found,
        other_trace,
    )
    assert get(stub, created) == created  # a delete on the wrong trace deleted nothing
    rpc_error(
        lambda: stub.GetAssessment(
            pb.GetAssessmentRequest(trace_id="nope", assessment_id=created.assessment_id)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "trace_id 'nope'",
    )

    delete = pb.DeleteAssessmentRequest(trace_id=TRACE, assessment_id=created.assessment_id)
    assert stub.DeleteAssessment(delete) == pb.DeleteAssessmentResponse()
    rpc_error(lambda: get(stub, created), not_found, created.assessment_id)
    rpc_error(lambda: stub.DeleteAssessment(delete), not_found, created.assessment_id)


# -- update ----------------------------------------------------------------------------------


UPDATE_CASES: list[tuple[str, list[str], dict[str, Any], Callable[[pb.Assessment], Any], Any]] = [
    # (kind of the stored assessment, mask, fields sent, what to read back, expected)
    ("feedback", ["name"], {"name": "renamed"}, lambda a: a.name, "renamed"),
    ("feedback", ["rationale"], {"rationale": "better"}, lambda a: a.rationale, "better"),
    ("feedback", ["rationale"], {}, lambda a: a.HasField("rationale"), False),
    ("feedback", ["metadata"], {"metadata": {"k": "v"}}, lambda a: dict(a.metadata), {"k": "v"}),
    ("feedback", ["span_id"], {"span_id": SPAN}, lambda a: a.span_id, SPAN),
    ("feedback", ["span_id"], {}, lambda a: a.HasField("span_id"), False),
    ("feedback", ["run_id"], {"run_id": "run-2"}, lambda a: a.run_id, "run-2"),
    ("feedback", ["valid"], {"valid": False}, lambda a: a.valid, False),
    (
        "feedback",
        ["source"],
        {"source": Source(source_type=Source.HUMAN, source_id="ann")},
        lambda a: (a.source.source_type, a.source.source_id),
        (Source.HUMAN, "ann"),
    ),
    (
        "feedback",
        ["feedback"],
        {"feedback": feedback(error_code="E", error_message="m")},
        lambda a: (a.feedback.HasField("value_json"), a.feedback.error.error_code),
        (False, "E"),
    ),
    (
        "feedback",
        ["feedback.value_json"],
        {"feedback": feedback("[2]")},
        lambda a: (a.feedback.value_json, a.feedback.HasField("error")),
        ("[2]", True),
    ),
    (
        "feedback",
        ["feedback.error"],
        {},
        lambda a: (a.feedback.value_json, a.feedback.HasField("error")),
        ("0.5", False),
    ),
    (
        "expectation",
        ["expectation"],
        {"expectation": pb.Expectation(value_json='"new"')},
        lambda a: a.expectation.value_json,
        '"new"',
    ),
    (
        "expectation",
        ["expectation.value_json"],
        {"expectation": pb.Expectation(value_json="3")},
        lambda a: a.expectation.value_json,
        "3",
    ),
]


def stored_of_kind(stub: pb_grpc.AssessmentServiceStub, kind: str) -> pb.Assessment:
    """An assessment with every optional field set, for updates to change or clear."""
    value = (
        {"feedback": feedback("0.5", error_code="OLD", error_message="old")}
        if kind == "feedback"
        else {"expectation": pb.Expectation(value_json="1")}
    )
    return create(
        stub, span_id="1" * 16, rationale="first", run_id="run-1", metadata={"a": "1"}, **value
    )


def test_update_changes_exactly_the_masked_fields(stub: pb_grpc.AssessmentServiceStub) -> None:
    assert {path for _, mask, *_ in UPDATE_CASES for path in mask} == set(UPDATABLE_PATHS)
    for kind, mask, fields, read, expected in UPDATE_CASES:
        created = stored_of_kind(stub, kind)
        # "name" is in every message: it must be left alone unless the mask names it
        fields = {"name": "ignored unless masked", **fields}
        updated = update(stub, created, mask, **fields)
        assert read(updated) == expected, mask
        assert get(stub, created) == updated, mask
        assert updated.last_update_time_ms >= created.last_update_time_ms, mask
        assert updated.create_time_ms == created.create_time_ms
        changed = {path.partition(".")[0] for path in mask} | {"last_update_time_ms"}
        assert without(updated, changed) == without(created, changed), mask


def without(message: pb.Assessment, fields: set[str]) -> pb.Assessment:
    """A copy of ``message`` with ``fields`` cleared."""
    copy = pb.Assessment()
    copy.CopyFrom(message)
    for field in fields:
        copy.ClearField(field)
    return copy


def test_update_rejects_bad_masks_and_kind_changes(stub: pb_grpc.AssessmentServiceStub) -> None:
    expectation = stored_of_kind(stub, "expectation")
    error_only = create(stub, feedback=feedback(error_code="E", error_message="m"))
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    cases: list[tuple[pb.Assessment, list[str], dict[str, Any], tuple[str, ...]]] = [
        (expectation, ["colour"], {}, ("'colour'", "updatable paths: name,", "valid")),
        (expectation, ["trace_id"], {}, ("'trace_id' cannot be changed",)),
        (expectation, [], {"name": "x"}, ("update_mask is empty", "name,")),
        (expectation, ["name"], {"name": ""}, ("assessment.name is empty",)),
        (
            expectation,
            ["feedback"],
            {"feedback": feedback("1")},
            ("is an expectation and its kind cannot change", "names a feedback"),
        ),
        (
            expectation,
            ["expectation"],
            {"feedback": feedback("1")},
            ("kind cannot change", "the request carries a feedback"),
        ),
        (
            error_only,
            ["expectation.value_json"],
            {"expectation": pb.Expectation(value_json="1")},
            ("is a feedback and its kind cannot change",),
        ),
        (
            error_only,
            ["feedback.error"],
            {},
            ("neither a value_json nor an error", error_only.assessment_id),
        ),
        (
            expectation,
            ["expectation"],
            {"expectation": pb.Expectation(value_json="{")},
            ("assessment.expectation.value_json is not valid JSON",),
        ),
    ]
    for target, mask, fields, fragments in cases:
        rpc_error(partial(update, stub, target, mask, **fields), invalid, *fragments)
    assert get(stub, expectation) == expectation  # nothing above changed it
    assert get(stub, error_only) == error_only
    missing = pb.Assessment(trace_id=TRACE, assessment_id="a-gone")
    rpc_error(
        lambda: update(stub, missing, ["name"], name="x"),
        grpc.StatusCode.NOT_FOUND,
        "'a-gone' not found",
    )


# -- override --------------------------------------------------------------------------------


def test_override_replaces_a_feedback_once(stub: pb_grpc.AssessmentServiceStub) -> None:
    old = create(
        stub,
        name="factual_accuracy",
        span_id=SPAN,
        run_id="run-1",
        feedback=feedback("0.2"),
        rationale="judge said so",
    )
    new = override(
        stub,
        old,
        "1.0",
        rationale="a person checked",
        source=Source(source_type=Source.HUMAN, source_id="alice"),
        metadata={"review": "1"},
    )
    assert (new.trace_id, new.span_id, new.name, new.run_id) == (
        TRACE,
        SPAN,
        "factual_accuracy",
        "run-1",
    )
    assert (new.overrides, new.valid, new.feedback.value_json) == (old.assessment_id, True, "1.0")
    assert (new.rationale, new.source.source_id, dict(new.metadata)) == (
        "a person checked",
        "alice",
        {"review": "1"},
    )
    assert get(stub, new) == new
    old_now = get(stub, old)
    assert not old_now.valid and old_now.feedback.value_json == "0.2"
    assert old_now.last_update_time_ms >= old.last_update_time_ms

    precondition = grpc.StatusCode.FAILED_PRECONDITION
    rpc_error(
        lambda: override(stub, old),
        precondition,
        f"already overridden by {new.assessment_id}",
        f"override {new.assessment_id}",
    )
    newest = override(stub, new, "0.9")  # the replacement can itself be replaced
    assert newest.overrides == new.assessment_id and not get(stub, new).valid
    expectation = create(stub, expectation=pb.Expectation(value_json="1"))
    rpc_error(
        lambda: override(stub, expectation),
        precondition,
        "is an expectation",
        "only feedback can be overridden",
    )
    rpc_error(
        lambda: override(stub, newest, "not json"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "value_json is not valid JSON",
    )
    rpc_error(
        lambda: override(stub, pb.Assessment(trace_id=TRACE, assessment_id="a-x")),
        grpc.StatusCode.NOT_FOUND,
        "'a-x' not found",
    )
    assert get(stub, newest).valid  # the failed attempts changed nothing


def test_racing_overrides_of_one_feedback_let_exactly_one_win(
    stub: pb_grpc.AssessmentServiceStub,
) -> None:
    old = create(stub, feedback=feedback("0"))

    def attempt(i: int) -> str:
        try:
            return override(stub, old, str(i)).assessment_id
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION, exc.details()
            return ""

    with ThreadPoolExecutor(8) as pool:
        winners = [w for w in pool.map(attempt, range(8)) if w]
    assert len(winners) == 1
    assert not get(stub, old).valid


# -- auth ------------------------------------------------------------------------------------


def test_every_method_needs_the_api_key(
    start_collector: Callable[..., Collector], store_url: str
) -> None:
    secured = start_collector(store_url, api_keys=("k",))
    key = (("authorization", "Bearer k"),)
    with grpc.insecure_channel(f"127.0.0.1:{secured.grpc_port}") as channel:
        stub = pb_grpc.AssessmentServiceStub(channel)
        created = stub.CreateAssessment(
            pb.CreateAssessmentRequest(
                assessment=pb.Assessment(trace_id=TRACE, name="n", feedback=feedback("1"))
            ),
            metadata=key,
        )
        ids = {"trace_id": TRACE, "assessment_id": created.assessment_id}
        calls = [
            (
                stub.CreateAssessment,
                pb.CreateAssessmentRequest(
                    assessment=pb.Assessment(trace_id=TRACE, name="n", feedback=feedback("1"))
                ),
            ),
            (stub.GetAssessment, pb.GetAssessmentRequest(**ids)),
            (
                stub.UpdateAssessment,
                pb.UpdateAssessmentRequest(
                    assessment=pb.Assessment(name="m", **ids), update_mask=FieldMask(paths=["name"])
                ),
            ),
            (
                stub.OverrideFeedback,
                pb.OverrideFeedbackRequest(
                    trace_id=TRACE, old_assessment_id=created.assessment_id, value_json="2"
                ),
            ),
            (stub.DeleteAssessment, pb.DeleteAssessmentRequest(**ids)),
        ]
        for method, request in calls:
            for metadata in (None, (("authorization", "Bearer wrong"),)):
                rpc_error(
                    partial(method, request, metadata=metadata),
                    grpc.StatusCode.UNAUTHENTICATED,
                    "API key",
                )
            method(request, metadata=key)  # raises unless OK
