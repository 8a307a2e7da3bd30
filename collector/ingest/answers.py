"""Answers to export requests, encoded like the request: binary protobuf or OTLP/JSON.

:func:`encode_response` encodes a successful answer (an export response, with its
``partial_success``), :func:`encode_status` the ``google.rpc.Status`` body of an OTLP/HTTP
error answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from google.protobuf import any_pb2, json_format
from google.protobuf.message import Message
from google.rpc import status_pb2

__all__ = ["encode_response", "encode_status"]


def encode_response(message: Message, json: bool) -> bytes:
    """Encode an answer as binary protobuf, or as compact protobuf JSON when ``json``.

    JSON uses lowerCamelCase keys, integer enums and omits fields at their defaults, as
    OTLP/JSON asks. Bytes fields are base64 (answers carry no trace or span ids).
    """
    if json:
        return orjson.dumps(json_format.MessageToDict(message, use_integers_for_enums=True))
    return message.SerializeToString()


def encode_status(code: int, message: str, json: bool, details: Sequence[Message] = ()) -> bytes:
    """Encode a ``google.rpc.Status`` with ``details`` packed as ``Any``, as protobuf or JSON.

    ``code`` is a gRPC status code (e.g. 3 for INVALID_ARGUMENT); this is the body of an
    OTLP/HTTP error answer.
    """
    status = status_pb2.Status(code=code, message=message)
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return encode_response(status, json)
