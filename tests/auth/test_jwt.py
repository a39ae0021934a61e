"""Every JWT pitfall of RFC 8725 is a 401 problem+json with WWW-Authenticate."""

import base64
import json
import time

import pytest
from jose import jwt

from api.main import create_app
from api.security import TokenCodec
from tests.helpers import assert_problem, bearer, sign_in
from tests.servers import ROOT


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


@pytest.fixture
async def real(client, app_settings):
    """A real token's claims and the key that signs it."""
    tokens = await sign_in(client, "volunteer.multibron")
    _, claims, _ = _parts(tokens["access_token"])
    return {"claims": claims, "key": app_settings.secret_key.get_secret_value(), **tokens}


def _sign(claims: dict, key: str, algorithm: str = "HS256", kid: str = "k1") -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def _variants(real: dict) -> dict[str, str]:
    claims, key = real["claims"], real["key"]
    now = int(time.time())
    header, payload, signature = real["access_token"].split(".")
    without_exp = {k: v for k, v in claims.items() if k != "exp"}
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{payload}.",
        "another algorithm": _sign(claims, key, "HS512"),
        "another key": _sign(claims, "an-attacker-key-that-is-long-enough-1234567890"),
        "tampered claims": f"{header}.{_b64({**claims, 'sub': 'user:' + '0' * 32})}.{signature}",
        "expired": _sign({**claims, "exp": now - 10, "iat": now - 1000, "nbf": now - 1000}, key),
        "not yet valid": _sign({**claims, "nbf": now + 600}, key),
        "wrong aud": _sign({**claims, "aud": "another-service"}, key),
        "wrong iss": _sign({**claims, "iss": "https://evil.example"}, key),
        "missing exp": _sign(without_exp, key),
        "missing jti": _sign({k: v for k, v in claims.items() if k != "jti"}, key),
        "unknown kid": _sign(claims, key, kid="k-unknown"),
        "subject of another session": _sign({**claims, "sub": "client:" + claims["sub"][5:]}, key),
        "garbage": "not.a.jwt",
    }


PITFALLS = [
    "alg none",
    "another algorithm",
    "another key",
    "tampered claims",
    "expired",
    "not yet valid",
    "wrong aud",
    "wrong iss",
    "missing exp",
    "missing jti",
    "unknown kid",
    "subject of another session",
    "garbage",
]


@pytest.mark.parametrize("pitfall", PITFALLS)
async def test_a_forged_or_broken_token_is_refused(client, real, pitfall):
    token = _variants(real)[pitfall]
    response = await client.get("/me", headers=bearer(token))
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_the_unmodified_token_works(client, real):
    assert (await client.get("/me", headers=bearer(real["access_token"]))).status_code == 200


async def test_a_revoked_token_is_refused(client, real):
    await client.post("/auth/revoke", headers=bearer(real["access_token"]))
    response = await client.get("/me", headers=bearer(real["access_token"]))
    assert_problem(response, 401)
    assert "WWW-Authenticate" in response.headers


async def test_no_token_and_a_wrong_scheme_are_401(client, real):
    assert_problem(await client.get("/me"), 401)
    response = await client.get("/me", headers={"Authorization": f"Basic {real['access_token']}"})
    assert_problem(response, 401)


async def test_a_new_key_can_be_rolled_in_while_the_old_one_still_works(app_settings, real):
    import httpx

    old_token = real["access_token"]
    rolled = app_settings.model_copy(
        update={
            "secret_key": type(app_settings.secret_key)(
                "a-brand-new-secret-key-for-2027-rotation!"
            ),
            "secret_key_id": "k2",
            "previous_secret_keys": {"k1": app_settings.secret_key},
        }
    )
    application = create_app(rolled)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
            assert (await c.get("/me", headers=bearer(old_token))).status_code == 200
            new = await sign_in(c, "volunteer.multibron")
            header, _, _ = _parts(new["access_token"])
            assert header["kid"] == "k2"
            assert (await c.get("/me", headers=bearer(new["access_token"]))).status_code == 200
    # once the old key is dropped, its tokens stop working
    dropped = rolled.model_copy(update={"previous_secret_keys": {}})
    assert TokenCodec(dropped).keys.keys() == {"k2"}


def test_only_the_security_module_imports_jose():
    api = ROOT / "api"
    importers = [
        p.relative_to(api).as_posix()
        for p in api.rglob("*.py")
        if "from jose" in p.read_text() or "import jose" in p.read_text()
    ]
    assert importers == ["security.py"]
