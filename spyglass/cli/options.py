"""Options shared by the ``spyglass`` commands, each defined once.

:func:`settings_options` generates one option per field of a settings dataclass
(``spyglass.config``): ``--field-name`` (bool fields ``--name/--no-name``), whose help names
its environment variable and default; an option left out is None, so the variable, the
config file or the default applies. ``spyglass collector start`` and ``spyglass evaluator
serve`` both use it, so every setting has exactly one flag and one ``SPYGLASS_*`` variable and
they cannot drift apart. The other options (the connection flags of
:func:`collector_option`, ``--experiment``, ``--format``) are the ones the query and
management commands share.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
S_co = TypeVar("S_co", covariant=True)

_CHOICES = {"sync": ["normal", "full"], "log_level": ["debug", "info", "warning", "error"]}
_FORMATS = ("table", "json", "csv")

CONNECTION_META = "spyglass.connection"
"""Where the connection flags other than ``--collector`` wait in ``click.Context.meta`` for
:func:`spyglass.cli.connection.connect`."""


def _keep(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if param.name is not None:
        ctx.meta.setdefault(CONNECTION_META, {})[param.name] = value
    return value


def collector_option(func: F) -> F:
    """The flags saying where a command's data is: ``--collector`` (into the parameter
    ``collector``), and ``--store``, ``--api-key``, ``--tls/--no-tls`` and ``--tls-ca``, which
    :func:`spyglass.cli.connection.connect` reads from the context, so every query and
    management command takes them without naming them."""
    for flag, name, kwargs in reversed(_CONNECTION_FLAGS):
        func = click.option(flag, name, default=None, expose_value=False, callback=_keep, **kwargs)(
            func
        )
    return click.option(
        "--collector",
        default=None,
        metavar="HOST:PORT",
        help="a running collector's gRPC port (http:// or https:// in front are accepted; "
        "https means TLS) [env SPYGLASS_COLLECTOR; default: the store in this folder, "
        "see --store]",
    )(func)


_CONNECTION_FLAGS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "--store",
        "store",
        {
            "metavar": "URL",
            "help": "read the store at this database URL directly, without a running "
            "collector (sqlite:///path.db or postgresql+psycopg://…) [env SPYGLASS_STORE; "
            "default sqlite:///./spyglass.db]; not with --collector",
        },
    ),
    (
        "--api-key",
        "api_key",
        {"help": "API key sent to the collector [env SPYGLASS_API_KEY]"},
    ),
    (
        "--tls/--no-tls",
        "tls",
        {"help": "reach the collector over TLS [env SPYGLASS_COLLECTOR_TLS]"},
    ),
    (
        "--tls-ca",
        "tls_ca",
        {
            "metavar": "PEM",
            "help": "CA file that signed the collector's certificate (implies --tls) "
            "[env SPYGLASS_COLLECTOR_CA]",
        },
    ),
)


def experiments_option(help: str) -> Callable[[F], F]:
    """``--experiment``/``-e``, repeatable, into the parameter ``experiments``; ``help`` says
    what the experiments select for this command."""
    return click.option("--experiment", "-e", "experiments", multiple=True, help=help)


def format_option(*choices: str) -> Callable[[F], F]:
    """``--format`` into the parameter ``fmt``, default ``table``; ``choices`` default to
    table, json and csv (the forms :func:`spyglass.cli.output.render` writes)."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices or _FORMATS)), default="table"
    )


def settings_options(
    settings: type, flag_names: Mapping[str, str] | None = None, multiple: Collection[str] = ()
) -> Callable[[F], F]:
    """A decorator adding one click option per field of the settings dataclass ``settings``
    (default None: unset, so the env var or default applies). ``flag_names``: spellings
    other than ``--field-name`` (bool fields get ``--name/--no-name``); ``multiple``:
    repeatable ones."""

    def decorate(func: F) -> F:
        for f in reversed(dataclasses.fields(settings)):
            name = f.name.replace("_", "-")
            flag = (flag_names or {}).get(f.name) or (
                f"--{name}/--no-{name}" if f.type in ("bool", bool) else f"--{name}"
            )
            kwargs: dict[str, Any] = {
                "default": None,
                "show_envvar": False,
                "help": f"{f.metadata['help']} [env {f.metadata['env']}; "
                f"default {_show(f.default)}]",
            }
            if f.name in multiple:
                kwargs.update(multiple=True, default=())
            elif f.type in ("int", int, "int | None"):
                kwargs["type"] = int
            elif f.type in ("float", float, "float | None"):
                kwargs["type"] = float
            elif f.name in _CHOICES:
                kwargs["type"] = click.Choice(_CHOICES[f.name], case_sensitive=False)
            func = click.option(flag, f.name, **kwargs)(func)
        return func

    return decorate


class SettingsLoader(Protocol[S_co]):
    """A settings class of :mod:`spyglass.config`: ``load`` resolves overrides, the
    environment, the config file and the defaults into one settings object."""

    def load(self, **overrides: Any) -> S_co: ...


def settings_from_options(
    settings: SettingsLoader[S_co], options: Mapping[str, Any], multiple: Collection[str] = ()
) -> S_co:
    """``settings.load`` with the values of options made by :func:`settings_options`."""
    overrides = {k: (tuple(v) or None) if k in multiple else v for k, v in options.items()}
    return settings.load(**overrides)


def _show(value: Any) -> str:
    return "none" if value in (None, ()) else str(value)
