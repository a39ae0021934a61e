"""The OpenAPI document follows the Dutch API Design Rules, and the linter agrees."""

import json
import os
import re
import shutil
import subprocess

import pytest

from api.main import create_app
from tests.databases import IN_CI
from tests.servers import ROOT

RULESET = ROOT.parent / "shared" / "tools" / "adr-ruleset.yaml"
SPECTRAL = "@stoplight/spectral-cli@6.16.3"
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def document():
    return create_app().openapi()


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_the_document_has_contact_servers_and_a_semantic_version(document):
    assert set(document["info"]["contact"]) >= {"name", "email", "url"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", document["info"]["version"])
    assert document["servers"][0]["url"].endswith("/api/v1")


def test_paths_are_kebab_case_without_trailing_slashes(document):
    for path in document["paths"]:
        assert not path.endswith("/") or path == "/"
        for segment in path.strip("/").split("/"):
            assert re.fullmatch(r"[a-z0-9-]+|\{[^}]+\}", segment), path


def test_every_operation_can_answer_400_and_errors_are_problem_json(document):
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        assert "400" in responses, (method, path)
        # bad input is 400; a 422 only where declared (e.g. a mistyped resident code)
        assert responses.get("422", {}).get("description") != "Validation Error", (method, path)
        for code, response in responses.items():
            if code[0] in "45":
                assert list(response["content"]) == ["application/problem+json"], (code, path)
            if code[0] in "23":
                assert "API-Version" in response["headers"], (code, path)


def test_query_keys_are_lower_camel_case(document):
    for path, _method, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                assert re.fullmatch(r"[a-z][a-zA-Z0-9]*", parameter["name"]), (path, parameter)


def test_response_properties_are_lower_camel_case(document):
    oauth = {"TokenResponse", "TokenRequest", "RevokeRequest"}
    for name, schema in document["components"]["schemas"].items():
        if name in oauth or name.startswith("Body_"):
            continue  # OAuth2's own names (RFC 6749) are snake_case
        for prop in schema.get("properties", {}):
            assert re.fullmatch(r"[a-z][a-zA-Z0-9]*", prop), (name, prop)


@pytest.mark.slow
def test_the_adr_linter_finds_no_errors(document, tmp_path):
    npx = shutil.which("npx")
    if npx is None or not RULESET.exists():
        message = "npx (Node.js) or the ADR ruleset is missing"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    result = subprocess.run(
        [npx, "--yes", SPECTRAL, "lint", "-r", str(RULESET), "-f", "json", str(spec)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_UPDATE_NOTIFIER": "1"},
        check=False,
    )
    start = result.stdout.find("[")
    # spectral prints the JSON findings and then, for none, a line of text
    findings = json.JSONDecoder().raw_decode(result.stdout[start:])[0] if start >= 0 else None
    assert findings is not None, result.stdout + result.stderr
    errors = [f for f in findings if f["severity"] == 0]
    assert errors == [], json.dumps(errors, indent=1)


def test_every_operation_has_the_name_a_person_would_give_it(document):
    from api.openapi import OPERATION_IDS

    missing, seen = [], {}
    for path, method, operation in _operations(document):
        key = (method.upper(), path)
        if key not in OPERATION_IDS:
            missing.append(f'    ("{key[0]}", "{path}"): "<verbNoun>",')
        seen.setdefault(operation["operationId"], []).append(key)
    assert not missing, (
        "routes without a name: add to OPERATION_IDS in api/openapi.py, e.g.\n" + "\n".join(missing)
    )
    duplicates = {name: keys for name, keys in seen.items() if len(keys) > 1}
    assert not duplicates, duplicates
    for name, keys in seen.items():
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", name), (name, keys)
        assert "api_v1" not in name and "_" not in name, (name, keys)
    stale = set(OPERATION_IDS) - {k for keys in seen.values() for k in keys}
    assert not stale, f"OPERATION_IDS names routes that do not exist: {sorted(stale)}"


def test_the_server_is_relative_unless_a_public_url_is_set():
    from api.settings import Settings

    assert create_app(Settings()).openapi()["servers"] == [{"url": "/api/v1"}]
    public = Settings(public_url="https://bwk.example.nl/")
    assert create_app(public).openapi()["servers"] == [{"url": "https://bwk.example.nl/api/v1"}]


def test_answers_and_bodies_that_can_be_csv_say_so(document):
    csv_answers = {
        path
        for path, method, operation in _operations(document)
        if "text/csv" in operation["responses"].get("200", {}).get("content", {})
    }
    assert csv_answers >= {"/indicators/performance", "/indicators/outcomes", "/targets"}
    for path in csv_answers:
        content = document["paths"][path]["get"]["responses"]["200"]["content"]
        # the public assignments are a page too
        assert list(content) in (
            ["application/json", "text/csv"],
            ["application/json", "text/csv", "text/html"],
        ), path
        assert any(p["name"] == "format" for p in document["paths"][path]["get"]["parameters"])
    bodies = {
        (method, path): list(operation["requestBody"]["content"])
        for path, method, operation in _operations(document)
        if "text/csv" in operation.get("requestBody", {}).get("content", {})
    }
    assert bodies[("post", "/registrations/import")] == ["text/csv"]
    assert bodies[("put", "/targets/{year}")] == ["application/json", "text/csv"]
