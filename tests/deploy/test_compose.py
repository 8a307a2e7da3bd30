"""deploy/docker-compose.yml: PostgreSQL, a one-shot migration, two collectors that only
start on a migrated store, the evaluator and the gateway — with health checks, restart
policies, and secrets only from deploy/.env (the collectors sharing one UI session secret)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from deploy_files import (
    DEPLOY,
    check_spyglass_command,
    dockerfile_healthcheck_code,
    healthcheck_code,
    load_yaml,
    split_command,
)

from spyglass.collector.server import Collector
from spyglass.config import CollectorSettings

COMPOSE: dict[str, Any] = load_yaml(DEPLOY / "docker-compose.yml")
SERVICES: dict[str, Any] = COMPOSE["services"]
GATEWAY_CONFIG = load_yaml(DEPLOY / "otel-gateway.yaml")
COLLECTORS = ["collector-1", "collector-2"]
ONE_SHOT = {"migrate", "gateway-queue-init"}
ENV_EXAMPLE = (DEPLOY / ".env.example").read_text(encoding="utf-8")
SECRET_NAME = re.compile(r"PASSWORD|KEY|SECRET")
VARIABLE = re.compile(r"\$\{([A-Z_]+)(?:(:?[-?])([^}]*))?\}")


def env_example() -> dict[str, str]:
    """deploy/.env.example's NAME=value lines."""
    return dict(re.findall(r"^([A-Z_]+)=(.*)$", ENV_EXAMPLE, re.M))


def resolved(value: Any, env: dict[str, str]) -> str:
    """``value`` with its ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?message}`` filled
    from ``env`` the way compose does; a required variable missing from ``env`` fails."""

    def fill(match: re.Match[str]) -> str:
        name, op, arg = match.groups()
        if env.get(name):
            return env[name]
        assert op != ":?", f"compose would stop: {arg}"
        return arg if op == ":-" else ""

    return VARIABLE.sub(fill, str(value))


def spyglass_services() -> dict[str, dict[str, Any]]:
    return {
        name: s
        for name, s in SERVICES.items()
        if str(s.get("image", "")).startswith("${SPYGLASS_IMAGE")
    }


def test_the_services_are_there() -> None:
    assert {"postgres", "migrate", *COLLECTORS, "evaluator", "gateway"} <= set(SERVICES)


def test_postgres_pinned_with_a_named_volume_and_pg_isready() -> None:
    postgres = SERVICES["postgres"]
    assert re.fullmatch(r"postgres:\d+(\.\d+)?(-[a-z0-9]+)?", postgres["image"])
    volume = postgres["volumes"][0].split(":")
    assert volume[0] in COMPOSE["volumes"] and volume[1] == "/var/lib/postgresql/data"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_migration_runs_once_after_postgres_is_healthy() -> None:
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"
    assert "SPYGLASS_STORE" in migrate["environment"]


@pytest.mark.parametrize("name", COLLECTORS)
def test_collectors_wait_for_the_migration_and_never_migrate(name: str) -> None:
    collector = SERVICES[name]
    command = split_command(collector["command"])
    assert command[:2] == ["collector", "start"] and "--no-migrate" in command
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert collector["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "127.0.0.1:4318/healthz" in healthcheck_code(collector["healthcheck"]["test"])
    assert collector["restart"] == "unless-stopped"
    assert "collectors" in collector["networks"]["default"]["aliases"]


def test_each_collector_publishes_its_query_api_and_its_ui_on_ports_of_its_own() -> None:
    for container_port in ("4317", "4318"):
        published = [
            [p for p in SERVICES[name]["ports"] if p.endswith(f":{container_port}")]
            for name in COLLECTORS
        ]
        assert all(len(ports) == 1 for ports in published), container_port
        host_ports = {ports[0].split(":")[-2] for ports in published}
        assert len(host_ports) == len(COLLECTORS), container_port
    for name in COLLECTORS:
        assert len(SERVICES[name]["ports"]) == 2
        # the UI is plain HTTP carrying a sign-in key: host-local, a TLS proxy goes in front
        (ui,) = [p for p in SERVICES[name]["ports"] if p.endswith(":4318")]
        assert ui.startswith("127.0.0.1:"), f"{name} publishes its UI beyond this host: {ui}"


def test_collectors_require_the_api_keys_and_share_one_session_secret() -> None:
    environments = [SERVICES[name]["environment"] for name in COLLECTORS]
    for variable in ("SPYGLASS_API_KEY", "SPYGLASS_SESSION_SECRET"):
        values = {env[variable] for env in environments}
        assert len(values) == 1, f"{variable} differs between the collectors: {values}"
        (value,) = values
        assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", value), (
            f"{variable} must be required from deploy/.env: {value}"
        )
    loaded = [
        CollectorSettings.load(
            env={key: resolved(value, env_example()) for key, value in env.items()}
        )
        for env in environments
    ]
    secrets = {settings.session_secret for settings in loaded}
    assert secrets == {env_example()["SPYGLASS_SESSION_SECRET"]}
    assert all(settings.api_keys and settings.ui for settings in loaded)
    with pytest.raises(AssertionError, match=r"set SPYGLASS_SESSION_SECRET in deploy/\.env"):
        resolved(environments[0]["SPYGLASS_SESSION_SECRET"], {})


