"""The OpenAPI document, shaped once for the Dutch API Design Rules.

Every operation can answer 400; every error is problem+json; every success carries the
API-Version header; paths are given relative to the versioned server URL.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.utils import generate_unique_id
from pydantic import BaseModel

from api import API_VERSION
from api.schemas import Problem
from api.settings import Settings

PREFIX = "/api/v1"
DESCRIPTION = """\
The registration and accountability service of the Buurtwerkkamers of Amsterdam Zuidoost:
the help the four neighbourhood rooms give, referrals to and from chain partners, and the
figures the district (stadsdeel) pulls.

Errors are `application/problem+json` (RFC 9457). Lists are `{"items": [...], "nextCursor"}`
with `limit` and `cursor`. Every response carries `API-Version`.
"""

_VERSION_HEADER = {
    "description": "The full semantic version of the API that answered.",
    "schema": {"type": "string", "example": API_VERSION},
}
_STANDARD_ERRORS = {
    "400": "The request is invalid; `invalidParams` lists every bad field.",
    "500": "Something failed on our side; nothing about it is shown.",
}


_EXTRA_MODELS: list[type[BaseModel]] = []


def operation_id(route: APIRoute) -> str:
    """The operationId of a route: its name in OPERATION_IDS; FastAPI's default name for a
    route not listed there yet, which tests/app/test_openapi.py refuses, naming the line to add."""
    path = route.path.removeprefix(PREFIX) or "/"
    ids = [OPERATION_IDS.get((method, path)) for method in sorted(route.methods or ())]
    if len(ids) == 1 and ids[0] is not None:
        return ids[0]
    return generate_unique_id(route)


def document_body(model: type[BaseModel]) -> dict[str, str]:
    """A body a route reads itself (JSON or CSV): its schema still goes into the document."""
    _EXTRA_MODELS.append(model)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


CSV_MEDIA = "text/csv"
# a CSV file: semicolons, a header line; generators hand it over as bytes
_CSV_SCHEMA = {"type": "string", "format": "binary"}


def csv_answer() -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route that answers CSV (format=csv or Accept: text/csv) beside JSON."""
    return {200: {"content": {CSV_MEDIA: {"schema": _CSV_SCHEMA}}}}


def csv_body(json_model: type[BaseModel] | None = None) -> dict[str, Any]:
    """`openapi_extra=` of a route that reads its body itself: CSV, and JSON when a model is
    given (the route tells them apart by Content-Type)."""
    content: dict[str, Any] = {}
    if json_model is not None:
        content["application/json"] = {"schema": document_body(json_model)}
    content[CSV_MEDIA] = {"schema": _CSV_SCHEMA}
    return {"requestBody": {"content": content, "required": True}}


def server_url(settings: Settings) -> str:
    """Relative unless BWK_PUBLIC_URL says where the service is: "Try it out" then calls
    the host the page came from, whatever name it was reached by."""
    return settings.public_url.rstrip("/") + PREFIX


