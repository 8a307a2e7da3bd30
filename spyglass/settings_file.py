"""The configuration-file layer of the settings: ``spyglass.toml``.

Each settings class that may be configured from a file names its table
(``config_section = "collector"``); the table's keys are the class's field names and its
values have the fields' types (a string is also accepted and parsed exactly as the field's
``SPYGLASS_*`` variable would be). :func:`spyglass.config.load_settings` ranks the file
below flags and environment variables and above the defaults.

The file is only ever the one named by ``spyglass --config PATH`` or ``SPYGLASS_CONFIG``:
nothing looks for a ``./spyglass.toml`` on its own, so a service cannot pick up a stray file
from whatever directory it was started in, and what configures a process is always visible
in its command line or environment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from spyglass.config_files import read_config_file
from spyglass.errors import ConfigurationError

CONFIG_ENV = "SPYGLASS_CONFIG"
"""Environment variable naming the configuration file (``spyglass --config`` sets it)."""

_EXPECTED = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "list": "an array of strings",
}


def value_kind(f: dataclasses.Field[Any]) -> str:
    """The TOML shape a settings field takes: str, int, float, bool or list."""
    annotation = str(f.type).replace(" | None", "")
    if annotation.startswith("tuple[str"):
        return "list"
    if annotation in _EXPECTED:
        return annotation
    raise TypeError(
        f"setting {f.name!r} has type {f.type!r}, which the config file cannot "
        "express; give it str, int, float, bool or tuple[str, ...]"
    )


def file_values(cls: type, env: Mapping[str, str], sections: Mapping[str, type]) -> dict[str, Any]:
    """The values the configuration file named by ``env[SPYGLASS_CONFIG]`` sets for ``cls``.

    ``sections`` maps every table a file may hold to its settings class, so that a
    misspelled table is an error whichever process reads the file. Returns ``{}`` when no
    file is named or ``cls`` has no table; values are parsed and type-checked, and an
    empty string means "unset", as it does for an environment variable.
    """
    path = env.get(CONFIG_ENV)
    section = getattr(cls, "config_section", None)
    if not path or section is None:
        return {}
    where = f"config file {path}"
    document = read_config_file(path, "config file")
    if not isinstance(document, dict):
        raise ConfigurationError(f"{where}: expected tables such as [{section}] at the top")
    tables = ", ".join(f"[{name}]" for name in sorted(sections))
    for name, table in document.items():
        if name not in sections and not isinstance(table, dict):
            raise ConfigurationError(
                f"{where}: key {name!r} is outside any table; put it under one of {tables}"
            )
        if name not in sections:
            raise ConfigurationError(f"{where}: unknown table [{name}]; known tables: {tables}")
        if not isinstance(table, dict):
            raise ConfigurationError(
                f"{where}: {name!r} must be a table ([{name}] followed by key = value lines), "
                f"not {table!r}"
            )
    table = document.get(section, {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in fields:
            raise ConfigurationError(
                f"{where}: unknown key {key!r} in [{section}]; known keys: "
                f"{', '.join(sorted(fields))}"
            )
        parsed = _parse(fields[key], value, f"{where}: [{section}] {key}")
        if parsed is not None:
            values[key] = parsed
    return values


def _parse(f: dataclasses.Field[Any], value: Any, where: str) -> Any:
    kind = value_kind(f)
    parse = f.metadata["parse"]
    try:
        if isinstance(value, str):
            return parse(value) if value.strip() else None
        if kind == "list" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(v.strip() for v in value if v.strip())
        if kind == "bool" and isinstance(value, bool):
            return value
        if (kind == "int" and isinstance(value, int) and not isinstance(value, bool)) or (
            kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool)
        ):
            return parse(str(value))  # the field's own checks (ranges) apply too
    except ValueError as exc:
        raise ConfigurationError(
            f"{where} = {value!r} is not valid: {exc}. Fix it or remove the key "
            f"(default: {f.default!r})."
        ) from exc
    raise ConfigurationError(
        f"{where} = {value!r} has the wrong type: expected {_EXPECTED[kind]} (or a string "
        f"written as for {f.metadata['env']})"
    )
