#!/usr/bin/env bash
# `make k8s-check`: the Kubernetes manifests (deploy/k8s/*.yaml) are what a cluster would accept, and the
# example ConfigMap + Secret are what production needs.
#   1. kubernetes-validate --strict (unknown fields fail) against the newest Kubernetes its schemas ship
#      and against 1.34, the oldest version these manifests are meant for;
#   2. `flask --app wsgi db upgrade` + `flask --app wsgi doctor` in production mode on the ConfigMap + the
#      example Secret, its CHANGE-ME placeholders filled with fresh values of the right shape
#      (scripts/k8s-example-secret.py), on a throwaway SQLite file and the embedded Redis (or
#      K8S_CHECK_DATABASE_URL / K8S_CHECK_REDIS_URL, e.g. postgresql://postgres@127.0.0.1:5432/test and
#      redis://127.0.0.1:6379/14): every check must pass;
#   3. the same without one push key (APNS_KEY_ID) must fail: the check in 2 can fail.
# Exit status non-zero when any step fails.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
status=0

latest=$($PY -c "import kubernetes_validate; print(kubernetes_validate.latest_version())") || {
    echo "k8s-check: kubernetes-validate is not installed (make install-test)"; exit 1; }
for version in "$latest" 1.34.0; do
    echo "--- kubernetes-validate --strict -k $version deploy/k8s/*.yaml"
    if .venv/bin/kubernetes-validate --strict --quiet -k "$version" deploy/k8s/*.yaml; then
        echo "ok: $(ls deploy/k8s/*.yaml | wc -l) files valid against Kubernetes $version"
    else
        echo "FAIL: manifests rejected by the Kubernetes $version schemas"; status=1
    fi
done

work=$(mktemp -d -t yiwang-k8s-check-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "--- flask doctor, production mode, on configmap.yaml + the filled example Secret"
mkdir -p "$work/ok"
if $PY scripts/k8s-example-secret.py --doctor --var-dir "$work/ok" \
        --database-url "${K8S_CHECK_DATABASE_URL:-}" --redis-url "${K8S_CHECK_REDIS_URL:-}"; then
    echo "ok: the example ConfigMap + Secret pass flask doctor in production mode"
else
    echo "FAIL: flask doctor refuses the example ConfigMap + Secret"; status=1
fi

echo "--- the same without APNS_KEY_ID (a key PUSH_CHANNELS=apns needs) must fail"
mkdir -p "$work/drop"
if $PY scripts/k8s-example-secret.py --doctor --var-dir "$work/drop" --drop APNS_KEY_ID >"$work/drop.out" 2>&1; then
    cat "$work/drop.out"; echo "FAIL: flask doctor passed without APNS_KEY_ID"; status=1
elif grep -q "APNS_KEY_ID is not set" "$work/drop.out"; then
    echo "ok: refused, naming APNS_KEY_ID"
else
    cat "$work/drop.out"; echo "FAIL: refused, but not for APNS_KEY_ID"; status=1
fi

[ "$status" -eq 0 ] && echo "k8s-check: ok" || echo "k8s-check: FAILED"
exit "$status"