def build(app: FastAPI, settings: Settings) -> dict[str, Any]:
    doc = get_openapi(
        title="Buurtwerkkamers API",
        version=API_VERSION,
        description=DESCRIPTION,
        routes=app.routes,
        contact={
            "name": settings.contact_name,
            "email": settings.contact_email,
            "url": settings.contact_url,
        },
        license_info={"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        servers=[{"url": server_url(settings)}],
        tags=[
            {
                "name": "directory",
                "description": "The open directory: rooms, activities, partners.",
            },
            {"name": "auth", "description": "Tokens (OAuth2) and who you are."},
            {"name": "residents", "description": "The people the rooms help (staff only)."},
            {"name": "registrations", "description": "Help given, corrections, imports."},
            {"name": "indicators", "description": "Figures and agreements for the district."},
            {"name": "outcomes", "description": "Self-sufficiency and participation over time."},
            {"name": "referrals", "description": "Referrals with chain partners; consent."},
            {"name": "webhooks", "description": "Partners' event delivery (admins)."},
            {"name": "accounts", "description": "Users and partner systems' clients."},
            {"name": "audit", "description": "The audit trail (admins)."},
            {"name": "health", "description": "Liveness and readiness."},
        ],
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for name, schema in Problem.model_json_schema(ref_template="#/components/schemas/{model}")[
        "$defs"
    ].items():
        schemas[name] = schema
    for model in _EXTRA_MODELS:
        extra = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
        schemas.update(extra.pop("$defs", {}))
        schemas[model.__name__] = extra
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    problem_schema.pop("$defs", None)
    schemas["Problem"] = problem_schema
    problem_ref = {"$ref": "#/components/schemas/Problem"}

    paths: dict[str, Any] = {}
    for path, item in doc.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            # FastAPI's own 422 goes (validation errors are 400 here); a declared 422 stays
            if responses.get("422", {}).get("description") == "Validation Error":
                del responses["422"]
            for code, text in _STANDARD_ERRORS.items():
                responses.setdefault(code, {"description": text})
            if operation.get("security"):
                responses.setdefault("401", {"description": "No valid access token"})
                responses.setdefault("403", {"description": "Your role may not do this"})
            if any(p["in"] == "path" for p in operation.get("parameters", [])):
                responses.setdefault(
                    "404", {"description": "Not found, or not yours to know about"}
                )
            for code, response in responses.items():
                if code.startswith(("2", "3")):
                    response.setdefault("headers", {})["API-Version"] = _VERSION_HEADER
                elif code.startswith(("4", "5")):
                    response["content"] = {"application/problem+json": {"schema": problem_ref}}
        paths[path.removeprefix(PREFIX) or "/"] = item
    doc["paths"] = dict(sorted(paths.items()))
    return doc


# (method, path) -> operationId: the name a person would give the operation, camelCase, unique.
# Generated clients name their functions after these (list_registrations, create_referral).
OPERATION_IDS: dict[tuple[str, str], str] = {
    ("GET", "/activities"): "listActivities",
    ("GET", "/audit-events"): "listAuditEvents",
    ("GET", "/budgets/{year}"): "getBudget",
    ("PUT", "/budgets/{year}"): "replaceBudget",
    ("POST", "/auth/revoke"): "revokeToken",
    ("POST", "/auth/token"): "createToken",
    ("GET", "/health"): "getLiveness",
    ("GET", "/indicators/efficiency"): "getEfficiencyIndicators",
    ("GET", "/metrics"): "getMetrics",
    ("GET", "/health/ready"): "getReadiness",
    ("GET", "/indicators/outcomes"): "getOutcomeIndicators",
    ("GET", "/indicators/participants"): "getParticipantIndicators",
    ("GET", "/indicators/performance"): "getPerformanceIndicators",
    ("GET", "/indicators/referrals"): "getReferralIndicators",
    ("GET", "/me"): "getMe",
    ("PUT", "/me/password"): "changePassword",
    ("GET", "/outcome-targets"): "listOutcomeTargets",
    ("PUT", "/outcome-targets/{year}"): "replaceOutcomeTargets",
    ("GET", "/partner-clients"): "listPartnerClients",
    ("POST", "/partner-clients"): "createPartnerClient",
    ("GET", "/partner-clients/{client_id}"): "getPartnerClient",
    ("PATCH", "/partner-clients/{client_id}"): "updatePartnerClient",
    ("POST", "/partner-clients/{client_id}/secret"): "rotatePartnerClientSecret",
    ("GET", "/partners"): "listPartners",
    ("PUT", "/partners/{code}/assignment"): "setPartnerAssignment",
    ("GET", "/partners/{code}/webhook"): "getWebhook",
    ("PUT", "/partners/{code}/webhook"): "registerWebhook",
    ("DELETE", "/partners/{code}/webhook"): "removeWebhook",
    ("GET", "/partners/{code}/webhook/deliveries"): "listWebhookDeliveries",
    ("GET", "/public/assignments"): "listPublicAssignments",
    ("GET", "/referrals"): "listReferrals",
    ("GET", "/reports/accountability"): "getAccountabilityReport",
    ("POST", "/referrals"): "createReferral",
    ("GET", "/referrals/{referral_id}"): "getReferral",
    ("POST", "/referrals/{referral_id}/transitions"): "moveReferral",
    ("GET", "/registrations"): "listRegistrations",
    ("POST", "/registrations"): "createRegistration",
    ("POST", "/registrations/import"): "importRegistrations",
    ("GET", "/registrations/{registration_id}"): "getRegistration",
    ("PATCH", "/registrations/{registration_id}"): "correctRegistration",
    ("GET", "/residents"): "listResidents",
    ("POST", "/residents"): "createResident",
    ("GET", "/residents/{resident_id}"): "getResident",
    ("PATCH", "/residents/{resident_id}"): "updateResident",
    ("DELETE", "/residents/{resident_id}"): "eraseResident",
    ("GET", "/residents/{resident_id}/assessments"): "listAssessments",
    ("POST", "/residents/{resident_id}/assessments"): "recordAssessment",
    ("GET", "/residents/{resident_id}/consents"): "listConsents",
    ("POST", "/residents/{resident_id}/consents"): "giveConsent",
    ("DELETE", "/residents/{resident_id}/consents/{consent_id}"): "withdrawConsent",
    ("GET", "/residents/{resident_id}/export"): "exportResident",
    ("PUT", "/residents/{resident_id}/restriction"): "restrictResident",
    ("GET", "/residents/{resident_id}/volunteering"): "listVolunteering",
    ("POST", "/residents/{resident_id}/volunteering"): "recordVolunteering",
    ("GET", "/rooms"): "listRooms",
    ("GET", "/rooms/{slug}"): "getRoom",
    ("PATCH", "/rooms/{slug}"): "updateRoom",
    ("GET", "/targets"): "listTargets",
    ("PUT", "/targets/{year}"): "replaceTargets",
    ("GET", "/users"): "listUsers",
    ("POST", "/users"): "createUser",
    ("GET", "/users/{user_id}"): "getUser",
    ("PATCH", "/users/{user_id}"): "updateUser",
}
