"""The Kubernetes manifests (deploy/k8s/) are what a current cluster would accept, and shaped as production needs.

kubernetes-validate checks every object against the schemas of the newest Kubernetes it ships (strict:
an unknown field fails, as `kubectl apply --validate=strict` would); a deliberately broken object fails
the same check, so the check has teeth. The NetworkPolicies let the API reach only its datastores, DNS
and the egress proxy, and let only the monitoring namespace reach any metrics port. The schema migrates
in a Job, never in a serving pod. The example ConfigMap + Secret pass `flask doctor` in production mode
once their placeholders are filled (scripts/k8s-example-secret.py), and fail it without a push key.
"""
from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_deploy import _documents as deploy_documents

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
SCRIPT = ROOT / "scripts" / "k8s-example-secret.py"
MONITORING = {"kubernetes.io/metadata.name": "monitoring"}
INGRESS_CONTROLLER = {"kubernetes.io/metadata.name": "ingress-nginx"}
METRICS_PORT = 9100
WORKLOADS = ("Deployment", "Job", "CronJob")


def _documents() -> list[dict]:
    return copy.deepcopy(_parsed())  # a test may change what it gets


# The base's objects, as tests/test_deploy.py reads them (kustomization.yaml left out), parsed once.
_parsed = functools.lru_cache(maxsize=1)(deploy_documents)


def _named(kind: str, name: str) -> dict:
    return next(d for d in _documents() if d["kind"] == kind and d["metadata"]["name"] == name)


def _pod_template(doc: dict) -> dict:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]
    return doc["spec"]["template"]


def _validate(doc: dict, version: str | None = None) -> None:
    kv.validate(doc, version or kv.latest_version(), strict=True)


# --- the schemas ---------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["latest", "1.34.0"])
def test_every_manifest_passes_strict_validation(version):
    docs = _documents()
    assert len(docs) >= 30  # every file was read: 11 CronJobs alone
    for doc in docs:
        _validate(doc, None if version == "latest" else version)  # raises ValidationError on a defect


def test_the_newest_schemas_are_a_current_kubernetes():
    major, minor, *_ = (int(p) for p in kv.latest_version().split("."))
    assert (major, minor) >= (1, 34)


def _broken(mutate) -> dict:
    doc = copy.deepcopy(_named("Deployment", "yiwang-api"))
    mutate(doc)
    return doc


@pytest.mark.parametrize("mutate", [
    lambda d: d["spec"]["template"]["spec"]["containers"][0].update(imagePulPolicy="Always"),  # unknown field
    lambda d: d["spec"].update(replicas="three"),  # wrong type
    lambda d: d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"].update(memory=[448]),
    lambda d: d["spec"].pop("selector"),  # a required field missing
], ids=["unknown-field", "string-replicas", "list-quantity", "no-selector"])
def test_a_broken_manifest_fails_the_same_check(mutate):
    _validate(_named("Deployment", "yiwang-api"))  # the original passes
    with pytest.raises(kv.ValidationError):
        _validate(_broken(mutate))


