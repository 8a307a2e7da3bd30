"""Tracing for the ``openai`` client: ``autolog()`` makes every chat completion (plain,
streamed, parsed), Responses API call and embeddings call a CLIENT span following the OTel
GenAI conventions, nested under whatever span is current when the call is made."""

from __future__ import annotations

from spyglass.instrumentation.openai.patching import is_patched, patch, unpatch

__all__ = ["autolog", "is_patched"]


def autolog(disable: bool = False) -> None:
    """Trace every OpenAI call from now on (sync and async clients, streaming included);
    ``disable=True`` restores the original methods. Calling it again changes nothing."""
    if disable:
        unpatch()
    else:
        patch()
