"""deploy/otel-gateway.yaml: the public OTLP gateway keeps what it acknowledged on disk,
forwards the experiment header, and routes every trace to one collector."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import yaml
from deploy_files import DEPLOY, k8s_documents, load_yaml

from spyglass import semconv

CONFIG: dict[str, Any] = load_yaml(DEPLOY / "otel-gateway.yaml")
LB = CONFIG["exporters"]["loadbalancing"]


def test_receivers_keep_request_metadata_on_both_protocols() -> None:
    protocols = CONFIG["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317")
    assert protocols["http"]["endpoint"].endswith(":4318")
    for protocol in ("grpc", "http"):
        assert protocols[protocol]["include_metadata"] is True
        assert protocols[protocol]["auth"]["authenticator"] in CONFIG["extensions"]


def test_loadbalancing_by_trace_id_to_the_collectors_grpc_port() -> None:
    assert LB["routing_key"] == "traceID"
    resolver = LB["resolver"]
    assert list(resolver) == ["dns"]
    assert str(resolver["dns"]["port"]) == "4317"
    assert resolver["dns"]["hostname"] == "${env:SPYGLASS_COLLECTORS_HOST}"


def test_persistent_queue_is_the_only_buffer_and_never_gives_up() -> None:
    queue = LB["sending_queue"]
    assert queue["enabled"] is True
    storage = queue["storage"]
    assert storage.split("/")[0] == "file_storage" and storage in CONFIG["extensions"]
    assert CONFIG["extensions"][storage]["directory"].startswith("/var/lib/otelcol/")
    assert CONFIG["extensions"][storage]["fsync"] is True
    assert LB["retry_on_failure"]["enabled"] is True
    assert LB["retry_on_failure"]["max_elapsed_time"] == 0
    # per-collector exporters hold nothing in memory that the disk queue already let go of
    otlp = LB["protocol"]["otlp"]
    assert otlp["sending_queue"]["enabled"] is False
    assert otlp["retry_on_failure"]["enabled"] is False


def test_experiment_header_and_gateway_key_are_forwarded() -> None:
    assert LB["protocol"]["otlp"]["auth"]["authenticator"] == "headers_setter"
    headers = {h["key"]: h for h in CONFIG["extensions"]["headers_setter"]["headers"]}
    experiment = headers[semconv.EXPERIMENT_HEADER]
    assert experiment["from_context"] == semconv.EXPERIMENT_HEADER
    assert experiment["action"] == "upsert"
    assert headers["authorization"]["value"] == "Bearer ${env:SPYGLASS_GATEWAY_API_KEY}"


def test_traces_and_logs_pipelines_without_a_batch_processor() -> None:
    pipelines = CONFIG["service"]["pipelines"]
    assert set(pipelines) == {"traces", "logs"}
    for pipeline in pipelines.values():
        assert pipeline["receivers"] == ["otlp"]
        assert pipeline["exporters"] == ["loadbalancing"]
        assert pipeline["processors"][0] == "memory_limiter"
        assert not any(p.split("/")[0] == "batch" for p in pipeline["processors"])
    assert not any(name.split("/")[0] == "batch" for name in CONFIG.get("processors", {}))


def test_every_extension_is_defined_and_started() -> None:
    started = CONFIG["service"]["extensions"]
    assert "health_check" in started
    assert set(started) == set(CONFIG["extensions"])
    assert CONFIG["extensions"]["health_check"]["endpoint"].endswith(":13133")


def test_every_variable_it_reads_is_set_by_compose_and_kubernetes() -> None:
    used = set(re.findall(r"\$\{env:(\w+)\}", (DEPLOY / "otel-gateway.yaml").read_text()))
    assert used == {
        "SPYGLASS_INGEST_API_KEY",
        "SPYGLASS_GATEWAY_API_KEY",
        "SPYGLASS_COLLECTORS_HOST",
    }
    compose = load_yaml(DEPLOY / "docker-compose.yml")["services"]["gateway"]["environment"]
    assert used <= set(compose)
    (statefulset,) = [doc for _, doc in k8s_documents() if doc["kind"] == "StatefulSet"]
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    assert used <= {env["name"] for env in container["env"]}


def test_kubernetes_config_map_is_this_file_verbatim() -> None:
    (config_map,) = [
        doc
        for name, doc in k8s_documents()
        if name == "gateway.yaml" and doc["kind"] == "ConfigMap"
    ]
    text = (DEPLOY / "otel-gateway.yaml").read_text(encoding="utf-8")
    assert config_map["data"]["config.yaml"] == text
    assert yaml.safe_load(textwrap.dedent(config_map["data"]["config.yaml"])) == CONFIG