def test_the_command_line_check_fails_on_a_broken_file(tmp_path):
    """scripts/k8s-check.sh runs the command line tool: it must exit non-zero on the same defect."""
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(yaml.safe_dump(_named("Deployment", "yiwang-api")))
    bad.write_text(yaml.safe_dump(_broken(lambda d: d["spec"]["template"]["spec"].update(hostNetwok=True))))
    tool = Path(sys.executable).parent / "kubernetes-validate"
    ok = subprocess.run([str(tool), "--strict", "--quiet", str(good)], capture_output=True, text=True)
    failed = subprocess.run([str(tool), "--strict", "--quiet", str(bad)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert failed.returncode != 0 and "hostNetwok" in failed.stdout + failed.stderr


# --- the network policies ------------------------------------------------------------------------

def _policies() -> list[dict]:
    return [d for d in _documents() if d["kind"] == "NetworkPolicy"]


def _selects(policy: dict, labels: dict) -> bool:
    selector = policy["spec"]["podSelector"]
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        assert expr["operator"] == "In"
        if labels.get(expr["key"]) not in expr["values"]:
            return False
    return True


def _ports(rules: list[dict]) -> set[tuple[str, int]]:
    return {(p.get("protocol", "TCP"), p["port"]) for r in rules for p in r["ports"]}


def test_the_namespace_denies_everything_first():
    deny = next(p for p in _policies() if p["spec"]["podSelector"] == {})
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny["spec"].get("ingress") and not deny["spec"].get("egress")


def test_every_workload_has_its_own_ingress_and_egress_policy():
    policies = _policies()
    for doc in (d for d in _documents() if d["kind"] in WORKLOADS):
        labels = _pod_template(doc)["metadata"]["labels"]
        own = [p for p in policies if p["spec"]["podSelector"] and _selects(p, labels)]
        assert len(own) == 1, (doc["metadata"]["name"], [p["metadata"]["name"] for p in own])
        assert set(own[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}, doc["metadata"]["name"]


def test_the_api_reaches_only_its_datastores_dns_and_the_egress_proxy():
    api = _named("NetworkPolicy", "yiwang-api")["spec"]
    assert _ports(api["egress"]) == {("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 6379), ("TCP", 26379),
                                     ("TCP", 3128)}
    for rule in api["egress"]:
        assert rule.get("to") and rule.get("ports"), rule  # no rule opens every destination or port
        assert all("ipBlock" not in peer for peer in rule["to"])  # internet hosts go through the proxy
    by_port = {p["port"]: r["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
               for r in api["egress"] for p in r["ports"]}
    assert by_port == {53: "kube-system", 5432: "db", 6379: "cache", 26379: "cache", 3128: "egress"}
    proxy = next(d for d in _documents() if d["kind"] == "ConfigMap")["data"]["HTTPS_PROXY"]
    assert proxy.startswith("http://egress-proxy.egress.svc") and proxy.endswith(":3128")


def test_http_comes_only_from_the_ingress_controller_and_metrics_only_from_monitoring():
    for policy in _policies():
        for rule in policy["spec"].get("ingress") or []:
            assert rule.get("from") and rule.get("ports"), (policy["metadata"]["name"], rule)
            sources = [peer["namespaceSelector"]["matchLabels"] for peer in rule["from"]]
            ports = {p["port"] for p in rule["ports"]}
            if METRICS_PORT in ports:
                assert ports == {METRICS_PORT} and sources == [MONITORING], policy["metadata"]["name"]
            else:
                assert ports == {8000} and sources == [INGRESS_CONTROLLER], policy["metadata"]["name"]
    for name in ("yiwang-api", "yiwang-stream"):
        assert _ports(_named("NetworkPolicy", name)["spec"]["ingress"]) == {("TCP", 8000), ("TCP", METRICS_PORT)}
    assert _ports(_named("NetworkPolicy", "yiwang-worker")["spec"]["ingress"]) == {("TCP", METRICS_PORT)}
    for name in ("yiwang-jobs", "yiwang-sealer-and-migrate"):
        assert _named("NetworkPolicy", name)["spec"]["ingress"] == []


def test_only_the_api_the_worker_and_the_jobs_leave_the_cluster():
    """The stream server, the sealer and the migration never need an outside host: no proxy egress."""
    leaving = {p["metadata"]["name"] for p in _policies()
               if any(p_["port"] == 3128 for r in p["spec"].get("egress") or [] for p_ in r["ports"])}
    assert leaving == {"yiwang-api", "yiwang-worker", "yiwang-jobs"}


# --- the workloads -------------------------------------------------------------------------------

def test_the_migration_is_a_job_and_no_deployment_migrates():
    job = _named("Job", "yiwang-migrate")
    assert _pod_template(job)["spec"]["containers"][0]["command"] == ["flask", "--app", "wsgi", "db", "upgrade"]
    assert _pod_template(job)["spec"]["restartPolicy"] == "Never"
    for doc in (d for d in _documents() if d["kind"] in ("Deployment", "CronJob")):
        spec = _pod_template(doc)["spec"]
        assert not spec.get("initContainers"), doc["metadata"]["name"]
        assert all("upgrade" not in c.get("command", []) for c in spec["containers"]), doc["metadata"]["name"]
    config = next(d for d in _documents() if d["kind"] == "ConfigMap")["data"]
    assert config["AUTO_MIGRATE"] == "0" and config["NOTIFY_WORKER_IN_PROCESS"] == "0"


def test_the_sealer_and_the_worker_are_separate_workloads():
    sealer = _named("Deployment", "yiwang-audit-sealer")
    assert sealer["spec"]["replicas"] == 1 and sealer["spec"]["strategy"] == {"type": "Recreate"}
    assert _pod_template(sealer)["spec"]["containers"][0]["command"][3:5] == ["audit", "seal"]
    worker = _pod_template(_named("Deployment", "yiwang-worker"))["spec"]["containers"]
    assert [c["command"] for c in worker] == [["flask", "--app", "wsgi", "notify", "worker"]]


def test_every_pod_is_restricted_and_sized():
    """Pod Security "restricted" (namespace.yaml enforces it) and requests/limits on every container."""
    namespace = next(d for d in _documents() if d["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for doc in (d for d in _documents() if d["kind"] in WORKLOADS):
        spec = _pod_template(doc)["spec"]
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] and pod["runAsUser"] == 10001 and pod["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["readOnlyRootFilesystem"] is True
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]) and c["resources"]["limits"]["memory"]


# --- the example ConfigMap + Secret through flask doctor -----------------------------------------

def _doctor(tmp_path: Path, *drop: str) -> subprocess.CompletedProcess:
    args = [sys.executable, str(SCRIPT), "--doctor", "--var-dir", str(tmp_path / "var")]
    for key in drop:
        args += ["--drop", key]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_filled_example_has_every_value_in_shape(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from app.crypto import x509

    out = subprocess.run([sys.executable, str(SCRIPT), "--var-dir", str(tmp_path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    env = json.loads(out.stdout)
    assert not [k for k, v in env.items() if "CHANGE-ME" in v]
    assert env["APP_ENV"] == "production" and env["DATABASE_URL"].startswith("sqlite:///" + str(tmp_path))
    assert isinstance(load_pem_private_key(env["JWT_SIGNING_KEY"].encode(), None), Ed25519PrivateKey)
    assert x509.load_certificate(env["PLATFORM_CA_CERT"]).ca
    assert json.loads(env["FCM_SERVICE_ACCOUNT"])["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    again = json.loads(subprocess.run([sys.executable, str(SCRIPT), "--var-dir", str(tmp_path)], cwd=ROOT,
                                      capture_output=True, text=True, timeout=120, check=True).stdout)
    assert again["DATA_ENCRYPTION_KEY"] != env["DATA_ENCRYPTION_KEY"]  # fresh each run, never a fixed secret


@pytest.mark.slow
def test_the_example_configmap_and_secret_pass_the_doctor_in_production(tmp_path):
    result = _doctor(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()
            if line and not line.startswith((" ", "check", "{")) and len(line.split()) > 1}
    assert rows["config"] == "OK" and rows["keys"] == "OK" and rows["keystore"] == "OK"
    assert rows["migrations"] == "OK" and rows["pki"] == "OK"
    assert "production: nothing a production start would refuse" in result.stdout
    assert "FAIL" not in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("key", ["APNS_KEY_ID", "JPUSH_MASTER_SECRET", "APNS_TOPIC"])
def test_the_doctor_fails_without_a_push_key(tmp_path, key):
    """APNS_KEY_ID and JPUSH_MASTER_SECRET come from the Secret, APNS_TOPIC from the ConfigMap."""
    result = _doctor(tmp_path, key)
    assert result.returncode != 0
    assert f"{key} is not set (a secret production needs)" in result.stdout


# --- the overlays (scripts/k8s-render.py: kustomize's fields the overlays use) -------------------

def _render(overlay: str) -> list[dict]:
    from importlib import util

    spec = util.spec_from_file_location("k8s_render", ROOT / "scripts" / "k8s-render.py")
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.render(K8S / "overlays" / overlay) if overlay else None


def test_the_base_lists_every_manifest():
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


@pytest.mark.slow
@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_overlay_renders_to_valid_objects_in_its_namespace(overlay):
    _, docs = _render(overlay)
    assert {(d["kind"], d["metadata"]["name"]) for d in docs if d["kind"] != "Namespace"} == \
        {(d["kind"], d["metadata"]["name"]) for d in _documents() if d["kind"] != "Namespace"}
    namespace = next(d for d in docs if d["kind"] == "Namespace")["metadata"]["name"]
    assert namespace == {"dev": "yiwang-dev", "prod": "yiwang"}[overlay]
    for doc in docs:
        _validate(doc)
        assert doc["kind"] == "Namespace" or doc["metadata"]["namespace"] == namespace


def test_the_dev_overlay_patches_only_what_it_names():
    _, docs = _render("dev")
    get = lambda kind, name: next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)  # noqa: E731
    api = get("Deployment", "yiwang-api")
    assert api["spec"]["replicas"] == 1
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "150m", "memory": "448Mi"}
    base_container = _named("Deployment", "yiwang-api")["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"] == base_container["readinessProbe"]  # merged, not replaced
    assert container["image"] == "registry.example.gov.cn/yiwang/api-dev:main"
    stream_env = {e["name"]: e["value"] for e in get("Deployment", "yiwang-stream")["spec"]["template"]["spec"]
                  ["containers"][0]["env"]}
    assert stream_env == {"STREAM_MAX_PER_PROCESS": "200", "DB_POOL_SIZE": "16"}  # env merged on `name`
    config = get("ConfigMap", "yiwang-config")["data"]
    assert config["LOG_LEVEL"] == "DEBUG" and config["APP_ENV"] == "production" and config["PUSH_CHANNELS"]
    assert get("HorizontalPodAutoscaler", "yiwang-api")["spec"]["minReplicas"] == 1
    assert all(c["image"].endswith("api-dev:main") for d in docs if d["kind"] in WORKLOADS
               for c in _pod_template(d)["spec"]["containers"])


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path):
    module, _ = _render("")
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [" + str(K8S) + "]\ncommonLabels: {team: x}\n")
    with pytest.raises(module.RenderError, match="commonLabels"):
        module.render(tmp_path)
    (tmp_path / "kustomization.yaml").write_text(f"resources: [{K8S}]\nreplicas: [{{name: nope, count: 2}}]\n")
    with pytest.raises(module.RenderError, match="nope"):
        module.render(tmp_path)
