"""spyglass.error_codes: the one table of how errors are answered, read by every side."""

from __future__ import annotations

import grpc
import pytest

from spyglass import errors
from spyglass.error_codes import ANSWERS, Side, answer_for, error_class_for

S = grpc.StatusCode


@pytest.mark.parametrize(
    ("error", "code", "http_status", "outcome"),
    [
        (errors.StoreUnavailableError("x"), S.UNAVAILABLE, 503, "retry"),
        (errors.OverloadedError("x"), S.UNAVAILABLE, 503, "retry"),
        (errors.InternalFaultError("x"), S.UNAVAILABLE, 503, "retry"),
        (errors.PayloadTooLargeError("x"), S.RESOURCE_EXHAUSTED, 413, "too_large"),
        (errors.UnsupportedMediaTypeError("x"), S.INVALID_ARGUMENT, 415, "unsupported"),
        (errors.InvalidRequestError("x"), S.INVALID_ARGUMENT, 400, "invalid"),
    ],
)
def test_otlp_answers(
    error: Exception, code: grpc.StatusCode, http_status: int, outcome: str
) -> None:
    answer = answer_for(error, Side.OTLP)
    assert answer is not None
    assert (answer.code, answer.http_status, answer.outcome) == (code, http_status, outcome)
    assert answer.rpc_code == code.value[0]


@pytest.mark.parametrize(
    "error",
    [
        errors.NotFoundError("x"),
        errors.InvalidArgumentError("x"),
        errors.QueryTimeoutError("x"),
        errors.ConfigurationError("x"),
        ValueError("x"),
    ],
)
def test_otlp_does_not_answer_errors_an_export_cannot_raise(error: Exception) -> None:
    assert answer_for(error, Side.OTLP) is None


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.NotFoundError("x"), S.NOT_FOUND),
        (errors.InvalidFilterError("x"), S.INVALID_ARGUMENT),
        (errors.InvalidArgumentError("x"), S.INVALID_ARGUMENT),
        (errors.AlreadyExistsError("x"), S.ALREADY_EXISTS),
        (errors.FailedPreconditionError("x"), S.FAILED_PRECONDITION),
        (errors.QueryTimeoutError("x"), S.DEADLINE_EXCEEDED),
        (errors.StoreUnavailableError("x"), S.UNAVAILABLE),
        (errors.CollectorUnavailableError("x"), S.UNAVAILABLE),
    ],
)
def test_api_answers(error: Exception, code: grpc.StatusCode) -> None:
    answer = answer_for(error, Side.API)
    assert answer is not None and answer.code == code


@pytest.mark.parametrize(
    "error",
    [
        errors.InvalidRequestError("x"),
        errors.ConfigurationError("x"),
        errors.SpyglassError("x"),
        KeyError("x"),
    ],
)
def test_api_leaves_unexpected_errors_to_grpc(error: Exception) -> None:
    assert answer_for(error, Side.API) is None


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (S.NOT_FOUND, errors.NotFoundError),
        (S.ALREADY_EXISTS, errors.AlreadyExistsError),
        (S.INVALID_ARGUMENT, errors.InvalidArgumentError),
        (S.FAILED_PRECONDITION, errors.FailedPreconditionError),
        (S.UNAVAILABLE, errors.CollectorUnavailableError),
        (S.UNAUTHENTICATED, errors.ConfigurationError),
        (S.PERMISSION_DENIED, errors.ConfigurationError),
        (S.DEADLINE_EXCEEDED, errors.SpyglassError),
        (S.RESOURCE_EXHAUSTED, errors.SpyglassError),
        (S.UNKNOWN, errors.SpyglassError),
    ],
)
def test_client_reads_a_code_back_as_a_class(
    code: grpc.StatusCode, cls: type[errors.SpyglassError]
) -> None:
    assert error_class_for(code) is cls


def test_client_raises_the_class_the_collector_named() -> None:
    assert error_class_for(S.INVALID_ARGUMENT, "InvalidFilterError") is errors.InvalidFilterError
    assert error_class_for(S.UNAVAILABLE, "StoreUnavailableError") is errors.StoreUnavailableError
    # a name that is not a Spyglass error falls back to the code
    assert error_class_for(S.UNAVAILABLE, "OperationalError") is errors.CollectorUnavailableError
    assert error_class_for(S.NOT_FOUND, "not_unicode") is errors.NotFoundError


def test_otlp_rows_have_an_http_status_and_an_outcome() -> None:
    for answer in ANSWERS:
        if Side.OTLP in answer.sides:
            assert answer.http_status is not None and answer.outcome is not None, answer


def test_a_subclass_row_comes_before_its_base() -> None:
    for i, answer in enumerate(ANSWERS):
        for earlier in ANSWERS[:i]:
            if earlier.sides & answer.sides and earlier.error is not answer.error:
                assert not issubclass(answer.error, earlier.error), (earlier, answer)
