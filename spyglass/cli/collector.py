"""``spyglass collector start``: the OTLP collector and query API.

Its flags are generated from :class:`~spyglass.config.CollectorSettings` (one flag and one
``SPYGLASS_*`` variable per setting, plus the config file's ``[collector]`` table); the
collector itself is imported when the command runs.
"""

from __future__ import annotations

from typing import Any

import click

from spyglass.cli.logs import setup_logging
from spyglass.cli.options import settings_from_options, settings_options
from spyglass.config import CollectorSettings

# flag spelling where it is not simply --field-name (bool fields get --name/--no-name)
_FLAG_NAMES = {"api_keys": "--api-key"}
_MULTIPLE = {"api_keys", "redact"}


@click.group("collector")
def group() -> None:
    """Run the OTLP collector and query API."""


@group.command("start")
@settings_options(CollectorSettings, _FLAG_NAMES, _MULTIPLE)
def collector_start(**options: Any) -> None:
    """Receive OTLP on gRPC and HTTP and store spans (Ctrl-C or SIGTERM drains and stops)."""
    import asyncio

    from spyglass.collector.server import Collector

    settings = settings_from_options(CollectorSettings, options, _MULTIPLE)
    setup_logging(settings.log_level)
    asyncio.run(Collector(settings).serve())
