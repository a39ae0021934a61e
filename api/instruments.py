"""The Prometheus instruments the code counts with: requests, latency, the database pool,
sign-in failures. No web framework here: the pool (`api/db.py`) and the sign-in service
count with them; `api/metrics.py` answers the scrape."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# in multi-process mode the library opens a file in this directory for each instrument as it
# is made, here at import: a directory named but not made yet stopped every `bwk` command
if _multiproc_dir := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    Path(_multiproc_dir).mkdir(parents=True, exist_ok=True)

# the *_created series double the output and mean nothing across restarts and workers
disable_created_metrics()

REQUESTS = Counter(
    "bwk_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "bwk_http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its answer, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
POOL_IN_USE = Gauge(
    "bwk_db_pool_in_use",
    "Database connections checked out of the pool (all workers).",
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "bwk_db_pool_waiting",
    "Requests waiting for a database connection (all workers).",
    multiprocess_mode="livesum",
)
WORKERS = Gauge(
    "bwk_workers",
    "Worker processes serving (each sets 1 while it runs; a scrape adds them up, so the "
    "sums beside it are of this many workers).",
    multiprocess_mode="livesum",
)
SIGN_IN_FAILURES = Counter(
    "bwk_sign_in_failures",
    "Failed sign-ins and password checks: wrong name, password or client secret.",
    ["kind"],
)
