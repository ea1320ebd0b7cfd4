#!/usr/bin/env bash
# `make image-smoke`: build the Docker image and smoke-test it, where a container engine answers.
#   with docker or podman: build; start it (development settings, its own keys and embedded Redis) and wait
#     for GET /healthz 200; `flask --app wsgi doctor` with the image's production defaults and no secrets
#     fails cleanly (exit 1, the missing secrets listed, no traceback); the process runs as uid 10001, not root.
#   always (also without an engine): every COPY source exists, the CMD's module (serve.py) and the app
#     module it serves (wsgi:app) import, .dockerignore keeps secrets and local state out of the context.
# Without an engine the build and run are skipped with a message saying why; exit 0 then, unless a static
# check failed.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
status=0
fail() { echo "FAIL: $*"; status=1; }

echo "--- static checks (no engine needed)"
while read -r src; do
    [ -e "$src" ] || fail "COPY source $src does not exist"
done < <(awk '/^COPY / && $2 !~ /^--/ { for (i = 2; i < NF; i++) print $i }' Dockerfile)
cmd=$(sed -n 's/^CMD \[\(.*\)\]$/\1/p' Dockerfile)
[ "$cmd" = '"python", "serve.py"' ] || fail "CMD is $cmd, expected [\"python\", \"serve.py\"]"
$PY - <<'PYEOF' || status=1
import ast, importlib, sys
sys.path.insert(0, ".")
importlib.import_module("serve")  # the CMD's module: granian and its own imports, without serving
tree = ast.parse(open("wsgi.py").read())
assert any(isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "app" for t in n.targets) for n in tree.body), \
    "wsgi.py defines no `app` (serve.py serves wsgi:app)"
importlib.import_module("app")  # the factory wsgi.py calls
print("ok: serve.py imports; wsgi.py defines app")
PYEOF
for pattern in .git .venv var/ .env '**/.env' '**/*.pem' '**/*.key' '**/*.p8' tests/ .ci/; do
    grep -qxF -- "$pattern" .dockerignore || fail ".dockerignore does not exclude $pattern"
done
user=$(awk '/^USER /{u=$2} END{print u}' Dockerfile)
case "${user%%:*}" in ""|root|0) fail "the image's USER is '${user}' (root)";; esac
[ "$status" -eq 0 ] && echo "ok: COPY sources exist, .dockerignore excludes secrets and local state, USER $user"

engine=""
for candidate in docker podman; do
    if command -v "$candidate" >/dev/null 2>&1; then
        if why=$("$candidate" info 2>&1 >/dev/null) && "$candidate" info >/dev/null 2>&1; then
            engine=$candidate; break
        fi
        reason="$candidate info: $(printf '%s' "$why" | grep -v '^\s*$' | tail -1)"
    fi
done
if [ -z "$engine" ]; then
    echo "image-smoke: skipped — no container engine here (${reason:-neither docker nor podman is installed})"
    exit "$status"
fi

tag="yiwang:smoke-$$"
name="yiwang-smoke-$$"
cleanup() { "$engine" rm -f "$name" >/dev/null 2>&1; "$engine" rmi -f "$tag" >/dev/null 2>&1; }
trap cleanup EXIT
echo "--- $engine build -t $tag ."
"$engine" build -t "$tag" . || { echo "FAIL: the image does not build"; exit 1; }

echo "--- start (development settings), wait for /healthz"
"$engine" run -d --name "$name" -p 127.0.0.1::8000 -e APP_ENV=development -e AUTO_MIGRATE=1 "$tag" >/dev/null \
    || { echo "FAIL: the container does not start"; exit 1; }
port=$("$engine" port "$name" 8000/tcp | head -1 | sed 's/.*://')
healthy=""
for _ in $(seq 1 60); do
    if $PY -c "import sys, urllib.request; sys.exit(urllib.request.urlopen(sys.argv[1], timeout=2).status != 200)" \
            "http://127.0.0.1:$port/healthz" 2>/dev/null; then healthy=1; break; fi
    sleep 1
done
[ -n "$healthy" ] && echo "ok: /healthz 200 on port $port" || { "$engine" logs "$name" 2>&1 | tail -30; fail "/healthz never answered 200"; }
uid=$("$engine" exec "$name" id -u)
[ "$uid" = "10001" ] && echo "ok: runs as uid $uid" || fail "runs as uid $uid, not 10001"

echo "--- flask doctor with the image's production defaults and no secrets must fail cleanly"
out=$("$engine" run --rm "$tag" flask --app wsgi doctor 2>&1); rc=$?
if [ "$rc" -ne 1 ]; then fail "flask doctor exited $rc, expected 1"
elif printf '%s' "$out" | grep -q Traceback; then fail "flask doctor printed a traceback"
elif ! printf '%s' "$out" | grep -q "JWT_SIGNING_KEY is not set"; then fail "flask doctor did not name the missing secrets"
else echo "ok: flask doctor refused, listing the missing secrets, no traceback"; fi

[ "$status" -eq 0 ] && echo "image-smoke: ok" || echo "image-smoke: FAILED"
exit "$status"
