"""Accounts over the wire."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from api.schemas import ApiModel, Code, InputModel, Page, Slug
from api.text import Text

Username = Field(
    pattern=r"^[a-z0-9][a-z0-9._-]{2,59}$",
    description="Lowercase letters, digits, dot, dash, underscore; 3 to 60 characters",
    examples=["volunteer.multibron"],
)
UserRole = Literal["volunteer", "coordinator", "stadsdeel", "admin"]
Password = Field(None, min_length=10, max_length=128)


class UserCreate(InputModel):
    username: str = Username
    display_name: Text = Field(min_length=1, max_length=120)
    role: UserRole
    rooms: list[Slug] = Field(default_factory=list, max_length=20)
    password: str | None = Password


class UserUpdate(InputModel):
    partial = True
    nullable = frozenset()

    display_name: Text | None = Field(None, min_length=1, max_length=120)
    rooms: list[Slug] | None = Field(None, max_length=20)
    active: bool | None = None
    password: str | None = Password


class UserPublic(ApiModel):
    id: UUID
    username: str
    display_name: str
    role: UserRole
    rooms: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class UserCreated(UserPublic):
    initial_password: str | None = Field(
        None, description="Only when no password was given: shown this once, never again"
    )


class ClientCreate(InputModel):
    client_id: str = Username
    description: Text = Field(min_length=1, max_length=200)
    partner: Code


class ClientUpdate(InputModel):
    partial = True
    nullable = frozenset()

    description: Text | None = Field(None, min_length=1, max_length=200)
    active: bool | None = None


class ClientPublic(ApiModel):
    id: UUID
    client_id: str
    description: str
    partner: str
    active: bool
    created_at: datetime
    updated_at: datetime


class ClientWithSecret(ClientPublic):
    client_secret: str = Field(description="Shown this once, never again")


class UserPage(Page[UserPublic]):
    pass


class ClientPage(Page[ClientPublic]):
    pass
