"""Logging of the long-running commands (``collector start``, ``evaluator serve``): one
timestamped line per record on stderr, at the level their settings give.

Alembic logs a line per built-in plugin when it is imported and one per migration step: a
store's schema is an implementation detail at every level but ``debug``, so below it the
``alembic`` logger passes only warnings (the store logs one line when it upgrades a schema).
"""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str) -> None:
    """Send the root logger's records at ``level`` (e.g. ``info``) and above to stderr."""
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)
