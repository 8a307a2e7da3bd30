"""A component whose extra is missing says which extra and how to install it.

The real missing-extra case (a base install) is tests/test_packaging.py's fresh environment;
here modules are hidden through ``sys.modules`` to check the message and the lookups.
"""

from __future__ import annotations

import sys

import pytest

from spyglass import search
from spyglass.errors import SpyglassError
from spyglass.extras import EXTRAS, MissingExtraError, missing_modules, require_extra


def test_installed_extras_pass() -> None:
    for extra in EXTRAS:
        require_extra(extra)
    assert missing_modules(["json", "google.protobuf"]) == []


def test_a_missing_module_names_the_extra_and_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # an import of it would fail
    monkeypatch.setitem(sys.modules, "alembic", None)
    with pytest.raises(MissingExtraError) as caught:
        require_extra("collector", "the collector")
    error = caught.value
    assert isinstance(error, SpyglassError)
    assert (error.extra, error.modules) == ("collector", ("sqlalchemy", "alembic"))
    assert str(error) == (
        "the collector needs the [collector] extra, which is not installed (missing: "
        "sqlalchemy, alembic): pip install 'spyglass[collector]'"
    )


def test_only_the_named_modules_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    require_extra("collector", "the local model", modules=("starlette", "uvicorn"))
    assert missing_modules(["no_such_module_here", "json"]) == ["no_such_module_here"]


def test_an_unknown_extra_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown extra 'colector'"):
        require_extra("colector")


def test_a_pandas_search_without_pandas_names_the_evaluator_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(
        MissingExtraError,
        match=r"search_traces\(return_type='pandas'\).*"
        r"pip install 'spyglass\[evaluator\]'",
    ):
        search.search_traces()  # before any call to a collector
