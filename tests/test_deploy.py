"""Deployment files: the manifests parse and hold what the cluster relies on; the image is non-root."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from app.features import FEATURES

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"


def _documents() -> list[dict]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":  # kustomize's own file (the base's resource list), not an object
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def test_every_manifest_parses_and_names_its_kind():
    docs = _documents()
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "ConfigMap", "Secret",
            "PodDisruptionBudget", "CronJob"} <= kinds
    assert all(d.get("apiVersion") and d["metadata"].get("name") for d in docs)


def _deployment(name: str) -> dict:
    return next(d for d in _documents() if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def test_api_probes_and_sync_workers():
    container = _deployment("yiwang-api")["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"name": "GUNICORN_THREADS", "value": "1"} in container["env"]
    assert container["resources"]["requests"] and container["resources"]["limits"]


def test_stream_path_goes_to_the_async_stream_server(app):
    """Issue 14 item 3: streams are served by `notify stream-server` (no thread per stream), capped."""
    ingresses = [d for d in _documents() if d["kind"] == "Ingress"]
    routes = {p["path"]: p["backend"]["service"]["name"]
              for i in ingresses for rule in i["spec"]["rules"] for p in rule["http"]["paths"]}
    assert routes["/api/v1/notifications/stream"] == "yiwang-stream"
    container = _deployment("yiwang-stream")["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:5] == ["flask", "--app", "wsgi", "notify", "stream-server"]
    assert app.cli.get_command(None, "notify").get_command(None, "stream-server") is not None
    assert int(next(e["value"] for e in container["env"] if e["name"] == "STREAM_MAX_PER_PROCESS")) > 0


def test_worker_and_cronjobs_run_existing_commands(app):
    """Every command a Deployment (but the API's), the migration Job or a CronJob runs exists in the app."""
    docs = _documents()
    templates = [d["spec"]["template"] for d in docs if d["kind"] in ("Deployment", "Job")]
    templates += [d["spec"]["jobTemplate"]["spec"]["template"] for d in docs if d["kind"] == "CronJob"]
    commands = [c["command"] for t in templates for c in t["spec"]["containers"] if "command" in c]
    assert ["flask", "--app", "wsgi", "audit", "seal"] in commands  # the sealer's backstop CronJob
    assert ["flask", "--app", "wsgi", "audit", "seal", "--every", "5"] in commands  # the sealer's Deployment
    assert ["flask", "--app", "wsgi", "db", "upgrade"] in commands  # the migration Job
    assert ["flask", "--app", "wsgi", "notify", "worker"] in commands
    for command in commands:
        assert command[:3] == ["flask", "--app", "wsgi"]
        group = app.cli.get_command(None, command[3])
        assert group is not None, command
        assert group.get_command(None, command[4]) is not None, command


def test_secret_example_holds_placeholders_only():
    secret = next(d for d in _documents() if d["kind"] == "Secret")
    assert all("CHANGE-ME" in value for value in secret["stringData"].values())


def test_dockerfile_is_non_root_with_a_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    user = [line for line in text.splitlines() if line.startswith("USER ")]
    assert user and user[-1].split()[1].split(":")[0] not in ("root", "0")
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert 'CMD ["python", "serve.py"]' in text  # granian (issue 20); gunicorn.conf.py the alternative
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".git" in ignored and ".venv" in ignored and "var/" in ignored


def test_the_image_holds_the_kernel_and_every_feature():
    """Issue 15 moved identity, appointments and proxies into packages of their own: an image without
    one of them would not start. Every package pyproject installs is copied into the image."""
    copied = {line.split()[1] for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("COPY ")}
    assert {"app", *FEATURES} <= copied, sorted({"app", *FEATURES} - copied)
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    assert sorted(name.rstrip("*") for name in include) == sorted({"app", *FEATURES})


def test_metrics_are_scraped_inside_the_cluster_and_never_routed_by_the_ingress():
    """Issue 14 item 9: the Ingress routed /metrics to the internet. Now it reaches only Services'
    `http` ports, no Service exposes the metrics port, Prometheus scrapes the pods' internal port
    (= METRICS_PORT), and a NetworkPolicy admits that port from the monitoring namespace only."""
    docs = _documents()
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    port = int(config["METRICS_PORT"])
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    for ingress in (d for d in docs if d["kind"] == "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["port"] == {"name": "http"} and not path["path"].startswith("/metrics")
                service_ports = services[backend["name"]]["spec"]["ports"]
                assert all(p["targetPort"] not in (port, "metrics") for p in service_ports)
    api = _deployment("yiwang-api")["spec"]["template"]
    assert {"name": "metrics", "containerPort": port} in api["spec"]["containers"][0]["ports"]
    annotations = api["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and int(annotations["prometheus.io/port"]) == port
    assert annotations["prometheus.io/path"] == "/metrics"
    policy = next(d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "yiwang-api")
    rules = [r for r in policy["spec"]["ingress"] if any(p["port"] == port for p in r["ports"])]
    assert rules and all(r.get("from") for r in rules)
