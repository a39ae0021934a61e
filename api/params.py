"""The query and path parameters routes share: figures' year, rooms and format, a list's
limit and cursor, slugs and codes. Web layer: routers import these, services never."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query

from api.schemas import SLUG_PATTERN

# the figures' query parameters: a year, rooms, and JSON or CSV
Year = Annotated[int, Query(ge=2000, le=2100, examples=[2019])]
# a period within the year: the figures' routes take either or neither
Quarter = Annotated[int | None, Query(ge=1, le=4)]
Month = Annotated[int | None, Query(ge=1, le=12)]
Rooms = Annotated[
    list[str],
    Query(max_length=20, description="Room slugs (repeatable); default: every room you may see"),
]
CsvFormat = Annotated[Literal["json", "csv"] | None, Query(alias="format")]
Limit = Annotated[int, Query(ge=1, le=500, description="How many items a page holds (1 to 500).")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="The `nextCursor` of the previous page."),
]

# a room's slug or a partner's code in the query (`?room=`, `?partner=`) or the path
SlugQuery = Annotated[str | None, Query(max_length=60, pattern=SLUG_PATTERN)]
RequiredSlugQuery = Annotated[str, Query(max_length=60, pattern=SLUG_PATTERN)]
SlugPath = Annotated[str, Path(max_length=60, pattern=SLUG_PATTERN)]
CodePath = Annotated[str, Path(max_length=40, pattern=SLUG_PATTERN)]
