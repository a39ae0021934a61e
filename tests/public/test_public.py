"""The assignments in the open (report advice 4.2.3): anyone reads each room's assignment and
each partner's, with the realised figures per quarter exactly as the district sees them (small
counts hidden); never a person, an account or a referral; cacheable with an ETag."""

import csv
import io
from importlib import resources

from tests.helpers import assert_problem, headers_for

NAME = "Wilhelmina Zuidoostwijk"
Q1_DAY = "2026-02-10"
PAGE = "/public/assignments"


def _targets_2019():
    text = resources.files("api.reference").joinpath("targets-2019.csv").read_text("utf-8")
    return {(r["room"], r["indicator"]): int(r["value"]) for r in csv.DictReader(io.StringIO(text))}


async def _resident(client, headers, name=None):
    body = {"room": "multibron", **({"name": name} if name else {})}
    made = await client.post("/residents", headers=headers, json=body)
    assert made.status_code == 201, made.text
    return made.json()


async def _help(client, headers, resident_id, activity="forms", day=Q1_DAY):
    given = {
        "room": "multibron",
        "activity": activity,
        "occurredOn": day,
        "residentId": resident_id,
    }
    made = await client.post("/registrations", headers=headers, json=given)
    assert made.status_code == 201, made.text


async def test_anyone_reads_each_rooms_assignment_without_signing_in(client):
    answer = await client.get(PAGE, params={"year": 2019})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "public, max-age=300"
    body = answer.json()
    rooms = {r["room"]: r for r in body["rooms"]}
    assert set(rooms) == {"casa-jepie-makandra", "de-handreiking", "multibron", "samen-sterk"}
    targets = _targets_2019()
    for slug, room in rooms.items():
        for a in room["activities"]:
            assert a["target"] == targets.get((slug, a["activity"])), (slug, a)
        # 2019 is over: all four quarters
        assert [q["quarter"] for q in room["quarters"]] == [1, 2, 3, 4]
    multibron = rooms["multibron"]
    assert multibron["labelNl"] == "MultiBron"
    assert {"activity": "forms", "labelNl": "Formulieren"}.items() <= next(
        a for a in multibron["activities"] if a["activity"] == "forms"
    ).items()
    # the 2019 grants: one joint for three rooms, one incidental for Samen Sterk alone
    (joint,) = multibron["subsidies"]
    assert joint["joint"] is True and joint["kind"] == "structural"
    assert joint["amount"] == "189000.00"
    assert {r["room"] for r in joint["rooms"]} == {
        "casa-jepie-makandra",
        "multibron",
        "de-handreiking",
    }
    (own,) = rooms["samen-sterk"]["subsidies"]
    assert (own["joint"], own["kind"], own["amount"]) == (False, "incidental", "59000.00")
    assert "languages" in multibron and "openingHours" in multibron
    assert {p["partner"] for p in body["partners"]} >= {"madi", "pbazo", "pozo", "venzo"}

    one = await client.get(PAGE, params={"year": 2019, "room": "samen-sterk"})
    assert [r["room"] for r in one.json()["rooms"]] == ["samen-sterk"]
    assert_problem(await client.get(PAGE, params={"year": 2019, "room": "nowhere"}), 400)


async def test_it_never_shows_a_person_an_account_or_a_referral(client, coordinator, admin):
    resident = await _resident(client, coordinator, NAME)
    await _help(client, coordinator, resident["id"])
    referral = await client.post(
        "/referrals",
        headers=coordinator,
        json={
            "room": "multibron",
            "partner": "madi",
            "residentId": resident["id"],
            "reason": "debts",
        },
    )
    assert referral.status_code == 201, referral.text
    users = (await client.get("/users", headers=admin, params={"limit": 500})).json()["items"]
    secrets = [NAME, resident["code"], resident["id"], referral.json()["id"]]
    secrets += [u["username"] for u in users] + [u["id"] for u in users]
    for fmt in ("json", "csv", "html"):
        answer = await client.get(PAGE, params={"year": 2026, "format": fmt})
        assert answer.status_code == 200
        shown = [s for s in secrets if s in answer.text]
        assert not shown, (fmt, shown)


