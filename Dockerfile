# YiWang API image: `docker build -t yiwang .`; the same image runs every workload of deploy/k8s/: the API,
# the stream pool, the notify worker, the audit sealer, the migration Job and the CronJobs.
# `make image-smoke` (scripts/image-smoke.sh) builds and smoke-tests it where a container engine answers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    APP_ENV=production VAR_DIR=/var/lib/yiwang BIND=0.0.0.0:8000

RUN groupadd --system --gid 10001 yiwang \
    && useradd --system --uid 10001 --gid yiwang --home-dir /app --shell /usr/sbin/nologin yiwang \
    && mkdir -p /var/lib/yiwang && chown yiwang:yiwang /var/lib/yiwang

WORKDIR /app
COPY pyproject.toml ./
# the kernel and every feature package (app/features.py; tests/test_deploy.py checks the list)
COPY app ./app
COPY identity ./identity
COPY issuers ./issuers
COPY wallet ./wallet
COPY signing ./signing
COPY mapsvc ./mapsvc
COPY appointments ./appointments
COPY notify ./notify
COPY cases ./cases
COPY proxies ./proxies
COPY consent ./consent
COPY orgs ./orgs
COPY bff ./bff
COPY migrations ./migrations
COPY wsgi.py serve.py gunicorn.conf.py ./
RUN pip install .

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
# The API on granian (serve.py: less server CPU per request than gunicorn, bench/README.md "Servers");
# gunicorn stays a working alternative with the same environment: gunicorn -c gunicorn.conf.py wsgi:app
CMD ["python", "serve.py"]
