"""Optional parts of the install: which extra each component needs, and the error that says so.

``pip install spyglass`` is the tracing SDK and the API client. The collector and the
evaluator pull a database driver, a web server, pandas and model clients, so they come with
the ``[collector]`` and ``[evaluator]`` extras. Importing a component whose extra is missing
raises :class:`MissingExtraError` naming the command that installs it, instead of an
``ImportError`` from deep inside the component.

The check looks each module up with :func:`importlib.util.find_spec`, which does not import
it (only the parents of a dotted name), so it costs a few directory lookups per import.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

from spyglass.errors import SpyglassError

__all__ = ["EXTRAS", "MissingExtraError", "missing_modules", "require_extra"]

# extra -> the top-level modules its components import (at least one from each library the
# extra adds that a component imports at module level)
EXTRAS: dict[str, tuple[str, ...]] = {
    "collector": (
        "sqlalchemy",
        "alembic",
        "starlette",
        "uvicorn",
        "httptools",
        "prometheus_client",
        "grpc_health",
        "google.rpc",
        "opentelemetry.proto",
    ),
    "evaluator": (
        "pandas",
        "numpy",
        "pyarrow",
        "openai",
        "tqdm",
        "pydantic",
        "jsonschema",
        "pyrate_limiter",
        "tenacity",
        "starlette",
        "uvicorn",
        "prometheus_client",
    ),
    # judges on providers other than OpenAI-compatible endpoints
    "litellm": ("litellm",),
}


class MissingExtraError(SpyglassError):
    """A component was used whose optional dependencies are not installed.

    ``extra`` is the extra's name (``"collector"``), ``modules`` the modules not found.
    """

    def __init__(self, extra: str, modules: Sequence[str], needed_by: str) -> None:
        self.extra = extra
        self.modules = tuple(modules)
        super().__init__(
            f"{needed_by} needs the [{extra}] extra, which is not installed "
            f"(missing: {', '.join(self.modules)}): pip install 'spyglass[{extra}]'"
        )


def missing_modules(modules: Sequence[str]) -> list[str]:
    """The names in ``modules`` that cannot be imported here (found without importing)."""
    return [name for name in modules if not _findable(name)]


def require_extra(
    extra: str, needed_by: str | None = None, modules: Sequence[str] | None = None
) -> None:
    """Raise :class:`MissingExtraError` unless the ``extra``'s modules are installed.

    ``needed_by`` names what needs them in the message (default: "the <extra>");
    ``modules`` narrows the check to the modules that caller imports (default: all of the
    extra's, from :data:`EXTRAS`).
    """
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {', '.join(sorted(EXTRAS))}")
    missing = missing_modules(EXTRAS[extra] if modules is None else modules)
    if missing:
        raise MissingExtraError(extra, missing, needed_by or f"the {extra}")


def _findable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken or half-removed install counts as missing
        return False
