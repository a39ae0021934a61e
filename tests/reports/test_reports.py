"""The accountability document (/reports/accountability): every figure in it is the JSON's,
its charts are inline SVG, it needs nothing from outside, and it hides what the JSON hides."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest

from bench import year_2019
from tests.helpers import assert_problem, headers_for

HIDDEN = "\u2013"  # en dash
SOURCES = {
    "performance": "/indicators/performance",
    "referrals": "/indicators/referrals",
    "outcomes": "/indicators/outcomes",
    "efficiency": "/indicators/efficiency",
}


class Document(HTMLParser):
    """The figures (data-figure -> text), the attributes that could fetch something, the
    tags, and the stylesheet of an HTML document."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.links: list[str] = []
        self.tags: list[str] = []
        self.style = ""
        self._open: list[tuple[str, str]] = []  # (tag, figure path) of open figure elements
        self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        self.links += [v or "" for k, v in attrs if k in ("src", "href", "xlink:href", "srcset")]
        if "data-figure" in found:
            self._open.append((tag, found["data-figure"] or ""))
            self.figures[found["data-figure"] or ""] = ""
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            self._open.pop()
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._open:
            path = self._open[-1][1]
            self.figures[path] = (self.figures[path] + data).strip()
        if self._in_style:
            self.style += data


def member(answer: Any, path: str) -> Any:
    for step in path.split("."):
        answer = answer[int(step)] if isinstance(answer, list) else answer[step]
    return answer


def equals(shown: str, value: Any) -> bool:
    """Whether Dutch text (1.234 · 12,5 · 87% · € 1.234,56 · en dash) shows the JSON value, to the
    digits it shows."""
    if value is None:
        return shown == HIDDEN
    if shown == HIDDEN:
        return False
    percent = shown.endswith("%")
    digits = shown.removeprefix("€ ").removesuffix("%").replace(".", "").replace(",", ".")
    number = Decimal(digits)
    decimals = -number.as_tuple().exponent  # type: ignore[operator]
    tolerance = Decimal(5) / Decimal(10) ** (decimals + 1)
    expected = Decimal(str(value)) * (100 if percent else 1)
    if shown.startswith("€ "):
        return number == expected  # money is exact
    return abs(number - expected) <= tolerance


