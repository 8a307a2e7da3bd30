"""Spyglass: OpenTelemetry-native tracing and evaluation for LLM applications."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
