"""Schemathesis over every operation of the service's own OpenAPI document, once per role
and once without a token: no 5xx, every answer one the document lists, and every body and
media type conforming to the schema documented for its status."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from starlette.testclient import TestClient

from api.main import create_app

# slow: schemathesis over every operation, once per role
pytestmark = pytest.mark.slow

SCHEMA = schemathesis.openapi.from_dict(create_app().openapi())
OPERATIONS = [op.ok() for op in SCHEMA.get_all_operations()]
ROLES = {
    "anonymous": None,
    "volunteer": ("password", "volunteer.multibron", "demo-password"),
    "coordinator": ("password", "coordinator.multibron", "demo-password"),
    "stadsdeel": ("password", "stadsdeel", "demo-password"),
    "admin": ("password", "admin", "demo-password"),
    "partner": ("client_credentials", "madi", "demo-secret"),
}
# per mode, operation and role: 4 in the suite; BWK_FUZZ_EXAMPLES=60 runs ~6,700 cases a role
EXAMPLES = int(os.environ.get("BWK_FUZZ_EXAMPLES", "4"))


def _token(client, grant):
    grant_type, name, secret = grant
    data = {"grant_type": grant_type}
    data |= (
        {"username": name, "password": secret}
        if grant_type == "password"
        else {"client_id": name, "client_secret": secret}
    )
    return client.post("/api/v1/auth/token", data=data).json()["access_token"]


@pytest.mark.parametrize("role", list(ROLES))
def test_no_operation_answers_5xx_or_off_the_document(app_settings, role):
    failures = []
    with TestClient(create_app(app_settings), base_url="http://test") as client:
        grant = ROLES[role]
        headers = {"Authorization": f"Bearer {_token(client, grant)}"} if grant else {}
        for operation in OPERATIONS:
            _fuzz(client, headers, operation, failures)
    assert not failures, sorted(set(failures))


def _fuzz(client, headers, operation, failures):
    documented = set(operation.definition.raw["responses"]) | {"413"}
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=2 * EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=strategy)
    def call(case):
        kwargs = case.as_transport_kwargs(base_url="http://test/api/v1")
        kwargs.pop("cookies", None)
        sent = {**(kwargs.pop("headers", None) or {}), **headers}
        response = client.request(headers=sent, **kwargs)
        status = response.status_code
        name = f"{operation.method.upper()} {operation.path}: {status}"
        if status >= 500 or str(status) not in documented:
            failures.append(name)
            return
        if status >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
        try:  # the body and media type are what the document says for this status
            operation.validate_response(response)
        except Exception as exc:  # schemathesis raises a group of failed checks
            failures.append(f"{name} does not match its schema: {str(exc).splitlines()[0]}")

    call()
