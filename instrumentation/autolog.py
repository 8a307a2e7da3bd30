"""``spyglass.autolog()``: trace every supported framework the app has installed.

For each library of :data:`~spyglass.instrumentation.frameworks.FRAMEWORKS` found here,
turns its tracing on: Spyglass's own OpenAI autolog, or the library's OpenInference
instrumentor given Spyglass's tracer provider, so its spans export with Spyglass's, carry
the active experiment and nest under the current ``@spyglass.trace`` span. A library that is
not installed is skipped; one installed without its instrumentor is reported (at INFO, with
the extra to install) and skipped; an instrumentor that fails to start is logged and
skipped. Nothing here ever raises into the app.
"""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Any

from spyglass.extras import missing_modules
from spyglass.instrumentation.frameworks import FRAMEWORKS, OPENAI, Framework
from spyglass.instrumentation.openai import deferral
from spyglass.instrumentation.tracing import capture_content, tracer_provider

__all__ = ["autolog", "enabled"]

logger = logging.getLogger("spyglass.instrumentation")

_lock = threading.Lock()
# framework name -> (its instrumentor, the provider it was given) for those Spyglass turned on
_active: dict[str, tuple[Any, Any]] = {}


def autolog(disable: bool = False) -> list[str]:
    """Trace every supported framework whose library is installed; returns the names of
    those traced now (``"openai"``, ``"langchain"``, ``"litellm"``, ...).

    Calling it again changes nothing (after ``configure()`` pointed Spyglass elsewhere, the
    instrumentors follow). ``disable=True`` turns off what it turned on and returns ``[]``.
    """
    if disable:
        _disable_all()
        return []
    provider = tracer_provider()
    traced: list[str] = []
    without_instrumentor: list[Framework] = []
    for framework in FRAMEWORKS:
        if missing_modules([framework.library]):
            continue
        if framework.name == OPENAI:
            _enable_openai()
            traced.append(framework.name)
            continue
        module, _, _ = framework.instrumentor.partition(":")
        if missing_modules([module]):
            without_instrumentor.append(framework)
            continue
        if _enable(framework, provider):
            traced.append(framework.name)
    if traced:
        logger.info("Spyglass autolog: tracing %s", ", ".join(traced))
    for framework in without_instrumentor:
        logger.info(
            "Spyglass autolog: %s is installed without its instrumentor, not traced: %s",
            framework.library,
            framework.install_hint,
        )
    return traced


def enabled() -> list[str]:
    """The frameworks :func:`autolog` has turned on (OpenAI when its autolog is on)."""
    from spyglass.instrumentation.openai import is_patched

    with _lock:
        names = set(_active)
    if missing_modules(["openai"]) == [] and is_patched():
        names.add(OPENAI)
    return [f.name for f in FRAMEWORKS if f.name in names]


def _enable_openai() -> None:
    from spyglass.instrumentation.openai import autolog as openai_autolog

    openai_autolog()


def _enable(framework: Framework, provider: Any) -> bool:
    """Turn ``framework``'s instrumentor on with ``provider``; False if it did not start."""
    with _lock:
        current = _active.get(framework.name)
        if current is not None and current[1] is provider:
            return True
        try:
            instrumentor = _instrumentor(framework)
            if current is not None:
                instrumentor.uninstrument()  # re-targeted: the provider changed
                del _active[framework.name]
            elif instrumentor.is_instrumented_by_opentelemetry:
                # the app turned it on itself, with its own provider: left as it is
                return True
            instrumentor.instrument(tracer_provider=provider, **_content_options())
        except Exception as exc:
            logger.warning(
                "Spyglass autolog: could not trace %s (%s: %s); it runs untraced",
                framework.name,
                type(exc).__name__,
                exc,
            )
            return False
        if not instrumentor.is_instrumented_by_opentelemetry:
            # the instrumentor refused this version of its library (it logged why)
            logger.warning(
                "Spyglass autolog: the instrumentor for %s does not support the installed "
                "version; upgrade both: %s",
                framework.library,
                framework.install_hint,
            )
            return False
        _active[framework.name] = (instrumentor, provider)
        if framework.calls_openai_from:
            deferral.defer_to(framework.name, framework.calls_openai_from)
        return True


def _disable_all() -> None:
    from spyglass.instrumentation.openai import autolog as openai_autolog

    with _lock:
        active = list(_active.items())
        _active.clear()
    for name, (instrumentor, _) in active:
        deferral.stop_deferring_to(name)
        try:
            instrumentor.uninstrument()
        except Exception:
            logger.debug("Spyglass autolog: could not turn %s off", name, exc_info=True)
    if not missing_modules(["openai"]):
        openai_autolog(disable=True)


def _instrumentor(framework: Framework) -> Any:
    module, _, cls = framework.instrumentor.partition(":")
    return getattr(importlib.import_module(module), cls)()


def _content_options() -> dict[str, Any]:
    """Instrumentor options: inputs and outputs hidden when Spyglass must not record content
    (``configure(capture_content=False)``)."""
    if capture_content():
        return {}
    trace_config = importlib.import_module("openinference.instrumentation").TraceConfig
    return {"config": trace_config(hide_inputs=True, hide_outputs=True)}
