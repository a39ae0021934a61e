"""A token checked once is not checked again, but its session still is, every request."""

import uuid

import pytest
from pydantic import SecretStr

from api import deps
from api.deps import Allow, verified_claims
from api.security import InvalidToken, TokenCodec
from tests.helpers import bearer, sign_in


async def test_a_remembered_token_is_refused_once_its_session_is_revoked(client, app):
    tokens = await sign_in(client, "volunteer.multibron")
    headers = bearer(tokens["access_token"])
    assert (await client.get("/me", headers=headers)).status_code == 200
    codec = app.state.tokens
    assert tokens["access_token"] in deps._VERIFIED[codec]  # remembered
    await client.post("/auth/revoke", headers=headers)
    assert (await client.get("/me", headers=headers)).status_code == 401


def test_a_remembered_token_expires_at_its_exp(app_settings, monkeypatch):
    codec = TokenCodec(app_settings)
    token = codec.issue("user:" + str(uuid.uuid4()), uuid.uuid4())
    claims = verified_claims(codec, token)
    assert verified_claims(codec, token) is claims  # the second time from memory
    expires = int(claims.expires_at.timestamp())
    monkeypatch.setattr(deps.time, "time", lambda: expires + 0.9)
    assert verified_claims(codec, token) is claims  # jose's rule: valid through its second
    monkeypatch.setattr(deps.time, "time", lambda: expires + 1.0)
    with pytest.raises(InvalidToken):
        verified_claims(codec, token)


def test_a_codec_with_other_keys_checks_for_itself(app_settings):
    codec = TokenCodec(app_settings)
    token = codec.issue("user:" + str(uuid.uuid4()), uuid.uuid4())
    verified_claims(codec, token)
    other = TokenCodec(
        app_settings.model_copy(update={"secret_key": SecretStr("another-key-" + "x" * 40)})
    )
    with pytest.raises(InvalidToken):
        verified_claims(other, token)


def test_a_policy_names_its_roles_or_says_anyone():
    """An empty set of roles never opens a route to every signed-in caller."""
    with pytest.raises(ValueError, match="name the roles"):
        Allow()
    assert Allow(anyone=True).roles == frozenset()
    assert Allow("admin").roles == {"admin"}
