"""Partner notifications: signed, retried with backoff, never lost or doubled."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import sqlalchemy as sa

import api.models
from api.webhooks.service import UnsafeUrl, backoff, check_url, deliver_due
from tests.helpers import assert_problem


class Receiver:
    """A partner's endpoint on loopback that can be down for a while."""

    def __init__(self) -> None:
        self.up = True
        self.received: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not owner.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                owner.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://crm.example.org/x",
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://192.168.0.5/x",
        "https://[::1]/x",
        "https://localhost/x",
        "https://user:pw@example.org/x",
        "ftp://example.org/x",
    ],
)
def test_production_refuses_unsafe_webhook_urls(url):
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_private=False)


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [5, 10, 20]
    assert backoff(30).total_seconds() == 3600


async def test_events_survive_a_receiver_outage_without_loss_or_doubles(
    client, app, db, receiver, admin, volunteer, partner
):
    registered = await client.put(
        "/partners/madi/webhook", headers=admin, json={"url": receiver.url}
    )
    assert registered.status_code == 200
    secret = registered.json()["secret"]
    assert "secret" not in (await client.get("/partners/madi/webhook", headers=admin)).json()
    resident = (
        await client.post("/residents", headers=volunteer, json={"room": "multibron"})
    ).json()
    referral = (
        await client.post(
            "/referrals",
            headers=volunteer,
            json={
                "room": "multibron",
                "partner": "madi",
                "residentId": resident["id"],
                "reason": "debt help",
            },
        )
    ).json()
    await client.post(
        f"/referrals/{referral['id']}/transitions", headers=partner, json={"to": "accepted"}
    )
    outbox = api.models.metadata.tables["outbox_event"]

    def make_due() -> None:  # skip the backoff wait
        with db.engine.begin() as conn:
            conn.execute(outbox.update().values(next_attempt_at=sa.func.now()))

    engine = app.state.engine
    async with httpx.AsyncClient(timeout=5) as http:
        receiver.up = False
        for _ in range(3):
            await deliver_due(engine, http, allow_private=True)
            make_due()
        assert receiver.received == []
        receiver.up = True
        for _ in range(3):
            await deliver_due(engine, http, allow_private=True)
            make_due()
    ids = [r["headers"]["X-BWK-Delivery"] for r in receiver.received]
    assert len(ids) == 2 == len(set(ids))
    types = [json.loads(r["body"])["type"] for r in receiver.received]
    assert types == ["referral.created", "referral.status_changed"]
    for item in receiver.received:
        parts = dict(p.split("=") for p in item["headers"]["X-BWK-Signature"].split(","))
        expected = hmac.new(
            secret.encode(), f"{parts['t']}.".encode() + item["body"], hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(parts["v1"], expected)
        assert "debt help" not in item["body"].decode()  # ids and states, no person
    log = (await client.get("/partners/madi/webhook/deliveries", headers=admin)).json()["items"]
    assert sum(1 for d in log if d["statusCode"] == 503) == 6
    assert sum(1 for d in log if d["statusCode"] == 204) == 2


async def test_no_outbox_event_for_a_partner_without_webhook(client, db, volunteer):
    resident = (
        await client.post("/residents", headers=volunteer, json={"room": "multibron"})
    ).json()
    await client.post(
        "/referrals",
        headers=volunteer,
        json={
            "room": "multibron",
            "partner": "pozo",
            "residentId": resident["id"],
            "reason": "housing",
        },
    )
    with db.engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).select_from(api.models.metadata.tables["outbox_event"])
        ).scalar_one()
    assert count == 0


async def test_only_admins_manage_webhooks(client, coordinator, admin):
    assert_problem(
        await client.put(
            "/partners/madi/webhook", headers=coordinator, json={"url": "https://example.org"}
        ),
        403,
    )
    assert_problem(
        await client.put(
            "/partners/nobody/webhook", headers=admin, json={"url": "https://example.org"}
        ),
        404,
    )
