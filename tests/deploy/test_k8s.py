"""deploy/k8s: every manifest is valid for Kubernetes 1.31 (schemas bundled with
kubernetes-validate, checked offline and strictly: unknown fields fail), and the parts that
must fit together do."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest
from deploy_files import check_spyglass_command, k8s_documents

from spyglass.collector.server import SHUTDOWN_GRACE_S
from spyglass.config import CollectorSettings, EvaluatorSettings
from spyglass.config_files import tomllib

K8S_VERSION = "1.31"
DOCS = k8s_documents()
PRESTOP_SLEEP_S = 5


def find(kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for _, d in DOCS if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def workloads() -> list[dict[str, Any]]:
    return [d for _, d in DOCS if d["kind"] in ("Deployment", "StatefulSet", "Job")]


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return workload["spec"]["template"]["spec"]["containers"]


def spyglass_containers() -> list[tuple[str, dict[str, Any]]]:
    return [
        (w["metadata"]["name"], c)
        for w in workloads()
        for c in containers(w)
        if "/spyglass:" in c["image"]
    ]


def probe_port(container: dict[str, Any], probe: dict[str, Any]) -> int:
    port = probe["httpGet"]["port"]
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    return named.get(port, port)


@pytest.mark.parametrize(
    "doc", [d for _, d in DOCS], ids=[f"{f}:{d['kind']}:{d['metadata']['name']}" for f, d in DOCS]
)
def test_manifest_validates(doc: dict[str, Any]) -> None:
    assert kubernetes_validate.validate(doc, K8S_VERSION, strict=True) == K8S_VERSION
    assert "namespace" not in doc["metadata"]  # applied with kubectl -n <namespace>


def test_the_validator_rejects_a_broken_manifest() -> None:
    broken = copy.deepcopy(find("Deployment", "spyglass-collector"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_the_expected_objects_exist() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for _, d in DOCS}
    assert {
        ("ConfigMap", "spyglass-config"),
        ("Secret", "spyglass-secrets"),
        ("Job", "spyglass-db-upgrade"),
        ("Deployment", "spyglass-collector"),
        ("Service", "spyglass-collector"),
        ("Service", "spyglass-collector-headless"),
        ("HorizontalPodAutoscaler", "spyglass-collector"),
        ("PodDisruptionBudget", "spyglass-collector"),
        ("Deployment", "spyglass-evaluator"),
        ("StatefulSet", "spyglass-gateway"),
        ("Service", "spyglass-gateway"),
    } <= kinds


def test_collector_deployment() -> None:
    deployment = find("Deployment", "spyglass-collector")
    (container,) = containers(deployment)
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] == 2
    assert container["args"][-3:] == ["collector", "start", "--no-migrate"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert probe_port(container, container[probe]) == 4318
    assert container["resources"]["requests"] and container["resources"]["limits"]
    drain = 2 * SHUTDOWN_GRACE_S + PRESTOP_SLEEP_S  # servers' grace + write queue + preStop
    assert pod["terminationGracePeriodSeconds"] > drain
    assert str(PRESTOP_SLEEP_S) in " ".join(container["lifecycle"]["preStop"]["exec"]["command"])


def test_pods_run_as_non_root_on_a_read_only_root_with_a_writable_tmp() -> None:
    for workload in workloads():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in containers(workload):
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            if "/spyglass:" in container["image"]:
                mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                assert "emptyDir" in volumes[mounts["/tmp"]]


def test_services_select_pods_and_name_their_ports() -> None:
    for service in [d for _, d in DOCS if d["kind"] == "Service"]:
        selector = service["spec"]["selector"]
        matching = [
            w
            for w in workloads()
            if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert matching, f"Service {service['metadata']['name']} selects no pods"
        ports = {p["name"] for w in matching for c in containers(w) for p in c["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports
    headless = find("Service", "spyglass-collector-headless")
    assert headless["spec"]["clusterIP"] == "None"
    assert [p["port"] for p in headless["spec"]["ports"]] == [4317]


def test_pdb_and_hpa_target_the_collectors() -> None:
    deployment = find("Deployment", "spyglass-collector")
    pdb = find("PodDisruptionBudget", "spyglass-collector")
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"]
    hpa = find("HorizontalPodAutoscaler", "spyglass-collector")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "spyglass-collector",
    }
    assert hpa["spec"]["minReplicas"] >= 2


def test_migration_job_runs_db_upgrade() -> None:
    job = find("Job", "spyglass-db-upgrade")
    (container,) = containers(job)
    assert container["args"][-2:] == ["db", "upgrade"]
    assert job["spec"]["backoffLimit"] >= 1 and job["spec"]["ttlSecondsAfterFinished"] > 0
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("Never", "OnFailure")
    assert "SPYGLASS_STORE" in {e["name"] for e in container["env"]}


def test_evaluator_probes_its_own_port() -> None:
    (container,) = containers(find("Deployment", "spyglass-evaluator"))
    assert container["args"][-2:] == ["evaluator", "serve"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe"):
        assert probe_port(container, container[probe]) == 4319


def test_secret_and_config_maps_are_referenced_and_exist() -> None:
    secret = find("Secret", "spyglass-secrets")
    assert all("CHANGE-ME" in value for value in secret["stringData"].values())
    referenced: set[str] = set()
    for workload in workloads():
        for container in containers(workload):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == "spyglass-secrets"
                    assert ref["key"] in secret["stringData"] or ref.get("optional") is True
                    referenced.add(ref["key"])
        for volume in workload["spec"]["template"]["spec"].get("volumes", []):
            if "configMap" in volume:
                find("ConfigMap", volume["configMap"]["name"])
    assert set(secret["stringData"]) <= referenced


def test_every_collector_replica_reads_the_api_keys_and_one_session_secret() -> None:
    """The secrets come from spyglass-secrets (required, never written in a manifest), and
    every collector pod is a replica of one Deployment, so all sign the UI's sessions with
    the same secret."""
    collector_workloads = [
        w
        for w in workloads()
        if w["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component")
        == "collector"
    ]
    assert [w["metadata"]["name"] for w in collector_workloads] == ["spyglass-collector"]
    (container,) = containers(collector_workloads[0])
    env = {e["name"]: e for e in container["env"]}
    secret = find("Secret", "spyglass-secrets")
    for variable in ("SPYGLASS_API_KEY", "SPYGLASS_SESSION_SECRET"):
        assert "value" not in env[variable], f"{variable} is written in the Deployment"
        ref = env[variable]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "spyglass-secrets", "key": variable}  # required: not optional
        assert secret["stringData"][variable].startswith("CHANGE-ME")
    config = tomllib.loads(find("ConfigMap", "spyglass-config")["data"]["spyglass.toml"])
    assert not {"api_keys", "session_secret"} & set(config["collector"])
    assert CollectorSettings.load(env={"SPYGLASS_SESSION_SECRET": "s"}).session_secret == "s"


def test_the_ui_port_is_reachable_through_the_collector_service() -> None:
    service = find("Service", "spyglass-collector")
    http = {p["name"]: p for p in service["spec"]["ports"]}["http"]
    (container,) = containers(find("Deployment", "spyglass-collector"))
    assert probe_port(container, {"httpGet": {"port": http["targetPort"]}}) == 4318
    assert http["port"] == 4318 and "sessionAffinity" not in service["spec"]


def test_config_map_is_a_valid_settings_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "spyglass.toml"
    path.write_text(find("ConfigMap", "spyglass-config")["data"]["spyglass.toml"])
    collector = CollectorSettings.load(env={"SPYGLASS_CONFIG": str(path)})
    evaluator = EvaluatorSettings.load(env={"SPYGLASS_CONFIG": str(path)})
    assert collector.host == "0.0.0.0" and collector.migrate is False
    assert (collector.grpc_port, collector.http_port) == (4317, 4318)
    assert evaluator.host == "0.0.0.0" and evaluator.http_port == 4319
    assert evaluator.collector.split(":")[0] == "spyglass-collector"


@pytest.mark.parametrize(
    "name, container", spyglass_containers(), ids=[n for n, _ in spyglass_containers()]
)
def test_spyglass_commands_and_flags_exist(name: str, container: dict[str, Any]) -> None:
    args = container["args"]
    config_dir = args[args.index("--config") + 1].rsplit("/", 1)[0]
    assert config_dir in {m["mountPath"] for m in container["volumeMounts"]}
    check_spyglass_command(args, f"k8s {name}")
