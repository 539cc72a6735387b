"""The shipped deployments restart what exits and probe what may hang (docs/deployment.md).

Docker Compose and kubeconform are not available offline: the files are parsed with
``yaml.safe_load`` and their restart policies and probes checked here. The systemd units are
checked by ``systemd-analyze verify`` where it exists.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine._wire import HEALTH_PATH

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
SYSTEMD = DEPLOY / "systemd"
LONG_RUNNING = ("worker", "beat", "flower", "api")


def compose() -> dict[str, Any]:
    """deploy/docker-compose.yml's services."""
    services: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())[
        "services"
    ]
    return services


def k8s_objects() -> dict[tuple[str, str], dict[str, Any]]:
    """Every Kubernetes object under deploy/k8s, by (kind, name)."""
    objects = {}
    for path in sorted(K8S.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            name = document.get("metadata", {}).get("name", path.stem)
            objects[(document["kind"], name)] = document
    return objects


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    """The only container of a Deployment's or Job's pod."""
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = only
    return result


def unit(name: str) -> dict[str, list[str]]:
    """A systemd unit's settings: ``Key`` -> its values, in order (keys may repeat)."""
    settings: dict[str, list[str]] = {}
    for line in (SYSTEMD / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


@pytest.mark.parametrize(
    "path", sorted([*DEPLOY.rglob("*.yml"), *DEPLOY.rglob("*.yaml")]), ids=lambda p: p.name
)
def test_every_yaml_file_parses(path: Path) -> None:
    # Given a compose file or a manifest
    # When it is parsed safely
    documents = list(yaml.safe_load_all(path.read_text()))
    # Then it holds at least one mapping
    assert documents
    assert all(isinstance(d, dict) for d in documents)


# --- docker compose -------------------------------------------------------------------------


@pytest.mark.parametrize("service", LONG_RUNNING)
def test_compose_restarts_and_checks_every_long_running_process(service: str) -> None:
    # Given a long-running service of the compose file
    spec = compose()[service]
    # Then it restarts unless stopped, and has a health check
    assert spec["restart"] == "unless-stopped"
    assert spec["healthcheck"]["test"]


def test_compose_runs_the_migrations_once() -> None:
    # Given the release service
    # Then it is not restarted: it runs `stepline db upgrade` to its end
    release = compose()["release"]
    assert release["command"] == ["stepline", "db", "upgrade"]
    assert release["restart"] == "no"


def test_compose_probes_the_worker_by_its_heartbeat_and_the_api_by_its_health_route() -> None:
    # Given the compose file
    services = compose()
    # Then the worker's check is its heartbeat file, which its environment names
    assert services["worker"]["healthcheck"]["test"][1:4] == ["stepline", "health", "worker"]
    assert services["worker"]["environment"]["STEPLINE_HEARTBEAT_FILE"]
    # And the api's check is stepline health api, on the address it serves
    assert services["api"]["healthcheck"]["test"][1:4] == ["stepline", "health", "api"]
    # And Flower listens on every interface of its container (its default is 127.0.0.1)
    assert "--address=0.0.0.0" in services["flower"]["command"]


# --- kubernetes -----------------------------------------------------------------------------


def test_k8s_settings_come_from_a_config_map_and_a_secret() -> None:
    # Given the manifests
    objects = k8s_objects()
    # Then credentials live in the Secret, the rest in the ConfigMap
    secret = objects[("Secret", "stepline-secrets")]["stringData"]
    assert {"STEPLINE_DATABASE_URL", "STEPLINE_BROKER_URL"} <= set(secret)
    assert "STEPLINE_HEARTBEAT_FILE" in objects[("ConfigMap", "stepline-config")]["data"]
    # And every workload reads both
    for (kind, name), obj in objects.items():
        if kind in ("Deployment", "Job"):
            sources = {next(iter(s.values()))["name"] for s in container(obj)["envFrom"]}
            assert sources == {"stepline-config", "stepline-secrets"}, name


def test_k8s_migrates_with_a_job() -> None:
    # Given the migration Job
    job = k8s_objects()[("Job", "stepline-db-upgrade")]
    # Then it runs stepline db upgrade and retries a failed attempt
    assert container(job)["command"] == ["stepline", "db", "upgrade"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"


def test_k8s_worker_liveness_is_its_heartbeat_and_readiness_its_store_and_broker() -> None:
    # Given the worker Deployment
    worker = k8s_objects()[("Deployment", "stepline-worker")]
    spec = container(worker)
    # Then liveness (and startup) is `stepline health worker`
    for probe in ("startupProbe", "livenessProbe"):
        assert spec[probe]["exec"]["command"][:3] == ["stepline", "health", "worker"]
    # And readiness asks the store and the broker
    readiness = " ".join(spec["readinessProbe"]["exec"]["command"])
    assert "stepline health store" in readiness
    assert "stepline health broker" in readiness
    # And a warm shutdown has time to finish running tasks
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60


def test_k8s_runs_exactly_one_beat() -> None:
    # Given the beat Deployment
    beat = k8s_objects()[("Deployment", "stepline-beat")]
    # Then there is one replica, replaced (never run beside its successor) on updates
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"


def test_k8s_api_is_probed_on_its_health_route_behind_a_service() -> None:
    # Given the api Deployment and Service
    objects = k8s_objects()
    spec = container(objects[("Deployment", "stepline-api")])
    # Then both probes GET the health route of stepline serve
    for probe in ("livenessProbe", "readinessProbe"):
        assert spec[probe]["httpGet"]["path"] == HEALTH_PATH
    # And the Service routes to the container's port
    (port,) = objects[("Service", "stepline-api")]["spec"]["ports"]
    assert port["targetPort"] == spec["ports"][0]["name"]
    assert "0.0.0.0" in spec["command"]


def test_k8s_kustomization_lists_every_manifest() -> None:
    # Given kustomization.yaml
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    # Then it names every other manifest
    assert set(listed) == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


# --- systemd --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["worker", "beat", "api"])
def test_systemd_units_restart_always_from_an_environment_file(role: str) -> None:
    # Given a long-running unit
    settings = unit(f"stepline-{role}.service")
    # Then it restarts however it exits, with a pause, reading the settings from a file
    assert settings["Restart"] == ["always"]
    assert settings["RestartSec"]
    assert settings["EnvironmentFile"] == ["/etc/stepline/stepline.env"]
    assert settings["ExecStart"][0].split()[1] == {"api": "serve"}.get(role, role)
    assert settings["TimeoutStopSec"]


def test_systemd_worker_stops_warm() -> None:
    # Given the worker unit
    settings = unit("stepline-worker.service")
    # Then SIGTERM goes to Celery's main process only, with minutes to finish its tasks
    assert settings["KillSignal"] == ["SIGTERM"]
    assert settings["KillMode"] == ["mixed"]
    assert int(settings["TimeoutStopSec"][0]) >= 60
    # And it writes the heartbeat the health timer checks
    assert settings["Environment"] == unit("stepline-worker-health.service")["Environment"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_units_verify(tmp_path: Path) -> None:
    # Given the units, with the installed stepline replaced by a command that exists here
    for path in SYSTEMD.glob("stepline*"):
        if path.suffix in (".service", ".timer", ".target"):
            text = path.read_text().replace("/opt/stepline/venv/bin/stepline", "/bin/true")
            (tmp_path / path.name).write_text(text)
    # When systemd checks them
    checked = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then it finds nothing to say
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""
