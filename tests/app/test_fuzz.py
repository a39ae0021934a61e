"""Bad input of any kind gets a 4xx problem+json, never a 500, and the service answers on.

Schemathesis draws requests from the service's own OpenAPI document, valid and invalid;
the hand-made list below covers what a schema cannot describe.
"""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from api.main import create_app

SCHEMA = schemathesis.openapi.from_dict(create_app().openapi())
DESK_OPERATIONS = [
    ("/residents", "POST"),
    ("/residents", "GET"),
    ("/residents/{resident_id}", "PATCH"),
    ("/registrations", "POST"),
    ("/registrations", "GET"),
    ("/registrations/{registration_id}", "PATCH"),
]
EXAMPLES = 40


def _cases(path: str, method: str):
    operation = SCHEMA[path][method]
    return st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )


def _check(response, operation) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    documented = set(operation.definition.raw["responses"])
    assert str(response.status_code) in documented | {"401", "403", "413"}, response.status_code
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.slow
@pytest.mark.parametrize(("path", "method"), DESK_OPERATIONS)
def test_generated_requests_never_get_a_500(sync_client, path, method):
    token = sync_client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "coordinator.multibron",
            "password": "demo-password",
        },
    ).json()["access_token"]
    operation = SCHEMA[path][method]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=_cases(path, method))
    def run(case):
        kwargs = case.as_transport_kwargs(base_url="http://test/api/v1")
        kwargs.pop("cookies", None)
        headers = {**(kwargs.pop("headers", None) or {}), "Authorization": f"Bearer {token}"}
        response = sync_client.request(headers=headers, **kwargs)
        _check(response, operation)

    run()


HOSTILE = [
    ("deep nesting", b"[" * 10_000 + b"]" * 10_000),
    ("not json", b"\xff\xfe\x00garbage"),
    ("json null", b"null"),
    ("a list", b"[1, 2, 3]"),
    (
        "huge number",
        b'{"room": "multibron", "activity": "forms", "occurredOn": "2019-01-02", '
        b'"headcount": 123456789012345678901234567890}',
    ),
    (
        "lone surrogate",
        b'{"room": "multibron", "activity": "forms", "occurredOn": "2019-01-02", '
        b'"headcount": 1, "note": "\\ud800"}',
    ),
    (
        "right-to-left mark",
        '{"room": "multibron", "activity": "forms", "occurredOn": '
        '"2019-01-02", "headcount": 1, "note": "\u202egnp.exe"}'.encode(),
    ),
    (
        "slug with dots",
        b'{"room": "../../etc", "activity": "forms", "occurredOn": "2019-01-02", "headcount": 1}',
    ),
    ("duplicate keys", b'{"headcount": 1, "headcount": "x"}'),
    (
        "date out of range",
        b'{"room": "multibron", "activity": "forms", "occurredOn": "99999-01-01", "headcount": 1}',
    ),
]


@pytest.mark.parametrize(("label", "body"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_bodies_get_a_4xx_problem(client, label, body, volunteer):
    response = await client.post(
        "/registrations", headers={**volunteer, "Content-Type": "application/json"}, content=body
    )
    assert 400 <= response.status_code < 500, (label, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/rooms")).status_code == 200


async def test_a_megabyte_body_is_a_413(client, volunteer):
    body = json.dumps({"note": "x" * 2_000_000}).encode()
    response = await client.post(
        "/registrations", headers={**volunteer, "Content-Type": "application/json"}, content=body
    )
    assert response.status_code == 413


async def test_a_thousand_query_parameters_and_odd_unicode_in_them(client, volunteer):
    params = [(f"p{i}", "\u202e\x00x") for i in range(1000)] + [("room", "../x")]
    response = await client.get("/registrations", headers=volunteer, params=params)
    assert 400 <= response.status_code < 500
