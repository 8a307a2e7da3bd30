"""The ``spyglass`` command: the root group and its console entry point.

One module per command group, each defining its ``group``: ``collector``, ``db``,
``traces``, ``experiments``, ``datasets``, ``evaluations`` (``spyglass eval``), ``monitors``
and ``evaluator``; ``ui`` defines the single ``command`` that opens the web UI. What they
share has a module of its own: ``options`` (``--collector`` and the other common flags,
and the flags generated from settings), ``output`` (tables drawn by rich, JSON, CSV),
``connection`` (the session a command talks through), ``errors`` (one
``error:`` line in flag terms for whatever a command raises), ``lookup`` (datasets
and runs named by name or id), ``logs`` (the long-running commands' logging), ``describe``
(how runs, jobs and monitors print) and ``trace_tree`` (``traces get``). The command modules
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
    ui,
)
from spyglass.cli.errors import CommandGroup, in_flag_terms
from spyglass.errors import SpyglassError
from spyglass.settings_file import CONFIG_ENV

__all__ = ["cli", "main"]


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
cli.add_command(ui.command)


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
        click.echo(f"error: {in_flag_terms(str(exc))}", err=True)
        sys.exit(1)
