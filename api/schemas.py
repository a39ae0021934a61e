"""Shapes shared by every domain: camelCase models, the list envelope and its cursor,
problems. No web framework here: the query and path parameters are in `api/params.py`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from api.errors import InvalidInput

# Published identifiers: lowercase words joined by dashes ("multibron", "ggd-amsterdam").
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
# a room's slug
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=60)]
# a chain partner's code
Code = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=40)]


class ApiModel(BaseModel):
    """What goes over the wire: camelCase outside, snake_case inside."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class InputModel(ApiModel):
    """A request body: unknown fields are an error, strings are trimmed.

    In a PATCH body an optional field may be left out, but only the fields named in
    `nullable` may be set to null (the others have no 'empty' value to store)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=False,
        extra="forbid",
        str_strip_whitespace=True,
    )
    nullable: ClassVar[frozenset[str]] = frozenset()
    partial: ClassVar[bool] = False

    @model_validator(mode="after")
    def _no_null_for_required_columns(self) -> Self:
        if self.partial:
            for name in self.model_fields_set:
                if getattr(self, name) is None and name not in self.nullable:
                    raise ValueError(f"{to_camel(name)} may be left out, but not be null")
        return self


T = TypeVar("T")


class Page(ApiModel, Generic[T]):
    """The list envelope. Subclass it per item type (`class RoomPage(Page[RoomPublic])`)
    so the schema is named RoomPage rather than Page_RoomPublic_ (ADR: UpperCamelCase)."""

    items: list[T]

    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class InvalidParam(BaseModel):
    name: str
    reason: str


class Problem(BaseModel):
    """An error, as RFC 9457 application/problem+json."""

    type: str = Field(examples=["urn:bwk:problem:invalid-input"])
    title: str
    status: int
    detail: str
    invalidParams: list[InvalidParam] | None = None


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


# what a cursor holds as text and how it is read back: dates, moments and ids
_FROM_TEXT: dict[type, Callable[[str], Any]] = {
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
    UUID: UUID,
}


def decode_cursor(cursor: str | None, *types: type) -> list[Any] | None:
    """The values a cursor holds, checked against the types the list expects (str, int, or
    date, datetime and UUID, which a cursor holds as text) and read back as those types.
    Anything else is a 400 naming `cursor`: a cursor is opaque, never a 500."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        values = None
    wire = [str if t in _FROM_TEXT else t for t in types]
    if (
        not isinstance(values, list)
        or any(isinstance(v, str) and "\x00" in v for v in values)
        or len(values) != len(types)
        or not all(type(v) is t for v, t in zip(values, wire, strict=True))
    ):
        raise InvalidInput([("cursor", "not a cursor this list gave out")])
    try:
        return [
            _FROM_TEXT[t](v) if t in _FROM_TEXT else v for v, t in zip(values, types, strict=True)
        ]
    except ValueError:
        raise InvalidInput([("cursor", "not a cursor this list gave out")]) from None


def page(rows: Sequence[Any], limit: int, key: Any) -> dict[str, Any]:
    """The list envelope; rows holds up to limit + 1 rows, the extra one means 'more'."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return {"items": items, "next_cursor": encode_cursor(key(items[-1])) if more else None}
