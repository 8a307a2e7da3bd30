"""Calls to the collector's DatasetService through the configured session's client (same
API key, timeout and typed errors as every other call), and who the caller is."""

from __future__ import annotations

import getpass
import os
from typing import Any

from spyglass import session
from spyglass.v1 import datasets_pb2_grpc

MERGE_TIMEOUT_S = 600.0  # a merge of a million records takes a while


def call(method: str, request: Any, *, timeout: float | None = None) -> Any:
    """``DatasetService.<method>(request)``; a failed call raises its spyglass.errors class."""
    client = session.client()
    stub = client.stub(datasets_pb2_grpc.DatasetServiceStub)
    return client.call(getattr(stub, method), request, timeout=timeout)


def start(method: str, request: Any, *, timeout: float | None = None) -> Any:
    """Start ``DatasetService.<method>(request)`` without waiting (a future); wait for its
    response with :func:`result`."""
    client = session.client()
    stub = client.stub(datasets_pb2_grpc.DatasetServiceStub)
    return client.call_future(getattr(stub, method), request, timeout=timeout)


def result(future: Any) -> Any:
    """The response of a call :func:`start` began (errors as spyglass.errors classes)."""
    return session.client().result(future)


def current_user() -> str:
    """The user name stored as created_by / last_updated_by: SPYGLASS_USER, else the OS
    login name ("" when neither is known)."""
    user = os.environ.get("SPYGLASS_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers)
        return ""
