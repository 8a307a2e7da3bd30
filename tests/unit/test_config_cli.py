"""Settings resolve as arguments > SPYGLASS_* variables > defaults, and the CLI exposes them."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from typing import ClassVar

import pytest
from click.testing import CliRunner

from spyglass import __version__
from spyglass.cli import cli
from spyglass.collector.store import migrate
from spyglass.config import CollectorSettings
from spyglass.errors import ConfigurationError


def test_defaults_without_environment() -> None:
    s = CollectorSettings.load(env={})
    assert (s.store, s.host, s.grpc_port, s.http_port) == (
        "sqlite:///./spyglass.db",
        "127.0.0.1",
        4317,
        4318,
    )
    assert s.api_keys == () and s.migrate is True and s.max_request_bytes == 64 * 1024 * 1024


def test_environment_beats_defaults_and_arguments_beat_environment() -> None:
    env = {
        "SPYGLASS_GRPC_PORT": "5317",
        "SPYGLASS_API_KEY": "a, b",
        "SPYGLASS_MIGRATE": "false",
        "SPYGLASS_STORE": "postgresql://x/y",
    }
    s = CollectorSettings.load(env=env)
    assert (s.grpc_port, s.api_keys, s.migrate, s.store) == (
        5317,
        ("a", "b"),
        False,
        "postgresql://x/y",
    )
    s = CollectorSettings.load(env=env, grpc_port=6317, store=None)
    assert s.grpc_port == 6317 and s.store == "postgresql://x/y"


@pytest.mark.parametrize(
    "var, value, fragment",
    [
        ("SPYGLASS_GRPC_PORT", "four", "SPYGLASS_GRPC_PORT='four' is not valid"),
        ("SPYGLASS_MIGRATE", "maybe", "expected true or false"),
        ("SPYGLASS_SYNC", "always", "expected 'normal' or 'full'"),
    ],
)
def test_bad_environment_values_name_the_variable(var: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        CollectorSettings.load(env={var: value})


def test_unknown_override_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown setting"):
        CollectorSettings.load(env={}, grpc_prot=1)


def test_every_setting_has_a_flag_and_a_variable() -> None:
    result = CliRunner().invoke(cli, ["collector", "start", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for f in dataclasses.fields(CollectorSettings):
        assert f.metadata["env"] in result.output
    for flag in (
        "--store",
        "--grpc-port",
        "--http-port",
        "--host",
        "--api-key",
        "--no-migrate",
        "--sync",
        "--tls-cert",
        "--tls-key",
        "--max-request-bytes",
        "--decode-workers",
        "--price-file",
        "--redaction-file",
        "--redact",
    ):
        assert flag in result.output


def test_version_from_the_installed_entry_point() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "spyglass.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == f"spyglass, version {__version__}"


def test_the_command_loads_no_component_until_one_of_its_commands_runs() -> None:
    code = (
        "import sys, spyglass.cli; print(sorted(m for m in sys.modules if m.startswith("
        "('spyglass.collector', 'spyglass.evaluator', 'pandas', 'sqlalchemy', 'grpc'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# a component that cannot be imported (e.g. its extra is not installed) raises a typed error
_UNIMPORTABLE_EVALUATOR = """
import sys
from spyglass.errors import ConfigurationError

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.startswith("spyglass.evaluator"):
            raise ConfigurationError("the evaluator is not installed: pip install x")

