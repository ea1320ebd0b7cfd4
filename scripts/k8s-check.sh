#!/usr/bin/env bash
# `make k8s-check`: the Kubernetes manifests are what a cluster would accept, and the example ConfigMap +
# Secret are what production needs (deploy/k8s/README.md).
#   1. every overlay (deploy/k8s/overlays/*) renders (scripts/k8s-render.py: no kustomize/kubectl here);
#   2. kubernetes-validate --strict (unknown fields fail) on the base's manifests (deploy/k8s/*.yaml but
#      kustomization.yaml) and on each rendered overlay, against the newest Kubernetes its schemas ship and
#      against 1.34, the oldest version these manifests are meant for;
#   3. `flask --app wsgi db upgrade` + `flask --app wsgi doctor` in production mode on the ConfigMap + the
#      example Secret of the base and of each overlay, CHANGE-ME placeholders filled with fresh values of the
#      right shape (scripts/k8s-example-secret.py), on a throwaway SQLite file and the embedded Redis (or
#      K8S_CHECK_DATABASE_URL / K8S_CHECK_REDIS_URL, e.g. postgresql://postgres@127.0.0.1:5432/test and
#      redis://127.0.0.1:6379/14): every check must pass (the calendar may warn);
#   4. the same without one push key (APNS_KEY_ID) must fail: the check in 3 can fail.
# Exit status non-zero when any step fails.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
status=0
work=$(mktemp -d -t yiwang-k8s-check-XXXXXX)
trap 'rm -rf "$work"' EXIT

latest=$($PY -c "import kubernetes_validate; print(kubernetes_validate.latest_version())") || {
    echo "k8s-check: kubernetes-validate is not installed (make install-test)"; exit 1; }

base=$(ls deploy/k8s/*.yaml | grep -v '/kustomization.yaml$')
rendered=""
for overlay in deploy/k8s/overlays/*/; do
    name=$(basename "$overlay")
    echo "--- render overlays/$name"
    if $PY scripts/k8s-render.py "$overlay" --out "$work/overlay-$name.yaml"; then
        echo "ok: $(grep -c '^kind:' "$work/overlay-$name.yaml") objects"
        rendered="$rendered $work/overlay-$name.yaml"
    else
        echo "FAIL: overlays/$name does not render"; status=1
    fi
done

for version in "$latest" 1.34.0; do
    echo "--- kubernetes-validate --strict -k $version: the base and every rendered overlay"
    # shellcheck disable=SC2086
    if .venv/bin/kubernetes-validate --strict --quiet -k "$version" $base $rendered; then
        echo "ok: $(echo $base | wc -w) base files and $(echo $rendered | wc -w) overlays valid against Kubernetes $version"
    else
        echo "FAIL: rejected by the Kubernetes $version schemas"; status=1
    fi
done

for manifests in deploy/k8s/configmap.yaml $rendered; do
    label=$(basename "$manifests" .yaml)
    echo "--- flask doctor, production mode: $label (ConfigMap + the filled example Secret)"
    mkdir -p "$work/var-$label"
    if $PY scripts/k8s-example-secret.py --doctor --manifests "$manifests" --var-dir "$work/var-$label" \
            --database-url "${K8S_CHECK_DATABASE_URL:-}" --redis-url "${K8S_CHECK_REDIS_URL:-}"; then
        echo "ok: $label passes flask doctor in production mode"
    else
        echo "FAIL: flask doctor refuses $label"; status=1
    fi
done

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