def test_env_example_has_change_me_placeholders_for_every_secret() -> None:
    example = env_example()
    secrets = {name: value for name, value in example.items() if SECRET_NAME.search(name)}
    assert {"POSTGRES_PASSWORD", "SPYGLASS_API_KEY", "SPYGLASS_SESSION_SECRET"} <= set(secrets)
    for name, value in secrets.items():
        if value or name in ("SPYGLASS_SESSION_SECRET", "SPYGLASS_API_KEY"):
            assert all(part.startswith("change-me") for part in value.split(",")), name
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in ENV_EXAMPLE


def test_evaluator_checks_its_own_port() -> None:
    evaluator = SERVICES["evaluator"]
    command = split_command(evaluator["command"])
    assert command[:2] == ["evaluator", "serve"]
    assert command[command.index("--collector") + 1] == "collectors:4317"
    assert command[command.index("--http-port") + 1] == "4319"
    assert "127.0.0.1:4319/healthz" in healthcheck_code(evaluator["healthcheck"]["test"])
    assert evaluator["restart"] == "unless-stopped"
    for name in COLLECTORS:
        assert evaluator["depends_on"][name]["condition"] == "service_healthy"


def test_gateway_pinned_with_its_config_and_queue_mounted() -> None:
    gateway = SERVICES["gateway"]
    assert re.fullmatch(r"otel/opentelemetry-collector-contrib:\d+\.\d+\.\d+", gateway["image"])
    config_path = gateway["command"][0].removeprefix("--config=")
    mounts = {m.split(":")[1]: m.split(":")[0] for m in gateway["volumes"]}
    assert mounts[config_path] == "./otel-gateway.yaml"
    assert (DEPLOY / "otel-gateway.yaml").exists()
    queue_dir = GATEWAY_CONFIG["extensions"]["file_storage/queue"]["directory"]
    assert mounts[queue_dir] in COMPOSE["volumes"]  # survives the container
    init = SERVICES["gateway-queue-init"]
    assert init["volumes"] == [f"{mounts[queue_dir]}:{queue_dir}"]
    assert (
        gateway["depends_on"]["gateway-queue-init"]["condition"] == "service_completed_successfully"
    )
    assert {p.split(":")[-1] for p in gateway["ports"]} == {"4317", "4318"}
    assert gateway["environment"]["SPYGLASS_COLLECTORS_HOST"] == "collectors"
    assert gateway["restart"] == "unless-stopped"


def test_restart_policies_throughout() -> None:
    for name, service in SERVICES.items():
        assert service["restart"] == ("no" if name in ONE_SHOT else "unless-stopped"), name


def test_secrets_come_from_the_env_file_only() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z_]+)=", example, re.M))
    used = set(re.findall(r"\$\{([A-Z_]+)(?::?[-?][^}]*)?\}", text))
    assert used and used <= documented, f"not in deploy/.env.example: {used - documented}"
    for service in SERVICES.values():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert str(value).startswith("${"), f"{key} is written in the compose file"
    assert "postgresql+psycopg://spyglass:${POSTGRES_PASSWORD" in text
    assert "deploy/.env" in (DEPLOY.parent / ".gitignore").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(spyglass_services().keys() - {"gateway-queue-init"}))
def test_commands_and_flags_exist(name: str) -> None:
    check_spyglass_command(split_command(SERVICES[name]["command"]), f"compose service {name}")


def test_collector_health_check_works_on_a_live_collector(
    tmp_path, start_collector: Callable[..., Collector]
) -> None:  # type: ignore[no-untyped-def]
    code = healthcheck_code(SERVICES["collector-1"]["healthcheck"]["test"])
    assert code == dockerfile_healthcheck_code()
    collector = start_collector(f"sqlite:///{tmp_path / 'hc.db'}")
    proc = subprocess.run(
        [sys.executable, "-c", code.replace("4318", str(collector.http_port))],
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
