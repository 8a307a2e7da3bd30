"""What the deploy kit's tests share (imported by tests/deploy/test_*.py): the files under
deploy/, and a check that a command line handed to the ``spyglass`` image names commands
and flags that exist."""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path
from typing import Any

import click
import yaml
from click.testing import CliRunner

from spyglass.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    """(file name, manifest) for every document under deploy/k8s."""
    found = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                found.append((path.name, doc))
    return found


def healthcheck_code(test: list[str]) -> str:
    """The Python one-liner of a ``["CMD", "python", "-c", code]`` health check."""
    assert test[:3] == ["CMD", "python", "-c"], test
    return test[3]


def dockerfile_healthcheck_code() -> str:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", text, re.M)
    assert match, "no HEALTHCHECK ... CMD [...] in deploy/Dockerfile"
    return healthcheck_code(["CMD", *json.loads(match.group(1))])


def setup_components() -> dict[str, str]:
    """setup.py's COMPONENTS (import prefix -> folder), read without running setup()."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COMPONENTS":
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py has no COMPONENTS")


def check_spyglass_command(argv: list[str], where: str) -> None:
    """Every command and ``--flag`` of ``spyglass <argv>`` exists, and its --help runs."""
    args = list(argv)
    command: click.Command = cli
    path: list[str] = []
    while isinstance(command, click.Group) and args:
        head = args.pop(0)
        if head.startswith("-"):
            _check_flag(command, head, path, where)
            if _takes_value(command, head) and "=" not in head:
                args.pop(0)
            continue
        sub = command.commands.get(head)
        if sub is None:
            raise AssertionError(f"{where}: `spyglass {' '.join([*path, head])}` does not exist")
        command, path = sub, [*path, head]
    for arg in args:
        if arg.startswith("-"):
            _check_flag(command, arg, path, where)
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for arg in args:
        if arg.startswith("--"):
            assert arg.split("=")[0] in result.output, f"{where}: {arg} not in --help"


def _options(command: click.Command) -> dict[str, click.Parameter]:
    return {opt: p for p in command.params for opt in (*p.opts, *p.secondary_opts)}


def _check_flag(command: click.Command, flag: str, path: list[str], where: str) -> None:
    name = flag.split("=")[0]
    assert name in _options(command), (
        f"{where}: `spyglass {' '.join(path)}` has no option {name}; it has "
        f"{sorted(o for o in _options(command) if o.startswith('--'))}"
    )


def _takes_value(command: click.Command, flag: str) -> bool:
    param = _options(command)[flag.split("=")[0]]
    return isinstance(param, click.Option) and not param.is_flag


def split_command(value: Any) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else list(value)
