"""Request bodies as sent: undoing the HTTP ``Content-Encoding`` within the size limit.

:func:`decompress` enforces the request size limit *during* inflation, so a compression bomb
is cut off after ``limit`` bytes instead of being inflated in full. The OTLP/HTTP receiver
calls it before handing the body to :mod:`~spyglass.collector.ingest.parse`.
"""

from __future__ import annotations

import zlib
from typing import Any

from spyglass.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError

__all__ = ["decompress"]

_GZIP_WBITS = 16 + zlib.MAX_WBITS  # gzip header and trailer
_ZLIB_WBITS = zlib.MAX_WBITS  # RFC 1950 zlib wrapper: what "deflate" means in HTTP
_RAW_WBITS = -zlib.MAX_WBITS  # bare RFC 1951 stream, which some clients send as "deflate"
_IDENTITY = frozenset({"", "identity"})
_GZIP = frozenset({"gzip", "x-gzip"})  # RFC 9110 8.4.1.3: x-gzip is an alias of gzip
_SUPPORTED_ENCODINGS = "identity, gzip, deflate"
# Output is produced in pieces of this size: zlib would otherwise build one block list up
# to the limit and copy it into a single bytes object, doubling the peak memory.
_CHUNK_BYTES = 1 << 20


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo the HTTP ``Content-Encoding`` of ``body``, refusing output over ``limit`` bytes.

    ``encoding`` is the header value, compared case-insensitively: ``None``, ``""`` or
    ``"identity"`` (returned unchanged), ``"gzip"`` (also ``"x-gzip"``, possibly several
    concatenated members) or ``"deflate"`` (zlib-wrapped as HTTP specifies, or raw deflate
    as some clients send it). An empty body is returned as is, whatever the encoding.

    The limit is enforced while inflating: at most ``limit + 1`` bytes are ever produced,
    so a compression bomb costs about ``limit`` bytes of memory, not its inflated size.

    Raises:
        PayloadTooLargeError: ``body``, or its decompressed form, is over ``limit`` bytes.
        UnsupportedMediaTypeError: ``encoding`` is not one of the above.
        InvalidRequestError: the body is not valid data of its encoding.
    """
    if len(body) > limit:
        raise PayloadTooLargeError(
            f"request body is {len(body)} bytes, larger than the limit of {limit} bytes; "
            "split the batch (e.g. OTEL_BSP_MAX_EXPORT_BATCH_SIZE) or raise --max-request-bytes"
        )
    name = (encoding or "").strip().lower()
    if name in _IDENTITY:
        return body
    if name not in _GZIP and name != "deflate":
        raise UnsupportedMediaTypeError(
            f"Content-Encoding {encoding!r} is not supported; send the body uncompressed or "
            f"compressed with one of: {_SUPPORTED_ENCODINGS}"
        )
    if not body:
        return body
    if name in _GZIP:
        return _inflate(body, _GZIP_WBITS, limit, "gzip")
    return _inflate_deflate(body, limit)


def _inflate_deflate(body: bytes, limit: int) -> bytes:
    """Inflate an HTTP ``deflate`` body: zlib-wrapped if its header says so, else raw.

    The header check cannot mistake a raw stream from a real encoder for a zlib one: a
    raw stream would have to start with a stored block whose ignored padding bits are
    not zero, which encoders never write.
    """
    wbits = _ZLIB_WBITS if _has_zlib_header(body) else _RAW_WBITS
    return _inflate(body, wbits, limit, "deflate")


def _has_zlib_header(body: bytes) -> bool:
    """Whether ``body`` starts with a valid RFC 1950 header (method 8, check bits right)."""
    return len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0


def _inflate(body: bytes, wbits: int, limit: int, name: str) -> bytes:
    """Inflate every member of ``body`` with ``wbits``; raise once output passes ``limit``.

    Only gzip may hold several members; bytes after the end of a deflate stream are an
    error.
    """
    chunks: list[bytes] = []
    size = 0
    data = body
    while data:
        inflater = zlib.decompressobj(wbits)
        size = _inflate_member(inflater, data, chunks, size, limit, name)
        data = inflater.unused_data
        if data and wbits != _GZIP_WBITS:
            raise InvalidRequestError(
                f"request body has {len(data)} bytes after the end of its {name} stream; "
                "check that the Content-Encoding header matches how the body was compressed"
            )
    return b"".join(chunks)


def _inflate_member(
    inflater: Any, data: bytes, chunks: list[bytes], size: int, limit: int, name: str
) -> int:
    """Inflate one compressed stream into ``chunks``; return the total output size so far."""
    try:
        while not inflater.eof:
            chunk = inflater.decompress(data, min(limit - size + 1, _CHUNK_BYTES))
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError(
                    f"request body is larger than {limit} bytes after decompression; split "
                    "the batch (e.g. OTEL_BSP_MAX_EXPORT_BATCH_SIZE) or raise --max-request-bytes"
                )
            chunks.append(chunk)
            unread = len(data)
            data = inflater.unconsumed_tail
            if not chunk and len(data) >= unread:  # no progress: the input has run out
                raise InvalidRequestError(
                    f"request body ends in the middle of its {name} stream; the body was cut "
                    "short on the way (check proxies and body size limits between the "
                    "exporter and the collector)"
                )
    except zlib.error as exc:
        raise InvalidRequestError(
            f"request body is not valid {name} data ({exc}); check that the "
            "Content-Encoding header matches how the body was compressed"
        ) from exc
    return size
