# The two commands: `make run` (install, migrate, seed, serve) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export VAR_DIR ?= $(CURDIR)/var

.PHONY: run test install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## Serve the API on http://127.0.0.1:8000 (development: embedded SQLite + Redis, demo data).
run: install
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi calendar check
	$(BIN)/flask --app wsgi demo seed
	AUTO_MIGRATE=0 $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## Run the whole test suite (TEST_DATABASE_URL / TEST_REDIS_URL switch to PostgreSQL / Redis).
test: install-test
	$(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

## The inner loop: the suite without the slow tests (browser, faults, stream servers, concurrency, Redis cluster).
.PHONY: test-fast
test-fast: install-test
	$(BIN)/python -m pytest -p no:cacheprovider -m "not slow and not fuzz" $(PYTEST_ARGS)

## The H5 client's journeys in headless Chromium, each screen written to docs/screens/ (README "Screens").
.PHONY: screens
screens: install-test
	H5_SCREENS=$(CURDIR)/docs/screens $(BIN)/python -m pytest -p no:cacheprovider -q tests/h5 $(PYTEST_ARGS)

## GmSSL 3.1.1 from the easy-gmssl sdist into .tools/gmssl/ (the CMS interop tests use it; README "CMS (GM/T 0010)").
.PHONY: gmssl
gmssl: install
	scripts/build-gmssl.sh

## Import boundaries (issue 15): the contracts in pyproject.toml [tool.importlinter], checked by lint-imports.
.PHONY: lint
lint: install-test
	$(BIN)/lint-imports

## Translations (issue 15): extract the marked Chinese messages (babel.cfg) into the template, then
## merge it into the English catalogue; translate the new entries (tests/kernel/test_catalogue.py).
.PHONY: i18n-extract i18n-update
i18n-extract: install
	$(BIN)/pybabel extract -F babel.cfg --no-wrap --sort-by-file --project YiWang -o app/translations/messages.pot .

i18n-update: install
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations -l en --no-wrap --ignore-obsolete

## Fuzz the OpenAPI document with schemathesis (tests/fuzz; bounded examples per operation).
.PHONY: fuzz
fuzz: install-test
	$(BIN)/python -m pytest -p no:cacheprovider -m fuzz tests/fuzz $(PYTEST_ARGS)

## Benchmarks (not tests): see bench/README.md.
bench: install-test
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var

## Cryptography benchmark (SM2 per backend, SM3, SM4-GCM beside `openssl speed`): see bench/README.md.
.PHONY: bench-crypto
bench-crypto: install-test
	$(BIN)/python bench/crypto.py $(BENCH_ARGS)

## QR image rendering (the wallet's PNG/SVG renderers beside segno and qrcode + PyPNG): see bench/README.md.
.PHONY: bench-qr
bench-qr: install-test
	$(BIN)/python bench/qr.py $(BENCH_ARGS)

## Service map: nearby queries over 1k … 1M halls beside the bare endpoint and a raw Redis GEOSEARCH (bench/README.md).
.PHONY: bench-map
bench-map: install-test
	$(BIN)/python bench/map.py $(BENCH_ARGS)

## Notifications: outbox → inbox + push by the worker (notices/s) and enqueue → SSE latency beside a raw Redis PUBLISH (bench/README.md).
.PHONY: bench-notify
bench-notify: install-test
	$(BIN)/python bench/notify_bench.py $(BENCH_ARGS)

## Mixed mobile workload: the maximum sustainable rate, then a 10-minute soak at 70 % of it (bench/README.md).
.PHONY: bench-load
bench-load: install-test
	$(BIN)/python bench/load/mixed.py $(BENCH_ARGS)

## Instructions per request under valgrind's callgrind, beside bare Flask, with attribution (issue 20; bench/icount/__main__.py).
.PHONY: bench-icount icount-check
bench-icount: install-test
	$(BIN)/python bench/icount $(BENCH_ARGS)

## CI: every case in bench/icount/budget.toml counted; one over its budget by more than the tolerance fails.
icount-check: install-test
	$(BIN)/python bench/icount --no-attribution --n 20 --out var/icount-check.json --check bench/icount/budget.toml

## Which WSGI server (gunicorn sync / gthread / granian): each endpoint and the mixed load as × bare Flask under the
## same server, by wrk (bench/servers/compare.py; bench/README.md "Servers").
.PHONY: bench-servers
bench-servers: install-test
	$(BIN)/python bench/servers/compare.py $(BENCH_ARGS)

## SSE must not hold an API worker: GET /api/v1/me's p99 with 0 and with 1,000 open live streams on the stream
## server, and a live notice reaching them (bench/servers/sse_hold.py; bench/README.md "Servers").
.PHONY: bench-sse-hold
bench-sse-hold: install-test
	$(BIN)/python bench/servers/sse_hold.py $(BENCH_ARGS)

## Issue 21: production posture and scale-out.
## Prometheus recording/alerting rules checked and unit-tested by Prometheus's own promtool (deploy/prometheus/).
.PHONY: rules-check k8s-check image-smoke cluster cluster-down cluster-test
rules-check: install-test
	scripts/rules-check.sh

## The Kubernetes manifests (deploy/k8s/) validated by kubernetes-validate against a current Kubernetes version.
k8s-check: install-test
	scripts/k8s-check.sh

## Build and smoke-test the Docker image where a container engine runs; skipped with a clear message where not.
image-smoke:
	scripts/image-smoke.sh

## On one machine: PostgreSQL, a Redis Cluster (3 masters + 3 replicas), 3 API nodes, 2 outbox workers, behind
## HAProxy with health checks (scripts/cluster/; README "Scaling out"). `make cluster-down` stops it.
cluster: install-test
	$(BIN)/python -m scripts.cluster up $(CLUSTER_ARGS)

cluster-down: install-test
	$(BIN)/python -m scripts.cluster down

## The scripted many-node test (tests/cluster): starts its own cluster, proves the properties, stops it.
cluster-test: install-test
	$(BIN)/python -m pytest -p no:cacheprovider -m cluster tests/cluster -v $(PYTEST_ARGS)

## Memory and CPU of the real processes (API under granian, worker, stream server, sealer) after a warm-up: the
## figures the manifests' resource requests come from (bench/footprint.py; deploy/k8s/README.md).
.PHONY: bench-footprint bench-capacity
bench-footprint: install-test
	$(BIN)/python bench/footprint.py --requests 2000 $(BENCH_ARGS)

## The capacity model: measured cost per journey (instructions, SQL, Redis) → cores, PostgreSQL and Redis at peak
## (bench/capacity.py; README "Capacity model").
bench-capacity: install-test
	$(BIN)/python bench/capacity.py $(BENCH_ARGS)
