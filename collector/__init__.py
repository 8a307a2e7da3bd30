"""The Spyglass collector: OTLP receivers, normalisation, the write path and the trace store.

Depends on the shared core (``spyglass``) only; nothing but the CLI and the embedded mode
imports it. Its libraries come with the ``[collector]`` extra: importing it without them
raises :class:`~spyglass.extras.MissingExtraError` naming the install command.
"""

from spyglass.extras import require_extra

require_extra("collector", "the collector")
