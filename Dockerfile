# The API for production: pinned dependencies, non-root, waits for the database and migrates.

# Build stage: install into a venv, so the final image gets the venv and no pip leftovers.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# The lock before the code, so a code change does not reinstall the dependencies.
COPY requirements/ requirements/
# The lock has hashes: every package is checked against it.
RUN pip install --no-cache-dir --require-hashes -r requirements/app.lock
COPY pyproject.toml ./
COPY api/ api/
# --no-deps: the dependencies come from the lock only; this adds the `bwk` command.
RUN pip install --no-cache-dir --no-deps .

FROM python:3.11-slim
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home bwk
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
# Import api from /app (the code that was copied), beside alembic.ini and alembic/.
ENV PYTHONPATH=/app
# matplotlib (the accountability charts) keeps its font cache here, not in a missing home
ENV MPLCONFIGDIR=/tmp/matplotlib
ENV BWK_MODE=production
WORKDIR /app
COPY alembic.ini ./
COPY alembic/ alembic/
COPY api/ api/
COPY docker/entrypoint.sh docker/entrypoint.sh
# Code stays root-owned (read-only to the service); only ./data (demo SQLite) is writable.
RUN mkdir data && chown bwk:bwk data
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8000
# Liveness only (slim has no curl); readiness is /api/v1/health/ready for load balancers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${PORT:-8000}/api/v1/health', timeout=4)"
# Through sh, so the script needs no executable bit; it execs the server, which becomes PID 1.
ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
