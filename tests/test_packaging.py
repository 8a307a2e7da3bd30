"""Packaging cannot silently drop code, and installs only what each part needs.

Builds the wheel and checks that every module of every component folder is in it and imports
from there, with its data files and the ``py.typed`` marker; that the base install requires
exactly the SDK and API client's libraries; that each extra declares every library its
component imports; and that the wheel installed without extras into a fresh virtual
environment (dependencies from the package index) traces a function to a collector, while
the collector, the CLI's collector command and the pandas-returning search each name the
extra they need.
"""

from __future__ import annotations

import ast
import email.parser
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
import urllib.request
import venv
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from spyglass.client import SpyglassClient
from spyglass.collector.server import Collector
from spyglass.extras import EXTRAS

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = {
    "spyglass": "spyglass",
    "collector": "spyglass.collector",
    "instrumentation": "spyglass.instrumentation",
    "evaluator": "spyglass.evaluator",
    "proto/spyglass/v1": "spyglass.v1",
}
# loaded by Alembic, not importable on their own: the installed wheel runs them instead
ALEMBIC_SCRIPTS = "spyglass.collector.store.migrations."
DATA_FILES = [
    "spyglass/py.typed",  # PEP 561: the package ships its type annotations
    "spyglass/collector/store/migrations/script.py.mako",
    # the API's sources and type stubs travel with the generated modules
    *sorted(
        f"spyglass/v1/{p.name}"
        for p in (ROOT / "proto/spyglass/v1").iterdir()
        if p.suffix in (".proto", ".pyi")
    ),
]


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
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        cwd=ROOT,
    )
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


