"""``spyglass evaluator serve``: the evaluator service's worker process.

Its flags are generated from :class:`~spyglass.config.EvaluatorSettings` (one flag and one
``SPYGLASS_*`` variable per setting, plus the config file's ``[evaluator]`` table); the
service itself is imported when the command runs, so ``spyglass --help`` stays quick.

Without ``--collector`` it serves the store the query commands use by default (the store in
this folder, through a collector embedded in the process), so a job submitted with ``spyglass
eval submit`` in the same folder is processed; a folder without a store is an error that says
how to point it at one.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import click

from spyglass.cli.connection import require_store
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
    if settings.collector is None:
        # the same default as the query commands: the store in this folder
        require_store(
            None,
            "Give --collector HOST:PORT of a running collector, or set SPYGLASS_STORE to "
            "an existing store",
        )
        logging.getLogger("spyglass.evaluator.worker").info(
            "no --collector given: serving the jobs of the store in this folder through a "
            "collector embedded in this process; give --collector HOST:PORT (or "
            "SPYGLASS_COLLECTOR) to serve a running collector"
        )
    if settings.log_level != "debug":  # one line per judge request is debugging detail
        for chatty in _PER_REQUEST_LOGGERS:
            logging.getLogger(chatty).setLevel(logging.WARNING)
    if not serve(settings):
        # rows still running past the grace period would hold the interpreter's exit
        # (their threads are not daemons); their leases were given back already
        logging.shutdown()
        os._exit(0)
