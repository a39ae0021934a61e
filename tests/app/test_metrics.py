"""GET /metrics: what an operator scrapes, who may scrape it, and figures that add up
across worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

import api.models
from api import metrics
from api.main import create_app
from api.settings import Settings
from tests import databases
from tests.helpers import assert_problem, token_request
from tests.servers import bwk_serve

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


async def test_requests_are_counted_by_route_template_and_status(client):
    before = await scrape(client)
    slug = f"no-such-room-{uuid.uuid4().hex[:8]}"
    assert (await client.get("/rooms")).status_code == 200
    assert (await client.get(f"/rooms/{slug}")).status_code == 404
    assert (await client.get(f"/nothing/{slug}")).status_code == 404
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "bwk_http_requests_total"
    assert grew(requests, method="GET", route="/rooms", status="200") == 1
    assert grew(requests, method="GET", route="/rooms/{slug}", status="404") == 1
    assert grew(requests, method="GET", route="unmatched", status="404") == 1
    # raw paths never become labels: one series per route, however many rooms are asked for
    assert not any(slug in v for _, labels in after for _, v in labels)

    latency = "bwk_http_request_duration_seconds"
    assert grew(f"{latency}_count", method="GET", route="/rooms") == 1
    assert grew(f"{latency}_bucket", method="GET", route="/rooms", le="+Inf") == 1
    buckets = {
        dict(labels)["le"]
        for name, labels in after
        if name == f"{latency}_bucket" and dict(labels).get("route") == "/rooms"
    }
    assert {"0.005", "0.1", "1.0", "10.0", "+Inf"} <= buckets
    assert value(after, "bwk_workers") == 1  # one process: the sums are its own


async def test_pool_gauges_show_a_connection_held_open(app, client):
    before = await scrape(client)
    assert ("bwk_db_pool_waiting", frozenset()) in before
    async with app.state.engine.connect():
        held = await scrape(client)
    after = await scrape(client)
    in_use = "bwk_db_pool_in_use"
    assert value(held, in_use) == value(before, in_use) + 1
    assert value(after, in_use) == value(before, in_use)


async def test_a_failed_sign_in_is_counted(client):
    before = await scrape(client)
    refused = await token_request(
        client, "password", username="volunteer.multibron", password="not-the-password"
    )
    assert refused.status_code == 400
    ok = await token_request(
        client, "password", username="volunteer.multibron", password="demo-password"
    )
    assert ok.status_code == 200
    refused = await token_request(
        client, "client_credentials", client_id="madi", client_secret="not-the-secret"
    )
    assert refused.status_code == 401
    after = await scrape(client)
    failures = "bwk_sign_in_failures_total"
    assert value(after, failures, kind="user") - value(before, failures, kind="user") == 1
    assert value(after, failures, kind="client") - value(before, failures, kind="client") == 1


async def test_the_outbox_backlog_and_the_age_of_its_oldest_event(client, db):
    empty = await scrape(client)
    assert value(empty, "bwk_database_up") == 1
    assert ("bwk_webhook_outbox_backlog", frozenset()) in empty
    assert value(empty, "bwk_webhook_outbox_backlog") == 0
    assert value(empty, "bwk_webhook_outbox_oldest_age_seconds") == 0

    outbox = api.models.metadata.tables["outbox_event"]
    partner = api.models.metadata.tables["partner"]
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        partner_id = conn.execute(sa.select(partner.c.id).limit(1)).scalar_one()
        for age, delivered in ((300, False), (60, False), (900, True)):
            created = now - timedelta(seconds=age)
            conn.execute(
                outbox.insert().values(
                    id=uuid.uuid4(),
                    partner_id=partner_id,
                    type="referral.sent",
                    payload={},
                    created_at=created,
                    attempts=1,
                    next_attempt_at=created,
                    delivered_at=created if delivered else None,
                )
            )
    samples = await scrape(client)
    assert value(samples, "bwk_webhook_outbox_backlog") == 2
    # the delivered event is older, but only what still waits counts
    assert 300 <= value(samples, "bwk_webhook_outbox_oldest_age_seconds") < 400


def _client_at(app, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test/api/v1")


async def test_other_addresses_get_the_answer_of_a_path_that_does_not_exist(app):
    async with _client_at(app, "203.0.113.7") as outsider:
        denied = await outsider.get("/metrics")
        unknown = await outsider.get("/no-such-page")
    assert_problem(denied, 404)
    assert denied.json() == unknown.json()
    assert "bwk_" not in denied.text


async def test_the_setting_names_who_may_read(app_settings):
    settings = app_settings.model_copy(update={"metrics_allow": [ip_network("203.0.113.0/24")]})
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        async with _client_at(application, "203.0.113.7") as inside:
            assert (await inside.get("/metrics")).status_code == 200
        async with _client_at(application, "127.0.0.1") as loopback:
            assert_problem(await loopback.get("/metrics"), 404)


@pytest.mark.parametrize(
    ("host", "allow", "expected"),
    [
        ("127.0.0.1", "127.0.0.0/8,::1", True),
        ("::1", "127.0.0.0/8,::1", True),
        ("::ffff:127.0.0.1", "127.0.0.0/8", True),  # a dual-stack socket's IPv4 peer
        ("10.1.2.3", "127.0.0.0/8,::1", False),
        ("10.1.2.3", "10.0.0.0/8", True),
        ("127.0.0.1", "", False),  # an empty setting: no one
        ("testclient", "127.0.0.0/8", False),
        (None, "127.0.0.0/8", False),
    ],
)
def test_allowed_addresses(host, allow, expected):
    assert metrics.allowed(host, Settings(metrics_allow=allow).metrics_allow) is expected


def test_several_workers_get_a_fresh_directory(monkeypatch, tmp_path):
    # set, then unset: monkeypatch then takes the variable away again at the end, so that no
    # server a later test starts inherits a directory this test removed
    monkeypatch.setenv(metrics.MULTIPROC_ENV, "")
    monkeypatch.delenv(metrics.MULTIPROC_ENV)
    made = metrics.prepare_multiprocess_dir()
    assert os.environ[metrics.MULTIPROC_ENV] == str(made)
    assert made.is_dir() and not any(made.iterdir())
    made.rmdir()

    named = tmp_path / "metrics"
    named.mkdir()
    (named / "counter_1.db").write_bytes(b"figures of an earlier run")
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(named))
    assert metrics.prepare_multiprocess_dir() == named
    assert not any(named.iterdir())


def test_a_named_directory_not_made_yet_is_made(tmp_path):
    """An operator names PROMETHEUS_MULTIPROC_DIR before making it: `bwk` makes it, where the
    library stopped every command at import with FileNotFoundError."""
    named = tmp_path / "not" / "made"
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "--help"],
        env={**os.environ, metrics.MULTIPROC_ENV: str(named)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "serve" in done.stdout
    assert named.is_dir()


def test_a_dead_workers_connections_stop_counting(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for pid in (dead.pid, os.getpid()):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
        (tmp_path / f"counter_{pid}.db").write_bytes(b"")
    metrics._forget_dead_workers(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"counter_{dead.pid}.db", f"counter_{os.getpid()}.db", f"gauge_livesum_{os.getpid()}.db"]
    )


# -- two workers, the real server ------------------------------------------------------


def _scrape(base: str) -> Samples:
    response = httpx.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return parse(response.text)


def _workers_that_counted(metrics_dir: Path) -> set[str]:
    return {p.stem.rsplit("_", 1)[1] for p in metrics_dir.glob("counter_*.db")}


@pytest.mark.slow
@pytest.mark.postgres_only
def test_two_workers_add_up_their_figures(tmp_path):
    databases.require_postgres_for_module()
    db = databases.create("postgresql", "bwk_test_metrics")
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left over from an earlier run")
    try:
        databases.migrate(db.engine)
        databases.seed_demo(db.engine)
        with bwk_serve(
            db.url, metrics_dir, workers=2, BWK_DB_POOL_SIZE="3", BWK_DB_MAX_OVERFLOW="2"
        ) as (base, _):
            total, bad_sign_ins = 240, 6

            def get_rooms(_: int) -> int:
                # a connection each: the kernel hands them to either worker
                return httpx.get(f"{base}/rooms", timeout=30).status_code

            def bad_sign_in(_: int) -> int:
                form = {"grant_type": "password", "username": "nobody", "password": "wrong"}
                return httpx.post(f"{base}/auth/token", data=form, timeout=30).status_code

            with ThreadPoolExecutor(max_workers=12) as load:
                statuses = list(load.map(get_rooms, range(total)))
                refused = list(load.map(bad_sign_in, range(bad_sign_ins)))
            assert statuses == [200] * total
            assert all(s in (400, 429) for s in refused)

            assert len(_workers_that_counted(metrics_dir)) == 2, "only one worker served"
            for _ in range(4):  # whichever worker answers the scrape, the sums are the same
                samples = _scrape(base)
                ok = value(
                    samples, "bwk_http_requests_total", method="GET", route="/rooms", status="200"
                )
                assert ok == total
                assert (
                    value(
                        samples,
                        "bwk_http_request_duration_seconds_count",
                        method="GET",
                        route="/rooms",
                    )
                    == total
                )
                assert value(samples, "bwk_sign_in_failures_total", kind="user") == refused.count(
                    400
                )
                assert value(samples, "bwk_workers") == 2  # the sums are of two workers
                assert value(samples, "bwk_db_pool_in_use") == 0
                assert value(samples, "bwk_db_pool_waiting") == 0
                assert value(samples, "bwk_webhook_outbox_backlog") == 0
    finally:
        databases.dispose(db)
