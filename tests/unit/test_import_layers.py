"""Imports flow one way (docs/architecture.md): the test parses every module's imports, at
module level and inside functions, and fails on an upward import or a cycle between packages.

Layers, lowest first. A module may import its own layer and the layers its rule lists:

- ``spyglass.v1`` (generated API modules) imports nothing of ours;
- the core (``spyglass.errors``, ``config``, ``entities``, ``client``, the configured
  ``session``, the package's lazy export table) imports the API, and the collector only inside
  a function: the embedded mode, which starts one in-process;
- ``spyglass.instrumentation`` and ``spyglass.evaluator`` build on the core; the evaluator
  never touches the collector (it goes through the API);
- ``spyglass.collector`` builds on the core; inside it ``genai`` (pure conventions) lies
  below ``store``, which lies below ``ingest`` and ``api``, and ``api`` below ``ui`` (the web
  UI); ``server`` (the wiring) above all
  of them; the other modules at the collector's top (``auth``, ``metrics``, ...) are shared
  by every layer and import only the core;
- the facade (``search``, ``annotations``, ``openai``) uses the SDK;
- ``spyglass.cli`` is the top: it may import anything.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {
    "spyglass": "spyglass",
    "spyglass.collector": "collector",
    "spyglass.instrumentation": "instrumentation",
    "spyglass.evaluator": "evaluator",
    "spyglass.v1": "proto/spyglass/v1",
}
FACADE = {"spyglass.search", "spyglass.annotations", "spyglass.openai"}
COLLECTOR_LAYERS = ["genai", "store", "ingest", "api", "ui"]  # lowest first; others: the top


@dataclass(frozen=True)
class Import:
    """One import statement: who imports what, where, and whether inside a function."""

    importer: str
    imported: str
    line: int
    lazy: bool


def module_files() -> dict[str, Path]:
    """Import name -> file, for every module of the component folders (Alembic's migration
    scripts are loaded by Alembic, not imported, and left out)."""
    modules = {}
    for package, folder in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join((package, *parts))
            if name not in modules:  # a deeper folder mapping wins (spyglass.v1)
                modules[name] = path
    return modules


def _imports_of(name: str, path: Path, modules: dict[str, Path]) -> Iterator[Import]:
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    lazy_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lazy_lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = name.split(".") if is_package else name.split(".")[:-1]
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            # `from package import module` imports the module; `from module import name`
            # imports the module that holds the name
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
            ]
        else:
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        for target in targets:
            if target == "spyglass" or target.startswith("spyglass."):
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                yield Import(name, target, node.lineno, node.lineno in lazy_lines)


def all_imports() -> list[Import]:
    modules = module_files()
    found = []
    for name, path in modules.items():
        found.extend(i for i in _imports_of(name, path, modules) if i.imported != name)
    return found


def layer(module: str) -> str:
    """The layer a module belongs to (see the module docstring)."""
    if module == "spyglass.v1" or module.startswith("spyglass.v1."):
        return "api-stubs"
    if module == "spyglass.cli" or module.startswith("spyglass.cli."):
        return "cli"
    if module in FACADE:
        return "facade"
    for component in ("instrumentation", "evaluator", "local_llm"):
        if module.startswith(f"spyglass.{component}"):
            return component
    if module.startswith("spyglass.collector"):
        parts = module.split(".")
        sub = (
            parts[2]
            if len(parts) > 3 or (len(parts) == 3 and parts[2] in COLLECTOR_LAYERS)
            else "top"
        )
        if sub in COLLECTOR_LAYERS:
            return f"collector.{sub}"
        return "collector.top" if module == "spyglass.collector.server" else "collector.shared"
    return "core"


BELOW_COLLECTOR = {"core", "api-stubs", "collector.shared"}
ALLOWED: dict[str, set[str]] = {
    "api-stubs": set(),
    "core": {"api-stubs"},
    "local_llm": {"core"},
    "instrumentation": {"core", "api-stubs"},
    "evaluator": {"core", "api-stubs", "instrumentation", "facade"},
    "collector.shared": {"core", "api-stubs"},
    "collector.genai": BELOW_COLLECTOR,
    "collector.store": BELOW_COLLECTOR | {"collector.genai"},
    "collector.ingest": BELOW_COLLECTOR | {"collector.genai", "collector.store"},
    "collector.api": BELOW_COLLECTOR | {"collector.genai", "collector.store"},
    "collector.ui": BELOW_COLLECTOR | {"collector.api"},
    "collector.top": BELOW_COLLECTOR
    | {"collector.genai", "collector.store", "collector.ingest", "collector.api", "collector.ui"},
    "facade": {"core", "api-stubs", "instrumentation"},
}
# imported only inside functions: the embedded mode starts a collector in-process
LAZY_ALLOWED = {"core": {"collector.top"}}


def test_imports_flow_one_way() -> None:
    upward = []
    for imp in all_imports():
        src, dst = layer(imp.importer), layer(imp.imported)
        if src == dst or src == "cli" or dst in ALLOWED[src]:
            continue
        if imp.lazy and dst in LAZY_ALLOWED.get(src, set()):
            continue
        upward.append(
            f"{imp.importer}:{imp.line} ({src}) imports {imp.imported} ({dst})"
            + (" inside a function" if imp.lazy else "")
        )
    assert not upward, "imports against the layering:\n" + "\n".join(sorted(upward))


def package_of(module: str, modules: dict[str, Path]) -> str:
    """A module's package (a package's own ``__init__`` belongs to the package)."""
    if modules[module].name == "__init__.py":
        return module
    return module.rsplit(".", 1)[0]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_packages() -> None:
    """Packages (``spyglass.collector.store.jobs``, ``spyglass.evaluator.scorers``, ...) form
    a graph without cycles. The ``spyglass`` package holds both the core and the facade, which
    are told apart by layer, so a facade module importing the SDK that imports the core is no
    cycle."""
    modules = module_files()
    graph: dict[str, set[str]] = defaultdict(set)

    def node(module: str) -> str:
        package = package_of(module, modules)
        if package == "spyglass":
            return "spyglass (facade)" if layer(module) == "facade" else "spyglass (core)"
        if package == "spyglass.collector":
            return module if layer(module) == "collector.top" else "spyglass.collector (shared)"
        return package

    for imp in all_imports():
        src, dst = layer(imp.importer), layer(imp.imported)
        if src == "cli" or (imp.lazy and dst in LAZY_ALLOWED.get(src, set())):
            continue  # the top, and the documented lazy exception, close no cycle
        a, b = node(imp.importer), node(imp.imported)
        # a package's __init__ importing its own modules (re-exports) is not a cycle
        if a != b and not b.startswith(a + "."):
            graph[a].add(b)
    cycles = _cycles(graph)
    assert not cycles, "import cycles between packages: " + "; ".join(
        " <-> ".join(c) for c in cycles
    )


def test_the_layer_rules_see_every_import_kind() -> None:
    """The parser resolves relative imports and ``from package import module`` to modules, and
    tells imports inside functions apart, so the rules above cannot pass by not seeing."""
    modules = module_files()
    assert "spyglass.collector.store.traces.writer" in modules
    imports = all_imports()
    by_pair = {(i.importer, i.imported): i for i in imports}
    scorers = [i for i in imports if i.importer == "spyglass.evaluator.scorers"]
    assert any(i.imported == "spyglass.evaluator.scorers.base" for i in scorers)  # relative
    assert any(i.lazy for i in imports)
    assert any(not i.lazy for i in imports)
    assert ("spyglass.collector.server", "spyglass.collector.store.migrate") in by_pair
    assert layer("spyglass.collector.store.traces.writer") == "collector.store"
    assert layer("spyglass.collector.ingest.pipeline") == "collector.ingest"
    assert layer("spyglass.collector.server") == "collector.top"
    assert layer("spyglass.collector.metrics") == "collector.shared"
    assert layer("spyglass.errors") == "core"
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
