"""Maps the component folders onto the ``spyglass`` import package.

``pyproject.toml`` holds the metadata; this file only computes the package list so that a
new subpackage can never be left out of the wheel by forgetting to list it.
"""

from pathlib import Path

from setuptools import setup

# import package prefix -> folder that holds it
COMPONENTS = {
    "spyglass": "spyglass",
    "spyglass.collector": "collector",
    "spyglass.instrumentation": "instrumentation",
    "spyglass.evaluator": "evaluator",
    # generated gRPC modules import each other as `spyglass.v1.*` (their .proto package)
    "spyglass.v1": "proto/spyglass/v1",
}


def _packages() -> tuple[list[str], dict[str, str]]:
    packages, package_dir = [], {}
    for prefix, folder in COMPONENTS.items():
        package_dir[prefix] = folder
        for init in sorted(Path(folder).rglob("__init__.py")):
            rel = init.parent.relative_to(folder).parts
            packages.append(".".join((prefix, *rel)))
    return packages, package_dir


PACKAGES, PACKAGE_DIR = _packages()

setup(
    packages=PACKAGES,
    package_dir=PACKAGE_DIR,
    package_data={
        "": ["*.json", "*.ini", "*.mako", "py.typed", "*.pyi", "*.proto"],
        # the web UI: templates and browser assets (vendored ones with their licences)
        "spyglass.collector.ui": [
            "templates/*.html",
            "static/*.*",
            "static/*/*.*",
            "static/vendor/*/*",
        ],
    },
    include_package_data=True,
)