async def _document(client, who: str, **params: Any) -> tuple[Document, str]:
    response = await client.get(
        "/reports/accountability", headers=await headers_for(client, who), params=params
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return Document(response.text), response.text


async def _compare(client, who: str, params: dict[str, Any], skip: set[str] = frozenset()):
    doc, _ = await _document(client, who, **params)
    headers = await headers_for(client, who)
    answers = {}
    for name, path in SOURCES.items():
        response = await client.get(path, headers=headers, params=params)
        assert response.status_code == 200, response.text
        answers[name] = response.json()
    checked, wrong = 0, []
    for path, shown in doc.figures.items():
        source, at = path.split(":", 1)
        if source in skip:
            continue
        value = member(answers[source], at)
        checked += 1
        if not equals(shown, value):
            wrong.append(f"{path}: document {shown!r}, JSON {value!r}")
    assert not wrong, "\n".join(wrong)
    return doc, answers, checked


@pytest.fixture
def year(db):
    year_2019.load(db, referrals=120)


async def test_every_figure_of_the_year_equals_the_json(client, year):
    doc, answers, checked = await _compare(client, "stadsdeel", {"year": 2019})
    perf = answers["performance"]
    # every room, every indicator, the district with the sum of the rooms, every partner line,
    # every outcome and the cooperative's money are in the document
    per_room = sum(len(r["indicators"]) for r in perf["rooms"]) * 3
    assert checked >= per_room + 4 * len(perf["totals"]["indicators"]) + 14
    assert {p.split(":")[0] for p in doc.figures} == set(SOURCES)
    for i in range(len(answers["referrals"]["items"])):
        assert f"referrals:items.{i}.closureRate" in doc.figures
        assert f"referrals:items.{i}.medianDaysToCompletion" in doc.figures
    cooperative = answers["efficiency"]["cooperative"]
    assert doc.figures["efficiency:cooperative.income"] == "€ 399.500,00"
    assert doc.figures["efficiency:cooperative.costs"] == "€ 426.588,00"
    assert doc.figures["efficiency:cooperative.balance"] == "€ -27.088,00"
    assert doc.figures["efficiency:cooperative.fte"] == "6,4"
    assert cooperative["costPerUniqueVisitor"] is not None
    assert "efficiency:cooperative.costPerUniqueVisitor" in doc.figures
    assert "performance:totals.indicators.8.realisedSumOfRooms" in doc.figures


async def test_a_quarter_equals_the_json_too_and_takes_the_money_pro_rata(client, year):
    doc, answers, _ = await _compare(client, "stadsdeel", {"year": 2019, "quarter": 2})
    assert answers["performance"]["period"] == {"start": "2019-04-01", "end": "2019-06-30"}
    assert doc.figures["efficiency:cooperative.fte"] == "6,4"  # a rate, not pro rata
    assert doc.figures["efficiency:cooperative.income"] != "€ 399.500,00"


async def test_a_coordinator_gets_their_own_rooms_in_full(client, year):
    doc, answers, _ = await _compare(client, "coordinator.multibron", {"year": 2019})
    assert [r["room"] for r in answers["performance"]["rooms"]] == ["multibron"]
    assert not answers["performance"]["disclosureControl"]["applied"]
    assert not any(p.startswith("efficiency:cooperative") for p in doc.figures)
    assert HIDDEN not in {doc.figures[p] for p in doc.figures if p.startswith("performance:")}


async def test_the_document_stands_alone_and_prints_on_a4(client, year):
    doc, html = await _document(client, "stadsdeel", year=2019)
    assert "script" not in doc.tags
    assert "link" not in doc.tags and "img" not in doc.tags and "iframe" not in doc.tags
    assert doc.links, "the SVGs refer to their own glyphs and clip paths"
    assert all(link.startswith("#") for link in doc.links), doc.links
    assert not re.search(r"url\((?!#)", html), "no stylesheet fetches anything"
    assert "@import" not in html
    assert re.search(r"@page\s*{\s*size:\s*A4", doc.style)
    assert "@media print" in doc.style
    # three charts, inline SVG, drawn by matplotlib; glyphs as paths, so no font is needed
    assert doc.tags.count("svg") == 3
    for chart in ("attainment", "quarters", "money"):  # matplotlib's figure/axes groups
        assert f'<g id="{chart}-figure_1">' in html
        assert f'<g id="{chart}-axes_1">' in html
    assert "<text" not in html
    # the ids of the three charts never collide
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert 'lang="nl"' in html
    assert "Hoe deze cijfers tot stand komen" in html
    assert "Onthullingscontrole" in html


async def test_on_small_data_a_hidden_figure_is_not_in_the_document(client, coordinator):
    """The demo's 2019 has only a few registrations: counts of 1 to 4 people are hidden for
    the stadsdeel, and the document shows a dash where the JSON has null."""
    resident = await client.post(
        "/residents",
        headers=coordinator,
        json={"room": "multibron", "name": "Ans Oudenaarde-Vlijt"},
    )
    assert resident.status_code == 201, resident.text
    made = await client.post(
        "/registrations",
        headers=coordinator,
        json={
            "room": "multibron",
            "activity": "forms",
            "occurredOn": "2019-03-04",
            "residentId": resident.json()["id"],
        },
    )
    assert made.status_code == 201, made.text
    doc, answers, _ = await _compare(client, "stadsdeel", {"year": 2019})
    perf = answers["performance"]
    assert perf["disclosureControl"]["applied"]
    room = next(k for k, r in enumerate(perf["rooms"]) if r["room"] == "multibron")
    visitors = f"performance:rooms.{room}.indicators.8.realised"
    assert member(perf, visitors.split(":")[1]) is None
    assert doc.figures[visitors] == HIDDEN
    # the coordinator, who knows the person, sees the 1
    own, _ = await _document(client, "coordinator.multibron", year=2019)
    assert own.figures["performance:rooms.0.indicators.8.realised"] == "1"
    _, html = await _document(client, "stadsdeel", year=2019)
    assert perf["disclosureControl"]["note"] in html


@pytest.mark.parametrize(
    ("who", "status"),
    [("volunteer.multibron", 403), ("madi", 403), ("anonymous", 401)],
)
async def test_who_may_not_read_the_account(client, who, status):
    headers = {} if who == "anonymous" else await headers_for(client, who)
    response = await client.get("/reports/accountability", headers=headers, params={"year": 2019})
    assert_problem(response, status)


@pytest.mark.parametrize(
    "params",
    [{}, {"year": 1999}, {"year": 2019, "quarter": 5}, {"year": "twenty"}],
)
async def test_a_bad_period_is_a_problem(client, params, stadsdeel):
    response = await client.get("/reports/accountability", headers=stadsdeel, params=params)
    assert_problem(response, 400)


async def test_the_openapi_document_declares_html(client):
    doc = (await client.get("/openapi.json")).json()
    operation = doc["paths"]["/reports/accountability"]["get"]
    assert operation["operationId"] == "getAccountabilityReport"
    assert "text/html" in operation["responses"]["200"]["content"]
