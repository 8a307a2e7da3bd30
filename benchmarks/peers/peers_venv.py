"""The peers' virtual environment: MLflow and Arize Phoenix at pinned versions, kept apart
from the project's .venv (their dependencies would otherwise mix with Spyglass's).

Created on first use in build/peers-venv and reused while its stamp names the same pins;
when the pins change it is made anew.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

# Exact releases measured; docs/performance.md names them beside the figures.
PINS = (
    "mlflow==3.17.2",
    "arize-phoenix==20.26.1",
    "arize-phoenix-evals==3.9.4",
    "arize-phoenix-client==3.5.0",
    "arize-phoenix-otel==0.17.2",
    "openinference-instrumentation-openai==0.1.66",
    "openai==3.63.0",
    "opentelemetry-exporter-otlp-proto-http==1.45.2",
)
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "build" / "peers-venv"
STAMP = ".peers-pins"


class PeersVenvError(RuntimeError):
    """The peers' environment could not be made; the message says which step and why."""


def stamp_text(pins: tuple[str, ...] = PINS) -> str:
    """What the stamp holds: the pins, one a line, so a change of any pin is seen."""
    return "\n".join(sorted(pins)) + "\n"


def is_current(venv: Path, pins: tuple[str, ...] = PINS) -> bool:
    """Whether ``venv`` exists with every pin installed (its stamp names exactly ``pins``)."""
    stamp = venv / STAMP
    return (
        (venv / "bin" / "python").exists()
        and stamp.exists()
        and (stamp.read_text() == stamp_text(pins))
    )


def ensure(venv: Path = DEFAULT_DIR, pins: tuple[str, ...] = PINS) -> Path:
    """The python of a peers' environment at ``venv`` with ``pins`` installed, making it
    (a few minutes, once) when missing or stale."""
    python = venv / "bin" / "python"
    if is_current(venv, pins):
        return python
    if venv.exists():
        print(f"peers venv: {venv} has other versions; making it anew", flush=True)
        shutil.rmtree(venv)
    print(f"peers venv: installing {' '.join(pins)} into {venv} (once, a few minutes)", flush=True)
    _run([sys.executable, "-m", "venv", str(venv)], "create the virtual environment")
    _run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], "upgrade pip")
    _run([str(python), "-m", "pip", "install", "--quiet", *pins], "install the peers")
    (venv / STAMP).write_text(stamp_text(pins))
    return python


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise PeersVenvError(f"could not {what} ({' '.join(args[:4])} ...):\n{tail}")