async def test_small_counts_are_hidden_exactly_as_the_district_sees_them(
    client, coordinator, stadsdeel
):
    for _ in range(2):
        await _help(client, coordinator, (await _resident(client, coordinator))["id"])
    public = (await client.get(PAGE, params={"year": 2026})).json()
    q1 = next(q for r in public["rooms"] if r["room"] == "multibron" for q in r["quarters"])
    assert q1["quarter"] == 1
    visitors = next(f for f in q1["indicators"] if f["indicator"] == "unique-visitors")
    assert visitors["realised"] is None  # two people: too few to show
    assert q1["disclosureControl"]["applied"] is True

    for q in range(1, 5):
        seen = await client.get(
            "/indicators/performance",
            headers=stadsdeel,
            params={"year": 2026, "quarter": q},
        )
        district = {
            (r["room"], f["indicator"]): f["realised"]
            for r in seen.json()["rooms"]
            for f in r["indicators"]
        }
        for room in public["rooms"]:
            for f in room["quarters"][q - 1]["indicators"]:
                assert f["realised"] == district[(room["room"], f["indicator"])]
        totals = {f["indicator"]: f["realised"] for f in seen.json()["totals"]["indicators"]}
        for f in public["district"]["quarters"][q - 1]["indicators"]:
            assert f["realised"] == totals[f["indicator"]]


async def test_a_portal_polls_cheaply_with_the_etag(client, admin):
    first = await client.get(PAGE, params={"year": 2019})
    tag = first.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    assert "no-store" not in first.headers["cache-control"]
    again = await client.get(PAGE, params={"year": 2019}, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    # each format is its own body, with its own tag
    as_csv = await client.get(PAGE, params={"year": 2019, "format": "csv"})
    assert as_csv.headers["etag"] != tag
    # a change shows: a new tag, and the old one no longer answers 304
    put = await client.put(
        "/partners/pozo/assignment", headers=admin, json={"text": "Ouderen in de wijk"}
    )
    assert put.status_code == 200, put.text
    changed = await client.get(PAGE, params={"year": 2019}, headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    # other answers still may not be stored
    assert (await client.get("/rooms")).headers["cache-control"] == "no-store"


async def test_csv_and_html_carry_the_dutch_labels(client, admin):
    await client.put(
        "/partners/pbazo/assignment",
        headers=admin,
        json={"text": "Schuld & <hulp> voor bewoners", "activities": ["debt-and-budget"]},
    )
    sheet = await client.get(PAGE, params={"year": 2019}, headers={"Accept": "text/csv"})
    assert sheet.headers["content-type"].startswith("text/csv")
    assert sheet.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["jaar", "kamer", "kwartaal"]
    assert rows[1][:3] == ["2019", "Casa Jepie Makandra", "1"]
    assert any(r[1] == "Totaal" and r[5] == "Unieke bezoekers" for r in rows)
    assert not any(c.startswith(("=", "+", "@")) for r in rows for c in r)

    page = await client.get(PAGE, params={"year": 2019}, headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "<script" not in text.lower()
    assert "http://" not in text and "https://" not in text and "src=" not in text
    assert "Formulieren" in text and "MultiBron" in text
    assert "Schuld &amp; &lt;hulp&gt; voor bewoners" in text
    assert "gezamenlijk" in text  # the joint grant says so
    assert "'unsafe-inline'" in page.headers["content-security-policy"]
    assert "script" not in page.headers["content-security-policy"]


async def test_only_an_admin_enters_a_partners_assignment_and_it_is_audited(client, admin):
    body = {"text": "Maatschappelijke dienstverlening", "activities": ["forms", "debt-and-budget"]}
    for who in ("stadsdeel", "coordinator.multibron", "madi"):
        denied = await client.put(
            "/partners/madi/assignment", headers=await headers_for(client, who), json=body
        )
        assert_problem(denied, 403)
    assert_problem(await client.put("/partners/madi/assignment", json=body), 401)

    wrong = await client.put(
        "/partners/madi/assignment",
        headers=admin,
        json={"text": "", "activities": ["juggling"]},
    )
    problem = assert_problem(wrong, 400)
    assert {p["name"] for p in problem["invalidParams"]} >= {"text"}
    unknown = await client.put(
        "/partners/madi/assignment",
        headers=admin,
        json={"text": "Goed", "activities": ["juggling"]},
    )
    assert [p["name"] for p in assert_problem(unknown, 400)["invalidParams"]] == ["activities.0"]
    assert_problem(await client.put("/partners/nobody/assignment", headers=admin, json=body), 404)

    done = await client.put("/partners/madi/assignment", headers=admin, json=body)
    assert done.status_code == 200, done.text
    assert [a["labelNl"] for a in done.json()["activities"]] == [
        "Formulieren",
        "Schuldhulptoeleiding en budgetadvies",
    ]
    shown = (await client.get(PAGE, params={"year": 2026})).json()["partners"]
    madi = next(p for p in shown if p["partner"] == "madi")
    assert madi["assignment"] == body["text"]

    events = await client.get(
        "/audit-events", headers=admin, params={"action": "partner.assignment"}
    )
    (event,) = events.json()["items"]
    assert event["objectId"] == "madi"
