"""OpenAI calls that a framework's instrumentation already records.

LangChain's ``ChatOpenAI``, LiteLLM, the OpenAI Agents SDK and LlamaIndex's ``OpenAI`` LLM
call the ``openai`` client themselves, and their instrumentations record each such call as
an LLM span with its messages and token counts. A second span from the OpenAI autolog for
the same call would count its tokens and cost twice in the trace, so while a framework's
instrumentation is on, the autolog leaves the calls made from inside that framework's code
to it (:func:`deferred`).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable

__all__ = ["defer_to", "deferred", "stop_deferring_to"]

_lock = threading.Lock()
_owners: dict[str, tuple[str, ...]] = {}  # instrumentation name -> its module prefixes
_exact: frozenset[str] = frozenset()
_dotted: tuple[str, ...] = ()


def defer_to(name: str, modules: Iterable[str]) -> None:
    """Leave OpenAI calls made from ``modules`` (packages, by import name) to the
    instrumentation ``name`` until :func:`stop_deferring_to` is called for it."""
    with _lock:
        _owners[name] = tuple(modules)
        _rebuild()


def stop_deferring_to(name: str) -> None:
    """The instrumentation ``name`` is off: trace the calls it recorded again."""
    with _lock:
        _owners.pop(name, None)
        _rebuild()


def deferred() -> bool:
    """Whether the OpenAI call being made comes from a framework whose instrumentation
    records it (some caller on the stack belongs to one of the deferred packages)."""
    exact, dotted = _exact, _dotted
    if not exact:
        return False
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__")
        if isinstance(module, str) and (module in exact or module.startswith(dotted)):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _rebuild() -> None:
    global _exact, _dotted
    prefixes = {prefix for modules in _owners.values() for prefix in modules}
    _exact = frozenset(prefixes)
    _dotted = tuple(sorted(prefix + "." for prefix in prefixes))
