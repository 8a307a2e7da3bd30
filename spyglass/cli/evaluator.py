"""``spyglass evaluator serve``: the evaluator service's worker process.

Its flags are generated from :class:`~spyglass.config.EvaluatorSettings` (one flag and one
``SPYGLASS_*`` variable per setting, plus the config file's ``[evaluator]`` table); the
service itself is imported when the command runs, so ``spyglass --help`` stays quick.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import click

from spyglass.cli.logs import setup_logging
from spyglass.cli.options import settings_from_options, settings_options
from spyglass.config import EvaluatorSettings

_FLAG_NAMES = {"scorers_modules": "--scorers-module"}
_MULTIPLE = {"scorers_modules"}
_PER_REQUEST_LOGGERS = ("httpx", "httpx2", "pyrate_limiter")


@click.group("evaluator")
def group() -> None:
    """Run the evaluator service: workers that score evaluation jobs and monitors."""


@group.command("serve")
@settings_options(EvaluatorSettings, _FLAG_NAMES, _MULTIPLE)
def serve_command(**options: Any) -> None:
    """Take chunks of evaluation jobs and monitors from the collector, score them and write
    the results back, until SIGTERM or Ctrl-C (which finish the rows in flight, give back
    unfinished work and exit 0). --scorers-module may be given several times."""
    from spyglass.evaluator.worker.serve import serve

    settings = settings_from_options(EvaluatorSettings, options, _MULTIPLE)
    setup_logging(settings.log_level)
    if settings.log_level != "debug":  # one line per judge request is debugging detail
        for chatty in _PER_REQUEST_LOGGERS:
            logging.getLogger(chatty).setLevel(logging.WARNING)
    if not serve(settings):
        # rows still running past the grace period would hold the interpreter's exit
        # (their threads are not daemons); their leases were given back already
        logging.shutdown()
        os._exit(0)
