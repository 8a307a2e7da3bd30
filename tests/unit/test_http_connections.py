"""File-descriptor room for --max-connections."""

from __future__ import annotations

import resource

import pytest

from spyglass.collector.ingest.receivers import http_connections
from spyglass.errors import ConfigurationError


def test_the_soft_open_files_limit_is_raised_to_the_hard_one_when_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    monkeypatch.setattr(resource, "getrlimit", lambda _which: (1024, 4096))
    monkeypatch.setattr(resource, "setrlimit", lambda _which, limits: calls.append(limits))
    http_connections.ensure_descriptors_for(1024)
    assert calls == [(4096, 4096)]
    calls.clear()
    http_connections.ensure_descriptors_for(512)  # 512 + the reserve fit in 1024
    assert calls == []


def test_too_many_connections_for_the_hard_limit_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda _which: (1024, 2048))
    with pytest.raises(ConfigurationError, match=r"lower --max-connections to 1792 or less"):
        http_connections.ensure_descriptors_for(5000)
