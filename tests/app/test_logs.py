"""Logs carry request ids and figures, never a name, a note, a token or a password."""

import json
import os
from datetime import date, timedelta

import structlog

from api.logging import configure
from tests.helpers import bearer, sign_in, token_request

NAME = "Zwaantje Pietersen-Oudkerk"
NOTE = "schulden bij de woningcorporatie"
CONTACT = "zwaantje@example.org"
WRONG = "Geheim-Wachtwoord-123"


async def test_a_whole_desk_scenario_leaves_no_personal_data_in_the_logs(
    capfd, client, coordinator
):
    await token_request(client, "password", username="volunteer.multibron", password=WRONG)
    tokens = await sign_in(client, "volunteer.multibron")
    headers = bearer(tokens["access_token"])
    created = await client.post(
        "/registrations",
        headers=headers,
        json={
            "room": "multibron",
            "activity": "debt-and-budget",
            "occurredOn": (date.today() - timedelta(days=1)).isoformat(),
            "resident": {"name": NAME, "contact": CONTACT},
            "note": NOTE,
        },
    )
    assert created.status_code == 201
    resident_id = created.json()["residentId"]
    await client.get(f"/residents/{resident_id}", headers=headers)
    await client.get("/registrations", headers=headers, params={"residentId": resident_id})
    await client.post(
        "/residents", headers=headers, json={"room": "multibron", "name": NAME, "bogus": NOTE}
    )
    await client.get(f"/residents/{resident_id}/export", headers=coordinator)
    await client.delete(f"/residents/{resident_id}", headers=coordinator)
    await token_request(client, "refresh_token", refresh_token=tokens["refresh_token"])
    await client.post("/auth/revoke", headers=headers)
    out, err = capfd.readouterr()
    logs = out + err
    assert "request_id" in logs  # the scenario was logged
    for secret in (
        NAME,
        NOTE,
        CONTACT,
        WRONG,
        "demo-password",
        tokens["access_token"],
        tokens["refresh_token"],
    ):
        assert secret not in logs, f"{secret[:12]}... reached the logs"


def test_every_line_names_the_worker_process_that_wrote_it(capfd):
    # `bwk serve` runs several workers on one stream; the request id is not enough to tell
    # which of them to look at
    configure(json=True, level="INFO")
    structlog.get_logger("api.test").info("hello", count=3)
    line = json.loads(capfd.readouterr().err.strip().splitlines()[-1])
    assert (line["event"], line["count"], line["pid"]) == ("hello", 3, os.getpid())
