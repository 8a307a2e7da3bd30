"""Reading the JSON or TOML files that settings may point at (price table, redaction rules).

One reader, so every such file accepts the same formats and fails with the same kind of
message: which file, what is wrong, how to fix it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from spyglass.errors import ConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 installs the tomli backport (see pyproject)
    import tomli as tomllib


def read_config_file(path: str, what: str) -> Any:
    """The parsed content of ``path``: TOML when it ends in ``.toml``, JSON otherwise.

    ``what`` names the file's role in messages, e.g. ``"price file"``.
    """
    where = f"{what} {path}"
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"{where}: file not found; fix the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{where}: cannot be read ({exc})") from exc
    if file.suffix.lower() == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{where}: not valid TOML ({exc})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"{where}: not valid JSON ({exc}); use JSON, or TOML with a .toml name"
        ) from exc