sys.meta_path.insert(0, Refuse())
sys.argv = ["spyglass", "monitors", "list"]
from spyglass.cli import main
main()
"""


def test_a_component_that_cannot_be_imported_is_one_error_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _UNIMPORTABLE_EVALUATOR], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert proc.stderr == "error: the evaluator is not installed: pip install x\n"


def test_db_upgrade_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(cli, ["db", "upgrade", "--store", url])
    assert result.exit_code == 0, result.output
    assert f"is at revision {migrate.head_revision()}" in result.output


def test_configuration_errors_are_one_line_and_exit_1(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "spyglass.cli",
            "collector",
            "start",
            "--store",
            "mysql://x/y",
            "--grpc-port",
            "0",
            "--http-port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert "error: store URL" in proc.stderr and "PostgreSQL" in proc.stderr
    assert "Traceback" not in proc.stderr


class _RecordingCollector:
    """Stands in for the collector: `collector start` resolves settings and hands them here."""

    started: ClassVar[list[CollectorSettings]] = []

    def __init__(self, settings: CollectorSettings) -> None:
        self.started.append(settings)

    async def serve(self) -> None:
        return None


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[CollectorSettings]:
    from spyglass.collector import server

    _RecordingCollector.started = []
    monkeypatch.setattr(server, "Collector", _RecordingCollector)
    return _RecordingCollector.started


CONFIG = """
[collector]
store = "sqlite:///from-file.db"
host = "0.0.0.0"
grpc_port = 5317
http_port = 5318
api_keys = ["file-key"]
migrate = true
"""


def test_collector_start_flag_beats_env_beats_file_beats_default(
    tmp_path, recorded: list[CollectorSettings]
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "spyglass.toml"
    path.write_text(CONFIG)
    result = CliRunner().invoke(
        cli,
        ["--config", str(path), "collector", "start", "--grpc-port", "7317", "--no-migrate"],
        env={
            "SPYGLASS_CONFIG": None,
            "SPYGLASS_HTTP_PORT": "6318",
            "SPYGLASS_API_KEY": None,
            "SPYGLASS_GRPC_PORT": "6317",
            "SPYGLASS_STORE": None,
            "SPYGLASS_HOST": None,
        },
    )
    assert result.exit_code == 0, result.output
    (s,) = recorded
    assert s.grpc_port == 7317 and s.migrate is False  # flags beat env and file
    assert s.http_port == 6318  # env beats file
    assert (s.store, s.host, s.api_keys) == (
        "sqlite:///from-file.db",
        "0.0.0.0",
        ("file-key",),
    )  # file beats default
    assert s.queue_max_spans == 20_000  # default


def test_config_file_from_the_environment_and_config_flag_wins_over_it(
    tmp_path, recorded: list[CollectorSettings]
) -> None:  # type: ignore[no-untyped-def]
    by_env, by_flag = tmp_path / "env.toml", tmp_path / "flag.toml"
    by_env.write_text("[collector]\ngrpc_port = 1111\n")
    by_flag.write_text("[collector]\ngrpc_port = 2222\n")
    env = {"SPYGLASS_CONFIG": str(by_env), "SPYGLASS_GRPC_PORT": None}
    assert CliRunner().invoke(cli, ["collector", "start"], env=env).exit_code == 0
    assert (
        CliRunner().invoke(cli, ["--config", str(by_flag), "collector", "start"], env=env).exit_code
        == 0
    )
    assert [s.grpc_port for s in recorded] == [1111, 2222]


def test_bad_config_file_is_one_line_naming_the_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "spyglass.toml"
    path.write_text("[collector]\ngrpc_port = true\n")
    proc = subprocess.run(
        [sys.executable, "-m", "spyglass.cli", "--config", str(path), "collector", "start"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS_")},
    )
    assert proc.returncode == 1
    assert (
        f"error: config file {path}: [collector] grpc_port = True has the wrong type" in proc.stderr
    )
    assert "Traceback" not in proc.stderr


def test_db_upgrade_reads_the_store_from_the_config_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "from-config.db"
    path = tmp_path / "spyglass.toml"
    path.write_text(f'[collector]\nstore = "sqlite:///{db}"\n')
    result = CliRunner().invoke(
        cli,
        ["--config", str(path), "db", "upgrade"],
        env={"SPYGLASS_CONFIG": None, "SPYGLASS_STORE": None},
    )
    assert result.exit_code == 0, result.output
    assert db.exists() and f"is at revision {migrate.head_revision()}" in result.output
