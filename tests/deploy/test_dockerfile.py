"""deploy/Dockerfile: multi-stage, small, non-root, `spyglass` as entry point, and its
health check works against a real collector. (No container engine here: nothing is built.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable

from deploy_files import DEPLOY, ROOT, dockerfile_healthcheck_code, setup_components

from spyglass.collector.server import Collector

TEXT = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
LINES = [
    line.strip()
    for line in TEXT.replace("\\\n", " ").splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]


def stages() -> list[list[str]]:
    found: list[list[str]] = []
    for line in LINES:
        if line.upper().startswith("FROM "):
            found.append([])
        if found:
            found[-1].append(line)
    return found


def instruction(stage: list[str], name: str) -> list[str]:
    return [line[len(name) :].strip() for line in stage if line.upper().startswith(name + " ")]


def test_builder_and_slim_runtime_stages() -> None:
    builder, runtime = stages()[0], stages()[-1]
    assert len(stages()) >= 2
    arg = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", TEXT, re.M)
    assert arg and arg.group(1).startswith("python:3.11-slim")
    assert builder[0] == "FROM ${PYTHON_IMAGE} AS builder"
    assert runtime[0].startswith("FROM ${PYTHON_IMAGE}")
    assert "COPY --from=builder /opt/spyglass /opt/spyglass" in runtime


def test_runtime_has_no_build_tools_pip_or_caches() -> None:
    runtime = " ".join(stages()[-1])
    for forbidden in ("apt-get install", "gcc", "build-essential", "pip install", "pip wheel"):
        assert forbidden not in runtime
    builder = " ".join(stages()[0])
    assert "PIP_NO_CACHE_DIR=1" in builder
    assert "venv --without-pip /opt/spyglass" in builder  # no pip inside the copied venv
    assert re.search(r"pip wheel --no-deps .*\.", builder)  # this repository's wheel
    # the image runs the collector and the evaluator: the wheel with both extras, importable
    assert re.search(r"install \"\$\(ls /wheels/spyglass-\*\.whl\)\[all\]\"", builder)
    assert "import spyglass.collector.server, spyglass.evaluator.worker.serve" in builder


def test_runs_as_a_non_root_user_with_spyglass_as_entry_point() -> None:
    runtime = stages()[-1]
    users = instruction(runtime, "USER")
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert json.loads(instruction(runtime, "ENTRYPOINT")[-1]) == ["spyglass"]
    assert set(instruction(runtime, "EXPOSE")[-1].split()) == {"4317", "4318", "4319"}
    assert "/healthz" in instruction(runtime, "HEALTHCHECK")[-1]


def test_every_component_folder_is_copied_and_allowed_into_the_context() -> None:
    copied = {
        src.rstrip("/")
        for line in instruction(stages()[0], "COPY")
        for src in line.split()[:-1]
        if not src.startswith("--")
    }
    folders = {folder.split("/")[0] for folder in setup_components().values()}
    assert folders | {"pyproject.toml", "setup.py", "README.md"} <= copied
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    assert "*" in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for source in copied:
        assert (ROOT / source).exists(), source
        assert source in allowed, f"{source} is COPYed but .dockerignore keeps it out"


def test_health_check_passes_on_a_live_collector_and_fails_without_one(
    tmp_path, start_collector: Callable[..., Collector]
) -> None:  # type: ignore[no-untyped-def]
    code = dockerfile_healthcheck_code()
    assert "127.0.0.1:4318/healthz" in code
    collector = start_collector(f"sqlite:///{tmp_path / 'hc.db'}")
    alive = subprocess.run(
        [sys.executable, "-c", code.replace("4318", str(collector.http_port))],
        capture_output=True,
        timeout=30,
    )
    assert alive.returncode == 0, alive.stderr
    collector_port = collector.http_port
    collector.stop_background()
    dead = subprocess.run(
        [sys.executable, "-c", code.replace("4318", str(collector_port))],
        capture_output=True,
        timeout=30,
    )
    assert dead.returncode != 0
