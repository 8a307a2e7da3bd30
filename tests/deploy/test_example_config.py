"""deploy/spyglass.example.toml documents every setting of both tables, and nothing else.

Checked against the settings dataclasses' metadata, so adding, renaming or re-describing a
setting without updating the example fails here.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from spyglass.config import CONFIG_FILE_SETTINGS
from spyglass.config_files import tomllib  # the stdlib module, or its backport on 3.10
from spyglass.settings_file import value_kind

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "spyglass.example.toml"
KEY_LINE = re.compile(r"^#?\s*([a-z_]+)\s*=\s*(.+)$")


def documented() -> dict[str, dict[str, tuple[str, str, bool]]]:
    """{table: {key: (comment above it, value text, active)}} as the example writes them."""
    tables: dict[str, dict[str, tuple[str, str, bool]]] = {}
    current: dict[str, tuple[str, str, bool]] | None = None
    comment: list[str] = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^\[(\w+)\]$", line)
        key = KEY_LINE.match(line)
        if header:
            current = tables.setdefault(header.group(1), {})
            comment = []
        elif key and current is not None:
            assert key.group(1) not in current, f"{key.group(1)} documented twice"
            current[key.group(1)] = (" ".join(comment), key.group(2), not line.startswith("#"))
            comment = []
        elif line.startswith("#"):
            comment.append(line.lstrip("# ").rstrip())
        else:
            comment = []
    return tables


def shown(value: Any) -> str:
    """A default as the example writes it."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return repr(value)


def test_every_table_and_key_is_documented_and_nothing_else() -> None:
    tables = documented()
    assert set(tables) == {cls.config_section for cls in CONFIG_FILE_SETTINGS}
    for cls in CONFIG_FILE_SETTINGS:
        names = [f.name for f in dataclasses.fields(cls)]
        keys = tables[cls.config_section]
        assert sorted(set(names) - set(keys)) == [], f"undocumented in [{cls.config_section}]"
        assert sorted(set(keys) - set(names)) == [], f"not settings of {cls.__name__}"


@pytest.mark.parametrize("cls", CONFIG_FILE_SETTINGS, ids=lambda c: c.config_section)
def test_each_key_has_its_meaning_variable_and_default(cls: type) -> None:
    keys = documented()[cls.config_section]
    for f in dataclasses.fields(cls):
        comment, _, _ = keys[f.name]
        assert f.metadata["help"] in comment, f"{f.name}: help text missing or outdated"
        assert f"env {f.metadata['env']}" in comment, f"{f.name}: variable missing"
        assert f"default: {shown(f.default)}" in comment, f"{f.name}: default missing"


def test_the_example_as_shipped_changes_nothing(tmp_path: Path) -> None:
    for cls in CONFIG_FILE_SETTINGS:
        assert cls.load(env={"SPYGLASS_CONFIG": str(EXAMPLE)}) == cls.load(env={})


def test_uncommenting_every_key_gives_the_defaults_or_the_shown_examples(tmp_path: Path) -> None:
    """The commented values are real TOML of the right type: defaults where there is one,
    an example value where the default is unset."""
    text = re.sub(r"^# ([a-z_]+ = )", r"\1", EXAMPLE.read_text(encoding="utf-8"), flags=re.M)
    uncommented = tmp_path / "spyglass.toml"
    uncommented.write_text(text, encoding="utf-8")
    raw = tomllib.loads(text)
    for cls in CONFIG_FILE_SETTINGS:
        loaded = cls.load(env={"SPYGLASS_CONFIG": str(uncommented)})
        for f in dataclasses.fields(cls):
            value = getattr(loaded, f.name)
            if f.default is not None:
                assert value == f.default, f"{f.name}: shown {value!r}, default {f.default!r}"
            else:
                example = raw[cls.config_section][f.name]
                assert value == (float(example) if value_kind(f) == "float" else example)
