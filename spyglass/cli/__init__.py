"""The ``spyglass`` command: the root group and its console entry point.

One module per command group, each defining its ``group``: ``collector``, ``db``,
``traces``, ``experiments``, ``datasets``, ``evaluations`` (``spyglass eval``), ``monitors``
and ``evaluator``. What they share has a module of its own: ``options`` (``--collector`` and
the other common flags, and the flags generated from settings), ``output`` (tables, JSON,
CSV), ``connection`` (the session a command talks through), ``logs`` (the long-running
commands' logging) and ``describe`` (how runs, jobs and monitors print). The command modules
import only click and the core at load time; the components (collector, store, evaluator,
pandas) are imported inside the commands, so ``spyglass --version`` and ``--help`` stay
instant, and a component that cannot be imported (its extra not installed) is one ``error:``
line from :func:`main`.
"""

from __future__ import annotations

import os
import sys

import click

from spyglass import __version__
from spyglass.cli import (
    collector,
    datasets,
    db,
    evaluations,
    evaluator,
    experiments,
    monitors,
    traces,
)
from spyglass.errors import SpyglassError
from spyglass.settings_file import CONFIG_ENV

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spyglass")
@click.option(
    "--config",
    "config_file",
    metavar="PATH",
    default=None,
    help="settings file with [collector] and [evaluator] tables (see "
    f"deploy/spyglass.example.toml) [env {CONFIG_ENV}]; flags and SPYGLASS_* "
    "variables win over it",
)
def cli(config_file: str | None) -> None:
    """Spyglass: OpenTelemetry-native tracing and evaluation for LLM applications."""
    if config_file is not None:
        # the environment carries it to every settings lookup of this process
        os.environ[CONFIG_ENV] = config_file


for _module in (collector, db, traces, experiments, evaluations, datasets, evaluator, monitors):
    cli.add_command(_module.group)


def main() -> None:
    """Console entry point: typed errors (a component's missing extra among them) become one
    ``error:`` line and exit status 1; usage errors print as click prints them."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except SpyglassError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
