"""Packaging cannot silently drop code.

Builds the wheel, installs it (without dependencies) into a fresh virtual environment
that borrows this environment's third-party packages, and checks that every module of
every component folder is in the wheel and imports from there, with its data files.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = {"spyglass": "spyglass", "collector": "spyglass.collector",
              "instrumentation": "spyglass.instrumentation", "evaluator": "spyglass.evaluator",
              "proto/spyglass/v1": "spyglass.v1"}
# loaded by Alembic, not importable on their own: the installed wheel runs them instead
ALEMBIC_SCRIPTS = "spyglass.collector.store.migrations."
DATA_FILES = ["spyglass/collector/genai/prices.json",
              "spyglass/collector/store/migrations/script.py.mako",
              # the API's sources and type stubs travel with the generated modules
              *sorted(f"spyglass/v1/{p.name}" for p in (ROOT / "proto/spyglass/v1").iterdir()
                      if p.suffix in (".proto", ".pyi"))]


def source_modules() -> list[str]:
    """Every module the component folders hold, as import names."""
    names = []
    for folder, package in COMPONENTS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join((package, *parts)))
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True, cwd=ROOT)
    (built,) = out.glob("spyglass-*.whl")
    return built


def test_wheel_holds_every_module_and_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {m.replace(".", "/") + ".py" for m in source_modules()}
    # packages are stored as their __init__.py
    expected = {n if n in names else n[:-3] + "/__init__.py" for n in expected}
    missing = sorted(expected - names)
    assert not missing, f"wheel lacks {missing}"
    assert not [d for d in DATA_FILES if d not in names]
    assert any(n.startswith("spyglass/collector/store/migrations/versions/0001") for n in names)


def test_every_module_imports_from_an_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True).strip())
    # third-party packages come from this environment; the project itself only from the wheel
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    script = (
        "import importlib, sys, spyglass\n"
        f"assert spyglass.__file__.startswith({str(site)!r}), spyglass.__file__\n"
        f"for name in {[m for m in source_modules() if not m.startswith(ALEMBIC_SCRIPTS)]!r}:\n"
        "    mod = importlib.import_module(name)\n"
        f"    assert mod.__file__.startswith({str(site)!r}), (name, mod.__file__)\n"
        "from spyglass.collector.genai.cost import PriceTable\n"
        "assert PriceTable.load().cost('gpt-4o-mini', 1000, 1000) > 0\n"
        "from spyglass.collector.store import migrate, engine\n"
        "db = engine.create_store_engine('sqlite:///wheel.db')\n"
        "migrate.upgrade(db)\n"
        "assert migrate.current_revision(db) == migrate.head_revision()\n"
        "print('imported', len(sys.modules), migrate.head_revision())\n"
    )
    result = subprocess.run([python, "-c", script], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("imported")
