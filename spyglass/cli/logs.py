"""Logging of the long-running commands (``collector start``, ``evaluator serve``): one
timestamped line per record on stderr, at the level their settings give."""

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
