"""The Spyglass collector: OTLP receivers, normalisation, the write path and the trace store.

Depends on the shared core (``spyglass``) only; nothing but the CLI and the embedded mode
imports it.
"""
