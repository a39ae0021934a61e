"""Token endpoint shapes. OAuth2's own snake_case names (RFC 6749), not camelCase."""

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import ApiModel, InputModel

NO_NUL = r"^[^\x00]*$"


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    grant_type: str | None = Field(
        None,
        pattern=NO_NUL,
        description="`password`, `client_credentials` or `refresh_token`",
        max_length=40,
    )
    username: str | None = Field(None, pattern=NO_NUL, max_length=200)
    password: str | None = Field(None, pattern=NO_NUL, max_length=1024)
    client_id: str | None = Field(None, pattern=NO_NUL, max_length=200)
    client_secret: str | None = Field(None, pattern=NO_NUL, max_length=1024)
    refresh_token: str | None = Field(None, pattern=NO_NUL, max_length=1024)


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    token: str | None = Field(
        None, pattern=NO_NUL, max_length=4096, description="A refresh or access token"
    )
    token_type_hint: str | None = Field(None, max_length=40)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str | None = Field(
        None, description="Only for people; used once, a new one comes with every refresh"
    )


class Revoked(ApiModel):
    revoked: bool


class Me(ApiModel):
    kind: Literal["user", "client"]
    id: UUID
    username: str = Field(description="The username, or the client id of a partner system")
    display_name: str
    role: Literal["volunteer", "coordinator", "stadsdeel", "partner", "admin"]
    rooms: list[str] = Field(description="Slugs of the rooms a volunteer or coordinator serves")
    partner: str | None = Field(description="The partner code of a partner system")


class PasswordChange(InputModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(min_length=10, max_length=128)
