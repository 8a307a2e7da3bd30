"""Settings resolve as arguments > SPYGLASS_* variables > defaults, and the CLI exposes them."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

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
        "sqlite:///./spyglass.db", "127.0.0.1", 4317, 4318)
    assert s.api_keys == () and s.migrate is True and s.max_request_bytes == 64 * 1024 * 1024


def test_environment_beats_defaults_and_arguments_beat_environment() -> None:
    env = {"SPYGLASS_GRPC_PORT": "5317", "SPYGLASS_API_KEY": "a, b", "SPYGLASS_MIGRATE": "false",
           "SPYGLASS_STORE": "postgresql://x/y"}
    s = CollectorSettings.load(env=env)
    assert (s.grpc_port, s.api_keys, s.migrate, s.store) == (5317, ("a", "b"), False,
                                                             "postgresql://x/y")
    s = CollectorSettings.load(env=env, grpc_port=6317, store=None)
    assert s.grpc_port == 6317 and s.store == "postgresql://x/y"


@pytest.mark.parametrize("var, value, fragment", [
    ("SPYGLASS_GRPC_PORT", "four", "SPYGLASS_GRPC_PORT='four' is not valid"),
    ("SPYGLASS_MIGRATE", "maybe", "expected true or false"),
    ("SPYGLASS_SYNC", "always", "expected 'normal' or 'full'"),
])
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
    for flag in ("--store", "--grpc-port", "--http-port", "--host", "--api-key",
                 "--no-migrate", "--sync", "--tls-cert", "--tls-key", "--max-request-bytes",
                 "--decode-workers", "--price-file", "--redaction-file", "--redact"):
        assert flag in result.output


def test_version_from_the_installed_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "spyglass.cli", "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"spyglass, version {__version__}"


def test_db_upgrade_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(cli, ["db", "upgrade", "--store", url])
    assert result.exit_code == 0, result.output
    assert f"is at revision {migrate.head_revision()}" in result.output


def test_configuration_errors_are_one_line_and_exit_1(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [sys.executable, "-m", "spyglass.cli", "collector", "start", "--store", "mysql://x/y",
         "--grpc-port", "0", "--http-port", "0"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 1
    assert "error: store URL" in proc.stderr and "PostgreSQL" in proc.stderr
    assert "Traceback" not in proc.stderr
