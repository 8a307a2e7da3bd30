"""Runs mypy over the ``spyglass`` import package as setup.py lays it out.

setup.py maps import names onto folders (``spyglass.collector`` -> ``collector/``, ...). The
editable install serves that mapping through an import hook, which mypy does not run, so this
script links the folders into ``build/typecheck/spyglass/`` (the ``mypy_path`` in
pyproject.toml), runs mypy with the configuration there and prints the findings under the
source paths. Arguments are passed on to mypy; the exit status is mypy's.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / "build" / "typecheck"


def components() -> dict[str, str]:
    """setup.py's COMPONENTS (import prefix -> folder), read without running setup()."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COMPONENTS":
            value = ast.literal_eval(node.value)
            assert isinstance(value, dict)
            return {str(k): str(v) for k, v in value.items()}
    raise SystemExit("setup.py has no COMPONENTS mapping")


def build_tree(mapping: dict[str, str]) -> dict[str, str]:
    """Links every component into TREE; returns linked path prefix -> source path prefix.

    A package that holds other components (``spyglass``) becomes a real folder whose entries
    link to the source ones, so the components can sit beside them; every other component is
    one link to its folder, so new modules are seen without rebuilding.
    """
    shutil.rmtree(TREE, ignore_errors=True)
    prefixes = {}
    parents = {name.rpartition(".")[0] for name in mapping} - {""}
    for name in sorted(mapping, key=lambda n: n.count(".")):
        source = ROOT / mapping[name]
        target = TREE.joinpath(*name.split("."))
        target.parent.mkdir(parents=True, exist_ok=True)
        if name in parents:
            target.mkdir()
            for entry in source.iterdir():
                if entry.name != "__pycache__":
                    (target / entry.name).symlink_to(entry)
        else:
            target.symlink_to(source, target_is_directory=True)
        prefixes[f"{target.relative_to(ROOT)}/"] = f"{mapping[name]}/"
    return prefixes


def main() -> int:
    prefixes = build_tree(components())
    # longest first, so build/typecheck/spyglass/collector/ wins over build/typecheck/spyglass/
    ordered = sorted(prefixes.items(), key=lambda item: -len(item[0]))
    command = [sys.executable, "-m", "mypy", *sys.argv[1:]]
    env = {**os.environ, "MYPY_FORCE_COLOR": "0"}
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            for linked, source in ordered:
                if line.startswith(linked):
                    line = source + line[len(linked) :]
                    break
            sys.stdout.write(line)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
