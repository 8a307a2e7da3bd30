"""Tests of spyglass.collector.ingest.bodies: undoing the Content-Encoding of a request body
within the size limit, bombs included."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from spyglass.collector.ingest.bodies import decompress
from spyglass.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError

LIMIT = 64 * 1024 * 1024


def trace_request(span_names: list[str]) -> ExportTraceServiceRequest:
    """One resource, one scope, one span per name, each with a string attribute."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.add(key="service.name").value.string_value = "svc"
    resource_spans.schema_url = "https://opentelemetry.io/schemas/1.26.0"
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "spyglass.test"
    for index, name in enumerate(span_names):
        span = scope_spans.spans.add(
            name=name, trace_id=bytes(range(1, 17)), span_id=bytes([0xA0 + index] * 8)
        )
        span.attributes.add(key="attr").value.string_value = "ok"
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + index
    return request


PAYLOAD = trace_request(["a", "b", "c"]).SerializeToString() * 50


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        (None, PAYLOAD),
        ("", PAYLOAD),
        ("identity", PAYLOAD),
        ("gzip", gzip.compress(PAYLOAD)),
        ("GZIP", gzip.compress(PAYLOAD)),
        ("x-gzip", gzip.compress(PAYLOAD)),
        ("deflate", zlib.compress(PAYLOAD)),
        ("Deflate", raw_deflate(PAYLOAD)),
    ],
)
def test_decompress_round_trips(encoding: str | None, body: bytes) -> None:
    assert decompress(body, encoding, LIMIT) == PAYLOAD


def test_decompress_reads_every_gzip_member() -> None:
    body = gzip.compress(PAYLOAD[:100]) + gzip.compress(PAYLOAD[100:])
    assert decompress(body, "gzip", LIMIT) == PAYLOAD


def test_decompress_output_exactly_at_limit_is_accepted() -> None:
    assert decompress(gzip.compress(PAYLOAD), "gzip", len(PAYLOAD)) == PAYLOAD
    with pytest.raises(PayloadTooLargeError):
        decompress(gzip.compress(PAYLOAD), "gzip", len(PAYLOAD) - 1)


def test_empty_body_is_returned_for_any_known_encoding() -> None:
    assert decompress(b"", "gzip", LIMIT) == b""
    assert decompress(b"", "deflate", LIMIT) == b""


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed without ever holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + compressor.flush()


def test_gzip_bomb_is_cut_off_at_the_limit_without_inflating_it() -> None:
    bomb = gzip_bomb(200 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(PayloadTooLargeError) as caught:
            decompress(bomb, "gzip", LIMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(caught.value) == (
        "request body is larger than 67108864 bytes after decompression; split the batch "
        "(e.g. OTEL_BSP_MAX_EXPORT_BATCH_SIZE) or raise --max-request-bytes"
    )
    assert peak < LIMIT + 16 * 1024 * 1024  # the limit plus change, not the 200 MB
    assert time.perf_counter() - started < 10


def test_small_limit_stops_a_deflate_bomb_early() -> None:
    bomb = zlib.compress(bytes(50 * 1024 * 1024))
    assert len(bomb) < 100_000
    with pytest.raises(PayloadTooLargeError, match="larger than 100000 bytes after decompression"):
        decompress(bomb, "deflate", 100_000)


def test_raw_body_over_limit_is_too_large() -> None:
    with pytest.raises(PayloadTooLargeError, match="--max-request-bytes"):
        decompress(b"x" * 101, None, 100)


def test_unknown_encoding_names_the_supported_ones() -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        decompress(b"abc", "br", LIMIT)
    assert "'br'" in str(caught.value)
    assert "identity, gzip, deflate" in str(caught.value)


def test_corrupt_gzip_is_invalid() -> None:
    with pytest.raises(InvalidRequestError, match="not valid gzip data") as caught:
        decompress(b"\x1f\x8b\x08\x00garbage-garbage", "gzip", LIMIT)
    assert not isinstance(caught.value, PayloadTooLargeError)


def test_plain_body_labelled_gzip_is_invalid() -> None:
    with pytest.raises(InvalidRequestError, match="Content-Encoding"):
        decompress(PAYLOAD, "gzip", LIMIT)


def test_truncated_gzip_is_invalid() -> None:
    body = gzip.compress(PAYLOAD)
    with pytest.raises(InvalidRequestError, match="cut short"):
        decompress(body[: len(body) // 2], "gzip", LIMIT)


def test_bytes_after_a_deflate_stream_are_invalid() -> None:
    with pytest.raises(InvalidRequestError, match="after the end of its deflate stream"):
        decompress(zlib.compress(PAYLOAD) + b"junk", "deflate", LIMIT)


def test_corrupt_deflate_is_invalid() -> None:
    with pytest.raises(InvalidRequestError, match="not valid deflate data"):
        decompress(b"\xff\xff\xff\xff", "deflate", LIMIT)