def test_wheel_holds_the_web_uis_templates_and_browser_assets(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    ui = ROOT / "collector" / "ui"
    shipped = [
        "spyglass/collector/ui/" + p.relative_to(ui).as_posix()
        for folder in ("templates", "static")
        for p in sorted((ui / folder).rglob("*"))
        if p.is_file()
    ]
    assert "spyglass/collector/ui/templates/base.html" in shipped
    assert "spyglass/collector/ui/static/vendor/htmx/htmx.min.js" in shipped
    missing = sorted(set(shipped) - names)
    assert not missing, f"wheel lacks {missing}: widen package_data in setup.py"


def test_every_module_imports_from_an_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
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
    result = subprocess.run([python, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("imported")


# --- what each install requires -------------------------------------------------------------

# the base install: the tracing SDK, its exporters and the API client (with the `spyglass`
# command and its config files)
BASE_REQUIREMENTS = {
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-grpc",
    "opentelemetry-exporter-otlp-proto-http",
    "grpcio",
    "protobuf",
    "click",
    "rich",
    "orjson",
    "tomli",
}
# what the base install must never pull in (each one is large or a server)
NOT_IN_BASE = {
    "sqlalchemy",
    "psycopg",
    "psycopg-binary",
    "alembic",
    "starlette",
    "uvicorn",
    "pandas",
    "pyarrow",
    "numpy",
    "openai",
}
# folder -> the extras (besides the base) its modules may import from
COMPONENT_EXTRAS = {
    "spyglass": (),
    "instrumentation": (),
    "proto/spyglass/v1": (),
    "collector": ("collector",),
    "evaluator": ("evaluator",),
}
# imports outside their folder's extras, each guarded by spyglass.extras.require_extra
# (module prefix -> libraries -> the extra named in the error)
GUARDED_IMPORTS = {
    "spyglass.search": ({"pandas"}, "evaluator"),
    "spyglass.session_search": ({"pandas"}, "evaluator"),
    "spyglass.usage": ({"pandas"}, "evaluator"),
    # the web UI's Parquet download and the SDK's export: the collector says which extra
    "spyglass.record_files": ({"pyarrow"}, "evaluator"),
    "spyglass.local_llm": ({"starlette", "uvicorn"}, "collector"),
    "spyglass.evaluator.scorers.judges.via_litellm": ({"litellm"}, "litellm"),
}
# `spyglass.openai.autolog()` instruments the application's own openai client: openai is the
# application's dependency, not Spyglass's
INSTRUMENTED = {"spyglass.instrumentation.openai": {"openai"}}
NOT_THIRD_PARTY = {"spyglass", "__future__", "_typeshed"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_requirements(wheel: Path) -> dict[str, set[str]]:
    """Extra ("" for the base install) -> the distributions it requires, from the wheel's
    METADATA, with an extra naming other extras of spyglass expanded into theirs."""
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(zf.read(name).decode())
    extras: dict[str, set[str]] = {"": set()}
    for extra in metadata.get_all("Provides-Extra") or []:
        extras[extra] = set()
    included: dict[str, set[str]] = {extra: set() for extra in extras}
    for text in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(text)
        marker = str(requirement.marker or "")
        owner = re.search(r"extra == ['\"]([\w-]+)['\"]", marker)
        extra = owner.group(1) if owner else ""
        if canonical(requirement.name) == "spyglass":
            included[extra] |= set(requirement.extras)
        else:
            extras[extra].add(canonical(requirement.name))
    for extra, others in included.items():
        for other in others:
            extras[extra] |= extras[other]
    return extras


def test_base_install_requires_exactly_the_sdk_and_client(wheel: Path) -> None:
    requirements = wheel_requirements(wheel)
    assert requirements[""] == BASE_REQUIREMENTS
    assert {"collector", "evaluator", "all", "test", "dev"} <= requirements.keys()
    assert requirements["all"] == requirements["collector"] | requirements["evaluator"]
    assert {"sqlalchemy", "psycopg", "starlette", "uvicorn"} <= requirements["collector"]
    assert {"pandas", "pyarrow", "openai"} <= requirements["evaluator"]
    assert not NOT_IN_BASE & requirements[""]


def distribution_index() -> dict[str, set[str]]:
    """Dotted module path -> the installed distributions holding files under it."""
    index: dict[str, set[str]] = {}
    for dist in importlib.metadata.distributions():
        name = canonical(dist.metadata["Name"])
        if name == "spyglass":
            continue
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0] == ".." or parts[0].endswith((".dist-info", ".data")):
                continue
            last = parts[-1]
            if last.endswith((".py", ".pyi")):
                parts = (*parts[:-1], last.rsplit(".", 1)[0])
            elif last.endswith((".so", ".pyd")):
                parts = (*parts[:-1], last.split(".", 1)[0])
            for end in range(1, len(parts) + 1):
                index.setdefault(".".join(parts[:end]), set()).add(name)
    return index


def owners(module: str, index: dict[str, set[str]]) -> set[str]:
    """The distributions that provide ``module`` (its longest installed prefix)."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = index.get(".".join(parts[:end]))
        if found:
            return found
    return {canonical(parts[0])}  # not installed here (tomli on 3.11+): its own name


def third_party_imports(path: Path) -> set[str]:
    """Dotted names a module imports from outside the standard library and Spyglass, at
    module level and inside functions (``from a import b`` gives ``a.b``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        names |= {
            n
            for n in found
            if n.split(".")[0] not in sys.stdlib_module_names
            and n.split(".")[0] not in NOT_THIRD_PARTY
        }
    return names


def test_every_imported_library_is_declared_by_its_components_extra(wheel: Path) -> None:
    requirements = wheel_requirements(wheel)
    index = distribution_index()
    undeclared = []
    for folder, extras in COMPONENT_EXTRAS.items():
        allowed = requirements[""].union(*(requirements[e] for e in extras))
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = source_module(folder, path)
            for name in sorted(third_party_imports(path)):
                top = name.split(".")[0]
                guard = next(
                    (g for p, g in GUARDED_IMPORTS.items() if module.startswith(p) and top in g[0]),
                    None,
                )
                if guard is not None:
                    assert guard[1] in extras or requirements[guard[1]] & owners(name, index)
                    continue
                if any(
                    module.startswith(p) and top in libraries
                    for p, libraries in INSTRUMENTED.items()
                ):
                    continue
                if not owners(name, index) & allowed:
                    undeclared.append(
                        f"{path.relative_to(ROOT)}: {name} "
                        f"({', '.join(sorted(owners(name, index)))})"
                    )
    assert not undeclared, "imported but not declared in pyproject.toml:\n" + "\n".join(undeclared)


def test_extra_checks_look_for_their_extras_libraries(wheel: Path) -> None:
    requirements = wheel_requirements(wheel)
    index = distribution_index()
    for extra, modules in EXTRAS.items():
        for module in modules:
            assert owners(module, index) & requirements[extra], (extra, module)


def source_module(folder: str, path: Path) -> str:
    parts = path.relative_to(ROOT / folder).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((COMPONENTS[folder], *parts))


# --- the base wheel in a fresh environment -------------------------------------------------

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PACKAGE_INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")


def index_problem() -> str | None:
    """Why the package index cannot be reached (None when it can)."""
    try:
        with urllib.request.urlopen(f"{PACKAGE_INDEX}/pip/", timeout=10):
            return None
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="module")
def base_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed without extras; its python."""
    problem = index_problem()
    if problem is not None and not IN_CI:
        pytest.skip(
            f"the package index {PACKAGE_INDEX} is not reachable ({problem}); the "
            "base install test needs it to install the wheel's dependencies"
        )
    env_dir = tmp_path_factory.mktemp("base") / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    result = subprocess.run(
        [python, "-m", "pip", "install", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return python


def run_in(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the venv's ``python`` with ``args``, without this process's Spyglass settings."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SPYGLASS_", "OTEL_", "PYTHON"))
    }
    return subprocess.run(
        [str(python), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_base_install_leaves_out_the_collector_and_evaluator_libraries(
    base_venv: Path, tmp_path: Path
) -> None:
    result = run_in(
        base_venv,
        "-c",
        "import importlib.metadata as m, json; print(json.dumps("
        "sorted(d.metadata['Name'] for d in m.distributions())))",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    installed = {canonical(name) for name in json.loads(result.stdout)}
    assert "spyglass" in installed
    assert not installed & NOT_IN_BASE, sorted(installed & NOT_IN_BASE)


def test_base_install_traces_a_function_to_a_collector(
    base_venv: Path, start_collector: Callable[..., Collector], tmp_path: Path
) -> None:
    collector = start_collector(f"sqlite:///{tmp_path / 'spyglass.db'}")
    address = f"127.0.0.1:{collector.grpc_port}"
    script = textwrap.dedent("""
        import json, sys
        import spyglass

        spyglass.configure(collector=sys.argv[1])
        experiment = spyglass.set_experiment("base install")

        @spyglass.trace
        def add(a, b):
            return a + b

        assert add(2, 3) == 5
        (trace,) = spyglass.search_traces(experiment_ids=[experiment.experiment_id],
                                          return_type="list")
        (span,) = trace.data.spans
        print(json.dumps({"name": span.name, "inputs": span.inputs, "outputs": span.outputs,
                          "trace_id": trace.info.trace_id, "file": spyglass.__file__}))
    """)
    result = run_in(base_venv, "-c", script, address, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["file"].startswith(str(base_venv.parents[1]))  # the installed wheel
    assert (facts["name"], facts["inputs"], facts["outputs"]) == ("add", {"a": 2, "b": 3}, 5)
    client = SpyglassClient(address)
    try:
        assert client.get_trace(facts["trace_id"]).data.spans[0].name == "add"
    finally:
        client.close()


def test_base_install_names_the_extra_each_missing_part_needs(
    base_venv: Path, tmp_path: Path
) -> None:
    collector = "the [collector] extra"
    install_collector = "pip install 'spyglass[collector]'"
    for code, extra in [
        ("import spyglass.collector", "collector"),
        ("import spyglass.evaluator", "evaluator"),
        ("import spyglass; spyglass.configure()", "collector"),
        ("import spyglass; spyglass.search_traces()", "evaluator"),
    ]:
        result = run_in(base_venv, "-c", code, cwd=tmp_path)
        assert result.returncode != 0, code
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("spyglass.extras.MissingExtraError: "), (code, result.stderr)
        assert f"the [{extra}] extra" in last and f"pip install 'spyglass[{extra}]'" in last

    command = run_in(base_venv.parent / "spyglass", "collector", "start", cwd=tmp_path)
    assert command.returncode != 0
    assert "Traceback" not in command.stderr, command.stderr
    (line,) = command.stderr.strip().splitlines()
    assert line.startswith("error: ") and collector in line and install_collector in line
    assert run_in(base_venv.parent / "spyglass", "--help", cwd=tmp_path).returncode == 0
