"""The ``spyglass`` command.

Collector flags are generated from :class:`~spyglass.config.CollectorSettings`, so every
setting has exactly one flag and one ``SPYGLASS_*`` variable, and they cannot drift apart.
Components are imported inside the commands: ``spyglass --version`` stays instant.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
from typing import Any, Callable

import click

from spyglass import __version__
from spyglass.config import CollectorSettings
from spyglass.errors import SpyglassError

# flag spelling where it is not simply --field-name
_FLAG_NAMES = {"api_keys": "--api-key", "migrate": "--migrate/--no-migrate"}
_MULTIPLE = {"api_keys", "redact"}
_CHOICES = {"sync": ["normal", "full"], "log_level": ["debug", "info", "warning", "error"]}


def _collector_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for f in reversed(dataclasses.fields(CollectorSettings)):
        flag = _FLAG_NAMES.get(f.name, "--" + f.name.replace("_", "-"))
        kwargs: dict[str, Any] = {"default": None, "show_envvar": False,
                                  "help": f"{f.metadata['help']} [env {f.metadata['env']}; "
                                          f"default {_show(f.default)}]"}
        if f.name in _MULTIPLE:
            kwargs.update(multiple=True, default=())
        elif f.type in ("int", int, "int | None"):
            kwargs["type"] = int
        elif f.type in ("float", float):
            kwargs["type"] = float
        elif f.name in _CHOICES:
            kwargs["type"] = click.Choice(_CHOICES[f.name], case_sensitive=False)
        func = click.option(flag, f.name, **kwargs)(func)
    return func


def _show(value: Any) -> str:
    return "none" if value in (None, ()) else str(value)


def _settings(options: dict[str, Any]) -> CollectorSettings:
    overrides = {k: (tuple(v) or None) if k in _MULTIPLE else v for k, v in options.items()}
    return CollectorSettings.load(**overrides)


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spyglass")
def cli() -> None:
    """Spyglass: OpenTelemetry-native tracing and evaluation for LLM applications."""


@cli.group()
def collector() -> None:
    """Run the OTLP collector and query API."""


@collector.command("start")
@_collector_options
def collector_start(**options: Any) -> None:
    """Receive OTLP on gRPC and HTTP and store spans (Ctrl-C or SIGTERM drains and stops)."""
    from spyglass.collector.server import Collector

    settings = _settings(options)
    _setup_logging(settings.log_level)
    asyncio.run(Collector(settings).serve())


@cli.group()
def db() -> None:
    """Manage the trace store's schema."""


@db.command("upgrade")
@click.option("--store", default=None, help="database URL [env SPYGLASS_STORE]")
def db_upgrade(store: str | None) -> None:
    """Apply pending migrations (safe to run from several replicas at once)."""
    from spyglass.collector.store import migrate
    from spyglass.collector.store.engine import create_store_engine

    settings = CollectorSettings.load(store=store)
    engine = create_store_engine(settings.store)
    migrate.upgrade(engine)
    click.echo(f"{engine.url.render_as_string(hide_password=True)} is at revision "
               f"{migrate.current_revision(engine)}")


def main() -> None:
    """Console entry point: typed errors become one readable line and exit status 1."""
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


if __name__ == "__main__":
    main()
