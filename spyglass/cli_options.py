"""Command-line options generated from a settings dataclass (``spyglass.config``).

Each field becomes one option, ``--field-name`` (bool fields ``--name/--no-name``), whose
help names its environment variable and default; an option left out is None, so the
variable, the config file or the default applies. ``spyglass collector start`` and
``spyglass evaluator serve`` both use it, so every setting has exactly one flag and one
``SPYGLASS_*`` variable and they cannot drift apart. A module of its own, so that command
groups living beside their component can use it while ``spyglass.cli`` is still loading.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Collection, Mapping, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

_CHOICES = {"sync": ["normal", "full"], "log_level": ["debug", "info", "warning", "error"]}


def settings_options(settings: type, flag_names: Mapping[str, str] | None = None,
                     multiple: Collection[str] = ()) -> Callable[[F], F]:
    """A decorator adding one click option per field of the settings dataclass ``settings``
    (default None: unset, so the env var or default applies). ``flag_names``: spellings
    other than ``--field-name`` (bool fields get ``--name/--no-name``); ``multiple``:
    repeatable ones."""
    def decorate(func: F) -> F:
        for f in reversed(dataclasses.fields(settings)):
            name = f.name.replace("_", "-")
            flag = (flag_names or {}).get(f.name) or (
                f"--{name}/--no-{name}" if f.type in ("bool", bool) else f"--{name}")
            kwargs: dict[str, Any] = {"default": None, "show_envvar": False,
                                      "help": f"{f.metadata['help']} [env {f.metadata['env']}; "
                                              f"default {_show(f.default)}]"}
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


def settings_from_options(settings: type, options: Mapping[str, Any],
                          multiple: Collection[str] = ()) -> Any:
    """``settings.load`` with the values of options made by :func:`settings_options`."""
    overrides = {k: (tuple(v) or None) if k in multiple else v for k, v in options.items()}
    return settings.load(**overrides)


def _show(value: Any) -> str:
    return "none" if value in (None, ()) else str(value)
