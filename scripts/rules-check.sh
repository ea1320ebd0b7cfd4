#!/usr/bin/env bash
# `make rules-check`: the Prometheus rules (deploy/prometheus/rules/) checked and unit-tested by
# Prometheus's own promtool, after making sure the generated files match the SLO table
# (deploy/prometheus/slos.py). No promtool: say so, and fail only when REQUIRE_PROMTOOL=1 (CI), so
# a laptop without Prometheus can still run `make` targets that depend on this one.
set -euo pipefail
cd "$(dirname "$0")/.."

PROMTOOL="${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}"  # Debian: /usr/bin/promtool
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3

"$PYTHON" deploy/prometheus/slos.py --check

if [ ! -x "$PROMTOOL" ]; then
    echo "rules-check: promtool not found at $PROMTOOL (Debian: apt-get install prometheus; or set PROMTOOL=)." >&2
    if [ "${REQUIRE_PROMTOOL:-0}" = 1 ]; then
        echo "rules-check: REQUIRE_PROMTOOL=1: failing." >&2
        exit 1
    fi
    echo "rules-check: skipped (REQUIRE_PROMTOOL=1 makes this an error)." >&2
    exit 0
fi

"$PROMTOOL" check rules deploy/prometheus/rules/*.yml
# promtool resolves a test file's rule_files from the test file's directory
cd deploy/prometheus/tests
"$PROMTOOL" test rules ./*.test.yml
