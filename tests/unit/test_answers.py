"""Tests of spyglass.collector.ingest.answers: export responses and ``google.rpc.Status``
error bodies, encoded as binary protobuf or as OTLP/JSON."""

from __future__ import annotations

import orjson
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from spyglass.collector.ingest.answers import encode_response, encode_status


def test_encode_response_protobuf_and_json() -> None:
    response = ExportTraceServiceResponse()
    response.partial_success.rejected_spans = 3
    response.partial_success.error_message = "3 spans rejected"
    assert ExportTraceServiceResponse.FromString(encode_response(response, json=False)) == response
    assert orjson.loads(encode_response(response, json=True)) == {
        "partialSuccess": {"rejectedSpans": "3", "errorMessage": "3 spans rejected"}
    }
    assert encode_response(ExportLogsServiceResponse(), json=True) == b"{}"


def test_encode_status_round_trips_in_protobuf() -> None:
    retry = error_details_pb2.RetryInfo()
    retry.retry_delay.seconds = 5
    body = encode_status(14, "store unavailable; retry later", json=False, details=[retry])
    status = status_pb2.Status.FromString(body)
    assert (status.code, status.message) == (14, "store unavailable; retry later")
    unpacked = error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(unpacked)
    assert unpacked == retry


def test_encode_status_round_trips_in_json() -> None:
    bad = error_details_pb2.BadRequest()
    bad.field_violations.add(field="resourceSpans[0]", description="truncated")
    body = encode_status(3, "request body is not valid", json=True, details=[bad])
    doc = orjson.loads(body)
    assert doc["code"] == 3
    assert doc["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    status = json_format.Parse(body, status_pb2.Status())
    unpacked = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(unpacked)
    assert unpacked == bad
    assert status.message == "request body is not valid"


def test_encode_status_without_details() -> None:
    status = status_pb2.Status.FromString(encode_status(8, "overloaded", json=False))
    assert (status.code, status.message, len(status.details)) == (8, "overloaded", 0)
